/* server.c: see server.h. Everything here runs on the loop thread. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "audit.h"
#include "deadline_engine.h"
#include "log.h"
#include "router.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static int64_t real_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(server *s) { return (int64_t)uv_now(s->h.loop); }

static server *server_of(hub *h) { return h->owner; }

/* ------------------------------------------------------------ accept, writer */

static void on_connection(uv_stream_t *listener, int status)
{
    server *s = listener->data;
    conn_accept(&s->h, listener, status);
}

/* After the loop iteration's reads: everything they submitted goes to the
 * writer at once. A writer woken for each push ack of a thousand desks
 * takes the cores the loop needs to send the pushes. */
static void on_check(uv_check_t *c)
{
    server *s = c->data;
    hub_submit_flush(&s->h);
}

static void maybe_finish_drain(server *s);

static void on_writer_done(void *ud, intent *done)
{
    server *s = ud;
    while (done) {
        intent *it = done;
        done = it->next;
        if (it->kind == INTENT_TICK) {
            /* the deadline engine's own: no connection */
            hub_streams_touched(&s->h, &it->touched);
            s->deadlines_missed += it->tick_fired;
            deadline_engine_tick_done(s->dl, it);
        } else if (!it->owner) {
            /* the server's own (INTENT_FLUSH) */
            s->flush_pending = false;
        } else {
            hub_intent_done(&s->h, it);
        }
        intent_free(it);
    }
    /* a write may have added an earlier deadline */
    deadline_engine_rearm(s->dl);
    maybe_finish_drain(s);
}

static void on_ops_call(conn *c, const Whistle__V1__Request *req) { ops_call(&server_of(c->hub)->ops, c, req); }
static void on_photo_call(conn *c, const Whistle__V1__Request *req, const Whistle__V1__Principal *who, const char *via)
{
    photos_call(&server_of(c->hub)->photos, c, req, who, via);
}

/* ------------------------------------------------------------ stats */

/* VmRSS and RssAnon from /proc/self/status, in bytes (0 when unreadable:
 * not Linux, or /proc not mounted). */
static void read_rss(uint64_t *rss, uint64_t *anon)
{
    *rss = *anon = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    unsigned long long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            *rss = kb * 1024;
        else if (sscanf(line, "RssAnon: %llu kB", &kb) == 1)
            *anon = kb * 1024;
    }
    fclose(f);
}

/* The server_stats call (the router has checked that the caller is an
 * admin): the writer's counters, the connections, the process. */
static void stats_reply(conn *c, uint64_t id)
{
    server *s = server_of(c->hub);
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &st;
    const writer_stats *ws = writer_get_stats(s->h.w);
    Whistle__V1__ServerStatsResult r = WHISTLE__V1__SERVER_STATS_RESULT__INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    r.server_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    r.uptime_ms = (uint64_t)(mono_ms(s) - s->started_mono_ms);
    r.commits = atomic_load(&ws->commits);
    r.failed_commits = atomic_load(&ws->failed_commits);
    r.reruns = atomic_load(&ws->reruns);
    r.batches = atomic_load(&ws->batches);
    r.intents = atomic_load(&ws->intents);
    r.writes = atomic_load(&ws->writes);
    r.commit_us = atomic_load(&ws->commit_ns) / 1000;
    r.max_batch = atomic_load(&ws->max_batch);
    /* Each commit flushes its data pages once; in full mode LMDB then
     * writes its meta page through an O_DSYNC descriptor, a second flush;
     * with none only the periodic mdb_env_sync flushes. */
    switch (s->cfg->sync) {
    case STORE_SYNC_FULL:
        r.fsyncs = 2 * r.commits;
        r.sync = "full";
        break;
    case STORE_SYNC_NOMETASYNC:
        r.fsyncs = r.commits;
        r.sync = "nometasync";
        break;
    default:
        r.fsyncs = s->periodic_syncs;
        r.sync = "none";
        break;
    }
    r.connections = s->h.nconns;
    uint32_t subs = 0;
    for (conn *x = s->h.conns; x; x = x->next)
        for (sub *b = x->subs; b; b = b->next_in_conn)
            subs++;
    r.subscriptions = subs;
    read_rss(&r.rss_bytes, &r.rss_anon_bytes);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        r.cpu_user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec;
        r.cpu_system_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
    }
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_SERVER_STATS;
    resp.server_stats = &r;
    conn_send_response(c, &resp);
}

/* ------------------------------------------------------------ signals */

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void maybe_finish_drain(server *s)
{
    if (!s->h.draining || !s->h.w)
        return;
    hub_finish_drain(&s->h);
}

/* The hub's last connection of a stop closed: nothing left to wait for. */
static void last_closed(hub *h)
{
    server *s = server_of(h);
    if (!uv_is_closing((uv_handle_t *)&s->drain_timer))
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
}

