/* Full map, full disk (DESIGN.md §5): writes get RESOURCE_EXHAUSTED,
 * reads go on, nothing acknowledged is lost, whistled --check stays
 * clean, and writes resume once the map may grow (map_max raised) or
 * there is room on the disk again. The full disk is the store file
 * reaching its size limit (RLIMIT_FSIZE, set on the running daemon with
 * prlimit): the same failed write LMDB sees on a full filesystem. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x

static daemon_h d;
static void teardown(void) { harness_cleanup(&d); }
TestSuite(full, .fini = teardown, .timeout = 120);

static char big[3900];

/* Reports a case with a large description: 0 and the ticket in out, or the
 * failure's code. */
static int try_report(whistle_client *c, char *out, size_t outlen, char *msg, size_t msglen)
{
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = FIRST_GRID;
    r.category = "0102";
    r.description = big;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &r;
    Whistle__V1__Response *resp = NULL;
    cr_assert_eq(whistle_call(c, &req, &resp), 0, "transport: %s", whistle_last_error(c));
    int code = whistle_response_code(resp);
    if (code == 0)
        snprintf(out, outlen, "%s", resp->event->ticket);
    else
        snprintf(msg, msglen, "%s", whistle_response_message(resp));
    whistle_response_free(resp);
    return code;
}

typedef struct tickets {
    char t[2000][32];
    size_t n;
} tickets;

/* Writes until a write is refused; returns the refusal's message. */
static void fill(whistle_client *c, tickets *acked, char *msg, size_t msglen)
{
    memset(big, 'z', sizeof big - 1);
    for (int i = 0; i < 2000; i++) {
        char t[32];
        int code = try_report(c, t, sizeof t, msg, msglen);
        if (code == 0) {
            cr_assert_lt(acked->n, 2000);
            snprintf(acked->t[acked->n++], sizeof acked->t[0], "%s", t);
            continue;
        }
        cr_assert_eq(code, CODE(RESOURCE_EXHAUSTED), "a write failed with %s instead: %s", whistle_code_name(code),
                     msg);
        return;
    }
    cr_assert_fail("2,000 large reports fitted: the store never filled up");
}

/* Reads go on, every acknowledged case is there, and the store is clean. */
static void reads_go_on_nothing_lost(whistle_client *c, const tickets *acked)
{
    for (size_t i = 0; i < acked->n; i++) {
        Whistle__V1__Response *keep;
        Whistle__V1__Event *ev = h_get(c, acked->t[i], &keep);
        cr_assert_str_eq(ev->ticket, acked->t[i]);
        whistle_response_free(keep);
    }
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.limit = 500;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_EVENTS);
    req.list_events = &le;
    whistle_response_free(harness_call_ok(c, &req));
    char out[4096];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check on the full store:\n%s", out);
}

Test(full, full_map_refuses_writes_serves_reads_and_resumes_when_map_max_is_raised)
{
    /* 1 MiB, allowed to grow once to 2 MiB: the growth happens, then the
     * map is full. */
    harness_start(&d, "[store]\nmap_size = 1048576\nmap_max = 2097152\n");
    whistle_client *gw = harness_connect(&d, "gridworker");
    tickets *acked = calloc(1, sizeof *acked);
    char msg[2048];
    fill(gw, acked, msg, sizeof msg);
    cr_assert(strstr(msg, "map_max"), "the refusal does not say what to do: %s", msg);
    cr_assert(harness_log_contains(&d, "grown to 2 MiB"), "the map never grew before it was full");
    cr_assert(harness_log_contains(&d, "the map is full at map_max (2 MiB)"), "no log line says the map is full");
    fprintf(stderr, "full map: %zu large reports acknowledged before RESOURCE_EXHAUSTED\n", acked->n);
    /* refused again, not crashed; and small writes are refused the same way
     * or fit in what is left: either way the daemon answers */
    char t[32];
    cr_assert_eq(try_report(gw, t, sizeof t, msg, sizeof msg), CODE(RESOURCE_EXHAUSTED));
    reads_go_on_nothing_lost(gw, acked);
    whistle_close(gw);

    /* the operator raises map_max and restarts: writes resume */
    harness_stop(&d);
    snprintf(d.extra, sizeof d.extra, "[store]\nmap_size = 1048576\nmap_max = 8388608\n");
    harness_restart(&d);
    gw = harness_connect(&d, "gridworker");
    for (int i = 0; i < 5; i++)
        cr_assert_eq(try_report(gw, t, sizeof t, msg, sizeof msg), 0, "writes did not resume: %s", msg);
    reads_go_on_nothing_lost(gw, acked);
    whistle_close(gw);
    free(acked);
}

Test(full, full_disk_refuses_writes_serves_reads_and_resumes_when_space_is_freed)
{
    harness_start(&d, NULL);
    whistle_client *gw = harness_connect(&d, "gridworker");
    tickets *acked = calloc(1, sizeof *acked);
    char t[32], msg[2048];
    memset(big, 'y', sizeof big - 1);
    cr_assert_eq(try_report(gw, t, sizeof t, msg, sizeof msg), 0);
    snprintf(acked->t[acked->n++], sizeof acked->t[0], "%s", t);

    /* The store file may not grow past its size now (+ 64 KiB): the disk
     * is "full" as far as LMDB's writes can tell. */
    char path[400];
    snprintf(path, sizeof path, "%s/state/data.mdb", d.dir);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    struct rlimit rl = { (rlim_t)sb.st_size + 65536, (rlim_t)sb.st_size + 65536 }, old;
    cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, NULL, &old), 0);
    rl.rlim_max = old.rlim_max;
    cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, &rl, NULL), 0, "prlimit: cannot limit the daemon's file size");

    fill(gw, acked, msg, sizeof msg);
    cr_assert(strstr(msg, "full") || strstr(msg, "limit"), "the refusal does not say the disk is full: %s", msg);
    cr_assert(harness_log_contains(&d, "writes are refused until there is room"), "no log line says so");
    fprintf(stderr, "full disk: %zu reports acknowledged, then RESOURCE_EXHAUSTED: %s\n", acked->n, msg);
    reads_go_on_nothing_lost(gw, acked);

    /* space is freed: the next write goes through, without a restart */
    cr_assert_eq(prlimit(d.pid, RLIMIT_FSIZE, &old, NULL), 0);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(try_report(gw, t, sizeof t, msg, sizeof msg), 0, "writes did not resume: %s", msg);
        snprintf(acked->t[acked->n++], sizeof acked->t[0], "%s", t);
    }
    cr_assert(harness_log_wait(&d, "writes resumed", 5000), "no log line says writes resumed");
    reads_go_on_nothing_lost(gw, acked);
    whistle_close(gw);
    free(acked);
}
