/* deadline_engine.c: see deadline_engine.h. */
#include "deadline_engine.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sweep.h"

#define SWEEP_MAX 500
#define RECHECK_MS 60000 /* re-read the clock at least this often */
#define TEST_RECHECK_MS 100
#define RETRY_MS 1000

struct deadline_engine {
    deadline_engine_env env;
    uv_timer_t timer;
    bool ticking; /* an INTENT_TICK is with the writer */
    bool stopped;
};

static bool idle(const deadline_engine *e) { return e->stopped || e->ticking || *e->env.draining; }
static int64_t now_ms(const deadline_engine *e) { return e->env.now(e->env.now_ctx); }

static int64_t first_due(deadline_engine *e)
{
    MDB_txn *txn = store_read_begin(e->env.st);
    int64_t due = txn ? deadline_first_due(e->env.st, txn) : 0;
    store_read_end(e->env.st);
    return due;
}

static void engine_submit(deadline_engine *e)
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
    e->ticking = true;
    writer_submit(e->env.w, it);
}

static void on_timer(uv_timer_t *t)
{
    deadline_engine *e = t->data;
    if (idle(e))
        return;
    int64_t due = first_due(e);
    if (due && due <= now_ms(e))
        engine_submit(e);
    else
        deadline_engine_rearm(e);
}

static void arm(deadline_engine *e, int64_t delay)
{
    int64_t cap = e->env.test_clock ? TEST_RECHECK_MS : RECHECK_MS;
    if (delay > cap)
        delay = cap;
    if (delay < 0)
        delay = 0;
    uv_timer_start(&e->timer, on_timer, (uint64_t)delay, 0);
}

void deadline_engine_rearm(deadline_engine *e)
{
    if (!e || idle(e))
        return;
    int64_t due = first_due(e);
    if (!due) {
        /* Nothing runs; the test clock still polls, because time there
         * jumps without the loop knowing. */
        if (e->env.test_clock)
            arm(e, TEST_RECHECK_MS);
        else
            uv_timer_stop(&e->timer);
        return;
    }
    arm(e, due - now_ms(e));
}

void deadline_engine_tick_done(deadline_engine *e, intent *it)
{
    if (!e)
        return;
    e->ticking = false;
    if (it->tick_fired)
        log_info("deadline: %zu passed deadline%s handled", it->tick_fired, it->tick_fired == 1 ? "" : "s");
    if (e->stopped || *e->env.draining)
        return;
    if (it->code != 0 || (!it->tick_more && it->touched.n == 0 && it->tick_fired == 0)) {
        /* A failed sweep (or one that moved nothing): try again in a
         * second rather than spin. */
        if (it->code != 0)
            log_warn("deadline: sweep failed (status %d); retrying", it->code);
        arm(e, RETRY_MS);
        return;
    }
    deadline_engine_rearm(e);
}

deadline_engine *deadline_engine_start(const deadline_engine_env *env)
{
    deadline_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->env = *env;
    uv_timer_init(env->loop, &e->timer);
    e->timer.data = e;
    /* A deadline that passed while the daemon was down is the first row,
     * in the past: the timer fires at once. */
    deadline_engine_rearm(e);
    return e;
}

static void on_engine_closed(uv_handle_t *h) { free(h->data); }

void deadline_engine_stop(deadline_engine *e)
{
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
