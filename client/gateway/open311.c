/* open311.c: see open311.h. The GeoReport v2 documents (discovery, service
 * list, service definition, service requests, errors) and the mySociety
 * servicerequestupdates extension; docs/open311.md says what each field
 * holds and why. */
#include "open311.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "doc.h"
#include "http.h"
#include "log.h"
#include "multipart.h"
#include "photo.h"
#include "whistle/frame.h"
#include "whistle/geo.h"
#include "whistle/names.h"

#define PREFIX "/open311/v2/"
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x
#define ES(x) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##x
#define DAY_MS (86400LL * 1000)
#define RANGE_MAX_DAYS 90
#define SCAN_PAGES_MAX 40 /* ListEvents pages one answer may read (500 each) */
#define UPDATES_CASES_MAX 100
#define REFRESH_MS 60000
/* How a POST's address_string and media_url ride in the case's
 * description (whistled has no fields for them): one line each at its end,
 * taken back out for GET answers. */
#define MARK_ADDRESS "\n[address] "
#define MARK_MEDIA "\n[media_url] "

struct o311 {
    uv_loop_t *loop;
    const gw_config *cfg;
    upstream *up;
    bool zh;
    Whistle__V1__Response *cats, *depts, *nodes; /* the catalogue, NULL until loaded */
    int loading;
    uv_timer_t refresh;
    size_t in_flight;
    size_t photos; /* photos being read for an answer (GW_PHOTO_IN_FLIGHT at most, thumbnails or not) */
};

typedef struct param {
    char *k, *v;
} param;

typedef struct oreq oreq;
typedef struct oreq_link {
    oreq *r;
} oreq_link;

struct oreq {
    o311 *o;
    h2o_req_t *req; /* NULL once the client went away */
    oreq_link *link;
    doc_format fmt;
    param *p;
    size_t np;
    /* list walks */
    Whistle__V1__Response **resps;
    size_t nresps;
    const Whistle__V1__Event **evs;
    size_t nevs;
    char *cursor;
    char *category;
    int64_t from_ms, to_ms;
    int status; /* 0 any, 1 open, 2 closed */
    uint32_t page, size;
    uint64_t matched;
    int pages;
    bool more;
    /* service_request_id lists and updates */
    char **tickets;
    size_t ntickets, next;
    bool updates;
    bool token; /* GET tokens/{token} */
    /* POST requests: the photo sent as the multipart part "media" (into
     * the request's body, which lives as long as req) */
    const char *media;
    size_t media_len;
    bool has_media;
    /* GET requests: the next listed case to read whole for its photos */
    size_t fill;
    /* GET media/{ticket}/{id}.jpg */
    uint64_t photo_id;
    bool photo_thumb;
    char photo_ext[8];
};

/* ------------------------------------------------------------ utilities */

static const char *pick(const o311 *o, const char *zh, const char *en)
{
    if (o->zh)
        return zh && *zh ? zh : (en ? en : "");
    return en && *en ? en : (zh ? zh : "");
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decodes s[0..n) ('+' is a space, as in forms) into a new string;
 * NULL for a broken escape or bad UTF-8. */
static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int a = i + 2 < n ? hexval(s[i + 1]) : -1;
            int b = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (a < 0 || b < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = 0;
    if (!gw_utf8_ok(out, o)) {
        free(out);
        return NULL;
    }
    return out;
}

/* Adds the pairs of an application/x-www-form-urlencoded string. -1 on a
 * broken escape or bad UTF-8. */
static int parse_pairs(oreq *r, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=')
                eq++;
            char *k = url_decode(s + i, eq - i);
            char *v = eq < j ? url_decode(s + eq + 1, j - eq - 1) : strdup("");
            param *np = (k && v) ? realloc(r->p, (r->np + 1) * sizeof *np) : NULL;
            if (!np) {
                free(k);
                free(v);
                return -1;
            }
            r->p = np;
            r->p[r->np].k = k;
            r->p[r->np].v = v;
            r->np++;
        }
        i = j + 1;
    }
    return 0;
}

/* A multipart/form-data part: the file "media" is kept as it is; every
 * other part is a field like a form's, UTF-8 text. */
static int on_part(void *ud, const mp_part *p)
{
    oreq *r = ud;
    if (p->name_len == 5 && memcmp(p->name, "media", 5) == 0) {
        if (r->has_media)
            return 2;
        r->has_media = true;
        r->media = p->data;
        r->media_len = p->len;
        return 0;
    }
    if (p->is_file)
        return 3;
    if (!gw_utf8_ok(p->name, p->name_len) || !gw_utf8_ok(p->data, p->len))
        return 4;
    char *k = strndup(p->name, p->name_len), *v = strndup(p->data, p->len);
    param *np = (k && v) ? realloc(r->p, (r->np + 1) * sizeof *np) : NULL;
    if (!np) {
        free(k);
        free(v);
        return 5;
    }
    r->p = np;
    r->p[r->np].k = k;
    r->p[r->np].v = v;
    r->np++;
    return 0;
}

static const char *param_get(const oreq *r, const char *k)
{
    for (size_t i = 0; i < r->np; i++)
        if (strcmp(r->p[i].k, k) == 0)
            return r->p[i].v;
    return NULL;
}

/* A parameter that is present and not empty, or NULL. */
static const char *param_val(const oreq *r, const char *k)
{
    const char *v = param_get(r, k);
    return v && *v ? v : NULL;
}

static void fmt_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    char z[8];
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof z, "%z", &tm); /* +0800 */
    size_t n = strlen(buf);
    if (strlen(z) == 5)
        snprintf(buf + n, len - n, "%.3s:%.2s", z, z + 3);
}

/* ISO 8601 / W3C datetime: YYYY-MM-DD, or with THH:MM[:SS[.fff]] and a zone
 * (Z or +-HH[:]MM); a time without a zone is the jurisdiction's. -1 if it is
 * not one. */
