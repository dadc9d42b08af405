/* report.c: whistle-bench's tables, from the JSON of a result, and the
 * summary that sets saved results side by side with the targets. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static double jnum(json_t *o, const char *path)
{
    /* "a.b.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, k);
    return cur && json_is_number(cur) ? json_number_value(cur) : NAN;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A number in a column, or "-" when unknown. */
static void col(FILE *f, int w, int prec, double v)
{
    if (isnan(v))
        fprintf(f, " %*s", w, "-");
    else
        fprintf(f, " %*.*f", w, prec, v);
}

/* --rounds: the proof asked of photos (docs/performance.md, Photos): each
 * other operation's rate with photo uploads beside it against without. */
static void print_beside_photos(FILE *f, json_t *j)
{
    json_t *all = json_object_get(j, "beside_photos");
    size_t i;
    json_t *b;
    if (!all)
        return;
    int photo_conns = (int)jnum(j, "photo_connections");
    json_array_foreach(all, i, b)
    {
        int n = (int)jnum(b, "rounds");
        if (!n)
            continue;
        fprintf(f,
                "\n%s beside photo uploads: %d rounds of %.1f s with %d connections uploading %.1f MiB photos, each "
                "against the mean of the phases without photos just before and after it\n",
                jstr(b, "op"), n, jnum(j, "duration_s"), photo_conns, jnum(j, "photo_bytes") / 1048576.0);
        fprintf(f,
                "  %s/s: median %.1f without, %.1f with photos (%.1f photos/s); p50 %.2f / %.2f ms, p99 %.2f / "
                "%.2f ms\n",
                jstr(b, "op"), jnum(b, "without_ops_per_s_median"), jnum(b, "with_ops_per_s_median"),
                jnum(b, "photos_per_s_median"), jnum(b, "without_p50_us_median") / 1e3,
                jnum(b, "with_p50_us_median") / 1e3, jnum(b, "without_p99_us_median") / 1e3,
                jnum(b, "with_p99_us_median") / 1e3);
        fprintf(f, "  rate with photos / without, round by round:");
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(b, "ratios"), k, r) fprintf(f, " %.2f", json_real_value(r));
        fprintf(f, "\n  ratio: median %.2f (range %.2f-%.2f)\n", jnum(b, "ratio_median"), jnum(b, "ratio_min"),
                jnum(b, "ratio_max"));
    }
}

