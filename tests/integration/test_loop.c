/* The closed loop over TLS against a real whistled (DOMAIN.md §3):
 * report -> file -> whistle to two departments -> pushed orders -> check in
 * -> feed back -> resolved -> verify -> close -> rate; and the durability
 * rules around it (DESIGN.md §2, §3). */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define EV(x) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##x
#define ORD(x) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##x

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(loop, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t order_of(Whistle__V1__Response *wr, const char *dept)
{
    for (size_t i = 0; i < wr->whistle->n_orders; i++)
        if (strcmp(wr->whistle->orders[i]->department, dept) == 0)
            return wr->whistle->orders[i]->id;
    cr_assert_fail("no order for %s", dept);
    return 0;
}

typedef Whistle__V1__EventState EventState_t;
static EventState_t state_of(whistle_client *c, const char *ticket)
{
    Whistle__V1__Response *keep;
    EventState_t s = h_get(c, ticket, &keep)->state;
    whistle_response_free(keep);
    return s;
}

Test(loop, whole_loop_from_report_to_rating)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *police = harness_connect(&d, "police");
    whistle_client *urban = harness_connect(&d, "urban");
    h_subscribe(police, -1);

    char *t = h_report(grid, FIRST_GRID, "0401", "stall blocking the pavement at gate 3");
    whistle_response_free(h_simple(op, CALL(FILE), t, "confirmed on camera"));
    cr_assert_eq(state_of(op, t), EV(FILED));

    const char *depts[] = { "urban", "police" };
    Whistle__V1__Response *wr = h_whistle(op, t, depts, 2);
    cr_assert_eq(wr->whistle->event->state, EV(WHISTLED));
    uint64_t o_urban = order_of(wr, "urban"), o_police = order_of(wr, "police");
    cr_assert_str_eq(wr->whistle->event->lead_department, "urban", "the first department leads by default");
    whistle_response_free(wr);

    /* pushed live to the subscribed department */
    Whistle__V1__Push *p = h_wait_push(police, "dispatch", 10000);
    cr_assert(p, "police did not receive its dispatch order");
    cr_assert_eq(p->order->id, o_police);
    cr_assert_str_eq(p->order->ticket, t);
    cr_assert_str_eq(p->stream, "dept:police");
    whistle_push_free(p);

    whistle_response_free(h_order_call(police, CALL(CHECK_IN), o_police, "on site"));
    whistle_response_free(h_order_call(urban, CALL(CHECK_IN), o_urban, "on site"));
    whistle_response_free(h_order_call(police, CALL(FEEDBACK), o_police, "vendor moved on"));
    cr_assert_eq(state_of(op, t), EV(WHISTLED), "one order still open: not resolved yet");
    whistle_response_free(h_order_call(urban, CALL(FEEDBACK), o_urban, "stall removed, fined"));
    cr_assert_eq(state_of(op, t), EV(RESOLVED), "every order done: resolved");

    whistle_response_free(h_simple(grid, CALL(VERIFY), t, "checked on the spot"));
    cr_assert_eq(state_of(op, t), EV(VERIFIED));
    whistle_response_free(h_simple(op, CALL(CLOSE), t, NULL));

    Whistle__V1__RateEvent re = WHISTLE__V1__RATE_EVENT__INIT;
    re.ticket = t;
    re.score = 5;
    re.comment = "fast";
    Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
    rq.call_case = CALL(RATE);
    rq.rate = &re;
    whistle_response_free(harness_call_ok(grid, &rq));

    Whistle__V1__Response *keep;
    Whistle__V1__Event *e = h_get(op, t, &keep);
    cr_assert_eq(e->state, EV(CLOSED));
    cr_assert_eq(e->rating, 5);
    /* the timeline holds every action, in order, with who did it */
    const char *want[] = { "report",   "file",     "whistle",  "dispatch", "dispatch",
                           "check_in", "check_in", "feedback", "feedback" };
    cr_assert_geq(e->n_timeline, 12, "timeline has %zu entries", e->n_timeline);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert_str_eq(e->timeline[i]->action, want[i], "timeline[%zu] is %s", i, e->timeline[i]->action);
    cr_assert_str_eq(e->timeline[0]->actor, "gridworker");
    cr_assert_str_eq(e->timeline[1]->actor, "operator");
    cr_assert_str_eq(e->timeline[5]->actor, "police");
    cr_assert_str_eq(e->timeline[e->n_timeline - 1]->action, "rate");
    whistle_response_free(keep);
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(police);
    whistle_close(urban);
}

