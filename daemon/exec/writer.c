/* writer.c: see writer.h. */
#include "writer.h"

/* From half a millisecond (a commit in the page cache) to 2.5 s (a disk
 * that stalls): Prometheus's usual bounds. */
const uint64_t writer_commit_bounds_ns[WRITER_COMMIT_BUCKETS] = { 500000,    1000000,   2500000,    5000000,
                                                                  10000000,  25000000,  50000000,   100000000,
                                                                  250000000, 500000000, 1000000000, 2500000000 };

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "arena.h"
#include "audit.h"
#include "daemon/records.pb-c.h"
#include "log.h"
#include "photo_record.h"
#include "reply.h"
#include "stats_rows.h"
#include "sweep.h"
#include "whistle/frame.h"

/* Durability with store.sync = full: LMDB's own. A commit flushes the
 * transaction's data pages, then writes its meta page through an O_DSYNC
 * descriptor, which makes it the current state on disk; mdb_txn_commit
 * returns after both, and the batch's answers go then. (Letting the next
 * commit's flush carry the meta page saved a flush per commit but made
 * every answer wait for the next commit: slower at 50 waiting clients on
 * a disk whose flush takes tens of microseconds, docs/performance.md.)
 *
 * Readers see a commit as soon as its meta page is written, while its
 * flush is under way; pushes must not: each batch registers, before its
 * commit, the first seq it appended to every stream (a "cap"), and the
 * loop pushes a stream only up to its oldest pending cap
 * (writer_stream_cap) until the commit has returned. */
typedef struct cap {
    char *name;
    uint64_t first;            /* the first seq the batch appended to the stream */
    struct cap *next, **pprev; /* in its bucket */
    struct cap *next_in_batch;
} cap;

typedef struct wbatch {
    cap *caps;
} wbatch;

#define CAP_BUCKETS 1024

struct writer {
    store *st;
    uint32_t max_frame;
    clock_fn clock;
    void *clock_ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    intent *queue, **queue_tail; /* submitted, not yet taken */
    intent *done, **done_tail;   /* finished, not yet delivered */
    size_t backlog;
    bool stop;
    bool started;
    uv_async_t async;
    bool out_of_space;              /* the last commit failed for want of room (logged once) */
    char trim_pos[STREAM_NAME_BUF]; /* the stream retention looked at last (trim_streams) */
    writer_done_fn done_cb;
    void *ud;
    writer_stats stats;
    /* store.sync = full: each batch's caps are kept until its commit
     * returns; the caps are under mu */
    bool hold_pushes;
    /* writer_stop_async: the thread has ended (under mu), and what the
     * loop calls once it has delivered the last intents */
    bool exited;
    void (*on_stopped)(void *ctx);
    void *stopped_ctx;
    cap *caps[CAP_BUCKETS];
    /* photos swept whose files wait for the sweep's commit to be on disk
     * (photo_gone_pending) or for a backup to end (sweep_photos) */
    uint8_t photo_gone[16][BLOB_HASH_LEN];
    size_t photo_ngone;
    bool photo_gone_pending;
};

void intent_free(intent *it)
{
    if (!it)
        return;
    free(it->principal);
    free(it->via);
    free(it->frame);
    free(it->ack_stream);
    free(it->audit_call);
    free(it->audit_target);
    free(it->audit_what);
    free(it->out);
    stream_touched_clear(&it->touched);
    free(it);
}

/* Packs resp (with id) as a length-prefixed Frame into it->out. A response
 * too large for a frame becomes an error response: the client learns why
 * instead of the connection dying on an oversize frame. */
static void set_response(writer *w, intent *it, Whistle__V1__Response *resp)
{
    resp->id = it->req_id;
    free(it->out);
    it->out = NULL;
    it->code = reply_pack(resp, w->max_frame, &it->out, &it->out_len);
}

static void fail_intent(writer *w, intent *it, int code, const char *msg)
{
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.status = &st;
    stream_touched_clear(&it->touched);
    set_response(w, it, &resp);
}

/* Applies one request inside the batch transaction: in a nested
 * transaction of `batch` of its own, or, with `direct`, right in `batch`
 * (run_batch's optimistic pass). A direct call that fails may have written
 * part of itself, which only dropping `batch` undoes: it returns false
 * then, its answer set, and run_batch starts the batch again without it. */
