/* test_deliberation.c: councils, proposals, meetings, votes, ballots and
 * minutes (docs/deliberation.md), through the call table as the writer and
 * the router make the calls. The clock is h_now: each write moves it one
 * second, and a test moves it by days to let a notice period run.
 *
 * The body: comm-yonganli chairs; gw-1 and r1..r4 are representatives (6
 * voting seats: the quorum of 2/3 is 4); att attends (列席), obs observes
 * (旁听), sup supervises. gw-2 holds no seat. */
#include "helpers.h"

#include "authz.h"
#include "deliberation.h"

TestSuite(delib, .init = h_setup, .fini = h_teardown, .timeout = 60);

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define ACT(x) WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_##x
#define SR(x) WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_##x
#define CH(x) WHISTLE__V1__DELIB_CHOICE__DELIB_CHOICE_##x
#define DAY 86400000LL
#define YONGANLI "110105001001"

static const char *const reps[] = { "comm-yonganli", "gw-1", "r1", "r2", "r3", "r4" };

static void add_person(const char *name)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_PRINCIPAL);
    r->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
    Whistle__V1__Principal *p = r->add_principal->principal = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    p->name = (char *)name;
    p->role = WHISTLE__V1__ROLE__ROLE_COMMUNITY;
    p->scope = YONGANLI;
    p->enabled = true;
    assert_ok(h_write("admin", r));
}

static Whistle__V1__DelibSeat *seat(const char *who, int group, int role)
{
    Whistle__V1__DelibSeat *s = NEW(Whistle__V1__DelibSeat, whistle__v1__delib_seat__init);
    s->principal = (char *)who;
    s->group = group;
    s->role = role;
    return s;
}

static Whistle__V1__Request *rq_body(const Whistle__V1__DelibRules *rules)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_BODY);
    r->put_body = NEW(Whistle__V1__PutDelibBody, whistle__v1__put_delib_body__init);
    Whistle__V1__DelibBody *b = r->put_body->body = NEW(Whistle__V1__DelibBody, whistle__v1__delib_body__init);
    b->place = YONGANLI;
    b->name = "永安里四方议事会";
    b->seats = arena_alloc(h_a, 9 * sizeof *b->seats);
    b->seats[b->n_seats++] = seat("comm-yonganli", 1, SR(CHAIR));
    b->seats[b->n_seats++] = seat("gw-1", 4, SR(REPRESENTATIVE));
    b->seats[b->n_seats++] = seat("r1", 2, SR(REPRESENTATIVE));
    b->seats[b->n_seats++] = seat("r2", 3, SR(REPRESENTATIVE));
    b->seats[b->n_seats++] = seat("r3", 4, SR(REPRESENTATIVE));
    b->seats[b->n_seats++] = seat("r4", 5, SR(REPRESENTATIVE));
    b->seats[b->n_seats++] = seat("att", 3, SR(ATTENDEE));
    b->seats[b->n_seats++] = seat("obs", 4, SR(OBSERVER));
    b->seats[b->n_seats++] = seat("sup", 1, SR(SUPERVISOR));
    b->rules = (Whistle__V1__DelibRules *)rules;
    return r;
}

static uint64_t body_with(const Whistle__V1__DelibRules *rules)
{
    static const char *const more[] = { "r1", "r2", "r3", "r4", "att", "obs", "sup" };
    for (size_t i = 0; i < sizeof more / sizeof *more; i++)
        add_person(more[i]);
    Whistle__V1__Response *resp = h_write("comm-yonganli", rq_body(rules));
    assert_ok(resp);
    return resp->body->id;
}

static Whistle__V1__Response *propose(const char *who, uint64_t body, const char *title)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SUBMIT_PROPOSAL);
    r->submit_proposal = NEW(Whistle__V1__SubmitDelibProposal, whistle__v1__submit_delib_proposal__init);
    r->submit_proposal->body_id = body;
    r->submit_proposal->title = (char *)title;
    return h_write(who, r);
}

static const char *ballot_cands[] = { "加装电梯", "修路灯", "建车棚", "补绿地", "修围墙", "装监控" };

/* A meeting at starts with the proposals, then a ballot of 6 for 3. */
static Whistle__V1__Response *schedule(uint64_t body, int64_t starts, int n, const uint64_t *props)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SCHEDULE_MEETING);
    Whistle__V1__ScheduleDelibMeeting *m = r->schedule_meeting =
        NEW(Whistle__V1__ScheduleDelibMeeting, whistle__v1__schedule_delib_meeting__init);
    m->body_id = body;
    m->title = "十一月议事会";
    m->starts_ms = starts;
    m->items = arena_alloc(h_a, (size_t)(n + 1) * sizeof *m->items);
    for (int i = 0; i < n; i++) {
        m->items[m->n_items] = NEW(Whistle__V1__DelibItemSpec, whistle__v1__delib_item_spec__init);
        m->items[m->n_items++]->proposal_id = props[i];
    }
    Whistle__V1__DelibItemSpec *b = m->items[m->n_items++] =
        NEW(Whistle__V1__DelibItemSpec, whistle__v1__delib_item_spec__init);
    b->title = "民生实事票决";
    b->candidates = (char **)ballot_cands;
    b->n_candidates = 6;
    b->winners = 3;
    return h_write("comm-yonganli", r);
}

static Whistle__V1__Response *act(const char *who, uint64_t meeting, int action, uint32_t item)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(MEETING_ACT);
    r->meeting_act = NEW(Whistle__V1__DelibMeetingAct, whistle__v1__delib_meeting_act__init);
    r->meeting_act->meeting_id = meeting;
    r->meeting_act->action = action;
    r->meeting_act->item_no = item;
    return h_write(who, r);
}

static Whistle__V1__Response *vote(const char *who, uint64_t meeting, uint32_t item, int choice)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(CAST_VOTE);
    r->cast_vote = NEW(Whistle__V1__CastDelibVote, whistle__v1__cast_delib_vote__init);
    r->cast_vote->meeting_id = meeting;
    r->cast_vote->item_no = item;
    r->cast_vote->choice = choice;
    return h_write(who, r);
}

