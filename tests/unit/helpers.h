/* helpers.h: a real store in a temp dir, and calls made the way the router
 * (reads) and the writer (writes: a nested transaction per call, aborted on
 * a non-OK status) make them. Each Criterion test runs in its own process,
 * so the fixture state below is per test. */
#ifndef WHISTLE_TEST_HELPERS_H
#define WHISTLE_TEST_HELPERS_H

#include "api.h"
#include "helpers_store.h"

/* A fresh store with the small fixture seeded. */
static void h_setup(void)
{
    h_setup_empty();
    char err[512] = "";
    int rc = api_seed(h_st, SEED_SMALL, T0, err, sizeof err);
    cr_assert_eq(rc, 0, "seed: %s", err);
}

/* ------------------------------------------------------------ calls */

static Whistle__V1__Request *h_req(void)
{
    Whistle__V1__Request *r = arena_alloc(h_a, sizeof *r);
    whistle__v1__request__init(r);
    r->id = 1;
    return r;
}

static Whistle__V1__Principal *h_who(MDB_txn *txn, const char *name)
{
    Whistle__V1__Principal *p = api_principal(h_st, txn, name, h_a);
    cr_assert(p, "no principal %s in the fixture", name);
    return p;
}

/* Runs a write as the writer does; returns the response (in h_a). */
static Whistle__V1__Response *h_write(const char *who, Whistle__V1__Request *req)
{
    MDB_txn *txn, *child;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Principal *p = h_who(txn, who);
    cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &child), 0);
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    stream_touched touched = { 0 };
    api_write(h_st, child, p, req, h_now, h_a, resp, &touched);
    cr_assert(resp->status, "api_write left no status");
    if (resp->status->code == WHISTLE__V1__STATUS__CODE__OK)
        cr_assert_eq(mdb_txn_commit(child), 0);
    else
        mdb_txn_abort(child);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&touched);
    h_now += 1000;
    return resp;
}

static Whistle__V1__Response *h_read(const char *who, Whistle__V1__Request *req)
{
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert(txn);
    Whistle__V1__Principal *p = h_who(txn, who);
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    api_read(h_st, txn, p, req, h_now, h_a, resp);
    store_read_end(h_st);
    cr_assert(resp->status, "api_read left no status");
    return resp;
}

static int h_code(const Whistle__V1__Response *r) { return r->status ? (int)r->status->code : -1; }
static const char *h_msg(const Whistle__V1__Response *r)
{
    return r->status && r->status->message ? r->status->message : "";
}

#define assert_ok(r) cr_assert_eq(h_code(r), 0, "expected OK, got %d: %s", h_code(r), h_msg(r))
#define assert_code(r, c)                                                                                              \
    cr_assert_eq(h_code(r), WHISTLE__V1__STATUS__CODE__##c, "expected " #c ", got %d: %s", h_code(r), h_msg(r))
#define assert_msg_has(r, s) cr_assert(strstr(h_msg(r), s), "message \"%s\" lacks \"%s\"", h_msg(r), s)

/* ------------------------------------------------------------ request builders */

static Whistle__V1__Request *rq_report(const char *node, const char *cat, const char *desc)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    r->report = NEW(Whistle__V1__ReportEvent, whistle__v1__report_event__init);
    r->report->node = arena_strdup(h_a, node);
    r->report->category = arena_strdup(h_a, cat);
    r->report->description = arena_strdup(h_a, desc);
    return r;
}