static bool apply_request(writer *w, MDB_txn *batch, intent *it, int64_t now, bool direct)
{
    arena *a = arena_new();
    Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
    whistle__v1__response__init(resp);
    Whistle__V1__Frame *f = whistle__v1__frame__unpack(arena_allocator(a), it->frame_len, it->frame);
    if (!f || f->kind_case != WHISTLE__V1__FRAME__KIND_REQUEST) {
        /* The router decoded it already; this would be our own bug. */
        fail_intent(w, it, WHISTLE__V1__STATUS__CODE__INTERNAL, "request could not be decoded again");
        arena_free(a);
        return true;
    }
    Whistle__V1__Request *req = f->request;
    MDB_txn *child = direct ? batch : NULL;
    int rc = direct ? 0 : mdb_txn_begin(w->st->env, batch, 0, &child);
    if (rc != 0) {
        call_status(resp, a, store_status_code(rc), "store: cannot begin a transaction: %s", mdb_strerror(rc));
        set_response(w, it, resp);
        arena_free(a);
        return true;
    }
    /* the statistics sums of this call follow its transaction */
    stats_batch_push(w->st);
    /* The principal is checked again here, inside the transaction that
     * applies the call: a principal disabled since the router looked is
     * refused, not served from a stale read. */
    Whistle__V1__Principal *caller = api_principal(w->st, child, it->principal, a);
    if (!caller || !caller->enabled) {
        call_status(resp, a, WHISTLE__V1__STATUS__CODE__UNAUTHENTICATED, "principal \"%s\" is %s", it->principal,
                    caller ? "disabled" : "unknown");
        goto abort_child;
    }
    /* A gateway's call for another principal (Request.act_as) is checked
     * again here too, and then is that principal's call, audited through
     * the gateway (audit_via_set). */
    const Whistle__V1__Principal *who =
        api_acting(w->st, child, caller, req->act_as, api_call_name(req), now, a, resp, NULL);
    if (!who)
        goto abort_child;
    /* Every path below sets it back to none (the writer thread has none
     * outside a call). */
    audit_via_set(who != caller ? caller->name : NULL);

    uint8_t *ik = NULL;
    size_t iklen = 0;
    if (req->idempotency_key && *req->idempotency_key) {
        if (strlen(req->idempotency_key) > 128) {
            call_status(resp, a, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                        "idempotency_key is %zu bytes; at most 128 are allowed", strlen(req->idempotency_key));
            goto abort_child;
        }
        /* Keys are the principal's the call is made for (a gateway's
         * call for another principal uses that principal's keys, as if
         * it made it). */
        iklen = store_idem_key(who->name, req->idempotency_key, &ik);
        Whistled__IdemRecord *rec = NULL;
        rc = store_get(child, w->st->idem, ik, iklen, &whistled__idem_record__descriptor, a, (void **)&rec);
        if (rc == 0 && rec) {
            Whistle__V1__Response *first =
                whistle__v1__response__unpack(arena_allocator(a), rec->response.len, rec->response.data);
            free(ik);
            if (!direct) /* direct: nothing was written yet, only read */
                mdb_txn_abort(child);
            stats_batch_pop(w->st, false);
            audit_via_set(NULL);
            if (first) {
                set_response(w, it, first);
            } else {
                fail_intent(w, it, WHISTLE__V1__STATUS__CODE__DATA_LOSS,
                            "the stored result of this idempotency key cannot be decoded");
            }
            arena_free(a);
            return true;
        }
        if (rc != 0 && rc != MDB_NOTFOUND) {
            free(ik);
            call_status(resp, a, store_status_code(rc), "store: %s", store_strerror(rc));
            goto abort_child;
        }
    }

    it->map_full = api_write(w->st, child, who, req, now, a, resp, &it->touched) == MDB_MAP_FULL;
    audit_via_set(NULL);
    if (resp->status && resp->status->code != 0) {
        free(ik);
        goto abort_child;
    }
    /* An answer that would not fit a frame could only be replaced by an
     * error: then the write must not stay either (a client told
     * RESOURCE_EXHAUSTED would retry something already done). */
    size_t answer = whistle__v1__response__get_packed_size(resp) + 16; /* the frame's tags and lengths */
    if (answer > w->max_frame) {
        free(ik);
        call_status(resp, a, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED,
                    "the answer to %s would be %zu bytes, over the frame limit of %u: nothing was changed",
                    api_call_name(req), answer, w->max_frame);
        goto abort_child;
    }
    if (ik) {
        resp->id = 0;
        size_t rlen = whistle__v1__response__get_packed_size(resp);
        uint8_t *packed = arena_alloc(a, rlen ? rlen : 1);
        whistle__v1__response__pack(resp, packed);
        rc = store_idem_put(w->st, child, ik, iklen, now, packed, rlen);
        free(ik);
        if (rc != 0) {
            resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
            call_status(resp, a, store_status_code(rc), "store: cannot record the idempotency key: %s",
                        store_strerror(rc));
            goto abort_child;
        }
    }
    rc = direct ? 0 : mdb_txn_commit(child);
    stats_batch_pop(w->st, rc == 0);
    if (rc != 0) {
        resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
        call_status(resp, a, store_status_code(rc), "store: %s", store_strerror(rc));
        stream_touched_clear(&it->touched);
    }
    set_response(w, it, resp);
    arena_free(a);
    return true;

abort_child:
    audit_via_set(NULL);
    if (!direct)
        mdb_txn_abort(child);
    stats_batch_pop(w->st, false);
    stream_touched_clear(&it->touched);
    set_response(w, it, resp);
    arena_free(a);
    return !direct;
}

