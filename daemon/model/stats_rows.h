/* stats_rows.h: counters for how the work is judged (DOMAIN §5,
 * docs/statistics.md).
 *
 * Each case and each order contributes a fixed set of counters, computed
 * from its record alone (filed, closed on time, checked in on time, rated
 * 4 or 5, ...). Whenever a record is stored, the save hook adds the
 * difference between its new and its stored contribution to the counters
 * of its dimensions (district, street, community and grid of its place;
 * the department of an order) in the buckets of the day, ISO week and
 * month in which the case was reported (the order dispatched), in the same
 * transaction. So the counters always equal a recount from the records, and
 * a query (domain/stats.c) reads buckets, never cases.
 *
 * db "stats": key "<dim>:<code>|<bucket>|<metric>", value i64 BE, where dim
 * is dept, district, street, community or grid and bucket D2026-11-21,
 * W2026-W47 or M2026-11 (local dates on the working calendar's offset). */
#ifndef WHISTLED_STATS_ROWS_H
#define WHISTLED_STATS_ROWS_H

#include "call.h"

/* Counters per batch. The writer applies many calls in one transaction,
 * each in a nested one; writing each call's counters as it goes would
 * dirty (and copy, in every nested transaction) the page of every counter
 * it touches. So, while a batch is open on the store (st->stats_batch),
 * the counters' changes are summed in memory, with a level per open nested
 * transaction: _push when one begins, _pop when it ends (keep: it
 * committed, its sums stay; else they are taken back, as the
 * transaction's changes are). stats_batch_flush writes the sums once per
 * key, in key order, in the batch's transaction, before its commit. With
 * no batch open (tests, the seed, tools), changes are written at once.
 * Only the writer thread uses them. begin: 0 or -ENOMEM; flush: 0 or an
 * MDB code (then the batch must not commit); both end the batch. */
int stats_batch_begin(store *st);
void stats_batch_push(store *st);
void stats_batch_pop(store *st, bool keep);
int stats_batch_flush(store *st, MDB_txn *txn);
void stats_batch_end(store *st);

/* The counters follow a record about to be stored (old: as stored, NULL
 * for a new one). -1 with the status set. Called only by the records'
 * save (event_record.c, order_record.c). */
int stats_event_changed(call *c, const Whistle__V1__Event *old, const Whistle__V1__Event *ev);
int stats_order_changed(call *c, const Whistle__V1__Order *old, const Whistle__V1__Order *o);

/* For tests and tools: the metric names, in the order of the contribution
 * vectors, and the contributions themselves. */
enum { STATS_METRICS = 32 };
extern const char *const stats_metric_names[STATS_METRICS];
void stats_event_contribution(const Whistle__V1__Event *ev, int64_t out[STATS_METRICS]);
/* dept: the department's dimension (adds the case's rating); else a place. */
void stats_order_contribution(const Whistle__V1__Order *o, bool dept, int64_t out[STATS_METRICS]);
/* The ISO 8601 week (1..53) of a day number (calendar.h), its ISO year in
 * *iso_year. */
int stats_iso_week(int32_t day, int *iso_year);
/* The three bucket labels (D..., W..., M...) of a time. */
void stats_buckets(const store *st, int64_t ms, char out[3][16]);

#endif
