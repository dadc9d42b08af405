/* photos.h: the photo uploads (docs/photos.md): the photo_put and
 * photo_upload calls, answered by the server because an upload is files,
 * work in libuv's thread pool and then a record through the writer.
 *
 * A chunk is appended to the upload's partial file in the thread pool
 * (never on the loop thread). The chunk that completes it hands the upload
 * to the ingest thread, which hashes the whole file (SHA-256, announced by
 * the client), has it decoded and re-encoded by the media module
 * (model/media.h: metadata stripped, a thumbnail made), and writes and
 * flushes the image and thumbnail (file and directory) under blobs/ of
 * the photos' directory; only then does the loop hand the record to the
 * writer (INTENT_PHOTO), and the client is told "complete" once that
 * record is committed. The record is thus never on disk without its
 * files. */
#ifndef WHISTLED_PHOTOS_H
#define WHISTLED_PHOTOS_H

#include <pthread.h>

#include "blobs.h"
#include "config.h"
#include "conn.h"
#include "media.h"

typedef struct photo_busy photo_busy;
typedef struct put_job put_job;

typedef struct photo_state {
    const config *cfg;
    hub *h;
    uint32_t jobs;      /* chunks and uploads in the pool or the ingest thread */
    photo_busy *busy;   /* the uploads that have one there */
    bool expiring;      /* the expiry of partial uploads is running */
    uint64_t completed; /* uploads stored since start */
    uint64_t refused;   /* uploads refused (bad hash, not an image) */
    /* the ingest thread (SCHED_IDLE): whole uploads to check and store, and
     * those done, for the loop (ing_async) */
    pthread_t ing_thread;
    pthread_mutex_t ing_mu;
    pthread_cond_t ing_cv;
    put_job *ing_head, **ing_tail, *ing_done, **ing_done_tail;
    uv_async_t ing_async;
    bool ing_started, ing_stop;
    blob_pace pace; /* the ingest thread's writes ([photos] ingest_mib_per_s) */
} photo_state;

/* Starts the ingest thread (server start): 0, or -1 with err. */
int photos_start(photo_state *p, uv_loop_t *loop, char *err, size_t errlen);
/* A stop: uploads not begun are answered UNAVAILABLE, the one being
 * stored is finished, the thread joined and its handle closed. */
void photos_stop(photo_state *p);

/* The hub's photo_call hook. */
void photos_call(photo_state *p, conn *c, const Whistle__V1__Request *req, const Whistle__V1__Principal *who,
                 const char *via);
/* Once in a while (the server's tick): partial uploads untouched for the
 * grace are removed, in the thread pool, a bounded number at a time. */
void photos_expire_parts(photo_state *p);

#endif
