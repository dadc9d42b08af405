/* volunteer.c: see volunteer.h. The community's rules, its volunteers and
 * registered members, the tasks it whistles to them, and the reports. */
#include "volunteer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "archive_record.h"
#include "audit.h"
#include "deadline_rows.h"
#include "directory.h"
#include "field_limits.h"
#include "guard.h"
#include "volrec.h"

#define VK(k) WHISTLE__V1__VOLUNTEER_KIND__VOLUNTEER_KIND_##k
#define MS(s) WHISTLE__V1__MEMBER_TASK_STATE__MEMBER_TASK_STATE_##s
#define MA(a) WHISTLE__V1__MEMBER_TASK_ACTION__MEMBER_TASK_ACTION_##a
#define WS(s) WHISTLE__V1__WISH_STATE__WISH_STATE_##s
#define MAX_CATEGORIES 100
#define MAX_SKILLS 20
#define NAME_MAX_BYTES 100
#define MAX_SLOTS 1000
#define MAX_POINTS 100000

/* ------------------------------------------------------------ shared */

const char *vol_community(call *c, const char *code)
{
    code = str0(code);
    if (!*code) {
        const char *s = str0(c->who->scope);
        if (strlen(s) != 12)
            return call_fail(c, CODE(INVALID_ARGUMENT), "community is required: a community's code (12 digits)"), NULL;
        code = s;
    }
    if (strlen(code) != 12 || !digits_ok(code, 12))
        return call_fail(c, CODE(INVALID_ARGUMENT), "community \"%.40s\" is not a community's code (12 digits)", code),
               NULL;
    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, code, c->a);
    if (!n || n->kind != WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY)
        return call_fail(c, CODE(NOT_FOUND), "no community %s", code), NULL;
    if (n->retired)
        return call_fail(c, CODE(FAILED_PRECONDITION), "community %s is retired", code), NULL;
    return n->code;
}

int vol_reach(call *c, const char *community, const char *rule)
{
    if (c->who->role == ROLE(ADMIN) || principal_covers(c->who, community))
        return 0;
    return call_deny(c, community, "community %s is outside your scope %s (rule: %s)", community, str0(c->who->scope),
                     rule);
}

int vol_reach_read(call *c, const char *community, const char *rule)
{
    const Whistle__V1__Principal *w = c->who;
    if (w->role == ROLE(GRID_WORKER)) {
        /* a grid worker's places lie inside the community */
        if (strncmp(str0(w->scope), community, 12) == 0)
            return 0;
        for (size_t i = 0; i < w->n_extra_scopes; i++)
            if (strncmp(str0(w->extra_scopes[i]), community, 12) == 0)
                return 0;
    }
    return vol_reach(c, community, rule);
}

Whistle__V1__Volunteer *vol_volunteer(call *c, uint64_t id, void **bytes, size_t *len)
{
    void *v;
    if (!id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "volunteer_id is required"), NULL;
    int rc = volrec_get(c, c->st->vol_people, id, &whistle__v1__volunteer__descriptor, &v, bytes, len);
    if (rc == 1)
        call_fail(c, CODE(NOT_FOUND), "no volunteer %llu", (unsigned long long)id);
    return rc ? NULL : v;
}

Whistle__V1__Volunteer *vol_actor(call *c, uint64_t id, const char *rule)
{
    if (c->who->role == ROLE(VOLUNTEER)) {
        uint64_t me;
        if (volrec_self(c, &me))
            return NULL;
        if (id && id != me)
            return call_deny(c, arena_printf(c->a, "volunteer:%llu", (unsigned long long)id),
                             "a volunteer acts only for itself (volunteer %llu; rule: %s)", (unsigned long long)me,
                             rule),
                   NULL;
        return vol_volunteer(c, me, NULL, NULL);
    }
    Whistle__V1__Volunteer *v = vol_volunteer(c, id, NULL, NULL);
    if (!v || vol_reach(c, v->community, rule))
        return NULL;
    return v;
}

