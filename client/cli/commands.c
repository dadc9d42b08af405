/* commands.c: the CLI's commands for cases, dispatch orders, the directory
 * and the session. Most are rows of the table at the end: the call, the
 * arguments bound to its fields, a builder for the rest, and a printer or
 * a listing (call.c runs them); watch, ping, hello and whistle have run
 * functions of their own. */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "whistle/geo.h"

/* ---------------------------------------------------------------- arguments */

static int parse_limit(const args *a, uint32_t *out)
{
    const char *s = cli_opt(a, "limit");
    uint64_t v = 0;
    if (s && (cli_parse_u64(s, 100000, &v) < 0 || v == 0))
        return cli_usage_error(_("%s: bad --limit '%s' (a positive number; the server caps it at 500)"), a->c->name, s);
    *out = (uint32_t)v;
    return 0;
}

/* ---------------------------------------------------------------- printing */

static const char *priority_word(Whistle__V1__Priority p)
{
    return p == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED ? "normal" : whistle_priority_name(p);
}

static const char *kind_word(Whistle__V1__WhistleKind k)
{
    return k == WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_UNSPECIFIED ? "routine" : whistle_kind_name(k);
}

/* The ticket first: `whistle report ... | awk '{print $1}'` works in any
 * language (-q is the way for scripts, but this has been used). */
static void print_ticket_line(const Whistle__V1__Event *e)
{
    printf("%s  %s\n", e->ticket, cli_word(whistle_state_name(e->state)));
}

/* "0401 占道经营": a code with its name when the directory has one. */
static const char *named(char *buf, size_t len, const char *code, const char *name)
{
    if (name && *name && strcmp(name, code) != 0)
        snprintf(buf, len, "%s %s", code, name);
    else
        snprintf(buf, len, "%s", code ? code : "");
    return buf;
}

/* The case for people: its fields in the locale's language, the codes of
 * its place, category and departments with their names. The timeline's
 * notes are the server's (and the people's) own words. */
static void print_event(cli *x, const Whistle__V1__Event *e)
{
    char buf[1024], t[64], n1[256], n2[256];
    kv_print(stdout, _("ticket"), e->ticket, true);
    kv_print(stdout, _("state"), cli_word(whistle_state_name(e->state)), true);
    kv_print(stdout, _("source"), cli_word(whistle_source_name(e->source)), true);
    kv_print(stdout, _("category"), named(n1, sizeof n1, e->category, cli_category_name(x, e->category)), true);
    named(n1, sizeof n1, e->node, cli_node_name(x, e->node));
    if (e->street && *e->street && strcmp(e->street, e->node) != 0)
        snprintf(buf, sizeof buf, _("%s (street %s)"), n1,
                 named(n2, sizeof n2, e->street, cli_node_name(x, e->street)));
    else
        snprintf(buf, sizeof buf, "%s", n1);
    kv_print(stdout, _("node"), buf, true);
    kv_print(stdout, _("priority"), cli_word(priority_word(e->priority)), true);
    kv_print(stdout, _("description"), e->description, true);
    kv_print(stdout, _("contact"), e->contact, false);
    kv_print(stdout, _("external id"), e->external_id, false);
    if (e->has_location) {
        snprintf(buf, sizeof buf, "%.6f, %.6f", e->lat, e->lon);
        kv_print(stdout, _("location"), buf, true);
    }
    /* the answers to the category's attributes: "code: value, value" */
    for (size_t i = 0; i < e->n_attributes; i++) {
        const Whistle__V1__AttributeAnswer *an = e->attributes[i];
        size_t o = (size_t)snprintf(buf, sizeof buf, "%s:", an->code);
        for (size_t v = 0; v < an->n_values && o < sizeof buf; v++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s %s", v ? "," : "", an->values[v]);
        kv_print(stdout, i ? "" : _("attributes"), buf, true);
    }
    /* photos: one line each, "id  stage  WxH  size  taken" (whistle photo get ID) */
    for (size_t i = 0; i < e->n_photos; i++) {
        const Whistle__V1__PhotoAttachment *ph = e->photos[i];
        const char *stage = ph->stage == WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_REPORT     ? C_("photo", "report")
                            : ph->stage == WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_FEEDBACK ? C_("photo", "feedback")
                            : ph->stage == WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_VERIFY   ? C_("photo", "verify")
                                                                                          : "?";
        size_t o = (size_t)snprintf(buf, sizeof buf, "#%llu  %s  %ux%u  %llu KiB  %s", (unsigned long long)ph->id,
                                    stage, ph->width, ph->height, (unsigned long long)(ph->bytes + 1023) / 1024,
                                    ph->by ? ph->by : "");
        if (ph->order_id && o < sizeof buf)
            o += (size_t)snprintf(buf + o, sizeof buf - o, _("  order %llu"), (unsigned long long)ph->order_id);
        if (ph->taken_ms && o < sizeof buf)
            snprintf(buf + o, sizeof buf - o, _("  taken %s"), cli_local_time(ph->taken_ms, true, t, sizeof t));
        kv_print(stdout, i ? "" : _("photos"), buf, true);
    }
    if (!e->n_photos && e->photo_count) {
        snprintf(buf, sizeof buf, "%u", e->photo_count);
        kv_print(stdout, _("photos"), buf, true);
    }
    kv_print(stdout, _("reporter"), e->reporter, false);
    kv_print(stdout, _("assignee"), e->assignee, false);
    kv_print(stdout, _("created"), cli_local_time(e->created_ms, true, t, sizeof t), true);
    kv_print(stdout, _("updated"), cli_local_time(e->updated_ms, true, t, sizeof t), true);
    kv_print(stdout, _("reject reason"), e->reject_reason, false);
    kv_print(stdout, _("resolution"), e->resolution, false);
    if (e->n_order_ids || (e->lead_department && *e->lead_department)) {
        kv_print(stdout, _("whistle kind"), cli_word(kind_word(e->whistle_kind)), true);
        if (e->lead_department && *e->lead_department)
            kv_print(stdout, _("lead department"),
                     named(n1, sizeof n1, e->lead_department, cli_department_name(x, e->lead_department)), true);
        size_t o = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < e->n_order_ids && o + 24 < sizeof buf; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%" PRIu64, i ? ", " : "", e->order_ids[i]);
        kv_print(stdout, _("orders"), buf, false);
    }
    if (e->rating) {
        snprintf(buf, sizeof buf, "%u/5%s%s", e->rating, e->rating_comment && *e->rating_comment ? "  " : "",
                 e->rating_comment ? e->rating_comment : "");
        kv_print(stdout, _("rating"), buf, true);
    }
    if (e->rework_count) {
        snprintf(buf, sizeof buf, "%u", e->rework_count);
        kv_print(stdout, _("rework"), buf, true);
    }
    /* deadlines and the exception flow (docs/deadlines.md) */
    if (e->due_ms) {
        cli_local_time(e->due_ms, false, t, sizeof t);
        if (e->due_passed)
            snprintf(buf, sizeof buf, _("%s  (passed before it closed)"), t);
        else
            snprintf(buf, sizeof buf, "%s", t);
        kv_print(stdout, _("due"), buf, true);
    }
    if (e->parked) {
        snprintf(buf, sizeof buf, _("since %s: %s"), cli_local_time(e->parked_ms, false, t, sizeof t), e->park_reason);
        kv_print(stdout, _("parked"), buf, true);
    }
    kv_print(stdout, _("merged into"), e->merged_into, false);
    for (size_t i = 0; i < e->n_merged; i++)
        kv_print(stdout, i ? "" : _("merged"), e->merged[i], true);
    for (size_t i = 0; i < e->n_followers; i++)
        kv_print(stdout, i ? "" : _("followers"), e->followers[i], true);
    if (e->reopen_count) {
        snprintf(buf, sizeof buf, "%u", e->reopen_count);
        kv_print(stdout, _("reopened"), buf, true);
    }
    if (e->n_timeline) {
        fputs("\n", stdout);
        static const char *const h[] = { N_("TIME"), N_("ACTOR"), N_("ACTION"), N_("STATE"), N_("NOTE") };
        table tb;
        table_init(&tb, 5, h);
        for (size_t i = 0; i < e->n_timeline; i++) {
            const Whistle__V1__TimelineEntry *te = e->timeline[i];
            char note[1024], said[1024];
            const char *text = cli_timeline_note(te->action, te->note, said, sizeof said);
            if (te->department && *te->department)
                snprintf(note, sizeof note, "[%s #%" PRIu64 "] %s",
                         cli_or(cli_department_name(x, te->department), te->department), te->order_id, text);
            else
                snprintf(note, sizeof note, "%s", text);
            const char *row[] = { cli_local_time(te->at_ms, true, t, sizeof t), te->actor, cli_action_word(te->action),
                                  cli_word(whistle_state_name(te->state)), note };
            table_add(&tb, row);
        }
        table_print(&tb, stdout);
        table_free(&tb);
    }
}

/* Whether the order missed a deadline of kind (a prefix: "check_in"
 * also takes "check_in_follow_up"). */
static bool missed(const Whistle__V1__Order *o, const char *kind)
{
    for (size_t i = 0; i < o->n_misses; i++)
        if (strncmp(o->misses[i]->kind, kind, strlen(kind)) == 0)
            return true;
    return false;
}

/* One deadline's cell: when it falls while it runs ("!" once missed),
 * "✓ time" once met, "" when there is none (returned, or no limit). */
static const char *due_cell(char *buf, size_t len, int64_t due_ms, bool running, int64_t met_ms, bool miss)
{
    char d[64];
    if (met_ms)
        snprintf(buf, len, "✓ %s%s", cli_local_time(met_ms, false, d, sizeof d), miss ? " !" : "");
    else if (running && due_ms)
        snprintf(buf, len, "%s%s", cli_local_time(due_ms, false, d, sizeof d), miss ? " !" : "");
    else
        buf[0] = '\0';
    return buf;
}

static void order_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Order *o = item;
    char id[24], t[64], ci[80], rs[96];
    snprintf(id, sizeof id, "%" PRIu64, o->id);
    bool pending = o->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
    bool in = o->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN;
    bool done = o->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_DONE;
    /* Two deadlines, each in its own column: the check-in (报到) and the
     * resolve (办结); "!" marks one that was missed. */
    due_cell(ci, sizeof ci, o->check_in_due_ms, pending, pending ? 0 : o->checked_in_ms, missed(o, "check_in"));
    due_cell(rs, sizeof rs, o->resolve_due_ms, pending || in, done ? o->done_ms : 0,
             missed(o, "resolve") || missed(o, "follow_up") || missed(o, "stage"));
    if (o->escalated) {
        size_t n = strlen(rs);
        snprintf(rs + n, sizeof rs - n, "%s", _(" (district)"));
    }
    const char *row[] = { id,
                          o->ticket,
                          cli_or(cli_department_name(x, o->department), o->department),
                          cli_word(whistle_order_state_name(o->state)),
                          o->lead ? _("lead") : "",
                          cli_word(kind_word(o->kind)),
                          cli_local_time(o->created_ms, false, t, sizeof t),
                          ci,
                          rs };
    table_add(tb, row);
}

