/* deadline.h: the deadline engine (DESIGN §5, docs/deadlines.md).
 *
 * Every dispatch order gets a check-in and a resolve deadline (and one per
 * stage where its category has stages) from the category catalogue, the
 * case's priority and the whistle's kind, on the working calendar. Every
 * running deadline is one row of the "deadlines" index, key = due time
 * (i64 BE ms) | kind | target, so that the earliest is the first row. The
 * rows are derived from the records alone: the save hooks below recompute
 * them whenever an order or a case is stored and put or delete the
 * difference, in the same transaction, so no action can leave a stale row.
 *
 * The loop thread keeps ONE libuv timer armed for the first row. When it
 * fires, the loop hands an INTENT_TICK to the writer, which runs
 * deadline_sweep() in the batch's transaction: each passed deadline is a
 * miss (supervision.c). A deadline that passed while the daemon was down is
 * simply a first row in the past at start: it fires at once.
 *
 * The same hooks keep the statistics (stats.c) in step with each record,
 * and count each record's version (Event.version, Order.version). */
#ifndef WHISTLED_DEADLINE_H
#define WHISTLED_DEADLINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "call.h"

/* Row kinds, in the key after the due time. */
enum { DL_CHECK_IN = 1, DL_RESOLVE = 2, DL_STAGE = 3, DL_FOLLOW_UP = 4, DL_CASE = 5 };

/* The policy in force (the defaults when the store has none: unit tests). */
const deadline_policy *deadline_policy_of(const store *st);

/* The limits for a case of this category (NULL: none found) and priority,
 * whistled with kind (0 for local handling): the catalogue's
 * (directory_limits_for), the policy's defaults where it has none, and
 * the emergency whistle's check-in. Fills check_in and resolve; an amount
 * of 0 means no deadline. */
void deadline_limits(const deadline_policy *p, const Whistle__V1__Category *cat, Whistle__V1__Priority prio,
                     Whistle__V1__WhistleKind kind, arena *a, Whistle__V1__TimeLimit *check_in,
                     Whistle__V1__TimeLimit *resolve);

/* A new order, before its first save: its limits, due times and stages
 * from c->now, and the case's parked flag. -1 with the status set. */
int deadline_order_init(call *c, const Whistle__V1__Event *ev, Whistle__V1__Order *o);
/* A done order sent back (failed verification, reopened case): a fresh
 * resolve deadline from now, and the follow-up cleared. */
void deadline_order_restart(call *c, Whistle__V1__Order *o);

/* The save hooks: event_save and order_save call them with the record about
 * to be stored, before storing it. They stamp the record (filed, resolved
 * and closed times; the case's due time at its first dispatch or
 * assignment), then bring the deadline rows, the statistics and the
 * supervision records in line with it. -1 with the status set. */
int deadline_event_saving(call *c, Whistle__V1__Event *ev);
int deadline_order_saving(call *c, Whistle__V1__Order *o);

/* The writer's sweep: handles up to max deadline rows due at or before now
 * (each a miss), in txn. Sets *fired and *more (rows due remain). Returns
 * 0, or a negative/MDB error (the caller aborts txn). */
int deadline_sweep(store *st, MDB_txn *txn, int64_t now, stream_touched *touched, size_t max, size_t *fired,
                   bool *more);
/* The due time of the first row, or 0 when there is none. */
int64_t deadline_first_due(store *st, MDB_txn *txn);

/* The loop side (server.c calls these). */
struct server;
struct intent;
int deadline_engine_start(struct server *s);
/* After every batch: re-arm the timer for the first row. */
void deadline_engine_rearm(struct server *s);
/* A tick came back from the writer (it is freed by the caller). */
void deadline_engine_tick_done(struct server *s, struct intent *it);
void deadline_engine_stop(struct server *s);

/* The keys of the deadline rows a record calls for (whistled --check
 * compares them with the index). Returns how many were written to keys
 * (each DEADLINE_KEY_MAX bytes) and lens. */
#define DEADLINE_KEY_MAX 42
#define DEADLINE_ROWS_MAX 19
size_t deadline_order_keys(const Whistle__V1__Order *o, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens);
size_t deadline_event_keys(const Whistle__V1__Event *ev, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens);

/* Whether the order already has a miss of this kind for this due time. */
bool deadline_order_missed(const Whistle__V1__Order *o, const char *kind, int64_t due, uint32_t stage);

/* The test clock of --test-clock FILE: the Unix ms written in FILE (a
 * clock_fn for the writer and the loop; ctx is a struct test_clock). The
 * file is read at every look at the clock, so a test moves time by
 * writing a new value (write a temporary file and rename it over FILE). */
struct test_clock {
    char *path;
    _Atomic int64_t last; /* the last good reading, for a torn read */
};
int64_t deadline_file_clock(void *ctx);

/* Calls (docs/deadlines.md). */
void deadline_request_extension(call *c, const Whistle__V1__RequestExtension *req);
void deadline_decide_extension(call *c, const Whistle__V1__DecideExtension *req);
void deadline_park(call *c, const Whistle__V1__ParkEvent *req);
void deadline_unpark(call *c, const Whistle__V1__UnparkEvent *req);
void deadline_report_stage(call *c, const Whistle__V1__ReportStage *req);

#endif
