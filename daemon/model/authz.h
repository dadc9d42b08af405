/* authz.h: who may make which call, in one table.
 *
 * Every member of Request.call has one row: its short name (logs, the
 * audit log), whether it is a write (the writer applies it), the roles that
 * may make it at all, and the rule in words, which a denial quotes. The
 * role gate (authz_check) runs before anything is loaded (app/api.c for
 * every call it answers, the router for the server's own), and again in
 * the domain functions that another call reaches (a case's calls, the
 * oversight calls); the domain modules then check the target against the
 * caller's scope (a case in its street, an order of its
 * department...) and name their own rule when they deny. A call without a
 * row is refused for everyone, and a unit test fails on it
 * (tests/unit/test_scope_matrix.c enumerates the proto's calls). */
#ifndef WHISTLED_AUTHZ_H
#define WHISTLED_AUTHZ_H

#include <stdbool.h>

#include "call.h"

#define AUTHZ_ROLE(r) (1u << WHISTLE__V1__ROLE__ROLE_##r)
#define AUTHZ_ALL                                                                                                      \
    (AUTHZ_ROLE(ADMIN) | AUTHZ_ROLE(OPERATOR) | AUTHZ_ROLE(DEPARTMENT) | AUTHZ_ROLE(GRID_WORKER) |                     \
     AUTHZ_ROLE(COMMUNITY) | AUTHZ_ROLE(KIOSK) | AUTHZ_ROLE(INTEGRATION) | AUTHZ_ROLE(SENSOR) | AUTHZ_ROLE(VOLUNTEER))
/* A gateway by itself reads the directory and locates places; everything
 * else it does for the principals it acts for (Request.act_as). */
#define AUTHZ_ALL_GW (AUTHZ_ALL | AUTHZ_ROLE(GATEWAY))

typedef struct authz_rule {
    int call;         /* Request.call field number (= its call_case) */
    const char *name; /* short name: "report", "import"... */
    bool write;       /* applied by the writer */
    unsigned roles;   /* AUTHZ_ROLE bits of the roles that may make it */
    const char *rule; /* for people: who may, and on what */
} authz_rule;

/* The row of a call, or NULL if it has none. */
const authz_rule *authz_rule_for(int call_case);
/* The call number of a short name, or 0. */
int authz_call_of(const char *name);
/* All rows, for the docs and the tests. */
const authz_rule *authz_rules(unsigned *n);
/* Whether the role may make the call at all (no row: nobody may). */
bool authz_role_may(int call_case, Whistle__V1__Role role);

/* The role gate for c->name: 0 when c's role may make the call, else -1
 * with PERMISSION_DENIED quoting the rule, the denial audited under
 * target. The one gate: the dispatcher and the domain functions all ask
 * it. */
int authz_check(call *c, const char *target);
/* Whether a gateway may act for a principal of role r at all: never for an
 * admin or another gateway (an act_for list naming one is refused). */
bool authz_may_be_acted_for(Whistle__V1__Role r);
/* Request.act_as (docs/protocol.md section 12): why caller may not make a
 * call for the principal named name (target: its record, NULL when there
 * is none), as the message of the PERMISSION_DENIED it gets, rule named;
 * NULL when it may. The caller itself (an empty name, or its own) is always
 * allowed. The message lives in a. */
const char *authz_act_as_refusal(const Whistle__V1__Principal *caller, const char *name,
                                 const Whistle__V1__Principal *target, arena *a);

/* An operator's reach over a case (the oversight calls): admins, and the
 * operators whose street holds the case; else -1, denied and audited. */
int authz_operator_case(call *c, const Whistle__V1__Event *ev);

#endif
