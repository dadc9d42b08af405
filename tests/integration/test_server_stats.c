/* ServerStats (docs/protocol.md §10, Server): the daemon's counters, for
 * admins only. The counters move with the work done; a non-admin is
 * refused with the rule that refused it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(server_stats, .init = setup, .fini = teardown, .timeout = 60);

Test(server_stats, admin_reads_counters_that_follow_the_writes)
{
    whistle_client *admin = harness_connect(&d, "admin");
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__Response *r1, *r2;
    Whistle__V1__ServerStatsResult *a = harness_server_stats(admin, &r1);
    cr_expect_geq(a->connections, 2, "both connections are counted");
    cr_expect_gt(a->rss_bytes, 0);
    cr_expect_gt(a->rss_anon_bytes, 0);
    cr_expect_leq(a->rss_anon_bytes, a->rss_bytes);
    cr_expect_gt(a->cpu_user_us + a->cpu_system_us, 0);
    cr_expect_str_eq(a->sync, "full");
    cr_expect_gt(a->server_us, 1700000000000000LL, "Unix microseconds");

    char *t = h_report(op, FIRST_GRID, "0401", "stall at the gate");
    free(t);
    t = h_report(op, FIRST_GRID, "0401", "another stall");
    free(t);
    Whistle__V1__ServerStatsResult *b = harness_server_stats(admin, &r2);
    cr_expect_geq(b->writes, a->writes + 2, "two reports are two writes");
    cr_expect_geq(b->commits, a->commits + 1, "they were committed");
    cr_expect_geq(b->batches, b->commits);
    cr_expect_geq(b->intents, b->writes);
    cr_expect_geq(b->fsyncs, b->commits, "full mode flushes at least once per commit");
    cr_expect_geq(b->max_batch, 1);
    cr_expect_geq(b->uptime_ms, a->uptime_ms);
    whistle_response_free(r1);
    whistle_response_free(r2);
    whistle_close(op);
    whistle_close(admin);
}

Test(server_stats, is_refused_to_non_admins_naming_the_rule)
{
    const char *who[] = { "operator", "police", "kiosk" };
    for (size_t i = 0; i < sizeof who / sizeof *who; i++) {
        whistle_client *c = harness_connect(&d, who[i]);
        Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_SERVER_STATS;
        req.server_stats = &ss;
        const char *msg = harness_call_fail(c, &req, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED);
        cr_expect(strstr(msg, "admins"), "the message names the rule: %s", msg);
        whistle_close(c);
    }
}

/* Runs `whistle --as NAME server-stats`; returns its exit status and stdout. */
static int cli_stats(const char *name, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "WHISTLE_CONFIG=/dev/null %s --pki %s --as %s --host 127.0.0.1 --port %d server-stats 2>&1",
             WHISTLE_CLI_BIN, harness_pki(), name, d.port);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(server_stats, the_cli_shows_them_to_admins_only)
{
    char out[4096];
    cr_expect_eq(cli_stats("admin", out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "commits") && strstr(out, "flushes") && strstr(out, "connections"), "%s", out);
    cr_expect_neq(cli_stats("operator", out, sizeof out), 0);
    cr_expect(strstr(out, "PERMISSION_DENIED"), "%s", out);
}