static int parse_time(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    const char *p = s + n;
    bool zone = false;
    long off = 0;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5)
            return -1;
        p += 1 + m;
        if (*p == ':') {
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
                return -1;
            sec = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.')
                for (p++; isdigit((unsigned char)*p); p++)
                    ;
        }
        if (*p == 'Z') {
            zone = true;
            p++;
        } else if (*p == '+' || *p == '-') {
            int zh, zm, k = 0;
            if (sscanf(p + 1, "%2d:%2d%n", &zh, &zm, &k) == 2 && k == 5) {
            } else if (sscanf(p + 1, "%2d%2d%n", &zh, &zm, &k) == 2 && k == 4) {
            } else {
                return -1;
            }
            if (zh > 14 || zm > 59)
                return -1;
            off = (zh * 60L + zm) * 60 * (*p == '-' ? -1 : 1);
            zone = true;
            p += 1 + k;
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return -1;
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t;
    if (zone) {
        t = timegm(&tm) - off;
    } else {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    *ms = (int64_t)t * 1000;
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the catalogue */

static const Whistle__V1__Category *cat_get(const o311 *o, const char *code)
{
    if (!o->cats || !o->cats->categories || !code)
        return NULL;
    for (size_t i = 0; i < o->cats->categories->n_categories; i++)
        if (strcmp(o->cats->categories->categories[i]->code, code) == 0)
            return o->cats->categories->categories[i];
    return NULL;
}

static const char *dept_name(const o311 *o, const char *code)
{
    if (!code || !*code)
        return NULL;
    if (o->depts && o->depts->departments)
        for (size_t i = 0; i < o->depts->departments->n_departments; i++) {
            const Whistle__V1__Department *d = o->depts->departments->departments[i];
            if (strcmp(d->code, code) == 0)
                return pick(o, d->name_zh, d->name_en);
        }
    return code;
}

static const Whistle__V1__Node *node_get(const o311 *o, const char *code)
{
    if (o->nodes && o->nodes->nodes && code)
        for (size_t i = 0; i < o->nodes->nodes->n_nodes; i++)
            if (strcmp(o->nodes->nodes->nodes[i]->code, code) == 0)
                return o->nodes->nodes->nodes[i];
    return NULL;
}

/* The place's names from the node up to its street: "永安东里, 永安里社区,
 * 建外街道" (zh) or "Yong'an Dongli, Yong'anli Community, Jianwai
 * Subdistrict". */
static void node_address(const o311 *o, const char *code, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    const Whistle__V1__Node *nd = node_get(o, code);
    for (int depth = 0; nd && depth < 6 && nd->kind >= WHISTLE__V1__NODE_KIND__NODE_KIND_STREET; depth++) {
        int w = snprintf(buf + n, len - n, "%s%s", n ? (o->zh ? "，" : ", ") : "", pick(o, nd->name_zh, nd->name_en));
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
        nd = node_get(o, nd->parent);
    }
}

static const char *unit_word(const o311 *o, Whistle__V1__TimeUnit u)
{
    switch (u) {
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES: return o->zh ? "分钟" : " minutes";
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS: return o->zh ? "小时" : " hours";
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS: return o->zh ? "天" : " days";
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS: return o->zh ? "个工作小时" : " working hours";
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS: return o->zh ? "个工作日" : " working days";
    default: return "";
    }
}

/* The category's time limits for a normal case, in words: the Open311
 * service_notice. */
static void service_notice(const o311 *o, const Whistle__V1__Category *c, char *buf, size_t len)
{
    uint32_t ci = c->check_in_minutes, rs = c->resolve_hours;
    Whistle__V1__TimeUnit ciu = WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES,
                          rsu = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    const Whistle__V1__PriorityLimits *best = NULL;
    for (size_t i = 0; i < c->n_limits; i++) {
        const Whistle__V1__PriorityLimits *l = c->limits[i];
        if (l->priority == WHISTLE__V1__PRIORITY__PRIORITY_NORMAL ||
            (!best && l->priority == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED))
            best = l;
    }
    if (best && best->check_in && best->check_in->amount)
        ci = best->check_in->amount, ciu = best->check_in->unit;
    if (best && best->resolve && best->resolve->amount)
        rs = best->resolve->amount, rsu = best->resolve->unit;
    /* 120 minutes read better as 2 hours */
    if (ciu == WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES && ci && ci % 60 == 0)
        ci /= 60, ciu = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    if (rsu == WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES && rs && rs % 60 == 0)
        rs /= 60, rsu = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    if (!ci && !rs) {
        snprintf(buf, len, "%s", o->zh ? "按时限办理" : "Handled within the city's time limits");
        return;
    }
    if (o->zh)
        snprintf(buf, len, "部门接单时限%u%s，办结时限%u%s", ci, unit_word(o, ciu), rs, unit_word(o, rsu));
    else
        snprintf(buf, len, "A department takes it within %u%s and resolves it within %u%s", ci, unit_word(o, ciu), rs,
                 unit_word(o, rsu));
}

static void catalogue_load(o311 *o);

static void on_catalogue(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    Whistle__V1__Response **slot = ud;
    if (code != CODE(OK)) {
        gw_warn("catalogue: %s: %s (GET answers wait for it; trying again in a minute)", up_code_name(code), msg);
        whistle_response_free(resp);
        return;
    }
    whistle_response_free(*slot);
    *slot = resp;
}

static void catalogue_load(o311 *o)
{
    if (!up_live(o->up))
        return;
    Whistle__V1__ListCategories lc = WHISTLE__V1__LIST_CATEGORIES__INIT;
    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    Whistle__V1__ListNodes ln = WHISTLE__V1__LIST_NODES__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_CATEGORIES;
    req.list_categories = &lc;
    up_call(o->up, &req, o->cfg->read_as, on_catalogue, &o->cats);
    Whistle__V1__Request r2 = WHISTLE__V1__REQUEST__INIT;
    r2.call_case = WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS;
    r2.list_departments = &ld;
    up_call(o->up, &r2, o->cfg->read_as, on_catalogue, &o->depts);
    Whistle__V1__Request r3 = WHISTLE__V1__REQUEST__INIT;
    r3.call_case = WHISTLE__V1__REQUEST__CALL_LIST_NODES;
    r3.list_nodes = &ln;
    up_call(o->up, &r3, o->cfg->read_as, on_catalogue, &o->nodes);
}

static void on_refresh(uv_timer_t *t) { catalogue_load(t->data); }

void o311_on_ready(void *ud, upstream *u)
{
    o311 *o = ud;
    o->up = u;
    catalogue_load(o);
}

/* ------------------------------------------------------------ answers */

static const char *status_reason(int st)
{
    switch (st) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

static void oreq_free(oreq *r)
{
    if (r->link)
        r->link->r = NULL;
    for (size_t i = 0; i < r->np; i++) {
        free(r->p[i].k);
        free(r->p[i].v);
    }
    free(r->p);
    for (size_t i = 0; i < r->nresps; i++)
        whistle_response_free(r->resps[i]);
    free(r->resps);
    free(r->evs);
    free(r->cursor);
    free(r->category);
    for (size_t i = 0; i < r->ntickets; i++)
        free(r->tickets[i]);
    free(r->tickets);
    r->o->in_flight--;
    free(r);
}

/* Sends d (or, if it could not be written, a bare 500) and ends r. */
static void send_doc(oreq *r, int st, doc *d)
{
    char *body = NULL;
    size_t len = 0;
    if (r->req) {
        /* the path without its query, which may carry an api_key */
        size_t pl = r->req->query_at != SIZE_MAX ? r->req->query_at : r->req->path.len;
        gw_debug("http: %.*s %.*s %d", (int)(r->req->method.len < 16 ? r->req->method.len : 16), r->req->method.base,
                 (int)(pl < 200 ? pl : 200), r->req->path.base, st);
        if (d && doc_finish(d, &body, &len) == 0)
            gw_http_send(r->req, st, status_reason(st),
                         r->fmt == DOC_XML ? "text/xml; charset=utf-8" : "application/json; charset=utf-8", body, len);
        else
            gw_http_send(r->req, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
    }
    free(body);
    doc_free(d);
    oreq_free(r);
}

/* The standard's error document: <errors><error><code>N</code>
 * <description>...</description></error></errors>, or its JSON array. */
static void send_error(oreq *r, int st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void send_error(oreq *r, int st, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message may quote what the client sent: cut it back to whole UTF-8 */
    size_t n = strlen(msg);
    while (n && !gw_utf8_ok(msg, n))
        msg[--n] = 0;
    doc *d = doc_new(r->fmt);
    if (d) {
        doc_list_begin(d, "errors", "error");
        doc_obj_begin(d, NULL);
        doc_int(d, "code", st);
        doc_str(d, "description", msg);
        doc_obj_end(d);
        doc_list_end(d);
    }
    gw_debug("open311: %d %s", st, msg);
    send_doc(r, st, d);
}

/* A whistled refusal as the standard's error. */
static void send_upstream_error(oreq *r, int code, const char *msg)
{
    int st;
    switch (code) {
    case CODE(INVALID_ARGUMENT):
    case CODE(FAILED_PRECONDITION):
    case CODE(OUT_OF_RANGE): st = 400; break;
    case CODE(NOT_FOUND): st = 404; break;
    case CODE(PERMISSION_DENIED):
    case CODE(UNAUTHENTICATED): st = 403; break;
    case UP_UNAVAILABLE:
    case CODE(UNAVAILABLE):
    case CODE(RESOURCE_EXHAUSTED): st = 503; break;
    case UP_TIMEOUT:
    case CODE(DEADLINE_EXCEEDED): st = 504; break;
    default: st = 500; break;
    }
    if (st >= 500)
        gw_warn("open311: whistled answered %s: %s", up_code_name(code), msg);
    send_error(r, st, "%s", msg);
}

/* ------------------------------------------------------------ discovery */

static void h_discovery(oreq *r)
{
    o311 *o = r->o;
    doc *d = doc_new(r->fmt);
    if (!d)
        return send_doc(r, 500, NULL);
    doc_obj_begin(d, "discovery");
    doc_str(d, "changeset", "2026-12-03T00:00:00+08:00");
    doc_str(d, "contact", o->cfg->contact);
    doc_str(d, "key_service", o->cfg->key_service);
    doc_list_begin(d, "endpoints", "endpoint");
    doc_obj_begin(d, NULL);
    doc_str(d, "specification", "http://wiki.open311.org/GeoReport_v2");
    doc_str(d, "url", o->cfg->endpoint_url);
    doc_str(d, "changeset", "2026-12-03T00:00:00+08:00");
    doc_str(d, "type", "production");
    doc_list_begin(d, "formats", "format");
    doc_item(d, "text/xml");
    doc_item(d, "application/json");
    doc_list_end(d);
    doc_obj_end(d);
    doc_list_end(d);
    doc_obj_end(d);
    send_doc(r, 200, d);
}

/* ------------------------------------------------------------ services */

static bool catalogue_ready(oreq *r)
{
    if (r->o->cats && r->o->depts && r->o->nodes)
        return true;
    send_error(r, 503, "the service catalogue is not loaded yet (whistled is not reachable); try again shortly");
    return false;
}

static void service_desc(const o311 *o, const Whistle__V1__Category *c, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%s", o->zh ? "责任部门：" : "Handled by: ");
    for (size_t i = 0; i < c->n_departments && n < len; i++)
        n +=
            (size_t)snprintf(buf + n, len - n, "%s%s", i ? (o->zh ? "、" : ", ") : "", dept_name(o, c->departments[i]));
}

static void h_services(oreq *r)
{
    o311 *o = r->o;
    if (!catalogue_ready(r))
        return;
    doc *d = doc_new(r->fmt);
    if (!d)
        return send_doc(r, 500, NULL);
    doc_list_begin(d, "services", "service");
    const Whistle__V1__CategoryList *cl = o->cats->categories;
    for (size_t i = 0; cl && i < cl->n_categories; i++) {
        const Whistle__V1__Category *c = cl->categories[i];
        if (strlen(c->code) != 4)
            continue; /* a major class is a group, not a service */
        char major[3] = { c->code[0], c->code[1], 0 };
        const Whistle__V1__Category *m = cat_get(o, major);
        char desc[512];
        service_desc(o, c, desc, sizeof desc);
        doc_obj_begin(d, NULL);
        doc_str(d, "service_code", c->code);
        doc_str(d, "service_name", pick(o, c->name_zh, c->name_en));
        doc_str(d, "description", desc);
        doc_bool(d, "metadata", c->n_attributes > 0);
        doc_str(d, "type", "realtime");
        doc_str(d, "keywords", m ? pick(o, m->name_zh, m->name_en) : "");
        doc_str(d, "group", m ? pick(o, m->name_zh, m->name_en) : major);
        doc_obj_end(d);
    }
    doc_list_end(d);
    send_doc(r, 200, d);
}

static const char *datatype_word(Whistle__V1__AttributeType t)
{
    switch (t) {
    case WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_NUMBER: return "number";
    case WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_DATETIME: return "datetime";
    case WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_TEXT: return "text";
    case WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_SINGLEVALUELIST: return "singlevaluelist";
    case WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_MULTIVALUELIST: return "multivaluelist";
    default: return "string";
    }
}

static int attr_cmp(const void *x, const void *y)
{
    const Whistle__V1__CategoryAttribute *a = *(const Whistle__V1__CategoryAttribute *const *)x;
    const Whistle__V1__CategoryAttribute *b = *(const Whistle__V1__CategoryAttribute *const *)y;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    return strcmp(a->code, b->code);
}

static void h_service_def(oreq *r, const char *code)
{
    o311 *o = r->o;
    if (!catalogue_ready(r))
        return;
    const Whistle__V1__Category *c = strlen(code) == 4 ? cat_get(o, code) : NULL;
    if (!c)
        return send_error(r, 404, "service_code %.40s not found (GET services lists them)", code);
    doc *d = doc_new(r->fmt);
    if (!d)
        return send_doc(r, 500, NULL);
    doc_obj_begin(d, "service_definition");
    doc_str(d, "service_code", c->code);
    /* in their order (then by code), numbered 1, 2, ... as Open311 shows
     * them: an informational text may say order 0 to come first */
    const Whistle__V1__CategoryAttribute *sorted[64];
    size_t na = c->n_attributes < 64 ? c->n_attributes : 64;
    if (na) {
        memcpy(sorted, c->attributes, na * sizeof *sorted);
        qsort(sorted, na, sizeof *sorted, attr_cmp);
    }
    doc_list_begin(d, "attributes", "attribute");
    for (size_t i = 0; i < na; i++) {
        const Whistle__V1__CategoryAttribute *a = sorted[i];
        doc_obj_begin(d, NULL);
        doc_bool(d, "variable", !a->informational);
        doc_str(d, "code", a->code);
        doc_str(d, "datatype", datatype_word(a->datatype));
        doc_bool(d, "required", a->required);
        doc_str(d, "datatype_description", pick(o, a->datatype_description_zh, a->datatype_description_en));
        doc_int(d, "order", (long long)i + 1);
        doc_str(d, "description", pick(o, a->description_zh, a->description_en));
        if (a->n_values) {
            doc_list_begin(d, "values", "value");
            for (size_t j = 0; j < a->n_values; j++) {
                doc_obj_begin(d, NULL);
                doc_str(d, "key", a->values[j]->key);
                doc_str(d, "name", pick(o, a->values[j]->name_zh, a->values[j]->name_en));
                doc_obj_end(d);
            }
            doc_list_end(d);
        }
        doc_obj_end(d);
    }
    doc_list_end(d);
    doc_obj_end(d);
    send_doc(r, 200, d);
}

/* ------------------------------------------------------------ photos */

#define PS(x) WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_##x

/* Whether anyone may see this photo of e (open311.public_photos):
 * those staff took on duty, a department's feedback, a verification, and
 * the report of a patrol or a sensor. A resident's photo (a report through
 * a kiosk, the hotline, Open311 or an app) is personal data: never here. */
static bool photo_public(const o311 *o, const Whistle__V1__Event *e, const Whistle__V1__PhotoAttachment *p)
{
    if (!o->cfg->public_photos)
        return false;
    if (p->stage == PS(FEEDBACK) || p->stage == PS(VERIFY))
        return true;
    return p->stage == PS(REPORT) &&
           (e->source == WHISTLE__V1__SOURCE__SOURCE_PATROL || e->source == WHISTLE__V1__SOURCE__SOURCE_SENSOR);
}

/* The gateway's URL of a photo: endpoint_url + media/TICKET/ID.jpg (.png
 * for a PNG). */
static void photo_url(const o311 *o, const Whistle__V1__Event *e, const Whistle__V1__PhotoAttachment *p, char *buf,
                      size_t len)
{
    const char *base = o->cfg->endpoint_url;
    size_t bl = strlen(base);
    snprintf(buf, len, "%s%smedia/%s/%llu.%s", base, bl && base[bl - 1] == '/' ? "" : "/", e->ticket,
             (unsigned long long)p->id, p->mime && strcmp(p->mime, "image/png") == 0 ? "png" : "jpg");
}

/* The public photo of e at stage (and order, for feedback) closest in
 * time to at_ms (0: the first of that stage), or NULL. */
static const Whistle__V1__PhotoAttachment *photo_pick(const o311 *o, const Whistle__V1__Event *e,
                                                      Whistle__V1__PhotoStage stage, uint64_t order_id, int64_t at_ms)
{
    const Whistle__V1__PhotoAttachment *best = NULL;
    int64_t best_d = 0;
    for (size_t i = 0; i < e->n_photos; i++) {
        const Whistle__V1__PhotoAttachment *p = e->photos[i];
        if (p->stage != stage || !photo_public(o, e, p) || (order_id && p->order_id != order_id))
            continue;
        if (!at_ms)
            return p;
        int64_t d = p->at_ms > at_ms ? p->at_ms - at_ms : at_ms - p->at_ms;
        if (!best || d < best_d) {
            best = p;
            best_d = d;
        }
    }
    /* a step's photo is attached by the same call: the same moment */
    return best && best_d <= 1000 ? best : NULL;
}

/* ------------------------------------------------------------ requests (GET) */

static bool is_closed(const Whistle__V1__Event *e) { return e->state == ES(CLOSED) || e->state == ES(REJECTED); }

static const char *state_words(const o311 *o, Whistle__V1__EventState s)
{
    switch (s) {
    case ES(REPORTED): return o->zh ? "已受理，待立案" : "Received, waiting to be filed";
    case ES(FILED): return o->zh ? "已立案" : "Filed";
    case ES(REJECTED): return o->zh ? "不予立案" : "Not filed";
    case ES(HANDLING): return o->zh ? "处置中" : "Being handled";
    case ES(WHISTLED): return o->zh ? "已派发职能部门处置" : "Sent to the departments";
    case ES(RESOLVED): return o->zh ? "已处置，待核查" : "Handled, waiting for verification";
    case ES(VERIFIED): return o->zh ? "已核查" : "Verified";
    case ES(CLOSED): return o->zh ? "已结案" : "Closed";
    default: return "";
    }
}

/* Splits a stored description into what the reporter wrote and the lines
 * the gateway added (MARK_ADDRESS, MARK_MEDIA). Pointers into buf. */
static void split_description(const char *stored, char *buf, size_t len, const char **text, const char **address,
                              const char **media)
{
    snprintf(buf, len, "%s", stored ? stored : "");
    *text = buf;
    *address = NULL;
    *media = NULL;
    char *m = strstr(buf, MARK_MEDIA);
    if (m) {
        *m = 0;
        *media = m + strlen(MARK_MEDIA);
    }
    char *a = strstr(buf, MARK_ADDRESS);
    if (a) {
        *a = 0;
        *address = a + strlen(MARK_ADDRESS);
    }
}

static void write_request(oreq *r, doc *d, const Whistle__V1__Event *e)
{
    o311 *o = r->o;
    const Whistle__V1__Category *c = cat_get(o, e->category);
    char t1[40], t2[40], t3[40], notice[300] = "", notes[1200], addr[400], desc[4200], murl[600];
    const char *text, *address, *media;
    split_description(e->description, desc, sizeof desc, &text, &address, &media);
    if (!media) {
        /* no link given at report: the case's public photo, the report's
         * first, else the newest of the work done */
        const Whistle__V1__PhotoAttachment *p = photo_pick(o, e, PS(REPORT), 0, 0);
        for (size_t i = e->n_photos; !p && i-- > 0;)
            if (e->photos[i]->stage != PS(REPORT) && photo_public(o, e, e->photos[i]))
                p = e->photos[i];
        if (p) {
            photo_url(o, e, p, murl, sizeof murl);
            media = murl;
        }
    }
    if (c)
        service_notice(o, c, notice, sizeof notice);
    const char *why = e->state == ES(REJECTED) ? e->reject_reason : e->state == ES(CLOSED) ? e->resolution : "";
    snprintf(notes, sizeof notes, "%s%s%s", state_words(o, e->state), why && *why ? (o->zh ? "：" : ": ") : "",
             why ? why : "");
    node_address(o, e->node, addr, sizeof addr);
    fmt_time(e->created_ms, t1, sizeof t1);
    fmt_time(e->updated_ms ? e->updated_ms : e->created_ms, t2, sizeof t2);
    if (e->due_ms)
        fmt_time(e->due_ms, t3, sizeof t3);
    doc_obj_begin(d, NULL);
    doc_str(d, "service_request_id", e->ticket);
    doc_str(d, "status", is_closed(e) ? "closed" : "open");
    doc_str(d, "status_notes", notes);
    doc_str(d, "service_name", c ? pick(o, c->name_zh, c->name_en) : e->category);
    doc_str(d, "service_code", e->category);
    doc_str(d, "description", text);
    doc_str(d, "agency_responsible", dept_name(o, e->lead_department));
    doc_str(d, "service_notice", c ? notice : NULL);
    doc_str(d, "requested_datetime", t1);
    doc_str(d, "updated_datetime", t2);
    doc_str(d, "expected_datetime", e->due_ms ? t3 : NULL);
    doc_str(d, "address", address ? address : addr);
    doc_str(d, "address_id", e->node);
    doc_str(d, "zipcode", NULL);
    if (e->has_location) {
        doc_real(d, "lat", e->lat);
        doc_real(d, "long", e->lon);
    } else {
        doc_str(d, "lat", NULL);
        doc_str(d, "long", NULL);
    }
    doc_str(d, "media_url", media);
    doc_obj_end(d);
}

static void send_requests(oreq *r);
static int keep_resp(oreq *r, Whistle__V1__Response *resp);

static void on_fill(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    oreq *r = ud;
    (void)msg;
    if (!r->req) {
        whistle_response_free(resp);
        return oreq_free(r);
    }
    /* a case that cannot be read now keeps its listing, without a photo */
    if (code == CODE(OK) && resp && resp->event) {
        if (keep_resp(r, resp))
            return send_doc(r, 500, NULL);
        r->evs[r->fill] = resp->event;
    } else {
        whistle_response_free(resp);
    }
    r->fill++;
    send_requests(r);
}

static void send_requests(oreq *r)
{
    /* a listing has each case's photo_count, not its photos: a case of the
     * page that has some is read whole (GetEvent), one after the other, for
     * its media_url */
    while (r->o->cfg->public_photos && r->fill < r->nevs &&
           (r->evs[r->fill]->photo_count == 0 || r->evs[r->fill]->n_photos > 0))
        r->fill++;
    if (r->o->cfg->public_photos && r->fill < r->nevs) {
        Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
        ge.ticket = r->evs[r->fill]->ticket;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
        req.get_event = &ge;
        return up_call(r->o->up, &req, r->o->cfg->read_as, on_fill, r);
    }
    doc *d = doc_new(r->fmt);
    if (!d)
        return send_doc(r, 500, NULL);
    doc_list_begin(d, "service_requests", "request");
    for (size_t i = 0; i < r->nevs; i++)
        write_request(r, d, r->evs[i]);
    doc_list_end(d);
    send_doc(r, 200, d);
}

static int keep_resp(oreq *r, Whistle__V1__Response *resp)
{
    Whistle__V1__Response **n = realloc(r->resps, (r->nresps + 1) * sizeof *n);
    if (!n) {
        whistle_response_free(resp);
        return -1;
    }
    r->resps = n;
    r->resps[r->nresps++] = resp;
    return 0;
}

static int keep_event(oreq *r, const Whistle__V1__Event *e)
{
    const Whistle__V1__Event **n = realloc(r->evs, (r->nevs + 1) * sizeof *n);
    if (!n)
        return -1;
    r->evs = n;
    r->evs[r->nevs++] = e;
    return 0;
}

static void updates_next(oreq *r);
static void tickets_next(oreq *r);

/* GET tokens/{token}: the gateway answers a POST with its
 * service_request_id at once, so the token a client may ask about is that
 * id (the standard lets an endpoint do so); a token that is no case's is
 * 404. */
static void send_token(oreq *r)
{
    doc *d = doc_new(r->fmt);
    if (!d)
        return send_doc(r, 500, NULL);
    doc_list_begin(d, "service_requests", "request");
    doc_obj_begin(d, NULL);
    doc_str(d, "service_request_id", r->evs[0]->ticket);
    doc_str(d, "token", r->tickets[0]);
    doc_obj_end(d);
    doc_list_end(d);
    send_doc(r, 200, d);
}

static void on_ticket(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    oreq *r = ud;
    if (!r->req) {
        whistle_response_free(resp);
        return oreq_free(r);
    }
    if (code == CODE(OK) && resp && resp->event) {
        if (keep_resp(r, resp) || keep_event(r, resp->event))
            return send_doc(r, 500, NULL);
    } else {
        whistle_response_free(resp);
        /* a ticket that is not there (or not in the jurisdiction) is left
         * out, as the standard says for a list of ids */
        if (code != CODE(NOT_FOUND) && code != CODE(PERMISSION_DENIED) && code != CODE(INVALID_ARGUMENT))
            return send_upstream_error(r, code, msg);
    }
    tickets_next(r);
}

static void tickets_next(oreq *r)
{
    if (r->next >= r->ntickets) {
        if (r->updates)
            return updates_next(r);
        if (r->ntickets == 1 && r->nevs == 0 && r->page == 0)
            return send_error(r, 404, "%s %.40s not found", r->token ? "token" : "service_request_id", r->tickets[0]);
        if (r->token)
            return send_token(r);
        return send_requests(r);
    }
    Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
    ge.ticket = r->tickets[r->next++];
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
    req.get_event = &ge;
    up_call(r->o->up, &req, r->o->cfg->read_as, on_ticket, r);
}

static int add_ticket(oreq *r, const char *t, size_t n)
{
    if (n == 0)
        return 0;
    char **nt = realloc(r->tickets, (r->ntickets + 1) * sizeof *nt);
    if (!nt)
        return -1;
    r->tickets = nt;
    r->tickets[r->ntickets] = strndup(t, n);
    if (!r->tickets[r->ntickets])
        return -1;
    r->ntickets++;
    return 0;
}

static bool list_match(const oreq *r, const Whistle__V1__Event *e)
{
    if (r->status == 1 && is_closed(e))
        return false;
    if (r->status == 2 && !is_closed(e))
        return false;
    return true;
}

static void list_page(oreq *r);

static void on_list(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    oreq *r = ud;
    if (!r->req) {
        whistle_response_free(resp);
        return oreq_free(r);
    }
    if (code != CODE(OK) || !resp || !resp->events) {
        whistle_response_free(resp);
        return send_upstream_error(r, code, msg);
    }
    if (keep_resp(r, resp))
        return send_doc(r, 500, NULL);
    const Whistle__V1__EventList *l = resp->events;
    uint64_t skip = (uint64_t)(r->page - 1) * r->size;
    for (size_t i = 0; i < l->n_events; i++) {
        if (!list_match(r, l->events[i]))
            continue;
        if (r->matched++ < skip)
            continue;
        if (r->nevs >= r->size) {
            r->more = true;
            break;
        }
        if (keep_event(r, l->events[i]))
            return send_doc(r, 500, NULL);
    }
    free(r->cursor);
    r->cursor = l->next_cursor && *l->next_cursor ? strdup(l->next_cursor) : NULL;
    if (r->more || !r->cursor || ++r->pages >= SCAN_PAGES_MAX)
        return send_requests(r);
    list_page(r);
}

static void list_page(oreq *r)
{
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.limit = 500;
    le.cursor = r->cursor ? r->cursor : (char *)"";
    le.category = r->category ? r->category : (char *)"";
    le.created_from_ms = r->from_ms;
    le.created_to_ms = r->to_ms;
    le.open = r->status == 1;
    le.newest_first = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
    req.list_events = &le;
    up_call(r->o->up, &req, r->o->cfg->read_as, on_list, r);
}

/* start_date and end_date: at most 90 days apart; without them the last
 * 90 days. Answers the error and returns -1 when they are not valid. */
static int date_range(oreq *r)
{
    const char *sd = param_val(r, "start_date"), *ed = param_val(r, "end_date");
    int64_t to = now_ms() + 1000, from;
    if (ed && parse_time(ed, &to) < 0) {
        send_error(r, 400, "end_date \"%.40s\" is not an ISO 8601 datetime (e.g. 2026-12-03T09:30:00+08:00)", ed);
        return -1;
    }
    from = to - RANGE_MAX_DAYS * DAY_MS;
    if (sd && parse_time(sd, &from) < 0) {
        send_error(r, 400, "start_date \"%.40s\" is not an ISO 8601 datetime (e.g. 2026-12-03T09:30:00+08:00)", sd);
        return -1;
    }
    if (sd && !ed)
        to = from + RANGE_MAX_DAYS * DAY_MS;
    if (from > to) {
        send_error(r, 400, "start_date is after end_date");
        return -1;
    }
    if (to - from > RANGE_MAX_DAYS * DAY_MS) {
        send_error(r, 400, "the date range is over %d days: ask for at most %d days at a time", RANGE_MAX_DAYS,
                   RANGE_MAX_DAYS);
        return -1;
    }
    r->from_ms = from;
    r->to_ms = to;
    return 0;
}

static int page_params(oreq *r)
{
    const char *pg = param_val(r, "page"), *ps = param_val(r, "page_size");
    unsigned long v;
    char *end;
    r->page = 1;
    r->size = r->o->cfg->default_page_size;
    if (pg) {
        errno = 0;
        v = strtoul(pg, &end, 10);
        if (errno || *end || !isdigit((unsigned char)*pg) || v < 1 || v > 100000) {
            send_error(r, 400, "page \"%.20s\" is not a page number (1, 2, ...)", pg);
            return -1;
        }
        r->page = (uint32_t)v;
    }
    if (ps) {
        errno = 0;
        v = strtoul(ps, &end, 10);
        if (errno || *end || !isdigit((unsigned char)*ps) || v < 1 || v > r->o->cfg->max_page_size) {
            send_error(r, 400, "page_size \"%.20s\" must be from 1 to %u", ps, r->o->cfg->max_page_size);
            return -1;
        }
        r->size = (uint32_t)v;
    }
    return 0;
}

static void h_requests_get(oreq *r)
{
    if (!catalogue_ready(r))
        return;
    const char *ids = param_val(r, "service_request_id");
    if (ids) {
        /* a comma-separated list: every other parameter is ignored */
        for (const char *p = ids; *p;) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            if (r->ntickets >= 100)
                return send_error(r, 400, "at most 100 service_request_id values at a time");
            if (add_ticket(r, p, n))
                return send_doc(r, 500, NULL);
            p += n + (c ? 1 : 0);
        }
        r->page = 1; /* a list of ids: no 404 for a missing one */
        return tickets_next(r);
    }
    const char *sc = param_val(r, "service_code");
    if (sc) {
        if (strchr(sc, ','))
            return send_error(r, 400, "service_code: one code at a time");
        if (!cat_get(r->o, sc) || strlen(sc) != 4)
            return send_error(r, 404, "service_code %.40s not found (GET services lists them)", sc);
        r->category = strdup(sc);
    }
    const char *st = param_val(r, "status");
    if (st) {
        bool op = false, cl = false;
        char buf[64];
        snprintf(buf, sizeof buf, "%s", st);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (strcmp(t, "open") == 0)
                op = true;
            else if (strcmp(t, "closed") == 0)
                cl = true;
            else
                return send_error(r, 400, "status \"%.40s\": open, closed, or both separated by a comma", st);
        }
        r->status = op && cl ? 0 : op ? 1 : 2;
    }
    if (date_range(r) || page_params(r))
        return;
    list_page(r);
}

static void h_token(oreq *r, const char *token)
{
    r->token = true;
    if (add_ticket(r, token, strlen(token)))
        return send_doc(r, 500, NULL);
    tickets_next(r);
}

static void h_request_get(oreq *r, const char *id)
{
    if (!catalogue_ready(r))
        return;
    if (add_ticket(r, id, strlen(id)))
        return send_doc(r, 500, NULL);
    tickets_next(r);
}

/* ------------------------------------------------------------ servicerequestupdates (mySociety) */

static void send_updates(oreq *r)
{
    o311 *o = r->o;
    doc *d = doc_new(r->fmt);
    if (!d)
        return send_doc(r, 500, NULL);
    doc_list_begin(d, "service_request_updates", "request_update");
    for (size_t i = 0; i < r->nevs; i++) {
        const Whistle__V1__Event *e = r->evs[i];
        for (size_t j = 0; j < e->n_timeline; j++) {
            const Whistle__V1__TimelineEntry *t = e->timeline[j];
            if (t->at_ms < r->from_ms || t->at_ms > r->to_ms)
                continue;
            char id[80], when[40], desc[1200];
            snprintf(id, sizeof id, "%s-%u", e->ticket, e->timeline_from + (unsigned)j + 1);
            fmt_time(t->at_ms, when, sizeof when);
            bool closed = t->state == ES(CLOSED) || t->state == ES(REJECTED);
            snprintf(desc, sizeof desc, "%s%s%s", state_words(o, t->state), *t->note ? (o->zh ? "：" : ": ") : "",
                     t->note);
            doc_obj_begin(d, NULL);
            doc_str(d, "update_id", id);
            doc_str(d, "service_request_id", e->ticket);
            doc_str(d, "status", closed ? "closed" : "open");
            doc_str(d, "updated_datetime", when);
            doc_str(d, "description", desc);
            /* the photo the step attached (a report, a feedback, a
             * verification), when the public may see it */
            const Whistle__V1__PhotoAttachment *p = NULL;
            if (strcmp(t->action, "report") == 0)
                p = photo_pick(o, e, PS(REPORT), 0, 0);
            else if (strcmp(t->action, "feedback") == 0)
                p = photo_pick(o, e, PS(FEEDBACK), t->order_id, t->at_ms);
            else if (strcmp(t->action, "verify") == 0)
                p = photo_pick(o, e, PS(VERIFY), 0, t->at_ms);
            char murl[600];
            if (p)
                photo_url(o, e, p, murl, sizeof murl);
            doc_str(d, "media_url", p ? murl : NULL);
            doc_obj_end(d);
        }
    }
    doc_list_end(d);
    send_doc(r, 200, d);
}

static void updates_next(oreq *r) { send_updates(r); }

static void on_updates_list(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    oreq *r = ud;
    if (!r->req) {
        whistle_response_free(resp);
        return oreq_free(r);
    }
    if (code != CODE(OK) || !resp || !resp->events) {
        whistle_response_free(resp);
        return send_upstream_error(r, code, msg);
    }
    const Whistle__V1__EventList *l = resp->events;
    for (size_t i = 0; i < l->n_events && r->ntickets < UPDATES_CASES_MAX; i++)
        if (l->events[i]->updated_ms >= r->from_ms && add_ticket(r, l->events[i]->ticket, strlen(l->events[i]->ticket)))
            break;
    free(r->cursor);
    r->cursor = l->next_cursor && *l->next_cursor ? strdup(l->next_cursor) : NULL;
    whistle_response_free(resp);
    if (r->cursor && r->ntickets < UPDATES_CASES_MAX && ++r->pages < SCAN_PAGES_MAX) {
        Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
        le.limit = 500;
        le.cursor = r->cursor;
        le.newest_first = 1;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
        req.list_events = &le;
        return up_call(r->o->up, &req, r->o->cfg->read_as, on_updates_list, r);
    }
    r->page = 1;
    tickets_next(r);
}

static void h_updates(oreq *r)
{
    if (!catalogue_ready(r))
        return;
    if (date_range(r))
        return;
    r->updates = true;
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.limit = 500;
    le.newest_first = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
    req.list_events = &le;
    up_call(r->o->up, &req, r->o->cfg->read_as, on_updates_list, r);
}

/* ------------------------------------------------------------ media (a case's public photos) */

static void on_media_photo(void *ud, int code, const char *msg, gw_photo *p)
{
    oreq *r = ud;
    r->o->photos--;
    if (!r->req) {
        gw_photo_free(p);
        return oreq_free(r);
    }
    if (code != 0 || !p) {
        if (code == GW_PHOTO_BROKEN) {
            gw_warn("open311: photo %llu: %s", (unsigned long long)r->photo_id, msg);
            return send_error(r, 502, "the photo could not be read whole; try again");
        }
        if (code == CODE(NOT_FOUND) || code == CODE(PERMISSION_DENIED))
            return send_error(r, 404, "no such photo");
        return send_upstream_error(r, code, msg);
    }
    gw_debug("http: GET media %llu %d", (unsigned long long)r->photo_id, 200);
    gw_photo_send(r->req, p, true);
    gw_photo_free(p);
    oreq_free(r);
}

static void on_media_event(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    oreq *r = ud;
    o311 *o = r->o;
    if (!r->req) {
        o->photos--;
        whistle_response_free(resp);
        return oreq_free(r);
    }
    if (code != CODE(OK) || !resp || !resp->event) {
        o->photos--;
        whistle_response_free(resp);
        if (code == CODE(OK) || code == CODE(NOT_FOUND) || code == CODE(PERMISSION_DENIED) ||
            code == CODE(INVALID_ARGUMENT))
            return send_error(r, 404, "no such photo");
        return send_upstream_error(r, code, msg);
    }
    const Whistle__V1__Event *e = resp->event;
    const Whistle__V1__PhotoAttachment *p = NULL;
    for (size_t i = 0; i < e->n_photos; i++)
        if (e->photos[i]->id == r->photo_id)
            p = e->photos[i];
    /* a resident's photo answers as one that is not there */
    const char *want = r->photo_thumb ? "jpg" : p && p->mime && strcmp(p->mime, "image/png") == 0 ? "png" : "jpg";
    bool ok = p && photo_public(o, e, p) && strcmp(r->photo_ext, want) == 0 && (!r->photo_thumb || p->has_thumbnail);
    /* a client that has the photo already (If-None-Match: its ETag, the
     * stored image's hash) is told so without reading it again */
    char etag[70] = "";
    if (ok && !r->photo_thumb && p->sha256 && strlen(p->sha256) == 64)
        snprintf(etag, sizeof etag, "\"%s\"", p->sha256);
    whistle_response_free(resp);
    if (!ok) {
        o->photos--;
        return send_error(r, 404, "no such photo");
    }
    ssize_t inm = h2o_find_header(&r->req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    if (*etag && inm >= 0 && r->req->headers.entries[inm].value.len == strlen(etag) &&
        memcmp(r->req->headers.entries[inm].value.base, etag, strlen(etag)) == 0) {
        o->photos--;
        h2o_req_t *req = r->req;
        req->res.status = 304;
        req->res.reason = "Not Modified";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(&req->pool, etag, SIZE_MAX).base,
                       strlen(etag));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("public, max-age=86400, immutable"));
        h2o_send_inline(req, "", 0);
        return oreq_free(r);
    }
    gw_photo_fetch(o->up, r->photo_id, r->photo_thumb, o->cfg->read_as, on_media_photo, r);
}

/* GET media/TICKET/ID.jpg (or .png, as the photo is stored) and
 * media/TICKET/ID-thumb.jpg: a case's public photo, read as
 * open311.read_as. The case is read first: the photo must be one of its
 * own, and one the public may see (photo_public). */
static void h_media(oreq *r, const char *res)
{
    o311 *o = r->o;
    r->fmt = DOC_JSON;
    const char *slash = strchr(res, '/');
    size_t tl = slash ? (size_t)(slash - res) : 0;
    bool ok = tl >= 1 && tl <= 40;
    for (size_t i = 0; ok && i < tl; i++)
        ok = isalnum((unsigned char)res[i]);
    const char *f = ok ? slash + 1 : "";
    char *end = NULL;
    errno = 0;
    unsigned long long id = ok && isdigit((unsigned char)f[0]) ? strtoull(f, &end, 10) : 0;
    if (!ok || errno || !id || !end)
        return send_error(r, 404, "no such photo");
    if (strcmp(end, "-thumb.jpg") == 0) {
        r->photo_thumb = true;
        snprintf(r->photo_ext, sizeof r->photo_ext, "jpg");
    } else if (strcmp(end, ".jpg") == 0 || strcmp(end, ".png") == 0) {
        snprintf(r->photo_ext, sizeof r->photo_ext, "%s", end + 1);
    } else {
        return send_error(r, 404, "no such photo");
    }
    if (!o->cfg->public_photos)
        return send_error(r, 404, "no such photo");
    if (!o->up)
        return send_error(r, 503, "whistled is not reachable now; try again shortly");
    if (o->photos >= GW_PHOTO_IN_FLIGHT)
        return send_error(r, 503, "too many photos are being read now; try again shortly");
    r->photo_id = id;
    if (add_ticket(r, res, tl))
        return send_doc(r, 500, NULL);
    o->photos++;
    Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
    ge.ticket = r->tickets[0];
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
    req.get_event = &ge;
    up_call(o->up, &req, o->cfg->read_as, on_media_event, r);
}

/* ------------------------------------------------------------ requests (POST) */

typedef struct answer_set {
    Whistle__V1__AttributeAnswer **a;
    size_t n;
} answer_set;

static void answers_free(answer_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->a[i]->n_values; j++)
            free(s->a[i]->values[j]);
        free(s->a[i]->values);
        free(s->a[i]->code);
        free(s->a[i]);
    }
    free(s->a);
}

