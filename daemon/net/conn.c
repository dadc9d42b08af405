/* server.c: listener, connections, TLS pumping, backpressure, pushes.
 *
 * Everything here runs on the loop thread. A connection is freed only when
 * it is closed AND no intent of it is still in the writer (refs == 0): the
 * writer hands intents back with the connection pointer, and the loop then
 * drops answers for connections that have gone. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "call.h"
#include "deadline_engine.h"
#include "log.h"
#include "reply.h"
#include "whistle/names.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define READ_CHUNK 65536
#define PUMP_BATCH 256

static int64_t real_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t server_now_ms(server *s) { return s->clock(s->clock_ctx); }

/* Connection timing (handshake, frame and idle timeouts, log rate limits)
 * runs on the loop's monotonic clock, not on the clock of the domain,
 * which tests may move and which can step with the wall clock. */
static int64_t mono_ms(server *s) { return (int64_t)uv_now(s->loop); }

/* ------------------------------------------------------------ lifetime */

static void conn_unref(conn *c);

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    conn_unref(c);
}

static void sub_unlink(sub *b)
{
    *b->pprev_in_bucket = b->next_in_bucket;
    if (b->next_in_bucket)
        b->next_in_bucket->pprev_in_bucket = b->pprev_in_bucket;
}

static void conn_free(conn *c)
{
    sub *b = c->subs;
    while (b) {
        sub *n = b->next_in_conn;
        free(b->stream);
        free(b);
        b = n;
    }
    router_conn_free(c);
    tls_session_free(&c->tls);
    whistle_framer_free(&c->framer);
    free(c);
}

static void conn_unref(conn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

void conn_close(conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    server *s = c->srv;
    /* A peer hanging up is routine; anything else is worth a line. */
    if (why)
        log_msg(strcmp(why, "peer closed") == 0 ? LOG_LVL_DEBUG : LOG_LVL_INFO, "connection %s%s%s closed: %s",
                c->peer, c->cn[0] ? " " : "", c->cn, why);
    for (sub *b = c->subs; b; b = b->next_in_conn)
        sub_unlink(b);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    /* The last connection of a stop: nothing left to wait for. */
    if (s->draining && !s->conns && !uv_is_closing((uv_handle_t *)&s->drain_timer))
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
}

/* ------------------------------------------------------------ output */

typedef struct wreq {
    uv_write_t req;
    conn *c;
    size_t len;
    char data[];
} wreq;

static void maybe_resume(conn *c);
static void maybe_finish_peer_close(conn *c);
static void sub_pump(sub *b);

static void on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    conn *c = w->c;
    c->out_pending -= w->len;
    free(w);
    if (status < 0) {
        conn_close(c, uv_strerror(status));
    } else if (!c->closing) {
        if (c->close_after_flush && c->out_pending == 0 && c->in_flight == 0) {
            conn_close(c, NULL);
        } else if (c->peer_closed) {
            maybe_finish_peer_close(c);
        } else {
            maybe_resume(c);
            /* Subscriptions that stopped on a full pipe go on now. */
            if (c->out_pending < c->srv->cfg->max_output / 2)
                for (sub *b = c->subs; b; b = b->next_in_conn)
                    sub_pump(b);
        }
    }
    conn_unref(c);
}

/* Moves whatever ciphertext OpenSSL produced to the socket. */
static void flush_tls(conn *c)
{
    size_t n;
    while (!c->closing && (n = tls_pending_out(&c->tls)) > 0) {
        wreq *w = malloc(sizeof *w + n);
        if (!w) {
            conn_close(c, "out of memory");
            return;
        }
        w->c = c;
        w->len = tls_take_out(&c->tls, w->data, n);
        c->last_io_ms = mono_ms(c->srv);
        uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
        c->refs++;
        c->out_pending += w->len;
        int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
        if (rc < 0) {
            c->out_pending -= w->len;
            c->refs--;
            free(w);
            conn_close(c, uv_strerror(rc));
            return;
        }
    }
}

void conn_send(conn *c, const uint8_t *bytes, size_t len)
{
    if (c->closing)
        return;
    if (tls_write(&c->tls, bytes, len) != TLS_OK) {
        conn_close(c, "TLS write failed");
        return;
    }
    flush_tls(c);
}