static Whistle__V1__Response *approve(const char *who, uint64_t meeting, uint32_t item, int n, const uint32_t *which)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(CAST_VOTE);
    r->cast_vote = NEW(Whistle__V1__CastDelibVote, whistle__v1__cast_delib_vote__init);
    r->cast_vote->meeting_id = meeting;
    r->cast_vote->item_no = item;
    r->cast_vote->approvals = (uint32_t *)which;
    r->cast_vote->n_approvals = (size_t)n;
    return h_write(who, r);
}

static Whistle__V1__DelibMeeting *get_meeting(const char *who, uint64_t id)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(GET_MEETING);
    r->get_meeting = NEW(Whistle__V1__GetDelibMeeting, whistle__v1__get_delib_meeting__init);
    r->get_meeting->meeting_id = id;
    Whistle__V1__Response *resp = h_read(who, r);
    assert_ok(resp);
    return resp->meeting;
}

/* Packed meeting record, to show that a refused call changed nothing. */
static char *packed(uint64_t id)
{
    Whistle__V1__DelibMeeting *m = get_meeting("comm-yonganli", id);
    m->voting_seats = m->voters_present = 0;
    m->quorum = false;
    m->place = NULL;
    m->server_ms = 0;
    size_t n = whistle__v1__delib_meeting__get_packed_size(m);
    char *b = arena_alloc(h_a, n * 2 + 1);
    uint8_t *raw = arena_alloc(h_a, n + 1);
    whistle__v1__delib_meeting__pack(m, raw);
    for (size_t i = 0; i < n; i++)
        sprintf(b + 2 * i, "%02x", raw[i]);
    b[2 * n] = 0;
    return b;
}

/* A body, two proposals past their notice, a meeting with them and a
 * ballot, opened. */
static uint64_t open_meeting(uint64_t *body, uint64_t props[2], const Whistle__V1__DelibRules *rules)
{
    *body = body_with(rules);
    Whistle__V1__Response *p = propose("r1", *body, "小区加装路灯");
    assert_ok(p);
    props[0] = p->delib_proposal->id;
    p = propose("att", *body, "公共区域收费");
    assert_ok(p);
    props[1] = p->delib_proposal->id;
    Whistle__V1__Response *m = schedule(*body, h_now + 3 * DAY, 2, props);
    assert_ok(m);
    h_now += 3 * DAY;
    uint64_t id = m->meeting->id;
    assert_ok(act("comm-yonganli", id, ACT(OPEN), 0));
    return id;
}

static void check_in(uint64_t m, int n)
{
    for (int i = 0; i < n; i++)
        assert_ok(act(reps[i], m, ACT(CHECK_IN), 0));
}

/* ------------------------------------------------------------ the rules */

Test(delib, fractions_are_exact)
{
    cr_assert(delib_fraction_met(4, 6, 2, 3));  /* exactly 2/3 */
    cr_assert(!delib_fraction_met(3, 6, 2, 3)); /* one short */
    cr_assert(delib_fraction_met(6, 9, 2, 3));
    cr_assert(!delib_fraction_met(5, 9, 2, 3));
    cr_assert(delib_fraction_met(67, 100, 2, 3));
    cr_assert(!delib_fraction_met(66, 100, 2, 3)); /* 0.66 < 2/3: no rounding */
    cr_assert(delib_fraction_met(0, 0, 2, 3));
}

Test(delib, defaults_are_the_seed_rules)
{
    uint64_t body = body_with(NULL);
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(GET_BODY);
    r->get_body = NEW(Whistle__V1__GetDelibBody, whistle__v1__get_delib_body__init);
    r->get_body->body_id = body;
    Whistle__V1__Response *resp = h_read("r1", r);
    assert_ok(resp);
    Whistle__V1__DelibRules *ru = resp->body->rules;
    cr_assert_eq(ru->notice_days, 3);
    cr_assert_eq(ru->quorum_num * 3, ru->quorum_den * 2);
    cr_assert_eq(ru->majority_num * 3, ru->majority_den * 2);
    cr_assert_eq(ru->speaking_limit_s, 480);
    cr_assert_str_eq(resp->body->community, YONGANLI);
    /* a non-member outside the place's scope may not read it */
    assert_code(h_read("op-chaowai", r), PERMISSION_DENIED);
}

Test(delib, bad_bodies_are_refused)
{
    body_with(NULL);
    Whistle__V1__Request *r = rq_body(NULL);
    r->put_body->body->seats[1]->principal = "nobody";
    assert_code(h_write("comm-yonganli", r), INVALID_ARGUMENT);
    r = rq_body(NULL);
    r->put_body->body->seats[1]->principal = "kiosk-yonganli";
    assert_code(h_write("comm-yonganli", r), INVALID_ARGUMENT);
    r = rq_body(NULL);
    r->put_body->body->seats[1]->principal = "r1"; /* twice */
    assert_code(h_write("comm-yonganli", r), INVALID_ARGUMENT);
    r = rq_body(NULL);
    r->put_body->body->seats[0]->role = SR(REPRESENTATIVE); /* no chair */
    assert_code(h_write("comm-yonganli", r), INVALID_ARGUMENT);
    Whistle__V1__DelibRules bad = WHISTLE__V1__DELIB_RULES__INIT;
    bad.quorum_num = 4;
    bad.quorum_den = 3;
    assert_code(h_write("comm-yonganli", rq_body(&bad)), INVALID_ARGUMENT);
    r = rq_body(NULL);
    r->put_body->body->place = "110105002001"; /* another street's community */
    assert_code(h_write("comm-yonganli", r), PERMISSION_DENIED);
    assert_code(h_write("op-chaowai", rq_body(NULL)), PERMISSION_DENIED);
    assert_code(h_write("gw-1", rq_body(NULL)), PERMISSION_DENIED); /* the role gate */
}

