/* conns.c: the connection measurements.
 *
 * idle: opens N mTLS connections, each says Hello and then stays idle, and
 * reads the daemon's memory before and after: the difference over N is
 * what one idle connection costs the daemon.
 *
 * handshake: full mTLS handshakes per second from T threads, each
 * handshake followed by one round trip so that the server has surely
 * finished it (in TLS 1.3 the server checks the client's certificate after
 * the client's side is done): Hello against whistled, a line against
 * `openssl s_server -rev` (which echoes it reversed) as the reference. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "whistle/client.h"
#include "whistle/frame.h"

/* ---------------------------------------------------------------- shared */

static int hello_frame(uint8_t **out, size_t *len)
{
    Whistle__V1__Hello h = WHISTLE__V1__HELLO__INIT;
    h.protocol_version = WHISTLE_PROTOCOL_VERSION;
    h.client_name = "whistle-bench";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 1;
    req.call_case = WHISTLE__V1__REQUEST__CALL_HELLO;
    req.hello = &h;
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = &req;
    return whistle_frame_pack(&f, WHISTLE_DEFAULT_MAX_FRAME, out, len);
}

/* The daemon's memory: ServerStats as admin, else /proc/PID. */
static int daemon_mem(const bopts *o, srv_snap *s)
{
    memset(s, 0, sizeof *s);
    s->rss = s->rss_anon = s->cpu_us = s->connections = -1;
    if (pki_has(o, o->as_admin)) {
        char cert[1024], key[1024], ca[1024], e[512];
        pki_paths(o, o->as_admin, cert, sizeof cert, key, sizeof key, ca, sizeof ca);
        whistle_opts wo = { .host = o->host,
                            .port = (uint16_t)o->port,
                            .ca_file = ca,
                            .cert_file = cert,
                            .key_file = key,
                            .client_name = "whistle-bench",
                            .timeout_ms = 60000 };
        whistle_client *c;
        if (whistle_connect(&wo, &c, e, sizeof e) == 0) {
            Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
            Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
            req.call_case = WHISTLE__V1__REQUEST__CALL_SERVER_STATS;
            req.server_stats = &ss;
            Whistle__V1__Response *resp = NULL;
            if (whistle_call(c, &req, &resp) == 0 && whistle_response_code(resp) == 0 &&
                resp->result_case == WHISTLE__V1__RESPONSE__RESULT_SERVER_STATS) {
                s->ok = true;
                s->rss = (int64_t)resp->server_stats->rss_bytes;
                s->rss_anon = (int64_t)resp->server_stats->rss_anon_bytes;
                s->cpu_us = (int64_t)(resp->server_stats->cpu_user_us + resp->server_stats->cpu_system_us);
                s->connections = resp->server_stats->connections;
            }
            whistle_response_free(resp);
            whistle_close(c);
        }
    }
    if (o->daemon_pid) {
        srv_snap p = *s;
        if (proc_snap(o->daemon_pid, &p) == 0) {
            s->ok = true;
            s->rss = p.rss;
            s->rss_anon = p.rss_anon;
            s->cpu_us = p.cpu_us;
        }
    }
    return s->ok ? 0 : -1;
}

/* ---------------------------------------------------------------- idle */

#define IDLE_AT_ONCE 200
#define IDLE_SETTLE_MS 5000

typedef struct iconn {
    rtls t;
    struct idle *I;
    whistle_framer fr;
    bool done;
} iconn;

typedef struct idle {
    uv_loop_t loop;
    SSL_CTX *ctx;
    struct sockaddr_storage addr;
    iconn *c;
    int n, next, ok, failed, closed;
    uint8_t *hello;
    size_t hello_len;
    char first_err[300];
    bool stopping;
} idle;

static void idle_next(idle *I);

static void idle_finish(iconn *c, bool ok, const char *why)
{
    idle *I = c->I;
    if (c->done)
        return;
    c->done = true;
    if (ok)
        I->ok++;
    else {
        I->failed++;
        if (!I->first_err[0])
            snprintf(I->first_err, sizeof I->first_err, "%s", why ? why : "failed");
    }
    if (I->ok + I->failed == I->n)
        uv_stop(&I->loop);
    else
        idle_next(I);
}

