/* task.c: see task.h. Roles are authz.c's; this file checks scope: an
 * operator reaches the communities of its street, a department those in
 * its scope, a community principal its own community. */
#include "task.h"
#include "field_limits.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "directory.h"

#define TS(x) WHISTLE__V1__TASK_STATE__TASK_STATE_##x
#define MAX_KINDS 200

/* ------------------------------------------------------------ helpers */

/* The community named, live and of kind community; NULL with the status set. */
static Whistle__V1__Node *community_get(call *c, const char *code, bool live)
{
    code = str0(code);
    if (!*code)
        return call_fail(c, CODE(INVALID_ARGUMENT), "community is required: a community's code"), NULL;
    Whistle__V1__Node *n = digits_ok(code, strlen(code)) ? directory_node_get(c->st, c->txn, code, c->a) : NULL;
    if (!n)
        return call_fail(c, CODE(NOT_FOUND), "no place %s", code), NULL;
    if (n->kind != WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is a %s; admission lists and tasks belong to communities", code,
                         directory_kind_name(n->kind)),
               NULL;
    if (live && n->retired)
        return call_fail(c, CODE(FAILED_PRECONDITION), "community %s is retired", code), NULL;
    return n;
}

/* The caller reaches the community: admins always; others by scope. */
static int reach(call *c, const char *community, const char *rule)
{
    if (c->who->role == ROLE(ADMIN) || principal_covers(c->who, community))
        return 0;
    return call_deny(c, community, "community %s is outside your scope %s (rule: %s)", community, str0(c->who->scope),
                     rule);
}

static Whistle__V1__AdmissionList *admission_get(call *c, const char *community, void **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    if (store_get_bytes(c->txn, c->st->admission, community, strlen(community), c->a, bytes, len) != 0)
        return NULL;
    return whistle__v1__admission_list__unpack(arena_allocator(c->a), *len, *bytes);
}

static char *task_key(call *c, uint64_t id)
{
    uint8_t *k = arena_alloc(c->a, 8);
    store_be64(k, id);
    return (char *)k;
}

/* Returns a store code (store.h): it goes in a chain of puts. */
static int index_put(MDB_txn *txn, arena *a, MDB_dbi dbi, const char *prefix, uint64_t id)
{
    size_t pl = strlen(prefix);
    uint8_t *k = arena_alloc(a, pl + 9);
    memcpy(k, prefix, pl);
    k[pl] = '/';
    store_be64(k + pl + 1, id);
    MDB_val key = { pl + 9, k }, v = { 0, "" };
    return mdb_put(txn, dbi, &key, &v, 0);
}

static void reply_task(call *c, Whistle__V1__Task *t)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_TASK;
    c->resp->task = t;
}

/* ------------------------------------------------------------ admission lists */

void task_set_admission(call *c, const Whistle__V1__SetAdmissionList *req)
{
    Whistle__V1__Node *n = community_get(c, req->community, true);
    if (!n || reach(c, n->code, "an operator sets the admission lists of its street's communities"))
        return;
    if (req->n_kinds > MAX_KINDS) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu kinds; a list holds at most %d", req->n_kinds, MAX_KINDS);
        return;
    }
    for (size_t i = 0; i < req->n_kinds; i++) {
        if (!directory_dept_code_ok(req->kinds[i])) {
            call_fail(c, CODE(INVALID_ARGUMENT), "kind \"%s\": 1-32 of a-z 0-9 _ - (survey, inspection...)",
                      str0(req->kinds[i]));
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(req->kinds[i], req->kinds[j]) == 0) {
                call_fail(c, CODE(INVALID_ARGUMENT), "kind %s is listed twice", req->kinds[i]);
                return;
            }
    }
    void *before;
    size_t blen;
    admission_get(c, n->code, &before, &blen);
    Whistle__V1__AdmissionList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__admission_list__init(l);
    l->community = n->code;
    l->kinds = req->kinds;
    l->n_kinds = req->n_kinds;
    l->updated_ms = c->now;
    l->updated_by = (char *)str0(c->who->name);
    int rc = store_put(c->txn, c->st->admission, n->code, strlen(n->code), &l->base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, n->code, before, blen, &l->base);
    if (rc) {
        call_store_fail(c, rc, "saving the admission list");
        return;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ADMISSION;
    c->resp->admission = l;
}

