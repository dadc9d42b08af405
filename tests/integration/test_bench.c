/* whistle-bench smoke test: the benchmark is a program, never a timed
 * test, but it must not rot. Each mode runs for about a second against a
 * test daemon, and its --json output must parse and hold sane numbers:
 * operations done, no errors, latencies, every push received, the
 * server's counters read. Nothing here asserts a speed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(bench, .init = setup, .fini = teardown, .timeout = 120);

/* Runs whistle-bench with args and returns its JSON output, parsed. */
static json_t *bench(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s -p %d --pki %s --daemon-pid %d --json 2>%s/bench.err", WHISTLE_BENCH_BIN, args,
             d.port, harness_pki(), (int)d.pid, d.dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    json_error_t e;
    json_t *j = json_loadf(p, 0, &e);
    int st = pclose(p);
    char show[400];
    snprintf(show, sizeof show, "cat %s/bench.err >&2", d.dir);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) || !j) {
        if (system(show) != 0)
            fprintf(stderr, "(no stderr)\n");
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "whistle-bench %s exited with 0x%x (stderr above)", args, st);
    cr_assert_not_null(j, "whistle-bench --json did not print JSON: %s (line %d)", e.text, e.line);
    return j;
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_number(v), "%s is a number", k);
    return json_number_value(v);
}

Test(bench, every_operation_runs_and_reports_numbers)
{
    json_t *j = bench("-c 2 -P 2 -d 1 --warmup 0 -S 3 --ops report,whistle,checkin,read");
    cr_expect_str_eq(json_string_value(json_object_get(j, "mode")), "load");
    json_t *ops = json_object_get(j, "ops");
    cr_assert_eq(json_array_size(ops), 4);
    const char *names[] = { "report", "whistle", "checkin", "read" };
    for (size_t i = 0; i < 4; i++) {
        json_t *op = json_array_get(ops, i);
        cr_expect_str_eq(json_string_value(json_object_get(op, "op")), names[i]);
        cr_expect_gt(num(op, "ops"), 0, "%s: some operations were done", names[i]);
        cr_expect_eq(num(op, "errors"), 0, "%s: %s", names[i],
                     json_string_value(json_object_get(op, "first_error")) ?: "");
        cr_expect_gt(num(op, "ops_per_s"), 0);
        json_t *lat = json_object_get(op, "latency_us");
        cr_expect_gt(num(lat, "p50"), 0);
        cr_expect_geq(num(lat, "p99"), num(lat, "p50"));
        cr_expect_geq(num(lat, "p999"), num(lat, "p99"));
        json_t *sv = json_object_get(op, "server");
        cr_assert(json_is_object(sv), "%s: the server's counters were read", names[i]);
        cr_expect_gt(num(sv, "cpu_us_per_op"), 0);
        cr_expect_gt(num(sv, "rss_bytes"), 0);
        if (i < 3) /* writes */
            cr_expect_gt(num(sv, "commits_per_s"), 0, "%s commits", names[i]);
    }
    json_t *push = json_object_get(json_array_get(ops, 1), "push");
    cr_assert(json_is_object(push), "the whistle phase measured pushes");
    cr_expect_gt(num(push, "expected"), 0);
    cr_expect_eq(num(push, "received"), num(push, "expected"), "every dispatch reached its desk");
    cr_expect_gt(num(json_object_get(push, "from_send_us"), "p50"), 0);
    json_decref(j);
}

Test(bench, a_mix_runs_the_operations_at_once)
{
    json_t *j = bench("-c 4 -d 1 --warmup 0 -S 2 --mix --ops report,whistle,read");
    cr_expect(json_is_true(json_object_get(j, "mix")));
    json_t *ops = json_object_get(j, "ops");
    cr_assert_eq(json_array_size(ops), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *op = json_array_get(ops, i);
        cr_expect_gt(num(op, "ops"), 0, "%s ran alongside the others", json_string_value(json_object_get(op, "op")));
        cr_expect_eq(num(op, "errors"), 0);
    }
    json_decref(j);
}

/* --ops photo: reports each with a new photo of --photo-bytes, uploaded
 * in chunks first, beside reports without one (docs/photos.md) */
Test(bench, reports_with_photos_run_beside_reports_without)
{
    json_t *j = bench("-c 4 -d 1 --warmup 0 --mix --ops report,photo --photo-bytes 300000");
    json_t *ops = json_object_get(j, "ops");
    cr_assert_eq(json_array_size(ops), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *op = json_array_get(ops, i);
        cr_expect_gt(num(op, "ops"), 0, "%s ran", json_string_value(json_object_get(op, "op")));
        cr_expect_eq(num(op, "errors"), 0, "%s: %s", json_string_value(json_object_get(op, "op")),
                     json_string_value(json_object_get(op, "first_error")));
    }
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(ops, 1), "op")), "photo");
    json_decref(j);
}

Test(bench, idle_connections_and_handshakes)
{
    json_t *j = bench("idle -n 20");
    cr_expect_eq(num(j, "opened"), 20);
    cr_expect_eq(num(j, "failed"), 0);
    num(j, "bytes_per_connection");
    cr_expect_geq(num(j, "server_connections"), 20, "the daemon counted them");
    json_decref(j);

    j = bench("handshake -d 0.5 --threads 1");
    cr_expect_gt(num(j, "handshakes"), 0);
    cr_expect_eq(num(j, "failed"), 0);
    cr_expect_gt(num(j, "per_s"), 0);
    json_decref(j);
}

Test(bench, summary_sets_results_side_by_side)
{
    char a[400], cmd[1200];
    snprintf(a, sizeof a, "%s/ops.json", d.dir);
    json_t *j = bench("-c 1 -d 0.3 --warmup 0 --ops report,read --label ops");
    cr_assert_eq(json_dump_file(j, a, 0), 0);
    json_decref(j);
    snprintf(cmd, sizeof cmd, "%s summary %s", WHISTLE_BENCH_BIN, a);
    FILE *p = popen(cmd, "r");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    cr_expect_eq(pclose(p), 0);
    cr_expect(strstr(buf, "report") && strstr(buf, "Targets"), "summary output:\n%s", buf);
}
