/* bench_pages: what the write path costs per operation, independent of
 * the machine's load. A benchmark, not a test: it prints numbers and
 * asserts nothing.
 *
 *   bench_pages DIR [PREFILL [BATCH [OPS [idem|idem-random|none [DEPTS]]]]]
 *
 * Seeds tests/fixtures/seed-small.json into a new store in DIR (made if
 * missing; one holding a store is refused), fills it
 * with PREFILL whistles (report, file, whistle to two departments; 20,000
 * by default, in transactions of 2,000) so that its trees have the depth
 * of a store in use, then runs the bench's three write operations in
 * batches of BATCH calls (24 by default; 1: one write per commit) the way
 * the writer applies them (one write transaction per batch, a nested one
 * per call, the statistics summed per batch, sync = full), OPS operations
 * of each (2,400 by default):
 *   report    a grid worker's report
 *   whistle   a commit of BATCH reports, one of BATCH files, one of BATCH
 *             whistles to two departments (three calls per operation)
 *   checkin   a commit of BATCH check-ins, one of BATCH feedbacks, by the
 *             department, on the orders the whistles made
 * With "idem" every call carries an idempotency key, as the CLI's and the
 * kiosk's do (whistle_idempotency_key: the time, then random digits);
 * "idem-random": 32 random hex digits, as the clients made them before
 * (whistle-bench's calls carry none).
 *
 * With DEPTS (a number), the store is seeded instead with
 * scripts/bench-seed.sh DEPTS (one street, DEPTS departments with a
 * principal each), and the writes spread as whistle-bench's do: each
 * whistle goes to two departments drawn at random, and the check-ins are
 * made by each order's department, on the orders in a shuffled order. So
 * a batch's rows fall where a city's would (many department streams,
 * indexes and counters, old orders), not all in a few places.
 *
 * Per operation it prints the bytes handed to write() (/proc/self/io
 * wchar: LMDB's dirty pages and meta page at each commit), the bytes the
 * page cache counted for the disk (write_bytes), the user-space
 * instructions of this thread (perf_event_open, where the kernel allows
 * it) and its CPU time. Bytes and instructions do not depend on the load
 * of the machine, which whistle-bench's figures do (a batch's size follows
 * it). docs/performance.md records the figures. */
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "arena.h"
#include "audit.h"
#include "stats_rows.h"
#include "store.h"

#define SEED WHISTLE_SOURCE_DIR "/tests/fixtures/seed-small.json"
#define GRID "110105001001001"

static store *st;
/* the spread mode (DEPTS): 0 for the seed-small layout */
static long n_depts;
static char (*dept_of)[24]; /* the department of orders[i] */
static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static const char *who_reports(void) { return n_depts ? "gridworker" : "gw-1"; }
static const char *who_operates(void) { return n_depts ? "operator" : "op-jianwai"; }
static int64_t now_ms = 1795249800000LL;
static bool with_idem, idem_random;
static unsigned long long idem_n;

/* One open batch: the writer's transaction and the sums of its calls. */
static MDB_txn *batch;
static arena *ba;

static void die(const char *what)
{
    fprintf(stderr, "bench_pages: %s\n", what);
    exit(1);
}

static void batch_begin(void)
{
    if (store_write_begin(st, &batch) || stats_batch_begin(st))
        die("cannot begin a batch");
    ba = arena_new();
}

static void batch_end(void)
{
    if (audit_index_flush(st, batch, 0) < 0 || stats_batch_flush(st, batch) || mdb_txn_commit(batch))
        die("a batch did not commit");
    stats_batch_end(st);
    /* sync = full (MDB_NOMETASYNC): the commit flushes its data pages and
     * writes its meta page, which the next commit's flush carries to the
     * disk, as in the writer */
    arena_free(ba);
    now_ms += 3;
}

