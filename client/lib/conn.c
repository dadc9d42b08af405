/* conn.c: libwhistle's asynchronous connection (whistle/async.h).
 *
 * States run forward: RESOLVE -> CONNECT -> TLS -> HELLO -> READY, and any
 * of them may jump to CLOSING. CLOSING waits for every libuv handle and
 * request to come back, then finalize() runs the outstanding callbacks
 * (connect, pending responses, close) and frees the connection. Nothing
 * is freed while libuv may still call back into it. */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "whistle/async.h"

#define NBUCKETS 256               /* ids are sequential: id % 256 spreads them evenly */
#define CLOSE_GRACE_MS 2000        /* how long a graceful close may wait for the socket */
#define RECV_MAX_FRAME (16u << 20) /* what we accept from the server, at most */

enum cstate { ST_RESOLVE, ST_CONNECT, ST_TLS, ST_HELLO, ST_READY, ST_CLOSING };

typedef struct pending {
    uint64_t id;
    whistle_response_cb cb;
    void *ud;
    struct pending *next;
} pending;

typedef struct wreq {
    uv_write_t req;
    whistle_conn *c;
    size_t len;
    char data[];
} wreq;

struct whistle_conn {
    uv_loop_t *loop;
    whistle_conn_cbs cbs;
    void *ud;
    enum cstate state;

    uv_getaddrinfo_t gai;
    int gai_active;
    struct addrinfo *ai_list, *ai_cur;
    uv_tcp_t tcp;
    int tcp_open; /* initialised and its close callback not yet run */
    uv_connect_t creq;
    uv_timer_t timer;
    int timer_open;
    uv_shutdown_t sreq;

    wtls tls;
    whistle_framer fr;
    uint32_t send_max_frame;

    uint64_t next_id;
    pending *buckets[NBUCKETS];
    size_t n_pending;
    size_t wq_bytes;

    Whistle__V1__Response *hello_resp;
    int connect_reported;
    int finalizing;
    int status;

    char host[256];
    char port[8];
    char client_name[128];
    uint32_t timeout_ms;
    char err[512];
    char write_err[128]; /* a failed write, reported unless a read explains it */
    char rbuf[16384];
    char pbuf[16384];
};

const char *whistle_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case WHISTLE_FRAME_ERR_EMPTY: return "empty frame";
    case WHISTLE_FRAME_ERR_TOO_BIG: return "frame too big";
    case WHISTLE_FRAME_ERR_NOMEM: return "out of memory";
    case WHISTLE_ERR_INVALID: return "invalid argument";
    case WHISTLE_ERR_NOMEM: return "out of memory";
    case WHISTLE_ERR_RESOLVE: return "cannot resolve host";
    case WHISTLE_ERR_CONNECT: return "cannot connect";
    case WHISTLE_ERR_TLS: return "TLS error";
    case WHISTLE_ERR_HELLO: return "hello refused";
    case WHISTLE_ERR_TIMEOUT: return "timed out";
    case WHISTLE_ERR_CLOSED: return "connection closed";
    case WHISTLE_ERR_PROTOCOL: return "protocol error";
    case WHISTLE_ERR_IO: return "I/O error";
    case WHISTLE_ERR_STATE: return "not connected yet";
    case WHISTLE_ERR_REFUSED: return "subscription refused";
    default: return "unknown error";
    }
}

static void begin_close(whistle_conn *c, int graceful);
static void on_timer(uv_timer_t *t);

/* Records the error (the first one wins: later ones are consequences)
 * and starts closing. */