Whistle__V1__VolunteerConfig *vol_config(call *c, const char *community)
{
    Whistle__V1__VolunteerConfig *cfg =
        store_get_named(c->txn, c->st->vol_config, community, &whistle__v1__volunteer_config__descriptor, c->a);
    if (!cfg) {
        cfg = arena_alloc(c->a, sizeof *cfg);
        whistle__v1__volunteer_config__init(cfg);
        cfg->community = (char *)community;
    }
    if (!cfg->claim_hours)
        cfg->claim_hours = VOL_CLAIM_HOURS_DEFAULT;
    return cfg;
}

Whistle__V1__Volunteer *vol_prove_code(call *c, uint64_t id, const char *code)
{
    const char *me = str0(c->who->name);
    bool kiosk = c->who->role == ROLE(KIOSK);
    int64_t wait = c->st->lookups ? guard_wait(c->st->lookups, me, c->now) : 0;
    const char *target = arena_printf(c->a, "volunteer:%llu", (unsigned long long)id);
    if (wait > 0) {
        audit_deny(c->st, c->now, me, c->name, target,
                   kiosk ? "too many failed look-ups from this kiosk" : "too many failed look-ups by this principal");
        return call_fail(c, CODE(RESOURCE_EXHAUSTED), "too many failed look-ups from this %s: try again in %lld min%s",
                         kiosk ? "terminal" : "principal", (long long)((wait + 59999) / 60000),
                         kiosk ? ", or ask the staff" : ""),
               NULL;
    }
    code = str0(code);
    if (!digits_ok(code, VOL_CODE_LEN) || strlen(code) != VOL_CODE_LEN)
        return call_fail(c, CODE(INVALID_ARGUMENT), "code must be the 8 digits on the volunteer's card"), NULL;
    void *v = NULL;
    int rc = id ? volrec_get(c, c->st->vol_people, id, &whistle__v1__volunteer__descriptor, &v, NULL, NULL) : 1;
    if (rc < 0)
        return NULL;
    const char *why = NULL;
    Whistle__V1__Volunteer *vol = v;
    if (vol && c->who->role != ROLE(ADMIN) && !principal_covers(c->who, vol->community))
        why = arena_printf(c->a, "volunteer %llu is of community %s, outside the scope %s", (unsigned long long)id,
                           vol->community, str0(c->who->scope));
    else if (vol && strcmp(str0(vol->code), code) == 0)
        return vol;
    else if (vol)
        why = "the code does not match the volunteer's card";
    if (c->st->lookups)
        guard_fail(c->st->lookups, me, c->now);
    if (why)
        audit_deny(c->st, c->now, me, c->name, target, why);
    return call_fail(c, CODE(NOT_FOUND), "no volunteer %llu with that code", (unsigned long long)id), NULL;
}

int vol_push(call *c, const char *community, const char *action, Whistle__V1__Wish *w, Whistle__V1__MemberTask *t)
{
    Whistle__V1__Push *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__push__init(p);
    p->action = (char *)action;
    p->actor = (char *)str0(c->who->name);
    p->wish = w;
    p->member_task = t;
    int rc = stream_append(c->st, c->txn, arena_printf(c->a, "members:%s", community), c->now, p, c->touched);
    return rc ? call_store_fail(c, rc, "pushing to the members' stream") : 0;
}

int vol_year(call *c, int64_t ms)
{
    int y, m, d;
    calendar_civil(calendar_day(&deadline_policy_of(c->st)->cal, ms), &y, &m, &d);
    return y;
}

static int audit_change(call *c, const char *target, const void *before, size_t blen, const ProtobufCMessage *after)
{
    int rc = audit_append(c->st, c->txn, c->now, str0(c->who->name), c->name, target, before, blen, after);
    return rc ? call_store_fail(c, rc, "auditing the change") : 0;
}

static int check_name(call *c, const char *field, const char *s, bool required)
{
    return check_text(c, field, s, NAME_MAX_BYTES, required);
}

/* ------------------------------------------------------------ the rules */