Test(delib, a_proposal_before_its_notice_ran_out_is_refused_naming_the_date)
{
    uint64_t body = body_with(NULL);
    Whistle__V1__Response *p = propose("r2", body, "车棚");
    assert_ok(p);
    cr_assert_eq(p->delib_proposal->eligible_ms, p->delib_proposal->published_ms + 3 * DAY);
    uint64_t id = p->delib_proposal->id;
    /* published 2026-11-21 16:3x in Beijing: eligible from 2026-11-24 */
    Whistle__V1__Response *m = schedule(body, h_now + 2 * DAY, 1, &id);
    assert_code(m, FAILED_PRECONDITION);
    assert_msg_has(m, "may be taken up from 2026-11-24");
    assert_msg_has(m, "3 days");
    /* one that meets after the notice may take it, but not open early */
    m = schedule(body, h_now + 3 * DAY, 1, &id);
    assert_ok(m);
    uint64_t mid = m->meeting->id;
    Whistle__V1__Response *o = act("comm-yonganli", mid, ACT(OPEN), 0);
    assert_code(o, FAILED_PRECONDITION);
    assert_msg_has(o, "may be taken up from");
    h_now += 3 * DAY;
    assert_ok(act("comm-yonganli", mid, ACT(OPEN), 0));
    /* an observer does not propose; a non-member is refused naming the rule */
    assert_code(propose("obs", body, "x"), PERMISSION_DENIED);
    Whistle__V1__Response *nm = propose("gw-2", body, "x");
    assert_code(nm, PERMISSION_DENIED);
    assert_msg_has(nm, "holds no seat");
}

Test(delib, quorum_one_short_then_exactly_two_thirds)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 3);
    /* observers, attendees and supervisors do not count */
    assert_ok(act("obs", m, ACT(CHECK_IN), 0));
    assert_ok(act("att", m, ACT(CHECK_IN), 0));
    Whistle__V1__Response *r = act("comm-yonganli", m, ACT(OPEN_VOTE), 1);
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "3 of 6 voting seats present, 4 needed");
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert_eq(mt->voters_present, 3);
    cr_assert(!mt->quorum);
    assert_ok(act("r2", m, ACT(CHECK_IN), 0));
    mt = get_meeting("r1", m);
    cr_assert_eq(mt->voters_present, 4);
    cr_assert(mt->quorum);
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    assert_code(act("r2", m, ACT(CHECK_IN), 0), FAILED_PRECONDITION); /* twice */
}

Test(delib, votes_pass_at_exactly_two_thirds_and_fail_below)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 6);
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    /* 4 of 6 present for: exactly 2/3 */
    for (int i = 0; i < 6; i++)
        assert_ok(vote(reps[i], m, 1, i < 4 ? CH(FOR) : CH(AGAINST)));
    /* changeable until closed: r4 changes to abstain, r1's last vote counts */
    assert_ok(vote("r4", m, 1, CH(ABSTAIN)));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 1));
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert(mt->items[0]->passed, "%s", mt->items[0]->result);
    cr_assert_eq(mt->items[0]->votes_for, 4);
    cr_assert_eq(mt->items[0]->votes_against, 1);
    cr_assert_eq(mt->items[0]->votes_abstain, 1);
    cr_assert_eq(mt->items[0]->n_votes, 6);
    /* a vote after the close is refused, and changes nothing */
    char *before = packed(m);
    Whistle__V1__Response *late = vote("r4", m, 1, CH(AGAINST));
    assert_code(late, FAILED_PRECONDITION);
    assert_msg_has(late, "closed");
    cr_assert_str_eq(packed(m), before);
    /* item 2: 3 of 6 for is below 2/3 */
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 2));
    for (int i = 0; i < 6; i++)
        assert_ok(vote(reps[i], m, 2, i < 3 ? CH(FOR) : CH(AGAINST)));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 2));
    mt = get_meeting("r1", m);
    cr_assert(!mt->items[1]->passed);
    cr_assert(strstr(mt->items[1]->result, "rejected"), "%s", mt->items[1]->result);
}

Test(delib, majority_of_all_seats_when_configured)
{
    Whistle__V1__DelibRules ru = WHISTLE__V1__DELIB_RULES__INIT;
    ru.majority_of_all_seats = true;
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, &ru);
    check_in(m, 4);
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    /* 3 of 4 present is 3/4, but of 6 seats it is 1/2: rejected */
    for (int i = 0; i < 3; i++)
        assert_ok(vote(reps[i], m, 1, CH(FOR)));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 1));
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert(!mt->items[0]->passed);
    cr_assert_eq(mt->items[0]->majority_base, 6);
}

Test(delib, observers_and_attendees_by_their_rights)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 4);
    assert_ok(act("obs", m, ACT(CHECK_IN), 0));
    assert_ok(act("att", m, ACT(CHECK_IN), 0));
    char *before = packed(m);
    Whistle__V1__Response *r = act("obs", m, ACT(QUEUE), 0);
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "observers may not speak");
    cr_assert_str_eq(packed(m), before);
    assert_ok(act("att", m, ACT(QUEUE), 0)); /* 列席 may speak */
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    before = packed(m);
    r = vote("obs", m, 1, CH(FOR));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "observer");
    r = vote("att", m, 1, CH(FOR));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "attendee");
    r = vote("gw-2", m, 1, CH(FOR));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "holds no seat");
    /* only the chair presides */
    assert_code(act("r1", m, ACT(CLOSE_VOTE), 1), PERMISSION_DENIED);
    /* bad votes */
    assert_code(vote("r1", m, 1, 7), INVALID_ARGUMENT);
    assert_code(vote("r1", m, 9, CH(FOR)), INVALID_ARGUMENT);
    assert_code(vote("r4", m, 1, CH(FOR)), FAILED_PRECONDITION);
    cr_assert_str_eq(packed(m), before);
}

