/* deliberation.c: the CLI's commands for deliberation (议事协商,
 * docs/deliberation.md):
 *   whistle body put|show|report ...
 *   whistle proposal submit|list|rate ...
 *   whistle meeting schedule|show|open|checkin|speak|next|open-vote|close-vote|warn|close|cancel ...
 *   whistle vote MEETING ITEM for|against|abstain
 *   whistle ballot MEETING ITEM N[,N...]
 *   whistle minutes show|sign MEETING
 * The groups' subcommands are in cli_delib_subcommands (run by admin.c's
 * group runner); call.c runs every row. Ballot candidates are numbered
 * from 1 here, as people count; the wire numbers them from 0. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BAD_ID N_("%s: bad number '%s' (a positive number)")

/* ---------------------------------------------------------------- words */

static const char *const group_words[] = { "", "community", "owners", "property", "residents", "deputies" };
static const char *const role_words[] = {
    "", "chair", "representative", "attendee", "observer", "supervisor", "party"
};

static const char *group_name(int g)
{
    switch (g) {
    case 1: return C_("group", "community");
    case 2: return C_("group", "owners' committee");
    case 3: return C_("group", "property company");
    case 4: return C_("group", "residents");
    case 5: return C_("group", "deputies");
    default: return "?";
    }
}

static const char *seat_role_name(int r)
{
    switch (r) {
    case 1: return C_("seat", "chair");
    case 2: return C_("seat", "representative");
    case 3: return C_("seat", "attendee");
    case 4: return C_("seat", "observer");
    case 5: return C_("seat", "supervisor");
    case 6: return C_("seat", "party");
    default: return "?";
    }
}

static const char *proposal_state(int s)
{
    switch (s) {
    case 1: return C_("proposal", "published");
    case 2: return C_("proposal", "on agenda");
    case 3: return C_("proposal", "passed");
    case 4: return C_("proposal", "rejected");
    case 5: return C_("proposal", "carried out");
    default: return "?";
    }
}

static const char *meeting_state(int s)
{
    switch (s) {
    case 1: return C_("meeting", "scheduled");
    case 2: return C_("meeting", "open");
    case 3: return C_("meeting", "closed");
    case 4: return C_("meeting", "cancelled");
    default: return "?";
    }
}

static int word_index(const char *w, const char *const *words, int n)
{
    for (int i = 1; i < n; i++)
        if (strcmp(w, words[i]) == 0)
            return i;
    return 0;
}

/* "num/den" with 1 <= num <= den <= 100. */
static int parse_fraction(const char *s, uint32_t *num, uint32_t *den)
{
    unsigned n, d;
    char end;
    if (sscanf(s, "%u/%u%c", &n, &d, &end) != 2 || n < 1 || n > d || d > 100)
        return -1;
    *num = n;
    *den = d;
    return 0;
}

/* ---------------------------------------------------------------- body */

