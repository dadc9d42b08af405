/* media.c: photos on the way in (media.h).
 *
 * The path of one image, each step on the caller's thread:
 *
 *   sniff the magic ─▶ size limit ─▶ a JPEG's scans counted (at most
 *   MEDIA_MAX_SCANS) ─▶ libvips reads the header only
 *   (jpegload/pngload, sequential, fail_on=error) ─▶ pixel limit (a bomb is
 *   refused before any pixel is decoded) ─▶ libexif reads the EXIF block
 *   libvips found (DateTimeOriginal, GPS) ─▶ vips_image_copy_memory decodes
 *   every pixel (a truncated or corrupt file fails here) ─▶ colours made
 *   sRGB (an embedded ICC profile applied, CMYK converted) ─▶ turned upright
 *   (vips_autorot) ─▶ encoded again with strip=TRUE (the same kind: JPEG
 *   stays JPEG, PNG stays PNG) ─▶ thumbnail (JPEG, alpha flattened on white).
 *
 * Memory: the decoded pixels once (width x height x bands x bytes per
 * sample, at most max_pixels x 8 bytes for 16-bit RGBA PNG, about 120 MB
 * for a 40-megapixel RGB photo) plus the encoded results. libvips's
 * operation cache is off and it runs one worker per image (media_init), so
 * nothing is kept between calls and the caller's threads are the only
 * parallelism.
 *
 * libvips's error buffer is process-wide text; this file never reads it
 * (several threads may fail at once and their texts would mix), it only
 * clears it after a failure so it does not fill up. The sentences for
 * people are this file's own. */
#include "media.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>
#include <vips/vips.h>

#include "log.h"

/* JPEG quality of the stored image and of the thumbnail: the stored one
 * is what an operator zooms into; the thumbnail fills a list's row. */
enum { MEDIA_JPEG_Q = 90, MEDIA_THUMB_Q = 80 };

/* EXIF DateTimeOriginal has no zone unless OffsetTimeOriginal says one
 * (EXIF 2.31); without it the time is read as China Standard Time, where
 * the cameras that report cases are. */
#define MEDIA_DEFAULT_UTC_OFFSET_MIN (8 * 60)

/* libvips's warnings (a damaged image's details) go to the log at debug
 * level: they are about a client's file, not the daemon, and a hostile
 * client could otherwise fill the journal. */
static void media_vips_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user)
{
    (void)level;
    (void)user;
    log_debug("media: %s: %s", domain ? domain : "glib", message ? message : "");
}

