/* test_event.c: the case's closed loop through api_write/api_read, with the
 * fixture city (tests/fixtures/seed-small.json). */
#include "helpers.h"

#include "daemon/records.pb-c.h"

TestSuite(event, .init = h_setup, .fini = h_teardown);

#define GRID1 "110105001001001"
#define GRID2 "110105001001002"
#define CHAOWAI_GRID "110105002001001"
#define JIANWAI "street:110105001"
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

/* Reports at GRID1 as the kiosk and files it as the street's operator. */
static const char *filed_case(void)
{
    const char *t = h_report_as("kiosk-yonganli", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    return t;
}

static Whistle__V1__WhistleResult *whistle2(const char *t, const char *d1, const char *d2)
{
    Whistle__V1__Response *r = h_write("op-jianwai", rq_whistle(t, 2, d1, d2));
    assert_ok(r);
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_WHISTLE);
    cr_assert_eq(r->whistle->n_orders, 2);
    return r->whistle;
}

static Whistle__V1__Order *order_call(const char *who, Whistle__V1__Request__CallCase cc, uint64_t id, const char *text)
{
    Whistle__V1__Response *r = h_write(who, rq_order(cc, id, text));
    assert_ok(r);
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_ORDER);
    return r->order;
}

static const char *timeline_actions(const Whistle__V1__Event *e)
{
    char *s = arena_strdup(h_a, "");
    for (size_t i = 0; i < e->n_timeline; i++)
        s = arena_printf(h_a, "%s%s%s", s, i ? " " : "", e->timeline[i]->action);
    return s;
}

/* ------------------------------------------------------------ the whole loop */

Test(event, whole_loop_report_to_rating)
{
    Whistle__V1__Request *rep = rq_report(GRID1, "0101", "a shed built on the green");
    rep->report->contact = "13800000000";
    Whistle__V1__Response *r = h_write("kiosk-yonganli", rep);
    assert_ok(r);
    Whistle__V1__Event *e = r->event;
    cr_assert_str_eq(e->ticket, "E2026112100001");
    cr_assert_eq(e->state, ES(REPORTED));
    cr_assert_eq(e->source, WHISTLE__V1__SOURCE__SOURCE_KIOSK);
    cr_assert_eq(e->priority, WHISTLE__V1__PRIORITY__PRIORITY_NORMAL);
    cr_assert_str_eq(e->street, "110105001");
    cr_assert_str_eq(e->reporter, "kiosk-yonganli");
    const char *t = e->ticket;

    r = h_write("op-jianwai", rq_ticket(CALL(FILE), t));
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(FILED));

    Whistle__V1__WhistleResult *w = whistle2(t, "urban", "housing");
    cr_assert_eq(w->event->state, ES(WHISTLED));
    cr_assert_str_eq(w->event->lead_department, "urban");
    cr_assert_eq(w->event->whistle_kind, WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_ROUTINE);
    cr_assert_eq(w->event->n_order_ids, 2);
    Whistle__V1__Order *ou = w->orders[0], *oh = w->orders[1];
    cr_assert_str_eq(ou->department, "urban");
    cr_assert(ou->lead);
    cr_assert_not(oh->lead);
    cr_assert_eq(ou->state, OS(PENDING));
    cr_assert_str_eq(ou->ticket, t);
    cr_assert_str_eq(ou->node, GRID1);
    cr_assert_neq(ou->id, oh->id);

    cr_assert_eq(order_call("urban", CALL(CHECK_IN), ou->id, "on our way")->state, OS(CHECKED_IN));
    cr_assert_eq(order_call("housing", CALL(CHECK_IN), oh->id, "")->state, OS(CHECKED_IN));
    cr_assert_eq(order_call("urban", CALL(FEEDBACK), ou->id, "shed removed")->state, OS(DONE));
    cr_assert_eq(h_get("admin", t)->state, ES(WHISTLED), "one department still working");
    cr_assert_eq(order_call("housing", CALL(FEEDBACK), oh->id, "permit checked")->state, OS(DONE));
    cr_assert_eq(h_get("admin", t)->state, ES(RESOLVED), "every order done resolves the case");

    Whistle__V1__Request *v = rq_ticket(CALL(VERIFY), t);
    v->verify->pass = true;
    r = h_write("gw-1", v);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(VERIFIED));
    r = h_write("op-jianwai", rq_ticket(CALL(CLOSE), t));
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(CLOSED));

    Whistle__V1__Request *rate = rq_ticket(CALL(RATE), t);
    rate->rate->score = 5;
    rate->rate->comment = "很满意";
    r = h_write("kiosk-yonganli", rate);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "phone_last4");
    rate->rate->phone_last4 = "0001";
    r = h_write("kiosk-yonganli", rate);
    assert_code(r, NOT_FOUND);
    assert_msg_has(r, "no ticket");
    rate->rate->phone_last4 = "0000";
    r = h_write("kiosk-yonganli", rate);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(CLOSED));
    cr_assert_eq(r->event->rating, 5);
    r = h_write("kiosk-yonganli", rate);
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "already rated");

    assert_code(h_read("kiosk-yonganli", rq_ticket(CALL(GET_EVENT), t)), PERMISSION_DENIED);
    Whistle__V1__Request *lk = h_req();
    lk->call_case = CALL(LOOKUP_TICKET);
    lk->lookup_ticket = NEW(Whistle__V1__LookupTicket, whistle__v1__lookup_ticket__init);
    lk->lookup_ticket->ticket = (char *)t;
    lk->lookup_ticket->phone_last4 = "0000";
    r = h_read("kiosk-yonganli", lk);
    assert_ok(r);
    e = r->event;
    cr_assert_str_eq(timeline_actions(e), "report file whistle dispatch dispatch check_in check_in feedback "
                                          "feedback resolved verify close rate");
    cr_assert_str_eq(e->contact, "", "a kiosk is a shared terminal: it never shows a phone, not even its own case's");
    for (size_t i = 0; i < e->n_timeline; i++)
        cr_assert_gt(e->timeline[i]->at_ms, 0);
    cr_assert_eq(e->timeline[5]->order_id, ou->id);
    cr_assert_str_eq(e->timeline[5]->department, "urban");
    cr_assert_eq(e->timeline[e->n_timeline - 1]->state, ES(CLOSED));
    cr_assert_gt(e->updated_ms, e->created_ms);

    /* Pushes: the street feed follows every change; each department sees
     * its own order only; nothing goes to the kiosk, where the next
     * resident would read it. */
    const char *all =
        "report file whistle dispatch dispatch check_in check_in feedback feedback resolved verify close rate";
    cr_assert_str_eq(h_actions(JIANWAI, 0), all);
    cr_assert_str_eq(h_actions("principal:kiosk-yonganli", 0), "");
    cr_assert_str_eq(h_actions("dept:urban", 0), "dispatch check_in feedback");
    cr_assert_str_eq(h_actions("dept:housing", 0), "dispatch check_in feedback");
    cr_assert_str_eq(h_actions("dept:police", 0), "");
    cr_assert_str_eq(h_actions("street:110105002", 0), "");

    h_pushes *dp = h_stream("dept:urban", 0);
    cr_assert_eq(dp->p[0]->order->id, ou->id);
    cr_assert_eq(dp->p[0]->order->state, OS(PENDING));
    cr_assert_eq(dp->p[0]->event->n_timeline, 0, "pushes carry the case without its timeline");
    cr_assert_str_eq(dp->p[0]->event->contact, "", "a department's push holds no personal data");
    cr_assert_str_eq(dp->p[0]->actor, "op-jianwai");
    h_pushes *sp = h_stream(JIANWAI, 0);
    for (size_t i = 0; i < sp->n; i++)
        cr_assert_eq(sp->p[i]->event->n_timeline, 0);
    /* Issue 11, item 2: the street's feed carries each new order, so that
     * every desk of the command center sees orders whistled from another
     * (the console's countdowns and department board). */
    cr_assert_null(sp->p[2]->order, "the whistle itself is the case's change");
    cr_assert_str_eq(sp->p[3]->action, "dispatch");
    cr_assert_not_null(sp->p[3]->order);
    cr_assert_not_null(sp->p[4]->order);
    cr_assert_eq(sp->p[3]->order->state, OS(PENDING));
    cr_assert_gt(sp->p[3]->order->check_in_due_ms, 0, "the order carries its deadline");
    cr_assert(sp->p[3]->order->id == ou->id || sp->p[4]->order->id == ou->id);
    cr_assert_eq(sp->p[3]->event->state, ES(WHISTLED));
    cr_assert_str_eq(sp->p[0]->event->contact, "13800000000", "the street's operators may call back");
}