static int build_body_put(cli *x, args *a, void *msg)
{
    Whistle__V1__PutDelibBody *p = msg;
    Whistle__V1__DelibBody *b = cli_new(a, &whistle__v1__delib_body__descriptor);
    Whistle__V1__DelibRules *r = cli_new(a, &whistle__v1__delib_rules__descriptor);
    if (!b || !r)
        return EXIT_CONN;
    p->body = b;
    b->rules = r;
    b->place = a->pos[0];
    b->name = (char *)cli_opt(a, "name");
    const char *s;
    uint64_t v;
    if ((s = cli_opt(a, "id")) && (cli_parse_u64(s, UINT64_MAX, &b->id) < 0 || !b->id))
        return cli_usage_error(_("body put: bad --id '%s' (a body's number)"), s);
    size_t n = 0;
    char **specs = cli_split(a, cli_opt(a, "seat"), ",", 200, &n);
    if (!specs)
        return EXIT_CONN;
    Whistle__V1__DelibSeat *seats = cli_keep(a, calloc(n ? n : 1, sizeof *seats), free);
    b->seats = cli_keep(a, calloc(n ? n : 1, sizeof *b->seats), free);
    if (!seats || !b->seats)
        return EXIT_CONN;
    for (size_t i = 0; i < n; i++) {
        whistle__v1__delib_seat__init(&seats[i]);
        char *role = strchr(specs[i], ':'), *group = role ? strchr(role + 1, ':') : NULL;
        if (!role || !group)
            return cli_usage_error(_("body put: bad --seat '%s' (NAME:ROLE:GROUP, e.g. li:representative:residents)"),
                                   specs[i]);
        *role++ = 0;
        *group++ = 0;
        seats[i].principal = specs[i];
        seats[i].role = word_index(role, role_words, 7);
        seats[i].group = word_index(group, group_words, 6);
        if (!seats[i].role)
            return cli_usage_error(
                _("body put: bad role '%s' (chair, representative, attendee, observer, supervisor, party)"), role);
        if (!seats[i].group)
            return cli_usage_error(_("body put: bad group '%s' (community, owners, property, residents, deputies)"),
                                   group);
        b->seats[b->n_seats++] = &seats[i];
    }
    if ((s = cli_opt(a, "kind"))) {
        b->kind = strcmp(s, "council") == 0 ? 1 : strcmp(s, "mediation") == 0 ? 2 : 0;
        if (!b->kind)
            return cli_usage_error(_("body put: bad --kind '%s' (council or mediation)"), s);
    }
    if ((s = cli_opt(a, "notice-days"))) {
        if (cli_parse_u64(s, 60, &v) < 0 || !v)
            return cli_usage_error(_("body put: bad --notice-days '%s' (1 to 60)"), s);
        r->notice_days = (uint32_t)v;
    }
    if ((s = cli_opt(a, "speaking-limit"))) {
        if (cli_parse_u64(s, 3600, &v) < 0 || !v)
            return cli_usage_error(_("body put: bad --speaking-limit '%s' (seconds, 1 to 3600)"), s);
        r->speaking_limit_s = (uint32_t)v;
    }
    if ((s = cli_opt(a, "quorum")) && parse_fraction(s, &r->quorum_num, &r->quorum_den) < 0)
        return cli_usage_error(_("body put: bad --quorum '%s' (a fraction such as 2/3)"), s);
    if ((s = cli_opt(a, "majority")) && parse_fraction(s, &r->majority_num, &r->majority_den) < 0)
        return cli_usage_error(_("body put: bad --majority '%s' (a fraction such as 2/3)"), s);
    if ((s = cli_opt(a, "signatures")) && parse_fraction(s, &r->sign_num, &r->sign_den) < 0)
        return cli_usage_error(_("body put: bad --signatures '%s' (a fraction such as 1/1)"), s);
    if ((s = cli_opt(a, "majority-of"))) {
        if (strcmp(s, "seats") != 0 && strcmp(s, "present") != 0)
            return cli_usage_error(_("body put: bad --majority-of '%s' (present or seats)"), s);
        r->majority_of_all_seats = strcmp(s, "seats") == 0;
    }
    if ((s = cli_opt(a, "tie-rule"))) {
        r->tie_rule = strcmp(s, "runoff") == 0 ? 1 : strcmp(s, "list-order") == 0 ? 2 : 0;
        if (!r->tie_rule)
            return cli_usage_error(_("body put: bad --tie-rule '%s' (runoff or list-order)"), s);
    }
    return 0;
}

static void print_body(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__DelibBody *b = resp->body;
    if (x->quiet) {
        printf("%" PRIu64 "\n", b->id);
        return;
    }
    const Whistle__V1__DelibRules *r = b->rules;
    printf(_("body %" PRIu64 "  %s  at %s\n"), b->id, b->name, b->place);
    if (b->kind == WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION)
        printf("%s\n", _("a mediation (和解会): the chair mediates; only the parties agree, all of them, and sign"));
    if (r)
        printf(_("rules: notice %u days, quorum %u/%u of the voting seats, majority %u/%u of %s, %u s a speaker, "
                 "minutes signed by %u/%u of the voters present\n"),
               r->notice_days, r->quorum_num, r->quorum_den, r->majority_num, r->majority_den,
               r->majority_of_all_seats ? _("all voting seats") : _("the voters present"), r->speaking_limit_s,
               r->sign_num, r->sign_den);
    for (size_t i = 0; i < b->n_seats; i++)
        printf("  %-20s %-16s %s\n", b->seats[i]->principal, seat_role_name(b->seats[i]->role),
               group_name(b->seats[i]->group));
}

