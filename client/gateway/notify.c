/* notify.c: see notify.h. The webhook is called with h2o's HTTP/1 client
 * on the same loop (one connection per delivery: deliveries are rare and
 * the receiver may be restarted at any time). */
#include "notify.h"

#include <jansson.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <h2o/http1client.h>
#include <h2o/url.h>

#include "log.h"
#include "whistle/names.h"
#include "whistle/session.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif
#define QUEUE_MAX 1000

typedef struct item {
    Whistle__V1__Push *p;
    struct item *next;
} item;

struct notifier {
    uv_loop_t *loop;
    const gw_config *cfg;
    h2o_context_t *hctx;
    whistle_session *s;
    char stream[200];
    h2o_url_t url;
    char *url_buf;
    SSL_CTX *ssl;
    h2o_timeout_t io_timeout;
    h2o_http1client_ctx_t cctx;
    /* the queue, in stream order; head is the one being delivered */
    item *head, *tail;
    size_t n;
    bool overflow;
    uint64_t delivered; /* the highest seq the webhook took, this run */
    /* the delivery in flight */
    h2o_http1client_t *client;
    char *req_head, *req_body;
    h2o_iovec_t bufs[2];
    int status;
    unsigned attempt;
    uv_timer_t retry;
    bool closing;
};

static void deliver(notifier *n);

static void fmt_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    char z[8];
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof z, "%z", &tm);
    size_t l = strlen(buf);
    if (strlen(z) == 5)
        snprintf(buf + l, len - l, "%.3s:%.2s", z, z + 3);
}

