/* photos.c: see photos.h. */
#include "photos.h"

#include <errno.h>
#include <linux/ioprio.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "blobs.h"
#include "log.h"
#include "photo_record.h"
#include "reply.h"

/* Chunks waiting in or for the thread pool, over every connection: each
 * holds its data (at most a frame), so this bounds their memory. */
#define PHOTO_JOBS_MAX 64
/* Partial uploads removed per run of the expiry. */
#define PARTS_EXPIRE_STEP 1000

struct photo_busy {
    uint8_t h[BLOB_HASH_LEN];
    photo_busy *next;
};

typedef struct put_job {
    uv_work_t work;
    struct put_job *next; /* in the ingest thread's queues */
    photo_state *p;
    conn *c;
    uint64_t id;
    int call;
    uint8_t h[BLOB_HASH_LEN];
    uint64_t size, offset;
    uint8_t *data;
    size_t len;
    char *principal, *via;
    media_policy pol;
    char *dir;
    /* results */
    int code; /* 0: OK */
    char why[512];
    uint64_t have;
    bool complete;
    uint8_t *packed; /* the whistled.PhotoUpload record, once complete */
    size_t packed_len;
    Whistle__V1__PhotoUploadStatus st;
    char mime[32];
} put_job;

static void reply(conn *c, uint64_t id, int code, const char *msg, Whistle__V1__PhotoUploadStatus *st)
{
    Whistle__V1__Status s = WHISTLE__V1__STATUS__INIT;
    s.code = code;
    s.message = (char *)msg;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &s;
    if (st && code == 0) {
        resp.result_case = WHISTLE__V1__RESPONSE__RESULT_PHOTO_UPLOAD;
        resp.photo_upload = st;
    }
    conn_send_response(c, &resp);
}

static bool busy_has(photo_state *p, const uint8_t *h)
{
    for (photo_busy *b = p->busy; b; b = b->next)
        if (memcmp(b->h, h, BLOB_HASH_LEN) == 0)
            return true;
    return false;
}

static void busy_drop(photo_state *p, const uint8_t *h)
{
    for (photo_busy **b = &p->busy; *b; b = &(*b)->next)
        if (memcmp((*b)->h, h, BLOB_HASH_LEN) == 0) {
            photo_busy *gone = *b;
            *b = gone->next;
            free(gone);
            return;
        }
}

/* The status of a completed upload, from its record. */
static void status_of(Whistle__V1__PhotoUploadStatus *st, const Whistled__PhotoUpload *u, int64_t grace_ms)
{
    st->size = u->size;
    st->received = u->size;
    st->complete = true;
    st->mime = u->mime;
    st->width = u->width;
    st->height = u->height;
    st->taken_ms = u->taken_ms;
    st->stored_bytes = u->image_bytes;
    st->referenced = u->refs > 0;
    st->expires_ms = u->refs ? 0 : u->created_ms + grace_ms;
}

/* ------------------------------------------------------------ a chunk, in the pool */

static void put_fail(put_job *j, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_fail(put_job *j, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->why, sizeof j->why, fmt, ap);
    va_end(ap);
    j->code = code;
}

static int errno_code(int e) { return e == ENOSPC || e == EDQUOT ? CODE(RESOURCE_EXHAUSTED) : CODE(INTERNAL); }