static void print_report(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__DelibReport *r = resp->delib_report;
    printf(_("body %" PRIu64 ": %u meetings held, %u proposals: %u passed, %u rejected, %u carried out, %u rated\n"),
           r->body_id, r->meetings, r->proposals, r->passed, r->rejected, r->carried_out, r->rated);
}

/* ---------------------------------------------------------------- proposals */

static void proposal_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__DelibProposal *p = item;
    char id[24], t1[64], t2[64], rating[8];
    snprintf(id, sizeof id, "%" PRIu64, p->id);
    snprintf(rating, sizeof rating, "%u", p->rating);
    const char *row[] = { id,
                          proposal_state(p->state),
                          cli_local_time(p->published_ms, false, t1, sizeof t1),
                          cli_local_time(p->eligible_ms, false, t2, sizeof t2),
                          p->submitted_by,
                          p->rating ? rating : "-",
                          p->title };
    table_add(tb, row);
}

static const char *proposal_id(const void *item, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64, ((const Whistle__V1__DelibProposal *)item)->id);
    return buf;
}

static const char *const proposal_header[] = { N_("ID"), N_("STATE"),  N_("PUBLISHED"), N_("ELIGIBLE"),
                                               N_("BY"), N_("RATING"), N_("TITLE") };

static const cli_list proposals_list = {
    .items = "proposals",
    .table = { 7, proposal_header, { { 6, 40 } } },
    .row = proposal_row,
    .id = proposal_id,
};

static void print_proposal(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    if (x->quiet) {
        printf("%" PRIu64 "\n", resp->delib_proposal->id);
        return;
    }
    char t[64];
    if (req->call_case == CALL(SUBMIT_PROPOSAL))
        printf(_("proposal %" PRIu64 " published; a meeting may take it up from %s\n"), resp->delib_proposal->id,
               cli_local_time(resp->delib_proposal->eligible_ms, false, t, sizeof t));
    cli_list_print(x, &proposals_list, (ProtobufCMessage *const *)&resp->delib_proposal, 1);
}

static int build_rate(cli *x, args *a, void *msg)
{
    Whistle__V1__RateDelibDecision *r = msg;
    uint64_t v;
    if (cli_parse_u64(a->pos[1], 5, &v) < 0 || !v)
        return cli_usage_error(_("proposal rate: bad rating '%s' (1 to 5)"), a->pos[1]);
    r->rating = (uint32_t)v;
    return 0;
}

/* ---------------------------------------------------------------- meetings */

