/* volunteers.c: the CLI's commands for the community's volunteers
 * (docs/volunteers.md):
 *
 *   whistle wish add|publish|claim|done|confirm|list|show ...   微心愿
 *   whistle volunteer add|list|show|config|report ...           志愿者
 *   whistle points balance|history|adjust ...                   积分
 *   whistle shop item|list|redeem ...                           爱心超市
 *   whistle member register|tasks|publish|claim|report|confirm  双报到
 *
 * Each group is an entry of cli_volunteer_commands; its subcommands are
 * rows of cli_volunteer_subcommands that admin.c's group runner finds. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WS(s) WHISTLE__V1__WISH_STATE__WISH_STATE_##s
#define BAD_ID N_("%s: bad number '%s'")

/* ---------------------------------------------------------------- words */

static const char *const wish_states[] = { "unspecified", "ordered",   "published", "claimed",
                                           "done",        "confirmed", "declined" };
static const char *const kinds[] = { "unspecified", "volunteer", "party_member", "unit" };

static const char *wish_state_word(int s)
{
    static const char *const words[] = { N_("unspecified"), N_("ordered"),   N_("published"), N_("claimed"),
                                         N_("done"),        N_("confirmed"), N_("declined") };
    if (s == 4) /* not an order's "done" (fed back) */
        return C_("wish", "done");
    return s >= 0 && s < 7 ? _(words[s]) : "?";
}

static const char *kind_word(int k)
{
    static const char *const words[] = { N_("volunteer"), N_("volunteer"), N_("party member"), N_("stationed unit") };
    return k >= 0 && k < 4 ? _(words[k]) : "?";
}

static int word_index(const char *const *words, int n, const char *s)
{
    for (int i = 1; s && i < n; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

/* An option's number up to max into *out; absent: *out unchanged. 0, or
 * EXIT_USAGE after the message. */
static int opt_u64(args *a, const char *name, uint64_t max, uint64_t *out)
{
    const char *s = cli_opt(a, name);
    if (!s)
        return 0;
    if (cli_parse_u64(s, max, out) < 0)
        return cli_usage_error(_("%s: bad --%s '%s' (a number up to %" PRIu64 ")"), a->c->name, name, s, max);
    return 0;
}

static int opt_u32(args *a, const char *name, uint32_t *out)
{
    uint64_t v = *out;
    int rc = opt_u64(a, name, 1000000, &v);
    *out = (uint32_t)v;
    return rc;
}

static int pos_id(args *a, int pos, uint64_t *out)
{
    if (cli_parse_order(a->pos[pos], out) < 0)
        return cli_usage_error(_(BAD_ID), a->c->name, a->pos[pos]);
    return 0;
}

/* ---------------------------------------------------------------- wishes */

static const char *const wish_header[] = { N_("WISH"),   N_("STATE"),     N_("PLACE"), N_("CATEGORY"),
                                           N_("POINTS"), N_("VOLUNTEER"), N_("TEXT") };

static void wish_row(cli *x, table *t, const void *item)
{
    const Whistle__V1__Wish *w = item;
    char id[24], pts[16];
    snprintf(id, sizeof id, "%" PRIu64, w->id);
    snprintf(pts, sizeof pts, "%u", w->points);
    const char *row[] = { id,  wish_state_word(w->state), cli_or(cli_node_name(x, w->node), w->node), w->category,
                          pts, w->volunteer_name,         *w->public_text ? w->public_text : w->text };
    table_add(t, row);
}

static const char *wish_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__Wish *)item)->id);
    return buf;
}

static const cli_list wishes_list = {
    .items = "wishes",
    .cursor = "after_id",
    .next = "next_after_id",
    .more = N_("(more wishes: use --all)"),
    .table = { 7, wish_header, { { 2, 16 }, { 5, 12 } } },
    .row = wish_row,
    .id = wish_id,
};

static void print_wish(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    const Whistle__V1__Wish *w = resp->wish;
    if (x->quiet) {
        printf("%" PRIu64 "\n", w->id);
        return;
    }
    char id[24], pts[16], vid[24], t[64];
    snprintf(id, sizeof id, "%" PRIu64, w->id);
    snprintf(pts, sizeof pts, "%u", w->points);
    snprintf(vid, sizeof vid, "%" PRIu64, w->volunteer_id);
    kv_print(stdout, _("wish"), id, true);
    kv_print(stdout, _("slip"), w->ticket, false);
    kv_print(stdout, _("state"), wish_state_word(w->state), true);
    kv_print(stdout, _("place"), cli_or(cli_node_name(x, w->node), w->node), true);
    kv_print(stdout, _("category"), w->category, true);
    kv_print(stdout, _("points"), pts, true);
    kv_print(stdout, _("wish text"), w->text, false);
    kv_print(stdout, _("phone"), w->contact, false);
    kv_print(stdout, _("published text"), w->public_text, false);
    if (w->volunteer_id) {
        kv_print(stdout, _("volunteer"), vid, true);
        kv_print(stdout, _("name"), w->volunteer_name, false);
    }
    if (w->claim_due_ms)
        kv_print(stdout, _("claim lapses"), cli_local_time(w->claim_due_ms, false, t, sizeof t), true);
    kv_print(stdout, _("done note"), w->done_note, false);
    kv_print(stdout, _("confirmed by"), w->confirmed_by, false);
    kv_print(stdout, _("declined"), w->decline_reason, false);
    /* its photos, by id (whistle photo get ID) */
    for (size_t i = 0; i < w->n_photos; i++) {
        char ph[64];
        snprintf(ph, sizeof ph, "#%" PRIu64 "  %ux%u", w->photos[i]->id, w->photos[i]->width, w->photos[i]->height);
        kv_print(stdout, i ? "" : _("photos"), ph, true);
    }
}

static void print_wish_list_one(cli *x, const args *a, const Whistle__V1__Request *req,
                                const Whistle__V1__Response *resp)
{
    if (resp->wishes->n_wishes == 1) {
        Whistle__V1__Response one = *resp;
        one.wish = resp->wishes->wishes[0];
        print_wish(x, a, req, &one);
    }
}

