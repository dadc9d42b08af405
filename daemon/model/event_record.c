/* event_record.c: see event_record.h. */
#include "event_record.h"
#include "photo_record.h"

#include <string.h>

#include "audit.h"
#include "authz.h"
#include "deadline_rows.h"
#include "directory.h"
#include "fed_rows.h"
#include "field_limits.h"
#include "order_record.h"
#include "stats_rows.h"
#include "supervision_record.h"

#define ST(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s

/* ------------------------------------------------------------ names */

static const char *const state_names[] = { "unspecified", "reported", "filed",    "rejected", "handling",
                                           "whistled",    "resolved", "verified", "closed" };

const char *event_state_name(Whistle__V1__EventState s)
{
    return (size_t)s < sizeof state_names / sizeof *state_names ? state_names[s] : "unknown";
}

const char *event_allowed_in(const Whistle__V1__Event *ev)
{
    switch (ev->state) {
    case ST(REPORTED): return "file, reject";
    case ST(FILED): return "assign, whistle";
    case ST(REJECTED): return "nothing (rejected is final)";
    case ST(HANDLING): return "resolve, whistle";
    case ST(WHISTLED): return "whistle (re-dispatch), and the departments' check_in, feedback, return";
    case ST(RESOLVED): return "verify";
    case ST(VERIFIED): return "close";
    case ST(CLOSED): return ev->rating ? "nothing (closed and rated)" : "rate";
    default: return "nothing";
    }
}

int event_wrong_state(call *c, const Whistle__V1__Event *ev, const char *needs)
{
    return call_fail(c, CODE(FAILED_PRECONDITION), "case %s is %s; %s needs %s. Allowed now: %s", ev->ticket,
                     event_state_name(ev->state), c->name, needs, event_allowed_in(ev));
}

/* ------------------------------------------------------------ authority */

/* A case's photos are read by whoever may read the case: get_photo is
 * checked as get. */
static bool is(const call *c, const char *name)
{
    return strcmp(c->name, name) == 0 || (strcmp(name, "get") == 0 && strcmp(c->name, "get_photo") == 0);
}

/* A case outside the caller's reach reads like a missing one: where it is
 * (and that it exists) is for the log, not for the caller (issue 11: with
 * sequential tickets the lowest roles could map every case). */
static int deny_scope(call *c, const Whistle__V1__Event *ev, const char *rule)
{
    return call_hide(c, ev->ticket, arena_printf(c->a, "no case %s", ev->ticket),
                     "case %s is at %s, outside the scope %s (rule: %s)", ev->ticket, ev->node, str0(c->who->scope),
                     rule);
}

int event_allow(call *c, const Whistle__V1__Event *ev)
{
    const Whistle__V1__Principal *w = c->who;
    const char *me = str0(w->name);
    bool in_scope = principal_covers(w, ev->node);
    bool reporter = strcmp(str0(ev->reporter), me) == 0;
    /* Whoever reported a duplicate merged into this case follows it
     * (exception.c) and may read it, wherever its own scope is
     * (docs/deadlines.md); the phone stays hidden (event_for_reply). */
    if (is(c, "get") && w->role != ROLE(KIOSK) && event_is_follower(ev, me))
        return 0;
    switch (w->role) {
    case ROLE(ADMIN): return 0;
    case ROLE(OPERATOR): return in_scope ? 0 : deny_scope(c, ev, "an operator acts on its street only");
    case ROLE(DEPARTMENT):
        if (is(c, "get") || is(c, "list_orders")) {
            if (order_case_has_dept(c, ev, str0(w->department)))
                return 0;
            return call_hide(c, ev->ticket, arena_printf(c->a, "no case %s", ev->ticket),
                             "case %s has no order for department %s (rule: a department sees only the cases "
                             "whistled to it)",
                             ev->ticket, str0(w->department));
        }
        break;
    case ROLE(GRID_WORKER):
    case ROLE(COMMUNITY):
        if (is(c, "resolve")) {
            if (strcmp(str0(ev->assignee), me) == 0)
                return 0;
            return call_deny(c, ev->ticket,
                             "case %s is assigned to %s, not to you (rule: a grid or community worker resolves "
                             "only the cases assigned to it)",
                             ev->ticket, *str0(ev->assignee) ? ev->assignee : "nobody");
        }
        if (is(c, "rate")) {
            if (reporter)
                return 0;
            return call_deny(c, ev->ticket, "case %s was reported by %s (rule: only the reporter rates a case)",
                             ev->ticket, str0(ev->reporter));
        }
        if (is(c, "get") || is(c, "list") || is(c, "verify"))
            return in_scope ? 0 : deny_scope(c, ev, "a grid or community worker acts inside its scope only");
        break;
    case ROLE(KIOSK):
        /* A kiosk rates for the resident in front of it, who proved the
         * ticket with the phone's digits (event_rate checks them first). */
        if (is(c, "rate"))
            return in_scope ? 0 : deny_scope(c, ev, "a kiosk rates the tickets of its community only");
        break;
    case ROLE(INTEGRATION):
        if (is(c, "rate")) {
            if (reporter)
                return 0;
            return call_deny(c, ev->ticket, "case %s was reported by %s (rule: only the reporter rates a case)",
                             ev->ticket, str0(ev->reporter));
        }
        if (is(c, "get") || is(c, "list"))
            return in_scope ? 0 : deny_scope(c, ev, "an integration reads inside its scope only");
        break;
    default: break;
    }
    return call_deny(c, ev->ticket, "role %s may not %s case %s (rule: no rule lets it)", role_name(w->role), c->name,
                     ev->ticket);
}