static void apply_ack(writer *w, MDB_txn *batch, intent *it)
{
    MDB_txn *child = NULL;
    if (mdb_txn_begin(w->st->env, batch, 0, &child) != 0)
        return;
    if (stream_ack(w->st, child, it->ack_stream, it->ack_seq) == 0)
        mdb_txn_commit(child);
    else
        mdb_txn_abort(child);
}

/* The audit record of a read that disclosed personal data; the answer in
 * it->out goes out only if this commits. */
static void apply_audit(writer *w, MDB_txn *batch, intent *it, int64_t now)
{
    MDB_txn *child = NULL;
    int rc = mdb_txn_begin(w->st->env, batch, 0, &child);
    if (!rc) {
        const char *was_via = audit_via_set(it->via);
        rc = audit_read_append(w->st, child, now, it->principal, it->audit_call, it->audit_target, it->audit_what);
        audit_via_set(was_via);
    }
    if (child) {
        if (rc)
            mdb_txn_abort(child);
        else
            rc = mdb_txn_commit(child);
    }
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "store: the read could not be audited, so it is not answered: %s", mdb_strerror(rc));
        fail_intent(w, it, store_status_code(rc), msg);
        return;
    }
    it->code = 0;
}

static bool answers(const intent *it)
{
    return it->kind == INTENT_REQUEST || it->kind == INTENT_AUDIT || it->kind == INTENT_PHOTO;
}

/* A completed photo upload's record (photo_record.h), its files already
 * on disk; the answer in it->out goes out only if this commits. */
static void apply_photo(writer *w, MDB_txn *batch, intent *it, int64_t now)
{
    /* No record: an upload already stored, asked for again; nothing to
     * write, and its answer waits, as every answer does, for what the loop
     * read to be durable (server/photos.c answer_stored). */
    if (!it->frame_len) {
        it->code = 0;
        return;
    }
    arena *a = arena_new();
    Whistled__PhotoUpload *rec = whistled__photo_upload__unpack(arena_allocator(a), it->frame_len, it->frame);
    /* The same bytes, uploaded again while the files of their swept
     * record wait to be removed (a backup was copying): the new record
     * owns those files now, so they stay. */
    for (size_t i = 0; rec && rec->sha256.len == BLOB_HASH_LEN && i < w->photo_ngone; i++)
        if (memcmp(w->photo_gone[i], rec->sha256.data, BLOB_HASH_LEN) == 0) {
            memmove(w->photo_gone[i], w->photo_gone[i + 1], (w->photo_ngone - i - 1) * BLOB_HASH_LEN);
            w->photo_ngone--;
            break;
        }
    MDB_txn *child = NULL;
    int rc = rec ? mdb_txn_begin(w->st->env, batch, 0, &child) : MDB_CORRUPTED;
    if (!rc) {
        const char *was_via = audit_via_set(it->via);
        rc = photo_upload_register(w->st, child, rec, now, it->principal);
        audit_via_set(was_via);
        if (rc)
            mdb_txn_abort(child);
        else
            rc = mdb_txn_commit(child);
    }
    arena_free(a);
    if (rc == ENOENT) {
        fail_intent(w, it, WHISTLE__V1__STATUS__CODE__ABORTED,
                    "the photo's files were removed while it was stored (an unattached copy of it passed its "
                    "grace); send it again from offset 0");
    } else if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "store: the photo could not be recorded: %s", store_strerror(rc));
        fail_intent(w, it, store_status_code(rc), msg);
        it->map_full = rc == MDB_MAP_FULL;
    } else {
        it->code = 0;
    }
}