Test(delib, speakers_are_timed)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 4);
    assert_ok(act("att", m, ACT(CHECK_IN), 0));
    assert_ok(act("r1", m, ACT(QUEUE), 0));
    assert_ok(act("att", m, ACT(QUEUE), 0));
    assert_code(act("r1", m, ACT(QUEUE), 0), FAILED_PRECONDITION);
    assert_ok(act("comm-yonganli", m, ACT(NEXT_SPEAKER), 0)); /* r1 starts */
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert_eq(mt->speakers[0]->limit_ms - mt->speakers[0]->started_ms, 480000);
    h_now += 9 * 60000;                                       /* r1 runs a minute over */
    assert_ok(act("comm-yonganli", m, ACT(NEXT_SPEAKER), 0)); /* att starts */
    h_now += 60000;
    assert_ok(act("comm-yonganli", m, ACT(NEXT_SPEAKER), 0)); /* att ends */
    mt = get_meeting("r1", m);
    cr_assert(mt->speakers[0]->over_limit);
    cr_assert(!mt->speakers[1]->over_limit);
    cr_assert(mt->speakers[1]->ended_ms);
    assert_code(act("comm-yonganli", m, ACT(NEXT_SPEAKER), 0), FAILED_PRECONDITION);
    /* a red card takes the floor away */
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(MEETING_ACT);
    r->meeting_act = NEW(Whistle__V1__DelibMeetingAct, whistle__v1__delib_meeting_act__init);
    r->meeting_act->meeting_id = m;
    r->meeting_act->action = ACT(WARN);
    r->meeting_act->principal = "r1";
    r->meeting_act->card = WHISTLE__V1__DELIB_CARD__DELIB_CARD_RED;
    r->meeting_act->reason = "人身攻击";
    assert_ok(h_write("comm-yonganli", r));
    assert_code(act("r1", m, ACT(QUEUE), 0), PERMISSION_DENIED);
}

Test(delib, ballot_top_k_and_a_tie_by_the_rule)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 6);
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 3));
    /* approvals: 0 x6, 1 x5, 2 x3, 3 x3, 4 x1, 5 x0: a tie for the third place */
    static const uint32_t b1[] = { 0, 1, 2 }, b2[] = { 0, 1, 3 }, b3[] = { 0, 1, 2 }, b4[] = { 0, 1, 3 },
                          b5[] = { 0, 1, 4 }, b6[] = { 0, 2, 3 };
    const uint32_t *bs[] = { b1, b2, b3, b4, b5, b6 };
    static const uint32_t four[] = { 0, 1, 2, 3 }, dup[] = { 0, 0 }, bad[] = { 6 };
    assert_code(approve("r1", m, 3, 4, four), INVALID_ARGUMENT); /* more than K */
    assert_code(approve("r1", m, 3, 2, dup), INVALID_ARGUMENT);
    assert_code(approve("r1", m, 3, 1, bad), INVALID_ARGUMENT);
    assert_code(vote("r1", m, 3, CH(FOR)), INVALID_ARGUMENT);
    for (int i = 0; i < 6; i++)
        assert_ok(approve(reps[i], m, 3, 3, bs[i]));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 3));
    Whistle__V1__DelibItem *it = get_meeting("r1", m)->items[2];
    cr_assert_eq(it->n_tally, 6);
    cr_assert_eq(it->tally[0], 6);
    cr_assert_eq(it->tally[2], 3);
    cr_assert_eq(it->n_elected, 2);
    cr_assert_str_eq(it->elected[0], "加装电梯");
    cr_assert_str_eq(it->elected[1], "修路灯");
    cr_assert_eq(it->n_tied, 2);
    cr_assert(!it->passed);
    cr_assert(strstr(it->result, "runoff among them as item 4"), "%s", it->result);
    /* the runoff: appended, among the tied only, for the one place left */
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert_eq(mt->n_items, 4);
    Whistle__V1__DelibItem *ro = mt->items[3];
    cr_assert_eq(ro->no, 4);
    cr_assert_eq(ro->state, WHISTLE__V1__DELIB_ITEM_STATE__DELIB_ITEM_STATE_PENDING);
    cr_assert_eq(ro->runoff_of, 3);
    cr_assert_eq(mt->items[2]->runoff, 4);
    cr_assert_eq(ro->winners, 1);
    cr_assert_eq(ro->n_candidates, 2);
    cr_assert_str_eq(ro->candidates[0], "建车棚");
    cr_assert_str_eq(ro->candidates[1], "补绿地");
    cr_assert(strstr(ro->title, "runoff"), "%s", ro->title);
    /* voted like any ballot: one approval each now, the places left */
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 4));
    static const uint32_t one[] = { 1 }, zero[] = { 0 }, both[] = { 0, 1 };
    assert_code(approve("r1", m, 4, 2, both), INVALID_ARGUMENT); /* up to 1 */
    assert_ok(approve("r1", m, 4, 1, one));
    assert_ok(approve("r2", m, 4, 1, one));
    assert_ok(approve("r3", m, 4, 1, zero));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 4));
    ro = get_meeting("r1", m)->items[3];
    cr_assert(ro->passed);
    cr_assert_eq(ro->n_elected, 1);
    cr_assert_str_eq(ro->elected[0], "补绿地");
    cr_assert_eq(ro->runoff, 0);
}

Test(delib, a_runoff_tied_again_appends_another_and_a_full_agenda_none)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 6);
    /* 3 items; each runoff ties again (nobody approves anyone): 4, 5, ... 30 */
    uint32_t item = 3;
    for (int round = 0; round < 40 && item; round++) {
        assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), item));
        assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), item));
        Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
        Whistle__V1__DelibItem *it = mt->items[item - 1];
        cr_assert(it->n_tied >= 2, "item %u: %s", item, it->result);
        if (item < 30) {
            cr_assert_eq(it->runoff, item + 1, "%s", it->result);
            cr_assert_eq(mt->n_items, item + 1);
        } else {
            cr_assert_eq(it->runoff, 0);
            cr_assert(strstr(it->result, "the agenda is full"), "%s", it->result);
            cr_assert_eq(mt->n_items, 30);
        }
        item = it->runoff;
    }
}

