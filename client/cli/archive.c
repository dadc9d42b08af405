/* archive.c: the CLI's resident archive, visits and echo board
 * (docs/archive.md):
 *
 *   whistle archive import|export|list|show|resident|tag ...   (一本档案)
 *   whistle visit add|list|due ...                             (民情走访)
 *   whistle board post|list|withdraw ...                       (民情回音栏)
 *   whistle stats archive ...
 *
 * Each group is a row of cli_archive_commands handing its words to
 * cli_group_main (admin.c), which finds the subcommand here. The server
 * masks ID-card numbers and phones and audits every read; a read of a
 * person needs --reason, which the audit log keeps. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define AF(x) WHISTLE__V1__ARCHIVE_FIELD__ARCHIVE_FIELD_##x

static void response_release(void *p) { whistle_response_free(p); }

static int parse_id(const char *cmdname, const char *s, uint64_t *out)
{
    if (cli_parse_order(s, out) < 0)
        return cli_usage_error(_("%s: bad number '%s'"), cmdname, s);
    return 0;
}

static const char *tags_text(char **a, size_t na, char **b, size_t nb, char *buf, size_t len)
{
    buf[0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < na + nb; i++) {
        const char *t = i < na ? a[i] : b[i - na];
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(t, j < na ? a[j] : b[j - na]) == 0;
        if (!dup && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", t);
    }
    return buf;
}

/* ---------------------------------------------------------------- households */

static const char *const hh_header[] = { N_("HOUSEHOLD"), N_("PLACE"),   N_("ADDRESS"),
                                         N_("TAGS"),      N_("VISITED"), N_("DUE") };

static void hh_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__ArchiveHousehold *h = item;
    char id[24], addr[256], tags[256], last[64], due[80];
    snprintf(id, sizeof id, "%" PRIu64, h->id);
    snprintf(addr, sizeof addr, "%s %s %s", h->building, h->unit, h->room);
    cli_local_time(h->last_visit_ms, false, last, sizeof last);
    if (h->visit_due_ms) {
        char t[64];
        snprintf(due, sizeof due, "%s%s", cli_local_time(h->visit_due_ms, false, t, sizeof t),
                 h->overdue ? _(" OVERDUE") : "");
    } else
        snprintf(due, sizeof due, "-");
    const char *row[] = { id,   cli_or(cli_node_name(x, h->node), h->node),
                          addr, tags_text(h->tags, h->n_tags, h->member_tags, h->n_member_tags, tags, sizeof tags),
                          last, due };
    table_add(tb, row);
}

static const char *hh_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__ArchiveHousehold *)item)->id);
    return buf;
}

static const cli_list households_list = {
    .items = "households",
    .cursor = "after_id",
    .next = "next_after",
    .more = N_("(more households: use --all)"),
    .table = { 6, hh_header, { { 1, 16 }, { 3, 30 } } },
    .row = hh_row,
    .id = hh_id,
};

static const cli_list due_list = {
    .items = "households",
    .table = { 6, hh_header, { { 1, 16 }, { 3, 30 } } },
    .row = hh_row,
    .id = hh_id,
};

static void print_household(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__ArchiveHousehold *h = resp->household;
    cli_list_print(x, &households_list, (ProtobufCMessage *const *)&resp->household, 1);
    if (!h->n_members)
        return;
    static const char *const rh[] = { N_("RESIDENT"),  N_("NAME"),  N_("RELATION"), N_("BORN"),
                                      N_("ID NUMBER"), N_("PHONE"), N_("TAGS") };
    table tb;
    table_init(&tb, 7, rh);
    for (size_t i = 0; i < h->n_members; i++) {
        const Whistle__V1__ArchiveResident *r = h->members[i];
        char id[24], tags[256];
        snprintf(id, sizeof id, "%" PRIu64 "%s", r->id, r->removed ? "*" : "");
        const char *row[] = { id,
                              r->name,
                              r->relation,
                              r->birth_date,
                              r->id_number,
                              r->phone,
                              tags_text(r->tags, r->n_tags, NULL, 0, tags, sizeof tags) };
        table_add(&tb, row);
    }
    fputc('\n', stdout);
    table_print(&tb, stdout);
    table_free(&tb);
    if (h->paired_with && *h->paired_with)
        kv_print(stdout, _("paired with"), h->paired_with, false);
}

