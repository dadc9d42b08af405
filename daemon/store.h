/* store.h: the LMDB environment and its named databases.
 *
 * One environment under the state directory. Only the writer thread opens
 * write transactions; the loop thread reads through one MDB_NOTLS read
 * transaction that it resets between loop iterations (store_read_*).
 *
 * Keys are big-endian where numeric so that LMDB order is numeric order.
 * Values are packed protobuf records (whistle.v1 or whistled records).
 * Every secondary index changes in the same transaction as its record.
 *
 * Databases (name: key -> value):
 *   meta         ascii name -> bytes         counters: "order_seq" (u64 BE),
 *                                            "ticket:<yyyymmdd>" (u64 BE),
 *                                            "audit_seq" (u64 BE), "schema" (u32 BE)
 *   events       ticket -> whistle.v1.Event
 *   ev_by_state  u8 state | ticket -> ""
 *   ev_by_node   node code | '/' | ticket -> ""   (prefix scan = subtree)
 *   orders       u64 BE id -> whistle.v1.Order
 *   ord_by_dept  dept code | '/' | u64 BE id -> ""   (one row per order)
 *   streams      stream name | 0x00 | u64 BE seq -> whistle.v1.Push
 *   stream_meta  stream name -> whistled.StreamMeta
 *   idem         principal | 0x00 | idempotency key -> whistled.IdemRecord
 *   nodes        code -> whistle.v1.Node
 *   departments  code -> whistle.v1.Department
 *   categories   code -> whistle.v1.Category
 *   principals   name -> whistle.v1.Principal
 *   audit        u64 BE seq -> whistled.AuditRecord
 */
#ifndef WHISTLED_STORE_H
#define WHISTLED_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "arena.h"

typedef enum { STORE_SYNC_FULL = 0, STORE_SYNC_NOMETASYNC, STORE_SYNC_NONE } store_sync;

typedef struct store_opts {
    size_t map_size;     /* initial map size in bytes (0: 64 MiB) */
    size_t map_max;      /* grow the map up to this (0: 16 GiB) */
    store_sync sync;
} store_opts;

typedef struct store {
    MDB_env *env;
    size_t map_size, map_max;
    store_sync sync;
    MDB_dbi meta, events, ev_by_state, ev_by_node, orders, ord_by_dept, streams,
        stream_meta, idem, nodes, departments, categories, principals, audit;
    /* loop thread's cached read transaction (MDB_NOTLS, reset/renew) */
    MDB_txn *rtxn;
    bool rtxn_live;
} store;

/* Opens (creating if needed) the environment in dir, which must exist.
 * On failure returns a negative value and writes one line for people into
 * err (naming the directory and what to do). */
int store_open(store **out, const char *dir, const store_opts *opts, char *err, size_t errlen);
void store_close(store *st);

/* The loop thread's read transaction: begin renews the cached one, end
 * resets it. Never held across loop iterations. Returns NULL on error. */
MDB_txn *store_read_begin(store *st);
void store_read_end(store *st);

/* Write transactions (writer thread only). store_write_begin grows the map
 * by policy first when it is more than 80% used. */
int store_write_begin(store *st, MDB_txn **out);

/* Record helpers: get unpacks into the arena (NULL + MDB_NOTFOUND if absent,
 * other MDB errors returned); put packs and stores. */
int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
              const ProtobufCMessageDescriptor *desc, arena *a, void **out);
int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessage *msg);
int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen);

/* Counters in meta: returns the next value (first call returns 1). */
int store_next_seq(MDB_txn *txn, store *st, const char *name, uint64_t *out);

void store_be64(uint8_t out[8], uint64_t v);
uint64_t store_get_be64(const uint8_t in[8]);

/* MDB error -> whistle status code (MDB_MAP_FULL -> RESOURCE_EXHAUSTED ...) */
int store_status_code(int mdb_rc);

#endif
