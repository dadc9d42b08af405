/* stats_rows.c: see stats_rows.h. */
#include "stats_rows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "deadline_rows.h"
#include "directory.h"
#include "log.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

enum {
    M_REPORTED,
    M_FILED,
    M_REJECTED,
    M_MERGED,
    M_WHISTLED,
    M_ASSIGNED,
    M_RESOLVED,
    M_VERIFIED,
    M_REWORKED,
    M_CLOSED,
    M_DUE,
    M_CLOSED_ON_TIME,
    M_RATED,
    M_RATING_SUM,
    M_SATISFIED,
    M_DISSATISFIED,
    M_REOPENED,
    M_PARKED,
    M_EMERGENCY,
    M_CASE_OVERDUE,
    M_DISPATCHED,
    M_ORDERS,
    M_RETURNED,
    M_CHECKED_IN,
    M_CHECKED_IN_ON_TIME,
    M_DONE,
    M_DONE_ON_TIME,
    M_OVERDUE,
    M_ESCALATED,
    M_REWORKED_ORDERS,
    M_EXTENSIONS,
    M_EXTENSIONS_APPROVED,
};

/* The names are the StatsRow fields they fill. */
const char *const stats_metric_names[STATS_METRICS] = {
    "reported",
    "filed",
    "rejected",
    "merged",
    "whistled",
    "assigned",
    "resolved",
    "verified",
    "reworked",
    "closed",
    "due",
    "closed_on_time",
    "rated",
    "rating_sum",
    "satisfied",
    "dissatisfied",
    "reopened",
    "parked",
    "emergency",
    "case_overdue",
    "dispatched",
    "orders",
    "returned",
    "checked_in",
    "checked_in_on_time",
    "done",
    "done_on_time",
    "overdue",
    "escalated",
    "reworked_orders",
    "extensions",
    "extensions_approved",
};

/* ------------------------------------------------------------ contributions */

void stats_event_contribution(const Whistle__V1__Event *ev, int64_t m[STATS_METRICS])
{
    memset(m, 0, STATS_METRICS * sizeof *m);
    /* A case handed to another district (docs/federation.md) is counted
     * there, from its arrival, and no longer here: the city's sums count
     * it once, and no district's rates count a transfer as a close. */
    if (!ev || *str0(ev->transferred_to))
        return;
    bool closed = ev->state == ES(CLOSED);
    m[M_REPORTED] = 1;
    m[M_FILED] = ev->filed_ms != 0;
    m[M_MERGED] = *str0(ev->merged_into) != 0;
    m[M_REJECTED] = ev->state == ES(REJECTED) && !m[M_MERGED];
    m[M_WHISTLED] = ev->n_order_ids > 0;
    m[M_ASSIGNED] = *str0(ev->assignee) != 0;
    m[M_RESOLVED] = ev->resolved_ms != 0;
    m[M_VERIFIED] = ev->state == ES(VERIFIED) || closed;
    m[M_REWORKED] = ev->rework_count > 0;
    m[M_CLOSED] = closed;
    /* Due to close: closed, or past its due time. So closed <= due, and a
     * case without a deadline counts once it closes. */
    m[M_DUE] = closed || (ev->due_ms && ev->due_passed);
    m[M_CLOSED_ON_TIME] = closed && (!ev->due_ms || ev->closed_ms <= ev->due_ms);
    m[M_RATED] = ev->rating > 0;
    m[M_RATING_SUM] = ev->rating;
    m[M_SATISFIED] = ev->rating >= 4;
    m[M_DISSATISFIED] = ev->rating >= 1 && ev->rating <= 2;
    m[M_REOPENED] = ev->reopen_count > 0;
    m[M_PARKED] = ev->parked;
    m[M_EMERGENCY] = ev->source == WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL;
    m[M_CASE_OVERDUE] = ev->due_passed;
}

/* Whether the order missed a check-in deadline (check_in, or the follow-up
 * of one), or (check_in false) any other: resolve, stage, follow-up. */
static bool missed_kind(const Whistle__V1__Order *o, bool check_in)
{
    for (size_t i = 0; i < o->n_misses; i++) {
        const Whistle__V1__Miss *x = o->misses[i];
        if (x && (strncmp(str0(x->kind), "check_in", 8) == 0) == check_in)
            return true;
    }
    return false;
}