/* ------------------------------------------------------------ records */

static Whistle__V1__Event *stored_event(call *c, const char *ticket)
{
    void *e = NULL;
    if (!ticket || !*ticket)
        return NULL;
    store_get(c->txn, c->st->events, ticket, strlen(ticket), &whistle__v1__event__descriptor, c->a, &e);
    return e;
}

/* The case's rating is copied onto its orders, so that each department's
 * statistics can count the ratings of the cases it worked on. */
static int propagate_rating(call *c, const Whistle__V1__Event *ev)
{
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        Whistle__V1__Order *o;
        void *ob;
        size_t ol;
        if (order_load(c, ev->order_ids[i], &o, &ob, &ol))
            return -1;
        if (o->case_rating == ev->rating)
            continue;
        o->case_rating = ev->rating;
        if (order_save(c, o, ob, ol))
            return -1;
    }
    return 0;
}

/* Before a case is stored: its version and times, its due time at the
 * first dispatch or hand-over, and what follows it (the rating copied to
 * its orders, the supervision that its leaving a pressed state closes, the
 * statistics, the deadline rows). */
static int event_saving(call *c, Whistle__V1__Event *ev, Whistle__V1__Event **oldp)
{
    Whistle__V1__Event *old = stored_event(c, ev->ticket);
    *oldp = old;
    ev->version = (old ? old->version : 0) + 1;
    if (ev->state == ST(FILED) && !ev->filed_ms)
        ev->filed_ms = c->now;
    if (ev->state == ST(RESOLVED) && !ev->resolved_ms)
        ev->resolved_ms = c->now;
    if (ev->state == ST(CLOSED) && (!old || old->state != ST(CLOSED)))
        ev->closed_ms = c->now;
    /* The case clock starts at the first dispatch, or at the hand-over to a
     * grid or community worker. */
    if ((ev->state == ST(WHISTLED) || ev->state == ST(HANDLING)) && !ev->due_ms) {
        const deadline_policy *p = deadline_policy_of(c->st);
        Whistle__V1__TimeLimit ci, rs;
        deadline_limits(p, directory_category_get(c->st, c->txn, ev->category, c->a), ev->priority,
                        ev->state == ST(WHISTLED) ? ev->whistle_kind : 0, c->a, &ci, &rs);
        ev->due_ms = calendar_add(&p->cal, c->now, &rs);
    }
    if (old && old->rating != ev->rating && propagate_rating(c, ev))
        return -1;
    if (ev->supervision_id && ev->state != ST(HANDLING) && (!old || old->state != ev->state) &&
        supervision_close(c, ev->supervision_id, arena_printf(c->a, "case %s", event_state_name(ev->state))))
        return -1;
    if (stats_event_changed(c, old, ev))
        return -1;
    return deadline_event_changed(c, old, ev);
}