/* The JSON a webhook receives for one push. */
static char *body_of(const notifier *n, const Whistle__V1__Push *p)
{
    char key[256], at[40], wbuf[40];
    snprintf(key, sizeof key, "%s:%llu", p->stream, (unsigned long long)p->seq);
    fmt_time(p->at_ms, at, sizeof at);
    json_t *o = json_object();
    json_object_set_new(o, "idempotency_key", json_string(key));
    json_object_set_new(o, "stream", json_string(p->stream));
    json_object_set_new(o, "seq", json_integer((json_int_t)p->seq));
    json_object_set_new(o, "at", json_string(at));
    json_object_set_new(o, "action", json_string(p->action));
    json_object_set_new(o, "principal", json_string(n->cfg->notify_as));
    const Whistle__V1__Event *e = p->event;
    if (e) {
        bool closed = e->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_CLOSED ||
                      e->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_REJECTED;
        json_object_set_new(o, "service_request_id", json_string(e->ticket));
        json_object_set_new(o, "status", json_string(closed ? "closed" : "open"));
        json_object_set_new(o, "state", json_string(whistle_state_name(e->state)));
        json_object_set_new(o, "service_code", json_string(e->category));
        json_object_set_new(o, "contact", json_string(e->contact));
        json_object_set_new(o, "external_id", json_string(e->external_id));
        if (e->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_REJECTED)
            json_object_set_new(o, "status_notes", json_string(e->reject_reason));
        else if (e->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_CLOSED)
            json_object_set_new(o, "status_notes", json_string(e->resolution));
        if (e->due_ms) {
            fmt_time(e->due_ms, wbuf, sizeof wbuf);
            json_object_set_new(o, "expected_datetime", json_string(wbuf));
        }
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static void pop(notifier *n)
{
    item *it = n->head;
    if (!it)
        return;
    n->head = it->next;
    if (!n->head)
        n->tail = NULL;
    n->n--;
    whistle_push_free(it->p);
    free(it);
}

static void clear(notifier *n)
{
    while (n->head)
        pop(n);
}

static void delivery_free(notifier *n)
{
    free(n->req_head);
    free(n->req_body);
    n->req_head = n->req_body = NULL;
    n->client = NULL;
}

static void on_retry(uv_timer_t *t) { deliver(t->data); }

/* The delivery of the head ended: ok, or to be tried again. */
static void delivered(notifier *n, bool ok, const char *why)
{
    delivery_free(n);
    if (n->closing)
        return;
    item *it = n->head;
    if (!it)
        return;
    if (ok) {
        gw_debug("notify: %s:%llu delivered (%d)", it->p->stream, (unsigned long long)it->p->seq, n->status);
        if (it->p->seq > n->delivered)
            n->delivered = it->p->seq;
        whistle_session_ack(n->s, it->p->seq);
        n->attempt = 0;
        pop(n);
        if (n->head)
            return deliver(n);
        if (n->overflow) {
            /* pushes were dropped for want of room: follow again from the
             * cursor, which is where they start */
            n->overflow = false;
            whistle_session_drop(n->s);
        }
        return;
    }
    uint64_t delay = n->cfg->retry_min_ms;
    for (unsigned i = 0; i < n->attempt && delay < n->cfg->retry_max_ms; i++)
        delay *= 2;
    if (delay > n->cfg->retry_max_ms)
        delay = n->cfg->retry_max_ms;
    n->attempt++;
    gw_warn("notify: %s:%llu not delivered (%s); trying again in %llu ms", it->p->stream,
            (unsigned long long)it->p->seq, why, (unsigned long long)delay);
    uv_timer_start(&n->retry, on_retry, delay, 0);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    notifier *n = client->data;
    if (client->sock && client->sock->input)
        h2o_buffer_consume(&client->sock->input, client->sock->input->size);
    if (errstr == NULL)
        return 0;
    bool ok = errstr == h2o_http1client_error_is_eos && n->status >= 200 && n->status < 300;
    char why[160];
    if (n->status && !(n->status >= 200 && n->status < 300))
        snprintf(why, sizeof why, "the webhook answered %d", n->status);
    else
        snprintf(why, sizeof why, "%s", errstr == h2o_http1client_error_is_eos ? "no answer" : errstr);
    delivered(n, ok, why);
    return -1;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version, int status,
                                       h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers, int rlen)
{
    notifier *n = client->data;
    (void)minor_version, (void)msg, (void)headers, (void)num_headers, (void)rlen;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        delivered(n, false, errstr);
        return NULL;
    }
    n->status = status;
    if (errstr == h2o_http1client_error_is_eos) {
        /* no body */
        delivered(n, status >= 200 && status < 300, "the webhook refused it");
        return NULL;
    }
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr, h2o_iovec_t **reqbufs,
                                          size_t *reqbufcnt, int *method_is_head)
{
    notifier *n = client->data;
    if (errstr) {
        delivered(n, false, errstr);
        return NULL;
    }
    *reqbufs = n->bufs;
    *reqbufcnt = 2;
    *method_is_head = 0;
    return on_head;
}

static void deliver(notifier *n)
{
    if (n->closing || n->client || !n->head || uv_is_active((uv_handle_t *)&n->retry))
        return;
    const Whistle__V1__Push *p = n->head->p;
    n->req_body = body_of(n, p);
    if (!n->req_body) {
        delivered(n, false, "out of memory");
        return;
    }
    size_t bl = strlen(n->req_body);
    unsigned char mac[32];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), n->cfg->notify_secret, (int)strlen(n->cfg->notify_secret), (unsigned char *)n->req_body, bl, mac,
         &ml);
    char hex[65];
    for (unsigned i = 0; i < ml && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    hex[64] = 0;
    char *head = NULL;
    size_t hl = 0;
    FILE *f = open_memstream(&head, &hl);
    if (!f) {
        delivered(n, false, "out of memory");
        return;
    }
    fprintf(f,
            "POST %.*s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: whistle-gateway/%s\r\n"
            "Content-Type: application/json\r\nContent-Length: %zu\r\nIdempotency-Key: %s:%llu\r\n"
            "X-Whistle-Signature: sha256=%s\r\nX-Whistle-Attempt: %u\r\nConnection: close\r\n\r\n",
            (int)n->url.path.len, n->url.path.base, (int)n->url.authority.len, n->url.authority.base, WHISTLE_VERSION,
            bl, p->stream, (unsigned long long)p->seq, hex, n->attempt + 1);
    fclose(f);
    n->req_head = head;
    n->bufs[0] = h2o_iovec_init(head, hl);
    n->bufs[1] = h2o_iovec_init(n->req_body, bl);
    n->status = 0;
    h2o_http1client_connect(&n->client, n, &n->cctx, n->url.host, h2o_url_get_port(&n->url),
                            n->url.scheme == &H2O_URL_SCHEME_HTTPS, on_connect);
}

static void on_push(whistle_session *s, Whistle__V1__Push *p, void *ud)
{
    notifier *n = ud;
    (void)s;
    if (p->seq <= n->delivered) {
        /* replayed, and the webhook already took it this run */
        whistle_session_ack(n->s, p->seq);
        whistle_push_free(p);
        return;
    }
    if (n->n >= QUEUE_MAX) {
        n->overflow = true;
        whistle_push_free(p);
        return;
    }
    for (item *it = n->head; it; it = it->next)
        if (it->p->seq == p->seq) { /* already waiting: a replay of it */
            whistle_push_free(p);
            return;
        }
    item *it = calloc(1, sizeof *it);
    if (!it) {
        n->overflow = true;
        whistle_push_free(p);
        return;
    }
    it->p = p;
    if (n->tail)
        n->tail->next = it;
    else
        n->head = it;
    n->tail = it;
    n->n++;
    deliver(n);
}

