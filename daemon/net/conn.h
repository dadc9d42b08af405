/* conn.h: the connections of the loop thread.
 *
 * net/ is the layer of the wire: a connection's bytes through TLS (tls.c,
 * memory BIOs: OpenSSL never touches a socket), the framer, the output
 * and its backpressure, the time limits, the subscriptions that pull
 * pushes from the store (conn.c), and the router that answers each whole
 * frame (router.c: Hello, Ping, Subscribe, PushAck, import chunks itself;
 * every other call through app/ and the writer). It calls base/ to exec/
 * and nothing above: what it needs of the server (the frame handler, the
 * reload of the certificates, the server's counters, the end of a drain)
 * it gets as hooks in the hub, set by server/.
 *
 * The hub is what every connection shares: the loop, the limits, the
 * store and the writer, the list of connections, the subscriptions by
 * stream, and the intents of this loop iteration. The server embeds one. */
#ifndef WHISTLED_CONN_H
#define WHISTLED_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "arena.h"
#include "store.h"
#include "stream.h"
#include "tls.h"
#include "whistle/frame.h"
#include "writer.h"

typedef struct hub hub;
typedef struct conn conn;
typedef struct sub sub;

/* One subscription of a connection to a durable stream. Pushes are pulled
 * from the store (what was committed) from sent_seq on, so a subscriber
 * never receives anything that is not durable, and a slow one costs reads
 * later rather than memory now. */
struct sub {
    conn *c;
    char *stream;
    char *act_as; /* a gateway's subscription for this principal (Request.act_as), or NULL */
    uint64_t sent_seq;
    sub *next_in_conn;
    sub *next_in_bucket;
    sub **pprev_in_bucket;
};

struct conn {
    uv_tcp_t tcp;
    hub *hub;
    uint64_t id;
    int refs; /* the conn itself + intents in the writer */
    bool closing;
    bool close_after_flush; /* a framing or auth error: answer, then close */
    bool peer_closed;       /* close_notify received: finish, then close */
    bool reading;
    bool hello_done;
    char peer[64]; /* address:port, for logs */
    char cn[256];  /* the certificate's CN once the handshake is done */
    tls_session tls;
    whistle_framer framer;
    uint32_t in_flight; /* requests and push acks read and not yet done */
    /* this loop turn's push acks not yet handed to the writer, one per
     * stream: a later ack of the same stream moves its seq instead of
     * queueing another (conn_submit) */
    intent *acks_pending;
    size_t out_pending; /* bytes handed to uv_write and not yet written */
    /* on the loop's monotonic clock (uv_now), not the domain's */
    uint64_t last_active_ms;
    uint64_t last_io_ms;      /* bytes read or written; idle ones give buffers back */
    int64_t accepted_ms;      /* for handshake_timeout */
    int64_t partial_since_ms; /* a frame or TLS record begun then; 0: none */
    sub *subs;
    struct upload *upload; /* an import arriving in chunks (router.c) */
    int cur_call;          /* Request.call being answered now (router.c), for hub_count; 0: none */
    conn *next, *prev;
};

/* The limits of [server] in the config (conf/whistled.conf), in force for
 * every connection. */
typedef struct conn_limits {
    uint32_t max_frame;
    uint32_t max_in_flight;
    size_t max_output;
    size_t max_queued; /* bytes of requests with the writer, every connection together (0: no cap) */
    uint32_t max_connections;
    uint32_t idle_timeout;      /* seconds, 0 = never */
    uint32_t handshake_timeout; /* seconds to finish the TLS handshake */
    uint32_t frame_timeout;     /* seconds to finish a frame once begun */
} conn_limits;

/* What a reload of the certificates found (hub_verify_peers): the
 * connections checked, and one line for each one closed (in the arena). */
typedef struct reload_report {
    uint32_t checked;
    char **closed;
    size_t n_closed;
} reload_report;

#define SUB_BUCKETS 4096
#define HUB_CALLS 400 /* above every Request.call field number */
#define HUB_CODES 17  /* Status.Code values */
/* Streams one connection may follow at once: a desk follows one or two; a
 * bound keeps a connection from costing the loop without end (each
 * subscribe walks the connection's list). */
#define SUBS_PER_CONN_MAX 64