void task_get_admission(call *c, const Whistle__V1__GetAdmissionList *req)
{
    Whistle__V1__Node *n = community_get(c, req->community, false);
    if (!n || reach(c, n->code, "admission lists are read inside the caller's scope"))
        return;
    void *b;
    size_t l;
    Whistle__V1__AdmissionList *al = admission_get(c, n->code, &b, &l);
    if (!al) {
        /* No list yet: nothing is admitted. */
        al = arena_alloc(c->a, sizeof *al);
        whistle__v1__admission_list__init(al);
        al->community = n->code;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ADMISSION;
    c->resp->admission = al;
}

/* ------------------------------------------------------------ tasks */

static Whistle__V1__Task *task_load(call *c, uint64_t id, void **bytes, size_t *len);

int task_create(call *c, const char *community, const char *kind, const char *title, const char *description,
                int64_t deadline_ms, const char *owner, uint64_t proposal_id, Whistle__V1__Task **out)
{
    uint64_t id;
    int rc = store_next_seq(c->txn, c->st, "task_seq", &id);
    if (rc)
        return call_store_fail(c, rc, "numbering the task");
    Whistle__V1__Task *t = arena_alloc(c->a, sizeof *t);
    whistle__v1__task__init(t);
    t->id = id;
    t->community = (char *)community;
    t->kind = (char *)kind;
    t->title = (char *)title;
    t->description = (char *)description;
    t->department = (char *)(c->who->role == ROLE(DEPARTMENT) ? str0(c->who->department) : "");
    t->pushed_by = (char *)str0(c->who->name);
    t->created_ms = c->now;
    t->deadline_ms = deadline_ms;
    t->state = TS(OPEN);
    t->owner = (char *)str0(owner);
    t->proposal_id = proposal_id;
    rc = store_put(c->txn, c->st->tasks, task_key(c, id), 8, &t->base);
    if (!rc)
        rc = index_put(c->txn, c->a, c->st->task_by_comm, t->community, id);
    if (!rc)
        rc = index_put(c->txn, c->a, c->st->task_by_dept, t->department, id);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "task:%llu", (unsigned long long)id), NULL, 0, &t->base);
    if (rc)
        return call_store_fail(c, rc, "saving the task");
    *out = t;
    return 0;
}

Whistle__V1__Task *task_get(call *c, uint64_t id)
{
    void *b;
    size_t l;
    return task_load(c, id, &b, &l);
}

void task_push(call *c, const Whistle__V1__PushTask *req)
{
    Whistle__V1__Node *n = community_get(c, req->community, true);
    if (!n || reach(c, n->code, "tasks are pushed to communities inside the caller's scope"))
        return;
    const char *kind = str0(req->kind);
    if (!directory_dept_code_ok(kind)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind \"%s\": 1-32 of a-z 0-9 _ - (survey, inspection...)", kind);
        return;
    }
    if (check_text(c, "title", req->title, TITLE_MAX, true) ||
        check_text(c, "description", req->description, DESCRIPTION_MAX, false))
        return;
    if (req->deadline_ms <= c->now) {
        call_fail(c, CODE(INVALID_ARGUMENT), "deadline_ms is required and must be in the future (Unix milliseconds)");
        return;
    }
    void *b;
    size_t bl;
    Whistle__V1__AdmissionList *al = admission_get(c, n->code, &b, &bl);
    bool admitted = false;
    const char *listed = "";
    for (size_t i = 0; al && i < al->n_kinds; i++) {
        admitted |= strcmp(al->kinds[i], kind) == 0;
        listed = *listed ? arena_printf(c->a, "%s, %s", listed, al->kinds[i]) : al->kinds[i];
    }
    if (!admitted) {
        call_deny(c, n->code,
                  "task kind \"%s\" is not on the admission list (准入清单) of community %s (rule: a community is "
                  "given only the kinds of task its admission list admits; it admits: %s)",
                  kind, n->code, *listed ? listed : "nothing yet");
        return;
    }
    Whistle__V1__Task *t;
    if (task_create(c, n->code, kind, str0(req->title), str0(req->description), req->deadline_ms, "", 0, &t))
        return;
    reply_task(c, t);
}

static Whistle__V1__Task *task_load(call *c, uint64_t id, void **bytes, size_t *len)
{
    if (store_get_bytes(c->txn, c->st->tasks, task_key(c, id), 8, c->a, bytes, len) != 0)
        return NULL;
    return whistle__v1__task__unpack(arena_allocator(c->a), *len, *bytes);
}