static Whistle__V1__Request *req_new(Whistle__V1__Request__CallCase cc)
{
    Whistle__V1__Request *r = arena_alloc(ba, sizeof *r);
    whistle__v1__request__init(r);
    r->call_case = cc;
    if (with_idem) {
        /* as whistle_idempotency_key makes them (the time in ms, then
         * random), or 32 random hex digits as it did before */
        idem_n++;
        uint64_t rnd = idem_n * 0x9E3779B97F4A7C15ULL, rnd2 = rnd * 0xBF58476D1CE4E5B9ULL;
        r->idempotency_key =
            idem_random
                ? arena_printf(ba, "%016llx%016llx", (unsigned long long)rnd, (unsigned long long)rnd2)
                : arena_printf(ba, "%012llx%020llx", (unsigned long long)now_ms, (unsigned long long)(rnd >> 24));
    }
    return r;
}

/* One call in a nested transaction of the batch, as the writer runs it. */
static Whistle__V1__Response *run_call(const char *who, Whistle__V1__Request *r)
{
    MDB_txn *child;
    if (mdb_txn_begin(st->env, batch, 0, &child))
        die("cannot begin a call");
    stats_batch_push(st);
    Whistle__V1__Principal *p = api_principal(st, child, who, ba);
    Whistle__V1__Response *resp = arena_alloc(ba, sizeof *resp);
    whistle__v1__response__init(resp);
    stream_touched t = { 0 };
    api_write(st, child, p, r, now_ms, ba, resp, &t);
    stream_touched_clear(&t);
    if (!resp->status || resp->status->code) {
        fprintf(stderr, "bench_pages: %s: %s\n", who, resp->status ? resp->status->message : "?");
        exit(1);
    }
    if (r->idempotency_key && *r->idempotency_key) {
        uint8_t *k;
        size_t n = store_idem_key(who, r->idempotency_key, &k);
        size_t rlen = whistle__v1__response__get_packed_size(resp);
        uint8_t *packed = arena_alloc(ba, rlen ? rlen : 1);
        whistle__v1__response__pack(resp, packed);
        if (store_idem_put(st, child, k, n, now_ms, packed, rlen))
            die("cannot keep an idempotency record");
        free(k);
    }
    if (mdb_txn_commit(child))
        die("a call did not commit");
    stats_batch_pop(st, true);
    return resp;
}

static char *report(void)
{
    Whistle__V1__Request *r = req_new(WHISTLE__V1__REQUEST__CALL_REPORT);
    r->report = arena_alloc(ba, sizeof *r->report);
    whistle__v1__report_event__init(r->report);
    r->report->node = GRID;
    r->report->category = n_depts ? "0401" : "0101";
    r->report->description = "a shed built on the green by the north gate";
    Whistle__V1__Response *resp = run_call(who_reports(), r);
    return strdup(resp->event->ticket);
}

static void file(const char *ticket)
{
    Whistle__V1__Request *r = req_new(WHISTLE__V1__REQUEST__CALL_FILE);
    r->file = arena_alloc(ba, sizeof *r->file);
    whistle__v1__file_event__init(r->file);
    r->file->ticket = (char *)ticket;
    run_call(who_operates(), r);
}

/* The order to the first department it made (urban; spread: the first
 * of two drawn at random, written into dept). */
static uint64_t whistle(const char *ticket, char dept[24])
{
    static char *fixed[] = { "urban", "housing" };
    char a[24], b[24];
    char *drawn[] = { a, b };
    if (n_depts) {
        long i = (long)(next_rand() % (uint64_t)n_depts), j = (long)(next_rand() % (uint64_t)(n_depts - 1));
        if (j >= i)
            j++;
        snprintf(a, sizeof a, "d%04ld", i + 1);
        snprintf(b, sizeof b, "d%04ld", j + 1);
    }
    Whistle__V1__Request *r = req_new(WHISTLE__V1__REQUEST__CALL_WHISTLE);
    r->whistle = arena_alloc(ba, sizeof *r->whistle);
    whistle__v1__whistle_event__init(r->whistle);
    r->whistle->ticket = (char *)ticket;
    r->whistle->n_departments = 2;
    r->whistle->departments = n_depts ? drawn : fixed;
    r->whistle->note = "both of you, please";
    Whistle__V1__Response *resp = run_call(who_operates(), r);
    const char *first = r->whistle->departments[0];
    for (size_t i = 0; resp->whistle && i < resp->whistle->n_orders; i++)
        if (strcmp(resp->whistle->orders[i]->department, first) == 0) {
            if (dept)
                snprintf(dept, 24, "%s", first);
            return resp->whistle->orders[i]->id;
        }
    die("a whistle made no order to its first department");
    return 0;
}

