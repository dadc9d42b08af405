/* order_record.c: see order_record.h. */
#include "order_record.h"

#include <string.h>

#include "audit.h"
#include "deadline_rows.h"
#include "stats_rows.h"
#include "supervision_record.h"

#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

static const char *const order_state_names[] = { "unspecified", "pending", "checked_in", "done", "returned" };

const char *order_state_name(Whistle__V1__OrderState s)
{
    return (size_t)s < sizeof order_state_names / sizeof *order_state_names ? order_state_names[s] : "unknown";
}

Whistle__V1__Order *order_get(call *c, uint64_t id)
{
    uint8_t key[8];
    store_be64(key, id);
    void *o = NULL;
    store_get(c->txn, c->st->orders, key, sizeof key, &whistle__v1__order__descriptor, c->a, &o);
    return o;
}

char *order_target(call *c, uint64_t id) { return arena_printf(c->a, "order:%llu", (unsigned long long)id); }

/* Before an order is stored: its version, and what follows it (the
 * supervision that its leaving the pressed state closes, the statistics,
 * the deadline rows). */
static int order_saving(call *c, Whistle__V1__Order *o)
{
    Whistle__V1__Order *old = order_get(c, o->id);
    o->version = (old ? old->version : 0) + 1;
    if (o->supervision_id && !deadline_order_running(o) && (!old || old->state != o->state) &&
        supervision_close(c, o->supervision_id, o->state == OS(DONE) ? "order done" : "order returned"))
        return -1;
    if (stats_order_changed(c, old, o))
        return -1;
    return deadline_order_changed(c, old, o);
}

int order_save(call *c, Whistle__V1__Order *o, const void *before, size_t blen)
{
    uint8_t key[8];
    store_be64(key, o->id);
    /* deadline rows, statistics and supervision follow the record */
    if (order_saving(c, o))
        return -1;
    int rc = store_put(c->txn, c->st->orders, key, sizeof key, &o->base);
    if (!rc && !before) {
        size_t dl = strlen(o->department);
        uint8_t *dk = arena_alloc(c->a, dl + 9);
        memcpy(dk, o->department, dl);
        dk[dl] = '/';
        memcpy(dk + dl + 1, key, 8);
        MDB_val k = { dl + 9, dk }, v = { 0, "" };
        rc = mdb_put(c->txn, c->st->ord_by_dept, &k, &v, 0);
    }
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, order_target(c, o->id), before, blen, &o->base);
    return rc ? call_store_fail(c, rc, "saving the order") : 0;
}

int order_load(call *c, uint64_t id, Whistle__V1__Order **out, void **bytes, size_t *len)
{
    *out = NULL;
    if (id == 0)
        return call_fail(c, CODE(INVALID_ARGUMENT), "order_id is required for %s", c->name);
    uint8_t key[8];
    store_be64(key, id);
    int rc = store_get_bytes(c->txn, c->st->orders, key, sizeof key, c->a, bytes, len);
    if (rc == MDB_NOTFOUND)
        return call_fail(c, CODE(NOT_FOUND), "no order %llu", (unsigned long long)id);
    if (rc)
        return call_store_fail(c, rc, "reading the order");
    *out = whistle__v1__order__unpack(arena_allocator(c->a), *len, *bytes);
    if (!*out)
        return call_store_fail(c, MDB_CORRUPTED, "reading the order");
    return 0;
}

bool order_case_has_dept(call *c, const Whistle__V1__Event *ev, const char *dept)
{
    if (!dept || !*dept)
        return false;
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        Whistle__V1__Order *o = order_get(c, ev->order_ids[i]);
        if (o && strcmp(str0(o->department), dept) == 0)
            return true;
    }
    return false;
}
