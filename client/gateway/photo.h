/* photo.h: a case's photo read from whistled for an HTTP answer.
 *
 * whistled answers GetPhoto in chunks that each fit a frame (docs/photos.md);
 * gw_photo_fetch asks for them one after the other, as act_as (whistled
 * checks that this principal may read the photo's case, as for GetEvent),
 * puts them together and checks the whole against the SHA-256 whistled
 * names, so an answer is the stored image or an error, never part of one.
 * The web console (its session's principal) and Open311 (open311.read_as,
 * for the photos it shows the public) both use it. */
#ifndef GATEWAY_PHOTO_H
#define GATEWAY_PHOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "upstream.h"

/* A photo larger than this is refused (whistled's own limit is 8 MiB of
 * upload by default, and the stored image is re-encoded from it). */
#define GW_PHOTO_MAX (32u << 20)
/* Photos read at once by one part of the gateway: each holds its bytes in
 * memory until sent, so more wait for none and are answered 503. A
 * thumbnail is a few tens of kilobytes and a list shows dozens: they have
 * a limit of their own. */
#define GW_PHOTO_IN_FLIGHT 16
#define GW_THUMB_IN_FLIGHT 128

typedef struct gw_photo {
    char mime[16]; /* image/jpeg or image/png */
    char sha256[65];
    uint8_t *data;
    size_t len;
} gw_photo;

/* The photo's bytes (p: the callback's, free with gw_photo_free), or an
 * error: code is whistled's status code (or UP_UNAVAILABLE, UP_TIMEOUT,
 * or -3 for an answer that does not hold together: a chunk at the wrong
 * offset, a hash that does not match, a type that is not an image's),
 * with msg. Runs exactly once, from the loop. */
typedef void (*gw_photo_cb)(void *ud, int code, const char *msg, gw_photo *p);
enum { GW_PHOTO_BROKEN = -3 };

void gw_photo_fetch(upstream *u, uint64_t attachment_id, bool thumbnail, const char *act_as, gw_photo_cb cb, void *ud);
void gw_photo_free(gw_photo *p);

/* Uploads a photo to whistled as act_as: PhotoPut in chunks (at most
 * whistled's PhotoLimits.chunk_bytes, 256 KiB) from wherever whistled
 * says it holds the upload (one already there, whole or in part, resumes
 * or is complete at once), named by its SHA-256. The bytes are copied:
 * the caller's may go. cb runs once, from the loop: code 0 with the final
 * status (complete: whistled checked, cleaned and stored the photo; valid
 * during the call), or whistled's code with its message (INVALID_ARGUMENT:
 * not a photo whistled takes, and why), UP_UNAVAILABLE, UP_TIMEOUT, or
 * GW_PHOTO_BROKEN when whistled's answers do not move the upload on. */
typedef void (*gw_upload_cb)(void *ud, int code, const char *msg, const Whistle__V1__PhotoUploadStatus *st);
void gw_photo_upload(upstream *u, const uint8_t *data, size_t len, const char *act_as, gw_upload_cb cb, void *ud);

/* Answers req with the image: 200, its type, ETag (the hash), the cache
 * rule (public: anyone may keep it, for Open311; else the browser alone,
 * for the console), nosniff and a CSP that runs nothing. */
void gw_photo_send(h2o_req_t *req, const gw_photo *p, bool public_cache);

#endif
