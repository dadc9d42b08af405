/* Deadlines against a real whistled on a test clock (--test-clock FILE,
 * docs/deadlines.md): every deadline path, restart included, observed as
 * the people concerned observe it, through their pushed streams.
 * DOMAIN.md §4; DESIGN.md §5 ("missed while down = overdue at start"). */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define MINUTE 60000LL
#define HOUR 3600000LL
/* Monday 2026-11-23 10:00 in Beijing (02:00 UTC) */
#define START 1795399200000LL

static daemon_h d;
static void setup(void) { harness_start_clock(&d, NULL, START); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(deadline, .init = setup, .fini = teardown, .timeout = 120);

/* Reports (0404 illegal parking: 2 hours to check in, 4 to resolve), files
 * and whistles to the departments; returns the ticket (malloc'd). */
static char *whistled_case(whistle_client *grid, whistle_client *op, const char **depts, size_t n,
                           Whistle__V1__WhistleKind kind, uint64_t *orders)
{
    char *t = h_report(grid, FIRST_GRID, "0404", "car parked across the fire lane");
    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    Whistle__V1__WhistleEvent w = WHISTLE__V1__WHISTLE_EVENT__INIT;
    w.ticket = t;
    w.departments = (char **)depts;
    w.n_departments = n;
    w.kind = kind;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(WHISTLE);
    req.whistle = &w;
    Whistle__V1__Response *r = harness_call_ok(op, &req);
    for (size_t i = 0; i < n; i++)
        orders[i] = r->whistle->orders[i]->id;
    whistle_response_free(r);
    return t;
}

static void subscribe(whistle_client *c, const char *stream)
{
    Whistle__V1__Subscribe s = WHISTLE__V1__SUBSCRIBE__INIT;
    s.stream = (char *)stream;
    s.from_cursor = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(SUBSCRIBE);
    req.subscribe = &s;
    whistle_response_free(harness_call_ok(c, &req));
}

static Whistle__V1__Order *order_of(whistle_client *c, uint64_t id, Whistle__V1__Response **keep)
{
    Whistle__V1__ListOrders l = WHISTLE__V1__LIST_ORDERS__INIT;
    l.limit = 500;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_ORDERS);
    req.list_orders = &l;
    *keep = harness_call_ok(c, &req);
    for (size_t i = 0; i < (*keep)->orders->n_orders; i++)
        if ((*keep)->orders->orders[i]->id == id)
            return (*keep)->orders->orders[i];
    cr_assert_fail("order %llu not listed", (unsigned long long)id);
    return NULL;
}

Test(deadline, missed_check_in_alerts_the_street_and_the_department)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *police = harness_connect(&d, "police");
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, 0, &o);
    subscribe(op, "street:110105001");
    subscribe(police, NULL);

    Whistle__V1__Response *keep;
    Whistle__V1__Order *ord = order_of(police, o, &keep);
    cr_assert_eq(ord->check_in_due_ms, START + 120 * MINUTE, "2 hours to check in, from the clock the test set");
    cr_assert_eq(ord->resolve_due_ms, START + 4 * HOUR);
    whistle_response_free(keep);

    harness_set_clock(&d, START + 119 * MINUTE);
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 1500);
    cr_assert_null(p, "not due yet");

    harness_set_clock(&d, START + 121 * MINUTE);
    p = h_wait_push(op, "overdue", 10000);
    cr_assert(p, "the operator was not alerted");
    cr_assert_str_eq(p->event->ticket, t);
    cr_assert_eq(p->order->id, o);
    cr_assert(p->supervision && p->supervision->open && p->supervision->level == 1);
    cr_assert_str_eq(p->order->misses[0]->kind, "check_in");
    whistle_push_free(p);
    p = h_wait_push(police, "overdue", 10000);
    cr_assert(p, "the department was not alerted");
    whistle_push_free(p);

    /* The case's timeline says so, and the record is listed. */
    Whistle__V1__Event *e = h_get(op, t, &keep);
    cr_assert_str_eq(e->timeline[e->n_timeline - 1]->action, "overdue");
    cr_assert_str_eq(e->timeline[e->n_timeline - 1]->actor, "whistled");
    whistle_response_free(keep);
    Whistle__V1__ListSupervisions ls = WHISTLE__V1__LIST_SUPERVISIONS__INIT;
    ls.open_only = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_SUPERVISIONS);
    req.list_supervisions = &ls;
    keep = harness_call_ok(op, &req);
    cr_assert_eq(keep->supervisions->n_supervisions, 1);
    cr_assert_eq(keep->supervisions->supervisions[0]->order_id, o);
    whistle_response_free(keep);
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(police);
}

