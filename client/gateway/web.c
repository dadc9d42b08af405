/* web.c: see web.h. */
#include "web.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "http.h"
#include "log.h"
#include "pbjson.h"
#include "photo.h"
#include "whistle/async.h"
#include "whistle/names.h"

#define API "/web/api/"
#define COOKIE "wsid"
#define STATIC_MAX (4u << 20)
#define HEARTBEAT_MS 15000

/* The argon2id cost of a new hash: RFC 9106's second recommended option
 * (64 MiB, 3 passes), one lane. */
#define A2_T 3
#define A2_M 65536
#define A2_P 1

/* The calls the page makes. Anything else is refused here (404), and
 * whistled still checks role and scope of these. */
static const char *const CALLS[] = {
    "get_event",
    "list_events",
    "list_orders",
    "list_nodes",
    "list_departments",
    "list_categories",
    "list_supervisions",
    "get_stats",
    "propose_departments",
    "lookup_ticket",
    "file",
    "reject",
    "assign",
    "whistle",
    "close",
    "decide_extension",
    "request_extension",
    "check_in",
    "feedback",
    "verify",
    "return_order",
    "report_stage",
    "park",
    "unpark",
    "reopen",
};

typedef struct wsess {
    char id[65], csrf[65];
    char *login, *principal;
    json_t *who; /* the principal as whistled answered Hello for it */
    uint64_t created, used;
    struct wsess *next;
} wsess;

typedef struct sse sse;

/* A login's failed attempts: after FAIL_FREE of them in a row, each next
 * attempt must wait FAIL_WAIT s, doubling with each further failure up to
 * FAIL_MAX_WAIT, and is
 * answered 429 without a password check (a guessing script gets nowhere;
 * the person waits a little). Kept for unknown logins too, so both look
 * alike. A success forgets it. */
#define FAIL_FREE 5
#define FAIL_WAIT 30
#define FAIL_MAX_WAIT 900
#define FAIL_TABLE 4096
#define LOGINS_QUEUED 32 /* password checks waiting: each takes 64 MiB while it runs */

/* The public statistics of a place, as last answered (or refused): the
 * unauthenticated page reads them from here for PSTATS_TTL s, and at most
 * PSTATS_MAX places are held, so anyone can make whistled compute at most
 * PSTATS_MAX answers a minute through it. */
#define PSTATS_TTL 60
#define PSTATS_MAX 256

typedef struct pstat {
    char node[16];
    uint64_t at; /* s: when answered */
    bool busy;   /* whistled is being asked */
    int status;
    json_t *body;
    struct pstat *next;
} pstat;

typedef struct wfail {
    char login[65];
    uint32_t fails;
    uint64_t until, last; /* s */
} wfail;

struct web {
    uv_loop_t *loop;
    const gw_config *cfg;
    upstream *up;
    wsess *sessions;
    size_t n_sessions;
    sse *streams;
    size_t n_streams;
    size_t in_flight;
    size_t logins; /* password checks queued or running */
    wfail *fails;
    size_t n_fails;
    pstat *pstats;
    size_t n_pstats;
    size_t photos, thumbs; /* being read for a page (GW_PHOTO_IN_FLIGHT, GW_THUMB_IN_FLIGHT at most) */
};

/* A request answered later: link is in the request's pool, so that the
 * answer is dropped when the client went away first. */
typedef struct wreq wreq;
typedef struct wlink {
    wreq *r;
} wlink;

struct wreq {
    web *w;
    h2o_req_t *req;
    wlink *link;
    /* login */
    uv_work_t work;
    char *login, *password, *hash, *principal;
    int verified;
    /* calls */
    const ProtobufCFieldDescriptor *call;
    /* public statistics */
    char node[16];
    /* photos */
    bool thumb;
};

struct sse {
    h2o_generator_t gen; /* first: h2o hands it back */
    web *w;
    h2o_req_t *req;
    wlink *link;
    char sid[65];
    char *principal, *stream;
    whistle_conn *conn;
    uv_timer_t beat;
    char *inflight, *pending; /* written, and waiting to be */
    size_t pending_len;
    bool sending, ended, hold; /* hold: an emergency is shown, not acknowledged */
    bool resume;               /* Last-Event-ID came: from last_id, not the cursor */
    uint64_t last_id;
    sse *next;
};

static uint64_t now_s(web *w) { return uv_now(w->loop) / 1000; }

static void on_dispose(void *p)
{
    wlink *l = p;
    if (l->r) {
        l->r->req = NULL;
        l->r->link = NULL;
    }
}

static wreq *wreq_new(web *w, h2o_req_t *req)
{
    wreq *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->w = w;
    r->req = req;
    r->link = h2o_mem_alloc_shared(&req->pool, sizeof *r->link, on_dispose);
    r->link->r = r;
    w->in_flight++;
    return r;
}

static void wreq_free(wreq *r)
{
    if (r->link)
        r->link->r = NULL;
    r->w->in_flight--;
    if (r->password)
        OPENSSL_cleanse(r->password, strlen(r->password));
    free(r->password);
    free(r->login);
    free(r->hash);
    free(r->principal);
    free(r);
}

static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

