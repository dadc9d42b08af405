/* oversight.h: the calls of deadlines, supervision, the exception flow and
 * statistics, as api.c sees them (Request.call 60-79), and the role and
 * scope rules they share. */
#ifndef WHISTLED_OVERSIGHT_H
#define WHISTLED_OVERSIGHT_H

#include "domain.h"

/* Answer the call if it is one of these (true), else leave it (false). */
bool oversight_read(call *c, const Whistle__V1__Request *req);
bool oversight_write(call *c, const Whistle__V1__Request *req);

/* The caller's role may make c->name at all; else denied (audited), -1. */
int oversight_role_allows(call *c, const char *target);
/* An operator's (or admin's) change to a case: the case must be in the
 * operator's scope; else denied, -1. */
int oversight_case_scope(call *c, const Whistle__V1__Event *ev);

#endif