Test(deadline, repeated_misses_escalate_to_the_district)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *district = harness_connect(&d, "district");
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, 0, &o);
    cr_assert_str_eq(whistle_hello(district)->streams[0], "district:110105");
    subscribe(district, NULL);
    subscribe(op, "street:110105001");
    /* the check-in, then its follow-up (check in within 2 hours again) */
    harness_set_clock(&d, START + 121 * MINUTE);
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 10000);
    cr_assert(p);
    whistle_push_free(p);
    cr_assert_null(h_wait_push(district, "escalate", 1000), "one miss stays with the street");
    harness_set_clock(&d, START + 242 * MINUTE);
    p = h_wait_push(district, "escalate", 10000);
    cr_assert(p, "the district's operator was not alerted");
    cr_assert_str_eq(p->stream, "district:110105");
    cr_assert_eq(p->supervision->level, 2);
    cr_assert_geq(p->supervision->n_misses, 2);
    whistle_push_free(p);
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(district);
}

Test(deadline, a_deadline_missed_while_down_fires_at_start)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, 0, &o);
    whistle_close(grid);
    whistle_close(op);
    harness_stop(&d);
    /* three hours pass while the daemon is down */
    harness_set_clock(&d, START + 3 * HOUR);
    harness_restart(&d);
    op = harness_connect(&d, "operator");
    subscribe(op, "street:110105001");
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 10000);
    cr_assert(p, "the deadline that passed while the daemon was down did not fire");
    cr_assert_str_eq(p->event->ticket, t);
    cr_assert_eq(p->at_ms, START + 3 * HOUR, "it fired at start, on the clock of the restart");
    whistle_push_free(p);
    cr_assert(harness_log_contains(&d, "passed deadline"));
    /* the deadline index agrees with the records (whistled --check) */
    char out[4096];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check:\n%s", out);
    free(t);
    whistle_close(op);
}

Test(deadline, check_in_and_feedback_in_time_raise_no_alert)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *police = harness_connect(&d, "police");
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, 0, &o);
    subscribe(op, "street:110105001");
    harness_set_clock(&d, START + 60 * MINUTE);
    whistle_response_free(h_order_call(police, CALL(CHECK_IN), o, "on site"));
    harness_set_clock(&d, START + 150 * MINUTE);
    whistle_response_free(h_order_call(police, CALL(FEEDBACK), o, "towed"));
    whistle_response_free(h_simple(grid, CALL(VERIFY), t, "lane clear"));
    harness_set_clock(&d, START + 200 * MINUTE);
    whistle_response_free(h_simple(op, CALL(CLOSE), t, NULL));
    harness_set_clock(&d, START + 10 * HOUR);
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 1500);
    cr_assert_null(p, "nothing was late (%s)", p ? p->action : "");
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(police);
}