static int build_wish_publish(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__PublishWish *p = msg;
    if (!cli_opt(a, "text") == !cli_opt(a, "decline"))
        return cli_usage_error("%s", _("wish publish: give --text (what volunteers read) or --decline REASON"));
    return pos_id(a, 0, &p->wish_id) ? EXIT_USAGE : opt_u32(a, "points", &p->points);
}

static int build_wish_claim(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__ClaimWish *c = msg;
    return pos_id(a, 0, &c->wish_id) ? EXIT_USAGE : opt_u64(a, "volunteer", UINT64_MAX, &c->volunteer_id);
}

static int build_wish_done(cli *x, args *a, void *msg)
{
    (void)x;
    return pos_id(a, 0, &((Whistle__V1__DoneWish *)msg)->wish_id);
}

static int build_wish_confirm(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__ConfirmWish *c = msg;
    if ((a->npos == 1) == (cli_opt(a, "ticket") != NULL))
        return cli_usage_error("%s",
                               _("wish confirm: give the wish's number, or --ticket W... --digits NNNN (a kiosk)"));
    return a->npos ? pos_id(a, 0, &c->wish_id) : 0;
}

static int build_wish_list(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__ListWishes *l = msg;
    const char *s = cli_opt(a, "state");
    if (s && (l->state = word_index(wish_states, 7, s)) < 0)
        return cli_usage_error(
            _("wish list: bad --state '%s' (ordered, published, claimed, done, confirmed, declined)"), s);
    return opt_u64(a, "volunteer", UINT64_MAX, &l->volunteer_id);
}

static int build_wish_show(cli *x, args *a, void *msg)
{
    (void)x;
    return pos_id(a, 0, &((Whistle__V1__ListWishes *)msg)->wish_id);
}

/* ---------------------------------------------------------------- volunteers */

static const char *const vol_header[] = { N_("ID"),     N_("NAME"),     N_("KIND"),  N_("TEAM"),
                                          N_("POINTS"), N_("EMPLOYER"), N_("SKILLS") };

static void vol_row(cli *x, table *t, const void *item)
{
    (void)x;
    const Whistle__V1__Volunteer *v = item;
    char id[24], pts[24], skills[400] = "";
    snprintf(id, sizeof id, "%" PRIu64, v->id);
    snprintf(pts, sizeof pts, "%" PRId64, v->balance);
    for (size_t i = 0; i < v->n_skills; i++)
        snprintf(skills + strlen(skills), sizeof skills - strlen(skills), "%s%s", i ? "," : "", v->skills[i]);
    const char *row[] = { id, v->name, kind_word(v->kind), v->team, pts, v->employer, skills };
    table_add(t, row);
}

static const char *vol_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__Volunteer *)item)->id);
    return buf;
}

static const cli_list volunteers_list = {
    .items = "volunteers",
    .table = { 7, vol_header, { { 1, 16 }, { 5, 16 } } },
    .row = vol_row,
    .id = vol_id,
};

static void print_volunteer(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    const Whistle__V1__Volunteer *v = resp->volunteer;
    if (x->quiet) {
        printf("%" PRIu64 "\n", v->id);
        return;
    }
    char id[24], pts[24];
    snprintf(id, sizeof id, "%" PRIu64, v->id);
    snprintf(pts, sizeof pts, "%" PRId64, v->balance);
    kv_print(stdout, _("volunteer"), id, true);
    kv_print(stdout, _("name"), v->name, true);
    kv_print(stdout, _("kind"), kind_word(v->kind), true);
    kv_print(stdout, _("community"), cli_or(cli_node_name(x, v->community), v->community), true);
    kv_print(stdout, _("team"), v->team, false);
    kv_print(stdout, _("employer"), v->employer, false);
    kv_print(stdout, _("phone"), v->phone, false);
    kv_print(stdout, _("certificate"), v->principal, false);
    if (v->resident_id) {
        char rid[24];
        snprintf(rid, sizeof rid, "%" PRIu64, v->resident_id);
        kv_print(stdout, _("resident"), rid, true);
    }
    kv_print(stdout, _("card code"), v->code, false);
    kv_print(stdout, _("points"), pts, true);
}

static void print_volunteer_one(cli *x, const args *a, const Whistle__V1__Request *req,
                                const Whistle__V1__Response *resp)
{
    if (resp->volunteers->n_volunteers == 1) {
        Whistle__V1__Response one = *resp;
        one.volunteer = resp->volunteers->volunteers[0];
        print_volunteer(x, a, req, &one);
    }
}

static int build_volunteer_add(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__Volunteer *v = ((Whistle__V1__AddVolunteer *)msg)->volunteer;
    const char *k = cli_opt(a, "kind");
    if (k && (int)(v->kind = word_index(kinds, 4, k)) < 0)
        return cli_usage_error(_("%s: bad --kind '%s' (volunteer, party_member or unit)"), a->c->name, k);
    if (strcmp(a->c->name, "member register") == 0 && !k)
        v->kind = WHISTLE__V1__VOLUNTEER_KIND__VOLUNTEER_KIND_PARTY_MEMBER;
    const char *s = cli_opt(a, "skill");
    if (s)
        v->skills = cli_split(a, s, ",", 20, &v->n_skills);
    return opt_u64(a, "resident", UINT64_MAX, &v->resident_id);
}

static int build_volunteer_card(cli *x, args *a, void *msg)
{
    (void)x;
    return pos_id(a, 0, &((Whistle__V1__AddVolunteer *)msg)->new_card_for);
}

static int build_volunteer_list(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__ListVolunteers *l = msg;
    const char *k = cli_opt(a, "kind");
    if (k && (int)(l->kind = word_index(kinds, 4, k)) < 0)
        return cli_usage_error(_("%s: bad --kind '%s' (volunteer, party_member or unit)"), a->c->name, k);
    return 0;
}

