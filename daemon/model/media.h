/* media.h: photos on the way in (issue 19, docs/photos.md).
 *
 * media_ingest takes the bytes a client uploaded and gives back what the
 * daemon keeps: the image decoded in full and encoded again with every
 * piece of metadata stripped (EXIF, XMP, IPTC, ICC profiles, comments:
 * nothing of the device that took it remains), turned upright first so
 * dropping the EXIF orientation changes nothing people see; a JPEG
 * thumbnail; and the two facts the system keeps on purpose, read from the
 * EXIF before it is dropped: when the photo was taken and, only when the
 * policy asks (a staff photo), where.
 *
 * What is refused, with a sentence for people: anything but JPEG or PNG
 * (sniffed by magic bytes, never by a name), more bytes than the policy
 * allows, more pixels than the policy allows (checked on the header before
 * any pixel is decoded: a decompression bomb is refused cheaply), and any
 * image libvips cannot decode completely (a truncated or corrupt file is an
 * error, never a grey image).
 *
 * Pure computation: no store, no loop, no global state of its own. Safe to
 * call from several threads at once (the daemon calls it off the loop and
 * off the writer). libvips runs with one thread per image and its operation
 * cache off, so memory stays bounded by max_bytes and max_pixels. */
#ifndef WHISTLED_MEDIA_H
#define WHISTLED_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { MEDIA_NONE = 0, MEDIA_JPEG = 1, MEDIA_PNG = 2 } media_kind;

/* Defaults of the configuration (photos.max_bytes, ...). */
#define MEDIA_DEFAULT_MAX_BYTES (8u << 20)
#define MEDIA_DEFAULT_MAX_PIXELS (40u * 1000u * 1000u)
#define MEDIA_DEFAULT_THUMB_PX 320u

typedef struct {
    size_t max_bytes;    /* input larger: refused (config photos.max_bytes, default 8 MiB) */
    uint32_t max_pixels; /* decompression bombs: refused (default 40 megapixels) */
    uint32_t thumb_px;   /* thumbnail's longest side (default 320) */
    bool keep_location;  /* staff photo: keep EXIF GPS in the result (never in the file) */
} media_policy;

typedef struct {
    media_kind kind;
    const char *mime; /* "image/jpeg" | "image/png" (static) */
    uint8_t *data;    /* the stored image: re-encoded, every metadata stripped (malloc) */
    size_t len;
    uint8_t *thumb; /* JPEG thumbnail (malloc) */
    size_t thumb_len;
    uint32_t width, height; /* of data, after turning it upright */
    int64_t taken_ms;       /* EXIF DateTimeOriginal as UTC ms (0: unknown) */
    bool has_location;      /* only when keep_location and the EXIF has GPS */
    double lat, lon;
} media_result;

/* Start-up, once, before any media_ingest: 0, or negative with a line in
 * err. Starts libvips (VIPS_INIT) with concurrency 1 and its cache off. */
int media_init(char *err, size_t errlen);

/* At exit, after every media_ingest has returned. */
void media_shutdown(void);

/* The kind the bytes' magic says (MEDIA_NONE for anything else). */
media_kind media_sniff(const uint8_t *in, size_t len);

/* 0: out filled (free with media_result_free); 1: refused, with why (a
 * sentence for people: "not a JPEG or PNG image", "image is truncated or
 * corrupt", "image is 9.1 MiB; the limit is 8 MiB", "image is 12000x12000
 * pixels; the limit is 40 megapixels"); -1: out of memory (why says so).
 * out is zeroed on entry, and holds nothing to free unless 0 is returned. */
int media_ingest(const uint8_t *in, size_t len, const media_policy *pol, media_result *out, char *why, size_t whylen);

/* Frees what media_ingest put in r and zeroes it; NULL and a zeroed r are fine. */
void media_result_free(media_result *r);

#endif
