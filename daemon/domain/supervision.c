/* supervision.c: see supervision.h. */
#include "supervision.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "calendar.h"
#include "deadline_rows.h"
#include "directory.h"
#include "event_record.h"
#include "order_record.h"
#include "supervision_record.h"

#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define MAX_SCAN 20000

/* ------------------------------------------------------------ alerts */

/* A push carrying the supervision record too. keep_contact: whether the
 * stream's readers (operators) may see the reporter's phone. */
static int sup_push(call *c, const char *stream, const Whistle__V1__Event *ev, bool keep_contact, const char *action,
                    const Whistle__V1__Order *o, const Whistle__V1__Supervision *s)
{
    Whistle__V1__Push *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__push__init(p);
    p->action = (char *)action;
    p->actor = (char *)str0(c->who->name);
    Whistle__V1__Event *e = arena_alloc(c->a, sizeof *e);
    *e = *ev;
    e->n_timeline = 0;
    e->timeline = NULL;
    e->timeline_total = 0;
    e->timeline_from = 0;
    if (!keep_contact)
        e->contact = (char *)"";
    p->event = e;
    p->order = (Whistle__V1__Order *)o;
    p->supervision = (Whistle__V1__Supervision *)s;
    int rc = stream_append(c->st, c->txn, stream, c->now, p, c->touched);
    return rc ? call_store_fail(c, rc, "appending an alert") : 0;
}

static const char *ordinal(call *c, size_t n)
{
    return arena_printf(c->a, "%zu%s", n,
                        n % 100 >= 11 && n % 100 <= 13 ? "th"
                        : n % 10 == 1                  ? "st"
                        : n % 10 == 2                  ? "nd"
                        : n % 10 == 3                  ? "rd"
                                                       : "th");
}

/* ------------------------------------------------------------ misses */

static bool applicable(const Whistle__V1__Order *o, int kind, uint32_t stage, int64_t due)
{
    if (o->parked || (o->state != OS(PENDING) && o->state != OS(CHECKED_IN)))
        return false;
    switch (kind) {
    case DL_CHECK_IN:
        return o->state == OS(PENDING) && o->check_in_due_ms == due && !deadline_order_missed(o, "check_in", due, 0);
    case DL_RESOLVE: return o->resolve_due_ms == due && !deadline_order_missed(o, "resolve", due, 0);
    case DL_STAGE:
        return stage >= 1 && stage <= o->n_stages && o->stages[stage - 1] && !o->stages[stage - 1]->done_ms &&
               o->stages[stage - 1]->due_ms == due && !deadline_order_missed(o, "stage", due, stage);
    case DL_FOLLOW_UP:
        return o->follow_up_ms == due && (strcmp(str0(o->follow_up), "check_in") != 0 || o->state == OS(PENDING));
    default: return false;
    }
}

