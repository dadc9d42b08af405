/* migrate.c: the migrations of store_open (store.h says the contract). */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "audit.h"
#include "daemon/records.pb-c.h"
#include "log.h"
#include "whistle/v1/whistle.pb-c.h"

/* Room the backup copy needs: the pages in use (a compacting copy writes at
 * most that) and 1 MiB to spare. */
static int take_backup(store *st, uint32_t from, char *path, size_t pathlen, char *err, size_t errlen)
{
    size_t need = store_used(st) + ((size_t)1 << 20);
    struct statvfs vfs;
    if (statvfs(st->dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
        snprintf(err, errlen,
                 "store: %s has schema version %u and must be migrated to %u, which takes a backup copy first; "
                 "the copy needs %zu MiB and the disk has %llu MiB free: free some space (or copy the store "
                 "elsewhere yourself) and start again",
                 st->dir, from, STORE_SCHEMA_VERSION, need >> 20,
                 (unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize >> 20));
        return ENOSPC;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    int n = snprintf(path, pathlen, "%s/backup-schema%u-%s", st->dir, from, stamp);
    if (n < 0 || (size_t)n >= pathlen) {
        snprintf(err, errlen, "store: the path of the backup copy under %s is too long", st->dir);
        return ENAMETOOLONG;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "store: cannot create %s for the backup copy before migrating: %s", path, strerror(e));
        return e;
    }
    int rc = mdb_env_copy2(st->env, path, MDB_CP_COMPACT);
    if (rc) {
        snprintf(err, errlen, "store: the backup copy of %s to %s before migrating failed: %s; nothing was changed",
                 st->dir, path, store_strerror(rc));
        return rc;
    }
    return 0;
}

/* 1 -> 2: every case's timeline leaves its record for rows of ev_timeline
 * (ticket | 0x00 | u32 BE index), the record keeps the count in
 * timeline_total. ev_timeline is events itself now (schema 3), so the rows
 * land right after the record the walk is on, and the walk steps over
 * them. */
static int migrate_timelines(store *st, MDB_txn *txn, uint64_t *cases, uint64_t *entries)
{
    /* ev_by_state changes its layout: emptied, then one row per case */
    int rc = mdb_drop(txn, st->ev_by_state, 0);
    if (rc)
        return rc;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, st->events, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    arena *a = NULL;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        /* the timeline rows this walk has just written (schema 3 keeps
         * them in events, after their case): not cases */
        if (memchr(k.mv_data, 0, k.mv_size))
            continue;
        /* one arena per case, so that memory stays that of the largest */
        arena_free(a);
        a = arena_new();
        Whistle__V1__Event *ev = whistle__v1__event__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!ev) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (k.mv_size > 400)
            continue;
        /* the case's row of ev_by_state, now state | street | '/' | ticket
         * (the old rows went with mdb_drop before this walk) */
        size_t sn = strlen(ev->street ? ev->street : "");
        if (sn <= 64) {
            uint8_t sk[512];
            sk[0] = (uint8_t)ev->state;
            memcpy(sk + 1, ev->street ? ev->street : "", sn);
            sk[sn + 1] = '/';
            memcpy(sk + sn + 2, k.mv_data, k.mv_size);
            MDB_val skv = { sn + 2 + k.mv_size, sk }, ev0 = { 0, "" };
            rc = mdb_put(txn, st->ev_by_state, &skv, &ev0, 0);
            if (rc)
                break;
        }
        if (ev->n_timeline == 0)
            continue;
        uint8_t key[512];
        memcpy(key, k.mv_data, k.mv_size);
        key[k.mv_size] = 0;
        for (size_t i = 0; !rc && i < ev->n_timeline; i++) {
            size_t n = whistle__v1__timeline_entry__get_packed_size(ev->timeline[i]);
            uint8_t *buf = arena_alloc(a, n ? n : 1);
            whistle__v1__timeline_entry__pack(ev->timeline[i], buf);
            uint32_t idx = (uint32_t)i;
            key[k.mv_size + 1] = (uint8_t)(idx >> 24);
            key[k.mv_size + 2] = (uint8_t)(idx >> 16);
            key[k.mv_size + 3] = (uint8_t)(idx >> 8);
            key[k.mv_size + 4] = (uint8_t)idx;
            rc = store_put_raw_append(txn, st->ev_timeline, key, k.mv_size + 5, buf, n);
        }
        if (rc)
            break;
        *entries += ev->n_timeline;
        ev->timeline_total = (uint32_t)ev->n_timeline;
        ev->timeline_from = ev->timeline_total; /* as event_save stores it */
        ev->n_timeline = 0;
        ev->timeline = NULL;
        MDB_val nv = { whistle__v1__event__get_packed_size(ev), NULL };
        uint8_t *buf = arena_alloc(a, nv.mv_size ? nv.mv_size : 1);
        whistle__v1__event__pack(ev, buf);
        nv.mv_data = buf;
        /* A plain put, then the cursor finds its place again: a put that
         * changes the value's size may move the records under a cursor. */
        MDB_val kk = { k.mv_size, key };
        rc = mdb_put(txn, st->events, &kk, &nv, 0);
        if (!rc)
            rc = mdb_cursor_get(cur, &kk, &v, MDB_SET_KEY);
        if (rc)
            break;
        (*cases)++;
    }
    arena_free(a);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* 2 -> 3: the rows of the table ev_timeline move into events, under the
 * same keys (ticket | 0x00 | u32 BE index, right after their case's
 * record), and the table goes. A store migrated from schema 1 never had
 * it: the step before wrote the rows into events directly. */