Test(loop, order_whistled_while_department_offline_is_delivered_on_subscribe)
{
    whistle_client *op = harness_connect(&d, "operator");
    char *t = h_report(op, FIRST_GRID, "0102", "rubbish pile behind building 2");
    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    const char *depts[] = { "environment" };
    Whistle__V1__Response *wr = h_whistle(op, t, depts, 1);
    uint64_t oid = wr->whistle->orders[0]->id;
    whistle_response_free(wr);

    /* the department connects only now */
    whistle_client *env = harness_connect(&d, "environment");
    h_subscribe(env, -1);
    Whistle__V1__Push *p = h_wait_push(env, "dispatch", 10000);
    cr_assert(p, "the order whistled while offline was not delivered");
    cr_assert_eq(p->order->id, oid);
    cr_assert_eq(p->order->state, ORD(PENDING));
    /* acknowledged: a later subscription from the cursor does not replay it */
    cr_assert_eq(whistle_push_ack(env, p->stream, p->seq), 0);
    uint64_t seq = p->seq;
    whistle_push_free(p);
    whistle_close(env);

    /* PushAck has no answer; a Subscribe from the cursor still sees it,
     * because the server orders it after every ack it has received. */
    env = harness_connect(&d, "environment");
    h_subscribe(env, -1);
    Whistle__V1__Push *again = h_wait_push(env, "dispatch", 500);
    cr_assert_null(again, "an acknowledged push (seq %llu) was replayed from the cursor", (unsigned long long)seq);
    whistle_close(env);
    /* but an explicit after_seq replays it */
    env = harness_connect(&d, "environment");
    h_subscribe(env, 0);
    again = h_wait_push(env, "dispatch", 10000);
    cr_assert(again, "replay from seq 0 did not deliver the order");
    whistle_push_free(again);
    whistle_close(env);
    whistle_close(op);
    free(t);
}

Test(loop, restart_between_whistle_and_check_in_loses_nothing)
{
    whistle_client *op = harness_connect(&d, "operator");
    char *t = h_report(op, FIRST_GRID, "0301", "night-time construction noise");
    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    const char *depts[] = { "urban", "environment" };
    Whistle__V1__Response *wr = h_whistle(op, t, depts, 2);
    uint64_t o_urban = order_of(wr, "urban");
    whistle_response_free(wr);
    whistle_close(op);

    harness_restart(&d);

    whistle_client *urban = harness_connect(&d, "urban");
    h_subscribe(urban, -1);
    Whistle__V1__Push *p = h_wait_push(urban, "dispatch", 10000);
    cr_assert(p, "the dispatch order did not survive the restart");
    cr_assert_eq(p->order->id, o_urban);
    whistle_push_free(p);
    Whistle__V1__Response *r = h_order_call(urban, CALL(CHECK_IN), o_urban, "arrived");
    cr_assert_eq(r->order->state, ORD(CHECKED_IN));
    whistle_response_free(r);
    op = harness_connect(&d, "operator");
    cr_assert_eq(state_of(op, t), EV(WHISTLED));
    whistle_close(op);
    whistle_close(urban);
    free(t);
}

Test(loop, retried_write_with_same_idempotency_key_applies_once)
{
    whistle_client *hot = harness_connect(&d, "hotline");
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = FIRST_GRID;
    r.category = "0102";
    r.description = "12345 call: rubbish not collected";
    r.external_id = "12345-20261122-0001";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &r;
    req.idempotency_key = "hotline-0001";
    Whistle__V1__Response *a = harness_call_ok(hot, &req);
    Whistle__V1__Response *b = harness_call_ok(hot, &req);
    cr_assert_str_eq(a->event->ticket, b->event->ticket, "the retry created a second case");
    whistle_response_free(a);
    whistle_response_free(b);
    req.idempotency_key = "hotline-0002";
    Whistle__V1__Response *c = harness_call_ok(hot, &req);
    whistle_response_free(c);

    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    Whistle__V1__Request lr = WHISTLE__V1__REQUEST__INIT;
    lr.call_case = CALL(LIST_EVENTS);
    lr.list_events = &le;
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__Response *l = harness_call_ok(op, &lr);
    cr_assert_eq(l->events->n_events, 2, "two keys, two cases; got %zu", l->events->n_events);
    whistle_response_free(l);
    whistle_close(op);
    whistle_close(hot);
}

/* Issue 13, backpressure: a desk's acks of one stream that arrive together
 * are folded into the highest (they reach the writer as one); an ack
 * lower than one before it, in the same burst, does not take the cursor
 * back, and the cursor ends at the highest. */
Test(loop, a_burst_of_push_acks_moves_the_cursor_to_the_highest)
{
    whistle_client *op = harness_connect(&d, "operator");
    const char *depts[] = { "environment" };
    for (int i = 0; i < 3; i++) {
        char *t = h_report(op, FIRST_GRID, "0102", "rubbish again");
        whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
        whistle_response_free(h_whistle(op, t, depts, 1));
        free(t);
    }
    whistle_client *env = harness_connect(&d, "environment");
    h_subscribe(env, 0);
    uint64_t seqs[3];
    const char *stream = NULL;
    char name[128] = "";
    for (int i = 0; i < 3; i++) {
        Whistle__V1__Push *p = h_wait_push(env, "dispatch", 10000);
        cr_assert(p, "dispatch %d not pushed", i);
        seqs[i] = p->seq;
        snprintf(name, sizeof name, "%s", p->stream);
        whistle_push_free(p);
    }
    stream = name;
    /* highest in the middle of the burst */
    cr_assert_eq(whistle_push_ack(env, stream, seqs[0]), 0);
    cr_assert_eq(whistle_push_ack(env, stream, seqs[2]), 0);
    cr_assert_eq(whistle_push_ack(env, stream, seqs[1]), 0);
    whistle_close(env);
    env = harness_connect(&d, "environment");
    h_subscribe(env, -1);
    Whistle__V1__Push *again = h_wait_push(env, "dispatch", 500);
    cr_assert_null(again, "the cursor went back below seq %llu", (unsigned long long)seqs[2]);
    whistle_close(env);
    whistle_close(op);
}