static void print_load(FILE *f, json_t *j)
{
    json_t *m = json_object_get(j, "machine");
    json_t *ops = json_object_get(j, "ops");
    const char *sync = "";
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        const char *s = json_string_value(json_object_get(json_object_get(op, "server"), "sync"));
        if (s)
            sync = s;
    }
    fprintf(f, "%s at %s:%d%s%s%s: %d connections x %d in flight%s, %d desks; %d cpus, load %.2f\n", jstr(j, "target"),
            jstr(j, "host"), (int)jnum(j, "port"), *sync ? " (sync " : "", sync, *sync ? ")" : "",
            (int)jnum(j, "connections"), (int)jnum(j, "pipeline"),
            json_is_true(json_object_get(j, "mix")) ? ", operations at once" : "", (int)jnum(j, "subscribers"),
            (int)jnum(m, "cpus"), json_real_value(json_array_get(json_object_get(m, "load"), 0)));
    bool rounds = json_object_get(j, "rounds") != NULL;
    if (rounds)
        fprintf(f, "%-14s", "round");
    fprintf(f, "%-8s %9s %9s %8s %8s %8s %6s %9s %9s %9s %8s %8s %8s %8s %8s %9s", "op", "ops/s", "calls/s", "p50 ms",
            "p99 ms", "p99.9 ms", "errors", "cpu us/op", "commits/s", "fsyncs/s", "wr/commit", "commit ms", "rss MiB",
            "cpu wait", "wKiB/op", "devKiB/op");
    if (rounds)
        fprintf(f, " %6s %9s", "load", "bench cpu");
    fputc('\n', f);
    json_array_foreach(ops, i, op)
    {
        json_t *sv = json_object_get(op, "server");
        if (rounds) {
            char r[32];
            snprintf(r, sizeof r, "%d %s", (int)jnum(op, "round"),
                     json_is_true(json_object_get(op, "without_photos")) ? "without" : "with photos");
            fprintf(f, "%-14s", r);
        }
        fprintf(f, "%-8s", jstr(op, "op"));
        col(f, 9, 1, jnum(op, "ops_per_s"));
        col(f, 9, 1, jnum(op, "calls_per_s"));
        col(f, 8, 2, jnum(op, "latency_us.p50") / 1e3);
        col(f, 8, 2, jnum(op, "latency_us.p99") / 1e3);
        col(f, 8, 2, jnum(op, "latency_us.p999") / 1e3);
        fprintf(f, " %6d", (int)jnum(op, "errors"));
        col(f, 9, 1, jnum(sv, "cpu_us_per_op"));
        col(f, 9, 1, jnum(sv, "commits_per_s"));
        col(f, 9, 1, jnum(sv, "fsyncs_per_s"));
        col(f, 8, 1, jnum(sv, "writes_per_commit"));
        col(f, 8, 2, jnum(sv, "commit_ms_avg"));
        col(f, 8, 1, jnum(sv, "rss_bytes") / 1048576.0);
        col(f, 8, 2, jnum(sv, "waiting_for_cpu"));
        /* bytes per operation to write() (/proc/PID/io) and written by the
         * device holding the server's files (all the machine's writers) */
        col(f, 8, 1, jnum(sv, "wchar_per_op") / 1024);
        col(f, 9, 1, jnum(sv, "device_bytes_per_op") / 1024);
        if (rounds) {
            col(f, 6, 2, jnum(op, "load1"));
            col(f, 9, 2, jnum(op, "client_cpu_util"));
        }
        fputc('\n', f);
        if (json_is_true(json_object_get(op, "ran_out_of_orders")))
            fprintf(f,
                    "         (every check-in connection ran out of orders before the end: the rate is over %.1f s)\n",
                    jnum(op, "seconds"));
        if (json_string_value(json_object_get(op, "first_error")))
            fprintf(f, "         first error: %s\n", jstr(op, "first_error"));
    }
    print_beside_photos(f, j);
    json_array_foreach(ops, i, op)
    {
        json_t *p = json_object_get(op, "push");
        if (!p)
            continue;
        fprintf(f, "push of a whistle to %d of %d departments with %d desks: %d of %d received\n",
                (int)jnum(j, "whistle_departments"), (int)jnum(j, "target_departments"), (int)jnum(j, "subscribers"),
                (int)jnum(p, "received"), (int)jnum(p, "expected"));
        fprintf(f, "  from the whistle's send  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms\n",
                jnum(p, "from_send_us.p50") / 1e3, jnum(p, "from_send_us.p99") / 1e3,
                jnum(p, "from_send_us.p999") / 1e3);
        fprintf(f, "  after the commit         p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms\n",
                jnum(p, "after_commit_us.p50") / 1e3, jnum(p, "after_commit_us.p99") / 1e3,
                jnum(p, "after_commit_us.p999") / 1e3);
        if (json_object_get(p, "from_batch_start_us"))
            fprintf(f, "  from the batch's start   p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  (the commit included)\n",
                    jnum(p, "from_batch_start_us.p50") / 1e3, jnum(p, "from_batch_start_us.p99") / 1e3,
                    jnum(p, "from_batch_start_us.p999") / 1e3);
    }
}