int media_init(char *err, size_t errlen)
{
    /* vips_init is safe to call again (the unit tests do, per test). */
    if (VIPS_INIT("whistled")) {
        snprintf(err, errlen, "media: libvips would not start (%s)", vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    /* Only the JPEG and PNG loaders are ever called, by name; refuse the
     * rest as well in case a later change reaches for vips_image_new_from_*. */
    vips_block_untrusted_set(TRUE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG,
                      media_vips_log, NULL);
    return 0;
}

void media_shutdown(void) { vips_shutdown(); }

media_kind media_sniff(const uint8_t *in, size_t len)
{
    static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (in && len >= 3 && in[0] == 0xff && in[1] == 0xd8 && in[2] == 0xff)
        return MEDIA_JPEG;
    if (in && len >= sizeof png && memcmp(in, png, sizeof png) == 0)
        return MEDIA_PNG;
    return MEDIA_NONE;
}

/* "9.1 MiB", "512 KiB", "300 bytes": a size for a sentence. */
static void media_size_text(size_t n, char *buf, size_t len)
{
    if (n >= (1u << 20))
        snprintf(buf, len, "%.1f MiB", (double)n / (1u << 20));
    else if (n >= (1u << 10))
        snprintf(buf, len, "%.1f KiB", (double)n / (1u << 10));
    else
        snprintf(buf, len, "%zu bytes", n);
    /* "8.0 MiB" reads better as "8 MiB" */
    char *dot = strstr(buf, ".0 ");
    if (dot)
        memmove(dot, dot + 2, strlen(dot + 2) + 1);
}

/* ---- JPEG scans ------------------------------------------------------------ */

/* A progressive JPEG is decoded scan by scan, each a pass over the whole
 * image: thousands of tiny scans (a few bytes each, within max_bytes) make
 * a file that takes minutes to decode. Cameras and encoders write about 10
 * (mozjpeg's smallest files about 20); more than this is refused before
 * decoding, as libjpeg-turbo's documentation advises. */
#define MEDIA_MAX_SCANS 100

/* The scans (SOS markers) of a JPEG, counted by walking its markers and
 * skipping each scan's entropy-coded data up to the next marker (0xFF and
 * neither 0x00, a stuffed byte, nor a restart marker). Stops counting past
 * MEDIA_MAX_SCANS. A malformed walk ends the count: the decoder judges
 * the rest. */
static int media_jpeg_scans(const uint8_t *p, size_t n)
{
    size_t i = 2; /* after SOI */
    int scans = 0;
    while (i < n && scans <= MEDIA_MAX_SCANS) {
        if (p[i] != 0xff)
            break;
        while (i < n && p[i] == 0xff) /* fill bytes */
            i++;
        if (i >= n)
            break;
        uint8_t m = p[i++];
        if (m == 0xd9) /* EOI */
            break;
        if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) /* no length */
            continue;
        if (i + 2 > n)
            break;
        size_t len = ((size_t)p[i] << 8) | p[i + 1];
        if (len < 2)
            break;
        i += len;
        if (m != 0xda)
            continue;
        scans++;
        while (i + 1 < n && !(p[i] == 0xff && p[i + 1] != 0 && !(p[i + 1] >= 0xd0 && p[i + 1] <= 0xd7)))
            i++;
    }
    return scans;
}

/* ---- EXIF: when and where ---------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no time zone, no libc state. */
static int64_t media_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The ASCII text of an entry (NUL-terminated within its size), or NULL. */
static const char *media_exif_ascii(ExifContent *ifd, ExifTag tag)
{
    ExifEntry *e = ifd ? exif_content_get_entry(ifd, tag) : NULL;
    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size == 0)
        return NULL;
    if (!memchr(e->data, '\0', e->size))
        return NULL;
    return (const char *)e->data;
}

static bool media_digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

static bool media_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* "YYYY:MM:DD HH:MM:SS" (with an optional "+HH:MM" offset and sub-second
 * digits) as UTC ms; 0 when absent or not a real time ("0000:00:00 ...",
 * blanks, the 31st of February). */