static void fail(whistle_conn *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(whistle_conn *c, int code, const char *fmt, ...)
{
    if (c->state == ST_CLOSING)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->status = code;
    begin_close(c, 0);
}

/* ---------------------------------------------------------------- pending */

static void pending_add(whistle_conn *c, pending *p)
{
    pending **b = &c->buckets[p->id % NBUCKETS];
    p->next = *b;
    *b = p;
    c->n_pending++;
}

static pending *pending_take(whistle_conn *c, uint64_t id)
{
    for (pending **pp = &c->buckets[id % NBUCKETS]; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            pending *p = *pp;
            *pp = p->next;
            c->n_pending--;
            return p;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- finalize */

static void finalize(whistle_conn *c)
{
    if (c->state != ST_CLOSING || c->finalizing || c->tcp_open || c->timer_open || c->gai_active)
        return;
    c->finalizing = 1;
    if (!c->err[0] && c->status < 0)
        snprintf(c->err, sizeof c->err, "%s", whistle_strerror(c->status));
    if (!c->connect_reported) {
        c->connect_reported = 1;
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "connection closed before it was ready");
        if (c->cbs.on_connect)
            c->cbs.on_connect(c, c->status < 0 ? c->status : WHISTLE_ERR_CLOSED, c->ud);
    }
    for (size_t i = 0; i < NBUCKETS; i++) {
        pending *p;
        while ((p = c->buckets[i]) != NULL) {
            c->buckets[i] = p->next;
            c->n_pending--;
            p->cb(c, WHISTLE_ERR_CLOSED, NULL, p->ud);
            free(p);
        }
    }
    if (c->cbs.on_close)
        c->cbs.on_close(c, c->status, c->ud);
    if (c->ai_list)
        uv_freeaddrinfo(c->ai_list);
    whistle_framer_free(&c->fr);
    wtls_free(&c->tls);
    whistle_response_free(c->hello_resp);
    free(c);
}

static void on_tcp_closed(uv_handle_t *h)
{
    whistle_conn *c = h->data;
    c->tcp_open = 0;
    finalize(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    whistle_conn *c = h->data;
    c->timer_open = 0;
    finalize(c);
}

static void close_handles(whistle_conn *c)
{
    if (c->tcp_open && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    if (c->timer_open && !uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* ---------------------------------------------------------------- output */

static void on_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    whistle_conn *c = w->c;
    c->wq_bytes -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED && c->state != ST_CLOSING && !c->write_err[0]) {
        /* A server that refuses us sends its reason (a TLS alert, a last
         * error frame) and closes; our write can fail before we have read
         * that reason. Keep reading for a moment: the reason, or the
         * read's own error, makes the better message. */
        snprintf(c->write_err, sizeof c->write_err, "write: %s", uv_strerror(status));
        uv_timer_start(&c->timer, on_timer, 1000, 0);
    }
}

/* Moves what OpenSSL produced to the socket. */
static void flush(whistle_conn *c)
{
    size_t n;
    if (c->write_err[0]) {
        /* The socket is broken: drop what OpenSSL produced. */
        char sink[4096];
        while (wtls_take_out(&c->tls, sink, sizeof sink) > 0)
            ;
        return;
    }
    while (c->tcp_open && !uv_is_closing((uv_handle_t *)&c->tcp) && (n = wtls_pending_out(&c->tls)) > 0) {
        wreq *w = malloc(sizeof *w + n);
        if (!w) {
            fail(c, WHISTLE_ERR_NOMEM, "out of memory");
            return;
        }
        w->c = c;
        w->len = wtls_take_out(&c->tls, w->data, n);
        uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
        int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
        if (r < 0) {
            free(w);
            fail(c, WHISTLE_ERR_IO, "write: %s", uv_strerror(r));
            return;
        }
        c->wq_bytes += w->len;
    }
}

static int send_frame(whistle_conn *c, const Whistle__V1__Frame *f)
{
    uint8_t *buf;
    size_t len;
    int r = whistle_frame_pack(f, c->send_max_frame, &buf, &len);
    if (r == WHISTLE_FRAME_ERR_TOO_BIG)
        return WHISTLE_ERR_INVALID; /* the connection stays fine: just this one is refused */
    if (r < 0)
        return WHISTLE_ERR_NOMEM;
    r = wtls_write(&c->tls, buf, len, c->err, sizeof c->err);
    free(buf);
    if (r < 0) {
        c->status = WHISTLE_ERR_TLS;
        begin_close(c, 0);
        return WHISTLE_ERR_TLS;
    }
    flush(c);
    return c->state == ST_CLOSING ? WHISTLE_ERR_CLOSED : 0;
}

static int send_request(whistle_conn *c, Whistle__V1__Request *req, whistle_response_cb cb, void *ud)
{
    pending *p = malloc(sizeof *p);
    if (!p)
        return WHISTLE_ERR_NOMEM;
    req->id = ++c->next_id;
    p->id = req->id;
    p->cb = cb;
    p->ud = ud;
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = req;
    pending_add(c, p);
    int r = send_frame(c, &f);
    if (r < 0) {
        /* Not sent (or the connection broke while sending): the caller
         * learns it from the return value, so the callback must not run. */
        free(pending_take(c, p->id));
        return r;
    }
    return 0;
}

/* ---------------------------------------------------------------- input */

static void on_hello(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)ud;
    if (status < 0)
        return; /* closing already; finalize reports the connect failure */
    int code = whistle_response_code(resp);
    if (code != WHISTLE__V1__STATUS__CODE__OK || resp->result_case != WHISTLE__V1__RESPONSE__RESULT_HELLO) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s",
                 code != WHISTLE__V1__STATUS__CODE__OK ? whistle_response_message(resp) : "no HelloResult");
        whistle_response_free(resp);
        fail(c, WHISTLE_ERR_HELLO, "hello: %s: %s", whistle_code_name(code), msg);
        return;
    }
    c->hello_resp = resp;
    uint32_t mf = resp->hello->max_frame;
    if (mf > c->fr.max_frame)
        c->fr.max_frame = mf < RECV_MAX_FRAME ? mf : RECV_MAX_FRAME;
    if (mf)
        c->send_max_frame = mf;
    c->state = ST_READY;
    uv_timer_stop(&c->timer);
    c->connect_reported = 1;
    if (c->cbs.on_connect)
        c->cbs.on_connect(c, 0, c->ud);
}

static void dispatch(whistle_conn *c, Whistle__V1__Frame *f)
{
    switch (f->kind_case) {
    case WHISTLE__V1__FRAME__KIND_RESPONSE: {
        Whistle__V1__Response *resp = f->response;
        /* Detach: protobuf-c allocates each sub-message separately, so the
         * response can outlive its frame. */
        f->response = NULL;
        f->kind_case = WHISTLE__V1__FRAME__KIND__NOT_SET;
        whistle__v1__frame__free_unpacked(f, NULL);
        pending *p = pending_take(c, resp->id);
        if (!p) {
            /* Cancelled, or an answer to a frame the server could not read
             * (id 0): nobody waits for it. */
            whistle_response_free(resp);
            return;
        }
        p->cb(c, 0, resp, p->ud);
        free(p);
        return;
    }
    case WHISTLE__V1__FRAME__KIND_PUSH: {
        Whistle__V1__Push *push = f->push;
        f->push = NULL;
        f->kind_case = WHISTLE__V1__FRAME__KIND__NOT_SET;
        whistle__v1__frame__free_unpacked(f, NULL);
        if (c->cbs.on_push && c->state == ST_READY)
            c->cbs.on_push(c, push, c->ud);
        else
            whistle_push_free(push);
        return;
    }
    default:
        /* Requests and acks are not for clients; ignore them. */
        whistle__v1__frame__free_unpacked(f, NULL);
        return;
    }
}

static void process_frames(whistle_conn *c)
{
    const uint8_t *p;
    size_t n;
    int r;
    while (c->state != ST_CLOSING && (r = whistle_framer_next(&c->fr, &p, &n)) == 1) {
        Whistle__V1__Frame *f = whistle__v1__frame__unpack(NULL, n, p);
        if (!f) {
            fail(c, WHISTLE_ERR_PROTOCOL, "protocol: the server sent a frame that does not decode");
            return;
        }
        dispatch(c, f);
    }
    if (c->state != ST_CLOSING && r < 0)
        fail(c, WHISTLE_ERR_PROTOCOL, "protocol: bad frame length from the server (%s)", whistle_strerror(r));
}

static void start_hello(whistle_conn *c)
{
    c->state = ST_HELLO;
    Whistle__V1__Hello h = WHISTLE__V1__HELLO__INIT;
    h.protocol_version = WHISTLE_PROTOCOL_VERSION;
    h.client_name = c->client_name;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_HELLO;
    req.hello = &h;
    int r = send_request(c, &req, on_hello, NULL);
    if (r < 0 && c->state != ST_CLOSING)
        fail(c, r, "hello: cannot send: %s", whistle_strerror(r));
}

/* New ciphertext is in the read BIO: advance the handshake, then decrypt
 * and deliver whatever frames are complete. */
static void on_input(whistle_conn *c)
{
    if (c->state == ST_TLS) {
        int r = wtls_handshake(&c->tls, c->err, sizeof c->err);
        flush(c);
        if (r < 0) {
            c->status = WHISTLE_ERR_TLS;
            begin_close(c, 0);
            return;
        }
        if (r == 0)
            return;
        start_hello(c);
    }
    while (c->state != ST_CLOSING) {
        ssize_t n = wtls_read(&c->tls, c->pbuf, sizeof c->pbuf, c->err, sizeof c->err);
        if (n == 0)
            break;
        if (n < 0) {
            c->status = n == WTLS_CLOSED ? WHISTLE_ERR_CLOSED : WHISTLE_ERR_TLS;
            begin_close(c, 0);
            return;
        }
        if (whistle_framer_feed(&c->fr, c->pbuf, (size_t)n) < 0) {
            fail(c, WHISTLE_ERR_NOMEM, "out of memory");
            return;
        }
        process_frames(c);
    }
    if (c->state != ST_CLOSING)
        flush(c); /* a read may produce output (key updates, tickets) */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    whistle_conn *c = h->data;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    whistle_conn *c = s->data;
    (void)buf;
    if (c->state == ST_CLOSING || nread == 0)
        return;
    if (nread < 0) {
        if (c->write_err[0] && (nread == UV_ECONNRESET || nread == UV_EOF))
            fail(c, WHISTLE_ERR_IO, "%s", c->write_err);
        else if (nread != UV_EOF)
            fail(c, WHISTLE_ERR_IO, "read: %s", uv_strerror((int)nread));
        else if (c->state == ST_TLS)
            fail(c, WHISTLE_ERR_TLS, "tls: handshake: connection closed by the server");
        else if (c->state == ST_HELLO)
            fail(c, WHISTLE_ERR_HELLO, "hello: connection closed by the server before it answered");
        else
            fail(c, WHISTLE_ERR_CLOSED, "connection closed by the server");
        return;
    }
    if (wtls_feed(&c->tls, buf->base, (size_t)nread) < 0) {
        fail(c, WHISTLE_ERR_NOMEM, "out of memory");
        return;
    }
    on_input(c);
}

/* ---------------------------------------------------------------- connect */

static void try_connect(whistle_conn *c);

static void addr_string(const struct sockaddr *sa, char *buf, size_t len)
{
    buf[0] = '\0';
    if (sa->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)sa, buf, len);
    else if (sa->sa_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)sa, buf, len);
}