static int build_show(cli *x, args *a, void *msg)
{
    return parse_id("archive show", a->pos[0], &((Whistle__V1__GetHousehold *)msg)->id);
}

static void print_resident(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__ArchiveResident *r = resp->resident;
    char id[24], hh[24], tags[256];
    snprintf(id, sizeof id, "%" PRIu64, r->id);
    snprintf(hh, sizeof hh, "%" PRIu64, r->household_id);
    kv_print(stdout, _("resident"), id, true);
    kv_print(stdout, _("household"), hh, true);
    kv_print(stdout, _("name"), r->name, true);
    kv_print(stdout, _("relation"), r->relation, false);
    kv_print(stdout, _("born"), r->birth_date, false);
    kv_print(stdout, _("ID number"), r->id_number, false);
    kv_print(stdout, _("phone"), r->phone, false);
    kv_print(stdout, _("tags"), tags_text(r->tags, r->n_tags, NULL, 0, tags, sizeof tags), false);
    if (r->revealed != AF(NONE))
        fprintf(stderr, "%s\n", _("whistle: one field is shown in clear; the reveal and its reason are audited"));
}

static int build_resident(cli *x, args *a, void *msg)
{
    Whistle__V1__GetResident *g = msg;
    if (parse_id("archive resident", a->pos[0], &g->id))
        return EXIT_USAGE;
    const char *s = cli_opt(a, "reveal");
    if (s) {
        if (strcmp(s, "id") == 0 || strcmp(s, "id_number") == 0)
            g->reveal = AF(ID_NUMBER);
        else if (strcmp(s, "phone") == 0)
            g->reveal = AF(PHONE);
        else
            return cli_usage_error(_("archive resident: bad --reveal '%s' (id or phone)"), s);
    }
    return 0;
}

/* archive pair HOUSEHOLD NAME | --none: the household as it is (read with
 * the pairing as its reason, audited), written back with paired_with. */
static int run_pair(cli *x, args *a)
{
    Whistle__V1__GetHousehold g = WHISTLE__V1__GET_HOUSEHOLD__INIT;
    if (parse_id("archive pair", a->pos[0], &g.id))
        return EXIT_USAGE;
    bool none = cli_flag(a, "none");
    if (none == (a->npos > 1))
        return cli_usage_error(_("archive pair: give the party member's or volunteer's name, or --none"));
    g.reason = (char *)"pairing (联户对子)";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, CALL(GET_HOUSEHOLD), &g);
    Whistle__V1__Response *cur;
    int rc = cli_call(x, &req, &cur);
    if (rc)
        return rc;
    cli_keep(a, cur, response_release);
    if (cur->result_case != RESULT(HOUSEHOLD))
        return cli_fail(EXIT_SERVER, "%s", _("the server sent no household"));
    Whistle__V1__ArchiveHousehold *h = cur->household;
    /* the answer owns its strings: the name is lent for the call only */
    char *was = h->paired_with;
    h->paired_with = none ? (char *)"" : a->pos[1];
    Whistle__V1__PutHousehold p = WHISTLE__V1__PUT_HOUSEHOLD__INIT;
    p.household = h;
    Whistle__V1__Request req2 = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req2, CALL(PUT_HOUSEHOLD), &p);
    Whistle__V1__Response *resp;
    rc = cli_call(x, &req2, &resp);
    h->paired_with = was;
    if (rc)
        return rc;
    if (x->json)
        cli_print_json(resp);
    else if (resp->result_case == RESULT(HOUSEHOLD))
        cli_list_print(x, &households_list, (ProtobufCMessage *const *)&resp->household, 1);
    whistle_response_free(resp);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- import, export */

static void print_import(cli *x, const Whistle__V1__ArchiveImportResult *r, bool units)
{
    if (units) {
        printf(_("%s: %u units added, %u updated\n"), r->applied ? _("imported") : _("checked, nothing changed"),
               r->units_added, r->units_updated);
        return;
    }
    printf(_("%s: %u households added, %u residents added, %u updated\n"),
           r->applied ? _("imported") : _("checked, nothing changed"), r->households_added, r->residents_added,
           r->residents_updated);
}