static void print_idle(FILE *f, json_t *j)
{
    fprintf(f, "idle: %d connections opened in %.1f s (%d failed)", (int)jnum(j, "opened"), jnum(j, "seconds_to_open"),
            (int)jnum(j, "failed"));
    double per = jnum(j, "bytes_per_connection");
    if (!isnan(per))
        fprintf(f, "; the daemon's anonymous memory grew %.1f MiB: %.1f KiB per connection (RSS: %.1f KiB)",
                (jnum(j, "rss_anon_after") - jnum(j, "rss_anon_before")) / 1048576.0, per / 1024,
                jnum(j, "rss_bytes_per_connection") / 1024);
    fputc('\n', f);
    if (json_string_value(json_object_get(j, "first_error")))
        fprintf(f, "  first error: %s\n", jstr(j, "first_error"));
}

static void print_handshake(FILE *f, json_t *j)
{
    fprintf(f, "handshakes (%s, %d threads, %.1f s): %d, %.1f/s; p50 %.2f ms, p99 %.2f ms", jstr(j, "proto"),
            (int)jnum(j, "threads"), jnum(j, "seconds"), (int)jnum(j, "handshakes"), jnum(j, "per_s"),
            jnum(j, "latency_us.p50") / 1e3, jnum(j, "latency_us.p99") / 1e3);
    double cpu = jnum(j, "server_cpu_us_per_handshake");
    if (!isnan(cpu))
        fprintf(f, "; server CPU %.0f us each", cpu);
    fputc('\n', f);
    if (jnum(j, "failed") > 0)
        fprintf(f, "  %d failed: %s\n", (int)jnum(j, "failed"), jstr(j, "first_error"));
}

void report_print(FILE *f, json_t *j)
{
    const char *mode = jstr(j, "mode");
    if (strcmp(mode, "idle") == 0)
        print_idle(f, j);
    else if (strcmp(mode, "handshake") == 0)
        print_handshake(f, j);
    else
        print_load(f, j);
}

/* ---------------------------------------------------------------- summary */

static json_t *find_op(json_t *run, const char *name)
{
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(run, "ops"), i, op) if (strcmp(jstr(op, "op"), name) == 0) return op;
    return NULL;
}

static const char *verdict(bool met) { return met ? "met" : "MISSED"; }

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    if (n <= 0)
        return NAN;
    double t[64];
    int m = n < 64 ? n : 64;
    memcpy(t, v, (size_t)m * sizeof *t);
    qsort(t, (size_t)m, sizeof *t, cmp_d);
    return m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
}

/* The result labelled exactly label, or NULL. */
static json_t *by_label(json_t **all, int n, const char *label)
{
    for (int i = 0; i < n; i++)
        if (strcmp(jstr(all[i], "label"), label) == 0)
            return all[i];
    return NULL;
}

