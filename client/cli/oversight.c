/* oversight.c: the CLI's commands for deadlines, supervision, the
 * exception flow and statistics (docs/deadlines.md, docs/statistics.md):
 * extend, extension, park, unpark, reopen, merge, stage, supervision,
 * emergency, stats. They live in their own table (cli_oversight_commands),
 * searched after cli_commands; call.c runs its rows. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---------------------------------------------------------------- output */

/* The order id's usage error (BIND_ORDER): without its '#'. */
#define BAD_ORDER N_("%s: bad order id '%s' (a positive number)")

/* The case (parked or not) or the order (its resolve deadline and
 * extension) a write left, -q or not. */
static void print_oversight(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_EVENT) {
        printf("%s  %s%s", resp->event->ticket, cli_word(whistle_state_name(resp->event->state)),
               resp->event->parked ? _("  (parked)") : "");
        if (*(resp->event->transferred_to ? resp->event->transferred_to : ""))
            printf(_("  (transferred to district %s)"), resp->event->transferred_to);
        printf("\n");
    } else if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT_ORDER) {
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
}

/* ---------------------------------------------------------------- extension */

static const struct {
    const char *opt;
    Whistle__V1__TimeUnit unit;
} units[] = {
    { "minutes", WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES },
    { "hours", WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS },
    { "days", WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS },
    { "working-hours", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS },
    { "working-days", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS },
};

static int build_extend(cli *x, args *a, void *msg)
{
    Whistle__V1__RequestExtension *r = msg;
    Whistle__V1__TimeLimit *extra = cli_new(a, &whistle__v1__time_limit__descriptor);
    if (!extra)
        return EXIT_CONN;
    int given = 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        const char *v = cli_opt(a, units[i].opt);
        if (!v)
            continue;
        uint64_t n;
        if (cli_parse_u64(v, 100000, &n) < 0 || n == 0)
            return cli_usage_error(_("extend: bad --%s '%s' (a positive number)"), units[i].opt, v);
        extra->amount = (uint32_t)n;
        extra->unit = units[i].unit;
        given++;
    }
    if (given != 1)
        return cli_usage_error(_("extend: give exactly one of --minutes, --hours, --days, --working-hours, "
                                 "--working-days"));
    r->extra = extra;
    return 0;
}

static int build_stage(cli *x, args *a, void *msg)
{
    Whistle__V1__ReportStage *r = msg;
    uint64_t n;
    if (cli_parse_u64(a->pos[1], 100, &n) < 0 || n == 0)
        return cli_usage_error(_("stage: bad stage '%s' (1, 2, ...)"), a->pos[1]);
    r->stage = (uint32_t)n;
    return 0;
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

static void supervision_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Supervision *s = item;
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
    const char *row[] = { id,
                          lvl,
                          s->open ? C_("supervision", "open") : C_("supervision", "closed"),
                          s->ticket,
                          s->order_id ? ord : "-",
                          who,
                          n,
                          cli_local_time(s->opened_ms, false, t1, sizeof t1),
                          lm };
    table_add(tb, row);
}

static const char *const supervision_header[] = { N_("ID"),   N_("LEVEL"),  N_("STATE"),  N_("TICKET"),   N_("ORDER"),
                                                  N_("DEPT"), N_("MISSES"), N_("OPENED"), N_("LAST MISS") };

/* Newest first: the cursor counts down. */
static const cli_list supervision_list = {
    .items = "supervisions",
    .cursor = "before_id",
    .next = "next_before_id",
    .descending = true,
    .json_next = true,
    .more = N_("(more records: use --all)"),
    .table = { 9, supervision_header, { { 5, 20 } } },
    .row = supervision_row,
};

