/* photo_fixtures.h: photos for the integration tests, made at test time
 * with libvips (and libexif for the EXIF a phone writes), and the upload
 * calls as a client makes them (docs/photos.md). Nothing binary is
 * committed. */
#ifndef WHISTLE_PHOTO_FIXTURES_H
#define WHISTLE_PHOTO_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whistle/client.h"

typedef struct pf_bytes {
    uint8_t *p;
    size_t n;
} pf_bytes;

/* A w x h JPEG (png: a PNG) of noise, with EXIF (a camera's make and
 * serial number, the time it was taken, and GPS 39.9042 N 116.4074 E when
 * gps). Free with pf_free. */
pf_bytes pf_image(bool png, int w, int h, bool gps);
void pf_free(pf_bytes *b);
/* The SHA-256 of p as 64 hex digits. */
void pf_sha256_hex(const void *p, size_t n, char hex[65]);
/* Uploads b with PhotoPut chunks of chunk bytes from offset from; the
 * last answer's code (0: complete), and its status in *st when given. */
int pf_upload_from(whistle_client *c, const pf_bytes *b, size_t chunk, uint64_t from, char hex[65], char *msg,
                   size_t msglen);
/* The whole upload, asserting it is complete; hex gets its name. */
void pf_upload(whistle_client *c, const pf_bytes *b, char hex[65]);
/* An attachment's variant read back in chunks of limit bytes: the code (0:
 * OK, with the bytes in *out, malloc'd). */
int pf_get_photo(whistle_client *c, uint64_t id, bool thumb, uint32_t limit, const char *ticket, const char *digits,
                 pf_bytes *out, char *msg, size_t msglen);

#endif