static int build_volunteer_show(cli *x, args *a, void *msg)
{
    (void)x;
    return pos_id(a, 0, &((Whistle__V1__ListVolunteers *)msg)->volunteer_id);
}

/* --category CODE:名称:Name:POINTS, repeated (joined by ','). */
static int build_config(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__VolunteerConfig *c = ((Whistle__V1__SetVolunteerConfig *)msg)->config;
    if (opt_u32(a, "claim-hours", &c->claim_hours) || opt_u32(a, "expiry-days", &c->expiry_days))
        return EXIT_USAGE;
    const char *s = cli_opt(a, "category");
    size_t n = 0;
    char **items = s ? cli_split(a, s, ",", 100, &n) : NULL;
    c->categories = cli_keep(a, calloc(n ? n : 1, sizeof *c->categories), free);
    for (size_t i = 0; i < n; i++) {
        size_t np;
        char **p = cli_split(a, items[i], ":", 4, &np);
        uint64_t pts;
        if (!p || np != 4 || cli_parse_u64(p[3], 100000, &pts) < 0)
            return cli_usage_error(_("volunteer config: bad --category '%s' (CODE:名称:Name:POINTS)"), items[i]);
        Whistle__V1__WishCategory *wc = cli_new(a, &whistle__v1__wish_category__descriptor);
        wc->code = p[0];
        wc->name_zh = p[1];
        wc->name_en = p[2];
        wc->points = (uint32_t)pts;
        c->categories[c->n_categories++] = wc;
    }
    return 0;
}

static int build_rules(cli *x, args *a, void *msg)
{
    (void)x;
    if (a->npos)
        ((Whistle__V1__GetVolunteerConfig *)msg)->community = a->pos[0];
    return 0;
}

static void print_config(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    const Whistle__V1__VolunteerConfig *c = resp->volunteer_config;
    char h[16], d[16];
    snprintf(h, sizeof h, "%u", c->claim_hours);
    snprintf(d, sizeof d, "%u", c->expiry_days);
    kv_print(stdout, _("community"), cli_or(cli_node_name(x, c->community), c->community), true);
    kv_print(stdout, _("claim hours"), h, true);
    kv_print(stdout, _("points expire after days"), c->expiry_days ? d : _("never"), true);
    for (size_t i = 0; i < c->n_categories; i++) {
        char line[400];
        const Whistle__V1__WishCategory *wc = c->categories[i];
        snprintf(line, sizeof line, "%s  %s  %s  %u", wc->code, wc->name_zh, wc->name_en, wc->points);
        kv_print(stdout, _("category"), line, true);
    }
}

/* One field of CSV: quoted when it holds a comma, a quote or a line end. */
static void csv_field(const char *s, bool last)
{
    s = s ? s : "";
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

/* The report's rows summed by team, or by employer unit (with the members'
 * tasks, which the units read back). */
static void print_groups(const Whistle__V1__VolunteerReportResult *r, bool employer)
{
    static const char *const team_header[] = { N_("TEAM"), N_("PEOPLE"), N_("EARNED"), N_("SPENT"), N_("POINTS") };
    static const char *const unit_header[] = { N_("EMPLOYER"), N_("PEOPLE"), N_("TASKS"), N_("EARNED"), N_("POINTS") };
    table t;
    table_init(&t, 5, employer ? unit_header : team_header);
    for (size_t i = 0; i < r->n_rows; i++) {
        const char *key = employer ? r->rows[i]->employer : r->rows[i]->team;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(employer ? r->rows[j]->employer : r->rows[j]->team, key) == 0;
        if (seen || !*key)
            continue;
        int64_t n = 0, e = 0, s = 0, b = 0, tc = 0, tf = 0;
        for (size_t j = i; j < r->n_rows; j++) {
            const Whistle__V1__VolunteerReportRow *w = r->rows[j];
            if (strcmp(employer ? w->employer : w->team, key) != 0)
                continue;
            n++;
            e += w->earned;
            s += w->spent;
            b += w->balance;
            tc += w->tasks_claimed;
            tf += w->tasks_confirmed;
        }
        char c1[24], c2[48], c3[24], c4[24];
        snprintf(c1, sizeof c1, "%" PRId64, n);
        if (employer)
            snprintf(c2, sizeof c2, "%" PRId64 "/%" PRId64, tf, tc);
        else
            snprintf(c2, sizeof c2, "%" PRId64, e);
        snprintf(c3, sizeof c3, "%" PRId64, employer ? e : s);
        snprintf(c4, sizeof c4, "%" PRId64, b);
        const char *row[] = { key, c1, c2, c3, c4 };
        table_add(&t, row);
    }
    if (t.nrows > 1) {
        putchar('\n');
        table_print(&t, stdout);
    }
    table_free(&t);
}

static void print_report(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)req;
    const Whistle__V1__VolunteerReportResult *r = resp->volunteer_report;
    bool csv = cli_flag(a, "csv");
    if (csv) {
        /* the 双评议 export: one row per volunteer, read by the employer units */
        const char *head[] = {
            "year",          "community",       "volunteer_id", "name",          "kind",         "team",   "employer",
            "tasks_claimed", "tasks_confirmed", "wishes_done",  "points_earned", "points_spent", "balance"
        };
        for (size_t i = 0; i < 13; i++)
            csv_field(head[i], i == 12);
        for (size_t i = 0; i < r->n_rows; i++) {
            const Whistle__V1__VolunteerReportRow *w = r->rows[i];
            char y[16], id[24], tc[16], tf[16], wd[16], e[24], s[24], b[24];
            snprintf(y, sizeof y, "%d", r->year);
            snprintf(id, sizeof id, "%" PRIu64, w->volunteer_id);
            snprintf(tc, sizeof tc, "%u", w->tasks_claimed);
            snprintf(tf, sizeof tf, "%u", w->tasks_confirmed);
            snprintf(wd, sizeof wd, "%u", w->wishes_done);
            snprintf(e, sizeof e, "%" PRId64, w->earned);
            snprintf(s, sizeof s, "%" PRId64, w->spent);
            snprintf(b, sizeof b, "%" PRId64, w->balance);
            const char *row[] = {
                y, r->community, id, w->name, kinds[w->kind < 4 ? w->kind : 0], w->team, w->employer, tc, tf, wd, e, s,
                b
            };
            for (size_t k = 0; k < 13; k++)
                csv_field(row[k], k == 12);
        }
        return;
    }
    char v[16][24];
    uint32_t counts[6] = { r->wishes_ordered, r->wishes_published, r->wishes_claimed,
                           r->wishes_done,    r->wishes_confirmed, r->wishes_declined };
    const char *labels[6] = { N_("wishes ordered"), N_("published"), N_("claimed"),
                              N_("done"),           N_("confirmed"), N_("declined") };
    snprintf(v[0], sizeof v[0], "%d", r->year);
    kv_print(stdout, _("community"), cli_or(cli_node_name(x, r->community), r->community), true);
    kv_print(stdout, _("year"), v[0], true);
    for (int i = 0; i < 6; i++) {
        snprintf(v[i + 1], sizeof v[i + 1], "%u", counts[i]);
        kv_print(stdout, i == 3 ? C_("wish", "done") : _(labels[i]), v[i + 1], true);
    }
    snprintf(v[7], sizeof v[7], "%" PRId64, r->points_issued);
    snprintf(v[8], sizeof v[8], "%" PRId64, r->points_redeemed);
    kv_print(stdout, _("points issued"), v[7], true);
    kv_print(stdout, _("points redeemed"), v[8], true);
    static const char *const header[] = { N_("ID"),    N_("NAME"),   N_("TEAM"),   N_("EMPLOYER"), N_("EARNED"),
                                          N_("SPENT"), N_("POINTS"), N_("WISHES"), N_("TASKS") };
    table t;
    table_init(&t, 9, header);
    for (size_t i = 0; i < r->n_rows; i++) {
        const Whistle__V1__VolunteerReportRow *w = r->rows[i];
        char id[24], e[24], s[24], b[24], wd[16], tk[32];
        snprintf(id, sizeof id, "%" PRIu64, w->volunteer_id);
        snprintf(e, sizeof e, "%" PRId64, w->earned);
        snprintf(s, sizeof s, "%" PRId64, w->spent);
        snprintf(b, sizeof b, "%" PRId64, w->balance);
        snprintf(wd, sizeof wd, "%u", w->wishes_done);
        snprintf(tk, sizeof tk, "%u/%u", w->tasks_confirmed, w->tasks_claimed);
        const char *row[] = { id, w->name, w->team, w->employer, e, s, b, wd, tk };
        table_add(&t, row);
    }
    putchar('\n');
    table_print(&t, stdout);
    table_free(&t);
    /* per team (一个小区一支队伍), and per employer unit (双评议): the rows summed */
    print_groups(r, false);
    print_groups(r, true);
}

