/* upstream.c: see upstream.h. */
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "whistle/frame.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif

struct upstream {
    uv_loop_t *loop;
    const gw_config *cfg;
    whistle_session *s;
    up_ready_cb on_ready;
    void *ud;
    bool live;
    uint32_t photo_chunk; /* HelloResult.photo_limits.chunk_bytes (0: not said) */
    uint64_t photo_max;   /* HelloResult.photo_limits.max_bytes (0: not said) */
};

typedef struct up_pending {
    upstream *u;
    whistle_conn *conn;
    uint64_t id;
    up_cb cb;
    void *ud;
    int code; /* for an answer from the loop (an error at once) */
    bool done;
    uv_timer_t timer;
} up_pending;

static void pending_closed(uv_handle_t *h) { free(h->data); }

static void pending_finish(up_pending *p, int code, const char *msg, Whistle__V1__Response *resp)
{
    if (p->done) {
        whistle_response_free(resp);
        return;
    }
    p->done = true;
    uv_timer_stop(&p->timer);
    p->cb(p->ud, code, msg, resp);
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

static void on_answer(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    up_pending *p = ud;
    (void)c;
    if (status < 0 || !resp) {
        whistle_response_free(resp);
        pending_finish(p, UP_UNAVAILABLE, "whistled went away before answering", NULL);
        return;
    }
    /* the message lives in resp, which the callback owns: copy it first */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", whistle_response_message(resp));
    pending_finish(p, whistle_response_code(resp), msg, resp);
}

static void on_timer(uv_timer_t *t)
{
    up_pending *p = t->data;
    if (p->conn)
        whistle_conn_cancel(p->conn, p->id);
    if (p->code == UP_UNAVAILABLE)
        pending_finish(p, UP_UNAVAILABLE, "whistled is not connected", NULL);
    else
        pending_finish(p, UP_TIMEOUT, "whistled did not answer in time", NULL);
}

void up_call(upstream *u, Whistle__V1__Request *req, const char *act_as, up_cb cb, void *ud)
{
    up_pending *p = calloc(1, sizeof *p);
    if (!p) {
        cb(ud, UP_UNAVAILABLE, "out of memory", NULL);
        return;
    }
    p->u = u;
    p->cb = cb;
    p->ud = ud;
    uv_timer_init(u->loop, &p->timer);
    p->timer.data = p;
    whistle_conn *c = u->live ? whistle_session_conn(u->s) : NULL;
    req->act_as = (char *)(act_as ? act_as : "");
    if (c && whistle_conn_send(c, req, on_answer, p) == 0) {
        p->conn = c;
        p->id = req->id;
        uv_timer_start(&p->timer, on_timer, (uint64_t)u->cfg->call_timeout * 1000, 0);
    } else {
        /* answered from the loop, never from inside the caller */
        p->code = UP_UNAVAILABLE;
        uv_timer_start(&p->timer, on_timer, 0, 0);
    }
}

static void on_ready(whistle_session *s, const Whistle__V1__HelloResult *hello, void *ud)
{
    upstream *u = ud;
    gw_info("whistled: connected as %s (server %s)", hello->principal ? hello->principal->name : "?",
            hello->server_version);
    whistle_session_mark_live(s);
    u->live = true;
    u->photo_chunk = hello->photo_limits ? hello->photo_limits->chunk_bytes : 0;
    u->photo_max = hello->photo_limits ? hello->photo_limits->max_bytes : 0;
    if (u->on_ready)
        u->on_ready(u->ud, u);
}

static void on_down(whistle_session *s, int status, const char *why, void *ud)
{
    upstream *u = ud;
    (void)s;
    gw_warn("whistled: %s%s%s; trying again", u->live ? "connection lost" : "cannot connect", *why ? ": " : "", why);
    (void)status;
    u->live = false;
}

int up_open(uv_loop_t *loop, const gw_config *cfg, up_ready_cb ready, void *ud, upstream **out, char *err,
            size_t errlen)
{
    upstream *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    u->loop = loop;
    u->cfg = cfg;
    u->on_ready = ready;
    u->ud = ud;
    whistle_opts o = { 0 };
    o.host = cfg->wd_host;
    o.port = cfg->wd_port;
    o.ca_file = cfg->wd_ca;
    o.cert_file = cfg->wd_cert;
    o.key_file = cfg->wd_key;
    o.client_name = "whistle-gateway/" WHISTLE_VERSION;
    o.timeout_ms = cfg->call_timeout * 1000;
    whistle_session_cbs cbs = { on_ready, NULL, NULL, on_down };
    int r = whistle_session_open(loop, &o, &cbs, u, &u->s);
    if (r < 0) {
        snprintf(err, errlen, "whistled: %s", whistle_strerror(r));
        free(u);
        return -1;
    }
    *out = u;
    return 0;
}

void up_close(upstream *u)
{
    if (!u)
        return;
    whistle_session_close(u->s);
    free(u);
}

bool up_live(const upstream *u) { return u && u->live; }

int up_push_ack(upstream *u, const char *stream, uint64_t seq, const char *act_as)
{
    whistle_conn *c = u && u->live ? whistle_session_conn(u->s) : NULL;
    return c && whistle_conn_push_ack_as(c, stream, seq, act_as) == 0 ? 0 : -1;
}

const char *up_code_name(int code)
{
    if (code == UP_UNAVAILABLE)
        return "UNAVAILABLE";
    if (code == UP_TIMEOUT)
        return "DEADLINE_EXCEEDED";
    return whistle_code_name(code);
}

uint32_t up_photo_chunk(const upstream *u) { return u ? u->photo_chunk : 0; }

uint64_t up_photo_max(const upstream *u) { return u ? u->photo_max : 0; }
