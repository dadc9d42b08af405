/* seqset.h: the sequence numbers seen of one district's gapless stream
 * (its bridge's Msg-Ids <district>:<seq>), kept as a floor (every seq at or
 * below it seen) and the sorted seqs seen above it: memory grows with the
 * holes, not with the stream. The router's gap watch asks for the first
 * hole again; a city desk drops a seq it printed already. */
#ifndef WHISTLE_SEQSET_H
#define WHISTLE_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct seqset {
    uint64_t floor;  /* every seq <= floor has been seen */
    uint64_t *above; /* seqs seen > floor + 1, ascending */
    size_t n, cap;
    bool started;
    bool floor_at_first; /* the first seq seen sets the floor */
} seqset;

/* floor_at_first: what came before the first seq seen is taken as seen (a
 * watcher that starts late cannot know it); else the set starts empty
 * (floor 0) and only what was added is in it. */
void seqset_init(seqset *s, bool floor_at_first);
void seqset_free(seqset *s);

/* Adds seq. Returns 1 when it is new, 0 when it was in the set already,
 * -1 out of memory (nothing changed). */
int seqset_add(seqset *s, uint64_t seq);

/* Whether seq is in the set. */
bool seqset_has(const seqset *s, uint64_t seq);

/* The first hole: true with *from..*to (inclusive) when a seq above the
 * floor has been seen while one below it has not. */
bool seqset_hole(const seqset *s, uint64_t *from, uint64_t *to);

#endif