static int run_import(cli *x, args *a)
{
    Whistle__V1__ImportArchive im = WHISTLE__V1__IMPORT_ARCHIVE__INIT;
    im.node = (char *)cli_opt(a, "node");
    im.dry_run = cli_flag(a, "check");
    im.units = cli_flag(a, "units");
    const char *path = a->pos[0], *slash = strrchr(path, '/');
    im.source = (char *)(slash ? slash + 1 : path);
    uint8_t *data;
    size_t len;
    int rc = cli_read_file(path, &data, &len);
    if (rc)
        return rc;
    im.data.data = data;
    im.data.len = len;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, CALL(IMPORT_ARCHIVE), &im);
    Whistle__V1__Response *resp;
    rc = cli_call(x, &req, &resp);
    free(data);
    if (rc)
        return rc;
    if (x->json)
        cli_print_json(resp);
    else if (resp->result_case == RESULT(ARCHIVE_IMPORT))
        print_import(x, resp->archive_import, im.units);
    whistle_response_free(resp);
    return EXIT_OK;
}

static void print_export(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    fputs(resp->archive_export->data, stdout);
    fprintf(stderr, _("whistle: %u residents exported in clear; the export is in the audit log\n"),
            resp->archive_export->residents);
}

/* ---------------------------------------------------------------- care tags */

static const char *const tag_header[] = { NC_("tag", "TAG"), N_("NAME"), N_("VISIT EVERY (DAYS)") };

static void tag_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__CareTag *t = item;
    char days[16];
    snprintf(days, sizeof days, "%u", t->rhythm_days);
    const char *row[] = { t->code, uitext_pick(t->name_zh, t->name_en), t->rhythm_days ? days : "-" };
    table_add(tb, row);
}

static const cli_list tags_list = {
    .items = "tags",
    .table = { 3, tag_header, { { 1, 24 }, { 0, 0 } } },
    .row = tag_row,
};

/* archive tag set CODE NAME_ZH [--en NAME] [--days N] | --remove: the
 * city's list read, changed in one row, and set again. */
static int run_tag_set(cli *x, args *a)
{
    const char *code = a->pos[0];
    uint64_t days = 0;
    const char *s = cli_opt(a, "days");
    if (s && cli_parse_u64(s, 366, &days) < 0)
        return cli_usage_error(_("archive tag set: bad --days '%s' (0 to 366)"), s);
    bool remove = cli_flag(a, "remove");
    if (!remove && a->npos < 2)
        return cli_usage_error(_("archive tag set: give the tag's Chinese name (or --remove)"));
    Whistle__V1__ListCareTags lt = WHISTLE__V1__LIST_CARE_TAGS__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, CALL(LIST_CARE_TAGS), &lt);
    Whistle__V1__Response *cur;
    int rc = cli_call(x, &req, &cur);
    if (rc)
        return rc;
    cli_keep(a, cur, response_release);
    if (cur->result_case != RESULT(CARE_TAGS))
        return cli_fail(EXIT_SERVER, "%s", _("the server sent no care tags"));
    const Whistle__V1__CareTagList *l = cur->care_tags;
    Whistle__V1__CareTag **tags = cli_keep(a, calloc(l->n_tags + 1, sizeof *tags), free);
    Whistle__V1__CareTag *mine = cli_keep(a, calloc(1, sizeof *mine), free);
    if (!tags || !mine)
        return EXIT_CONN;
    whistle__v1__care_tag__init(mine);
    mine->code = (char *)code;
    mine->name_zh = a->npos > 1 ? a->pos[1] : (char *)"";
    mine->name_en = (char *)(cli_opt(a, "en") ? cli_opt(a, "en") : "");
    mine->rhythm_days = (uint32_t)days;
    size_t n = 0;
    bool found = false;
    for (size_t i = 0; i < l->n_tags; i++) {
        if (strcmp(l->tags[i]->code, code) == 0) {
            found = true;
            if (!remove) {
                if (!cli_opt(a, "en"))
                    mine->name_en = l->tags[i]->name_en;
                if (!s)
                    mine->rhythm_days = l->tags[i]->rhythm_days;
                tags[n++] = mine;
            }
        } else
            tags[n++] = l->tags[i];
    }
    if (remove && !found)
        return cli_usage_error(_("archive tag set: no tag '%s' to remove"), code);
    if (!found)
        tags[n++] = mine;
    Whistle__V1__SetCareTags st = WHISTLE__V1__SET_CARE_TAGS__INIT;
    st.tags = tags;
    st.n_tags = n;
    Whistle__V1__Request req2 = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req2, CALL(SET_CARE_TAGS), &st);
    Whistle__V1__Response *resp;
    if ((rc = cli_call(x, &req2, &resp)))
        return rc;
    if (x->json)
        cli_print_json(resp);
    else if (resp->result_case == RESULT(CARE_TAGS))
        cli_list_print(x, &tags_list, (ProtobufCMessage *const *)resp->care_tags->tags, resp->care_tags->n_tags);
    whistle_response_free(resp);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- visits */

