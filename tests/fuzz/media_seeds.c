/* media_seeds DIR: writes the seeds of fuzz_media into DIR/media, small
 * photos of the kinds and shapes whistle meets: JPEG baseline and
 * progressive, grey and CMYK, with EXIF (taken-at, sub-seconds, offset,
 * GPS, orientation) in either byte order, XMP and an ICC profile; PNG RGBA,
 * grey interlaced, 16-bit grey with alpha. Made by libvips and libexif on
 * each run (scripts/fuzz.sh), like the request seeds, so nothing binary is
 * committed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libexif/exif-data.h>
#include <vips/vips.h>

static const char *dir;

_Noreturn static void die(const char *what)
{
    fprintf(stderr, "media_seeds: %s: %s\n", what, vips_error_buffer());
    exit(1);
}

static ExifEntry *put(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat fmt, unsigned comps)
{
    ExifEntry *e = exif_entry_new();
    if (!e)
        die("exif_entry_new");
    e->tag = tag;
    e->format = fmt;
    e->components = comps;
    e->size = exif_format_get_size(fmt) * comps;
    e->data = calloc(1, e->size);
    if (!e->data)
        die("calloc");
    exif_content_add_entry(ed->ifd[ifd], e);
    exif_entry_unref(e);
    return e;
}

static void ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, const char *s)
{
    ExifEntry *e = put(ed, ifd, tag, EXIF_FORMAT_ASCII, (unsigned)strlen(s) + 1);
    memcpy(e->data, s, strlen(s) + 1);
}

static void dms(ExifData *ed, ExifTag tag, unsigned d, unsigned m, unsigned s100)
{
    ExifEntry *e = put(ed, EXIF_IFD_GPS, tag, EXIF_FORMAT_RATIONAL, 3);
    ExifRational r[3] = { { d, 1 }, { m, 1 }, { s100, 100 } };
    for (int i = 0; i < 3; i++)
        exif_set_rational(e->data + 8 * i, exif_data_get_byte_order(ed), r[i]);
}

static void set_exif(VipsImage *img, int orientation, ExifByteOrder order)
{
    ExifData *ed = exif_data_new();
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_byte_order(ed, order);
    ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Cam");
    ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2026:11:21 09:30:15");
    ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, "+08:00");
    ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_SUB_SEC_TIME_ORIGINAL, "25");
    if (orientation) {
        ExifEntry *e = put(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, EXIF_FORMAT_SHORT, 1);
        exif_set_short(e->data, order, (ExifShort)orientation);
        vips_image_set_int(img, VIPS_META_ORIENTATION, orientation);
    }
    ascii(ed, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, "N");
    dms(ed, (ExifTag)EXIF_TAG_GPS_LATITUDE, 39, 54, 1512);
    ascii(ed, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, "E");
    dms(ed, (ExifTag)EXIF_TAG_GPS_LONGITUDE, 116, 24, 2664);
    unsigned char *b = NULL;
    unsigned int n = 0;
    exif_data_save_data(ed, &b, &n);
    if (!b)
        die("exif_data_save_data");
    vips_image_set_blob_copy(img, VIPS_META_EXIF_NAME, b, n);
    free(b);
    exif_data_unref(ed);
}

/* A w x h picture of 1-4 bands: a gradient and noise (leaked: the program
 * is short-lived). */
static VipsImage *picture(int w, int h, int bands)
{
    VipsImage *xyz, *noise, *x, *y, *joined, *cast, *out;
    if (vips_xyz(&xyz, w, h, NULL) || vips_gaussnoise(&noise, w, h, "sigma", 30.0, NULL) ||
        vips_extract_band(xyz, &x, 0, NULL) || vips_extract_band(xyz, &y, 1, NULL))
        die("picture");
    VipsImage *parts[4] = { x, y, noise, noise };
    if (vips_bandjoin(parts, &joined, bands, NULL) || vips_cast(joined, &cast, VIPS_FORMAT_UCHAR, NULL) ||
        vips_copy(cast, &out, "interpretation", bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W, NULL))
        die("picture");
    return out;
}

static void save(const char *name, void *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/media/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "media_seeds: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    g_free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: media_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/media", dir);
    mkdir(dir, 0755);
    if (mkdir(sub, 0755) && errno != EEXIST) {
        fprintf(stderr, "media_seeds: %s: %s\n", sub, strerror(errno));
        return 1;
    }
    if (VIPS_INIT(argv[0]))
        die("vips_init");
    void *buf;
    size_t len;
    VipsImage *img, *tmp, *tmp2;

    img = picture(24, 16, 3);
    set_exif(img, 6, EXIF_BYTE_ORDER_MOTOROLA);
    vips_image_set_blob_copy(img, VIPS_META_XMP_NAME, "<x:xmpmeta/>", 12);
    if (vips_jpegsave_buffer(img, &buf, &len, "Q", 50, NULL))
        die("jpeg-exif-gps-rot6");
    save("jpeg-exif-gps-rot6", buf, len);

    img = picture(16, 16, 3);
    if (vips_jpegsave_buffer(img, &buf, &len, "Q", 30, "interlace", TRUE, "strip", TRUE, NULL))
        die("jpeg-progressive");
    save("jpeg-progressive", buf, len);

    img = picture(16, 8, 1);
    if (vips_jpegsave_buffer(img, &buf, &len, "Q", 30, "strip", TRUE, NULL))
        die("jpeg-grey");
    save("jpeg-grey", buf, len);

    img = picture(12, 12, 3);
    if (vips_icc_transform(img, &tmp, "cmyk", "input_profile", "srgb", NULL) ||
        vips_jpegsave_buffer(tmp, &buf, &len, "Q", 30, "strip", TRUE, NULL))
        die("jpeg-cmyk");
    save("jpeg-cmyk", buf, len);

    img = picture(16, 12, 4);
    set_exif(img, 3, EXIF_BYTE_ORDER_INTEL);
    if (vips_icc_transform(img, &tmp, "p3", "input_profile", "srgb", NULL) ||
        vips_cast(tmp, &tmp2, VIPS_FORMAT_UCHAR, NULL) || vips_pngsave_buffer(tmp2, &buf, &len, NULL))
        die("png-rgba-exif-icc");
    save("png-rgba-exif-icc", buf, len);

    img = picture(16, 16, 1);
    if (vips_pngsave_buffer(img, &buf, &len, "interlace", TRUE, "strip", TRUE, NULL))
        die("png-grey-interlaced");
    save("png-grey-interlaced", buf, len);

    img = picture(10, 10, 2);
    if (vips_cast(img, &tmp, VIPS_FORMAT_USHORT, NULL) ||
        vips_copy(tmp, &tmp2, "interpretation", VIPS_INTERPRETATION_GREY16, NULL) ||
        vips_pngsave_buffer(tmp2, &buf, &len, "bitdepth", 16, NULL))
        die("png-grey16-alpha");
    save("png-grey16-alpha", buf, len);
    return 0;
}
