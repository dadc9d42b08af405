/* session.c: a connection that comes back by itself (whistle/session.h).
 *
 * The session owns one timer (the backoff) and at most one whistle_conn.
 * The first attempt starts inside whistle_session_open, as soon as it can
 * (a screen's directory loads while its first screen draws); when it
 * fails at once, the timer reports it from the loop, so that no callback
 * runs inside a call. The session is freed only from a libuv callback (the
 * timer's close, or the connection's on_close), never inside a call the
 * program made, so a program may close it from any of its callbacks. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whistle/session.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 5000

struct whistle_session {
    uv_loop_t *loop;
    whistle_session_cbs cbs;
    void *ud;
    whistle_opts opts; /* its strings are the copies below */
    char *host, *ca, *cert, *key, *name;
    whistle_conn *conn; /* the attempt or the connection; NULL between two */
    bool ready;         /* conn has said Hello */
    whistle_session_state state;
    uv_timer_t timer;
    bool timer_open;
    bool closed; /* whistle_session_close was called: no more callbacks */
    unsigned backoff_ms;
    uint64_t attempts;
    int open_failed;  /* the first attempt failed inside open: why says why; on_down is due */
    char stream[256]; /* the followed stream, "" for none */
    char act_as[65];  /* a gateway's session for this principal (whistle_session_act_as), "" for none */
    uint64_t received, acked, live_from;
    char why[512]; /* the session's own reason to drop a connection */
};

static int attempt(whistle_session *s, char *err, size_t errlen);
static void went_down(whistle_session *s, int status, const char *why);

static void maybe_free(whistle_session *s)
{
    if (!s->closed || s->timer_open || s->conn)
        return;
    free(s->host);
    free(s->ca);
    free(s->cert);
    free(s->key);
    free(s->name);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    whistle_session *s = h->data;
    s->timer_open = false;
    maybe_free(s);
}

static void on_timer(uv_timer_t *t)
{
    whistle_session *s = t->data;
    if (s->closed || s->conn)
        return;
    char why[sizeof s->why];
    int r = s->open_failed;
    if (r < 0) {
        snprintf(why, sizeof why, "%s", s->why);
        s->why[0] = 0;
        s->open_failed = 0;
    } else {
        r = attempt(s, why, sizeof why);
    }
    if (r < 0)
        went_down(s, r, why);
}

/* The connection (or the attempt) is gone: the next one after the
 * backoff, armed before the program hears of it, so that closing the
 * session from on_down stops it. */
static void went_down(whistle_session *s, int status, const char *why)
{
    s->state = WHISTLE_SESSION_OFFLINE;
    s->ready = false;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    uv_timer_start(&s->timer, on_timer, s->backoff_ms, 0);
    if (s->cbs.on_down)
        s->cbs.on_down(s, status, why, s->ud);
}

static void on_conn_connect(whistle_conn *c, int status, void *ud)
{
    whistle_session *s = ud;
    if (s->closed || status < 0)
        return; /* a failed attempt: on_close follows and reports it */
    s->ready = true;
    s->state = WHISTLE_SESSION_LOADING;
    if (s->cbs.on_ready)
        s->cbs.on_ready(s, whistle_conn_hello(c), s->ud);
}

static void on_conn_push(whistle_conn *c, Whistle__V1__Push *p, void *ud)
{
    whistle_session *s = ud;
    if (s->closed || c != s->conn || !s->cbs.on_push) {
        whistle_push_free(p);
        return;
    }
    if (p->seq > s->received)
        s->received = p->seq;
    s->cbs.on_push(s, p, s->ud);
}

static void on_conn_close(whistle_conn *c, int status, void *ud)
{
    whistle_session *s = ud;
    s->conn = NULL;
    if (s->closed) {
        maybe_free(s);
        return;
    }
    char why[sizeof s->why];
    if (*s->why) {
        status = WHISTLE_ERR_REFUSED;
        snprintf(why, sizeof why, "%s", s->why);
    } else {
        snprintf(why, sizeof why, "%s", status < 0 ? whistle_conn_error(c) : "");
    }
    s->why[0] = 0;
    went_down(s, status, why);
}

/* Starts connecting; a failure at once (bad options, an unreadable
 * certificate) leaves no connection and returns the error, with err. */
static int attempt(whistle_session *s, char *err, size_t errlen)
{
    whistle_conn_cbs cbs = { on_conn_connect, on_conn_push, on_conn_close };
    s->attempts++;
    s->state = WHISTLE_SESSION_CONNECTING;
    int r = whistle_conn_open(s->loop, &s->opts, &cbs, s, &s->conn, err, errlen);
    if (r < 0)
        s->conn = NULL;
    return r;
}

static int dup_opt(const char *in, char **copy, const char **field)
{
    *field = NULL;
    if (!in)
        return 0;
    if (!(*copy = strdup(in)))
        return WHISTLE_ERR_NOMEM;
    *field = *copy;
    return 0;
}