void volunteer_set_config(call *c, const Whistle__V1__SetVolunteerConfig *req)
{
    const Whistle__V1__VolunteerConfig *in = req->config;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "config is required");
        return;
    }
    const char *comm = vol_community(c, in->community);
    if (!comm || vol_reach(c, comm, "a community sets its own volunteers' rules"))
        return;
    if (in->n_categories > MAX_CATEGORIES) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu categories; at most %d", in->n_categories, MAX_CATEGORIES);
        return;
    }
    for (size_t i = 0; i < in->n_categories; i++) {
        const Whistle__V1__WishCategory *wc = in->categories[i];
        if (!wc || !directory_dept_code_ok(wc->code)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "category code \"%s\": 1-32 of a-z 0-9 _ - (walker, carry...)",
                      wc ? str0(wc->code) : "");
            return;
        }
        if (check_name(c, "name_zh", wc->name_zh, true) || check_name(c, "name_en", wc->name_en, false))
            return;
        if (wc->points > MAX_POINTS) {
            call_fail(c, CODE(INVALID_ARGUMENT), "category %s: %u points; at most %d", wc->code, wc->points,
                      MAX_POINTS);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(in->categories[j]->code, wc->code) == 0) {
                call_fail(c, CODE(INVALID_ARGUMENT), "category %s is listed twice", wc->code);
                return;
            }
    }
    if (in->claim_hours > 24 * 90 || in->expiry_days > 3660) {
        call_fail(c, CODE(INVALID_ARGUMENT), "claim_hours is at most 2160 (90 days), expiry_days at most 3660");
        return;
    }
    void *before = NULL;
    size_t blen = 0;
    store_get_bytes(c->txn, c->st->vol_config, comm, strlen(comm), c->a, &before, &blen);
    Whistle__V1__VolunteerConfig *cfg = arena_alloc(c->a, sizeof *cfg);
    *cfg = *in;
    cfg->community = (char *)comm;
    cfg->updated_ms = c->now;
    cfg->updated_by = (char *)str0(c->who->name);
    int rc = store_put(c->txn, c->st->vol_config, comm, strlen(comm), &cfg->base);
    if (rc) {
        call_store_fail(c, rc, "saving the volunteers' rules");
        return;
    }
    if (audit_change(c, arena_printf(c->a, "volunteers:%s", comm), before, blen, &cfg->base))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VOLUNTEER_CONFIG;
    c->resp->volunteer_config = cfg;
}

void volunteer_get_config(call *c, const Whistle__V1__GetVolunteerConfig *req)
{
    const char *comm = vol_community(c, req->community);
    if (!comm || vol_reach_read(c, comm, "a community's volunteers' rules are read inside the caller's scope"))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VOLUNTEER_CONFIG;
    c->resp->volunteer_config = vol_config(c, comm);
}

/* ------------------------------------------------------------ people */

static int new_code(call *c, char out[VOL_CODE_LEN + 1])
{
    uint8_t r[VOL_CODE_LEN];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return call_fail(c, CODE(UNAVAILABLE), "no randomness for the volunteer's code; try again");
    for (int i = 0; i < VOL_CODE_LEN; i++)
        out[i] = (char)('0' + r[i] % 10);
    out[VOL_CODE_LEN] = 0;
    return 0;
}

/* A lost card: a new code, the old one void at once. */
static void new_card(call *c, uint64_t id)
{
    void *before;
    size_t blen;
    Whistle__V1__Volunteer *v = vol_volunteer(c, id, &before, &blen);
    if (!v || vol_reach(c, v->community, "a community issues its own volunteers' cards"))
        return;
    char *code = arena_alloc(c->a, VOL_CODE_LEN + 1);
    if (new_code(c, code))
        return;
    v->code = code;
    if (volrec_put(c, c->st->vol_people, v->id, &v->base) ||
        audit_change(c, arena_printf(c->a, "volunteer:%llu", (unsigned long long)v->id), before, blen, &v->base))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VOLUNTEER;
    c->resp->volunteer = v;
}