void stats_order_contribution(const Whistle__V1__Order *o, bool dept, int64_t m[STATS_METRICS])
{
    memset(m, 0, STATS_METRICS * sizeof *m);
    if (!o)
        return;
    bool live = o->state != OS(RETURNED);
    m[M_DISPATCHED] = 1;
    m[M_ORDERS] = live;
    m[M_RETURNED] = !live;
    m[M_CHECKED_IN] = live && o->checked_in_ms != 0;
    m[M_CHECKED_IN_ON_TIME] =
        m[M_CHECKED_IN] && (!o->check_in_due_ms || o->checked_in_ms <= o->check_in_due_ms) && !missed_kind(o, true);
    m[M_DONE] = o->state == OS(DONE);
    m[M_DONE_ON_TIME] = m[M_DONE] && (!o->resolve_due_ms || o->done_ms <= o->resolve_due_ms) && !missed_kind(o, false);
    m[M_OVERDUE] = o->n_misses > 0;
    m[M_ESCALATED] = o->escalated;
    m[M_REWORKED_ORDERS] = o->rework_count > 0;
    m[M_EXTENSIONS] = o->extension != NULL;
    m[M_EXTENSIONS_APPROVED] =
        o->extension && o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_APPROVED;
    if (dept && live) {
        /* The department is judged by the ratings of the cases it worked on. */
        m[M_RATED] = o->case_rating > 0;
        m[M_RATING_SUM] = o->case_rating;
        m[M_SATISFIED] = o->case_rating >= 4;
        m[M_DISSATISFIED] = o->case_rating >= 1 && o->case_rating <= 2;
    }
}

/* ------------------------------------------------------------ buckets */

int stats_iso_week(int32_t day, int *iso_year)
{
    int wd = (int)(((day % 7) + 7 + 3) % 7) + 1; /* Monday 1 .. Sunday 7; day 0 was a Thursday */
    int32_t thursday = day - wd + 4;
    int y, m, d;
    calendar_civil(thursday, &y, &m, &d);
    *iso_year = y;
    return (thursday - calendar_day_of(y, 1, 1)) / 7 + 1;
}

void stats_buckets(const store *st, int64_t ms, char out[3][16])
{
    const calendar *cal = &deadline_policy_of(st)->cal;
    int32_t day = calendar_day(cal, ms);
    int y, m, d, iy;
    calendar_civil(day, &y, &m, &d);
    int w = stats_iso_week(day, &iy);
    /* The calendar's days have four-digit years; the remainders only tell
     * the compiler so (an optimised build proves no bound otherwise). */
    unsigned uy = (unsigned)y % 10000u, uiy = (unsigned)iy % 10000u;
    unsigned um = (unsigned)m % 100u, ud = (unsigned)d % 100u, uw = (unsigned)w % 100u;
    snprintf(out[0], 16, "D%04u-%02u-%02u", uy, um, ud);
    snprintf(out[1], 16, "W%04u-W%02u", uiy, uw);
    snprintf(out[2], 16, "M%04u-%02u", uy, um);
}

/* ------------------------------------------------------------ applying */

/* ------------------------------------------------------------ batches */

/* The batch sums by key in one hash table. A nested level (one call, one
 * missed deadline) adds straight into it and notes each addition in an
 * undo log; a level that ends without committing takes its additions
 * back, one that commits keeps them (and its notes, while a level below
 * is still open and may yet be dropped). So a call's sums are hashed once
 * and allocate only keys the batch has not seen, instead of being listed
 * per level and summed again when the level joins the one below. A key
 * whose sum is back at zero is skipped by the flush. The table starts
 * small and grows with the keys: a batch of one call (a quiet hour) should
 * not pay for zeroing and walking a table sized for thousands. */
#define SB_BUCKETS_MIN 64

typedef struct sb_entry {
    struct sb_entry *next;
    int64_t delta;
    uint32_t hash;
    size_t len;
    char key[];
} sb_entry;

typedef struct {
    sb_entry *e;
    int64_t delta;
} sb_undo;

struct stats_batch {
    sb_entry **b; /* the hash table, nb chains (a power of two) of n entries */
    size_t nb, n;
    sb_undo *undo; /* the additions of the open nested levels, oldest first */
    size_t nundo, capundo;
    size_t *marks; /* where each open level's additions begin in undo */
    size_t nmarks, capmarks;
};

static uint32_t sb_hash(const char *k, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

/* Four times the chains once they average two entries. */
static void sb_rehash(struct stats_batch *b)
{
    size_t nb = b->nb * 4;
    sb_entry **t = calloc(nb, sizeof *t);
    if (!t)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < b->nb; i++)
        for (sb_entry *e = b->b[i], *n; e; e = n) {
            n = e->next;
            e->next = t[e->hash & (nb - 1)];
            t[e->hash & (nb - 1)] = e;
        }
    free(b->b);
    b->b = t;
    b->nb = nb;
}