int whistle_session_open(uv_loop_t *loop, const whistle_opts *opts, const whistle_session_cbs *cbs, void *ud,
                         whistle_session **out)
{
    if (!loop || !opts || !cbs || !out)
        return WHISTLE_ERR_INVALID;
    whistle_session *s = calloc(1, sizeof *s);
    if (!s)
        return WHISTLE_ERR_NOMEM;
    s->loop = loop;
    s->cbs = *cbs;
    s->ud = ud;
    s->opts = *opts;
    if (dup_opt(opts->host, &s->host, &s->opts.host) < 0 || dup_opt(opts->ca_file, &s->ca, &s->opts.ca_file) < 0 ||
        dup_opt(opts->cert_file, &s->cert, &s->opts.cert_file) < 0 ||
        dup_opt(opts->key_file, &s->key, &s->opts.key_file) < 0 ||
        dup_opt(opts->client_name, &s->name, &s->opts.client_name) < 0) {
        s->closed = true;
        maybe_free(s);
        return WHISTLE_ERR_NOMEM;
    }
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->timer_open = true;
    int r = attempt(s, s->why, sizeof s->why); /* why: written only on failure */
    if (r < 0) {
        s->state = WHISTLE_SESSION_OFFLINE;
        s->open_failed = r;
        uv_timer_start(&s->timer, on_timer, 0, 0);
    }
    *out = s;
    return 0;
}

void whistle_session_close(whistle_session *s)
{
    if (!s || s->closed)
        return;
    s->closed = true;
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    if (s->conn)
        whistle_conn_close(s->conn); /* on_conn_close frees, if last */
}

static void on_subscribed(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    whistle_session *s = ud;
    if (s->closed || status < 0 || !resp || c != s->conn) {
        whistle_response_free(resp);
        return; /* closed meanwhile: on_close (or nobody) takes it from here */
    }
    int code = whistle_response_code(resp);
    if (code != WHISTLE__V1__STATUS__CODE__OK || !resp->subscribe) {
        snprintf(s->why, sizeof s->why, "subscribe %s: %s: %s", s->stream, whistle_code_name(code),
                 whistle_response_message(resp));
        whistle_response_free(resp);
        whistle_conn_close(c);
        return;
    }
    s->live_from = resp->subscribe->last_seq;
    s->acked = resp->subscribe->cursor;
    if (s->received < resp->subscribe->replay_after)
        s->received = resp->subscribe->replay_after;
    whistle_response_free(resp);
    s->state = WHISTLE_SESSION_LIVE;
    s->backoff_ms = 0;
    if (s->cbs.on_live)
        s->cbs.on_live(s, s->ud);
}

int whistle_session_subscribe(whistle_session *s, const char *stream)
{
    if (!s || !stream || strlen(stream) >= sizeof s->stream)
        return WHISTLE_ERR_INVALID;
    if (s->closed || !s->ready || !s->conn)
        return WHISTLE_ERR_STATE;
    snprintf(s->stream, sizeof s->stream, "%s", stream);
    Whistle__V1__Subscribe sub = WHISTLE__V1__SUBSCRIBE__INIT;
    sub.stream = s->stream;
    sub.from_cursor = 1; /* what was not acknowledged comes again */
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    req.subscribe = &sub;
    req.act_as = s->act_as;
    int r = whistle_conn_send(s->conn, &req, on_subscribed, s);
    if (r < 0)
        whistle_conn_close(s->conn);
    return r;
}

int whistle_session_ack(whistle_session *s, uint64_t seq)
{
    if (!s || s->closed || !s->conn || s->state != WHISTLE_SESSION_LIVE || !*s->stream)
        return WHISTLE_ERR_STATE;
    if (seq <= s->acked)
        return 0;
    int r = whistle_conn_push_ack_as(s->conn, s->stream, seq, s->act_as);
    if (r == 0)
        s->acked = seq;
    return r;
}

int whistle_session_act_as(whistle_session *s, const char *name)
{
    if (!s || (name && strlen(name) >= sizeof s->act_as))
        return WHISTLE_ERR_INVALID;
    snprintf(s->act_as, sizeof s->act_as, "%s", name ? name : "");
    return 0;
}

int whistle_session_mark_live(whistle_session *s)
{
    if (!s || s->closed || !s->ready)
        return WHISTLE_ERR_STATE;
    s->state = WHISTLE_SESSION_LIVE;
    s->backoff_ms = 0;
    return 0;
}

void whistle_session_drop(whistle_session *s)
{
    if (s && !s->closed && s->conn)
        whistle_conn_close(s->conn);
}

whistle_conn *whistle_session_conn(const whistle_session *s) { return s && s->ready ? s->conn : NULL; }

whistle_session_state whistle_session_state_of(const whistle_session *s)
{
    return s ? s->state : WHISTLE_SESSION_OFFLINE;
}

uint64_t whistle_session_received(const whistle_session *s) { return s ? s->received : 0; }
uint64_t whistle_session_acked(const whistle_session *s) { return s ? s->acked : 0; }
uint64_t whistle_session_live_from(const whistle_session *s) { return s ? s->live_from : 0; }
uint64_t whistle_session_reconnects(const whistle_session *s) { return s && s->attempts ? s->attempts - 1 : 0; }
