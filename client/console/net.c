/* net.c: the console's connection: a libwhistle session (it reconnects
 * with a backoff by itself); on each connection, load the street's open
 * cases and orders, then follow the stream from its acknowledged cursor, turn pushes into the model and alerts, acknowledge
 * what has been handled, measure the server's clock, fetch statistics, and
 * make the calls the keys ask for.
 *
 * Nothing is lost across a reconnect: the console acknowledges a push only
 * once it has been applied, and never past an emergency the operator has
 * not acknowledged, so the stream replays it after a restart or a dropped
 * connection. Replayed entries carry older versions of records, which the
 * model ignores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "whistle/client.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif
#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define MAX_PAGES 10

/* ------------------------------------------------------------ loading */

enum { LOAD_CATS = 1, LOAD_DEPTS, LOAD_NODES, LOAD_EVENTS, LOAD_ORDERS };

typedef struct load {
    console *k;
    int what;
    int state;
    int page;
} load;

static void load_send(console *k, int what, int state, int page, const char *cursor, uint64_t after);

whistle_session_state net_state(const console *k) { return whistle_session_state_of(k->session); }

/* Everything loaded: the pushes now have what they apply to. What was
 * not acknowledged comes again (the session subscribes from the cursor);
 * a failure drops the connection, and the next one loads again. */
static void load_done(console *k)
{
    if (--k->loads == 0)
        whistle_session_subscribe(k->session, k->stream);
}

static void on_load(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    load *l = ud;
    console *k = l->k;
    (void)c;
    if (status < 0 || !resp) {
        free(l);
        return; /* closed: the reconnect loads again */
    }
    int code = whistle_response_code(resp);
    if (code != WHISTLE__V1__STATUS__CODE__OK) {
        console_status(k, _("loading: %s: %s"), whistle_code_name(code), whistle_response_message(resp));
    } else if (l->what == LOAD_CATS && resp->categories) {
        for (size_t i = 0; i < resp->categories->n_categories; i++) {
            const Whistle__V1__Category *cat = resp->categories->categories[i];
            char depts[256] = "";
            size_t o = 0;
            for (size_t j = 0; j < cat->n_departments && o < sizeof depts; j++)
                o += (size_t)snprintf(depts + o, sizeof depts - o, "%s%s", j ? "," : "", cat->departments[j]);
            model_names(&k->cats, &k->n_cats, cat->code, uitext_pick(cat->name_zh, cat->name_en), depts);
        }
    } else if (l->what == LOAD_DEPTS && resp->departments) {
        for (size_t i = 0; i < resp->departments->n_departments; i++) {
            const Whistle__V1__Department *d = resp->departments->departments[i];
            model_names(&k->depts, &k->n_depts, d->code, uitext_pick(d->name_zh, d->name_en), NULL);
        }
    } else if (l->what == LOAD_NODES && resp->nodes) {
        for (size_t i = 0; i < resp->nodes->n_nodes; i++) {
            const Whistle__V1__Node *n = resp->nodes->nodes[i];
            model_names(&k->nodes, &k->n_nodes, n->code, uitext_pick(n->name_zh, n->name_en), NULL);
        }
    } else if (l->what == LOAD_EVENTS && resp->events) {
        for (size_t i = 0; i < resp->events->n_events; i++)
            model_put_event(k, resp->events->events[i]);
        if (*resp->events->next_cursor && l->page + 1 < MAX_PAGES) {
            load_send(k, LOAD_EVENTS, l->state, l->page + 1, resp->events->next_cursor, 0);
            whistle_response_free(resp);
            free(l);
            return;
        }
    } else if (l->what == LOAD_ORDERS && resp->orders) {
        for (size_t i = 0; i < resp->orders->n_orders; i++)
            model_put_order(k, resp->orders->orders[i]);
        if (resp->orders->next_after_id && l->page + 1 < MAX_PAGES) {
            load_send(k, LOAD_ORDERS, l->state, l->page + 1, NULL, resp->orders->next_after_id);
            whistle_response_free(resp);
            free(l);
            return;
        }
    }
    whistle_response_free(resp);
    free(l);
    load_done(k);
    console_redraw(k);
}