/* A stop waits for every connection to take its last answers; a client
 * that does not read must not hold the daemon up forever. */
static void on_drain_timeout(uv_timer_t *t)
{
    server *s = t->data;
    uint32_t n = s->h.nconns;
    log_warn("stopping: %u connection%s did not take their last answers within %u s (drain_timeout); closing them", n,
             n == 1 ? "" : "s", s->cfg->drain_timeout);
    hub_close_all(&s->h);
}

/* The writer's thread has ended and its last intents were delivered
 * (their ticks to the deadline engine too): the engine goes, and the
 * connections close once their answers are written. */
static void writer_stopped(void *ctx)
{
    server *s = ctx;
    deadline_engine_stop(s->dl);
    s->dl = NULL;
    maybe_finish_drain(s);
    if (uv_is_closing((uv_handle_t *)&s->drain_timer))
        return; /* the last connection closed already */
    if (!s->h.conns) {
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
        return;
    }
    /* Every answer exists now: the connections have drain_timeout to take
     * theirs (a slow last flush does not eat into it). */
    uv_timer_start(&s->drain_timer, on_drain_timeout, (uint64_t)s->cfg->drain_timeout * 1000, 0);
}

void server_drain(server *s)
{
    if (s->h.draining)
        return;
    s->h.draining = true;
    log_info("stopping: finishing the requests in flight");
    if (s->on_drain)
        s->on_drain(s->on_drain_ctx);
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, on_handle_closed);
        s->listening = false;
    }
    hub_stop_reading(&s->h);
    /* uploads not yet stored are answered "send again" (the writer stops) */
    photos_stop(&s->photos);
    /* The writer finishes what was queued on its own thread and hands it
     * back; the loop goes on meanwhile (writer_stopped then finishes the
     * drain). Nothing submits any more: the connections start no request
     * while draining, the deadline engine and the tick do not either. */
    hub_submit_flush(&s->h);
    writer_stop_async(s->h.w, writer_stopped, s);
    uv_close((uv_handle_t *)&s->sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&s->sig_int, on_handle_closed);
    uv_close((uv_handle_t *)&s->sig_hup, on_handle_closed);
    uv_close((uv_handle_t *)&s->tick, on_handle_closed);
    uv_close((uv_handle_t *)&s->sync_timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->submit_check, on_handle_closed);
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
    server *s = h->data;
    log_info("%s received", signum == SIGTERM ? "SIGTERM" : "SIGINT");
#ifdef HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
    server_drain(s);
}

/* New connections get the reloaded certificates and CRL. Open ones keep
 * the context they were made with (SSL holds a reference), but their
 * certificates are checked against the new one now: a certificate revoked
 * since its handshake ends its connection here, not at its expiry. */
static void install_tls(server *s, SSL_CTX *ctx, arena *a, reload_report *rep)
{
    SSL_CTX_free(s->h.ssl_ctx);
    s->h.ssl_ctx = ctx;
    hub_verify_peers(&s->h, ctx, a, rep);
}

int server_reload_tls(server *s, arena *a, reload_report *rep, char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_ctx_new(s->cfg->ca, s->cfg->cert, s->cfg->key, s->cfg->crl, err, errlen);
    if (!ctx)
        return -1;
    install_tls(s, ctx, a, rep);
    return 0;
}

/* The reload_crl call, through the hub: like SIGHUP, the files are read
 * and parsed on libuv's thread pool (a CRL can be large; the loop serves
 * everyone else meanwhile), then the new context is installed and the
 * open connections checked on the loop, and only then is the caller
 * answered, with what the check found. The connection is held until then
 * (a revoked caller may be among those closed: it gets no answer). */
typedef struct reload_job {
    uv_work_t work;
    server *s;
    conn *c;
    uint64_t id;
    SSL_CTX *ctx;
    char err[512];
} reload_job;

static void reload_status(conn *c, uint64_t id, int code, const char *msg)
{
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &st;
    conn_send_response(c, &resp);
}

static void reload_work(uv_work_t *w)
{
    reload_job *j = w->data;
    const config *cfg = j->s->cfg;
    j->ctx = tls_ctx_new(cfg->ca, cfg->cert, cfg->key, cfg->crl, j->err, sizeof j->err);
}

