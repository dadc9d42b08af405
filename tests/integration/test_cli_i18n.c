/* The `whistle` CLI in Simplified Chinese and in English (docs/i18n.md):
 * the real binary against a real daemon, once with LANG=zh_CN.UTF-8 and
 * once with LANG=en_US.UTF-8 (a machine without those locales falls back
 * to C.UTF-8 and still speaks the language asked for). Help, listings,
 * names of places and categories, the CLI's own errors follow the
 * language; tables line up by display width (a Chinese character takes two
 * columns); --json and -q are byte for byte the same in both; the
 * server's messages stay as the server wrote them. */
#include <criterion/criterion.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <wchar.h>

#include "harness.h"

static daemon_h d;
static char tickets[3][32];

static void setup(void)
{
    harness_start(&d, NULL);
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
    setenv("WHISTLE_PKI", harness_pki(), 1);
    setenv("WHISTLE_HOST", "127.0.0.1", 1);
    setenv("WHISTLE_CONFIG", "/dev/null", 1);
    /* The catalogues of this build, not whatever is installed. */
    setenv("WHISTLE_LOCALEDIR", WHISTLE_LOCALE_BUILD_DIR, 1);
    unsetenv("WHISTLE_AS");
    /* This process measures display widths. */
    cr_assert(setlocale(LC_ALL, "C.UTF-8") || setlocale(LC_ALL, "C.utf8"));
}
static void teardown(void) { harness_cleanup(&d); }
TestSuite(cli_i18n, .init = setup, .fini = teardown, .timeout = 60);

/* The languages, as a user's session sets them: only LANG. */
static const char *const ZH = "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=zh_CN.UTF-8";
static const char *const EN = "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=en_US.UTF-8";