Test(event, tickets_count_per_utc_day)
{
    cr_assert_str_eq(h_report_as("gw-1", GRID1), "E2026112100001");
    cr_assert_str_eq(h_report_as("gw-1", GRID1), "E2026112100002");
    h_now = T0 + 86400000LL;
    cr_assert_str_eq(h_report_as("gw-1", GRID1), "E2026112200001");
}

/* ------------------------------------------------------------ report rules */

Test(event, report_validates_its_input)
{
    assert_code(h_write("gw-1", rq_report(GRID1, "01", "x")), INVALID_ARGUMENT);
    assert_code(h_write("gw-1", rq_report(GRID1, "0199", "x")), INVALID_ARGUMENT);
    assert_code(h_write("gw-1", rq_report(GRID1, "0101", "")), INVALID_ARGUMENT);
    assert_code(h_write("gw-1", rq_report("110105001001999", "0101", "x")), NOT_FOUND);
    Whistle__V1__Response *r = h_write("admin", rq_report("110105", "0101", "x"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "district");
    r = h_write("comm-yonganli", rq_report("110105001001003", "0101", "x"));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "retired");

    char *big = arena_alloc(h_a, 4002);
    memset(big, 'a', 4001);
    assert_code(h_write("gw-1", rq_report(GRID1, "0101", big)), INVALID_ARGUMENT);
    assert_code(h_write("gw-1", rq_report(GRID1, "0101", "bad \xff utf-8")), INVALID_ARGUMENT);

    Whistle__V1__Request *q = rq_report(GRID1, "0101", "x");
    q->report->has_location = true;
    q->report->lat = 95;
    q->report->lon = 116.4;
    assert_code(h_write("gw-1", q), INVALID_ARGUMENT);
    q = rq_report(GRID1, "0101", "x");
    q->report->contact = "01234567890123456789012345678901234567890123456789012345678901234567890";
    assert_code(h_write("gw-1", q), INVALID_ARGUMENT);
    q = rq_report(GRID1, "0101", "x");
    q->report->priority = 9;
    assert_code(h_write("gw-1", q), INVALID_ARGUMENT);

    /* None of the refused reports took a ticket number. */
    cr_assert_str_eq(h_report_as("gw-1", GRID1), "E2026112100001");
    cr_assert_str_eq(h_actions(JIANWAI, 0), "report");
}

Test(event, report_scope_and_derived_source)
{
    Whistle__V1__Response *r = h_write("kiosk-yonganli", rq_report(CHAOWAI_GRID, "0101", "x"));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "outside your scope 110105001001");

    cr_assert_eq(h_get("admin", h_report_as("gw-1", GRID1))->source, WHISTLE__V1__SOURCE__SOURCE_PATROL);
    cr_assert_eq(h_get("admin", h_report_as("hotline", CHAOWAI_GRID))->source, WHISTLE__V1__SOURCE__SOURCE_HOTLINE);
    cr_assert_eq(h_get("admin", h_report_as("smoke-1", GRID1))->source, WHISTLE__V1__SOURCE__SOURCE_SENSOR);
    Whistle__V1__Event *e = h_get("admin", h_report_as("op-jianwai", "110105001"));
    cr_assert_eq(e->source, WHISTLE__V1__SOURCE__SOURCE_RESIDENT);
    cr_assert_str_eq(e->street, "110105001", "a case may sit on the street node itself");
    cr_assert_str_eq(h_get("admin", h_report_as("hotline", CHAOWAI_GRID))->street, "110105002");

    assert_code(h_write("police", rq_report(GRID1, "0101", "x")), PERMISSION_DENIED);
}

/* ------------------------------------------------------------ state machine */

Test(event, illegal_transitions_name_the_state_and_what_is_allowed)
{
    const char *t = filed_case();
    Whistle__V1__Response *r = h_write("op-jianwai", rq_ticket(CALL(CLOSE), t));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, arena_printf(h_a, "case %s is filed; close needs verified. Allowed now: assign, whistle", t));

    r = h_write("op-jianwai", rq_ticket(CALL(FILE), t));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "is filed; file needs reported");

    Whistle__V1__Request *v = rq_ticket(CALL(VERIFY), t);
    v->verify->pass = true;
    assert_code(h_write("gw-1", v), FAILED_PRECONDITION);

    Whistle__V1__Request *rate = rq_ticket(CALL(RATE), t);
    rate->rate->score = 3;
    r = h_write("op-jianwai", rate);
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "rate needs closed");

    Whistle__V1__Request *rej = rq_ticket(CALL(REJECT), t);
    rej->reject->reason = "duplicate";
    assert_code(h_write("op-jianwai", rej), FAILED_PRECONDITION);

    /* A refused call changes nothing. */
    Whistle__V1__Event *e = h_get("admin", t);
    cr_assert_eq(e->state, ES(FILED));
    cr_assert_eq(e->n_timeline, 2);
    cr_assert_str_eq(h_actions(JIANWAI, 0), "report file");
}

