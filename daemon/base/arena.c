/* arena.c: see arena.h. Blocks grow geometrically so that a request that
 * unpacks a large list does not make thousands of small mallocs. */
#include "arena.h"
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct arena {
    struct block *head;
    ProtobufCAllocator pa;
};

static void *pa_alloc(void *ctx, size_t n) { return arena_alloc(ctx, n ? n : 1); }
static void pa_free(void *ctx, void *p) { (void)ctx, (void)p; }

arena *arena_new(void)
{
    arena *a = calloc(1, sizeof *a);
    if (!a)
        log_oom("an arena");
    a->pa.alloc = pa_alloc;
    a->pa.free = pa_free;
    a->pa.allocator_data = a;
    return a;
}

void arena_free(arena *a)
{
    if (!a)
        return;
    struct block *b = a->head;
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t sz = b ? b->size * 2 : 4096;
        if (sz < n)
            sz = n;
        if (sz > (1u << 20) && n < (1u << 20))
            sz = 1u << 20;
        if (sz < n)
            sz = n;
        struct block *nb = malloc(sizeof *nb + sz);
        if (!nb)
            log_oom("an arena block");
        nb->size = sz;
        nb->used = 0;
        /* A full-sized block goes behind the head so the head's free space
         * keeps serving small allocations. */
        if (b && sz == n) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s ? s : "", s ? strlen(s) : 0); }

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    char *d = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

ProtobufCAllocator *arena_allocator(arena *a) { return &a->pa; }