static int migrate_timeline_rows(store *st, MDB_txn *txn, uint64_t *rows)
{
    MDB_dbi old;
    int rc = mdb_dbi_open(txn, "ev_timeline", 0, &old);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, old, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (!memchr(k.mv_data, 0, k.mv_size)) {
            rc = MDB_CORRUPTED; /* not a timeline row: it would pass for a case */
            break;
        }
        rc = mdb_put(txn, st->events, &k, &v, MDB_NOOVERWRITE);
        if (rc)
            break;
        (*rows)++;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    /* deletes the table and closes its handle */
    return mdb_drop(txn, old, 1);
}

/* 1 -> 2: the rows of ord_by_dept (in its new layout: it is emptied
 * first) and ord_by_street_state (code | '/' | u8 state | u64 BE id) of
 * every order. */
static int migrate_order_states(store *st, MDB_txn *txn, uint64_t *orders)
{
    int rc = mdb_drop(txn, st->ord_by_dept, 0);
    if (rc)
        return rc;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, st->orders, &cur);
    if (rc)
        return rc;
    MDB_val k, v, empty = { 0, "" };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Whistle__V1__Order *o = whistle__v1__order__unpack(NULL, v.mv_size, v.mv_data);
        if (!o || k.mv_size != 8) {
            if (o)
                whistle__v1__order__free_unpacked(o, NULL);
            rc = MDB_CORRUPTED;
            break;
        }
        const char *codes[2] = { o->department ? o->department : "", o->street ? o->street : "" };
        MDB_dbi dbis[2] = { st->ord_by_dept, st->ord_by_street_state };
        for (int i = 0; !rc && i < 2; i++) {
            size_t n = strlen(codes[i]);
            if (!n || n > 64)
                continue;
            uint8_t key[80];
            memcpy(key, codes[i], n);
            key[n] = '/';
            key[n + 1] = (uint8_t)o->state;
            memcpy(key + n + 2, k.mv_data, 8);
            MDB_val kk = { n + 10, key };
            rc = mdb_put(txn, dbis[i], &kk, &empty, 0);
        }
        whistle__v1__order__free_unpacked(o, NULL);
        if (rc)
            break;
        (*orders)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* 1 -> 2: the rows by age of the idempotency records, so that the
 * records kept from before expire like the others; written in the layout
 * of schema 3 (0x00 | u64 BE at_ms | idem key, in idem itself, before
 * every record), so the walk steps over them. */