static void on_retry_closed(uv_handle_t *h)
{
    whistle_conn *c = h->data;
    c->tcp_open = 0;
    if (c->state == ST_CLOSING)
        finalize(c);
    else
        try_connect(c);
}

/* The current address failed: note why, move on to the next one. */
static void connect_failed(whistle_conn *c, int uverr)
{
    char a[64];
    addr_string(c->ai_cur->ai_addr, a, sizeof a);
    if (strcmp(a, c->host) == 0)
        snprintf(c->err, sizeof c->err, "connect: %s port %s: %s", c->host, c->port, uv_strerror(uverr));
    else
        snprintf(c->err, sizeof c->err, "connect: %s (%s) port %s: %s", c->host, a, c->port, uv_strerror(uverr));
    c->ai_cur = c->ai_cur->ai_next;
    uv_close((uv_handle_t *)&c->tcp, on_retry_closed);
}

static void on_connected(uv_connect_t *req, int status)
{
    whistle_conn *c = req->handle->data;
    if (c->state == ST_CLOSING)
        return;
    if (status < 0) {
        connect_failed(c, status);
        return;
    }
    c->state = ST_TLS;
    c->err[0] = '\0'; /* an earlier address's failure no longer matters */
    int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0) {
        fail(c, WHISTLE_ERR_IO, "read: %s", uv_strerror(r));
        return;
    }
    on_input(c); /* sends the ClientHello */
}