Test(delib, ballot_tie_by_list_order_when_configured)
{
    Whistle__V1__DelibRules ru = WHISTLE__V1__DELIB_RULES__INIT;
    ru.tie_rule = WHISTLE__V1__DELIB_TIE_RULE__DELIB_TIE_RULE_LIST_ORDER;
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, &ru);
    check_in(m, 4);
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 3));
    static const uint32_t b1[] = { 5, 4, 3 }, b2[] = { 5, 4, 2 }, b3[] = { 5, 1, 0 }, b4[] = { 4, 3, 2 };
    assert_ok(approve("comm-yonganli", m, 3, 3, b1));
    assert_ok(approve("gw-1", m, 3, 3, b2));
    assert_ok(approve("r1", m, 3, 3, b3));
    assert_ok(approve("r2", m, 3, 3, b4));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 3));
    Whistle__V1__DelibItem *it = get_meeting("r1", m)->items[2];
    /* 5 and 4 have 3 each; 3 and 2 tie at 2: 2 is listed earlier */
    cr_assert_eq(it->n_elected, 3);
    cr_assert_str_eq(it->elected[0], "修围墙");
    cr_assert_str_eq(it->elected[1], "装监控");
    cr_assert_str_eq(it->elected[2], "建车棚");
    cr_assert(it->passed);
}

Test(delib, minutes_signed_published_and_the_decision_followed_up)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    check_in(m, 4);
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    for (int i = 0; i < 4; i++)
        assert_ok(vote(reps[i], m, 1, CH(FOR)));
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(MEETING_ACT);
    r->meeting_act = NEW(Whistle__V1__DelibMeetingAct, whistle__v1__delib_meeting_act__init);
    r->meeting_act->meeting_id = m;
    r->meeting_act->action = ACT(CLOSE_VOTE);
    r->meeting_act->item_no = 1;
    r->meeting_act->follow_owner = "gw-1";
    r->meeting_act->follow_deadline_ms = h_now + 30 * DAY;
    assert_ok(h_write("comm-yonganli", r));
    /* signing before the close is refused */
    Whistle__V1__Request *s = h_req();
    s->call_case = CALL(SIGN_MINUTES);
    s->sign_minutes = NEW(Whistle__V1__SignDelibMinutes, whistle__v1__sign_delib_minutes__init);
    s->sign_minutes->meeting_id = m;
    assert_code(h_write("r1", s), FAILED_PRECONDITION);
    assert_ok(act("comm-yonganli", m, ACT(CLOSE), 0));
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert(strstr(mt->minutes->text, "Item 1"), "%s", mt->minutes->text);
    cr_assert_eq(mt->minutes->required, 4);
    uint64_t before = h_last_seq("principal:r3");
    assert_code(h_write("r4", s), PERMISSION_DENIED); /* not present */
    assert_code(h_write("obs", s), PERMISSION_DENIED);
    for (int i = 0; i < 4; i++) {
        assert_ok(h_write(reps[i], s));
        cr_assert_eq(get_meeting("r1", m)->minutes->published, i == 3);
    }
    assert_code(h_write("r1", s), FAILED_PRECONDITION); /* unchangeable */
    /* and public, on the community's echo board */
    uint64_t notice = get_meeting("r1", m)->minutes->board_notice_id;
    cr_assert_gt(notice, 0);
    Whistle__V1__Request *lb = h_req();
    lb->call_case = CALL(LIST_BOARD);
    lb->list_board = NEW(Whistle__V1__ListBoard, whistle__v1__list_board__init);
    lb->list_board->node = YONGANLI;
    Whistle__V1__Response *board = h_read("kiosk-yonganli", lb);
    assert_ok(board);
    cr_assert_eq(board->board->n_notices, 1);
    cr_assert_eq(board->board->notices[0]->id, notice);
    cr_assert_eq(board->board->notices[0]->kind, WHISTLE__V1__BOARD_KIND__BOARD_KIND_DECISION);
    cr_assert(strstr(board->board->notices[0]->title, "十一月议事会"), "%s", board->board->notices[0]->title);
    cr_assert(strstr(board->board->notices[0]->body, "Item 1"), "%s", board->board->notices[0]->body);
    cr_assert(strstr(h_actions("principal:r3", before), "minutes_published"), "%s", h_actions("principal:r3", before));
    /* the decision became a task of the community; rated once done */
    Whistle__V1__Request *rt = h_req();
    rt->call_case = CALL(RATE_DECISION);
    rt->rate_decision = NEW(Whistle__V1__RateDelibDecision, whistle__v1__rate_delib_decision__init);
    rt->rate_decision->proposal_id = props[0];
    rt->rate_decision->rating = 5;
    Whistle__V1__Response *early = h_write("comm-yonganli", rt);
    assert_code(early, FAILED_PRECONDITION);
    assert_msg_has(early, "not carried out");
    Whistle__V1__Request *lt = h_req();
    lt->call_case = CALL(LIST_TASKS);
    lt->list_tasks = NEW(Whistle__V1__ListTasks, whistle__v1__list_tasks__init);
    lt->list_tasks->community = YONGANLI;
    Whistle__V1__Response *tl = h_read("comm-yonganli", lt);
    assert_ok(tl);
    cr_assert_eq(tl->tasks->n_tasks, 1);
    cr_assert_str_eq(tl->tasks->tasks[0]->owner, "gw-1");
    cr_assert_eq(tl->tasks->tasks[0]->proposal_id, props[0]);
    Whistle__V1__Request *ct = h_req();
    ct->call_case = CALL(COMPLETE_TASK);
    ct->complete_task = NEW(Whistle__V1__CompleteTask, whistle__v1__complete_task__init);
    ct->complete_task->task_id = tl->tasks->tasks[0]->id;
    assert_ok(h_write("comm-yonganli", ct));
    assert_code(h_write("r1", rt), PERMISSION_DENIED); /* the chair rates for the body */
    Whistle__V1__Response *rated = h_write("comm-yonganli", rt);
    assert_ok(rated);
    cr_assert_eq(rated->delib_proposal->rating, 5);
    Whistle__V1__Request *rp = h_req();
    rp->call_case = CALL(DELIB_REPORT);
    rp->delib_report = NEW(Whistle__V1__GetDelibReport, whistle__v1__get_delib_report__init);
    rp->delib_report->body_id = body;
    Whistle__V1__Response *rep = h_read("r2", rp);
    assert_ok(rep);
    cr_assert_eq(rep->delib_report->meetings, 1);
    cr_assert_eq(rep->delib_report->proposals, 2);
    cr_assert_eq(rep->delib_report->passed, 1);
    cr_assert_eq(rep->delib_report->rejected, 0);
    cr_assert_eq(rep->delib_report->carried_out, 1);
    cr_assert_eq(rep->delib_report->rated, 1);
}

