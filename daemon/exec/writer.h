/* writer.h: the writer thread, the only one that writes LMDB.
 *
 * exec/ is the layer that applies: the writer thread (writer.c) and the
 * packing of answers into frames (reply.c). It calls app/ (api_write, the
 * call table) and below; the loop side (net/, server/) hands it intents and
 * gets them back through the done callback it is started with.
 *
 * The loop thread submits intents; the writer takes everything queued,
 * applies it in one write transaction (each request in a nested
 * transaction, so a refused request leaves no trace), commits once, and
 * hands the intents back to the loop with their packed responses. Nothing
 * is answered before the commit that holds it is as durable as store.sync
 * says (group commit: many writes, one fsync; writer.c explains how full
 * mode gets there with one flush per commit under load). */
#ifndef WHISTLED_WRITER_H
#define WHISTLED_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "store.h"
#include "stream.h"

/* REQUEST: a write call. ACK: a PushAck. AUDIT: a read's answer that
 * discloses personal data, already packed in out: the writer appends the
 * audit record and the answer goes out only once that is committed.
 * FLUSH: nothing but a transaction, so that queued denials get written.
 * BARRIER: changes nothing; it comes back once everything submitted before
 * it is committed, so the loop can act on a state that includes them (a
 * Subscribe from the cursor sees every PushAck received before). */
enum {
    INTENT_REQUEST = 1,
    INTENT_ACK = 2,
    INTENT_AUDIT = 3,
    INTENT_FLUSH = 4,
    INTENT_BARRIER = 5,
    /* TICK: the deadline engine's sweep (deadline.c); it has no owner */
    INTENT_TICK = 6,
    /* PHOTO: a completed upload whose files are on disk (server/photos.c):
     * frame holds its packed whistled.PhotoUpload, out the answer the loop
     * packed, sent only once the record is committed (else an error) and
     * durable; with no frame, an upload already stored, whose answer waits
     * for what the loop read to be durable */
    INTENT_PHOTO = 7
};

typedef struct intent {
    struct intent *next;
    int kind;
    void *owner; /* the loop's connection; the writer never touches it */
    uint64_t req_id;
    int call;        /* Request.call of an INTENT_REQUEST (for the metrics) */
    char *principal; /* certificate CN (INTENT_AUDIT: the principal the read was for) */
    char *via;       /* INTENT_AUDIT: the gateway that made the read for principal, or NULL */
    uint8_t *frame;  /* INTENT_REQUEST: the packed Frame as received */
    size_t frame_len;
    char *ack_stream; /* INTENT_ACK */
    uint64_t ack_seq;
    struct intent *ack_sibling;                   /* the loop's: its connection's other pending acks */
    char *audit_call, *audit_target, *audit_what; /* INTENT_AUDIT */
    size_t reserve;                               /* bytes the write may need: the map grows first */
    size_t tick_max;                              /* INTENT_TICK: deadlines to handle at most */
    /* filled by the writer */
    uint8_t *out; /* the response, length-prefixed, ready to send
                           (INTENT_AUDIT: set by the loop) */
    size_t out_len;
    int code;          /* its status code */
    bool map_full;     /* the call was refused because the map is full */
    size_t tick_fired; /* INTENT_TICK: deadlines handled, and whether more are due */
    bool tick_more;
    stream_touched touched;
} intent;

typedef struct writer writer;
typedef void (*writer_done_fn)(void *ud, intent *done);
typedef int64_t (*clock_fn)(void *ctx);

/* Counters since start, read by the loop thread (ServerStats) while the
 * writer updates them. batches: every batch run; commits: those whose
 * commit wrote something (LMDB's transaction id moved: only these reach
 * the disk); commit_ns: time spent
 * in mdb_txn_commit, which is mostly waiting for the disk. */
#define WRITER_BATCH_BUCKETS 9   /* batch sizes: 1, 2, 4, ... 256, then more */
#define WRITER_COMMIT_BUCKETS 12 /* commit times: writer_commit_bounds, then more */
extern const uint64_t writer_commit_bounds_ns[WRITER_COMMIT_BUCKETS];
typedef struct writer_stats {
    atomic_uint_fast64_t batches, commits, failed_commits, intents, writes, commit_ns, max_batch;
    /* batches whose optimistic pass a failing call dropped, run again with
     * each call in a nested transaction of its own (run_batch) */
    atomic_uint_fast64_t reruns;
    /* Histograms for the metrics (not cumulative: [i] counts the
     * observations in bucket i; the last is above every bound). */
    atomic_uint_fast64_t batch_hist[WRITER_BATCH_BUCKETS + 1];
    atomic_uint_fast64_t commit_hist[WRITER_COMMIT_BUCKETS + 1];
} writer_stats;

/* Starts the thread; done_cb runs on loop's thread with a list of finished
 * intents (the callee frees them with intent_free). */
writer *writer_start(store *st, uv_loop_t *loop, uint32_t max_frame, clock_fn clock, void *clock_ctx,
                     writer_done_fn done_cb, void *ud);
void writer_submit(writer *w, intent *it);
/* Submits a chain of intents (linked by next) at once: one lock, one
 * wake-up of the writer. */
void writer_submit_list(writer *w, intent *list);
/* Finishes everything queued, delivers it, stops the thread and closes its
 * loop handle. Call from the loop thread; the loop must keep running until
 * the done callback has seen the last intents. */
void writer_stop(writer *w);
/* The same without waiting on the loop thread: the writer finishes what
 * is queued (its last flush included) on its own thread, and the loop,
 * once it has delivered the last intents, joins the ended thread, closes
 * the handle and calls stopped(ctx). Submit nothing after this. */
void writer_stop_async(writer *w, void (*stopped)(void *ctx), void *ctx);
/* After the loop has ended: frees the writer. */
void writer_free(writer *w);
const writer_stats *writer_get_stats(const writer *w);
/* Intents submitted and not yet handed back. */
size_t writer_backlog(const writer *w);
/* Whether the loop may push every committed entry of the stream: false if
 * so; true if a batch that appended to it is committed but not yet durable
 * (store.sync = full), with *last the last entry that may be pushed. */
bool writer_stream_cap(writer *w, const char *name, uint64_t *last);

void intent_free(intent *it);

#endif