static int build_supervision(cli *x, args *a, void *msg)
{
    Whistle__V1__ListSupervisions *l = msg;
    uint64_t lim = 0;
    const char *s = cli_opt(a, "limit");
    if (s && (cli_parse_u64(s, 500, &lim) < 0 || lim == 0))
        return cli_usage_error(_("supervision: bad --limit (1 to 500)"));
    l->limit = (uint32_t)lim;
    return 0;
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
            case PROTOBUF_C_TYPE_INT64: printf("%" PRId64, *(const int64_t *)(base + f->offset)); break;
            case PROTOBUF_C_TYPE_DOUBLE: {
                double v = *(const double *)(base + f->offset);
                if (v >= 0)
                    printf("%.4f", v);
                break;
            }
            case PROTOBUF_C_TYPE_ENUM:
                csv_field(whistle_enum_word(f->descriptor, *(const int *)(base + f->offset), buf, sizeof buf));
                break;
            default: break;
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
    { "department", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT },
    { "dept", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT },
    { "district", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT },
    { "street", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_STREET },
    { "community", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_COMMUNITY },
    { "grid", WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_GRID },
};

static int build_stats(cli *x, args *a, void *msg)
{
    Whistle__V1__GetStats *g = msg;
    const char *s;
    if ((s = cli_opt(a, "by"))) {
        for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
            if (strcmp(s, dims[i].word) == 0)
                g->by = dims[i].dim;
        if (!g->by)
            return cli_usage_error(_("stats: bad --by '%s' (department, district, street, community, grid)"), s);
    }
    if ((s = cli_opt(a, "period"))) {
        g->period = strcmp(s, "day") == 0     ? WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_DAY
                    : strcmp(s, "week") == 0  ? WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_WEEK
                    : strcmp(s, "month") == 0 ? WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH
                                              : 0;
        if (!g->period)
            return cli_usage_error(_("stats: bad --period '%s' (day, week, month)"), s);
    }
    if ((s = cli_opt(a, "code")) && !(g->codes = cli_split(a, s, ", ", 64, &g->n_codes)))
        return EXIT_CONN;
    return 0;
}

/* The table (CSV with --csv) of the rows. */
static void print_stats(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__StatsResult *r = resp->stats;
    if (cli_flag(a, "csv")) {
        print_csv(r);
    } else {
        bool dept = req->get_stats->by == WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT;
        static const char *const hp[] = { N_("CODE"),    N_("NAME"),    N_("PERIOD"),  N_("CASES"),  N_("FILED"),
                                          N_("CLOSED"),  N_("RESP%"),   N_("RESOL%"),  N_("SATIS%"), N_("CLOSE%"),
                                          N_("ONTIME%"), N_("REWORK%"), N_("OVERDUE"), N_("RATING"), N_("WHISTLE%") };
        static const char *const hd[] = { N_("CODE"),    N_("NAME"),    N_("PERIOD"), N_("ORDERS"),  N_("IN"),
                                          N_("DONE"),    N_("RESP%"),   N_("RESOL%"), N_("SATIS%"),  N_("ONTIME%"),
                                          N_("REWORK%"), N_("OVERDUE"), N_("RATING"), N_("RETURNED") };
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
                const char *row[] = { w->code,
                                      name,
                                      bucket(w->bucket),
                                      c1,
                                      c2,
                                      c3,
                                      pct(w->response_rate, p1, sizeof p1),
                                      pct(w->resolution_rate, p2, sizeof p2),
                                      pct(w->satisfaction_rate, p3, sizeof p3),
                                      pct(w->on_time_close_rate, p4, sizeof p4),
                                      pct(w->rework_rate, p5, sizeof p5),
                                      ov,
                                      avg,
                                      ret };
                table_add(&tb, row);
            } else {
                snprintf(c1, sizeof c1, "%" PRId64, w->reported);
                snprintf(c2, sizeof c2, "%" PRId64, w->filed);
                snprintf(c3, sizeof c3, "%" PRId64, w->closed);
                const char *row[] = { w->code,
                                      name,
                                      bucket(w->bucket),
                                      c1,
                                      c2,
                                      c3,
                                      pct(w->response_rate, p1, sizeof p1),
                                      pct(w->resolution_rate, p2, sizeof p2),
                                      pct(w->satisfaction_rate, p3, sizeof p3),
                                      pct(w->close_rate, p4, sizeof p4),
                                      pct(w->on_time_close_rate, p5, sizeof p5),
                                      pct(w->rework_rate, p6, sizeof p6),
                                      ov,
                                      avg,
                                      pct(w->whistle_rate, p7, sizeof p7) };
                table_add(&tb, row);
            }
        }
        if (r->n_rows)
            table_print(&tb, stdout);
        else
            fprintf(stderr, _("(no cases from %s to %s)\n"), r->from, r->to);
        table_free(&tb);
    }
}