static const char *order_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__Order *)item)->id);
    return buf;
}

static const char *const order_header[] = { N_("ORDER"), N_("TICKET"),  N_("DEPARTMENT"),  N_("STATE"),     N_("LEAD"),
                                            N_("KIND"),  N_("CREATED"), N_("CHECK IN BY"), N_("RESOLVE BY") };

/* A department's name in a table: long in English, so cut. */
#define DEPT_COLS 20

/* `whistle orders`, and the orders a whistle made. */
static const cli_list orders_list = {
    .items = "orders",
    .cursor = "after_id",
    .next = "next_after_id",
    .json_next = true,
    .more = N_("(more orders: use --all)"),
    .table = { 9, order_header, { { 2, DEPT_COLS } } },
    .row = order_row,
    .id = order_id,
};

/* ---------------------------------------------------------------- printers */

/* A write's case: its ticket (-q), or the ticket and its state. */
static void print_event_line(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    if (x->quiet)
        printf("%s\n", resp->event->ticket);
    else
        print_ticket_line(resp->event);
}

/* show: the ticket (-q), or the whole case. */
static void print_event_show(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    if (x->quiet)
        printf("%s\n", resp->event->ticket);
    else
        print_event(x, resp->event);
}

/* lookup: the whole case, -q or not. */
static void print_event_full(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    print_event(x, resp->event);
}

/* An order's write: its id (-q), or the id and ticket first, as the case's
 * line has the ticket first. */
static void print_order_line(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__Order *o = resp->order;
    if (x->quiet)
        printf("%" PRIu64 "\n", o->id);
    else
        printf(_("order %llu  %s  %s  %s\n"), (unsigned long long)o->id, o->ticket,
               cli_or(cli_department_name(x, o->department), o->department),
               cli_word(whistle_order_state_name(o->state)));
}

/* ---------------------------------------------------------------- cases */

/* --attr CODE=VALUE, repeated (joined by ','): the answers to the
 * category's attributes; a multivaluelist's keys joined by '+'. 0, or -1
 * for a malformed one. */
static int build_answers(args *a, Whistle__V1__ReportEvent *r, const char *joined)
{
    size_t n;
    char **items = cli_split(a, joined, ",", SIZE_MAX, &n);
    if (!items || !n)
        return -1;
    /* one block: the pointers, then the answers */
    void *block = calloc(n, sizeof *r->attributes + sizeof **r->attributes);
    if (!block)
        return -1;
    cli_keep(a, block, free);
    r->attributes = block;
    Whistle__V1__AttributeAnswer *answers = (Whistle__V1__AttributeAnswer *)(r->attributes + n);
    for (size_t i = 0; i < n; i++) {
        char *eq = strchr(items[i], '=');
        if (!eq || eq == items[i] || !eq[1])
            return -1;
        *eq = 0;
        Whistle__V1__AttributeAnswer *an = &answers[i];
        whistle__v1__attribute_answer__init(an);
        an->code = items[i];
        size_t nv;
        an->values = cli_split(a, eq + 1, "+", SIZE_MAX, &nv);
        if (!an->values || !nv)
            return -1;
        an->n_values = nv;
        r->attributes[r->n_attributes++] = an;
    }
    return 0;
}