Test(delib, the_agenda_is_pushed_to_the_members)
{
    uint64_t body = body_with(NULL);
    uint64_t before = h_last_seq("principal:r2");
    Whistle__V1__Response *p = propose("r1", body, "x");
    assert_ok(p);
    uint64_t id = p->delib_proposal->id;
    assert_ok(schedule(body, h_now + 4 * DAY, 1, &id));
    cr_assert_str_eq(h_actions("principal:r2", before), "proposal_published meeting_scheduled");
}

/* A representative (议事代表) holds a certificate of its own and may make
 * the deliberation calls, open a session and follow its own stream:
 * nothing else, so no case and no personal data. */
Test(delib, a_representative_makes_only_the_deliberation_calls)
{
    static const char *const mine[] = { "hello",           "ping",           "subscribe",        "get_body",
                                        "submit_proposal", "list_proposals", "schedule_meeting", "get_meeting",
                                        "meeting_act",     "cast_vote",      "sign_minutes",     "rate_decision",
                                        "delib_report" };
    const ProtobufCMessageDescriptor *d = &whistle__v1__request__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        bool want = false;
        for (size_t j = 0; j < sizeof mine / sizeof *mine; j++)
            want |= strcmp(mine[j], f->name) == 0;
        cr_assert_eq(authz_role_may((int)f->id, WHISTLE__V1__ROLE__ROLE_REPRESENTATIVE), want, "%s", f->name);
    }
    /* one is added by an admin, seated, and takes part */
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_PRINCIPAL);
    r->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
    Whistle__V1__Principal *p = r->add_principal->principal = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    p->name = "wang-rep";
    p->role = WHISTLE__V1__ROLE__ROLE_REPRESENTATIVE;
    p->scope = YONGANLI;
    assert_ok(h_write("admin", r));
    uint64_t body = body_with(NULL);
    Whistle__V1__Request *put = rq_body(NULL);
    put->put_body->body->id = body;
    put->put_body->body->seats[7]->principal = "wang-rep"; /* instead of obs, a representative */
    put->put_body->body->seats[7]->role = SR(REPRESENTATIVE);
    assert_ok(h_write("comm-yonganli", put));
    assert_ok(propose("wang-rep", body, "垃圾分类亭"));
    const char *t = h_report_as("comm-yonganli", "110105001001001");
    Whistle__V1__Request *sp = h_req();
    sp->call_case = CALL(SUBMIT_PROPOSAL);
    sp->submit_proposal = NEW(Whistle__V1__SubmitDelibProposal, whistle__v1__submit_delib_proposal__init);
    sp->submit_proposal->body_id = body;
    sp->submit_proposal->title = "x";
    sp->submit_proposal->from_ticket = (char *)t;
    assert_code(h_write("wang-rep", sp), PERMISSION_DENIED); /* sees no case */
    assert_code(h_write("wang-rep", rq_report("110105001001001", "0101", "x")), PERMISSION_DENIED);
    Whistle__V1__Request *le = rq_list_events(0, YONGANLI, 0, NULL);
    assert_code(h_read("wang-rep", le), PERMISSION_DENIED);
    char stream[64];
    stream_default_for(h_who(store_read_begin(h_st), "wang-rep"), stream, sizeof stream);
    store_read_end(h_st);
    cr_assert_str_eq(stream, "principal:wang-rep");
}

Test(delib, seats_do_not_change_during_a_meeting_and_cases_are_raised_in_scope)
{
    uint64_t body, props[2];
    uint64_t m = open_meeting(&body, props, NULL);
    Whistle__V1__Request *put = rq_body(NULL);
    put->put_body->body->id = body;
    Whistle__V1__Response *r = h_write("comm-yonganli", put);
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "is open");
    check_in(m, 4);
    assert_ok(act("comm-yonganli", m, ACT(CLOSE), 0));
    assert_ok(h_write("comm-yonganli", put));
    /* a case of the community, raised by a worker who sees it */
    const char *in = h_report_as("comm-yonganli", "110105001001002");
    Whistle__V1__Request *sp = h_req();
    sp->call_case = CALL(SUBMIT_PROPOSAL);
    sp->submit_proposal = NEW(Whistle__V1__SubmitDelibProposal, whistle__v1__submit_delib_proposal__init);
    sp->submit_proposal->body_id = body;
    sp->submit_proposal->title = "占道经营";
    sp->submit_proposal->from_ticket = (char *)in;
    Whistle__V1__Response *ok = h_write("comm-yonganli", sp);
    assert_ok(ok);
    cr_assert_str_eq(ok->delib_proposal->from_ticket, in);
    /* gw-1's grid is 001: the case in grid 002 reads as missing */
    Whistle__V1__Response *hid = h_write("gw-1", sp);
    assert_code(hid, NOT_FOUND);
    sp->submit_proposal->from_ticket = "E2099010100001";
    Whistle__V1__Response *none = h_write("gw-1", sp);
    assert_code(none, NOT_FOUND);
    /* the same words as a missing case */
    cr_assert_str_eq(h_msg(hid), arena_printf(h_a, "no case %s", in));
    cr_assert_str_eq(h_msg(none), "no case E2099010100001");
}