static int build_schedule(cli *x, args *a, void *msg)
{
    Whistle__V1__ScheduleDelibMeeting *m = msg;
    const char *s = cli_opt(a, "at");
    if (cli_parse_time(s, &m->starts_ms) < 0)
        return cli_usage_error(_("meeting schedule: bad --at '%s' (2026-12-01, \"2026-12-01 19:00\", +3d, Unix ms)"),
                               s);
    size_t np = 0, nb = 0;
    char **props = cli_opt(a, "proposal") ? cli_split(a, cli_opt(a, "proposal"), ",", 30, &np) : NULL;
    /* a repeated --ballot comes joined by ',' */
    char **ballots = cli_opt(a, "ballot") ? cli_split(a, cli_opt(a, "ballot"), ",", 30, &nb) : NULL;
    if (np + nb == 0)
        return cli_usage_error(_("meeting schedule: give the agenda: --proposal N and/or --ballot "
                                 "\"TITLE:K:CANDIDATE|CANDIDATE|...\""));
    /* every ballot's candidates in one array (a ballot has at most 50) */
    char **cand = nb ? cli_keep(a, calloc(nb * 50, sizeof *cand), free) : NULL;
    Whistle__V1__DelibItemSpec *items = cli_keep(a, calloc(np + nb, sizeof *items), free);
    if (nb && !cand)
        return EXIT_CONN;
    m->items = cli_keep(a, calloc(np + nb, sizeof *m->items), free);
    if (!items || !m->items)
        return EXIT_CONN;
    for (size_t i = 0; i < np + nb; i++) {
        Whistle__V1__DelibItemSpec *it = &items[i];
        whistle__v1__delib_item_spec__init(it);
        m->items[m->n_items++] = it;
        if (i < np) {
            if (cli_parse_u64(props[i], UINT64_MAX, &it->proposal_id) < 0 || !it->proposal_id)
                return cli_usage_error(_("meeting schedule: bad --proposal '%s' (a proposal's number)"), props[i]);
            continue;
        }
        char *spec = ballots[i - np], *k = strchr(spec, ':'), *cands = k ? strchr(k + 1, ':') : NULL;
        uint64_t winners;
        if (!k || !cands)
            return cli_usage_error(_("meeting schedule: bad --ballot '%s' (TITLE:K:CANDIDATE|CANDIDATE|...)"), spec);
        *k++ = 0;
        *cands++ = 0;
        if (cli_parse_u64(k, 50, &winners) < 0 || !winners)
            return cli_usage_error(_("meeting schedule: bad number of winners '%s'"), k);
        it->title = spec;
        it->winners = (uint32_t)winners;
        it->candidates = cand + (i - np) * 50;
        for (char *save = NULL, *c = strtok_r(cands, "|", &save); c && it->n_candidates < 50;
             c = strtok_r(NULL, "|", &save))
            it->candidates[it->n_candidates++] = c;
    }
    return 0;
}

static void print_meeting(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__DelibMeeting *m = resp->meeting;
    if (x->quiet) {
        printf("%" PRIu64 "\n", m->id);
        return;
    }
    char t[64];
    printf(_("meeting %" PRIu64 "  %s  %s  starts %s\n"), m->id, m->title, meeting_state(m->state),
           cli_local_time(m->starts_ms, false, t, sizeof t));
    printf(_("present: %zu; voters %u of %u voting seats: %s\n"), m->n_present, m->voters_present, m->voting_seats,
           m->quorum ? _("quorum") : _("no quorum"));
    for (size_t i = 0; i < m->n_speakers; i++) {
        const Whistle__V1__DelibSpeaker *s = m->speakers[i];
        if (!s->started_ms)
            printf(_("  waiting   %s\n"), s->principal);
        else if (!s->ended_ms) {
            /* the countdown on the server's clock (the meeting's own) */
            int64_t left = (s->limit_ms - m->server_ms) / 1000, abs_s = left < 0 ? -left : left;
            char clock[32];
            snprintf(clock, sizeof clock, "%" PRId64 ":%02d", abs_s / 60, (int)(abs_s % 60));
            printf(left >= 0 ? _("  speaking  %s  %s left (until %s)\n") : _("  speaking  %s  %s OVER (since %s)\n"),
                   s->principal, clock, cli_local_time(s->limit_ms, true, t, sizeof t));
        } else
            printf(_("  spoke     %s  %" PRId64 " s%s\n"), s->principal, (s->ended_ms - s->started_ms) / 1000,
                   s->over_limit ? _(" (over the limit)") : "");
    }
    static const char *const item_states[] = { "?", N_("pending"), N_("voting"), N_("closed") };
    for (size_t i = 0; i < m->n_items; i++) {
        const Whistle__V1__DelibItem *it = m->items[i];
        printf(_("item %u  %s  [%s]  %zu votes\n"), it->no, it->title,
               _(item_states[it->state >= 0 && it->state <= 3 ? it->state : 0]), it->n_votes);
        if (it->runoff_of)
            printf(_("    a runoff of item %u's tie: %u place(s)\n"), it->runoff_of, it->winners);
        for (size_t j = 0; j < it->n_candidates; j++)
            printf("    %zu. %s%s%s\n", j + 1, it->candidates[j], it->n_tally > j ? "  " : "",
                   it->n_tally > j ? (snprintf(t, sizeof t, "%u", it->tally[j]), t) : "");
        if (it->result && *it->result)
            printf("    %s\n", it->result);
    }
    for (size_t i = 0; i < m->n_warnings; i++)
        printf(_("  %s card: %s (%s)\n"), m->warnings[i]->card == 2 ? _("red") : _("yellow"), m->warnings[i]->principal,
               m->warnings[i]->reason);
    if (m->minutes)
        printf(_("minutes: %zu of %u signatures%s\n"), m->minutes->n_signatures, m->minutes->required,
               m->minutes->published ? _(", published") : "");
}