static Whistle__V1__Request *rq_ticket(Whistle__V1__Request__CallCase cc, const char *ticket)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = cc;
    char *t = arena_strdup(h_a, ticket);
    switch (cc) {
    case WHISTLE__V1__REQUEST__CALL_GET_EVENT:
        r->get_event = NEW(Whistle__V1__GetEvent, whistle__v1__get_event__init);
        r->get_event->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_FILE:
        r->file = NEW(Whistle__V1__FileEvent, whistle__v1__file_event__init);
        r->file->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_REJECT:
        r->reject = NEW(Whistle__V1__RejectEvent, whistle__v1__reject_event__init);
        r->reject->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_ASSIGN:
        r->assign = NEW(Whistle__V1__AssignEvent, whistle__v1__assign_event__init);
        r->assign->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_RESOLVE:
        r->resolve = NEW(Whistle__V1__ResolveEvent, whistle__v1__resolve_event__init);
        r->resolve->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_VERIFY:
        r->verify = NEW(Whistle__V1__VerifyEvent, whistle__v1__verify_event__init);
        r->verify->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_CLOSE:
        r->close = NEW(Whistle__V1__CloseEvent, whistle__v1__close_event__init);
        r->close->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_RATE:
        r->rate = NEW(Whistle__V1__RateEvent, whistle__v1__rate_event__init);
        r->rate->ticket = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_WHISTLE:
        r->whistle = NEW(Whistle__V1__WhistleEvent, whistle__v1__whistle_event__init);
        r->whistle->ticket = t;
        break;
    default: cr_assert_fail("rq_ticket: call %d", cc);
    }
    return r;
}
#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

static Whistle__V1__Request *rq_whistle(const char *ticket, int n, ...)
{
    Whistle__V1__Request *r = rq_ticket(CALL(WHISTLE), ticket);
    r->whistle->n_departments = (size_t)n;
    r->whistle->departments = arena_alloc(h_a, (size_t)n * sizeof(char *) + 1);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        r->whistle->departments[i] = arena_strdup(h_a, va_arg(ap, const char *));
    va_end(ap);
    return r;
}

static Whistle__V1__Request *rq_order(Whistle__V1__Request__CallCase cc, uint64_t id, const char *text)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = cc;
    char *t = arena_strdup(h_a, text ? text : "");
    switch (cc) {
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN:
        r->check_in = NEW(Whistle__V1__CheckIn, whistle__v1__check_in__init);
        r->check_in->order_id = id;
        r->check_in->note = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK:
        r->feedback = NEW(Whistle__V1__Feedback, whistle__v1__feedback__init);
        r->feedback->order_id = id;
        r->feedback->text = t;
        break;
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER:
        r->return_order = NEW(Whistle__V1__ReturnOrder, whistle__v1__return_order__init);
        r->return_order->order_id = id;
        r->return_order->reason = t;
        break;
    default: cr_assert_fail("rq_order: call %d", cc);
    }
    return r;
}

static Whistle__V1__Request *rq_list_events(int state, const char *node, uint32_t limit, const char *cursor)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_EVENTS);
    r->list_events = NEW(Whistle__V1__ListEvents, whistle__v1__list_events__init);
    r->list_events->state = state;
    r->list_events->node = arena_strdup(h_a, node ? node : "");
    r->list_events->limit = limit;
    r->list_events->cursor = arena_strdup(h_a, cursor ? cursor : "");
    return r;
}

static Whistle__V1__Request *rq_list_orders(const char *dept, const char *ticket, uint32_t limit, uint64_t after)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_ORDERS);
    r->list_orders = NEW(Whistle__V1__ListOrders, whistle__v1__list_orders__init);
    r->list_orders->department = arena_strdup(h_a, dept ? dept : "");
    r->list_orders->ticket = arena_strdup(h_a, ticket ? ticket : "");
    r->list_orders->limit = limit;
    r->list_orders->after_id = after;
    return r;
}

/* ------------------------------------------------------------ shortcuts */

/* Reports as who and returns the new ticket. */
static const char *h_report_as(const char *who, const char *node)
{
    Whistle__V1__Response *r = h_write(who, rq_report(node, "0101", "a shed built on the green"));
    assert_ok(r);
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_EVENT);
    return r->event->ticket;
}

static Whistle__V1__Event *h_get(const char *who, const char *ticket)
{
    Whistle__V1__Response *r = h_read(who, rq_ticket(CALL(GET_EVENT), ticket));
    assert_ok(r);
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_EVENT);
    return r->event;
}

#endif
