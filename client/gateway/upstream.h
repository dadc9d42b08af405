/* upstream.h: the gateway's connection to whistled, a libwhistle session
 * (it reconnects by itself), and calls on it with a time limit.
 *
 * A call's callback runs exactly once, from the loop: code is the answer's
 * status code (Status.Code, OK = 0) with resp and msg, or UP_UNAVAILABLE
 * (no connection, or it went away before the answer) or UP_TIMEOUT (no
 * answer within whistled.call_timeout), with resp NULL. resp is the
 * callback's: it frees it with whistle_response_free. */
#ifndef GATEWAY_UPSTREAM_H
#define GATEWAY_UPSTREAM_H

#include <stdbool.h>

#include <uv.h>

#include "config.h"
#include "whistle/session.h"

enum { UP_UNAVAILABLE = -1, UP_TIMEOUT = -2 };

typedef struct upstream upstream;
typedef void (*up_cb)(void *ud, int code, const char *msg, Whistle__V1__Response *resp);
/* The connection is up (Hello answered): load what the gateway keeps. */
typedef void (*up_ready_cb)(void *ud, upstream *u);

int up_open(uv_loop_t *loop, const gw_config *cfg, up_ready_cb on_ready, void *ud, upstream **out, char *err,
            size_t errlen);
/* Closes the session; calls still pending answer UP_UNAVAILABLE. */
void up_close(upstream *u);
bool up_live(const upstream *u);
/* Sends req (act_as: the principal the call is made for, or NULL). cb
 * runs later, always (an error at once is reported from the loop). */
void up_call(upstream *u, Whistle__V1__Request *req, const char *act_as, up_cb cb, void *ud);
/* Acknowledges stream up to seq for act_as (PushAck.act_as) on the
 * current connection. Returns 0, or -1 when whistled is not connected. */
int up_push_ack(upstream *u, const char *stream, uint64_t seq, const char *act_as);
/* What whistled said at Hello of photo uploads (PhotoLimits): the largest
 * PhotoPut chunk it takes and the largest photo; 0 when it said nothing. */
uint32_t up_photo_chunk(const upstream *u);
uint64_t up_photo_max(const upstream *u);
/* The one-line name of a whistled answer's code for logs. */
const char *up_code_name(int code);

#endif
