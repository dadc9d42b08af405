/* audit.h: the append-only audit log (db "audit", key u64 BE seq, with
 * indexes by time, by principal and by target that change in the same
 * transaction). No call deletes or rewrites a record.
 *
 * Since schema 3 a record's key is AUDIT_LOG_TAG | u64 BE at_ms | u64 BE
 * seq (audit_key): the log is in time order and is its own index by time.
 * The indexes by principal and by target are rows of the same database,
 * before the records: AUDIT_IX_PRINCIPAL | principal | 0x00 | at_ms BE |
 * seq BE and AUDIT_IX_TARGET | target | 0x00 | at_ms BE | seq BE (strings
 * cut at 400 bytes), with empty values. The records come last, so a new
 * one is appended (MDB_APPEND: the last leaf filled, not split in half).
 * So a write dirties one tree's pages for its record and its rows where
 * schema 2 (key u64 BE seq; tables audit_by_time, audit_by_principal and
 * audit_by_target) dirtied four.
 *
 * Since schema 4 the rows by target of a case (its ticket) and of its
 * orders ("order:<id>") are not in the log's database but beside the case
 * in events: ticket | 0x00 | AUDIT_CASE_ROW | target | 0x00 | at_ms BE |
 * seq BE, after its timeline rows (ticket | 0x00 | u32 BE index). The
 * change a record tells has just rewritten the case or its order, and a
 * check-in on an old order touched the leaves of three rows by target
 * anywhere in the log (the order's, the case's, and its own record's);
 * beside the case, they share the leaf the case's new timeline entry is
 * written to. Where the row goes is decided when it is written
 * (audit_target_home), so a record about a case or order that did not
 * exist yet keeps its row in the log; a query by target reads both places.
 *
 * Changes are audited inside the transaction that makes them, so a record
 * exists exactly when its change was committed. Denials are different: they
 * happen on the loop thread (reads) or inside a call whose nested
 * transaction is rolled back, so they wait in a queue on the store and the
 * next write transaction (store_write_begin) or store_close writes them;
 * the server starts such a transaction within a second when nothing else
 * does (server.c, on_tick). Reads of personal data that an answer carries
 * are written by the writer before the answer is sent (audit_read_append);
 * the few noticed where that cannot wait (a subscription) are queued like
 * denials. */
#ifndef WHISTLED_AUDIT_H
#define WHISTLED_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/records.pb-c.h"
#include "store.h"

/* Schema 4: a record's row by principal is written in bulk, behind the
 * log. Until then the record has a row AUDIT_IX_PENDING | at_ms | seq ->
 * its principal (cut at 400 bytes): such rows sort before every other of
 * the table and mostly come in time order, so a batch's land together on
 * the last leaf of their run instead of each on its principal's leaf.
 * Once AUDIT_PIX_BATCH of them wait, a writer batch turns them all into
 * rows by principal (audit_index_flush), a principal's together; a query
 * by principal reads its rows and the waiting ones, merged in time
 * order. */
#define AUDIT_IX_PENDING 1
#define AUDIT_PIX_BATCH 2048
#define AUDIT_IX_PRINCIPAL 2
#define AUDIT_IX_TARGET 3
#define AUDIT_LOG_TAG 0x80
/* after ticket | 0x00 in events: a row by target (a timeline row's u32
 * index never starts so: a case holds far fewer entries) */
#define AUDIT_CASE_ROW 0xFF
/* the longest ticket whose rows go beside it */
#define AUDIT_HOME_MAX 64
#define AUDIT_KEY_LEN 17
/* A record's key: AUDIT_LOG_TAG, at_ms (0 if negative) and seq, big-endian
 * (an index row ends with the last 16 bytes of its record's key). */
void audit_key(uint8_t key[AUDIT_KEY_LEN], int64_t at_ms, uint64_t seq);
/* Whether a key of the database is a record's (not an index row). */
bool audit_is_record_key(const void *key, size_t len);

/* The case whose rows in events hold target's rows by target (schema 4):
 * target itself when it is a case's ticket, the order's case for
 * "order:<id>"; its ticket into home. False for any other target, or when
 * the case or order is not in txn. */
bool audit_target_home(MDB_txn *txn, MDB_dbi events, MDB_dbi orders, const char *target, char home[AUDIT_HOME_MAX + 1]);

