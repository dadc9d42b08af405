/* volrec.c: see volrec.h. */
#include "volrec.h"

#include <string.h>

#include "audit.h"
#include "deadline_rows.h"

#define WS(s) WHISTLE__V1__WISH_STATE__WISH_STATE_##s

const char *volrec_account(arena *a, uint64_t volunteer_id)
{
    return arena_printf(a, "v%llu", (unsigned long long)volunteer_id);
}

static uint8_t *id_key(arena *a, uint64_t id)
{
    uint8_t *k = arena_alloc(a, 8);
    store_be64(k, id);
    return k;
}

int volrec_get(call *c, MDB_dbi dbi, uint64_t id, const ProtobufCMessageDescriptor *d, void **out, void **bytes,
               size_t *len)
{
    void *b;
    size_t l;
    *out = NULL;
    int rc = store_get_bytes(c->txn, dbi, id_key(c->a, id), 8, c->a, &b, &l);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc)
        return call_store_fail(c, rc, "reading a volunteers' record");
    *out = protobuf_c_message_unpack(d, arena_allocator(c->a), l, b);
    if (!*out)
        return call_store_fail(c, MDB_CORRUPTED, "reading a volunteers' record");
    if (bytes) {
        *bytes = b;
        *len = l;
    }
    return 0;
}

int volrec_put(call *c, MDB_dbi dbi, uint64_t id, const ProtobufCMessage *m)
{
    int rc = store_put(c->txn, dbi, id_key(c->a, id), 8, m);
    return rc ? call_store_fail(c, rc, "saving a volunteers' record") : 0;
}

int volrec_next_id(call *c, const char *counter, uint64_t *id)
{
    int rc = store_next_seq(c->txn, c->st, counter, id);
    return rc ? call_store_fail(c, rc, "numbering a record") : 0;
}

static size_t row_key(arena *a, char letter, const char *prefix, uint64_t id, uint8_t **out)
{
    size_t pl = strlen(prefix);
    uint8_t *k = arena_alloc(a, pl + 10);
    k[0] = (uint8_t)letter;
    memcpy(k + 1, prefix, pl);
    k[pl + 1] = '/';
    store_be64(k + pl + 2, id);
    *out = k;
    return pl + 10;
}

int volrec_index_put(call *c, char letter, const char *prefix, uint64_t id)
{
    uint8_t *k;
    MDB_val key = { row_key(c->a, letter, prefix, id, &k), k }, v = { 0, "" };
    int rc = mdb_put(c->txn, c->st->vol_index, &key, &v, 0);
    return rc ? call_store_fail(c, rc, "saving an index row") : 0;
}

static uint8_t *letter_key(arena *a, char letter, const char *key, size_t klen)
{
    uint8_t *k = arena_alloc(a, klen + 1);
    k[0] = (uint8_t)letter;
    memcpy(k + 1, key, klen);
    return k;
}

int volrec_index_set(call *c, char letter, const char *key, size_t klen, uint64_t value)
{
    uint8_t v8[8];
    store_be64(v8, value);
    MDB_val k = { klen + 1, letter_key(c->a, letter, key, klen) }, v = { 8, v8 };
    int rc = mdb_put(c->txn, c->st->vol_index, &k, &v, 0);
    return rc ? call_store_fail(c, rc, "saving an index row") : 0;
}

int volrec_index_value(call *c, char letter, const char *key, size_t klen, uint64_t *value)
{
    MDB_val k = { klen + 1, letter_key(c->a, letter, key, klen) }, v;
    int rc = mdb_get(c->txn, c->st->vol_index, &k, &v);
    if (rc == MDB_NOTFOUND || (!rc && v.mv_size != 8))
        return 1;
    if (rc)
        return call_store_fail(c, rc, "reading an index row");
    *value = store_get_be64(v.mv_data);
    return 0;
}

int volrec_scan(call *c, char letter, const char *prefix, uint64_t after, size_t max, uint64_t **ids, size_t *n,
                bool *more)
{
    *n = 0;
    *more = false;
    /* grown by doubling: max is a bound, not a size (a report passes a large one) */
    size_t cap = max < 64 ? (max ? max : 1) : 64;
    *ids = arena_alloc(c->a, cap * sizeof **ids);
    if (after == UINT64_MAX)
        return 0;
    uint8_t *start;
    size_t kl = row_key(c->a, letter, prefix, after + 1, &start);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->vol_index, &cur);
    if (rc)
        return call_store_fail(c, rc, "listing");
    MDB_val k = { kl, start }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != kl || memcmp(k.mv_data, start, kl - 8) != 0)
            break;
        if (*n == max) {
            *more = true;
            break;
        }
        if (*n == cap) {
            uint64_t *bigger = arena_alloc(c->a, 2 * cap * sizeof *bigger);
            memcpy(bigger, *ids, cap * sizeof *bigger);
            *ids = bigger;
            cap *= 2;
        }
        (*ids)[(*n)++] = store_get_be64((uint8_t *)k.mv_data + kl - 8);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : call_store_fail(c, rc, "listing");
}

