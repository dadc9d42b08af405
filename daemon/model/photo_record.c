/* photo_record.c: see photo_record.h. */
#include "photo_record.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"

struct photo_limits photo_limits_of(const store *st)
{
    struct photo_limits l = st->photos;
    if (!l.max_bytes)
        l.max_bytes = PHOTO_DEFAULT_MAX_BYTES;
    if (!l.max_per_action)
        l.max_per_action = PHOTO_DEFAULT_MAX_PER_ACTION;
    if (!l.max_per_case)
        l.max_per_case = PHOTO_DEFAULT_MAX_PER_CASE;
    if (!l.grace_ms)
        l.grace_ms = PHOTO_DEFAULT_GRACE_MS;
    return l;
}

uint32_t photo_chunk_bytes(uint32_t max_frame) { return max_frame > 8192 ? max_frame - 4096 : max_frame / 2; }

bool photo_staff_role(Whistle__V1__Role r)
{
    return r == ROLE(ADMIN) || r == ROLE(OPERATOR) || r == ROLE(DEPARTMENT) || r == ROLE(GRID_WORKER) ||
           r == ROLE(COMMUNITY);
}

int photo_upload_load(store *st, MDB_txn *txn, const uint8_t h[BLOB_HASH_LEN], arena *a, Whistled__PhotoUpload **out)
{
    return store_get(txn, st->photo_uploads, h, BLOB_HASH_LEN, &whistled__photo_upload__descriptor, a, (void **)out);
}

static void time_key(uint8_t k[8 + BLOB_HASH_LEN], int64_t at, const uint8_t h[BLOB_HASH_LEN])
{
    store_be64(k, (uint64_t)at);
    memcpy(k + 8, h, BLOB_HASH_LEN);
}

int photo_upload_register(store *st, MDB_txn *txn, const Whistled__PhotoUpload *rec, int64_t now, const char *principal)
{
    if (rec->sha256.len != BLOB_HASH_LEN)
        return MDB_BAD_VALSIZE;
    arena *a = arena_new();
    Whistled__PhotoUpload *have = NULL;
    int rc = photo_upload_load(st, txn, rec->sha256.data, a, &have);
    if (rc == 0) {
        /* The same bytes again: the first record stands; one not attached
         * yet starts its grace again, so that it is not swept just after
         * its uploader was told it is stored. */
        if (have->refs == 0 && have->created_ms < now) {
            uint8_t k[8 + BLOB_HASH_LEN];
            time_key(k, have->created_ms, have->sha256.data);
            rc = store_del(txn, st->photo_up_by_time, k, sizeof k);
            if (rc == MDB_NOTFOUND)
                rc = 0;
            have->created_ms = now;
            if (!rc)
                rc = store_put(txn, st->photo_uploads, have->sha256.data, BLOB_HASH_LEN, &have->base);
            if (!rc) {
                time_key(k, now, have->sha256.data);
                rc = store_put_raw_append(txn, st->photo_up_by_time, k, sizeof k, "", 0);
            }
        }
        arena_free(a);
        return rc;
    }
    arena_free(a);
    if (rc != MDB_NOTFOUND)
        return rc;
    /* The files were flushed before this intent was queued; a sweep of
     * the same hash may have removed them since (it ran between). */
    char p[4096];
    struct stat sb;
    for (int t = 0; t < 2; t++) {
        blob_path(st->photo_dir, rec->sha256.data, t == 1, p, sizeof p);
        if (stat(p, &sb) != 0)
            return ENOENT;
    }
    Whistled__PhotoUpload r = *rec;
    r.created_ms = now;
    r.refs = 0;
    rc = store_put(txn, st->photo_uploads, r.sha256.data, BLOB_HASH_LEN, &r.base);
    if (!rc) {
        uint8_t k[8 + BLOB_HASH_LEN];
        time_key(k, now, r.sha256.data);
        rc = store_put_raw_append(txn, st->photo_up_by_time, k, sizeof k, "", 0);
    }
    if (!rc) {
        char hex[BLOB_HEX_LEN + 1];
        blob_hex(r.sha256.data, hex);
        rc = audit_append(st, txn, now, principal, "photo_put", hex, NULL, 0, &r.base);
    }
    return rc;
}

int photo_check(call *c, char **hashes, size_t n, size_t already)
{
    struct photo_limits l = photo_limits_of(c->st);
    if (n > l.max_per_action)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%zu photos; one action attaches at most %u", n, l.max_per_action);
    if (already + n > l.max_per_case)
        return call_fail(c, CODE(RESOURCE_EXHAUSTED), "it has %zu photos; a case, visit or wish holds at most %u",
                         already, l.max_per_case);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[BLOB_HASH_LEN];
        if (!blob_unhex(hashes[i], h))
            return call_fail(c, CODE(INVALID_ARGUMENT),
                             "photos[%zu] \"%.80s\": the SHA-256 of an upload, 64 hex digits", i, hashes[i]);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(hashes[i], hashes[j]) == 0)
                return call_fail(c, CODE(INVALID_ARGUMENT), "photos[%zu] repeats photos[%zu]", i, j);
        Whistled__PhotoUpload *u = NULL;
        int rc = photo_upload_load(c->st, c->txn, h, c->a, &u);
        if (rc == MDB_NOTFOUND)
            return call_fail(c, CODE(FAILED_PRECONDITION),
                             "photo %.64s has not been uploaded (or was removed, never attached, after its grace "
                             "period): upload it with photo_put, then make this call again",
                             hashes[i]);
        if (rc)
            return call_store_fail(c, rc, "reading a photo upload");
    }
    return 0;
}