void conn_send_response(conn *c, const Whistle__V1__Response *resp)
{
    uint8_t *out;
    size_t len;
    reply_pack(resp, c->srv->cfg->max_frame, &out, &len);
    conn_send(c, out, len);
    free(out);
}

/* ------------------------------------------------------------ input */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char slab[READ_CHUNK]; /* the loop thread is the only reader */
    *buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void note_partial(conn *c);

static void start_reading(conn *c)
{
    if (c->reading || c->closing || c->peer_closed || c->srv->draining)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) {
        c->reading = true;
        /* A frame left half-read while we did not read is not the
         * client's delay: its clock starts again now. */
        c->partial_since_ms = 0;
        note_partial(c);
    }
}

/* frame_timeout: remembers since when a frame (or a TLS record) has been
 * arriving. Called after each read and each whole frame. */
static void note_partial(conn *c)
{
    bool partial = whistle_framer_pending(&c->framer) > 0 || tls_pending_in(&c->tls) > 0;
    if (!partial)
        c->partial_since_ms = 0;
    else if (!c->partial_since_ms)
        c->partial_since_ms = mono_ms(c->srv);
}

static void stop_reading(conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static bool over_limits(conn *c)
{
    const config *cfg = c->srv->cfg;
    return c->in_flight >= cfg->max_in_flight || c->out_pending >= cfg->max_output;
}

static void process_frames(conn *c);

/* Backpressure: resume reading only below half of both limits, so a busy
 * connection does not flap between reading and not. */
static void maybe_resume(conn *c)
{
    const config *cfg = c->srv->cfg;
    if (c->closing || c->reading)
        return;
    if (c->in_flight < (cfg->max_in_flight + 1) / 2 && c->out_pending < cfg->max_output / 2) {
        process_frames(c);
        if (!c->closing && !over_limits(c))
            start_reading(c);
    }
}

static void send_error_frame(conn *c, int code, const char *msg)
{
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.status = &st;
    conn_send_response(c, &resp);
}

static void process_frames(conn *c)
{
    /* While draining, requests already buffered are not started: the
     * writer has stopped, and the client retries them elsewhere. */
    while (!c->closing && !c->close_after_flush && !c->srv->draining && !over_limits(c)) {
        const uint8_t *frame;
        size_t len;
        int rc = whistle_framer_next(&c->framer, &frame, &len);
        if (rc == 0)
            return;
        if (rc < 0) {
            char msg[160];
            if (rc == WHISTLE_FRAME_ERR_TOO_BIG)
                snprintf(msg, sizeof msg, "frame length above max_frame (%u bytes); closing",
                         c->srv->cfg->max_frame);
            else
                snprintf(msg, sizeof msg, "frame length 0 is invalid; closing");
            send_error_frame(c, rc == WHISTLE_FRAME_ERR_TOO_BIG ? WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED
                                                                : WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                             msg);
            log_info("connection %s %s: %s", c->peer, c->cn, msg);
            c->close_after_flush = true;
            stop_reading(c);
            if (c->out_pending == 0)
                conn_close(c, NULL);
            return;
        }
        c->last_active_ms = mono_ms(c->srv);
        c->partial_since_ms = 0; /* a whole frame: the next one's clock starts with its first byte */
        router_frame(c, frame, len);
    }
}

/* After the peer's close_notify: serve the frames it sent before, then
 * close once every answer is written. */
static void maybe_finish_peer_close(conn *c)
{
    if (c->closing)
        return;
    process_frames(c);
    if (!c->closing && c->in_flight == 0 && c->out_pending == 0)
        conn_close(c, "peer closed");
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_close(c, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
        return;
    }
    if (c->closing)
        return;
    c->last_active_ms = c->last_io_ms = mono_ms(c->srv);
    if (tls_feed(&c->tls, buf->base, (size_t)nread) != TLS_OK) {
        conn_close(c, "out of memory");
        return;
    }
    if (!c->tls.established) {
        char why[256];
        int rc = tls_handshake(&c->tls, why, sizeof why);
        /* Log before the alert goes out, so the line exists by the time
         * the client learns of the refusal. */
        if (rc == TLS_ERR)
            log_warn("TLS handshake from %s refused: %s", c->peer, why);
        flush_tls(c);
        if (rc == TLS_ERR) {
            /* flush_tls queued the alert; close once it is written */
            c->close_after_flush = true;
            stop_reading(c);
            if (c->out_pending == 0)
                conn_close(c, NULL);
            return;
        }
        if (rc == TLS_WANT)
            return;
        if (tls_peer_cn(&c->tls, c->cn, sizeof c->cn) < 0) {
            log_warn("TLS handshake from %s: client certificate has no subject CN", c->peer);
            conn_close(c, NULL);
            return;
        }
        log_debug("connection %s authenticated as %s", c->peer, c->cn);
    }
    char plain[16384];
    for (;;) {
        int n = tls_read(&c->tls, plain, sizeof plain);
        if (n > 0) {
            if (whistle_framer_feed(&c->framer, plain, (size_t)n) != 0) {
                conn_close(c, "out of memory");
                return;
            }
            continue;
        }
        if (n == TLS_WANT)
            break;
        if (n == TLS_CLOSED) {
            /* Frames that came before the close_notify are still served
             * (a PushAck sent just before closing must not be lost); the
             * connection closes once they are all answered. */
            c->peer_closed = true;
            stop_reading(c);
            flush_tls(c);
            maybe_finish_peer_close(c);
            return;
        }
        flush_tls(c);
        conn_close(c, "TLS error");
        return;
    }
    if (c->tls.renegotiation_refused) {
        /* OpenSSL has refused it already; a client that tries is either
         * broken or probing, and gets no more of our time. */
        log_warn("connection %s %s: TLS renegotiation attempt refused; closing", c->peer, c->cn);
        flush_tls(c);
        conn_close(c, NULL);
        return;
    }
    flush_tls(c);
    process_frames(c);
    if (c->closing)
        return;
    note_partial(c);
    if (over_limits(c))
        stop_reading(c);
}

/* ------------------------------------------------------------ accept */

static void on_connection(uv_stream_t *listener, int status)
{
    server *s = listener->data;
    if (status < 0) {
        log_warn("accept: %s", uv_strerror(status));
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    c->refs = 1;
    c->id = ++s->next_conn_id;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &salen) == 0) {
        char ip[48] = "?";
        int port = 0;
        if (sa.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&sa, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&sa, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        }
        snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
    }
    if (s->draining || s->nconns >= s->cfg->max_connections) {
        int64_t now = mono_ms(s);
        if (now - s->refused_logged_ms >= 1000) {
            char more[64] = "";
            if (s->refused_quiet)
                snprintf(more, sizeof more, " (and %llu more in the last second)",
                         (unsigned long long)s->refused_quiet);
            if (s->draining)
                log_warn("connection %s refused: stopping%s", c->peer, more);
            else
                log_warn("connection %s refused: max_connections (%u) reached%s", c->peer,
                         s->cfg->max_connections, more);
            s->refused_logged_ms = now;
            s->refused_quiet = 0;
        } else {
            s->refused_quiet++;
        }
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    if (tls_session_init(&c->tls, s->ssl_ctx) != TLS_OK) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    whistle_framer_init(&c->framer, s->cfg->max_frame);
    uv_tcp_nodelay(&c->tcp, 1);
    c->last_active_ms = c->last_io_ms = mono_ms(s);
    c->accepted_ms = mono_ms(s);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    start_reading(c);
}

/* ------------------------------------------------------------ writer */

void conn_submit(conn *c, intent *it)
{
    server *s = c->srv;
    it->owner = c;
    c->refs++;
    if (it->kind == INTENT_REQUEST || it->kind == INTENT_AUDIT || it->kind == INTENT_BARRIER)
        c->in_flight++;
    it->next = NULL;
    *s->submit_tail = it;
    s->submit_tail = &it->next;
}

/* After the loop iteration's reads: everything they submitted goes to the
 * writer at once. A writer woken for each push ack of a thousand desks
 * takes the cores the loop needs to send the pushes. */
static void submit_flush(server *s)
{
    intent *list = s->submit_head;
    s->submit_head = NULL;
    s->submit_tail = &s->submit_head;
    if (list)
        writer_submit_list(s->w, list);
}

static void on_check(uv_check_t *h) { submit_flush(h->data); }

static void maybe_finish_drain(server *s);

static void on_writer_done(void *ud, intent *done)
{
    server *s = ud;
    while (done) {
        intent *it = done;
        done = it->next;
        if (it->kind == INTENT_TICK) {
            /* the deadline engine's own: no connection */
            server_streams_touched(s, &it->touched);
            deadline_engine_tick_done(s->dl, it);
            intent_free(it);
            continue;
        }
        conn *c = it->owner;
        if (!c) {
            /* the server's own (INTENT_FLUSH) */
            s->flush_pending = false;
            intent_free(it);
            continue;
        }
        if (it->kind == INTENT_REQUEST || it->kind == INTENT_AUDIT) {
            c->in_flight--;
            if (!c->closing && it->out)
                conn_send(c, it->out, it->out_len);
        } else if (it->kind == INTENT_BARRIER) {
            c->in_flight--;
            if (!c->closing)
                router_after_barrier(c, it->frame, it->frame_len);
        }
        /* A write's pushes go right after its answer, not after the whole
         * batch's answers: a department learns of a whistle as soon as the
         * operator does. A stream touched again later in the batch is read
         * again from where it stopped, which costs one empty read. */
        server_streams_touched(s, &it->touched);
        if (!c->closing) {
            if (c->close_after_flush && c->in_flight == 0 && c->out_pending == 0)
                conn_close(c, NULL);
            else if (c->peer_closed)
                maybe_finish_peer_close(c);
            else
                maybe_resume(c);
        }
        conn_unref(c);
        intent_free(it);
    }
    /* a write may have added an earlier deadline */
    deadline_engine_rearm(s->dl);
    maybe_finish_drain(s);
}

/* ------------------------------------------------------------ pushes */

static uint32_t bucket_of(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % SUB_BUCKETS;
}

struct pump_ctx {
    sub *b;
    size_t bytes;
    bool capped;   /* entries past cap are committed but not yet durable */
    uint64_t cap;
};

static int pump_one(void *ctx, uint64_t seq, const void *bytes, size_t len)
{
    struct pump_ctx *pc = ctx;
    if (pc->capped && seq > pc->cap)
        return 1; /* pushed once its batch is durable (server_streams_touched) */
    conn *c = pc->b->c;
    /* Frame { push = 3 }: the stored Push bytes wrapped as field 3,
     * without unpacking them. */
    uint8_t hdr[4 + 1 + 10];
    size_t inner = len, n = 0;
    uint8_t var[10];
    do {
        var[n++] = (uint8_t)((inner & 0x7f) | (inner > 0x7f ? 0x80 : 0));
        inner >>= 7;
    } while (inner);
    size_t total = 1 + n + len;
    hdr[0] = (uint8_t)(total >> 24);
    hdr[1] = (uint8_t)(total >> 16);
    hdr[2] = (uint8_t)(total >> 8);
    hdr[3] = (uint8_t)total;
    hdr[4] = (3 << 3) | 2;
    memcpy(hdr + 5, var, n);
    /* One TLS record for the frame when it is small (most pushes are a few
     * hundred bytes): half the records, half the sealing, for subscribers. */
    uint8_t one[4096];
    if (5 + n + len <= sizeof one) {
        memcpy(one, hdr, 5 + n);
        memcpy(one + 5 + n, bytes, len);
        if (tls_write(&c->tls, one, 5 + n + len) != TLS_OK)
            return -1;
    } else if (tls_write(&c->tls, hdr, 5 + n) != TLS_OK || tls_write(&c->tls, bytes, len) != TLS_OK)
        return -1;
    pc->b->sent_seq = seq;
    pc->bytes += total + 4;
    if (tls_pending_out(&c->tls) > 256 * 1024)
        flush_tls(c);
    return c->out_pending >= c->srv->cfg->max_output ? 1 : 0;
}

/* Sends committed entries after sent_seq until caught up or the
 * connection's output is full (then on_written calls again). */
static void sub_pump(sub *b)
{
    conn *c = b->c;
    server *s = c->srv;
    while (!c->closing && c->out_pending < s->cfg->max_output) {
        struct pump_ctx pc = {b, 0, false, 0};
        pc.capped = writer_stream_cap(s->w, b->stream, &pc.cap);
        if (pc.capped && b->sent_seq >= pc.cap)
            return;
        MDB_txn *txn = store_read_begin(s->st);
        if (!txn)
            return;
        /* The principal is looked up at every pump, as the router does at
         * every frame: a principal disabled (or moved out of the stream's
         * reach) while subscribed gets nothing more. */
        arena *a = arena_new();
        Whistle__V1__Principal *who = api_principal(s->st, txn, c->cn, a);
        bool allowed = who && who->enabled && stream_allowed(who, b->stream);
        arena_free(a);
        if (!allowed) {
            store_read_end(s->st);
            log_info("connection %s %s: subscription to %s ended: the principal is disabled or no longer reaches "
                     "the stream",
                     c->peer, c->cn, b->stream);
            conn_close(c, NULL);
            return;
        }
        int n = stream_read(s->st, txn, b->stream, b->sent_seq, PUMP_BATCH, pump_one, &pc);
        store_read_end(s->st);
        flush_tls(c);
        if (n < PUMP_BATCH || pc.bytes == 0)
            return;
    }
}

void server_streams_touched(server *s, const stream_touched *t)
{
    for (size_t i = 0; i < t->n; i++) {
        uint32_t h = bucket_of(t->names[i]);
        for (sub *b = s->buckets[h]; b;) {
            sub *next = b->next_in_bucket;
            if (strcmp(b->stream, t->names[i]) == 0)
                sub_pump(b);
            b = next;
        }
    }
}

int conn_subscribe(conn *c, const char *stream, uint64_t after_seq)
{
    sub *b = NULL;
    for (sub *x = c->subs; x; x = x->next_in_conn)
        if (strcmp(x->stream, stream) == 0)
            b = x;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return -1;
        b->stream = strdup(stream);
        b->c = c;
        b->next_in_conn = c->subs;
        c->subs = b;
        uint32_t h = bucket_of(stream);
        b->next_in_bucket = c->srv->buckets[h];
        if (b->next_in_bucket)
            b->next_in_bucket->pprev_in_bucket = &b->next_in_bucket;
        b->pprev_in_bucket = &c->srv->buckets[h];
        c->srv->buckets[h] = b;
    }
    b->sent_seq = after_seq;
    sub_pump(b);
    return 0;
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

void server_stats_reply(conn *c, uint64_t id)
{
    server *s = c->srv;
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &st;
    const writer_stats *ws = writer_get_stats(s->w);
    Whistle__V1__ServerStatsResult r = WHISTLE__V1__SERVER_STATS_RESULT__INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    r.server_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    r.uptime_ms = (uint64_t)(mono_ms(s) - s->started_mono_ms);
    r.commits = atomic_load(&ws->commits);
    r.failed_commits = atomic_load(&ws->failed_commits);
    r.batches = atomic_load(&ws->batches);
    r.intents = atomic_load(&ws->intents);
    r.writes = atomic_load(&ws->writes);
    r.commit_us = atomic_load(&ws->commit_ns) / 1000;
    r.max_batch = atomic_load(&ws->max_batch);
    /* Each commit flushes its data pages once; in full mode a commit's meta
     * page goes to disk with the next commit's flush, or with a flush of
     * its own (syncs) when none follows; with none only the periodic
     * mdb_env_sync flushes. */
    switch (s->cfg->sync) {
    case STORE_SYNC_FULL: r.fsyncs = r.commits + atomic_load(&ws->syncs); r.sync = "full"; break;
    case STORE_SYNC_NOMETASYNC: r.fsyncs = r.commits; r.sync = "nometasync"; break;
    default: r.fsyncs = s->periodic_syncs; r.sync = "none"; break;
    }
    r.connections = s->nconns;
    uint32_t subs = 0;
    for (conn *x = s->conns; x; x = x->next)
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
    if (!s->draining || !s->w)
        return;
    for (conn *c = s->conns; c; c = c->next)
        if (c->in_flight > 0)
            return;
    /* Every answer has been handed to its connection; close them once
     * their output is written (uv_close after pending writes: libuv
     * completes queued writes with ECANCELED on close, so wait). */
    conn *c = s->conns;
    while (c) {
        conn *n = c->next;
        if (c->out_pending == 0)
            conn_close(c, NULL);
        else
            c->close_after_flush = true;
        c = n;
    }
}

static void on_tick(uv_timer_t *t);

/* A stop waits for every connection to take its last answers; a client
 * that does not read must not hold the daemon up forever. */
static void on_drain_timeout(uv_timer_t *t)
{
    server *s = t->data;
    uint32_t n = s->nconns;
    log_warn("stopping: %u connection%s did not take their last answers within %u s (drain_timeout); closing them",
             n, n == 1 ? "" : "s", s->cfg->drain_timeout);
    while (s->conns)
        conn_close(s->conns, NULL);
}

void server_drain(server *s)
{
    if (s->draining)
        return;
    s->draining = true;
    log_info("stopping: finishing the requests in flight");
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, on_handle_closed);
        s->listening = false;
    }
    for (conn *c = s->conns; c; c = c->next)
        stop_reading(c);
    uv_timer_start(&s->drain_timer, on_drain_timeout, (uint64_t)s->cfg->drain_timeout * 1000, 0);
    /* The writer finishes what was queued and hands it back now. */
    submit_flush(s);
    writer_stop(s->w);
    deadline_engine_stop(s->dl);
    s->dl = NULL;
    maybe_finish_drain(s);
    if (!s->conns && !uv_is_closing((uv_handle_t *)&s->drain_timer))
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
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