/* meeting show --watch: the chair's screen, redrawn every second until
 * Ctrl-C (or --count times). */
static volatile sig_atomic_t stop_show;
static void on_stop(int sig) { stop_show = 1; }

static int run_show(cli *x, args *a)
{
    Whistle__V1__GetDelibMeeting g = WHISTLE__V1__GET_DELIB_MEETING__INIT;
    if (cli_parse_u64(a->pos[0], UINT64_MAX, &g.meeting_id) < 0 || !g.meeting_id)
        return cli_usage_error(_(BAD_ID), "meeting show", a->pos[0]);
    bool watch = cli_flag(a, "watch");
    uint64_t count = watch ? 0 : 1;
    const char *v;
    if ((v = cli_opt(a, "count")) && (cli_parse_u64(v, UINT64_MAX, &count) < 0 || !count))
        return cli_usage_error(_("meeting show: bad --count '%s' (a positive number)"), v);
    if (watch) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    bool tty = isatty(STDOUT_FILENO);
    for (uint64_t n = 0; !stop_show && (!count || n < count); n++) {
        if (n)
            sleep(1);
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        cli_request_set(&req, CALL(GET_MEETING), &g);
        Whistle__V1__Response *resp;
        int rc = cli_call(x, &req, &resp);
        if (rc)
            return rc;
        if (watch && tty)
            fputs("\033[H\033[2J", stdout); /* the screen from the top */
        if (x->json)
            cli_print_json(resp);
        else
            print_meeting(x, a, &req, resp);
        fflush(stdout);
        whistle_response_free(resp);
    }
    return EXIT_OK;
}

static void print_minutes(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__DelibMeeting *m = resp->meeting;
    if (!m->minutes) {
        printf(_("meeting %" PRIu64 " is not closed: no minutes yet\n"), m->id);
        return;
    }
    char t[64];
    fputs(m->minutes->text, stdout);
    for (size_t i = 0; i < m->minutes->n_signatures; i++)
        printf(_("Signed: %s  %s\n"), m->minutes->signatures[i]->principal,
               cli_local_time(m->minutes->signatures[i]->at_ms, false, t, sizeof t));
    if (m->minutes->published)
        printf(_("Published %s.\n"), cli_local_time(m->minutes->published_ms, false, t, sizeof t));
    else
        printf(_("%zu of %u signatures: not published yet.\n"), m->minutes->n_signatures, m->minutes->required);
}

#define ACTION(name, n)                                                                                                \
    static int build_##name(cli *x, args *a, void *msg)                                                                \
    {                                                                                                                  \
        ((Whistle__V1__DelibMeetingAct *)msg)->action = n;                                                             \
        return 0;                                                                                                      \
    }
ACTION(open, 1)
ACTION(checkin, 2)
ACTION(speak, 3)
ACTION(next, 4)
ACTION(close, 8)
ACTION(cancel, 9)

static int item_arg(args *a, const char *what, uint32_t *out)
{
    uint64_t v;
    if (cli_parse_u64(a->pos[1], 30, &v) < 0 || !v)
        return cli_usage_error(_("%s: bad item '%s' (1, 2, ...)"), what, a->pos[1]);
    *out = (uint32_t)v;
    return 0;
}

