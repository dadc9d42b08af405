/* test_exception.c: the exception flow (exception.c and its hooks in
 * event.c, dispatch.c): merge of a duplicate (its reporter follows the
 * earlier case), reopen after a dissatisfied rating, return and
 * re-dispatch, rework with a fresh deadline, reject with a reason, and the
 * one-key emergency call. */
#include "helpers.h"

#include "calendar.h"
#include "deadline_rows.h"
#include "sweep.h"

static deadline_policy policy;
static void setup(void)
{
    h_setup();
    policy_defaults(&policy);
    snprintf(policy.emergency_category, sizeof policy.emergency_category, "0501");
    h_st->policy = &policy;
}
TestSuite(exception, .init = setup, .fini = h_teardown);

#define GRID1 "110105001001001"
#define GRID2 "110105001001002" /* gw-2's, in the same street */
#define JIANWAI "street:110105001"
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define HOUR 3600000LL

static Whistle__V1__Request *rq_merge(const char *dup, const char *into)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(MERGE);
    r->merge = NEW(Whistle__V1__MergeEvent, whistle__v1__merge_event__init);
    r->merge->ticket = arena_strdup(h_a, dup);
    r->merge->into = arena_strdup(h_a, into);
    r->merge->note = "same shed";
    return r;
}

static Whistle__V1__Request *rq_reopen(const char *t, const char *reason)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(REOPEN);
    r->reopen = NEW(Whistle__V1__ReopenEvent, whistle__v1__reopen_event__init);
    r->reopen->ticket = arena_strdup(h_a, t);
    r->reopen->reason = arena_strdup(h_a, reason);
    return r;
}

static Whistle__V1__Request *rq_rate(const char *t, uint32_t score)
{
    Whistle__V1__Request *r = rq_ticket(CALL(RATE), t);
    r->rate->score = score;
    return r;
}

static Whistle__V1__Request *rq_verify(const char *t, bool pass)
{
    Whistle__V1__Request *r = rq_ticket(CALL(VERIFY), t);
    r->verify->pass = pass;
    r->verify->note = "checked on the spot";
    return r;
}

/* A case whistled to urban, done, verified, closed; returns the order. */
static uint64_t closed_case(const char **ticket)
{
    const char *t = h_report_as("hotline", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Response *r = h_write("op-jianwai", rq_whistle(t, 1, "urban"));
    assert_ok(r);
    uint64_t o = r->whistle->orders[0]->id;
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), o, "")));
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), o, "torn down")));
    assert_ok(h_write("gw-1", rq_verify(t, true)));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(CLOSE), t)));
    *ticket = t;
    return o;
}

/* ------------------------------------------------------------ merge */

Test(exception, a_duplicate_merges_into_the_earlier_case_and_its_reporter_follows)
{
    const char *first = h_report_as("gw-1", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), first)));
    const char *dup = h_report_as("hotline", GRID1);

    assert_code(h_write("op-jianwai", rq_merge(first, dup)), FAILED_PRECONDITION); /* newer into older only */
    assert_code(h_write("op-jianwai", rq_merge(dup, dup)), INVALID_ARGUMENT);
    assert_code(h_write("op-chaowai", rq_merge(dup, first)), NOT_FOUND);
    assert_code(h_write("gw-1", rq_merge(dup, first)), PERMISSION_DENIED);
    uint64_t hot0 = h_last_seq("principal:hotline");
    Whistle__V1__Response *r = h_write("op-jianwai", rq_merge(dup, first));
    assert_ok(r);
    cr_assert_str_eq(r->event->ticket, first);
    cr_assert_eq(r->event->n_merged, 1);
    cr_assert_str_eq(r->event->merged[0], dup);
    cr_assert_eq(r->event->n_followers, 1);
    cr_assert_str_eq(r->event->followers[0], "hotline");

    Whistle__V1__Event *d = h_get("op-jianwai", dup);
    cr_assert_eq(d->state, ES(REJECTED));
    cr_assert_str_eq(d->merged_into, first);
    cr_assert(strstr(d->reject_reason, first));
    /* the duplicate's reporter heard of the merge, and now hears of the
     * earlier case as it moves, without its reporter's phone */
    cr_assert_str_eq(h_actions("principal:hotline", hot0), "merge merge");
    r = h_write("op-jianwai", rq_whistle(first, 1, "urban"));
    assert_ok(r);
    h_pushes *ps = h_stream("principal:hotline", hot0 + 2);
    cr_assert_eq(ps->n, 1);
    cr_assert_str_eq(ps->p[0]->action, "whistle");
    cr_assert_str_eq(ps->p[0]->event->ticket, first);
    /* ... and may read it, not rate it */
    cr_assert_eq(h_get("hotline", first)->state, ES(WHISTLED));
    Whistle__V1__Request *rt = rq_ticket(CALL(RATE), first);
    rt->rate->score = 5;
    assert_code(h_write("hotline", rt), PERMISSION_DENIED);
    /* a merged case takes nothing more, and nothing merges into it */
    assert_code(h_write("op-jianwai", rq_ticket(CALL(FILE), dup)), FAILED_PRECONDITION);
    const char *third = h_report_as("gw-1", GRID1);
    r = h_write("op-jianwai", rq_merge(third, dup));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "merge into");
    /* Issue 11, item 19: a follower reads the case even outside its own
     * grid, as docs/deadlines.md says; not its first reporter's phone */
    const char *across = h_report_as("gw-2", GRID2);
    assert_code(h_read("gw-2", rq_ticket(CALL(GET_EVENT), first)), NOT_FOUND);
    assert_ok(h_write("op-jianwai", rq_merge(across, first)));
    Whistle__V1__Event *seen = h_get("gw-2", first);
    cr_assert_str_eq(seen->ticket, first);
    cr_assert_str_eq(seen->contact, "");
    /* A kiosk's duplicate merges too, but nothing is pushed to the kiosk:
     * the next resident at the terminal would read it. */
    const char *kdup = h_report_as("kiosk-yonganli", GRID1);
    assert_ok(h_write("op-jianwai", rq_merge(kdup, first)));
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), h_get("admin", first)->order_ids[0], "")));
    cr_assert_str_eq(h_actions("principal:kiosk-yonganli", 0), "");
}