static void send_json(h2o_req_t *req, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    static const char *const reasons[] = { [200] = "OK",
                                           [400] = "Bad Request",
                                           [401] = "Unauthorized",
                                           [403] = "Forbidden",
                                           [404] = "Not Found",
                                           [405] = "Method Not Allowed",
                                           [409] = "Conflict",
                                           [413] = "Payload Too Large",
                                           [415] = "Unsupported Media Type",
                                           [500] = "Internal Server Error",
                                           [502] = "Bad Gateway",
                                           [503] = "Service Unavailable",
                                           [504] = "Gateway Timeout" };
    const char *reason = status < 505 && reasons[status] ? reasons[status] : "Error";
    if (!s) {
        gw_http_send(req, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
        return;
    }
    gw_http_send(req, status, reason, "application/json; charset=utf-8", s, strlen(s));
    free(s);
}

static void send_err(h2o_req_t *req, int status, const char *code, const char *msg)
{
    send_json(req, status, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

static void random_hex(char out[65])
{
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1)
        abort(); /* no randomness: no session may be made */
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- sessions */

static void sess_free(wsess *s)
{
    OPENSSL_cleanse(s->id, sizeof s->id);
    OPENSSL_cleanse(s->csrf, sizeof s->csrf);
    free(s->login);
    free(s->principal);
    json_decref(s->who);
    free(s);
}

static bool sess_expired(web *w, const wsess *s)
{
    uint64_t t = now_s(w);
    return t >= s->used + w->cfg->session_idle || t >= s->created + w->cfg->session_max;
}

static void sess_sweep(web *w)
{
    for (wsess **p = &w->sessions; *p;) {
        if (sess_expired(w, *p)) {
            wsess *d = *p;
            *p = d->next;
            w->n_sessions--;
            sess_free(d);
        } else {
            p = &(*p)->next;
        }
    }
}

static void sess_remove(web *w, wsess *s)
{
    for (wsess **p = &w->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            w->n_sessions--;
            sess_free(s);
            return;
        }
}

/* The session id of the request's cookie into id, or "". */
static void cookie_id(const h2o_req_t *req, char id[65])
{
    id[0] = '\0';
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const char *v = req->headers.entries[i].value.base;
        size_t n = req->headers.entries[i].value.len;
        for (size_t k = 0; k + sizeof COOKIE < n; k++) {
            if ((k == 0 || v[k - 1] == ' ' || v[k - 1] == ';') && memcmp(v + k, COOKIE "=", sizeof COOKIE) == 0) {
                const char *val = v + k + sizeof COOKIE;
                size_t l = 0;
                while (val + l < v + n && val[l] != ';' && val[l] != ' ')
                    l++;
                if (l == 64) {
                    memcpy(id, val, 64);
                    id[64] = '\0';
                }
                return;
            }
        }
    }
}

static wsess *sess_by_id(web *w, const char *id)
{
    if (strlen(id) != 64)
        return NULL;
    for (wsess *s = w->sessions; s; s = s->next)
        if (CRYPTO_memcmp(s->id, id, 64) == 0) {
            if (sess_expired(w, s)) {
                sess_remove(w, s);
                return NULL;
            }
            return s;
        }
    return NULL;
}

static wsess *sess_of(web *w, const h2o_req_t *req)
{
    char id[65];
    cookie_id(req, id);
    return sess_by_id(w, id);
}

static bool header_is(const h2o_req_t *req, const char *name, const char *want)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return false;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    return v->len == strlen(want) && CRYPTO_memcmp(v->base, want, v->len) == 0;
}

static bool is_json_body(const h2o_req_t *req)
{
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    static const char j[] = "application/json";
    return ct >= 0 && req->headers.entries[ct].value.len >= sizeof j - 1 &&
           strncasecmp(req->headers.entries[ct].value.base, j, sizeof j - 1) == 0;
}

static json_t *body_json(const h2o_req_t *req)
{
    if (!req->entity.base || !req->entity.len)
        return json_object();
    return json_loadb(req->entity.base, req->entity.len, JSON_REJECT_DUPLICATES, NULL);
}

static json_t *sess_json(const web *w, const wsess *s)
{
    return json_pack("{s:s, s:s, s:O, s:s, s:s}", "login", s->login, "principal", s->principal, "who", s->who, "csrf",
                     s->csrf, "tile_url", w->cfg->tile_url);
}

/* ---- login: argon2 in libuv's thread pool, so the loop keeps serving */

/* Verified against when the login is unknown, so that the answer takes
 * as long as for a known one (an argon2id hash of a random password). */
static const char DUMMY_HASH[] =
    "$argon2id$v=19$m=65536,t=3,p=1$zreRL1UeTACDfVpS6LaQgQ$sNxc2LF0PTejwOswitL2SrQLPbqZyj4ZY/34PPfkZYc";

static wfail *fail_of(web *w, const char *login)
{
    for (size_t i = 0; i < w->n_fails; i++)
        if (strcmp(w->fails[i].login, login) == 0)
            return &w->fails[i];
    return NULL;
}

static void fail_forget(web *w, const char *login)
{
    wfail *f = fail_of(w, login);
    if (f)
        *f = w->fails[--w->n_fails];
}

static void fail_count(web *w, const char *login)
{
    uint64_t t = now_s(w);
    wfail *f = fail_of(w, login);
    if (!f) {
        if (w->n_fails == FAIL_TABLE) {
            /* full: the entry idle longest goes */
            size_t old = 0;
            for (size_t i = 1; i < w->n_fails; i++)
                if (w->fails[i].last < w->fails[old].last)
                    old = i;
            w->fails[old] = w->fails[--w->n_fails];
        }
        if (!w->fails && !(w->fails = calloc(FAIL_TABLE, sizeof *w->fails)))
            return;
        f = &w->fails[w->n_fails++];
        memset(f, 0, sizeof *f);
        snprintf(f->login, sizeof f->login, "%s", login);
    }
    f->fails++;
    f->last = t;
    if (f->fails >= FAIL_FREE) {
        uint32_t n = f->fails - FAIL_FREE;
        uint64_t wait = n >= 10 ? FAIL_MAX_WAIT : (uint64_t)FAIL_WAIT << n;
        f->until = t + (wait > FAIL_MAX_WAIT ? FAIL_MAX_WAIT : wait);
    }
}

static void login_work(uv_work_t *wk)
{
    wreq *r = wk->data;
    r->verified = argon2id_verify(r->hash, r->password, strlen(r->password)) == ARGON2_OK;
}

static void login_hello(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    wreq *r = ud;
    web *w = r->w;
    if (!r->req) {
        whistle_response_free(resp);
        wreq_free(r);
        return;
    }
    if (code != 0 || !resp || resp->result_case != WHISTLE__V1__RESPONSE__RESULT_HELLO || !resp->hello->principal) {
        gw_warn("web: login %s: whistled refused acting for %s: %s", r->login, r->principal, msg);
        send_err(r->req,
                 code == 0  ? 500
                 : code > 0 ? 403
                            : 503,
                 code > 0 ? up_code_name(code) : "UNAVAILABLE",
                 code > 0 ? msg : "whistled is not reachable now; try again");
        whistle_response_free(resp);
        wreq_free(r);
        return;
    }
    wsess *s = calloc(1, sizeof *s);
    if (!s || !(s->login = strdup(r->login)) || !(s->principal = strdup(r->principal))) {
        if (s) {
            free(s->login);
            free(s);
        }
        send_err(r->req, 500, "INTERNAL", "out of memory");
        whistle_response_free(resp);
        wreq_free(r);
        return;
    }
    json_t *who = pbj_to_json(&resp->hello->principal->base);
    json_object_del(who, "act_for");
    s->who = who;
    random_hex(s->id);
    random_hex(s->csrf);
    s->created = s->used = now_s(w);
    s->next = w->sessions;
    w->sessions = s;
    w->n_sessions++;
    whistle_response_free(resp);
    char cookie[200];
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/web; Secure; HttpOnly; SameSite=Strict; Max-Age=%u", s->id,
             w->cfg->session_max);
    add_header(r->req, "set-cookie", cookie);
    gw_info("web: %s logged in (acting as %s)", s->login, s->principal);
    send_json(r->req, 200, sess_json(w, s));
    wreq_free(r);
}

