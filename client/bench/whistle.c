/* whistle.c: the whistled backend, on libwhistle's async API (load and
 * desks) and its blocking API (discovery and ServerStats between phases). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <openssl/evp.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

#include "bench.h"
#include "whistle/client.h"

typedef struct wb {
    whistle_client *stats; /* as admin; NULL when ServerStats is not available */
    char stats_note[600];
    /* --ops photo: one JPEG of about --photo-bytes made at set-up; each
     * operation sends it with a comment segment of its own after the
     * start-of-image marker, so that every upload is new bytes (the
     * daemon would find the same bytes already stored) */
    uint8_t *photo;
    size_t photo_len;
    uint32_t chunk;   /* the most a PhotoPut carries (HelloResult) */
    uint8_t *scratch; /* one chunk being packed (whistle_conn_send copies it) */
    uint64_t nonce;   /* the run's: photos of another run are other bytes */
} wb;

/* The COM segment that makes an operation's photo its own:
 * FF FE, length 18, "wb" and 14 digits: the run's and the operation's
 * numbers. */
#define PHOTO_TAG 22

typedef struct wconn {
    whistle_conn *c;
    bool closing;
    bool reported; /* desk: bench_desk_ready called */
    /* desk: what it handled and has not acknowledged yet */
    char stream[64];
    uint64_t handled, acked;
    uint64_t acked_at_ns;
} wconn;

#define REPORT_TEXT                                                                                                    \
    "bench %llu: rubbish piled at the gate of building 3 for two days, smells; reported by whistle-bench"

static void make_opts(bench *b, const char *principal, whistle_opts *wo, char *cert, char *key, char *ca)
{
    const bopts *o = b->o;
    pki_paths(o, principal, cert, 1024, key, 1024, ca, 1024);
    memset(wo, 0, sizeof *wo);
    wo->host = o->host;
    wo->port = (uint16_t)o->port;
    wo->ca_file = ca;
    wo->cert_file = cert;
    wo->key_file = key;
    wo->client_name = "whistle-bench";
    wo->timeout_ms = 60000; /* a thousand desks connect at once on a busy machine */
}

static int connect_blocking(bench *b, const char *principal, whistle_client **out, char *err, size_t errlen)
{
    whistle_opts wo;
    char cert[1024], key[1024], ca[1024];
    make_opts(b, principal, &wo, cert, key, ca);
    char e[512];
    if (whistle_connect(&wo, out, e, sizeof e) != 0) {
        snprintf(err, errlen, "connect as %s to %s:%d: %s", principal, b->o->host, b->o->port, e);
        return -1;
    }
    return 0;
}

static Whistle__V1__Response *call_ok(whistle_client *c, Whistle__V1__Request *req, char *err, size_t errlen)
{
    Whistle__V1__Response *resp = NULL;
    if (whistle_call(c, req, &resp) != 0) {
        snprintf(err, errlen, "%s", whistle_last_error(c));
        return NULL;
    }
    if (whistle_response_code(resp) != 0) {
        snprintf(err, errlen, "%s: %s", whistle_code_name(whistle_response_code(resp)), whistle_response_message(resp));
        whistle_response_free(resp);
        return NULL;
    }
    return resp;
}

/* ---------------------------------------------------------------- setup */

/* A JPEG of noise of about want bytes (libvips): noise does not compress,
 * so its size follows its pixels. g_malloc'd. */
static int make_photo(size_t want, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    if (VIPS_INIT("whistle-bench") != 0) {
        snprintf(err, errlen, "--ops photo: libvips does not start");
        return -1;
    }
    /* about 0.55 bytes a pixel at quality 85 */
    double px = (double)want / 0.55;
    int w = (int)sqrt(px * 4 / 3), h = (int)(w * 3 / 4);
    for (int tries = 0; tries < 6; tries++) {
        VipsImage *noise = NULL, *bands = NULL, *u8 = NULL;
        void *buf = NULL;
        size_t n = 0;
        int rc = vips_gaussnoise(&noise, w, h, "sigma", 30.0, "mean", 128.0, NULL);
        VipsImage *three[3] = { noise, noise, noise };
        if (!rc)
            rc = vips_bandjoin(three, &bands, 3, NULL);
        if (!rc)
            rc = vips_cast(bands, &u8, VIPS_FORMAT_UCHAR, NULL);
        if (!rc)
            rc = vips_jpegsave_buffer(u8, &buf, &n, "Q", 85, NULL);
        if (noise)
            g_object_unref(noise);
        if (bands)
            g_object_unref(bands);
        if (u8)
            g_object_unref(u8);
        if (rc) {
            snprintf(err, errlen, "--ops photo: libvips could not make the photo");
            return -1;
        }
        double ratio = (double)want / (double)n;
        if (ratio > 0.97 && ratio < 1.03) {
            *out = buf;
            *len = n;
            return 0;
        }
        g_free(buf);
        w = (int)(w * sqrt(ratio));
        h = (int)(h * sqrt(ratio));
    }
    snprintf(err, errlen, "--ops photo: could not make a JPEG of about %zu bytes", want);
    return -1;
}