/* Uploads never attached are removed after [photos] grace, a few per
 * batch: the records in a nested transaction of the batch, the files once
 * that is on disk (after_commit_photos), so a record never outlives its
 * files, even across a crash. While the files of the last sweep wait (a
 * backup is copying the blobs), nothing more is swept. */
#define PHOTO_SWEEP_STEP 16
static void sweep_photos(writer *w, MDB_txn *batch, int64_t now)
{
    if (w->photo_ngone)
        return;
    struct photo_limits l = photo_limits_of(w->st);
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(batch, w->st->photo_up_by_time, &cur) != 0)
        return;
    int prc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    mdb_cursor_close(cur);
    if (prc != 0 || k.mv_size < 8 || (int64_t)store_get_be64(k.mv_data) >= now - l.grace_ms)
        return;
    MDB_txn *child;
    if (mdb_txn_begin(w->st->env, batch, 0, &child) != 0)
        return;
    size_t n = 0;
    int rc = photo_sweep(w->st, child, now - l.grace_ms, PHOTO_SWEEP_STEP, w->photo_gone, &n);
    if (rc) {
        mdb_txn_abort(child);
        log_warn("photos: sweeping unattached uploads failed: %s (tried again with the next batch)",
                 store_strerror(rc));
        return;
    }
    if (mdb_txn_commit(child) != 0) {
        log_warn("photos: sweeping unattached uploads failed at its commit (tried again with the next batch)");
        return;
    }
    w->photo_ngone = n;
    w->photo_gone_pending = n > 0;
}

/* After a batch committed: the files of the uploads it swept go, once the
 * commit is surely on disk (a flush of our own: sweeps are rare) and no
 * backup is copying the blobs (store.photo_pins). */
static void after_commit_photos(writer *w, bool committed)
{
    if (!w->photo_ngone)
        return;
    if (w->photo_gone_pending) {
        if (!committed) {
            w->photo_ngone = 0; /* the sweep's deletions did not commit: the records stay */
            w->photo_gone_pending = false;
            return;
        }
        if (mdb_env_sync(w->st->env, 1) != 0)
            return; /* tried again after the next batch */
        w->photo_gone_pending = false;
    }
    if (atomic_load(&w->st->photo_pins) > 0)
        return;
    size_t n = w->photo_ngone;
    for (size_t i = 0; i < n; i++) {
        int rc = blob_remove(w->st->photo_dir, w->photo_gone[i]);
        if (rc) {
            char hex[BLOB_HEX_LEN + 1];
            blob_hex(w->photo_gone[i], hex);
            log_warn("photos: removing the files of %s, never attached: %s (whistled --check lists them)", hex,
                     strerror(rc));
        }
    }
    w->photo_ngone = 0;
    log_info("photos: %zu upload%s never attached within the grace removed", n, n == 1 ? "" : "s");
}

/* The deadline sweep, in a nested transaction of the batch: a failure
 * leaves the batch's other intents alone. */
static void apply_tick(writer *w, MDB_txn *batch, intent *it, int64_t now)
{
    MDB_txn *child = NULL;
    int rc = mdb_txn_begin(w->st->env, batch, 0, &child);
    if (rc == 0) {
        stats_batch_push(w->st);
        rc = deadline_sweep(w->st, child, now, &it->touched, it->tick_max, &it->tick_fired, &it->tick_more);
        if (rc)
            mdb_txn_abort(child);
        else
            rc = mdb_txn_commit(child);
        stats_batch_pop(w->st, rc == 0);
    }
    if (rc) {
        log_error("deadline sweep failed: %s", rc > 0 ? mdb_strerror(rc) : "see above");
        it->code = store_status_code(rc > 0 ? rc : MDB_PANIC);
        it->tick_fired = 0;
        stream_touched_clear(&it->touched);
    }
}

/* One intent of a batch (run_batch). False: a direct call failed, and
 * the optimistic pass is dropped. */
