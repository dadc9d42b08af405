/* oversight.c: the CLI's commands for deadlines, supervision, the
 * exception flow and statistics (docs/deadlines.md, docs/statistics.md):
 * extend, extension, park, unpark, reopen, merge, stage, supervision,
 * emergency, stats. They live in their own table (cli_oversight_commands),
 * searched after cli_commands. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---------------------------------------------------------------- arguments */

static const char *opt(const args *a, const char *name)
{
    for (int i = 0; a->c->opts && a->c->opts[i].name; i++)
        if (strcmp(a->c->opts[i].name, name) == 0)
            return a->multi[i] ? a->multi[i] : a->val[i];
    return NULL;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || s[0] == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_order(const args *a, const char *s, uint64_t *id)
{
    if (s && s[0] == '#')
        s++;
    if (parse_u64(s, UINT64_MAX, id) < 0 || *id == 0)
        return cli_usage_error(_("%s: bad order id '%s' (a positive number)"), a->c->name, s ? s : "");
    return 0;
}

static int need(const args *a, const char *name)
{
    const char *v = opt(a, name);
    if (!v || !*v)
        return cli_usage_error(_("%s: --%s is required (see whistle %s --help)"), a->c->name, name, a->c->name);
    return 0;
}

static char *join_pos(const args *a, int from)
{
    size_t n = 1;
    for (int i = from; i < a->npos; i++)
        n += strlen(a->pos[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = from; i < a->npos; i++) {
        if (i > from)
            strcat(s, " ");
        strcat(s, a->pos[i]);
    }
    return s;
}

/* ---------------------------------------------------------------- output */

static void print_json(const Whistle__V1__Response *resp)
{
    const ProtobufCMessage *m = (const ProtobufCMessage *)resp->hello; /* any member: same place */
    cli_json_print(resp->result_case != WHISTLE__V1__RESPONSE__RESULT__NOT_SET && m ? cli_json_message(m)
                                                                                  : json_object());
}

static int call_print(cli *x, Whistle__V1__Request *req)
{
    Whistle__V1__Response *resp;
    int rc = cli_call(x, req, &resp);
    if (rc)
        return rc;
    if (x->json)
        print_json(resp);
    else if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_EVENT)
        printf("%s  %s%s\n", resp->event->ticket, cli_word(whistle_state_name(resp->event->state)),
               resp->event->parked ? _("  (parked)") : "");
    else if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_ORDER) {
        const Whistle__V1__Order *o = resp->order;
        char t[64];
        printf(_("order %llu  %s  %s  %s"), (unsigned long long)o->id, o->ticket,
               cli_or(cli_department_name(x, o->department), o->department),
               cli_word(whistle_order_state_name(o->state)));
        if (o->resolve_due_ms)
            printf(_("  resolve by %s"), cli_local_time(o->resolve_due_ms, false, t, sizeof t));
        if (o->extension)
            printf(_("  extension %s"), o->extension->state == 1   ? C_("extension", "pending")
                                        : o->extension->state == 2 ? C_("extension", "approved")
                                        : o->extension->state == 3 ? C_("extension", "refused")
                                                                   : "?");
        printf("\n");
    }
    whistle_response_free(resp);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- extension */

static const struct {
    const char *opt;
    Whistle__V1__TimeUnit unit;
} units[] = {
    {"minutes", WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES},
    {"hours", WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS},
    {"days", WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS},
    {"working-hours", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS},
    {"working-days", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS},
};

static int run_extend(cli *x, args *a)
{
    Whistle__V1__RequestExtension r = WHISTLE__V1__REQUEST_EXTENSION__INIT;
    Whistle__V1__TimeLimit extra = WHISTLE__V1__TIME_LIMIT__INIT;
    if (parse_order(a, a->pos[0], &r.order_id) || need(a, "reason"))
        return EXIT_USAGE;
    int given = 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        const char *v = opt(a, units[i].opt);
        if (!v)
            continue;
        uint64_t n;
        if (parse_u64(v, 100000, &n) < 0 || n == 0)
            return cli_usage_error(_("extend: bad --%s '%s' (a positive number)"), units[i].opt, v);
        extra.amount = (uint32_t)n;
        extra.unit = units[i].unit;
        given++;
    }
    if (given != 1)
        return cli_usage_error(_("extend: give exactly one of --minutes, --hours, --days, --working-hours, "
                               "--working-days"));
    r.extra = &extra;
    r.reason = (char *)opt(a, "reason");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REQUEST_EXTENSION;
    req.request_extension = &r;
    return call_print(x, &req);
}