static size_t node_key(uint8_t *key, const char *node, const char *ticket)
{
    size_t nn = strlen(node), tn = strlen(ticket);
    memcpy(key, node, nn);
    key[nn] = '/';
    memcpy(key + nn + 1, ticket, tn);
    return nn + 1 + tn;
}

/* A timeline row's key: ticket | 0x00 | u32 BE index, in events since
 * schema 3 (st->ev_timeline names that database). Tickets hold no NUL, so
 * a case's entries are contiguous, in index order, right after its
 * record. */
#define TL_KEY_MAX (TICKET_MAX + 1 + 4)

static size_t tl_key(uint8_t *key, const char *ticket, uint32_t i)
{
    size_t n = strlen(ticket);
    memcpy(key, ticket, n);
    key[n] = 0;
    key[n + 1] = (uint8_t)(i >> 24);
    key[n + 2] = (uint8_t)(i >> 16);
    key[n + 3] = (uint8_t)(i >> 8);
    key[n + 4] = (uint8_t)i;
    return n + 5;
}

/* Appends the entries of ev->timeline that are not stored yet (their index
 * is timeline_from + i; stored: below the stored record's count). */
static int timeline_append(call *c, const Whistle__V1__Event *ev, uint32_t stored)
{
    uint8_t key[TL_KEY_MAX];
    if (strlen(ev->ticket) > TICKET_MAX)
        return MDB_BAD_VALSIZE;
    for (size_t i = 0; i < ev->n_timeline; i++) {
        uint32_t idx = ev->timeline_from + (uint32_t)i;
        if (idx < stored)
            continue;
        int rc =
            store_put_append(c->txn, c->st->ev_timeline, key, tl_key(key, ev->ticket, idx), &ev->timeline[i]->base);
        if (rc)
            return rc;
    }
    return 0;
}

size_t event_state_key(uint8_t *key, Whistle__V1__EventState s, const char *street, const char *ticket)
{
    size_t sn = strlen(street), tn = strlen(ticket);
    key[0] = (uint8_t)s;
    memcpy(key + 1, street, sn);
    key[sn + 1] = '/';
    memcpy(key + sn + 2, ticket, tn);
    return sn + 2 + tn;
}

int event_load(call *c, const char *ticket, Whistle__V1__Event **ev, event_snap *snap)
{
    *ev = NULL;
    ticket = str0(ticket);
    if (!*ticket)
        return call_fail(c, CODE(INVALID_ARGUMENT), "ticket is required for %s", c->name);
    if (!ident_ok(ticket, TICKET_MAX))
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "ticket is not a ticket number: tickets look like E2026112100042 (at most %d printable "
                         "characters)",
                         TICKET_MAX);
    void *bytes;
    size_t len;
    int rc = store_get_bytes(c->txn, c->st->events, ticket, strlen(ticket), c->a, &bytes, &len);
    if (rc == MDB_NOTFOUND)
        return call_fail(c, CODE(NOT_FOUND), "no case %s", ticket);
    if (rc)
        return call_store_fail(c, rc, "reading the case");
    Whistle__V1__Event *e = whistle__v1__event__unpack(arena_allocator(c->a), len, bytes);
    if (!e)
        return call_store_fail(c, MDB_CORRUPTED, "reading the case");
    /* In memory, timeline[] holds what this call appends: entry
     * timeline_from + i, after the timeline_total stored ones. */
    e->n_timeline = 0;
    e->timeline = NULL;
    e->timeline_from = e->timeline_total;
    *ev = e;
    if (snap) {
        snap->bytes = bytes;
        snap->len = len;
        snap->state = e->state;
    }
    return 0;
}

