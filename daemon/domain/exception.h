/* exception.h: the exception flow of the loop beyond the plain path
 * (DOMAIN §3): merging a duplicate into the earlier case (its reporter
 * follows the earlier case), reopening a closed case after a dissatisfied
 * rating, and the one-key emergency call. (Return and re-dispatch, rework
 * and reject are in dispatch.c and event.c; extension and parking in
 * extension.c.) docs/deadlines.md describes each. */
#ifndef WHISTLED_EXCEPTION_H
#define WHISTLED_EXCEPTION_H

#include "call.h"

void exception_merge(call *c, const Whistle__V1__MergeEvent *req);
void exception_reopen(call *c, const Whistle__V1__ReopenEvent *req);
void exception_emergency(call *c, const Whistle__V1__EmergencyCall *req);

#endif