static int build_report(cli *x, args *a, void *msg)
{
    (void)x;
    uint64_t y = 0;
    if (opt_u64(a, "year", 9999, &y))
        return EXIT_USAGE;
    ((Whistle__V1__VolunteerReport *)msg)->year = (int32_t)y;
    return 0;
}

/* ---------------------------------------------------------------- points */

static void print_balance(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    const Whistle__V1__PointsBalanceResult *b = resp->balance;
    if (x->quiet) {
        printf("%" PRId64 "\n", b->balance);
        return;
    }
    char id[24], v[3][24];
    snprintf(id, sizeof id, "%" PRIu64, b->volunteer_id);
    snprintf(v[0], 24, "%" PRId64, b->balance);
    snprintf(v[1], 24, "%" PRId64, b->earned);
    snprintf(v[2], 24, "%" PRId64, b->spent);
    kv_print(stdout, _("volunteer"), id, true);
    kv_print(stdout, _("name"), b->name, true);
    kv_print(stdout, _("points"), v[0], true);
    kv_print(stdout, _("earned"), v[1], true);
    kv_print(stdout, _("spent"), v[2], true);
}

static int build_balance(cli *x, args *a, void *msg)
{
    (void)x;
    return a->npos ? pos_id(a, 0, &((Whistle__V1__PointsBalance *)msg)->volunteer_id) : 0;
}

static const char *const entry_header[] = { N_("ENTRY"),  N_("TIME"), N_("FROM"), N_("TO"),
                                            N_("POINTS"), N_("KIND"), N_("BY"),   N_("REASON") };

static void entry_row(cli *x, table *t, const void *item)
{
    (void)x;
    const Whistle__V1__LedgerEntry *e = item;
    char id[48], tm[64], amt[24];
    snprintf(id, sizeof id, e->reversed_by ? "%" PRIu64 " (-%" PRIu64 ")" : "%" PRIu64, e->id, e->reversed_by);
    snprintf(amt, sizeof amt, "%" PRId64, e->amount);
    const char *row[] = { id,
                          cli_local_time(e->at_ms, false, tm, sizeof tm),
                          e->from_account,
                          e->to_account,
                          amt,
                          e->kind,
                          e->actor,
                          e->reason };
    table_add(t, row);
}

static const char *entry_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__LedgerEntry *)item)->id);
    return buf;
}

static const cli_list ledger_list = {
    .items = "entries",
    .cursor = "after_id",
    .next = "next_after_id",
    .more = N_("(more entries: use --all)"),
    .table = { 8, entry_header, { { 6, 14 }, { 7, 0 } } },
    .row = entry_row,
    .id = entry_id,
};

static int build_history(cli *x, args *a, void *msg)
{
    (void)x;
    return a->npos ? pos_id(a, 0, &((Whistle__V1__PointsHistory *)msg)->volunteer_id) : 0;
}

static void print_entry(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    cli_list_print(x, &ledger_list, (ProtobufCMessage *const *)&resp->ledger_entry, 1);
}