/* The whole upload is in: hashed, ingested, its files written. */
static void put_finish(put_job *j)
{
    char part[4096];
    blob_part_path(j->dir, j->h, part, sizeof part);
    uint8_t *in = NULL;
    size_t len = 0;
    int rc = blob_read_file(part, j->size, &in, &len);
    if (rc) {
        put_fail(j, errno_code(rc), "the upload could not be read back: %s", strerror(rc));
        return;
    }
    uint8_t got[BLOB_HASH_LEN];
    blob_sha256(in, len, got);
    if (len != j->size || memcmp(got, j->h, BLOB_HASH_LEN) != 0) {
        char want[BLOB_HEX_LEN + 1], have[BLOB_HEX_LEN + 1];
        blob_hex(j->h, want);
        blob_hex(got, have);
        free(in);
        unlink(part);
        put_fail(j, CODE(DATA_LOSS),
                 "the %zu bytes received hash to %s, not to the sha256 announced (%s): they were dropped; send the "
                 "file again from offset 0",
                 len, have, want);
        return;
    }
    media_result m;
    char why[300] = "";
    rc = media_ingest(in, len, &j->pol, &m, why, sizeof why);
    free(in);
    if (rc != 0) {
        unlink(part);
        if (rc > 0)
            put_fail(j, CODE(INVALID_ARGUMENT), "the photo was refused: %s", why);
        else
            put_fail(j, CODE(RESOURCE_EXHAUSTED), "out of memory while reading the photo");
        return;
    }
    char path[4096];
    blob_path(j->dir, j->h, false, path, sizeof path);
    rc = blob_write_file(path, m.data, m.len, &j->p->pace);
    if (!rc) {
        blob_path(j->dir, j->h, true, path, sizeof path);
        rc = blob_write_file(path, m.thumb, m.thumb_len, &j->p->pace);
    }
    if (rc) {
        media_result_free(&m);
        put_fail(j, errno_code(rc), "the photo could not be stored: %s", strerror(rc));
        return;
    }
    uint8_t ih[BLOB_HASH_LEN], th[BLOB_HASH_LEN];
    blob_sha256(m.data, m.len, ih);
    blob_sha256(m.thumb, m.thumb_len, th);
    Whistled__PhotoUpload rec = WHISTLED__PHOTO_UPLOAD__INIT;
    rec.sha256.data = j->h;
    rec.sha256.len = BLOB_HASH_LEN;
    rec.size = j->size;
    snprintf(j->mime, sizeof j->mime, "%s", m.mime ? m.mime : "");
    rec.mime = j->mime;
    rec.image_sha256.data = ih;
    rec.image_sha256.len = BLOB_HASH_LEN;
    rec.image_bytes = m.len;
    rec.thumb_sha256.data = th;
    rec.thumb_sha256.len = BLOB_HASH_LEN;
    rec.thumb_bytes = m.thumb_len;
    rec.width = m.width;
    rec.height = m.height;
    rec.taken_ms = m.taken_ms;
    rec.has_location = m.has_location;
    rec.lat = m.lat;
    rec.lon = m.lon;
    rec.uploader = j->principal;
    j->packed_len = whistled__photo_upload__get_packed_size(&rec);
    j->packed = malloc(j->packed_len ? j->packed_len : 1);
    if (!j->packed) {
        media_result_free(&m);
        put_fail(j, CODE(RESOURCE_EXHAUSTED), "out of memory");
        return;
    }
    whistled__photo_upload__pack(&rec, j->packed);
    j->st.mime = j->mime;
    j->st.width = m.width;
    j->st.height = m.height;
    j->st.taken_ms = m.taken_ms;
    j->st.stored_bytes = m.len;
    media_result_free(&m);
    /* the files are on disk: the partial upload is no longer needed */
    unlink(part);
    j->complete = true;
}

static void put_work(uv_work_t *w)
{
    put_job *j = w->data;
    int rc = blob_part_append(j->dir, j->h, j->size, j->offset, j->data, j->len, &j->have);
    if (rc) {
        put_fail(j, errno_code(rc), "the chunk could not be stored: %s", strerror(rc));
        return;
    }
    /* the whole file is in: the ingest thread takes it from here */
}

static void job_free(put_job *j)
{
    free(j->data);
    free(j->principal);
    free(j->via);
    free(j->dir);
    free(j->packed);
    free(j);
}

/* A chunk's (or a whole upload's) answer, on the loop: an error or the
 * bytes held, straight away; a stored upload, once its record is
 * committed (INTENT_PHOTO). Ends the job. */