static const struct {
    const char *word;
    Whistle__V1__VisitKind kind;
} visit_kinds[] = {
    { "daily", WHISTLE__V1__VISIT_KIND__VISIT_KIND_UNSPECIFIED },
    { "comfort", WHISTLE__V1__VISIT_KIND__VISIT_KIND_COMFORT },
    { "material", WHISTLE__V1__VISIT_KIND__VISIT_KIND_MATERIAL },
    { "companionship", WHISTLE__V1__VISIT_KIND__VISIT_KIND_COMPANIONSHIP },
    { "cultural", WHISTLE__V1__VISIT_KIND__VISIT_KIND_CULTURAL },
    { "policy", WHISTLE__V1__VISIT_KIND__VISIT_KIND_POLICY },
    { "new_year", WHISTLE__V1__VISIT_KIND__VISIT_KIND_NEW_YEAR },
    { "cadre", WHISTLE__V1__VISIT_KIND__VISIT_KIND_CADRE },
    { "other", WHISTLE__V1__VISIT_KIND__VISIT_KIND_OTHER },
};
#define VISIT_KIND_WORDS "daily, comfort, material, companionship, cultural, policy, new_year, cadre, other"

static const char *visit_kind_word(Whistle__V1__VisitKind k)
{
    for (size_t i = 0; i < sizeof visit_kinds / sizeof *visit_kinds; i++)
        if (visit_kinds[i].kind == k)
            return visit_kinds[i].word;
    return "?";
}

static int build_visit_add(cli *x, args *a, void *msg)
{
    Whistle__V1__RecordVisit *v = msg;
    if (parse_id("visit add", a->pos[0], &v->household_id))
        return EXIT_USAGE;
    const char *s;
    if ((s = cli_opt(a, "kind"))) {
        bool ok = false;
        for (size_t i = 0; i < sizeof visit_kinds / sizeof *visit_kinds; i++)
            if (strcmp(s, visit_kinds[i].word) == 0) {
                v->kind = visit_kinds[i].kind;
                ok = true;
            }
        if (!ok)
            return cli_usage_error(_("visit add: bad --kind '%s' (%s)"), s, VISIT_KIND_WORDS);
    }
    if ((s = cli_opt(a, "at")) && cli_parse_time(s, &v->at_ms) < 0)
        return cli_usage_error(_("visit add: bad --at '%s' (2026-12-01 09:30, -2h)"), s);
    if ((s = cli_opt(a, "case"))) {
        if (!v->follow_up || !*v->follow_up)
            return cli_usage_error(_("visit add: --case needs --follow-up, the need that becomes the case"));
        v->open_case = true;
        v->category = (char *)s;
    }
    return cli_photos_for(x, a, &v->photos, &v->n_photos);
}

static void print_visit(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__Visit *v = resp->visit;
    if (x->quiet) {
        printf("%" PRIu64 "\n", v->id);
        return;
    }
    char t[64], id[24], hh[24];
    snprintf(id, sizeof id, "%" PRIu64, v->id);
    snprintf(hh, sizeof hh, "%" PRIu64, v->household_id);
    printf(_("visit %s to household %s recorded (%s, %s)\n"), id, hh, visit_kind_word(v->kind),
           cli_local_time(v->at_ms, false, t, sizeof t));
    if (v->ticket && *v->ticket)
        printf(_("the follow-up is case %s\n"), v->ticket);
    for (size_t i = 0; i < v->n_photos; i++)
        printf(_("photo #%llu (%ux%u): whistle photo get %llu -o FILE\n"), (unsigned long long)v->photos[i]->id,
               v->photos[i]->width, v->photos[i]->height, (unsigned long long)v->photos[i]->id);
}

static const char *const visit_header[] = { N_("VISIT"), N_("HOUSEHOLD"), N_("WHEN"), NC_("visit", "KIND"),
                                            N_("BY"),    N_("CASE"),      N_("NOTES") };