static int build_report(cli *x, args *a, void *msg)
{
    Whistle__V1__ReportEvent *r = msg;
    const char *s;
    if ((s = cli_opt(a, "priority")) && whistle_priority_parse(s, &r->priority) < 0)
        return cli_usage_error(_("report: bad --priority '%s' (low, normal, high, urgent)"), s);
    if ((s = cli_opt(a, "source")) && whistle_source_parse(s, &r->source) < 0)
        return cli_usage_error(_("report: bad --source '%s' (kiosk, patrol, resident, hotline, sensor, "
                                 "emergency_call)"),
                               s);
    const char *lat = cli_opt(a, "lat"), *lon = cli_opt(a, "lon");
    if (!lat != !lon)
        return cli_usage_error(_("report: --lat and --lon go together"));
    if (!cli_opt(a, "node") && !lat)
        return cli_usage_error(_("report: give the place, --node CODE, or where it is, --lat and --lon"));
    const char *at = cli_opt(a, "attr");
    if (at && build_answers(a, r, at) != 0)
        return cli_usage_error(_("report: bad --attr '%s' (CODE=VALUE; several values of a list: CODE=A+B)"), at);
    if (lat) {
        char *e1, *e2;
        r->lat = strtod(lat, &e1);
        r->lon = strtod(lon, &e2);
        if (*e1 || *e2 || !*lat || !*lon || !isfinite(r->lat) || !isfinite(r->lon) || fabs(r->lat) > 90 ||
            fabs(r->lon) > 180)
            return cli_usage_error(_("report: bad --lat/--lon '%s' '%s' (WGS84 degrees)"), lat, lon);
        r->has_location = 1;
        if (cli_flag(a, "gcj02"))
            whistle_gcj02_to_wgs84(r->lat, r->lon, &r->lat, &r->lon);
    } else if (cli_flag(a, "gcj02")) {
        return cli_usage_error(_("report: --gcj02 goes with --lat and --lon"));
    }
    return cli_photos_for(x, a, &r->photos, &r->n_photos);
}

static int build_feedback(cli *x, args *a, void *msg)
{
    Whistle__V1__Feedback *f = msg;
    return cli_photos_for(x, a, &f->photos, &f->n_photos);
}

static int build_verify(cli *x, args *a, void *msg)
{
    Whistle__V1__VerifyEvent *v = msg;
    return cli_photos_for(x, a, &v->photos, &v->n_photos);
}

/* ---------------------------------------------------------------- places */

static int build_locate(cli *x, args *a, void *msg)
{
    Whistle__V1__LocatePlace *l = msg;
    char *e1, *e2;
    l->lat = strtod(a->pos[0], &e1);
    l->lon = strtod(a->pos[1], &e2);
    if (*e1 || *e2 || !*a->pos[0] || !*a->pos[1] || !isfinite(l->lat) || !isfinite(l->lon) || fabs(l->lat) > 90 ||
        fabs(l->lon) > 180)
        return cli_usage_error(_("locate: bad point '%s' '%s' (WGS84 degrees: latitude, then longitude)"), a->pos[0],
                               a->pos[1]);
    if (cli_flag(a, "gcj02"))
        whistle_gcj02_to_wgs84(l->lat, l->lon, &l->lat, &l->lon);
    return 0;
}

/* The grid's code, then its path from the district down. */
static void print_place(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__LocatePlaceResult *p = resp->place;
    if (x->quiet) {
        printf("%s\n", p->node->code);
        return;
    }
    printf("%s ", p->node->code);
    for (size_t i = 0; i < p->n_path; i++)
        printf("%s%s", i ? " › " : " ", uitext_pick(p->path[i]->name_zh, p->path[i]->name_en));
    printf("\n");
}

static void event_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Event *e = item;
    char t[64];
    const char *row[] = { e->ticket,
                          cli_word(whistle_state_name(e->state)),
                          cli_or(cli_category_name(x, e->category), e->category),
                          cli_or(cli_node_name(x, e->node), e->node),
                          cli_word(priority_word(e->priority)),
                          cli_local_time(e->created_ms, false, t, sizeof t),
                          e->description };
    table_add(tb, row);
}

static const char *event_ticket(const void *item, char *buf, size_t len)
{
    return ((const Whistle__V1__Event *)item)->ticket;
}

/* The category and the place by name (show gives the codes), cut so that
 * the description keeps some room. */
static const char *const event_header[] = { N_("TICKET"),   N_("STATE"),   N_("CATEGORY"),   N_("PLACE"),
                                            N_("PRIORITY"), N_("CREATED"), N_("DESCRIPTION") };

static const cli_list events_list = {
    .items = "events",
    .cursor = "cursor",
    .next = "next_cursor",
    .json_next = true,
    .more = N_("(more cases: use --all)"),
    .table = { 7, event_header, { { 2, 20 }, { 3, 20 } } },
    .row = event_row,
    .id = event_ticket,
};

/* A day as people write it, YYYY-MM-DD, in local time: its first
 * millisecond, or -1. */
static int64_t day_start_ms(const char *s)
{
    int y, m, d, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] || m < 1 || m > 12 || d < 1 || d > 31 || y < 1970)
        return -1;
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* 2026-02-30 rolled over */
        return -1;
    return (int64_t)t * 1000;
}

static int build_list(cli *x, args *a, void *msg)
{
    Whistle__V1__ListEvents *l = msg;
    const char *s;
    /* "open": every state but rejected and closed */
    if ((s = cli_opt(a, "state")) && strcmp(s, "open") == 0)
        l->open = 1;
    else if (s && whistle_state_parse(s, &l->state) < 0)
        return cli_usage_error(_("list: bad --state '%s' (open, reported, filed, rejected, handling, whistled, "
                                 "resolved, verified, closed)"),
                               s);
    if ((s = cli_opt(a, "category"))) {
        size_t n = strlen(s);
        if ((n != 2 && n != 4) || strspn(s, "0123456789") != n)
            return cli_usage_error(_("list: bad --category '%s' (a category, 4 digits, or its class, 2 digits; see "
                                     "whistle categories)"),
                                   s);
        l->category = (char *)s;
    }
    int64_t from = 0, to = 0;
    if ((s = cli_opt(a, "since")) && (from = day_start_ms(s)) < 0)
        return cli_usage_error(_("list: bad --since '%s' (a day, YYYY-MM-DD)"), s);
    if ((s = cli_opt(a, "until"))) {
        char next[16];
        int y, m, d;
        if (day_start_ms(s) < 0 || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
            return cli_usage_error(_("list: bad --until '%s' (a day, YYYY-MM-DD)"), s);
        /* to the end of that day: the next one's start (mktime rolls
         * 2026-12-32 over into January) */
        struct tm tm = { 0 };
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d + 1;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        strftime(next, sizeof next, "%Y-%m-%d", &tm);
        to = t == (time_t)-1 ? -1 : day_start_ms(next);
    }
    if (from && to && to <= from)
        return cli_usage_error(_("list: --since %s is after --until %s"), cli_opt(a, "since"), cli_opt(a, "until"));
    l->created_from_ms = from;
    l->created_to_ms = to;
    l->newest_first = !cli_flag(a, "by-place");
    return parse_limit(a, &l->limit) ? EXIT_USAGE : 0;
}

/* The catalogue's proposal for a case (权责清单): its departments joined by
 * commas (kept by a, "" if none) and the lead (kept, or NULL). Prints it
 * unless quiet. */
static int propose(cli *x, args *a, const char *ticket, const char **depts, const char **lead)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__ProposeDepartments *p = cli_request_new(&req, WHISTLE__V1__REQUEST__CALL_PROPOSE_DEPARTMENTS, a);
    if (!p)
        return EXIT_CONN;
    p->ticket = (char *)ticket;
    Whistle__V1__Response *resp;
    int rc = cli_call(x, &req, &resp);
    if (rc)
        return rc;
    const Whistle__V1__DepartmentProposal *dp = resp->proposal;
    size_t len = 1;
    for (size_t i = 0; dp && i < dp->n_departments; i++)
        len += strlen(dp->departments[i]) + 1;
    char *d = cli_keep(a, calloc(1, len), free);
    for (size_t i = 0; d && dp && i < dp->n_departments; i++) {
        if (i)
            strcat(d, ",");
        strcat(d, dp->departments[i]);
    }
    *depts = d ? d : "";
    *lead = cli_keep(a, strdup(dp && dp->lead ? dp->lead : ""), free);
    if (dp) {
        /* The codes: what --dept takes, to whistle otherwise. */
        if (x->json)
            cli_print_json(resp);
        else if (!dp->n_departments)
            fprintf(stderr, _("the catalogue proposes for category %s: no department\n"), dp->category);
        else if (*dp->lead)
            fprintf(stderr, _("the catalogue proposes for category %s: %s (lead %s)\n"), dp->category, *depts,
                    dp->lead);
        else
            fprintf(stderr, _("the catalogue proposes for category %s: %s\n"), dp->category, *depts);
    }
    whistle_response_free(resp);
    return 0;
}