static void try_connect(whistle_conn *c)
{
    while (c->ai_cur && c->ai_cur->ai_family != AF_INET && c->ai_cur->ai_family != AF_INET6)
        c->ai_cur = c->ai_cur->ai_next;
    if (!c->ai_cur) {
        /* c->err holds the last address's failure */
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "connect: %s: no usable address", c->host);
        char keep[sizeof c->err];
        memcpy(keep, c->err, sizeof keep);
        fail(c, WHISTLE_ERR_CONNECT, "%s", keep);
        return;
    }
    c->state = ST_CONNECT;
    uv_tcp_init(c->loop, &c->tcp);
    c->tcp.data = c;
    c->tcp_open = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    int r = uv_tcp_connect(&c->creq, &c->tcp, c->ai_cur->ai_addr, on_connected);
    if (r < 0)
        connect_failed(c, r);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    whistle_conn *c = req->data;
    c->gai_active = 0;
    if (c->state == ST_CLOSING) {
        if (res)
            uv_freeaddrinfo(res);
        finalize(c);
        return;
    }
    if (status < 0) {
        fail(c, WHISTLE_ERR_RESOLVE, "resolve %s: %s", c->host, uv_strerror(status));
        return;
    }
    c->ai_list = c->ai_cur = res;
    try_connect(c);
}

