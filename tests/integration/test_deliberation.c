/* A whole meeting through the `whistle` CLI against a real whistled on a
 * test clock (docs/deliberation.md): a body set up, proposals published,
 * a meeting refused before their notice ran out and opened after it, the
 * quorum one short and then met, speakers timed (the config's speaking
 * limit), a vote passing at exactly 2/3 and one failing, a ballot of 6
 * candidates for 3 winners, minutes signed and published, the decision
 * carried out as a community task and rated, the body's report; and the
 * refusals on the way, each naming its rule. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define DAY 86400000LL
/* 2026-11-21 08:30 UTC */
#define START 1795249800000LL
#define COMMUNITY "110105001001"

static daemon_h d;
static void setup(void)
{
    harness_start_clock(&d, "[deliberation]\nspeaking_limit = 300\n", START);
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
    setenv("WHISTLE_PKI", harness_pki(), 1);
    setenv("WHISTLE_HOST", "127.0.0.1", 1);
    setenv("WHISTLE_CONFIG", "/dev/null", 1);
    setenv("LANGUAGE", "en", 1);
    setenv("LC_ALL", "C.UTF-8", 1);
    unsetenv("WHISTLE_AS");
}
static void teardown(void) { harness_cleanup(&d); }
TestSuite(delib, .init = setup, .fini = teardown, .timeout = 120);

static char out[65536], err[8192];