int supervision_order_miss(call *c, uint64_t order_id, int kind, uint32_t stage, int64_t due)
{
    if (!order_get(c, order_id))
        return 0; /* gone: nothing to supervise */
    Whistle__V1__Order *o;
    void *ob;
    size_t ol;
    if (order_load(c, order_id, &o, &ob, &ol))
        return -1;
    if (!applicable(o, kind, stage, due))
        return 0;
    Whistle__V1__Event *ev;
    event_snap snap;
    if (event_load(c, o->ticket, &ev, &snap))
        return -1;
    const deadline_policy *p = deadline_policy_of(c->st);

    bool follow_check_in = kind == DL_FOLLOW_UP && strcmp(str0(o->follow_up), "check_in") == 0;
    const char *kname = kind == DL_CHECK_IN  ? "check_in"
                        : kind == DL_RESOLVE ? "resolve"
                        : kind == DL_STAGE   ? "stage"
                        : follow_check_in    ? "check_in_follow_up"
                                             : "follow_up";
    Whistle__V1__Miss *m = arena_alloc(c->a, sizeof *m);
    whistle__v1__miss__init(m);
    m->kind = (char *)kname;
    m->due_ms = due;
    m->at_ms = c->now;
    m->stage = kind == DL_STAGE ? stage : 0;
    Whistle__V1__Miss **mv = arena_alloc(c->a, (o->n_misses + 1) * sizeof *mv);
    if (o->n_misses)
        memcpy(mv, o->misses, o->n_misses * sizeof *mv);
    mv[o->n_misses++] = m;
    o->misses = mv;

    /* The follow-up: a department that has not checked in must check in
     * within its check-in limit again; one that has must finish within
     * follow_up_hours. Missing it is the next miss. */
    const char *what;
    if ((kind == DL_CHECK_IN || follow_check_in) && o->state == OS(PENDING)) {
        Whistle__V1__TimeLimit l;
        if (o->check_in_limit && o->check_in_limit->amount)
            l = *o->check_in_limit;
        else {
            whistle__v1__time_limit__init(&l);
            l.amount = p->default_check_in_minutes ? p->default_check_in_minutes : 60;
            l.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES;
        }
        o->follow_up = (char *)"check_in";
        o->follow_up_ms = calendar_add(&p->cal, c->now, &l);
        what = kind == DL_CHECK_IN ? "check-in deadline" : "check-in follow-up";
    } else {
        o->follow_up = (char *)"done";
        o->follow_up_ms = c->now + (int64_t)p->follow_up_hours * 3600000;
        what = kind == DL_RESOLVE ? "resolve deadline"
               : kind == DL_STAGE
                   ? arena_printf(c->a, "stage %u (%s) deadline", stage, str0(o->stages[stage - 1]->name_zh))
               : follow_check_in ? "check-in follow-up"
                                 : "follow-up";
    }

    void *sb;
    size_t sl;
    Whistle__V1__Supervision *s = supervision_open(c, ev, o->supervision_id, &sb, &sl);
    if (!s)
        return -1;
    if (!sb) {
        s->order_id = o->id;
        s->department = o->department;
    }
    supervision_add_miss(c, s, m);
    bool escalate = s->level < 2 &&
                    (s->n_misses >= p->escalate_after || o->kind == WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY);
    if (escalate) {
        s->level = 2;
        s->escalated_ms = c->now;
        o->escalated = true;
    }
    o->supervision_id = s->id;
    /* Reminders are bounded: after max_misses the supervision stays open
     * (and counted) but sets no further follow-up. */
    bool last = s->n_misses >= p->max_misses;
    if (last) {
        o->follow_up_ms = 0;
        o->follow_up = (char *)"";
    }
    const char *action = escalate ? "escalate" : "overdue";
    event_timeline(c, ev, action,
                   arena_printf(c->a, "missed its %s (due %s), %s miss; supervision #%llu%s%s", what,
                                deadline_format(c, due), ordinal(c, s->n_misses), (unsigned long long)s->id,
                                s->level >= 2 ? (escalate ? ", escalated to the district" : ", with the district") : "",
                                last ? "; no further reminders" : ""),
                   o->id, o->department);
    if (supervision_save(c, s, sb, sl) || order_save(c, o, ob, ol) || event_save(c, ev, &snap))
        return -1;
    if (sup_push(c, arena_printf(c->a, "street:%s", ev->street), ev, true, action, o, s) ||
        sup_push(c, arena_printf(c->a, "dept:%s", o->department), ev, false, action, o, s))
        return -1;
    if (s->level >= 2 && sup_push(c, arena_printf(c->a, "district:%s", str0(s->district)), ev, true, action, o, s))
        return -1;
    return 0;
}

