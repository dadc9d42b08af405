/* photo.c: see photo.h. */
#include "photo.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fetch {
    upstream *u;
    uint64_t id;
    bool thumb;
    char *act_as;
    gw_photo_cb cb;
    void *ud;
    gw_photo p;
    uint64_t size; /* of the whole, from the first chunk */
    bool sized;
} fetch;

static void fetch_next(fetch *f);

static void fetch_end(fetch *f, int code, const char *msg)
{
    if (code == 0) {
        gw_photo *p = malloc(sizeof *p);
        if (!p) {
            code = UP_UNAVAILABLE;
            msg = "out of memory";
        } else {
            *p = f->p;
            f->p.data = NULL;
            f->cb(f->ud, 0, "", p);
        }
    }
    if (code != 0)
        f->cb(f->ud, code, msg, NULL);
    free(f->p.data);
    free(f->act_as);
    free(f);
}

static bool hash_ok(const gw_photo *p)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(p->data ? p->data : (const uint8_t *)"", p->len, md);
    char hex[65];
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return strcmp(hex, p->sha256) == 0;
}

static void on_chunk(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    fetch *f = ud;
    if (code != 0 || !resp) {
        whistle_response_free(resp);
        return fetch_end(f, code ? code : UP_UNAVAILABLE, msg ? msg : "no answer");
    }
    const Whistle__V1__PhotoChunk *c =
        resp->result_case == WHISTLE__V1__RESPONSE__RESULT_PHOTO_CHUNK ? resp->photo_chunk : NULL;
    const char *bad = NULL;
    if (!c)
        bad = "whistled's answer holds no photo";
    else if (c->offset != f->p.len)
        bad = "a chunk of the photo came at the wrong offset";
    else if (c->size > GW_PHOTO_MAX)
        bad = "the photo is larger than the gateway passes on";
    else if (f->sized && c->size != f->size)
        bad = "the photo's size changed while it was read";
    else if (c->data.len > c->size - c->offset)
        bad = "a chunk of the photo runs past its end";
    else if (!c->eof && c->data.len == 0)
        bad = "an empty chunk before the photo's end";
    else if (!c->mime || (strcmp(c->mime, "image/jpeg") != 0 && strcmp(c->mime, "image/png") != 0))
        bad = "the photo's type is not an image's";
    else if (!c->sha256 || strlen(c->sha256) != 64)
        bad = "the photo has no hash";
    if (bad) {
        whistle_response_free(resp);
        return fetch_end(f, GW_PHOTO_BROKEN, bad);
    }
    if (!f->sized) {
        f->size = c->size;
        f->sized = true;
        f->p.data = malloc(c->size ? c->size : 1);
        snprintf(f->p.mime, sizeof f->p.mime, "%s", c->mime);
        snprintf(f->p.sha256, sizeof f->p.sha256, "%s", c->sha256);
        if (!f->p.data) {
            whistle_response_free(resp);
            return fetch_end(f, UP_UNAVAILABLE, "out of memory");
        }
    }
    if (c->data.len)
        memcpy(f->p.data + f->p.len, c->data.data, c->data.len);
    f->p.len += c->data.len;
    bool eof = c->eof;
    whistle_response_free(resp);
    if (!eof)
        return fetch_next(f);
    if (f->p.len != f->size)
        return fetch_end(f, GW_PHOTO_BROKEN, "the photo ended before its size");
    if (!hash_ok(&f->p))
        return fetch_end(f, GW_PHOTO_BROKEN, "the photo's bytes do not match its hash");
    fetch_end(f, 0, "");
}

static void fetch_next(fetch *f)
{
    Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__GetPhoto gp = WHISTLE__V1__GET_PHOTO__INIT;
    gp.attachment_id = f->id;
    gp.variant = f->thumb ? WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_THUMBNAIL
                          : WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_ORIGINAL;
    gp.offset = f->p.len;
    rq.call_case = WHISTLE__V1__REQUEST__CALL_GET_PHOTO;
    rq.get_photo = &gp;
    up_call(f->u, &rq, f->act_as, on_chunk, f);
}

