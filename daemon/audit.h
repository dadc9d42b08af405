/* audit.h: the append-only audit log (db "audit", key u64 BE seq).
 *
 * Changes are audited inside the transaction that makes them, so a record
 * exists exactly when its change was committed. Denials are different: they
 * happen on the loop thread (reads) or inside a call whose nested
 * transaction is rolled back, so they wait in a queue on the store and the
 * next write transaction (store_write_begin) or store_close writes them. */
#ifndef WHISTLED_AUDIT_H
#define WHISTLED_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/records.pb-c.h"
#include "store.h"

/* Appends one record of a change: before is the packed record as it was
 * (NULL/0: created), after the record as it is now (NULL: deleted). */
int audit_append(store *st, MDB_txn *txn, int64_t now_ms, const char *principal, const char *call,
                 const char *target, const void *before, size_t before_len, const ProtobufCMessage *after);

/* Queues a denial (thread-safe). The queue is bounded: past AUDIT_QUEUE_MAX
 * waiting denials further ones are counted and dropped, with a log line. */
#define AUDIT_QUEUE_MAX 10000
void audit_deny(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                const char *rule);

/* Writes the queued denials into txn (in a nested transaction, so that a
 * failure leaves txn usable; the denials are then dropped with a log line). */
int audit_flush_denials(store *st, MDB_txn *txn);

/* Calls fn for each record with seq > after_seq, in order, until fn
 * returns non-zero or max were visited. Records live in a. Returns the
 * number visited or a negative/MDB error. */
typedef int (*audit_visit_fn)(void *ctx, const Whistled__AuditRecord *rec);
int audit_read(store *st, MDB_txn *txn, uint64_t after_seq, size_t max, arena *a, audit_visit_fn fn,
               void *ctx);

/* The queue itself (store.c owns one). */
struct audit_queue;
struct audit_queue *audit_queue_new(void);
void audit_queue_free(struct audit_queue *q);
size_t audit_queue_len(struct audit_queue *q);

#endif