static void login_done(uv_work_t *wk, int status)
{
    wreq *r = wk->data;
    web *w = r->w;
    w->logins--;
    if (!r->verified || !r->principal)
        fail_count(w, r->login);
    else
        fail_forget(w, r->login);
    if (!r->req || status != 0) {
        wreq_free(r);
        return;
    }
    if (!r->verified || !r->principal) {
        gw_info("web: a login as %.64s refused: unknown login or wrong password", r->login);
        send_err(r->req, 401, "UNAUTHENTICATED", "unknown login or wrong password");
        wreq_free(r);
        return;
    }
    if (!w->up) {
        send_err(r->req, 503, "UNAVAILABLE", "whistled is not reachable now; try again");
        wreq_free(r);
        return;
    }
    /* Hello made for the principal answers who it is: role, scope and
     * department, as whistled has them now; and proves the gateway may act
     * for it */
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__Hello hello = WHISTLE__V1__HELLO__INIT;
    hello.client_name = "whistle-gateway web";
    req.call_case = WHISTLE__V1__REQUEST__CALL_HELLO;
    req.hello = &hello;
    up_call(w->up, &req, r->principal, login_hello, r);
}

static void h_login(web *w, h2o_req_t *req)
{
    if (!is_json_body(req))
        return send_err(req, 415, "INVALID_ARGUMENT", "a login is a JSON object {login, password}");
    json_t *j = body_json(req);
    const char *login = NULL, *password = NULL;
    if (!j || json_unpack(j, "{s:s, s:s}", "login", &login, "password", &password) != 0 || !*login ||
        strlen(login) > 64 || strlen(password) > 1024) {
        json_decref(j);
        return send_err(req, 400, "INVALID_ARGUMENT", "a login is a JSON object {login, password}");
    }
    sess_sweep(w);
    if (w->n_sessions >= w->cfg->max_sessions) {
        json_decref(j);
        return send_err(req, 503, "RESOURCE_EXHAUSTED", "too many sessions are open (web.max_sessions)");
    }
    const wfail *f = fail_of(w, login);
    if (f && f->until > now_s(w)) {
        char msg[160], after[24];
        snprintf(msg, sizeof msg, "too many failed logins as %.64s: try again in %llu s", login,
                 (unsigned long long)(f->until - now_s(w)));
        snprintf(after, sizeof after, "%llu", (unsigned long long)(f->until - now_s(w)));
        json_decref(j);
        add_header(req, "retry-after", after);
        return send_err(req, 429, "RESOURCE_EXHAUSTED", msg);
    }
    if (w->logins >= LOGINS_QUEUED) {
        json_decref(j);
        return send_err(req, 503, "RESOURCE_EXHAUSTED", "too many logins at once; try again");
    }
    wreq *r = wreq_new(w, req);
    const gw_web_user *u = gw_config_web_user(w->cfg, login);
    if (!r || !(r->login = strdup(login)) || !(r->password = strdup(password)) ||
        !(r->hash = strdup(u ? u->hash : DUMMY_HASH)) || (u && !(r->principal = strdup(u->principal)))) {
        json_decref(j);
        if (r)
            wreq_free(r);
        return send_err(req, 500, "INTERNAL", "out of memory");
    }
    json_decref(j);
    r->work.data = r;
    if (uv_queue_work(w->loop, &r->work, login_work, login_done) != 0) {
        wreq_free(r);
        return send_err(req, 500, "INTERNAL", "cannot queue the password check");
    }
    w->logins++;
}

/* ---- calls */

static int http_status(int code)
{
    switch (code) {
    case WHISTLE__V1__STATUS__CODE__OK: return 200;
    case WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT:
    case WHISTLE__V1__STATUS__CODE__OUT_OF_RANGE: return 400;
    case WHISTLE__V1__STATUS__CODE__UNAUTHENTICATED: return 401;
    case WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED: return 403;
    case WHISTLE__V1__STATUS__CODE__NOT_FOUND: return 404;
    case WHISTLE__V1__STATUS__CODE__ALREADY_EXISTS:
    case WHISTLE__V1__STATUS__CODE__ABORTED:
    case WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION: return 409;
    case UP_TIMEOUT: return 504;
    case UP_UNAVAILABLE:
    case WHISTLE__V1__STATUS__CODE__UNAVAILABLE:
    case WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED: return 503;
    default: return 500;
    }
}

static void call_done(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    wreq *r = ud;
    if (r->req) {
        if (code != 0 || !resp) {
            send_err(r->req, http_status(code), up_code_name(code), msg);
        } else {
            /* {"<the answer's kind>": {...}}: {"event": ...}, {"orders": ...} */
            json_t *result = json_null();
            const ProtobufCFieldDescriptor *fd =
                protobuf_c_message_descriptor_get_field(&whistle__v1__response__descriptor, resp->result_case);
            if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *m = *(ProtobufCMessage *const *)((const char *)resp + fd->offset);
                if (m)
                    result = pbj_to_json(m);
            }
            send_json(r->req, 200, json_pack("{s:o}", fd ? fd->name : "result", result));
        }
    }
    whistle_response_free(resp);
    wreq_free(r);
}