void gw_photo_fetch(upstream *u, uint64_t attachment_id, bool thumbnail, const char *act_as, gw_photo_cb cb, void *ud)
{
    fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->act_as = strdup(act_as ? act_as : ""))) {
        free(f);
        cb(ud, UP_UNAVAILABLE, "out of memory", NULL);
        return;
    }
    f->u = u;
    f->id = attachment_id;
    f->thumb = thumbnail;
    f->cb = cb;
    f->ud = ud;
    fetch_next(f);
}

void gw_photo_free(gw_photo *p)
{
    if (!p)
        return;
    free(p->data);
    free(p);
}

void gw_photo_send(h2o_req_t *req, const gw_photo *p, bool public_cache)
{
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, p->mime, strlen(p->mime));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    /* an image runs nothing, and is shown by no other site's frame */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL,
                          H2O_STRLIT("default-src 'none'; frame-ancestors 'none'; sandbox"));
    /* a photo's id names its bytes for good: they never change */
    if (public_cache)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("public, max-age=86400, immutable"));
    else
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("private, max-age=600"));
    char etag[70];
    int n = snprintf(etag, sizeof etag, "\"%s\"", p->sha256);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(&req->pool, etag, (size_t)n).base,
                   (size_t)n);
    h2o_send_inline(req, (const char *)p->data, p->len);
}

/* ---- uploads */

typedef struct upload {
    upstream *u;
    char *act_as;
    gw_upload_cb cb;
    void *ud;
    uint8_t *data;
    size_t len;
    char sha[65];
    uint64_t sent; /* bytes whistled holds */
    uint32_t chunk;
    size_t puts; /* PhotoPut calls made: bounded, whatever whistled answers */
} upload;

static void upload_free(upload *up)
{
    free(up->data);
    free(up->act_as);
    free(up);
}

static void upload_next(upload *up);

static void on_put(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    upload *up = ud;
    const Whistle__V1__PhotoUploadStatus *st =
        resp && resp->result_case == WHISTLE__V1__RESPONSE__RESULT_PHOTO_UPLOAD ? resp->photo_upload : NULL;
    if (code != 0 || !st) {
        up->cb(up->ud, code ? code : GW_PHOTO_BROKEN, code ? msg : "whistled's answer holds no upload status", NULL);
        whistle_response_free(resp);
        return upload_free(up);
    }
    if (st->complete) {
        up->cb(up->ud, 0, "", st);
        whistle_response_free(resp);
        return upload_free(up);
    }
    uint64_t received = st->received;
    whistle_response_free(resp);
    if (received > up->len || ++up->puts > up->len / up->chunk + 8) {
        char why[160];
        snprintf(why, sizeof why, "whistled's upload went nowhere (it holds %llu of %zu bytes)",
                 (unsigned long long)received, up->len);
        up->cb(up->ud, GW_PHOTO_BROKEN, why, NULL);
        return upload_free(up);
    }
    up->sent = received;
    upload_next(up);
}

static void upload_next(upload *up)
{
    size_t n = up->len - up->sent < up->chunk ? up->len - up->sent : up->chunk;
    Whistle__V1__PhotoPut pp = WHISTLE__V1__PHOTO_PUT__INIT;
    pp.sha256 = up->sha;
    pp.size = up->len;
    pp.offset = up->sent;
    pp.data.data = up->data + up->sent;
    pp.data.len = n;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_PHOTO_PUT;
    req.photo_put = &pp;
    up_call(up->u, &req, up->act_as, on_put, up);
}

void gw_photo_upload(upstream *u, const uint8_t *data, size_t len, const char *act_as, gw_upload_cb cb, void *ud)
{
    upload *up = calloc(1, sizeof *up);
    if (!up || !(up->act_as = strdup(act_as ? act_as : "")) || !(up->data = malloc(len ? len : 1))) {
        if (up)
            free(up->act_as);
        free(up);
        cb(ud, UP_UNAVAILABLE, "out of memory", NULL);
        return;
    }
    memcpy(up->data, data, len);
    up->len = len;
    up->u = u;
    up->cb = cb;
    up->ud = ud;
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(up->data, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(up->sha + 2 * i, 3, "%02x", md[i]);
    up->chunk = up_photo_chunk(u);
    if (up->chunk == 0 || up->chunk > (256u << 10))
        up->chunk = 256u << 10;
    upload_next(up);
}
