/* guard.h: the limit on failed ticket look-ups (查询限次). A kiosk stands
 * in a public hall; whoever uses it could try every 4-digit phone suffix of
 * a ticket number read off someone else's slip, and so could a script
 * holding any other principal's certificate. So each principal, whatever
 * its role, may fail at most `max` look-ups (lookup_ticket, or a kiosk's
 * rate with the wrong digits) in any `window`; past that it is answered
 * RESOURCE_EXHAUSTED until the oldest failure leaves the window. Successes do not reset the
 * count: an attacker must not wash failures out with a ticket they know.
 *
 * Kept in memory, not in the store: a restart forgets the count, which
 * costs an attacker a restart they cannot cause. Used by the loop thread
 * (lookup) and the writer (rate), hence the mutex. */
#ifndef WHISTLED_GUARD_H
#define WHISTLED_GUARD_H

#include <stdint.h>

typedef struct guard guard;

/* conf/whistled.conf's [kiosk] defaults: 10 failures in 15 minutes. Five
 * thousand guesses on average find a 4-digit suffix: at this rate that is
 * days of standing at the terminal, while a resident who mistypes a few
 * times is not locked out. */
#define GUARD_DEFAULT_MAX 10
#define GUARD_DEFAULT_WINDOW_MS (15 * 60 * 1000)

/* max failures (>= 1) in window_ms; NULL if out of memory. */
guard *guard_new(uint32_t max, int64_t window_ms);
void guard_free(guard *g);
/* Changes the limits (a config read after the store opened). */
void guard_configure(guard *g, uint32_t max, int64_t window_ms);
/* 0 when who may try now, else the ms until it may try again. */
int64_t guard_wait(guard *g, const char *who, int64_t now_ms);
/* Counts one failed attempt of who at now_ms. */
void guard_fail(guard *g, const char *who, int64_t now_ms);

#endif
