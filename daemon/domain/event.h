/* event.h: the case (事件) and its closed loop.
 *
 * domain/ is the layer of the calls: the rules of the case (event.c), its
 * orders (dispatch.c), the exception flow (exception.c), deadlines moved
 * (extension.c), supervision (supervision.c) and the sweep that finds the
 * passed deadlines (sweep.c), statistics (stats.c), tasks, admin and the
 * service guide. A call's entry point fills c->resp; everything it stores
 * goes through model/'s records, which keep what is derived from them. It
 * calls model/ and below, never app/ or the loop.
 *
 *   report -> reported -file-> filed -assign-> handling -resolve-> resolved
 *                     -reject-> rejected (final)
 *   filed | handling | whistled -whistle-> whistled (orders: dispatch.c)
 *   whistled -(every non-returned order done)-> resolved
 *   resolved -verify pass-> verified -close-> closed -rate-> closed (rated)
 *   resolved -verify fail-> whistled (done orders back to checked_in)
 *                         | handling (a local case)
 *
 * Every change appends a timeline entry, rewrites the indexes and an audit
 * record in the call's transaction, and appends pushes (street feed, the
 * reporter's own stream, ...): the record's side is event_record.h. */
#ifndef WHISTLED_EVENT_H
#define WHISTLED_EVENT_H

#include "call.h"
#include "event_record.h"

/* The calls. Each fills c->resp. */
void event_report(call *c, const Whistle__V1__ReportEvent *req);
void event_get(call *c, const Whistle__V1__GetEvent *req);
void event_list(call *c, const Whistle__V1__ListEvents *req);
void event_file(call *c, const Whistle__V1__FileEvent *req);
void event_reject(call *c, const Whistle__V1__RejectEvent *req);
void event_assign(call *c, const Whistle__V1__AssignEvent *req);
void event_resolve(call *c, const Whistle__V1__ResolveEvent *req);
void event_verify(call *c, const Whistle__V1__VerifyEvent *req);
void event_close(call *c, const Whistle__V1__CloseEvent *req);
void event_rate(call *c, const Whistle__V1__RateEvent *req);
void event_lookup(call *c, const Whistle__V1__LookupTicket *req);
/* Proves a ticket with the last 4 digits of the phone given at report
 * (lookup_ticket, a kiosk's rate and photo read): *ev loaded when the pair
 * matches inside the caller's scope; every failure reads alike (NOT_FOUND)
 * and counts against the caller's look-up limit. 0 or -1. */
int event_prove_ticket(call *c, const char *ticket, const char *digits, Whistle__V1__Event **ev);

#endif