static bool apply_one(writer *w, MDB_txn *parent, intent *it, int64_t now, bool direct, size_t *ok, size_t *map_full)
{
    if (it->kind == INTENT_REQUEST) {
        if (!apply_request(w, parent, it, now, direct))
            return false;
        *ok += it->code == 0;
        /* only a call refused for a full map: others answer
         * RESOURCE_EXHAUSTED for other reasons (a look-up limit, an
         * answer too large) */
        *map_full += it->map_full;
    } else if (it->kind == INTENT_ACK) {
        apply_ack(w, parent, it);
    } else if (it->kind == INTENT_AUDIT) {
        apply_audit(w, parent, it, now);
    } else if (it->kind == INTENT_TICK) {
        apply_tick(w, parent, it, now);
    } else if (it->kind == INTENT_PHOTO) {
        apply_photo(w, parent, it, now);
        *map_full += it->map_full;
    }
    return true;
}

static uint32_t cap_bucket(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % CAP_BUCKETS;
}

/* Registers the batch's caps (under mu), before its commit makes its
 * entries visible to the loop. */
static void caps_add(writer *w, wbatch *wb, intent *batch)
{
    pthread_mutex_lock(&w->mu);
    for (intent *it = batch; it; it = it->next)
        for (size_t i = 0; i < it->touched.n; i++) {
            cap *c = calloc(1, sizeof *c);
            if (!c || !(c->name = strdup(it->touched.names[i])))
                log_oom("a stream's durable cap"); /* a lost cap could push what is not durable */
            /* unknown (0): hold the whole stream until the batch is durable */
            c->first = it->touched.first[i] ? it->touched.first[i] : 1;
            uint32_t h = cap_bucket(c->name);
            c->next = w->caps[h];
            if (c->next)
                c->next->pprev = &c->next;
            c->pprev = &w->caps[h];
            w->caps[h] = c;
            c->next_in_batch = wb->caps;
            wb->caps = c;
        }
    pthread_mutex_unlock(&w->mu);
}

static void caps_drop_locked(wbatch *wb)
{
    cap *c = wb->caps;
    while (c) {
        cap *n = c->next_in_batch;
        *c->pprev = c->next;
        if (c->next)
            c->next->pprev = c->pprev;
        free(c->name);
        free(c);
        c = n;
    }
    wb->caps = NULL;
}

bool writer_stream_cap(writer *w, const char *name, uint64_t *last)
{
    if (!w || !w->hold_pushes)
        return false;
    bool capped = false;
    uint64_t first = 0;
    pthread_mutex_lock(&w->mu);
    for (cap *c = w->caps[cap_bucket(name)]; c; c = c->next)
        if (strcmp(c->name, name) == 0 && (!capped || c->first < first)) {
            first = c->first;
            capped = true;
        }
    pthread_mutex_unlock(&w->mu);
    if (capped)
        *last = first - 1;
    return capped;
}

/* Idempotency records older than the store's keep time go, a few per
 * batch (IDEM_EXPIRE_STEP), so that expiry never makes one batch long; in
 * a nested transaction, so that a failure leaves the batch alone. */
#define IDEM_EXPIRE_STEP 64
static void expire_idem(writer *w, MDB_txn *batch, int64_t now)
{
    int64_t keep = w->st->idem_keep_ms > 0 ? w->st->idem_keep_ms : STORE_IDEM_KEEP_DEFAULT_MS;
    /* a look at the oldest first: most batches have nothing to expire and
     * should not pay for a nested transaction */
    if (!store_idem_due(w->st, batch, now - keep))
        return;
    MDB_txn *child;
    if (mdb_txn_begin(w->st->env, batch, 0, &child) != 0)
        return;
    size_t gone = 0;
    int rc = store_idem_expire(w->st, child, now - keep, IDEM_EXPIRE_STEP, &gone);
    if (rc || !gone) {
        mdb_txn_abort(child);
        if (rc)
            log_warn("store: expiring idempotency keys failed: %s (tried again with the next batch)",
                     store_strerror(rc));
        return;
    }
    if (mdb_txn_commit(child) != 0)
        log_warn("store: expiring idempotency keys failed at its commit (tried again with the next batch)");
}

/* Acknowledged push entries older than the store's keep time go, at most
 * STREAM_TRIM_STEP of one stream per batch, the streams taken in turn;
 * the look at the next stream is in the batch, the trim in a nested
 * transaction of its own. */
