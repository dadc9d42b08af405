/* ptr_vec.h: a pointer array grown in an arena (the results of list
 * calls). It lives and dies with the arena: nothing to free. */
#ifndef WHISTLED_PTR_VEC_H
#define WHISTLED_PTR_VEC_H

#include <stddef.h>

#include "arena.h"

typedef struct ptr_vec {
    void **items;
    size_t n, cap;
} ptr_vec;

/* Appends p, growing the array in a (arena_alloc aborts when memory runs
 * out: docs/errors.md). */
void ptr_vec_push(arena *a, ptr_vec *v, void *p);

#endif
