/* deliberation.h: councils, proposals, meetings, votes, ballots and
 * minutes (议事协商, docs/deliberation.md).
 *
 * A body (议事会) belongs to a community, or to a grid or building in one,
 * and has seats, each held by a principal, in a group (community, owners'
 * committee, property company, residents, deputies) with a meeting role:
 * chair and representative vote; an attendee (列席) and a supervisor speak
 * but do not vote; an observer (旁听) does neither. The body's rules
 * (DelibRules: notice, quorum, majority, speaking limit, ballot ties,
 * signatures) are stored with it, the seed's values filling what is left
 * 0. Fractions are compared exactly in integers (present*3 >= seats*2).
 *
 * Who may: the role gate (authz.c) lets in the roles that can hold a seat;
 * here a call is refused unless the caller holds the right seat (the chair
 * for the chair's actions, a voting seat to vote...) or, for setting up a
 * body and reading, reaches its place by scope (admins, the street's
 * operators, the community). Every refusal names the rule it applies.
 * Times are the call's clock (c->now: the daemon's, or its test clock). */
#ifndef WHISTLED_DELIBERATION_H
#define WHISTLED_DELIBERATION_H

#include "call.h"

void delib_put_body(call *c, const Whistle__V1__PutDelibBody *req);
void delib_get_body(call *c, const Whistle__V1__GetDelibBody *req);
void delib_submit_proposal(call *c, const Whistle__V1__SubmitDelibProposal *req);
void delib_list_proposals(call *c, const Whistle__V1__ListDelibProposals *req);
void delib_schedule_meeting(call *c, const Whistle__V1__ScheduleDelibMeeting *req);
void delib_get_meeting(call *c, const Whistle__V1__GetDelibMeeting *req);
void delib_meeting_act(call *c, const Whistle__V1__DelibMeetingAct *req);
void delib_cast_vote(call *c, const Whistle__V1__CastDelibVote *req);
void delib_sign_minutes(call *c, const Whistle__V1__SignDelibMinutes *req);
void delib_rate_decision(call *c, const Whistle__V1__RateDelibDecision *req);
void delib_report(call *c, const Whistle__V1__GetDelibReport *req);

/* The rule arithmetic, exposed for the unit tests: whether have >= num/den
 * of of, exactly (have*den >= of*num, in 64 bits). */
bool delib_fraction_met(uint32_t have, uint32_t of, uint32_t num, uint32_t den);

#endif
