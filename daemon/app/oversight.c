/* oversight.c: see oversight.h. */
#include "oversight.h"

#include <string.h>

#include "authz.h"
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
    default: return false;
    }
}