int server_reload_tls(server *s, arena *a, reload_report *rep, char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_ctx_new(s->cfg->ca, s->cfg->cert, s->cfg->key, s->cfg->crl, err, errlen);
    if (!ctx)
        return -1;
    /* New connections get the reloaded certificates and CRL. Open ones keep
     * the context they were made with (SSL holds a reference), but their
     * certificates are checked against the new one now: a certificate
     * revoked since its handshake ends its connection here, not at its
     * expiry. */
    SSL_CTX_free(s->ssl_ctx);
    s->ssl_ctx = ctx;
    uint32_t checked = 0;
    ptr_vec closed = {0};
    conn *c = s->conns;
    while (c) {
        conn *next = c->next;
        if (!c->closing && c->tls.established) {
            char why[256];
            checked++;
            if (tls_peer_verify(&c->tls, ctx, why, sizeof why) != TLS_OK) {
                char line[600];
                snprintf(line, sizeof line, "%s %s: %s", c->peer, c->cn, why);
                log_warn("connection %s closed: its certificate is no longer valid after the reload (%s)", c->peer,
                         why);
                if (a)
                    ptr_vec_push(a, &closed, arena_strdup(a, line));
                conn_close(c, NULL);
            }
        }
        c = next;
    }
    if (rep) {
        rep->checked = checked;
        rep->closed = (char **)closed.items;
        rep->n_closed = closed.n;
    }
    return 0;
}