/* ------------------------------------------------------------ wishes */

size_t volrec_wish_row(const Whistle__V1__Wish *w, uint8_t key[17])
{
    if (!w || w->state != WS(CLAIMED) || w->claim_due_ms <= 0)
        return 0;
    store_be64(key, (uint64_t)w->claim_due_ms);
    key[8] = DL_WISH_CLAIM;
    store_be64(key + 9, w->id);
    return 17;
}

int volrec_wish_save(call *c, const Whistle__V1__Wish *old, const Whistle__V1__Wish *w)
{
    uint8_t ok[17], nk[17];
    size_t ol = volrec_wish_row(old, ok), nl = volrec_wish_row(w, nk);
    int rc = 0;
    if (ol && !(nl && memcmp(ok, nk, 17) == 0)) {
        MDB_val k = { ol, ok };
        rc = mdb_del(c->txn, c->st->deadlines, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (!rc && nl) {
        MDB_val k = { nl, nk }, v = { 0, "" };
        rc = mdb_put(c->txn, c->st->deadlines, &k, &v, 0);
    }
    if (rc)
        return call_store_fail(c, rc, "saving the wish's deadline");
    return volrec_put(c, c->st->vol_wishes, w->id, &w->base);
}

/* ------------------------------------------------------------ the ledger */

static size_t balance_key(arena *a, const char *community, const char *account, char **out)
{
    *out = arena_printf(a, "%s/%s", community, account);
    return strlen(*out);
}

int volrec_balance(call *c, const char *community, const char *account, int64_t *out)
{
    char *k;
    MDB_val key = { balance_key(c->a, community, account, &k), k }, v;
    int rc = mdb_get(c->txn, c->st->vol_balances, &key, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return call_store_fail(c, rc, "reading a balance");
    if (v.mv_size != 8)
        return call_store_fail(c, MDB_CORRUPTED, "reading a balance");
    *out = (int64_t)store_get_be64(v.mv_data);
    return 0;
}

static int balance_move(call *c, const char *community, const char *account, int64_t delta)
{
    int64_t b;
    if (volrec_balance(c, community, account, &b))
        return -1;
    if (b + delta < 0 && strcmp(account, VOL_ISSUE) != 0)
        return call_fail(c, CODE(FAILED_PRECONDITION),
                         "account %s of community %s holds %lld points; %lld are needed (rule: no balance goes "
                         "below 0)",
                         account, community, (long long)b, (long long)-delta);
    char *k;
    uint8_t v8[8];
    store_be64(v8, (uint64_t)(b + delta));
    MDB_val key = { balance_key(c->a, community, account, &k), k }, v = { 8, v8 };
    int rc = mdb_put(c->txn, c->st->vol_balances, &key, &v, 0);
    return rc ? call_store_fail(c, rc, "saving a balance") : 0;
}

int volrec_post(call *c, Whistle__V1__LedgerEntry *e)
{
    if (e->amount <= 0 || strcmp(str0(e->from_account), str0(e->to_account)) == 0)
        return call_fail(c, CODE(INTERNAL), "a ledger entry moves a positive amount between two accounts");
    if (volrec_next_id(c, "vol_entry_seq", &e->id))
        return -1;
    e->at_ms = c->now;
    e->actor = (char *)str0(c->who->name);
    if (balance_move(c, e->community, e->from_account, -e->amount) ||
        balance_move(c, e->community, e->to_account, e->amount))
        return -1;
    if (volrec_put(c, c->st->vol_ledger, e->id, &e->base) || volrec_index_put(c, 'e', e->community, e->id))
        return -1;
    const char *accts[2] = { e->from_account, e->to_account };
    for (int i = 0; i < 2; i++)
        if (volrec_index_put(c, 'a', arena_printf(c->a, "%s/%s", e->community, accts[i]), e->id))
            return -1;
    /* a credit that expires: a row of the deadline index, swept like any */
    if (e->expires_ms > 0) {
        uint8_t k[17];
        store_be64(k, (uint64_t)e->expires_ms);
        k[8] = DL_POINTS_EXPIRE;
        store_be64(k + 9, e->id);
        MDB_val key = { 17, k }, v = { 0, "" };
        int prc = mdb_put(c->txn, c->st->deadlines, &key, &v, 0);
        if (prc)
            return call_store_fail(c, prc, "saving the points' expiry");
    }
    int rc =
        audit_append(c->st, c->txn, c->now, str0(c->who->name), c->name,
                     arena_printf(c->a, "points:%s/%llu", e->community, (unsigned long long)e->id), NULL, 0, &e->base);
    return rc ? call_store_fail(c, rc, "auditing a ledger entry") : 0;
}

int volrec_self(call *c, uint64_t *id)
{
    const char *me = str0(c->who->name);
    if (volrec_index_value(c, 'p', me, strlen(me), id) == 0)
        return 0;
    if (c->resp->status)
        return -1;
    return call_deny(c, me,
                     "principal %s is no community's volunteer (rule: a volunteer acts as itself; the "
                     "community registers its certificate with add_volunteer)",
                     me);
}