Test(deadline, an_approved_extension_moves_the_resolve_deadline)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *police = harness_connect(&d, "police");
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, 0, &o);
    whistle_response_free(h_order_call(police, CALL(CHECK_IN), o, "on site"));
    subscribe(op, "street:110105001");

    Whistle__V1__TimeLimit extra = WHISTLE__V1__TIME_LIMIT__INIT;
    extra.amount = 1;
    extra.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
    Whistle__V1__RequestExtension rx = WHISTLE__V1__REQUEST_EXTENSION__INIT;
    rx.order_id = o;
    rx.extra = &extra;
    rx.reason = "the tow truck comes tomorrow";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REQUEST_EXTENSION);
    req.request_extension = &rx;
    whistle_response_free(harness_call_ok(police, &req));
    Whistle__V1__Push *p = h_wait_push(op, "extension_request", 10000);
    cr_assert(p, "the operator did not see the request");
    whistle_push_free(p);

    Whistle__V1__DecideExtension dx = WHISTLE__V1__DECIDE_EXTENSION__INIT;
    dx.order_id = o;
    dx.approve = 1;
    req.call_case = CALL(DECIDE_EXTENSION);
    req.decide_extension = &dx;
    Whistle__V1__Response *r = harness_call_ok(op, &req);
    /* 14:00 Monday + 1 working day = Tuesday 17:00 Beijing */
    cr_assert_eq(r->order->resolve_due_ms, START + 31 * HOUR);
    whistle_response_free(r);

    harness_set_clock(&d, START + 5 * HOUR);
    cr_assert_null(h_wait_push(op, "overdue", 1500), "the old deadline no longer runs");
    harness_set_clock(&d, START + 31 * HOUR + MINUTE);
    p = h_wait_push(op, "overdue", 10000);
    cr_assert(p, "the new deadline runs");
    cr_assert_str_eq(p->order->misses[0]->kind, "resolve");
    whistle_push_free(p);
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(police);
}

Test(deadline, a_parked_case_does_not_fall_due)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, 0, &o);
    subscribe(op, "street:110105001");
    Whistle__V1__ParkEvent pk = WHISTLE__V1__PARK_EVENT__INIT;
    pk.ticket = t;
    pk.reason = "the owner is abroad";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PARK);
    req.park = &pk;
    whistle_response_free(harness_call_ok(op, &req));
    harness_set_clock(&d, START + 5 * HOUR);
    cr_assert_null(h_wait_push(op, "overdue", 1500), "parked: no deadline runs");
    Whistle__V1__UnparkEvent up = WHISTLE__V1__UNPARK_EVENT__INIT;
    up.ticket = t;
    req.call_case = CALL(UNPARK);
    req.unpark = &up;
    whistle_response_free(harness_call_ok(op, &req));
    /* parked for 5 hours: check in by 12:00 + 5 h */
    harness_set_clock(&d, START + 7 * HOUR + MINUTE);
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 10000);
    cr_assert(p, "unparked: the deadlines run again, moved by the time parked");
    whistle_push_free(p);
    (void)o;
    free(t);
    whistle_close(grid);
    whistle_close(op);
}

Test(deadline, an_emergency_whistle_must_check_in_within_30_minutes)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *district = harness_connect(&d, "district");
    subscribe(district, NULL);
    const char *depts[] = { "police" };
    uint64_t o;
    char *t = whistled_case(grid, op, depts, 1, WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY, &o);
    harness_set_clock(&d, START + 31 * MINUTE);
    Whistle__V1__Push *p = h_wait_push(district, "escalate", 10000);
    cr_assert(p, "an emergency miss goes to the district at once");
    cr_assert_eq(p->order->check_in_due_ms, START + 30 * MINUTE);
    whistle_push_free(p);
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(district);
}