static int run_whistle(cli *x, args *a)
{
    const char *proposed = NULL, *proposed_lead = NULL, *ticket;
    int prc = cli_ticket(a, a->pos[0], &ticket);
    if (prc)
        return prc;
    if (cli_flag(a, "propose") || !cli_opt(a, "dept")) {
        /* Without --dept the catalogue decides whom; --propose only shows it. */
        prc = propose(x, a, ticket, &proposed, &proposed_lead);
        if (prc)
            return prc;
        if (cli_flag(a, "propose")) {
            if (!x->json)
                printf("%s\n", proposed);
            return EXIT_OK;
        }
        if (!*proposed)
            return cli_usage_error(_("whistle: the catalogue names no department for this case's category; give "
                                     "--dept"));
    }
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__WhistleEvent *w = cli_request_new(&req, WHISTLE__V1__REQUEST__CALL_WHISTLE, a);
    if (!w)
        return EXIT_CONN;
    w->ticket = (char *)ticket;
    if (proposed_lead && *proposed_lead)
        w->lead = (char *)proposed_lead;
    const char *s;
    if ((s = cli_opt(a, "kind")) && whistle_kind_parse(s, &w->kind) < 0)
        return cli_usage_error(_("whistle: bad --kind '%s' (routine, tackle, emergency)"), s);
    if ((s = cli_opt(a, "lead")))
        w->lead = (char *)s;
    if ((s = cli_opt(a, "note")))
        w->note = (char *)s;
    /* --dept police,urban (or repeated): split on commas, skip blanks. */
    if (!(w->departments = cli_split(a, proposed ? proposed : cli_opt(a, "dept"), ", ", 64, &w->n_departments)))
        return EXIT_CONN;
    if (w->n_departments == 0)
        return cli_usage_error(_("whistle: --dept names no department"));
    Whistle__V1__Response *resp;
    int rc = cli_call(x, &req, &resp);
    if (rc)
        return rc;
    if (x->json)
        cli_print_json(resp);
    else if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_WHISTLE) {
        const Whistle__V1__WhistleResult *wr = resp->whistle;
        if (x->quiet) {
            for (size_t i = 0; i < wr->n_orders; i++)
                printf("%" PRIu64 "\n", wr->orders[i]->id);
        } else if (wr->event)
            printf(_("%s  %s  (%s whistle)\n\n"), wr->event->ticket, cli_word(whistle_state_name(wr->event->state)),
                   cli_word(kind_word(wr->event->whistle_kind)));
        if (!x->quiet)
            cli_list_print(x, &orders_list, (ProtobufCMessage *const *)wr->orders, wr->n_orders);
    }
    whistle_response_free(resp);
    return EXIT_OK;
}

static int build_rate(cli *x, args *a, void *msg)
{
    Whistle__V1__RateEvent *r = msg;
    uint64_t score;
    if (cli_parse_u64(a->pos[1], 5, &score) < 0 || score < 1)
        return cli_usage_error(_("rate: bad score '%s' (1 to 5)"), a->pos[1]);
    r->score = (uint32_t)score;
    return 0;
}

/* ---------------------------------------------------------------- orders */

static int build_orders(cli *x, args *a, void *msg)
{
    Whistle__V1__ListOrders *l = msg;
    const char *s;
    if ((s = cli_opt(a, "state")) && whistle_order_state_parse(s, &l->state) < 0)
        return cli_usage_error(_("orders: bad --state '%s' (pending, checked_in, done, returned)"), s);
    return parse_limit(a, &l->limit) ? EXIT_USAGE : 0;
}

/* The order id's usage error (BIND_ORDER): as typed, with the way to find one. */
#define BAD_ORDER N_("%s: bad order id '%s' (a number, as in `whistle orders`)")

/* ---------------------------------------------------------------- directory */

static int build_nodes(cli *x, args *a, void *msg)
{
    Whistle__V1__ListNodes *l = msg;
    const char *s;
    if ((s = cli_opt(a, "kind")) && whistle_node_kind_parse(s, &l->kind) < 0)
        return cli_usage_error(_("nodes: bad --kind '%s' (district, street, community, grid, building)"), s);
    return 0;
}

/* One name, in the locale's language (--json and admin export give both). */
static void node_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Node *n = item;
    char kind[96];
    snprintf(kind, sizeof kind, "%s%s", cli_word(whistle_node_kind_name(n->kind)), n->retired ? _(" (retired)") : "");
    const char *row[] = { n->code, kind, n->parent, uitext_pick(n->name_zh, n->name_en) };
    table_add(tb, row);
}

static void department_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Department *d = item;
    const char *row[] = { d->code, uitext_pick(d->name_zh, d->name_en) };
    table_add(tb, row);
}

/* A time limit for people, in the largest calendar unit it is a whole
 * number of (120 minutes are 2h, 168 hours 7d), so that one table does
 * not mix 24h and 1d; working hours and days as they are (their length is
 * the calendar's). "" for none; "+" when a priority has limits of its
 * own. */
static const char *limit_text(char *buf, size_t len, uint32_t amount, Whistle__V1__TimeUnit unit, bool own)
{
    static const char *const fmt[] = {
        NULL,
        /* TRANSLATORS: time limits in the categories table: minutes, hours,
         * calendar days, working hours, working days */
        N_("%um"),
        N_("%uh"),
        N_("%ud"),
        N_("%uwh"),
        N_("%uwd"),
    };
    if (!amount || unit <= 0 || (unsigned)unit >= sizeof fmt / sizeof *fmt) {
        buf[0] = '\0';
        return buf;
    }
    if (unit == WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES && amount % 60 == 0) {
        amount /= 60;
        unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    }
    if (unit == WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS && amount % 24 == 0) {
        amount /= 24;
        unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS;
    }
    char n[32];
    snprintf(n, sizeof n, _(fmt[unit]), amount);
    snprintf(buf, len, "%s%s", n, own ? "+" : "");
    return buf;
}