static void load_send(console *k, int what, int state, int page, const char *cursor, uint64_t after)
{
    load *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->k = k;
    l->what = what;
    l->state = state;
    l->page = page;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__ListCategories lc = WHISTLE__V1__LIST_CATEGORIES__INIT;
    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    Whistle__V1__ListNodes ln = WHISTLE__V1__LIST_NODES__INIT;
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
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
        req.call_case = CALL(LIST_NODES);
        req.list_nodes = &ln;
        break;
    case LOAD_EVENTS:
        req.call_case = CALL(LIST_EVENTS);
        le.state = state;
        le.limit = 500;
        le.cursor = (char *)(cursor ? cursor : "");
        req.list_events = &le;
        break;
    default:
        req.call_case = CALL(LIST_ORDERS);
        lo.state = state;
        lo.limit = 500;
        lo.after_id = after;
        req.list_orders = &lo;
        break;
    }
    if (whistle_conn_send(whistle_session_conn(k->session), &req, on_load, l) < 0) {
        free(l);
        whistle_session_drop(k->session);
    }
}

/* Everything the screen needs, afresh: after a reconnect the cases closed
 * meanwhile must go, so the model starts empty (alerts and emergencies
 * stay: they are the operator's, not the server's). */
static void load_all(console *k)
{
    for (size_t i = 0; i < k->n_cases; i++)
        whistle__v1__event__free_unpacked(k->cases[i], NULL);
    for (size_t i = 0; i < k->n_orders; i++)
        whistle__v1__order__free_unpacked(k->orders[i], NULL);
    k->n_cases = k->n_orders = k->n_rows = 0;
    size_t *counts[] = { &k->n_cats, &k->n_depts, &k->n_nodes };
    named **lists[] = { &k->cats, &k->depts, &k->nodes };
    for (int i = 0; i < 3; i++) {
        for (size_t j = 0; j < *counts[i]; j++) {
            free((*lists[i])[j].code);
            free((*lists[i])[j].name);
            free((*lists[i])[j].depts);
        }
        free(*lists[i]);
        *lists[i] = NULL;
        *counts[i] = 0;
    }
    static const int open_states[] = {
        ES(REPORTED), ES(FILED), ES(HANDLING), ES(WHISTLED), ES(RESOLVED), ES(VERIFIED)
    };
    k->loads = 3 + 6 + 2;
    load_send(k, LOAD_CATS, 0, 0, NULL, 0);
    load_send(k, LOAD_DEPTS, 0, 0, NULL, 0);
    load_send(k, LOAD_NODES, 0, 0, NULL, 0);
    for (size_t i = 0; i < 6; i++)
        load_send(k, LOAD_EVENTS, open_states[i], 0, NULL, 0);
    load_send(k, LOAD_ORDERS, WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING, 0, NULL, 0);
    load_send(k, LOAD_ORDERS, WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN, 0, NULL, 0);
}

/* ------------------------------------------------------------ pushes */

static const char *cat_name(console *k, const char *code)
{
    const named *n = model_find(k->cats, k->n_cats, code);
    return n ? n->name : code;
}

static const char *dept_name(console *k, const char *code)
{
    const named *n = model_find(k->depts, k->n_depts, code);
    return n ? n->name : code;
}

static const char *miss_words(const char *kind)
{
    static const struct {
        const char *kind, *words;
    } w[] = {
        { "check_in", N_("check-in deadline") },    { "resolve", N_("resolve deadline") },
        { "stage", N_("stage deadline") },          { "check_in_follow_up", N_("check-in follow-up") },
        { "follow_up", N_("follow-up to finish") },
    };
    for (size_t i = 0; kind && i < sizeof w / sizeof *w; i++)
        if (strcmp(kind, w[i].kind) == 0)
            return _(w[i].words);
    return kind ? kind : "";
}