static void *sb_grow(void *v, size_t *cap, size_t size)
{
    *cap = *cap ? 2 * *cap : 64;
    v = realloc(v, *cap * size);
    if (!v)
        log_oom("a statistics batch"); /* a lost sum would leave a wrong count */
    return v;
}

static void sb_add(struct stats_batch *b, const char *key, size_t len, int64_t delta)
{
    uint32_t h = sb_hash(key, len);
    sb_entry **pp = &b->b[h & (b->nb - 1)], *e;
    for (e = *pp; e; e = e->next)
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
            break;
    if (!e) {
        e = malloc(sizeof *e + len);
        if (!e)
            log_oom("a statistics sum");
        e->hash = h;
        e->len = len;
        e->delta = 0;
        memcpy(e->key, key, len);
        e->next = *pp;
        *pp = e;
        if (++b->n > 2 * b->nb)
            sb_rehash(b);
    }
    e->delta += delta;
    if (b->nmarks) {
        if (b->nundo == b->capundo)
            b->undo = sb_grow(b->undo, &b->capundo, sizeof *b->undo);
        b->undo[b->nundo++] = (sb_undo){ e, delta };
    }
}

int stats_batch_begin(store *st)
{
    stats_batch_end(st);
    struct stats_batch *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    if (!(b->b = calloc(SB_BUCKETS_MIN, sizeof *b->b))) {
        free(b);
        return -ENOMEM;
    }
    b->nb = SB_BUCKETS_MIN;
    st->stats_batch = b;
    return 0;
}

void stats_batch_push(store *st)
{
    struct stats_batch *b = st->stats_batch;
    if (!b)
        return;
    if (b->nmarks == b->capmarks)
        b->marks = sb_grow(b->marks, &b->capmarks, sizeof *b->marks);
    b->marks[b->nmarks++] = b->nundo;
}

void stats_batch_pop(store *st, bool keep)
{
    struct stats_batch *b = st->stats_batch;
    if (!b || !b->nmarks)
        return;
    size_t from = b->marks[--b->nmarks];
    if (!keep)
        for (size_t i = b->nundo; i-- > from;)
            b->undo[i].e->delta -= b->undo[i].delta;
    /* kept additions stay noted while an enclosing level may still drop
     * them; with none open they are the batch's for good */
    if (!keep || !b->nmarks)
        b->nundo = keep ? 0 : from;
}