static void category_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Category *c = item;
    char ci[48], rs[48], depts[256];
    /* The default limits (any unit), else the older minute/hour fields;
     * "+" when a priority has limits of its own. A major class (2 digits)
     * takes no cases and has none: blank, not "0m". */
    const Whistle__V1__PriorityLimits *dl = NULL;
    bool own = false;
    for (size_t k = 0; k < c->n_limits; k++) {
        if (c->limits[k]->priority == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED)
            dl = c->limits[k];
        else
            own = true;
    }
    if (dl && dl->check_in && dl->check_in->amount)
        limit_text(ci, sizeof ci, dl->check_in->amount, dl->check_in->unit, own);
    else
        limit_text(ci, sizeof ci, c->check_in_minutes, WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES, own);
    if (dl && dl->resolve && dl->resolve->amount)
        limit_text(rs, sizeof rs, dl->resolve->amount, dl->resolve->unit, own);
    else
        limit_text(rs, sizeof rs, c->resolve_hours, WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS, own);
    size_t o = 0;
    depts[0] = '\0';
    for (size_t k = 0; k < c->n_departments && o < sizeof depts; k++)
        o += (size_t)snprintf(depts + o, sizeof depts - o, "%s%s", k ? "," : "", c->departments[k]);
    const char *row[] = { c->code, ci, rs, depts, uitext_pick(c->name_zh, c->name_en) };
    table_add(tb, row);
}

/* -q: the code, the first column of each of these tables. */
static const char *code_of(const void *item, char *buf, size_t len) { return cli_field_text(item, "code"); }

static const char *const node_header[] = { N_("CODE"), NC_("node", "KIND"), N_("PARENT"), N_("NAME") };
static const char *const department_header[] = { N_("CODE"), N_("NAME") };
static const char *const category_header[] = { N_("CODE"), N_("CHECK-IN"), N_("RESOLVE"), N_("DEPARTMENTS"),
                                               N_("NAME") };

static const cli_list nodes_list = { .items = "nodes", .table = { 4, node_header }, .row = node_row, .id = code_of };
static const cli_list departments_list = {
    .items = "departments", .table = { 2, department_header }, .row = department_row, .id = code_of
};
static const cli_list categories_list = {
    .items = "categories", .table = { 5, category_header }, .row = category_row, .id = code_of
};

/* ---------------------------------------------------------------- session */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int run_ping(cli *x, args *a)
{
    int rc = cli_connect(x);
    if (rc)
        return rc;
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, WHISTLE__V1__REQUEST__CALL_PING, &p);
    p.sent_ms = now_ms();
    double t0 = mono_ms();
    Whistle__V1__Response *resp;
    if ((rc = cli_call(x, &req, &resp)))
        return rc;
    double rtt = mono_ms() - t0;
    int64_t server = resp->result_case == WHISTLE__V1__RESPONSE__RESULT_PING ? resp->ping->server_ms : 0;
    if (x->json) {
        json_t *j = resp->result_case == WHISTLE__V1__RESPONSE__RESULT_PING ? cli_json_message(&resp->ping->base)
                                                                            : json_object();
        json_object_set_new(j, "rtt_ms", json_real(rtt));
        cli_json_print(j);
    } else if (!x->quiet) {
        char t[64];
        /* The server's clock against the midpoint of the round trip. */
        double offset = (double)server - ((double)p.sent_ms + rtt / 2);
        printf(_("pong from %s port %u: %.2f ms; server time %s (offset %+.0f ms)\n"), x->conn.host, x->conn.opts.port,
               rtt, cli_iso_time(server, t, sizeof t), offset);
    }
    whistle_response_free(resp);
    return EXIT_OK;
}

static int run_hello(cli *x, args *a)
{
    int rc = cli_connect(x);
    if (rc)
        return rc;
    const Whistle__V1__HelloResult *h = whistle_hello(x->client);
    if (x->json) {
        cli_json_print(cli_json_message(&h->base));
        return EXIT_OK;
    }
    char buf[1024];
    const Whistle__V1__Principal *p = h->principal;
    if (x->quiet) {
        printf("%s\n", p ? p->name : "");
        return EXIT_OK;
    }
    char n1[256];
    kv_print(stdout, _("principal"), p ? p->name : "", true);
    kv_print(stdout, _("role"), p ? cli_word(whistle_role_name(p->role)) : "", true);
    kv_print(stdout, _("scope"), p ? named(n1, sizeof n1, p->scope, cli_node_name(x, p->scope)) : "", true);
    if (p && *p->department)
        kv_print(stdout, _("department"), named(n1, sizeof n1, p->department, cli_department_name(x, p->department)),
                 true);
    snprintf(buf, sizeof buf, _("%s (protocol %u)"), h->server_version, h->protocol_version);
    kv_print(stdout, _("server"), buf, true);
    snprintf(buf, sizeof buf, _("%s port %u"), x->conn.host, x->conn.opts.port);
    kv_print(stdout, _("connected to"), buf, true);
    snprintf(buf, sizeof buf, ngettext("%u byte", "%u bytes", h->max_frame), h->max_frame);
    kv_print(stdout, _("max frame"), buf, true);
    snprintf(buf, sizeof buf, "%u", h->max_in_flight);
    kv_print(stdout, _("max in flight"), buf, true);
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < h->n_streams && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? ", " : "", h->streams[i]);
    kv_print(stdout, _("streams"), buf, true);
    return EXIT_OK;
}

/* The server's counters since it started (admins): what a monitor or
 * whistle-bench reads; rates come from two readings. */

/* The server's counters since it started (admins): what a monitor or
 * whistle-bench reads; rates come from two readings. */
static void print_server_stats(cli *x, const args *a, const Whistle__V1__Request *req,
                               const Whistle__V1__Response *resp)
{
    const Whistle__V1__ServerStatsResult *r = resp->server_stats;
    if (x->quiet)
        return;
    char buf[256];
    snprintf(buf, sizeof buf, _("%.1f h"), (double)r->uptime_ms / 3.6e6);
    kv_print(stdout, _("uptime"), buf, true);
    snprintf(buf, sizeof buf, _("%u (%u subscriptions)"), r->connections, r->subscriptions);
    kv_print(stdout, _("connections"), buf, true);
    snprintf(buf, sizeof buf, _("%llu in %llu commits (%.1f per commit; largest batch %llu)"),
             (unsigned long long)r->writes, (unsigned long long)r->commits,
             r->commits ? (double)r->writes / (double)r->commits : 0.0, (unsigned long long)r->max_batch);
    kv_print(stdout, _("writes"), buf, true);
    snprintf(buf, sizeof buf, _("%llu (sync %s); %.2f ms per commit"), (unsigned long long)r->fsyncs, r->sync,
             r->commits ? (double)r->commit_us / 1e3 / (double)r->commits : 0.0);
    kv_print(stdout, _("flushes"), buf, true);
    snprintf(buf, sizeof buf, "%" PRIu64, r->failed_commits);
    kv_print(stdout, _("failed commits"), buf, true);
    snprintf(buf, sizeof buf, _("%.1f MiB resident, %.1f MiB of it heap"), (double)r->rss_bytes / 1048576.0,
             (double)r->rss_anon_bytes / 1048576.0);
    kv_print(stdout, _("memory"), buf, true);
    snprintf(buf, sizeof buf, _("%.1f s user, %.1f s system"), (double)r->cpu_user_us / 1e6,
             (double)r->cpu_system_us / 1e6);
    kv_print(stdout, _("cpu"), buf, true);
}