static int build_adjust(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__AdjustPoints *p = msg;
    if (cli_opt(a, "reverse")) {
        if (a->npos)
            return cli_usage_error("%s", _("points adjust: --reverse ENTRY takes no volunteer or amount"));
        return opt_u64(a, "reverse", UINT64_MAX, &p->reverse_entry);
    }
    if (a->npos != 2)
        return cli_usage_error("%s", _("points adjust: give VOLUNTEER AMOUNT (+5, -3), or --reverse ENTRY"));
    if (pos_id(a, 0, &p->volunteer_id))
        return EXIT_USAGE;
    char *end;
    long long v = strtoll(a->pos[1], &end, 10);
    if (*end || end == a->pos[1] || v == 0 || v > 1000000 || v < -1000000)
        return cli_usage_error(_("points adjust: bad amount '%s' (+5, -3; not 0)"), a->pos[1]);
    p->amount = v;
    return 0;
}

/* ---------------------------------------------------------------- the supermarket */

static const char *const item_header[] = { N_("ITEM"), N_("NAME"), N_("PRICE"), N_("STOCK") };

static void item_row(cli *x, table *t, const void *item)
{
    (void)x;
    const Whistle__V1__ShopItem *it = item;
    char id[24], pr[16], st[16];
    snprintf(id, sizeof id, "%" PRIu64 "%s", it->id, it->retired ? "*" : "");
    snprintf(pr, sizeof pr, "%u", it->price);
    snprintf(st, sizeof st, "%u", it->stock);
    const char *row[] = { id, uitext_pick(it->name_zh, it->name_en), pr, st };
    table_add(t, row);
}

static const char *item_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__ShopItem *)item)->id);
    return buf;
}

static const cli_list shop_list = {
    .items = "items",
    .table = { 4, item_header, { { 1, 30 }, { 1, 30 } } },
    .row = item_row,
    .id = item_id,
};

static void print_item(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    cli_list_print(x, &shop_list, (ProtobufCMessage *const *)&resp->shop_item, 1);
}

static int build_item(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__PutShopItem *p = msg;
    if (a->npos && pos_id(a, 0, &p->item->id))
        return EXIT_USAGE;
    if (opt_u32(a, "price", &p->item->price))
        return EXIT_USAGE;
    const char *s = cli_opt(a, "stock");
    if (s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || end == s || v > 100000 || v < -100000)
            return cli_usage_error(_("shop item: bad --stock '%s' (+10 received, -2 written off)"), s);
        p->stock_delta = (int32_t)v;
    }
    return 0;
}

static void print_redemption(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)x, (void)a, (void)req;
    const Whistle__V1__Redemption *r = resp->redemption;
    char pts[24], st[16], bal[24];
    snprintf(pts, sizeof pts, "%" PRId64, r->entry->amount);
    snprintf(st, sizeof st, "%u", r->item->stock);
    snprintf(bal, sizeof bal, "%" PRId64, r->balance);
    kv_print(stdout, _("redeemed"), r->entry->reason, true);
    kv_print(stdout, _("points"), pts, true);
    kv_print(stdout, _("stock left"), st, true);
    kv_print(stdout, _("balance"), bal, true);
}

static int build_redeem(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__Redeem *r = msg;
    if (pos_id(a, 0, &r->volunteer_id) || pos_id(a, 1, &r->item_id))
        return EXIT_USAGE;
    return opt_u32(a, "quantity", &r->quantity);
}

/* ---------------------------------------------------------------- members' tasks */

static const char *const mtask_header[] = { N_("TASK"),   N_("STATE"),  N_("SLOTS"),
                                            N_("POINTS"), N_("TAKERS"), N_("TITLE") };

static void mtask_row(cli *x, table *t, const void *item)
{
    (void)x;
    static const char *const states[] = { N_("unspecified"), NC_("member task", "open"), N_("full"), N_("closed") };
    const Whistle__V1__MemberTask *m = item;
    char id[24], sl[24], pt[16], tk[300] = "";
    snprintf(id, sizeof id, "%" PRIu64, m->id);
    snprintf(sl, sizeof sl, "%zu/%u", m->n_takers, m->slots);
    snprintf(pt, sizeof pt, "%u", m->points);
    for (size_t i = 0; i < m->n_takers; i++)
        snprintf(tk + strlen(tk), sizeof tk - strlen(tk), "%s%s%s", i ? "," : "", m->takers[i]->name,
                 m->takers[i]->confirmed_ms  ? "✓"
                 : m->takers[i]->reported_ms ? "…"
                                             : "");
    const char *st = m->state < 4 ? states[m->state] : "?";
    const char *row[] = { id, m->state == 1 ? C_("member task", "open") : _(st), sl, pt, tk, m->title };
    table_add(t, row);
}

static const char *mtask_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__MemberTask *)item)->id);
    return buf;
}

static const cli_list mtasks_list = {
    .items = "tasks",
    .cursor = "after_id",
    .next = "next_after_id",
    .more = N_("(more tasks: use --all)"),
    .table = { 6, mtask_header, { { 4, 30 }, { 5, 0 } } },
    .row = mtask_row,
    .id = mtask_id,
};

static void print_mtask(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    (void)a, (void)req;
    cli_list_print(x, &mtasks_list, (ProtobufCMessage *const *)&resp->member_task, 1);
}

static int build_mtask_publish(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__MemberTask *t = ((Whistle__V1__PublishMemberTask *)msg)->task;
    t->slots = 1;
    return opt_u32(a, "slots", &t->slots) || opt_u32(a, "points", &t->points) ? EXIT_USAGE : 0;
}

