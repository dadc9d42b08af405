/* sweep.h: the passed deadlines, handled in the writer (docs/deadlines.md).
 * The engine (server/deadline_engine.c) hands the writer a tick when the
 * first row of the deadlines index (deadline_rows.h) is due; the writer
 * runs deadline_sweep in the batch's transaction: each passed deadline is
 * a miss, in a nested transaction of its own (supervision.c). */
#ifndef WHISTLED_SWEEP_H
#define WHISTLED_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"

/* Handles up to max deadline rows due at or before now (each a miss), in
 * txn. Sets *fired and *more (rows due remain). Returns 0, or a
 * negative/MDB error (the caller aborts txn). */
int deadline_sweep(store *st, MDB_txn *txn, int64_t now, stream_touched *touched, size_t max, size_t *fired,
                   bool *more);
/* The due time of the first row, or 0 when there is none. */
int64_t deadline_first_due(store *st, MDB_txn *txn);

#endif