void task_complete(call *c, const Whistle__V1__CompleteTask *req)
{
    void *bytes;
    size_t len;
    if (!req->task_id) {
        call_fail(c, CODE(INVALID_ARGUMENT), "task_id is required for complete_task");
        return;
    }
    Whistle__V1__Task *t = task_load(c, req->task_id, &bytes, &len);
    if (!t) {
        call_fail(c, CODE(NOT_FOUND), "no task %llu", (unsigned long long)req->task_id);
        return;
    }
    if (reach(c, t->community, "a community completes its own tasks"))
        return;
    if (check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (t->state != TS(OPEN)) {
        call_fail(c, CODE(FAILED_PRECONDITION), "task %llu is done already", (unsigned long long)t->id);
        return;
    }
    t->state = TS(DONE);
    t->done_ms = c->now;
    t->done_by = (char *)str0(c->who->name);
    t->note = (char *)str0(req->note);
    int rc = store_put(c->txn, c->st->tasks, task_key(c, t->id), 8, &t->base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "task:%llu", (unsigned long long)t->id), bytes, len, &t->base);
    if (rc) {
        call_store_fail(c, rc, "saving the task");
        return;
    }
    reply_task(c, t);
}

/* Lists through an index (rows prefix | '/' | id, in id order) or, when
 * prefix is NULL, the whole table in id order; keeps tasks under scope
 * ("" any) in the given state. */
static int scan(call *c, MDB_dbi dbi, const char *prefix, const char *scope, Whistle__V1__TaskState state,
                uint64_t after, uint32_t limit, ptr_vec *out, bool *more)
{
    size_t pl = prefix ? strlen(prefix) + 1 : 0;
    uint8_t *start = arena_alloc(c->a, pl + 8);
    if (prefix) {
        memcpy(start, prefix, pl - 1);
        start[pl - 1] = '/';
    }
    store_be64(start + pl, after == UINT64_MAX ? UINT64_MAX : after + 1);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, prefix ? dbi : c->st->tasks, &cur);
    if (rc)
        return call_store_fail(c, rc, "listing tasks");
    MDB_val k = { pl + 8, start }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != pl + 8 || memcmp(k.mv_data, start, pl) != 0)
            break;
        uint64_t id = store_get_be64((uint8_t *)k.mv_data + pl);
        if (id <= after)
            continue;
        void *b;
        size_t l;
        Whistle__V1__Task *t = task_load(c, id, &b, &l);
        if (!t)
            continue;
        if (*scope && !scope_covers(scope, t->community))
            continue;
        if (state && t->state != state)
            continue;
        if (out->n == limit) {
            *more = true;
            break;
        }
        ptr_vec_push(c->a, out, t);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : call_store_fail(c, rc, "listing tasks");
}

void task_list(call *c, const Whistle__V1__ListTasks *req)
{
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;
    if (req->state < 0 || req->state > TS(DONE)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "state %d: 1 open, 2 done", req->state);
        return;
    }
    const char *comm = str0(req->community);
    const Whistle__V1__Principal *w = c->who;
    if (*comm && (!community_get(c, comm, false) || reach(c, comm, "tasks are listed inside the caller's scope")))
        return;
    ptr_vec out = { 0 };
    bool more = false;
    int rc;
    if (w->role == ROLE(DEPARTMENT)) {
        /* a department sees the tasks it pushed */
        rc = scan(c, c->st->task_by_dept, str0(w->department), comm, req->state, req->after_id, limit, &out, &more);
    } else if (*comm) {
        rc = scan(c, c->st->task_by_comm, comm, "", req->state, req->after_id, limit, &out, &more);
    } else {
        const char *scope = w->role == ROLE(ADMIN) ? "" : str0(w->scope);
        if (w->role != ROLE(ADMIN) && !*scope) {
            call_fail(c, CODE(FAILED_PRECONDITION), "principal %s has no scope", str0(w->name));
            return;
        }
        rc = scan(c, 0, NULL, scope, req->state, req->after_id, limit, &out, &more);
    }
    if (rc)
        return;
    Whistle__V1__TaskList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__task_list__init(l);
    l->tasks = (Whistle__V1__Task **)out.items;
    l->n_tasks = out.n;
    if (more && out.n)
        l->next_after_id = l->tasks[out.n - 1]->id;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_TASKS;
    c->resp->tasks = l;
}