static void on_push(whistle_session *s, Whistle__V1__Push *p, void *ud)
{
    console *k = ud;
    if (k->mt.id) {
        /* Never acknowledged: the stream may be a street's feed, whose
         * cursor belongs to its case console; a replay after a reconnect
         * brings older copies of the meeting, which meeting_push ignores. */
        meeting_push(k, p);
        whistle_push_free(p);
        return;
    }
    if (p->event)
        model_put_event(k, p->event);
    if (p->order)
        model_put_order(k, p->order);
    /* A live push carries the server's time of commit: the clock estimate
     * never falls behind it. */
    if (p->seq > whistle_session_live_from(s) && p->at_ms > console_now(k))
        k->offset_ms += p->at_ms - console_now(k);
    const Whistle__V1__Event *e = p->event;
    const Whistle__V1__Order *o = p->order;
    const char *a = p->action ? p->action : "";
    const char *t = e ? e->ticket : o ? o->ticket : "";
    if (strcmp(a, "emergency") == 0) {
        /* Only while nobody has taken it up: a replayed emergency that was
         * filed meanwhile is history. */
        const Whistle__V1__Event *cur = model_event(k, t);
        if (cur && cur->state == ES(REPORTED))
            model_emergency(k, t, p->seq);
        model_alert(k, 2, p->at_ms, _("EMERGENCY CALL %s: %s"), t, e ? e->description : "");
    } else if (strcmp(a, "overdue") == 0 || strcmp(a, "escalate") == 0) {
        bool esc = strcmp(a, "escalate") == 0;
        const Whistle__V1__Miss *m = o && o->n_misses ? o->misses[o->n_misses - 1] : NULL;
        if (o)
            model_alert(k, esc ? 2 : 1, p->at_ms,
                        esc ? _("ESCALATED %s: %s #%llu missed its %s, to the district")
                            : _("OVERDUE %s: %s #%llu missed its %s"),
                        t, dept_name(k, o->department), (unsigned long long)o->id, miss_words(m ? m->kind : NULL));
        else
            model_alert(k, 1, p->at_ms, _("OVERDUE %s: past its due time"), t);
    } else if (strcmp(a, "visit_overdue") == 0 && p->visit_overdue) {
        /* a special-care household whose visit is overdue (docs/archive.md):
         * its number and place, never a name */
        const Whistle__V1__VisitOverdue *v = p->visit_overdue;
        const named *n = model_find(k->nodes, k->n_nodes, v->node);
        model_alert(k, 1, p->at_ms, _("VISIT OVERDUE: household %llu at %s (%s)"), (unsigned long long)v->household_id,
                    n ? n->name : v->node, v->n_tags ? v->tags[0] : "");
    } else if (strcmp(a, "extension_request") == 0 && o) {
        model_alert(k, 1, p->at_ms, _("%s asks for more time on #%llu (%s): x approve, X refuse"),
                    dept_name(k, o->department), (unsigned long long)o->id, t);
        k->alerts[(k->n_alerts - 1) % MAX_ALERTS].order_id = o->id; /* what x and X then act on */
    } else if (strcmp(a, "return") == 0 && o) {
        model_alert(k, 1, p->at_ms, _("%s returned #%llu (%s): %s"), dept_name(k, o->department),
                    (unsigned long long)o->id, t, o->return_reason);
    } else if (strcmp(a, "rate") == 0 && e && e->rating && e->rating <= 2) {
        model_alert(k, 1, p->at_ms, _("dissatisfied: %s rated %u/5"), t, e->rating);
    } else if (strcmp(a, "report") == 0 && e) {
        model_alert(k, 0, p->at_ms, _("new case %s: %s"), t, cat_name(k, e->category));
    }
    k->stats_dirty = true;
    whistle_push_free(p);
    net_ack(k);
    console_redraw(k);
}

void net_ack(console *k)
{
    if (k->mt.id || net_state(k) != WHISTLE_SESSION_LIVE)
        return;
    uint64_t lim = model_ack_limit(k), received = whistle_session_received(k->session);
    whistle_session_ack(k->session, received < lim ? received : lim);
}

/* ------------------------------------------------------------ the connection */

static void on_live(whistle_session *s, void *ud)
{
    console *k = ud;
    k->net_err[0] = 0;
    shell_log(false, "following %s as %s%s", k->stream, k->who, whistle_session_reconnects(s) ? ", again" : "");
    if (whistle_session_reconnects(s))
        console_status(k, _("connected again; resumed %s from its cursor"), k->stream);
    net_ping(k);
    if (!k->mt.id)
        net_refresh_stats(k);
    console_redraw(k);
}