void volunteer_add(call *c, const Whistle__V1__AddVolunteer *req)
{
    if (req->new_card_for) {
        new_card(c, req->new_card_for);
        return;
    }
    const Whistle__V1__Volunteer *in = req->volunteer;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "volunteer is required");
        return;
    }
    const char *comm = vol_community(c, in->community);
    if (!comm || vol_reach(c, comm, "a community registers its own volunteers and members"))
        return;
    if (check_name(c, "name", in->name, true) || check_text(c, "phone", in->phone, CONTACT_MAX, false) ||
        check_name(c, "team", in->team, false) || check_name(c, "employer", in->employer, false))
        return;
    if (in->kind < 0 || in->kind > VK(UNIT)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind %d: 1 volunteer, 2 party_member, 3 unit", in->kind);
        return;
    }
    Whistle__V1__VolunteerKind kind = in->kind ? in->kind : VK(VOLUNTEER);
    if (kind == VK(PARTY_MEMBER) && !*str0(in->employer)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "a registered party member names the employer unit (双报到: its 双评议 report goes back to it)");
        return;
    }
    if (in->n_skills > MAX_SKILLS) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu skills; at most %d", in->n_skills, MAX_SKILLS);
        return;
    }
    for (size_t i = 0; i < in->n_skills; i++)
        if (check_name(c, "skill", in->skills[i], true))
            return;
    if (in->resident_id) {
        /* a resident of the archive who lives in the community */
        Whistle__V1__ArchiveResident *res;
        Whistled__ArcResident *sealed;
        Whistle__V1__ArchiveHousehold *hh;
        if (arc_resident_get(c, in->resident_id, &res, &sealed, NULL, NULL) ||
            arc_household_get(c, res->household_id, &hh, NULL, NULL))
            return;
        if (strncmp(str0(hh->node), comm, 12) != 0) {
            call_fail(c, CODE(INVALID_ARGUMENT), "resident %llu lives outside community %s",
                      (unsigned long long)in->resident_id, comm);
            return;
        }
    }
    const char *pname = str0(in->principal);
    if (*pname) {
        Whistle__V1__Principal *p = directory_principal_get(c->st, c->txn, pname, c->a);
        if (!p) {
            call_fail(c, CODE(NOT_FOUND), "principal %s does not exist (an admin adds it first, role volunteer)",
                      pname);
            return;
        }
        if (p->role != ROLE(VOLUNTEER) || strcmp(str0(p->scope), comm) != 0) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "principal %s is %s of %s; a volunteer's certificate has role volunteer and its home community "
                      "%s as scope",
                      pname, role_a(p->role), str0(p->scope), comm);
            return;
        }
        uint64_t other;
        if (volrec_index_value(c, 'p', pname, strlen(pname), &other) == 0) {
            call_fail(c, CODE(ALREADY_EXISTS), "principal %s is volunteer %llu already", pname,
                      (unsigned long long)other);
            return;
        }
        if (c->resp->status)
            return;
    }
    Whistle__V1__Volunteer *v = arena_alloc(c->a, sizeof *v);
    *v = *in;
    v->community = (char *)comm;
    v->kind = kind;
    v->balance = 0;
    v->created_ms = c->now;
    v->created_by = (char *)str0(c->who->name);
    char *code = arena_alloc(c->a, VOL_CODE_LEN + 1);
    if (new_code(c, code) || volrec_next_id(c, "vol_people_seq", &v->id))
        return;
    v->code = code;
    if (volrec_put(c, c->st->vol_people, v->id, &v->base) || volrec_index_put(c, 'c', comm, v->id) ||
        (*pname && volrec_index_set(c, 'p', pname, strlen(pname), v->id)) ||
        audit_change(c, arena_printf(c->a, "volunteer:%llu", (unsigned long long)v->id), NULL, 0, &v->base))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VOLUNTEER;
    c->resp->volunteer = v;
}

/* A volunteer as an answer shows it: never the card's code; the phone
 * only when asked for one volunteer by its community (audited). */
static Whistle__V1__Volunteer *volunteer_view(call *c, Whistle__V1__Volunteer *v, bool phone)
{
    Whistle__V1__Volunteer *o = arena_alloc(c->a, sizeof *o);
    *o = *v;
    o->code = (char *)"";
    if (!phone)
        o->phone = (char *)"";
    int64_t b = 0;
    volrec_balance(c, v->community, volrec_account(c->a, v->id), &b);
    o->balance = b;
    return o;
}

