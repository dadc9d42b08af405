/* dispatch.h: the whistle (吹哨) and its dispatch orders (派单).
 *
 * One Order per whistled department: pending -check_in-> checked_in
 * -feedback-> done; pending | checked_in -return-> returned (final). When
 * every non-returned order of a case is done (and one at least), the case is
 * resolved. A failed verification puts done orders back to checked_in. */
#ifndef WHISTLED_DISPATCH_H
#define WHISTLED_DISPATCH_H

#include "event.h"

void dispatch_whistle(call *c, const Whistle__V1__WhistleEvent *req);
void dispatch_list_orders(call *c, const Whistle__V1__ListOrders *req);
void dispatch_check_in(call *c, const Whistle__V1__CheckIn *req);
void dispatch_feedback(call *c, const Whistle__V1__Feedback *req);
void dispatch_return(call *c, const Whistle__V1__ReturnOrder *req);
void dispatch_propose(call *c, const Whistle__V1__ProposeDepartments *req);

/* verify failed on a whistled case: done orders go back to checked_in, each
 * department gets a "rework" push. ev is the case after the change (state
 * and timeline already set). -1 with the status set on error. */
int dispatch_rework(call *c, const Whistle__V1__Event *ev);
/* The same with another push action ("reopen"). Each order sent back gets
 * rework_count + 1 and a fresh resolve deadline. */
int dispatch_rework_as(call *c, const Whistle__V1__Event *ev, const char *action);

/* Loads an order with its packed bytes (the audit's "before"); -1 with the
 * status set. Stores an order (before NULL: new) through the deadline and
 * statistics hooks, with its audit record and, when new, its index row. */
int dispatch_order_load(call *c, uint64_t id, Whistle__V1__Order **out, void **bytes, size_t *len);
int dispatch_order_save(call *c, Whistle__V1__Order *o, const void *before, size_t blen);

/* Whether one of the case's orders belongs to the department. */
bool dispatch_case_has_dept(call *c, const Whistle__V1__Event *ev, const char *dept);

Whistle__V1__Order *dispatch_order_get(call *c, uint64_t id);
const char *dispatch_order_state_name(Whistle__V1__OrderState s);

#endif