Test(deadline, a_locally_handled_case_past_its_due_time_alerts_the_street_and_the_worker)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    char *t = h_report(grid, FIRST_GRID, "0404", "car on the pavement, the grid worker will see to it");
    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    Whistle__V1__AssignEvent as = WHISTLE__V1__ASSIGN_EVENT__INIT;
    as.ticket = t;
    as.assignee = "gridworker";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(ASSIGN);
    req.assign = &as;
    Whistle__V1__Response *r = harness_call_ok(op, &req);
    cr_assert_eq(r->event->due_ms, START + 4 * HOUR, "the clock starts at the hand-over: 4 hours for 0404");
    whistle_response_free(r);
    subscribe(op, "street:110105001");
    subscribe(grid, NULL);
    harness_set_clock(&d, START + 4 * HOUR + MINUTE);
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 10000);
    cr_assert(p, "the street was not alerted");
    cr_assert(p->supervision, "a supervision record was opened for the case");
    cr_assert_eq(p->supervision->order_id, 0);
    cr_assert_str_eq(p->supervision->assignee, "gridworker");
    whistle_push_free(p);
    p = h_wait_push(grid, "overdue", 10000);
    cr_assert(p, "the worker was not alerted");
    whistle_push_free(p);
    /* resolving closes the record */
    whistle_response_free(h_simple(grid, CALL(RESOLVE), t, "car towed"));
    Whistle__V1__ListSupervisions ls = WHISTLE__V1__LIST_SUPERVISIONS__INIT;
    ls.open_only = 1;
    req.call_case = CALL(LIST_SUPERVISIONS);
    req.list_supervisions = &ls;
    r = harness_call_ok(op, &req);
    cr_assert_eq(r->supervisions->n_supervisions, 0, "closed when the case was resolved");
    whistle_response_free(r);
    free(t);
    whistle_close(grid);
    whistle_close(op);
}

Test(deadline, a_staged_category_runs_a_deadline_per_stage)
{
    /* 0101 illegal building in the demo city: stop work in 4 working hours,
     * penalty in 7 working days, removal in 20 */
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *urban = harness_connect(&d, "urban");
    char *t = h_report(grid, FIRST_GRID, "0101", "a shed going up on the green");
    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    const char *depts[] = { "urban" };
    Whistle__V1__Response *r = h_whistle(op, t, depts, 1);
    Whistle__V1__Order *o = r->whistle->orders[0];
    cr_assert_eq(o->n_stages, 3);
    cr_assert_str_eq(o->stages[0]->name_zh, "责令停工");
    cr_assert_eq(o->stages[0]->due_ms, START + 4 * HOUR, "Monday 10:00 + 4 working hours");
    cr_assert_eq(o->stages[1]->due_ms, START + (9 * 24 + 7) * HOUR, "7 working days: Wednesday week, 17:00");
    cr_assert_eq(o->resolve_due_ms, o->stages[2]->due_ms, "the last stage is the resolve deadline");
    uint64_t id = o->id;
    whistle_response_free(r);
    whistle_response_free(h_order_call(urban, CALL(CHECK_IN), id, "on site"));
    Whistle__V1__ReportStage rs = WHISTLE__V1__REPORT_STAGE__INIT;
    rs.order_id = id;
    rs.stage = 1;
    rs.note = "work stopped, site sealed";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT_STAGE);
    req.report_stage = &rs;
    whistle_response_free(harness_call_ok(urban, &req));
    subscribe(op, "street:110105001");
    harness_set_clock(&d, START + (9 * 24 + 8) * HOUR);
    Whistle__V1__Push *p = h_wait_push(op, "overdue", 10000);
    cr_assert(p, "the penalty stage passed unreported");
    cr_assert_str_eq(p->order->misses[0]->kind, "stage");
    cr_assert_eq(p->order->misses[0]->stage, 2);
    whistle_push_free(p);
    free(t);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(urban);
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

Test(deadline, the_one_key_emergency_call_reaches_the_operator)
{
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    whistle_client *sensor = harness_connect(&d, "sensor");
    subscribe(op, "street:110105001");
    Whistle__V1__EmergencyCall ec = WHISTLE__V1__EMERGENCY_CALL__INIT;
    ec.node = "110105001001001003"; /* building 3 of the first grid */
    ec.device = "sos-3-1201";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(EMERGENCY_CALL);
    req.emergency_call = &ec;
    double t0 = mono_ms();
    Whistle__V1__Response *r = harness_call_ok(kiosk, &req);
    Whistle__V1__Push *p = h_wait_push(op, "emergency", 10000);
    double dt = mono_ms() - t0;
    cr_assert(p, "the operator did not receive the emergency");
    printf("emergency call -> operator's push: %.1f ms\n", dt);
    cr_assert_str_eq(p->event->ticket, r->event->ticket);
    cr_assert_eq(p->event->source, WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL);
    cr_assert_eq(p->event->priority, WHISTLE__V1__PRIORITY__PRIORITY_URGENT);
    cr_assert_str_eq(p->event->node, "110105001001001003");
    cr_assert_str_eq(p->event->category, "0509", "a kiosk's call is a resident's call for help (kiosk_category)");
    whistle_push_free(p);
    whistle_response_free(r);

    /* a sensor gateway may call too; a building outside the kiosk's
     * community may not be named by it */
    ec.node = "110105002001001";
    cr_assert(strstr(harness_call_fail(kiosk, &req, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED), "scope"));
    whistle_response_free(harness_call_ok(sensor, &req));
    whistle_close(op);
    whistle_close(kiosk);
    whistle_close(sensor);
}

