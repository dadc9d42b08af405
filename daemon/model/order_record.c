/* order_record.c: see order_record.h. */
#include "order_record.h"

#include <string.h>

#include "audit.h"
#include "deadline_rows.h"
#include "fed_rows.h"
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
static int order_saving(call *c, Whistle__V1__Order *o, Whistle__V1__Order **oldp)
{
    Whistle__V1__Order *old = order_get(c, o->id);
    *oldp = old;
    o->version = (old ? old->version : 0) + 1;
    if (o->supervision_id && !deadline_order_running(o) && (!old || old->state != o->state) &&
        supervision_close(c, o->supervision_id, o->state == OS(DONE) ? "order done" : "order returned"))
        return -1;
    if (stats_order_changed(c, old, o))
        return -1;
    return deadline_order_changed(c, old, o);
}

Whistle__V1__OrderState order_state_group(Whistle__V1__OrderState state)
{
    return state == OS(CHECKED_IN) ? OS(PENDING) : state;
}

size_t order_state_key(uint8_t *key, const char *code, Whistle__V1__OrderState state, uint64_t id)
{
    size_t n = strlen(code);
    memcpy(key, code, n);
    key[n] = '/';
    key[n + 1] = (uint8_t)order_state_group(state);
    store_be64(key + n + 2, id);
    return n + 10;
}

/* Moves the order's row in one of the state indexes (code: its department
 * or its street) from the old state's (0: none) to the new one's. */
static int move_state_row(call *c, MDB_dbi dbi, const char *code, Whistle__V1__OrderState from,
                          Whistle__V1__OrderState to, uint64_t id)
{
    if (strlen(code) > ORDER_CODE_MAX)
        return MDB_BAD_VALSIZE;
    uint8_t key[ORDER_STATE_KEY_MAX];
    if (from) {
        MDB_val k = { order_state_key(key, code, from, id), key };
        int rc = mdb_del(c->txn, dbi, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    /* a plain put: a row moving to a state is rarely the last key */
    MDB_val k = { order_state_key(key, code, to, id), key }, v = { 0, "" };
    return mdb_put(c->txn, dbi, &k, &v, 0);
}

int order_save(call *c, Whistle__V1__Order *o, const void *before, size_t blen)
{
    uint8_t key[8];
    store_be64(key, o->id);
    Whistle__V1__Order *old;
    /* deadline rows, statistics and supervision follow the record */
    if (order_saving(c, o, &old))
        return -1;
    int rc = store_put(c->txn, c->st->orders, key, sizeof key, &o->base);
    /* the state indexes: a department's and a street's orders in a state,
     * without reading the others (dispatch_list_orders) */
    Whistle__V1__OrderState was = old ? old->state : 0;
    bool moves = !old || order_state_group(was) != order_state_group(o->state);
    if (!rc && moves)
        rc = move_state_row(c, c->st->ord_by_dept, str0(o->department), was, o->state, o->id);
    if (!rc && moves && *str0(o->street))
        rc = move_state_row(c, c->st->ord_by_street_state, o->street, was, o->state, o->id);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, order_target(c, o->id), before, blen, &o->base);
    if (rc)
        return call_store_fail(c, rc, "saving the order");
    /* an order to a city department goes to the city (fed_rows.h) */
    return fed_rows_order(c, old, o);
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
