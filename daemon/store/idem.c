/* idem.c: the results of writes sent with an idempotency key, kept for a
 * while and then let go (store.h: store_idem_put, store_idem_expire). */
#include <string.h>

#include "daemon/records.pb-c.h"
#include "store.h"

/* idem_by_time's key: u64 BE at_ms | the idem key. */
static size_t time_key(uint8_t *out, int64_t at_ms, const void *key, size_t klen)
{
    store_be64(out, (uint64_t)(at_ms < 0 ? 0 : at_ms));
    memcpy(out + 8, key, klen);
    return 8 + klen;
}

int store_idem_put(store *st, MDB_txn *txn, const void *key, size_t klen, int64_t at_ms, const void *response,
                   size_t rlen)
{
    if (klen == 0 || klen + 8 > 511)
        return MDB_BAD_VALSIZE;
    Whistled__IdemRecord rec = WHISTLED__IDEM_RECORD__INIT;
    rec.at_ms = at_ms;
    rec.response.data = (uint8_t *)response;
    rec.response.len = rlen;
    int rc = store_put(txn, st->idem, key, klen, &rec.base);
    uint8_t tk[512];
    if (!rc)
        rc = store_put_raw_append(txn, st->idem_by_time, tk, time_key(tk, at_ms, key, klen), "", 0);
    return rc;
}

int store_idem_expire(store *st, MDB_txn *txn, int64_t before_ms, size_t max, size_t *expired)
{
    *expired = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->idem_by_time, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    while (*expired < max && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size <= 8 || (int64_t)store_get_be64(k.mv_data) >= before_ms)
            break;
        /* the record, unless a newer write of the same key replaced it
         * (then its own row, later in time, lets it go) */
        MDB_val ik = { k.mv_size - 8, (uint8_t *)k.mv_data + 8 }, iv;
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
        if (!rc)
            rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        (*expired)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
