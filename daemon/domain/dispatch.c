/* dispatch.c: see dispatch.h. */
#include "dispatch.h"
#include "authz.h"
#include "field_limits.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "deadline_rows.h"
#include "directory.h"
#include "order_record.h"
#include "photo_record.h"

#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define MAX_DEPARTMENTS 32

static bool active(const Whistle__V1__Order *o)
{
    return o->state == OS(PENDING) || o->state == OS(CHECKED_IN) || o->state == OS(DONE);
}

/* The order as a department reads it in a push: the case's contact is not
 * in an order, so nothing to blank. */
static int push_dept(call *c, const Whistle__V1__Event *ev, const Whistle__V1__Order *o, const char *action)
{
    return event_push_to(c, arena_printf(c->a, "dept:%s", o->department), ev, false, action, o);
}

/* ------------------------------------------------------------ whistle */

void dispatch_whistle(call *c, const Whistle__V1__WhistleEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev;
    if (authz_check(c, str0(req->ticket)) || event_load(c, req->ticket, &ev, &snap) || event_allow(c, ev))
        return;
    if (check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (ev->state != ES(FILED) && ev->state != ES(HANDLING) && ev->state != ES(WHISTLED)) {
        event_wrong_state(c, ev, "filed, handling or whistled");
        return;
    }
    size_t nd = req->n_departments;
    if (nd == 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "departments is required: whom to whistle (e.g. police, urban)");
        return;
    }
    if (nd > MAX_DEPARTMENTS) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu departments; one whistle reaches at most %d", nd, MAX_DEPARTMENTS);
        return;
    }
    for (size_t i = 0; i < nd; i++) {
        const char *d = str0(req->departments[i]);
        if (!ident_ok(d, 32)) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "departments[%zu] is not a department code (1 to 32 printable characters, no spaces)", i);
            return;
        }
        Whistle__V1__Department *dep = directory_department_get(c->st, c->txn, d, c->a);
        if (!dep) {
            call_fail(c, CODE(INVALID_ARGUMENT), "no department \"%s\"; list_departments shows them", d);
            return;
        }
        if (!directory_serves(dep->scope, ev->node)) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "department %s serves district %s; case %s is at %s, outside it (list_departments shows the "
                      "departments of your district)",
                      d, dep->scope, ev->ticket, ev->node);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(d, req->departments[j]) == 0) {
                call_fail(c, CODE(INVALID_ARGUMENT), "department %s is named twice", d);
                return;
            }
    }
    if (req->kind < 0 || req->kind > WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind %d is not a whistle kind (1 routine, 2 tackle, 3 emergency)",
                  req->kind);
        return;
    }

    /* Re-dispatch (改派) goes to departments without a live order. */
    Whistle__V1__Order **old = arena_alloc(c->a, (ev->n_order_ids + 1) * sizeof *old);
    void **old_bytes = arena_alloc(c->a, (ev->n_order_ids + 1) * sizeof *old_bytes);
    size_t *old_len = arena_alloc(c->a, (ev->n_order_ids + 1) * sizeof *old_len);
    char *busy = NULL;
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        void *b;
        size_t l;
        if (order_load(c, ev->order_ids[i], &old[i], &b, &l))
            return;
        old_bytes[i] = b;
        old_len[i] = l;
        if (!active(old[i]))
            continue;
        for (size_t j = 0; j < nd; j++)
            if (strcmp(old[i]->department, req->departments[j]) == 0)
                busy = busy ? arena_printf(c->a, "%s, %s", busy, old[i]->department)
                            : arena_strdup(c->a, old[i]->department);
    }
    if (busy) {
        call_fail(c, CODE(ALREADY_EXISTS),
                  "case %s already has a live order for %s; re-dispatch goes to other departments", ev->ticket, busy);
        return;
    }

    /* The lead (首接负责): named, or kept from an earlier whistle while its
     * order is live, or the first department named now. */
    const char *lead = str0(req->lead);
    if (*lead) {
        bool named = false;
        for (size_t j = 0; j < nd; j++)
            named |= strcmp(lead, req->departments[j]) == 0;
        if (!named) {
            call_fail(c, CODE(INVALID_ARGUMENT), "lead \"%.40s\" is not one of the departments whistled", lead);
            return;
        }
    } else {
        lead = req->departments[0];
        for (size_t i = 0; i < ev->n_order_ids; i++)
            if (active(old[i]) && old[i]->lead)
                lead = old[i]->department;
    }
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        if (old[i]->lead && active(old[i]) && strcmp(old[i]->department, lead) != 0) {
            old[i]->lead = false;
            if (order_save(c, old[i], old_bytes[i], old_len[i]))
                return;
        }
    }

    Whistle__V1__WhistleKind kind = req->kind ? req->kind : WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_ROUTINE;
    Whistle__V1__Order **orders = arena_alloc(c->a, nd * sizeof *orders);
    uint64_t *ids = arena_alloc(c->a, (ev->n_order_ids + nd) * sizeof *ids);
    if (ev->n_order_ids)
        memcpy(ids, ev->order_ids, ev->n_order_ids * sizeof *ids);

    ev->state = ES(WHISTLED);
    ev->whistle_kind = kind;
    ev->lead_department = (char *)lead;
    event_timeline(c, ev, "whistle", req->note, 0, NULL);
    for (size_t j = 0; j < nd; j++) {
        uint64_t id;
        int rc = store_next_seq(c->txn, c->st, "order_seq", &id);
        if (rc) {
            call_store_fail(c, rc, "numbering the order");
            return;
        }
        Whistle__V1__Order *o = arena_alloc(c->a, sizeof *o);
        whistle__v1__order__init(o);
        o->id = id;
        o->ticket = ev->ticket;
        o->department = req->departments[j];
        o->state = OS(PENDING);
        o->lead = strcmp(o->department, lead) == 0;
        o->kind = kind;
        o->note = (char *)str0(req->note);
        o->street = ev->street;
        o->node = ev->node;
        o->category = ev->category;
        o->description = ev->description;
        o->priority = ev->priority;
        o->created_ms = c->now;
        if (deadline_order_init(c, ev, o) || order_save(c, o, NULL, 0))
            return;
        orders[j] = o;
        ids[ev->n_order_ids + j] = id;
        event_timeline(c, ev, "dispatch", o->lead ? "lead" : "", id, o->department);
    }
    ev->order_ids = ids;
    ev->n_order_ids += nd;
    if (event_save(c, ev, &snap) || event_push(c, ev, "whistle", NULL))
        return;
    /* Each new order goes to its department and to the street's feed: a
     * command center follows every order of its street (a desk that did
     * not whistle it too), as it follows their check-ins and feedback. */
    const char *street = arena_printf(c->a, "street:%s", ev->street);
    for (size_t j = 0; j < nd; j++)
        if (push_dept(c, ev, orders[j], "dispatch") || event_push_to(c, street, ev, true, "dispatch", orders[j]))
            return;

    Whistle__V1__WhistleResult *wr = arena_alloc(c->a, sizeof *wr);
    whistle__v1__whistle_result__init(wr);
    wr->event = event_for_reply(c, ev, true);
    wr->orders = orders;
    wr->n_orders = nd;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_WHISTLE;
    c->resp->whistle = wr;
}

