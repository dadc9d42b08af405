/* test_deadline.c: the deadline engine through api_write and the writer's
 * sweep (deadline.c, supervision.c), on the fixture city: due times from
 * the catalogue, the index rows, misses, supervision, follow-ups,
 * escalation, extensions, parking, stages, and a store reopened after its
 * deadlines passed. Time is h_now, moved by hand. */
#include "helpers.h"

#include "deadline_rows.h"
#include "sweep.h"

TestSuite(deadline, .init = h_setup, .fini = h_teardown);

#define GRID1 "110105001001001"
#define JIANWAI "street:110105001"
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define MIN 60000LL
#define HOUR 3600000LL

static const char *filed_case(const char *category)
{
    Whistle__V1__Response *r = h_write("gw-1", rq_report(GRID1, category, "found on patrol"));
    assert_ok(r);
    const char *t = r->event->ticket;
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    return t;
}

static Whistle__V1__Order *whistle1(const char *t, const char *dept, Whistle__V1__WhistleKind kind)
{
    Whistle__V1__Request *rq = rq_whistle(t, 1, dept);
    rq->whistle->kind = kind;
    Whistle__V1__Response *r = h_write("op-jianwai", rq);
    assert_ok(r);
    return r->whistle->orders[0];
}

static Whistle__V1__Order *get_order(uint64_t id)
{
    Whistle__V1__Response *r = h_read("op-jianwai", rq_list_orders("", NULL, 500, 0));
    assert_ok(r);
    for (size_t i = 0; i < r->orders->n_orders; i++)
        if (r->orders->orders[i]->id == id)
            return r->orders->orders[i];
    cr_assert_fail("no order %llu", (unsigned long long)id);
    return NULL;
}

/* The deadline rows, as "kind@minutes-after-T0" words. */
static const char *rows(void)
{
    MDB_txn *txn = store_read_begin(h_st);
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->deadlines, &cur), 0);
    MDB_val k, v;
    char *s = arena_strdup(h_a, "");
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int64_t due = (int64_t)store_get_be64(k.mv_data);
        static const char *const kinds[] = { "?", "check_in", "resolve", "stage", "follow_up", "case" };
        uint8_t kind = ((uint8_t *)k.mv_data)[8];
        s = arena_printf(h_a, "%s%s%s@%lld", s, *s ? " " : "", kind <= 5 ? kinds[kind] : "?",
                         (long long)((due - T0) / MIN));
    }
    mdb_cursor_close(cur);
    store_read_end(h_st);
    return s;
}

/* Runs the writer's sweep at time now; returns how many deadlines fired. */
static size_t sweep_at(int64_t now)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    stream_touched t = { 0 };
    size_t fired = 0;
    bool more = false;
    cr_assert_eq(deadline_sweep(h_st, txn, now, &t, 1000, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
    cr_assert_not(more);
    if (h_now < now)
        h_now = now;
    return fired;
}

static int64_t first_due(void)
{
    MDB_txn *txn = store_read_begin(h_st);
    int64_t d = deadline_first_due(h_st, txn);
    store_read_end(h_st);
    return d;
}

static Whistle__V1__Push *last_push(const char *stream)
{
    h_pushes *ps = h_stream(stream, 0);
    cr_assert(ps->n > 0, "stream %s is empty", stream);
    return ps->p[ps->n - 1];
}

static Whistle__V1__Request *rq_ext(uint64_t order, uint32_t hours, const char *reason)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(REQUEST_EXTENSION);
    r->request_extension = NEW(Whistle__V1__RequestExtension, whistle__v1__request_extension__init);
    r->request_extension->order_id = order;
    r->request_extension->extra = NEW(Whistle__V1__TimeLimit, whistle__v1__time_limit__init);
    r->request_extension->extra->amount = hours;
    r->request_extension->extra->unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    r->request_extension->reason = arena_strdup(h_a, reason);
    return r;
}

static Whistle__V1__Request *rq_decide(uint64_t order, bool approve, const char *note)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(DECIDE_EXTENSION);
    r->decide_extension = NEW(Whistle__V1__DecideExtension, whistle__v1__decide_extension__init);
    r->decide_extension->order_id = order;
    r->decide_extension->approve = approve;
    r->decide_extension->note = arena_strdup(h_a, note);
    return r;
}