/* Runs `ENV whistle ARGS`; the exit status, stdout and stderr (malloc'd). */
static int run(const char *env, char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int run(const char *env, char **out, char **err, const char *fmt, ...)
{
    char args[1024], cmd[2048], errfile[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errfile, sizeof errfile, "%s/cli.err", d.dir);
    snprintf(cmd, sizeof cmd, "%s %s %s 2>%s", env, WHISTLE_CLI_BIN, args, errfile);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 8192, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    FILE *e = fopen(errfile, "r");
    char *ebuf = calloc(1, 8192);
    if (e) {
        ebuf[fread(ebuf, 1, 8191, e)] = '\0';
        fclose(e);
    }
    *out = buf;
    if (err)
        *err = ebuf;
    else
        free(ebuf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Three cases whose category and place names differ in width in both
 * languages (积存垃圾渣土 is 12 columns, 3号楼 five; "Accumulated rubbish
 * and muck" is cut to the column's 20). */
static void report_three(void)
{
    static const char *const where[][3] = {
        { "gridworker", "110105001001001", "0401" },    /* 永安东里, 占道经营 */
        { "gridworker", "110105001001001003", "0104" }, /* 3号楼, 积存垃圾渣土 */
        { "operator", "110105001002", "0103" },         /* 光华里社区, 道路不洁 */
    };
    for (int i = 0; i < 3; i++) {
        char *out;
        int rc = run(EN, &out, NULL, "-q --as %s report --node %s --category %s 'case %d'", where[i][0], where[i][1],
                     where[i][2], i);
        cr_assert_eq(rc, 0, "report %d: %s", i, out);
        out[strcspn(out, "\n")] = '\0';
        snprintf(tickets[i], sizeof tickets[i], "%s", out);
        free(out);
    }
}

/* Display columns of the first n bytes of s. */
static int cols(const char *s, size_t n)
{
    char *b = strndup(s, n);
    wchar_t w[1024];
    size_t k = mbstowcs(w, b, 1024);
    free(b);
    cr_assert_neq(k, (size_t)-1, "not UTF-8: %.*s", (int)n, s);
    int c = wcswidth(w, k);
    cr_assert_geq(c, 0);
    return c;
}

/* The display column where `header` starts in the table's first line, and
 * where the first match of `cell` (an ERE) starts in every other line:
 * they must all be the same. Returns the number of rows checked. */
static int check_column(const char *table, const char *header, const char *cell)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, cell, REG_EXTENDED), 0);
    const char *nl = strchr(table, '\n');
    cr_assert_not_null(nl, "no table: %s", table);
    const char *h = strstr(table, header);
    cr_assert(h && h < nl, "no %s in the header: %s", header, table);
    int want = cols(table, (size_t)(h - table)), rows = 0;
    for (const char *line = nl + 1; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        char *l = strndup(line, (size_t)(nl - line));
        regmatch_t m;
        cr_assert_eq(regexec(&re, l, 1, &m, 0), 0, "no /%s/ in: %s", cell, l);
        cr_assert_eq(cols(l, (size_t)m.rm_so), want, "column %s: at %d, not %d, in\n%s\nof\n%s", header,
                     cols(l, (size_t)m.rm_so), want, l, table);
        free(l);
        rows++;
    }
    regfree(&re);
    return rows;
}

Test(cli_i18n, help_comes_in_the_locale_language)
{
    char *zh, *en;
    cr_assert_eq(run(ZH, &zh, NULL, "--help"), 0);
    cr_assert_eq(run(EN, &en, NULL, "--help"), 0);
    cr_assert(strstr(zh, "用法：whistle [选项] 命令 [参数]") && strstr(zh, "命令：\n"), "%s", zh);
    cr_assert(strstr(zh, "吹哨：向各部门派单，每个部门一张派单。"), "command summaries: %s", zh);
    cr_assert(strstr(zh, "--as NAME"), "option names stay: %s", zh);
    cr_assert(strstr(en, "usage: whistle [options] COMMAND [args]") && strstr(en, "Commands:\n"), "%s", en);
    cr_assert(strstr(en, "Whistle a case to departments"), "%s", en);
    cr_assert_null(strstr(en, "用法"), "%s", en);
    free(zh);
    free(en);

    cr_assert_eq(run(ZH, &zh, NULL, "whistle --help"), 0);
    cr_assert(strstr(zh, "用法：whistle whistle TICKET [--dept A,B]") && strstr(zh, "选项："), "%s", zh);
    cr_assert(strstr(zh, "--kind K") && strstr(zh, "routine 日常哨（默认）、tackle 攻坚哨、emergency 应急哨"),
              "the values to type, with their meaning: %s", zh);
    cr_assert_eq(run(EN, &en, NULL, "whistle --help"), 0);
    cr_assert(strstr(en, "routine (default), tackle, emergency"), "%s", en);
    free(zh);
    free(en);
}

Test(cli_i18n, listings_name_places_and_categories_in_the_language_and_line_up)
{
    report_three();
    char *zh, *en;
    cr_assert_eq(run(ZH, &zh, NULL, "--as operator list"), 0);
    cr_assert_eq(run(EN, &en, NULL, "--as operator list"), 0);
    cr_assert(strstr(zh, "永安东里") && strstr(zh, "3号楼") && strstr(zh, "光华里社区"), "%s", zh);
    cr_assert(strstr(zh, "占道经营") && strstr(zh, "积存垃圾渣土") && strstr(zh, "已上报"), "%s", zh);
    cr_assert(strstr(en, "Yong'an Dongli") && strstr(en, "Building 3") && strstr(en, "Guanghuali Community"), "%s", en);
    cr_assert(strstr(en, "Street vending") && strstr(en, "Accumulated rubbish…") && strstr(en, "reported"), "%s", en);
    cr_assert_null(strstr(en, "永安东里"), "%s", en);
    cr_assert_null(strstr(zh, "Yong'an Dongli"), "%s", zh);
    /* every column after the names starts where its header does */
    static const char *const stamp = "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}";
    cr_assert_eq(check_column(zh, "创建时间", stamp), 3);
    cr_assert_eq(check_column(zh, "优先级", "一般"), 3);
    cr_assert_eq(check_column(zh, "地点", "永安东里|3号楼|光华里社区"), 3);
    cr_assert_eq(check_column(en, "CREATED", stamp), 3);
    cr_assert_eq(check_column(en, "PRIORITY", "normal"), 3);
    free(zh);
    free(en);

    /* the tree of places: one name, in the language */
    cr_assert_eq(run(ZH, &zh, NULL, "--as operator nodes --parent 110105001"), 0);
    cr_assert_eq(run(EN, &en, NULL, "--as operator nodes --parent 110105001"), 0);
    cr_assert(strstr(zh, "永安里社区") && strstr(zh, "社区") && !strstr(zh, "Yong'anli"), "%s", zh);
    cr_assert(strstr(en, "Yong'anli Community") && strstr(en, "community") && !strstr(en, "永安里"), "%s", en);
    cr_assert_eq(check_column(zh, "名称", "[^ ]+社区$"), check_column(en, "NAME", "[^ ]+ Community$"));
    free(zh);
    free(en);

    /* a case: codes with their names */
    cr_assert_eq(run(ZH, &zh, NULL, "--as operator show %s", tickets[1]), 0);
    cr_assert(strstr(zh, "地点              110105001001001003 3号楼（街道 110105001 建外街道）"), "%s", zh);
    cr_assert(strstr(zh, "类别              0104 积存垃圾渣土"), "%s", zh);
    cr_assert(strstr(zh, "操作人") && strstr(zh, "上报  已上报"), "the timeline: %s", zh);
    cr_assert_eq(run(EN, &en, NULL, "--as operator show %s", tickets[1]), 0);
    cr_assert(strstr(en, "node              110105001001001003 Building 3 (street 110105001 Jianwai Subdistrict)"),
              "%s", en);
    cr_assert(strstr(en, "category          0104 Accumulated rubbish and muck"), "%s", en);
    free(zh);
    free(en);
}

Test(cli_i18n, the_clients_errors_are_translated_the_servers_are_not)
{
    char *out, *zh, *en;
    cr_assert_eq(run(ZH, &out, &zh, "--as operator list --state bogus"), 2);
    free(out);
    cr_assert(strstr(zh, "whistle: list：--state “bogus”无效") && strstr(zh, "reported 已上报"), "%s", zh);
    cr_assert_eq(run(EN, &out, &en, "--as operator list --state bogus"), 2);
    free(out);
    cr_assert(strstr(en, "whistle: list: bad --state 'bogus' (open, reported, filed,"), "%s", en);
    free(zh);
    free(en);

    cr_assert_eq(run(ZH, &out, &zh, "--as operator nosuchcommand"), 2);
    free(out);
    cr_assert(strstr(zh, "没有命令“nosuchcommand”"), "%s", zh);
    free(zh);

    /* the server writes its own messages: the same in every language */
    report_three();
    cr_assert_eq(run(ZH, &out, &zh, "--as kiosk whistle %s --dept urban", tickets[0]), 1);
    free(out);
    cr_assert_eq(strncmp(zh, "whistle: PERMISSION_DENIED: ", 28), 0, "%s", zh);
    cr_assert_eq(run(EN, &out, &en, "--as kiosk whistle %s --dept urban", tickets[0]), 1);
    free(out);
    cr_assert_str_eq(zh, en);
    free(zh);
    free(en);
}

Test(cli_i18n, json_and_quiet_output_are_the_same_in_every_language)
{
    report_three();
    char *e0, *err;
    cr_assert_eq(run(EN, &e0, &err, "--as operator file %s", tickets[0]), 0, "%s", err);
    free(e0);
    free(err);
    static const char *const cmds[] = {
        "--as operator list --json",       "--as operator show %s --json",     "--as operator nodes --json",
        "--as operator categories --json", "--as operator departments --json", "-q --as operator list",
        "-q --as operator nodes",          "--as operator stats --json",       "--as operator stats --csv",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char args[256], *zh, *en, *c;
        snprintf(args, sizeof args, cmds[i], tickets[0]);
        cr_assert_eq(run(ZH, &zh, NULL, "%s", args), 0, "%s", args);
        cr_assert_eq(run(EN, &en, NULL, "%s", args), 0, "%s", args);
        cr_assert_gt(strlen(en), 10, "%s printed nothing", args);
        cr_assert_str_eq(zh, en, "`whistle %s` differs between the languages", args);
        /* and a script's LC_ALL=C gets the same bytes as well */
        cr_assert_eq(run("env -u LANGUAGE LC_ALL=C", &c, NULL, "%s", args), 0, "%s", args);
        cr_assert_str_eq(c, en, "`whistle %s` differs under LC_ALL=C", args);
        free(zh);
        free(en);
        free(c);
    }
}

Test(cli_i18n, a_c_locale_is_english_and_still_lines_up)
{
    report_three();
    char *c;
    /* a session in Chinese running a script under LC_ALL=C */
    cr_assert_eq(run("env LANGUAGE=zh_CN LANG=zh_CN.UTF-8 LC_ALL=C", &c, NULL, "--as operator list"), 0);
    cr_assert(strstr(c, "TICKET") && strstr(c, "Yong'an Dongli") && !strstr(c, "工单号"), "%s", c);
    cr_assert_eq(check_column(c, "CREATED", "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"), 3);
    free(c);
}

/* The display column where the summaries of `whistle --help` start:
 * the same on every line of the command list, at least two columns after
 * every name. Returns how many commands it saw. */
static int check_help_commands(const char *help, const char *heading)
{
    const char *p = strstr(help, heading);
    cr_assert_not_null(p, "no %s in %s", heading, help);
    p = strchr(p, '\n') + 1;
    int col = -1, n = 0;
    for (const char *nl; *p && *p != '\n'; p = nl + 1) {
        nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        cr_assert_eq(strncmp(p, "  ", 2), 0, "%.*s", (int)(nl - p), p);
        const char *name = p + 2, *end = name + strcspn(name, " \n");
        const char *sum = end + strspn(end, " ");
        cr_assert_geq(sum - end, 2, "the name runs into its summary: %.*s", (int)(nl - p), p);
        int c = cols(p, (size_t)(sum - p));
        if (col < 0)
            col = c;
        cr_assert_eq(c, col, "summary at column %d, not %d: %.*s", c, col, (int)(nl - p), p);
        n++;
    }
    return n;
}

/* issue 11, item 8: the command list's column separates every name
 * (server-stats) from its summary, in both languages. */
Test(cli_i18n, help_lists_commands_in_a_column_that_separates)
{
    char *zh, *en;
    cr_assert_eq(run(ZH, &zh, NULL, "--help"), 0);
    cr_assert_eq(run(EN, &en, NULL, "--help"), 0);
    cr_assert_null(strstr(en, "server-statsShow"), "%s", en);
    cr_assert(strstr(en, "  server-stats  Show the daemon's counters"), "%s", en);
    int n = check_help_commands(en, "Commands:\n");
    cr_assert_gt(n, 20);
    cr_assert_eq(check_help_commands(zh, "命令：\n"), n);
    /* the forms of a ticket are said in the help, in the language */
    cr_assert(strstr(en, "Tickets may be typed as E2026120300001, e2026120300001 or 2026120300001"), "%s", en);
    cr_assert(strstr(zh, "受理编号可以写作 E2026120300001、e2026120300001 或 2026120300001"), "%s", zh);
    free(zh);
    free(en);
}

/* issue 11, items 6, 7 and 9: the client's own errors in the language
 * (a malformed ticket, a connection that fails), the library's detail as
 * it is; with --json, English JSON whatever the language. */
Test(cli_i18n, the_clients_connection_and_ticket_errors_are_translated_json_errors_are_not)
{
    char *out, *zh, *en;
    cr_assert_eq(run(ZH, &out, &zh, "--as operator --port 1 ping"), 3);
    free(out);
    const char *want = "whistle: 无法连接服务器 127.0.0.1 端口 1（whistled 是否在运行？）：connect: ";
    cr_assert_eq(strncmp(zh, want, strlen(want)), 0, "%s", zh);
    cr_assert_eq(run(EN, &out, &en, "--as operator --port 1 ping"), 3);
    free(out);
    want = "whistle: cannot connect to the server at 127.0.0.1 port 1 (is whistled running there?): connect: ";
    cr_assert_eq(strncmp(en, want, strlen(want)), 0, "%s", en);
    free(zh);
    free(en);

    cr_assert_eq(run(ZH, &out, &zh, "--as operator show E12"), 2);
    free(out);
    cr_assert(strstr(zh, "whistle: show：“E12”不是受理编号（E 加 13 位数字"), "%s", zh);
    cr_assert_eq(run(EN, &out, &en, "--as operator show E12"), 2);
    free(out);
    cr_assert(strstr(en, "whistle: show: 'E12' is not a ticket (E and 13 digits"), "%s", en);
    free(zh);
    free(en);

    static const char *const cmds[] = { "--as operator show E12 --json", "--json --as operator --port 1 ping",
                                        "--as operator show E1999010199999 --json",
                                        "--as operator list --state bogus --json" };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        int rz = run(ZH, &out, &zh, "%s", cmds[i]);
        free(out);
        int re = run(EN, &out, &en, "%s", cmds[i]);
        free(out);
        cr_assert_eq(rz, re, "%s", cmds[i]);
        cr_assert_eq(strncmp(en, "{\"error\":{\"code\":\"", 18), 0, "%s: %s", cmds[i], en);
        cr_assert_str_eq(zh, en, "`whistle %s` errs differently in the languages", cmds[i]);
        free(zh);
        free(en);
    }
}