/* Bytes [off, off + n) of operation seq's photo: SOI, its comment
 * segment, then the base photo after its SOI. */
static void photo_bytes(const wb *w, uint64_t seq, uint64_t off, uint8_t *dst, size_t n)
{
    uint8_t tag[PHOTO_TAG] = { 0xff, 0xd8, 0xff, 0xfe, 0x00, 0x12, 'w', 'b' };
    char digits[16];
    snprintf(digits, sizeof digits, "%06llu%08llu", (unsigned long long)(w->nonce % 1000000),
             (unsigned long long)(seq % 100000000ULL));
    memcpy(tag + 8, digits, 14);
    size_t total = w->photo_len - 2 + PHOTO_TAG;
    if (off >= total)
        return;
    if (n > total - off)
        n = (size_t)(total - off);
    size_t head = off < PHOTO_TAG ? PHOTO_TAG - (size_t)off : 0;
    if (head > n)
        head = n;
    memcpy(dst, tag + off, head);
    if (n > head)
        memcpy(dst + head, w->photo + (off + head - PHOTO_TAG + 2), n - head);
}

static size_t photo_total(const wb *w) { return w->photo_len - 2 + PHOTO_TAG; }

static void photo_hash(const wb *w, uint64_t seq, char hex[65])
{
    uint8_t head[PHOTO_TAG], h[32];
    photo_bytes(w, seq, 0, head, PHOTO_TAG);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, head, PHOTO_TAG);
    EVP_DigestUpdate(ctx, w->photo + 2, w->photo_len - 2);
    unsigned hl = 0;
    EVP_DigestFinal_ex(ctx, h, &hl);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