static void idle_ready(rtls *t, int status, const char *err)
{
    iconn *c = t->ud;
    if (status != 0) {
        idle_finish(c, false, err);
        return;
    }
    if (rtls_write(t, c->I->hello, c->I->hello_len) != 0)
        idle_finish(c, false, "write failed");
}

static void idle_data(rtls *t, const char *data, size_t len)
{
    iconn *c = t->ud;
    if (c->done)
        return; /* nothing more is expected: the connection is idle */
    whistle_framer_feed(&c->fr, data, len);
    const uint8_t *f;
    size_t n;
    if (whistle_framer_next(&c->fr, &f, &n) == 1) {
        Whistle__V1__Frame *fr = whistle__v1__frame__unpack(NULL, n, f);
        bool ok = fr && fr->kind_case == WHISTLE__V1__FRAME__KIND_RESPONSE && fr->response->status &&
                  fr->response->status->code == 0;
        char why[300] = "hello refused";
        if (fr && fr->kind_case == WHISTLE__V1__FRAME__KIND_RESPONSE && fr->response->status &&
            fr->response->status->message)
            snprintf(why, sizeof why, "hello: %s", fr->response->status->message);
        if (fr)
            whistle__v1__frame__free_unpacked(fr, NULL);
        /* the framer's buffer is not needed any more: an idle client
         * should not hold it either */
        whistle_framer_free(&c->fr);
        whistle_framer_init(&c->fr, WHISTLE_DEFAULT_MAX_FRAME);
        idle_finish(c, ok, why);
    }
}

static void idle_closed(rtls *t)
{
    iconn *c = t->ud;
    idle *I = c->I;
    whistle_framer_free(&c->fr);
    I->closed++;
    if (!c->done)
        idle_finish(c, false, t->err[0] ? t->err : "closed");
    if (I->stopping && I->closed == I->next)
        uv_stop(&I->loop);
}

static void idle_next(idle *I)
{
    while (I->next < I->n && I->next - (I->ok + I->failed) < IDLE_AT_ONCE) {
        iconn *c = &I->c[I->next++];
        c->I = I;
        c->t.ud = c;
        c->t.on_ready = idle_ready;
        c->t.on_data = idle_data;
        c->t.on_close = idle_closed;
        whistle_framer_init(&c->fr, WHISTLE_DEFAULT_MAX_FRAME);
        rtls_open(&c->t, &I->loop, I->ctx, (struct sockaddr *)&I->addr, NULL);
    }
}

static void on_settle(uv_timer_t *t) { uv_stop(t->loop); }