static int run_extension(cli *x, args *a)
{
    Whistle__V1__DecideExtension r = WHISTLE__V1__DECIDE_EXTENSION__INIT;
    if (parse_order(a, a->pos[0], &r.order_id))
        return EXIT_USAGE;
    bool approve = opt(a, "approve") != NULL, refuse = opt(a, "refuse") != NULL;
    if (approve == refuse)
        return cli_usage_error(_("extension: give exactly one of --approve and --refuse"));
    r.approve = approve;
    if (opt(a, "note"))
        r.note = (char *)opt(a, "note");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_DECIDE_EXTENSION;
    req.decide_extension = &r;
    return call_print(x, &req);
}

static int run_stage(cli *x, args *a)
{
    Whistle__V1__ReportStage r = WHISTLE__V1__REPORT_STAGE__INIT;
    uint64_t n;
    if (parse_order(a, a->pos[0], &r.order_id))
        return EXIT_USAGE;
    if (parse_u64(a->pos[1], 100, &n) < 0 || n == 0)
        return cli_usage_error(_("stage: bad stage '%s' (1, 2, ...)"), a->pos[1]);
    r.stage = (uint32_t)n;
    if (opt(a, "note"))
        r.note = (char *)opt(a, "note");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT_STAGE;
    req.report_stage = &r;
    return call_print(x, &req);
}

/* ---------------------------------------------------------------- cases */

static int run_park(cli *x, args *a)
{
    if (need(a, "reason"))
        return EXIT_USAGE;
    Whistle__V1__ParkEvent r = WHISTLE__V1__PARK_EVENT__INIT;
    r.ticket = a->pos[0];
    r.reason = (char *)opt(a, "reason");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_PARK;
    req.park = &r;
    return call_print(x, &req);
}

static int run_unpark(cli *x, args *a)
{
    Whistle__V1__UnparkEvent r = WHISTLE__V1__UNPARK_EVENT__INIT;
    r.ticket = a->pos[0];
    if (opt(a, "note"))
        r.note = (char *)opt(a, "note");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_UNPARK;
    req.unpark = &r;
    return call_print(x, &req);
}

static int run_reopen(cli *x, args *a)
{
    if (need(a, "reason"))
        return EXIT_USAGE;
    Whistle__V1__ReopenEvent r = WHISTLE__V1__REOPEN_EVENT__INIT;
    r.ticket = a->pos[0];
    r.reason = (char *)opt(a, "reason");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REOPEN;
    req.reopen = &r;
    return call_print(x, &req);
}

static int run_merge(cli *x, args *a)
{
    if (need(a, "into"))
        return EXIT_USAGE;
    Whistle__V1__MergeEvent r = WHISTLE__V1__MERGE_EVENT__INIT;
    r.ticket = a->pos[0];
    r.into = (char *)opt(a, "into");
    if (opt(a, "note"))
        r.note = (char *)opt(a, "note");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_MERGE;
    req.merge = &r;
    return call_print(x, &req);
}

