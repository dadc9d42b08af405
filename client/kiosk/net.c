/* net.c: the kiosk's connection: a libwhistle session (it connects again,
 * with a backoff, for as long as it takes); on each connection, load the
 * directory (categories, the places of the
 * kiosk's community, departments, the service guide), and the resident's
 * calls. Details of failures go to the log for the staff (shell_log: a
 * file, the journal, never the screen); the screen only ever says, calmly,
 * that the service is unavailable.
 *
 * Only these calls are made: hello (by libwhistle), list_categories,
 * list_nodes, list_departments, list_services, report, lookup_ticket, rate,
 * emergency_call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk.h"
#include "whistle/client.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif
#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x
#define RELOAD_AFTER_MS (15 * 60 * 1000)

whistle_session_state net_state(const kiosk *k) { return whistle_session_state_of(k->session); }

/* What the connection said last, for the staff. */
static const char *conn_error(const kiosk *k)
{
    whistle_conn *c = whistle_session_conn(k->session);
    return c ? whistle_conn_error(c) : "the connection closed";
}

bool net_live(const kiosk *k) { return net_state(k) == WHISTLE_SESSION_LIVE; }

/* ------------------------------------------------------------ the directory */

enum { LOAD_CATS = 1, LOAD_DEPTS, LOAD_NODES, LOAD_SERVICES, LOAD_BOARD, LOAD_WISHES };

typedef struct load {
    kiosk *k;
    int what;
} load;

static Whistle__V1__Response **slot(kiosk *k, int what)
{
    switch (what) {
    case LOAD_CATS: return &k->cats;
    case LOAD_DEPTS: return &k->depts;
    case LOAD_NODES: return &k->nodes;
    case LOAD_BOARD: return &k->board;
    case LOAD_WISHES: return &k->wishes;
    default: return &k->services;
    }
}

static void load_done(kiosk *k)
{
    if (--k->loads > 0)
        return;
    bool reload = net_live(k);
    whistle_session_mark_live(k->session);
    k->ever_live = true;
    k->loaded_ms = shell_clock_ms();
    if (!reload)
        shell_log(false, "connected as %s (scope %s); the directory is loaded%s", k->who, k->scope,
                  k->services_missing ? "; the service guide is not available" : "");
    flow_net_live(k);
    kiosk_redraw(k);
}

static void on_load(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    load *l = ud;
    kiosk *k = l->k;
    int what = l->what;
    free(l);
    if (status < 0 || !resp)
        return; /* closed: the reconnect loads again */
    int code = whistle_response_code(resp);
    if (what == LOAD_SERVICES && code != CODE(OK)) {
        /* The guide is a help, not the kiosk's purpose: without it the
         * kiosk works on, and says calmly that the guide is not there. */
        shell_log(true, "list_services: %s: %s", whistle_code_name(code), whistle_response_message(resp));
        k->services_missing = true;
        whistle_response_free(resp);
        load_done(k);
        return;
    }
    if (what == LOAD_WISHES && code != CODE(OK)) {
        /* a community without volunteers' rules: the wish entry says so */
        whistle_response_free(*slot(k, what));
        *slot(k, what) = NULL;
        whistle_response_free(resp);
        load_done(k);
        return;
    }
    if (what == LOAD_BOARD && code != CODE(OK)) {
        /* the echo board, like the guide, is a help: the kiosk works on */
        shell_log(true, "list_board: %s: %s", whistle_code_name(code), whistle_response_message(resp));
        k->board_missing = true;
        whistle_response_free(resp);
        load_done(k);
        return;
    }
    if (code != CODE(OK)) {
        shell_log(true, "loading the directory: %s: %s", whistle_code_name(code), whistle_response_message(resp));
        whistle_response_free(resp);
        whistle_session_drop(k->session); /* and try again after the backoff */
        return;
    }
    Whistle__V1__Response **s = slot(k, what);
    whistle_response_free(*s);
    *s = resp;
    if (what == LOAD_SERVICES)
        k->services_missing = false;
    if (what == LOAD_BOARD)
        k->board_missing = false;
    load_done(k);
}