static void on_timer(uv_timer_t *t)
{
    whistle_conn *c = t->data;
    if (c->state == ST_CLOSING) {
        /* A graceful close that the socket did not let finish. */
        close_handles(c);
        return;
    }
    if (c->write_err[0]) {
        fail(c, WHISTLE_ERR_IO, "%s", c->write_err);
        return;
    }
    static const char *const phase[] = { "resolving", "connecting", "TLS handshake", "waiting for Hello" };
    fail(c, WHISTLE_ERR_TIMEOUT, "connect: %s port %s: timed out after %u ms (%s)", c->host, c->port, c->timeout_ms,
         phase[c->state]);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    close_handles(req->handle->data);
}

static void begin_close(whistle_conn *c, int graceful)
{
    if (c->state == ST_CLOSING)
        return;
    enum cstate prev = c->state;
    c->state = ST_CLOSING;
    if (c->gai_active)
        uv_cancel((uv_req_t *)&c->gai);
    if (c->tcp_open && uv_is_closing((uv_handle_t *)&c->tcp)) {
        /* between two addresses: on_retry_closed will finalize */
    } else if (graceful && c->tcp_open && prev >= ST_HELLO) {
        /* close_notify, then FIN once the queued writes (a last PushAck,
         * say) are out; the timer bounds the wait. */
        wtls_shutdown(&c->tls);
        flush(c);
        if (c->state == ST_CLOSING && uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) == 0) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            uv_timer_start(&c->timer, on_timer, CLOSE_GRACE_MS, 0);
            return;
        }
    }
    close_handles(c);
    /* With no handle to wait for (only a resolve in flight, or nothing),
     * finalize from its callback; otherwise the close callbacks do. */
}

/* ---------------------------------------------------------------- API */