static void job_answer(put_job *j, int status)
{
    photo_state *p = j->p;
    conn *c = j->c;
    p->jobs--;
    busy_drop(p, j->h);
    char hex[BLOB_HEX_LEN + 1];
    blob_hex(j->h, hex);
    j->st.sha256 = hex;
    j->st.size = j->size;
    j->st.received = j->have;
    if (status) {
        put_fail(j, CODE(INTERNAL), "the chunk was not stored: %s", uv_strerror(status));
    }
    if (j->code) {
        if (j->code == CODE(INVALID_ARGUMENT) || j->code == CODE(DATA_LOSS)) {
            p->refused++;
            log_call(LOG_LVL_INFO, "photo_put", j->principal, NULL, "photo %s from %s refused: %s", hex, j->principal,
                     j->why);
        } else {
            log_call(LOG_LVL_ERROR, "photo_put", j->principal, NULL, "photo %s from %s: %s", hex, j->principal, j->why);
        }
        if (!c->closing)
            reply(c, j->id, j->code, j->why, NULL);
    } else if (j->complete && p->h->draining) {
        /* the writer has stopped: the client sends it again (its files
         * are on disk; it is stored again, the same) */
        if (!c->closing)
            reply(c, j->id, CODE(UNAVAILABLE), "the server is stopping; send the photo again", NULL);
    } else if (j->complete) {
        /* the record goes through the writer; the answer waits for it */
        j->st.complete = true;
        j->st.expires_ms = hub_now_ms(p->h) + photo_limits_of(p->h->st).grace_ms;
        Whistle__V1__Status s = WHISTLE__V1__STATUS__INIT;
        Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
        resp.id = j->id;
        resp.status = &s;
        resp.result_case = WHISTLE__V1__RESPONSE__RESULT_PHOTO_UPLOAD;
        resp.photo_upload = &j->st;
        intent *it = calloc(1, sizeof *it);
        if (!it || !(it->principal = strdup(j->principal)) || (j->via && !(it->via = strdup(j->via))) ||
            (reply_pack(&resp, p->h->lim.max_frame, &it->out, &it->out_len), !it->out)) {
            intent_free(it);
            if (!c->closing)
                reply(c, j->id, CODE(RESOURCE_EXHAUSTED), "out of memory", NULL);
        } else {
            it->kind = INTENT_PHOTO;
            it->req_id = j->id;
            it->call = j->call;
            it->frame = j->packed;
            it->frame_len = j->packed_len;
            j->packed = NULL;
            p->completed++;
            /* also for a connection that closed meanwhile: the files are
             * on disk, and its client will find the upload complete */
            conn_submit(c, it);
        }
    } else if (!c->closing) {
        reply(c, j->id, 0, "", &j->st);
    }
    conn_release(c);
    job_free(j);
}

/* ------------------------------------------------------------ the ingest thread */

/* Checking, cleaning and thumbnailing a photo costs about 0.1 s of CPU a
 * megapixel; on libuv's pool it would take the cores the loop and the
 * writer need, and every write would wait behind the photos. So whole
 * uploads go to one thread of their own, one at a time (bounding the
 * memory to one photo's), that yields to every other thread of the
 * machine for the CPU and the disk (docs/photos.md, "Sharing the machine"):
 * a report without a photo is not slowed by them. */
static void ingest_priorities(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    /* SCHED_IDLE: the scheduler counts a core running only it as idle, so
     * a thread that wakes (the loop, the writer, the kernel's) is placed
     * there and preempts it at once, and beside runnable threads it gets
     * a fifth of what nice 19 gets. The libvips threads it starts inherit
     * it. Allowed to anyone (lowering one's own priority); nice 19 is the
     * fallback. */
    struct sched_param sp = { .sched_priority = 0 };
    int rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    if (rc != 0)
        log_warn("photos: the ingest thread stays in the normal scheduling class: %s", strerror(rc));
    if (setpriority(PRIO_PROCESS, (id_t)tid, 19) != 0)
        log_warn("photos: the ingest thread keeps its priority: %s", strerror(errno));
    /* The idle I/O class: its own reads and writes (the paced steps, the
     * flushes) go to the disk when nothing else waits for it (mq-deadline
     * and BFQ honour it; others ignore it). */
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)) != 0)
        log_warn("photos: the ingest thread keeps its I/O priority: %s", strerror(errno));
}

static void *ingest_main(void *arg)
{
    photo_state *p = arg;
    ingest_priorities();
    pthread_mutex_lock(&p->ing_mu);
    for (;;) {
        while (!p->ing_head && !p->ing_stop)
            pthread_cond_wait(&p->ing_cv, &p->ing_mu);
        if (!p->ing_head)
            break;
        put_job *j = p->ing_head;
        p->ing_head = j->next;
        if (!p->ing_head)
            p->ing_tail = &p->ing_head;
        pthread_mutex_unlock(&p->ing_mu);
        put_finish(j);
        pthread_mutex_lock(&p->ing_mu);
        j->next = NULL;
        *p->ing_done_tail = j;
        p->ing_done_tail = &j->next;
        uv_async_send(&p->ing_async);
    }
    pthread_mutex_unlock(&p->ing_mu);
    return NULL;
}

