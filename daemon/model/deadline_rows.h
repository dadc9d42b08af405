/* deadline_rows.h: the deadlines of cases and orders, as rows of an index
 * (DESIGN §5, docs/deadlines.md).
 *
 * Every dispatch order gets a check-in and a resolve deadline (and one per
 * stage where its category has stages) from the category catalogue, the
 * case's priority and the whistle's kind, on the working calendar. Every
 * running deadline is one row of the "deadlines" index, key = due time
 * (i64 BE ms) | kind | target, so that the earliest is the first row. The
 * rows are derived from the records alone: saving a case or an order
 * (event_record.h, order_record.h) recomputes them and puts or deletes the
 * difference, in the same transaction, so no action can leave a stale row.
 *
 * What reads the rows: the sweep (domain/sweep.c) handles the passed ones
 * in the writer; the engine (server/engine.c) keeps one timer armed for
 * the first; whistled --check compares them with the records. */
#ifndef WHISTLED_DEADLINE_ROWS_H
#define WHISTLED_DEADLINE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "call.h"

/* Row kinds, in the key after the due time. */
enum { DL_CHECK_IN = 1, DL_RESOLVE = 2, DL_STAGE = 3, DL_FOLLOW_UP = 4, DL_CASE = 5, DL_VISIT = 6 };
/* DL_VISIT: a special-care household's visit (archive_record.h), target =
 * u64 BE household id. */
/* A volunteer's claim on a wish lapses (volrec.h): target = u64 BE wish id.
 * Kept apart from the case kinds above, whose rows this file derives. */
enum { DL_WISH_CLAIM = 7 };
/* A credit of points expires (volrec.h): target = u64 BE ledger entry id. */
enum { DL_POINTS_EXPIRE = 8 };

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

/* A time as people read it in notes and refusals, local on the working
 * calendar: "2026-11-23 17:30" ("none" for 0). In c->a. */
const char *deadline_format(call *c, int64_t ms);

/* A copy of l in a, or NULL when l sets no limit (no amount or no unit). */
Whistle__V1__TimeLimit *deadline_limit_copy(arena *a, const Whistle__V1__TimeLimit *l);

/* A new order, before its first save: its limits, due times and stages
 * from c->now, and the case's parked flag. -1 with the status set. */
int deadline_order_init(call *c, const Whistle__V1__Event *ev, Whistle__V1__Order *o);
/* A done order sent back (failed verification, reopened case): a fresh
 * resolve deadline from now, and the follow-up cleared. */
void deadline_order_restart(call *c, Whistle__V1__Order *o);
/* Whether the order's deadlines run: pending or checked in. */
bool deadline_order_running(const Whistle__V1__Order *o);

/* The rows follow a record about to be stored (old: as stored, NULL for a
 * new one): the difference is put and deleted in c->txn. -1 with the
 * status set. Called only by the records' save (event_record.c,
 * order_record.c). */
int deadline_event_changed(call *c, const Whistle__V1__Event *old, const Whistle__V1__Event *ev);
int deadline_order_changed(call *c, const Whistle__V1__Order *old, const Whistle__V1__Order *o);

/* The keys of the deadline rows a record calls for (whistled --check
 * compares them with the index). Returns how many were written to keys
 * (each DEADLINE_KEY_MAX bytes) and lens. */
#define DEADLINE_KEY_MAX 42
#define DEADLINE_ROWS_MAX 19
size_t deadline_order_keys(const Whistle__V1__Order *o, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens);
size_t deadline_event_keys(const Whistle__V1__Event *ev, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens);

/* Whether the order already has a miss of this kind for this due time. */
bool deadline_order_missed(const Whistle__V1__Order *o, const char *kind, int64_t due, uint32_t stage);

#endif