/* ------------------------------------------------------------ proposal */

/* What the catalogue (权责清单) says for a case: its minor class's
 * departments, most responsible first and leading, minus those that already
 * hold a live order on the case (a re-dispatch goes to others), and the
 * time limits for its priority. A proposal only: the operator whistles
 * whom it decides. */
void dispatch_propose(call *c, const Whistle__V1__ProposeDepartments *req)
{
    const char *cat = str0(req->category);
    Whistle__V1__Priority prio = req->priority;
    Whistle__V1__Event *ev = NULL;
    if (*str0(req->ticket)) {
        if (event_load(c, req->ticket, &ev, NULL) || event_allow(c, ev))
            return;
        cat = ev->category;
        prio = ev->priority;
    } else if (!digits_ok(cat, 4)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "give a ticket, or a category: 4 digits, major + minor (e.g. 0101)");
        return;
    }
    if (prio < 0 || prio > WHISTLE__V1__PRIORITY__PRIORITY_URGENT) {
        call_fail(c, CODE(INVALID_ARGUMENT), "priority %d is out of range (1 low .. 4 urgent)", prio);
        return;
    }
    Whistle__V1__Category *k = directory_category_get(c->st, c->txn, cat, c->a);
    /* where the proposal is for: the case's place, else the caller's (an
     * admin asking without a ticket: anywhere) */
    const char *place = ev ? ev->node : str0(c->who->scope);
    bool anywhere = !ev && c->who->role == ROLE(ADMIN);
    if (!k || (!anywhere && !directory_serves(k->scope, place))) {
        call_fail(c, CODE(NOT_FOUND), "no category %s in the catalogue%s", cat, k ? " of this district" : "");
        return;
    }
    Whistle__V1__DepartmentProposal *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__department_proposal__init(p);
    p->category = k->code;
    p->departments = arena_alloc(c->a, (k->n_departments + 1) * sizeof *p->departments);
    for (size_t i = 0; i < k->n_departments; i++) {
        bool busy = false;
        for (size_t j = 0; ev && j < ev->n_order_ids && !busy; j++) {
            Whistle__V1__Order *o = order_get(c, ev->order_ids[j]);
            busy = o && active(o) && strcmp(o->department, k->departments[i]) == 0;
        }
        /* only departments that serve the place: a category of the whole
         * city may name each district's own */
        Whistle__V1__Department *dep = directory_department_get(c->st, c->txn, k->departments[i], c->a);
        bool serves = dep && (anywhere || directory_serves(dep->scope, place));
        if (!busy && serves)
            p->departments[p->n_departments++] = k->departments[i];
    }
    p->lead = p->n_departments ? p->departments[0] : (char *)"";
    p->limits = directory_limits_for(k, prio, c->a);
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_PROPOSAL;
    c->resp->proposal = p;
}