static int build_open_vote(cli *x, args *a, void *msg)
{
    Whistle__V1__DelibMeetingAct *m = msg;
    m->action = 5;
    return item_arg(a, "meeting open-vote", &m->item_no);
}

static int build_close_vote(cli *x, args *a, void *msg)
{
    Whistle__V1__DelibMeetingAct *m = msg;
    m->action = 6;
    const char *s = cli_opt(a, "deadline");
    if (s && cli_parse_time(s, &m->follow_deadline_ms) < 0)
        return cli_usage_error(_("meeting close-vote: bad --deadline '%s'"), s);
    return item_arg(a, "meeting close-vote", &m->item_no);
}

static int build_warn(cli *x, args *a, void *msg)
{
    Whistle__V1__DelibMeetingAct *m = msg;
    m->action = 7;
    m->card = cli_flag(a, "red") ? 2 : 1;
    return 0;
}

static int build_vote(cli *x, args *a, void *msg)
{
    Whistle__V1__CastDelibVote *v = msg;
    const char *w = a->pos[2];
    v->choice = strcmp(w, "for") == 0 ? 1 : strcmp(w, "against") == 0 ? 2 : strcmp(w, "abstain") == 0 ? 3 : 0;
    if (!v->choice)
        return cli_usage_error(_("vote: bad choice '%s' (for, against or abstain)"), w);
    return item_arg(a, "vote", &v->item_no);
}

static int build_ballot(cli *x, args *a, void *msg)
{
    Whistle__V1__CastDelibVote *v = msg;
    size_t n = 0;
    char **w = a->npos > 2 ? cli_split(a, a->pos[2], ", ", 50, &n) : NULL;
    v->approvals = cli_keep(a, calloc(n ? n : 1, sizeof *v->approvals), free);
    if (!v->approvals)
        return EXIT_CONN;
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        if (cli_parse_u64(w[i], 50, &k) < 0 || !k)
            return cli_usage_error(_("ballot: bad candidate '%s' (their numbers on the ballot: 1, 2, ...)"), w[i]);
        v->approvals[v->n_approvals++] = (uint32_t)(k - 1);
    }
    return item_arg(a, "ballot", &v->item_no);
}

/* ---------------------------------------------------------------- tables */

static const cmd_opt none[] = { { NULL, NULL, NULL } };
static const cmd_opt body_put_opts[] = {
    { "name", "TEXT", N_("the body's name (required)") },
    { "seat", "NAME:ROLE:GROUP",
      N_("a seat (repeat): role chair, representative, attendee, observer, supervisor, party (a mediation's); "
         "group community, owners, property, residents, deputies") },
    { "kind", "KIND", N_("council (default) or mediation (邻里纠纷和解会: the parties decide, all of them)") },
    { "id", "N", N_("replace body N's seats and rules") },
    { "notice-days", "N", N_("days a proposal is published before a meeting takes it (default 3)") },
    { "quorum", "N/D", N_("voting seats present for a vote (default 2/3)") },
    { "majority", "N/D", N_("for-votes a decision needs (default 2/3)") },
    { "majority-of", "WHAT", N_("present (default) or seats: what the majority is counted of") },
    { "speaking-limit", "S", N_("seconds a speaker has (default 480)") },
    { "tie-rule", "RULE", N_("a ballot's tie at the last place: runoff (default) or list-order") },
    { "signatures", "N/D", N_("share of the voters present whose signatures publish the minutes (default 1/1)") },
    { NULL, NULL, NULL },
};
static const cmd_opt proposal_opts[] = {
    { "title", "TEXT", N_("the proposal's title (required)") },
    { "text", "TEXT", N_("what is proposed, in full") },
    { "ticket", "TICKET", N_("the case it is raised from") },
    { NULL, NULL, NULL },
};
static const cmd_opt note_opts[] = { { "note", "TEXT", N_("a note with the rating") }, { NULL, NULL, NULL } };
static const cmd_opt schedule_opts[] = {
    { "title", "TEXT", N_("the meeting's title (required)") },
    { "at", "TIME", N_("when it starts (required)") },
    { "proposal", "N", N_("a proposal to vote on (repeat; items in order)") },
    { "ballot", "TITLE:K:A|B|C", N_("a ballot (差额票决) of candidates with K winners (repeat; after the proposals)") },
    { NULL, NULL, NULL },
};
static const cmd_opt close_vote_opts[] = {
    { "owner", "NAME", N_("who carries the decision out, if it passes") },
    { "deadline", "TIME", N_("by when (with --owner)") },
    { NULL, NULL, NULL },
};
static const cmd_opt show_opts[] = {
    { "watch", NULL,
      N_("the chair's screen: redraw every second (attendance, quorum, the speaker's countdown, "
         "tallies) until Ctrl-C") },
    { "count", "N", N_("with --watch: stop after N screens") },
    { NULL, NULL, NULL },
};
static const cmd_opt warn_opts[] = {
    { "red", NULL, N_("a red card (the floor is taken away); default yellow") },
    { "reason", "TEXT", N_("why (required)") },
    { NULL, NULL, NULL },
};