static Whistle__V1__Request *rq_park(bool park, const char *t, const char *text)
{
    Whistle__V1__Request *r = h_req();
    if (park) {
        r->call_case = CALL(PARK);
        r->park = NEW(Whistle__V1__ParkEvent, whistle__v1__park_event__init);
        r->park->ticket = arena_strdup(h_a, t);
        r->park->reason = arena_strdup(h_a, text);
    } else {
        r->call_case = CALL(UNPARK);
        r->unpark = NEW(Whistle__V1__UnparkEvent, whistle__v1__unpark_event__init);
        r->unpark->ticket = arena_strdup(h_a, t);
        r->unpark->note = arena_strdup(h_a, text);
    }
    return r;
}

/* ------------------------------------------------------------ due times */

Test(deadline, whistle_sets_due_times_from_the_catalogue)
{
    const char *t = filed_case("0101"); /* 120 minutes to check in, 160 hours to resolve */
    int64_t whistled_at = h_now;
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    cr_assert_eq(o->check_in_due_ms, whistled_at + 120 * MIN);
    cr_assert_eq(o->resolve_due_ms, whistled_at + 160 * HOUR);
    cr_assert(o->check_in_limit && o->check_in_limit->amount == 120);
    Whistle__V1__Event *e = h_get("op-jianwai", t);
    cr_assert_eq(e->due_ms, whistled_at + 160 * HOUR, "the case's clock starts at dispatch");
    /* one row each: check-in, resolve, and the case */
    cr_assert_eq(first_due(), whistled_at + 120 * MIN);
    int64_t rel = (whistled_at - T0) / MIN;
    cr_assert_str_eq(rows(), arena_printf(h_a, "check_in@%lld resolve@%lld case@%lld", (long long)(rel + 120),
                                          (long long)(rel + 160 * 60), (long long)(rel + 160 * 60)));
}

Test(deadline, an_emergency_whistle_checks_in_within_30_minutes)
{
    const char *t = filed_case("0101");
    int64_t at = h_now;
    Whistle__V1__Order *o = whistle1(t, "urban", WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY);
    cr_assert_eq(o->check_in_due_ms, at + 30 * MIN);
}

Test(deadline, check_in_and_feedback_remove_their_rows)
{
    const char *t = filed_case("0102"); /* 120 min, 4 h */
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), o->id, "on site")));
    cr_assert(strstr(rows(), "check_in") == NULL, "rows: %s", rows());
    cr_assert(strstr(rows(), "resolve") != NULL);
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), o->id, "cleared")));
    cr_assert(strstr(rows(), "resolve") == NULL, "rows: %s", rows());
    cr_assert(strstr(rows(), "case") != NULL, "the case runs until it closes");
    Whistle__V1__Request *vf = rq_ticket(CALL(VERIFY), t);
    vf->verify->pass = true;
    assert_ok(h_write("gw-1", vf));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(CLOSE), t)));
    cr_assert_str_eq(rows(), "", "a closed case runs no deadline");
    cr_assert_eq(sweep_at(h_now + 1000 * HOUR), 0);
}

/* ------------------------------------------------------------ misses */

Test(deadline, a_missed_check_in_opens_supervision_and_alerts)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    uint64_t street0 = h_last_seq(JIANWAI), dept0 = h_last_seq("dept:urban");
    cr_assert_eq(sweep_at(o->check_in_due_ms - 1), 0, "not yet");
    cr_assert_eq(sweep_at(o->check_in_due_ms), 1);

    Whistle__V1__Order *after = get_order(o->id);
    cr_assert_eq(after->n_misses, 1);
    cr_assert_str_eq(after->misses[0]->kind, "check_in");
    cr_assert_neq(after->supervision_id, 0);
    cr_assert_str_eq(after->follow_up, "check_in");
    cr_assert_eq(after->follow_up_ms, o->check_in_due_ms + 120 * MIN, "check in within the limit again");
    cr_assert_not(after->escalated);

    cr_assert_str_eq(h_actions(JIANWAI, street0), "overdue");
    cr_assert_str_eq(h_actions("dept:urban", dept0), "overdue");
    Whistle__V1__Push *p = last_push(JIANWAI);
    cr_assert(p->supervision && p->supervision->open && p->supervision->level == 1);
    cr_assert_eq(p->order->id, o->id);
    cr_assert_str_eq(p->actor, "whistled");
    Whistle__V1__Event *e = h_get("op-jianwai", t);
    cr_assert_str_eq(e->timeline[e->n_timeline - 1]->action, "overdue");
    cr_assert(strstr(e->timeline[e->n_timeline - 1]->note, "check-in deadline"));
    cr_assert_eq(h_last_seq("district:110105"), 0, "one miss stays with the street");
}

