/* oversight.c: see oversight.h. */
#include "oversight.h"

#include <string.h>

#include "authz.h"
#include "deadline.h"
#include "exception.h"
#include "stats.h"
#include "supervision.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

/* The role gate is authz.c's table, which api.c applies before a call is
 * dispatched; this is the same gate for the functions that check again
 * where they load their target. */
int oversight_role_allows(call *c, const char *target)
{
    int cc = authz_call_of(c->name);
    if (cc && authz_role_may(cc, c->who->role))
        return 0;
    const authz_rule *r = authz_rule_for(cc);
    return call_deny(c, target, "role %s may not %s (rule: %s)", role_name(c->who->role), c->name,
                     r ? r->rule : "no rule lets anyone make this call");
}

int oversight_case_scope(call *c, const Whistle__V1__Event *ev)
{
    const Whistle__V1__Principal *w = c->who;
    if (w->role == ROLE(ADMIN))
        return 0;
    if (w->role == ROLE(OPERATOR) && principal_covers(w, ev->node))
        return 0;
    return call_deny(c, ev->ticket, "case %s is at %s, outside your scope %s (rule: an operator acts on its street "
                                    "only)",
                     ev->ticket, ev->node, str0(w->scope));
}

bool oversight_read(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(LIST_SUPERVISIONS):
        supervision_list(c, req->list_supervisions);
        return true;
    case CALL(GET_STATS):
        stats_get(c, req->get_stats);
        return true;
    default:
        return false;
    }
}

bool oversight_write(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(REQUEST_EXTENSION):
        deadline_request_extension(c, req->request_extension);
        return true;
    case CALL(DECIDE_EXTENSION):
        deadline_decide_extension(c, req->decide_extension);
        return true;
    case CALL(PARK):
        deadline_park(c, req->park);
        return true;
    case CALL(UNPARK):
        deadline_unpark(c, req->unpark);
        return true;
    case CALL(REOPEN):
        exception_reopen(c, req->reopen);
        return true;
    case CALL(MERGE):
        exception_merge(c, req->merge);
        return true;
    case CALL(REPORT_STAGE):
        deadline_report_stage(c, req->report_stage);
        return true;
    case CALL(EMERGENCY_CALL):
        exception_emergency(c, req->emergency_call);
        return true;
    default:
        return false;
    }
}
