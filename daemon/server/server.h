/* server.h: whistled's loop side, put together.
 *
 * server/ is the top layer under main.c: the listener, the signals (stop
 * and drain, SIGHUP's reload of the certificates), the once-a-second tick,
 * the periodic sync, the deadline engine and the test clock; it owns the
 * hub of the connections (net/conn.h), starts the writer (exec/) and sets
 * the hooks through which the layers below call up (the router as the
 * frame handler, the reload and the counters of ServerStats). It may call
 * every layer below; none calls it. config.c reads the INI file. */
#ifndef WHISTLED_SERVER_H
#define WHISTLED_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "conn.h"
#include "ops.h"
#include "photos.h"

typedef struct server {
    hub h; /* first: the hooks get the hub and find the server in owner */
    config *cfg;
    uv_tcp_t listener;
    bool listening;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t tick;
    uv_timer_t sync_timer;
    uv_check_t submit_check;       /* hands the iteration's intents to the writer */
    uv_timer_t drain_timer;        /* bounds how long a stop waits for slow readers */
    uint32_t since_flush_s;        /* ticks since the audit queue was last offered to the writer */
    bool flush_pending;            /* an INTENT_FLUSH is with the writer */
    struct deadline_engine *dl;    /* deadline_engine.c: the one deadline timer */
    struct test_clock *test_clock; /* --test-clock FILE, else NULL */
    int exit_code;
    uint64_t started_mono_ms;  /* for uptime */
    uint64_t periodic_syncs;   /* store.sync = none: mdb_env_sync calls */
    ops_state ops;             /* backups, the log level (ops.c) */
    photo_state photos;        /* photo uploads (photos.c) */
    uint64_t photo_ticks;      /* seconds, for the hourly expiry of partial uploads */
    uint64_t deadlines_missed; /* passed deadlines the engine handled */
    /* Called at the start of a drain, for what main.c added on the loop
     * (the metrics endpoint): it must let the loop end. */
    void (*on_drain)(void *ctx);
    void *on_drain_ctx;
    uv_work_t sync_work; /* the periodic sync, on libuv's thread pool */
    /* SIGHUP: the files are read and parsed on the thread pool */
    uv_work_t hup_work;
    bool hup_running, hup_again;
    struct ssl_ctx_st *hup_ctx; /* what the work made (NULL: hup_err says why) */
    char hup_err[512];
    bool sync_running;
    int sync_rc;
} server;

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

/* Reloads the certificates and the CRL (SIGHUP, and the reload_crl call):
 * new connections get the new context, and every open connection's
 * certificate is checked against it; those no longer valid (revoked,
 * expired) are closed. On failure the old context stays and err says why.
 * rep (may be NULL) gets the connections checked and those closed (in a). */
int server_reload_tls(server *s, arena *a, reload_report *rep, char *err, size_t errlen);

#endif