Test(deadline, a_second_miss_escalates_to_the_district)
{
    const char *t = filed_case("0101"); /* 2 hours to check in, 160 to resolve */
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    cr_assert_eq(sweep_at(o->check_in_due_ms), 1);
    Whistle__V1__Order *a = get_order(o->id);
    cr_assert_eq(sweep_at(a->follow_up_ms), 1, "the follow-up passes too (rows %s, follow-up %lld)", rows(),
                 (long long)((a->follow_up_ms - T0) / MIN));
    Whistle__V1__Order *b = get_order(o->id);
    cr_assert_eq(b->n_misses, 2);
    cr_assert_str_eq(b->misses[1]->kind, "check_in_follow_up");
    cr_assert(b->escalated);
    cr_assert_str_eq(h_actions("district:110105", 0), "escalate");
    Whistle__V1__Push *p = last_push("district:110105");
    cr_assert_eq(p->supervision->level, 2);
    cr_assert_eq(p->supervision->n_misses, 2);
    cr_assert_str_eq(last_push(JIANWAI)->action, "escalate");
    cr_assert_str_eq(last_push("dept:urban")->action, "escalate");
}

Test(deadline, an_emergency_miss_escalates_at_once)
{
    const char *t = filed_case("0101");
    Whistle__V1__Order *o = whistle1(t, "urban", WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY);
    cr_assert_eq(sweep_at(o->check_in_due_ms), 1);
    cr_assert(get_order(o->id)->escalated);
    cr_assert_str_eq(h_actions("district:110105", 0), "escalate");
}

Test(deadline, supervision_closes_when_the_order_is_done)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    cr_assert_eq(sweep_at(o->check_in_due_ms + 1), 1);
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), o->id, "late, sorry")));
    Whistle__V1__Order *a = get_order(o->id);
    cr_assert(strstr(rows(), "follow_up") == NULL, "checked in: the check-in follow-up is over (%s)", rows());
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), o->id, "cleared")));
    Whistle__V1__Request *ls = h_req();
    ls->call_case = CALL(LIST_SUPERVISIONS);
    ls->list_supervisions = NEW(Whistle__V1__ListSupervisions, whistle__v1__list_supervisions__init);
    Whistle__V1__Response *r = h_read("op-jianwai", ls);
    assert_ok(r);
    cr_assert_eq(r->supervisions->n_supervisions, 1);
    Whistle__V1__Supervision *s = r->supervisions->supervisions[0];
    cr_assert_eq(s->id, a->supervision_id);
    cr_assert_not(s->open);
    cr_assert_str_eq(s->closed_reason, "order done");
    ls->list_supervisions->open_only = true;
    r = h_read("op-jianwai", ls);
    assert_ok(r);
    cr_assert_eq(r->supervisions->n_supervisions, 0);
    /* a department reads its own; another operator's street is not its */
    r = h_read("urban", ls);
    assert_ok(r);
    ls->list_supervisions->department = "police";
    assert_code(h_read("urban", ls), PERMISSION_DENIED);
    ls->list_supervisions->department = "";
    ls->list_supervisions->node = "110105002";
    assert_code(h_read("op-jianwai", ls), PERMISSION_DENIED);
}

Test(deadline, a_local_case_past_its_due_time_is_supervised)
{
    const char *t = filed_case("0102");
    Whistle__V1__Request *as = rq_ticket(CALL(ASSIGN), t);
    as->assign->assignee = "gw-1";
    assert_ok(h_write("op-jianwai", as));
    Whistle__V1__Event *e = h_get("op-jianwai", t);
    cr_assert_eq(e->due_ms, h_now - 1000 + 4 * HOUR);
    uint64_t gw0 = h_last_seq("principal:gw-1");
    cr_assert_eq(sweep_at(e->due_ms), 1);
    e = h_get("op-jianwai", t);
    cr_assert(e->due_passed);
    cr_assert_neq(e->supervision_id, 0);
    cr_assert_str_eq(last_push(JIANWAI)->action, "overdue");
    cr_assert_str_eq(h_actions("principal:gw-1", gw0), "overdue");
}

Test(deadline, stale_rows_never_fire_twice)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    cr_assert_eq(sweep_at(o->check_in_due_ms), 1);
    cr_assert_eq(sweep_at(o->check_in_due_ms), 0, "the row went with the miss");
}

/* ------------------------------------------------------------ extension */

