/* The `whistle` CLI (DESIGN.md §6) against a real daemon: exit statuses,
 * the error line, --json, -q, settings from the environment, watch. Each
 * test runs the built binary through sh, as a user or a script would. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "whistle/geo.h"

static daemon_h d;
static void setup(void)
{
    harness_start(&d, NULL);
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
    setenv("WHISTLE_PKI", harness_pki(), 1);
    setenv("WHISTLE_HOST", "127.0.0.1", 1);
    setenv("WHISTLE_CONFIG", "/dev/null", 1); /* no user config leaks in */
    unsetenv("WHISTLE_AS");
    unsetenv("WHISTLE_CERT");
    unsetenv("WHISTLE_KEY");
    unsetenv("WHISTLE_CA");
}
static void teardown(void) { harness_cleanup(&d); }
TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

/* Runs `whistle ARGS` (a shell fragment); returns the exit status and the
 * captured stdout and stderr (malloc'd, NUL-terminated). */
static int run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char **out, char **err, const char *fmt, ...)
{
    char args[2048], cmd[4096], errfile[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errfile, sizeof errfile, "%s/cli.err", d.dir);
    snprintf(cmd, sizeof cmd, "%s %s 2>%s", WHISTLE_CLI_BIN, args, errfile);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    FILE *e = fopen(errfile, "r");
    char *ebuf = calloc(1, 4096);
    if (e) {
        size_t en = fread(ebuf, 1, 4095, e);
        ebuf[en] = '\0';
        fclose(e);
    }
    if (err)
        *err = ebuf;
    else
        free(ebuf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* The integer after "key": in a compact JSON line (the tests link no
 * JSON library; the CLI's output is compact, one object per line). */
static long long json_int(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    cr_assert_not_null(p, "no %s in %s", key, json);
    return atoll(p + strlen(pat));
}

/* Reports a case with -q and returns its ticket. */
static char *report(void)
{
    char *out, *err;
    int rc =
        run(&out, &err, "-q --as gridworker report --node %s --category 0401 'Stall at gate 3' '占道经营'", FIRST_GRID);
    cr_assert_eq(rc, 0, "report failed: %s", err);
    chomp(out);
    cr_assert_eq(out[0], 'E', "not a ticket: '%s'", out);
    cr_assert_eq(strchr(out, '\n'), NULL, "-q printed more than the ticket: '%s'", out);
    free(err);
    return out;
}

Test(cli, quiet_report_prints_only_the_ticket_and_show_finds_it)
{
    char *t = report(), *out, *err;
    cr_assert_eq(run(&out, &err, "--as operator show %s", t), 0, "%s", err);
    cr_assert(strstr(out, t) && strstr(out, "reported") && strstr(out, "占道经营"), "%s", out);
    cr_assert(strstr(out, "TIME") && strstr(out, "gridworker"), "no timeline: %s", out);
    free(out);
    free(err);
    free(t);
}

Test(cli, server_refusal_exits_1_with_code_and_message)
{
    char *t = report(), *out, *err;
    int rc = run(&out, &err, "--as kiosk whistle %s --dept urban", t);
    cr_assert_eq(rc, 1, "exit %d, stderr %s", rc, err);
    cr_assert_eq(strncmp(err, "whistle: PERMISSION_DENIED: ", 28), 0, "stderr: %s", err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);
    rc = run(&out, &err, "--as operator show E1999010199999");
    cr_assert_eq(rc, 1);
    cr_assert_eq(strncmp(err, "whistle: NOT_FOUND: ", 20), 0, "stderr: %s", err);
    free(out);
    free(err);
    free(t);
}

Test(cli, usage_errors_exit_2_before_connecting)
{
    char *out, *err;
    cr_assert_eq(run(&out, &err, "--as operator --port 1 verify E1 --pass --fail"), 2);
    cr_assert(strstr(err, "--pass"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as operator nosuchcommand"), 2);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "report --help"), 0);
    cr_assert(strstr(out, "--category"), "%s", out);
    free(out);
    free(err);
}

Test(cli, connection_failures_exit_3)
{
    char *out, *err;
    /* nothing listens on port 1 */
    cr_assert_eq(run(&out, &err, "--as operator --port 1 ping"), 3);
    cr_assert(strstr(err, "connect"), "%s", err);
    free(out);
    free(err);
    /* a principal the server does not know */
    cr_assert_eq(run(&out, &err, "--as stranger ping"), 3);
    cr_assert(strstr(err, "hello: UNAUTHENTICATED: "), "%s", err);
    free(out);
    free(err);
}

Test(cli, json_uses_words_for_states_and_iso_times)
{
    char *t = report(), *out, *err;
    cr_assert_eq(run(&out, &err, "--as operator file %s --json", t), 0, "%s", err);
    char want[64];
    snprintf(want, sizeof want, "{\"ticket\":\"%s\",\"state\":\"filed\"", t);
    cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s", out);
    cr_assert(strstr(out, "\"priority\":\"normal\""), "%s", out);
    cr_assert_gt(json_int(out, "created_ms"), 0);
    const char *created = strstr(out, "\"created\":\"");
    cr_assert(created && created[10 + 24 + 1] == '"' && created[10 + 24] == 'Z', "%s", out);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "not one line: %s", out);
    free(out);
    free(err);
    free(t);
}

Test(cli, whistle_then_orders_and_watch_with_ack)
{
    char *t = report(), *out, *err;
    cr_assert_eq(run(&out, &err, "--as operator file %s", t), 0, "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as operator whistle %s --dept urban,police --lead urban --kind tackle", t), 0,
                 "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as police orders --ticket %s", t), 0, "%s", err);
    chomp(out);
    char order[32];
    snprintf(order, sizeof order, "%s", out);
    cr_assert(order[0] >= '1' && order[0] <= '9' && !strchr(order, '\n'), "police orders: '%s'", out);
    free(out);
    free(err);

    /* The police desk's stream holds the dispatch: watch prints it as one
     * JSON line and acks it, so a second watch from the cursor starts
     * after it. */
    cr_assert_eq(run(&out, &err, "--as police --json watch --count 1"), 0, "%s", err);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "not one line: %s", out);
    cr_assert(strstr(out, "\"action\":\"dispatch\""), "%s", out);
    cr_assert(strstr(out, "\"department\":\"police\",\"state\":\"pending\""), "%s", out);
    long long seq = json_int(out, "seq");
    free(out);
    free(err);

    cr_assert_eq(run(&out, &err, "--as police checkin %s", order), 0, "%s", err);
    cr_assert(strstr(out, "checked_in"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as police --json watch --count 1"), 0, "%s", err);
    cr_assert_eq(json_int(out, "seq"), seq + 1, "the ack did not move the cursor: %s", out);
    cr_assert(strstr(out, "\"action\":\"check_in\""), "%s", out);
    free(out);
    free(err);
    free(t);
}

Test(cli, settings_flag_beats_environment)
{
    char *out, *err;
    setenv("WHISTLE_AS", "police", 1);
    cr_assert_eq(run(&out, &err, "-q hello"), 0, "%s", err);
    cr_assert_str_eq(out, "police\n");
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as operator hello"), 0, "%s", err);
    cr_assert_str_eq(out, "operator\n");
    free(out);
    free(err);
}

/* issue 11, item 6: a ticket is found in the forms people type it, and a
 * malformed one is refused as malformed before any call. */
Test(cli, tickets_are_found_in_the_forms_people_type)
{
    char *t = report(), *out, *err;
    char typed[4][64];
    snprintf(typed[0], sizeof typed[0], "%s", t + 1);  /* 2026120300001 */
    snprintf(typed[1], sizeof typed[1], "e%s", t + 1); /* e2026120300001 */
    snprintf(typed[2], sizeof typed[2], "'%c %.8s %s'", t[0], t + 1, t + 9);
    snprintf(typed[3], sizeof typed[3], "%.5s-%s", t, t + 5);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(run(&out, &err, "--as operator show %s", typed[i]), 0, "show %s: %s", typed[i], err);
        cr_assert(strstr(out, t), "show %s: %s", typed[i], out);
        free(out);
        free(err);
    }
    /* every command that takes a ticket: a write, an option, the whistle */
    cr_assert_eq(run(&out, &err, "--as operator file e%s", t + 1), 0, "%s", err);
    cr_assert(strstr(out, t) && strstr(out, "filed"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as operator whistle %s --dept urban", t + 1), 0, "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as urban orders --ticket %s", t + 1), 0, "%s", err);
    cr_assert(out[0] >= '1' && out[0] <= '9', "urban's order of %s: '%s'", t, out);
    free(out);
    free(err);

    /* malformed: said so, exit 2, nothing asked of the server */
    static const char *const bad[] = { "E2026", "X2026120300001", "E20261203000011", "E2026120300O01" };
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(run(&out, &err, "--as operator --port 1 show %s", bad[i]), 2, "show %s: %s", bad[i], err);
        cr_assert(strstr(err, "is not a ticket") && strstr(err, bad[i]), "show %s: %s", bad[i], err);
        cr_assert_null(strstr(err, "NOT_FOUND"), "%s", err);
        free(out);
        free(err);
    }
    cr_assert_eq(run(&out, &err, "--as operator merge %s --into 12", t), 2);
    cr_assert(strstr(err, "merge: '12' is not a ticket"), "%s", err);
    free(out);
    free(err);
    /* a well-formed ticket that does not exist is still NOT_FOUND */
    cr_assert_eq(run(&out, &err, "--as operator show 1999010199999"), 1);
    cr_assert(strstr(err, "whistle: NOT_FOUND: ") && strstr(err, "E1999010199999"), "%s", err);
    free(out);
    free(err);
    free(t);
}

/* issue 11, item 7: with --json an error is one JSON object on stderr,
 * the exit statuses as without it. */
Test(cli, json_errors_are_json_objects_with_the_same_exit_statuses)
{
    char *out, *err;
    /* the server's refusal: its status by name and number */
    cr_assert_eq(run(&out, &err, "--as operator show E1999010199999 --json"), 1);
    cr_assert_str_eq(out, "");
    cr_assert_eq(strncmp(err, "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"", 39), 0, "%s", err);
    cr_assert(strstr(err, "E1999010199999") && strstr(err, ",\"status\":5}}\n"), "%s", err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
    free(out);
    free(err);
    /* --json before the command, a permission refusal */
    char *t = report();
    cr_assert_eq(run(&out, &err, "--json --as kiosk whistle %s --dept urban", t), 1);
    cr_assert_eq(strncmp(err, "{\"error\":{\"code\":\"PERMISSION_DENIED\",\"message\":\"", 47), 0, "%s", err);
    cr_assert(strstr(err, "\"status\":7}}"), "%s", err);
    free(out);
    free(err);
    free(t);
    /* the client's own: a usage error (2), even one found before --json is read */
    cr_assert_eq(run(&out, &err, "--as operator list --bogus --json"), 2);
    cr_assert_eq(strncmp(err, "{\"error\":{\"code\":\"USAGE\",\"message\":\"list: unknown option '--bogus'", 64), 0,
                 "%s", err);
    cr_assert_null(strstr(err, "status"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as operator show nonsense --json"), 2);
    cr_assert(strstr(err, "{\"error\":{\"code\":\"USAGE\",\"message\":\"show: 'nonsense' is not a ticket"), "%s", err);
    free(out);
    free(err);
    /* and a connection that fails (3) */
    cr_assert_eq(run(&out, &err, "--json --as operator --port 1 ping"), 3);
    cr_assert_eq(strncmp(err, "{\"error\":{\"code\":\"CONNECTION\",\"message\":\"cannot connect", 55), 0, "%s", err);
    free(out);
    free(err);
    /* without --json, the lines as before */
    cr_assert_eq(run(&out, &err, "--as operator --port 1 ping"), 3);
    cr_assert_eq(strncmp(err, "whistle: cannot connect to the server at 127.0.0.1 port 1", 57), 0, "%s", err);
    free(out);
    free(err);
}

/* Reports a case as who, at node, of category, with text: its ticket. */
static char *report_as(const char *who, const char *node, const char *category, const char *text)
{
    char *out, *err;
    int rc = run(&out, &err, "-q --as %s report --node %s --category %s '%s'", who, node, category, text);
    cr_assert_eq(rc, 0, "report failed: %s", err);
    chomp(out);
    free(err);
    return out;
}

/* Runs a command that must succeed: its stdout. */
static char *ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *ok(const char *fmt, ...)
{
    char args[2048], *out, *err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = run(&out, &err, "%s", args);
    cr_assert_eq(rc, 0, "`whistle %s`: exit %d: %s", args, rc, err);
    free(err);
    return out;
}

/* issue 11, item 9: list shows the newest case first (not by place code),
 * and filters by open state, category or class, day and words. */
Test(cli, list_is_newest_first_and_filters_by_state_category_day_and_text)
{
    /* the first in a grid whose code sorts after the others' */
    char *t0 = report_as("operator", "110105001002", "0401", "Stall at the north gate");
    char *t1 = report_as("gridworker", FIRST_GRID, "0103", "Dirty pavement by the school");
    char *t2 = report_as("gridworker", FIRST_GRID, "0401", "Another stall, NORTH GATE");
    char want[256], *out;
    out = ok("-q --as operator list");
    snprintf(want, sizeof want, "%s\n%s\n%s\n", t2, t1, t0);
    cr_assert_str_eq(out, want, "newest first");
    free(out);
    out = ok("-q --as operator list --by-place");
    snprintf(want, sizeof want, "%s\n%s\n%s\n", t1, t2, t0);
    cr_assert_str_eq(out, want, "by place");
    free(out);

    free(ok("--as operator reject %s --reason duplicate", t2));
    out = ok("-q --as operator list --state open");
    snprintf(want, sizeof want, "%s\n%s\n", t1, t0);
    cr_assert_str_eq(out, want, "open leaves out the rejected");
    free(out);
    out = ok("-q --as operator list --category 04");
    snprintf(want, sizeof want, "%s\n%s\n", t2, t0);
    cr_assert_str_eq(out, want, "a class");
    free(out);
    out = ok("-q --as operator list --category 0103");
    snprintf(want, sizeof want, "%s\n", t1);
    cr_assert_str_eq(out, want, "a category");
    free(out);
    out = ok("-q --as operator list --text 'north gate' --state open");
    snprintf(want, sizeof want, "%s\n", t0);
    cr_assert_str_eq(out, want, "words, in either case");
    free(out);
    /* days: today (the tickets' own day, in UTC, may differ from the local
     * one, so the day comes from the clock here as the CLI reads it) */
    char today[16], yesterday[16];
    time_t now = time(NULL), before = now - 86400;
    strftime(today, sizeof today, "%Y-%m-%d", localtime(&now));
    strftime(yesterday, sizeof yesterday, "%Y-%m-%d", localtime(&before));
    out = ok("-q --as operator list --since %s --until %s", today, today);
    snprintf(want, sizeof want, "%s\n%s\n%s\n", t2, t1, t0);
    cr_assert_str_eq(out, want, "today");
    free(out);
    out = ok("-q --as operator list --until %s", yesterday);
    cr_assert_str_eq(out, "", "nothing before today");
    free(out);
    /* the human table is newest first too */
    out = ok("--as operator list --state open");
    cr_assert(strstr(out, t1) && strstr(out, t0) && strstr(out, t1) < strstr(out, t0), "%s", out);
    free(out);

    char *err;
    cr_assert_eq(run(&out, &err, "--as operator list --since 2026-13-01"), 2);
    cr_assert(strstr(err, "list: bad --since '2026-13-01' (a day, YYYY-MM-DD)"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as operator list --category 4"), 2);
    cr_assert(strstr(err, "list: bad --category '4'"), "%s", err);
    free(out);
    free(err);
    free(t0);
    free(t1);
    free(t2);
}

/* issue 11, item 9: orders name their two deadlines, each in its own
 * column (check in by, resolve by), and mark the one met. */
Test(cli, orders_show_the_check_in_and_the_resolve_deadline_apart)
{
    char *t = report();
    free(ok("--as operator file %s", t));
    free(ok("-q --as operator whistle %s --dept urban,police --lead urban", t));
    char *id = ok("-q --as police orders --ticket %s", t);
    chomp(id);
    free(ok("--as police checkin %s", id));
    char *out = ok("--as operator orders --ticket %s", t);
    const char *nl = strchr(out, '\n');
    cr_assert(nl && strstr(out, "CHECK IN BY") && strstr(out, "RESOLVE BY") && strstr(out, "RESOLVE BY") < nl, "%s",
              out);
    cr_assert_null(strstr(out, " DUE"), "%s", out);
    /* police checked in: its check-in met (✓), its resolve deadline running;
     * urban's both running */
    regex_t re;
    cr_assert_eq(regcomp(&re,
                         "\n[0-9]+ +E[0-9]+ +Police station +checked_in +routine +[-0-9: ]+ +✓ [-0-9: ]+ +"
                         "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5}\n",
                         REG_EXTENDED),
                 0);
    cr_assert_eq(regexec(&re, out, 0, NULL, 0), 0, "%s", out);
    regfree(&re);
    cr_assert_eq(regcomp(&re,
                         "\n[0-9]+ +E[0-9]+ +Urban management en… +pending +lead +routine +[-0-9: ]+ +"
                         "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5} +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5}\n",
                         REG_EXTENDED),
                 0);
    cr_assert_eq(regexec(&re, out, 0, NULL, 0), 0, "%s", out);
    regfree(&re);
    free(out);
    free(id);
    free(t);
}

/* issue 11, item 9: watch says in words what comes, and each line shows
 * where the case is and by when the order is due. */
Test(cli, watch_says_what_comes_and_shows_the_place_and_the_deadline)
{
    char *t = report();
    free(ok("--as operator file %s", t));
    free(ok("-q --as operator whistle %s --dept police", t));
    char *out, *err;
    cr_assert_eq(run(&out, &err, "--as police watch --count 1 --no-ack"), 0, "%s", err);
    cr_assert(strstr(err, "watching Police station (dept:police): 1 earlier push first, then new ones as they happen"),
              "%s", err);
    cr_assert_null(strstr(err, "seq"), "%s", err);
    cr_assert(strstr(out, "dispatch") && strstr(out, t) && strstr(out, "Yong'an Dongli") && strstr(out, "due 20"), "%s",
              out);
    free(out);
    free(err);
    free(t);
}

/* issue 11, item 9 and the audit log's counts: `admin audit` shows the
 * newest first, and an entry that stands for many alike (a flood of
 * refusals folded into one) with its count and its last time. */
Test(cli, admin_audit_is_newest_first_and_shows_folded_entries_with_their_count)
{
    /* more refusals than the audit queue holds before it folds them
     * (AUDIT_QUEUE_MAX, 10,000): a kiosk listing cases, pipelined. The
     * daemon's own flush of the queue waits an hour here, not a second:
     * sending them takes longer than a second on a busy machine, and a
     * flush in between would write them one by one. */
    harness_cleanup(&d);
    harness_start(&d, "[store]\naudit_flush = 3600\n");
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
    raw_conn r;
    raw_open_hello(&r, &d, "kiosk");
    const uint64_t total = 10300, window = 48;
    uint64_t next = 10, answered = 0;
    while (answered < total) {
        while (next - 10 < total && next - 10 - answered < window) {
            Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
            Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
            req.id = next++;
            req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
            req.list_events = &le;
            cr_assert_eq(raw_send_request(&r, &req), 0);
        }
        Whistle__V1__Frame *f = NULL;
        cr_assert_eq(raw_read_frame(&r, 20000, &f), 1, "no answer after %llu", (unsigned long long)answered);
        if (f->kind_case == WHISTLE__V1__FRAME__KIND_RESPONSE) {
            cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED);
            answered++;
        }
        whistle__v1__frame__free_unpacked(f, NULL);
    }
    raw_close(&r);
    char *t = report(); /* a write: the queued refusals go to the log */

    char *out = ok("--as admin admin audit --principal kiosk --limit 1");
    regex_t re;
    cr_assert_eq(regcomp(&re,
                         "\n[0-9]+ +[-0-9: ]+ +kiosk +list +×([0-9]+) until [0-9]{4}-[0-9]{2}-[0-9]{2} "
                         "[0-9:]{8}: DENIED: role kiosk",
                         REG_EXTENDED),
                 0);
    regmatch_t m[2];
    cr_assert_eq(regexec(&re, out, 2, m, 0), 0, "the newest is the folded one: %s", out);
    regfree(&re);
    long folded = atol(out + m[1].rm_so);
    cr_assert_gt(folded, 1, "%s", out);
    cr_assert_leq(folded, 300, "%s", out);
    free(out);
    /* oldest first on request: a single refusal, no count */
    out = ok("--as admin admin audit --principal kiosk --limit 1 --oldest-first");
    cr_assert(strstr(out, "DENIED: role kiosk") && !strstr(out, "×"), "%s", out);
    free(out);
    /* --json: the count as it is */
    out = ok("--as admin --json admin audit --principal kiosk --limit 1");
    char want[64];
    snprintf(want, sizeof want, "\"count\":%ld", folded);
    cr_assert(strstr(out, want) && strstr(out, "\"last_at_ms\":"), "%s", out);
    free(out);
    free(t);
}

/* Places on the map and gateways (docs/protocol.md section 12): a report
 * by location, the grid holding a point, a gateway's list. */
Test(cli, report_by_location_locate_and_a_gateways_list)
{
    char *out, *err;
    /* China World, Guomao: the Jianwai Avenue grid */
    cr_assert_eq(run(&out, &err, "-q --as hotline report --lat 39.9087 --lon 116.4605 --category 0401 'Stall'"), 0,
                 "%s", err);
    chomp(out);
    free(err);
    char *ticket = out;
    cr_assert_eq(run(&out, &err, "--json --as operator show %s", ticket), 0, "%s", err);
    cr_assert(strstr(out, "\"node\":\"110105001001004\""), "%s", out);
    free(out);
    free(err);
    free(ticket);
    cr_assert_eq(run(&out, &err, "--as hotline report --category 0401 'Where?'"), 2);
    cr_assert(strstr(err, "--lat"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as hotline report --lat 39.80 --lon 116.30 --category 0401 'Far away'"), 1);
    cr_assert(strstr(err, "outside every grid"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as hotline locate 39.9087 116.4605"), 0, "%s", err);
    cr_assert_str_eq(out, "110105001001004\n");
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as hotline locate 39.9087 east"), 2);
    free(out);
    free(err);
    /* the demo gateway's list, replaced, shown, emptied */
    cr_assert_eq(run(&out, &err, "--as admin admin principal act-for gateway hotline kiosk"), 0, "%s", err);
    cr_assert(strstr(out, "→ hotline;kiosk"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as admin admin principal act-for gateway admin"), 1);
    cr_assert(strstr(err, "never acts for an admin"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as admin admin principal act-for gateway"), 0, "%s", err);
    cr_assert(!strstr(out, "→"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(
        run(&out, &err, "--as admin admin principal add gw-web --role gateway --scope 110105 --act-for hotline"), 0,
        "%s", err);
    cr_assert(strstr(out, "gw-web") && strstr(out, "→ hotline"), "%s", out);
    free(out);
    free(err);
}

/* --act-as: the demo gateway's certificate, calls for those it lists; the
 * audit log shows both names. */
Test(cli, act_as_through_the_gateway_and_the_audit_names_both)
{
    char *out, *err;
    cr_assert_eq(
        run(&out, &err, "-q --as gateway --act-as hotline report --lat 39.9087 --lon 116.4605 --category 0401 'Stall'"),
        0, "%s", err);
    chomp(out);
    char *ticket = out;
    free(err);
    cr_assert_eq(run(&out, &err, "--as gateway --act-as sensor list"), 1);
    cr_assert(strstr(err, "act_as.not_listed"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as hotline --act-as operator list"), 1);
    cr_assert(strstr(err, "act_as.gateway_only"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as admin admin audit --via gateway --target %s", ticket), 0, "%s", err);
    cr_assert(strstr(out, "hotline ← gateway") && strstr(out, ticket), "%s", out);
    free(out);
    free(err);
    free(ticket);
}

/* The demo city's abandoned vehicles ask the kind of vehicle: --attr
 * answers it, show prints the answers. */
Test(cli, report_answers_the_categorys_attributes)
{
    char *out, *err;
    cr_assert_eq(run(&out, &err, "--as hotline report --node %s --category 0405 'Rusty car'", FIRST_GRID), 1);
    cr_assert(strstr(err, "attribute \"vehicle\" is required"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(
        run(&out, &err, "--as hotline report --node %s --category 0405 --attr vehicle=boat 'Boat'", FIRST_GRID), 1);
    cr_assert(strstr(err, "is not one of car, motorbike, bicycle, tricycle"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as hotline report --node %s --category 0405 --attr = 'x'", FIRST_GRID), 2);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err,
                     "-q --as hotline report --node %s --category 0405 --attr vehicle=car --attr plate=京A12345 "
                     "'Rusty car'",
                     FIRST_GRID),
                 0, "%s", err);
    chomp(out);
    char *ticket = out;
    free(err);
    cr_assert_eq(run(&out, &err, "--as hotline show %s", ticket), 0, "%s", err);
    cr_assert(strstr(out, "vehicle: car") && strstr(out, "plate: 京A12345"), "%s", out);
    free(out);
    free(err);
    /* a list of several: damaged roads */
    cr_assert_eq(run(&out, &err,
                     "--json --as hotline report --node %s --category 0305 --attr damage=pothole+crack 'Holes'",
                     FIRST_GRID),
                 0, "%s", err);
    cr_assert(strstr(out, "\"values\":[\"pothole\",\"crack\"]"), "%s", out);
    free(out);
    free(err);
    free(ticket);
}

/* --gcj02: what a Chinese phone map gives is converted before it is
 * located; taken as WGS84 it would land some 600 m off, in another grid. */
Test(cli, gcj02_coordinates_are_converted_when_said_so)
{
    double glat, glon;
    whistle_wgs84_to_gcj02(39.9087, 116.4605, &glat, &glon);
    char *out, *err;
    cr_assert_eq(run(&out, &err, "-q --as hotline locate %.7f %.7f --gcj02", glat, glon), 0, "%s", err);
    cr_assert_str_eq(out, "110105001001004\n");
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "-q --as hotline locate %.7f %.7f", glat, glon), 0, "%s", err);
    cr_assert_str_neq(out, "110105001001004\n", "GCJ-02 taken as WGS84 lands elsewhere");
    free(out);
    free(err);
    cr_assert_eq(
        run(&out, &err, "--json --as hotline report --lat %.7f --lon %.7f --gcj02 --category 0401 'Stall'", glat, glon),
        0, "%s", err);
    cr_assert(strstr(out, "\"node\":\"110105001001004\""), "%s", out);
    cr_assert(strstr(out, "\"lat\":39.9087"), "the WGS84 point is kept: %s", out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "--as hotline report --node %s --gcj02 --category 0401 'Stall'", FIRST_GRID), 2);
    free(out);
    free(err);
}