int photo_attach(call *c, char **hashes, size_t n, Whistle__V1__PhotoStage stage, const photo_owner *ow,
                 Whistle__V1__PhotoAttachment ***list, size_t *nlist)
{
    if (!n)
        return 0;
    if (photo_check(c, hashes, n, *nlist))
        return -1;
    bool staff = photo_staff_role(c->who->role);
    Whistle__V1__PhotoAttachment **grown = arena_alloc(c->a, (*nlist + n) * sizeof *grown);
    if (*nlist)
        memcpy(grown, *list, *nlist * sizeof *grown);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[BLOB_HASH_LEN];
        blob_unhex(hashes[i], h);
        Whistled__PhotoUpload *u = NULL;
        int rc = photo_upload_load(c->st, c->txn, h, c->a, &u);
        if (rc)
            return call_store_fail(c, rc, "reading a photo upload");
        uint64_t id;
        if ((rc = store_next_seq(c->txn, c->st, "photo_att_seq", &id)))
            return call_store_fail(c, rc, "numbering a photo");
        Whistle__V1__PhotoAttachment *at = arena_alloc(c->a, sizeof *at);
        whistle__v1__photo_attachment__init(at);
        at->id = id;
        at->stage = stage;
        at->mime = u->mime;
        at->bytes = u->image_bytes;
        at->width = u->width;
        at->height = u->height;
        at->taken_ms = u->taken_ms;
        at->has_thumbnail = u->thumb_bytes > 0;
        at->thumb_bytes = u->thumb_bytes;
        char *hex = arena_alloc(c->a, BLOB_HEX_LEN + 1);
        blob_hex(u->image_sha256.data, hex);
        at->sha256 = hex;
        at->by = (char *)c->who->name;
        at->at_ms = c->now;
        at->order_id = ow->order_id;
        at->visit_id = ow->visit_id;
        at->wish_id = ow->wish_id;
        if (staff && u->has_location) {
            at->has_location = true;
            at->lat = u->lat;
            at->lon = u->lon;
        }
        size_t alen = whistle__v1__photo_attachment__get_packed_size(at);
        uint8_t *apacked = arena_alloc(c->a, alen ? alen : 1);
        whistle__v1__photo_attachment__pack(at, apacked);
        Whistled__PhotoAttachmentRecord rec = WHISTLED__PHOTO_ATTACHMENT_RECORD__INIT;
        rec.att.data = apacked;
        rec.att.len = alen;
        rec.upload.data = h;
        rec.upload.len = BLOB_HASH_LEN;
        rec.ticket = (char *)(ow->ticket ? ow->ticket : "");
        rec.order_id = ow->order_id;
        rec.visit_id = ow->visit_id;
        rec.wish_id = ow->wish_id;
        uint8_t k[8];
        store_be64(k, id);
        if ((rc = store_put_append(c->txn, c->st->photo_att, k, 8, &rec.base)))
            return call_store_fail(c, rc, "storing a photo attachment");
        u->refs++;
        if ((rc = store_put(c->txn, c->st->photo_uploads, h, BLOB_HASH_LEN, &u->base)))
            return call_store_fail(c, rc, "counting a photo's attachments");
        char *target =
            ow->visit_id
                ? arena_printf(c->a, "visit:%llu/photo/%llu", (unsigned long long)ow->visit_id, (unsigned long long)id)
            : ow->wish_id
                ? arena_printf(c->a, "wish:%llu/photo/%llu", (unsigned long long)ow->wish_id, (unsigned long long)id)
                : arena_printf(c->a, "%s/photo/%llu", ow->ticket, (unsigned long long)id);
        if ((rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, target, NULL, 0, &rec.base)))
            return call_store_fail(c, rc, "auditing a photo attachment");
        grown[*nlist + i] = at;
    }
    *list = grown;
    *nlist += n;
    return 0;
}

int photo_att_load(store *st, MDB_txn *txn, uint64_t id, arena *a, Whistled__PhotoAttachmentRecord **rec,
                   Whistle__V1__PhotoAttachment **att)
{
    uint8_t k[8];
    store_be64(k, id);
    int rc = store_get(txn, st->photo_att, k, 8, &whistled__photo_attachment_record__descriptor, a, (void **)rec);
    if (rc)
        return rc;
    *att = whistle__v1__photo_attachment__unpack(arena_allocator(a), (*rec)->att.len, (*rec)->att.data);
    return *att ? 0 : MDB_CORRUPTED;
}

int photo_sweep(store *st, MDB_txn *txn, int64_t before_ms, size_t max, uint8_t (*gone)[BLOB_HASH_LEN], size_t *ngone)
{
    *ngone = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->photo_up_by_time, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    size_t seen = 0;
    arena *a = arena_new();
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && seen < max) {
        if (k.mv_size != 8 + BLOB_HASH_LEN) {
            rc = mdb_cursor_del(cur, 0); /* not a row of ours: dropped */
            if (!rc)
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        if ((int64_t)store_get_be64(k.mv_data) >= before_ms)
            break;
        uint8_t h[BLOB_HASH_LEN];
        memcpy(h, (const uint8_t *)k.mv_data + 8, BLOB_HASH_LEN);
        Whistled__PhotoUpload *u = NULL;
        int lrc = photo_upload_load(st, txn, h, a, &u);
        if (lrc && lrc != MDB_NOTFOUND) {
            rc = lrc;
            break;
        }
        if (lrc == 0 && u->refs == 0) {
            if ((rc = store_del(txn, st->photo_uploads, h, BLOB_HASH_LEN)))
                break;
            memcpy(gone[(*ngone)++], h, BLOB_HASH_LEN);
        }
        seen++;
        if ((rc = mdb_cursor_del(cur, 0)))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    arena_free(a);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
