/* idem.c: the results of writes sent with an idempotency key, kept for a
 * while and then let go (store.h: store_idem_put, store_idem_due,
 * store_idem_expire). */
#include <stdlib.h>
#include <string.h>

#include "daemon/records.pb-c.h"
#include "log.h"
#include "store.h"

/* Schema 4: the key first. Keys are per principal ("the same key from two
 * principals is two writes"), which the principal after the NUL keeps;
 * neither holds a NUL (the router refuses strings with one), so no two
 * pairs make one key. */
size_t store_idem_key(const char *principal, const char *key, uint8_t **out)
{
    size_t a = strlen(key), b = strlen(principal);
    uint8_t *k = malloc(a + 1 + b);
    if (!k)
        log_oom("an idempotency key");
    memcpy(k, key, a);
    k[a] = 0;
    memcpy(k + a + 1, principal, b);
    *out = k;
    return a + 1 + b;
}

/* The row by age, in idem itself (schema 3): 0x00 | u64 BE at_ms | the
 * idem key. A record's key starts with its idempotency key (schema 4; 3:
 * its principal's name), never empty and never NUL, so these rows sort
 * before every record, oldest first,
 * and a record and its row share the tree (one root and branch path a
 * write dirties instead of two). */
#define TIME_KEY_HEAD 9

static size_t time_key(uint8_t *out, int64_t at_ms, const void *key, size_t klen)
{
    out[0] = 0;
    store_be64(out + 1, (uint64_t)(at_ms < 0 ? 0 : at_ms));
    memcpy(out + TIME_KEY_HEAD, key, klen);
    return TIME_KEY_HEAD + klen;
}

static bool is_time_row(const MDB_val *k)
{
    return k->mv_size > TIME_KEY_HEAD && ((const uint8_t *)k->mv_data)[0] == 0;
}

int store_idem_put(store *st, MDB_txn *txn, const void *key, size_t klen, int64_t at_ms, const void *response,
                   size_t rlen)
{
    if (klen == 0 || klen + TIME_KEY_HEAD > 511 || ((const uint8_t *)key)[0] == 0)
        return MDB_BAD_VALSIZE;
    Whistled__IdemRecord rec = WHISTLED__IDEM_RECORD__INIT;
    rec.at_ms = at_ms;
    rec.response.data = (uint8_t *)response;
    rec.response.len = rlen;
    int rc = store_put(txn, st->idem, key, klen, &rec.base);
    uint8_t tk[512];
    if (!rc) {
        MDB_val k = { time_key(tk, at_ms, key, klen), tk }, v = { 0, "" };
        rc = mdb_put(txn, st->idem, &k, &v, 0);
    }
    return rc;
}

bool store_idem_due(store *st, MDB_txn *txn, int64_t before_ms)
{
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, st->idem, &cur) != 0)
        return false;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    mdb_cursor_close(cur);
    return rc == 0 && is_time_row(&k) && (int64_t)store_get_be64((const uint8_t *)k.mv_data + 1) < before_ms;
}

int store_idem_expire(store *st, MDB_txn *txn, int64_t before_ms, size_t max, size_t *expired)
{
    *expired = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->idem, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    while (*expired < max && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (!is_time_row(&k) || (int64_t)store_get_be64((const uint8_t *)k.mv_data + 1) >= before_ms)
            break;
        /* the record, unless a newer write of the same key replaced it
         * (then its own row, later in time, lets it go); the key is
         * copied, as deleting moves what the cursor points at */
        uint8_t ikb[512];
        size_t iklen = k.mv_size - TIME_KEY_HEAD;
        memcpy(ikb, (const uint8_t *)k.mv_data + TIME_KEY_HEAD, iklen);
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        MDB_val ik = { iklen, ikb }, iv;
        rc = mdb_get(txn, st->idem, &ik, &iv);
        if (rc == 0) {
            Whistled__IdemRecord *r = whistled__idem_record__unpack(NULL, iv.mv_size, iv.mv_data);
            bool old = !r || r->at_ms < before_ms;
            if (r)
                whistled__idem_record__free_unpacked(r, NULL);
            rc = old ? mdb_del(txn, st->idem, &ik, NULL) : 0;
        } else if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
        if (rc)
            break;
        (*expired)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