static void load_send(kiosk *k, int what)
{
    load *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->k = k;
    l->what = what;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__ListCategories lc = WHISTLE__V1__LIST_CATEGORIES__INIT;
    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    Whistle__V1__ListNodes ln = WHISTLE__V1__LIST_NODES__INIT;
    Whistle__V1__ListServices ls = WHISTLE__V1__LIST_SERVICES__INIT;
    Whistle__V1__ListBoard lb = WHISTLE__V1__LIST_BOARD__INIT;
    Whistle__V1__GetVolunteerConfig gv = WHISTLE__V1__GET_VOLUNTEER_CONFIG__INIT;
    switch (what) {
    case LOAD_CATS:
        req.call_case = CALL(LIST_CATEGORIES);
        req.list_categories = &lc;
        break;
    case LOAD_DEPTS:
        req.call_case = CALL(LIST_DEPARTMENTS);
        req.list_departments = &ld;
        break;
    case LOAD_NODES:
        /* the kiosk's own subtree: its community, grids, buildings */
        ln.parent = (char *)"";
        req.call_case = CALL(LIST_NODES);
        req.list_nodes = &ln;
        break;
    case LOAD_BOARD:
        /* the kiosk's community's board, its grids' and its street's */
        req.call_case = CALL(LIST_BOARD);
        req.list_board = &lb;
        break;
    case LOAD_WISHES:
        gv.community = k->scope;
        req.call_case = CALL(GET_VOLUNTEER_CONFIG);
        req.get_volunteer_config = &gv;
        break;
    default:
        req.call_case = CALL(LIST_SERVICES);
        req.list_services = &ls;
        break;
    }
    if (whistle_conn_send(whistle_session_conn(k->session), &req, on_load, l) < 0) {
        free(l);
        whistle_session_drop(k->session);
    }
}

static void load_all(kiosk *k)
{
    /* a reload keeps the kiosk live: the old directory serves meanwhile */
    k->loads = 6;
    load_send(k, LOAD_WISHES);
    load_send(k, LOAD_CATS);
    load_send(k, LOAD_DEPTS);
    load_send(k, LOAD_NODES);
    load_send(k, LOAD_SERVICES);
    load_send(k, LOAD_BOARD);
}

void net_maybe_reload(kiosk *k)
{
    if (net_live(k) && k->loads == 0 && shell_clock_ms() - k->loaded_ms > RELOAD_AFTER_MS)
        load_all(k);
}

const Whistle__V1__Category *net_category(const kiosk *k, const char *code)
{
    if (!k->cats || !k->cats->categories || !code)
        return NULL;
    for (size_t i = 0; i < k->cats->categories->n_categories; i++)
        if (strcmp(k->cats->categories->categories[i]->code, code) == 0)
            return k->cats->categories->categories[i];
    return NULL;
}

const Whistle__V1__Node *net_node(const kiosk *k, const char *code)
{
    if (!k->nodes || !k->nodes->nodes || !code)
        return NULL;
    for (size_t i = 0; i < k->nodes->nodes->n_nodes; i++)
        if (strcmp(k->nodes->nodes->nodes[i]->code, code) == 0)
            return k->nodes->nodes->nodes[i];
    return NULL;
}

const char *net_dept_name(const kiosk *k, const char *code)
{
    if (k->depts && k->depts->departments && code)
        for (size_t i = 0; i < k->depts->departments->n_departments; i++) {
            const Whistle__V1__Department *d = k->depts->departments->departments[i];
            if (strcmp(d->code, code) == 0) {
                const char *n = uitext_pick(d->name_zh, d->name_en);
                return *n ? n : code;
            }
        }
    return code ? code : "";
}