static void h_call(web *w, h2o_req_t *req, wsess *s, const char *name)
{
    const ProtobufCFieldDescriptor *fd = NULL;
    for (size_t i = 0; i < sizeof CALLS / sizeof CALLS[0]; i++)
        if (strcmp(CALLS[i], name) == 0)
            fd = protobuf_c_message_descriptor_get_field_by_name(&whistle__v1__request__descriptor, name);
    if (!fd || !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || fd->type != PROTOBUF_C_TYPE_MESSAGE)
        return send_err(req, 404, "NOT_FOUND", "no such call in the web console's API (docs/web.md)");
    if (!is_json_body(req))
        return send_err(req, 415, "INVALID_ARGUMENT", "a call's body is a JSON object of its fields");
    json_t *j = body_json(req);
    if (!j)
        return send_err(req, 400, "INVALID_ARGUMENT", "the body is not a JSON object");
    ProtobufCMessage *m = NULL;
    char err[400];
    if (pbj_from_json(fd->descriptor, j, &m, err, sizeof err) < 0) {
        json_decref(j);
        return send_err(req, 400, "INVALID_ARGUMENT", err);
    }
    json_decref(j);
    if (!w->up) {
        protobuf_c_message_free_unpacked(m, NULL);
        return send_err(req, 503, "UNAVAILABLE", "whistled is not reachable now");
    }
    wreq *r = wreq_new(w, req);
    if (!r) {
        protobuf_c_message_free_unpacked(m, NULL);
        return send_err(req, 500, "INTERNAL", "out of memory");
    }
    Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
    *(ProtobufCMessage **)((char *)&rq + fd->offset) = m;
    rq.call_case = (Whistle__V1__Request__CallCase)fd->id;
    /* a retried write with the same key is applied once (the page sends
     * one per action) */
    char key[129] = "";
    ssize_t ik = h2o_find_header_by_str(&req->headers, H2O_STRLIT("idempotency-key"), -1);
    if (ik >= 0 && req->headers.entries[ik].value.len < sizeof key) {
        memcpy(key, req->headers.entries[ik].value.base, req->headers.entries[ik].value.len);
        key[req->headers.entries[ik].value.len] = '\0';
        rq.idempotency_key = key;
    }
    up_call(w->up, &rq, s->principal, call_done, r);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- photos: GET photo/ID and photo/ID/thumb, read as the session's
 * principal, so whistled shows a person only the photos of the cases they
 * may read (docs/photos.md) */

static void photo_done(void *ud, int code, const char *msg, gw_photo *p)
{
    wreq *r = ud;
    if (r->thumb)
        r->w->thumbs--;
    else
        r->w->photos--;
    if (r->req) {
        if (code == 0 && p) {
            gw_photo_send(r->req, p, false);
        } else if (code == GW_PHOTO_BROKEN) {
            gw_warn("web: a photo: %s", msg);
            send_err(r->req, 502, "DATA_LOSS", "the photo could not be read whole; try again");
        } else {
            send_err(r->req, http_status(code), up_code_name(code), msg);
        }
    }
    gw_photo_free(p);
    wreq_free(r);
}

static void h_photo(web *w, h2o_req_t *req, wsess *s, const char *spec)
{
    char *end = NULL;
    errno = 0;
    unsigned long long id = spec[0] >= '1' && spec[0] <= '9' ? strtoull(spec, &end, 10) : 0;
    bool thumb = end && strcmp(end, "/thumb") == 0;
    if (!id || errno || !end || (*end && !thumb))
        return send_err(req, 404, "NOT_FOUND", "a photo is photo/ID or photo/ID/thumb");
    if (!w->up)
        return send_err(req, 503, "UNAVAILABLE", "whistled is not reachable now");
    if (thumb ? w->thumbs >= GW_THUMB_IN_FLIGHT : w->photos >= GW_PHOTO_IN_FLIGHT)
        return send_err(req, 503, "RESOURCE_EXHAUSTED", "too many photos are being read now; try again");
    wreq *r = wreq_new(w, req);
    if (!r)
        return send_err(req, 500, "INTERNAL", "out of memory");
    r->thumb = thumb;
    if (thumb)
        w->thumbs++;
    else
        w->photos++;
    gw_photo_fetch(w->up, id, thumb, s->principal, photo_done, r);
}

/* POST photo, the body a JPEG or PNG: uploaded to whistled as the
 * session's principal (whistled checks it may, then checks and cleans the
 * photo); the answer's {"photo": {"sha256", ...}} is what a feedback or a
 * verification then names in its photos. */
static void upload_done(void *ud, int code, const char *msg, const Whistle__V1__PhotoUploadStatus *st)
{
    wreq *r = ud;
    r->w->photos--;
    if (r->req) {
        if (code == 0 && st)
            send_json(r->req, 200, json_pack("{s:o}", "photo", pbj_to_json(&st->base)));
        else if (code == GW_PHOTO_BROKEN)
            send_err(r->req, 502, "DATA_LOSS", "the photo could not be sent to whistled; try again");
        else
            send_err(r->req, http_status(code), up_code_name(code), msg);
    }
    wreq_free(r);
}

static void h_photo_upload(web *w, h2o_req_t *req, wsess *s)
{
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    const h2o_iovec_t *v = ct >= 0 ? &req->headers.entries[ct].value : NULL;
    bool image = v && ((v->len >= 10 && strncasecmp(v->base, "image/jpeg", 10) == 0) ||
                       (v->len >= 9 && strncasecmp(v->base, "image/png", 9) == 0));
    if (!image)
        return send_err(req, 415, "INVALID_ARGUMENT", "a photo is sent as its bytes, image/jpeg or image/png");
    if (!req->entity.base || !req->entity.len)
        return send_err(req, 400, "INVALID_ARGUMENT", "the photo is empty");
    if (!w->up)
        return send_err(req, 503, "UNAVAILABLE", "whistled is not reachable now");
    if (w->photos >= GW_PHOTO_IN_FLIGHT)
        return send_err(req, 503, "RESOURCE_EXHAUSTED", "too many photos are being sent now; try again");
    wreq *r = wreq_new(w, req);
    if (!r)
        return send_err(req, 500, "INTERNAL", "out of memory");
    w->photos++;
    gw_photo_upload(w->up, (const uint8_t *)req->entity.base, req->entity.len, s->principal, upload_done, r);
}

/* GET public/board?node=CODE: a place's echo board (民情回音栏) for anyone,
 * no login, and public/places, the names of the places: read as
 * web.public_as (a kiosk: what the community's screen shows), so whistled
 * decides what is public; the board holds no personal data
 * (docs/archive.md). */
static void h_public(web *w, h2o_req_t *req, bool places)
{
    if (!*w->cfg->public_as)
        return send_err(req, 404, "NOT_FOUND", "this gateway has no public page (web.public_as)");
    char node[32] = "";
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t n = req->path.len - req->query_at - 1;
        if (n > 5 && memcmp(q, "node=", 5) == 0 && n - 5 < sizeof node) {
            memcpy(node, q + 5, n - 5);
            node[n - 5] = '\0';
        }
        for (const char *p = node; *p; p++)
            if (*p < '0' || *p > '9')
                return send_err(req, 400, "INVALID_ARGUMENT", "node: a place's code (digits)");
    }
    if (!w->up)
        return send_err(req, 503, "UNAVAILABLE", "whistled is not reachable now");
    wreq *r = wreq_new(w, req);
    if (!r)
        return send_err(req, 500, "INTERNAL", "out of memory");
    Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__ListBoard lb = WHISTLE__V1__LIST_BOARD__INIT;
    Whistle__V1__ListNodes ln = WHISTLE__V1__LIST_NODES__INIT;
    lb.node = node;
    lb.limit = 100;
    if (places) {
        rq.call_case = WHISTLE__V1__REQUEST__CALL_LIST_NODES;
        rq.list_nodes = &ln;
    } else {
        rq.call_case = WHISTLE__V1__REQUEST__CALL_LIST_BOARD;
        rq.list_board = &lb;
    }
    up_call(w->up, &rq, w->cfg->public_as, call_done, r);
}

