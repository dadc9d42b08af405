/* whistle/async.h: libwhistle's asynchronous core, on a libuv loop.
 *
 * One whistle_conn is one TLS connection to whistled: resolve, TCP connect
 * (each resolved address in turn), TLS handshake with a client certificate
 * (memory BIOs driven by the loop's reads and writes), then Hello. Requests
 * get ids from a per-connection counter and are matched to their responses
 * by id, so any number may be in flight and answers may come out of order.
 * Pushes go to the push callback as they arrive.
 *
 * Threading: a connection belongs to its loop; call every function from the
 * loop's thread. Callbacks run from the loop (never from inside a call you
 * made), so they may call any function of this header, including
 * whistle_conn_close.
 *
 * Lifetime: whistle_conn_open returns a handle at once. on_connect runs
 * exactly once: status 0 when Hello succeeded, negative when the connection
 * never got that far. on_close runs exactly once, last, after every pending
 * request's callback has run (with WHISTLE_ERR_CLOSED); the handle is freed
 * when on_close returns. Until then the handle stays valid even after
 * whistle_conn_close.
 *
 * Signals: libuv writes to sockets with write(2), so a server that went
 * away raises SIGPIPE; programs using libwhistle should ignore SIGPIPE
 * (the library does not change a process's signal handling). */
#ifndef WHISTLE_ASYNC_H
#define WHISTLE_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "whistle/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libwhistle's own errors (the frame errors of frame.h are -1..-3). */
enum {
    WHISTLE_ERR_INVALID = -10, /* bad arguments or options */
    WHISTLE_ERR_NOMEM = -11,
    WHISTLE_ERR_RESOLVE = -12, /* the host name did not resolve */
    WHISTLE_ERR_CONNECT = -13, /* TCP connect failed on every address */
    WHISTLE_ERR_TLS = -14,     /* TLS setup, handshake or record error */
    WHISTLE_ERR_HELLO = -15,   /* the server refused Hello (see the message) */
    WHISTLE_ERR_TIMEOUT = -16,
    WHISTLE_ERR_CLOSED = -17,   /* the connection is closed or closing */
    WHISTLE_ERR_PROTOCOL = -18, /* the server broke framing or sent garbage */
    WHISTLE_ERR_IO = -19,       /* a socket read or write failed */
    WHISTLE_ERR_STATE = -20,    /* not allowed now (e.g. a call before Hello) */
    WHISTLE_ERR_REFUSED = -21,  /* the server refused a session's subscription (session.h) */
};

/* A short English name for a WHISTLE_ERR_* or WHISTLE_FRAME_ERR_* value. */
const char *whistle_strerror(int err);

/* Connection options, shared with the blocking API (client.h). Strings are
 * copied by whistle_conn_open. */
typedef struct whistle_opts {
    const char *host;        /* name or IP address; NULL: "localhost" */
    uint16_t port;           /* 0: 7730 */
    const char *ca_file;     /* PEM CA(s) the server must chain to; NULL: system store */
    const char *cert_file;   /* PEM client certificate (chain); NULL: none */
    const char *key_file;    /* PEM private key of cert_file */
    const char *client_name; /* sent in Hello; NULL: "libwhistle" */
    uint32_t timeout_ms;     /* connect + TLS + Hello, and each blocking call; 0: 10000 */
} whistle_opts;

typedef struct whistle_conn whistle_conn;

/* status 0: ready for calls. Negative: why not (whistle_conn_error says it
 * in one line); on_close follows. */
typedef void (*whistle_connect_cb)(whistle_conn *c, int status, void *ud);
/* status 0 and resp (yours: free it with whistle_response_free) when the
 * response came, whatever its Status says; negative and NULL when the
 * connection closed first. */
typedef void (*whistle_response_cb)(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud);
/* A push (yours: free it with whistle_push_free). Acknowledge it with
 * whistle_conn_push_ack once it has been handled. */
typedef void (*whistle_push_cb)(whistle_conn *c, Whistle__V1__Push *push, void *ud);
/* The end: status 0 after whistle_conn_close, negative after an error. */
typedef void (*whistle_close_cb)(whistle_conn *c, int status, void *ud);

typedef struct whistle_conn_cbs {
    whistle_connect_cb on_connect;
    whistle_push_cb on_push; /* NULL: pushes are dropped */
    whistle_close_cb on_close;
} whistle_conn_cbs;

/* Starts connecting. Returns 0 with *out set (the callbacks will run), or a
 * negative error with err filled and nothing started (no callback runs). */
int whistle_conn_open(uv_loop_t *loop, const whistle_opts *o, const whistle_conn_cbs *cbs, void *ud, whistle_conn **out,
                      char *err, size_t errlen);

/* Sends a request: sets req->id, packs it (req may be freed on return) and
 * calls cb with the response. Only once on_connect reported 0. Returns 0,
 * or negative with nothing sent (cb will not run). */
int whistle_conn_send(whistle_conn *c, Whistle__V1__Request *req, whistle_response_cb cb, void *ud);

/* Forgets a pending request: its callback will not run and its response,
 * if it still comes, is dropped. Returns 0, or -1 if no such request. */
int whistle_conn_cancel(whistle_conn *c, uint64_t id);

/* Sends PushAck{stream, seq}: the stream's cursor moves to seq. */
int whistle_conn_push_ack(whistle_conn *c, const char *stream, uint64_t seq);
/* The same for the principal a gateway subscribed as (PushAck.act_as,
 * docs/protocol.md section 12; NULL or "": the sender itself). */
int whistle_conn_push_ack_as(whistle_conn *c, const char *stream, uint64_t seq, const char *act_as);

/* Closes: sends TLS close_notify after what is already queued, then closes
 * the socket. Pending requests fail with WHISTLE_ERR_CLOSED; on_close runs
 * from the loop. Safe to call more than once. */
void whistle_conn_close(whistle_conn *c);

/* The Hello answer, once on_connect reported 0; NULL before. Owned by c. */
const Whistle__V1__HelloResult *whistle_conn_hello(const whistle_conn *c);
/* The last error, one line for people; "" if none. */
const char *whistle_conn_error(const whistle_conn *c);
/* Requests sent and not yet answered. */
size_t whistle_conn_in_flight(const whistle_conn *c);
/* Encrypted bytes handed to libuv and not yet written to the socket. */
size_t whistle_conn_write_queue(const whistle_conn *c);

void whistle_response_free(Whistle__V1__Response *resp);
void whistle_push_free(Whistle__V1__Push *p);

/* The response's status code (OK when the status is absent) and message
 * ("" when absent). */
int whistle_response_code(const Whistle__V1__Response *resp);
const char *whistle_response_message(const Whistle__V1__Response *resp);

#ifdef __cplusplus
}
#endif
#endif
