/* photo.c: see photo.h. */
#include "photo.h"

#include <errno.h>
#include <string.h>

#include "archive.h"
#include "archive_record.h"
#include "authz.h"
#include "event.h"
#include "log.h"
#include "photo_record.h"
#include "volrec.h"
#include "volunteer.h"

/* What the audit log names a photo's owner by. */
static const char *photo_target(call *c, const Whistled__PhotoAttachmentRecord *rec)
{
    if (rec->visit_id)
        return arena_printf(c->a, "visit:%llu", (unsigned long long)rec->visit_id);
    if (rec->wish_id)
        return arena_printf(c->a, "wish:%llu", (unsigned long long)rec->wish_id);
    return str0(rec->ticket);
}

/* Whether the caller may read the photos of rec's owner: 0, or -1 with the
 * answer NOT_FOUND "no photo with id N" (missing) whatever the reason, which the
 * audit log keeps: a refusal names the photo, never what it belongs to. */
static int photo_owner_allow(call *c, const Whistled__PhotoAttachmentRecord *rec, const Whistle__V1__GetPhoto *req,
                             const char *missing)
{
    unsigned long long id = (unsigned long long)req->attachment_id;
    const char *target = arena_printf(c->a, "photo/%llu", id);
    Whistle__V1__Role r = c->who->role;
    if (rec->visit_id || rec->wish_id) {
        /* a visit is the resident archive's: its grid's worker, its
         * community's workers and its street's operators; a wish is its
         * community's (its grid worker's too): never a department, an
         * integration, a kiosk or a volunteer */
        bool archive = rec->visit_id != 0;
        bool role_ok =
            r == ROLE(OPERATOR) || r == ROLE(GRID_WORKER) || r == ROLE(COMMUNITY) || (!archive && r == ROLE(ADMIN));
        if (!role_ok)
            return call_hide(c, target, missing, "photo %llu is of a %s (rule: %s)", id, archive ? "visit" : "wish",
                             archive ? "the archive is read by the grid's worker, its community's workers and its "
                                       "street's operators"
                                     : "a resident's wish is read by its community's workers, its grid's worker and "
                                       "its street's operators");
        int rc = -1;
        if (archive) {
            Whistle__V1__Visit *v = NULL;
            int src = store_get(c->txn, c->st->arc_visits, arc_key64(c->a, rec->visit_id), 8,
                                &whistle__v1__visit__descriptor, c->a, (void **)&v);
            if (src)
                return src == MDB_NOTFOUND ? call_fail(c, CODE(DATA_LOSS), "photo %llu names a missing visit", id)
                                           : call_store_fail(c, src, "reading a visit");
            rc = archive_reach(c, v->node, photo_target(c, rec), missing);
        } else {
            void *w = NULL, *bytes;
            size_t len;
            int src = volrec_get(c, c->st->vol_wishes, rec->wish_id, &whistle__v1__wish__descriptor, &w, &bytes, &len);
            if (src)
                return src == 1 ? call_fail(c, CODE(DATA_LOSS), "photo %llu names a missing wish", id) : -1;
            rc = vol_reach_read(c, str0(((Whistle__V1__Wish *)w)->community),
                                "a resident's wish is read inside the caller's scope");
        }
        if (rc && c->resp->status) {
            c->resp->status->code = CODE(NOT_FOUND);
            c->resp->status->message = (char *)missing;
        }
        return rc;
    }
    Whistle__V1__Event *ev;
    if (r == ROLE(KIOSK)) {
        /* the resident proves the photo's case as for a look-up; a photo
         * of another case reads like a missing one */
        if (strcmp(str0(req->ticket), str0(rec->ticket)) != 0)
            return call_hide(c, target, missing,
                             "photo %llu is not of ticket %.20s (rule: a kiosk reads a ticket's photos with the ticket "
                             "and the phone's digits)",
                             id, str0(req->ticket));
        return event_prove_ticket(c, rec->ticket, str0(req->phone_last4), &ev);
    }
    if (event_load(c, rec->ticket, &ev, NULL) || event_allow(c, ev)) {
        /* a refusal names the photo, never its case */
        if (c->resp->status && c->resp->status->code == CODE(NOT_FOUND))
            c->resp->status->message = (char *)missing;
        return -1;
    }
    return 0;
}