void stats_batch_end(store *st)
{
    struct stats_batch *b = st->stats_batch;
    if (!b)
        return;
    for (size_t i = 0; i < b->nb; i++)
        for (sb_entry *e = b->b[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(b->b);
    free(b->undo);
    free(b->marks);
    free(b);
    st->stats_batch = NULL;
}

static int write_counter(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t len, int64_t delta)
{
    MDB_val k = { len, (void *)key }, v;
    int64_t cur = 0;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        cur = (int64_t)store_get_be64(v.mv_data);
    else if (rc && rc != MDB_NOTFOUND)
        return rc;
    uint8_t buf[8];
    store_be64(buf, (uint64_t)(cur + delta));
    v.mv_size = 8;
    v.mv_data = buf;
    return mdb_put(txn, dbi, &k, &v, 0);
}

static int entry_cmp(const void *a, const void *b)
{
    const sb_entry *x = *(sb_entry *const *)a, *y = *(sb_entry *const *)b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

int stats_batch_flush(store *st, MDB_txn *txn)
{
    struct stats_batch *b = st->stats_batch;
    if (!b)
        return 0;
    /* a level left open (a bug of the writer) is dropped, as an
     * uncommitted nested transaction would be */
    while (b->nmarks)
        stats_batch_pop(st, false);
    int rc = 0;
    if (b->n) {
        sb_entry **all = malloc(b->n * sizeof *all);
        if (!all)
            log_oom("a statistics batch");
        size_t n = 0;
        for (size_t i = 0; i < b->nb; i++)
            for (sb_entry *e = b->b[i]; e; e = e->next)
                if (e->delta)
                    all[n++] = e;
        /* in key order: neighbours share pages, each page is dirtied once */
        qsort(all, n, sizeof *all, entry_cmp);
        /* through one cursor: a counter found is overwritten where the
         * cursor stands (same size, in place: MDB_CURRENT), so an update
         * costs one descent of the tree instead of a get's and a put's */
        MDB_cursor *cur = NULL;
        rc = mdb_cursor_open(txn, st->stats, &cur);
        for (size_t i = 0; !rc && i < n; i++) {
            MDB_val k = { all[i]->len, all[i]->key }, v;
            int64_t was = 0;
            unsigned flags = 0;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
            if (rc == 0 && v.mv_size == 8) {
                was = (int64_t)store_get_be64(v.mv_data);
                flags = MDB_CURRENT;
            } else if (rc == 0 || rc == MDB_NOTFOUND) {
                k = (MDB_val){ all[i]->len, all[i]->key };
            } else {
                break;
            }
            uint8_t buf[8];
            store_be64(buf, (uint64_t)(was + all[i]->delta));
            v = (MDB_val){ 8, buf };
            rc = mdb_cursor_put(cur, &k, &v, flags);
        }
        if (cur)
            mdb_cursor_close(cur);
        free(all);
    }
    stats_batch_end(st);
    return rc;
}

static int add_counter(call *c, const char *key, int64_t delta)
{
    size_t len = strlen(key);
    if (c->st->stats_batch) {
        sb_add(c->st->stats_batch, key, len, delta);
        return 0;
    }
    int rc = write_counter(c->txn, c->st->stats, key, len, delta);
    return rc ? call_store_fail(c, rc, "counting statistics") : 0;
}

static int apply(call *c, const char *const *dims, size_t nd, int64_t anchor, const int64_t *before,
                 const int64_t *after)
{
    bool any = false;
    for (size_t m = 0; m < STATS_METRICS && !any; m++)
        any = after[m] != before[m];
    if (!any)
        return 0; /* most saves change no counter: no buckets to work out */
    char b[3][16];
    stats_buckets(c->st, anchor, b);
    for (size_t d = 0; d < nd; d++)
        for (int k = 0; k < 3; k++) {
            /* "dim|bucket|" once, then each changed metric after it */
            char key[160];
            size_t dl = strlen(dims[d]), bl = strlen(b[k]);
            if (dl + bl + 2 + 32 >= sizeof key)
                continue;
            memcpy(key, dims[d], dl);
            key[dl] = '|';
            memcpy(key + dl + 1, b[k], bl);
            key[dl + 1 + bl] = '|';
            size_t pl = dl + bl + 2;
            for (size_t m = 0; m < STATS_METRICS; m++) {
                int64_t delta = after[m] - before[m];
                if (!delta)
                    continue;
                size_t ml = strlen(stats_metric_names[m]);
                memcpy(key + pl, stats_metric_names[m], ml + 1);
                if (add_counter(c, key, delta))
                    return -1;
            }
        }
    return 0;
}

/* The place dimensions of a node: its district, street, community and grid
 * (the code's prefixes: each level adds digits to its parent's code). */
static size_t place_dims(call *c, const char *node, const char *street, const char **out)
{
    size_t n = 0, len = strlen(str0(node));
    if (len >= 6)
        out[n++] = arena_printf(c->a, "district:%.6s", node);
    if (*str0(street))
        out[n++] = arena_printf(c->a, "street:%s", street);
    else if (len >= 9)
        out[n++] = arena_printf(c->a, "street:%.9s", node);
    if (len >= 12)
        out[n++] = arena_printf(c->a, "community:%.12s", node);
    if (len >= 15)
        out[n++] = arena_printf(c->a, "grid:%.15s", node);
    return n;
}

int stats_event_changed(call *c, const Whistle__V1__Event *old, const Whistle__V1__Event *ev)
{
    int64_t before[STATS_METRICS], after[STATS_METRICS];
    stats_event_contribution(old, before);
    stats_event_contribution(ev, after);
    if (memcmp(before, after, sizeof before) == 0)
        return 0;
    const char *dims[4];
    size_t nd = place_dims(c, ev->node, ev->street, dims);
    return apply(c, dims, nd, ev->created_ms, before, after);
}

int stats_order_changed(call *c, const Whistle__V1__Order *old, const Whistle__V1__Order *o)
{
    int64_t before[STATS_METRICS], after[STATS_METRICS];
    stats_order_contribution(old, false, before);
    stats_order_contribution(o, false, after);
    const char *dims[4];
    if (memcmp(before, after, sizeof before) != 0) {
        size_t nd = place_dims(c, o->node, o->street, dims);
        if (apply(c, dims, nd, o->created_ms, before, after))
            return -1;
    }
    stats_order_contribution(old, true, before);
    stats_order_contribution(o, true, after);
    if (memcmp(before, after, sizeof before) == 0)
        return 0;
    const char *dept = arena_printf(c->a, "dept:%s", str0(o->department));
    return apply(c, &dept, 1, o->created_ms, before, after);
}
