/* seqset.c: see seqset.h. */
#include "seqset.h"

#include <stdlib.h>
#include <string.h>

void seqset_init(seqset *s, bool floor_at_first)
{
    memset(s, 0, sizeof *s);
    s->floor_at_first = floor_at_first;
}

void seqset_free(seqset *s)
{
    free(s->above);
    s->above = NULL;
    s->n = s->cap = 0;
}

/* The index of the first element >= seq. */
static size_t lower(const seqset *s, uint64_t seq)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->above[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool seqset_has(const seqset *s, uint64_t seq)
{
    if (s->started && seq <= s->floor)
        return true;
    size_t i = lower(s, seq);
    return i < s->n && s->above[i] == seq;
}

int seqset_add(seqset *s, uint64_t seq)
{
    if (!s->started) {
        s->started = true;
        if (s->floor_at_first) {
            s->floor = seq;
            return 1;
        }
    }
    if (seq <= s->floor)
        return 0;
    if (seq == s->floor + 1) {
        /* the floor moves up, over what was seen above it */
        s->floor = seq;
        size_t k = 0;
        while (k < s->n && s->above[k] == s->floor + 1) {
            s->floor++;
            k++;
        }
        if (k) {
            memmove(s->above, s->above + k, (s->n - k) * sizeof *s->above);
            s->n -= k;
        }
        return 1;
    }
    size_t i = lower(s, seq);
    if (i < s->n && s->above[i] == seq)
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        uint64_t *na = realloc(s->above, nc * sizeof *na);
        if (!na)
            return -1;
        s->above = na;
        s->cap = nc;
    }
    if (s->n > i)
        memmove(s->above + i + 1, s->above + i, (s->n - i) * sizeof *s->above);
    s->above[i] = seq;
    s->n++;
    return 1;
}

bool seqset_hole(const seqset *s, uint64_t *from, uint64_t *to)
{
    if (!s->n)
        return false;
    *from = s->floor + 1;
    *to = s->above[0] - 1;
    return true;
}