/* GET public/stats?node=CODE: a community's anonymised statistics for
 * anyone, no login: its cases reported, closed and closed on time, and how
 * satisfied those who rated them were, this month and last. Read as
 * web.public_stats_as (a principal that may read statistics: whistled
 * checks that the community is in its scope), and only the fields named
 * here are passed on: counts and rates, never a case, a name or a place
 * finer than the community. */
static const char *const PSTAT_COUNTS[] = {
    "reported", "filed", "closed", "due", "closed_on_time", "rated", "satisfied"
};
static const char *const PSTAT_RATES[] = { "close_rate", "on_time_close_rate", "satisfaction_rate", "average_rating" };

static json_t *pstat_row(const Whistle__V1__StatsRow *row)
{
    json_t *o = json_pack("{s:s}", "month", row->bucket ? row->bucket : "");
    for (size_t i = 0; o && i < sizeof PSTAT_COUNTS / sizeof PSTAT_COUNTS[0]; i++) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field_by_name(&whistle__v1__stats_row__descriptor, PSTAT_COUNTS[i]);
        json_object_set_new(o, PSTAT_COUNTS[i], json_integer(*(const int64_t *)((const char *)row + fd->offset)));
    }
    for (size_t i = 0; o && i < sizeof PSTAT_RATES / sizeof PSTAT_RATES[0]; i++) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field_by_name(&whistle__v1__stats_row__descriptor, PSTAT_RATES[i]);
        double v = *(const double *)((const char *)row + fd->offset);
        /* -1: nothing to measure it on */
        json_object_set_new(o, PSTAT_RATES[i], v < 0 ? json_null() : json_real(v));
    }
    return o;
}

static pstat *pstat_find(web *w, const char *node)
{
    for (pstat *p = w->pstats; p; p = p->next)
        if (strcmp(p->node, node) == 0)
            return p;
    return NULL;
}

static void pstat_drop(web *w, pstat *p)
{
    for (pstat **pp = &w->pstats; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            json_decref(p->body);
            free(p);
            w->n_pstats--;
            return;
        }
}

static void pstats_done(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    wreq *r = ud;
    int status;
    json_t *body;
    if (code != 0 || !resp || resp->result_case != WHISTLE__V1__RESPONSE__RESULT_STATS) {
        /* whistled's message names the principal's scope: not for anyone */
        status = code ? http_status(code) : 500;
        gw_info("web: public statistics of %s: %s", r->node, msg ? msg : "no statistics in the answer");
        body = json_pack("{s:s, s:s}", "code", code ? up_code_name(code) : "INTERNAL", "message",
                         status == 403   ? "this page shows no statistics of that place"
                         : status >= 500 ? "cannot be read now; try again later"
                                         : "no statistics of that place");
    } else {
        /* the newest two months, newest first */
        json_t *months = json_array();
        const Whistle__V1__StatsResult *sr = resp->stats;
        for (size_t i = sr->n_rows; i-- > 0 && json_array_size(months) < 2;)
            if (sr->rows[i]->bucket && strcmp(sr->rows[i]->bucket, "total") != 0 &&
                strcmp(sr->rows[i]->code ? sr->rows[i]->code : "", r->node) == 0)
                json_array_append_new(months, pstat_row(sr->rows[i]));
        status = 200;
        body = json_pack("{s:{s:s, s:o}}", "stats", "node", r->node, "months", months);
    }
    /* whistled's failure to answer now is not remembered: the next asks
     * again (an older answer, if any, stays until its time is up) */
    pstat *p = pstat_find(r->w, r->node);
    if (p) {
        p->busy = false;
        if (status < 500) {
            json_decref(p->body);
            p->body = json_incref(body);
            p->status = status;
            p->at = now_s(r->w);
        } else if (!p->body) {
            pstat_drop(r->w, p);
        }
    }
    if (r->req)
        send_json(r->req, status, body);
    else
        json_decref(body);
    whistle_response_free(resp);
    wreq_free(r);
}