/* The gateway (Request.act_as, docs/protocol.md section 12) through which
 * the calling thread's current call is made, NULL or "" for none: every
 * record this thread appends or queues until it is set again names it as
 * via. A call made for another principal passes through many layers that
 * each audit under that principal's name; the thread's context carries
 * the gateway to all of them without a parameter in each. Set it around a
 * call and restore what it returns. */
const char *audit_via_set(const char *via);
/* The current via ("" for none). */
const char *audit_via(void);

/* Appends one record of a change: before is the packed record as it was
 * (NULL/0: created), after the record as it is now (NULL: deleted). */
int audit_append(store *st, MDB_txn *txn, int64_t now_ms, const char *principal, const char *call, const char *target,
                 const void *before, size_t before_len, const ProtobufCMessage *after);

/* Queues a denial (thread-safe). Nothing queued is ever dropped, and the
 * memory stays bounded: past AUDIT_QUEUE_MAX waiting records, the next ones
 * are folded into one aggregate per principal, call and rule (a count, the
 * first target, the first and last time), up to AUDIT_AGG_MAX aggregates;
 * past those, into one last aggregate of everything else. A flood of
 * refused calls is so recorded in full, as counts (issue 11). */
#define AUDIT_QUEUE_MAX 10000
#define AUDIT_AGG_MAX 4096
void audit_deny(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                const char *rule);
/* Queues a read of personal data (what: "contact", ...), the same way. */
void audit_read_queue(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                      const char *what);
/* Appends a read of personal data inside txn (the writer, before the answer
 * that carries it is sent). */
int audit_read_append(store *st, MDB_txn *txn, int64_t now_ms, const char *principal, const char *call,
                      const char *target, const char *what);

/* Turns the rows waiting for their row by principal into rows by
 * principal, when at least min of them wait (0: AUDIT_PIX_BATCH), in a
 * nested transaction of txn (a failure is logged and leaves them waiting;
 * txn stays usable). The writer calls it in every batch. Returns how many
 * rows it wrote, or -1. */
long audit_index_flush(store *st, MDB_txn *txn, size_t min);

/* Writes the queued denials into txn (in a nested transaction, so that a
 * failure leaves txn usable; the denials are then dropped with a log line). */
int audit_flush_denials(store *st, MDB_txn *txn);

/* Calls fn for each record with seq > after_seq, in the log's order (time,
 * then seq), until fn returns non-zero or max were visited. Records live
 * in a. Returns the number visited or a negative/MDB error. It walks the
 * log from its start: for tests and tools, not for the loop. */
typedef int (*audit_visit_fn)(void *ctx, const Whistled__AuditRecord *rec);
int audit_read(store *st, MDB_txn *txn, uint64_t after_seq, size_t max, arena *a, audit_visit_fn fn, void *ctx);

/* Records in time order with filters (any may be empty/0): an exact
 * principal, a target (exact, or a prefix when it ends with '*'), at_ms in
 * [from_ms, to_ms]. Resumes after cursor (an opaque string from the last
 * call, "" to start); fills *next with the cursor for the next page ("" at
 * the end). Results in a. Returns 0 with *count, EINVAL for a cursor that
 * is not from such a query, or an MDB error code. */
int audit_query(store *st, MDB_txn *txn, const char *principal, const char *target, int64_t from_ms, int64_t to_ms,
                const char *cursor, size_t max, arena *a, Whistled__AuditRecord ***out, size_t *count, char **next);
/* The same, newest first (a target prefix then reads the time index
 * backwards). Its cursors are its own: each refuses the other's. */
int audit_query_newest(store *st, MDB_txn *txn, const char *principal, const char *target, int64_t from_ms,
                       int64_t to_ms, const char *cursor, size_t max, arena *a, Whistled__AuditRecord ***out,
                       size_t *count, char **next);

/* Gives an open store its queue of denials, written at store_close if
 * still queued then. Call once, right after store_open, before any thread
 * uses the store; 0 or -ENOMEM. */
int audit_attach(store *st);

/* Records waiting in the store's queue (0 for none, or no queue). */
struct audit_queue;
size_t audit_queue_len(struct audit_queue *q);

#endif