Test(delib, a_meeting_called_off_frees_its_proposals)
{
    uint64_t body = body_with(NULL);
    Whistle__V1__Response *p = propose("r1", body, "路灯");
    assert_ok(p);
    uint64_t id = p->delib_proposal->id;
    Whistle__V1__Response *m = schedule(body, h_now + 4 * DAY, 1, &id);
    assert_ok(m);
    uint64_t mid = m->meeting->id;
    /* on one agenda at a time */
    assert_code(schedule(body, h_now + 5 * DAY, 1, &id), FAILED_PRECONDITION);
    assert_code(act("r1", mid, WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_CANCEL, 0), PERMISSION_DENIED);
    uint64_t before = h_last_seq("principal:r2");
    assert_ok(act("comm-yonganli", mid, WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_CANCEL, 0));
    cr_assert_str_eq(h_actions("principal:r2", before), "meeting_cancelled");
    cr_assert_eq(get_meeting("r1", mid)->state, WHISTLE__V1__DELIB_MEETING_STATE__DELIB_MEETING_STATE_CANCELLED);
    assert_code(act("comm-yonganli", mid, ACT(OPEN), 0), FAILED_PRECONDITION);
    assert_code(act("r1", mid, ACT(CHECK_IN), 0), FAILED_PRECONDITION);
    assert_code(act("comm-yonganli", mid, WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_CANCEL, 0), FAILED_PRECONDITION);
    /* the proposal goes on another agenda */
    m = schedule(body, h_now + 5 * DAY, 1, &id);
    assert_ok(m);
    h_now += 5 * DAY;
    assert_ok(act("comm-yonganli", m->meeting->id, ACT(OPEN), 0));
    assert_code(act("comm-yonganli", m->meeting->id, WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_CANCEL, 0),
                FAILED_PRECONDITION); /* an open meeting is closed, not called off */
}

/* A body's listing and report read its own records (delib_by_body), never
 * another body's, whichever order they were made in. */
Test(delib, a_body_lists_and_counts_only_its_own_records)
{
    uint64_t a = body_with(NULL);
    Whistle__V1__Response *second = h_write("comm-yonganli", rq_body(NULL)); /* the same seats */
    assert_ok(second);
    uint64_t b = second->body->id;
    assert_ok(propose("r1", a, "a1"));
    assert_ok(propose("r1", b, "b1"));
    assert_ok(propose("r2", a, "a2"));
    assert_ok(propose("r2", b, "b2"));
    assert_ok(propose("r3", b, "b3"));
    const uint64_t bodies[] = { a, b };
    const size_t want[] = { 2, 3 };
    for (int i = 0; i < 2; i++) {
        Whistle__V1__Request *r = h_req();
        r->call_case = CALL(LIST_PROPOSALS);
        r->list_proposals = NEW(Whistle__V1__ListDelibProposals, whistle__v1__list_delib_proposals__init);
        r->list_proposals->body_id = bodies[i];
        Whistle__V1__Response *l = h_read("r1", r);
        assert_ok(l);
        cr_assert_eq(l->delib_proposals->n_proposals, want[i]);
        for (size_t j = 0; j < want[i]; j++) {
            cr_assert_eq(l->delib_proposals->proposals[j]->body_id, bodies[i]);
            if (j)
                cr_assert_gt(l->delib_proposals->proposals[j]->id, l->delib_proposals->proposals[j - 1]->id);
        }
        Whistle__V1__Request *rp = h_req();
        rp->call_case = CALL(DELIB_REPORT);
        rp->delib_report = NEW(Whistle__V1__GetDelibReport, whistle__v1__get_delib_report__init);
        rp->delib_report->body_id = bodies[i];
        Whistle__V1__Response *rep = h_read("r1", rp);
        assert_ok(rep);
        cr_assert_eq(rep->delib_report->proposals, want[i]);
    }
}

/* ------------------------------------------------------------ mediation */

/* A mediation (邻里纠纷和解会): the chair mediates, a neighbour's
 * representative and an attendee speak, only the two parties decide:
 * both present, both for, both sign; the agreement stays off the board. */
static Whistle__V1__Request *rq_mediation(int kind, int parties, const Whistle__V1__DelibRules *rules)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_BODY);
    r->put_body = NEW(Whistle__V1__PutDelibBody, whistle__v1__put_delib_body__init);
    Whistle__V1__DelibBody *b = r->put_body->body = NEW(Whistle__V1__DelibBody, whistle__v1__delib_body__init);
    b->place = YONGANLI;
    b->name = "3号楼漏水和解会";
    b->kind = kind;
    b->seats = arena_alloc(h_a, 6 * sizeof *b->seats);
    b->seats[b->n_seats++] = seat("comm-yonganli", 1, SR(CHAIR));
    b->seats[b->n_seats++] = seat("r1", 4, SR(PARTY));
    if (parties > 1)
        b->seats[b->n_seats++] = seat("r2", 4, SR(PARTY));
    b->seats[b->n_seats++] = seat("r3", 4, SR(REPRESENTATIVE));
    b->seats[b->n_seats++] = seat("att", 3, SR(ATTENDEE));
    b->rules = (Whistle__V1__DelibRules *)rules;
    return r;
}

