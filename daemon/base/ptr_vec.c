/* ptr_vec.c: see ptr_vec.h. */
#include "ptr_vec.h"

#include <string.h>

void ptr_vec_push(arena *a, ptr_vec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **items = arena_alloc(a, cap * sizeof *items);
        if (v->n)
            memcpy(items, v->items, v->n * sizeof *items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = p;
}