int event_save(call *c, Whistle__V1__Event *ev, const event_snap *snap)
{
    uint8_t key[EVENT_STATE_KEY_MAX > 1 + 18 + 1 + TICKET_MAX ? EVENT_STATE_KEY_MAX : 1 + 18 + 1 + TICKET_MAX];
    const char *t = ev->ticket;
    Whistle__V1__Event *old;
    /* deadline rows, statistics and supervision follow the record */
    if (event_saving(c, ev, &old))
        return -1;
    /* The new timeline entries go to their own rows; the record keeps only
     * their count, so that a change costs what it adds, not the case's
     * whole history. */
    uint32_t stored = old ? old->timeline_total : 0;
    Whistle__V1__TimelineEntry **tl = ev->timeline;
    size_t ntl = ev->n_timeline;
    uint32_t from = ev->timeline_from;
    int rc = timeline_append(c, ev, stored);
    ev->timeline = NULL;
    ev->n_timeline = 0;
    ev->timeline_total = from + (uint32_t)ntl > stored ? from + (uint32_t)ntl : stored;
    /* stored as from = total, so that a record read with store_get, not
     * event_load, appends after its entries too */
    ev->timeline_from = ev->timeline_total;
    if (!rc)
        rc = store_put(c->txn, c->st->events, t, strlen(t), &ev->base);
    MDB_val empty = { 0, "" };
    if (!rc && (!snap || snap->state != ev->state)) {
        /* the row of ev_by_state: state | street | '/' | ticket (a case
         * keeps its street) */
        if (strlen(str0(ev->street)) > EVENT_STREET_MAX)
            rc = MDB_BAD_VALSIZE;
        if (!rc && snap) {
            MDB_val k = { event_state_key(key, snap->state, str0(ev->street), t), key };
            rc = mdb_del(c->txn, c->st->ev_by_state, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0; /* a missing row is repaired by the put below */
        }
        if (!rc) {
            MDB_val k = { event_state_key(key, ev->state, str0(ev->street), t), key };
            rc = mdb_put(c->txn, c->st->ev_by_state, &k, &empty, 0);
        }
    }
    if (!rc && !snap) {
        MDB_val k = { node_key(key, ev->node, t), key };
        rc = mdb_put(c->txn, c->st->ev_by_node, &k, &empty, 0);
    }
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, t, snap ? snap->bytes : NULL,
                          snap ? snap->len : 0, &ev->base);
    /* What the answer shows: the entries this call appended. */
    ev->timeline = tl;
    ev->n_timeline = ntl;
    ev->timeline_from = from;
    if (rc)
        return call_store_fail(c, rc, "saving the case");
    /* a district of a federated city tells the city (fed_rows.h) */
    return fed_rows_case(c, old, ev);
}

void event_timeline(call *c, Whistle__V1__Event *ev, const char *action, const char *note, uint64_t order_id,
                    const char *department)
{
    Whistle__V1__TimelineEntry *t = arena_alloc(c->a, sizeof *t);
    whistle__v1__timeline_entry__init(t);
    t->at_ms = c->now;
    t->actor = (char *)str0(c->who->name);
    t->action = (char *)action;
    t->note = (char *)str0(note);
    t->state = ev->state;
    t->order_id = order_id;
    t->department = (char *)str0(department);
    Whistle__V1__TimelineEntry **tl = arena_alloc(c->a, (ev->n_timeline + 1) * sizeof *tl);
    if (ev->n_timeline)
        memcpy(tl, ev->timeline, ev->n_timeline * sizeof *tl);
    tl[ev->n_timeline] = t;
    ev->timeline = tl;
    ev->n_timeline++;
    ev->updated_ms = c->now;
}

/* ------------------------------------------------------------ replies, pushes */

/* The reporter's phone is personal data: admins and operators (who call
 * back) see it, and the principal that reported the case, unless that is a
 * kiosk: a kiosk is a shared terminal, and the next resident at it must not
 * read the last one's number (residents read their ticket with
 * lookup_ticket instead). */
static bool sees_contact(const call *c, const Whistle__V1__Event *ev)
{
    Whistle__V1__Role r = c->who->role;
    return r == ROLE(ADMIN) || r == ROLE(OPERATOR) ||
           (r != ROLE(KIOSK) && strcmp(str0(ev->reporter), str0(c->who->name)) == 0);
}

/* A window of the timeline, so that an answer always fits a frame however
 * long the case has lived: the entries before entry `before` (0: the
 * newest), at most TIMELINE_REPLY_MAX of them and TIMELINE_REPLY_BYTES
 * packed, at least one. */
#define TIMELINE_REPLY_MAX 200
#define TIMELINE_REPLY_BYTES (256 * 1024)

/* Reads the window from ev_timeline into e (whose timeline_total is the
 * stored count). 0 or a store code. */
