/* fed_rows.h: the federation stream fed:<district> (docs/federation.md).
 *
 * When the daemon is a district of a federated city ([federation] district,
 * store.fed_district), the save of a case and the save of an order to a
 * city-level department append an entry to the stream fed:<district>, in
 * the transaction of the change: the stream is gapless and holds exactly
 * what was committed (a call rolled back leaves no entry). whistle-bridge
 * follows it and publishes each entry to NATS JetStream. Not federated:
 * nothing is appended. */
#ifndef WHISTLED_FED_ROWS_H
#define WHISTLED_FED_ROWS_H

#include "call.h"

/* "fed:<district>" into buf (len >= 16), or "" when not federated. */
const char *fed_stream_name(const store *st, char *buf, size_t len);

/* After a case is saved (old: the stored record before, NULL for a new
 * one; ev->timeline: the entries this call appended): a FedCaseEvent when
 * it is new, or its state, rating, reopenings or transfer changed. 0, or
 * -1 with the status set. */
int fed_rows_case(call *c, const Whistle__V1__Event *old, const Whistle__V1__Event *ev);

/* After an order is saved (old: before, NULL for a new one): a FedOrder
 * when its department is city-level (Department.city). 0 or -1. */
int fed_rows_order(call *c, const Whistle__V1__Order *old, const Whistle__V1__Order *o);

/* Appends an entry to the stream with a FedTransfer (domain/fed.c, a
 * transfer out). 0 or -1. */
int fed_rows_transfer(call *c, Whistle__V1__FedTransfer *t);

#endif
