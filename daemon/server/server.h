/* server.h: the loop thread's world: listener, connections, TLS,
 * subscriptions and the hand-off to the writer. */
#ifndef WHISTLED_SERVER_H
#define WHISTLED_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "arena.h"
#include "config.h"
#include "store.h"
#include "tls.h"
#include "writer.h"
#include "whistle/frame.h"

typedef struct server server;
typedef struct conn conn;
typedef struct sub sub;

/* One subscription of a connection to a durable stream. Pushes are pulled
 * from the store (what was committed) from sent_seq on, so a subscriber
 * never receives anything that is not durable, and a slow one costs reads
 * later rather than memory now. */
struct sub {
    conn *c;
    char *stream;
    uint64_t sent_seq;
    sub *next_in_conn;
    sub *next_in_bucket;
    sub **pprev_in_bucket;
};

struct conn {
    uv_tcp_t tcp;
    server *srv;
    uint64_t id;
    int refs;           /* the conn itself + intents in the writer */
    bool closing;
    bool close_after_flush; /* a framing or auth error: answer, then close */
    bool peer_closed;       /* close_notify received: finish, then close */
    bool reading;
    bool hello_done;
    char peer[64];      /* address:port, for logs */
    char cn[256];       /* the certificate's CN once the handshake is done */
    tls_session tls;
    whistle_framer framer;
    uint32_t in_flight;     /* requests read and not yet answered */
    size_t out_pending;     /* bytes handed to uv_write and not yet written */
    /* on the loop's monotonic clock (uv_now), not the domain's */
    uint64_t last_active_ms;
    uint64_t last_io_ms;    /* bytes read or written; idle ones give buffers back */
    int64_t accepted_ms;       /* for handshake_timeout */
    int64_t partial_since_ms;  /* a frame or TLS record begun then; 0: none */
    sub *subs;
    struct upload *upload;  /* an import arriving in chunks (router.c) */
    conn *next, *prev;
};

#define SUB_BUCKETS 4096

struct server {
    uv_loop_t *loop;
    config *cfg;
    store *st;
    SSL_CTX *ssl_ctx;
    writer *w;
    uv_tcp_t listener;
    bool listening;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t tick;
    uv_timer_t sync_timer;
    /* Intents of this loop iteration, handed to the writer together once
     * the iteration's reads are done: one wake-up of the writer for many
     * requests and push acks (conn_submit, on_check). */
    uv_check_t submit_check;
    intent *submit_head, **submit_tail;
    uv_timer_t drain_timer; /* bounds how long a stop waits for slow readers */
    conn *conns;
    uint32_t nconns;
    uint64_t next_conn_id;
    sub *buckets[SUB_BUCKETS];
    bool draining;
    /* Refusals at max_connections are logged at most once a second; the
     * ones in between are counted into the next line. */
    int64_t refused_logged_ms;
    uint64_t refused_quiet;
    bool flush_pending;     /* an INTENT_FLUSH is with the writer */
    clock_fn clock;
    void *clock_ctx;
    struct deadline_engine *dl;    /* deadline_engine.c: the one deadline timer */
    struct test_clock *test_clock; /* --test-clock FILE, else NULL */
    int exit_code;
    uint64_t started_mono_ms; /* for uptime */
    uint64_t periodic_syncs;  /* store.sync = none: mdb_env_sync calls */
};

/* Opens the listener, starts the writer and the signal handlers. The store
 * must be open. Returns 0 or -1 with err for people. */
int server_start(server *s, uv_loop_t *loop, config *cfg, store *st, char *err, size_t errlen);
/* Starts a graceful stop: no new connections or requests, the writer
 * finishes its batch, every answer is sent, then the loop ends. */
void server_drain(server *s);
/* Frees what server_start made; after uv_run returned. */
void server_free(server *s);
/* The bound port (useful with port = 0). */
int server_port(server *s);
int64_t server_now_ms(server *s);

/* Used by the router. */
void conn_send(conn *c, const uint8_t *bytes, size_t len);   /* length-prefixed frame */
void conn_send_response(conn *c, const Whistle__V1__Response *resp);
void conn_close(conn *c, const char *why);
void conn_submit(conn *c, intent *it);
int conn_subscribe(conn *c, const char *stream, uint64_t after_seq);
void server_streams_touched(server *s, const stream_touched *t);
/* Answers ServerStats (the router has checked that the caller is an admin). */
void server_stats_reply(conn *c, uint64_t id);

/* Reloads the certificates and the CRL (SIGHUP, and the reload_crl call):
 * new connections get the new context, and every open connection's
 * certificate is checked against it; those no longer valid (revoked,
 * expired) are closed. On failure the old context stays and err says why.
 * rep (may be NULL) gets the connections checked and those closed (in a). */
typedef struct reload_report {
    uint32_t checked;
    char **closed;
    size_t n_closed;
} reload_report;
int server_reload_tls(server *s, arena *a, reload_report *rep, char *err, size_t errlen);

/* router.c: handles one whole frame from a connection. */
void router_frame(conn *c, const uint8_t *data, size_t len);
/* Finishes a request that waited for a writer barrier (Subscribe). */
void router_after_barrier(conn *c, const uint8_t *data, size_t len);
/* Frees what the router keeps on a connection (a partial import). */
void router_conn_free(conn *c);
/* Validates every string field of a message (recursively) as UTF-8; on
 * failure returns the field's name. */
const char *router_check_utf8(const ProtobufCMessage *m);

#endif
