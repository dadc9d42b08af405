/* supervision.h: 督办, what a missed deadline sets off.
 *
 * A dispatch order that misses a deadline (check-in, resolve, a stage, or
 * the follow-up its supervision set) records the miss, opens a supervision
 * record (one per order while it stays open; db "supervisions"), adds an
 * "overdue" entry to the case's timeline and pushes an alert to the
 * street's feed and the department's stream. Each miss sets a follow-up:
 * check in by the check-in limit again, or finish within
 * deadline.follow_up_hours. When a supervision has collected
 * deadline.escalate_after misses (at once for an emergency whistle) it is
 * escalated: level 2, alert "escalate" to district:<district code> as well.
 * After deadline.max_misses misses no further follow-up is set: the record
 * stays open, and counted, until the order is done or returned.
 *
 * A case handled locally (by a grid or community worker) that passes its
 * due time opens a supervision of its own (order_id 0) and alerts the
 * street and the worker; it closes when the case is resolved. */
#ifndef WHISTLED_SUPERVISION_H
#define WHISTLED_SUPERVISION_H

#include "call.h"

/* A passed deadline row of an order (kind DL_*, stage 1-based for
 * DL_STAGE, due its time). Returns 0 when handled or no longer applicable
 * (the order moved on), -1 with the status set on a store error. */
int supervision_order_miss(call *c, uint64_t order_id, int kind, uint32_t stage, int64_t due);
/* A case's own due time passed. Same returns. */
int supervision_case_due(call *c, const char *ticket, int64_t due);

/* The list call: admins; operators in their scope; departments their own. */
void supervision_list(call *c, const Whistle__V1__ListSupervisions *req);

#endif
