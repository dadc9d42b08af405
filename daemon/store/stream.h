/* stream.h: durable push streams.
 *
 * A stream is a named, gapless sequence of whistle.v1.Push entries (seq from
 * 1) with a cursor that PushAck moves. Names:
 *   dept:<department code>    a department's dispatch orders and their changes
 *   street:<street code>      a street's case feed (the operators' console)
 *   district:<code>           a district's escalated supervision (supervision.c)
 *   members:<community code>  the tasks a community whistles to its registered
 *                             members and the wishes it publishes
 *                             (docs/volunteers.md): its volunteers read it
 *   fed:<district code>       a federated district's changes for the city
 *                             (model/fed_rows.h): its bridge reads it
 *   principal:<name>          a reporter's own cases (kiosk, grid worker,
 *                             integration): status changes of what it reported,
 *                             and what was assigned to it
 * Entries are appended inside the writer's transaction, so a push exists
 * exactly when the change that caused it was committed. */
#ifndef WHISTLED_STREAM_H
#define WHISTLED_STREAM_H

#include "store.h"
#include "whistle/v1/whistle.pb-c.h"

/* The set of streams a batch appended to, so that the loop can wake their
 * subscribers after the commit. Owned by the caller; names are copied. */
typedef struct stream_touched {
    char **names;
    uint64_t *first; /* the first seq appended to each, 0 if unknown */
    size_t n, cap;
} stream_touched;

void stream_touched_add(stream_touched *t, const char *name);
/* Adds name, noting seq as appended to it (the writer's caps, writer.h). */
void stream_touched_add_seq(stream_touched *t, const char *name, uint64_t seq);
void stream_touched_clear(stream_touched *t);

/* Appends push (its stream, seq and at_ms are set here) to the named stream
 * and records the name in touched (may be NULL). */
int stream_append(store *st, MDB_txn *txn, const char *name, int64_t now_ms, Whistle__V1__Push *push,
                  stream_touched *touched);

/* Reads the stream's meta (zeros when the stream has no entries yet). */
int stream_meta_get(store *st, MDB_txn *txn, const char *name, uint64_t *last_seq, uint64_t *cursor);

/* Moves the cursor forward to seq (never back, never past last_seq). */
int stream_ack(store *st, MDB_txn *txn, const char *name, uint64_t seq);

/* Calls fn for each entry with seq > after_seq, in order, with the packed
 * Push bytes (valid only during the call), until fn returns non-zero or
 * max entries were visited. Returns the number visited or a negative error. */
typedef int (*stream_visit_fn)(void *ctx, uint64_t seq, const void *bytes, size_t len);
int stream_read(store *st, MDB_txn *txn, const char *name, uint64_t after_seq, size_t max, stream_visit_fn fn,
                void *ctx);

/* Retention (the writer, a step per batch): the entries of a stream that
 * its cursor has passed and that are older than before_ms are let go,
 * oldest first; StreamMeta.trimmed says up to where. A subscription from
 * below it replays from the first entry kept.
 * stream_trim_next moves pos (a stream name, "" to start) to the next
 * stream in name order, round and round, and says whether that one has an
 * entry to let go (1), none (0), or a store error (negative). stream_trim
 * lets go of at most max of the stream's entries; 0 or an MDB code. */
#define STREAM_NAME_BUF 513
int stream_trim_next(store *st, MDB_txn *txn, char pos[STREAM_NAME_BUF], int64_t before_ms);
int stream_trim(store *st, MDB_txn *txn, const char *name, int64_t before_ms, size_t max, size_t *trimmed);

/* The principal's own stream name, written into buf ("" if it has none). */
void stream_default_for(const Whistle__V1__Principal *who, char *buf, size_t len);
/* Whether who may subscribe to / ack the named stream (admins: any): a
 * department its dept:<code>, an operator the street:<9 digits> feeds in
 * its scope (a district center also its district:<6 digits>), anyone
 * else its principal:<name>. Only real names: not any name that starts
 * like an allowed one. */
bool stream_allowed(const Whistle__V1__Principal *who, const char *name);

#endif