int bench_idle(const bopts *o, int n, json_t **out, char *err, size_t errlen)
{
    idle *I = calloc(1, sizeof *I);
    I->n = n;
    I->c = calloc((size_t)n, sizeof *I->c);
    char cert[1024], key[1024], ca[1024];
    pki_paths(o, o->as_operator, cert, sizeof cert, key, sizeof key, ca, sizeof ca);
    int rc = -1;
    if (!I->c || !(I->ctx = rtls_ctx(ca, cert, key, err, errlen)) ||
        resolve_addr(o->host, o->port, &I->addr, err, errlen) != 0 || hello_frame(&I->hello, &I->hello_len) != 0) {
        if (!err[0])
            snprintf(err, errlen, "out of memory");
        goto out;
    }
    srv_snap before, after;
    if (daemon_mem(o, &before) != 0) {
        snprintf(err, errlen, "cannot read the daemon's memory: no ServerStats as %s and no --daemon-pid", o->as_admin);
        goto out;
    }
    uv_loop_init(&I->loop);
    if (!o->json)
        fprintf(stderr, "whistle-bench: opening %d idle connections as %s\n", n, o->as_operator);
    uint64_t t0 = now_ns();
    idle_next(I);
    uv_run(&I->loop, UV_RUN_DEFAULT);
    double open_s = (double)(now_ns() - t0) / 1e9;
    /* Idle means quiet for a while: the daemon gives an idle connection's
     * buffers back after a few seconds (server.c, conn_trim). */
    uv_timer_t settle;
    uv_timer_init(&I->loop, &settle);
    uv_timer_start(&settle, on_settle, IDLE_SETTLE_MS, 0);
    uv_run(&I->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&settle, NULL);
    int mem_rc = daemon_mem(o, &after);

    json_t *j = json_object();
    json_object_set_new(j, "mode", json_string("idle"));
    if (o->label)
        json_object_set_new(j, "label", json_string(o->label));
    json_object_set_new(j, "connections", json_integer(n));
    json_object_set_new(j, "opened", json_integer(I->ok));
    json_object_set_new(j, "failed", json_integer(I->failed));
    if (I->first_err[0])
        json_object_set_new(j, "first_error", json_string(I->first_err));
    json_object_set_new(j, "seconds_to_open", json_real(open_s));
    json_object_set_new(j, "rss_before", json_integer(before.rss));
    json_object_set_new(j, "rss_anon_before", json_integer(before.rss_anon));
    if (mem_rc == 0) {
        json_object_set_new(j, "rss_after", json_integer(after.rss));
        json_object_set_new(j, "rss_anon_after", json_integer(after.rss_anon));
        if (I->ok > 0) {
            /* anonymous memory: the heap that connections take; the rest of
             * RSS is mostly LMDB's map, which does not grow with them */
            json_object_set_new(j, "bytes_per_connection",
                                json_real((double)(after.rss_anon - before.rss_anon) / I->ok));
            json_object_set_new(j, "rss_bytes_per_connection", json_real((double)(after.rss - before.rss) / I->ok));
        }
        if (after.connections >= 0)
            json_object_set_new(j, "server_connections", json_integer(after.connections));
    }
    json_object_set_new(j, "machine", machine_json());
    *out = j;
    rc = 0;

    I->stopping = true;
    for (int i = 0; i < I->next; i++)
        rtls_close(&I->c[i].t);
    if (I->closed < I->next)
        uv_run(&I->loop, UV_RUN_DEFAULT);
    uv_run(&I->loop, UV_RUN_NOWAIT);
    uv_loop_close(&I->loop);
out:
    SSL_CTX_free(I->ctx);
    free(I->hello);
    free(I->c);
    free(I);
    return rc;
}

/* ---------------------------------------------------------------- handshake */

typedef struct hs_thread {
    pthread_t th;
    const bopts *o;
    SSL_CTX *ctx;
    const struct sockaddr_storage *addr;
    bool whistle;
    const uint8_t *hello;
    size_t hello_len;
    uint64_t deadline;
    uint64_t ok, failed;
    lat lat;
    char err[300];
} hs_thread;