Test(delib, a_mediation_needs_every_party_present_agreeing_and_signing)
{
    static const char *const people[] = { "r1", "r2", "r3", "att" };
    for (size_t i = 0; i < 4; i++)
        add_person(people[i]);
    /* parties sit on mediations only; a mediation has two or more; its
     * fractions are every party's */
    Whistle__V1__Response *r =
        h_write("comm-yonganli", rq_mediation(WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_COUNCIL, 2, NULL));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "parties sit on a mediation");
    r = h_write("comm-yonganli", rq_mediation(WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION, 1, NULL));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "has 1 party");
    Whistle__V1__DelibRules two_thirds = WHISTLE__V1__DELIB_RULES__INIT;
    two_thirds.majority_num = 2, two_thirds.majority_den = 3;
    r = h_write("comm-yonganli", rq_mediation(WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION, 2, &two_thirds));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "every party's");
    r = h_write("comm-yonganli", rq_mediation(WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION, 2, NULL));
    assert_ok(r);
    uint64_t body = r->body->id;
    cr_assert_eq(r->body->kind, WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION);
    cr_assert_eq(r->body->rules->quorum_num, 1);
    cr_assert_eq(r->body->rules->quorum_den, 1);
    cr_assert(r->body->rules->majority_of_all_seats);
    /* its kind does not change */
    Whistle__V1__Request *again = rq_mediation(WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_COUNCIL, 2, NULL);
    again->put_body->body->id = body;
    for (size_t i = 0; i < again->put_body->body->n_seats; i++)
        if (again->put_body->body->seats[i]->role == SR(PARTY))
            again->put_body->body->seats[i]->role = SR(REPRESENTATIVE);
    assert_code(h_write("comm-yonganli", again), INVALID_ARGUMENT);

    /* the settlement, proposed by the mediator; a meeting on it */
    Whistle__V1__Response *p = propose("comm-yonganli", body, "楼上赔偿楼下维修费800元");
    assert_ok(p);
    uint64_t prop = p->delib_proposal->id;
    Whistle__V1__Request *sr = h_req();
    sr->call_case = CALL(SCHEDULE_MEETING);
    Whistle__V1__ScheduleDelibMeeting *sm = sr->schedule_meeting =
        NEW(Whistle__V1__ScheduleDelibMeeting, whistle__v1__schedule_delib_meeting__init);
    sm->body_id = body;
    sm->title = "漏水纠纷和解";
    sm->starts_ms = h_now + 3 * DAY;
    sm->items = arena_alloc(h_a, sizeof *sm->items);
    sm->items[0] = NEW(Whistle__V1__DelibItemSpec, whistle__v1__delib_item_spec__init);
    sm->items[0]->proposal_id = prop;
    sm->n_items = 1;
    Whistle__V1__Response *ms = h_write("comm-yonganli", sr);
    assert_ok(ms);
    uint64_t m = ms->meeting->id;
    h_now += 3 * DAY;
    assert_ok(act("comm-yonganli", m, ACT(OPEN), 0));
    /* the mediator, the representative and one party: no quorum (every party) */
    assert_ok(act("comm-yonganli", m, ACT(CHECK_IN), 0));
    assert_ok(act("r3", m, ACT(CHECK_IN), 0));
    assert_ok(act("r1", m, ACT(CHECK_IN), 0));
    Whistle__V1__DelibMeeting *mt = get_meeting("r1", m);
    cr_assert_eq(mt->voting_seats, 2);
    cr_assert_eq(mt->voters_present, 1);
    cr_assert(!mt->quorum);
    r = act("comm-yonganli", m, ACT(OPEN_VOTE), 1);
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "1 of 2 voting seats present, 2 needed");
    assert_ok(act("r2", m, ACT(CHECK_IN), 0));
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    /* the parties speak for themselves: the mediator and the representative do not vote */
    r = vote("comm-yonganli", m, 1, CH(FOR));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "only the parties");
    assert_code(vote("r3", m, 1, CH(FOR)), PERMISSION_DENIED);
    assert_ok(vote("r1", m, 1, CH(FOR)));
    assert_ok(vote("r2", m, 1, CH(AGAINST)));
    assert_ok(vote("r2", m, 1, CH(FOR))); /* persuaded: changes the vote */
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 1));
    mt = get_meeting("r1", m);
    cr_assert(mt->items[0]->passed, "%s", mt->items[0]->result);
    assert_ok(act("comm-yonganli", m, ACT(CLOSE), 0));
    mt = get_meeting("r1", m);
    cr_assert_eq(mt->minutes->required, 2);
    /* the agreement is signed by the parties; the mediator does not sign it */
    Whistle__V1__Request *sg = h_req();
    sg->call_case = CALL(SIGN_MINUTES);
    sg->sign_minutes = NEW(Whistle__V1__SignDelibMinutes, whistle__v1__sign_delib_minutes__init);
    sg->sign_minutes->meeting_id = m;
    Whistle__V1__Response *sr2 = h_write("comm-yonganli", sg);
    assert_code(sr2, PERMISSION_DENIED);
    assert_msg_has(sr2, "signed by the parties present");
    assert_ok(h_write("r1", sg));
    Whistle__V1__Response *last = h_write("r2", sg);
    assert_ok(last);
    cr_assert(last->meeting->minutes->published);
    cr_assert_eq(last->meeting->minutes->board_notice_id, 0, "a mediation's agreement went on the public board");
}

Test(delib, a_mediation_fails_when_one_party_disagrees)
{
    static const char *const people[] = { "r1", "r2", "r3", "att" };
    for (size_t i = 0; i < 4; i++)
        add_person(people[i]);
    Whistle__V1__Response *r =
        h_write("comm-yonganli", rq_mediation(WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION, 2, NULL));
    assert_ok(r);
    Whistle__V1__Response *p = propose("r1", r->body->id, "各退一步");
    assert_ok(p);
    uint64_t prop = p->delib_proposal->id;
    Whistle__V1__Request *sr = h_req();
    sr->call_case = CALL(SCHEDULE_MEETING);
    Whistle__V1__ScheduleDelibMeeting *sm = sr->schedule_meeting =
        NEW(Whistle__V1__ScheduleDelibMeeting, whistle__v1__schedule_delib_meeting__init);
    sm->body_id = r->body->id;
    sm->title = "和解";
    sm->starts_ms = h_now + 3 * DAY;
    sm->items = arena_alloc(h_a, sizeof *sm->items);
    sm->items[0] = NEW(Whistle__V1__DelibItemSpec, whistle__v1__delib_item_spec__init);
    sm->items[0]->proposal_id = prop;
    sm->n_items = 1;
    Whistle__V1__Response *ms = h_write("comm-yonganli", sr);
    assert_ok(ms);
    uint64_t m = ms->meeting->id;
    h_now += 3 * DAY;
    assert_ok(act("comm-yonganli", m, ACT(OPEN), 0));
    assert_ok(act("r1", m, ACT(CHECK_IN), 0));
    assert_ok(act("r2", m, ACT(CHECK_IN), 0));
    assert_ok(act("comm-yonganli", m, ACT(OPEN_VOTE), 1));
    assert_ok(vote("r1", m, 1, CH(FOR)));
    assert_ok(vote("r2", m, 1, CH(AGAINST)));
    assert_ok(act("comm-yonganli", m, ACT(CLOSE_VOTE), 1));
    Whistle__V1__DelibItem *it = get_meeting("r1", m)->items[0];
    cr_assert(!it->passed, "%s", it->result);
    cr_assert(strstr(it->result, "1 for, 1 against"), "%s", it->result);
}