/* Runs a command that must succeed; its stdout (malloc'd). */
static char *ok(const char *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ok(const char *env, const char *fmt, ...)
{
    char args[1024], *out, *err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = run(env, &out, &err, "%s", args);
    cr_assert_eq(rc, 0, "`whistle %s`: exit %d: %s", args, rc, err);
    free(err);
    return out;
}

/* tickets[0] whistled to urban (lead) and police, both fed back: the case
 * resolved by itself. */
static void whistle_and_feed_back(void)
{
    report_three();
    free(ok(EN, "--as operator file %s", tickets[0]));
    free(ok(EN, "--as operator whistle %s --dept urban,police --lead urban", tickets[0]));
    static const char *const depts[] = { "urban", "police" };
    for (int i = 0; i < 2; i++) {
        char *id = ok(EN, "-q --as %s orders --ticket %s", depts[i], tickets[0]);
        id[strcspn(id, "\n")] = '\0';
        free(ok(EN, "--as %s checkin %s", depts[i], id));
        free(ok(EN, "--as %s feedback %s done", depts[i], id));
        free(id);
    }
}

/* issue 11, item 8: the timeline's fixed words (the lead of a dispatch,
 * the case resolved when every department fed back) in the language. */
Test(cli_i18n, the_timeline_says_lead_and_resolved_in_the_language)
{
    whistle_and_feed_back();
    char *zh = ok(ZH, "--as operator show %s", tickets[0]);
    char *en = ok(EN, "--as operator show %s", tickets[0]);
    cr_assert(strstr(zh, "[城管执法队 #1] 牵头\n"), "%s", zh);
    cr_assert(strstr(zh, "自动办结  已办结  各部门均已反馈\n"), "%s", zh);
    cr_assert_null(strstr(zh, "resolved"), "%s", zh);
    cr_assert_null(strstr(zh, "lead"), "%s", zh);
    cr_assert(strstr(en, "] lead\n") && strstr(en, "resolved  resolved  every department has fed back\n"), "%s", en);
    free(zh);
    free(en);
}

/* issue 11, item 8: the service guide names a service's department, in
 * the language (not its code); --json keeps the code. */
Test(cli_i18n, services_name_the_department)
{
    char *zh = ok(ZH, "--as kiosk services 0201");
    char *en = ok(EN, "--as kiosk services 0201");
    cr_assert(strstr(zh, "\n部门              民政\n"), "%s", zh);
    cr_assert(strstr(en, "\ndepartment        Civil affairs\n"), "%s", en);
    cr_assert_null(strstr(zh, "civil"), "%s", zh);
    free(zh);
    free(en);
    char *j = ok(ZH, "--as kiosk services 0201 --json");
    cr_assert(strstr(j, "\"department\":\"civil\""), "%s", j);
    free(j);
}

/* issue 11, item 8: categories give no limits to a major class (not
 * "0m 0h"), and one unit per size of limit: 2h not 120m, 1d not 24h. */
Test(cli_i18n, categories_show_limits_in_one_set_of_units)
{
    char *en = ok(EN, "--as operator categories");
    char *zh = ok(ZH, "--as operator categories");
    cr_assert_null(strstr(en, " 0m "), "%s", en);
    cr_assert_null(strstr(en, " 0h "), "%s", en);
    cr_assert_null(strstr(en, "24h"), "%s", en);
    cr_assert_null(strstr(en, "120m"), "%s", en);
    cr_assert(strstr(en, "\n0401  2h        1d       urban,market"), "%s", en);
    cr_assert(strstr(en, "\n0202  2h        7d "), "%s", en);
    cr_assert(strstr(en, "\n0101  4wh+      20wd+ "), "%s", en);
    /* a major class: its code and name, nothing between but blanks */
    regex_t re;
    cr_assert_eq(regcomp(&re, "\n04 +Street order\n", REG_EXTENDED), 0);
    cr_assert_eq(regexec(&re, en, 0, NULL, 0), 0, "%s", en);
    regfree(&re);
    cr_assert(strstr(zh, "2小时") && strstr(zh, "1天") && strstr(zh, "20工作日+"), "%s", zh);
    cr_assert_null(strstr(zh, "24小时"), "%s", zh);
    cr_assert_eq(check_column(zh, "名称", "市容环境|[^ ]+$"), check_column(en, "NAME", "[A-Z][a-z].*$"));
    free(en);
    free(zh);
}

/* issue 11, item 9, in both languages: orders' two deadline columns,
 * watch's words and its place, list's new options' errors. */
Test(cli_i18n, orders_watch_and_list_filters_speak_the_language)
{
    report_three();
    free(ok(EN, "--as operator file %s", tickets[0]));
    free(ok(EN, "-q --as operator whistle %s --dept police", tickets[0]));
    char *zh = ok(ZH, "--as operator orders");
    char *en = ok(EN, "--as operator orders");
    cr_assert(strstr(zh, "报到时限") && strstr(zh, "办结时限"), "%s", zh);
    cr_assert(strstr(en, "CHECK IN BY") && strstr(en, "RESOLVE BY"), "%s", en);
    /* the last two stamps of a line: the check-in's and the resolve's */
    static const char *const stamp = "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}  [0-9]{4}-[0-9]{2}-[0-9]{2} "
                                     "[0-9]{2}:[0-9]{2}$";
    cr_assert_eq(check_column(zh, "报到时限", stamp), check_column(en, "CHECK IN BY", stamp));
    free(zh);
    free(en);

    char *out, *err;
    cr_assert_eq(run(ZH, &out, &err, "--as police watch --count 1 --no-ack"), 0, "%s", err);
    cr_assert(strstr(err, "正在接收 派出所 (dept:police)：先补发此前的 1 条推送，之后实时显示新推送"), "%s", err);
    cr_assert(strstr(out, "派单") && strstr(out, "永安东里") && strstr(out, "时限 20"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(run(EN, &out, &err, "--as police watch --count 1 --no-ack"), 0, "%s", err);
    cr_assert(strstr(out, "dispatch") && strstr(out, "Yong'an Dongli") && strstr(out, "due 20"), "%s", out);
    free(out);
    free(err);

    cr_assert_eq(run(ZH, &out, &zh, "--as operator list --since yesterday"), 2);
    free(out);
    cr_assert(strstr(zh, "list：--since “yesterday”无效（日期，YYYY-MM-DD）"), "%s", zh);
    cr_assert_eq(run(EN, &out, &en, "--as operator list --since yesterday"), 2);
    free(out);
    cr_assert(strstr(en, "list: bad --since 'yesterday' (a day, YYYY-MM-DD)"), "%s", en);
    free(zh);
    free(en);
}