static void on_hup(uv_signal_t *h, int signum)
{
    (void)signum;
    server *s = h->data;
    char err[512];
    if (server_reload_tls(s, NULL, NULL, err, sizeof err) != 0) {
        log_error("SIGHUP: keeping the current certificates: %s", err);
        return;
    }
    log_info("SIGHUP: certificates and CRL reloaded");
}

/* Denials and reads noticed outside a write wait in a queue until a write
 * transaction takes them; with no writes coming, this one does, so that
 * they are durable within about a second. */
static void flush_audit_queue(server *s)
{
    if (s->draining || s->flush_pending || !s->w || audit_queue_len(s->st->denials) == 0)
        return;
    intent *it = calloc(1, sizeof *it);
    if (!it)
        return;
    it->kind = INTENT_FLUSH;
    s->flush_pending = true;
    writer_submit(s->w, it);
}

/* A connection quiet for this long gives back its buffers. */
#define TRIM_AFTER_MS 2000

/* An idle connection should cost little (thousands stay connected all
 * day): the frame buffer and the TLS memory BIOs keep the largest size
 * they have held, the handshake's at least, so they are freed once the
 * connection has been quiet for a while, and made again when it speaks. */
static void conn_trim(conn *c)
{
    if (c->in_flight || c->out_pending || !c->tls.established)
        return;
    if (c->framer.buf && whistle_framer_pending(&c->framer) == 0) {
        uint32_t max = c->framer.max_frame;
        whistle_framer_free(&c->framer);
        whistle_framer_init(&c->framer, max);
    }
    tls_session_trim(&c->tls);
}