static void reload_done(uv_work_t *w, int status)
{
    reload_job *j = w->data;
    server *s = j->s;
    conn *c = j->c;
    if (status != 0 || !j->ctx || s->h.draining) {
        SSL_CTX_free(j->ctx);
        if (status != 0)
            snprintf(j->err, sizeof j->err, "%s", uv_strerror(status));
        else if (j->ctx)
            snprintf(j->err, sizeof j->err, "the server is stopping");
        log_error("reload_crl by %s: keeping the current certificates: %s", c->cn, j->err);
        if (!c->closing)
            reload_status(c, j->id, WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION, j->err);
    } else {
        arena *a = arena_new();
        reload_report rep = { 0 };
        install_tls(s, j->ctx, a, &rep);
        log_info("reload_crl by %s: certificates and CRL reloaded; %u connections checked, %zu closed", c->cn,
                 rep.checked, rep.n_closed);
        audit_read_queue(s->h.st, hub_now_ms(&s->h), c->cn, "reload_crl", "tls", "");
        if (!c->closing) {
            Whistle__V1__ReloadResult r = WHISTLE__V1__RELOAD_RESULT__INIT;
            r.connections_checked = rep.checked;
            r.closed = rep.closed;
            r.n_closed = rep.n_closed;
            Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
            Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
            resp.id = j->id;
            resp.status = &st;
            resp.result_case = WHISTLE__V1__RESPONSE__RESULT_RELOAD;
            resp.reload = &r;
            conn_send_response(c, &resp);
        }
        arena_free(a);
    }
    conn_release(c);
    free(j);
}

