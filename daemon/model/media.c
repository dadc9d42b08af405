/* media.c: photos on the way in (media.h). Not built yet: every image is
 * refused until the libvips/libexif body lands. */
#include "media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int media_init(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return 0;
}

void media_shutdown(void) {}

media_kind media_sniff(const uint8_t *in, size_t len)
{
    static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (in && len >= 3 && in[0] == 0xff && in[1] == 0xd8 && in[2] == 0xff)
        return MEDIA_JPEG;
    if (in && len >= sizeof png && memcmp(in, png, sizeof png) == 0)
        return MEDIA_PNG;
    return MEDIA_NONE;
}

int media_ingest(const uint8_t *in, size_t len, const media_policy *pol, media_result *out, char *why, size_t whylen)
{
    (void)in;
    (void)len;
    (void)pol;
    memset(out, 0, sizeof *out);
    snprintf(why, whylen, "photos are not accepted yet");
    return 1;
}

void media_result_free(media_result *r)
{
    if (!r)
        return;
    free(r->data);
    free(r->thumb);
    memset(r, 0, sizeof *r);
}