/* ---------------------------------------------------------------- table */

static const cmd_opt extend_opts[] = {
    { "minutes", "N", N_("N more minutes") },
    { "hours", "N", N_("N more hours") },
    { "days", "N", N_("N more days (calendar days)") },
    { "working-hours", "N", N_("N more working hours (on the working calendar)") },
    { "working-days", "N", N_("N more working days") },
    { "reason", "TEXT", N_("why more time is needed (required)") },
    { NULL, NULL, NULL },
};
static const cmd_opt extension_opts[] = {
    { "approve", NULL, N_("grant it: the resolve deadline moves") },
    { "refuse", NULL, N_("refuse it (give the reason with --note)") },
    { "note", "TEXT", N_("the operator's note") },
    { NULL, NULL, NULL },
};
static const cmd_opt reason_opts[] = { { "reason", "TEXT", N_("why (required)") }, { NULL, NULL, NULL } };
/* `whistle city ...` never parses its arguments here: cli_run hands them
 * to whistle-city as they are (city.c); this row names it in the help. */
static const cmd_opt city_opts[] = { { NULL, NULL, NULL } };
static int run_city(cli *x, args *a)
{
    (void)a;
    char *argv[] = { "city", NULL };
    return cli_city(x, 1, argv);
}

static const cmd_opt transfer_opts[] = {
    { "reason", "TEXT", N_("why it belongs there (required)") },
    { "node", "CODE", N_("a place of the receiving district, if known") },
    { NULL, NULL, NULL },
};
static const cmd_opt note_opts[] = { { "note", "TEXT", N_("a note for the timeline") }, { NULL, NULL, NULL } };
static const cmd_opt merge_opts[] = {
    { "into", "TICKET", N_("the earlier case this one duplicates (required)") },
    { "note", "TEXT", N_("a note for the timeline") },
    { NULL, NULL, NULL },
};
static const cmd_opt emergency_opts[] = {
    { "node", "CODE", N_("where the button is (default: your own place)") },
    { "device", "ID", N_("the terminal's or sensor's id") },
    { "contact", "PHONE", N_("a phone number to call back") },
    { NULL, NULL, NULL },
};
static const cmd_opt supervision_opts[] = {
    { "open", NULL, N_("only the open ones") },
    { "dept", "D", N_("only this department's") },
    { "node", "CODE", N_("only this subtree (default: your scope)") },
    { "limit", "N", N_("page size (server default 50, at most 500)") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt stats_opts[] = {
    { "by", "DIM", N_("department, district, street (default), community, grid") },
    { "period", "P", N_("day, week, month (default)") },
    { "from", "DATE", N_("YYYY-MM-DD: the first period holds it (default: 14 days, 8 weeks, 12 months back)") },
    { "to", "DATE", N_("YYYY-MM-DD: the last period holds it (default: today)") },
    { "code", "C,D", N_("only these departments or places (default: all in your scope)") },
    { "totals", NULL, N_("add a total row per code over the range") },
    { "csv", NULL, N_("print CSV: every counter and rate, one line per row") },
    { NULL, NULL, NULL },
};

const cmd cli_oversight_commands[] = {
    { "extend", "ORDER --hours N|--working-days N|... --reason TEXT",
      N_("Ask the operator for more time on a dispatch order (延期)."), extend_opts, 1, 1,
      .call = CALL(REQUEST_EXTENSION),
      .bind = BINDS(B_ORDER(0, "order_id", BAD_ORDER, true), B_NEED("reason", "reason")), .build = build_extend,
      .print = print_oversight },
    { "extension", "ORDER --approve|--refuse [--note TEXT]", N_("Approve or refuse an order's extension request."),
      extension_opts, 1, 1, .call = CALL(DECIDE_EXTENSION),
      .bind =
          BINDS(B_ORDER(0, "order_id", BAD_ORDER, true),
                B_EITHER("approve", "refuse", "approve", N_("extension: give exactly one of --approve and --refuse")),
                B_OPT("note", "note")),
      .print = print_oversight },
    { "stage", "ORDER N [--note TEXT]", N_("Report stage N of a staged order done."), note_opts, 2, 2,
      .call = CALL(REPORT_STAGE), .bind = BINDS(B_ORDER(0, "order_id", BAD_ORDER, true), B_OPT("note", "note")),
      .build = build_stage, .print = print_oversight },
    { "park", "TICKET --reason TEXT", N_("Put a case in the problem pool: its deadlines stop (挂账)."), reason_opts, 1,
      1, .call = CALL(PARK), .bind = BINDS(B_NEED("reason", "reason"), B_TICKET(0, "ticket")),
      .print = print_oversight },
    { "unpark", "TICKET [--note TEXT]", N_("Take a case out of the pool: its deadlines move by the time parked."),
      note_opts, 1, 1, .call = CALL(UNPARK), .bind = BINDS(B_TICKET(0, "ticket"), B_OPT("note", "note")),
      .print = print_oversight },
    { "reopen", "TICKET --reason TEXT", N_("Reopen a closed case after a dissatisfied rating."), reason_opts, 1, 1,
      .call = CALL(REOPEN), .bind = BINDS(B_NEED("reason", "reason"), B_TICKET(0, "ticket")),
      .print = print_oversight },
    { "merge", "TICKET --into EARLIER [--note TEXT]",
      N_("Merge a duplicate into the earlier case; its reporter follows that one."), merge_opts, 1, 1,
      .call = CALL(MERGE), .bind = BINDS(B_TICKET_NEED("into", "into"), B_TICKET(0, "ticket"), B_OPT("note", "note")),
      .print = print_oversight },
    { "supervision", "[--open] [--dept D] [--node CODE] [--all]",
      N_("List supervision records (督办) of missed deadlines."), supervision_opts, 0, 0,
      .call = CALL(LIST_SUPERVISIONS),
      .bind = BINDS(B_FLAG("open", "open_only"), B_OPT("dept", "department"), B_OPT("node", "node")),
      .build = build_supervision, .result = RESULT(SUPERVISIONS), .list = &supervision_list },
    { "emergency", "[--node CODE] [--device ID] [TEXT...]", N_("The one-key emergency call (一键呼叫)."),
      emergency_opts, 0, -1, .call = CALL(EMERGENCY_CALL),
      .bind = BINDS(B_OPT("node", "node"), B_OPT("device", "device"), B_OPT("contact", "contact"),
                    B_TEXT(0, "description")),
      .print = print_oversight },
    { "transfer", "TICKET DISTRICT --reason TEXT [--node CODE]",
      N_("Hand a case placed in the wrong district to that district (a federated city); it closes here."),
      transfer_opts, 2, 2, .call = CALL(TRANSFER),
      .bind = BINDS(B_TICKET(0, "ticket"), B_POS(1, "to_district"), B_NEED("reason", "reason"), B_OPT("node", "node")),
      .print = print_oversight },
    { "city", "COMMAND ...",
      N_("The city's side of a federation (runs whistle-city): a city department's orders, checkin, feedback; "
         "unrouted and place."),
      city_opts, 0, -1, .run = run_city },
    { "stats", "[--by DIM] [--period P] [--from DATE] [--to DATE] [--code C] [--csv] | --city [--month YYYYMM]",
      N_("Response, resolution, satisfaction, close and on-time rates, and more."), stats_opts, 0, 0,
      .call = CALL(GET_STATS), .bind = BINDS(B_OPT("from", "from"), B_OPT("to", "to"), B_FLAG("totals", "totals")),
      .build = build_stats, .result = RESULT(STATS), .print = print_stats },
    { .name = NULL },
};