static int w_setup(bench *b, char *err, size_t errlen)
{
    const bopts *o = b->o;
    wb *w = calloc(1, sizeof *w);
    b->impl = w;
    whistle_client *c;
    if (connect_blocking(b, o->as_operator, &c, err, errlen) != 0)
        return -1;
    const Whistle__V1__HelloResult *h = whistle_hello(c);
    if (h && h->principal && h->principal->scope)
        snprintf(b->street, sizeof b->street, "%s", h->principal->scope);
    w->chunk = h && h->photo_limits && h->photo_limits->chunk_bytes ? h->photo_limits->chunk_bytes : 0;
    bool photos = false;
    for (int i = 0; i < o->n_ops; i++)
        photos |= o->ops[i] == OP_PHOTO;
    if (photos) {
        if (!w->chunk) {
            snprintf(err, errlen, "--ops photo: %s:%d takes no photos (its Hello has no photo_limits)", o->host,
                     o->port);
            whistle_close(c);
            return -1;
        }
        w->nonce = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
        if (make_photo(o->photo_bytes, &w->photo, &w->photo_len, err, errlen) != 0 ||
            !(w->scratch = malloc(w->chunk + PHOTO_TAG))) {
            whistle_close(c);
            return -1;
        }
        if (!o->json)
            fprintf(stderr, "whistle-bench: photo: a JPEG of %zu bytes, in chunks of %u\n", w->photo_len + PHOTO_TAG,
                    w->chunk);
    }

    /* A grid in the operator's scope, a category with departments, and the
     * departments that have a certificate (they can check in and subscribe). */
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__ListNodes ln = WHISTLE__V1__LIST_NODES__INIT;
    ln.kind = WHISTLE__V1__NODE_KIND__NODE_KIND_GRID;
    req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_NODES;
    req.list_nodes = &ln;
    char e[400];
    Whistle__V1__Response *resp = call_ok(c, &req, e, sizeof e);
    if (!resp || resp->result_case != WHISTLE__V1__RESPONSE__RESULT_NODES || resp->nodes->n_nodes == 0) {
        snprintf(err, errlen, "list_nodes as %s: %s", o->as_operator, resp ? "no grid in its scope" : e);
        whistle_response_free(resp);
        whistle_close(c);
        return -1;
    }
    snprintf(b->node, sizeof b->node, "%s", resp->nodes->nodes[0]->code);
    whistle_response_free(resp);

    Whistle__V1__ListCategories lc = WHISTLE__V1__LIST_CATEGORIES__INIT;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_CATEGORIES;
    req.list_categories = &lc;
    resp = call_ok(c, &req, e, sizeof e);
    if (resp && resp->result_case == WHISTLE__V1__RESPONSE__RESULT_CATEGORIES)
        for (size_t i = 0; i < resp->categories->n_categories; i++) {
            const Whistle__V1__Category *cat = resp->categories->categories[i];
            if (cat->code && strlen(cat->code) == 4) {
                snprintf(b->category, sizeof b->category, "%s", cat->code);
                break;
            }
        }
    whistle_response_free(resp);
    if (!b->category[0]) {
        snprintf(err, errlen, "list_categories: %s", e[0] ? e : "no minor category (4 digits) in the directory");
        whistle_close(c);
        return -1;
    }

    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS;
    req.list_departments = &ld;
    resp = call_ok(c, &req, e, sizeof e);
    whistle_close(c);
    if (!resp || resp->result_case != WHISTLE__V1__RESPONSE__RESULT_DEPARTMENTS) {
        snprintf(err, errlen, "list_departments: %s", resp ? "no result" : e);
        whistle_response_free(resp);
        return -1;
    }
    size_t n = resp->departments->n_departments;
    b->depts = calloc(n ? n : 1, sizeof *b->depts);
    for (size_t i = 0; i < n; i++) {
        bdept *d = &b->depts[b->n_depts++];
        snprintf(d->code, sizeof d->code, "%s", resp->departments->departments[i]->code);
        /* A department's principal is named for it (the demo city and the
         * bench seed do that), with its certificate in the PKI. */
        d->staffed = pki_has(o, d->code);
    }
    whistle_response_free(resp);

    /* ServerStats as admin, if there is one and the server knows the call. */
    if (!pki_has(o, o->as_admin)) {
        snprintf(w->stats_note, sizeof w->stats_note, "no certificate for %s: no server counters", o->as_admin);
    } else if (connect_blocking(b, o->as_admin, &w->stats, e, sizeof e) != 0) {
        snprintf(w->stats_note, sizeof w->stats_note, "%s", e);
        w->stats = NULL;
    } else {
        Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
        req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_SERVER_STATS;
        req.server_stats = &ss;
        resp = call_ok(w->stats, &req, e, sizeof e);
        if (!resp) {
            snprintf(w->stats_note, sizeof w->stats_note, "server_stats as %s: %s", o->as_admin, e);
            whistle_close(w->stats);
            w->stats = NULL;
        }
        whistle_response_free(resp);
    }
    if (w->stats_note[0] && !o->json)
        fprintf(stderr, "whistle-bench: %s%s\n", w->stats_note, o->daemon_pid ? " (CPU and memory from /proc)" : "");
    return 0;
}

static void w_teardown(bench *b)
{
    wb *w = b->impl;
    if (!w)
        return;
    if (w->stats)
        whistle_close(w->stats);
    g_free(w->photo);
    free(w->scratch);
    free(w);
    b->impl = NULL;
}