static void check_in(uint64_t id, const char *dept)
{
    Whistle__V1__Request *r = req_new(WHISTLE__V1__REQUEST__CALL_CHECK_IN);
    r->check_in = arena_alloc(ba, sizeof *r->check_in);
    whistle__v1__check_in__init(r->check_in);
    r->check_in->order_id = id;
    r->check_in->note = "on the spot";
    run_call(n_depts ? dept : "urban", r);
}

static void feedback(uint64_t id, const char *dept)
{
    Whistle__V1__Request *r = req_new(WHISTLE__V1__REQUEST__CALL_FEEDBACK);
    r->feedback = arena_alloc(ba, sizeof *r->feedback);
    whistle__v1__feedback__init(r->feedback);
    r->feedback->order_id = id;
    r->feedback->text = "the shed is gone";
    run_call(n_depts ? dept : "urban", r);
}

/* ---- measuring */

struct sample {
    unsigned long long wchar, write_bytes, instr;
    double cpu_us;
};

static int perf_fd = -1;

static void perf_open(void)
{
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_HARDWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_HW_INSTRUCTIONS;
    pe.exclude_kernel = 1;
    pe.exclude_hv = 1;
    perf_fd = (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
    if (perf_fd >= 0)
        ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0);
}

static struct sample sample(void)
{
    struct sample s = { 0 };
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "wchar: %llu", &s.wchar);
        sscanf(line, "write_bytes: %llu", &s.write_bytes);
    }
    if (f)
        fclose(f);
    if (perf_fd < 0 || read(perf_fd, &s.instr, sizeof s.instr) != sizeof s.instr)
        s.instr = 0;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    s.cpu_us = (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
    return s;
}

static void print(const char *op, struct sample a, struct sample b, long ops, long commits)
{
    printf("%-8s %7ld ops %6ld commits   %8.1f KiB/op to write()   %8.1f KiB/op to disk   ", op, ops, commits,
           (double)(b.wchar - a.wchar) / 1024 / (double)ops,
           (double)(b.write_bytes - a.write_bytes) / 1024 / (double)ops);
    if (perf_fd >= 0)
        printf("%8.0f k instr/op   ", (double)(b.instr - a.instr) / 1e3 / (double)ops);
    else
        printf("%8s k instr/op   ", "n/a");
    printf("%7.1f us CPU/op\n", (b.cpu_us - a.cpu_us) / (double)ops);
}

/* The measured phases, one function each (callgrind's --toggle-collect
 * can count them: see docs/performance.md). */
static long bsz, ops;
static uint64_t *orders;

static __attribute__((noinline)) void phase_report(void)
{
    for (long done = 0; done < ops; done += bsz) {
        batch_begin();
        for (long i = 0; i < bsz; i++)
            free(report());
        batch_end();
    }
}

static __attribute__((noinline)) void phase_whistle(void)
{
    char **tickets = calloc((size_t)bsz, sizeof *tickets);
    for (long done = 0; done < ops; done += bsz) {
        batch_begin();
        for (long i = 0; i < bsz; i++)
            tickets[i] = report();
        batch_end();
        batch_begin();
        for (long i = 0; i < bsz; i++)
            file(tickets[i]);
        batch_end();
        batch_begin();
        for (long i = 0; i < bsz; i++) {
            orders[done + i] = whistle(tickets[i], dept_of[done + i]);
            free(tickets[i]);
        }
        batch_end();
    }
    free(tickets);
}

static __attribute__((noinline)) void phase_checkin(void)
{
    for (long done = 0; done < ops; done += bsz) {
        batch_begin();
        for (long i = 0; i < bsz; i++)
            check_in(orders[done + i], dept_of[done + i]);
        batch_end();
        batch_begin();
        for (long i = 0; i < bsz; i++)
            feedback(orders[done + i], dept_of[done + i]);
        batch_end();
    }
}