const Whistle__V1__ServiceClass *net_service_class(const kiosk *k, const char *code)
{
    if (!k->services || !k->services->services || !code)
        return NULL;
    for (size_t i = 0; i < k->services->services->n_classes; i++)
        if (strcmp(k->services->services->classes[i]->code, code) == 0)
            return k->services->services->classes[i];
    return NULL;
}

const Whistle__V1__ServiceItem *net_service_item(const kiosk *k, const char *code)
{
    if (!k->services || !k->services->services || !code)
        return NULL;
    for (size_t i = 0; i < k->services->services->n_items; i++)
        if (strcmp(k->services->services->items[i]->code, code) == 0)
            return k->services->services->items[i];
    return NULL;
}

/* ------------------------------------------------------------ the resident's calls */

typedef struct pending {
    kiosk *k;
    enum call_kind what;
    unsigned gen;
} pending;

static void on_answer(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    pending *p = ud;
    kiosk *k = p->k;
    (void)c;
    bool current = p->gen == k->gen && k->call_busy;
    enum call_kind what = p->what;
    if (k->call_ud == p)
        k->call_ud = NULL;
    free(p);
    if (!current) { /* the session it was for is gone */
        whistle_response_free(resp);
        return;
    }
    k->call_busy = false;
    kiosk_call_timer(k, false);
    static const char *const names[] = { "call",     "report",       "lookup_ticket", "rate",
                                         "add_wish", "confirm_wish", "points_balance" };
    const char *name = what >= CALL_REPORT && what <= CALL_BALANCE ? names[what] : names[0];
    if (status < 0 || !resp)
        shell_log(true, "%s: no answer (%s)", name, conn_error(k));
    else if (whistle_response_code(resp) != CODE(OK))
        shell_log(true, "%s: %s: %s", name, whistle_code_name(whistle_response_code(resp)),
                  whistle_response_message(resp));
    kiosk_touch(k); /* the answer's reader gets the whole idle time */
    flow_answer(k, what, status < 0 ? -1 : 0, resp);
    kiosk_redraw(k);
}

static int send_call(kiosk *k, Whistle__V1__Request *req, enum call_kind what)
{
    if (!net_live(k))
        return -1;
    pending *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->k = k;
    p->what = what;
    p->gen = k->gen;
    whistle_conn *c = whistle_session_conn(k->session);
    if (whistle_conn_send(c, req, on_answer, p) < 0) {
        shell_log(true, "call: not sent: %s", whistle_conn_error(c));
        free(p);
        return -1;
    }
    k->call_id = req->id;
    k->call_ud = p;
    k->call_what = what;
    k->call_busy = true;
    kiosk_call_timer(k, true);
    return 0;
}

/* A write of the resident's: its idempotency key (k->d.key) is made once
 * per action and kept across retries, so that Enter pressed again after a
 * lost answer returns the first result, never a second case or wish. */
static int send_write(kiosk *k, Whistle__V1__Request *req, enum call_kind what)
{
    if (!*k->d.key && whistle_idempotency_key(k->d.key, sizeof k->d.key) < 0)
        return -1;
    req->idempotency_key = k->d.key;
    return send_call(k, req, what);
}

void net_call_timeout(kiosk *k)
{
    if (!k->call_busy)
        return;
    shell_log(true, "call: no answer in time; given up (a report or a rating is retried with the same key)");
    /* a cancelled call's callback never runs: its context is freed here */
    whistle_conn *c = whistle_session_conn(k->session);
    if (c && whistle_conn_cancel(c, k->call_id) == 0)
        free(k->call_ud);
    k->call_ud = NULL;
    k->call_busy = false;
    flow_answer(k, (enum call_kind)k->call_what, -1, NULL);
    kiosk_redraw(k);
}

