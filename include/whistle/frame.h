/* whistle/frame.h: the wire's framing, shared by whistled and libwhistle.
 *
 * Every message is a 4-byte unsigned big-endian length N, then N bytes of a
 * packed whistle.v1.Frame. N = 0 and N > max_frame are framing errors: the
 * stream cannot be resynchronised and the connection must be closed. */
#ifndef WHISTLE_FRAME_H
#define WHISTLE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "whistle/v1/whistle.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WHISTLE_DEFAULT_PORT 7730
#define WHISTLE_DEFAULT_MAX_FRAME (1u << 20)
#define WHISTLE_PROTOCOL_VERSION 1

enum {
    WHISTLE_FRAME_OK = 0,
    WHISTLE_FRAME_ERR_EMPTY = -1,   /* a length of 0 */
    WHISTLE_FRAME_ERR_TOO_BIG = -2, /* a length above max_frame */
    WHISTLE_FRAME_ERR_NOMEM = -3,
};

/* Reassembles frames from a byte stream that arrives in arbitrary pieces. */
typedef struct whistle_framer {
    uint8_t *buf;
    size_t off, len, cap; /* unread bytes are buf[off, len) */
    uint32_t max_frame;
} whistle_framer;

void whistle_framer_init(whistle_framer *f, uint32_t max_frame);
void whistle_framer_free(whistle_framer *f);
/* Appends received bytes. Returns 0 or WHISTLE_FRAME_ERR_NOMEM. */
int whistle_framer_feed(whistle_framer *f, const void *data, size_t len);
/* Takes the next whole frame: returns 1 with *frame and *len pointing at its
 * payload (valid until the next feed or the next call), 0 if more bytes are
 * needed, or a negative WHISTLE_FRAME_ERR_*. Checks the length as soon as
 * the 4 header bytes are in, so an oversize frame is refused before its
 * body is buffered. */
int whistle_framer_next(whistle_framer *f, const uint8_t **frame, size_t *len);
/* Bytes buffered but not yet returned as frames. */
size_t whistle_framer_pending(const whistle_framer *f);

/* Packs a Frame with its 4-byte length prefix into a malloc'd buffer.
 * Returns 0, or WHISTLE_FRAME_ERR_TOO_BIG if it exceeds max_frame. */
int whistle_frame_pack(const Whistle__V1__Frame *frame, uint32_t max_frame, uint8_t **out, size_t *outlen);

/* Status code names as in the gRPC spec ("INVALID_ARGUMENT"...). */
const char *whistle_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif
