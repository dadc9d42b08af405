/* frame.c: length-prefixed framing (whistle/frame.h). */
#include "whistle/frame.h"

#include <stdlib.h>
#include <string.h>

void whistle_framer_init(whistle_framer *f, uint32_t max_frame)
{
    memset(f, 0, sizeof *f);
    f->max_frame = max_frame ? max_frame : WHISTLE_DEFAULT_MAX_FRAME;
}

void whistle_framer_free(whistle_framer *f)
{
    free(f->buf);
    memset(f, 0, sizeof *f);
}

int whistle_framer_feed(whistle_framer *f, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    /* Drop what was consumed before growing: the buffer then only ever
     * holds one partial frame plus whatever arrived behind it. */
    if (f->off > 0) {
        memmove(f->buf, f->buf + f->off, f->len - f->off);
        f->len -= f->off;
        f->off = 0;
    }
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->len + len)
            cap *= 2;
        uint8_t *nb = realloc(f->buf, cap);
        if (!nb)
            return WHISTLE_FRAME_ERR_NOMEM;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, len);
    f->len += len;
    return 0;
}

int whistle_framer_next(whistle_framer *f, const uint8_t **frame, size_t *len)
{
    size_t avail = f->len - f->off;
    if (avail < 4)
        return 0;
    const uint8_t *p = f->buf + f->off;
    uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (n == 0)
        return WHISTLE_FRAME_ERR_EMPTY;
    if (n > f->max_frame)
        return WHISTLE_FRAME_ERR_TOO_BIG;
    if (avail - 4 < n)
        return 0;
    *frame = p + 4;
    *len = n;
    f->off += 4 + (size_t)n;
    return 1;
}

size_t whistle_framer_pending(const whistle_framer *f) { return f->len - f->off; }

int whistle_frame_pack(const Whistle__V1__Frame *frame, uint32_t max_frame, uint8_t **out, size_t *outlen)
{
    size_t n = whistle__v1__frame__get_packed_size(frame);
    if (max_frame == 0)
        max_frame = WHISTLE_DEFAULT_MAX_FRAME;
    if (n == 0 || n > max_frame)
        return WHISTLE_FRAME_ERR_TOO_BIG;
    uint8_t *b = malloc(4 + n);
    if (!b)
        return WHISTLE_FRAME_ERR_NOMEM;
    b[0] = (uint8_t)(n >> 24);
    b[1] = (uint8_t)(n >> 16);
    b[2] = (uint8_t)(n >> 8);
    b[3] = (uint8_t)n;
    whistle__v1__frame__pack(frame, b + 4);
    *out = b;
    *outlen = 4 + n;
    return 0;
}

const char *whistle_code_name(int code)
{
    static const char *names[] = {
        "OK",        "CANCELLED",       "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED",   "OUT_OF_RANGE",    "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED",
    };
    if (code < 0 || code >= (int)(sizeof names / sizeof names[0]))
        return "UNKNOWN";
    return names[code];
}