Test(event, reject_needs_a_reason_and_is_final)
{
    const char *t = h_report_as("kiosk-yonganli", GRID1);
    Whistle__V1__Request *rej = rq_ticket(CALL(REJECT), t);
    assert_code(h_write("op-jianwai", rej), INVALID_ARGUMENT);
    rej->reject->reason = "duplicate of E2026112000007";
    Whistle__V1__Response *r = h_write("op-jianwai", rej);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(REJECTED));
    cr_assert_str_eq(r->event->reject_reason, "duplicate of E2026112000007");
    r = h_write("op-jianwai", rq_ticket(CALL(FILE), t));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "rejected is final");
    cr_assert_str_eq(h_actions(JIANWAI, 0), "report reject");
}

Test(event, order_actions_follow_the_order_state)
{
    const char *t = filed_case();
    Whistle__V1__WhistleResult *w = whistle2(t, "urban", "housing");
    uint64_t u = w->orders[0]->id, h = w->orders[1]->id;

    Whistle__V1__Response *r = h_write("urban", rq_order(CALL(FEEDBACK), u, "done"));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, arena_printf(h_a,
                                   "order %llu is pending; feedback needs checked_in. Allowed now: check_in, "
                                   "return",
                                   (unsigned long long)u));
    order_call("urban", CALL(CHECK_IN), u, "");
    r = h_write("urban", rq_order(CALL(CHECK_IN), u, ""));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "is checked_in; check_in needs pending");

    assert_code(h_write("housing", rq_order(CALL(RETURN_ORDER), h, "")), INVALID_ARGUMENT);
    Whistle__V1__Order *o = order_call("housing", CALL(RETURN_ORDER), h, "not a housing matter");
    cr_assert_eq(o->state, OS(RETURNED));
    cr_assert_str_eq(o->return_reason, "not a housing matter");
    r = h_write("housing", rq_order(CALL(FEEDBACK), h, "x"));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "is returned");
    assert_code(h_write("housing", rq_order(CALL(CHECK_IN), h, "")), FAILED_PRECONDITION);
    assert_code(h_write("urban", rq_order(CALL(CHECK_IN), 9999, "")), NOT_FOUND);
    assert_code(h_write("urban", rq_order(CALL(FEEDBACK), u, "")), INVALID_ARGUMENT);

    cr_assert_str_eq(h_actions("dept:housing", 0), "dispatch return");
    cr_assert_str_eq(h_actions(JIANWAI, 0), "report file whistle dispatch dispatch check_in return");

    /* The returned department's order no longer counts: urban's feedback
     * resolves the case. */
    order_call("urban", CALL(FEEDBACK), u, "done");
    cr_assert_eq(h_get("admin", t)->state, ES(RESOLVED));
    cr_assert_str_eq(h_actions(JIANWAI, 7), "feedback resolved");
}

Test(event, redispatch_refuses_departments_with_a_live_order)
{
    const char *t = filed_case();
    Whistle__V1__WhistleResult *w = whistle2(t, "urban", "housing");
    order_call("housing", CALL(RETURN_ORDER), w->orders[1]->id, "wrong department");

    Whistle__V1__Response *r = h_write("op-jianwai", rq_whistle(t, 2, "police", "urban"));
    assert_code(r, ALREADY_EXISTS);
    assert_msg_has(r, "urban");

    r = h_write("op-jianwai", rq_whistle(t, 2, "police", "housing"));
    assert_ok(r);
    cr_assert_eq(r->whistle->event->n_order_ids, 4);
    cr_assert_str_eq(r->whistle->event->lead_department, "urban", "the live lead stays the lead");
    cr_assert_not(r->whistle->orders[0]->lead);
    cr_assert_str_eq(h_actions("dept:police", 0), "dispatch");
    cr_assert_str_eq(h_actions("dept:housing", 0), "dispatch return dispatch");
}

Test(event, whistle_validates_departments_and_lead)
{
    const char *t = filed_case();
    assert_code(h_write("op-jianwai", rq_whistle(t, 0)), INVALID_ARGUMENT);
    assert_code(h_write("op-jianwai", rq_whistle(t, 1, "nobody")), INVALID_ARGUMENT);
    assert_code(h_write("op-jianwai", rq_whistle(t, 2, "urban", "urban")), INVALID_ARGUMENT);
    Whistle__V1__Request *q = rq_whistle(t, 2, "urban", "housing");
    q->whistle->lead = "police";
    assert_code(h_write("op-jianwai", q), INVALID_ARGUMENT);
    q->whistle->lead = "housing";
    q->whistle->kind = WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY;
    Whistle__V1__Response *r = h_write("op-jianwai", q);
    assert_ok(r);
    cr_assert_str_eq(r->whistle->event->lead_department, "housing");
    cr_assert(r->whistle->orders[1]->lead);
    cr_assert_eq(r->whistle->orders[0]->kind, WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY);
    cr_assert_eq(r->whistle->orders[0]->id, 1, "refused whistles took no order numbers");
}

Test(event, verify_fail_sends_orders_back_to_rework)
{
    const char *t = filed_case();
    Whistle__V1__WhistleResult *w = whistle2(t, "urban", "housing");
    uint64_t u = w->orders[0]->id, h = w->orders[1]->id;
    order_call("urban", CALL(CHECK_IN), u, "");
    order_call("urban", CALL(FEEDBACK), u, "removed");
    order_call("housing", CALL(RETURN_ORDER), h, "not ours");
    cr_assert_eq(h_get("admin", t)->state, ES(RESOLVED));
    uint64_t urban_seq = h_last_seq("dept:urban");
    uint64_t housing_seq = h_last_seq("dept:housing");

    Whistle__V1__Request *v = rq_ticket(CALL(VERIFY), t);
    v->verify->pass = false;
    assert_code(h_write("gw-1", v), INVALID_ARGUMENT); /* a failed check says why */
    v->verify->note = "the shed is still there";
    Whistle__V1__Response *r = h_write("gw-1", v);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(WHISTLED));
    cr_assert_eq(r->event->rework_count, 1);

    cr_assert_str_eq(h_actions("dept:urban", urban_seq), "rework");
    cr_assert_str_eq(h_actions("dept:housing", housing_seq), "", "a returned order is not reworked");
    h_pushes *ps = h_stream("dept:urban", urban_seq);
    cr_assert_eq(ps->p[0]->order->state, OS(CHECKED_IN));

    Whistle__V1__Response *lo = h_read("urban", rq_list_orders(NULL, t, 0, 0));
    assert_ok(lo);
    cr_assert_eq(lo->orders->n_orders, 1);
    cr_assert_eq(lo->orders->orders[0]->state, OS(CHECKED_IN));

    order_call("urban", CALL(FEEDBACK), u, "really removed");
    cr_assert_eq(h_get("admin", t)->state, ES(RESOLVED));
}