/* Spread: the check-ins come in no particular order of the orders. */
static void shuffle_orders(void)
{
    for (long i = ops - 1; n_depts && i > 0; i--) {
        long j = (long)(next_rand() % (uint64_t)(i + 1));
        uint64_t o = orders[i];
        orders[i] = orders[j];
        orders[j] = o;
        char d[24];
        memcpy(d, dept_of[i], sizeof d);
        memcpy(dept_of[i], dept_of[j], sizeof d);
        memcpy(dept_of[j], d, sizeof d);
    }
}

static void measure(void)
{
    orders = calloc((size_t)ops, sizeof *orders);
    dept_of = calloc((size_t)ops, sizeof *dept_of);
    if (!orders || !dept_of)
        die("out of memory");
    struct sample a = sample();
    phase_report();
    struct sample b = sample();
    print("report", a, b, ops, ops / bsz);
    a = sample();
    phase_whistle();
    b = sample();
    print("whistle", a, b, ops, 3 * ops / bsz);
    shuffle_orders();
    a = sample();
    phase_checkin();
    b = sample();
    print("checkin", a, b, ops, 2 * ops / bsz);
    free(orders);
    free(dept_of);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 7) {
        fprintf(stderr, "usage: bench_pages DIR [PREFILL [BATCH [OPS [idem|idem-random|none [DEPTS]]]]]\n");
        return 2;
    }
    const char *dir = argv[1];
    long prefill = argc > 2 ? atol(argv[2]) : 20000;
    bsz = argc > 3 ? atol(argv[3]) : 24;
    ops = argc > 4 ? atol(argv[4]) : 2400;
    if (bsz < 1 || ops < bsz)
        die("BATCH must be at least 1 and OPS at least BATCH");
    ops -= ops % bsz;
    char err[512];
    snprintf(err, sizeof err, "%s/data.mdb", dir);
    if (access(err, F_OK) == 0 || (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0))
        die("DIR must be a new directory (or an empty one)");
    store_opts so = { .map_size = (size_t)1 << 30, .map_max = (size_t)64 << 30, .sync = STORE_SYNC_FULL };
    if (store_open(&st, dir, &so, err, sizeof err) || audit_attach(st)) {
        fprintf(stderr, "bench_pages: %s\n", err);
        return 1;
    }
    n_depts = argc > 6 ? atol(argv[6]) : 0;
    if (argc > 6 && (n_depts < 2 || n_depts > 9999))
        die("DEPTS must be from 2 to 9999");
    char seed[1024];
    snprintf(seed, sizeof seed, "%s", SEED);
    if (n_depts) {
        /* the bench's own seed, as scripts/bench-vs-redis.sh makes it */
        snprintf(seed, sizeof seed, "%s/seed.json", dir);
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "sh '%s/scripts/bench-seed.sh' %ld > '%s'", WHISTLE_SOURCE_DIR, n_depts, seed);
        if (system(cmd) != 0)
            die("scripts/bench-seed.sh failed");
    }
    if (api_seed(st, seed, now_ms, err, sizeof err) < 0) {
        fprintf(stderr, "bench_pages: seed: %s\n", err);
        return 1;
    }
    for (long done = 0; done < prefill;) {
        batch_begin();
        for (long i = 0; i < 2000 && done < prefill; i++, done++) {
            char *t = report();
            file(t);
            whistle(t, NULL);
            free(t);
        }
        batch_end();
    }
    mdb_env_sync(st->env, 1);
    with_idem = argc > 5 && (strcmp(argv[5], "idem") == 0 || strcmp(argv[5], "idem-random") == 0);
    idem_random = argc > 5 && strcmp(argv[5], "idem-random") == 0;
    printf("bench_pages: store schema %u, %ld whistles before, batches of %ld calls%s%s; %zu MiB used\n",
           STORE_SCHEMA_VERSION, prefill, bsz, with_idem ? ", idempotency keys" : "",
           n_depts ? ", spread over the departments" : "", store_used(st) >> 20);
    if (n_depts)
        printf("bench_pages: %ld departments, whistles to two of them at random, check-ins shuffled\n", n_depts);
    perf_open();

    measure();
    store_close(st);
    return 0;
}