/* Issue 13, retention: the result of a write with an idempotency key is
 * kept store.idempotency_days (7 by default; the protocol promises a day)
 * and then let go, with the writes that follow. */
static char *keyed_report(whistle_client *c, const char *key)
{
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = FIRST_GRID;
    r.category = "0404";
    r.description = "the same car again";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &r;
    req.idempotency_key = (char *)key;
    Whistle__V1__Response *resp = harness_call_ok(c, &req);
    char *t = strdup(resp->event->ticket);
    whistle_response_free(resp);
    return t;
}

Test(deadline, an_idempotency_key_is_kept_its_days_then_let_go)
{
    whistle_client *grid = harness_connect(&d, "gridworker");
    char *first = keyed_report(grid, "retry-me");
    char *again = keyed_report(grid, "retry-me");
    cr_assert_str_eq(again, first, "a retry within the time gets the first result");
    free(again);
    harness_set_clock(&d, START + 6 * 24 * HOUR);
    free(h_report(grid, FIRST_GRID, "0404", "a write in between"));
    again = keyed_report(grid, "retry-me");
    cr_assert_str_eq(again, first, "still kept after 6 days");
    free(again);
    harness_set_clock(&d, START + 8 * 24 * HOUR);
    /* the next batch lets it go */
    free(h_report(grid, FIRST_GRID, "0404", "a write after a week"));
    again = keyed_report(grid, "retry-me");
    cr_assert_str_neq(again, first, "after 7 days the key is gone: the write is new");
    free(again);
    free(first);
    whistle_close(grid);
    char out[4096];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "%s", out);
}

/* Issue 13, retention: a street's feed keeps what its cursor has not
 * passed; what it passed goes once older than store.stream_keep_days (30),
 * with the writes that follow, and a replay from 0 starts after it. */
Test(deadline, acknowledged_pushes_are_let_go_after_their_days)
{
    whistle_client *op = harness_connect(&d, "operator");
    h_subscribe(op, 0);
    free(h_report(op, FIRST_GRID, "0404", "an old report"));
    Whistle__V1__Push *p = h_wait_push(op, "report", 10000);
    cr_assert(p, "the report was not pushed");
    uint64_t acked = p->seq;
    char stream[128];
    snprintf(stream, sizeof stream, "%s", p->stream);
    cr_assert_eq(whistle_push_ack(op, stream, acked), 0);
    whistle_push_free(p);
    whistle_close(op);

    op = harness_connect(&d, "operator");
    harness_set_clock(&d, START + 10 * 24 * HOUR);
    free(h_report(op, FIRST_GRID, "0404", "ten days on"));
    h_subscribe(op, 0);
    p = h_wait_push(op, "report", 10000);
    cr_assert(p);
    cr_assert_eq(p->seq, acked, "kept for its days");
    whistle_push_free(p);
    whistle_close(op);

    op = harness_connect(&d, "operator");
    harness_set_clock(&d, START + 31 * 24 * HOUR);
    free(h_report(op, FIRST_GRID, "0404", "a month on")); /* its batch lets the old one go */
    h_subscribe(op, 0);
    p = h_wait_push(op, "report", 10000);
    cr_assert(p);
    cr_assert_gt(p->seq, acked, "a replay from 0 starts after what was let go");
    whistle_push_free(p);
    whistle_close(op);
    char out[4096];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "%s", out);
}