static void reload_tls(conn *c, uint64_t id)
{
    server *s = server_of(c->hub);
    reload_job *j = calloc(1, sizeof *j);
    if (!j) {
        reload_status(c, id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    j->s = s;
    j->c = c;
    j->id = id;
    j->work.data = j;
    int rc = uv_queue_work(s->h.loop, &j->work, reload_work, reload_done);
    if (rc != 0) {
        reload_status(c, id, WHISTLE__V1__STATUS__CODE__INTERNAL, uv_strerror(rc));
        free(j);
        return;
    }
    conn_hold(c);
}

/* SIGHUP: the certificates, key and CRL are read and parsed on libuv's
 * thread pool (files, and a CRL can be large), and swapped in on the loop;
 * a second SIGHUP during one is done after it. */
static void hup_work(uv_work_t *w)
{
    server *s = w->data;
    s->hup_err[0] = 0;
    s->hup_ctx = tls_ctx_new(s->cfg->ca, s->cfg->cert, s->cfg->key, s->cfg->crl, s->hup_err, sizeof s->hup_err);
}

static void start_hup(server *s);

static void hup_done(uv_work_t *w, int status)
{
    server *s = w->data;
    s->hup_running = false;
    SSL_CTX *ctx = s->hup_ctx;
    s->hup_ctx = NULL;
    if (status != 0 || s->h.draining) {
        SSL_CTX_free(ctx);
        return;
    }
    if (!ctx) {
        log_error("SIGHUP: keeping the current certificates: %s", s->hup_err);
    } else {
        install_tls(s, ctx, NULL, NULL);
        log_info("SIGHUP: certificates and CRL reloaded");
    }
    if (s->hup_again) {
        s->hup_again = false;
        start_hup(s);
    }
}

static void start_hup(server *s)
{
    s->hup_work.data = s;
    if (uv_queue_work(s->h.loop, &s->hup_work, hup_work, hup_done) == 0)
        s->hup_running = true;
    else
        log_error("SIGHUP: the reload could not be started");
}

static void on_hup(uv_signal_t *h, int signum)
{
    (void)signum;
    server *s = h->data;
    ops_reload_log(s->cfg);
    if (s->hup_running) {
        s->hup_again = true;
        return;
    }
    start_hup(s);
}

/* Denials and reads noticed outside a write wait in a queue until a write
 * transaction takes them; with no writes coming, this one does, so that
 * they are durable within [store] audit_flush seconds (default 1). */
static void flush_audit_queue(server *s)
{
    if (++s->since_flush_s < s->cfg->audit_flush_s)
        return;
    s->since_flush_s = 0;
    if (s->h.draining || s->flush_pending || !s->h.w || audit_queue_len(s->h.st->denials) == 0)
        return;
    intent *it = calloc(1, sizeof *it);
    if (!it)
        return;
    it->kind = INTENT_FLUSH;
    s->flush_pending = true;
    writer_submit(s->h.w, it);
}

/* Once a second: the audit queue, the time limits of every connection,
 * and the buffers of the quiet ones. */
static void on_tick(uv_timer_t *t)
{
    server *s = t->data;
    flush_audit_queue(s);
    hub_tick(&s->h);
    /* partial photo uploads past their grace: at start, then hourly */
    if (s->photo_ticks++ % 3600 == 0)
        photos_expire_parts(&s->photos);
}

/* store.sync = none: the flush runs on libuv's thread pool, so that a slow
 * disk never holds the loop (and its reads and pushes) for a flush; the map
 * lock held shared keeps the writer from remapping the file under it. One
 * at a time: a tick that finds one running skips. */
static void sync_work(uv_work_t *w)
{
    server *s = w->data;
    pthread_rwlock_rdlock(&s->h.st->map_lock);
    s->sync_rc = mdb_env_sync(s->h.st->env, 1);
    pthread_rwlock_unlock(&s->h.st->map_lock);
}

static void sync_done(uv_work_t *w, int status)
{
    server *s = w->data;
    s->sync_running = false;
    if (status != 0)
        return; /* cancelled */
    s->periodic_syncs++;
    if (s->sync_rc != 0)
        log_error("store: periodic sync failed: %s", mdb_strerror(s->sync_rc));
}

static void on_sync(uv_timer_t *t)
{
    server *s = t->data;
    if (s->sync_running)
        return;
    s->sync_work.data = s;
    if (uv_queue_work(t->loop, &s->sync_work, sync_work, sync_done) == 0)
        s->sync_running = true;
}

/* ------------------------------------------------------------ start */

int server_start(server *s, uv_loop_t *loop, config *cfg, store *st, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    hub *h = &s->h;
    s->cfg = cfg;
    h->loop = loop;
    h->st = st;
    h->owner = s;
    h->lim = (conn_limits){ .max_frame = cfg->max_frame,
                            .max_in_flight = cfg->max_in_flight,
                            .max_output = cfg->max_output,
                            .max_queued = cfg->max_queued,
                            .max_connections = cfg->max_connections,
                            .idle_timeout = cfg->idle_timeout,
                            .handshake_timeout = cfg->handshake_timeout,
                            .frame_timeout = cfg->frame_timeout };
    h->frame = router_frame;
    h->after_barrier = router_after_barrier;
    h->conn_free = router_conn_free;
    h->reload_tls = reload_tls;
    h->stats_reply = stats_reply;
    h->ops_call = on_ops_call;
    s->ops = (ops_state){ .cfg = cfg, .h = h };
    h->photo_call = on_photo_call;
    s->photos = (photo_state){ .cfg = cfg, .h = h };
    h->last_closed = last_closed;
    h->submit_tail = &h->submit_head;
    h->clock = real_clock;
    s->started_mono_ms = mono_ms(s);
    if (cfg->test_clock) {
        s->test_clock = calloc(1, sizeof *s->test_clock);
        if (!s->test_clock) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->test_clock->path = cfg->test_clock;
        h->clock = deadline_file_clock;
        h->clock_ctx = s->test_clock;
    }
    h->ssl_ctx = tls_ctx_new(cfg->ca, cfg->cert, cfg->key, cfg->crl, err, errlen);
    if (!h->ssl_ctx)
        return -1;

    struct sockaddr_storage addr;
    if (uv_ip4_addr(cfg->listen, cfg->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(cfg->listen, cfg->port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(err, errlen, "server.listen = %s: not an IPv4 or IPv6 address", cfg->listen);
        return -1;
    }
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listening = true;
    int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s (is another whistled running? set server.port)",
                 cfg->listen, cfg->port, uv_strerror(rc));
        return -1;
    }
    h->w = writer_start(st, loop, cfg->max_frame, h->clock, h->clock_ctx, on_writer_done, s);
    if (!h->w) {
        snprintf(err, errlen, "cannot start the writer thread");
        return -1;
    }
    uv_signal_init(loop, &s->sig_term);
    uv_signal_init(loop, &s->sig_int);
    uv_signal_init(loop, &s->sig_hup);
    s->sig_term.data = s->sig_int.data = s->sig_hup.data = s;
    uv_signal_start(&s->sig_term, on_stop_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_stop_signal, SIGINT);
    uv_signal_start(&s->sig_hup, on_hup, SIGHUP);
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, 1000, 1000);
    uv_timer_init(loop, &s->sync_timer);
    s->sync_timer.data = s;
    uv_check_init(loop, &s->submit_check);
    s->submit_check.data = s;
    uv_check_start(&s->submit_check, on_check);
    uv_timer_init(loop, &s->drain_timer);
    s->drain_timer.data = s;
    if (cfg->sync == STORE_SYNC_NONE)
        uv_timer_start(&s->sync_timer, on_sync, cfg->sync_interval_ms, cfg->sync_interval_ms);
    deadline_engine_env de = { .loop = loop,
                               .st = st,
                               .w = h->w,
                               .now = h->clock,
                               .now_ctx = h->clock_ctx,
                               .test_clock = cfg->test_clock != NULL,
                               .draining = &h->draining };
    s->dl = deadline_engine_start(&de);
    if (!s->dl) {
        snprintf(err, errlen, "cannot start the deadline timer");
        return -1;
    }
    return photos_start(&s->photos, loop, err, errlen);
}

int server_port(server *s)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    if (sa.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
}

void server_free(server *s)
{
    writer_free(s->h.w);
    s->h.w = NULL;
    SSL_CTX_free(s->h.ssl_ctx);
    s->h.ssl_ctx = NULL;
    free(s->test_clock);
    s->test_clock = NULL;
}