static int migrate_idem(store *st, MDB_txn *txn, uint64_t *keys)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->idem, &cur);
    if (rc)
        return rc;
    MDB_val k, v, empty = { 0, "" };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size == 0 || ((const uint8_t *)k.mv_data)[0] == 0 || k.mv_size + 9 > 511)
            continue;
        Whistled__IdemRecord *r = whistled__idem_record__unpack(NULL, v.mv_size, v.mv_data);
        int64_t at = r ? r->at_ms : 0; /* unreadable: the first to go */
        if (r)
            whistled__idem_record__free_unpacked(r, NULL);
        uint8_t key[512], rk[512];
        key[0] = 0;
        store_be64(key + 1, (uint64_t)(at < 0 ? 0 : at));
        memcpy(key + 9, k.mv_data, k.mv_size);
        memcpy(rk, k.mv_data, k.mv_size);
        MDB_val tk = { k.mv_size + 9, key }, back = { k.mv_size, rk };
        rc = mdb_put(txn, st->idem, &tk, &empty, 0);
        /* the cursor finds its record again after the put */
        if (!rc)
            rc = mdb_cursor_get(cur, &back, &v, MDB_SET_KEY);
        if (rc)
            break;
        (*keys)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* 2 -> 3: the rows of a table that schema 3 folds into another move there,
 * each key after head (hlen bytes; the audit's index tag, or idem's 0x00),
 * and the table goes. A table the store never had is no step. */
static int fold_table(store *st, MDB_txn *txn, const char *name, MDB_dbi into, const uint8_t *head, size_t hlen,
                      uint64_t *rows)
{
    (void)st;
    MDB_dbi old;
    int rc = mdb_dbi_open(txn, name, 0, &old);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, old, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint8_t key[512];
        if (k.mv_size + hlen > 511) {
            rc = MDB_BAD_VALSIZE;
            break;
        }
        memcpy(key, head, hlen);
        memcpy(key + hlen, k.mv_data, k.mv_size);
        MDB_val nk = { k.mv_size + hlen, key };
        rc = mdb_put(txn, into, &nk, &v, 0);
        if (rc)
            break;
        (*rows)++;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    /* deletes the table and closes its handle */
    return mdb_drop(txn, old, 1);
}

/* 2 -> 3: the audit log's records move from key u64 BE seq to
 * AUDIT_LOG_TAG | at_ms | seq (audit.h), in the same database; a new key
 * sorts after every old one (seq < 2^56), so the walk meets only old ones
 * (it steps over any other). */