static void visit_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Visit *v = item;
    char id[24], hh[24], t[64];
    snprintf(id, sizeof id, "%" PRIu64, v->id);
    snprintf(hh, sizeof hh, "%" PRIu64, v->household_id);
    const char *row[] = {
        id, hh, cli_local_time(v->at_ms, false, t, sizeof t), visit_kind_word(v->kind), v->visitor, v->ticket, v->notes
    };
    table_add(tb, row);
}

static const cli_list visits_list = {
    .items = "visits",
    .cursor = "after_id",
    .next = "next_after",
    .more = N_("(more visits: use --all)"),
    .table = { 7, visit_header, { { 4, 16 }, { 0, 0 } } },
    .row = visit_row,
};

static int build_visit_list(cli *x, args *a, void *msg)
{
    Whistle__V1__ListVisits *l = msg;
    const char *s;
    if ((s = cli_opt(a, "household")) && parse_id("visit list", s, &l->household_id))
        return EXIT_USAGE;
    if ((s = cli_opt(a, "from")) && cli_parse_time(s, &l->from_ms) < 0)
        return cli_usage_error(_("visit list: bad --from '%s'"), s);
    if ((s = cli_opt(a, "to")) && cli_parse_time(s, &l->to_ms) < 0)
        return cli_usage_error(_("visit list: bad --to '%s'"), s);
    return 0;
}

static int build_visit_due(cli *x, args *a, void *msg)
{
    Whistle__V1__ListVisitsDue *d = msg;
    const char *s = cli_opt(a, "within");
    uint64_t days = 0;
    if (s && cli_parse_u64(s, 366, &days) < 0)
        return cli_usage_error(_("visit due: bad --within '%s' (days, 0 to 366)"), s);
    if (days) {
        int64_t now;
        cli_parse_time("+0d", &now);
        d->before_ms = now + (int64_t)days * 86400000LL;
    }
    return 0;
}

/* ---------------------------------------------------------------- the board */

static const struct {
    const char *word;
    Whistle__V1__BoardKind kind;
} board_kinds[] = {
    { "notice", WHISTLE__V1__BOARD_KIND__BOARD_KIND_UNSPECIFIED },
    { "reply", WHISTLE__V1__BOARD_KIND__BOARD_KIND_REPLY },
    { "decision", WHISTLE__V1__BOARD_KIND__BOARD_KIND_DECISION },
    { "update", WHISTLE__V1__BOARD_KIND__BOARD_KIND_WORK_UPDATE },
};

static const char *board_kind_word(Whistle__V1__BoardKind k)
{
    for (size_t i = 0; i < sizeof board_kinds / sizeof *board_kinds; i++)
        if (board_kinds[i].kind == k)
            return board_kinds[i].word;
    return "?";
}

static int build_board_post(cli *x, args *a, void *msg)
{
    Whistle__V1__PostNotice *p = msg;
    Whistle__V1__BoardNotice *n = p->notice;
    const char *s;
    if ((s = cli_opt(a, "kind"))) {
        bool ok = false;
        for (size_t i = 0; i < sizeof board_kinds / sizeof *board_kinds; i++)
            if (strcmp(s, board_kinds[i].word) == 0) {
                n->kind = board_kinds[i].kind;
                ok = true;
            }
        if (!ok)
            return cli_usage_error(_("board post: bad --kind '%s' (notice, reply, decision, update)"), s);
    }
    if ((s = cli_opt(a, "from")) && cli_parse_time(s, &n->from_ms) < 0)
        return cli_usage_error(_("board post: bad --from '%s'"), s);
    if ((s = cli_opt(a, "until")) && cli_parse_time(s, &n->until_ms) < 0)
        return cli_usage_error(_("board post: bad --until '%s'"), s);
    if ((!n->body || !*n->body) && (!n->ticket || !*n->ticket))
        return cli_usage_error(_("board post: give the text (--body) or a closed case to publish (--case)"));
    return 0;
}

static const char *const board_header[] = { N_("NOTICE"), N_("PLACE"), NC_("notice", "KIND"),
                                            N_("UNTIL"),  N_("TITLE"), N_("TEXT") };

static void board_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__BoardNotice *n = item;
    char id[24], t[64];
    snprintf(id, sizeof id, "%" PRIu64 "%s", n->id, n->withdrawn ? "-" : "");
    const char *row[] = { id,
                          cli_or(cli_node_name(x, n->node), n->node),
                          board_kind_word(n->kind),
                          cli_local_time(n->until_ms, false, t, sizeof t),
                          n->title,
                          n->body };
    table_add(tb, row);
}