#define STREAM_TRIM_STEP 64
static void trim_streams(writer *w, MDB_txn *batch, int64_t now)
{
    int64_t keep = w->st->stream_keep_ms > 0 ? w->st->stream_keep_ms : STORE_STREAM_KEEP_DEFAULT_MS;
    if (stream_trim_next(w->st, batch, w->trim_pos, now - keep) <= 0)
        return;
    MDB_txn *child;
    if (mdb_txn_begin(w->st->env, batch, 0, &child) != 0)
        return;
    size_t gone = 0;
    int rc = stream_trim(w->st, child, w->trim_pos, now - keep, STREAM_TRIM_STEP, &gone);
    if (rc || !gone) {
        mdb_txn_abort(child);
        if (rc)
            log_warn("store: trimming stream %s failed: %s (tried again later)", w->trim_pos, store_strerror(rc));
        return;
    }
    if (mdb_txn_commit(child) != 0)
        log_warn("store: trimming stream %s failed at its commit (tried again later)", w->trim_pos);
}

/* Applies and commits a batch; counts the commit when it wrote (and so
 * flushed) something. */
static void run_batch(writer *w, intent *batch, wbatch *wb)
{
    MDB_envinfo info;
    mdb_env_info(w->st->env, &info);
    uint64_t before_id = info.me_last_txnid;
    int64_t now = w->clock(w->clock_ctx);
    MDB_txn *txn = NULL;
    /* A large write (a directory import) gets room before its transaction:
     * the map cannot grow while one is open. */
    size_t reserve = 0;
    for (intent *it = batch; it; it = it->next)
        reserve += it->reserve;
    if (reserve)
        store_reserve(w->st, reserve);
    int rc = store_write_begin(w->st, &txn);
    if (rc != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "store: cannot begin the write transaction: %s", mdb_strerror(rc));
        log_error("%s", msg);
        for (intent *it = batch; it; it = it->next)
            if (answers(it))
                fail_intent(w, it, store_status_code(rc), msg);
        return;
    }
    /* statistics are summed over the batch and written once per counter
     * (stats_rows.h); without memory for that, each call writes its own */
    stats_batch_begin(w->st);
    size_t ok = 0, map_full = 0;
    /* The optimistic pass: every call right in one nested transaction of
     * the batch, none in a nested transaction of its own. A call's own
     * nested transaction copies each page it touches that an earlier call
     * of the batch dirtied, and merges its pages back at its commit: a
     * quarter to a third of the writer's CPU per write (bench_pages). Most
     * calls succeed; the first that fails (it may have written part of
     * itself) drops the pass, and the batch runs again the careful way,
     * each call in a nested transaction of its own, without that one,
     * which keeps the answer it got. So a batch costs at most two passes
     * whatever its calls do, and the answers are those of the careful way:
     * a call fails against the state its predecessors left, which the
     * second pass makes again. The pass is a nested transaction of the
     * batch rather than the batch itself, so that what store_write_begin
     * put in the batch (the audited denials it flushed) survives a drop. */
    MDB_txn *opt = NULL;
    intent *failed = NULL;
    bool careful = mdb_txn_begin(w->st->env, txn, 0, &opt) != 0;
    if (!careful) {
        for (intent *it = batch; it; it = it->next)
            if (!apply_one(w, opt, it, now, true, &ok, &map_full)) {
                failed = it;
                break;
            }
        if (failed) {
            mdb_txn_abort(opt);
            careful = true;
        } else if (mdb_txn_commit(opt) != 0) {
            careful = true; /* LMDB freed it; nothing of the pass is in the batch */
        }
        if (careful) {
            /* what the pass left outside LMDB goes with it */
            stats_batch_begin(w->st);
            ok = map_full = 0;
            for (intent *it = batch; it && it != failed; it = it->next) {
                stream_touched_clear(&it->touched);
                it->map_full = false;
                it->tick_fired = 0;
                it->tick_more = false;
            }
            if (failed && (failed != batch || failed->next)) {
                /* a lone call that failed leaves nothing to run again */
                log_debug("writer: a call failed in a batch with others: the batch runs again, each call on its own");
                atomic_fetch_add(&w->stats.reruns, 1);
            }
        }
    }
    if (careful)
        for (intent *it = batch; it; it = it->next) {
            if (it == failed) {
                map_full += it->map_full;
                continue;
            }
            apply_one(w, txn, it, now, false, &ok, &map_full);
        }
    expire_idem(w, txn, now);
    trim_streams(w, txn, now);
    sweep_photos(w, txn, now);
    /* the audit's rows by principal, in bulk once enough wait (audit.h) */
    audit_index_flush(w->st, txn, 0);
    if (map_full && !w->out_of_space) {
        log_error("store: the map is full at map_max (%zu MiB): writes are refused until there is room (reads go "
                  "on); raise store.map_max and restart",
                  w->st->map_max >> 20);
        w->out_of_space = true;
    }
    if (wb)
        caps_add(w, wb, batch);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = stats_batch_flush(w->st, txn);
    if (rc) {
        /* the counters could not be written: the batch must not commit
         * without them (the failure path answers every intent) */
        mdb_txn_abort(txn);
    } else {
        rc = mdb_txn_commit(txn);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t took_ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
    atomic_fetch_add(&w->stats.commit_ns, (uint_fast64_t)took_ns);
    int cb = 0;
    while (cb < WRITER_COMMIT_BUCKETS && took_ns > writer_commit_bounds_ns[cb])
        cb++;
    atomic_fetch_add(&w->stats.commit_hist[cb], 1);
    if (rc != 0) {
        /* Nothing of the batch is durable: every answer says so, and no push
         * is announced (the subscribers read only committed entries). */
        atomic_fetch_add(&w->stats.failed_commits, 1);
        /* A full disk is answered like a full map: RESOURCE_EXHAUSTED, and
         * logged when it starts, not at every batch while it lasts. */
        bool full = store_out_of_space(w->st, rc);
        int code = full ? WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED : store_status_code(rc);
        char msg[256];
        snprintf(msg, sizeof msg, "store: commit failed, nothing was changed: %s",
                 full && rc == EIO ? "short write: the disk holding the store is full" : store_strerror(rc));
        if (rc == MDB_MAP_FULL && !w->out_of_space)
            /* the map filled at the commit rather than in a call: the same
             * line as when a call finds it full */
            log_error("store: the map is full at map_max (%zu MiB): writes are refused until there is room (reads "
                      "go on); raise store.map_max and restart",
                      w->st->map_max >> 20);
        else if (!full || !w->out_of_space)
            log_error("%s%s", msg, full ? "; writes are refused until there is room (reads go on)" : "");
        w->out_of_space = full;
        for (intent *it = batch; it; it = it->next)
            if (answers(it) && it->code == 0)
                fail_intent(w, it, code, msg);
            else
                stream_touched_clear(&it->touched);
        if (wb) {
            pthread_mutex_lock(&w->mu);
            caps_drop_locked(wb);
            pthread_mutex_unlock(&w->mu);
        }
        after_commit_photos(w, false);
        return;
    }
    after_commit_photos(w, true);
    if (w->out_of_space && ok > 0 && !map_full) {
        log_info("store: commits succeed again; writes resumed");
        w->out_of_space = false;
    }
    /* LMDB skips an empty commit entirely (no write, no flush): a batch of
     * barriers, or of requests that all failed, costs no disk time. */
    mdb_env_info(w->st->env, &info);
    if (info.me_last_txnid != before_id)
        atomic_fetch_add(&w->stats.commits, 1);
}

