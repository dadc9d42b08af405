/* photo_exif.c: see photo_exif.h. */
#include "photo_exif.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ExifEntry *pe_put(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat fmt, unsigned comps)
{
    ExifEntry *e = exif_entry_new();
    if (!e || !(e->data = calloc(1, exif_format_get_size(fmt) * comps))) {
        fprintf(stderr, "photo_exif: out of memory\n");
        abort();
    }
    e->tag = tag;
    e->format = fmt;
    e->components = comps;
    e->size = exif_format_get_size(fmt) * comps;
    exif_content_add_entry(ed->ifd[ifd], e);
    exif_entry_unref(e);
    return e;
}

void pe_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, const char *s)
{
    ExifEntry *e = pe_put(ed, ifd, tag, EXIF_FORMAT_ASCII, (unsigned)strlen(s) + 1);
    memcpy(e->data, s, strlen(s) + 1);
}

void pe_dms(ExifData *ed, ExifTag tag, double deg)
{
    ExifEntry *e = pe_put(ed, EXIF_IFD_GPS, tag, EXIF_FORMAT_RATIONAL, 3);
    ExifByteOrder o = exif_data_get_byte_order(ed);
    double d = floor(deg), m = floor((deg - d) * 60), s = ((deg - d) * 60 - m) * 60;
    ExifRational r[3] = { { (ExifLong)d, 1 }, { (ExifLong)m, 1 }, { (ExifLong)llround(s * 10000), 10000 } };
    for (int i = 0; i < 3; i++)
        exif_set_rational(e->data + 8 * i, o, r[i]);
}
