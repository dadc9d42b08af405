/* photo_exif.h: writing the EXIF a phone writes into a test photo
 * (libexif), shared by the photo fixtures of the integration tests
 * (photo_fixtures.c) and the image module's unit test (test_media.c). */
#ifndef WHISTLE_PHOTO_EXIF_H
#define WHISTLE_PHOTO_EXIF_H

#include <libexif/exif-data.h>

/* A new entry of comps components of fmt, zeroed, added to ifd; the
 * ExifData holds it. Out of memory aborts (a test's fixture). */
ExifEntry *pe_put(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat fmt, unsigned comps);
/* An ASCII entry holding s. */
void pe_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, const char *s);
/* A GPS latitude or longitude of deg degrees, as degrees, minutes and
 * seconds (to 1/10,000 s). */
void pe_dms(ExifData *ed, ExifTag tag, double deg);

#endif