static void on_ingested(uv_async_t *a)
{
    photo_state *p = a->data;
    pthread_mutex_lock(&p->ing_mu);
    put_job *list = p->ing_done;
    p->ing_done = NULL;
    p->ing_done_tail = &p->ing_done;
    pthread_mutex_unlock(&p->ing_mu);
    while (list) {
        put_job *n = list->next;
        job_answer(list, 0);
        list = n;
    }
}

int photos_start(photo_state *p, uv_loop_t *loop, char *err, size_t errlen)
{
    p->ing_tail = &p->ing_head;
    p->ing_done_tail = &p->ing_done;
    p->pace = (blob_pace){ .bytes_per_s = p->cfg->photo_ingest_mib_per_s * 1048576.0 };
    pthread_mutex_init(&p->ing_mu, NULL);
    pthread_cond_init(&p->ing_cv, NULL);
    uv_async_init(loop, &p->ing_async, on_ingested);
    p->ing_async.data = p;
    int rc = pthread_create(&p->ing_thread, NULL, ingest_main, p);
    if (rc) {
        snprintf(err, errlen, "photos: cannot start the ingest thread: %s", strerror(rc));
        uv_close((uv_handle_t *)&p->ing_async, NULL);
        return -1;
    }
    p->ing_started = true;
    return 0;
}

void photos_stop(photo_state *p)
{
    if (!p->ing_started)
        return;
    pthread_mutex_lock(&p->ing_mu);
    p->ing_stop = true;
    /* what waits is not begun: its client sends it again */
    put_job *waiting = p->ing_head;
    p->ing_head = NULL;
    p->ing_tail = &p->ing_head;
    pthread_cond_signal(&p->ing_cv);
    pthread_mutex_unlock(&p->ing_mu);
    pthread_join(p->ing_thread, NULL);
    p->ing_started = false;
    while (waiting) {
        put_job *n = waiting->next;
        put_fail(waiting, CODE(UNAVAILABLE), "the server is stopping; send the photo again");
        job_answer(waiting, 0);
        waiting = n;
    }
    on_ingested(&p->ing_async); /* what the thread finished */
    uv_close((uv_handle_t *)&p->ing_async, NULL);
    pthread_mutex_destroy(&p->ing_mu);
    pthread_cond_destroy(&p->ing_cv);
}

/* A chunk written (libuv's pool): answered, or, when it completed the
 * upload, handed to the ingest thread. */
static void put_done(uv_work_t *w, int status)
{
    put_job *j = w->data;
    photo_state *p = j->p;
    if (status || j->code || j->have != j->size || !p->ing_started || p->h->draining) {
        if (!status && !j->code && j->have == j->size)
            put_fail(j, CODE(UNAVAILABLE), "the server is stopping; send the photo again");
        job_answer(j, status);
        return;
    }
    free(j->data); /* written: the thread reads the whole file */
    j->data = NULL;
    pthread_mutex_lock(&p->ing_mu);
    j->next = NULL;
    *p->ing_tail = j;
    p->ing_tail = &j->next;
    pthread_cond_signal(&p->ing_cv);
    pthread_mutex_unlock(&p->ing_mu);
}

/* ------------------------------------------------------------ the calls */

/* A PhotoPut of an upload already stored. "complete" acknowledges that the
 * photo is stored, so, like every acknowledgement, it goes out only once
 * the record is on disk: the loop reads what is committed, which may not
 * be flushed yet (a second upload of a photo was told complete while the
 * first waited for the flush, and a power cut then took the record: the
 * power-loss test, test_photo_crash). So the answer goes through the
 * writer as an INTENT_PHOTO with no record to write, answered once what it
 * read is durable. */
