/* Group commit with store.sync = full (docs/operations.md, Durability):
 * a write is answered once its commit's data and meta page are on disk,
 * and a push goes out only once its entry is durable. What a test can see
 * of that: the commits and flushes counted, every answer and every push
 * arriving, pushes gapless and in order while commits follow each other.
 * The power-loss test (test_crash.c) is what proves the flushes. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(group_commit, .init = setup, .fini = teardown, .timeout = 120);

Test(group_commit, a_lone_write_is_answered_after_its_data_and_meta_page_are_flushed)
{
    whistle_client *admin = harness_connect(&d, "admin");
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__Response *r1, *r2;
    Whistle__V1__ServerStatsResult *a = harness_server_stats(admin, &r1);
    free(h_report(op, FIRST_GRID, "0401", "stall at the gate"));
    Whistle__V1__ServerStatsResult *b = harness_server_stats(admin, &r2);
    /* nothing else was written: one commit, its data flushed and then its
     * meta page, both before the answer came */
    cr_expect_eq(b->commits - a->commits, 1);
    cr_expect_eq(b->fsyncs - a->fsyncs, 2, "a commit costs two flushes, got %llu",
                 (unsigned long long)(b->fsyncs - a->fsyncs));
    whistle_response_free(r1);
    whistle_response_free(r2);
    whistle_close(op);
    whistle_close(admin);
}

#define PER_CONN 40

static void send_reports(raw_conn *r, int n, int base)
{
    for (int i = 0; i < n; i++) {
        char text[64];
        snprintf(text, sizeof text, "pipelined report %d", base + i);
        Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
        rep.node = FIRST_GRID;
        rep.category = "0401";
        rep.description = text;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.id = (uint64_t)(base + i + 100);
        req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
        req.report = &rep;
        cr_assert_eq(raw_send_request(r, &req), 0);
    }
}

static int read_answers(raw_conn *r, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        Whistle__V1__Frame *f = NULL;
        cr_assert_eq(raw_read_frame(r, 20000, &f), 1, "answer %d of %d", i, n);
        cr_assert_eq(f->kind_case, WHISTLE__V1__FRAME__KIND_RESPONSE);
        ok += f->response->status == NULL || f->response->status->code == 0;
        whistle__v1__frame__free_unpacked(f, NULL);
    }
    return ok;
}

Test(group_commit, pipelined_writes_are_all_answered_and_their_pushes_come_once_in_order)
{
    whistle_client *sub = harness_connect(&d, "operator");
    h_subscribe(sub, 0);
    raw_conn a, b;
    raw_open_hello(&a, &d, "operator");
    raw_open_hello(&b, &d, "operator");
    /* both connections keep the writer busy, so commits follow each other
     * while the loop reads and pushes what the last one committed */
    send_reports(&a, PER_CONN, 0);
    send_reports(&b, PER_CONN, PER_CONN);
    cr_expect_eq(read_answers(&a, PER_CONN), PER_CONN);
    cr_expect_eq(read_answers(&b, PER_CONN), PER_CONN);
    uint64_t next = 1;
    int reports = 0;
    while (reports < 2 * PER_CONN) {
        Whistle__V1__Push *p = NULL;
        int rc = whistle_next_push(sub, 10000, &p);
        cr_assert_eq(rc, 1, "push %d of %d did not come", reports + 1, 2 * PER_CONN);
        cr_expect_eq(p->seq, next, "gapless, in order: expected %llu, got %llu", (unsigned long long)next,
                     (unsigned long long)p->seq);
        next = p->seq + 1;
        reports += strcmp(p->action, "report") == 0;
        whistle_push_free(p);
    }
    Whistle__V1__Push *extra = NULL;
    cr_expect_eq(whistle_next_push(sub, 300, &extra), 0, "no push twice");
    whistle_push_free(extra);
    raw_close(&a);
    raw_close(&b);
    whistle_close(sub);
}

/* Writes that land at varying distances from each other (0 to 2.75 ms:
 * some while the commit of the one before is flushing, some as the writer
 * goes idle) are each answered: no write waits on a flush nobody makes. */
Test(group_commit, a_write_committed_during_a_flush_is_answered_too)
{
    raw_conn a, b;
    raw_open_hello(&a, &d, "operator");
    raw_open_hello(&b, &d, "operator");
    for (int round = 0; round < 60; round++) {
        send_reports(&a, 1, 1000 + 2 * round);
        struct timespec gap = { 0, (round % 12) * 250000L }; /* 0 to 2.75 ms */
        nanosleep(&gap, NULL);
        send_reports(&b, 1, 1001 + 2 * round);
        cr_assert_eq(read_answers(&a, 1), 1, "round %d: the first write was answered", round);
        cr_assert_eq(read_answers(&b, 1), 1, "round %d: the second write was answered", round);
    }
    raw_close(&a);
    raw_close(&b);
}

/* Issue 13, backpressure: with a global cap on queued requests as small as
 * one byte, every connection stops reading while anything is with the
 * writer, and every one resumes when that is done: pipelined writes from
 * three connections are all answered, none lost, none stuck. */
Test(group_commit, a_tiny_global_queue_cap_serialises_but_answers_everything, .init = NULL)
{
    harness_start(&d, "[server]\nmax_queued = 1\n");
    raw_conn a, b, c;
    raw_open_hello(&a, &d, "operator");
    raw_open_hello(&b, &d, "operator");
    raw_open_hello(&c, &d, "operator");
    send_reports(&a, 20, 0);
    send_reports(&b, 20, 20);
    send_reports(&c, 20, 40);
    cr_expect_eq(read_answers(&a, 20), 20);
    cr_expect_eq(read_answers(&b, 20), 20);
    cr_expect_eq(read_answers(&c, 20), 20);
    raw_close(&a);
    raw_close(&b);
    raw_close(&c);
    char out[4096];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "%s", out);
}