int net_report(kiosk *k)
{
    char desc[DESC_MAX * 4 + 8], phone[32];
    field_text(&k->d.desc, desc, sizeof desc);
    field_text(&k->d.phone, phone, sizeof phone);
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = (char *)flow_place_node(k);
    r.category = k->d.minor;
    r.description = desc;
    r.contact = phone;
    r.source = WHISTLE__V1__SOURCE__SOURCE_KIOSK;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &r;
    int rc = send_write(k, &req, CALL_REPORT);
    explicit_bzero(desc, sizeof desc);
    explicit_bzero(phone, sizeof phone);
    return rc;
}

int net_lookup(kiosk *k)
{
    Whistle__V1__LookupTicket l = WHISTLE__V1__LOOKUP_TICKET__INIT;
    l.ticket = k->d.ticket_norm;
    l.phone_last4 = k->d.last4_norm;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LOOKUP_TICKET);
    req.lookup_ticket = &l;
    return send_call(k, &req, CALL_LOOKUP);
}

int net_rate(kiosk *k)
{
    char comment[COMMENT_MAX * 4 + 8];
    field_text(&k->d.comment, comment, sizeof comment);
    Whistle__V1__RateEvent r = WHISTLE__V1__RATE_EVENT__INIT;
    r.ticket = k->d.ticket_norm;
    r.score = k->d.score;
    r.comment = comment;
    r.phone_last4 = k->d.last4_norm; /* a kiosk rates for the resident who knows the phone */
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(RATE);
    req.rate = &r;
    int rc = send_write(k, &req, CALL_RATE);
    explicit_bzero(comment, sizeof comment);
    return rc;
}

/* ------------------------------------------------------------ the volunteers' loop */

int net_wish_add(kiosk *k)
{
    char text[DESC_MAX * 4 + 8], phone[32];
    field_text(&k->d.desc, text, sizeof text);
    field_text(&k->d.phone, phone, sizeof phone);
    Whistle__V1__AddWish w = WHISTLE__V1__ADD_WISH__INIT;
    w.node = k->scope;
    w.category = k->d.wish_cat;
    w.text = text;
    w.contact = phone;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(ADD_WISH);
    req.add_wish = &w;
    int rc = send_write(k, &req, CALL_WISH_ADD);
    explicit_bzero(text, sizeof text);
    explicit_bzero(phone, sizeof phone);
    return rc;
}

int net_wish_confirm(kiosk *k)
{
    Whistle__V1__ConfirmWish c = WHISTLE__V1__CONFIRM_WISH__INIT;
    c.ticket = k->d.ticket_norm;
    c.phone_last4 = k->d.last4_norm;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(CONFIRM_WISH);
    req.confirm_wish = &c;
    return send_write(k, &req, CALL_WISH_CONFIRM);
}

int net_balance(kiosk *k)
{
    Whistle__V1__PointsBalance b = WHISTLE__V1__POINTS_BALANCE__INIT;
    b.volunteer_id = strtoull(k->d.ticket_norm, NULL, 10);
    b.code = k->d.last4_norm;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(POINTS_BALANCE);
    req.points_balance = &b;
    return send_call(k, &req, CALL_BALANCE);
}

/* ------------------------------------------------------------ the emergency call */

static void on_emergency(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    kiosk *k = ud;
    (void)c;
    if (!k->emerg_busy) { /* given up on after its time limit; a retry is under way */
        whistle_response_free(resp);
        return;
    }
    k->emerg_busy = false;
    uv_timer_stop(&k->emerg_timer);
    if (status < 0 || !resp)
        shell_log(true, "emergency_call: no answer (%s)", conn_error(k));
    else if (whistle_response_code(resp) != CODE(OK))
        shell_log(true, "emergency_call: %s: %s", whistle_code_name(whistle_response_code(resp)),
                  whistle_response_message(resp));
    else
        shell_log(false, "emergency_call: %s", resp->event ? resp->event->ticket : "sent");
    flow_emergency_answer(k, status < 0 ? -1 : 0, resp);
    kiosk_redraw(k);
}