Test(event, local_handling_assign_resolve_and_rework)
{
    const char *t = filed_case();
    Whistle__V1__Request *as = rq_ticket(CALL(ASSIGN), t);
    as->assign->assignee = "police";
    assert_code(h_write("op-jianwai", as), INVALID_ARGUMENT);
    as->assign->assignee = "gw-9";
    assert_code(h_write("op-jianwai", as), NOT_FOUND);
    as->assign->assignee = "gw-2";
    Whistle__V1__Response *r = h_write("op-jianwai", as);
    assert_code(r, INVALID_ARGUMENT); /* gw-2's grid does not cover GRID1 */
    as->assign->assignee = "gw-1";
    r = h_write("op-jianwai", as);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(HANDLING));
    cr_assert_str_eq(r->event->assignee, "gw-1");
    cr_assert_str_eq(h_actions("principal:gw-1", 0), "assign");

    Whistle__V1__Request *res = rq_ticket(CALL(RESOLVE), t);
    res->resolve->note = "talked to the owner";
    r = h_write("comm-yonganli", res);
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "resolves only the cases assigned to it");
    r = h_write("gw-1", res);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(RESOLVED));
    cr_assert_str_eq(r->event->resolution, "talked to the owner");

    Whistle__V1__Request *v = rq_ticket(CALL(VERIFY), t);
    v->verify->note = "not fixed";
    r = h_write("comm-yonganli", v);
    assert_ok(r);
    cr_assert_eq(r->event->state, ES(HANDLING));
    cr_assert_eq(r->event->rework_count, 1);
    cr_assert_str_eq(h_actions("principal:gw-1", 0), "assign rework");
    cr_assert_str_eq(h_actions(JIANWAI, 0), "report file assign resolve verify");
}

Test(event, whistle_from_local_handling)
{
    const char *t = filed_case();
    Whistle__V1__Request *as = rq_ticket(CALL(ASSIGN), t);
    as->assign->assignee = "gw-1";
    assert_ok(h_write("op-jianwai", as));
    Whistle__V1__Response *r = h_write("op-jianwai", rq_whistle(t, 1, "urban"));
    assert_ok(r);
    cr_assert_eq(r->whistle->event->state, ES(WHISTLED));
    Whistle__V1__Request *res = rq_ticket(CALL(RESOLVE), t);
    res->resolve->note = "x";
    r = h_write("gw-1", res);
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "whistled");
}

/* ------------------------------------------------------------ authority */

static int count_denied(void *ctx, const Whistled__AuditRecord *r)
{
    if (*r->denied)
        ++*(int *)ctx;
    return 0;
}

/* The rule of the first denial of principal, or "". */
struct first_denial {
    const char *principal;
    const char *rule;
};
static int find_denial(void *ctx, const Whistled__AuditRecord *r)
{
    struct first_denial *fd = ctx;
    if (*r->denied && !*fd->rule && strcmp(r->principal, fd->principal) == 0)
        fd->rule = arena_strdup(h_a, r->denied);
    return 0;
}

static int audit_denials(void)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0); /* flushes queued denials */
    cr_assert_eq(mdb_txn_commit(txn), 0);
    int n = 0;
    txn = store_read_begin(h_st);
    audit_read(h_st, txn, 0, 10000, h_a, count_denied, &n);
    store_read_end(h_st);
    return n;
}

Test(event, scope_denials_name_the_rule_and_are_audited)
{
    const char *t = filed_case();
    Whistle__V1__Response *r = h_write("kiosk-yonganli", rq_whistle(t, 1, "urban"));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "role kiosk may not whistle (rule: whistle needs operator or admin)");

    /* outside the scope a case reads like a missing one; the audit log
     * keeps where it is and the rule (audit_denials below) */
    r = h_write("op-chaowai", rq_whistle(t, 1, "urban"));
    assert_code(r, NOT_FOUND);
    cr_assert_str_eq(h_msg(r), arena_printf(h_a, "no case %s", t));
    r = h_read("op-chaowai", rq_ticket(CALL(GET_EVENT), t));
    assert_code(r, NOT_FOUND);

    Whistle__V1__WhistleResult *w = whistle2(t, "urban", "housing");
    r = h_read("police", rq_list_orders("urban", NULL, 0, 0));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "a department lists its own orders only");
    r = h_write("urban", rq_order(CALL(CHECK_IN), w->orders[1]->id, ""));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "belongs to housing");
    r = h_read("police", rq_ticket(CALL(GET_EVENT), t));
    assert_code(r, NOT_FOUND);
    r = h_read("urban", rq_list_events(0, NULL, 0, NULL));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "departments list their orders");
    r = h_read("kiosk-2", rq_ticket(CALL(GET_EVENT), t));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "a kiosk reads a ticket only with lookup and the phone's digits");
    r = h_read("smoke-1", rq_ticket(CALL(GET_EVENT), t));
    assert_code(r, PERMISSION_DENIED);
    r = h_read("gw-1", rq_list_orders(NULL, NULL, 0, 0));
    assert_code(r, PERMISSION_DENIED);

    cr_assert_eq(audit_denials(), 10);
    struct first_denial fd = { "op-chaowai", "" };
    MDB_txn *txn = store_read_begin(h_st);
    audit_read(h_st, txn, 0, 10000, h_a, find_denial, &fd);
    store_read_end(h_st);
    cr_assert_str_eq(fd.rule, arena_printf(h_a,
                                           "case %s is at %s, outside the scope 110105002 (rule: an operator "
                                           "acts on its street only)",
                                           t, GRID1));
    cr_assert_eq(h_get("admin", t)->state, ES(WHISTLED));
}

