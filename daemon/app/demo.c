/* demo.c: the demo volunteers (api_seed_volunteers, api.h): a JSON file
 * of the community's rules, people, wishes, goods and members' tasks,
 * applied through the calls themselves (api_write), so that the demo data
 * is exactly what the calls would make, audited and checked alike.
 *
 *   { "as": "community", "community": "110105001001",
 *     "config": { "claim_hours": 72, "categories": [ {"code", "name_zh", "name_en", "points"} ] },
 *     "volunteers": [ {"name", "phone", "team", "skills": [], "kind", "employer", "principal"} ],
 *     "wishes": [ {"node", "category", "text", "contact", "publish", "claim": N, "done", "confirm": true} ],
 *     "goods": [ {"name_zh", "name_en", "price", "stock"} ],
 *     "tasks": [ {"title", "description", "slots", "points", "claims": [N...]} ] }
 *
 * N is a volunteer's place in "volunteers", from 1. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "directory.h"

typedef struct demo {
    store *st;
    MDB_txn *txn;
    const Whistle__V1__Principal *who;
    int64_t now;
    arena *a;
    char *err;
    size_t errlen;
    uint64_t *vids;
    size_t nv;
} demo;

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static uint32_t num(json_t *o, const char *k) { return (uint32_t)json_integer_value(json_object_get(o, k)); }

/* One call in a nested transaction; the response, or NULL with err set. */
static Whistle__V1__Response *run(demo *d, Whistle__V1__Request *req, const char *what)
{
    MDB_txn *child;
    if (mdb_txn_begin(d->st->env, d->txn, 0, &child)) {
        snprintf(d->err, d->errlen, "%s: cannot begin a transaction", what);
        return NULL;
    }
    Whistle__V1__Response *resp = arena_alloc(d->a, sizeof *resp);
    whistle__v1__response__init(resp);
    stream_touched t = { 0 };
    api_write(d->st, child, d->who, req, d->now, d->a, resp, &t);
    stream_touched_clear(&t);
    if (!resp->status || resp->status->code != WHISTLE__V1__STATUS__CODE__OK || mdb_txn_commit(child)) {
        if (!resp->status || resp->status->code != WHISTLE__V1__STATUS__CODE__OK)
            mdb_txn_abort(child);
        snprintf(d->err, d->errlen, "%s: %s", what, resp->status ? resp->status->message : "not committed");
        return NULL;
    }
    d->now += 1000; /* one call after the other, as people make them */
    return resp;
}