int report_summary(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: whistle-bench summary FILE...   (results saved with --json or --out)\n");
        return 2;
    }
    json_t *all[64];
    int n = 0;
    for (int i = 0; i < argc && n < 64; i++) {
        json_error_t e;
        json_t *j = json_load_file(argv[i], 0, &e);
        if (!j) {
            fprintf(stderr, "whistle-bench: %s:%d: %s\n", argv[i], e.line, e.text);
            return 1;
        }
        all[n++] = j;
    }
    json_t *m = json_object_get(all[0], "machine");
    printf("Machine: %s, %d cpus, %d MiB, %s; load at the start %.2f\n", jstr(m, "cpu"), (int)jnum(m, "cpus"),
           (int)jnum(m, "memory_mib"), jstr(m, "kernel"),
           json_real_value(json_array_get(json_object_get(m, "load"), 0)));

    /* Load results side by side: label L (whistled) with L-redis. */
    json_t *report_w = NULL, *xadd_r = NULL, *report_r = NULL, *push_w = NULL, *push_r = NULL;
    for (int i = 0; i < n; i++) {
        json_t *w = all[i];
        if (strcmp(jstr(w, "mode"), "load") != 0 || strcmp(jstr(w, "target"), "whistle") != 0)
            continue;
        if (strncmp(jstr(w, "label"), "durable-", 8) == 0)
            continue; /* rounds: summed up below */
        char rl[200];
        snprintf(rl, sizeof rl, "%s-redis", jstr(w, "label"));
        json_t *r = NULL;
        for (int k = 0; k < n; k++)
            if (strcmp(jstr(all[k], "label"), rl) == 0)
                r = all[k];
        printf("\n%s: %d connections x %d in flight%s, %d subscribed desks, whistles to %d of %d departments\n",
               jstr(w, "label"), (int)jnum(w, "connections"), (int)jnum(w, "pipeline"),
               json_is_true(json_object_get(w, "mix")) ? ", the operations at once" : ", one operation at a time",
               (int)jnum(w, "subscribers"), (int)jnum(w, "whistle_departments"), (int)jnum(w, "target_departments"));
        printf("%-8s %11s %9s %9s %11s %9s %9s %7s\n", "op", "whistled/s", "p99 ms", "cpu us/op", "Redis/s", "p99 ms",
               "cpu us/op", "ratio");
        const char *names[] = { "report", "whistle", "checkin", "read", "xadd" };
        for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
            json_t *a = find_op(w, names[k]), *b = r ? find_op(r, names[k]) : NULL;
            if (!a && !b)
                continue;
            double ra = a ? jnum(a, "ops_per_s") : NAN, rb = b ? jnum(b, "ops_per_s") : NAN;
            printf("%-8s", names[k]);
            col(stdout, 11, 1, ra);
            col(stdout, 9, 2, a ? jnum(a, "latency_us.p99") / 1e3 : NAN);
            col(stdout, 9, 1, a ? jnum(a, "server.cpu_us_per_op") : NAN);
            col(stdout, 11, 1, rb);
            col(stdout, 9, 2, b ? jnum(b, "latency_us.p99") / 1e3 : NAN);
            col(stdout, 9, 1, b ? jnum(b, "server.cpu_us_per_op") : NAN);
            col(stdout, 7, 2, ra / rb);
            putchar('\n');
            /* what each wrote per operation (issue 13's target: bytes) */
            if (a && json_object_get(json_object_get(a, "server"), "wchar_per_op"))
                printf("         bytes/op: whistled %.1f KiB to write(), %.1f KiB by the disk; Redis %.1f KiB to "
                       "write(), %.1f KiB by the disk, AOF +%.0f B\n",
                       jnum(a, "server.wchar_per_op") / 1024, jnum(a, "server.device_bytes_per_op") / 1024,
                       b ? jnum(b, "server.wchar_per_op") / 1024 : NAN,
                       b ? jnum(b, "server.device_bytes_per_op") / 1024 : NAN,
                       b ? jnum(b, "server.aof_bytes_per_op") : NAN);
        }
        json_t *rep = find_op(w, "report");
        if (rep) {
            printf("         whistled commits/s %.0f, fsyncs/s %.0f, %.1f writes per commit, %.2f ms per commit\n",
                   jnum(rep, "server.commits_per_s"), jnum(rep, "server.fsyncs_per_s"),
                   jnum(rep, "server.writes_per_commit"), jnum(rep, "server.commit_ms_avg"));
        }
        /* which results the targets use: "durable" (the pair run back to
         * back) if there is one, else the first run of reports alone */
        bool pair = strcmp(jstr(w, "label"), "durable") == 0;
        if (rep && (int)jnum(w, "connections") == 50 && !json_is_true(json_object_get(w, "mix")) &&
            (!report_w || pair)) {
            report_w = rep;
            if (r) {
                xadd_r = find_op(r, "xadd");
                report_r = find_op(r, "report");
            }
        }
        json_t *wh = find_op(w, "whistle");
        if (wh && json_object_get(wh, "push") && (!push_w || jnum(w, "subscribers") > jnum(push_w, "_subscribers"))) {
            push_w = wh;
            json_object_set_new(push_w, "_subscribers", json_integer((json_int_t)jnum(w, "subscribers")));
            push_r = r ? find_op(r, "whistle") : NULL;
        }
    }
    if (push_w) {
        json_t *p = json_object_get(push_w, "push");
        printf("\npush to %d desks          from send p50 / p99     after commit p50 / p99\n",
               (int)jnum(push_w, "_subscribers"));
        double wait = jnum(push_w, "server.waiting_for_cpu");
        printf("  whistled               %7.2f / %7.2f ms       %7.2f / %7.2f ms   (%d of %d received)\n",
               jnum(p, "from_send_us.p50") / 1e3, jnum(p, "from_send_us.p99") / 1e3,
               jnum(p, "after_commit_us.p50") / 1e3, jnum(p, "after_commit_us.p99") / 1e3, (int)jnum(p, "received"),
               (int)jnum(p, "expected"));
        if (json_object_get(p, "from_batch_start_us"))
            printf("  whistled, from the start of the whistle's batch (commit included): p50 %.2f ms, p99 %.2f ms\n",
                   jnum(p, "from_batch_start_us.p50") / 1e3, jnum(p, "from_batch_start_us.p99") / 1e3);
        if (!isnan(wait))
            printf("  whistled's threads waited for a CPU %.2f s per second of the run (the machine's load)\n", wait);
        json_t *q = push_r ? json_object_get(push_r, "push") : NULL;
        if (q)
            printf("  Redis (pub/sub)        %7.2f / %7.2f ms       %7.2f / %7.2f ms   (%d of %d received)\n",
                   jnum(q, "from_send_us.p50") / 1e3, jnum(q, "from_send_us.p99") / 1e3,
                   jnum(q, "after_commit_us.p50") / 1e3, jnum(q, "after_commit_us.p99") / 1e3, (int)jnum(q, "received"),
                   (int)jnum(q, "expected"));
    }
    /* Rounds run back to back (durable-N and durable-N-redis, hs-N-whistle
     * and hs-N-s_server): on a machine whose load drifts, the median of
     * round-by-round ratios is the steadier comparison. */
    double dw[64], dr[64], dq[64];
    int nd = 0;
    for (int k = 1; k <= 64; k++) {
        char a[32], b[40];
        snprintf(a, sizeof a, "durable-%d", k);
        snprintf(b, sizeof b, "durable-%d-redis", k);
        json_t *x = by_label(all, n, a), *y = by_label(all, n, b);
        json_t *xo = x ? find_op(x, "report") : NULL, *yo = y ? find_op(y, "xadd") : NULL;
        if (!xo || !yo)
            break;
        dw[nd] = jnum(xo, "ops_per_s");
        dr[nd] = jnum(yo, "ops_per_s");
        dq[nd] = dw[nd] / dr[nd];
        if (nd == 0)
            printf("\ndurable reports, %d connections x %d in flight: whistled reports/s against Redis XADD/s, "
                   "round by round\n",
                   (int)jnum(x, "connections"), (int)jnum(x, "pipeline"));
        printf(
            "  round %d: %8.1f vs %8.1f = %.2f   (whistled p99 %.1f ms, %.1f writes per commit; Redis p99 %.1f ms)\n",
            k, dw[nd], dr[nd], dq[nd], jnum(xo, "latency_us.p99") / 1e3, jnum(xo, "server.writes_per_commit"),
            jnum(yo, "latency_us.p99") / 1e3);
        nd++;
    }
    if (nd)
        printf("  median:  %8.1f vs %8.1f, median ratio %.2f\n", median(dw, nd), median(dr, nd), median(dq, nd));

    json_t *idle = NULL, *hs_w = NULL, *hs_ref = NULL;
    for (int i = 0; i < n; i++) {
        const char *mode = jstr(all[i], "mode");
        if (strcmp(mode, "idle") == 0)
            idle = all[i];
        else if (strcmp(mode, "handshake") == 0) {
            if (strcmp(jstr(all[i], "proto"), "whistle") == 0)
                hs_w = all[i];
            else
                hs_ref = all[i];
        }
    }
    if (idle) {
        putchar('\n');
        print_idle(stdout, idle);
    }
    double hw[64], hr[64], hq[64], hcw[64], hcr[64];
    int nh = 0;
    for (int k = 1; k <= 64; k++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "hs-%d-whistle", k);
        snprintf(b, sizeof b, "hs-%d-s_server", k);
        json_t *x = by_label(all, n, a), *y = by_label(all, n, b);
        if (!x || !y)
            break;
        if (nh == 0)
            printf("\nfull mTLS handshakes per second, whistled against openssl s_server, round by round\n");
        hw[nh] = jnum(x, "per_s");
        hr[nh] = jnum(y, "per_s");
        hq[nh] = hw[nh] / hr[nh];
        hcw[nh] = jnum(x, "server_cpu_us_per_handshake");
        hcr[nh] = jnum(y, "server_cpu_us_per_handshake");
        printf("  round %d: %7.1f vs %7.1f = %3.0f%%   (server CPU per handshake %.0f vs %.0f us)\n", k, hw[nh], hr[nh],
               hq[nh] * 100, hcw[nh], hcr[nh]);
        nh++;
    }
    if (nh)
        printf("  median:  %7.1f vs %7.1f, median ratio %.0f%%; server CPU per handshake %.0f vs %.0f us\n",
               median(hw, nh), median(hr, nh), median(hq, nh) * 100, median(hcw, nh), median(hcr, nh));
    else if (hs_w || hs_ref) {
        putchar('\n');
        if (hs_w) {
            printf("whistled:     ");
            print_handshake(stdout, hs_w);
        }
        if (hs_ref) {
            printf("s_server:     ");
            print_handshake(stdout, hs_ref);
        }
    }

    printf("\nTargets (printed, not asserted)\n");
    if (nd) {
        json_t *first = by_label(all, n, "durable-1");
        printf("  durable reports at %d connections >= Redis durable XADD: median of %d rounds %.2f   %s\n",
               (int)jnum(first, "connections"), nd, median(dq, nd), verdict(median(dq, nd) >= 1));
    } else if (report_w) {
        json_t *ref = xadd_r ? xadd_r : report_r;
        double a = jnum(report_w, "ops_per_s"), b = ref ? jnum(ref, "ops_per_s") : NAN;
        if (ref)
            printf("  durable reports at 50 connections >= Redis durable %s: %.0f/s vs %.0f/s = %.2f   %s\n",
                   xadd_r ? "XADD" : "report", a, b, a / b, verdict(a / b >= 1));
        else
            printf("  durable reports at 50 connections: %.0f/s (no Redis result to compare)\n", a);
    }
    if (push_w) {
        double p99 = jnum(push_w, "push.after_commit_us.p99") / 1e3;
        printf("  push to %d desks, p99 after the commit <= 5 ms: %.2f ms   %s\n", (int)jnum(push_w, "_subscribers"),
               p99, verdict(p99 <= 5 && (int)jnum(push_w, "push.received") == (int)jnum(push_w, "push.expected")));
    }
    if (idle) {
        double kib = jnum(idle, "bytes_per_connection") / 1024;
        printf("  %d idle mTLS connections at <= 40 KiB each: %.1f KiB   %s\n", (int)jnum(idle, "opened"), kib,
               verdict(kib <= 40 && (int)jnum(idle, "failed") == 0));
    }
    if (nh) {
        printf("  full handshakes >= 80%% of openssl s_server: median of %d rounds %.0f%%   %s\n", nh,
               median(hq, nh) * 100, verdict(median(hq, nh) >= 0.8));
    } else if (hs_w && hs_ref) {
        double r = jnum(hs_w, "per_s") / jnum(hs_ref, "per_s");
        printf("  full handshakes >= 80%% of openssl s_server: %.0f/s vs %.0f/s = %.0f%%   %s\n", jnum(hs_w, "per_s"),
               jnum(hs_ref, "per_s"), r * 100, verdict(r >= 0.8));
    }
    for (int i = 0; i < n; i++)
        json_decref(all[i]);
    return 0;
}