struct hub {
    uv_loop_t *loop;
    conn_limits lim;
    store *st;
    writer *w;
    SSL_CTX *ssl_ctx; /* new connections' context (a reload replaces it) */
    clock_fn clock;   /* the domain's clock (real or test) */
    void *clock_ctx;
    bool draining; /* set by the server: no new connection or request */
    conn *conns;
    uint32_t nconns;
    uint64_t next_conn_id;
    sub *buckets[SUB_BUCKETS];
    /* Intents of this loop iteration, handed to the writer together once
     * the iteration's reads are done: one wake-up of the writer for many
     * requests and push acks (conn_submit, hub_submit_flush). */
    intent *submit_head, **submit_tail;
    /* Bytes of the requests read and not yet done (conn_submit to
     * hub_intent_done); at lim.max_queued every connection stops reading,
     * until it falls below half (queued_full). */
    size_t queued;
    bool queued_full;
    /* Refusals at max_connections are logged at most once a second; the
     * ones in between are counted into the next line. */
    int64_t refused_logged_ms;
    uint64_t refused_quiet;
    /* Counters for the metrics (server/metrics.c), kept on the loop
     * thread: answers by call (Request.call) and status code, pushes sent,
     * connections refused. */
    uint64_t answers[HUB_CALLS][HUB_CODES];
    uint64_t pushes_sent;
    uint64_t refused_total;

    /* Hooks, set before the first connection. frame answers one whole
     * frame (router_frame); after_barrier finishes a request that waited
     * for a writer barrier (router_after_barrier); conn_free frees what
     * the router keeps on a connection (router_conn_free; may be NULL). */
    void (*frame)(conn *c, const uint8_t *data, size_t len);
    void (*after_barrier)(conn *c, const uint8_t *data, size_t len);
    void (*conn_free)(conn *c);
    /* The server's: the reload_crl call (the certificates and CRL are
     * read off the loop, then installed and the call answered on it), the
     * server_stats call, and the last connection of a drain closed. */
    void (*reload_tls)(conn *c, uint64_t id);
    void (*stats_reply)(conn *c, uint64_t id);
    /* The operations calls the server answers (backup, backup_read,
     * set_log_level: server/ops.c), once the router has checked the role;
     * NULL: answered UNIMPLEMENTED. */
    void (*ops_call)(conn *c, const Whistle__V1__Request *req);
    /* The photo uploads (photo_put, photo_upload: server/photos.c), once
     * the router has checked the role; who is the principal the call is
     * for (act_as resolved), via the gateway that made it or NULL. NULL
     * hook: answered UNIMPLEMENTED. */
    void (*photo_call)(conn *c, const Whistle__V1__Request *req, const Whistle__V1__Principal *who, const char *via);
    void (*last_closed)(hub *h);
    void *owner; /* the server, for its hooks */
};

/* The domain's time now (Unix ms), for the calls and the audit log. */
int64_t hub_now_ms(hub *h);

/* The listener's callback: accepts one connection (or refuses it past
 * max_connections or while draining, with a rate-limited log line). */
void conn_accept(hub *h, uv_stream_t *listener, int status);

/* A length-prefixed frame, or a response packed to fit max_frame. */
void conn_send(conn *c, const uint8_t *bytes, size_t len);
void conn_send_response(conn *c, const Whistle__V1__Response *resp);
/* Closes the connection (why: logged, NULL for none); it is freed when
 * its last intent comes back from the writer. */
void conn_close(conn *c, const char *why);
/* Keeps c allocated (not open) while work of the loop's thread pool holds
 * it: release it when the work is done; check c->closing before answering. */
void conn_hold(conn *c);
void conn_release(conn *c);
/* One answer to call_case with status code, counted (calls or codes out of
 * range are not). */
void hub_count(hub *h, int call_case, int code);
/* Queues an intent of c for the writer (sent at the end of the loop
 * iteration by hub_submit_flush). */
void conn_submit(conn *c, intent *it);
/* Subscribes c to stream from after_seq (a repeat moves the position) and
 * pumps what is stored; 0 or -1 when out of memory. */
int conn_subscribe(conn *c, const char *stream, uint64_t after_seq, const char *act_as);

/* Whether c may subscribe to stream: it already does, or follows fewer
 * than SUBS_PER_CONN_MAX streams. */
bool conn_may_subscribe(conn *c, const char *stream);

/* Hands the iteration's intents to the writer, all at once. */
void hub_submit_flush(hub *h);
/* A connection's intent came back from the writer: its answer goes out,
 * then the pushes of the streams it touched; reading resumes under the
 * limits. The caller frees the intent. */
void hub_intent_done(hub *h, intent *it);
/* Pumps the subscribers of every stream in t. */
void hub_streams_touched(hub *h, const stream_touched *t);

/* Once a second: the time limits of every connection, and the buffers of
 * the quiet ones given back. */
void hub_tick(hub *h);
/* A stop: no connection reads any more. */
void hub_stop_reading(hub *h);
/* A stop, once the writer is done: when no connection waits for an answer
 * any more, every connection closes once its output is written. */
void hub_finish_drain(hub *h);
/* Closes every connection now (a drain that took too long). */
void hub_close_all(hub *h);
/* After a reload: every open connection's certificate checked against
 * ctx; those no longer valid (revoked, expired) are closed and reported. */
void hub_verify_peers(hub *h, SSL_CTX *ctx, arena *a, reload_report *rep);

#endif