/* attribute[CODE]=V and attribute[CODE][]=V (a multivaluelist's values). */
static int answers_collect(oreq *r, answer_set *s)
{
    for (size_t i = 0; i < r->np; i++) {
        const char *k = r->p[i].k;
        if (strncmp(k, "attribute[", 10) != 0)
            continue;
        const char *close = strchr(k + 10, ']');
        if (!close || close == k + 10 || (close[1] && strcmp(close + 1, "[]") != 0))
            return 1;
        size_t cl = (size_t)(close - (k + 10));
        Whistle__V1__AttributeAnswer *a = NULL;
        for (size_t j = 0; j < s->n; j++)
            if (strlen(s->a[j]->code) == cl && strncmp(s->a[j]->code, k + 10, cl) == 0)
                a = s->a[j];
        if (!a) {
            Whistle__V1__AttributeAnswer **na = realloc(s->a, (s->n + 1) * sizeof *na);
            if (!na)
                return -1;
            s->a = na;
            a = calloc(1, sizeof *a);
            if (!a)
                return -1;
            whistle__v1__attribute_answer__init(a);
            a->code = strndup(k + 10, cl);
            s->a[s->n++] = a;
            if (!a->code)
                return -1;
        }
        char **nv = realloc(a->values, (a->n_values + 1) * sizeof *nv);
        if (!nv)
            return -1;
        a->values = nv;
        a->values[a->n_values] = strdup(r->p[i].v);
        if (!a->values[a->n_values])
            return -1;
        a->n_values++;
    }
    return 0;
}