static void on_emerg_timer(uv_timer_t *t) { net_emergency_timeout(t->data); }

int net_emergency(kiosk *k)
{
    if (!net_live(k))
        return -1;
    Whistle__V1__EmergencyCall e = WHISTLE__V1__EMERGENCY_CALL__INIT;
    e.node = k->scope;
    e.device = k->device;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(EMERGENCY_CALL);
    req.emergency_call = &e;
    /* retried with the same key until it is answered: one case, however
     * many times the connection drops meanwhile */
    if (!*k->emerg_key && whistle_idempotency_key(k->emerg_key, sizeof k->emerg_key) < 0)
        return -1;
    req.idempotency_key = k->emerg_key;
    if (whistle_conn_send(whistle_session_conn(k->session), &req, on_emergency, k) < 0)
        return -1;
    k->emerg_id = req.id;
    k->emerg_busy = true;
    uv_timer_start(&k->emerg_timer, on_emerg_timer, 10000, 0);
    return 0;
}

void net_emergency_timeout(kiosk *k)
{
    if (!k->emerg_busy)
        return;
    shell_log(true, "emergency_call: no answer in 10 s; trying again");
    whistle_conn *c = whistle_session_conn(k->session);
    if (c)
        whistle_conn_cancel(c, k->emerg_id);
    k->emerg_busy = false;
    flow_emergency_answer(k, -1, NULL);
}

/* ------------------------------------------------------------ the connection */

static void on_ready(whistle_session *s, const Whistle__V1__HelloResult *h, void *ud)
{
    kiosk *k = ud;
    (void)s;
    Whistle__V1__Role role = h && h->principal ? h->principal->role : WHISTLE__V1__ROLE__ROLE_UNSPECIFIED;
    if (h && h->principal) {
        snprintf(k->who, sizeof k->who, "%s", h->principal->name);
        snprintf(k->scope, sizeof k->scope, "%s", h->principal->scope);
    }
    /* Another role would file cases as someone else and could read what a
     * kiosk must not: refuse to run rather than be that. */
    if (role != WHISTLE__V1__ROLE__ROLE_KIOSK) {
        snprintf(k->fatal_err, sizeof k->fatal_err,
                 "whistle-kiosk is a community's self-service terminal and runs as a kiosk principal (role "
                 "kiosk, scoped to a community); %s has the role %s",
                 *k->who ? k->who : "this certificate", whistle_role_name(role));
        k->fatal = true;
        kiosk_quit(k);
        return;
    }
    if (!*k->device)
        snprintf(k->device, sizeof k->device, "%s", k->who);
    k->hello = true;
    load_all(k);
    kiosk_redraw(k);
}

/* A failed attempt says "connecting", a connection that was up and went
 * away "connection"; a clean close says nothing. */
static void on_down(whistle_session *s, int status, const char *why, void *ud)
{
    kiosk *k = ud;
    (void)s;
    if (status < 0 && *why)
        shell_log(true, "%s: %s", k->hello ? "connection" : "connecting", why);
    k->hello = false;
    k->loads = 0;
    kiosk_redraw(k);
}

void net_start(kiosk *k)
{
    whistle_session_cbs cbs = { on_ready, NULL, NULL, on_down }; /* a kiosk follows no stream */
    k->emerg_timer.data = k;
    k->settings.opts.client_name = "whistle-kiosk/" WHISTLE_VERSION;
    int r = whistle_session_open(k->loop, &k->settings.opts, &cbs, k, &k->session);
    if (r < 0) {
        snprintf(k->fatal_err, sizeof k->fatal_err, "%s", whistle_strerror(r));
        k->fatal = true;
        kiosk_quit(k);
    }
}

void net_stop(kiosk *k)
{
    uv_timer_stop(&k->emerg_timer);
    whistle_session_close(k->session);
    k->session = NULL;
}