static int read_full(SSL *ssl, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int r = SSL_read(ssl, buf + got, (int)(n - got));
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int one_handshake(hs_thread *h)
{
    int fd = socket(h->addr->ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(h->err, sizeof h->err, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    socklen_t alen = h->addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int rc = -1;
    SSL *ssl = NULL;
    if (connect(fd, (const struct sockaddr *)h->addr, alen) != 0) {
        snprintf(h->err, sizeof h->err, "connect: %s", strerror(errno));
        goto out;
    }
    ssl = SSL_new(h->ctx);
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        char why[256] = "handshake failed";
        unsigned long e = ERR_get_error();
        if (e)
            ERR_error_string_n(e, why, sizeof why);
        snprintf(h->err, sizeof h->err, "TLS: %s", why);
        goto out;
    }
    if (h->whistle) {
        uint8_t hdr[4], body[4096];
        if (SSL_write(ssl, h->hello, (int)h->hello_len) != (int)h->hello_len || read_full(ssl, hdr, 4) != 0) {
            snprintf(h->err, sizeof h->err, "hello: no answer (is the certificate's principal known?)");
            goto out;
        }
        uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
        if (n == 0 || n > sizeof body || read_full(ssl, body, n) != 0) {
            snprintf(h->err, sizeof h->err, "hello: bad answer");
            goto out;
        }
    } else {
        char line[64];
        size_t got = 0;
        if (SSL_write(ssl, "ping\n", 5) != 5)
            goto out;
        while (got < sizeof line) {
            int r = SSL_read(ssl, line + got, (int)(sizeof line - got));
            if (r <= 0) {
                snprintf(h->err, sizeof h->err, "echo: no answer (is it openssl s_server -rev?)");
                goto out;
            }
            got += (size_t)r;
            if (memchr(line, '\n', got))
                break;
        }
    }
    rc = 0;
    SSL_shutdown(ssl); /* close_notify; the answer is not awaited */
out:
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return rc;
}

static void *hs_main(void *arg)
{
    hs_thread *h = arg;
    while (now_ns() < h->deadline) {
        uint64_t t0 = now_ns();
        if (one_handshake(h) == 0) {
            h->ok++;
            lat_add(&h->lat, now_ns() - t0);
        } else if (++h->failed > 100 && h->ok == 0)
            break; /* nothing works: stop early with the error */
    }
    return NULL;
}

int bench_handshake(const bopts *o, const char *proto, int threads, json_t **out, char *err, size_t errlen)
{
    bool whistle = strcmp(proto, "whistle") == 0;
    if (!whistle && strcmp(proto, "echo") != 0) {
        snprintf(err, errlen, "--proto %s: whistle or echo", proto);
        return -1;
    }
    char cert[1024], key[1024], ca[1024];
    pki_paths(o, o->as_operator, cert, sizeof cert, key, sizeof key, ca, sizeof ca);
    SSL_CTX *ctx = rtls_ctx(ca, cert, key, err, errlen);
    if (!ctx)
        return -1;
    /* blocking sockets: the library's own buffers, no moving writes */
    SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    struct sockaddr_storage addr;
    uint8_t *hello = NULL;
    size_t hello_len = 0;
    if (resolve_addr(o->host, o->port, &addr, err, errlen) != 0 || hello_frame(&hello, &hello_len) != 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    srv_snap before = { 0 }, after = { 0 };
    if (o->daemon_pid)
        proc_snap(o->daemon_pid, &before);
    if (threads < 1)
        threads = 1;
    hs_thread *h = calloc((size_t)threads, sizeof *h);
    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(o->duration * 1e9);
    for (int i = 0; i < threads; i++) {
        h[i] = (hs_thread){ .o = o,
                            .ctx = ctx,
                            .addr = &addr,
                            .whistle = whistle,
                            .hello = hello,
                            .hello_len = hello_len,
                            .deadline = deadline };
        pthread_create(&h[i].th, NULL, hs_main, &h[i]);
    }
    lat all = { 0 };
    uint64_t ok = 0, failed = 0;
    char first[300] = "";
    for (int i = 0; i < threads; i++) {
        pthread_join(h[i].th, NULL);
        ok += h[i].ok;
        failed += h[i].failed;
        lat_merge(&all, &h[i].lat);
        lat_free(&h[i].lat);
        if (!first[0] && h[i].err[0])
            snprintf(first, sizeof first, "%s", h[i].err);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    if (o->daemon_pid)
        proc_snap(o->daemon_pid, &after);
    json_t *j = json_object();
    json_object_set_new(j, "mode", json_string("handshake"));
    if (o->label)
        json_object_set_new(j, "label", json_string(o->label));
    json_object_set_new(j, "proto", json_string(proto));
    json_object_set_new(j, "threads", json_integer(threads));
    json_object_set_new(j, "handshakes", json_integer((json_int_t)ok));
    json_object_set_new(j, "failed", json_integer((json_int_t)failed));
    if (first[0] && failed)
        json_object_set_new(j, "first_error", json_string(first));
    json_object_set_new(j, "seconds", json_real(secs));
    json_object_set_new(j, "per_s", json_real(secs > 0 ? (double)ok / secs : 0));
    json_object_set_new(j, "latency_us", lat_json(&all));
    if (before.ok && after.ok && ok)
        json_object_set_new(j, "server_cpu_us_per_handshake",
                            json_real((double)(after.cpu_us - before.cpu_us) / (double)ok));
    json_object_set_new(j, "machine", machine_json());
    *out = j;
    lat_free(&all);
    free(h);
    free(hello);
    SSL_CTX_free(ctx);
    if (ok == 0) {
        snprintf(err, errlen, "no handshake succeeded: %s", first[0] ? first : "?");
        json_decref(j);
        *out = NULL;
        return -1;
    }
    return 0;
}