Test(event, contact_is_shown_to_admin_operator_and_reporter_only_never_at_a_kiosk)
{
    Whistle__V1__Request *rep = rq_report(GRID1, "0101", "noise");
    rep->report->contact = "13900000000";
    Whistle__V1__Response *r = h_write("kiosk-yonganli", rep);
    assert_ok(r);
    const char *t = r->event->ticket;
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    assert_ok(h_write("op-jianwai", rq_whistle(t, 1, "police")));
    cr_assert_str_eq(h_get("admin", t)->contact, "13900000000");
    cr_assert_str_eq(h_get("op-jianwai", t)->contact, "13900000000");
    assert_code(h_read("kiosk-yonganli", rq_ticket(CALL(GET_EVENT), t)), PERMISSION_DENIED);
    cr_assert_str_eq(h_get("gw-1", t)->contact, "");
    cr_assert_str_eq(h_get("hotline", t)->contact, "");
    Whistle__V1__Event *pe = h_get("police", t);
    cr_assert_str_eq(pe->contact, "");
    cr_assert_str_eq(pe->description, "noise");
}

/* ------------------------------------------------------------ lists */

Test(event, list_events_pages_through_everything_once)
{
    const char *tickets[7];
    for (int i = 0; i < 7; i++)
        tickets[i] =
            i < 5 ? h_report_as(i % 2 ? "gw-1" : "kiosk-yonganli", GRID1) : h_report_as("comm-yonganli", GRID2);
    h_report_as("hotline", CHAOWAI_GRID);

    const char *cursor = NULL;
    int seen[7] = { 0 }, pages = 0, total = 0;
    do {
        Whistle__V1__Response *r = h_read("op-jianwai", rq_list_events(0, NULL, 3, cursor));
        assert_ok(r);
        pages++;
        for (size_t i = 0; i < r->events->n_events; i++) {
            Whistle__V1__Event *e = r->events->events[i];
            cr_assert_eq(e->n_timeline, 0, "lists omit timelines");
            int found = 0;
            for (int j = 0; j < 7; j++)
                if (strcmp(e->ticket, tickets[j]) == 0)
                    seen[j]++, found = 1;
            cr_assert(found, "%s is not of this street", e->ticket);
            total++;
        }
        cursor = *r->events->next_cursor ? r->events->next_cursor : NULL;
        cr_assert(cursor || r->events->n_events > 0);
    } while (cursor && pages < 10);
    cr_assert_eq(pages, 3);
    cr_assert_eq(total, 7);
    for (int j = 0; j < 7; j++)
        cr_assert_eq(seen[j], 1);

    /* Exactly a full last page: no cursor pointing at an empty page. */
    Whistle__V1__Response *r = h_read("op-jianwai", rq_list_events(0, NULL, 7, NULL));
    cr_assert_eq(r->events->n_events, 7);
    cr_assert_str_eq(r->events->next_cursor, "");

    /* Subtree of a grid; state filter; a kiosk lists nothing; other street. */
    r = h_read("op-jianwai", rq_list_events(0, GRID2, 0, NULL));
    cr_assert_eq(r->events->n_events, 2);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), tickets[1])));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), tickets[6])));
    r = h_read("op-jianwai", rq_list_events(ES(FILED), NULL, 1, NULL));
    cr_assert_eq(r->events->n_events, 1);
    cr_assert_neq(r->events->next_cursor[0], 0);
    r = h_read("op-jianwai", rq_list_events(ES(FILED), NULL, 1, r->events->next_cursor));
    cr_assert_eq(r->events->n_events, 1);
    cr_assert_str_eq(r->events->next_cursor, "");
    r = h_read("admin", rq_list_events(ES(REPORTED), NULL, 0, NULL));
    cr_assert_eq(r->events->n_events, 6, "admin: every street");
    r = h_read("kiosk-yonganli", rq_list_events(0, NULL, 0, NULL));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "a kiosk lists nothing");
    r = h_read("gw-1", rq_list_events(0, NULL, 0, NULL));
    cr_assert_eq(r->events->n_events, 5, "a grid worker lists its grid");
    r = h_read("op-chaowai", rq_list_events(0, NULL, 0, NULL));
    cr_assert_eq(r->events->n_events, 1);
    r = h_read("op-chaowai", rq_list_events(0, GRID1, 0, NULL));
    assert_code(r, PERMISSION_DENIED);
    r = h_read("op-jianwai", rq_list_events(0, NULL, 0, "zz"));
    assert_code(r, INVALID_ARGUMENT);
}

/* The tickets a page lists, joined by spaces. */
static const char *page_tickets(Whistle__V1__Response *r)
{
    assert_ok(r);
    char *s = arena_alloc(h_a, 16 * (r->events->n_events + 1));
    s[0] = '\0';
    for (size_t i = 0; i < r->events->n_events; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, r->events->events[i]->ticket);
    }
    return s;
}

static const char *joined(const char *a, const char *b, const char *c)
{
    return arena_printf(h_a, "%s%s%s%s%s", a, b ? " " : "", b ? b : "", c ? " " : "", c ? c : "");
}

/* issue 11, item 9: newest first, and filtered by category or class,
 * creation time, words of the description, open cases; every filter with
 * the scope, each order's cursor refused in the other. */