static int64_t media_exif_taken(ExifData *ed)
{
    ExifContent *exif = ed->ifd[EXIF_IFD_EXIF];
    const char *t = media_exif_ascii(exif, EXIF_TAG_DATE_TIME_ORIGINAL);
    if (!t || strlen(t) < 19 || t[4] != ':' || t[7] != ':' || t[10] != ' ' || t[13] != ':' || t[16] != ':')
        return 0;
    int y, mo, d, h, mi, s;
    if (!media_digits(t, 4, &y) || !media_digits(t + 5, 2, &mo) || !media_digits(t + 8, 2, &d) ||
        !media_digits(t + 11, 2, &h) || !media_digits(t + 14, 2, &mi) || !media_digits(t + 17, 2, &s))
        return 0;
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
        return 0;
    if (d > mdays[mo - 1] + (mo == 2 && media_leap(y)))
        return 0;
    int offset_min = MEDIA_DEFAULT_UTC_OFFSET_MIN;
    const char *off = media_exif_ascii(exif, EXIF_TAG_OFFSET_TIME_ORIGINAL);
    int oh, om;
    if (off && strlen(off) >= 6 && (off[0] == '+' || off[0] == '-') && off[3] == ':' && media_digits(off + 1, 2, &oh) &&
        media_digits(off + 4, 2, &om) && oh <= 14 && om <= 59)
        offset_min = (off[0] == '-' ? -1 : 1) * (oh * 60 + om);
    int ms = 0;
    const char *sub = media_exif_ascii(exif, EXIF_TAG_SUB_SEC_TIME_ORIGINAL);
    if (sub) {
        /* "1", "12", "123", "1234": the first three digits are ms */
        int scale = 100;
        for (const char *p = sub; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    int64_t secs = media_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    secs -= (int64_t)offset_min * 60;
    if (secs <= 0)
        return 0;
    return secs * 1000 + ms;
}

/* Degrees from a GPS coordinate: three RATIONALs (degrees, minutes,
 * seconds). false when malformed. */
static bool media_exif_dms(ExifContent *gps, ExifTag tag, ExifByteOrder order, double *deg)
{
    ExifEntry *e = exif_content_get_entry(gps, tag);
    if (!e || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || !e->data || e->size < 24)
        return false;
    double v[3];
    for (int i = 0; i < 3; i++) {
        ExifRational r = exif_get_rational(e->data + 8 * i, order);
        if (r.denominator == 0)
            return false;
        v[i] = (double)r.numerator / r.denominator;
    }
    if (v[1] >= 60 || v[2] >= 60)
        return false;
    *deg = v[0] + v[1] / 60 + v[2] / 3600;
    return true;
}

/* The photo's place from GPSLatitude/Longitude and their references (WGS84,
 * as receivers report it); false when absent, malformed, out of range or
 * exactly 0,0 (a receiver without a fix). */
static bool media_exif_location(ExifData *ed, double *lat, double *lon)
{
    ExifContent *gps = ed->ifd[EXIF_IFD_GPS];
    if (!gps)
        return false;
    ExifByteOrder order = exif_data_get_byte_order(ed);
    const char *lat_ref = media_exif_ascii(gps, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF);
    const char *lon_ref = media_exif_ascii(gps, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF);
    double a, o;
    if (!lat_ref || !lon_ref || !media_exif_dms(gps, (ExifTag)EXIF_TAG_GPS_LATITUDE, order, &a) ||
        !media_exif_dms(gps, (ExifTag)EXIF_TAG_GPS_LONGITUDE, order, &o))
        return false;
    if (lat_ref[0] == 'S')
        a = -a;
    else if (lat_ref[0] != 'N')
        return false;
    if (lon_ref[0] == 'W')
        o = -o;
    else if (lon_ref[0] != 'E')
        return false;
    if (!isfinite(a) || !isfinite(o) || fabs(a) > 90 || fabs(o) > 180 || (a == 0 && o == 0))
        return false;
    *lat = a;
    *lon = o;
    return true;
}

/* Reads what is kept from the EXIF block libvips found in the header
 * ("exif-data": "Exif\0\0" and a TIFF structure, for JPEG's APP1 and PNG's
 * eXIf alike). A malformed block yields nothing, never a refusal: the
 * block is dropped from the stored image anyway. */
static void media_read_exif(VipsImage *img, const media_policy *pol, media_result *out)
{
    const void *blob;
    size_t blen;
    if (vips_image_get_typeof(img, VIPS_META_EXIF_NAME) == 0 ||
        vips_image_get_blob(img, VIPS_META_EXIF_NAME, &blob, &blen) || blen < 8 || blen > UINT_MAX - 6) {
        vips_error_clear();
        return;
    }
    ExifData *ed = exif_data_new();
    if (!ed)
        return;
    /* Read only: no tags added or fixed up on load. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    if (memcmp(blob, "II*\0", 4) == 0 || memcmp(blob, "MM\0*", 4) == 0) {
        /* PNG's eXIf holds the TIFF structure alone; libexif wants the
         * "Exif\0\0" header before it */
        uint8_t *withhdr = malloc(blen + 6);
        if (!withhdr) {
            exif_data_unref(ed);
            return;
        }
        memcpy(withhdr, "Exif\0\0", 6);
        memcpy(withhdr + 6, blob, blen);
        exif_data_load_data(ed, withhdr, (unsigned)blen + 6);
        free(withhdr);
    } else {
        exif_data_load_data(ed, blob, (unsigned)blen);
    }
    out->taken_ms = media_exif_taken(ed);
    if (pol->keep_location)
        out->has_location = media_exif_location(ed, &out->lat, &out->lon);
    exif_data_unref(ed);
}

/* ---- libvips ---------------------------------------------------------- */

/* Unrefs every image in v (NULLs skipped). */
static void media_unref_all(VipsImage **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i])
            g_object_unref(v[i]);
}