/* ------------------------------------------------------------ order actions */

static const char *order_allowed(const Whistle__V1__Order *o)
{
    switch (o->state) {
    case OS(PENDING): return "check_in, return";
    case OS(CHECKED_IN): return "feedback, return";
    case OS(DONE): return "nothing (done; a failed verification reopens it)";
    case OS(RETURNED): return "nothing (returned is final; the street re-dispatches)";
    default: return "nothing";
    }
}

/* Loads the order and its case for an order action, with every check that
 * does not depend on the action's own state rule. */
int dispatch_order_begin(call *c, uint64_t id, order_work *w)
{
    if (authz_check(c, order_target(c, id)) || order_load(c, id, &w->o, &w->ob, &w->ol))
        return -1;
    if (c->who->role != ROLE(ADMIN) && strcmp(w->o->department, str0(c->who->department)) != 0)
        return call_deny(c, order_target(c, id),
                         "order %llu belongs to %s, not to your department %s (rule: a department acts on its "
                         "own orders only)",
                         (unsigned long long)id, w->o->department, str0(c->who->department));
    if (event_load(c, w->o->ticket, &w->ev, &w->snap)) {
        if (c->resp->status && c->resp->status->code == CODE(NOT_FOUND))
            return call_fail(c, CODE(DATA_LOSS), "order %llu names case %s, which is missing", (unsigned long long)id,
                             w->o->ticket);
        return -1;
    }
    return 0;
}

int dispatch_order_save(call *c, order_work *w)
{
    return order_save(c, w->o, w->ob, w->ol) || event_save(c, w->ev, &w->snap) ? -1 : 0;
}

int dispatch_order_wrong_state(call *c, const Whistle__V1__Order *o, const char *needs)
{
    return call_fail(c, CODE(FAILED_PRECONDITION), "order %llu is %s; %s needs %s. Allowed now: %s",
                     (unsigned long long)o->id, order_state_name(o->state), c->name, needs, order_allowed(o));
}

/* After an order reached done or returned: the case is resolved when every
 * non-returned order is done and one at least is. */
static bool all_done(call *c, const Whistle__V1__Event *ev, const Whistle__V1__Order *changed)
{
    size_t done = 0;
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        const Whistle__V1__Order *o = ev->order_ids[i] == changed->id ? changed : order_get(c, ev->order_ids[i]);
        if (!o)
            return false;
        if (o->state == OS(DONE))
            done++;
        else if (o->state != OS(RETURNED))
            return false;
    }
    return done > 0;
}

