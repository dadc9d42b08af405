/* deadline_engine.c: see deadline_engine.h. */
#include "deadline_engine.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "sweep.h"
#include "writer.h"

#define SWEEP_MAX 500
#define RECHECK_MS 60000 /* re-read the clock at least this often */
#define TEST_RECHECK_MS 100
#define RETRY_MS 1000

struct deadline_engine {
    server *s;
    uv_timer_t timer;
    bool ticking; /* an INTENT_TICK is with the writer */
    bool stopped;
    bool test_clock;
};

static void engine_submit(server *s)
{
    intent *it = calloc(1, sizeof *it);
    char *who = strdup("whistled");
    if (!it || !who) {
        free(it);
        free(who);
        return;
    }
    it->kind = INTENT_TICK;
    it->principal = who;
    it->tick_max = SWEEP_MAX;
    s->dl->ticking = true;
    writer_submit(s->w, it);
}

static void on_timer(uv_timer_t *t)
{
    server *s = t->data;
    struct deadline_engine *e = s->dl;
    if (!e || e->stopped || s->draining || e->ticking)
        return;
    MDB_txn *txn = store_read_begin(s->st);
    int64_t due = txn ? deadline_first_due(s->st, txn) : 0;
    store_read_end(s->st);
    if (due && due <= server_now_ms(s))
        engine_submit(s);
    else
        deadline_engine_rearm(s);
}

static void arm(struct deadline_engine *e, int64_t delay)
{
    int64_t cap = e->test_clock ? TEST_RECHECK_MS : RECHECK_MS;
    if (delay > cap)
        delay = cap;
    if (delay < 0)
        delay = 0;
    uv_timer_start(&e->timer, on_timer, (uint64_t)delay, 0);
}

void deadline_engine_rearm(server *s)
{
    struct deadline_engine *e = s->dl;
    if (!e || e->stopped || e->ticking || s->draining)
        return;
    MDB_txn *txn = store_read_begin(s->st);
    int64_t due = txn ? deadline_first_due(s->st, txn) : 0;
    store_read_end(s->st);
    if (!due) {
        /* Nothing runs; the test clock still polls, because time there
         * jumps without the loop knowing. */
        if (e->test_clock)
            arm(e, TEST_RECHECK_MS);
        else
            uv_timer_stop(&e->timer);
        return;
    }
    arm(e, due - server_now_ms(s));
}

void deadline_engine_tick_done(server *s, intent *it)
{
    struct deadline_engine *e = s->dl;
    if (!e)
        return;
    e->ticking = false;
    if (it->tick_fired)
        log_info("deadline: %zu passed deadline%s handled", it->tick_fired, it->tick_fired == 1 ? "" : "s");
    if (e->stopped || s->draining)
        return;
    if (it->code != 0 || (!it->tick_more && it->touched.n == 0 && it->tick_fired == 0)) {
        /* A failed sweep (or one that moved nothing): try again in a
         * second rather than spin. */
        if (it->code != 0)
            log_warn("deadline: sweep failed (status %d); retrying", it->code);
        arm(e, RETRY_MS);
        return;
    }
    deadline_engine_rearm(s);
}

int deadline_engine_start(server *s)
{
    struct deadline_engine *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->s = s;
    e->test_clock = s->cfg->test_clock != NULL;
    uv_timer_init(s->loop, &e->timer);
    e->timer.data = s;
    s->dl = e;
    /* A deadline that passed while the daemon was down is the first row,
     * in the past: the timer fires at once. */
    deadline_engine_rearm(s);
    return 0;
}

static void on_engine_closed(uv_handle_t *h)
{
    server *s = h->data;
    free(s->dl);
    s->dl = NULL;
}

void deadline_engine_stop(server *s)
{
    struct deadline_engine *e = s->dl;
    if (!e || e->stopped)
        return;
    e->stopped = true;
    uv_timer_stop(&e->timer);
    uv_close((uv_handle_t *)&e->timer, on_engine_closed);
}

/* ------------------------------------------------------------ the test clock */

int64_t deadline_file_clock(void *ctx)
{
    struct test_clock *tc = ctx;
    char buf[40];
    int fd = open(tc->path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n > 0) {
        buf[n] = 0;
        char *end;
        long long v = strtoll(buf, &end, 10);
        while (*end == '\n' || *end == ' ')
            end++;
        if (end != buf && !*end && v > 0) {
            atomic_store(&tc->last, (int64_t)v);
            return v;
        }
    }
    /* Unreadable (a writer not using rename): the last good value. */
    int64_t last = atomic_load(&tc->last);
    if (last)
        return last;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

