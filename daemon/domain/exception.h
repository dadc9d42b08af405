/* exception.h: the exception flow of the loop beyond the plain path
 * (DOMAIN §3): merging a duplicate into the earlier case (its reporter
 * follows the earlier case), reopening a closed case after a dissatisfied
 * rating, and the one-key emergency call. (Return and re-dispatch, rework
 * and reject are in dispatch.c and event.c; extension and parking in
 * deadline.c.) docs/deadlines.md describes each. */
#ifndef WHISTLED_EXCEPTION_H
#define WHISTLED_EXCEPTION_H

#include "call.h"

/* Whether name follows the case (the reporter of a duplicate merged in). */
bool exception_is_follower(const Whistle__V1__Event *ev, const char *name);
/* Pushes the change to each follower's own stream (contact blanked: the
 * case's reporter is another person). event_push calls it. */
int exception_push_followers(call *c, const Whistle__V1__Event *ev, const char *action,
                             const Whistle__V1__Order *order);

void exception_merge(call *c, const Whistle__V1__MergeEvent *req);
void exception_reopen(call *c, const Whistle__V1__ReopenEvent *req);
void exception_emergency(call *c, const Whistle__V1__EmergencyCall *req);

#endif
