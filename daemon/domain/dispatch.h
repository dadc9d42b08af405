/* dispatch.h: the whistle (吹哨) and its dispatch orders (派单).
 *
 * One Order per whistled department: pending -check_in-> checked_in
 * -feedback-> done; pending | checked_in -return-> returned (final). When
 * every non-returned order of a case is done (and one at least), the case is
 * resolved. A failed verification puts done orders back to checked_in. */
#ifndef WHISTLED_DISPATCH_H
#define WHISTLED_DISPATCH_H

#include "call.h"
#include "event_record.h"

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

/* An order and its case, loaded for an action on the order: the order's
 * stored bytes (the audit's before) and the case's snapshot go back to
 * their saves. */
typedef struct order_work {
    Whistle__V1__Order *o;
    void *ob;
    size_t ol;
    Whistle__V1__Event *ev;
    event_snap snap;
} order_work;

/* Loads an order and its case for a department's action on it: the role
 * gate, the order, that it is the caller's department's (or the caller an
 * admin), and its case (DATA_LOSS when the order names a missing case).
 * 0, or -1 with the status set. */
int dispatch_order_begin(call *c, uint64_t id, order_work *w);
/* Saves the order, then its case. 0, or -1 with the status set. */
int dispatch_order_save(call *c, order_work *w);
/* FAILED_PRECONDITION: "order 7 is done; check_in needs pending. Allowed
 * now: ...". Returns -1. */
int dispatch_order_wrong_state(call *c, const Whistle__V1__Order *o, const char *needs);

#endif