void volunteer_list(call *c, const Whistle__V1__ListVolunteers *req)
{
    Whistle__V1__VolunteerList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__volunteer_list__init(l);
    if (c->who->role == ROLE(VOLUNTEER) || req->volunteer_id) {
        Whistle__V1__Volunteer *v = vol_actor(c, req->volunteer_id, "a volunteer is read by its community");
        if (!v)
            return;
        bool phone = c->who->role != ROLE(VOLUNTEER) && *str0(v->phone);
        if (phone)
            call_read_personal(c, arena_printf(c->a, "volunteer:%llu", (unsigned long long)v->id), "phone");
        l->volunteers = arena_alloc(c->a, sizeof *l->volunteers);
        l->volunteers[l->n_volunteers++] = volunteer_view(c, v, c->who->role != ROLE(VOLUNTEER));
    } else {
        const char *comm = vol_community(c, req->community);
        if (!comm || vol_reach(c, comm, "volunteers are listed inside the caller's scope"))
            return;
        if (check_name(c, "team", req->team, false))
            return;
        uint64_t *ids;
        size_t n;
        bool more;
        if (volrec_scan(c, 'c', comm, 0, 100000, &ids, &n, &more))
            return;
        l->volunteers = arena_alloc(c->a, (n ? n : 1) * sizeof *l->volunteers);
        for (size_t i = 0; i < n; i++) {
            Whistle__V1__Volunteer *v = vol_volunteer(c, ids[i], NULL, NULL);
            if (!v)
                return;
            if ((req->kind && v->kind != req->kind) || (*str0(req->team) && strcmp(str0(v->team), req->team) != 0))
                continue;
            l->volunteers[l->n_volunteers++] = volunteer_view(c, v, false);
        }
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VOLUNTEERS;
    c->resp->volunteers = l;
}

/* ------------------------------------------------------------ members' tasks */

static Whistle__V1__MemberTask *task_get(call *c, uint64_t id, void **bytes, size_t *len)
{
    void *t;
    if (!id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "task_id is required"), NULL;
    int rc = volrec_get(c, c->st->vol_mtasks, id, &whistle__v1__member_task__descriptor, &t, bytes, len);
    if (rc == 1)
        call_fail(c, CODE(NOT_FOUND), "no members' task %llu", (unsigned long long)id);
    return rc ? NULL : t;
}

static int task_save(call *c, Whistle__V1__MemberTask *t, const void *before, size_t blen)
{
    if (volrec_put(c, c->st->vol_mtasks, t->id, &t->base))
        return -1;
    return audit_change(c, arena_printf(c->a, "member_task:%llu", (unsigned long long)t->id), before, blen, &t->base);
}

static void reply_task(call *c, Whistle__V1__MemberTask *t)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_MEMBER_TASK;
    c->resp->member_task = t;
}

void volunteer_publish_task(call *c, const Whistle__V1__PublishMemberTask *req)
{
    const Whistle__V1__MemberTask *in = req->task;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "task is required");
        return;
    }
    const char *comm = vol_community(c, in->community);
    if (!comm || vol_reach(c, comm, "a community whistles tasks to its own registered members"))
        return;
    if (check_text(c, "title", in->title, TITLE_MAX, true) ||
        check_text(c, "description", in->description, DESCRIPTION_MAX, false))
        return;
    if (in->slots < 1 || in->slots > MAX_SLOTS || in->points > MAX_POINTS) {
        call_fail(c, CODE(INVALID_ARGUMENT), "slots is 1 to %d, points at most %d", MAX_SLOTS, MAX_POINTS);
        return;
    }
    if (in->due_ms && in->due_ms <= c->now) {
        call_fail(c, CODE(INVALID_ARGUMENT), "due_ms is in the past; leave it 0 or give a time to come");
        return;
    }
    Whistle__V1__MemberTask *t = arena_alloc(c->a, sizeof *t);
    whistle__v1__member_task__init(t);
    t->community = (char *)comm;
    t->title = in->title;
    t->description = (char *)str0(in->description);
    t->slots = in->slots;
    t->points = in->points;
    t->due_ms = in->due_ms;
    t->state = MS(OPEN);
    t->created_ms = c->now;
    t->created_by = (char *)str0(c->who->name);
    if (volrec_next_id(c, "vol_mtask_seq", &t->id) || volrec_index_put(c, 'm', comm, t->id) ||
        task_save(c, t, NULL, 0) || vol_push(c, comm, "member_task", NULL, t))
        return;
    reply_task(c, t);
}

static Whistle__V1__MemberTaskTaker *taker_of(Whistle__V1__MemberTask *t, uint64_t vid)
{
    for (size_t i = 0; i < t->n_takers; i++)
        if (t->takers[i]->volunteer_id == vid)
            return t->takers[i];
    return NULL;
}

