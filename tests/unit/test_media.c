/* test_media.c: photos on the way in (model/media.c, docs/photos.md).
 *
 * The fixtures are made here, at test time, with the libraries the daemon
 * uses: libvips draws and encodes a picture, libexif writes the EXIF a
 * phone would (maker, model, serial number, when, where, orientation), and
 * libvips attaches XMP and an ICC profile. Nothing binary is committed.
 * Each fixture is first checked to carry what the test then expects to be
 * gone, so a test cannot pass because the fixture was already clean. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>
#include <vips/vips.h>

#include "media.h"
#include "photo_exif.h"

static void setup(void)
{
    char err[256];
    cr_assert_eq(media_init(err, sizeof err), 0, "%s", err);
}

TestSuite(media, .init = setup, .timeout = 120);

/* ---- fixtures ----------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n;
} bytes;

static void bytes_free(bytes *b)
{
    g_free(b->p);
    b->p = NULL;
}

typedef struct {
    const char *taken;  /* DateTimeOriginal, or NULL */
    const char *offset; /* OffsetTimeOriginal, or NULL */
    const char *subsec; /* SubSecTimeOriginal, or NULL */
    bool gps;           /* lat 39.9042 N, lon 116.4074 E */
    int orientation;    /* 0: none */
} exif_spec;

#define FIX_LAT 39.9042
#define FIX_LON 116.4074

/* An EXIF block ("Exif\0\0" + TIFF) as a phone writes it (g_malloc). */
static bytes make_exif(const exif_spec *s)
{
    ExifData *ed = exif_data_new();
    cr_assert_not_null(ed);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_MOTOROLA);
    pe_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "WhistleCam");
    pe_ascii(ed, EXIF_IFD_0, EXIF_TAG_MODEL, "TestPhone-9");
    pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_BODY_SERIAL_NUMBER, "SN-0042-7731");
    if (s->orientation) {
        ExifEntry *e = pe_put(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, EXIF_FORMAT_SHORT, 1);
        exif_set_short(e->data, exif_data_get_byte_order(ed), (ExifShort)s->orientation);
    }
    if (s->taken)
        pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, s->taken);
    if (s->offset)
        pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, s->offset);
    if (s->subsec)
        pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_SUB_SEC_TIME_ORIGINAL, s->subsec);
    if (s->gps) {
        pe_ascii(ed, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, "N");
        pe_dms(ed, (ExifTag)EXIF_TAG_GPS_LATITUDE, FIX_LAT);
        pe_ascii(ed, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, "E");
        pe_dms(ed, (ExifTag)EXIF_TAG_GPS_LONGITUDE, FIX_LON);
    }
    unsigned char *buf = NULL;
    unsigned int len = 0;
    exif_data_save_data(ed, &buf, &len);
    exif_data_unref(ed);
    cr_assert(buf && len > 6 && memcmp(buf, "Exif\0\0", 6) == 0);
    bytes b = { g_malloc(len), len };
    memcpy(b.p, buf, len);
    free(buf);
    return b;
}

static const char XMP[] =
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
    "xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" tiff:Make=\"XmpCamMaker\"/></rdf:RDF></x:xmpmeta>";

/* A w x h picture (a gradient with noise, so a JPEG of it is not tiny),
 * bands 3 or 4 (alpha), with the EXIF of s, XMP, and a Display P3 ICC
 * profile, saved as JPEG or PNG with every metadata kept. */