static void order_finish(call *c, order_work *w, const char *note)
{
    Whistle__V1__Order *o = w->o;
    Whistle__V1__Event *ev = w->ev;
    event_timeline(c, ev, c->name, note, o->id, o->department);
    bool resolved = false;
    if ((o->state == OS(DONE) || o->state == OS(RETURNED)) && ev->state == ES(WHISTLED) && all_done(c, ev, o)) {
        ev->state = ES(RESOLVED);
        event_timeline(c, ev, "resolved", "every department has fed back", 0, NULL);
        resolved = true;
    }
    if (dispatch_order_save(c, w) || push_dept(c, ev, o, c->name) || event_push(c, ev, c->name, o))
        return;
    if (resolved && event_push(c, ev, "resolved", NULL))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ORDER;
    c->resp->order = o;
}

void dispatch_check_in(call *c, const Whistle__V1__CheckIn *req)
{
    order_work w;
    if (dispatch_order_begin(c, req->order_id, &w) || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (w.o->state != OS(PENDING)) {
        dispatch_order_wrong_state(c, w.o, "pending");
        return;
    }
    w.o->state = OS(CHECKED_IN);
    w.o->checked_in_ms = c->now;
    order_finish(c, &w, req->note);
}

void dispatch_feedback(call *c, const Whistle__V1__Feedback *req)
{
    order_work w;
    if (dispatch_order_begin(c, req->order_id, &w) || check_text(c, "text", req->text, FEEDBACK_MAX, true))
        return;
    if (w.o->state != OS(CHECKED_IN)) {
        dispatch_order_wrong_state(c, w.o, "checked_in");
        return;
    }
    /* The photos of the work done go on the case (all its photos, in
     * order) and on the order (its feedback's). */
    size_t had = w.ev->n_photos;
    photo_owner ow = { .ticket = w.ev->ticket, .order_id = w.o->id };
    if (photo_attach(c, req->photos, req->n_photos, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_FEEDBACK, &ow, &w.ev->photos,
                     &w.ev->n_photos))
        return;
    if (w.ev->n_photos > had) {
        size_t add = w.ev->n_photos - had;
        Whistle__V1__PhotoAttachment **op = arena_alloc(c->a, (w.o->n_photos + add) * sizeof *op);
        if (w.o->n_photos)
            memcpy(op, w.o->photos, w.o->n_photos * sizeof *op);
        memcpy(op + w.o->n_photos, w.ev->photos + had, add * sizeof *op);
        w.o->photos = op;
        w.o->n_photos += add;
    }
    w.o->state = OS(DONE);
    w.o->done_ms = c->now;
    w.o->feedback = (char *)str0(req->text);
    order_finish(c, &w, req->text);
}

void dispatch_return(call *c, const Whistle__V1__ReturnOrder *req)
{
    order_work w;
    if (dispatch_order_begin(c, req->order_id, &w) || check_text(c, "reason", req->reason, NOTE_MAX, true))
        return;
    if (w.o->state != OS(PENDING) && w.o->state != OS(CHECKED_IN)) {
        dispatch_order_wrong_state(c, w.o, "pending or checked_in");
        return;
    }
    w.o->state = OS(RETURNED);
    w.o->returned_ms = c->now;
    w.o->return_reason = (char *)str0(req->reason);
    order_finish(c, &w, req->reason);
}

int dispatch_rework(call *c, const Whistle__V1__Event *ev) { return dispatch_rework_as(c, ev, "rework"); }

int dispatch_rework_as(call *c, const Whistle__V1__Event *ev, const char *action)
{
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        Whistle__V1__Order *o;
        void *ob;
        size_t ol;
        if (order_load(c, ev->order_ids[i], &o, &ob, &ol))
            return -1;
        if (o->state != OS(DONE))
            continue;
        o->state = OS(CHECKED_IN);
        o->done_ms = 0;
        o->rework_count++;
        deadline_order_restart(c, o);
        if (order_save(c, o, ob, ol) || push_dept(c, ev, o, action))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ list */

typedef struct order_filter {
    const char *department; /* "" any */
    const char *scope;      /* "" any */
    Whistle__V1__OrderState state;
} order_filter;

static bool order_matches(const order_filter *f, const Whistle__V1__Order *o)
{
    if (*f->department && strcmp(o->department, f->department) != 0)
        return false;
    if (*f->scope && !scope_covers(f->scope, o->node))
        return false;
    return !f->state || o->state == f->state;
}

/* Adds o to the page; returns true when the page is full and o is proof
 * that another page follows. */
static bool page_add(call *c, ptr_vec *out, uint32_t limit, Whistle__V1__Order *o)
{
    if (out->n == limit)
        return true;
    ptr_vec_push(c->a, out, o);
    return false;
}

/* Rows a listing reads for one page at most: a filter that matches
 * little ends the page early, with a cursor to go on, rather than walk
 * the city on the loop thread. */
#define LIST_SCAN_MAX 1000

/* Pages through an index whose rows are prefix | u64 BE id (ids above
 * after_id, in order), adding the orders that match f; *more when a row
 * past the page exists. A scan that reads LIST_SCAN_MAX rows stops: then
 * *resume is the last id read (the next page starts after it). 0 or an
 * MDB code. */
static int scan_ids(call *c, MDB_dbi dbi, const uint8_t *prefix, size_t plen, uint64_t after_id, const order_filter *f,
                    uint32_t limit, ptr_vec *out, bool *more, uint64_t *resume)
{
    uint8_t key[ORDER_STATE_KEY_MAX + 8];
    if (plen > ORDER_STATE_KEY_MAX)
        return 0;
    memcpy(key, prefix, plen);
    store_be64(key + plen, after_id == UINT64_MAX ? UINT64_MAX : after_id + 1);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k = { plen + 8, key }, v;
    size_t seen = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !*more;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        uint64_t id = store_get_be64((uint8_t *)k.mv_data + plen);
        if (id <= after_id)
            continue;
        if (++seen > LIST_SCAN_MAX) {
            *resume = id - 1;
            break;
        }
        Whistle__V1__Order *o = order_get(c, id);
        if (o && order_matches(f, o))
            *more = page_add(c, out, limit, o);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A page of the orders under code in an index of code | '/' | group of
 * the state | id (ord_by_dept, ord_by_street_state; order_record.h): of
 * one state's group, or of every group with the groups merged in id order
 * (each read for at most a page and one more); the filter keeps the
 * state's. Same outputs as scan_ids. */
static int scan_states(call *c, MDB_dbi dbi, const char *code, Whistle__V1__OrderState state, uint64_t after_id,
                       const order_filter *f, uint32_t limit, ptr_vec *out, bool *more, uint64_t *resume)
{
    if (strlen(code) > ORDER_CODE_MAX)
        return 0;
    ptr_vec part[OS(RETURNED) + 1] = { { 0 } };
    bool pmore[OS(RETURNED) + 1] = { false };
    int rc = 0;
    for (int s = OS(PENDING); !rc && s <= OS(RETURNED); s++) {
        /* s is a group: pending's holds the checked-in too */
        if ((int)order_state_group((Whistle__V1__OrderState)s) != s || (state && (int)order_state_group(state) != s))
            continue;
        uint8_t pre[ORDER_STATE_KEY_MAX];
        size_t pl = order_state_key(pre, code, (Whistle__V1__OrderState)s, 0) - 8;
        uint64_t r = 0;
        rc = scan_ids(c, dbi, pre, pl, after_id, f, limit, &part[s], &pmore[s], &r);
        if (r && (!*resume || r < *resume))
            *resume = r; /* a state's scan stopped short: go on from the lowest */
    }
    size_t at[OS(RETURNED) + 1] = { 0 };
    while (out->n < limit) {
        int best = 0;
        for (int s = OS(PENDING); s <= OS(RETURNED); s++)
            if (at[s] < part[s].n && (!best || ((Whistle__V1__Order *)part[s].items[at[s]])->id <
                                                   ((Whistle__V1__Order *)part[best].items[at[best]])->id))
                best = s;
        if (!best)
            break;
        Whistle__V1__Order *o = part[best].items[at[best]];
        if (*resume && o->id > *resume)
            break;
        at[best]++;
        ptr_vec_push(c->a, out, o);
    }
    *more = *resume != 0;
    for (int s = OS(PENDING); s <= OS(RETURNED); s++)
        *more |= at[s] < part[s].n || pmore[s];
    return rc;
}

void dispatch_list_orders(call *c, const Whistle__V1__ListOrders *req)
{
    const char *dept = str0(req->department), *ticket = str0(req->ticket);
    if (authz_check(c, *ticket ? ticket : dept))
        return;
    if (req->state < 0 || req->state > OS(RETURNED)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "state %d is not an order state (1 pending .. 4 returned)", req->state);
        return;
    }
    const Whistle__V1__Principal *w = c->who;
    if (w->role == ROLE(DEPARTMENT)) {
        if (*dept && strcmp(dept, str0(w->department)) != 0) {
            call_deny(c, dept,
                      "department %s may not list the orders of %s (rule: a department lists its own "
                      "orders only)",
                      str0(w->department), dept);
            return;
        }
        dept = str0(w->department);
    }
    if (*dept && !ident_ok(dept, 32)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "department is not a department code (1 to 32 printable characters)");
        return;
    }
    if (*dept && !directory_department_get(c->st, c->txn, dept, c->a)) {
        call_fail(c, CODE(NOT_FOUND), "no department \"%s\"", dept);
        return;
    }
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;
    order_filter f = { .department = dept,
                       .scope = w->role == ROLE(OPERATOR) ? str0(w->scope) : "",
                       .state = req->state };
    ptr_vec out = { 0 };
    bool more = false;
    uint64_t resume = 0; /* set when a scan stopped at its cap: where to go on */
    int rc = 0;

    if (*ticket) {
        Whistle__V1__Event *ev;
        if (event_load(c, ticket, &ev, NULL))
            return;
        /* Operators by scope; a department sees its own orders of a case. */
        if (w->role == ROLE(OPERATOR) && event_allow(c, ev))
            return;
        if (w->role == ROLE(DEPARTMENT) && event_allow(c, ev))
            return;
        for (size_t i = 0; i < ev->n_order_ids && !more; i++) {
            if (ev->order_ids[i] <= req->after_id)
                continue;
            Whistle__V1__Order *o = order_get(c, ev->order_ids[i]);
            if (o && order_matches(&f, o))
                more = page_add(c, &out, limit, o);
        }
    } else if (*dept) {
        /* a department's orders: its rows of the state, or of every state
         * merged in id order */
        rc = scan_states(c, c->st->ord_by_dept, dept, req->state, req->after_id, &f, limit, &out, &more, &resume);
    } else if (strlen(f.scope) >= 9) {
        /* an operator's street, likewise */
        char street[10];
        memcpy(street, f.scope, 9);
        street[9] = 0;
        rc = scan_states(c, c->st->ord_by_street_state, street, req->state, req->after_id, &f, limit, &out, &more,
                         &resume);
    } else {
        uint8_t key[8];
        store_be64(key, req->after_id == UINT64_MAX ? UINT64_MAX : req->after_id + 1);
        MDB_cursor *cur;
        rc = mdb_cursor_open(c->txn, c->st->orders, &cur);
        if (rc) {
            call_store_fail(c, rc, "listing orders");
            return;
        }
        MDB_val k = { 8, key }, v;
        size_t seen = 0;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !more;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 8 || store_get_be64(k.mv_data) <= req->after_id)
                continue;
            if (++seen > LIST_SCAN_MAX) {
                resume = store_get_be64(k.mv_data) - 1;
                break;
            }
            Whistle__V1__Order *o = whistle__v1__order__unpack(arena_allocator(c->a), v.mv_size, v.mv_data);
            if (!o) {
                rc = MDB_CORRUPTED;
                break;
            }
            if (order_matches(&f, o))
                more = page_add(c, &out, limit, o);
        }
        mdb_cursor_close(cur);
    }
    if (rc && rc != MDB_NOTFOUND) {
        call_store_fail(c, rc, "listing orders");
        return;
    }
    Whistle__V1__OrderList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__order_list__init(list);
    list->orders = (Whistle__V1__Order **)out.items;
    list->n_orders = out.n;
    if (more && out.n)
        list->next_after_id = ((Whistle__V1__Order *)out.items[out.n - 1])->id;
    else if (resume)
        list->next_after_id = resume; /* the page stopped at the scan's cap */
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ORDERS;
    c->resp->orders = list;
}
