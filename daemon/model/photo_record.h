/* photo_record.h: the photos' records (docs/photos.md).
 *
 * A completed upload is a PhotoUpload record (photo_uploads, by the
 * upload's SHA-256) whose files are under store.dir/blobs/ (store/blobs.h).
 * The record is committed only after the files are on disk (the upload
 * path flushes them first), and deleted before they are removed (the
 * sweep removes the files after its commit): so every record, and every
 * attachment naming one, has its files.
 *
 * An attachment is made only inside the transaction of the call that uses
 * the upload (photo_attach: report, feedback, verify), which also counts
 * it on the upload (refs). An upload that no call has attached after
 * [photos] grace is swept (photo_sweep, a few per writer batch). */
#ifndef WHISTLED_PHOTO_RECORD_H
#define WHISTLED_PHOTO_RECORD_H

#include "blobs.h"
#include "call.h"
#include "daemon/records.pb-c.h"

#define PHOTO_DEFAULT_MAX_PER_ACTION 9u
#define PHOTO_DEFAULT_MAX_PER_CASE 64u
#define PHOTO_DEFAULT_GRACE_MS (24LL * 3600 * 1000)
#define PHOTO_DEFAULT_MAX_BYTES (8ull << 20)

/* The limits in force (st->photos, defaults for its zeros). */
struct photo_limits photo_limits_of(const store *st);
/* The most data a PhotoPut may carry, and a GetPhoto answer holds, under
 * max_frame (what the frame needs besides the data left free). */
uint32_t photo_chunk_bytes(uint32_t max_frame);

/* The upload's record: 0, MDB_NOTFOUND (*out NULL), or a store code. */
int photo_upload_load(store *st, MDB_txn *txn, const uint8_t h[BLOB_HASH_LEN], arena *a, Whistled__PhotoUpload **out);
/* Registers a completed upload whose files are on disk (the writer, for
 * the upload path): a record already there is kept as it is. The files
 * are looked at first: missing (removed by a sweep since they were
 * written), ENOENT is returned and nothing is stored. Audited as
 * photo_put by principal (via: the gateway's, on the thread). 0 or a
 * store code. */
int photo_upload_register(store *st, MDB_txn *txn, const Whistled__PhotoUpload *rec, int64_t now,
                          const char *principal);

/* What an attachment belongs to: a case (ticket; order_id for a
 * department's feedback), a visit (visit_id) or a wish (wish_id). */
typedef struct photo_owner {
    const char *ticket;
    uint64_t order_id, visit_id, wish_id;
} photo_owner;

/* Attaches the uploads named by hashes (hex, as the call's photos field)
 * to ow at stage: checks them (at most max_per_action, no repeats, each a
 * completed upload), counts them on their uploads, stores an attachment
 * record each (audited), and appends the summaries to *list (the Event's,
 * Visit's or Wish's photos, grown in c->a). Where a photo was taken is
 * kept only when the caller is staff (photo_staff_role). 0, or -1 with c
 * failed. */
int photo_attach(call *c, char **hashes, size_t n, Whistle__V1__PhotoStage stage, const photo_owner *ow,
                 Whistle__V1__PhotoAttachment ***list, size_t *nlist);
/* Checks hashes as photo_attach will, before anything is written (so a
 * call refuses a bad photo before it changes a case). 0 or -1. */
int photo_check(call *c, char **hashes, size_t n, size_t already);

/* An attachment's record and its summary: 0, MDB_NOTFOUND, or a code. */
int photo_att_load(store *st, MDB_txn *txn, uint64_t id, arena *a, Whistled__PhotoAttachmentRecord **rec,
                   Whistle__V1__PhotoAttachment **att);

/* Whether the role's photos keep their location (staff, never residents'
 * devices: kiosks, integrations, sensors, volunteers). */
bool photo_staff_role(Whistle__V1__Role r);

/* The sweep: looks at up to max uploads created before before_ms, oldest
 * first; one never attached is deleted (record and row) and its hash put
 * in gone[*ngone] (at most max) for the caller to remove the files once
 * the transaction has committed; an attached one leaves the row only.
 * *more: rows older remain. 0 or a store code. */
int photo_sweep(store *st, MDB_txn *txn, int64_t before_ms, size_t max, uint8_t (*gone)[BLOB_HASH_LEN], size_t *ngone);

#endif