static void answer_stored(photo_state *p, conn *c, uint64_t id, Whistle__V1__PhotoUploadStatus *st)
{
    if (p->h->draining) {
        reply(c, id, CODE(UNAVAILABLE), "the server is stopping; ask again", NULL);
        return;
    }
    Whistle__V1__Status s = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &s;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_PHOTO_UPLOAD;
    resp.photo_upload = st;
    intent *it = calloc(1, sizeof *it);
    if (!it || (reply_pack(&resp, p->h->lim.max_frame, &it->out, &it->out_len), !it->out)) {
        intent_free(it);
        reply(c, id, CODE(RESOURCE_EXHAUSTED), "out of memory", NULL);
        return;
    }
    it->kind = INTENT_PHOTO;
    it->req_id = id;
    it->call = c->cur_call;
    conn_submit(c, it);
}

static void do_put(photo_state *p, conn *c, uint64_t id, const Whistle__V1__PhotoPut *put,
                   const Whistle__V1__Principal *who, const char *via)
{
    uint8_t h[BLOB_HASH_LEN];
    char msg[400];
    uint64_t max = p->cfg->photo_max_bytes;
    if (!blob_unhex(put->sha256, h)) {
        reply(c, id, CODE(INVALID_ARGUMENT), "sha256: the SHA-256 of the whole file, 64 hex digits", NULL);
        return;
    }
    if (put->size == 0 || put->size > max) {
        snprintf(msg, sizeof msg, "the photo is %.1f MiB; the limit is %.1f MiB", (double)put->size / 1048576.0,
                 (double)max / 1048576.0);
        reply(c, id, CODE(INVALID_ARGUMENT), put->size ? msg : "size: the whole file's size in bytes (not 0)", NULL);
        return;
    }
    if (put->data.len > photo_chunk_bytes(p->h->lim.max_frame) || put->offset > put->size ||
        put->data.len > put->size - put->offset) {
        snprintf(msg, sizeof msg,
                 "a chunk of %zu bytes at offset %llu does not fit: the file has %llu bytes, a chunk at most %u",
                 put->data.len, (unsigned long long)put->offset, (unsigned long long)put->size,
                 photo_chunk_bytes(p->h->lim.max_frame));
        reply(c, id, CODE(INVALID_ARGUMENT), msg, NULL);
        return;
    }
    /* already stored: nothing to send (the same bytes from anyone) */
    MDB_txn *txn = store_read_begin(p->h->st);
    arena *a = arena_new();
    Whistled__PhotoUpload *u = NULL;
    int rc = txn ? photo_upload_load(p->h->st, txn, h, a, &u) : MDB_BAD_TXN;
    if (rc == 0) {
        Whistle__V1__PhotoUploadStatus st = WHISTLE__V1__PHOTO_UPLOAD_STATUS__INIT;
        st.sha256 = (char *)put->sha256;
        status_of(&st, u, photo_limits_of(p->h->st).grace_ms);
        answer_stored(p, c, id, &st);
        store_read_end(p->h->st);
        arena_free(a);
        return;
    }
    store_read_end(p->h->st);
    arena_free(a);
    if (rc != MDB_NOTFOUND) {
        snprintf(msg, sizeof msg, "store: %s", store_strerror(rc));
        reply(c, id, store_status_code(rc), msg, NULL);
        return;
    }
    if (busy_has(p, h)) {
        reply(c, id, CODE(UNAVAILABLE), "a chunk of this photo is being stored; ask for its progress and go on", NULL);
        return;
    }
    if (p->jobs >= PHOTO_JOBS_MAX) {
        reply(c, id, CODE(UNAVAILABLE), "the server is busy storing photos; try again in a moment", NULL);
        return;
    }
    put_job *j = calloc(1, sizeof *j);
    photo_busy *b = calloc(1, sizeof *b);
    if (j) {
        j->data = malloc(put->data.len ? put->data.len : 1);
        j->principal = strdup(who->name);
        j->dir = strdup(p->h->st->photo_dir);
        if (via)
            j->via = strdup(via);
    }
    if (!j || !b || !j->data || !j->principal || !j->dir || (via && !j->via)) {
        if (j)
            job_free(j);
        free(b);
        reply(c, id, CODE(RESOURCE_EXHAUSTED), "out of memory", NULL);
        return;
    }
    whistle__v1__photo_upload_status__init(&j->st);
    j->p = p;
    j->c = c;
    j->id = id;
    j->call = c->cur_call;
    memcpy(j->h, h, BLOB_HASH_LEN);
    j->size = put->size;
    j->offset = put->offset;
    if (put->data.len)
        memcpy(j->data, put->data.data, put->data.len);
    j->len = put->data.len;
    j->pol = (media_policy){ .max_bytes = (size_t)max,
                             .max_pixels = p->cfg->photo_max_pixels,
                             .thumb_px = MEDIA_DEFAULT_THUMB_PX,
                             .keep_location = photo_staff_role(who->role) };
    j->work.data = j;
    rc = uv_queue_work(p->h->loop, &j->work, put_work, put_done);
    if (rc) {
        job_free(j);
        free(b);
        snprintf(msg, sizeof msg, "the chunk could not be queued: %s", uv_strerror(rc));
        reply(c, id, CODE(INTERNAL), msg, NULL);
        return;
    }
    memcpy(b->h, h, BLOB_HASH_LEN);
    b->next = p->busy;
    p->busy = b;
    p->jobs++;
    conn_hold(c);
}