Test(exception, reject_needs_a_reason)
{
    const char *t = h_report_as("gw-1", GRID1);
    assert_code(h_write("op-jianwai", rq_ticket(CALL(REJECT), t)), INVALID_ARGUMENT);
    Whistle__V1__Request *r = rq_ticket(CALL(REJECT), t);
    r->reject->reason = "not in scope: a private courtyard";
    Whistle__V1__Response *resp = h_write("op-jianwai", r);
    assert_ok(resp);
    cr_assert_str_eq(resp->event->reject_reason, "not in scope: a private courtyard");
}

/* ------------------------------------------------------------ reopen */

Test(exception, a_dissatisfied_rating_may_reopen_the_case)
{
    const char *t;
    uint64_t o = closed_case(&t);
    assert_code(h_write("op-jianwai", rq_reopen(t, "resident unhappy")), FAILED_PRECONDITION); /* not rated */
    assert_ok(h_write("hotline", rq_rate(t, 2)));
    assert_code(h_write("op-jianwai", rq_reopen(t, "")), INVALID_ARGUMENT);
    assert_code(h_write("hotline", rq_reopen(t, "not fixed")), PERMISSION_DENIED);
    uint64_t dept0 = h_last_seq("dept:urban");
    int64_t at = h_now;
    Whistle__V1__Response *r = h_write("op-jianwai", rq_reopen(t, "the shed is back"));
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(WHISTLED));
    cr_assert_eq(r->event->rating, 0, "the reporter rates again after the next close");
    cr_assert_eq(r->event->reopen_count, 1);
    cr_assert_eq(r->event->due_ms, at + 160 * HOUR, "a fresh due time");
    cr_assert_str_eq(h_actions("dept:urban", dept0), "reopen");
    h_pushes *ps = h_stream("dept:urban", dept0);
    cr_assert_eq(ps->p[0]->order->id, o);
    cr_assert_eq(ps->p[0]->order->state, OS(CHECKED_IN));
    cr_assert_eq(ps->p[0]->order->resolve_due_ms, at + 160 * HOUR, "the order has a fresh resolve deadline");
    cr_assert_eq(ps->p[0]->order->rework_count, 1);
    /* and round again: a second rating is accepted */
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), o, "removed again, for good")));
    assert_ok(h_write("gw-1", rq_verify(t, true)));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(CLOSE), t)));
    assert_ok(h_write("hotline", rq_rate(t, 4)));
}

Test(exception, a_satisfied_rating_does_not_reopen)
{
    const char *t;
    closed_case(&t);
    assert_ok(h_write("hotline", rq_rate(t, 3)));
    Whistle__V1__Response *r = h_write("op-jianwai", rq_reopen(t, "why not"));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "2 or less");
}

/* ------------------------------------------------------------ return, rework */