static void on_ready(whistle_session *s, const Whistle__V1__HelloResult *hello, void *ud)
{
    notifier *n = ud;
    (void)hello;
    whistle_session_subscribe(s, n->stream);
}

static void on_live(whistle_session *s, void *ud)
{
    notifier *n = ud;
    gw_info("notify: following %s for %s from its cursor (%llu), to %s", n->stream, n->cfg->notify_as,
            (unsigned long long)whistle_session_acked(s), n->cfg->notify_url);
}

static void on_down(whistle_session *s, int status, const char *why, void *ud)
{
    notifier *n = ud;
    (void)s, (void)status;
    gw_warn("notify: whistled: %s; following again from the cursor", *why ? why : "connection lost");
    /* what waits comes again from the cursor; the one in flight finishes */
    if (n->client) {
        item *keep = n->head;
        n->head = keep->next;
        n->n--;
        clear(n);
        keep->next = NULL;
        n->head = n->tail = keep;
        n->n = 1;
    } else {
        uv_timer_stop(&n->retry);
        n->attempt = 0;
        clear(n);
    }
    n->overflow = false;
}

int notify_open(uv_loop_t *loop, const gw_config *cfg, h2o_context_t *hctx, notifier **out, char *err, size_t errlen)
{
    notifier *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n->loop = loop;
    n->cfg = cfg;
    n->hctx = hctx;
    snprintf(n->stream, sizeof n->stream, "principal:%s", cfg->notify_as);
    n->url_buf = strdup(cfg->notify_url);
    if (!n->url_buf || h2o_url_parse(n->url_buf, SIZE_MAX, &n->url) != 0) {
        snprintf(err, errlen, "notify.url = %s: not a URL", cfg->notify_url);
        free(n->url_buf);
        free(n);
        return -1;
    }
    if (n->url.scheme == &H2O_URL_SCHEME_HTTPS) {
        n->ssl = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(n->ssl, TLS1_2_VERSION);
        SSL_CTX_set_verify(n->ssl, SSL_VERIFY_PEER, NULL);
        if ((*cfg->notify_ca ? SSL_CTX_load_verify_locations(n->ssl, cfg->notify_ca, NULL)
                             : SSL_CTX_set_default_verify_paths(n->ssl)) != 1) {
            snprintf(err, errlen, "notify.ca = %s: cannot load it", cfg->notify_ca);
            SSL_CTX_free(n->ssl);
            free(n->url_buf);
            free(n);
            return -1;
        }
    }
    h2o_timeout_init(loop, &n->io_timeout, (uint64_t)cfg->notify_timeout * 1000);
    n->cctx.loop = loop;
    n->cctx.getaddr_receiver = &hctx->receivers.hostinfo_getaddr;
    n->cctx.io_timeout = &n->io_timeout;
    n->cctx.ssl_ctx = n->ssl;
    uv_timer_init(loop, &n->retry);
    n->retry.data = n;

    whistle_opts o = { 0 };
    o.host = cfg->wd_host;
    o.port = cfg->wd_port;
    o.ca_file = cfg->wd_ca;
    o.cert_file = cfg->wd_cert;
    o.key_file = cfg->wd_key;
    o.client_name = "whistle-gateway-notify/" WHISTLE_VERSION;
    o.timeout_ms = cfg->call_timeout * 1000;
    whistle_session_cbs cbs = { on_ready, on_live, on_push, on_down };
    int r = whistle_session_open(loop, &o, &cbs, n, &n->s);
    if (r == 0)
        r = whistle_session_act_as(n->s, cfg->notify_as);
    if (r < 0) {
        snprintf(err, errlen, "notify: %s", whistle_strerror(r));
        return -1;
    }
    *out = n;
    return 0;
}

void notify_close(notifier *n)
{
    if (!n || n->closing)
        return;
    n->closing = true;
    if (n->client)
        h2o_http1client_cancel(n->client);
    delivery_free(n);
    clear(n);
    whistle_session_close(n->s);
    uv_close((uv_handle_t *)&n->retry, NULL);
    h2o_timeout_dispose(n->loop, &n->io_timeout);
}

void notify_free(notifier *n)
{
    if (!n)
        return;
    if (n->ssl)
        SSL_CTX_free(n->ssl);
    free(n->url_buf);
    free(n);
}