static void w_stats(bench *b, srv_snap *s)
{
    wb *w = b->impl;
    memset(s, 0, sizeof *s);
    s->cpu_us = s->rss = s->rss_anon = s->commits = s->fsyncs = s->writes = s->intents = s->batches = s->commit_us =
        s->max_batch = s->connections = s->subscriptions = -1;
    if (w->stats) {
        Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_SERVER_STATS;
        req.server_stats = &ss;
        char e[300];
        Whistle__V1__Response *resp = call_ok(w->stats, &req, e, sizeof e);
        if (resp && resp->result_case == WHISTLE__V1__RESPONSE__RESULT_SERVER_STATS) {
            const Whistle__V1__ServerStatsResult *r = resp->server_stats;
            s->ok = true;
            s->cpu_us = (int64_t)(r->cpu_user_us + r->cpu_system_us);
            s->rss = (int64_t)r->rss_bytes;
            s->rss_anon = (int64_t)r->rss_anon_bytes;
            s->commits = (int64_t)r->commits;
            s->fsyncs = (int64_t)r->fsyncs;
            s->writes = (int64_t)r->writes;
            s->intents = (int64_t)r->intents;
            s->batches = (int64_t)r->batches;
            s->commit_us = (int64_t)r->commit_us;
            s->max_batch = (int64_t)r->max_batch;
            s->connections = r->connections;
            s->subscriptions = r->subscriptions;
            snprintf(s->sync, sizeof s->sync, "%s", r->sync ? r->sync : "");
        }
        whistle_response_free(resp);
    }
    if (!s->ok && b->o->daemon_pid)
        proc_snap(b->o->daemon_pid, s);
    s->aof_bytes = -1;
    if (b->o->daemon_pid)
        proc_io(b->o->daemon_pid, s);
    else
        s->wchar = s->write_bytes = s->dev_bytes = -1;
    s->run_delay_us = b->o->daemon_pid ? proc_run_delay(b->o->daemon_pid) : -1;
    s->at_ns = now_ns();
}

/* ---------------------------------------------------------------- load connections */

static void on_conn_connect(whistle_conn *c, int status, void *ud)
{
    bconn *lc = ud;
    bench_conn_ready(lc, status == 0, status == 0 ? NULL : whistle_conn_error(c));
}

static void on_conn_close(whistle_conn *c, int status, void *ud)
{
    (void)c;
    (void)status;
    bconn *lc = ud;
    wconn *w = lc->impl;
    bool asked = w->closing;
    free(w);
    lc->impl = NULL;
    if (asked)
        bench_conn_closed(lc);
    else
        lc->failed = true;
}

static int w_open(bench *b, bconn *lc)
{
    wconn *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    whistle_opts wo;
    char cert[1024], key[1024], ca[1024], e[512];
    make_opts(b, lc->principal, &wo, cert, key, ca);
    whistle_conn_cbs cbs = { .on_connect = on_conn_connect, .on_close = on_conn_close };
    lc->impl = w;
    if (whistle_conn_open(&b->loop, &wo, &cbs, lc, &w->c, e, sizeof e) != 0) {
        snprintf(b->err, sizeof b->err, "connection as %s: %.400s", lc->principal, e);
        free(w);
        lc->impl = NULL;
        return -1;
    }
    return 0;
}

static void w_close(bconn *lc)
{
    wconn *w = lc->impl;
    w->closing = true;
    whistle_conn_close(w->c);
}

/* ---------------------------------------------------------------- operations */

static void step(bop *o);

/* The answer to one call of o's chain: on OK, take what the next call
 * needs and go on; otherwise the operation ends with the error. */
static void on_resp(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    bop *o = ud;
    bench *b = o->lc->b;
    char e[300];
    if (status < 0) {
        snprintf(e, sizeof e, "%s", whistle_strerror(status));
        bench_op_done(o, e);
        return;
    }
    int code = whistle_response_code(resp);
    if (code != 0) {
        snprintf(e, sizeof e, "%s: %s: %s", op_names[o->kind], whistle_code_name(code), whistle_response_message(resp));
        whistle_response_free(resp);
        bench_op_done(o, e);
        return;
    }
    bool done = false;
    switch (o->kind) {
    case OP_REPORT:
    case OP_WHISTLE:
        if (o->step == 0) {
            if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_EVENT && resp->event->ticket) {
                snprintf(o->ticket, sizeof o->ticket, "%s", resp->event->ticket);
                bench_ticket_put(b, o->ticket);
            }
            done = o->kind == OP_REPORT;
        } else if (o->step == 2) {
            bench_whistle_answered(b, o->ticket);
            if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_WHISTLE)
                for (size_t i = 0; i < resp->whistle->n_orders; i++) {
                    const Whistle__V1__Order *ord = resp->whistle->orders[i];
                    bench_pool_put(b, bench_dept_index(b, ord->department ? ord->department : ""), ord->id);
                }
            done = true;
        }
        break;
    case OP_CHECKIN: done = o->step == 1; break;
    case OP_PHOTO:
        if (!o->uploaded && resp->result_case == WHISTLE__V1__RESPONSE__RESULT_PHOTO_UPLOAD) {
            o->off = resp->photo_upload->received;
            o->uploaded = resp->photo_upload->complete;
            /* the next chunk, or the report naming it: step stays 0 */
            whistle_response_free(resp);
            step(o);
            return;
        }
        done = true;
        break;
    default: done = true; break;
    }
    whistle_response_free(resp);
    if (done) {
        bench_op_done(o, NULL);
        return;
    }
    o->step++;
    step(o);
}

