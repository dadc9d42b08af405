/* bench_cases: reads on a store of many cases. A benchmark, not a test: it
 * prints numbers and asserts nothing.
 *
 *   bench_cases DIR N     seeds tests/fixtures/seed-small.json into a new
 *                         store in DIR, writes N reports (one street, so
 *                         that its listings hold every case; every tenth
 *                         filed, every hundredth of category 0102) in
 *                         transactions of 5,000, the way the writer applies
 *                         them; then times, on the loop's read path
 *                         (api_read in a read transaction, no network):
 *                         get_event of random cases, and the operator's
 *                         listings (the default, newest first, the filed
 *                         ones, one category), each p50 / p99.
 *
 * The whistle-bench figures add TLS and framing to these; the point here
 * is that no read walks the city, whatever the store's size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "arena.h"
#include "audit.h"
#include "store.h"

#define SEED WHISTLE_SOURCE_DIR "/tests/fixtures/seed-small.json"
#define GRID "110105001001001"
#define BATCH 5000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *t, size_t n)
{
    qsort(t, n, sizeof *t, cmp_d);
    printf("  %-34s p50 %8.1f us   p99 %8.1f us   max %8.1f us  (%zu)\n", what, t[n / 2], t[n * 99 / 100], t[n - 1], n);
}

static Whistle__V1__Request *req_new(arena *a, Whistle__V1__Request__CallCase cc)
{
    Whistle__V1__Request *r = arena_alloc(a, sizeof *r);
    whistle__v1__request__init(r);
    r->call_case = cc;
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_cases DIR N\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = atol(argv[2]);
    char err[512];
    store *st;
    store_opts so = { .map_size = (size_t)1 << 30, .map_max = (size_t)64 << 30, .sync = STORE_SYNC_NONE };
    if (store_open(&st, dir, &so, err, sizeof err) || audit_attach(st)) {
        fprintf(stderr, "bench_cases: %s\n", err);
        return 1;
    }
    int64_t t0 = 1795249800000LL;
    if (api_seed(st, SEED, t0, err, sizeof err) < 0) {
        fprintf(stderr, "bench_cases: seed: %s\n", err);
        return 1;
    }
    char(*tickets)[40] = calloc((size_t)n, sizeof *tickets);
    double w0 = now_us();
    for (long done = 0; done < n;) {
        MDB_txn *txn;
        if (store_write_begin(st, &txn)) {
            fprintf(stderr, "bench_cases: cannot begin a write\n");
            return 1;
        }
        arena *a = arena_new();
        Whistle__V1__Principal *gw = api_principal(st, txn, "gw-1", a), *op = api_principal(st, txn, "op-jianwai", a);
        for (long i = 0; i < BATCH && done < n; i++, done++) {
            Whistle__V1__Request *r = req_new(a, WHISTLE__V1__REQUEST__CALL_REPORT);
            r->report = arena_alloc(a, sizeof *r->report);
            whistle__v1__report_event__init(r->report);
            r->report->node = GRID;
            r->report->category = done % 100 == 7 ? "0102" : "0101";
            r->report->description = "a case of the bench";
            Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
            whistle__v1__response__init(resp);
            stream_touched t = { 0 };
            api_write(st, txn, gw, r, t0 + done, a, resp, &t);
            stream_touched_clear(&t);
            if (!resp->status || resp->status->code || !resp->event) {
                fprintf(stderr, "bench_cases: report %ld: %s\n", done, resp->status ? resp->status->message : "?");
                return 1;
            }
            snprintf(tickets[done], sizeof tickets[done], "%s", resp->event->ticket);
            if (done % 10 == 3) {
                Whistle__V1__Request *f = req_new(a, WHISTLE__V1__REQUEST__CALL_FILE);
                f->file = arena_alloc(a, sizeof *f->file);
                whistle__v1__file_event__init(f->file);
                f->file->ticket = tickets[done];
                whistle__v1__response__init(resp);
                api_write(st, txn, op, f, t0 + done, a, resp, &t);
                stream_touched_clear(&t);
            }
        }
        if (mdb_txn_commit(txn)) {
            fprintf(stderr, "bench_cases: commit failed\n");
            return 1;
        }
        arena_free(a);
    }
    mdb_env_sync(st->env, 1);
    printf("bench_cases: %ld cases written in %.1f s; store %zu MiB used\n", n, (now_us() - w0) / 1e6,
           store_used(st) >> 20);

    enum { GETS = 2000, LISTS = 300 };
    double *t = malloc(GETS * sizeof *t);
    srand(1);
    const char *names[] = { "list_events (default, 50)", "list_events newest first (50)", "list_events filed (50)",
                            "list_events category 0102 (50)" };
    for (int kind = -1; kind < 4; kind++) {
        size_t m = kind < 0 ? GETS : LISTS;
        const char *cursor = "";
        for (size_t i = 0; i < m; i++) {
            arena *a = arena_new();
            Whistle__V1__Request *r;
            if (kind < 0) {
                r = req_new(a, WHISTLE__V1__REQUEST__CALL_GET_EVENT);
                r->get_event = arena_alloc(a, sizeof *r->get_event);
                whistle__v1__get_event__init(r->get_event);
                r->get_event->ticket = tickets[rand() % n];
            } else {
                r = req_new(a, WHISTLE__V1__REQUEST__CALL_LIST_EVENTS);
                r->list_events = arena_alloc(a, sizeof *r->list_events);
                whistle__v1__list_events__init(r->list_events);
                r->list_events->limit = 50;
                r->list_events->newest_first = kind == 1;
                r->list_events->state = kind == 2 ? WHISTLE__V1__EVENT_STATE__EVENT_STATE_FILED : 0;
                r->list_events->category = kind == 3 ? "0102" : "";
                r->list_events->cursor = (char *)cursor; /* page on, as a console scrolls */
            }
            Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
            whistle__v1__response__init(resp);
            double s = now_us();
            MDB_txn *txn = store_read_begin(st);
            Whistle__V1__Principal *op = api_principal(st, txn, "op-jianwai", a);
            api_read(st, txn, op, r, t0 + n, a, resp);
            store_read_end(st);
            t[i] = now_us() - s;
            if (!resp->status || resp->status->code) {
                fprintf(stderr, "bench_cases: read: %s\n", resp->status ? resp->status->message : "?");
                return 1;
            }
            static char keep[1024];
            snprintf(keep, sizeof keep, "%s", kind >= 0 && resp->events ? resp->events->next_cursor : "");
            cursor = keep;
            arena_free(a);
        }
        report(kind < 0 ? "get_event (a random case)" : names[kind], t, m);
    }
    free(t);
    free(tickets);
    store_close(st);
    return 0;
}