static int rekey_audit(store *st, MDB_txn *txn, uint64_t *records)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->audit, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (!rc) {
        if (k.mv_size && ((const uint8_t *)k.mv_data)[0] == AUDIT_LOG_TAG)
            break; /* the new keys: every old one is done */
        if (k.mv_size != 8) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        uint8_t old[8];
        memcpy(old, k.mv_data, 8);
        Whistled__AuditRecord *r = whistled__audit_record__unpack(NULL, v.mv_size, v.mv_data);
        if (!r) {
            rc = MDB_CORRUPTED;
            break;
        }
        uint8_t nk[AUDIT_KEY_LEN];
        audit_key(nk, r->at_ms, store_get_be64(old));
        whistled__audit_record__free_unpacked(r, NULL);
        /* the value points into a page the put may rearrange: copied */
        void *copy = malloc(v.mv_size ? v.mv_size : 1);
        if (!copy) {
            rc = ENOMEM;
            break;
        }
        memcpy(copy, v.mv_data, v.mv_size);
        MDB_val ok = { 8, old };
        /* in seq order, so mostly in time order too: appended */
        rc = store_put_raw_append(txn, st->audit, nk, sizeof nk, copy, v.mv_size);
        free(copy);
        if (!rc)
            rc = mdb_del(txn, st->audit, &ok, NULL);
        if (rc)
            break;
        (*records)++;
        /* on from where the old key was: the next old one, or a new key */
        rc = mdb_cursor_get(cur, &ok, &v, MDB_SET_RANGE);
        k = ok;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int fold_tables(store *st, MDB_txn *txn, uint64_t *rows)
{
    static const uint8_t tags[] = { AUDIT_IX_PRINCIPAL, AUDIT_IX_TARGET, 0 };
    int rc = rekey_audit(st, txn, rows);
    /* the index rows keep their tail, at_ms | seq: the record's new key */
    if (!rc)
        rc = fold_table(st, txn, "audit_by_principal", st->audit, &tags[0], 1, rows);
    if (!rc)
        rc = fold_table(st, txn, "audit_by_target", st->audit, &tags[1], 1, rows);
    if (!rc)
        rc = fold_table(st, txn, "idem_by_time", st->idem, &tags[2], 1, rows);
    /* the log is its own index by time now */
    MDB_dbi by_time;
    if (!rc && (rc = mdb_dbi_open(txn, "audit_by_time", 0, &by_time)) == 0)
        rc = mdb_drop(txn, by_time, 1);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* 3 -> 4: the audit log's rows by target of a case or of an order of a
 * case move beside the case in events (audit.h), after its timeline;
 * every other target's stay. The rows are in target order, so a target's
 * home is looked up once for all of its rows. */
static int move_case_rows(store *st, MDB_txn *txn, uint64_t *rows)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->audit, &cur);
    if (rc)
        return rc;
    uint8_t first = AUDIT_IX_TARGET;
    MDB_val k = { 1, &first }, v;
    char target[512] = "", home[AUDIT_HOME_MAX + 1];
    bool has_home = false;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (!rc) {
        const uint8_t *p = k.mv_data;
        if (!k.mv_size || p[0] != AUDIT_IX_TARGET)
            break; /* past the rows by target */
        const uint8_t *nul = memchr(p + 1, 0, k.mv_size - 1);
        size_t tl = nul ? (size_t)(nul - p) - 1 : 0;
        if (!nul || k.mv_size != tl + 2 + 16) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* --check reports it */
            continue;
        }
        if (strlen(target) != tl || memcmp(target, p + 1, tl) != 0) {
            memcpy(target, p + 1, tl);
            target[tl] = 0;
            has_home = audit_target_home(txn, st->events, st->orders, target, home);
        }
        if (!has_home) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        /* ticket | 0x00 | AUDIT_CASE_ROW | target 0x00 at_ms seq: the row
         * without its tag */
        uint8_t old[1 + 400 + 1 + 16], nk[AUDIT_HOME_MAX + 2 + 400 + 1 + 16];
        size_t ol = k.mv_size, hn = strlen(home);
        memcpy(old, p, ol);
        memcpy(nk, home, hn);
        nk[hn] = 0;
        nk[hn + 1] = AUDIT_CASE_ROW;
        memcpy(nk + hn + 2, old + 1, ol - 1);
        MDB_val nkv = { hn + 2 + ol - 1, nk }, empty = { 0, "" }, okv = { ol, old };
        rc = mdb_put(txn, st->events, &nkv, &empty, 0);
        if (!rc)
            rc = mdb_del(txn, st->audit, &okv, NULL);
        if (rc)
            break;
        (*rows)++;
        /* on from where the old row was */
        k = okv;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* 3 -> 4: in ord_by_dept and ord_by_street_state (code | '/' | u8 state |
 * u64 BE id), the checked-in orders' rows join the pending ones' (the
 * open group, order_record.h: byte ORDER_STATE_PENDING), so that a
 * check-in moves no row. */
static int group_open_orders(store *st, MDB_txn *txn, uint64_t *rows)
{
    MDB_dbi dbis[2] = { st->ord_by_dept, st->ord_by_street_state };
    int rc = 0;
    for (int i = 0; !rc && i < 2; i++) {
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(txn, dbis[i], &cur)) != 0)
            break;
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;) {
            const uint8_t *p = k.mv_data;
            if (k.mv_size < 11 || p[k.mv_size - 10] != '/' ||
                p[k.mv_size - 9] != WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN) {
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
                continue;
            }
            uint8_t old[128], nk[128];
            if (k.mv_size > sizeof old) {
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
                continue;
            }
            memcpy(old, p, k.mv_size);
            memcpy(nk, p, k.mv_size);
            nk[k.mv_size - 9] = WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
            MDB_val ok = { k.mv_size, old }, nkv = { k.mv_size, nk }, empty = { 0, "" };
            rc = mdb_put(txn, dbis[i], &nkv, &empty, 0);
            if (!rc)
                rc = mdb_del(txn, dbis[i], &ok, NULL);
            if (rc)
                break;
            (*rows)++;
            /* on from where the old row was */
            k = ok;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc;
}

/* principal | 0x00 | key (schema 3) -> key | 0x00 | principal (4), into
 * out (at least len bytes); false for a key without its NUL (kept as it
 * is: --check reports it). */