static int timeline_window(MDB_txn *txn, MDB_dbi dbi, arena *a, Whistle__V1__Event *e, uint32_t before)
{
    uint32_t n = e->timeline_total;
    uint32_t end = before && before < n ? before : n, start = end;
    e->timeline_from = end;
    e->timeline = NULL;
    e->n_timeline = 0;
    if (end == 0 || strlen(e->ticket) > TICKET_MAX)
        return 0;
    Whistle__V1__TimelineEntry **tl =
        arena_alloc(a, (end < TIMELINE_REPLY_MAX ? end : TIMELINE_REPLY_MAX) * sizeof *tl);
    uint8_t key[TL_KEY_MAX];
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k = { tl_key(key, e->ticket, end - 1), key }, v;
    size_t bytes = 0, got = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    while (!rc && start > 0 && end - start < TIMELINE_REPLY_MAX) {
        uint8_t want[TL_KEY_MAX];
        size_t wl = tl_key(want, e->ticket, start - 1);
        if (k.mv_size != wl || memcmp(k.mv_data, want, wl) != 0) {
            rc = MDB_CORRUPTED; /* an entry below the count is missing */
            break;
        }
        if (got && bytes + v.mv_size + 4 > TIMELINE_REPLY_BYTES)
            break;
        Whistle__V1__TimelineEntry *t = whistle__v1__timeline_entry__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!t) {
            rc = MDB_CORRUPTED;
            break;
        }
        bytes += v.mv_size + 4;
        start--;
        tl[got] = t;
        got++;
        if (start > 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = MDB_CORRUPTED;
    if (rc)
        return rc;
    /* read newest first: put them in order */
    for (size_t i = 0; i < got / 2; i++) {
        Whistle__V1__TimelineEntry *x = tl[i];
        tl[i] = tl[got - 1 - i];
        tl[got - 1 - i] = x;
    }
    e->timeline = tl;
    e->n_timeline = got;
    e->timeline_from = start;
    return 0;
}

int event_history(call *c, const Whistle__V1__Event *ev, size_t max, Whistle__V1__TimelineEntry ***out, size_t *n)
{
    Whistle__V1__Event e = *ev;
    int rc = timeline_window(c->txn, c->st->ev_timeline, c->a, &e, 0);
    if (rc)
        return call_store_fail(c, rc, "reading the timeline");
    size_t skip = e.n_timeline > max ? e.n_timeline - max : 0;
    *out = e.timeline + skip;
    *n = e.n_timeline - skip;
    return 0;
}

/* A copy of the case for an answer or a push. timeline: whether it carries
 * entries: in a write, the ones this call appended (a short tail, whatever
 * the case's length, so that an answer and its idempotency record stay
 * small and always fit a frame); in a read, the window before `before`
 * read from the store. Pushes carry none (timeline_total and timeline_from
 * 0). */
static Whistle__V1__Event *event_copy(call *c, const Whistle__V1__Event *ev, bool keep_contact, bool timeline,
                                      uint32_t before)
{
    Whistle__V1__Event *e = arena_alloc(c->a, sizeof *e);
    *e = *ev;
    if (!keep_contact)
        e->contact = (char *)"";
    /* Photos: the count always; the summaries with the timeline only (a
     * listing or a push stays small); where they were taken only to staff. */
    e->photo_count = (uint32_t)ev->n_photos;
    if (!timeline) {
        e->photos = NULL;
        e->n_photos = 0;
    } else if (ev->n_photos && !photo_staff_role(c->who->role)) {
        e->photos = arena_alloc(c->a, ev->n_photos * sizeof *e->photos);
        for (size_t i = 0; i < ev->n_photos; i++) {
            Whistle__V1__PhotoAttachment *p = arena_alloc(c->a, sizeof *p);
            *p = *ev->photos[i];
            p->has_location = false;
            p->lat = p->lon = 0;
            e->photos[i] = p;
        }
    }
    if (timeline && !c->touched) {
        int rc = timeline_window(c->txn, c->st->ev_timeline, c->a, e, before);
        if (rc) {
            call_store_fail(c, rc, "reading the timeline");
            e->timeline = NULL;
            e->n_timeline = 0;
        }
    } else if (!timeline) {
        e->n_timeline = 0;
        e->timeline = NULL;
        e->timeline_total = 0;
        e->timeline_from = 0;
    }
    return e;
}

Whistle__V1__Event *event_for_reply(call *c, const Whistle__V1__Event *ev, bool with_timeline)
{
    return event_copy(c, ev, sees_contact(c, ev), with_timeline, 0);
}

void event_reply(call *c, const Whistle__V1__Event *ev) { event_reply_page(c, ev, 0); }

void event_reply_page(call *c, const Whistle__V1__Event *ev, uint32_t before)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_EVENT;
    c->resp->event = event_copy(c, ev, sees_contact(c, ev), true, before);
    /* A read that hands out the phone is audited (a write's answer is the
     * writer's own change, audited with it). */
    if (!c->touched && *str0(c->resp->event->contact))
        call_read_personal(c, ev->ticket, "contact");
}