Test(deadline, extension_requested_and_approved_moves_the_deadline)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), o->id, "")));
    assert_code(h_write("police", rq_ext(o->id, 24, "need a truck")), PERMISSION_DENIED);
    assert_code(h_write("urban", rq_ext(o->id, 24, "")), INVALID_ARGUMENT);
    Whistle__V1__Response *r = h_write("urban", rq_ext(o->id, 24, "need a truck"));
    assert_ok(r);
    cr_assert_eq(r->order->extension->state, WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING);
    cr_assert_str_eq(last_push(JIANWAI)->action, "extension_request");
    assert_code(h_write("urban", rq_ext(o->id, 24, "again")), FAILED_PRECONDITION);
    assert_code(h_write("urban", rq_decide(o->id, true, "")), PERMISSION_DENIED);
    assert_code(h_write("op-chaowai", rq_decide(o->id, true, "")), NOT_FOUND);
    r = h_write("op-jianwai", rq_decide(o->id, true, "ok"));
    assert_ok(r);
    cr_assert_eq(r->order->resolve_due_ms, o->resolve_due_ms + 24 * HOUR);
    cr_assert_eq(r->order->extension->new_due_ms, o->resolve_due_ms + 24 * HOUR);
    cr_assert_str_eq(last_push("dept:urban")->action, "extension_approved");
    cr_assert_eq(h_get("op-jianwai", t)->due_ms, o->resolve_due_ms + 24 * HOUR, "the case's due time follows");
    cr_assert_eq(sweep_at(o->resolve_due_ms), 0, "the old deadline is gone");
    cr_assert_eq(sweep_at(o->resolve_due_ms + 24 * HOUR), 2, "the new one runs (order and case)");
    assert_code(h_write("op-jianwai", rq_decide(o->id, true, "")), FAILED_PRECONDITION);
}

Test(deadline, extension_refused_keeps_the_deadline)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    assert_ok(h_write("urban", rq_ext(o->id, 48, "short of staff")));
    assert_code(h_write("op-jianwai", rq_decide(o->id, false, "")), INVALID_ARGUMENT);
    Whistle__V1__Response *r = h_write("op-jianwai", rq_decide(o->id, false, "rubbish cannot wait"));
    assert_ok(r);
    cr_assert_eq(r->order->resolve_due_ms, o->resolve_due_ms);
    cr_assert_eq(r->order->extension->state, WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_REFUSED);
    cr_assert_str_eq(last_push("dept:urban")->action, "extension_refused");
}

/* ------------------------------------------------------------ parking */

Test(deadline, a_parked_case_runs_no_deadline_and_unparking_shifts_them)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    Whistle__V1__Response *r = h_write("op-jianwai", rq_park(true, t, "waiting for the owner to return"));
    assert_ok(r);
    cr_assert(r->event->parked);
    cr_assert_str_eq(rows(), "", "parked: nothing runs (%s)", rows());
    assert_code(h_write("op-jianwai", rq_park(true, t, "again")), FAILED_PRECONDITION);
    cr_assert_eq(sweep_at(o->resolve_due_ms + HOUR), 0);
    /* the problem pool is listed with parked = true */
    Whistle__V1__Request *l = rq_list_events(0, NULL, 50, NULL);
    l->list_events->parked = true;
    r = h_read("op-jianwai", l);
    assert_ok(r);
    cr_assert_eq(r->events->n_events, 1);
    int64_t before = get_order(o->id)->check_in_due_ms;
    int64_t t_park = h_get("op-jianwai", t)->parked_ms;
    int64_t t_unpark = h_now;
    r = h_write("op-jianwai", rq_park(false, t, "owner back"));
    assert_ok(r);
    cr_assert_not(r->event->parked);
    Whistle__V1__Order *a = get_order(o->id);
    cr_assert_eq(a->check_in_due_ms, before + (t_unpark - t_park), "moved by the time parked");
    cr_assert(strstr(rows(), "check_in") && strstr(rows(), "resolve") && strstr(rows(), "case"), "%s", rows());
    cr_assert_str_eq(last_push(JIANWAI)->action, "unpark");
}

/* ------------------------------------------------------------ stages */