Test(event, list_events_newest_first_and_filtered)
{
    static const struct {
        const char *who, *node, *cat, *desc;
    } in[6] = {
        { "comm-yonganli", GRID2, "0102", "Rubbish at the North Gate" },
        { "gw-1", GRID1, "0501", "smoke from a shop" },
        { "gw-1", GRID1, "0101", "a shed on the green" },
        { "comm-yonganli", GRID2, "0102", "rubbish again, north gate" },
        { "gw-1", GRID1, "0102", "暴露垃圾 北门" },
        { "hotline", CHAOWAI_GRID, "0102", "north gate of another street" },
    };
    const char *t[6];
    int64_t at[6];
    for (int i = 0; i < 6; i++) {
        Whistle__V1__Response *r = h_write(in[i].who, rq_report(in[i].node, in[i].cat, in[i].desc));
        assert_ok(r);
        t[i] = r->event->ticket;
        at[i] = r->event->created_ms;
    }
    /* newest first, page by page, inside the scope */
    Whistle__V1__Request *q = rq_list_events(0, NULL, 2, NULL);
    q->list_events->newest_first = true;
    Whistle__V1__Response *r = h_read("op-jianwai", q);
    cr_assert_str_eq(page_tickets(r), joined(t[4], t[3], NULL));
    cr_assert_eq(r->events->next_cursor[0], '-', "%s", r->events->next_cursor);
    q->list_events->cursor = r->events->next_cursor;
    r = h_read("op-jianwai", q);
    cr_assert_str_eq(page_tickets(r), joined(t[2], t[1], NULL));
    q->list_events->cursor = r->events->next_cursor;
    r = h_read("op-jianwai", q);
    cr_assert_str_eq(page_tickets(r), t[0]);
    cr_assert_str_eq(r->events->next_cursor, "");
    /* the other order's cursor is refused, both ways */
    Whistle__V1__Request *by_node = rq_list_events(0, NULL, 2, NULL);
    r = h_read("op-jianwai", by_node);
    cr_assert_str_eq(page_tickets(r), joined(t[1], t[2], NULL), "by place: grid 1 first");
    q->list_events->cursor = r->events->next_cursor;
    assert_code(h_read("op-jianwai", q), INVALID_ARGUMENT);
    q->list_events->cursor = "";
    r = h_read("op-jianwai", q);
    by_node->list_events->cursor = r->events->next_cursor;
    assert_code(h_read("op-jianwai", by_node), INVALID_ARGUMENT);
    /* newest first within a state, and for a grid worker's grid */
    q = rq_list_events(ES(REPORTED), NULL, 0, NULL);
    q->list_events->newest_first = true;
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)),
                     arena_printf(h_a, "%s %s %s %s %s", t[4], t[3], t[2], t[1], t[0]));
    cr_assert_str_eq(page_tickets(h_read("gw-1", q)), joined(t[4], t[2], t[1]));
    cr_assert_str_eq(page_tickets(h_read("admin", q)),
                     arena_printf(h_a, "%s %s %s %s %s %s", t[5], t[4], t[3], t[2], t[1], t[0]));

    /* filters, newest first */
    q = rq_list_events(0, NULL, 0, NULL);
    q->list_events->newest_first = true;
    q->list_events->category = "01";
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), arena_printf(h_a, "%s %s %s %s", t[4], t[3], t[2], t[0]));
    q->list_events->category = "0102";
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), joined(t[4], t[3], t[0]));
    q->list_events->text = "NORTH gate";
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), joined(t[3], t[0], NULL));
    q->list_events->category = "";
    q->list_events->text = "北门";
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), t[4]);
    q->list_events->text = "";
    q->list_events->created_from_ms = at[2];
    q->list_events->created_to_ms = at[4];
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), joined(t[3], t[2], NULL));
    q->list_events->created_from_ms = q->list_events->created_to_ms = 0;
    Whistle__V1__Request *rj = rq_ticket(CALL(REJECT), t[1]);
    rj->reject->reason = "not ours";
    assert_ok(h_write("op-jianwai", rj));
    q->list_events->open = true;
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), arena_printf(h_a, "%s %s %s %s", t[4], t[3], t[2], t[0]));
    /* in the place order too */
    q->list_events->newest_first = false;
    q->list_events->category = "0102";
    cr_assert_str_eq(page_tickets(h_read("op-jianwai", q)), joined(t[4], t[0], t[3]));

    /* what the filters refuse */
    q->list_events->category = "4";
    assert_code(h_read("op-jianwai", q), INVALID_ARGUMENT);
    q->list_events->category = "";
    q->list_events->state = ES(FILED);
    r = h_read("op-jianwai", q);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "open and state go apart");
    q->list_events->state = 0;
    q->list_events->created_from_ms = at[4];
    q->list_events->created_to_ms = at[2];
    assert_code(h_read("op-jianwai", q), INVALID_ARGUMENT);
    q->list_events->created_from_ms = q->list_events->created_to_ms = 0;
    char *long_text = arena_alloc(h_a, 202);
    memset(long_text, 'a', 201);
    long_text[201] = '\0';
    q->list_events->text = long_text;
    assert_code(h_read("op-jianwai", q), INVALID_ARGUMENT);
}

Test(event, list_orders_by_department_ticket_and_scope)
{
    const char *t1 = filed_case(), *t2 = filed_case();
    whistle2(t1, "urban", "housing");
    whistle2(t2, "urban", "police");
    const char *t3 = h_report_as("hotline", CHAOWAI_GRID);
    assert_ok(h_write("op-chaowai", rq_ticket(CALL(FILE), t3)));
    assert_ok(h_write("op-chaowai", rq_whistle(t3, 1, "urban")));

    Whistle__V1__Response *r = h_read("urban", rq_list_orders(NULL, NULL, 2, 0));
    assert_ok(r);
    cr_assert_eq(r->orders->n_orders, 2);
    cr_assert_neq(r->orders->next_after_id, 0);
    r = h_read("urban", rq_list_orders(NULL, NULL, 2, r->orders->next_after_id));
    cr_assert_eq(r->orders->n_orders, 1);
    cr_assert_eq(r->orders->next_after_id, 0);
    cr_assert_str_eq(r->orders->orders[0]->ticket, t3);

    r = h_read("op-jianwai", rq_list_orders(NULL, NULL, 0, 0));
    cr_assert_eq(r->orders->n_orders, 4, "the operator's street only");
    r = h_read("op-jianwai", rq_list_orders("urban", NULL, 0, 0));
    cr_assert_eq(r->orders->n_orders, 2);
    r = h_read("op-jianwai", rq_list_orders(NULL, t2, 0, 0));
    cr_assert_eq(r->orders->n_orders, 2);
    r = h_read("police", rq_list_orders(NULL, t2, 0, 0));
    cr_assert_eq(r->orders->n_orders, 1, "a department sees its own order of the case");
    cr_assert_str_eq(r->orders->orders[0]->department, "police");
    r = h_read("op-chaowai", rq_list_orders(NULL, t1, 0, 0));
    assert_code(r, NOT_FOUND);
    r = h_read("admin", rq_list_orders(NULL, NULL, 0, 0));
    cr_assert_eq(r->orders->n_orders, 5);
}

Test(event, directory_lists)
{
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(LIST_NODES);
    q->list_nodes = NEW(Whistle__V1__ListNodes, whistle__v1__list_nodes__init);
    Whistle__V1__Response *r = h_read("kiosk-yonganli", q);
    assert_ok(r);
    cr_assert_eq(r->nodes->n_nodes, 5, "the community and below");
    q->list_nodes->parent = "110105";
    r = h_read("kiosk-yonganli", q);
    cr_assert_eq(r->nodes->n_nodes, 2, "the district's streets");
    q->list_nodes->parent = "";
    q->list_nodes->kind = WHISTLE__V1__NODE_KIND__NODE_KIND_GRID;
    r = h_read("admin", q);
    cr_assert_eq(r->nodes->n_nodes, 4);

    q = h_req();
    q->call_case = CALL(LIST_DEPARTMENTS);
    r = h_read("smoke-1", q);
    assert_ok(r);
    cr_assert_eq(r->departments->n_departments, 4);
    q->call_case = CALL(LIST_CATEGORIES);
    r = h_read("police", q);
    assert_ok(r);
    cr_assert_eq(r->categories->n_categories, 5);
}