static int parse_coord(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A POST on its way: the report, built and checked, waits while its photo
 * (if any) goes up to whistled (gw_photo_upload). */
typedef struct post_ctx {
    oreq *r;
    char code[8];
    const char *as; /* the api_key's principal (the config's string) */
    Whistle__V1__ReportEvent re;
    answer_set ans;
    char *full; /* the description with the gateway's lines */
    char ikey[129];
    char sha[65]; /* the photo's SHA-256 (hex), "" when there is none */
    char *photos[1];
} post_ctx;

static void post_free(post_ctx *pc)
{
    answers_free(&pc->ans);
    free(pc->full);
    free(pc);
}

static void on_report(void *ud, int code, const char *msg, Whistle__V1__Response *resp)
{
    post_ctx *pc = ud;
    oreq *r = pc->r;
    o311 *o = r->o;
    char scode[8];
    snprintf(scode, sizeof scode, "%s", pc->code);
    post_free(pc);
    if (!r->req) {
        whistle_response_free(resp);
        return oreq_free(r);
    }
    if (code != CODE(OK) || !resp || !resp->event) {
        whistle_response_free(resp);
        return send_upstream_error(r, code, msg);
    }
    const Whistle__V1__Category *c = cat_get(o, scode);
    char notice[300] = "";
    if (c)
        service_notice(o, c, notice, sizeof notice);
    gw_info("open311: %s reported %s (%s) in %s%s", resp->event->reporter, resp->event->ticket, scode,
            resp->event->node, resp->event->n_photos ? " with a photo" : "");
    doc *d = doc_new(r->fmt);
    if (d) {
        doc_list_begin(d, "service_requests", "request");
        doc_obj_begin(d, NULL);
        doc_str(d, "service_request_id", resp->event->ticket);
        doc_str(d, "service_notice", c ? notice : NULL);
        doc_str(d, "account_id", NULL);
        doc_obj_end(d);
        doc_list_end(d);
    }
    whistle_response_free(resp);
    send_doc(r, 201, d);
}

static void post_report(post_ctx *pc)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    req.report = &pc->re;
    if (*pc->sha) {
        pc->photos[0] = pc->sha;
        pc->re.photos = pc->photos;
        pc->re.n_photos = 1;
    }
    if (*pc->ikey)
        req.idempotency_key = pc->ikey;
    up_call(pc->r->o->up, &req, pc->as, on_report, pc);
}