void volunteer_task_act(call *c, const Whistle__V1__MemberTaskAct *req)
{
    void *before;
    size_t blen;
    Whistle__V1__MemberTask *t = task_get(c, req->task_id, &before, &blen);
    if (!t)
        return;
    if (req->action < MA(CLAIM) || req->action > MA(CONFIRM)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "action %d: 1 claim, 2 report, 3 confirm", req->action);
        return;
    }
    const char *target = arena_printf(c->a, "member_task:%llu", (unsigned long long)t->id);
    if (req->action == MA(CONFIRM) && c->who->role == ROLE(VOLUNTEER)) {
        call_deny(c, target,
                  "role volunteer may not confirm a task (rule: the community confirms what its members report)");
        return;
    }
    if (c->who->role != ROLE(VOLUNTEER) && vol_reach(c, t->community, "a community acts on its own members' tasks"))
        return;
    Whistle__V1__Volunteer *v = vol_actor(c, req->volunteer_id, "a member acts on its own community's tasks");
    if (!v)
        return;
    if (c->who->role == ROLE(VOLUNTEER) && strcmp(v->community, t->community) != 0) {
        call_hide(c, target, arena_printf(c->a, "no members' task %llu", (unsigned long long)t->id),
                  "task %llu is community %s's, not volunteer %llu's (rule: a member acts on its own community's "
                  "tasks)",
                  (unsigned long long)t->id, t->community, (unsigned long long)v->id);
        return;
    }
    if (strcmp(v->community, t->community) != 0) {
        call_fail(c, CODE(FAILED_PRECONDITION), "task %llu is community %s's; volunteer %llu is registered with %s",
                  (unsigned long long)t->id, t->community, (unsigned long long)v->id, v->community);
        return;
    }
    if (check_text(c, "note", req->note, NOTE_MAX, req->action == MA(REPORT)))
        return;
    Whistle__V1__MemberTaskTaker *tk = taker_of(t, v->id);
    if (req->action == MA(CLAIM)) {
        if (v->kind != VK(PARTY_MEMBER) && v->kind != VK(UNIT)) {
            call_fail(c, CODE(FAILED_PRECONDITION),
                      "volunteer %llu is not a registered party member or unit; members' tasks (双报到) are theirs",
                      (unsigned long long)v->id);
            return;
        }
        if (tk) {
            call_fail(c, CODE(ALREADY_EXISTS), "volunteer %llu has claimed task %llu already",
                      (unsigned long long)v->id, (unsigned long long)t->id);
            return;
        }
        if (t->state != MS(OPEN) || t->n_takers >= t->slots) {
            call_fail(c, CODE(FAILED_PRECONDITION), "task %llu has no slot left (%u of %u taken)",
                      (unsigned long long)t->id, (unsigned)t->n_takers, t->slots);
            return;
        }
        Whistle__V1__MemberTaskTaker **ts = arena_alloc(c->a, (t->n_takers + 1) * sizeof *ts);
        if (t->n_takers)
            memcpy(ts, t->takers, t->n_takers * sizeof *ts);
        tk = arena_alloc(c->a, sizeof *tk);
        whistle__v1__member_task_taker__init(tk);
        tk->volunteer_id = v->id;
        tk->name = v->name;
        tk->employer = (char *)str0(v->employer);
        tk->claimed_ms = c->now;
        ts[t->n_takers++] = tk;
        t->takers = ts;
        if (t->n_takers == t->slots)
            t->state = MS(FULL);
    } else if (!tk) {
        call_fail(c, CODE(FAILED_PRECONDITION), "volunteer %llu has not claimed task %llu", (unsigned long long)v->id,
                  (unsigned long long)t->id);
        return;
    } else if (req->action == MA(REPORT)) {
        if (tk->confirmed_ms) {
            call_fail(c, CODE(FAILED_PRECONDITION), "the community confirmed this already");
            return;
        }
        tk->report = (char *)req->note;
        tk->reported_ms = c->now;
    } else {
        if (!tk->reported_ms || tk->confirmed_ms) {
            call_fail(c, CODE(FAILED_PRECONDITION), "volunteer %llu's part of task %llu is %s",
                      (unsigned long long)v->id, (unsigned long long)t->id,
                      tk->confirmed_ms ? "confirmed already" : "not reported yet; confirm follows the report");
            return;
        }
        tk->confirmed_ms = c->now;
        bool all = t->n_takers == t->slots;
        for (size_t i = 0; i < t->n_takers; i++)
            all &= t->takers[i]->confirmed_ms != 0;
        if (all)
            t->state = MS(CLOSED);
        if (t->points) {
            Whistle__V1__LedgerEntry *e = arena_alloc(c->a, sizeof *e);
            whistle__v1__ledger_entry__init(e);
            e->community = t->community;
            e->from_account = (char *)VOL_ISSUE;
            e->to_account = (char *)volrec_account(c->a, v->id);
            e->amount = t->points;
            e->kind = (char *)"task";
            e->reason = arena_printf(c->a, "members' task %llu: %s", (unsigned long long)t->id, t->title);
            e->task_id = t->id;
            Whistle__V1__VolunteerConfig *cfg = vol_config(c, t->community);
            if (cfg->expiry_days)
                e->expires_ms = c->now + (int64_t)cfg->expiry_days * 86400000;
            if (volrec_post(c, e))
                return;
        }
    }
    if (task_save(c, t, before, blen))
        return;
    reply_task(c, t);
}