static void on_ready(whistle_session *s, const Whistle__V1__HelloResult *h, void *ud)
{
    console *k = ud;
    (void)s;
    if (h && h->principal) {
        snprintf(k->who, sizeof k->who, "%s", h->principal->name);
        snprintf(k->scope, sizeof k->scope, "%s", h->principal->scope);
        k->role = h->principal->role;
    }
    if (k->mt.id) {
        /* The meeting screen: for those who may read a meeting; it loads
         * nothing of the case feed, so a representative (who may read no
         * case) sees the meeting and nothing else. */
        if (!meeting_role_ok(k->role)) {
            snprintf(k->net_err, sizeof k->net_err,
                     _("the meeting screen is for the members of a deliberative body and those who manage its "
                       "place; %s is a %s"),
                     k->who, whistle_role_name(k->role));
            k->fatal = true;
            console_quit(k);
            return;
        }
        if (!*k->stream && h && h->n_streams)
            snprintf(k->stream, sizeof k->stream, "%s", h->streams[0]);
        meeting_load(k);
        console_redraw(k);
        return;
    }
    if (k->role != WHISTLE__V1__ROLE__ROLE_OPERATOR && k->role != WHISTLE__V1__ROLE__ROLE_ADMIN) {
        snprintf(k->net_err, sizeof k->net_err,
                 meeting_role_ok(k->role)
                     ? _("whistle-console is the command center's screen, for operators; %s is a %s: "
                         "whistle-console --meeting N shows a meeting of a body it sits on")
                     : _("whistle-console is the command center's screen, for operators; %s is a %s (whistle watch "
                         "follows any principal's stream)"),
                 k->who, whistle_role_name(k->role));
        k->fatal = true;
        console_quit(k);
        return;
    }
    if (!*k->stream) {
        if (h && h->n_streams)
            snprintf(k->stream, sizeof k->stream, "%s", h->streams[0]);
        else {
            snprintf(k->net_err, sizeof k->net_err,
                     _("principal %s has no stream of its own: give --stream street:<code>"), k->who);
            k->fatal = true;
            console_quit(k);
            return;
        }
    }
    load_all(k);
    console_redraw(k);
}

static void on_down(whistle_session *s, int status, const char *why, void *ud)
{
    console *k = ud;
    (void)s;
    if (status < 0 && *why) {
        snprintf(k->net_err, sizeof k->net_err, "%s", why);
        shell_log(true, "connection: %s", why);
    } else if (!*k->net_err)
        snprintf(k->net_err, sizeof k->net_err, "%s", _("the connection closed"));
    console_redraw(k);
}

void net_start(console *k)
{
    whistle_session_cbs cbs = { on_ready, on_live, on_push, on_down };
    k->settings.opts.client_name = "whistle-console/" WHISTLE_VERSION;
    int r = whistle_session_open(k->loop, &k->settings.opts, &cbs, k, &k->session);
    if (r < 0) {
        snprintf(k->net_err, sizeof k->net_err, "%s", whistle_strerror(r));
        k->fatal = true;
        console_quit(k);
    }
}

void net_stop(console *k)
{
    net_ack(k);
    whistle_session_close(k->session);
    k->session = NULL;
}

/* ------------------------------------------------------------ clock, statistics */

static void on_pong(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    console *k = ud;
    (void)c;
    if (status < 0 || !resp)
        return;
    if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_PING) {
        int64_t now = shell_clock_ms(), sent = resp->ping->sent_ms;
        k->offset_ms = resp->ping->server_ms - (sent + (now - sent) / 2);
    }
    whistle_response_free(resp);
}

void net_ping(console *k)
{
    whistle_conn *c = whistle_session_conn(k->session);
    if (!c)
        return;
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    p.sent_ms = shell_clock_ms();
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PING);
    req.ping = &p;
    whistle_conn_send(c, &req, on_pong, k);
}

static void on_stats(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    /* the low two bits of ud say which: 0 departments, 1 places, 2 the archive */
    console *k = (console *)((uintptr_t)ud & ~(uintptr_t)3);
    unsigned which = (unsigned)((uintptr_t)ud & 3);
    (void)c;
    if (status < 0 || !resp)
        return;
    if (whistle_response_code(resp) != WHISTLE__V1__STATUS__CODE__OK) {
        whistle_response_free(resp);
        return;
    }
    Whistle__V1__Response **slot = which == 2 ? &k->stats_archive : which == 1 ? &k->stats_places : &k->stats_depts;
    whistle_response_free(*slot);
    *slot = resp;
    console_redraw(k);
}