/* ------------------------------------------------------------ audit */

static int count_changes(void *ctx, const Whistled__AuditRecord *r)
{
    int *n = ctx;
    if (strcmp(r->call, "file") == 0) {
        cr_assert_gt(r->before.len, 0);
        cr_assert_gt(r->after.len, 0);
        Whistle__V1__Event *b = whistle__v1__event__unpack(arena_allocator(h_a), r->before.len, r->before.data);
        Whistle__V1__Event *a = whistle__v1__event__unpack(arena_allocator(h_a), r->after.len, r->after.data);
        cr_assert_eq(b->state, ES(REPORTED));
        cr_assert_eq(a->state, ES(FILED));
        cr_assert_str_eq(r->principal, "op-jianwai");
        /* issue 13: a delta, the changed fields and the versions only */
        cr_assert(r->delta);
        cr_assert_eq(b->version, 1);
        cr_assert_eq(a->version, 2);
        cr_assert_str_eq(a->description, "", "an unchanged field is left out");
        bool state = false;
        for (size_t i = 0; i < r->n_changed; i++) {
            state |= strcmp(r->changed[i], "state") == 0;
            cr_assert_str_neq(r->changed[i], "description");
        }
        cr_assert(state, "changed names state");
    }
    if (strcmp(r->call, "report") == 0) {
        cr_assert_eq(r->before.len, 0);
        cr_assert(!r->delta, "a creation keeps the whole record");
    }
    if (strcmp(r->call, "seed") != 0) /* the seed audits each record it loads */
        n[0]++;
    return 0;
}

Test(event, every_change_is_audited_with_before_and_after)
{
    filed_case();
    int n = 0;
    MDB_txn *txn = store_read_begin(h_st);
    audit_read(h_st, txn, 0, 1000, h_a, count_changes, &n);
    store_read_end(h_st);
    cr_assert_eq(n, 2); /* report, file */
}

Test(event, index_rows_follow_the_state)
{
    const char *t = filed_case();
    Whistle__V1__Response *r = h_read("admin", rq_list_events(ES(REPORTED), NULL, 0, NULL));
    cr_assert_eq(r->events->n_events, 0, "the old state's row is gone");
    r = h_read("admin", rq_list_events(ES(FILED), NULL, 0, NULL));
    cr_assert_eq(r->events->n_events, 1);
    cr_assert_str_eq(r->events->events[0]->ticket, t);
}

/* Issue 11, item 13: a grid worker alternating resolve and a failed verify
 * with long notes on its own case grew its answer past the frame: the
 * next write was refused but applied, and the case could be read by no
 * one. A read now carries a window of the timeline (the newest 200 at
 * most), and the rest pages back with GetEvent.timeline_before, each entry
 * once; a write carries only the entries it appended (issue 13). */
Test(event, a_long_lived_case_always_fits_an_answer_and_its_timeline_pages_back)
{
    const char *t = h_report_as("gw-1", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Request *as = rq_ticket(CALL(ASSIGN), t);
    as->assign->assignee = "gw-1";
    assert_ok(h_write("op-jianwai", as));
    char *note = arena_alloc(h_a, 1001);
    memset(note, 'n', 1000);
    Whistle__V1__Response *r = NULL;
    enum { CYCLES = 150 };
    for (int i = 0; i < CYCLES; i++) {
        Whistle__V1__Request *res = rq_ticket(CALL(RESOLVE), t);
        res->resolve->note = note;
        assert_ok(h_write("gw-1", res));
        Whistle__V1__Request *v = rq_ticket(CALL(VERIFY), t);
        v->verify->pass = false;
        v->verify->note = note;
        r = h_write("gw-1", v);
        assert_ok(r);
    }
    size_t total = r->event->timeline_total;
    cr_assert_gt(total, 2 * CYCLES, "%zu entries", total);
    /* issue 13: a write answers with what it appended, not a window */
    cr_assert_eq(r->event->n_timeline, 1, "a write's answer carries the entry it appended");
    cr_assert_eq(r->event->timeline_from, total - 1);
    cr_assert_str_eq(r->event->timeline[0]->action, "verify");
    cr_assert_lt(whistle__v1__response__get_packed_size(r), 4096, "the answer stays small");

    /* read back page by page, newest first: every entry exactly once */
    Whistle__V1__Request *g = rq_ticket(CALL(GET_EVENT), t);
    size_t seen = 0;
    uint32_t before = 0;
    do {
        g->get_event->timeline_before = before;
        Whistle__V1__Response *p = h_read("gw-1", g);
        assert_ok(p);
        cr_assert_eq(p->event->timeline_total, total);
        cr_assert_gt(p->event->n_timeline, 0);
        cr_assert_eq(p->event->timeline_from + p->event->n_timeline, before ? before : total);
        seen += p->event->n_timeline;
        before = p->event->timeline_from;
    } while (before > 0);
    cr_assert_eq(seen, total);
    cr_assert_str_eq(h_get("op-jianwai", t)->timeline[0]->action, "resolve", "the newest page by default");

    g->get_event->timeline_before = (uint32_t)total + 1;
    assert_code(h_read("gw-1", g), INVALID_ARGUMENT);
}

/* Issue 13: a change to a case that has lived long costs what it changes:
 * its audit record and its timeline row do not grow with the history. */
static int last_audit(void *ctx, const Whistled__AuditRecord *r)
{
    *(size_t *)ctx = whistled__audit_record__get_packed_size(r);
    return 0;
}

Test(event, a_change_costs_what_it_changes_not_the_history)
{
    const char *t = h_report_as("gw-1", GRID1);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Request *as = rq_ticket(CALL(ASSIGN), t);
    as->assign->assignee = "gw-1";
    assert_ok(h_write("op-jianwai", as));
    char *note = arena_alloc(h_a, 1001);
    memset(note, 'n', 1000);
    size_t first = 0, last = 0;
    for (int i = 0; i < 60; i++) {
        Whistle__V1__Request *res = rq_ticket(CALL(RESOLVE), t);
        res->resolve->note = note;
        assert_ok(h_write("gw-1", res));
        Whistle__V1__Request *v = rq_ticket(CALL(VERIFY), t);
        v->verify->pass = false;
        v->verify->note = note;
        assert_ok(h_write("gw-1", v));
        MDB_txn *txn = store_read_begin(h_st);
        size_t sz = 0;
        MDB_val k = { 9, "audit_seq" }, val;
        cr_assert_eq(mdb_get(txn, h_st->meta, &k, &val), 0);
        audit_read(h_st, txn, store_get_be64(val.mv_data) - 1, 1, h_a, last_audit, &sz);
        MDB_val ek = { strlen(t), (void *)t };
        cr_assert_eq(mdb_get(txn, h_st->events, &ek, &val), 0);
        if (i == 0)
            first = sz + val.mv_size;
        last = sz + val.mv_size;
        store_read_end(h_st);
    }
    cr_assert_lt(last, first + 64, "the audit record and the case record stay the same size: %zu then %zu", first,
                 last);
    cr_assert_lt(last, 2 * 1024 + 512, "a verify's audit record and case hold its note, not the history: %zu", last);
}

/* Issue 11, item 8: a rule said "a operator"; roles take their article. */
Test(event, a_rule_names_a_role_with_its_article)
{
    Whistle__V1__Response *r = h_write("op-chaowai", rq_report(GRID1, "0101", "in the other street"));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "(rule: an operator reports inside its scope only)");
    r = h_write("gw-1", rq_report("110105002001001", "0101", "in another grid"));
    assert_msg_has(r, "(rule: a grid_worker reports inside its scope only)");
}