int event_push_to(call *c, const char *stream, const Whistle__V1__Event *ev, bool keep_contact, const char *action,
                  const Whistle__V1__Order *order)
{
    Whistle__V1__Push *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__push__init(p);
    p->action = (char *)action;
    p->actor = (char *)str0(c->who->name);
    /* Pushes carry the case without its timeline, to stay small. */
    p->event = ev ? event_copy(c, ev, keep_contact, false, 0) : NULL;
    p->order = (Whistle__V1__Order *)order;
    int rc = stream_append(c->st, c->txn, stream, c->now, p, c->touched);
    return rc ? call_store_fail(c, rc, "appending a push") : 0;
}

/* The reporter's own stream, for the roles that follow their cases; and
 * whether its readers may see the phone. A kiosk follows nothing: it is a
 * shared terminal, and a stream of the cases reported at it would hand one
 * resident's case to whoever stands there next (residents follow theirs
 * with lookup_ticket). */
static const char *reporter_stream_ex(call *c, const Whistle__V1__Event *ev, bool *keep_contact)
{
    if (keep_contact)
        *keep_contact = true;
    if (!*str0(ev->reporter))
        return NULL;
    Whistle__V1__Principal *p = directory_principal_get(c->st, c->txn, ev->reporter, c->a);
    if (!p)
        return NULL;
    if (keep_contact)
        *keep_contact = p->role != ROLE(KIOSK);
    switch (p->role) {
    case ROLE(GRID_WORKER):
    case ROLE(COMMUNITY):
    case ROLE(INTEGRATION):
    case ROLE(SENSOR): return arena_printf(c->a, "principal:%s", ev->reporter);
    default: return NULL;
    }
}

const char *event_reporter_stream(call *c, const Whistle__V1__Event *ev) { return reporter_stream_ex(c, ev, NULL); }

int event_push(call *c, const Whistle__V1__Event *ev, const char *action, const Whistle__V1__Order *order)
{
    if (event_push_to(c, arena_printf(c->a, "street:%s", ev->street), ev, true, action, order))
        return -1;
    bool keep;
    const char *rs = reporter_stream_ex(c, ev, &keep);
    if (rs && event_push_to(c, rs, ev, keep, action, order))
        return -1;
    return event_push_followers(c, ev, action, order);
}

bool event_is_follower(const Whistle__V1__Event *ev, const char *name)
{
    for (size_t i = 0; name && *name && i < ev->n_followers; i++)
        if (strcmp(str0(ev->followers[i]), name) == 0)
            return true;
    return false;
}

int event_push_followers(call *c, const Whistle__V1__Event *ev, const char *action, const Whistle__V1__Order *order)
{
    for (size_t i = 0; i < ev->n_followers; i++) {
        const char *f = str0(ev->followers[i]);
        if (!*f || strcmp(f, str0(ev->reporter)) == 0)
            continue;
        Whistle__V1__Principal *p = directory_principal_get(c->st, c->txn, f, c->a);
        if (!p)
            continue;
        switch (p->role) {
        case ROLE(GRID_WORKER): /* not a kiosk: see reporter_stream_ex in event.c */
        case ROLE(COMMUNITY):
        case ROLE(INTEGRATION):
        case ROLE(SENSOR):
            if (event_push_to(c, arena_printf(c->a, "principal:%s", f), ev, false, action, order))
                return -1;
            break;
        default: break;
        }
    }
    return 0;
}

Whistle__V1__Event *event_load_for_operator(call *c, const char *ticket, event_snap *snap)
{
    Whistle__V1__Event *ev;
    if (authz_check(c, str0(ticket)) || event_load(c, ticket, &ev, snap) || authz_operator_case(c, ev))
        return NULL;
    return ev;
}