int supervision_case_due(call *c, const char *ticket, int64_t due)
{
    void *found = NULL;
    store_get(c->txn, c->st->events, ticket, strlen(ticket), &whistle__v1__event__descriptor, c->a, &found);
    if (!found)
        return 0;
    Whistle__V1__Event *ev;
    event_snap snap;
    if (event_load(c, ticket, &ev, &snap))
        return -1;
    if (ev->due_ms != due || ev->due_passed || ev->parked || ev->state == ES(CLOSED) || ev->state == ES(REJECTED))
        return 0;
    ev->due_passed = true;
    Whistle__V1__Supervision *s = NULL;
    void *sb = NULL;
    size_t sl = 0;
    if (ev->state == ES(HANDLING)) {
        /* Handled locally: no orders watch it, so the case itself is
         * supervised. */
        s = supervision_open(c, ev, ev->supervision_id, &sb, &sl);
        if (!s)
            return -1;
        if (!sb)
            s->assignee = (char *)str0(ev->assignee);
        Whistle__V1__Miss *m = arena_alloc(c->a, sizeof *m);
        whistle__v1__miss__init(m);
        m->kind = (char *)"case";
        m->due_ms = due;
        m->at_ms = c->now;
        supervision_add_miss(c, s, m);
        ev->supervision_id = s->id;
    }
    const char *note =
        ev->state == ES(HANDLING)
            ? arena_printf(c->a, "passed its due time (%s) while handled by %s; supervision #%llu",
                           deadline_format(c, due), str0(ev->assignee), (unsigned long long)(s ? s->id : 0))
        : ev->state == ES(WHISTLED)
            ? arena_printf(c->a, "passed its due time (%s)", deadline_format(c, due))
            : arena_printf(c->a, "passed its due time (%s) before it was closed", deadline_format(c, due));
    event_timeline(c, ev, "overdue", note, 0, NULL);
    if ((s && supervision_save(c, s, sb, sl)) || event_save(c, ev, &snap))
        return -1;
    /* A whistled case's orders raise their own alerts; otherwise the street
     * hears of it here (and the worker, for a local case). */
    if (ev->state == ES(WHISTLED))
        return 0;
    if (sup_push(c, arena_printf(c->a, "street:%s", ev->street), ev, true, "overdue", NULL, s))
        return -1;
    if (ev->state == ES(HANDLING) && *str0(ev->assignee) &&
        sup_push(c, arena_printf(c->a, "principal:%s", ev->assignee), ev, strcmp(ev->assignee, ev->reporter) == 0,
                 "overdue", NULL, s))
        return -1;
    return 0;
}

/* ------------------------------------------------------------ list */

void supervision_list(call *c, const Whistle__V1__ListSupervisions *req)
{
    const char *node = str0(req->node), *dept = str0(req->department);
    if (authz_check(c, node))
        return;
    /* filters are names, not text: a malformed one is refused, not
     * silently matched against nothing */
    if (*node && (!digits_ok(node, strlen(node)) || strlen(node) < 6 || strlen(node) > 18)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node code (6 to 18 digits)", node);
        return;
    }
    if (*dept && !ident_ok(dept, 32)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "department is not a department code (1 to 32 printable characters)");
        return;
    }
    const Whistle__V1__Principal *w = c->who;
    bool admin = w->role == ROLE(ADMIN), is_dept = w->role == ROLE(DEPARTMENT);
    if (is_dept) {
        if (*dept && strcmp(dept, str0(w->department)) != 0) {
            call_deny(c, dept,
                      "department %s may not read %s's supervision records (rule: a department sees "
                      "its own)",
                      str0(w->department), dept);
            return;
        }
        dept = str0(w->department);
    } else if (*node && !admin && !principal_covers(w, node)) {
        call_deny(c, node, "node %s is outside your scope %s (rule: an operator reads its street's supervision)", node,
                  str0(w->scope));
        return;
    }
    /* no node: everything the caller reaches */
    bool by_scope = !*node && !admin && !is_dept;
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->supervisions, &cur);
    if (rc) {
        call_store_fail(c, rc, "listing supervision records");
        return;
    }
    ptr_vec out = { 0 };
    uint64_t next = 0;
    uint8_t key[8];
    MDB_val k, v;
    if (req->before_id) {
        store_be64(key, req->before_id);
        k.mv_size = 8;
        k.mv_data = key;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }
    for (size_t scanned = 0; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        if (k.mv_size != 8)
            continue;
        uint64_t id = store_get_be64(k.mv_data);
        if (req->before_id && id >= req->before_id)
            continue;
        if (out.n == limit || ++scanned > MAX_SCAN) {
            /* the next page starts below the last one given (or scanned) */
            next = out.n ? ((Whistle__V1__Supervision *)out.items[out.n - 1])->id : id + 1;
            break;
        }
        Whistle__V1__Supervision *s = whistle__v1__supervision__unpack(arena_allocator(c->a), v.mv_size, v.mv_data);
        if (!s) {
            rc = MDB_CORRUPTED;
            break;
        }
        if ((req->open_only && !s->open) || (*dept && strcmp(str0(s->department), dept) != 0) ||
            (*node && !scope_covers(node, s->node)) || (by_scope && !principal_covers(w, s->node)))
            continue;
        ptr_vec_push(c->a, &out, s);
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) {
        call_store_fail(c, rc, "listing supervision records");
        return;
    }
    Whistle__V1__SupervisionList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__supervision_list__init(l);
    l->supervisions = (Whistle__V1__Supervision **)out.items;
    l->n_supervisions = out.n;
    l->next_before_id = next;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_SUPERVISIONS;
    c->resp->supervisions = l;
}