int whistle_conn_open(uv_loop_t *loop, const whistle_opts *o, const whistle_conn_cbs *cbs, void *ud, whistle_conn **out,
                      char *err, size_t errlen)
{
    if (!loop || !o || !out) {
        snprintf(err, errlen, "whistle_conn_open: missing argument");
        return WHISTLE_ERR_INVALID;
    }
    const char *host = o->host && *o->host ? o->host : "localhost";
    if (strlen(host) >= sizeof((whistle_conn *)0)->host) {
        snprintf(err, errlen, "host name too long");
        return WHISTLE_ERR_INVALID;
    }
    whistle_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return WHISTLE_ERR_NOMEM;
    }
    c->loop = loop;
    if (cbs)
        c->cbs = *cbs;
    c->ud = ud;
    c->state = ST_RESOLVE;
    snprintf(c->host, sizeof c->host, "%s", host);
    snprintf(c->port, sizeof c->port, "%u", o->port ? o->port : WHISTLE_DEFAULT_PORT);
    snprintf(c->client_name, sizeof c->client_name, "%s", o->client_name ? o->client_name : "libwhistle");
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
    c->send_max_frame = WHISTLE_DEFAULT_MAX_FRAME;
    whistle_framer_init(&c->fr, WHISTLE_DEFAULT_MAX_FRAME);

    if (wtls_init(&c->tls, c->host, o->ca_file, o->cert_file, o->key_file, err, errlen) < 0) {
        whistle_framer_free(&c->fr);
        free(c);
        return WHISTLE_ERR_TLS;
    }

    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    int r = uv_getaddrinfo(loop, &c->gai, on_resolved, c->host, c->port, &hints);
    if (r < 0) {
        snprintf(err, errlen, "resolve %s: %s", c->host, uv_strerror(r));
        wtls_free(&c->tls);
        whistle_framer_free(&c->fr);
        free(c);
        return WHISTLE_ERR_RESOLVE;
    }
    c->gai_active = 1;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->timer_open = 1;
    uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
    *out = c;
    return 0;
}

int whistle_conn_send(whistle_conn *c, Whistle__V1__Request *req, whistle_response_cb cb, void *ud)
{
    if (!c || !req || !cb)
        return WHISTLE_ERR_INVALID;
    if (c->state == ST_CLOSING)
        return WHISTLE_ERR_CLOSED;
    if (c->state != ST_READY)
        return WHISTLE_ERR_STATE;
    return send_request(c, req, cb, ud);
}

int whistle_conn_cancel(whistle_conn *c, uint64_t id)
{
    pending *p = pending_take(c, id);
    if (!p)
        return -1;
    free(p);
    return 0;
}

int whistle_conn_push_ack(whistle_conn *c, const char *stream, uint64_t seq)
{
    return whistle_conn_push_ack_as(c, stream, seq, NULL);
}

int whistle_conn_push_ack_as(whistle_conn *c, const char *stream, uint64_t seq, const char *act_as)
{
    if (!c || !stream)
        return WHISTLE_ERR_INVALID;
    if (c->state == ST_CLOSING)
        return WHISTLE_ERR_CLOSED;
    if (c->state != ST_READY)
        return WHISTLE_ERR_STATE;
    Whistle__V1__PushAck ack = WHISTLE__V1__PUSH_ACK__INIT;
    ack.stream = (char *)stream;
    ack.seq = seq;
    ack.act_as = (char *)(act_as ? act_as : "");
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_PUSH_ACK;
    f.push_ack = &ack;
    return send_frame(c, &f);
}

void whistle_conn_close(whistle_conn *c)
{
    if (!c || c->state == ST_CLOSING)
        return;
    c->status = 0;
    if (c->state != ST_READY)
        snprintf(c->err, sizeof c->err, "closed by the client before the connection was ready");
    begin_close(c, 1);
}

const Whistle__V1__HelloResult *whistle_conn_hello(const whistle_conn *c)
{
    return c && c->hello_resp ? c->hello_resp->hello : NULL;
}

const char *whistle_conn_error(const whistle_conn *c) { return c ? c->err : ""; }
size_t whistle_conn_in_flight(const whistle_conn *c) { return c->n_pending; }
size_t whistle_conn_write_queue(const whistle_conn *c) { return c->wq_bytes; }

void whistle_response_free(Whistle__V1__Response *resp)
{
    if (resp)
        whistle__v1__response__free_unpacked(resp, NULL);
}

void whistle_push_free(Whistle__V1__Push *p)
{
    if (p)
        whistle__v1__push__free_unpacked(p, NULL);
}

int whistle_response_code(const Whistle__V1__Response *resp)
{
    return resp && resp->status ? (int)resp->status->code : 0;
}

const char *whistle_response_message(const Whistle__V1__Response *resp)
{
    return resp && resp->status && resp->status->message ? resp->status->message : "";
}
