/* reply.h: a Response as a length-prefixed Frame that never exceeds the
 * frame limit, for the loop (reads) and the writer (writes) alike. */
#ifndef WHISTLED_REPLY_H
#define WHISTLED_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "whistle/v1/whistle.pb-c.h"

/* Packs resp into a malloc'd *out. A refusal whose message is too long (an
 * import's list of bad lines) keeps the whole lines that fit and says it
 * was cut; anything else too large becomes RESOURCE_EXHAUSTED, so the
 * client learns why instead of the connection dying on an oversize frame.
 * Returns the status code of what was packed. */
int reply_pack(const Whistle__V1__Response *resp, uint32_t max_frame, uint8_t **out, size_t *len);

#endif
