/* http.c: see http.h. */
#include "http.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <h2o/http2.h>
#include <h2o/socket/uv-binding.h>

#include "log.h"

struct gw_http {
    const gw_config *cfg;
    uv_loop_t *loop;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    SSL_CTX *ssl;
    /* Contexts replaced by SIGHUP, freed only with the server: a reload
     * under way showed a use after free inside OpenSSL when the old one
     * was freed at once while connections made under it lived on, so
     * they are kept (a few KiB per reload). */
    SSL_CTX **retired;
    size_t nretired;
    uv_tcp_t listener;
    bool listening;
    size_t conns;
    gw_http_handler handler;
    void *ud;
};

/* h2o takes the uv handle's data field for itself, so the server rides
 * beside the handle. */
typedef struct http_conn {
    uv_tcp_t tcp; /* first: h2o's close callback gets it */
    gw_http *s;
} http_conn;

typedef struct gw_handler {
    h2o_handler_t super;
    gw_http *s;
} gw_handler;

int gw_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

void gw_http_send(h2o_req_t *req, int status, const char *reason, const char *ctype, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, len);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    gw_http *s = ((gw_handler *)self)->s;
    /* h2o bounds a request head at H2O_MAX_REQLEN (about 400 kB) and 100
     * headers; the gateway's own limit is far lower */
    size_t head = req->method.len + req->path.len + 12;
    for (size_t i = 0; i < req->headers.size; i++)
        head += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    if (head > s->cfg->max_header_bytes) {
        gw_debug("http: a request head of %zu bytes refused (http.max_header_bytes = %u)", head,
                 s->cfg->max_header_bytes);
        static const char msg[] = "request header fields too large\n";
        gw_http_send(req, 431, "Request Header Fields Too Large", "text/plain; charset=utf-8", msg, sizeof msg - 1);
        return 0;
    }
    s->handler(s->ud, req);
    return 0;
}

static void on_conn_close(uv_handle_t *h)
{
    http_conn *c = (http_conn *)h;
    c->s->conns--;
    free(c);
}

static void free_handle(uv_handle_t *h) { free(h); }

static void on_accept(uv_stream_t *listener, int status)
{
    gw_http *s = listener->data;
    if (status != 0)
        return;
    http_conn *c = malloc(sizeof *c);
    if (!c)
        return;
    c->s = s;
    uv_tcp_init(s->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, free_handle);
        return;
    }
    if (s->conns >= s->cfg->max_connections) {
        gw_warn("http: a connection refused: %zu open (http.max_connections)", s->conns);
        uv_close((uv_handle_t *)&c->tcp, free_handle);
        return;
    }
    s->conns++;
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_close);
    h2o_accept(&s->accept_ctx, sock);
}

static int ssl_fail(const char *what, const char *file, char *err, size_t errlen)
{
    char e[256];
    ERR_error_string_n(ERR_get_error(), e, sizeof e);
    snprintf(err, errlen, "%s %s: %s", what, file, e);
    return -1;
}

/* A server context with http.cert and http.key: *out, or -1 with err. */
static int make_ssl(const gw_config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    int r = 0;
    if (!ssl)
        return ssl_fail("tls:", "context", err, errlen);
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* TLS 1.2 only with forward secrecy and an AEAD, as whistled */
    SSL_CTX_set_cipher_list(ssl, "ECDHE+AESGCM:ECDHE+CHACHA20");
    if (SSL_CTX_use_certificate_chain_file(ssl, cfg->cert) != 1)
        r = ssl_fail("http.cert", cfg->cert, err, errlen);
    else if (SSL_CTX_use_PrivateKey_file(ssl, cfg->key, SSL_FILETYPE_PEM) != 1)
        r = ssl_fail("http.key", cfg->key, err, errlen);
    else if (SSL_CTX_check_private_key(ssl) != 1)
        r = ssl_fail("http.key does not match http.cert:", cfg->key, err, errlen);
    if (r < 0) {
        SSL_CTX_free(ssl);
        return -1;
    }
    h2o_ssl_register_alpn_protocols(ssl, h2o_http2_alpn_protocols);
    *out = ssl;
    return 0;
}