/* Once a second: the audit queue, the time limits of every connection,
 * and the buffers of the quiet ones. */
static void on_tick(uv_timer_t *t)
{
    server *s = t->data;
    const config *cfg = s->cfg;
    flush_audit_queue(s);
    int64_t now = mono_ms(s);
    conn *c = s->conns;
    while (c) {
        conn *n = c->next;
        if (c->closing) {
            /* closed already, waiting for its last writes */
        } else if (!c->tls.established) {
            if (now - c->accepted_ms > (int64_t)cfg->handshake_timeout * 1000) {
                log_warn("connection %s closed: TLS handshake not finished within %u s (handshake_timeout)",
                         c->peer, cfg->handshake_timeout);
                conn_close(c, NULL);
            }
        } else if (c->reading && c->partial_since_ms &&
                   now - c->partial_since_ms > (int64_t)cfg->frame_timeout * 1000) {
            log_warn("connection %s %s closed: a frame begun %lld s ago is still incomplete (frame_timeout %u s)",
                     c->peer, c->cn, (long long)(now - c->partial_since_ms) / 1000, cfg->frame_timeout);
            conn_close(c, NULL);
        } else if (cfg->idle_timeout && c->in_flight == 0 && !c->subs &&
                   now - (int64_t)c->last_active_ms > (int64_t)cfg->idle_timeout * 1000) {
            conn_close(c, "idle timeout");
        } else if (now - (int64_t)c->last_io_ms > TRIM_AFTER_MS) {
            conn_trim(c);
        }
        c = n;
    }
}