#define WRITER_BATCH_MAX 2048
#define WRITER_BATCH_BYTES ((size_t)16 << 20)

static void *writer_main(void *arg)
{
    writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->queue && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        /* A batch takes what is queued, up to WRITER_BATCH_MAX intents and
         * WRITER_BATCH_BYTES of requests (at least one): one batch's
         * transaction, memory and answers stay bounded under any backlog,
         * and the rest is the next batch. */
        intent *batch = w->queue, *cut = batch;
        size_t taken = 0, bytes = 0;
        while (cut && cut->next && taken + 1 < WRITER_BATCH_MAX &&
               bytes + cut->frame_len + cut->next->frame_len <= WRITER_BATCH_BYTES) {
            bytes += cut->frame_len;
            taken++;
            cut = cut->next;
        }
        if (cut) {
            w->queue = cut->next;
            cut->next = NULL;
            if (!w->queue)
                w->queue_tail = &w->queue;
        }
        bool stop = w->stop;
        pthread_mutex_unlock(&w->mu);

        if (batch) {
            size_t n = 0, writes = 0;
            for (intent *it = batch; it; it = it->next) {
                n++;
                writes += it->kind == INTENT_REQUEST;
            }
            wbatch *wb = NULL;
            if (w->hold_pushes && !(wb = calloc(1, sizeof *wb)))
                log_oom("a batch's hold on the streams it appends to");
            run_batch(w, batch, wb);
            atomic_fetch_add(&w->stats.batches, 1);
            atomic_fetch_add(&w->stats.intents, n);
            atomic_fetch_add(&w->stats.writes, writes);
            int bb = 0;
            while (bb < WRITER_BATCH_BUCKETS && n > ((size_t)1 << bb))
                bb++;
            atomic_fetch_add(&w->stats.batch_hist[bb], 1);
            if (n > atomic_load(&w->stats.max_batch))
                atomic_store(&w->stats.max_batch, n); /* the writer is the only one that stores it */
            pthread_mutex_lock(&w->mu);
            if (!wb) {
                *w->done_tail = batch;
                while (*w->done_tail)
                    w->done_tail = &(*w->done_tail)->next;
                uv_async_send(&w->async);
            } else {
                /* Its commit returned: it is on disk, data and meta page
                 * (a batch that wrote nothing answered from the state of a
                 * commit that had returned before it ran). */
                caps_drop_locked(wb);
                free(wb);
                *w->done_tail = batch;
                while (*w->done_tail)
                    w->done_tail = &(*w->done_tail)->next;
                uv_async_send(&w->async);
            }
            pthread_mutex_unlock(&w->mu);
            continue; /* stop only once the queue is empty */
        }
        if (stop)
            break;
    }
    pthread_mutex_lock(&w->mu);
    w->exited = true;
    pthread_mutex_unlock(&w->mu);
    uv_async_send(&w->async);
    return NULL;
}