/* ---------------------------------------------------------------- watch */

static volatile sig_atomic_t stop_watch;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_watch = 1;
}

/* The deadline a push's case or order runs against now: an order's
 * check-in while pending, its resolve once checked in; a case's due time
 * while it is open. 0: none. */
static int64_t push_due(const Whistle__V1__Event *e, const Whistle__V1__Order *o)
{
    if (o)
        return o->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING      ? o->check_in_due_ms
               : o->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN ? o->resolve_due_ms
                                                                              : 0;
    if (e && e->state != WHISTLE__V1__EVENT_STATE__EVENT_STATE_CLOSED &&
        e->state != WHISTLE__V1__EVENT_STATE__EVENT_STATE_REJECTED)
        return e->due_ms;
    return 0;
}

/* One line per push, in fixed columns (by display width: the words and
 * the place's name may be Chinese): its number (what --after takes), the
 * time, what happened, the case, the department and order, the state,
 * where (the place's name), by when (the deadline it runs against now),
 * and the description. The department by its code: the line is long
 * enough. */
static void print_push_line(cli *x, const Whistle__V1__Push *p)
{
    char t[64], who[96], action[64], state[64], place[96], due[96], d[64], desc[256];
    const Whistle__V1__Event *e = p->event;
    const Whistle__V1__Order *o = p->order;
    if (o)
        snprintf(who, sizeof who, "%s/%" PRIu64, o->department, o->id);
    else
        snprintf(who, sizeof who, "-");
    uitext_fit(action, sizeof action, cli_action_word(p->action), 10, true);
    uitext_fit(state, sizeof state,
               o   ? cli_word(whistle_order_state_name(o->state))
               : e ? cli_word(whistle_state_name(e->state))
                   : "-",
               10, true);
    /* a deliberation push (docs/deliberation.md) names its meeting or
     * proposal where a case's ticket goes, and its title */
    const Whistle__V1__DelibMeeting *dm = p->delib_meeting;
    const Whistle__V1__DelibProposal *dp = p->delib_proposal;
    char about[48] = "-";
    if (dm)
        snprintf(about, sizeof about, "meeting:%" PRIu64, dm->id);
    else if (dp)
        snprintf(about, sizeof about, "proposal:%" PRIu64, dp->id);
    const char *ticket = e ? e->ticket : o ? o->ticket : about;
    /* the members' stream (docs/volunteers.md): a task or a wish by its number */
    char vid[32];
    if (p->member_task || p->wish) {
        snprintf(vid, sizeof vid, "%s%" PRIu64, p->member_task ? "T" : "W",
                 p->member_task ? p->member_task->id : p->wish->id);
        ticket = vid;
    }
    const char *node = e && *e->node ? e->node : o ? o->node : p->visit_overdue ? p->visit_overdue->node : "";
    uitext_fit(place, sizeof place, *node ? cli_or(cli_node_name(x, node), node) : "-", 16, true);
    int64_t dms = push_due(e, o);
    char by[80];
    if (dms)
        snprintf(by, sizeof by, _("due %s"), cli_local_time(dms, false, d, sizeof d));
    else
        snprintf(by, sizeof by, "-");
    uitext_fit(due, sizeof due, by, 21, true);
    /* uitext_fit draws a control character as a space: one push, one line. */
    uitext_fit(desc, sizeof desc,
               e                ? e->description
               : o              ? o->description
               : dm             ? dm->title
               : dp             ? dp->title
               : p->member_task ? p->member_task->title
               : p->wish        ? p->wish->public_text
                                : "",
               60, false);
    printf("%-6" PRIu64 "  %s  %s  %-14s  %-16s  %s  %s  %s  %s\n", p->seq, cli_local_time(p->at_ms, true, t, sizeof t),
           action, ticket, who, state, place, due, desc);
}

/* A stream for people: "Police station (dept:police)", "Jianwai
 * Subdistrict (street:110105001)"; the name as it is when none is had. */
static const char *stream_title(cli *x, const char *stream, char *buf, size_t len)
{
    const char *colon = strchr(stream, ':');
    const char *name = NULL;
    if (colon && strncmp(stream, "dept:", 5) == 0)
        name = cli_department_name(x, colon + 1);
    else if (colon)
        name = cli_node_name(x, colon + 1);
    if (name && *name)
        snprintf(buf, len, "%s (%s)", name, stream);
    else
        snprintf(buf, len, "%s", stream);
    return buf;
}

static int run_watch(cli *x, args *a)
{
    Whistle__V1__Subscribe s = WHISTLE__V1__SUBSCRIBE__INIT;
    const char *v;
    if ((v = cli_opt(a, "stream")))
        s.stream = (char *)v;
    if ((v = cli_opt(a, "after"))) {
        if (cli_parse_u64(v, UINT64_MAX, &s.after_seq) < 0)
            return cli_usage_error(_("watch: bad --after '%s' (a sequence number)"), v);
    } else
        s.from_cursor = 1; /* resume after what was acknowledged */
    uint64_t count = 0;
    if ((v = cli_opt(a, "count")) && (cli_parse_u64(v, UINT64_MAX, &count) < 0 || count == 0))
        return cli_usage_error(_("watch: bad --count '%s' (a positive number)"), v);
    bool ack = !cli_flag(a, "no-ack");

    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, WHISTLE__V1__REQUEST__CALL_SUBSCRIBE, &s);
    Whistle__V1__Response *resp;
    int rc = cli_call(x, &req, &resp);
    if (rc)
        return rc;
    if (!x->json && !x->quiet && resp->result_case == WHISTLE__V1__RESPONSE__RESULT_SUBSCRIBE) {
        const Whistle__V1__SubscribeResult *sr = resp->subscribe;
        /* On stderr: stdout carries only pushes, one per line. What comes
         * first (the pushes since the acknowledged cursor, or --after),
         * then that new ones follow as they happen. */
        char title[256];
        stream_title(x, sr->stream, title, sizeof title);
        unsigned long long earlier = sr->last_seq > sr->replay_after ? sr->last_seq - sr->replay_after : 0;
        if (earlier)
            fprintf(stderr,
                    ngettext("watching %s: %llu earlier push first, then new ones as they happen",
                             "watching %s: %llu earlier pushes first, then new ones as they happen", earlier),
                    title, earlier);
        else
            fprintf(stderr, _("watching %s: nothing missed; new pushes appear as they happen"), title);
        fprintf(stderr, "%s\n", count ? "" : _("; Ctrl-C to stop"));
    }
    whistle_response_free(resp);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint64_t seen = 0;
    while (!stop_watch) {
        Whistle__V1__Push *p;
        /* A short wait so that Ctrl-C is noticed promptly. */
        int r = whistle_next_push(x->client, 250, &p);
        if (r == 0)
            continue;
        if (r < 0) {
            if (stop_watch)
                break;
            return cli_conn_error(x, r, whistle_last_error(x->client));
        }
        if (x->json)
            cli_json_print(cli_json_message(&p->base));
        else {
            if (x->quiet)
                printf("%s\n", p->event ? p->event->ticket : p->order ? p->order->ticket : "-");
            else
                print_push_line(x, p);
            fflush(stdout);
        }
        if (ferror(stdout)) {
            /* The reader went away (watch | head): stop quietly, and do not
             * ack what nobody saw. */
            whistle_push_free(p);
            return EXIT_OK;
        }
        int ar;
        if (ack && (ar = whistle_push_ack_as(x->client, p->stream, p->seq, x->act_as)) < 0) {
            whistle_push_free(p);
            return cli_conn_error(x, ar, whistle_last_error(x->client));
        }
        whistle_push_free(p);
        if (count && ++seen >= count)
            break;
    }
    return EXIT_OK;
}

