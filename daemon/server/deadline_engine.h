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
#include <stdint.h>

struct server;
struct intent;
/* Starts the engine (its timer on the server's loop); 0 or -1. */
int deadline_engine_start(struct server *s);
/* After every batch: re-arm the timer for the first row. */
void deadline_engine_rearm(struct server *s);
/* A tick came back from the writer (it is freed by the caller). */
void deadline_engine_tick_done(struct server *s, struct intent *it);
void deadline_engine_stop(struct server *s);

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