/* An upload's progress: complete (its record), or the bytes its partial
 * file holds (a stat: short enough for the loop thread). */
static void do_query(photo_state *p, conn *c, uint64_t id, const Whistle__V1__PhotoUploadQuery *q)
{
    uint8_t h[BLOB_HASH_LEN];
    if (!blob_unhex(q->sha256, h)) {
        reply(c, id, CODE(INVALID_ARGUMENT), "sha256: the SHA-256 of the whole file, 64 hex digits", NULL);
        return;
    }
    Whistle__V1__PhotoUploadStatus st = WHISTLE__V1__PHOTO_UPLOAD_STATUS__INIT;
    st.sha256 = (char *)q->sha256;
    MDB_txn *txn = store_read_begin(p->h->st);
    arena *a = arena_new();
    Whistled__PhotoUpload *u = NULL;
    int rc = txn ? photo_upload_load(p->h->st, txn, h, a, &u) : MDB_BAD_TXN;
    if (rc == 0)
        status_of(&st, u, photo_limits_of(p->h->st).grace_ms);
    else if (rc == MDB_NOTFOUND)
        st.received = blob_part_size(p->h->st->photo_dir, h);
    if (rc == 0 || rc == MDB_NOTFOUND) {
        reply(c, id, 0, "", &st);
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "store: %s", store_strerror(rc));
        reply(c, id, store_status_code(rc), msg, NULL);
    }
    store_read_end(p->h->st);
    arena_free(a);
}

void photos_call(photo_state *p, conn *c, const Whistle__V1__Request *req, const Whistle__V1__Principal *who,
                 const char *via)
{
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_PHOTO_PUT: do_put(p, c, req->id, req->photo_put, who, via); break;
    case WHISTLE__V1__REQUEST__CALL_PHOTO_UPLOAD: do_query(p, c, req->id, req->photo_upload); break;
    default: reply(c, req->id, CODE(INTERNAL), "not a photo call", NULL); break;
    }
}

/* ------------------------------------------------------------ expiry of partial uploads */

typedef struct expire_job {
    uv_work_t work;
    photo_state *p;
    char *dir;
    int64_t cutoff_s;
    size_t removed;
    int rc;
} expire_job;

static void expire_work(uv_work_t *w)
{
    expire_job *j = w->data;
    j->rc = blob_parts_expire(j->dir, j->cutoff_s, PARTS_EXPIRE_STEP, &j->removed);
}

static void expire_done(uv_work_t *w, int status)
{
    expire_job *j = w->data;
    j->p->expiring = false;
    if (status == 0 && j->rc)
        log_warn("photos: removing partial uploads past their grace failed: %s", strerror(j->rc));
    else if (status == 0 && j->removed)
        log_info("photos: %zu partial upload%s untouched past the grace removed", j->removed,
                 j->removed == 1 ? "" : "s");
    free(j->dir);
    free(j);
}

void photos_expire_parts(photo_state *p)
{
    if (p->expiring)
        return;
    expire_job *j = calloc(1, sizeof *j);
    if (!j || !(j->dir = strdup(p->h->st->photo_dir))) {
        free(j);
        return;
    }
    j->p = p;
    j->cutoff_s = (int64_t)time(NULL) - photo_limits_of(p->h->st).grace_ms / 1000;
    j->work.data = j;
    if (uv_queue_work(p->h->loop, &j->work, expire_work, expire_done) != 0) {
        free(j->dir);
        free(j);
        return;
    }
    p->expiring = true;
}