/* Runs `whistle --as WHO ARGS`; returns the exit status, output in out/err. */
static int as(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int as(const char *who, const char *fmt, ...)
{
    char args[2048], cmd[4096], errfile[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errfile, sizeof errfile, "%s/cli.err", d.dir);
    snprintf(cmd, sizeof cmd, "%s --as %s %s 2>%s", WHISTLE_CLI_BIN, who, args, errfile);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    FILE *e = fopen(errfile, "r");
    n = e ? fread(err, 1, sizeof err - 1, e) : 0;
    err[n] = 0;
    if (e)
        fclose(e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define OK(who, ...) cr_assert_eq(as(who, __VA_ARGS__), 0, "%s: %s%s", who, err, out)
/* A refusal (exit 1) whose message holds want. */
#define REFUSED(want, who, ...)                                                                                        \
    do {                                                                                                               \
        int rc_ = as(who, __VA_ARGS__);                                                                                \
        cr_assert_eq(rc_, 1, "%s was not refused (exit %d): %s%s", who, rc_, err, out);                                \
        cr_assert(strstr(err, want), "the refusal lacks \"%s\": %s", want, err);                                       \
    } while (0)

static long long num(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return atoll(json_string_value(v));
    return json_is_true(v) ? 1 : 0;
}

/* The --json answer's object at a path of keys and indexes ("items.0.passed"). */
static long long jget(const char *path)
{
    json_error_t e;
    json_t *root = json_loads(out, 0, &e);
    cr_assert_not_null(root, "not JSON (%s): %s", e.text, out);
    json_t *v = root;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, (size_t)atoi(k)) : json_object_get(v, k);
    long long r = v ? num(v) : 0;
    json_decref(root);
    return r;
}

static long long id_of(void) { return atoll(out); }

static const char *const voters[] = { "community", "gridworker", "operator", "police", "urban", "hotline" };

Test(delib, a_whole_meeting_through_the_cli)
{
    /* the body: 6 voting seats (quorum 4), an attendee, an observer */
    OK("community",
       "-q body put %s --name '永安里四方议事会' --seat community:chair:community --seat "
       "gridworker:representative:residents --seat operator:representative:community --seat "
       "police:representative:property --seat urban:representative:owners --seat hotline:representative:deputies "
       "--seat housing:attendee:property --seat market:observer:residents",
       COMMUNITY);
    long long body = id_of();
    cr_assert_gt(body, 0, "%s", out);
    OK("gridworker", "--json body show %lld", body);
    cr_assert_eq(jget("rules.speaking_limit_s"), 300, "[deliberation] speaking_limit was not applied: %s", out);
    cr_assert_eq(jget("rules.notice_days"), 3);
    REFUSED("holds no seat", "fire", "body show %lld", body);
    REFUSED("may not", "kiosk", "body show %lld", body);

    /* proposals, published to the members */
    OK("urban", "-q proposal submit %lld --title '小区加装路灯' --text '东区三栋楼间无照明'", body);
    long long p1 = id_of();
    OK("hotline", "-q proposal submit %lld --title '公共区域收费调整'", body);
    long long p2 = id_of();
    REFUSED("observer", "market", "proposal submit %lld --title x", body);
    REFUSED("holds no seat", "fire", "proposal submit %lld --title x", body);

    /* the notice period: a meeting tomorrow may not take them */
    REFUSED("may be taken up from 2026-11-24", "community",
            "meeting schedule %lld --title early --at %lld --proposal %lld", body, START + DAY, p1);
    REFUSED("chair", "gridworker", "meeting schedule %lld --title x --at %lld --proposal %lld", body, START + 4 * DAY,
            p1);
    OK("community",
       "-q meeting schedule %lld --title '十一月议事会' --at %lld --proposal %lld --proposal %lld --ballot "
       "'民生实事票决:3:加装电梯|修路灯|建车棚|补绿地|修围墙|装监控'",
       body, START + 3 * DAY, p1, p2);
    long long m = id_of();
    REFUSED("may be taken up from", "community", "meeting open %lld", m);
    harness_set_clock(&d, START + 3 * DAY + 60000);
    OK("community", "meeting open %lld", m);

    /* quorum one short, then exactly 2/3 */
    for (int i = 1; i < 4; i++)
        OK(voters[i], "meeting checkin %lld", m);
    OK("housing", "meeting checkin %lld", m);
    OK("market", "meeting checkin %lld", m);
    REFUSED("3 of 6 voting seats present, 4 needed", "community", "meeting open-vote %lld 1", m);
    OK("community", "--json meeting checkin %lld", m);
    cr_assert_eq(jget("voters_present"), 4);
    cr_assert(jget("quorum"));
    /* every act is pushed to the members with the live figures (a chair's
     * screen follows them): on gridworker's stream, 1-2 the proposals, 3
     * the agenda, 4 the opening, 5-9 the check-ins, 10 the chair's */
    OK("gridworker", "--json watch --after 9 --count 1 --no-ack");
    cr_assert(strstr(out, "\"action\":\"meeting_changed\"") && strstr(out, "\"voters_present\":4") &&
                  strstr(out, "\"quorum\":true") && strstr(out, "\"actor\":\"community\""),
              "%s", out);
    OK("gridworker", "--json watch --after 8 --count 1 --no-ack");
    cr_assert(strstr(out, "\"voters_present\":3") && !strstr(out, "\"quorum\":true"), "%s", out);

    /* speakers: an attendee may, an observer may not; timed */
    REFUSED("observers may not speak", "market", "meeting speak %lld", m);
    OK("housing", "meeting speak %lld", m);
    OK("urban", "meeting checkin %lld", m);
    OK("urban", "meeting speak %lld", m);
    OK("community", "meeting next %lld", m);
    /* the chair's screen counts down on the meeting's clock */
    harness_set_clock(&d, START + 3 * DAY + 60000 + 10000);
    OK("community", "meeting show %lld", m);
    cr_assert(strstr(out, "housing  4:50 left"), "%s", out);
    OK("community", "meeting show %lld --watch --count 2", m);
    cr_assert(strstr(out, "voters 5 of 6 voting seats: quorum"), "%s", out);
    cr_assert(strstr(strstr(out, "4:50 left") + 1, "4:50 left"), "two screens: %s", out);
    harness_set_clock(&d, START + 3 * DAY + 60000 + 310000); /* 10 s over the 300 s limit */
    OK("community", "meeting show %lld", m);
    cr_assert(strstr(out, "housing  0:10 OVER"), "%s", out);
    OK("community", "meeting next %lld", m);
    harness_set_clock(&d, START + 3 * DAY + 60000 + 400000);
    OK("community", "--json meeting next %lld", m);
    cr_assert_eq(jget("speakers.0.limit_ms") - jget("speakers.0.started_ms"), 300000);
    cr_assert(jget("speakers.0.over_limit"));
    cr_assert(!jget("speakers.1.over_limit"));
    OK("hotline", "meeting checkin %lld", m);

    /* item 1 passes at exactly 2/3 (4 of 6), with a vote changed */
    OK("community", "meeting open-vote %lld 1", m);
    OK("police", "vote %lld 1 for", m);
    /* police changes its vote: the last one counts (changeable until closed) */
    static const char *const choice1[] = { "for", "for", "for", "against", "for", "against" };
    for (int i = 0; i < 6; i++)
        OK(voters[i], "vote %lld 1 %s", m, choice1[i]);
    REFUSED("observer", "market", "vote %lld 1 for", m);
    REFUSED("attendee", "housing", "vote %lld 1 for", m);
    REFUSED("holds no seat", "fire", "vote %lld 1 for", m);
    REFUSED("chair", "gridworker", "meeting close-vote %lld 1", m);
    OK("community", "--json meeting close-vote %lld 1 --owner gridworker --deadline %lld", m, START + 30 * DAY);
    cr_assert(jget("items.0.passed"), "%s", out);
    cr_assert_eq(jget("items.0.votes_for"), 4);
    cr_assert_eq(jget("items.0.votes_against"), 2);
    REFUSED("closed", "police", "vote %lld 1 for", m);

    /* item 2 fails at 3 of 6 */
    OK("community", "meeting open-vote %lld 2", m);
    for (int i = 0; i < 6; i++)
        OK(voters[i], "vote %lld 2 %s", m, i < 3 ? "for" : "against");
    OK("community", "--json meeting close-vote %lld 2", m);
    cr_assert(!jget("items.1.passed"), "%s", out);

    /* the ballot: 6 candidates, 3 winners */
    OK("community", "meeting open-vote %lld 3", m);
    static const char *const picks[] = { "1,2,3", "1,2,3", "1,2,4", "1,2,4", "1,3,5", "2,3,6" };
    REFUSED("approve up to 3", "gridworker", "ballot %lld 3 1,2,3,4", m);
    for (int i = 0; i < 6; i++)
        OK(voters[i], "ballot %lld 3 %s", m, picks[i]);
    OK("community", "meeting close-vote %lld 3", m);
    OK("operator", "meeting show %lld", m);
    cr_assert(strstr(out, "3 elected by approvals"), "%s", out);
    OK("operator", "--json meeting show %lld", m);
    cr_assert_eq(jget("items.2.tally.0"), 5);
    cr_assert_eq(jget("items.2.tally.1"), 5);
    cr_assert_eq(jget("items.2.tally.2"), 4);

    /* a yellow card, then the close: the minutes are drafted */
    OK("community", "meeting warn %lld police --reason '打断他人发言'", m);
    OK("community", "meeting close %lld", m);
    REFUSED("is closed", "police", "ballot %lld 3 1", m);
    OK("gridworker", "minutes show %lld", m);
    cr_assert(strstr(out, "Item 1"), "%s", out);
    cr_assert(strstr(out, "not published yet"), "%s", out);
    REFUSED("representatives present", "housing", "minutes sign %lld", m);
    for (int i = 0; i < 6; i++)
        OK(voters[i], "minutes sign %lld", m);
    cr_assert(strstr(out, "Published"), "%s", out);
    REFUSED("unchangeable", "police", "minutes sign %lld", m);
    /* public on the community's echo board: a kiosk shows it */
    OK("kiosk", "board list --node %s", COMMUNITY);
    cr_assert(strstr(out, "十一月议事会"), "%s", out);

    /* the decision carried out (the community's task) and rated */
    OK("community", "--json task list --community %s", COMMUNITY);
    long long task = jget("tasks.0.id");
    cr_assert_gt(task, 0, "%s", out);
    cr_assert(strstr(out, "gridworker"), "%s", out);
    REFUSED("not carried out", "community", "proposal rate %lld 5", p1);
    OK("community", "task done %lld", task);
    REFUSED("chair", "gridworker", "proposal rate %lld 5", p1);
    OK("community", "proposal rate %lld 5 --note '路灯已装好'", p1);
    OK("operator", "body report %lld", body);
    cr_assert(strstr(out, "1 meetings held, 2 proposals: 1 passed, 1 rejected, 1 carried out, 1 rated"), "%s", out);
    OK("operator", "proposal list %lld", body);
    cr_assert(strstr(out, "carried out") && strstr(out, "rejected"), "%s", out);
    /* a member's stream: the proposals, the agenda, the published minutes */
    OK("gridworker", "watch --after 0 --count 4 --no-ack");
    cr_assert(strstr(out, "proposal:1") && strstr(out, "小区加装路灯") && strstr(out, "proposal:2"), "%s", out);
    cr_assert(strstr(out, "meeting:1") && strstr(out, "十一月议事会"), "%s", out);
    /* 11-44: one meeting_changed for each act and vote since; then the
     * minutes (signatures alone are not pushed) */
    OK("gridworker", "--json watch --after 44 --count 1 --no-ack");
    cr_assert_str_eq(strstr(out, "\"action\":\"minutes_published\"") ? "ok" : out, "ok");
    /* the store checker walks the bodies, proposals and meetings */
    harness_stop(&d);
    char report[4096];
    cr_assert_eq(harness_check_store(&d, report, sizeof report), 0, "%s", report);
    cr_assert(strstr(report, "0 violations") || !strstr(report, "violation"), "%s", report);
}

Test(delib, bad_input_is_refused_and_changes_nothing)
{
    cr_assert_eq(as("community", "body put %s --name x --seat community:king:community", COMMUNITY), 2, "%s", err);
    cr_assert_eq(as("community", "body put %s --name x --seat nobody:chair:community", COMMUNITY), 1, "%s", err);
    cr_assert(strstr(err, "not an enabled principal"), "%s", err);
    cr_assert_eq(as("community", "body put %s --name x --seat urban:representative:owners", COMMUNITY), 1, "%s", err);
    cr_assert(strstr(err, "needs a chair"), "%s", err);
    cr_assert_eq(as("operator2", "body put %s --name x --seat community:chair:community", COMMUNITY), 1, "%s", err);
    cr_assert(strstr(err, "outside your scope"), "%s", err);
    cr_assert_eq(as("community", "body show 1"), 1);
    cr_assert(strstr(err, "no body 1"), "%s", err);
    cr_assert_eq(as("community", "vote 1 1 maybe"), 2);
    cr_assert_eq(as("community", "body put %s --name x --kind tribunal --seat community:chair:community", COMMUNITY), 2,
                 "%s", err);
    cr_assert_eq(as("community", "body put %s --name x --seat community:chair:community --seat urban:party:residents",
                    COMMUNITY),
                 1, "%s", err);
    cr_assert(strstr(err, "parties sit on a mediation"), "%s", err);
}

/* A mediation (邻里纠纷和解会) through the CLI: set up with --kind and
 * parties; body show says what it is. */
Test(delib, a_mediation_is_set_up_with_its_parties)
{
    OK("community",
       "-q body put %s --name '3号楼漏水和解会' --kind mediation --seat community:chair:community --seat "
       "urban:party:residents --seat police:party:residents --seat gridworker:representative:residents",
       COMMUNITY);
    long long body = id_of();
    cr_assert_gt(body, 0, "%s", out);
    OK("urban", "body show %lld", body);
    cr_assert(strstr(out, "a mediation") && strstr(out, "party"), "%s", out);
    cr_assert(strstr(out, "quorum 1/1 of the voting seats, majority 1/1 of all voting seats"), "%s", out);
    OK("urban", "--json body show %lld", body);
    cr_assert(strstr(out, "\"kind\":\"mediation\""), "%s", out);
    /* the store checker knows a mediation's rules */
    harness_stop(&d);
    char report[4096];
    cr_assert_eq(harness_check_store(&d, report, sizeof report), 0, "%s", report);
}

/* [deliberation] in whistled.conf: a bad rule stops the daemon at start,
 * naming the key. */
Test(delib, bad_rules_in_the_config_are_refused_naming_the_key)
{
    static const struct {
        const char *line, *want;
    } bad[] = {
        { "quorum = 3/2", "deliberation.quorum" },
        { "majority = 0/3", "deliberation.majority" },
        { "majority_of = most", "deliberation.majority_of" },
        { "tie_rule = coin", "deliberation.tie_rule" },
        { "notice_days = 0", "deliberation.notice_days" },
        { "speaking_limit = 8min", "deliberation.speaking_limit" },
        { "signatures = 1/0", "deliberation.signatures" },
        { "quorom = 2/3", "unknown key deliberation.quorom" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char conf[400], cmd[1200];
        snprintf(conf, sizeof conf, "%s/bad.conf", d.dir);
        FILE *f = fopen(conf, "w");
        cr_assert_not_null(f);
        fprintf(f, "[deliberation]\n%s\n", bad[i].line);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s --config %s --check-config 2>&1", WHISTLED_BIN, conf);
        FILE *p = popen(cmd, "r");
        cr_assert_not_null(p);
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        int st = pclose(p);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s was accepted: %s", bad[i].line, out);
        cr_assert(strstr(out, bad[i].want), "%s: the error lacks %s: %s", bad[i].line, bad[i].want, out);
    }
}