static const char *board_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__BoardNotice *)item)->id);
    return buf;
}

static const cli_list board_list = {
    .items = "notices",
    .cursor = "after_id",
    .next = "next_after",
    .descending = true,
    .more = N_("(more notices: use --all)"),
    .table = { 6, board_header, { { 1, 16 }, { 4, 30 } } },
    .row = board_row,
    .id = board_id,
};

static void print_notice(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    cli_list_print(x, &board_list, (ProtobufCMessage *const *)&resp->notice, 1);
}

static int build_withdraw(cli *x, args *a, void *msg)
{
    return parse_id("board withdraw", a->pos[0], &((Whistle__V1__WithdrawNotice *)msg)->id);
}

/* ---------------------------------------------------------------- statistics */

static int build_stats(cli *x, args *a, void *msg)
{
    Whistle__V1__GetArchiveStats *g = msg;
    const char *s = cli_opt(a, "period");
    if (s) {
        if (strcmp(s, "week") == 0)
            g->period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_WEEK;
        else if (strcmp(s, "month") == 0)
            g->period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
        else
            return cli_usage_error(_("stats archive: bad --period '%s' (week or month)"), s);
    }
    return 0;
}

static const char *measure_word(const char *m)
{
    if (strcmp(m, "visits_by_worker") == 0)
        return _("visits by worker");
    if (strcmp(m, "visits_by_grid") == 0)
        return _("visits by grid");
    if (strcmp(m, "overdue") == 0)
        return _("overdue special-care visits");
    if (strcmp(m, "households_by_tag") == 0)
        return _("households by tag");
    if (strcmp(m, "households") == 0)
        return _("households");
    return m;
}

static void print_stats(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__ArchiveStatsResult *r = resp->archive_stats;
    if (cli_flag(a, "csv")) {
        printf("measure,code,bucket,count\n");
        for (size_t i = 0; i < r->n_rows; i++)
            printf("%s,%s,%s,%" PRIu64 "\n", r->rows[i]->measure, r->rows[i]->code, r->rows[i]->bucket,
                   r->rows[i]->count);
        return;
    }
    static const char *const h[] = { N_("MEASURE"), N_("CODE"), N_("PERIOD"), N_("COUNT") };
    table tb;
    table_init(&tb, 4, h);
    for (size_t i = 0; i < r->n_rows; i++) {
        const Whistle__V1__ArchiveStatsRow *w = r->rows[i];
        char n[24];
        snprintf(n, sizeof n, "%" PRIu64, w->count);
        const char *code = w->code;
        if (strcmp(w->measure, "visits_by_grid") == 0 || strcmp(w->measure, "overdue") == 0)
            code = cli_or(cli_node_name(x, w->code), w->code);
        const char *row[] = { measure_word(w->measure), code, strcmp(w->bucket, "now") == 0 ? _("now") : w->bucket, n };
        table_add(&tb, row);
    }
    table_print(&tb, stdout);
    table_free(&tb);
}

/* ---------------------------------------------------------------- tables */