/* Issue 13, bounded reads: a listing whose filter matches little ends its
 * page after a bounded number of rows, with a cursor; paging on finds each
 * match once. The cases are written in one transaction, as a batch. */
Test(event, a_sparse_filter_pages_in_bounded_steps_and_finds_every_match_once)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Principal *p = api_principal(h_st, txn, "gw-1", h_a);
    const int N = 4500;
    int rare = 0;
    for (int i = 0; i < N; i++) {
        bool r = i % 1500 == 700;
        rare += r;
        Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
        stream_touched t = { 0 };
        api_write(h_st, txn, p, rq_report(GRID1, r ? "0102" : "0101", "x"), h_now + i, h_a, resp, &t);
        stream_touched_clear(&t);
        assert_ok(resp);
    }
    cr_assert_eq(mdb_txn_commit(txn), 0);
    const char *cursor = "";
    int found = 0, pages = 0;
    do {
        Whistle__V1__Request *q = rq_list_events(0, NULL, 50, cursor);
        q->list_events->category = "0102";
        Whistle__V1__Response *r = h_read("op-jianwai", q);
        assert_ok(r);
        found += (int)r->events->n_events;
        for (size_t i = 0; i < r->events->n_events; i++)
            cr_assert_str_eq(r->events->events[i]->category, "0102");
        cursor = arena_strdup(h_a, str0(r->events->next_cursor));
        cr_assert(++pages < 20, "pages end");
    } while (*cursor);
    cr_assert_eq(found, rare, "every match once: %d of %d", found, rare);
    cr_assert_geq(pages, N / 2000, "the city was read in bounded steps (%d pages)", pages);
}

/* Issue 13: a listing by state inside a street reads that street's rows;
 * another street's cases in the state are not in it, every one of its own
 * is, in ticket order, and pages go on with the cursor. */
Test(event, a_state_in_a_street_lists_from_its_own_index)
{
    const char *mine[3];
    for (int i = 0; i < 3; i++)
        mine[i] = arena_strdup(h_a, filed_case());
    h_report_as("op-chaowai", "110105002001001"); /* another street */
    Whistle__V1__Response *r = h_read("admin", rq_list_events(ES(FILED), "110105001", 2, NULL));
    assert_ok(r);
    cr_assert_eq(r->events->n_events, 2);
    cr_assert_str_eq(r->events->events[0]->ticket, mine[0]);
    cr_assert_str_eq(r->events->events[1]->ticket, mine[1]);
    cr_assert_str_neq(str0(r->events->next_cursor), "");
    r = h_read("admin", rq_list_events(ES(FILED), "110105001", 2, r->events->next_cursor));
    assert_ok(r);
    cr_assert_eq(r->events->n_events, 1);
    cr_assert_str_eq(r->events->events[0]->ticket, mine[2]);
    r = h_read("admin", rq_list_events(ES(REPORTED), "110105001", 10, NULL));
    cr_assert_eq(r->events->n_events, 0, "the other street's reported case is not in this street");
}

/* Issue 13: an operator's orders come from its street's state index, the
 * states merged in id order; a department's orders in a state from its
 * own. Pages go on with next_after_id, each order once. */
Test(event, orders_list_from_the_street_and_department_state_indexes)
{
    uint64_t ids[6];
    int n = 0;
    for (int i = 0; i < 3; i++) {
        const char *t = filed_case();
        Whistle__V1__Response *w = h_write("op-jianwai", rq_whistle(t, 2, "urban", "housing"));
        assert_ok(w);
        for (size_t j = 0; j < w->whistle->n_orders; j++)
            ids[n++] = w->whistle->orders[j]->id;
    }
    cr_assert_eq(n, 6);
    uint64_t urban1 = 0;
    for (int i = 0; i < 6 && !urban1; i++)
        if (strcmp(h_read("admin", rq_list_orders("", NULL, 500, 0))->orders->orders[i]->department, "urban") == 0)
            urban1 = h_read("admin", rq_list_orders("", NULL, 500, 0))->orders->orders[i]->id;
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), urban1, "on the way")));

    /* the operator, two at a time: all six, in id order, once each */
    uint64_t after = 0, prev = 0;
    int seen = 0;
    do {
        Whistle__V1__Response *r = h_read("op-jianwai", rq_list_orders("", NULL, 2, after));
        assert_ok(r);
        for (size_t i = 0; i < r->orders->n_orders; i++) {
            cr_assert_gt(r->orders->orders[i]->id, prev, "in id order, once each");
            prev = r->orders->orders[i]->id;
            seen++;
        }
        after = r->orders->next_after_id;
    } while (after);
    cr_assert_eq(seen, 6);
    cr_assert_eq(prev, ids[5], "the last is the newest order");
    /* the other street's operator sees none of them */
    cr_assert_eq(h_read("op-chaowai", rq_list_orders("", NULL, 50, 0))->orders->n_orders, 0);

    Whistle__V1__Request *q = rq_list_orders("", NULL, 50, 0);
    q->list_orders->state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
    cr_assert_eq(h_read("op-jianwai", q)->orders->n_orders, 5);
    q = rq_list_orders("urban", NULL, 50, 0);
    q->list_orders->state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN;
    Whistle__V1__Response *r = h_read("urban", q);
    assert_ok(r);
    cr_assert_eq(r->orders->n_orders, 1);
    cr_assert_eq(r->orders->orders[0]->id, urban1);
    q->list_orders->state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
    cr_assert_eq(h_read("urban", q)->orders->n_orders, 2);
}