int gw_http_reload_tls(gw_http *s, char *err, size_t errlen)
{
    SSL_CTX *fresh;
    if (make_ssl(s->cfg, &fresh, err, errlen) < 0)
        return -1;
    /* connections already open keep the old context; new ones get the
     * fresh one */
    SSL_CTX **r = realloc(s->retired, (s->nretired + 1) * sizeof *r);
    if (!r) {
        SSL_CTX_free(fresh);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->retired = r;
    s->retired[s->nretired++] = s->ssl;
    s->ssl = fresh;
    s->accept_ctx.ssl_ctx = fresh;
    return 0;
}

int gw_http_start(uv_loop_t *loop, const gw_config *cfg, gw_http_handler h, void *ud, const char *port_file,
                  gw_http **out, char *err, size_t errlen)
{
    gw_http *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = cfg;
    s->loop = loop;
    s->handler = h;
    s->ud = ud;
    if (make_ssl(cfg, &s->ssl, err, errlen) < 0) {
        free(s);
        return -1;
    }
    h2o_config_init(&s->globalconf);
    s->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("whistle-gateway"));
    s->globalconf.max_request_entity_size = cfg->max_body_bytes;
    s->globalconf.http1.req_timeout = (uint64_t)cfg->request_timeout * 1000;
    s->globalconf.http2.idle_timeout = (uint64_t)cfg->idle_timeout * 1000;
    s->globalconf.http2.graceful_shutdown_timeout = (uint64_t)cfg->drain_timeout * 1000;
    s->globalconf.handshake_timeout = (uint64_t)cfg->handshake_timeout * 1000;
    s->globalconf.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    gw_handler *hd = (gw_handler *)h2o_create_handler(path, sizeof *hd);
    hd->super.on_req = on_req;
    hd->s = s;
    h2o_context_init(&s->ctx, loop, &s->globalconf);
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->globalconf.hosts;
    s->accept_ctx.ssl_ctx = s->ssl;

    struct sockaddr_storage ss;
    int r;
    if (uv_ip4_addr(cfg->listen, cfg->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(cfg->listen, cfg->port, (struct sockaddr_in6 *)&ss) != 0) {
        snprintf(err, errlen, "http.listen = %s: not an IPv4 or IPv6 address", cfg->listen);
        goto fail;
    }
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listening = true;
    if ((r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&s->listener, 128, on_accept)) != 0) {
        snprintf(err, errlen, "http: cannot listen on %s port %u: %s", cfg->listen, cfg->port, uv_strerror(r));
        goto fail;
    }
    int namelen = sizeof ss;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &namelen);
    unsigned port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                  : ((struct sockaddr_in6 *)&ss)->sin6_port);
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
            snprintf(err, errlen, "--port-file %s: %s", port_file, strerror(errno));
            goto fail;
        }
    }
    gw_info("listening on https://%s%s%s:%u/open311/v2/", ss.ss_family == AF_INET6 ? "[" : "", cfg->listen,
            ss.ss_family == AF_INET6 ? "]" : "", port);
    *out = s;
    return 0;
fail:
    /* a start-up error: the process exits; the loop's handles go with it */
    *out = s;
    return -1;
}

void gw_http_stop_accepting(gw_http *s)
{
    if (s->listening) {
        s->listening = false;
        uv_close((uv_handle_t *)&s->listener, NULL);
    }
    h2o_context_request_shutdown(&s->ctx);
}

size_t gw_http_connections(const gw_http *s) { return s->conns; }

int gw_http_idle(gw_http *s)
{
    h2o_timeout_t *t[] = { &s->ctx.zero_timeout,
                           &s->ctx.one_sec_timeout,
                           &s->ctx.hundred_ms_timeout,
                           &s->ctx.handshake_timeout,
                           &s->ctx.http1.req_timeout,
                           &s->ctx.http2.idle_timeout,
                           &s->ctx.http2.graceful_shutdown_timeout };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!h2o_linklist_is_empty(&t[i]->_entries))
            return 0;
    return s->conns == 0;
}

h2o_context_t *gw_http_context(gw_http *s) { return &s->ctx; }

void gw_http_free(gw_http *s)
{
    if (!s)
        return;
    h2o_context_dispose(&s->ctx);
    h2o_config_dispose(&s->globalconf);
    SSL_CTX_free(s->ssl);
    for (size_t i = 0; i < s->nretired; i++)
        SSL_CTX_free(s->retired[i]);
    free(s->retired);
    free(s);
}
