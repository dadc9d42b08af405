/* rtls.c: a bare TLS client connection on libuv, over memory BIOs, with a
 * context shared by every connection (libwhistle makes one per
 * connection, which for ten thousand connections would measure the bench
 * more than the server). Used for Redis and for the idle connections. */
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum { R_CONNECTING, R_HANDSHAKE, R_READY, R_CLOSING };

typedef struct rw {
    uv_write_t req;
    rtls *t;
    size_t len;
    char data[];
} rw;

SSL_CTX *rtls_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* Every handshake full, as the daemon's clients do (no resumption). */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        goto fail;
    return ctx;
fail:;
    char why[256] = "out of memory";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    snprintf(err, errlen, "TLS context (%s, %s, %s): %s", ca, cert, key, why);
    SSL_CTX_free(ctx);
    return NULL;
}

static void fail(rtls *t, const char *why);

static void on_written(uv_write_t *req, int status)
{
    rw *w = (rw *)req;
    rtls *t = w->t;
    t->wq -= w->len;
    free(w);
    if (status < 0 && t->state != R_CLOSING)
        fail(t, uv_strerror(status));
}

static void flush_out(rtls *t)
{
    size_t n;
    while (t->state != R_CLOSING && (n = (size_t)BIO_ctrl_pending(t->wbio)) > 0) {
        rw *w = malloc(sizeof *w + n);
        if (!w) {
            fail(t, "out of memory");
            return;
        }
        w->t = t;
        int got = BIO_read(t->wbio, w->data, (int)n);
        w->len = got > 0 ? (size_t)got : 0;
        uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
        t->wq += w->len;
        if (uv_write(&w->req, (uv_stream_t *)&t->tcp, &buf, 1, on_written) != 0) {
            t->wq -= w->len;
            free(w);
            fail(t, "write failed");
            return;
        }
    }
}

static void on_closed(uv_handle_t *h)
{
    rtls *t = h->data;
    if (t->ssl)
        SSL_free(t->ssl);
    t->ssl = NULL;
    if (t->on_close)
        t->on_close(t);
}

static void fail(rtls *t, const char *why)
{
    if (t->state == R_CLOSING)
        return;
    int was = t->state;
    t->state = R_CLOSING;
    if (!t->err[0])
        snprintf(t->err, sizeof t->err, "%s", why);
    if (was != R_READY && t->on_ready)
        t->on_ready(t, -1, t->err);
    uv_close((uv_handle_t *)&t->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static __thread char tslab[65536]; /* one loop per thread, one read at a time */
    *buf = uv_buf_init(tslab, sizeof tslab);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    rtls *t = s->data;
    if (nread == 0 || t->state == R_CLOSING)
        return;
    if (nread < 0) {
        fail(t, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        return;
    }
    BIO_write(t->rbio, buf->base, (int)nread);
    if (t->state == R_HANDSHAKE) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        flush_out(t);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            char why[256] = "handshake failed";
            unsigned long ee = ERR_get_error();
            if (ee)
                ERR_error_string_n(ee, why, sizeof why);
            ERR_clear_error();
            fail(t, why);
            return;
        }
        t->state = R_READY;
        if (t->on_ready)
            t->on_ready(t, 0, NULL);
        if (t->state != R_READY)
            return;
    }
    char plain[16384];
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(t->ssl, plain, sizeof plain);
        if (n > 0) {
            if (t->on_data)
                t->on_data(t, plain, (size_t)n);
            if (t->state != R_READY)
                return;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        ERR_clear_error();
        fail(t, e == SSL_ERROR_ZERO_RETURN ? "closed by the server" : "TLS error");
        return;
    }
    flush_out(t); /* reads can produce output (key updates) */
}

static void on_connected(uv_connect_t *req, int status)
{
    rtls *t = req->data;
    if (t->state == R_CLOSING)
        return;
    if (status < 0) {
        fail(t, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&t->tcp, 1);
    t->state = R_HANDSHAKE;
    uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
    ERR_clear_error();
    SSL_do_handshake(t->ssl); /* the ClientHello */
    ERR_clear_error();
    flush_out(t);
}

int rtls_open(rtls *t, uv_loop_t *loop, SSL_CTX *ctx, const struct sockaddr *addr, const char *sni)
{
    t->state = R_CONNECTING;
    t->err[0] = 0;
    t->wq = 0;
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        t->ssl = NULL;
        return -1;
    }
    BIO_set_mem_eof_return(t->rbio, -1);
    BIO_set_mem_eof_return(t->wbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_connect_state(t->ssl);
    if (sni)
        SSL_set_tlsext_host_name(t->ssl, sni);
    uv_tcp_init(loop, &t->tcp);
    t->tcp.data = t;
    t->creq.data = t;
    int rc = uv_tcp_connect(&t->creq, &t->tcp, addr, on_connected);
    if (rc != 0)
        fail(t, uv_strerror(rc)); /* on_ready(-1) now, then on_close */
    return 0;
}

int rtls_write(rtls *t, const void *data, size_t len)
{
    if (t->state != R_READY)
        return -1;
    ERR_clear_error();
    if (SSL_write(t->ssl, data, (int)len) != (int)len) {
        ERR_clear_error();
        fail(t, "TLS write failed");
        return -1;
    }
    flush_out(t);
    return t->state == R_READY ? 0 : -1;
}

void rtls_close(rtls *t)
{
    if (t->state == R_CLOSING)
        return;
    if (t->state == R_READY) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* close_notify, best effort */
        ERR_clear_error();
        flush_out(t);
    }
    if (t->state == R_CLOSING)
        return;
    t->state = R_CLOSING;
    uv_close((uv_handle_t *)&t->tcp, on_closed);
}