/* A copy of a libvips buffer in malloc's memory (media.h promises malloc). */
static uint8_t *media_own(void *buf, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p)
        memcpy(p, buf, len);
    g_free(buf);
    return p;
}

/* The pixels in sRGB (or grey) for encoding without a profile: an embedded
 * ICC profile is applied (a broken one is ignored: the pixels stay as they
 * are), CMYK is converted. *out is a new reference, or in's. */
static int media_to_srgb(VipsImage *in, VipsImage **out)
{
    if (vips_image_get_typeof(in, VIPS_META_ICC_NAME) && vips_icc_present()) {
        if (vips_icc_transform(in, out, "srgb", "embedded", TRUE, "intent", VIPS_INTENT_PERCEPTUAL, NULL) == 0)
            return 0;
        vips_error_clear();
    }
    VipsInterpretation t = vips_image_get_interpretation(in);
    if (t == VIPS_INTERPRETATION_CMYK)
        return vips_colourspace(in, out, VIPS_INTERPRETATION_sRGB, NULL);
    g_object_ref(in);
    *out = in;
    return 0;
}

/* The thumbnail: longest side thumb_px (never enlarged), 8-bit sRGB, alpha
 * flattened on white, JPEG without metadata. */
static int media_thumb(VipsImage *upright, uint32_t px, void **buf, size_t *len)
{
    VipsImage *t[3] = { 0 };
    int rc = -1;
    if (vips_thumbnail_image(upright, &t[0], (int)px, "height", (int)px, "size", VIPS_SIZE_DOWN, NULL) ||
        vips_colourspace(t[0], &t[1], VIPS_INTERPRETATION_sRGB, NULL))
        goto done;
    VipsImage *last = t[1];
    if (vips_image_hasalpha(t[1])) {
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
        int f = vips_flatten(t[1], &t[2], "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (f)
            goto done;
        last = t[2];
    }
    rc = vips_jpegsave_buffer(last, buf, len, "Q", MEDIA_THUMB_Q, "strip", TRUE, "optimize_coding", TRUE, NULL);
done:
    media_unref_all(t, 3);
    return rc;
}

static void media_why(char *why, size_t whylen, const char *text)
{
    if (why && whylen)
        snprintf(why, whylen, "%s", text);
}

int media_ingest(const uint8_t *in, size_t len, const media_policy *pol, media_result *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    media_policy p = *pol;
    if (p.max_bytes == 0)
        p.max_bytes = MEDIA_DEFAULT_MAX_BYTES;
    if (p.max_pixels == 0)
        p.max_pixels = MEDIA_DEFAULT_MAX_PIXELS;
    if (p.thumb_px == 0)
        p.thumb_px = MEDIA_DEFAULT_THUMB_PX;

    media_kind kind = media_sniff(in, len);
    if (kind == MEDIA_NONE) {
        media_why(why, whylen, len ? "not a JPEG or PNG image" : "image is empty");
        return 1;
    }
    if (len > p.max_bytes) {
        char have[32], limit[32];
        media_size_text(len, have, sizeof have);
        media_size_text(p.max_bytes, limit, sizeof limit);
        if (why && whylen)
            snprintf(why, whylen, "image is %s; the limit is %s", have, limit);
        return 1;
    }

    if (kind == MEDIA_JPEG && media_jpeg_scans(in, len) > MEDIA_MAX_SCANS) {
        if (why && whylen)
            snprintf(why, whylen, "image is a progressive JPEG of more than %d scans; at most %d are decoded",
                     MEDIA_MAX_SCANS, MEDIA_MAX_SCANS);
        return 1;
    }

    /* 0 header, 1 decoded, 2 sRGB, 3 upright */
    VipsImage *img[4] = { 0 };
    void *vbuf = NULL, *tbuf = NULL;
    size_t vlen = 0, tlen = 0;
    int rc = 1;
    /* The header only: libvips decodes pixels when they are asked for. */
    int lr = kind == MEDIA_JPEG ? vips_jpegload_buffer((void *)in, len, &img[0], "access", VIPS_ACCESS_SEQUENTIAL,
                                                       "fail_on", VIPS_FAIL_ON_ERROR, NULL)
                                : vips_pngload_buffer((void *)in, len, &img[0], "access", VIPS_ACCESS_SEQUENTIAL,
                                                      "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (lr) {
        media_why(why, whylen, "image is truncated or corrupt");
        goto done;
    }
    uint64_t w = (uint64_t)vips_image_get_width(img[0]), h = (uint64_t)vips_image_get_height(img[0]);
    if (w * h > p.max_pixels) {
        if (why && whylen)
            snprintf(why, whylen, "image is %llux%llu pixels; the limit is %g megapixels", (unsigned long long)w,
                     (unsigned long long)h, p.max_pixels / 1e6);
        goto done;
    }
    media_read_exif(img[0], &p, out);

    /* Every pixel decoded now: a file that ends early or is damaged fails
     * here (fail_on=error) instead of becoming a partly grey picture. */
    if (!(img[1] = vips_image_copy_memory(img[0]))) {
        media_why(why, whylen, "image is truncated or corrupt");
        goto done;
    }
    if (media_to_srgb(img[1], &img[2]) || vips_autorot(img[2], &img[3], NULL)) {
        media_why(why, whylen, "image could not be processed");
        goto done;
    }
    int er = kind == MEDIA_JPEG ? vips_jpegsave_buffer(img[3], &vbuf, &vlen, "Q", MEDIA_JPEG_Q, "strip", TRUE,
                                                       "optimize_coding", TRUE, NULL)
                                : vips_pngsave_buffer(img[3], &vbuf, &vlen, "strip", TRUE, "compression", 6, NULL);
    if (er || media_thumb(img[3], p.thumb_px, &tbuf, &tlen)) {
        media_why(why, whylen, "image could not be processed");
        goto done;
    }
    out->kind = kind;
    out->mime = kind == MEDIA_JPEG ? "image/jpeg" : "image/png";
    out->width = (uint32_t)vips_image_get_width(img[3]);
    out->height = (uint32_t)vips_image_get_height(img[3]);
    out->len = vlen;
    out->thumb_len = tlen;
    out->data = media_own(vbuf, vlen);
    out->thumb = media_own(tbuf, tlen);
    vbuf = tbuf = NULL;
    if (!out->data || !out->thumb) {
        media_result_free(out);
        media_why(why, whylen, "out of memory");
        rc = -1;
        goto done;
    }
    rc = 0;
done:
    if (rc == 1) {
        /* nothing of a refused image is returned */
        memset(out, 0, sizeof *out);
        vips_error_clear();
    }
    g_free(vbuf);
    g_free(tbuf);
    media_unref_all(img, 4);
    return rc;
}

void media_result_free(media_result *r)
{
    if (!r)
        return;
    free(r->data);
    free(r->thumb);
    memset(r, 0, sizeof *r);
}