static Whistle__V1__Request *req_new(demo *d, int call_case, size_t size, void (*init)(void *), void **msg)
{
    Whistle__V1__Request *r = arena_alloc(d->a, sizeof *r);
    whistle__v1__request__init(r);
    r->call_case = call_case;
    *msg = arena_alloc(d->a, size);
    init(*msg);
    /* every member of the oneof is a pointer at the same place */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, (unsigned)call_case);
    *(void **)((char *)r + f->offset) = *msg;
    return r;
}
#define REQ(d, CC, T, init, m)                                                                                         \
    req_new(d, WHISTLE__V1__REQUEST__CALL_##CC, sizeof(T), (void (*)(void *))init, (void **)&m)

static uint64_t volunteer_of(demo *d, json_t *n)
{
    json_int_t i = json_integer_value(n);
    return i >= 1 && (size_t)i <= d->nv ? d->vids[i - 1] : 0;
}

static int load(demo *d, json_t *root)
{
    const char *comm = str(root, "community");
    json_t *cfg = json_object_get(root, "config"), *v;
    size_t i;
    if (cfg) {
        Whistle__V1__SetVolunteerConfig *m;
        Whistle__V1__Request *r = REQ(d, SET_VOLUNTEER_CONFIG, *m, whistle__v1__set_volunteer_config__init, m);
        Whistle__V1__VolunteerConfig *c = arena_alloc(d->a, sizeof *c);
        whistle__v1__volunteer_config__init(c);
        m->config = c;
        c->community = (char *)comm;
        c->claim_hours = num(cfg, "claim_hours");
        c->expiry_days = num(cfg, "expiry_days");
        json_t *cats = json_object_get(cfg, "categories");
        c->categories = arena_alloc(d->a, (json_array_size(cats) + 1) * sizeof *c->categories);
        json_array_foreach(cats, i, v)
        {
            Whistle__V1__WishCategory *wc = arena_alloc(d->a, sizeof *wc);
            whistle__v1__wish_category__init(wc);
            wc->code = (char *)str(v, "code");
            wc->name_zh = (char *)str(v, "name_zh");
            wc->name_en = (char *)str(v, "name_en");
            wc->points = num(v, "points");
            c->categories[c->n_categories++] = wc;
        }
        if (!run(d, r, "config"))
            return -1;
    }
    json_t *people = json_object_get(root, "volunteers");
    d->vids = arena_alloc(d->a, (json_array_size(people) + 1) * sizeof *d->vids);
    json_array_foreach(people, i, v)
    {
        Whistle__V1__AddVolunteer *m;
        Whistle__V1__Request *r = REQ(d, ADD_VOLUNTEER, *m, whistle__v1__add_volunteer__init, m);
        Whistle__V1__Volunteer *p = arena_alloc(d->a, sizeof *p);
        whistle__v1__volunteer__init(p);
        m->volunteer = p;
        p->community = (char *)comm;
        p->name = (char *)str(v, "name");
        p->phone = (char *)str(v, "phone");
        p->team = (char *)str(v, "team");
        p->employer = (char *)str(v, "employer");
        p->principal = (char *)str(v, "principal");
        const char *k = str(v, "kind");
        p->kind = strcmp(k, "party_member") == 0 ? WHISTLE__V1__VOLUNTEER_KIND__VOLUNTEER_KIND_PARTY_MEMBER
                  : strcmp(k, "unit") == 0       ? WHISTLE__V1__VOLUNTEER_KIND__VOLUNTEER_KIND_UNIT
                                                 : WHISTLE__V1__VOLUNTEER_KIND__VOLUNTEER_KIND_VOLUNTEER;
        json_t *skills = json_object_get(v, "skills"), *s;
        size_t j;
        p->skills = arena_alloc(d->a, (json_array_size(skills) + 1) * sizeof *p->skills);
        json_array_foreach(skills, j, s) p->skills[p->n_skills++] = (char *)json_string_value(s);
        Whistle__V1__Response *resp = run(d, r, arena_printf(d->a, "volunteers[%zu]", i));
        if (!resp)
            return -1;
        d->vids[d->nv++] = resp->volunteer->id;
    }
    json_array_foreach(json_object_get(root, "goods"), i, v)
    {
        Whistle__V1__PutShopItem *m;
        Whistle__V1__Request *r = REQ(d, PUT_SHOP_ITEM, *m, whistle__v1__put_shop_item__init, m);
        Whistle__V1__ShopItem *it = arena_alloc(d->a, sizeof *it);
        whistle__v1__shop_item__init(it);
        m->item = it;
        it->community = (char *)comm;
        it->name_zh = (char *)str(v, "name_zh");
        it->name_en = (char *)str(v, "name_en");
        it->price = num(v, "price");
        m->stock_delta = (int32_t)num(v, "stock");
        if (!run(d, r, arena_printf(d->a, "goods[%zu]", i)))
            return -1;
    }
    json_array_foreach(json_object_get(root, "wishes"), i, v)
    {
        const char *at = arena_printf(d->a, "wishes[%zu]", i);
        Whistle__V1__AddWish *aw;
        Whistle__V1__Request *r = REQ(d, ADD_WISH, *aw, whistle__v1__add_wish__init, aw);
        aw->node = (char *)str(v, "node");
        aw->category = (char *)str(v, "category");
        aw->text = (char *)str(v, "text");
        aw->contact = (char *)str(v, "contact");
        Whistle__V1__Response *resp = run(d, r, at);
        if (!resp)
            return -1;
        uint64_t id = resp->wish->id;
        if (!*str(v, "publish"))
            continue;
        Whistle__V1__PublishWish *pw;
        r = REQ(d, PUBLISH_WISH, *pw, whistle__v1__publish_wish__init, pw);
        pw->wish_id = id;
        pw->public_text = (char *)str(v, "publish");
        if (!run(d, r, at))
            return -1;
        uint64_t vid = volunteer_of(d, json_object_get(v, "claim"));
        if (!vid)
            continue;
        Whistle__V1__ClaimWish *cw;
        r = REQ(d, CLAIM_WISH, *cw, whistle__v1__claim_wish__init, cw);
        cw->wish_id = id;
        cw->volunteer_id = vid;
        if (!run(d, r, at))
            return -1;
        if (!*str(v, "done"))
            continue;
        Whistle__V1__DoneWish *dw;
        r = REQ(d, DONE_WISH, *dw, whistle__v1__done_wish__init, dw);
        dw->wish_id = id;
        dw->note = (char *)str(v, "done");
        if (!run(d, r, at))
            return -1;
        if (!json_is_true(json_object_get(v, "confirm")))
            continue;
        Whistle__V1__ConfirmWish *fw;
        r = REQ(d, CONFIRM_WISH, *fw, whistle__v1__confirm_wish__init, fw);
        fw->wish_id = id;
        if (!run(d, r, at))
            return -1;
    }
    json_array_foreach(json_object_get(root, "tasks"), i, v)
    {
        const char *at = arena_printf(d->a, "tasks[%zu]", i);
        Whistle__V1__PublishMemberTask *pm;
        Whistle__V1__Request *r = REQ(d, PUBLISH_MEMBER_TASK, *pm, whistle__v1__publish_member_task__init, pm);
        Whistle__V1__MemberTask *t = arena_alloc(d->a, sizeof *t);
        whistle__v1__member_task__init(t);
        pm->task = t;
        t->community = (char *)comm;
        t->title = (char *)str(v, "title");
        t->description = (char *)str(v, "description");
        t->slots = num(v, "slots");
        t->points = num(v, "points");
        Whistle__V1__Response *resp = run(d, r, at);
        if (!resp)
            return -1;
        uint64_t tid = resp->member_task->id;
        size_t j;
        json_t *n;
        json_array_foreach(json_object_get(v, "claims"), j, n)
        {
            Whistle__V1__MemberTaskAct *ma;
            r = REQ(d, MEMBER_TASK_ACT, *ma, whistle__v1__member_task_act__init, ma);
            ma->task_id = tid;
            ma->action = WHISTLE__V1__MEMBER_TASK_ACTION__MEMBER_TASK_ACTION_CLAIM;
            ma->volunteer_id = volunteer_of(d, n);
            if (!run(d, r, at))
                return -1;
        }
    }
    return 0;
}

int api_seed_volunteers(store *st, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "line %d: %s", je.line, root ? "not a JSON object" : je.text);
        json_decref(root);
        return -1;
    }
    MDB_txn *txn;
    int rc = store_write_begin(st, &txn);
    if (rc) {
        snprintf(err, errlen, "store: %s", store_strerror(rc));
        json_decref(root);
        return -1;
    }
    if (!store_db_empty(txn, st->vol_people)) {
        /* the demo is for a new store; then the calls change it */
        mdb_txn_commit(txn);
        json_decref(root);
        return 0;
    }
    arena *a = arena_new();
    demo d = { .st = st, .txn = txn, .now = now_ms, .a = a, .err = err, .errlen = errlen };
    d.who = directory_principal_get(st, txn, str(root, "as"), a);
    if (!d.who) {
        snprintf(err, errlen, "\"as\": no principal \"%s\" (the seed adds it)", str(root, "as"));
        rc = -1;
    } else {
        rc = load(&d, root);
    }
    if (rc == 0 && (rc = mdb_txn_commit(txn)) != 0) {
        snprintf(err, errlen, "store: %s", store_strerror(rc));
        rc = -1;
    } else if (rc != 0) {
        mdb_txn_abort(txn);
    }
    arena_free(a);
    json_decref(root);
    return rc;
}
