/* order_record.h: a dispatch order (派单) as stored: db "orders" under its
 * u64 BE id, indexed by department and state in "ord_by_dept" and by street
 * and state in "ord_by_street_state". Saving one brings
 * everything derived from it in line in the same transaction (its
 * version, the supervision its leaving a pressed state closes, the
 * statistics, the deadline rows) and audits the change. */
#ifndef WHISTLED_ORDER_RECORD_H
#define WHISTLED_ORDER_RECORD_H

#include "call.h"

/* "pending", "checked_in", "done", "returned". */
const char *order_state_name(Whistle__V1__OrderState s);
/* The order, or NULL when absent (no status set: for derived work). */
Whistle__V1__Order *order_get(call *c, uint64_t id);
/* Loads an order with its packed bytes (the audit's "before"): NOT_FOUND
 * naming it when absent; -1 with the status set. */
int order_load(call *c, uint64_t id, Whistle__V1__Order **out, void **bytes, size_t *len);
/* Stores an order (before NULL: new) through everything derived from it,
 * with its audit record and its index rows. 0 or -1. */
int order_save(call *c, Whistle__V1__Order *o, const void *before, size_t blen);
/* Whether one of the case's orders belongs to the department. */
bool order_case_has_dept(call *c, const Whistle__V1__Event *ev, const char *dept);
/* The rows of ord_by_dept and ord_by_street_state: code | '/' | u8
 * group of the state | u64 BE id (code: a department's, at most
 * ORDER_CODE_MAX bytes, or a street's). Returns the key's length.
 *
 * Schema 4: the open states, pending and checked in, are one group (the
 * byte of ORDER_STATE_PENDING); done and returned each their own. A
 * check-in so moves no row (each move was a row deleted and one put, on
 * two leaves of each index, for every check-in), and a listing of the
 * pending or the checked-in orders reads the open ones and keeps those in
 * that state (it reads every order it lists anyway, and at most
 * LIST_SCAN_MAX rows a page). Schema 2 and 3 had a group per state. */
#define ORDER_CODE_MAX 64
#define ORDER_STATE_KEY_MAX (ORDER_CODE_MAX + 10)
size_t order_state_key(uint8_t *key, const char *code, Whistle__V1__OrderState state, uint64_t id);
/* The group of a state in those rows (the state itself but for checked
 * in, which is pending's). */
Whistle__V1__OrderState order_state_group(Whistle__V1__OrderState state);

/* "order:7": how the audit log and the denials name an order. */
char *order_target(call *c, uint64_t id);

#endif