static bytes make_image(media_kind kind, int w, int h, int bands, const exif_spec *s)
{
    VipsImage *t[8] = { 0 };
    cr_assert_eq(vips_xyz(&t[0], w, h, NULL), 0);
    cr_assert_eq(vips_gaussnoise(&t[1], w, h, "sigma", 20.0, "mean", 0.0, NULL), 0);
    VipsImage *xy[2];
    cr_assert_eq(vips_extract_band(t[0], &xy[0], 0, NULL), 0);
    cr_assert_eq(vips_extract_band(t[0], &xy[1], 1, NULL), 0);
    VipsImage *parts[4] = { xy[0], xy[1], t[1], t[1] };
    cr_assert_eq(vips_bandjoin(parts, &t[2], bands, NULL), 0);
    g_object_unref(xy[0]);
    g_object_unref(xy[1]);
    cr_assert_eq(vips_cast(t[2], &t[3], VIPS_FORMAT_UCHAR, "shift", FALSE, NULL), 0);
    cr_assert_eq(vips_copy(t[3], &t[4], "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
    /* converted to P3 with the profile attached, as some phones do */
    cr_assert_eq(vips_icc_transform(t[4], &t[5], "p3", "input_profile", "srgb", NULL), 0);
    cr_assert_eq(vips_cast(t[5], &t[6], VIPS_FORMAT_UCHAR, NULL), 0);
    cr_assert_eq(vips_copy(t[6], &t[7], NULL), 0);
    VipsImage *img = t[7];
    if (s) {
        bytes ex = make_exif(s);
        vips_image_set_blob_copy(img, VIPS_META_EXIF_NAME, ex.p, ex.n);
        bytes_free(&ex);
        if (s->orientation)
            vips_image_set_int(img, VIPS_META_ORIENTATION, s->orientation);
    }
    vips_image_set_blob_copy(img, VIPS_META_XMP_NAME, XMP, sizeof XMP - 1);
    bytes b = { 0 };
    void *buf;
    size_t len;
    int rc = kind == MEDIA_JPEG ? vips_jpegsave_buffer(img, &buf, &len, "Q", 95, NULL)
                                : vips_pngsave_buffer(img, &buf, &len, NULL);
    cr_assert_eq(rc, 0, "%s", vips_error_buffer());
    b.p = buf;
    b.n = len;
    for (size_t i = 0; i < 8; i++)
        if (t[i])
            g_object_unref(t[i]);
    return b;
}

static bool has_bytes(const uint8_t *p, size_t n, const char *needle)
{
    return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* The JPEG's markers before the scan: asserts each is one that carries
 * pixels' structure, never metadata (APP1-15, COM; an APP0 only as JFIF).
 * Returns how many APP0. */
static int jpeg_assert_clean(const uint8_t *p, size_t n)
{
    cr_assert(n > 4 && p[0] == 0xff && p[1] == 0xd8, "not a JPEG");
    size_t i = 2;
    int app0 = 0;
    while (i + 4 <= n) {
        cr_assert_eq(p[i], 0xff, "marker expected at %zu", i);
        uint8_t m = p[i + 1];
        if (m == 0xda) /* start of scan: pixels from here */
            return app0;
        size_t seg = ((size_t)p[i + 2] << 8) | p[i + 3];
        cr_assert(m != 0xfe, "a comment (COM) remains");
        cr_assert(!(m >= 0xe1 && m <= 0xef), "an APP%d segment remains", m - 0xe0);
        if (m == 0xe0) {
            cr_assert(seg >= 7 && memcmp(p + i + 4, "JFIF", 5) == 0, "an APP0 that is not JFIF");
            app0++;
        }
        i += 2 + seg;
    }
    cr_assert_fail("no start of scan");
    return 0;
}

/* The PNG's chunks: asserts only those of pixels and their geometry. */
static void png_assert_clean(const uint8_t *p, size_t n)
{
    cr_assert(n > 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0, "not a PNG");
    size_t i = 8;
    while (i + 12 <= n) {
        uint32_t len = ((uint32_t)p[i] << 24) | ((uint32_t)p[i + 1] << 16) | ((uint32_t)p[i + 2] << 8) | p[i + 3];
        char type[5] = { 0 };
        memcpy(type, p + i + 4, 4);
        static const char *ok[] = { "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "pHYs", "gAMA", "sRGB", "bKGD" };
        bool fine = false;
        for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
            fine |= strcmp(type, ok[k]) == 0;
        cr_assert(fine, "a %s chunk remains", type);
        if (strcmp(type, "IEND") == 0)
            return;
        i += 12 + (size_t)len;
    }
    cr_assert_fail("no IEND");
}

/* Nothing of the device: no EXIF libexif can find, none of the fixture's
 * strings, no XMP, no ICC profile. */
static void assert_no_metadata(const uint8_t *p, size_t n)
{
    ExifData *ed = exif_data_new_from_data(p, (unsigned)n);
    cr_assert_not_null(ed);
    for (int i = 0; i < EXIF_IFD_COUNT; i++)
        cr_assert_eq(ed->ifd[i]->count, 0, "EXIF IFD %d has %u entries", i, ed->ifd[i]->count);
    exif_data_unref(ed);
    static const char *gone[] = { "Exif",        "WhistleCam",   "TestPhone-9",   "SN-0042-7731",
                                  "XmpCamMaker", "ns.adobe.com", "com.adobe.xmp", "ICC_PROFILE",
                                  "Display P3",  "eXIf",         "iCCP" };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        cr_assert(!has_bytes(p, n, gone[i]), "\"%s\" remains in the output", gone[i]);
}

/* The fixture really carries what must go (so the test can fail). PNG's
 * eXIf chunk holds the TIFF structure without JPEG's "Exif" prefix. */
static void assert_fixture_dirty(const bytes *b)
{
    cr_assert(has_bytes(b->p, b->n, "Exif") || has_bytes(b->p, b->n, "eXIf"), "fixture without EXIF");
    cr_assert(has_bytes(b->p, b->n, "WhistleCam"), "fixture without the maker");
    /* PNG's XMP chunk may be compressed: its keyword is not */
    cr_assert(has_bytes(b->p, b->n, "XmpCamMaker") || has_bytes(b->p, b->n, "XML:com.adobe.xmp"),
              "fixture without XMP");
}

/* Decodes an encoded image with libvips: its width, height and bands. */
static void decode_dims(const uint8_t *p, size_t n, int *w, int *h, int *bands)
{
    VipsImage *img = vips_image_new_from_buffer(p, n, "", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    cr_assert_not_null(img, "%s", vips_error_buffer());
    double avg;
    cr_assert_eq(vips_avg(img, &avg, NULL), 0, "does not decode in full: %s", vips_error_buffer());
    *w = vips_image_get_width(img);
    *h = vips_image_get_height(img);
    *bands = vips_image_get_bands(img);
    g_object_unref(img);
}

/* 2026-11-21 09:30:15 at +08:00 is 01:30:15 UTC. */
#define TAKEN_UTC_S 1795224615LL

static const media_policy POLICY = { .max_bytes = 8u << 20, .max_pixels = 40000000u, .thumb_px = 64 };

/* ---- clean out ---------------------------------------------------------- */

Test(media, jpeg_is_stripped_upright_and_thumbnailed)
{
    exif_spec s = { .taken = "2026:11:21 09:30:15", .offset = "+08:00", .subsec = "25", .gps = true, .orientation = 6 };
    bytes in = make_image(MEDIA_JPEG, 200, 120, 3, &s);
    assert_fixture_dirty(&in);
    cr_assert(has_bytes(in.p, in.n, "ICC_PROFILE"), "fixture without an ICC profile");

    media_policy pol = POLICY;
    pol.keep_location = true;
    media_result r;
    char why[200] = "";
    cr_assert_eq(media_ingest(in.p, in.n, &pol, &r, why, sizeof why), 0, "refused: %s", why);
    cr_assert_eq(r.kind, MEDIA_JPEG);
    cr_assert_str_eq(r.mime, "image/jpeg");
    /* orientation 6: turned a quarter clockwise, so 200x120 becomes 120x200 */
    cr_assert_eq(r.width, 120);
    cr_assert_eq(r.height, 200);
    jpeg_assert_clean(r.data, r.len);
    assert_no_metadata(r.data, r.len);
    int w, h, b;
    decode_dims(r.data, r.len, &w, &h, &b);
    cr_assert(w == 120 && h == 200 && b == 3, "%dx%d, %d bands", w, h, b);

    cr_assert_eq(r.taken_ms, TAKEN_UTC_S * 1000 + 250);
    cr_assert(r.has_location);
    cr_assert(fabs(r.lat - FIX_LAT) < 1e-6 && fabs(r.lon - FIX_LON) < 1e-6, "%.7f,%.7f", r.lat, r.lon);

    /* the thumbnail: JPEG, clean, longest side thumb_px, upright too */
    jpeg_assert_clean(r.thumb, r.thumb_len);
    assert_no_metadata(r.thumb, r.thumb_len);
    decode_dims(r.thumb, r.thumb_len, &w, &h, &b);
    cr_assert(w == 38 && h == 64 && b == 3, "thumbnail %dx%d, %d bands", w, h, b);

    media_result_free(&r);
    cr_assert_null(r.data);
    bytes_free(&in);
}

Test(media, location_dropped_unless_kept)
{
    exif_spec s = { .taken = "2026:11:21 09:30:15", .gps = true };
    bytes in = make_image(MEDIA_JPEG, 64, 48, 3, &s);
    media_result r;
    char why[200] = "";
    cr_assert_eq(media_ingest(in.p, in.n, &POLICY, &r, why, sizeof why), 0, "refused: %s", why);
    cr_assert_not(r.has_location);
    cr_assert(r.lat == 0 && r.lon == 0);
    /* no offset in the EXIF: read as China Standard Time */
    cr_assert_eq(r.taken_ms, TAKEN_UTC_S * 1000);
    cr_assert_eq(r.width, 64);
    assert_no_metadata(r.data, r.len);
    media_result_free(&r);
    bytes_free(&in);
}

Test(media, taken_at_follows_the_offset_and_ignores_nonsense)
{
    struct {
        const char *taken, *offset;
        int64_t ms;
    } cases[] = {
        { "2026:11:21 09:30:15", "-05:00", (TAKEN_UTC_S + 13 * 3600) * 1000 },
        { "2026:11:21 09:30:15", "+00:00", (TAKEN_UTC_S + 8 * 3600) * 1000 },
        { "0000:00:00 00:00:00", NULL, 0 },
        { "2026:02:30 10:00:00", NULL, 0 },
        { "    :  :     :  :  ", NULL, 0 },
        { "yesterday", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        exif_spec s = { .taken = cases[i].taken, .offset = cases[i].offset };
        bytes in = make_image(MEDIA_JPEG, 32, 32, 3, &s);
        media_result r;
        char why[200] = "";
        cr_assert_eq(media_ingest(in.p, in.n, &POLICY, &r, why, sizeof why), 0, "refused: %s", why);
        cr_assert_eq(r.taken_ms, cases[i].ms, "%s %s: %lld", cases[i].taken, cases[i].offset ? cases[i].offset : "",
                     (long long)r.taken_ms);
        media_result_free(&r);
        bytes_free(&in);
    }
}

Test(media, png_is_stripped_and_thumbnail_flattened)
{
    exif_spec s = { .taken = "2026:11:21 09:30:15", .offset = "+08:00", .gps = true };
    bytes in = make_image(MEDIA_PNG, 100, 80, 4, &s);
    assert_fixture_dirty(&in);
    cr_assert(has_bytes(in.p, in.n, "iCCP"), "fixture without an ICC profile");

    media_policy pol = POLICY;
    pol.keep_location = true;
    media_result r;
    char why[200] = "";
    cr_assert_eq(media_ingest(in.p, in.n, &pol, &r, why, sizeof why), 0, "refused: %s", why);
    cr_assert_eq(r.kind, MEDIA_PNG);
    cr_assert_str_eq(r.mime, "image/png");
    cr_assert(r.width == 100 && r.height == 80);
    png_assert_clean(r.data, r.len);
    assert_no_metadata(r.data, r.len);
    int w, h, b;
    decode_dims(r.data, r.len, &w, &h, &b);
    cr_assert(w == 100 && h == 80 && b == 4, "%dx%d, %d bands: the alpha stays in the PNG", w, h, b);
    /* PNG's EXIF (eXIf) is read like JPEG's */
    cr_assert_eq(r.taken_ms, TAKEN_UTC_S * 1000);
    cr_assert(r.has_location);

    jpeg_assert_clean(r.thumb, r.thumb_len);
    decode_dims(r.thumb, r.thumb_len, &w, &h, &b);
    cr_assert(w == 64 && h == 51 && b == 3, "thumbnail %dx%d, %d bands", w, h, b);
    media_result_free(&r);
    bytes_free(&in);
}

Test(media, small_image_is_not_enlarged_and_has_no_exif_to_read)
{
    bytes in = make_image(MEDIA_JPEG, 40, 30, 3, NULL);
    media_result r;
    char why[200] = "";
    cr_assert_eq(media_ingest(in.p, in.n, &POLICY, &r, why, sizeof why), 0, "refused: %s", why);
    cr_assert_eq(r.taken_ms, 0);
    cr_assert_not(r.has_location);
    int w, h, b;
    decode_dims(r.thumb, r.thumb_len, &w, &h, &b);
    cr_assert(w == 40 && h == 30, "thumbnail %dx%d", w, h);
    media_result_free(&r);
    bytes_free(&in);
}

/* ---- refused ------------------------------------------------------------ */

static void assert_refused(const uint8_t *p, size_t n, const media_policy *pol, const char *sentence)
{
    media_result r;
    memset(&r, 0x5a, sizeof r);
    char why[200] = "";
    cr_assert_eq(media_ingest(p, n, pol, &r, why, sizeof why), 1, "accepted, expected \"%s\"", sentence);
    cr_assert_str_eq(why, sentence);
    cr_assert(r.data == NULL && r.thumb == NULL && r.len == 0 && r.kind == MEDIA_NONE);
    media_result_free(&r);
}

Test(media, truncated_jpeg_refused)
{
    bytes in = make_image(MEDIA_JPEG, 300, 200, 3, NULL);
    cr_assert_gt(in.n, 4000);
    assert_refused(in.p, in.n * 2 / 3, &POLICY, "image is truncated or corrupt");
    assert_refused(in.p, 300, &POLICY, "image is truncated or corrupt"); /* inside the header */
    assert_refused(in.p, 3, &POLICY, "image is truncated or corrupt");   /* the magic alone */
    bytes_free(&in);
}

Test(media, truncated_png_refused)
{
    bytes in = make_image(MEDIA_PNG, 300, 200, 3, NULL);
    assert_refused(in.p, in.n * 2 / 3, &POLICY, "image is truncated or corrupt");
    assert_refused(in.p, in.n - 13, &POLICY, "image is truncated or corrupt"); /* IEND gone */
    assert_refused(in.p, 8, &POLICY, "image is truncated or corrupt");
    bytes_free(&in);
}

Test(media, other_types_refused)
{
    /* a real GIF, a real BMP: libvips can decode both, whistle takes neither */
    VipsImage *img;
    cr_assert_eq(vips_black(&img, 16, 16, "bands", 3, NULL), 0);
    void *buf;
    size_t len;
    cr_assert_eq(vips_gifsave_buffer(img, &buf, &len, NULL), 0, "%s", vips_error_buffer());
    cr_assert(len > 6 && memcmp(buf, "GIF8", 4) == 0);
    assert_refused(buf, len, &POLICY, "not a JPEG or PNG image");
    g_free(buf);
    g_object_unref(img);

    /* BMP: a 1x1 24-bit one by hand (libvips saves BMP only through magick) */
    static const uint8_t bmp[] = { 'B', 'M', 58, 0, 0, 0, 0, 0, 0,    0,    54,   0,    0,    0,    40,
                                   0,   0,   0,  1, 0, 0, 0, 1, 0,    0,    0,    1,    0,    24,   0,
                                   0,   0,   0,  0, 4, 0, 0, 0, 0x13, 0x0b, 0,    0,    0x13, 0x0b, 0,
                                   0,   0,   0,  0, 0, 0, 0, 0, 0,    0xff, 0x00, 0x00, 0x00 };
    assert_refused(bmp, sizeof bmp, &POLICY, "not a JPEG or PNG image");
    const char *text = "this is a photo, honestly\n";
    assert_refused((const uint8_t *)text, strlen(text), &POLICY, "not a JPEG or PNG image");
    /* a name says nothing: an SVG is text whatever it is called */
    const char *svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>";
    assert_refused((const uint8_t *)svg, strlen(svg), &POLICY, "not a JPEG or PNG image");
    assert_refused((const uint8_t *)"", 0, &POLICY, "image is empty");
}

Test(media, oversized_refused)
{
    /* the size is checked before anything is decoded: a buffer of the
     * default limit and a bit more, starting like a JPEG */
    size_t n = (size_t)(9.1 * (1 << 20));
    uint8_t *big = calloc(1, n);
    cr_assert_not_null(big);
    big[0] = 0xff;
    big[1] = 0xd8;
    big[2] = 0xff;
    media_policy pol = POLICY;
    pol.max_bytes = MEDIA_DEFAULT_MAX_BYTES;
    assert_refused(big, n, &pol, "image is 9.1 MiB; the limit is 8 MiB");
    free(big);

    /* a real image over a small limit */
    bytes in = make_image(MEDIA_PNG, 64, 64, 3, NULL);
    pol.max_bytes = 2048;
    cr_assert_gt(in.n, 2048);
    char sentence[100], have[32];
    snprintf(have, sizeof have, "%.1f KiB", in.n / 1024.0);
    snprintf(sentence, sizeof sentence, "image is %s; the limit is 2 KiB", have);
    assert_refused(in.p, in.n, &pol, sentence);
    bytes_free(&in);
}

Test(media, png_bomb_refused_before_decoding)
{
    /* 20000x20000 pixels of one grey (400 MB decoded) in about 400 KB */
    VipsImage *img;
    cr_assert_eq(vips_black(&img, 20000, 20000, NULL), 0);
    void *buf;
    size_t len;
    cr_assert_eq(vips_pngsave_buffer(img, &buf, &len, "compression", 9, NULL), 0);
    g_object_unref(img);
    cr_assert_lt(len, 1u << 20);
    assert_refused(buf, len, &POLICY, "image is 20000x20000 pixels; the limit is 40 megapixels");
    g_free(buf);
}

Test(media, jpeg_bomb_refused_before_decoding)
{
    /* a small JPEG whose frame header claims 30000x30000 */
    bytes in = make_image(MEDIA_JPEG, 64, 64, 3, NULL);
    bool patched = false;
    for (size_t i = 2; i + 9 < in.n; i++) {
        if (in.p[i] == 0xff && (in.p[i + 1] == 0xc0 || in.p[i + 1] == 0xc2)) {
            in.p[i + 5] = 30000 >> 8;
            in.p[i + 6] = 30000 & 0xff;
            in.p[i + 7] = 30000 >> 8;
            in.p[i + 8] = 30000 & 0xff;
            patched = true;
            break;
        }
    }
    cr_assert(patched);
    assert_refused(in.p, in.n, &POLICY, "image is 30000x30000 pixels; the limit is 40 megapixels");
    bytes_free(&in);
}

/* The scans of a JPEG: (start, end) of each SOS segment and its data. */
static int jpeg_scans(const bytes *b, size_t (*at)[2], int max)
{
    size_t i = 2;
    int n = 0;
    while (i + 4 <= b->n && b->p[i] == 0xff && b->p[i + 1] != 0xd9) {
        size_t len = ((size_t)b->p[i + 2] << 8) | b->p[i + 3];
        size_t j = i + 2 + len;
        if (b->p[i + 1] == 0xda) {
            while (j + 1 < b->n && !(b->p[j] == 0xff && b->p[j + 1] != 0 && (b->p[j + 1] < 0xd0 || b->p[j + 1] > 0xd7)))
                j++;
            if (n < max) {
                at[n][0] = i;
                at[n][1] = j;
            }
            n++;
        }
        i = j;
    }
    return n;
}

Test(media, progressive_jpeg_of_too_many_scans_refused)
{
    /* a progressive JPEG as encoders write it is taken */
    VipsImage *img;
    cr_assert_eq(vips_xyz(&img, 256, 256, NULL), 0);
    VipsImage *u;
    cr_assert_eq(vips_cast(img, &u, VIPS_FORMAT_UCHAR, NULL), 0);
    void *buf;
    size_t len;
    cr_assert_eq(vips_jpegsave_buffer(u, &buf, &len, "interlace", TRUE, NULL), 0);
    g_object_unref(img);
    g_object_unref(u);
    bytes in = { buf, len };
    size_t at[64][2];
    int n = jpeg_scans(&in, at, 64);
    cr_assert(n >= 2 && n <= 64, "%d scans", n);
    media_result r;
    char why[200] = "";
    cr_assert_eq(media_ingest(in.p, in.n, &POLICY, &r, why, sizeof why), 0, "refused: %s", why);
    media_result_free(&r);
    /* one of its scans repeated 200 times: a few kilobytes more, and on a
     * large picture each scan is a pass over all of it */
    size_t s0 = at[n - 1][0], s1 = at[n - 1][1], sl = s1 - s0;
    size_t big = s1 + 200 * sl + (in.n - s1);
    uint8_t *p = malloc(big);
    cr_assert_not_null(p);
    memcpy(p, in.p, s1);
    for (int k = 0; k < 200; k++)
        memcpy(p + s1 + (size_t)k * sl, in.p + s0, sl);
    memcpy(p + s1 + 200 * sl, in.p + s1, in.n - s1);
    assert_refused(p, big, &POLICY, "image is a progressive JPEG of more than 100 scans; at most 100 are decoded");
    free(p);
    bytes_free(&in);
}

/* ---- threads -------------------------------------------------------------- */

typedef struct {
    const bytes *in;
    uint8_t *out;
    size_t len;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    for (int k = 0; k < 3; k++) {
        media_result r;
        char why[200];
        j->rc = media_ingest(j->in->p, j->in->n, &POLICY, &r, why, sizeof why);
        if (j->rc)
            return NULL;
        free(j->out);
        j->out = r.data;
        j->len = r.len;
        r.data = NULL;
        media_result_free(&r);
    }
    return NULL;
}

Test(media, threads_at_once_give_the_same_result)
{
    exif_spec s = { .taken = "2026:11:21 09:30:15", .gps = true, .orientation = 3 };
    bytes in = make_image(MEDIA_JPEG, 160, 120, 3, &s);
    job jobs[4] = { { 0 } };
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].in = &in;
        cr_assert_eq(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(jobs[i].rc, 0);
        cr_assert_eq(jobs[i].len, jobs[0].len);
        cr_assert_eq(memcmp(jobs[i].out, jobs[0].out, jobs[0].len), 0);
    }
    for (int i = 0; i < 4; i++)
        free(jobs[i].out);
    bytes_free(&in);
}