void net_refresh_stats(console *k)
{
    if (net_state(k) != WHISTLE_SESSION_LIVE)
        return;
    if (k->mt.id || (k->role != WHISTLE__V1__ROLE__ROLE_OPERATOR && k->role != WHISTLE__V1__ROLE__ROLE_ADMIN))
        return;
    k->stats_dirty = false;
    /* this month, on the server's clock */
    time_t secs = (time_t)(console_now(k) / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char from[40];
    snprintf(from, sizeof from, "%04d-%02d-01", tm.tm_year + 1900, tm.tm_mon + 1);
    for (int places = 0; places < 2; places++) {
        Whistle__V1__GetStats g = WHISTLE__V1__GET_STATS__INIT;
        g.by = places ? (strlen(k->scope) == 6 ? WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT
                                               : WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_STREET)
                      : WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT;
        g.period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
        g.from = from;
        char *code = k->scope;
        if (places && *k->scope) {
            g.codes = &code;
            g.n_codes = 1;
        }
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(GET_STATS);
        req.get_stats = &g;
        whistle_conn_send(whistle_session_conn(k->session), &req, on_stats, (void *)((uintptr_t)k | (uintptr_t)places));
    }
    /* the archive's counts of the operator's street (admins: none of their
     * own; refused, the line stays away) */
    if (k->role == WHISTLE__V1__ROLE__ROLE_OPERATOR) {
        Whistle__V1__GetArchiveStats ga = WHISTLE__V1__GET_ARCHIVE_STATS__INIT;
        ga.from = from;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(GET_ARCHIVE_STATS);
        req.get_archive_stats = &ga;
        whistle_conn_send(whistle_session_conn(k->session), &req, on_stats, (void *)((uintptr_t)k | (uintptr_t)2));
    }
}

/* ------------------------------------------------------------ the communities' wishes */

static void on_wishes(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    console *k = ud;
    (void)c;
    if (status < 0 || !resp)
        return;
    if (whistle_response_code(resp) != WHISTLE__V1__STATUS__CODE__OK || k->n_wishes >= MAX_WISH_COMMUNITIES) {
        whistle_response_free(resp);
        return;
    }
    k->wishes[k->n_wishes++] = resp;
    console_redraw(k);
}

void net_refresh_wishes(console *k)
{
    if (net_state(k) != WHISTLE_SESSION_LIVE)
        return;
    for (size_t i = 0; i < k->n_wishes; i++)
        whistle_response_free(k->wishes[i]);
    k->n_wishes = 0;
    size_t sent = 0;
    for (size_t i = 0; i < k->n_nodes && sent < MAX_WISH_COMMUNITIES; i++) {
        const char *code = k->nodes[i].code;
        if (strlen(code) != 12 || strncmp(code, k->scope, strlen(k->scope)) != 0)
            continue;
        Whistle__V1__ListWishes l = WHISTLE__V1__LIST_WISHES__INIT;
        l.community = (char *)code;
        l.limit = 500;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(LIST_WISHES);
        req.list_wishes = &l;
        if (whistle_conn_send(whistle_session_conn(k->session), &req, on_wishes, k) == 0)
            sent++;
    }
}

/* ------------------------------------------------------------ calls for the keys */

typedef struct act {
    console *k;
    char what[120];
} act;

static void on_act(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    act *a = ud;
    console *k = a->k;
    (void)c;
    if (status < 0 || !resp) {
        console_status(k, _("%s: the connection closed before the answer; check, then try again"), a->what);
        free(a);
        console_redraw(k);
        return;
    }
    int code = whistle_response_code(resp);
    if (code != WHISTLE__V1__STATUS__CODE__OK && k->mt.id) {
        /* the rule it broke, in the server's words (they name the rule) */
        console_status(k, _("%s: refused: %s"), a->what, whistle_response_message(resp));
    } else if (code != WHISTLE__V1__STATUS__CODE__OK) {
        console_status(k, "%s: %s: %s", a->what, whistle_code_name(code), whistle_response_message(resp));
    } else {
        if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_MEETING && resp->meeting)
            meeting_put(k, resp->meeting);
        if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_EVENT)
            model_put_event(k, resp->event);
        else if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_ORDER)
            model_put_order(k, resp->order);
        else if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_WHISTLE && resp->whistle) {
            model_put_event(k, resp->whistle->event);
            for (size_t i = 0; i < resp->whistle->n_orders; i++)
                model_put_order(k, resp->whistle->orders[i]);
        }
        console_status(k, _("%s: done"), a->what);
    }
    whistle_response_free(resp);
    free(a);
    console_redraw(k);
}