static void h_public_stats(web *w, h2o_req_t *req)
{
    if (!*w->cfg->public_stats_as)
        return send_err(req, 404, "NOT_FOUND", "this gateway has no public statistics (web.public_stats_as)");
    char node[16] = "";
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t n = req->path.len - req->query_at - 1;
        if (n > 5 && memcmp(q, "node=", 5) == 0 && n - 5 < sizeof node) {
            memcpy(node, q + 5, n - 5);
            node[n - 5] = '\0';
        }
    }
    bool ok = strlen(node) == 12;
    for (const char *p = node; *p; p++)
        ok = ok && *p >= '0' && *p <= '9';
    if (!ok)
        return send_err(req, 400, "INVALID_ARGUMENT", "node: a community's code (12 digits)");
    uint64_t t = now_s(w);
    pstat *p = pstat_find(w, node);
    /* while whistled is asked, the older answer stands */
    if (p && p->body && (p->busy || t - p->at < PSTATS_TTL))
        return send_json(req, p->status, json_incref(p->body));
    if (p && p->busy)
        return send_err(req, 503, "UNAVAILABLE", "being read now; ask again in a moment");
    if (!w->up)
        return send_err(req, 503, "UNAVAILABLE", "whistled is not reachable now");
    if (!p) {
        /* make room: drop the answers that are out of date */
        for (pstat **pp = &w->pstats; *pp;) {
            pstat *o = *pp;
            if (!o->busy && t - o->at >= PSTATS_TTL) {
                *pp = o->next;
                json_decref(o->body);
                free(o);
                w->n_pstats--;
            } else {
                pp = &o->next;
            }
        }
        if (w->n_pstats >= PSTATS_MAX)
            return send_err(req, 503, "UNAVAILABLE", "too many places asked for this minute; ask again later");
        p = calloc(1, sizeof *p);
        if (!p)
            return send_err(req, 500, "INTERNAL", "out of memory");
        memcpy(p->node, node, sizeof p->node);
        p->next = w->pstats;
        w->pstats = p;
        w->n_pstats++;
    }
    wreq *r = wreq_new(w, req);
    if (!r) {
        if (!p->body)
            pstat_drop(w, p);
        return send_err(req, 500, "INTERNAL", "out of memory");
    }
    memcpy(r->node, node, sizeof r->node);
    p->busy = true;
    /* from the first day of last month (UTC: near a month's turn whistled's
     * own zone may give one month more, and the newest two are kept) */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon; /* m: last month, 1-12 (0: December of last year) */
    if (m == 0) {
        m = 12;
        y--;
    }
    char from[16];
    snprintf(from, sizeof from, "%04d-%02d-01", y % 10000, m);
    char *codes[1] = { node };
    Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__GetStats gs = WHISTLE__V1__GET_STATS__INIT;
    gs.by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_COMMUNITY;
    gs.period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
    gs.n_codes = 1;
    gs.codes = codes;
    gs.from = from;
    rq.call_case = WHISTLE__V1__REQUEST__CALL_GET_STATS;
    rq.get_stats = &gs;
    up_call(w->up, &rq, w->cfg->public_stats_as, pstats_done, r);
}

/* ---- live: server-sent events from the principal's stream */

static void sse_flush(sse *e);

static void sse_write(sse *e, const char *text, size_t n)
{
    if (e->ended || !e->req)
        return;
    char *p = realloc(e->pending, e->pending_len + n + 1);
    if (!p)
        return;
    memcpy(p + e->pending_len, text, n);
    e->pending = p;
    e->pending_len += n;
    sse_flush(e);
}

static void sse_flush(sse *e)
{
    if (e->sending || !e->req || !e->pending_len)
        return;
    free(e->inflight);
    e->inflight = e->pending;
    h2o_iovec_t buf = h2o_iovec_init(e->inflight, e->pending_len);
    e->pending = NULL;
    e->pending_len = 0;
    e->sending = true;
    h2o_send(e->req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void sse_event(sse *e, const char *event, uint64_t id, json_t *data)
{
    char *d = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!d)
        return;
    size_t n = strlen(d) + 120;
    char *t = malloc(n);
    if (t) {
        int l = id ? snprintf(t, n, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)id, event, d)
                   : snprintf(t, n, "event: %s\ndata: %s\n\n", event, d);
        sse_write(e, t, (size_t)l);
        free(t);
    }
    free(d);
}

static void sse_unlink(sse *e)
{
    web *w = e->w;
    for (sse **p = &w->streams; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            w->n_streams--;
            return;
        }
}

static void sse_free(sse *e)
{
    free(e->inflight);
    free(e->pending);
    free(e->principal);
    free(e->stream);
    free(e);
}

static void beat_closed(uv_handle_t *h) { sse_free(h->data); }

/* Frees e once its connection to whistled and its timer are gone. */
static void sse_maybe_free(sse *e)
{
    if (e->conn || e->req)
        return;
    sse_unlink(e);
    uv_close((uv_handle_t *)&e->beat, beat_closed);
}

/* Ends the response (the browser reconnects with Last-Event-ID) and the
 * connection to whistled. */
static void sse_end(sse *e)
{
    if (!e->ended && e->req && !e->sending) {
        e->ended = true;
        uv_timer_stop(&e->beat);
        h2o_send(e->req, NULL, 0, H2O_SEND_STATE_FINAL);
    } else if (!e->ended) {
        e->ended = true; /* the rest and the FINAL go when the write in flight is done */
        uv_timer_stop(&e->beat);
    }
    if (e->conn)
        whistle_conn_close(e->conn);
}

static void sse_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    sse *e = (sse *)g;
    (void)req;
    e->sending = false;
    if (e->ended) {
        /* what was written while that write was in flight (the logout
         * event that ended the stream) goes out with the end, not lost */
        if (e->req) {
            free(e->inflight);
            e->inflight = e->pending;
            h2o_iovec_t buf = h2o_iovec_init(e->inflight, e->pending_len);
            e->pending = NULL;
            e->pending_len = 0;
            h2o_send(e->req, &buf, buf.len ? 1 : 0, H2O_SEND_STATE_FINAL);
        }
        return;
    }
    sse_flush(e);
}

static void sse_stop(h2o_generator_t *g, h2o_req_t *req)
{
    (void)req;
    sse *e = (sse *)g;
    e->ended = true;
    if (e->conn)
        whistle_conn_close(e->conn);
}

static void sse_dispose(void *p)
{
    sse **l = p;
    sse *e = *l;
    if (!e)
        return;
    e->req = NULL;
    e->ended = true;
    uv_timer_stop(&e->beat);
    if (e->conn)
        whistle_conn_close(e->conn);
    sse_maybe_free(e);
}

