/* conn.c: see conn.h.
 *
 * Everything here runs on the loop thread. A connection is freed only when
 * it is closed AND no intent of it is still in the writer (refs == 0): the
 * writer hands intents back with the connection pointer, and the loop then
 * drops answers for connections that have gone. */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "reply.h"

#define READ_CHUNK 65536
#define PUMP_BATCH 256

int64_t hub_now_ms(hub *h) { return h->clock(h->clock_ctx); }

/* Connection timing (handshake, frame and idle timeouts, log rate limits)
 * runs on the loop's monotonic clock, not on the clock of the domain,
 * which tests may move and which can step with the wall clock. */
static int64_t mono_ms(hub *h) { return (int64_t)uv_now(h->loop); }

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
        free(b->act_as);
        free(b);
        b = n;
    }
    if (c->hub->conn_free)
        c->hub->conn_free(c);
    tls_session_free(&c->tls);
    whistle_framer_free(&c->framer);
    free(c);
}

static void conn_unref(conn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

void hub_count(hub *h, int call_case, int code)
{
    if (call_case > 0 && call_case < HUB_CALLS && code >= 0 && code < HUB_CODES)
        h->answers[call_case][code]++;
}

void conn_hold(conn *c) { c->refs++; }
void conn_release(conn *c) { conn_unref(c); }

void conn_close(conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    hub *h = c->hub;
    /* A peer hanging up is routine; anything else is worth a line. */
    if (why)
        log_msg(strcmp(why, "peer closed") == 0 ? LOG_LVL_DEBUG : LOG_LVL_INFO, "connection %s%s%s closed: %s", c->peer,
                c->cn[0] ? " " : "", c->cn, why);
    for (sub *b = c->subs; b; b = b->next_in_conn)
        sub_unlink(b);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->nconns--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    /* The last connection of a stop: nothing left to wait for. */
    if (h->draining && !h->conns && h->last_closed)
        h->last_closed(h);
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
            if (c->out_pending < c->hub->lim.max_output / 2)
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
        c->last_io_ms = mono_ms(c->hub);
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
    if (c->cur_call)
        hub_count(c->hub, c->cur_call, resp->status ? (int)resp->status->code : 0);
    uint8_t *out;
    size_t len;
    reply_pack(resp, c->hub->lim.max_frame, &out, &len);
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
    if (c->reading || c->closing || c->peer_closed || c->hub->draining)
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
        c->partial_since_ms = mono_ms(c->hub);
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
    hub *h = c->hub;
    const conn_limits *cfg = &h->lim;
    if (cfg->max_queued && h->queued >= cfg->max_queued)
        h->queued_full = true;
    return c->in_flight >= cfg->max_in_flight || c->out_pending >= cfg->max_output || h->queued_full;
}

static void process_frames(conn *c);

/* Backpressure: resume reading only below half of both limits, so a busy
 * connection does not flap between reading and not. */
static void maybe_resume(conn *c)
{
    const conn_limits *cfg = &c->hub->lim;
    if (c->closing || c->reading)
        return;
    if (c->in_flight < (cfg->max_in_flight + 1) / 2 && c->out_pending < cfg->max_output / 2 && !c->hub->queued_full) {
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
    while (!c->closing && !c->close_after_flush && !c->hub->draining && !over_limits(c)) {
        const uint8_t *frame;
        size_t len;
        int rc = whistle_framer_next(&c->framer, &frame, &len);
        if (rc == 0)
            return;
        if (rc < 0) {
            char msg[160];
            if (rc == WHISTLE_FRAME_ERR_TOO_BIG)
                snprintf(msg, sizeof msg, "frame length above max_frame (%u bytes); closing", c->hub->lim.max_frame);
            else
                snprintf(msg, sizeof msg, "frame length 0 is invalid; closing");
            send_error_frame(c,
                             rc == WHISTLE_FRAME_ERR_TOO_BIG ? WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED
                                                             : WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                             msg);
            log_info("connection %s %s: %s", c->peer, c->cn, msg);
            c->close_after_flush = true;
            stop_reading(c);
            if (c->out_pending == 0)
                conn_close(c, NULL);
            return;
        }
        c->last_active_ms = mono_ms(c->hub);
        c->partial_since_ms = 0; /* a whole frame: the next one's clock starts with its first byte */
        c->hub->frame(c, frame, len);
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
    c->last_active_ms = c->last_io_ms = mono_ms(c->hub);
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
        if (tls_peer_cn(&c->tls, c->cn, sizeof c->cn, why, sizeof why) < 0) {
            c->cn[0] = 0;
            log_warn("TLS handshake from %s refused: %s", c->peer, why);
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

void conn_accept(hub *h, uv_stream_t *listener, int status)
{
    if (status < 0) {
        log_warn("accept: %s", uv_strerror(status));
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->hub = h;
    c->refs = 1;
    c->id = ++h->next_conn_id;
    uv_tcp_init(h->loop, &c->tcp);
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
    if (h->draining || h->nconns >= h->lim.max_connections) {
        int64_t now = mono_ms(h);
        if (now - h->refused_logged_ms >= 1000) {
            char more[64] = "";
            if (h->refused_quiet)
                snprintf(more, sizeof more, " (and %llu more in the last second)",
                         (unsigned long long)h->refused_quiet);
            if (h->draining)
                log_warn("connection %s refused: stopping%s", c->peer, more);
            else
                log_warn("connection %s refused: max_connections (%u) reached%s", c->peer, h->lim.max_connections,
                         more);
            h->refused_logged_ms = now;
            h->refused_quiet = 0;
        } else {
            h->refused_quiet++;
        }
        h->refused_total++;
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    if (tls_session_init(&c->tls, h->ssl_ctx) != TLS_OK) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    whistle_framer_init(&c->framer, h->lim.max_frame);
    uv_tcp_nodelay(&c->tcp, 1);
    c->last_active_ms = c->last_io_ms = mono_ms(h);
    c->accepted_ms = mono_ms(h);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    start_reading(c);
}

/* ------------------------------------------------------------ writer */

void conn_submit(conn *c, intent *it)
{
    hub *h = c->hub;
    if (it->kind == INTENT_ACK) {
        /* A desk that acknowledges as it reads sends many acks of one
         * stream; only the highest matters, and it is applied where the
         * first one was queued (before anything queued after it, as a
         * Subscribe's barrier needs). */
        for (intent *p = c->acks_pending; p; p = p->ack_sibling)
            if (strcmp(p->ack_stream, it->ack_stream) == 0) {
                if (it->ack_seq > p->ack_seq)
                    p->ack_seq = it->ack_seq;
                intent_free(it);
                return;
            }
        it->ack_sibling = c->acks_pending;
        c->acks_pending = it;
    }
    it->owner = c;
    c->refs++;
    h->queued += it->frame_len;
    /* acks count too: a flood of them holds the connection's reading back
     * like a flood of requests */
    if (it->kind == INTENT_REQUEST || it->kind == INTENT_AUDIT || it->kind == INTENT_BARRIER ||
        it->kind == INTENT_ACK || it->kind == INTENT_PHOTO)
        c->in_flight++;
    it->next = NULL;
    *h->submit_tail = it;
    h->submit_tail = &it->next;
}

void hub_submit_flush(hub *h)
{
    intent *list = h->submit_head;
    h->submit_head = NULL;
    h->submit_tail = &h->submit_head;
    /* what goes to the writer can no longer take a later ack's seq */
    for (intent *it = list; it; it = it->next)
        if (it->kind == INTENT_ACK)
            ((conn *)it->owner)->acks_pending = NULL;
    if (list)
        writer_submit_list(h->w, list);
}

/* Every connection but `except` may read again (the global cap let go).
 * Each is held by a reference while the others are served, since serving
 * one may close another. */
static void resume_all(hub *h, conn *except)
{
    size_t n = 0;
    conn **all = malloc((h->nconns + 1) * sizeof *all);
    if (!all)
        log_oom("resuming the connections");
    for (conn *o = h->conns; o && n < h->nconns + 1; o = o->next)
        if (o != except) {
            o->refs++;
            all[n++] = o;
        }
    for (size_t i = 0; i < n; i++)
        maybe_resume(all[i]);
    for (size_t i = 0; i < n; i++)
        conn_unref(all[i]);
    free(all);
}

void hub_intent_done(hub *h, intent *it)
{
    conn *c = it->owner;
    h->queued -= it->frame_len < h->queued ? it->frame_len : h->queued;
    if (h->queued_full && h->queued <= h->lim.max_queued / 2) {
        /* below half of the global cap: every connection may read again */
        h->queued_full = false;
        resume_all(h, c);
    }
    if (it->kind == INTENT_REQUEST || it->kind == INTENT_AUDIT || it->kind == INTENT_PHOTO) {
        c->in_flight--;
        if (it->kind == INTENT_REQUEST || it->kind == INTENT_PHOTO)
            hub_count(h, it->call, it->code);
        if (!c->closing && it->out)
            conn_send(c, it->out, it->out_len);
    } else if (it->kind == INTENT_BARRIER) {
        c->in_flight--;
        if (!c->closing)
            h->after_barrier(c, it->frame, it->frame_len);
    } else if (it->kind == INTENT_ACK) {
        c->in_flight--;
    }
    /* A write's pushes go right after its answer, not after the whole
     * batch's answers: a department learns of a whistle as soon as the
     * operator does. A stream touched again later in the batch is read
     * again from where it stopped, which costs one empty read. */
    hub_streams_touched(h, &it->touched);
    if (!c->closing) {
        if (c->close_after_flush && c->in_flight == 0 && c->out_pending == 0)
            conn_close(c, NULL);
        else if (c->peer_closed)
            maybe_finish_peer_close(c);
        else
            maybe_resume(c);
    }
    conn_unref(c);
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
    bool capped; /* entries past cap are committed but not yet durable */
    uint64_t cap;
};

static int pump_one(void *ctx, uint64_t seq, const void *bytes, size_t len)
{
    struct pump_ctx *pc = ctx;
    if (pc->capped && seq > pc->cap)
        return 1; /* pushed once its batch is durable (hub_streams_touched) */
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
    c->hub->pushes_sent++;
    if (tls_pending_out(&c->tls) > 256 * 1024)
        flush_tls(c);
    return c->out_pending >= c->hub->lim.max_output ? 1 : 0;
}

/* Sends committed entries after sent_seq until caught up or the
 * connection's output is full (then on_written calls again). */
static void sub_pump(sub *b)
{
    conn *c = b->c;
    hub *h = c->hub;
    while (!c->closing && c->out_pending < h->lim.max_output) {
        struct pump_ctx pc = { b, 0, false, 0 };
        pc.capped = writer_stream_cap(h->w, b->stream, &pc.cap);
        if (pc.capped && b->sent_seq >= pc.cap)
            return;
        MDB_txn *txn = store_read_begin(h->st);
        if (!txn)
            return;
        /* The principal is looked up at every pump, as the router does at
         * every frame: a principal disabled (or moved out of the stream's
         * reach) while subscribed gets nothing more. */
        arena *a = arena_new();
        Whistle__V1__Principal *caller = api_principal(h->st, txn, c->cn, a);
        /* A gateway's subscription for another principal: both are checked
         * (the gateway enabled and still listing it, it enabled and still
         * reaching the stream). */
        const Whistle__V1__Principal *who =
            caller && caller->enabled ? api_acting(h->st, txn, caller, b->act_as, "subscribe", 0, a, NULL, NULL) : NULL;
        bool allowed = who && who->enabled && stream_allowed(who, b->stream);
        arena_free(a);
        if (!allowed) {
            store_read_end(h->st);
            log_info("connection %s %s: subscription to %s ended: the principal is disabled or no longer reaches "
                     "the stream",
                     c->peer, c->cn, b->stream);
            conn_close(c, NULL);
            return;
        }
        int n = stream_read(h->st, txn, b->stream, b->sent_seq, PUMP_BATCH, pump_one, &pc);
        store_read_end(h->st);
        flush_tls(c);
        if (n < PUMP_BATCH || pc.bytes == 0)
            return;
    }
}

void hub_streams_touched(hub *h, const stream_touched *t)
{
    for (size_t i = 0; i < t->n; i++) {
        uint32_t bucket = bucket_of(t->names[i]);
        for (sub *b = h->buckets[bucket]; b;) {
            sub *next = b->next_in_bucket;
            if (strcmp(b->stream, t->names[i]) == 0)
                sub_pump(b);
            b = next;
        }
    }
}

bool conn_may_subscribe(conn *c, const char *stream)
{
    size_t n = 0;
    for (sub *x = c->subs; x; x = x->next_in_conn, n++)
        if (strcmp(x->stream, stream) == 0)
            return true;
    return n < SUBS_PER_CONN_MAX;
}

int conn_subscribe(conn *c, const char *stream, uint64_t after_seq, const char *act_as)
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
        uint32_t bucket = bucket_of(stream);
        b->next_in_bucket = c->hub->buckets[bucket];
        if (b->next_in_bucket)
            b->next_in_bucket->pprev_in_bucket = &b->next_in_bucket;
        b->pprev_in_bucket = &c->hub->buckets[bucket];
        c->hub->buckets[bucket] = b;
    }
    /* The same stream subscribed again (maybe for another principal the
     * gateway acts for) follows the latest subscription's principal. */
    free(b->act_as);
    b->act_as = NULL;
    if (act_as && !(b->act_as = strdup(act_as)))
        return -1;
    b->sent_seq = after_seq;
    sub_pump(b);
    return 0;
}

/* ------------------------------------------------------------ the hub's turns */

void hub_stop_reading(hub *h)
{
    for (conn *c = h->conns; c; c = c->next)
        stop_reading(c);
}

void hub_finish_drain(hub *h)
{
    for (conn *c = h->conns; c; c = c->next)
        if (c->in_flight > 0)
            return;
    /* Every answer has been handed to its connection; close them once
     * their output is written (uv_close after pending writes: libuv
     * completes queued writes with ECANCELED on close, so wait). */
    conn *c = h->conns;
    while (c) {
        conn *n = c->next;
        if (c->out_pending == 0)
            conn_close(c, NULL);
        else
            c->close_after_flush = true;
        c = n;
    }
}

void hub_close_all(hub *h)
{
    while (h->conns)
        conn_close(h->conns, NULL);
}

void hub_verify_peers(hub *h, SSL_CTX *ctx, arena *a, reload_report *rep)
{
    uint32_t checked = 0;
    ptr_vec closed = { 0 };
    conn *c = h->conns;
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

void hub_tick(hub *h)
{
    const conn_limits *cfg = &h->lim;
    int64_t now = mono_ms(h);
    conn *c = h->conns;
    while (c) {
        conn *n = c->next;
        if (c->closing) {
            /* closed already, waiting for its last writes */
        } else if (!c->tls.established) {
            if (now - c->accepted_ms > (int64_t)cfg->handshake_timeout * 1000) {
                log_warn("connection %s closed: TLS handshake not finished within %u s (handshake_timeout)", c->peer,
                         cfg->handshake_timeout);
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
