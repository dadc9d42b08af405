/* libFuzzer target: a photo on its way in (model/media.c).
 *
 * The input is the uploaded file as a client sends it. Whatever it is,
 * media_ingest must answer 0 with a clean image and a thumbnail, or 1 with
 * a sentence, and never crash, leak, hang or read out of bounds. The
 * policy's limits are small so that each run is quick: the header check
 * refuses anything larger than 256x256 pixels before decoding, which is
 * itself part of what is fuzzed. The last byte's low bit decides whether
 * the location is kept, so both paths through the EXIF reader run.
 *
 * The seeds (tests/fuzz/corpus/media) are small JPEG and PNG photos with
 * EXIF (taken-at, GPS, orientation), XMP and an ICC profile. libvips,
 * libjpeg, libpng and libexif are Debian's builds, not instrumented: the
 * coverage that guides the search is this project's code; the libraries
 * are exercised by the mutations all the same, under ASan's interceptors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (media_init(err, sizeof err)) {
        fprintf(stderr, "fuzz_media: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    media_policy pol = { .max_bytes = 64u << 10, .max_pixels = 256u * 256u, .thumb_px = 32 };
    pol.keep_location = size > 0 && (data[size - 1] & 1);
    media_result r;
    char why[160];
    int rc = media_ingest(data, size, &pol, &r, why, sizeof why);
    if (rc == 0) {
        /* what is kept must itself be a clean image of the sniffed kind */
        if (media_sniff(r.data, r.len) != r.kind || media_sniff(r.thumb, r.thumb_len) != MEDIA_JPEG || r.width == 0 ||
            r.height == 0 || (uint64_t)r.width * r.height > pol.max_pixels)
            abort();
        if (r.has_location && (!pol.keep_location || r.lat < -90 || r.lat > 90 || r.lon < -180 || r.lon > 180))
            abort();
        media_result_free(&r);
    } else if (rc == 1) {
        if (r.data || r.thumb || strlen(why) == 0)
            abort();
    }
    return 0;
}
