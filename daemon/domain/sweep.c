/* sweep.c: see sweep.h. */
#include "sweep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deadline_rows.h"
#include "field_limits.h"
#include "log.h"
#include "stats_rows.h"
#include "supervision.h"
#include "visit.h"
#include "volunteer.h"

int64_t deadline_first_due(store *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, st->deadlines, &cur))
        return 0;
    MDB_val k, v;
    int64_t due = 0;
    if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size >= 9)
        due = (int64_t)store_get_be64(k.mv_data);
    mdb_cursor_close(cur);
    /* 0 means "none"; a deadline at the epoch is due anyway */
    return due > 0 ? due : (due < 0 ? 1 : due);
}

static const Whistle__V1__Principal *system_principal(void)
{
    /* The daemon acts as itself when a deadline passes: the timeline and
     * the audit log name "whistled". */
    static const Whistle__V1__Principal sys = {
        .base = PROTOBUF_C_MESSAGE_INIT(&whistle__v1__principal__descriptor),
        .name = (char *)"whistled",
        .role = WHISTLE__V1__ROLE__ROLE_ADMIN,
        .scope = (char *)"",
        .department = (char *)"",
        .enabled = 1,
    };
    return &sys;
}

typedef struct row_copy {
    uint8_t key[9 + TICKET_MAX + 1];
    size_t len;
} row_copy;

/* One passed deadline, in its own nested transaction. */
static int fire_row(store *st, MDB_txn *txn, const row_copy *r, int64_t now, stream_touched *touched)
{
    MDB_txn *child;
    int rc = mdb_txn_begin(st->env, txn, 0, &child);
    if (rc)
        return rc;
    stats_batch_push(st); /* the sums of this miss follow its transaction */
    arena *a = arena_new();
    Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
    whistle__v1__response__init(resp);
    stream_touched mine = { 0 };
    call c = { .st = st,
               .txn = child,
               .who = system_principal(),
               .name = "deadline",
               .now = now,
               .a = a,
               .resp = resp,
               .touched = &mine };
    int64_t due = (int64_t)store_get_be64(r->key);
    uint8_t kind = r->key[8];
    int hrc = 0;
    if (kind == DL_WISH_CLAIM && r->len == 17) {
        hrc = wish_claim_lapsed(&c, store_get_be64(r->key + 9), due);
    } else if (kind == DL_POINTS_EXPIRE && r->len == 17) {
        hrc = points_expire(&c, store_get_be64(r->key + 9), due);
    } else if (kind == DL_CASE) {
        char *ticket = arena_strndup(a, (const char *)r->key + 9, r->len - 9);
        hrc = supervision_case_due(&c, ticket, due);
    } else if (kind == DL_VISIT) {
        hrc = r->len == 17 ? visit_overdue(&c, store_get_be64(r->key + 9), due) : 0;
    } else if (r->len >= 17) {
        uint64_t id = store_get_be64(r->key + 9);
        hrc = supervision_order_miss(&c, id, kind, r->len == 18 ? r->key[17] : 0, due);
    }
    if (hrc == 0) {
        /* The handler's save removed the row; a row it could not use
         * (stale) goes now, so that the engine never spins on it. */
        MDB_val k = { r->len, (void *)r->key };
        int drc = mdb_del(child, st->deadlines, &k, NULL);
        if (drc && drc != MDB_NOTFOUND)
            hrc = -1;
    }
    if (hrc == 0 && (rc = mdb_txn_commit(child)) == 0) {
        stats_batch_pop(st, true);
        for (size_t i = 0; i < mine.n; i++)
            stream_touched_add(touched, mine.names[i]);
    } else {
        if (hrc)
            mdb_txn_abort(child);
        stats_batch_pop(st, false);
        log_error("deadline: a passed deadline could not be handled, dropped: %s",
                  resp->status && resp->status->message ? resp->status->message : mdb_strerror(rc));
        /* Dropped: the row goes, so that one damaged record cannot stop
         * every other deadline. */
        MDB_val k = { r->len, (void *)r->key };
        rc = mdb_del(txn, st->deadlines, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    stream_touched_clear(&mine);
    arena_free(a);
    return rc;
}

int deadline_sweep(store *st, MDB_txn *txn, int64_t now, stream_touched *touched, size_t max, size_t *fired, bool *more)
{
    *fired = 0;
    *more = false;
    row_copy *rows = calloc(max ? max : 1, sizeof *rows);
    if (!rows)
        return ENOMEM;
    size_t n = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->deadlines, &cur);
    if (rc) {
        free(rows);
        return rc;
    }
    MDB_val k, v;
    /* Copy the keys first: handling one changes the index under a cursor. */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 9 || k.mv_size > sizeof rows[0].key)
            continue;
        if ((int64_t)store_get_be64(k.mv_data) > now)
            break;
        if (n == max) {
            *more = true;
            break;
        }
        memcpy(rows[n].key, k.mv_data, k.mv_size);
        rows[n++].len = k.mv_size;
    }
    mdb_cursor_close(cur);
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        MDB_val kk = { rows[i].len, rows[i].key }, vv;
        if (mdb_get(txn, st->deadlines, &kk, &vv) != 0)
            continue; /* an earlier one in this sweep removed it */
        rc = fire_row(st, txn, &rows[i], now, touched);
        if (!rc)
            (*fired)++;
    }
    free(rows);
    return rc;
}