/* ---------------------------------------------------------------- table */

static const cmd_opt report_opts[] = {
    { "node", "CODE", N_("where: a node of the tree (grid, community, ...)") },
    { "category", "CODE", N_("4-digit category (see whistle categories)") },
    { "priority", "P", N_("low, normal (default), high, urgent") },
    { "contact", "PHONE", N_("the reporter's phone number") },
    { "external-id", "ID", N_("the sending system's reference (12345 hotline)") },
    { "source", "S", N_("kiosk, patrol, resident, hotline, sensor, emergency_call (default: by role)") },
    { "lat", "X", N_("WGS84 latitude; without --node the case is placed in the grid holding it") },
    { "lon", "Y", N_("WGS84 longitude") },
    { "attr", "CODE=VALUE", N_("an answer to the category's attributes (repeat it; a list's keys: CODE=A+B)") },
    { "gcj02", NULL, N_("--lat and --lon are GCJ-02 (a Chinese phone map): converted to WGS84") },
    { "photo", "FILE", N_("a JPEG or PNG photo of it (repeat for more)") },
    { NULL, NULL, NULL },
};
static const cmd_opt locate_opts[] = {
    { "gcj02", NULL, N_("the point is GCJ-02 (a Chinese phone map): converted to WGS84") },
    { NULL, NULL, NULL },
};
static const cmd_opt no_opts[] = { { NULL, NULL, NULL } };
static const cmd_opt list_opts[] = {
    { "state", "S",
      N_("open (all but rejected and closed), reported, filed, rejected, handling, whistled, resolved, "
         "verified, closed") },
    { "node", "CODE", N_("only this subtree (default: your scope)") },
    { "category", "CODE", N_("only this category (4 digits) or class (2 digits)") },
    { "since", "DAY", N_("only cases reported on or after DAY (YYYY-MM-DD, local time)") },
    { "until", "DAY", N_("only cases reported on or before DAY") },
    { "text", "WORDS", N_("only cases whose description holds WORDS (letters in either case)") },
    { "by-place", NULL, N_("in the order of places (the tree's codes) instead of newest first") },
    { "limit", "N", N_("page size (server default 50, at most 500)") },
    { "all", NULL, N_("follow the pages to the end") },
    { "parked", NULL, N_("only the cases in the problem pool (挂账)") },
    { NULL, NULL, NULL },
};
static const cmd_opt note_opts[] = { { "note", "TEXT", N_("a note for the timeline") }, { NULL, NULL, NULL } };
static const cmd_opt reject_opts[] = { { "reason", "TEXT", N_("why (duplicate, not in scope, false report...)") },
                                       { NULL, NULL, NULL } };