static void step(bop *o)
{
    bconn *lc = o->lc;
    bench *b = lc->b;
    wconn *w = lc->impl;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    char text[200];
    int r;
    switch (o->kind * 4 + o->step) {
    case OP_REPORT * 4:
    case OP_WHISTLE * 4: {
        Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
        snprintf(text, sizeof text, REPORT_TEXT, (unsigned long long)o->seq);
        rep.node = b->node;
        rep.category = b->category;
        rep.description = text;
        req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
        req.report = &rep;
        r = whistle_conn_send(w->c, &req, on_resp, o);
        break;
    }
    case OP_WHISTLE * 4 + 1: {
        Whistle__V1__FileEvent f = WHISTLE__V1__FILE_EVENT__INIT;
        f.ticket = o->ticket;
        req.call_case = WHISTLE__V1__REQUEST__CALL_FILE;
        req.file = &f;
        r = whistle_conn_send(w->c, &req, on_resp, o);
        break;
    }
    case OP_WHISTLE * 4 + 2: {
        int k = b->o->whistle_depts, idx[32];
        char *codes[32];
        bench_pick_targets(b, idx, k);
        for (int i = 0; i < k; i++)
            codes[i] = b->depts[idx[i]].code;
        Whistle__V1__WhistleEvent we = WHISTLE__V1__WHISTLE_EVENT__INIT;
        we.ticket = o->ticket;
        we.departments = codes;
        we.n_departments = (size_t)k;
        we.kind = WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_ROUTINE;
        we.note = "whistle-bench";
        req.call_case = WHISTLE__V1__REQUEST__CALL_WHISTLE;
        req.whistle = &we;
        bench_whistle_sent(b, o->ticket, idx, k);
        r = whistle_conn_send(w->c, &req, on_resp, o);
        break;
    }
    case OP_CHECKIN * 4: {
        Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
        ci.order_id = o->order;
        req.call_case = WHISTLE__V1__REQUEST__CALL_CHECK_IN;
        req.check_in = &ci;
        r = whistle_conn_send(w->c, &req, on_resp, o);
        break;
    }
    case OP_CHECKIN * 4 + 1: {
        Whistle__V1__Feedback fb = WHISTLE__V1__FEEDBACK__INIT;
        fb.order_id = o->order;
        fb.text = "cleared and disinfected; whistle-bench";
        req.call_case = WHISTLE__V1__REQUEST__CALL_FEEDBACK;
        req.feedback = &fb;
        r = whistle_conn_send(w->c, &req, on_resp, o);
        break;
    }
    case OP_READ * 4: {
        const char *t = bench_ticket_any(b);
        Whistle__V1__GetEvent g = WHISTLE__V1__GET_EVENT__INIT;
        Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
        if (t) {
            g.ticket = (char *)t;
            req.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
            req.get_event = &g;
        } else {
            le.limit = 10;
            req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
            req.list_events = &le;
        }
        r = whistle_conn_send(w->c, &req, on_resp, o);
        break;
    }
    case OP_PHOTO * 4: {
        wb *wbk = b->impl;
        if (!o->hash[0])
            photo_hash(wbk, o->seq, o->hash);
        if (!o->uploaded) {
            Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
            size_t total = photo_total(wbk), n = total - o->off < wbk->chunk ? total - o->off : wbk->chunk;
            photo_bytes(wbk, o->seq, o->off, wbk->scratch, n);
            put.sha256 = o->hash;
            put.size = total;
            put.offset = o->off;
            put.data.data = wbk->scratch;
            put.data.len = n;
            req.call_case = WHISTLE__V1__REQUEST__CALL_PHOTO_PUT;
            req.photo_put = &put;
            r = whistle_conn_send(w->c, &req, on_resp, o);
        } else {
            Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
            snprintf(text, sizeof text, REPORT_TEXT, (unsigned long long)o->seq);
            rep.node = b->node;
            rep.category = b->category;
            rep.description = text;
            char *ph[] = { o->hash };
            rep.photos = ph;
            rep.n_photos = 1;
            req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
            req.report = &rep;
            r = whistle_conn_send(w->c, &req, on_resp, o);
        }
        break;
    }
    default: bench_op_done(o, "this operation is for Redis only (xadd)"); return;
    }
    if (r != 0) {
        lc->failed = true;
        bench_op_done(o, whistle_strerror(r));
    }
}