static bool idem_key_v4(const uint8_t *old, size_t len, uint8_t *out)
{
    const uint8_t *nul = memchr(old, 0, len);
    if (!nul)
        return false;
    size_t pl = (size_t)(nul - old), kl = len - pl - 1;
    memcpy(out, nul + 1, kl);
    out[kl] = 0;
    memcpy(out + kl + 1, old, pl);
    return true;
}

/* Copies what cur points at into *buf (grown as needed), for a put that
 * may move the page it is on. */
static int copy_val(const MDB_val *v, uint8_t **buf, size_t *cap)
{
    if (v->mv_size > *cap) {
        uint8_t *b = realloc(*buf, v->mv_size);
        if (!b)
            return ENOMEM;
        *buf = b;
        *cap = v->mv_size;
    }
    if (v->mv_size)
        memcpy(*buf, v->mv_data, v->mv_size);
    return 0;
}

/* 3 -> 4: the idempotency records are keyed key | 0x00 | principal, and
 * their rows by age name them so. Every key changes its place, so the
 * rows go through a table of their own (idem_v4_moving) and come back in
 * order. */
static int rekey_idem(store *st, MDB_txn *txn, uint64_t *rows)
{
    MDB_dbi tmp;
    int rc = mdb_dbi_open(txn, "idem_v4_moving", MDB_CREATE, &tmp);
    if (!rc)
        rc = mdb_drop(txn, tmp, 0); /* a crash midway left nothing: the transaction did not commit */
    MDB_cursor *cur = NULL;
    if (!rc)
        rc = mdb_cursor_open(txn, st->idem, &cur);
    uint8_t *val = NULL;
    size_t cap = 0;
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint8_t nk[512];
        const uint8_t *p = k.mv_data;
        size_t head = k.mv_size > 9 && p[0] == 0 ? 9 : 0; /* a row by age: 0x00 | at_ms first */
        if (k.mv_size > sizeof nk || !k.mv_size)
            continue;
        memcpy(nk, p, head);
        if (!idem_key_v4(p + head, k.mv_size - head, nk + head))
            memcpy(nk, p, k.mv_size);
        if ((rc = copy_val(&v, &val, &cap)) != 0)
            break;
        MDB_val nkv = { k.mv_size, nk }, nv = { v.mv_size, val };
        if ((rc = mdb_put(txn, tmp, &nkv, &nv, 0)) != 0)
            break;
        (*rows)++;
    }
    if (cur)
        mdb_cursor_close(cur);
    cur = NULL;
    if (rc == MDB_NOTFOUND)
        rc = mdb_drop(txn, st->idem, 0);
    if (!rc)
        rc = mdb_cursor_open(txn, tmp, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint8_t kb[512];
        memcpy(kb, k.mv_data, k.mv_size);
        if ((rc = copy_val(&v, &val, &cap)) != 0)
            break;
        MDB_val kv = { k.mv_size, kb }, nv = { v.mv_size, val };
        /* in key order: each the last so far */
        if ((rc = mdb_put(txn, st->idem, &kv, &nv, MDB_APPEND)) != 0)
            break;
    }
    if (cur)
        mdb_cursor_close(cur);
    free(val);
    if (rc == MDB_NOTFOUND)
        rc = mdb_drop(txn, tmp, 1);
    return rc;
}