void volunteer_list_tasks(call *c, const Whistle__V1__ListMemberTasks *req)
{
    const char *comm;
    uint64_t only = req->volunteer_id;
    if (c->who->role == ROLE(VOLUNTEER) || only) {
        Whistle__V1__Volunteer *v = vol_actor(c, only, "a member's tasks are read by its community");
        if (!v)
            return;
        comm = v->community;
        only = c->who->role == ROLE(VOLUNTEER) ? req->volunteer_id : v->id;
    } else {
        comm = vol_community(c, req->community);
        if (!comm || vol_reach(c, comm, "members' tasks are listed inside the caller's scope"))
            return;
    }
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;
    uint64_t *ids;
    size_t n;
    bool more;
    if (volrec_scan(c, 'm', comm, req->after_id, limit, &ids, &n, &more))
        return;
    Whistle__V1__MemberTaskList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__member_task_list__init(l);
    l->tasks = arena_alloc(c->a, (n ? n : 1) * sizeof *l->tasks);
    for (size_t i = 0; i < n; i++) {
        Whistle__V1__MemberTask *t = task_get(c, ids[i], NULL, NULL);
        if (!t)
            return;
        if (only && !taker_of(t, only))
            continue;
        l->tasks[l->n_tasks++] = t;
    }
    if (more && n)
        l->next_after_id = ids[n - 1];
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_MEMBER_TASKS;
    c->resp->member_tasks = l;
}

/* ------------------------------------------------------------ reports */

/* The row of account "v<id>" (rows are in id order, as the index is), or NULL. */
static Whistle__V1__VolunteerReportRow *report_row(Whistle__V1__VolunteerReportResult *r, const char *account)
{
    if (account[0] != 'v')
        return NULL;
    uint64_t id = strtoull(account + 1, NULL, 10);
    size_t lo = 0, hi = r->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->rows[mid]->volunteer_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_rows && r->rows[lo]->volunteer_id == id ? r->rows[lo] : NULL;
}

static Whistle__V1__VolunteerReportRow *row_by_id(Whistle__V1__VolunteerReportResult *r, uint64_t id)
{
    char acct[24];
    snprintf(acct, sizeof acct, "v%llu", (unsigned long long)id);
    return report_row(r, acct);
}