static void act_send(console *k, Whistle__V1__Request *req, const char *fmt, const char *arg)
{
    act *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->k = k;
    snprintf(a->what, sizeof a->what, fmt, arg);
    whistle_conn *c = whistle_session_conn(k->session);
    if (!c) {
        console_status(k, _("%s: not connected; nothing was sent"), a->what);
        free(a);
        return;
    }
    /* A fresh key: a retry by hand after a lost answer would be a new
     * write, which the state rules then refuse or accept as they should. */
    char key[33];
    if (whistle_idempotency_key(key, sizeof key) == 0)
        req->idempotency_key = key;
    if (whistle_conn_send(c, req, on_act, a) < 0) {
        console_status(k, _("%s: not sent: %s"), a->what, whistle_conn_error(c));
        free(a);
        return;
    }
    console_status(k, _("%s..."), a->what);
}

void net_send_act(console *k, Whistle__V1__Request *req, const char *what) { act_send(k, req, "%s", what); }

void net_file(console *k, const char *ticket)
{
    Whistle__V1__FileEvent f = WHISTLE__V1__FILE_EVENT__INIT;
    f.ticket = (char *)ticket;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(FILE);
    req.file = &f;
    act_send(k, &req, _("file %s"), ticket);
}

void net_reject(console *k, const char *ticket, const char *reason)
{
    Whistle__V1__RejectEvent r = WHISTLE__V1__REJECT_EVENT__INIT;
    r.ticket = (char *)ticket;
    r.reason = (char *)reason;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REJECT);
    req.reject = &r;
    act_send(k, &req, _("reject %s"), ticket);
}

void net_assign(console *k, const char *ticket, const char *who)
{
    Whistle__V1__AssignEvent r = WHISTLE__V1__ASSIGN_EVENT__INIT;
    r.ticket = (char *)ticket;
    r.assignee = (char *)who;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(ASSIGN);
    req.assign = &r;
    act_send(k, &req, _("assign %s"), ticket);
}

void net_whistle(console *k, const char *ticket, const char *depts, Whistle__V1__WhistleKind kind)
{
    char *copy = strdup(depts), *list[32];
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok && n < 32; tok = strtok_r(NULL, ", ", &save))
        list[n++] = tok;
    Whistle__V1__WhistleEvent w = WHISTLE__V1__WHISTLE_EVENT__INIT;
    w.ticket = (char *)ticket;
    w.departments = list;
    w.n_departments = n;
    w.kind = kind;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(WHISTLE);
    req.whistle = &w;
    act_send(k, &req, _("whistle %s"), ticket);
    free(copy);
}

void net_close_case(console *k, const char *ticket)
{
    Whistle__V1__CloseEvent r = WHISTLE__V1__CLOSE_EVENT__INIT;
    r.ticket = (char *)ticket;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(CLOSE);
    req.close = &r;
    act_send(k, &req, _("close %s"), ticket);
}

void net_verify(console *k, const char *ticket)
{
    Whistle__V1__VerifyEvent r = WHISTLE__V1__VERIFY_EVENT__INIT;
    r.ticket = (char *)ticket;
    r.pass = 1;
    r.note = (char *)_("verified from the command center");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(VERIFY);
    req.verify = &r;
    act_send(k, &req, _("verify %s"), ticket);
}

void net_decide(console *k, uint64_t order, bool approve, const char *note)
{
    Whistle__V1__DecideExtension d = WHISTLE__V1__DECIDE_EXTENSION__INIT;
    d.order_id = order;
    d.approve = approve;
    d.note = (char *)(note ? note : "");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(DECIDE_EXTENSION);
    req.decide_extension = &d;
    char id[32];
    snprintf(id, sizeof id, "#%llu", (unsigned long long)order);
    act_send(k, &req, approve ? _("approve the extension of %s") : _("refuse the extension of %s"), id);
}

void net_park(console *k, const char *ticket, bool park, const char *reason)
{
    Whistle__V1__ParkEvent p = WHISTLE__V1__PARK_EVENT__INIT;
    Whistle__V1__UnparkEvent u = WHISTLE__V1__UNPARK_EVENT__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    if (park) {
        p.ticket = (char *)ticket;
        p.reason = (char *)reason;
        req.call_case = CALL(PARK);
        req.park = &p;
    } else {
        u.ticket = (char *)ticket;
        req.call_case = CALL(UNPARK);
        req.unpark = &u;
    }
    act_send(k, &req, park ? _("park %s") : _("unpark %s"), ticket);
}
