/* guard.c: see guard.h. One entry per principal that failed lately, with
 * the times of its last `max` failures in a ring: it is blocked while the
 * ring is full and its oldest entry is inside the window. Entries whose
 * newest failure left the window are reused, so the table holds only the
 * principals that failed in the last window (a city has hundreds). */
#include "guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CAP 1000 /* config.c bounds lookup_failures to this */

typedef struct entry {
    char *who;
    int64_t *at;   /* ring of the last max failure times */
    uint32_t n;    /* failures in the ring (<= max) */
    uint32_t head; /* index of the oldest */
} entry;

struct guard {
    pthread_mutex_t mu;
    uint32_t max;
    int64_t window_ms;
    entry *e;
    size_t n, cap;
};

guard *guard_new(uint32_t max, int64_t window_ms)
{
    guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    pthread_mutex_init(&g->mu, NULL);
    g->max = max ? (max > MAX_CAP ? MAX_CAP : max) : 1;
    g->window_ms = window_ms;
    return g;
}

static void entries_free(guard *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->e[i].who);
        free(g->e[i].at);
    }
    free(g->e);
    g->e = NULL;
    g->n = g->cap = 0;
}

void guard_free(guard *g)
{
    if (!g)
        return;
    entries_free(g);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void guard_configure(guard *g, uint32_t max, int64_t window_ms)
{
    pthread_mutex_lock(&g->mu);
    entries_free(g); /* the rings are sized by max */
    g->max = max ? (max > MAX_CAP ? MAX_CAP : max) : 1;
    g->window_ms = window_ms;
    pthread_mutex_unlock(&g->mu);
}

static int64_t newest(const guard *g, const entry *x)
{
    return x->n ? x->at[(x->head + x->n - 1) % g->max] : INT64_MIN;
}

static entry *find(guard *g, const char *who)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->e[i].who, who) == 0)
            return &g->e[i];
    return NULL;
}

int64_t guard_wait(guard *g, const char *who, int64_t now_ms)
{
    int64_t wait = 0;
    pthread_mutex_lock(&g->mu);
    entry *x = find(g, who);
    if (x && x->n == g->max) {
        int64_t free_at = x->at[x->head] + g->window_ms;
        if (free_at > now_ms)
            wait = free_at - now_ms;
    }
    pthread_mutex_unlock(&g->mu);
    return wait;
}

void guard_fail(guard *g, const char *who, int64_t now_ms)
{
    pthread_mutex_lock(&g->mu);
    entry *x = find(g, who);
    if (!x) {
        /* reuse an entry that went quiet, else grow */
        for (size_t i = 0; i < g->n && !x; i++)
            if (newest(g, &g->e[i]) <= now_ms - g->window_ms)
                x = &g->e[i];
        char *name = strdup(who);
        if (!name)
            goto out;
        if (x) {
            free(x->who);
        } else {
            if (g->n == g->cap) {
                size_t cap = g->cap ? 2 * g->cap : 16;
                entry *e = realloc(g->e, cap * sizeof *e);
                if (!e) {
                    free(name);
                    goto out;
                }
                g->e = e;
                g->cap = cap;
            }
            x = &g->e[g->n];
            x->at = calloc(g->max, sizeof *x->at);
            if (!x->at) {
                free(name);
                goto out;
            }
            g->n++;
        }
        x->who = name;
        x->n = x->head = 0;
    }
    if (x->n < g->max) {
        x->at[(x->head + x->n) % g->max] = now_ms;
        x->n++;
    } else {
        x->at[x->head] = now_ms; /* the oldest makes room */
        x->head = (x->head + 1) % g->max;
    }
out:
    pthread_mutex_unlock(&g->mu);
}