static void on_async(uv_async_t *h)
{
    writer *w = h->data;
    pthread_mutex_lock(&w->mu);
    intent *done = w->done;
    w->done = NULL;
    w->done_tail = &w->done;
    size_t n = 0;
    for (intent *it = done; it; it = it->next)
        n++;
    w->backlog -= n;
    /* writer_stop_async: the thread ended after handing back its last
     * intents (taken above), so the join below does not wait */
    bool finished = w->exited && w->on_stopped && w->started;
    pthread_mutex_unlock(&w->mu);
    if (done)
        w->done_cb(w->ud, done);
    if (finished) {
        pthread_join(w->thread, NULL);
        w->started = false;
        uv_close((uv_handle_t *)&w->async, NULL);
        void (*cb)(void *) = w->on_stopped;
        w->on_stopped = NULL;
        cb(w->stopped_ctx);
    }
}

writer *writer_start(store *st, uv_loop_t *loop, uint32_t max_frame, clock_fn clock, void *clock_ctx,
                     writer_done_fn done_cb, void *ud)
{
    writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->st = st;
    w->max_frame = max_frame;
    w->clock = clock;
    w->clock_ctx = clock_ctx;
    w->done_cb = done_cb;
    w->ud = ud;
    w->queue_tail = &w->queue;
    w->done_tail = &w->done;
    w->hold_pushes = st->sync == STORE_SYNC_FULL;
    /* Whatever was committed before (the seed, say) goes to disk now, so
     * that the writer can start from a durable state. */
    if (w->hold_pushes && mdb_env_sync(st->env, 1) != 0)
        log_warn("store: the first flush to disk failed");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (uv_async_init(loop, &w->async, on_async) != 0) {
        free(w);
        return NULL;
    }
    w->async.data = w;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        uv_close((uv_handle_t *)&w->async, NULL);
        return NULL;
    }
    w->started = true;
    return w;
}

void writer_submit(writer *w, intent *it)
{
    it->next = NULL;
    writer_submit_list(w, it);
}

void writer_submit_list(writer *w, intent *list)
{
    if (!list)
        return;
    size_t n = 0;
    intent *last = list;
    for (intent *it = list; it; it = it->next) {
        n++;
        last = it;
    }
    pthread_mutex_lock(&w->mu);
    *w->queue_tail = list;
    w->queue_tail = &last->next;
    w->backlog += n;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void writer_stop(writer *w)
{
    if (!w || !w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
    on_async(&w->async); /* deliver what finished last */
    uv_close((uv_handle_t *)&w->async, NULL);
}

void writer_stop_async(writer *w, void (*stopped)(void *ctx), void *ctx)
{
    if (!w || !w->started) {
        stopped(ctx);
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    w->on_stopped = stopped;
    w->stopped_ctx = ctx;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void writer_free(writer *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

const writer_stats *writer_get_stats(const writer *w) { return &w->stats; }

size_t writer_backlog(const writer *w)
{
    writer *mw = (writer *)w;
    pthread_mutex_lock(&mw->mu);
    size_t n = mw->backlog;
    pthread_mutex_unlock(&mw->mu);
    return n;
}