Test(deadline, staged_limits_run_per_stage)
{
    /* Give 0101 stages: stop work in 4 working hours, removal in 20
     * working days (the store is the test's own). */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Category *cat;
    cr_assert_eq(store_get(txn, h_st->categories, "0101", 4, &whistle__v1__category__descriptor, h_a, (void **)&cat),
                 0);
    static Whistle__V1__Stage s1 = WHISTLE__V1__STAGE__INIT, s2 = WHISTLE__V1__STAGE__INIT;
    static Whistle__V1__TimeLimit l1 = WHISTLE__V1__TIME_LIMIT__INIT, l2 = WHISTLE__V1__TIME_LIMIT__INIT;
    l1.amount = 4, l1.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS;
    l2.amount = 20, l2.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
    s1.name_zh = "责令停工", s1.limit = &l1;
    s2.name_zh = "拆除", s2.limit = &l2;
    Whistle__V1__Stage *st[] = { &s1, &s2 };
    cat->stages = st;
    cat->n_stages = 2;
    cr_assert_eq(store_put(txn, h_st->categories, "0101", 4, &cat->base), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);

    const char *t = filed_case("0101");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    cr_assert_eq(o->n_stages, 2);
    /* T0 is Saturday 16:30 local: 4 working hours end Monday 13:00. */
    cr_assert_eq(o->stages[0]->due_ms, T0 + (2 * 24 - 16) * HOUR - 30 * MIN + 13 * HOUR);
    Whistle__V1__Request *rs = h_req();
    rs->call_case = CALL(REPORT_STAGE);
    rs->report_stage = NEW(Whistle__V1__ReportStage, whistle__v1__report_stage__init);
    rs->report_stage->order_id = o->id;
    rs->report_stage->stage = 3;
    assert_code(h_write("urban", rs), INVALID_ARGUMENT);
    rs->report_stage->stage = 1;
    rs->report_stage->note = "work stopped";
    Whistle__V1__Response *r = h_write("urban", rs);
    assert_ok(r);
    cr_assert_neq(r->order->stages[0]->done_ms, 0);
    assert_code(h_write("urban", rs), FAILED_PRECONDITION);
    cr_assert_eq(sweep_at(o->stages[0]->due_ms), 1, "only the check-in: stage 1 is done");
    cr_assert_eq(get_order(o->id)->n_misses, 1);
    cr_assert_str_eq(get_order(o->id)->misses[0]->kind, "check_in");
}

/* ------------------------------------------------------------ restart */

Test(deadline, deadlines_survive_a_restart_and_fire_when_it_comes_back)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    /* "down" over the deadline: close the store, open it again later */
    store_close(h_st);
    h_st = NULL;
    h_open_opts(NULL);
    cr_assert_eq(first_due(), o->check_in_due_ms, "the row is still there");
    cr_assert_eq(sweep_at(o->check_in_due_ms + 5 * HOUR), 3, "check-in, resolve and the case, at once");
    Whistle__V1__Order *a = get_order(o->id);
    cr_assert_eq(a->n_misses, 2);
    cr_assert(a->escalated, "two misses: the district hears of it");
    (void)t;
}

/* ------------------------------------------------------------ whistled --check */

#include "check.h"

static uint64_t check_violations(char *out, size_t len)
{
    store_close(h_st);
    h_st = NULL;
    FILE *f = fmemopen(out, len, "w");
    cr_assert(f);
    check_report rep;
    char err[256] = "";
    int rc = check_store(h_dir, f, &rep, err, sizeof err);
    fclose(f);
    cr_assert(rc == 0 || rc == 1, "check_store: %s", err);
    h_open_opts(NULL);
    return rep.violations;
}

Test(deadline, the_checker_finds_a_missing_or_a_stale_deadline_row)
{
    const char *t = filed_case("0102");
    Whistle__V1__Order *o = whistle1(t, "urban", 0);
    cr_assert_eq(sweep_at(o->check_in_due_ms), 1);
    char out[4096] = "";
    cr_assert_eq(check_violations(out, sizeof out), 0, "a clean store: %s", out);

    /* the resolve row goes missing, and a row nobody runs appears */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    uint8_t key[17];
    store_be64(key, (uint64_t)o->resolve_due_ms);
    key[8] = DL_RESOLVE;
    store_be64(key + 9, o->id);
    MDB_val k = { 17, key }, v = { 0, "" };
    cr_assert_eq(mdb_del(txn, h_st->deadlines, &k, NULL), 0);
    store_be64(key, (uint64_t)(o->resolve_due_ms + 1));
    cr_assert_eq(mdb_put(txn, h_st->deadlines, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    memset(out, 0, sizeof out);
    cr_assert_eq(check_violations(out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "deadlines has no row"), "%s", out);
    cr_assert(strstr(out, "stale"), "%s", out);
}