static const cmd_opt none[] = { { NULL, NULL, NULL } };
static const cmd_opt import_opts[] = {
    { "node", "CODE", N_("the grid (or community, street) the file is for: every line's grid lies under it") },
    { "check", NULL, N_("check the file and count what it would add; change nothing") },
    { "units", NULL,
      N_("the file lists shops, stationed units, social organisations, property companies, owners' committees") },
    { NULL, NULL, NULL },
};
static const cmd_opt export_opts[] = {
    { "node", "CODE", N_("only this place (default: the whole city)") },
    { "reason", "TEXT", N_("why the personal data leaves the system (required; audited)") },
    { NULL, NULL, NULL },
};
static const cmd_opt list_opts[] = {
    { "node", "CODE", N_("only this place (default: your scope)") },
    { "tag", "TAG", N_("only households with this care tag") },
    { "reason", "TEXT", N_("why (audited)") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt reason_opts[] = {
    { "reason", "TEXT", N_("why the record is read (required; audited)") },
    { NULL, NULL, NULL },
};
static const cmd_opt resident_opts[] = {
    { "reason", "TEXT", N_("why the record is read (required; audited)") },
    { "reveal", "FIELD", N_("show one field in clear: id or phone (where your role may; audited)") },
    { NULL, NULL, NULL },
};
static const cmd_opt pair_opts[] = {
    { "none", NULL, N_("end the pairing") },
    { NULL, NULL, NULL },
};
static const cmd_opt tag_set_opts[] = {
    { "en", "NAME", N_("the tag's English name") },
    { "days", "N", N_("visit its households every N days (0: no rhythm)") },
    { "remove", NULL, N_("take the tag off the city's list") },
    { NULL, NULL, NULL },
};
static const cmd_opt visit_add_opts[] = {
    { "kind", "K", N_("daily (default), comfort, material, companionship, cultural, policy, new_year, cadre, other") },
    { "notes", "TEXT", N_("what was seen and said") },
    { "at", "TIME", N_("when (default now; at most 90 days back)") },
    { "follow-up", "TEXT", N_("a need found on the visit") },
    { "case", "CATEGORY", N_("report the follow-up as a case of this category, in the same step") },
    { "photo", "FILE", N_("a JPEG or PNG photo of the visit (repeat for more; the archive's, not the case's)") },
    { NULL, NULL, NULL },
};
static const cmd_opt visit_list_opts[] = {
    { "node", "CODE", N_("only this place (default: your scope)") },
    { "household", "ID", N_("only this household's visits") },
    { "from", "TIME", N_("visits from") },
    { "to", "TIME", N_("visits until (default now)") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt visit_due_opts[] = {
    { "node", "CODE", N_("only this place (default: your scope)") },
    { "within", "DAYS", N_("also those due in the next DAYS days") },
    { NULL, NULL, NULL },
};
static const cmd_opt board_post_opts[] = {
    { "title", "TEXT", N_("the notice's title (required)") },
    { "body", "TEXT", N_("its text") },
    { "kind", "K", N_("notice (default), reply, decision, update") },
    { "case", "TICKET", N_("publish this closed case (its category, place and dates; nothing the resident wrote)") },
    { "from", "TIME", N_("shown from (default now)") },
    { "until", "TIME", N_("shown until (default 30 days on)") },
    { NULL, NULL, NULL },
};
static const cmd_opt board_list_opts[] = {
    { "node", "CODE", N_("the place whose board (default: your scope)") },
    { "inactive", NULL, N_("withdrawn and out-of-window notices too") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt withdraw_opts[] = {
    { "reason", "TEXT", N_("why (required)") },
    { NULL, NULL, NULL },
};
static const cmd_opt stats_opts[] = {
    { "node", "CODE", N_("only this place (default: your scope)") },
    { "period", "P", N_("week or month (default)") },
    { "from", "DATE", N_("YYYY-MM-DD (default: 90 days back)") },
    { "to", "DATE", N_("YYYY-MM-DD (default: today)") },
    { "csv", NULL, N_("print CSV") },
    { NULL, NULL, NULL },
};

const cmd cli_archive_subcommands[] = {
    { "archive import", "FILE.csv --node CODE [--check] [--units]",
      N_("Import households and residents from a spreadsheet (CSV, one resident a line); a bad line changes "
         "nothing."),
      import_opts, 1, 1, .run = run_import },
    { "archive export", "--reason TEXT [--node CODE]",
      N_("Export the archive with ID numbers and phones in clear (admins; audited; the first line says so)."),
      export_opts, 0, 0, .call = CALL(EXPORT_ARCHIVE), .bind = BINDS(B_NEED("reason", "reason"), B_OPT("node", "node")),
      .result = RESULT(ARCHIVE_EXPORT), .print = print_export },
    { "archive list", "[--node CODE] [--tag TAG] [--reason TEXT] [--all]",
      N_("List households: address, care tags, last visit, next visit due."), list_opts, 0, 0,
      .call = CALL(LIST_HOUSEHOLDS),
      .bind = BINDS(B_OPT("node", "node"), B_OPT("tag", "tag"), B_OPT("reason", "reason")),
      .result = RESULT(HOUSEHOLDS), .list = &households_list },
    { "archive show", "HOUSEHOLD --reason TEXT",
      N_("Show a household and its residents (ID numbers and phones masked)."), reason_opts, 1, 1,
      .call = CALL(GET_HOUSEHOLD), .bind = BINDS(B_NEED("reason", "reason")), .build = build_show,
      .result = RESULT(HOUSEHOLD), .print = print_household },
    { "archive resident", "RESIDENT --reason TEXT [--reveal id|phone]",
      N_("Show a resident; --reveal shows one field in clear where your role may."), resident_opts, 1, 1,
      .call = CALL(GET_RESIDENT), .bind = BINDS(B_NEED("reason", "reason")), .build = build_resident,
      .result = RESULT(RESIDENT), .print = print_resident },
    { "archive pair", "HOUSEHOLD NAME | HOUSEHOLD --none",
      N_("Pair a party member or volunteer with a household (联户对子)."), pair_opts, 1, 2, .run = run_pair },
    { "archive tag list", "", N_("The city's care tags and their visit rhythms."), none, 0, 0,
      .call = CALL(LIST_CARE_TAGS), .result = RESULT(CARE_TAGS), .list = &tags_list },
    { "archive tag set", "CODE NAME_ZH [--en NAME] [--days N] | CODE --remove",
      N_("Add or change a care tag (admins); households' rhythms follow."), tag_set_opts, 1, 2, .run = run_tag_set },
    { "visit add", "HOUSEHOLD [--kind K] [--notes TEXT] [--follow-up TEXT [--case CATEGORY]] [--photo FILE]",
      N_("Record a visit to a household; a follow-up need may become a case at once."), visit_add_opts, 1, 1,
      .call = CALL(RECORD_VISIT), .bind = BINDS(B_OPT("notes", "notes"), B_OPT("follow-up", "follow_up")),
      .build = build_visit_add, .result = RESULT(VISIT), .print = print_visit },
    { "visit list", "[--node CODE] [--household ID] [--from TIME] [--to TIME] [--all]",
      N_("List visits, in the order recorded."), visit_list_opts, 0, 0, .call = CALL(LIST_VISITS),
      .bind = BINDS(B_OPT("node", "node")), .build = build_visit_list, .result = RESULT(VISITS), .list = &visits_list },
    { "visit due", "[--node CODE] [--within DAYS]",
      N_("Households whose visit is due or overdue, the most overdue first."), visit_due_opts, 0, 0,
      .call = CALL(LIST_VISITS_DUE), .bind = BINDS(B_OPT("node", "node")), .build = build_visit_due,
      .result = RESULT(HOUSEHOLDS), .list = &due_list },
    { "board post", "NODE --title TEXT (--body TEXT | --case TICKET) [--kind K] [--until TIME]",
      N_("Post a notice on a street's, community's or grid's echo board (民情回音栏)."), board_post_opts, 1, 1,
      .call = CALL(POST_NOTICE),
      .bind = BINDS(B_POS(0, "notice.node"), B_NEED("title", "notice.title"), B_OPT("body", "notice.body"),
                    B_TICKET_OPT("case", "notice.ticket")),
      .build = build_board_post, .result = RESULT(NOTICE), .print = print_notice },
    { "board list", "[--node CODE] [--inactive] [--all]",
      N_("The echo board of a place: its notices, its grids' and those of the places above it."), board_list_opts, 0, 0,
      .call = CALL(LIST_BOARD), .bind = BINDS(B_OPT("node", "node"), B_FLAG("inactive", "include_inactive")),
      .result = RESULT(BOARD), .list = &board_list },
    { "board withdraw", "NOTICE --reason TEXT", N_("Withdraw a notice from its board."), withdraw_opts, 1, 1,
      .call = CALL(WITHDRAW_NOTICE), .bind = BINDS(B_NEED("reason", "reason")), .build = build_withdraw,
      .result = RESULT(NOTICE), .print = print_notice },
    { "stats archive", "[--node CODE] [--period week|month] [--from DATE] [--to DATE] [--csv]",
      N_("The archive's counts: visits per worker and grid, overdue special-care visits, households per tag."),
      stats_opts, 0, 0, .call = CALL(GET_ARCHIVE_STATS),
      .bind = BINDS(B_OPT("node", "node"), B_OPT("from", "from"), B_OPT("to", "to")), .build = build_stats,
      .result = RESULT(ARCHIVE_STATS), .print = print_stats },
    { .name = NULL },
};

const cmd cli_archive_commands[] = {
    { "archive", "import|export|list|show|resident|pair|tag ...",
      N_("The resident archive (一本档案): households, residents, care tags. Personal data: every read is audited."),
      NULL, 0, -1, .run = NULL },
    { "visit", "add|list|due ...", N_("Visits to households (民情走访) and whose visit is due."), NULL, 0, -1,
      .run = NULL },
    { "board", "post|list|withdraw ...", N_("The echo board (民情回音栏): public notices and replies."), NULL, 0, -1,
      .run = NULL },
    { .name = NULL },
};