static void sse_on_beat(uv_timer_t *t)
{
    sse *e = t->data;
    /* the session may have ended (logout, expiry): so does its stream. A
     * page open on a wall counts as in use (web.session_max still ends it) */
    wsess *s = sess_by_id(e->w, e->sid);
    if (s)
        s->used = now_s(e->w);
    if (!s) {
        sse_event(e, "logout", 0, json_object());
        sse_end(e);
        return;
    }
    sse_write(e, ": beat\n\n", 8);
}

static void sse_subscribed(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    sse *e = ud;
    (void)c;
    if (status < 0 || !resp) {
        whistle_response_free(resp);
        return; /* on_close follows */
    }
    int code = whistle_response_code(resp);
    if (code != 0) {
        sse_event(e, "refused", 0,
                  json_pack("{s:s, s:s}", "code", up_code_name(code), "message", whistle_response_message(resp)));
        whistle_response_free(resp);
        sse_end(e);
        return;
    }
    free(e->stream);
    e->stream = strdup(resp->subscribe && resp->subscribe->stream ? resp->subscribe->stream : "");
    sse_event(e, "ready", 0, resp->subscribe ? pbj_to_json(&resp->subscribe->base) : json_object());
    whistle_response_free(resp);
}

static void sse_connected(whistle_conn *c, int status, void *ud)
{
    sse *e = ud;
    if (status < 0)
        return; /* on_close follows */
    Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__Subscribe sb = WHISTLE__V1__SUBSCRIBE__INIT;
    /* the principal's own stream; a reconnect resumes after the last event
     * the browser had, a new page from the stream's acknowledged cursor */
    sb.after_seq = e->last_id;
    sb.from_cursor = !e->resume;
    rq.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    rq.subscribe = &sb;
    rq.act_as = e->principal;
    if (whistle_conn_send(c, &rq, sse_subscribed, e) < 0)
        whistle_conn_close(c);
}

static void sse_push(whistle_conn *c, Whistle__V1__Push *p, void *ud)
{
    sse *e = ud;
    bool emergency = p->action && strcmp(p->action, "emergency") == 0;
    sse_event(e, "push", p->seq, pbj_to_json(&p->base));
    /* Acknowledged once shown, as the console does: never past an
     * emergency nobody has acknowledged (the page's POST ack does), so a
     * screen opened later still shows it */
    if (emergency)
        e->hold = true;
    if (!e->hold && e->req)
        whistle_conn_push_ack_as(c, p->stream, p->seq, e->principal);
    whistle_push_free(p);
}

static void sse_closed(whistle_conn *c, int status, void *ud)
{
    sse *e = ud;
    (void)c;
    (void)status;
    e->conn = NULL;
    if (!e->ended && e->req)
        sse_end(e);
    sse_maybe_free(e);
}

static void h_events(web *w, h2o_req_t *req, wsess *s)
{
    if (w->n_streams >= w->cfg->max_streams)
        return send_err(req, 503, "RESOURCE_EXHAUSTED", "too many live streams are open (web.max_streams)");
    sse *e = calloc(1, sizeof *e);
    if (!e || !(e->principal = strdup(s->principal))) {
        free(e);
        return send_err(req, 500, "INTERNAL", "out of memory");
    }
    ssize_t li = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    if (li >= 0) {
        char buf[24];
        size_t n = req->headers.entries[li].value.len;
        if (n > 0 && n < sizeof buf) {
            memcpy(buf, req->headers.entries[li].value.base, n);
            buf[n] = '\0';
            char *end;
            errno = 0;
            unsigned long long v = strtoull(buf, &end, 10);
            if (!errno && !*end) {
                e->last_id = v;
                e->resume = true;
            }
        }
    }
    e->w = w;
    e->req = req;
    memcpy(e->sid, s->id, sizeof e->sid);
    e->gen.proceed = sse_proceed;
    e->gen.stop = sse_stop;
    uv_timer_init(w->loop, &e->beat);
    e->beat.data = e;
    whistle_opts o = { 0 };
    o.host = w->cfg->wd_host;
    o.port = w->cfg->wd_port;
    o.ca_file = w->cfg->wd_ca;
    o.cert_file = w->cfg->wd_cert;
    o.key_file = w->cfg->wd_key;
    o.client_name = "whistle-gateway web stream";
    o.timeout_ms = w->cfg->call_timeout * 1000;
    whistle_conn_cbs cbs = { sse_connected, sse_push, sse_closed };
    char err[256];
    if (whistle_conn_open(w->loop, &o, &cbs, e, &e->conn, err, sizeof err) < 0) {
        uv_close((uv_handle_t *)&e->beat, beat_closed);
        return send_err(req, 503, "UNAVAILABLE", err);
    }
    sse **l = h2o_mem_alloc_shared(&req->pool, sizeof *l, sse_dispose);
    *l = e;
    e->next = w->streams;
    w->streams = e;
    w->n_streams++;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_start_response(req, &e->gen);
    sse_write(e, "retry: 2000\n\n", 13);
    uv_timer_start(&e->beat, sse_on_beat, HEARTBEAT_MS, HEARTBEAT_MS);
}

/* POST /web/api/ack {seq}: the emergency shown up to seq was seen. */
static void h_ack(web *w, h2o_req_t *req, wsess *s)
{
    json_t *j = body_json(req);
    json_int_t seq = 0;
    const char *stream = NULL;
    if (!j || json_unpack(j, "{s:s, s:I}", "stream", &stream, "seq", &seq) != 0 || seq <= 0) {
        json_decref(j);
        return send_err(req, 400, "INVALID_ARGUMENT", "an acknowledgement is {stream, seq}");
    }
    int rc = up_push_ack(w->up, stream, (uint64_t)seq, s->principal);
    for (sse *e = w->streams; e; e = e->next)
        if (strcmp(e->principal, s->principal) == 0)
            e->hold = false;
    json_decref(j);
    if (rc < 0)
        return send_err(req, 503, "UNAVAILABLE", "whistled is not reachable now");
    send_json(req, 200, json_object());
}

/* ---- static files */

static const char *ctype_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".json") == 0)
        return "application/json; charset=utf-8";
    return NULL;
}