/* The most a GetPhoto answer carries: under the default frame (1 MiB)
 * with room for the response around it. */
#define PHOTO_CHUNK_MAX (1024u * 1024u - 4096u)
#define PHOTO_CHUNK_DEFAULT (256u * 1024u)

void photo_get(call *c, const Whistle__V1__GetPhoto *req)
{
    unsigned long long id = (unsigned long long)req->attachment_id;
    const char *missing = arena_printf(c->a, "no photo with id %llu", id);
    if (authz_check(c, arena_printf(c->a, "photo/%llu", id)))
        return;
    if (req->variant != WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_ORIGINAL &&
        req->variant != WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_THUMBNAIL) {
        call_fail(c, CODE(INVALID_ARGUMENT), "variant %d: 0 (the original) or 1 (the thumbnail)", req->variant);
        return;
    }
    Whistled__PhotoAttachmentRecord *rec;
    Whistle__V1__PhotoAttachment *at;
    int rc = photo_att_load(c->st, c->txn, req->attachment_id, c->a, &rec, &at);
    if (rc == MDB_NOTFOUND) {
        call_fail(c, CODE(NOT_FOUND), "%s", missing);
        return;
    }
    if (rc) {
        call_store_fail(c, rc, "reading a photo");
        return;
    }
    if (photo_owner_allow(c, rec, req, missing))
        return;
    bool thumb = req->variant == WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_THUMBNAIL;
    if (thumb && !at->has_thumbnail) {
        call_fail(c, CODE(NOT_FOUND), "photo %llu has no thumbnail", id);
        return;
    }
    Whistled__PhotoUpload *up = NULL;
    if (rec->upload.len != BLOB_HASH_LEN || (rc = photo_upload_load(c->st, c->txn, rec->upload.data, c->a, &up))) {
        call_fail(c, CODE(DATA_LOSS), "photo %llu names an upload the store does not have; run whistled --check", id);
        return;
    }
    size_t want = req->limit ? req->limit : PHOTO_CHUNK_DEFAULT;
    if (want > PHOTO_CHUNK_MAX)
        want = PHOTO_CHUNK_MAX;
    char path[4096];
    blob_path(c->st->photo_dir, rec->upload.data, thumb, path, sizeof path);
    uint8_t *buf = arena_alloc(c->a, want ? want : 1);
    size_t got = 0;
    uint64_t size = 0;
    rc = blob_read_at(path, req->offset, buf, want, &got, &size);
    if (rc == ERANGE) {
        call_fail(c, CODE(OUT_OF_RANGE), "offset %llu is past the end of photo %llu (%llu bytes)",
                  (unsigned long long)req->offset, id, (unsigned long long)size);
        return;
    }
    if (rc) {
        log_error("photo %llu: %s: %s", id, path, strerror(rc));
        call_fail(c, rc == ENOENT ? CODE(DATA_LOSS) : CODE(INTERNAL), "photo %llu cannot be read: %s%s", id,
                  strerror(rc), rc == ENOENT ? " (run whistled --check)" : "");
        return;
    }
    Whistle__V1__PhotoChunk *ch = arena_alloc(c->a, sizeof *ch);
    whistle__v1__photo_chunk__init(ch);
    ch->attachment_id = req->attachment_id;
    ch->variant = req->variant;
    ch->data.data = buf;
    ch->data.len = got;
    ch->offset = req->offset;
    ch->size = size;
    ch->eof = req->offset + got >= size;
    ch->mime = thumb ? (char *)"image/jpeg" : at->mime;
    char *hex = arena_alloc(c->a, BLOB_HEX_LEN + 1);
    const ProtobufCBinaryData *h = thumb ? &up->thumb_sha256 : &up->image_sha256;
    if (h->len == BLOB_HASH_LEN)
        blob_hex(h->data, hex);
    else
        hex[0] = 0;
    ch->sha256 = hex;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_PHOTO_CHUNK;
    c->resp->photo_chunk = ch;
    /* A photo may show people and homes: reading an original is audited
     * (once, at its first chunk); a case's thumbnails, which lists show by
     * the dozen, are not; a visit's or a wish's (the archive, a resident's
     * own) always are. */
    if ((!thumb || rec->visit_id || rec->wish_id) && req->offset == 0)
        call_read_personal(c, photo_target(c, rec), arena_printf(c->a, "photo %llu", id));
}
