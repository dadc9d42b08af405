/* whistle/client.h: libwhistle's blocking API, for simple programs.
 *
 * Each whistle_client runs a private libuv loop over one whistle_conn
 * (async.h) and turns its callbacks into calls that wait. Pushes that
 * arrive while a call waits are queued for whistle_next_push. Not thread
 * safe: use one client from one thread at a time.
 *
 * The library never retries a call by itself (a timed-out call may still
 * have been applied): set an idempotency_key on writes
 * (whistle_idempotency_key) and retry with the same key, on the same or a
 * new connection, to make a retry safe. */
#ifndef WHISTLE_CLIENT_H
#define WHISTLE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "whistle/async.h"
#include "whistle/frame.h"
#include "whistle/names.h"
#include "whistle/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct whistle_client whistle_client;

/* TCP + TLS + Hello. Returns 0 with *out, or negative with err holding one
 * line for people ("tls: certificate verify failed: ..."; "hello:
 * UNAUTHENTICATED: ..." when the server refuses the principal). */
int whistle_connect(const whistle_opts *o, whistle_client **out, char *err, size_t errlen);

/* The Hello answer: principal, role, scope, server version, limits. */
const Whistle__V1__HelloResult *whistle_hello(const whistle_client *c);

/* Sets req->id, sends, waits for the response with that id (pushes that
 * arrive meanwhile are queued). Returns 0 and *resp (free it with
 * whistle_response_free; check its status with whistle_response_code), or
 * negative on transport error or timeout (whistle_last_error says what). */
int whistle_call(whistle_client *c, Whistle__V1__Request *req, Whistle__V1__Response **resp);

/* The next push: 1 and *push (free it with whistle_push_free), 0 on
 * timeout, negative once the connection is closed or failed. timeout_ms < 0
 * waits without limit; 0 only takes what has already arrived. */
int whistle_next_push(whistle_client *c, int timeout_ms, Whistle__V1__Push **push);

/* Sends PushAck{stream, seq}. 0 or negative. */
int whistle_push_ack(whistle_client *c, const char *stream, uint64_t seq);
/* The same for the principal a gateway subscribed as (PushAck.act_as;
 * NULL or "": the caller itself). */
int whistle_push_ack_as(whistle_client *c, const char *stream, uint64_t seq, const char *act_as);

/* The last error, one line for people; "" if none. */
const char *whistle_last_error(const whistle_client *c);

/* Closes the connection (after what is queued is written) and frees c.
 * If PushAcks were sent after the last answered call, first waits (up to
 * 2 s) for one Ping round trip, so that the server has surely read them. */
void whistle_close(whistle_client *c);

/* Fills key (at least 33 bytes) with 32 hex digits: a fresh idempotency
 * key, the time in ms (12 digits, so that one client's keys sort in the
 * order they were made, which keeps the server's records of them
 * together) and 80 random bits. Returns 0, or negative if no randomness
 * was available. */
int whistle_idempotency_key(char *key, size_t keylen);

/* Whether the request's call changes state (and so deserves an
 * idempotency key). */
int whistle_request_is_write(const Whistle__V1__Request *req);

#ifdef __cplusplus
}
#endif
#endif
