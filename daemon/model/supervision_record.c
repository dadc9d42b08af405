/* supervision_record.c: see supervision_record.h. */
#include "supervision_record.h"

#include <string.h>

#include "audit.h"
#include "directory.h"

Whistle__V1__Supervision *supervision_load(call *c, uint64_t id, void **bytes, size_t *len)
{
    uint8_t key[8];
    store_be64(key, id);
    void *b;
    size_t l;
    if (!id || store_get_bytes(c->txn, c->st->supervisions, key, sizeof key, c->a, &b, &l))
        return NULL;
    if (bytes) {
        *bytes = b;
        *len = l;
    }
    return whistle__v1__supervision__unpack(arena_allocator(c->a), l, b);
}

int supervision_save(call *c, Whistle__V1__Supervision *s, const void *before, size_t blen)
{
    uint8_t key[8];
    store_be64(key, s->id);
    int rc = store_put(c->txn, c->st->supervisions, key, sizeof key, &s->base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, str0(c->who->name), c->name,
                          arena_printf(c->a, "supervision:%llu", (unsigned long long)s->id), before, blen, &s->base);
    return rc ? call_store_fail(c, rc, "saving the supervision record") : 0;
}

const char *supervision_district_of(call *c, const char *street)
{
    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, street, c->a);
    if (n && *str0(n->parent))
        return n->parent;
    return arena_strndup(c->a, str0(street), 6);
}

Whistle__V1__Supervision *supervision_new(call *c, const Whistle__V1__Event *ev)
{
    uint64_t id;
    int rc = store_next_seq(c->txn, c->st, "supervision_seq", &id);
    if (rc) {
        call_store_fail(c, rc, "numbering the supervision record");
        return NULL;
    }
    Whistle__V1__Supervision *s = arena_alloc(c->a, sizeof *s);
    whistle__v1__supervision__init(s);
    s->id = id;
    s->ticket = ev->ticket;
    s->street = ev->street;
    s->district = (char *)supervision_district_of(c, ev->street);
    s->node = ev->node;
    s->level = 1;
    s->open = true;
    s->opened_ms = c->now;
    return s;
}

void supervision_add_miss(call *c, Whistle__V1__Supervision *s, Whistle__V1__Miss *m)
{
    Whistle__V1__Miss **v = arena_alloc(c->a, (s->n_misses + 1) * sizeof *v);
    if (s->n_misses)
        memcpy(v, s->misses, s->n_misses * sizeof *v);
    v[s->n_misses++] = m;
    s->misses = v;
}

int supervision_close(call *c, uint64_t id, const char *reason)
{
    void *b;
    size_t l;
    Whistle__V1__Supervision *s = supervision_load(c, id, &b, &l);
    if (!s || !s->open)
        return 0;
    s->open = false;
    s->closed_ms = c->now;
    s->closed_reason = (char *)reason;
    return supervision_save(c, s, b, l);
}

Whistle__V1__Supervision *supervision_open(call *c, const Whistle__V1__Event *ev, uint64_t id, void **bytes,
                                           size_t *len)
{
    Whistle__V1__Supervision *s = id ? supervision_load(c, id, bytes, len) : NULL;
    if (s && s->open)
        return s;
    *bytes = NULL;
    *len = 0;
    return supervision_new(c, ev);
}
