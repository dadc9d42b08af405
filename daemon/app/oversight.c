/* oversight.c: see oversight.h. */
#include "oversight.h"

#include <string.h>

#include "authz.h"
#include "deliberation.h"
#include "exception.h"
#include "extension.h"
#include "stats.h"
#include "supervision.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

bool oversight_read(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(LIST_SUPERVISIONS): supervision_list(c, req->list_supervisions); return true;
    case CALL(GET_STATS): stats_get(c, req->get_stats); return true;
    case CALL(GET_BODY): delib_get_body(c, req->get_body); return true;
    case CALL(LIST_PROPOSALS): delib_list_proposals(c, req->list_proposals); return true;
    case CALL(GET_MEETING): delib_get_meeting(c, req->get_meeting); return true;
    case CALL(DELIB_REPORT): delib_report(c, req->delib_report); return true;
    default: return false;
    }
}

bool oversight_write(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(REQUEST_EXTENSION): deadline_request_extension(c, req->request_extension); return true;
    case CALL(DECIDE_EXTENSION): deadline_decide_extension(c, req->decide_extension); return true;
    case CALL(PARK): deadline_park(c, req->park); return true;
    case CALL(UNPARK): deadline_unpark(c, req->unpark); return true;
    case CALL(REOPEN): exception_reopen(c, req->reopen); return true;
    case CALL(MERGE): exception_merge(c, req->merge); return true;
    case CALL(REPORT_STAGE): deadline_report_stage(c, req->report_stage); return true;
    case CALL(EMERGENCY_CALL): exception_emergency(c, req->emergency_call); return true;
    case CALL(PUT_BODY): delib_put_body(c, req->put_body); return true;
    case CALL(SUBMIT_PROPOSAL): delib_submit_proposal(c, req->submit_proposal); return true;
    case CALL(SCHEDULE_MEETING): delib_schedule_meeting(c, req->schedule_meeting); return true;
    case CALL(MEETING_ACT): delib_meeting_act(c, req->meeting_act); return true;
    case CALL(CAST_VOTE): delib_cast_vote(c, req->cast_vote); return true;
    case CALL(SIGN_MINUTES): delib_sign_minutes(c, req->sign_minutes); return true;
    case CALL(RATE_DECISION): delib_rate_decision(c, req->rate_decision); return true;
    default: return false;
    }
}