static void on_sync(uv_timer_t *t)
{
    server *s = t->data;
    int rc = mdb_env_sync(s->st->env, 1);
    s->periodic_syncs++;
    if (rc != 0)
        log_error("store: periodic sync failed: %s", mdb_strerror(rc));
}

/* ------------------------------------------------------------ start */

int server_start(server *s, uv_loop_t *loop, config *cfg, store *st, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->cfg = cfg;
    s->st = st;
    s->clock = real_clock;
    s->started_mono_ms = mono_ms(s);
    if (cfg->test_clock) {
        s->test_clock = calloc(1, sizeof *s->test_clock);
        if (!s->test_clock) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->test_clock->path = cfg->test_clock;
        s->clock = deadline_file_clock;
        s->clock_ctx = s->test_clock;
    }
    s->ssl_ctx = tls_ctx_new(cfg->ca, cfg->cert, cfg->key, cfg->crl, err, errlen);
    if (!s->ssl_ctx)
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
    s->w = writer_start(st, loop, cfg->max_frame, s->clock, s->clock_ctx, on_writer_done, s);
    if (!s->w) {
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
    s->submit_tail = &s->submit_head;
    uv_check_init(loop, &s->submit_check);
    s->submit_check.data = s;
    uv_check_start(&s->submit_check, on_check);
    uv_timer_init(loop, &s->drain_timer);
    s->drain_timer.data = s;
    if (cfg->sync == STORE_SYNC_NONE)
        uv_timer_start(&s->sync_timer, on_sync, cfg->sync_interval_ms, cfg->sync_interval_ms);
    deadline_engine_env de = {.loop = loop, .st = st, .w = s->w, .now = s->clock, .now_ctx = s->clock_ctx,
                              .test_clock = cfg->test_clock != NULL, .draining = &s->draining};
    s->dl = deadline_engine_start(&de);
    if (!s->dl) {
        snprintf(err, errlen, "cannot start the deadline timer");
        return -1;
    }
    return 0;
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
    writer_free(s->w);
    s->w = NULL;
    SSL_CTX_free(s->ssl_ctx);
    s->ssl_ctx = NULL;
    free(s->test_clock);
    s->test_clock = NULL;
}
