/* oversight.c: see oversight.h. */
#include "oversight.h"

#include <string.h>

#include "deadline.h"
#include "exception.h"
#include "stats.h"
#include "supervision.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define R(x) (1u << ROLE(x))

static const struct {
    Whistle__V1__Request__CallCase cc;
    const char *name;
    bool write;
    unsigned roles;
    const char *rule;
} calls[] = {
    {CALL(REQUEST_EXTENSION), "request_extension", true, R(ADMIN) | R(DEPARTMENT),
     "an extension is asked for by the department the order was sent to"},
    {CALL(DECIDE_EXTENSION), "decide_extension", true, R(ADMIN) | R(OPERATOR),
     "extensions are approved or refused by the street's operator"},
    {CALL(PARK), "park", true, R(ADMIN) | R(OPERATOR), "park needs operator or admin"},
    {CALL(UNPARK), "unpark", true, R(ADMIN) | R(OPERATOR), "unpark needs operator or admin"},
    {CALL(REOPEN), "reopen", true, R(ADMIN) | R(OPERATOR), "reopen needs operator or admin"},
    {CALL(MERGE), "merge", true, R(ADMIN) | R(OPERATOR), "merge needs operator or admin"},
    {CALL(REPORT_STAGE), "report_stage", true, R(ADMIN) | R(DEPARTMENT),
     "a stage is reported by the department the order was sent to"},
    {CALL(EMERGENCY_CALL), "emergency_call", true,
     R(ADMIN) | R(OPERATOR) | R(KIOSK) | R(SENSOR) | R(INTEGRATION) | R(COMMUNITY) | R(GRID_WORKER),
     "the emergency call is made from a kiosk, a sensor or by the people who report cases"},
    {CALL(LIST_SUPERVISIONS), "list_supervisions", false, R(ADMIN) | R(OPERATOR) | R(DEPARTMENT),
     "supervision records are read by operators, departments (their own) and admins"},
    {CALL(GET_STATS), "stats", false,
     R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(INTEGRATION),
     "statistics are read by operators, departments, grid and community workers, integrations and admins"},
};
#define NCALLS (sizeof calls / sizeof *calls)

static int find(Whistle__V1__Request__CallCase cc)
{
    for (size_t i = 0; i < NCALLS; i++)
        if (calls[i].cc == cc)
            return (int)i;
    return -1;
}

bool oversight_is_write(const Whistle__V1__Request *req)
{
    int i = find(req->call_case);
    return i >= 0 && calls[i].write;
}

const char *oversight_call_name(const Whistle__V1__Request *req)
{
    int i = find(req->call_case);
    return i >= 0 ? calls[i].name : NULL;
}

int oversight_role_allows(call *c, const char *target)
{
    Whistle__V1__Role r = c->who->role;
    for (size_t i = 0; i < NCALLS; i++) {
        if (strcmp(calls[i].name, c->name) != 0)
            continue;
        if (r >= 0 && r < 32 && ((calls[i].roles >> r) & 1u))
            return 0;
        return call_deny(c, target, "role %s may not %s (rule: %s)", role_name(r), c->name, calls[i].rule);
    }
    return call_deny(c, target, "role %s may not %s (rule: no role rule for this call)", role_name(r), c->name);
}

int oversight_case_scope(call *c, const Whistle__V1__Event *ev)
{
    const Whistle__V1__Principal *w = c->who;
    if (w->role == ROLE(ADMIN))
        return 0;
    if (w->role == ROLE(OPERATOR) && scope_covers(w->scope, ev->node))
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
