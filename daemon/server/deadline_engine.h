/* deadline_engine.h: the loop's side of the deadlines (DESIGN §5,
 * docs/deadlines.md). The loop keeps ONE libuv timer armed for the first
 * row of the deadlines index (deadline_rows.h), at most a minute ahead so
 * that a clock that jumps is noticed. When it fires, the loop hands an
 * INTENT_TICK to the writer, which runs deadline_sweep() (sweep.h) in the
 * batch's transaction. A deadline that passed while the daemon was down is
 * a first row in the past at start: it fires at once. */
#ifndef WHISTLED_DEADLINE_ENGINE_H
#define WHISTLED_DEADLINE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "store.h"
#include "writer.h"

typedef struct deadline_engine deadline_engine;

/* What the engine works with, given by the server at start. */
typedef struct deadline_engine_env {
    uv_loop_t *loop;
    store *st;
    writer *w;                 /* where the ticks go */
    int64_t (*now)(void *ctx); /* the domain's clock (real or test) */
    void *now_ctx;
    bool test_clock;      /* poll: a test clock jumps unseen */
    const bool *draining; /* the server's: no tick once it drains */
} deadline_engine_env;

/* Starts the engine (its timer on env->loop), armed for the first row;
 * NULL when out of memory. */
deadline_engine *deadline_engine_start(const deadline_engine_env *env);
/* After every batch: re-arm the timer for the first row. */
void deadline_engine_rearm(deadline_engine *e);
/* A tick came back from the writer (it is freed by the caller). */
void deadline_engine_tick_done(deadline_engine *e, intent *it);
/* Stops the timer; the engine is freed once libuv has closed it. */
void deadline_engine_stop(deadline_engine *e);

/* The test clock of --test-clock FILE: the Unix ms written in FILE (a
 * clock_fn for the writer and the loop; ctx is a struct test_clock). The
 * file is read at every look at the clock, so a test moves time by
 * writing a new value (write a temporary file and rename it over FILE). */
struct test_clock {
    char *path;
    _Atomic int64_t last; /* the last good reading, for a torn read */
};
int64_t deadline_file_clock(void *ctx);

#endif