static int build_mtask_act(cli *x, args *a, void *msg)
{
    (void)x;
    Whistle__V1__MemberTaskAct *m = msg;
    const char *n = a->c->name;
    m->action = strstr(n, "claim")    ? WHISTLE__V1__MEMBER_TASK_ACTION__MEMBER_TASK_ACTION_CLAIM
                : strstr(n, "report") ? WHISTLE__V1__MEMBER_TASK_ACTION__MEMBER_TASK_ACTION_REPORT
                                      : WHISTLE__V1__MEMBER_TASK_ACTION__MEMBER_TASK_ACTION_CONFIRM;
    if (pos_id(a, 0, &m->task_id))
        return EXIT_USAGE;
    return opt_u64(a, "volunteer", UINT64_MAX, &m->volunteer_id);
}

static int build_mtask_list(cli *x, args *a, void *msg)
{
    (void)x;
    return opt_u64(a, "volunteer", UINT64_MAX, &((Whistle__V1__ListMemberTasks *)msg)->volunteer_id);
}

/* ---------------------------------------------------------------- tables */

static const cmd_opt none[] = { { NULL, NULL, NULL } };
static int build_wish_add(cli *x, args *a, void *msg)
{
    Whistle__V1__AddWish *w = msg;
    return cli_photos_for(x, a, &w->photos, &w->n_photos);
}

static const cmd_opt wish_add_opts[] = {
    { "category", "CODE", N_("the community's category of wish (volunteer config shows them)") },
    { "text", "TEXT", N_("the resident's words") },
    { "phone", "PHONE", N_("the resident's phone: they confirm with its last 4 digits") },
    { "photo", "FILE", N_("a JPEG or PNG photo of what is needed (repeat for more; never shown to volunteers)") },
    { NULL, NULL, NULL },
};
static const cmd_opt wish_publish_opts[] = {
    { "text", "TEXT", N_("what volunteers read: no names, no phone") },
    { "points", "N", N_("points instead of the category's") },
    { "decline", "REASON", N_("decline the wish instead") },
    { NULL, NULL, NULL },
};
static const cmd_opt volunteer_opt[] = { { "volunteer", "ID", N_("for this volunteer (a worker claiming for one)") },
                                         { NULL, NULL, NULL } };