static int run_emergency(cli *x, args *a)
{
    Whistle__V1__EmergencyCall r = WHISTLE__V1__EMERGENCY_CALL__INIT;
    if (opt(a, "node"))
        r.node = (char *)opt(a, "node");
    if (opt(a, "device"))
        r.device = (char *)opt(a, "device");
    if (opt(a, "contact"))
        r.contact = (char *)opt(a, "contact");
    char *text = join_pos(a, 0);
    r.description = text;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_EMERGENCY_CALL;
    req.emergency_call = &r;
    int rc = call_print(x, &req);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------- supervision */

/* Miss.kind: which deadline was missed (docs/deadlines.md). */
static const char *miss_word(const char *k)
{
    if (strcmp(k, "check_in") == 0)
        return C_("deadline", "check_in");
    if (strcmp(k, "resolve") == 0)
        return C_("deadline", "resolve");
    if (strcmp(k, "stage") == 0)
        return C_("deadline", "stage");
    if (strcmp(k, "check_in_follow_up") == 0)
        return C_("deadline", "check_in_follow_up");
    if (strcmp(k, "follow_up") == 0)
        return C_("deadline", "follow_up");
    if (strcmp(k, "case") == 0)
        return C_("deadline", "case");
    return k;
}

static int run_supervision(cli *x, args *a)
{
    Whistle__V1__ListSupervisions l = WHISTLE__V1__LIST_SUPERVISIONS__INIT;
    l.open_only = opt(a, "open") != NULL;
    if (opt(a, "dept"))
        l.department = (char *)opt(a, "dept");
    if (opt(a, "node"))
        l.node = (char *)opt(a, "node");
    uint64_t lim = 0;
    if (opt(a, "limit") && (parse_u64(opt(a, "limit"), 500, &lim) < 0 || lim == 0))
        return cli_usage_error(_("supervision: bad --limit (1 to 500)"));
    l.limit = (uint32_t)lim;
    bool all = opt(a, "all") != NULL;
    static const char *const h[] = {N_("ID"),   N_("LEVEL"),  N_("STATE"),  N_("TICKET"),   N_("ORDER"),
                                    N_("DEPT"), N_("MISSES"), N_("OPENED"), N_("LAST MISS")};
    table tb;
    table_init(&tb, 9, h);
    table_cap(&tb, 5, 20);
    json_t *rows = json_array();
    int rc = EXIT_OK;
    uint64_t next = 0;
    for (;;) {
        l.before_id = next;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_SUPERVISIONS;
        req.list_supervisions = &l;
        Whistle__V1__Response *resp;
        if ((rc = cli_call(x, &req, &resp)))
            break;
        const Whistle__V1__SupervisionList *sl = resp->supervisions;
        for (size_t i = 0; sl && i < sl->n_supervisions; i++) {
            const Whistle__V1__Supervision *s = sl->supervisions[i];
            if (x->json) {
                json_array_append_new(rows, cli_json_message(&s->base));
                continue;
            }
            char id[24], ord[24], n[16], t1[64], t2[64], lvl[16];
            snprintf(id, sizeof id, "%" PRIu64, s->id);
            snprintf(ord, sizeof ord, "%" PRIu64, s->order_id);
            snprintf(n, sizeof n, "%zu", s->n_misses);
            snprintf(lvl, sizeof lvl, "%s", cli_word(s->level >= 2 ? "district" : "street"));
            const Whistle__V1__Miss *last = s->n_misses ? s->misses[s->n_misses - 1] : NULL;
            char lm[128];
            snprintf(lm, sizeof lm, "%s %s", last ? miss_word(last->kind) : "",
                     last ? cli_local_time(last->due_ms, false, t2, sizeof t2) : "");
            const char *who = *s->department ? cli_or(cli_department_name(x, s->department), s->department)
                              : *s->assignee ? s->assignee
                                             : "-";
            const char *row[] = {id, lvl, s->open ? C_("supervision", "open") : C_("supervision", "closed"),
                                 s->ticket, s->order_id ? ord : "-", who, n,
                                 cli_local_time(s->opened_ms, false, t1, sizeof t1), lm};
            table_add(&tb, row);
        }
        next = sl ? sl->next_before_id : 0;
        whistle_response_free(resp);
        if (!all || !next)
            break;
    }
    if (rc == EXIT_OK) {
        if (x->json) {
            json_t *o = json_object();
            json_object_set(o, "supervisions", rows);
            json_object_set_new(o, "next_before_id", json_integer((json_int_t)next));
            cli_json_print(o);
        } else {
            table_print(&tb, stdout);
            if (next)
                fprintf(stderr, "%s\n", _("(more records: use --all)"));
        }
    }
    json_decref(rows);
    table_free(&tb);
    return rc;
}

/* ---------------------------------------------------------------- stats */

static const char *pct(double r, char *buf, size_t len)
{
    if (r < 0 || isnan(r))
        return "-";
    snprintf(buf, len, "%.1f", 100 * r);
    return buf;
}

static void csv_field(const char *s)
{
    bool quote = strpbrk(s, ",\"\n\r") != NULL;
    if (!quote) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* Every field of StatsRow, in the proto's order: the CSV's columns. */
static void print_csv(const Whistle__V1__StatsResult *r)
{
    const ProtobufCMessageDescriptor *d = &whistle__v1__stats_row__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++)
        printf("%s%s", i ? "," : "", d->fields[i].name);
    putchar('\n');
    for (size_t k = 0; k < r->n_rows; k++) {
        const char *base = (const char *)r->rows[k];
        for (unsigned i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &d->fields[i];
            if (i)
                putchar(',');
            char buf[64];
            switch (f->type) {
            case PROTOBUF_C_TYPE_STRING:
                csv_field(*(char *const *)(base + f->offset) ? *(char *const *)(base + f->offset) : "");
                break;
            case PROTOBUF_C_TYPE_INT64:
                printf("%" PRId64, *(const int64_t *)(base + f->offset));
                break;
            case PROTOBUF_C_TYPE_DOUBLE: {
                double v = *(const double *)(base + f->offset);
                if (v >= 0)
                    printf("%.4f", v);
                break;
            }
            case PROTOBUF_C_TYPE_ENUM:
                csv_field(whistle_enum_word(f->descriptor, *(const int *)(base + f->offset), buf, sizeof buf));
                break;
            default:
                break;
            }
        }
        putchar('\n');
    }
}

/* The period of a row: a date, a week, a month, or the total over them. */
static const char *bucket(const char *b) { return strcmp(b, "total") == 0 ? C_("period", "total") : b; }

static const struct {
    const char *word;
    Whistle__V1__StatsDimension dim;
} dims[] = {
    {"department", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT},
    {"dept", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT},
    {"district", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT},
    {"street", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_STREET},
    {"community", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_COMMUNITY},
    {"grid", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_GRID},
};

static int run_stats(cli *x, args *a)
{
    Whistle__V1__GetStats g = WHISTLE__V1__GET_STATS__INIT;
    const char *s;
    if ((s = opt(a, "by"))) {
        for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
            if (strcmp(s, dims[i].word) == 0)
                g.by = dims[i].dim;
        if (!g.by)
            return cli_usage_error(_("stats: bad --by '%s' (department, district, street, community, grid)"), s);
    }
    if ((s = opt(a, "period"))) {
        g.period = strcmp(s, "day") == 0     ? WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_DAY
                   : strcmp(s, "week") == 0  ? WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_WEEK
                   : strcmp(s, "month") == 0 ? WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH
                                             : 0;
        if (!g.period)
            return cli_usage_error(_("stats: bad --period '%s' (day, week, month)"), s);
    }
    if ((s = opt(a, "from")))
        g.from = (char *)s;
    if ((s = opt(a, "to")))
        g.to = (char *)s;
    g.totals = opt(a, "totals") != NULL;
    char *codes = opt(a, "code") ? strdup(opt(a, "code")) : NULL;
    char *list[64];
    size_t n = 0;
    for (char *save = NULL, *tok = codes ? strtok_r(codes, ", ", &save) : NULL; tok && n < 64;
         tok = strtok_r(NULL, ", ", &save))
        list[n++] = tok;
    g.codes = list;
    g.n_codes = n;
    bool csv = opt(a, "csv") != NULL;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_GET_STATS;
    req.get_stats = &g;
    Whistle__V1__Response *resp;
    int rc = cli_call(x, &req, &resp);
    free(codes);
    if (rc)
        return rc;
    const Whistle__V1__StatsResult *r = resp->stats;
    if (x->json) {
        print_json(resp);
    } else if (csv) {
        print_csv(r);
    } else if (r) {
        bool dept = g.by == WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT;
        static const char *const hp[] = {N_("CODE"),   N_("NAME"),    N_("PERIOD"),  N_("CASES"),   N_("FILED"),
                                         N_("CLOSED"), N_("RESP%"),   N_("RESOL%"),  N_("SATIS%"),  N_("CLOSE%"),
                                         N_("ONTIME%"), N_("REWORK%"), N_("OVERDUE"), N_("RATING"), N_("WHISTLE%")};
        static const char *const hd[] = {N_("CODE"),    N_("NAME"),    N_("PERIOD"),  N_("ORDERS"), N_("IN"),
                                         N_("DONE"),    N_("RESP%"),   N_("RESOL%"),  N_("SATIS%"), N_("ONTIME%"),
                                         N_("REWORK%"), N_("OVERDUE"), N_("RATING"), N_("RETURNED")};
        table tb;
        table_init(&tb, dept ? 14 : 15, dept ? hd : hp);
        table_cap(&tb, 1, 20);
        /* A row's name is the directory's Chinese one: in English, the
         * English name from the directory (one call for the whole
         * dimension), the Chinese one where it has none. */
        bool zh = uitext_lang_zh();
        static const Whistle__V1__NodeKind kind_of[] = {
            [WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT] = WHISTLE__V1__NODE_KIND__NODE_KIND_DISTRICT,
            [WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_STREET] = WHISTLE__V1__NODE_KIND__NODE_KIND_STREET,
            [WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_COMMUNITY] = WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY,
            [WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_GRID] = WHISTLE__V1__NODE_KIND__NODE_KIND_GRID,
        };
        if (!zh && !dept && r->n_rows && (size_t)r->rows[0]->by < sizeof kind_of / sizeof *kind_of)
            cli_names_load_kind(x, kind_of[r->rows[0]->by]);
        for (size_t i = 0; i < r->n_rows; i++) {
            const Whistle__V1__StatsRow *w = r->rows[i];
            const char *name = w->name;
            if (!zh)
                name = cli_or(dept ? cli_department_name(x, w->code) : cli_node_name(x, w->code), w->name);
            char c1[24], c2[24], c3[24], p1[16], p2[16], p3[16], p4[16], p5[16], p6[16], p7[16], ov[24], avg[16];
            snprintf(ov, sizeof ov, "%" PRId64, w->overdue);
            if (w->average_rating >= 0)
                snprintf(avg, sizeof avg, "%.2f", w->average_rating);
            else
                snprintf(avg, sizeof avg, "-");
            if (dept) {
                snprintf(c1, sizeof c1, "%" PRId64, w->orders);
                snprintf(c2, sizeof c2, "%" PRId64, w->checked_in);
                snprintf(c3, sizeof c3, "%" PRId64, w->done);
                char ret[24];
                snprintf(ret, sizeof ret, "%" PRId64, w->returned);
                const char *row[] = {w->code, name, bucket(w->bucket), c1, c2, c3, pct(w->response_rate, p1, sizeof p1),
                                     pct(w->resolution_rate, p2, sizeof p2), pct(w->satisfaction_rate, p3, sizeof p3),
                                     pct(w->on_time_close_rate, p4, sizeof p4), pct(w->rework_rate, p5, sizeof p5),
                                     ov, avg, ret};
                table_add(&tb, row);
            } else {
                snprintf(c1, sizeof c1, "%" PRId64, w->reported);
                snprintf(c2, sizeof c2, "%" PRId64, w->filed);
                snprintf(c3, sizeof c3, "%" PRId64, w->closed);
                const char *row[] = {w->code, name, bucket(w->bucket), c1, c2, c3, pct(w->response_rate, p1, sizeof p1),
                                     pct(w->resolution_rate, p2, sizeof p2), pct(w->satisfaction_rate, p3, sizeof p3),
                                     pct(w->close_rate, p4, sizeof p4), pct(w->on_time_close_rate, p5, sizeof p5),
                                     pct(w->rework_rate, p6, sizeof p6), ov, avg, pct(w->whistle_rate, p7, sizeof p7)};
                table_add(&tb, row);
            }
        }
        if (r->n_rows)
            table_print(&tb, stdout);
        else
            fprintf(stderr, _("(no cases from %s to %s)\n"), r->from, r->to);
        table_free(&tb);
    }
    whistle_response_free(resp);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- table */

static const cmd_opt extend_opts[] = {
    {"minutes", "N", N_("N more minutes")},
    {"hours", "N", N_("N more hours")},
    {"days", "N", N_("N more days (calendar days)")},
    {"working-hours", "N", N_("N more working hours (on the working calendar)")},
    {"working-days", "N", N_("N more working days")},
    {"reason", "TEXT", N_("why more time is needed (required)")},
    {NULL, NULL, NULL},
};
static const cmd_opt extension_opts[] = {
    {"approve", NULL, N_("grant it: the resolve deadline moves")},
    {"refuse", NULL, N_("refuse it (give the reason with --note)")},
    {"note", "TEXT", N_("the operator's note")},
    {NULL, NULL, NULL},
};
static const cmd_opt reason_opts[] = {{"reason", "TEXT", N_("why (required)")}, {NULL, NULL, NULL}};
static const cmd_opt note_opts[] = {{"note", "TEXT", N_("a note for the timeline")}, {NULL, NULL, NULL}};
static const cmd_opt merge_opts[] = {
    {"into", "TICKET", N_("the earlier case this one duplicates (required)")},
    {"note", "TEXT", N_("a note for the timeline")},
    {NULL, NULL, NULL},
};
static const cmd_opt emergency_opts[] = {
    {"node", "CODE", N_("where the button is (default: your own place)")},
    {"device", "ID", N_("the terminal's or sensor's id")},
    {"contact", "PHONE", N_("a phone number to call back")},
    {NULL, NULL, NULL},
};
static const cmd_opt supervision_opts[] = {
    {"open", NULL, N_("only the open ones")},
    {"dept", "D", N_("only this department's")},
    {"node", "CODE", N_("only this subtree (default: your scope)")},
    {"limit", "N", N_("page size (server default 50, at most 500)")},
    {"all", NULL, N_("follow the pages to the end")},
    {NULL, NULL, NULL},
};
static const cmd_opt stats_opts[] = {
    {"by", "DIM", N_("department, district, street (default), community, grid")},
    {"period", "P", N_("day, week, month (default)")},
    {"from", "DATE", N_("YYYY-MM-DD: the first period holds it (default: 14 days, 8 weeks, 12 months back)")},
    {"to", "DATE", N_("YYYY-MM-DD: the last period holds it (default: today)")},
    {"code", "C,D", N_("only these departments or places (default: all in your scope)")},
    {"totals", NULL, N_("add a total row per code over the range")},
    {"csv", NULL, N_("print CSV: every counter and rate, one line per row")},
    {NULL, NULL, NULL},
};

const cmd cli_oversight_commands[] = {
    {"extend", "ORDER --hours N|--working-days N|... --reason TEXT",
     N_("Ask the operator for more time on a dispatch order (延期)."), extend_opts, 1, 1, .run = run_extend},
    {"extension", "ORDER --approve|--refuse [--note TEXT]", N_("Approve or refuse an order's extension request."),
     extension_opts, 1, 1, .run = run_extension},
    {"stage", "ORDER N [--note TEXT]", N_("Report stage N of a staged order done."), note_opts, 2, 2, .run = run_stage},
    {"park", "TICKET --reason TEXT", N_("Put a case in the problem pool: its deadlines stop (挂账)."), reason_opts,
     1, 1, .run = run_park},
    {"unpark", "TICKET [--note TEXT]", N_("Take a case out of the pool: its deadlines move by the time parked."),
     note_opts, 1, 1, .run = run_unpark},
    {"reopen", "TICKET --reason TEXT", N_("Reopen a closed case after a dissatisfied rating."), reason_opts, 1, 1,
     .run = run_reopen},
    {"merge", "TICKET --into EARLIER [--note TEXT]",
     N_("Merge a duplicate into the earlier case; its reporter follows that one."), merge_opts, 1, 1, .run = run_merge},
    {"supervision", "[--open] [--dept D] [--node CODE] [--all]",
     N_("List supervision records (督办) of missed deadlines."), supervision_opts, 0, 0, .run = run_supervision},
    {"emergency", "[--node CODE] [--device ID] [TEXT...]", N_("The one-key emergency call (一键呼叫)."),
     emergency_opts, 0, -1, .run = run_emergency},
    {"stats", "[--by DIM] [--period P] [--from DATE] [--to DATE] [--code C] [--csv]",
     N_("Response, resolution, satisfaction, close and on-time rates, and more."), stats_opts, 0, 0, .run = run_stats},
    {.name = NULL},
};
