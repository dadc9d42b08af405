/* oversight.h: the calls of deadlines, supervision, the exception flow and
 * statistics, and of deliberation (deliberation.h, Request.call 260-279),
 * as api.c sees them (Request.call 60-79). */
#ifndef WHISTLED_OVERSIGHT_H
#define WHISTLED_OVERSIGHT_H

#include "call.h"

/* Answer the call if it is one of these (true), else leave it (false). */
bool oversight_read(call *c, const Whistle__V1__Request *req);
bool oversight_write(call *c, const Whistle__V1__Request *req);

#endif