/* The photo is whistled's (checked, cleaned, stored): the report names it. */
static void on_uploaded(void *ud, int code, const char *msg, const Whistle__V1__PhotoUploadStatus *st)
{
    post_ctx *pc = ud;
    oreq *r = pc->r;
    if (!r->req) {
        post_free(pc);
        return oreq_free(r);
    }
    if (code != CODE(OK) || !st || !st->sha256 || strlen(st->sha256) != 64) {
        post_free(pc);
        if (code == CODE(INVALID_ARGUMENT))
            return send_error(r, 400, "media: %s", msg);
        if (code == CODE(DATA_LOSS))
            return send_error(r, 500, "media: the photo was damaged on its way to whistled; send the request again");
        if (code == GW_PHOTO_BROKEN || code == CODE(OK)) {
            gw_warn("open311: a photo's upload: %s", msg);
            return send_error(r, 500, "media: the photo could not be sent to whistled; try again");
        }
        return send_upstream_error(r, code, msg);
    }
    snprintf(pc->sha, sizeof pc->sha, "%s", st->sha256);
    post_report(pc);
}

static void h_requests_post(oreq *r)
{
    o311 *o = r->o;
    const char *key = param_val(r, "api_key");
    if (!key)
        return send_error(r, 403,
                          "api_key is required to post a service request (the city gives one to each "
                          "system that reports)");
    const char *as = gw_config_key_principal(o->cfg, key);
    if (!as)
        return send_error(r, 403, "api_key is not valid");
    const char *sc = param_val(r, "service_code");
    if (!sc)
        return send_error(r, 400, "service_code is required (GET services lists them)");
    if (!catalogue_ready(r))
        return;
    const Whistle__V1__Category *c = strlen(sc) == 4 ? cat_get(o, sc) : NULL;
    if (!c)
        return send_error(r, 404, "service_code %.40s not found (GET services lists them)", sc);

    /* where: lat/long (WGS84, or GCJ-02 with coord_system=gcj02), else
     * address_id (a node code of the city's tree of places) */
    const char *la = param_val(r, "lat"), *lo = param_val(r, "long"), *aid = param_val(r, "address_id");
    const char *astr = param_val(r, "address_string"), *cs = param_val(r, "coord_system");
    double lat = 0, lon = 0;
    bool has_loc = false;
    if (cs && strcmp(cs, "wgs84") != 0 && strcmp(cs, "gcj02") != 0)
        return send_error(r, 400, "coord_system \"%.20s\": wgs84 (the default) or gcj02", cs);
    if (la || lo) {
        if (!la || !lo)
            return send_error(r, 400, "lat and long go together");
        if (parse_coord(la, -90, 90, &lat) || parse_coord(lo, -180, 180, &lon))
            return send_error(r, 400,
                              "lat/long \"%.30s\",\"%.30s\" are not decimal degrees (lat -90..90, long "
                              "-180..180)",
                              la, lo);
        if (cs && strcmp(cs, "gcj02") == 0)
            whistle_gcj02_to_wgs84(lat, lon, &lat, &lon);
        has_loc = true;
    } else if (aid) {
        size_t n = strlen(aid);
        bool digits = n >= 6 && n <= 18;
        for (size_t i = 0; digits && i < n; i++)
            digits = isdigit((unsigned char)aid[i]);
        if (!digits)
            return send_error(r, 400, "address_id \"%.40s\" is not a place's code (6 to 18 digits)", aid);
    } else if (astr) {
        return send_error(r, 400,
                          "address_string alone cannot be placed on the city's map: give lat and long "
                          "(or address_id) too");
    } else {
        return send_error(r, 400, "a location is required: lat and long, or address_id");
    }

    const char *desc = param_val(r, "description"), *media = param_val(r, "media_url");
    if (media && strncmp(media, "http://", 7) != 0 && strncmp(media, "https://", 8) != 0)
        return send_error(r, 400, "media_url must be an http:// or https:// URL");
    char *full = NULL;
    size_t fl = 0;
    FILE *f = open_memstream(&full, &fl);
    if (!f)
        return send_doc(r, 500, NULL);
    fputs(desc ? desc : pick(o, c->name_zh, c->name_en), f);
    if (astr)
        fprintf(f, "%s%s", MARK_ADDRESS, astr);
    if (media)
        fprintf(f, "%s%s", MARK_MEDIA, media);
    fclose(f);

    /* the reporter's contact: the phone if given (what the SMS gateway
     * needs), else the e-mail address; kept private by whistled */
    const char *phone = param_val(r, "phone"), *email = param_val(r, "email");
    answer_set ans = { 0 };
    int ar = answers_collect(r, &ans);
    if (ar != 0) {
        answers_free(&ans);
        free(full);
        if (ar > 0)
            return send_error(r, 400,
                              "an attribute parameter is attribute[CODE]=VALUE (or attribute[CODE][]=VALUE "
                              "for each value of a multivaluelist)");
        return send_doc(r, 500, NULL);
    }
    post_ctx *pc = calloc(1, sizeof *pc);
    if (!pc) {
        answers_free(&ans);
        free(full);
        return send_doc(r, 500, NULL);
    }
    pc->r = r;
    pc->as = as;
    pc->ans = ans;
    pc->full = full;
    snprintf(pc->code, sizeof pc->code, "%s", sc);
    Whistle__V1__ReportEvent *re = &pc->re;
    whistle__v1__report_event__init(re);
    re->node = (char *)(has_loc ? "" : aid);
    re->category = (char *)sc;
    re->description = full;
    re->contact = (char *)(phone ? phone : email ? email : "");
    re->source = WHISTLE__V1__SOURCE__SOURCE_RESIDENT;
    re->has_location = has_loc;
    re->lat = lat;
    re->lon = lon;
    re->attributes = pc->ans.a;
    re->n_attributes = pc->ans.n;
    /* Idempotency-Key (not in the standard, common practice): a retried
     * POST with the same key answers the first report again (whistled
     * keeps keys per principal for at least 24 h) */
    ssize_t ih = h2o_find_header_by_str(&r->req->headers, H2O_STRLIT("idempotency-key"), -1);
    if (ih >= 0) {
        h2o_iovec_t v = r->req->headers.entries[ih].value;
        bool ok = v.len >= 1 && v.len < sizeof pc->ikey;
        for (size_t i = 0; ok && i < v.len; i++)
            ok = v.base[i] > 0x20 && v.base[i] < 0x7f;
        if (!ok) {
            post_free(pc);
            return send_error(r, 400, "Idempotency-Key: 1 to 128 printable ASCII characters without spaces");
        }
        memcpy(pc->ikey, v.base, v.len);
        pc->ikey[v.len] = 0;
    }
    if (!r->has_media)
        return post_report(pc);
    /* the photo first, named by its SHA-256, as the api_key's principal;
     * whistled checks and cleans it (docs/photos.md) and the report then
     * names it */
    uint64_t max = up_photo_max(o->up);
    if (r->media_len == 0 || (max && r->media_len > max)) {
        post_free(pc);
        if (r->media_len == 0)
            return send_error(r, 400, "media: the photo is empty");
        return send_error(r, 400, "media: the photo is %zu bytes; whistled takes at most %llu", r->media_len,
                          (unsigned long long)max);
    }
    gw_photo_upload(o->up, (const uint8_t *)r->media, r->media_len, as, on_uploaded, pc);
}