static void w_start(bconn *lc, bop *o)
{
    (void)lc;
    step(o);
}

/* ---------------------------------------------------------------- desks */

static void desk_report(desk *d, int ok, const char *err)
{
    wconn *w = d->impl;
    if (w && w->reported)
        return;
    if (w)
        w->reported = true;
    bench_desk_ready(d, ok, err);
}

static void on_sub_resp(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    desk *d = ud;
    char e[300];
    if (status < 0) {
        desk_report(d, 0, whistle_strerror(status));
        return;
    }
    int code = whistle_response_code(resp);
    snprintf(e, sizeof e, "subscribe: %s: %s", whistle_code_name(code), whistle_response_message(resp));
    whistle_response_free(resp);
    desk_report(d, code == 0, e);
    (void)c;
}

static void on_desk_connect(whistle_conn *c, int status, void *ud)
{
    desk *d = ud;
    if (status != 0) {
        desk_report(d, 0, whistle_conn_error(c));
        return;
    }
    Whistle__V1__Subscribe sb = WHISTLE__V1__SUBSCRIBE__INIT;
    sb.from_cursor = true; /* only what this desk has not acknowledged: a fresh run replays nothing */
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    req.subscribe = &sb;
    if (whistle_conn_send(c, &req, on_sub_resp, d) != 0)
        desk_report(d, 0, "cannot send subscribe");
}

/* A desk acknowledges what it handled, at most every --ack-interval ms (a
 * PushAck covers everything up to its seq): acknowledging each push would
 * make the bench's desk thread, not the daemon, the slowest part. */
static void desk_ack(desk *d, bool force)
{
    wconn *w = d->impl;
    if (d->b->o->no_ack || !w || w->handled <= w->acked || !w->stream[0])
        return;
    uint64_t now = now_ns();
    if (!force && now - w->acked_at_ns < (uint64_t)d->b->o->ack_interval_ms * 1000000)
        return;
    if (whistle_conn_push_ack(w->c, w->stream, w->handled) == 0) {
        w->acked = w->handled;
        w->acked_at_ns = now;
    }
}

static void on_desk_push(whistle_conn *c, Whistle__V1__Push *p, void *ud)
{
    (void)c;
    desk *d = ud;
    wconn *w = d->impl;
    if (p->action && strcmp(p->action, "dispatch") == 0 && p->event && p->event->ticket)
        bench_push(d, p->event->ticket, p->at_ms);
    if (w && p->stream) {
        snprintf(w->stream, sizeof w->stream, "%s", p->stream);
        if (p->seq > w->handled)
            w->handled = p->seq;
        desk_ack(d, false);
    }
    whistle_push_free(p);
}

static void on_desk_close(whistle_conn *c, int status, void *ud)
{
    desk *d = ud;
    (void)status;
    desk_report(d, 0, whistle_conn_error(c));
    free(d->impl);
    d->impl = NULL;
}

static int w_desk_open(bench *b, desk *d)
{
    wconn *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    whistle_opts wo;
    char cert[1024], key[1024], ca[1024], e[512];
    make_opts(b, b->depts[d->dept].code, &wo, cert, key, ca);
    whistle_conn_cbs cbs = { .on_connect = on_desk_connect, .on_push = on_desk_push, .on_close = on_desk_close };
    d->impl = w;
    if (whistle_conn_open(&b->sub_loop, &wo, &cbs, d, &w->c, e, sizeof e) != 0) {
        free(w);
        d->impl = NULL;
        return -1;
    }
    return 0;
}

static void w_desk_close(desk *d)
{
    wconn *w = d->impl;
    desk_ack(d, true); /* what was handled, before closing */
    w->closing = true;
    whistle_conn_close(w->c);
}

const backend whistle_backend = {
    .name = "whistle",
    .setup = w_setup,
    .open = w_open,
    .start = w_start,
    .close = w_close,
    .stats = w_stats,
    .desk_open = w_desk_open,
    .desk_close = w_desk_close,
    .teardown = w_teardown,
};