static const cmd_opt note_opt[] = { { "note", "TEXT", N_("a note") }, { NULL, NULL, NULL } };
static const cmd_opt confirm_opts[] = {
    { "ticket", "W...", N_("at a kiosk: the number on the resident's slip") },
    { "digits", "NNNN", N_("at a kiosk: the last 4 digits of the resident's phone") },
    { "note", "TEXT", N_("a note") },
    { NULL, NULL, NULL },
};
static const cmd_opt wish_list_opts[] = {
    { "community", "CODE", N_("this community's (default: your own)") },
    { "state", "S", N_("ordered, published, claimed, done, confirmed or declined") },
    { "volunteer", "ID", N_("the wishes this volunteer claimed") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt volunteer_add_opts[] = {
    { "community", "CODE", N_("the home community (default: your own)") },
    { "phone", "PHONE", N_("the volunteer's phone (personal data)") },
    { "team", "NAME", N_("the team (一个小区一支队伍)") },
    { "skill", "S", N_("a skill (repeat, or A,B)") },
    { "kind", "K", N_("volunteer, party_member or unit") },
    { "employer", "UNIT", N_("a party member's employer unit (双评议 reports go back to it)") },
    { "principal", "CN", N_("the certificate it claims with (role volunteer)") },
    { "resident", "ID", N_("the resident of the archive it is (else a plain record)") },
    { NULL, NULL, NULL },
};
static const cmd_opt volunteer_list_opts[] = {
    { "community", "CODE", N_("this community's (default: your own)") },
    { "kind", "K", N_("volunteer, party_member or unit") },
    { "team", "NAME", N_("only this team") },
    { NULL, NULL, NULL },
};
static const cmd_opt config_opts[] = {
    { "category", "CODE:名称:Name:POINTS", N_("a category of wish and its points (repeat; replaces the list)") },
    { "claim-hours", "N", N_("a claim not done in N hours lapses (default 72)") },
    { "expiry-days", "N", N_("points expire N days after they are credited (0: never)") },
    { NULL, NULL, NULL },
};
static const cmd_opt report_opts[] = {
    { "community", "CODE", N_("this community's (default: your own)") },
    { "year", "YYYY", N_("this year's (default: the current one)") },
    { "csv", NULL, N_("CSV, one row per volunteer: the 双评议 export for the employer units") },
    { NULL, NULL, NULL },
};
static const cmd_opt balance_opts[] = { { "code", "NNNNNNNN", N_("the volunteer's card code (at a kiosk)") },
                                        { NULL, NULL, NULL } };
static const cmd_opt history_opts[] = {
    { "community", "CODE", N_("the community's whole ledger") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt adjust_opts[] = {
    { "reason", "TEXT", N_("why (required; audited)") },
    { "reverse", "ENTRY", N_("undo this entry with a reversing one") },
    { NULL, NULL, NULL },
};
static const cmd_opt item_opts[] = {
    { "community", "CODE", N_("the supermarket's community (a new item; default: your own)") },
    { "zh", "NAME", N_("the item's Chinese name") },
    { "en", "NAME", N_("the item's English name") },
    { "price", "N", N_("its price in points") },
    { "stock", "+N|-N", N_("goods received (+) or written off (-)") },
    { "retire", NULL, N_("take it off the shelves") },
    { NULL, NULL, NULL },
};
static const cmd_opt shop_list_opts[] = {
    { "community", "CODE", N_("this community's (default: your own)") },
    { "retired", NULL, N_("with retired items (marked *)") },
    { NULL, NULL, NULL },
};
static const cmd_opt redeem_opts[] = {
    { "code", "NNNNNNNN", N_("the volunteer's card code") },
    { "quantity", "N", N_("how many (default 1)") },
    { NULL, NULL, NULL },
};
static const cmd_opt mtask_opts[] = {
    { "community", "CODE", N_("the community (default: your own)") },
    { "description", "TEXT", N_("what is to be done") },
    { "slots", "N", N_("how many members it takes (default 1)") },
    { "points", "N", N_("points for each confirmed member") },
    { NULL, NULL, NULL },
};
static const cmd_opt mtask_list_opts[] = {
    { "community", "CODE", N_("this community's (default: your own)") },
    { "volunteer", "ID", N_("the tasks this member took") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt report_note_opts[] = { { "note", "TEXT", N_("what was done (required)") },
                                            { "volunteer", "ID", N_("for this member (a worker)") },
                                            { NULL, NULL, NULL } };

const cmd cli_volunteer_subcommands[] = {
    { "wish add", "NODE --category CODE --text TEXT [--phone PHONE] [--photo FILE]",
      N_("Order a wish for a resident (居民点单): at the kiosk, or by a worker for them."), wish_add_opts, 1, 1,
      .call = CALL(ADD_WISH),
      .bind =
          BINDS(B_NEED("category", "category"), B_NEED("text", "text"), B_POS(0, "node"), B_OPT("phone", "contact")),
      .build = build_wish_add, .result = RESULT(WISH), .print = print_wish },
    { "wish publish", "WISH --text TEXT [--points N] | --decline REASON",
      N_("Publish a wish to the volunteers without personal data (社区派单), or decline it."), wish_publish_opts, 1, 1,
      .call = CALL(PUBLISH_WISH), .bind = BINDS(B_OPT("text", "public_text"), B_OPT("decline", "decline_reason")),
      .build = build_wish_publish, .result = RESULT(WISH), .print = print_wish },
    { "wish claim", "WISH [--volunteer ID]", N_("Claim a published wish (志愿者接单): one claimant at a time."),
      volunteer_opt, 1, 1, .call = CALL(CLAIM_WISH), .build = build_wish_claim, .result = RESULT(WISH),
      .print = print_wish },
    { "wish done", "WISH [--note TEXT]", N_("Say a claimed wish is done."), note_opt, 1, 1, .call = CALL(DONE_WISH),
      .bind = BINDS(B_OPT("note", "note")), .build = build_wish_done, .result = RESULT(WISH), .print = print_wish },
    { "wish confirm", "WISH | --ticket W... --digits NNNN [--note TEXT]",
      N_("Confirm a done wish for the resident; the volunteer's points are credited."), confirm_opts, 0, 1,
      .call = CALL(CONFIRM_WISH),
      .bind = BINDS(B_OPT("ticket", "ticket"), B_OPT("digits", "phone_last4"), B_OPT("note", "note")),
      .build = build_wish_confirm, .result = RESULT(WISH), .print = print_wish },
    { "wish list", "[--community CODE] [--state S] [--volunteer ID] [--all]",
      N_("List a community's wishes (a volunteer: the published ones, without personal data)."), wish_list_opts, 0, 0,
      .call = CALL(LIST_WISHES), .bind = BINDS(B_OPT("community", "community")), .build = build_wish_list,
      .result = RESULT(WISHES), .list = &wishes_list },
    { "wish show", "WISH", N_("Show one wish (a worker sees the resident's phone; the read is audited)."), none, 1, 1,
      .call = CALL(LIST_WISHES), .build = build_wish_show, .result = RESULT(WISHES), .print = print_wish_list_one },
    { "volunteer add", "NAME [--community CODE] [--team NAME] [--skill S] [--kind K] [--principal CN] ...",
      N_("Register a volunteer; the answer shows its card code once."), volunteer_add_opts, 1, 1,
      .call = CALL(ADD_VOLUNTEER),
      .bind = BINDS(B_POS(0, "volunteer.name"), B_OPT("community", "volunteer.community"),
                    B_OPT("phone", "volunteer.phone"), B_OPT("team", "volunteer.team"),
                    B_OPT("employer", "volunteer.employer"), B_OPT("principal", "volunteer.principal")),
      .build = build_volunteer_add, .result = RESULT(VOLUNTEER), .print = print_volunteer },
    { "volunteer card", "ID", N_("A new card code for a volunteer who lost the card; the old code stops working."),
      none, 1, 1, .call = CALL(ADD_VOLUNTEER), .build = build_volunteer_card, .result = RESULT(VOLUNTEER),
      .print = print_volunteer },
    { "volunteer list", "[--community CODE] [--kind K] [--team NAME]", N_("List a community's volunteers."),
      volunteer_list_opts, 0, 0, .call = CALL(LIST_VOLUNTEERS),
      .bind = BINDS(B_OPT("community", "community"), B_OPT("team", "team")), .build = build_volunteer_list,
      .result = RESULT(VOLUNTEERS), .list = &volunteers_list },
    { "volunteer show", "ID", N_("Show one volunteer (the community sees the phone; the read is audited)."), none, 1, 1,
      .call = CALL(LIST_VOLUNTEERS), .build = build_volunteer_show, .result = RESULT(VOLUNTEERS),
      .print = print_volunteer_one },
    { "volunteer config", "COMMUNITY [--category CODE:名称:Name:POINTS ...] [--claim-hours N] [--expiry-days N]",
      N_("Set a community's categories of wish, their points and the claim time."), config_opts, 1, 1,
      .call = CALL(SET_VOLUNTEER_CONFIG), .bind = BINDS(B_POS(0, "config.community")), .build = build_config,
      .result = RESULT(VOLUNTEER_CONFIG), .print = print_config },
    { "volunteer rules", "[COMMUNITY]", N_("Show a community's categories of wish and their points."), none, 0, 1,
      .call = CALL(GET_VOLUNTEER_CONFIG), .build = build_rules, .result = RESULT(VOLUNTEER_CONFIG),
      .print = print_config },
    { "volunteer report", "[--community CODE] [--year YYYY] [--csv]",
      N_("Points, wishes and members' tasks of a year, per volunteer and team; --csv: the 双评议 export."), report_opts,
      0, 0, .call = CALL(VOLUNTEER_REPORT), .bind = BINDS(B_OPT("community", "community")), .build = build_report,
      .result = RESULT(VOLUNTEER_REPORT), .print = print_report },
    { "points balance", "[VOLUNTEER] [--code NNNNNNNN]", N_("A volunteer's points (your own, as a volunteer)."),
      balance_opts, 0, 1, .call = CALL(POINTS_BALANCE), .bind = BINDS(B_OPT("code", "code")), .build = build_balance,
      .result = RESULT(BALANCE), .print = print_balance },
    { "points history", "[VOLUNTEER] [--community CODE] [--all]",
      N_("The ledger's entries of a volunteer, or of a whole community."), history_opts, 0, 1,
      .call = CALL(POINTS_HISTORY), .bind = BINDS(B_OPT("community", "community")), .build = build_history,
      .result = RESULT(LEDGER), .list = &ledger_list },
    { "points adjust", "VOLUNTEER AMOUNT --reason TEXT | --reverse ENTRY --reason TEXT",
      N_("Correct the ledger: an adjusting entry, or one that reverses an earlier entry."), adjust_opts, 0, 2,
      .call = CALL(ADJUST_POINTS), .bind = BINDS(B_NEED("reason", "reason")), .build = build_adjust,
      .result = RESULT(LEDGER_ENTRY), .print = print_entry },
    { "shop item", "[ITEM] --zh NAME [--en NAME] --price N [--stock +N|-N] [--retire] [--community CODE]",
      N_("Put an item on the love supermarket's shelves (爱心超市), or change one."), item_opts, 0, 1,
      .call = CALL(PUT_SHOP_ITEM),
      .bind = BINDS(B_NEED("zh", "item.name_zh"), B_NEED("price", NULL), B_OPT("en", "item.name_en"),
                    B_OPT("community", "item.community"), B_FLAG("retire", "item.retired")),
      .build = build_item, .result = RESULT(SHOP_ITEM), .print = print_item },
    { "shop list", "[--community CODE] [--retired]", N_("The love supermarket's shelves."), shop_list_opts, 0, 0,
      .call = CALL(LIST_SHOP), .bind = BINDS(B_OPT("community", "community"), B_FLAG("retired", "include_retired")),
      .result = RESULT(SHOP), .list = &shop_list },
    { "shop redeem", "VOLUNTEER ITEM --code NNNNNNNN [--quantity N]",
      N_("Redeem goods at the community's desk with the volunteer's card code."), redeem_opts, 2, 2,
      .call = CALL(REDEEM), .bind = BINDS(B_NEED("code", "code")), .build = build_redeem, .result = RESULT(REDEMPTION),
      .print = print_redemption },
    { "member register", "NAME --employer UNIT [--community CODE] [--principal CN] [--kind unit] ...",
      N_("Register an in-service party member (or a stationed unit) with its home community (双报到)."),
      volunteer_add_opts, 1, 1, .call = CALL(ADD_VOLUNTEER),
      .bind = BINDS(B_POS(0, "volunteer.name"), B_OPT("community", "volunteer.community"),
                    B_OPT("phone", "volunteer.phone"), B_OPT("team", "volunteer.team"),
                    B_OPT("employer", "volunteer.employer"), B_OPT("principal", "volunteer.principal")),
      .build = build_volunteer_add, .result = RESULT(VOLUNTEER), .print = print_volunteer },
    { "member publish", "TITLE [--slots N] [--points N] [--community CODE] [--description TEXT]",
      N_("Whistle a task to the registered members (社区吹哨、党员报到); pushed to those who watch."), mtask_opts, 1, 1,
      .call = CALL(PUBLISH_MEMBER_TASK),
      .bind =
          BINDS(B_POS(0, "task.title"), B_OPT("community", "task.community"), B_OPT("description", "task.description")),
      .build = build_mtask_publish, .result = RESULT(MEMBER_TASK), .print = print_mtask },
    { "member claim", "TASK [--volunteer ID]", N_("Take a slot of a members' task."), volunteer_opt, 1, 1,
      .call = CALL(MEMBER_TASK_ACT), .build = build_mtask_act, .result = RESULT(MEMBER_TASK), .print = print_mtask },
    { "member report", "TASK --note TEXT [--volunteer ID]", N_("Report what was done on a members' task."),
      report_note_opts, 1, 1, .call = CALL(MEMBER_TASK_ACT), .bind = BINDS(B_NEED("note", "note")),
      .build = build_mtask_act, .result = RESULT(MEMBER_TASK), .print = print_mtask },
    { "member confirm", "TASK --volunteer ID", N_("Confirm a member's report (the community); points are credited."),
      volunteer_opt, 1, 1, .call = CALL(MEMBER_TASK_ACT), .bind = BINDS(B_NEED("volunteer", NULL)),
      .build = build_mtask_act, .result = RESULT(MEMBER_TASK), .print = print_mtask },
    { "member tasks", "[--community CODE] [--volunteer ID] [--all]",
      N_("List the members' tasks (a member: the ones it took with --volunteer)."), mtask_list_opts, 0, 0,
      .call = CALL(LIST_MEMBER_TASKS), .bind = BINDS(B_OPT("community", "community")), .build = build_mtask_list,
      .result = RESULT(MEMBER_TASKS), .list = &mtasks_list },
    { .name = NULL },
};

const cmd cli_volunteer_commands[] = {
    { "wish", "add|publish|claim|done|confirm|list|show ...", N_("Micro-wishes (微心愿): the three-order loop."), NULL,
      0, -1, .run = NULL },
    { "volunteer", "add|card|list|show|config|rules|report ...", N_("A community's volunteers, teams and reports."),
      NULL, 0, -1, .run = NULL },
    { "points", "balance|history|adjust ...", N_("The volunteers' points ledger (积分)."), NULL, 0, -1, .run = NULL },
    { "shop", "item|list|redeem ...", N_("The love supermarket (爱心超市)."), NULL, 0, -1, .run = NULL },
    { "member", "register|publish|claim|report|confirm|tasks ...",
      N_("Dual registration (双报到): party members' tasks."), NULL, 0, -1, .run = NULL },
    { .name = NULL },
};