/* ------------------------------------------------------------ routing */

static void on_pool_dispose(void *p)
{
    oreq_link *l = p;
    if (l->r) {
        l->r->req = NULL; /* the client went away: the answer is dropped */
        l->r->link = NULL;
    }
}

static bool method_is(const h2o_req_t *req, const char *m)
{
    return req->method.len == strlen(m) && memcmp(req->method.base, m, req->method.len) == 0;
}

/* The path's resource and format: "services/0101.json" gives
 * "services/0101" and DOC_JSON. -1 for no or an unknown format. */
static int split_format(char *res, doc_format *fmt)
{
    char *dot = strrchr(res, '.');
    if (!dot || strchr(dot, '/'))
        return -1;
    if (strcmp(dot, ".xml") == 0)
        *fmt = DOC_XML;
    else if (strcmp(dot, ".json") == 0)
        *fmt = DOC_JSON;
    else
        return -1;
    *dot = 0;
    return 0;
}

void o311_handle(void *ud, h2o_req_t *req)
{
    o311 *o = ud;
    oreq *r = calloc(1, sizeof *r);
    oreq_link *link = h2o_mem_alloc_shared(&req->pool, sizeof *link, on_pool_dispose);
    if (!r) {
        gw_http_send(req, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
        return;
    }
    o->in_flight++;
    r->o = o;
    r->req = req;
    r->link = link;
    link->r = r;
    r->fmt = DOC_XML;

    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    char *path = url_decode(req->path.base, plen);
    if (!path)
        return send_error(r, 400, "the path is not valid UTF-8 or has a broken %%-escape");
    if (strncmp(path, PREFIX, strlen(PREFIX)) != 0) {
        send_error(r, 404, "no such resource: the GeoReport v2 endpoints are under " PREFIX);
        free(path);
        return;
    }
    char res[256];
    snprintf(res, sizeof res, "%s", path + strlen(PREFIX));
    free(path);
    if (strncmp(res, "media/", 6) == 0) {
        /* a photo: its own types, not a document's formats */
        if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
            r->fmt = DOC_JSON;
            return send_error(r, 405, "photos are read with GET");
        }
        return h_media(r, res + 6);
    }
    if (split_format(res, &r->fmt) < 0)
        return send_error(r, 404, "no such resource: name a format, e.g. " PREFIX "services.xml or .json");
    if (req->query_at != SIZE_MAX &&
        parse_pairs(r, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1) < 0)
        return send_error(r, 400, "the query string is not valid UTF-8 or has a broken %%-escape");
    if (req->entity.base && req->entity.len) {
        ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
        static const char form[] = "application/x-www-form-urlencoded";
        char boundary[MP_BOUNDARY_MAX + 1];
        const h2o_iovec_t *ctv = ct >= 0 ? &req->headers.entries[ct].value : NULL;
        if (ctv && mp_boundary(ctv->base, ctv->len, boundary) == 0) {
            /* multipart/form-data: the fields, and a photo as "media" */
            const char *why = NULL;
            int rc = mp_parse(req->entity.base, req->entity.len, boundary, on_part, r, &why);
            if (rc == -1)
                return send_error(r, 400, "the multipart body is malformed: %s", why);
            if (rc == 2)
                return send_error(r, 400, "one photo per request: a second \"media\" part");
            if (rc == 3)
                return send_error(r, 400, "a file may be sent only as the \"media\" part");
            if (rc == 4)
                return send_error(r, 400, "a field of the multipart body is not valid UTF-8");
            if (rc != 0)
                return send_doc(r, 500, NULL);
        } else {
            /* the media type, in any case, with or without parameters */
            if (!ctv || ctv->len < sizeof form - 1 || strncasecmp(ctv->base, form, sizeof form - 1) != 0 ||
                (ctv->len > sizeof form - 1 && ctv->base[sizeof form - 1] != ';' && ctv->base[sizeof form - 1] != ' '))
                return send_error(r, 400,
                                  "a POST body must be application/x-www-form-urlencoded (or multipart/form-data "
                                  "with a photo as \"media\")");
            if (parse_pairs(r, req->entity.base, req->entity.len) < 0)
                return send_error(r, 400, "the body is not valid UTF-8 or has a broken %%-escape");
        }
    }
    const char *jid = param_val(r, "jurisdiction_id");
    if (jid && *o->cfg->jurisdiction_id && strcmp(jid, o->cfg->jurisdiction_id) != 0)
        return send_error(r, 404, "jurisdiction_id %.60s not found (this endpoint serves %s)", jid,
                          o->cfg->jurisdiction_id);

    bool get = method_is(req, "GET") || method_is(req, "HEAD"), post = method_is(req, "POST");
    if (strcmp(res, "discovery") == 0 && get)
        return h_discovery(r);
    if (strcmp(res, "services") == 0 && get)
        return h_services(r);
    if (strncmp(res, "services/", 9) == 0 && res[9] && !strchr(res + 9, '/') && get)
        return h_service_def(r, res + 9);
    if (strcmp(res, "requests") == 0 && get)
        return h_requests_get(r);
    if (strcmp(res, "requests") == 0 && post)
        return h_requests_post(r);
    if (strncmp(res, "requests/", 9) == 0 && res[9] && !strchr(res + 9, '/') && get)
        return h_request_get(r, res + 9);
    if (strcmp(res, "servicerequestupdates") == 0 && get)
        return h_updates(r);
    if (strncmp(res, "tokens/", 7) == 0 && res[7] && !strchr(res + 7, '/') && get)
        return h_token(r, res + 7);
    bool known = strcmp(res, "discovery") == 0 || strcmp(res, "services") == 0 || strncmp(res, "services/", 9) == 0 ||
                 strcmp(res, "requests") == 0 || strncmp(res, "requests/", 9) == 0 ||
                 strcmp(res, "servicerequestupdates") == 0 || strncmp(res, "tokens/", 7) == 0;
    if (known)
        return send_error(r, 405, "method %.*s is not allowed here", (int)(req->method.len < 16 ? req->method.len : 16),
                          req->method.base);
    send_error(r, 404, "no such resource: %.60s", res);
}

/* ------------------------------------------------------------ life */

o311 *o311_new(uv_loop_t *loop, const gw_config *cfg)
{
    o311 *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->loop = loop;
    o->cfg = cfg;
    o->zh = strcmp(cfg->language, "zh") == 0;
    uv_timer_init(loop, &o->refresh);
    o->refresh.data = o;
    uv_timer_start(&o->refresh, on_refresh, REFRESH_MS, REFRESH_MS);
    return o;
}

void o311_attach(o311 *o, upstream *u) { o->up = u; }

size_t o311_in_flight(const o311 *o) { return o->in_flight; }

void o311_stop(o311 *o) { uv_close((uv_handle_t *)&o->refresh, NULL); }

void o311_free(o311 *o)
{
    if (!o)
        return;
    whistle_response_free(o->cats);
    whistle_response_free(o->depts);
    whistle_response_free(o->nodes);
    free(o);
}