static void h_static(web *w, h2o_req_t *req, const char *name)
{
    const char *ct = ctype_of(name);
    bool ok = ct && name[0] != '.';
    for (const char *p = name; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
             *p == '_' || *p == '.';
    if (!ok)
        return gw_http_send(req, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", 10);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", w->cfg->web_root, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX) {
        if (fd >= 0)
            close(fd);
        return gw_http_send(req, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", 10);
    }
    char *buf = h2o_mem_alloc_pool(&req->pool, (size_t)st.st_size + 1);
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n != st.st_size)
        return gw_http_send(req, 500, "Internal Server Error", "text/plain", "read error\n", 11);
    /* the page loads from here only: no outside host, no inline script */
    char csp[600];
    snprintf(csp, sizeof csp,
             "default-src 'self'; img-src 'self' data:%s%s; style-src 'self'; script-src 'self'; connect-src 'self'; "
             "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
             *w->cfg->tile_origin ? " " : "", w->cfg->tile_origin);
    add_header(req, "content-security-policy", csp);
    add_header(req, "referrer-policy", "no-referrer");
    add_header(req, "x-frame-options", "DENY");
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ct, strlen(ct));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    h2o_send_inline(req, buf, (size_t)n);
}

/* ---- the routes */

bool web_owns(const h2o_req_t *req)
{
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    return plen >= 4 && memcmp(req->path.base, "/web", 4) == 0 && (plen == 4 || req->path.base[4] == '/');
}

static bool method_is(const h2o_req_t *req, const char *m)
{
    return req->method.len == strlen(m) && memcmp(req->method.base, m, req->method.len) == 0;
}

void web_handle(web *w, h2o_req_t *req)
{
    if (!w->cfg->web_enabled)
        return gw_http_send(req, 404, "Not Found", "text/plain; charset=utf-8", "the web console is off\n", 23);
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    char path[256];
    if (plen >= sizeof path)
        return gw_http_send(req, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", 10);
    memcpy(path, req->path.base, plen);
    path[plen] = '\0';
    bool get = method_is(req, "GET") || method_is(req, "HEAD"), post = method_is(req, "POST");
    if (strncmp(path, API, strlen(API)) != 0) {
        if (!get)
            return send_err(req, 405, "INVALID_ARGUMENT", "pages are read with GET");
        if (strcmp(path, "/web") == 0) {
            add_header(req, "location", "/web/");
            return gw_http_send(req, 301, "Moved Permanently", "text/plain", "/web/\n", 6);
        }
        const char *name = path + 5;
        return h_static(w, req, *name ? name : "index.html");
    }
    const char *ep = path + strlen(API);
    if (strcmp(ep, "public/board") == 0 || strcmp(ep, "public/places") == 0) {
        if (!get)
            return send_err(req, 405, "INVALID_ARGUMENT", "the public page is read with GET");
        return h_public(w, req, strcmp(ep, "public/places") == 0);
    }
    if (strcmp(ep, "public/stats") == 0) {
        if (!get)
            return send_err(req, 405, "INVALID_ARGUMENT", "the public page is read with GET");
        return h_public_stats(w, req);
    }
    if (strcmp(ep, "login") == 0) {
        if (!post)
            return send_err(req, 405, "INVALID_ARGUMENT", "log in with POST");
        return h_login(w, req);
    }
    wsess *s = sess_of(w, req);
    if (!s)
        return send_err(req, 401, "UNAUTHENTICATED", "not logged in, or the session has ended: log in");
    if (post && !header_is(req, "x-csrf-token", s->csrf))
        return send_err(req, 403, "PERMISSION_DENIED", "the request lacks this session's X-CSRF-Token");
    s->used = now_s(w);
    if (strcmp(ep, "session") == 0 && get)
        return send_json(req, 200, sess_json(w, s));
    if (strcmp(ep, "events") == 0 && get)
        return h_events(w, req, s);
    if (strncmp(ep, "photo/", 6) == 0 && get)
        return h_photo(w, req, s, ep + 6);
    if (!post)
        return send_err(req, 405, "INVALID_ARGUMENT", "the API's calls are POSTs");
    if (strcmp(ep, "logout") == 0) {
        gw_info("web: %s logged out", s->login);
        /* its live streams end with it, now rather than at their next beat */
        for (sse *e = w->streams; e; e = e->next)
            if (!e->ended && CRYPTO_memcmp(e->sid, s->id, 64) == 0) {
                sse_event(e, "logout", 0, json_object());
                sse_end(e);
            }
        sess_remove(w, s);
        add_header(req, "set-cookie", COOKIE "=; Path=/web; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
        return send_json(req, 200, json_object());
    }
    if (strcmp(ep, "ack") == 0)
        return h_ack(w, req, s);
    if (strcmp(ep, "photo") == 0)
        return h_photo_upload(w, req, s);
    if (strncmp(ep, "call/", 5) == 0)
        return h_call(w, req, s, ep + 5);
    send_err(req, 404, "NOT_FOUND", "no such endpoint (docs/web.md)");
}

/* ---- life */

web *web_new(uv_loop_t *loop, const gw_config *cfg)
{
    web *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->loop = loop;
    w->cfg = cfg;
    return w;
}

void web_attach(web *w, upstream *u) { w->up = u; }

void web_stop(web *w)
{
    w->up = NULL;
    for (sse *e = w->streams; e; e = e->next)
        sse_end(e);
}

size_t web_in_flight(const web *w) { return w ? w->in_flight : 0; }

void web_free(web *w)
{
    if (!w)
        return;
    while (w->sessions) {
        wsess *s = w->sessions;
        w->sessions = s->next;
        sess_free(s);
    }
    while (w->pstats) {
        pstat *p = w->pstats;
        w->pstats = p->next;
        json_decref(p->body);
        free(p);
    }
    free(w->fails);
    free(w);
}

int web_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
    unsigned char salt[16];
    if (RAND_bytes(salt, sizeof salt) != 1) {
        snprintf(err, errlen, "no random bytes for the salt");
        return -1;
    }
    int rc = argon2id_hash_encoded(A2_T, A2_M, A2_P, password, strlen(password), salt, sizeof salt, 32, out, outlen);
    if (rc != ARGON2_OK) {
        snprintf(err, errlen, "argon2id: %s", argon2_error_message(rc));
        return -1;
    }
    return 0;
}