void volunteer_report(call *c, const Whistle__V1__VolunteerReport *req)
{
    const char *comm = vol_community(c, req->community);
    if (!comm || vol_reach(c, comm, "reports are read inside the caller's scope"))
        return;
    int year = req->year ? req->year : vol_year(c, c->now);
    if (year < 2000 || year > 9999) {
        call_fail(c, CODE(INVALID_ARGUMENT), "year %d: 2000 to 9999 (0: this year)", year);
        return;
    }
    Whistle__V1__VolunteerReportResult *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__volunteer_report_result__init(r);
    r->community = (char *)comm;
    r->year = year;
    uint64_t *ids;
    size_t n;
    bool more;
    if (volrec_scan(c, 'c', comm, 0, 1000000, &ids, &n, &more))
        return;
    r->rows = arena_alloc(c->a, (n ? n : 1) * sizeof *r->rows);
    for (size_t i = 0; i < n; i++) {
        Whistle__V1__Volunteer *v = vol_volunteer(c, ids[i], NULL, NULL);
        if (!v)
            return;
        Whistle__V1__VolunteerReportRow *row = arena_alloc(c->a, sizeof *row);
        whistle__v1__volunteer_report_row__init(row);
        row->volunteer_id = v->id;
        row->name = v->name;
        row->team = (char *)str0(v->team);
        row->kind = v->kind;
        row->employer = (char *)str0(v->employer);
        volrec_balance(c, comm, volrec_account(c->a, v->id), &row->balance);
        r->rows[r->n_rows++] = row;
    }
    /* the ledger of the year: earned and spent per volunteer */
    uint64_t *eids;
    size_t ne;
    if (volrec_scan(c, 'e', comm, 0, 10000000, &eids, &ne, &more))
        return;
    for (size_t i = 0; i < ne; i++) {
        void *ev;
        if (volrec_get(c, c->st->vol_ledger, eids[i], &whistle__v1__ledger_entry__descriptor, &ev, NULL, NULL))
            return;
        Whistle__V1__LedgerEntry *e = ev;
        if (vol_year(c, e->at_ms) != year)
            continue;
        if (strcmp(e->from_account, VOL_ISSUE) == 0)
            r->points_issued += e->amount;
        if (strcmp(e->to_account, VOL_ISSUE) == 0)
            r->points_issued -= e->amount;
        if (strcmp(e->to_account, VOL_SHOP) == 0)
            r->points_redeemed += e->amount;
        if (strcmp(e->from_account, VOL_SHOP) == 0)
            r->points_redeemed -= e->amount;
        /* the volunteer's side of it: earned from (or given back to) the
         * issuing account, spent at (or refunded by) the supermarket */
        bool in = e->to_account[0] == 'v';
        Whistle__V1__VolunteerReportRow *row = report_row(r, in ? e->to_account : e->from_account);
        const char *other = in ? e->from_account : e->to_account;
        if (row && strcmp(other, VOL_ISSUE) == 0)
            row->earned += in ? e->amount : -e->amount;
        else if (row && strcmp(other, VOL_SHOP) == 0)
            row->spent += in ? -e->amount : e->amount;
    }
    /* wishes ordered in the year, by how far they got */
    if (volrec_scan(c, 'w', comm, 0, 10000000, &ids, &n, &more))
        return;
    for (size_t i = 0; i < n; i++) {
        void *wv;
        if (volrec_get(c, c->st->vol_wishes, ids[i], &whistle__v1__wish__descriptor, &wv, NULL, NULL))
            return;
        Whistle__V1__Wish *w = wv;
        if (vol_year(c, w->created_ms) != year)
            continue;
        r->wishes_ordered++;
        r->wishes_published += w->published_ms != 0 && w->state != WS(DECLINED);
        r->wishes_claimed += w->state >= WS(CLAIMED) && w->state <= WS(CONFIRMED);
        r->wishes_done += w->state == WS(DONE) || w->state == WS(CONFIRMED);
        r->wishes_confirmed += w->state == WS(CONFIRMED);
        r->wishes_declined += w->state == WS(DECLINED);
        Whistle__V1__VolunteerReportRow *row = w->state == WS(CONFIRMED) ? row_by_id(r, w->volunteer_id) : NULL;
        if (row)
            row->wishes_done++;
    }
    /* members' tasks claimed in the year (双评议) */
    if (volrec_scan(c, 'm', comm, 0, 10000000, &ids, &n, &more))
        return;
    for (size_t i = 0; i < n; i++) {
        Whistle__V1__MemberTask *t = task_get(c, ids[i], NULL, NULL);
        if (!t)
            return;
        for (size_t k = 0; k < t->n_takers; k++) {
            if (vol_year(c, t->takers[k]->claimed_ms) != year)
                continue;
            Whistle__V1__VolunteerReportRow *row = row_by_id(r, t->takers[k]->volunteer_id);
            if (row) {
                row->tasks_claimed++;
                row->tasks_confirmed += t->takers[k]->confirmed_ms != 0;
            }
        }
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VOLUNTEER_REPORT;
    c->resp->volunteer_report = r;
}