static const cmd_opt assign_opts[] = {
    { "to", "NAME", N_("the grid or community worker (principal name)") },
    { "note", "TEXT", N_("a note for the timeline") },
    { NULL, NULL, NULL },
};
static const cmd_opt whistle_opts_[] = {
    { "dept", "A,B",
      N_("departments to dispatch to (comma-separated, or repeat the option); default: the "
         "catalogue's proposal for the case's category") },
    { "propose", NULL, N_("only show the catalogue's proposal (whistle nobody)") },
    { "lead", "A", N_("the lead department (default: the first)") },
    { "kind", "K", N_("routine (default), tackle, emergency") },
    { "note", "TEXT", N_("the operator's note for the departments") },
    { NULL, NULL, NULL },
};
static const cmd_opt orders_opts[] = {
    { "dept", "D", N_("this department's orders (default: yours, or all in scope)") },
    { "state", "S", N_("pending, checked_in, done, returned") },
    { "ticket", "T", N_("only this case's orders") },
    { "limit", "N", N_("page size (server default 50, at most 500)") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt verify_opts[] = {
    { "pass", NULL, N_("the fix is real: the case is verified") },
    { "fail", NULL, N_("it is not: back for rework") },
    { "note", "TEXT", N_("what was found on the spot") },
    { "photo", "FILE", N_("a JPEG or PNG photo taken on the spot (repeat for more)") },
    { NULL, NULL, NULL },
};
static const cmd_opt feedback_opts[] = {
    { "photo", "FILE", N_("a JPEG or PNG photo of the work done (repeat for more)") },
    { NULL, NULL, NULL },
};
static const cmd_opt rate_opts[] = { { "comment", "TEXT", N_("the reporter's comment") },
                                     { "phone", "DIGITS",
                                       N_("a kiosk: the last 4 digits of the phone given at report") },
                                     { NULL, NULL, NULL } };
static const cmd_opt nodes_opts[] = {
    { "parent", "CODE", N_("only the children of this node") },
    { "kind", "K", N_("district, street, community, grid, building") },
    { NULL, NULL, NULL },
};
static const cmd_opt watch_opts[] = {
    { "stream", "NAME", N_("the stream (default: your own; see whistle hello)") },
    { "after", "SEQ", N_("replay from after SEQ (default: after the acknowledged cursor)") },
    { "no-ack", NULL, N_("do not acknowledge (the cursor stays where it is)") },
    { "count", "N", N_("exit after N pushes") },
    { NULL, NULL, NULL },
};

const cmd cli_commands[] = {
    { "report", "--node CODE | --lat X --lon Y, --category CODE [--photo FILE] [options] TEXT...",
      N_("Report a new case; prints its ticket and state."), report_opts, 1, -1, .call = CALL(REPORT),
      .bind = BINDS(B_OPT("node", "node"), B_NEED("category", "category"), B_OPT("contact", "contact"),
                    B_OPT("external-id", "external_id"), B_TEXT(0, "description")),
      .build = build_report, .result = RESULT(EVENT), .print = print_event_line },
    { "show", "TICKET", N_("Show a case with its timeline."), no_opts, 1, 1, .call = CALL(GET_EVENT),
      .bind = BINDS(B_TICKET(0, "ticket")), .result = RESULT(EVENT), .print = print_event_show },
    { "list",
      "[--state S|open] [--node CODE] [--category CODE] [--since DAY] [--until DAY] [--text WORDS] [--by-place] "
      "[--limit N] [--all] [--parked]",
      N_("List cases, newest first."), list_opts, 0, 0, .call = CALL(LIST_EVENTS),
      .bind = BINDS(B_OPT("node", "node"), B_FLAG("parked", "parked"), B_OPT("text", "text")), .build = build_list,
      .result = RESULT(EVENTS), .list = &events_list },
    { "file", "TICKET [--note TEXT]", N_("File a case: accept it into the loop (立案)."), note_opts, 1, 1,
      .call = CALL(FILE), .bind = BINDS(B_TICKET(0, "ticket"), B_OPT("note", "note")), .result = RESULT(EVENT),
      .print = print_event_line },
    { "reject", "TICKET --reason TEXT", N_("Reject a case, with a reason (不予立案)."), reject_opts, 1, 1,
      .call = CALL(REJECT), .bind = BINDS(B_NEED("reason", "reason"), B_TICKET(0, "ticket")), .result = RESULT(EVENT),
      .print = print_event_line },
    { "assign", "TICKET --to NAME [--note TEXT]", N_("Hand a case to a grid or community worker."), assign_opts, 1, 1,
      .call = CALL(ASSIGN), .bind = BINDS(B_NEED("to", "assignee"), B_TICKET(0, "ticket"), B_OPT("note", "note")),
      .result = RESULT(EVENT), .print = print_event_line },
    { "resolve", "TICKET TEXT...", N_("Record what local handling did."), no_opts, 2, -1, .call = CALL(RESOLVE),
      .bind = BINDS(B_TICKET(0, "ticket"), B_TEXT(1, "note")), .result = RESULT(EVENT), .print = print_event_line },
    { "whistle", "TICKET [--dept A,B] [--lead A] [--kind K] [--note TEXT] [--propose]",
      N_("Whistle a case to departments (吹哨): one dispatch order each."), whistle_opts_, 1, 1, .run = run_whistle },
    { "orders", "[--dept D] [--state S] [--ticket T] [--limit N] [--all]", N_("List dispatch orders."), orders_opts, 0,
      0, .call = CALL(LIST_ORDERS), .bind = BINDS(B_OPT("dept", "department"), B_TICKET_OPT("ticket", "ticket")),
      .build = build_orders, .result = RESULT(ORDERS), .list = &orders_list },
    { "checkin", "ORDER [--note TEXT]", N_("Check in to a dispatch order (报到)."), note_opts, 1, 1,
      .call = CALL(CHECK_IN), .bind = BINDS(B_ORDER(0, "order_id", BAD_ORDER, false), B_OPT("note", "note")),
      .result = RESULT(ORDER), .print = print_order_line },
    { "feedback", "ORDER TEXT... [--photo FILE]", N_("Feed back what the department did (反馈)."), feedback_opts, 2, -1,
      .call = CALL(FEEDBACK), .bind = BINDS(B_ORDER(0, "order_id", BAD_ORDER, false), B_TEXT(1, "text")),
      .build = build_feedback, .result = RESULT(ORDER), .print = print_order_line },
    { "return", "ORDER --reason TEXT", N_("Return an order that is not your duty (退单)."), reject_opts, 1, 1,
      .call = CALL(RETURN_ORDER), .bind = BINDS(B_NEED("reason", "reason"), B_ORDER(0, "order_id", BAD_ORDER, false)),
      .result = RESULT(ORDER), .print = print_order_line },
    { "verify", "TICKET --pass|--fail [--note TEXT] [--photo FILE]", N_("Record the on-the-spot check (核查)."),
      verify_opts, 1, 1, .call = CALL(VERIFY),
      .bind = BINDS(B_EITHER("pass", "fail", "pass", N_("verify: give exactly one of --pass and --fail")),
                    B_TICKET(0, "ticket"), B_OPT("note", "note")),
      .build = build_verify, .result = RESULT(EVENT), .print = print_event_line },
    { "close", "TICKET [--note TEXT]", N_("Close a case (结案)."), note_opts, 1, 1, .call = CALL(CLOSE),
      .bind = BINDS(B_TICKET(0, "ticket"), B_OPT("note", "note")), .result = RESULT(EVENT), .print = print_event_line },
    { "rate", "TICKET SCORE [--comment TEXT] [--phone DIGITS]", N_("Rate a closed case, 1 to 5 (评价)."), rate_opts, 2,
      2, .call = CALL(RATE),
      .bind = BINDS(B_TICKET(0, "ticket"), B_OPT("comment", "comment"), B_OPT("phone", "phone_last4")),
      .build = build_rate, .result = RESULT(EVENT), .print = print_event_line },
    { "nodes", "[--parent CODE] [--kind K]", N_("List the tree of places."), nodes_opts, 0, 0, .call = CALL(LIST_NODES),
      .bind = BINDS(B_OPT("parent", "parent")), .build = build_nodes, .result = RESULT(NODES), .list = &nodes_list },
    { "departments", "", N_("List the departments."), no_opts, 0, 0, .call = CALL(LIST_DEPARTMENTS),
      .result = RESULT(DEPARTMENTS), .list = &departments_list },
    { "locate", "LAT LON [--gcj02]",
      N_("Find the grid holding a point (WGS84 degrees, or GCJ-02 from a Chinese map with --gcj02)."), locate_opts, 2,
      2, .call = CALL(LOCATE_PLACE), .build = build_locate, .result = RESULT(PLACE), .print = print_place },
    { "categories", "",
      N_("List the case categories with their departments and time limits (wh, wd: working hours, days; +: "
         "per priority too)."),
      no_opts, 0, 0, .call = CALL(LIST_CATEGORIES), .result = RESULT(CATEGORIES), .list = &categories_list },
    { "watch", "[--stream NAME] [--after SEQ] [--no-ack] [--count N]",
      N_("Subscribe to a stream and print each push as it arrives."), watch_opts, 0, 0, .run = run_watch },
    { "ping", "", N_("Measure the round trip to the server."), no_opts, 0, 0, .run = run_ping },
    { "hello", "", N_("Show who the server thinks you are: principal, role, scope, streams."), no_opts, 0, 0,
      .run = run_hello },
    { "server-stats", "", N_("Show the daemon's counters (admins): writes, commits, flushes, connections, memory."),
      no_opts, 0, 0, .call = CALL(SERVER_STATS), .result = RESULT(SERVER_STATS), .print = print_server_stats },
    { "lookup", "TICKET LAST4", N_("A resident's ticket, by its number and the last 4 digits of the phone given."),
      no_opts, 2, 2, .call = CALL(LOOKUP_TICKET), .bind = BINDS(B_TICKET(0, "ticket"), B_POS(1, "phone_last4")),
      .result = RESULT(EVENT), .print = print_event_full },
    { "admin", "SUBCOMMAND ...", N_("Administration: import, export, node, dept, category, principal, audit, crl."),
      NULL, 0, -1, .run = NULL },
    { "admission", "show|set COMMUNITY ...", N_("A community's task admission list (准入清单)."), NULL, 0, -1,
      .run = NULL },
    { "photo", "get ID [--thumb] --out FILE", N_("A case's photos: read one back (whistle show lists them)."), NULL, 0,
      -1, .run = NULL },
    { "task", "push|list|done ...", N_("Tasks pushed to communities within their admission lists."), NULL, 0, -1,
      .run = NULL },
    { .name = NULL },
};