#define MEETING_ID B_ORDER(0, "meeting_id", BAD_ID, true)
#define ACT_ROW(word, syn, sum, opts, maxp, b, ...)                                                                    \
    {                                                                                                                  \
        "meeting " word, syn, sum, opts, 1, maxp, .call = CALL(MEETING_ACT), .bind = BINDS(MEETING_ID, ##__VA_ARGS__), \
                                                  .build = b, .result = RESULT(MEETING), .print = print_meeting        \
    }

const cmd cli_delib_subcommands[] = {
    { "body put", "PLACE --name TEXT --seat NAME:ROLE:GROUP ... [rules]",
      N_("Set up a deliberative body (议事会) at a community or a place in one."), body_put_opts, 1, 1,
      .call = CALL(PUT_BODY), .bind = BINDS(B_NEED("name", NULL), B_NEED("seat", NULL)), .build = build_body_put,
      .result = RESULT(BODY), .print = print_body },
    { "body show", "BODY", N_("Show a body: its rules and seats."), none, 1, 1, .call = CALL(GET_BODY),
      .bind = BINDS(B_ORDER(0, "body_id", BAD_ID, true)), .result = RESULT(BODY), .print = print_body },
    { "body report", "BODY", N_("Count a body's meetings and proposals passed, rejected and carried out."), none, 1, 1,
      .call = CALL(DELIB_REPORT), .bind = BINDS(B_ORDER(0, "body_id", BAD_ID, true)), .result = RESULT(DELIB_REPORT),
      .print = print_report },
    { "proposal submit", "BODY --title TEXT [--text TEXT] [--ticket TICKET]",
      N_("Submit a proposal (议题); it is published to the members for the notice period."), proposal_opts, 1, 1,
      .call = CALL(SUBMIT_PROPOSAL),
      .bind = BINDS(B_ORDER(0, "body_id", BAD_ID, true), B_NEED("title", "title"), B_OPT("text", "text"),
                    B_TICKET_OPT("ticket", "from_ticket")),
      .result = RESULT(DELIB_PROPOSAL), .print = print_proposal },
    { "proposal list", "BODY", N_("List a body's proposals."), none, 1, 1, .call = CALL(LIST_PROPOSALS),
      .bind = BINDS(B_ORDER(0, "body_id", BAD_ID, true)), .result = RESULT(DELIB_PROPOSALS), .list = &proposals_list },
    { "proposal rate", "PROPOSAL 1-5 [--note TEXT]", N_("Rate a decision once carried out (一评; the chair)."),
      note_opts, 2, 2, .call = CALL(RATE_DECISION),
      .bind = BINDS(B_ORDER(0, "proposal_id", BAD_ID, true), B_OPT("note", "note")), .build = build_rate,
      .result = RESULT(DELIB_PROPOSAL), .print = print_proposal },
    { "meeting schedule", "BODY --title TEXT --at TIME [--proposal N]... [--ballot TITLE:K:A|B|C]...",
      N_("Schedule a meeting with its agenda (the chair); the members are told."), schedule_opts, 1, 1,
      .call = CALL(SCHEDULE_MEETING),
      .bind = BINDS(B_ORDER(0, "body_id", BAD_ID, true), B_NEED("title", "title"), B_NEED("at", NULL)),
      .build = build_schedule, .result = RESULT(MEETING), .print = print_meeting },
    { "meeting show", "MEETING [--watch [--count N]]", N_("Attendance and quorum, speakers, items and their tallies."),
      show_opts, 1, 1, .run = run_show },
    ACT_ROW("open", "MEETING", N_("Open the meeting (the chair)."), none, 1, build_open),
    ACT_ROW("checkin", "MEETING", N_("Check in: present."), none, 1, build_checkin),
    ACT_ROW("speak", "MEETING", N_("Ask for the floor (not observers)."), none, 1, build_speak),
    ACT_ROW("next", "MEETING", N_("End the current speaker, give the floor to the next (the chair)."), none, 1,
            build_next),
    ACT_ROW("open-vote", "MEETING ITEM", N_("Put an item to the vote; needs the quorum (the chair)."), none, 2,
            build_open_vote),
    ACT_ROW("close-vote", "MEETING ITEM [--owner NAME --deadline TIME]",
            N_("Close an item's vote: the result by the rules; a passed proposal becomes a task (the chair)."),
            close_vote_opts, 2, build_close_vote, B_OPT("owner", "follow_owner")),
    ACT_ROW("warn", "MEETING NAME --reason TEXT [--red]", N_("Show a member a yellow or red card (the chair)."),
            warn_opts, 2, build_warn, B_POS(1, "principal"), B_NEED("reason", "reason")),
    ACT_ROW("close", "MEETING", N_("Close the meeting; the minutes are drafted (the chair)."), none, 1, build_close),
    ACT_ROW("cancel", "MEETING", N_("Call off a scheduled meeting; its proposals wait for another (the chair)."), none,
            1, build_cancel),
    { "minutes show", "MEETING", N_("Print a meeting's minutes and who signed them."), none, 1, 1,
      .call = CALL(GET_MEETING), .bind = BINDS(MEETING_ID), .result = RESULT(MEETING), .print = print_minutes },
    { "minutes sign", "MEETING", N_("Sign the minutes (the representatives present)."), none, 1, 1,
      .call = CALL(SIGN_MINUTES), .bind = BINDS(MEETING_ID), .result = RESULT(MEETING), .print = print_minutes },
    { .name = NULL },
};

const cmd cli_delib_commands[] = {
    { "body", "put|show|report ...", N_("Deliberative bodies (议事会): seats and rules."), NULL, 0, -1, .run = NULL },
    { "proposal", "submit|list|rate ...", N_("Proposals (议题) to a body."), NULL, 0, -1, .run = NULL },
    { "meeting", "schedule|show|open|checkin|speak|next|open-vote|close-vote|warn|close|cancel ...",
      N_("Meetings: agenda, attendance, speakers, votes."), NULL, 0, -1, .run = NULL },
    { "vote", "MEETING ITEM for|against|abstain", N_("Vote on an item (changeable until the chair closes it)."), none,
      3, 3, .call = CALL(CAST_VOTE), .bind = BINDS(MEETING_ID), .build = build_vote, .result = RESULT(MEETING),
      .print = print_meeting },
    { "ballot", "MEETING ITEM N[,N...]", N_("Approve up to K candidates of a ballot (by their numbers, from 1)."), none,
      2, 3, .call = CALL(CAST_VOTE), .bind = BINDS(MEETING_ID), .build = build_ballot, .result = RESULT(MEETING),
      .print = print_meeting },
    { "minutes", "show|sign MEETING", N_("A meeting's minutes: read and sign them."), NULL, 0, -1, .run = NULL },
    { .name = NULL },
};