int store_migrate(store *st, uint32_t from, char *err, size_t errlen)
{
    char path[4096];
    int rc = take_backup(st, from, path, sizeof path, err, errlen);
    if (rc)
        return rc;
    log_info("store: %s has schema version %u; migrating it to %u (a copy of it as it was is in %s)", st->dir, from,
             STORE_SCHEMA_VERSION, path);
    /* The migration rewrites the case records and adds their rows in one
     * transaction, while the old pages are still held: room for a copy. */
    store_reserve(st, store_used(st));
    MDB_txn *txn;
    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    uint64_t cases = 0, entries = 0, orders = 0, keys = 0;
    if (!rc && from < 2)
        rc = migrate_timelines(st, txn, &cases, &entries);
    if (!rc && from < 2)
        rc = migrate_order_states(st, txn, &orders);
    if (!rc && from < 2)
        rc = migrate_idem(st, txn, &keys);
    uint64_t rows = 0;
    if (!rc && from < 3)
        rc = migrate_timeline_rows(st, txn, &rows);
    if (!rc && from < 3)
        rc = fold_tables(st, txn, &rows);
    uint64_t case_rows = 0, idem_rows = 0;
    if (!rc && from < 4)
        rc = move_case_rows(st, txn, &case_rows);
    if (!rc && from < 4)
        rc = rekey_idem(st, txn, &idem_rows);
    uint64_t open_rows = 0;
    if (!rc && from < 4)
        rc = group_open_orders(st, txn, &open_rows);
    if (!rc) {
        uint8_t b[4] = { 0, 0, 0, STORE_SCHEMA_VERSION };
        MDB_val k = { 6, "schema" }, v = { 4, b };
        rc = mdb_put(txn, st->meta, &k, &v, 0);
    }
    if (!rc) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (!rc)
        rc = mdb_env_sync(st->env, 1);
    if (txn)
        mdb_txn_abort(txn);
    if (rc) {
        snprintf(err, errlen,
                 "store: migrating %s from schema %u to %u failed: %s; the store is unchanged (a copy is in %s)",
                 st->dir, from, STORE_SCHEMA_VERSION, store_strerror(rc), path);
        return rc;
    }
    log_info("store: %s migrated to schema version %u: %llu cases' timelines (%llu entries) moved to their own rows, "
             "%llu orders indexed by state, %llu idempotency keys by age, %llu timeline, audit index and idempotency "
             "rows moved into the tables they index, %llu audit rows by target moved beside their cases, %llu "
             "idempotency rows keyed by the key first, %llu checked-in orders' rows grouped with the pending ones",
             st->dir, STORE_SCHEMA_VERSION, (unsigned long long)cases, (unsigned long long)entries,
             (unsigned long long)orders, (unsigned long long)keys, (unsigned long long)rows,
             (unsigned long long)case_rows, (unsigned long long)idem_rows, (unsigned long long)open_rows);
    return 0;
}

/* Walks dbi (proposals or meetings, each with its body_id) into
 * delib_by_body under kind. */
static int index_delib(store *st, MDB_txn *txn, MDB_dbi dbi, const ProtobufCMessageDescriptor *d, char kind,
                       uint64_t *n)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8)
            continue;
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, v.mv_size, v.mv_data);
        if (!m)
            continue; /* whistled --check reports a record that does not decode */
        /* body_id is field 2 of both DelibProposal and DelibMeeting */
        uint64_t body = d == &whistle__v1__delib_proposal__descriptor ? ((Whistle__V1__DelibProposal *)m)->body_id
                                                                      : ((Whistle__V1__DelibMeeting *)m)->body_id;
        protobuf_c_message_free_unpacked(m, NULL);
        uint8_t key[17];
        store_be64(key, body);
        key[8] = (uint8_t)kind;
        memcpy(key + 9, k.mv_data, 8);
        MDB_val ik = { sizeof key, key }, iv = { 0, "" };
        rc = mdb_put(txn, st->delib_by_body, &ik, &iv, 0);
        if (rc)
            break;
        (*n)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_delib_index(store *st, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    MDB_stat idx, props, meets;
    if (!rc)
        rc = mdb_stat(txn, st->delib_by_body, &idx);
    if (!rc)
        rc = mdb_stat(txn, st->delib_proposals, &props);
    if (!rc)
        rc = mdb_stat(txn, st->delib_meetings, &meets);
    uint64_t n = 0;
    bool build = !rc && idx.ms_entries == 0 && props.ms_entries + meets.ms_entries > 0;
    if (build)
        rc = index_delib(st, txn, st->delib_proposals, &whistle__v1__delib_proposal__descriptor, 'p', &n);
    if (build && !rc)
        rc = index_delib(st, txn, st->delib_meetings, &whistle__v1__delib_meeting__descriptor, 'm', &n);
    if (!rc && build) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    if (rc) {
        snprintf(err, errlen, "store: indexing the deliberation records of %s failed: %s", st->dir, store_strerror(rc));
        return rc;
    }
    if (build)
        log_info("store: %s: %llu deliberation proposals and meetings indexed by body", st->dir, (unsigned long long)n);
    return 0;
}