Test(exception, return_and_re_dispatch_move_the_deadlines_to_the_new_order)
{
    const char *t = h_report_as("gw-1", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Response *r = h_write("op-jianwai", rq_whistle(t, 1, "police"));
    assert_ok(r);
    uint64_t o = r->whistle->orders[0]->id;
    r = h_write("police", rq_order(CALL(RETURN_ORDER), o, "a building matter, not ours"));
    assert_ok(r);
    cr_assert_eq(r->order->state, OS(RETURNED));
    /* the returned order's deadlines are gone: a sweep long after fires
     * only the case's own due time */
    r = h_write("op-jianwai", rq_whistle(t, 1, "housing"));
    assert_ok(r);
    Whistle__V1__Order *n = r->whistle->orders[0];
    cr_assert_eq(n->check_in_due_ms, h_now - 1000 + 120 * 60000);
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    stream_touched tt = { 0 };
    size_t fired;
    bool more;
    cr_assert_eq(deadline_sweep(h_st, txn, n->check_in_due_ms, &tt, 100, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&tt);
    cr_assert_eq(fired, 1, "the new order's check-in; nothing of the returned one");
    h_pushes *ps = h_stream("dept:police", 0);
    for (size_t i = 0; i < ps->n; i++)
        cr_assert_str_neq(ps->p[i]->action, "overdue", "the returned order is not supervised");
}

Test(exception, rework_restarts_the_resolve_deadline)
{
    const char *t = h_report_as("gw-1", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Response *r = h_write("op-jianwai", rq_whistle(t, 1, "urban"));
    uint64_t o = r->whistle->orders[0]->id;
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), o, "")));
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), o, "done")));
    h_now += 100 * HOUR;
    int64_t at = h_now;
    uint64_t d0 = h_last_seq("dept:urban");
    assert_ok(h_write("gw-1", rq_verify(t, false)));
    h_pushes *ps = h_stream("dept:urban", d0);
    cr_assert_eq(ps->n, 1);
    cr_assert_str_eq(ps->p[0]->action, "rework");
    cr_assert_eq(ps->p[0]->order->resolve_due_ms, at + 160 * HOUR);
    cr_assert_eq(ps->p[0]->order->rework_count, 1);
}

/* ------------------------------------------------------------ emergency */

Test(exception, the_emergency_call_makes_an_urgent_case_and_alerts_the_street)
{
    uint64_t s0 = h_last_seq(JIANWAI);
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(EMERGENCY_CALL);
    r->emergency_call = NEW(Whistle__V1__EmergencyCall, whistle__v1__emergency_call__init);
    r->emergency_call->device = "sos-1";
    Whistle__V1__Response *resp = h_write("kiosk-yonganli", r);
    assert_ok(resp);
    Whistle__V1__Event *e = resp->event;
    cr_assert_eq(e->source, WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL);
    cr_assert_eq(e->priority, WHISTLE__V1__PRIORITY__PRIORITY_URGENT);
    cr_assert_str_eq(e->category, "0501");
    cr_assert_str_eq(e->node, "110105001001", "no node: the kiosk's own place");
    cr_assert(strstr(e->description, "sos-1"));
    cr_assert_str_eq(h_actions(JIANWAI, s0), "emergency");
    /* the sensor and the kiosk may call; a department may not */
    r->emergency_call->node = "110105001001002";
    assert_ok(h_write("smoke-1", r));
    assert_code(h_write("police", r), PERMISSION_DENIED);
    r->emergency_call->device = "bad device";
    assert_code(h_write("smoke-1", r), INVALID_ARGUMENT);
    /* a plain report with source emergency_call is one too */
    Whistle__V1__Request *rep = rq_report(GRID1, "0102", "help, fallen");
    rep->report->source = WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL;
    s0 = h_last_seq(JIANWAI);
    resp = h_write("gw-1", rep);
    assert_ok(resp);
    cr_assert_eq(resp->event->priority, WHISTLE__V1__PRIORITY__PRIORITY_URGENT);
    cr_assert_str_eq(h_actions(JIANWAI, s0), "emergency");
}

Test(exception, the_emergency_category_must_exist)
{
    snprintf(policy.emergency_category, sizeof policy.emergency_category, "0599");
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(EMERGENCY_CALL);
    r->emergency_call = NEW(Whistle__V1__EmergencyCall, whistle__v1__emergency_call__init);
    Whistle__V1__Response *resp = h_write("kiosk-yonganli", r);
    assert_code(resp, FAILED_PRECONDITION);
    assert_msg_has(resp, "emergency.category");
}

/* Issue 11, item 9: F12 at a kiosk filed every call as 0507 (an elderly
 * person living alone). A kiosk's call files emergency.kiosk_category when
 * the catalogue has it; a device's keeps emergency.category; and a
 * catalogue without the kiosk's category does not turn a resident away. */
Test(exception, a_kiosks_call_for_help_files_its_own_category)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(EMERGENCY_CALL);
    r->emergency_call = NEW(Whistle__V1__EmergencyCall, whistle__v1__emergency_call__init);
    snprintf(policy.emergency_kiosk_category, sizeof policy.emergency_kiosk_category, "0102");
    Whistle__V1__Response *resp = h_write("kiosk-yonganli", r);
    assert_ok(resp);
    cr_assert_str_eq(resp->event->category, "0102");
    resp = h_write("smoke-1", r);
    assert_ok(resp);
    cr_assert_str_eq(resp->event->category, "0501", "a device's call keeps emergency.category");
    snprintf(policy.emergency_kiosk_category, sizeof policy.emergency_kiosk_category, "0599");
    resp = h_write("kiosk-yonganli", r);
    assert_ok(resp);
    cr_assert_str_eq(resp->event->category, "0501", "no kiosk category in the catalogue: the devices'");
}
