/* deadline.c: see deadline.h. */
#include "deadline.h"
#include "field_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "directory.h"
#include "dispatch.h"
#include "event.h"
#include "log.h"
#include "authz.h"
#include "server.h"
#include "stats.h"
#include "supervision.h"
#include "writer.h"

#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define UNIT(u) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##u
#define MAX_STAGES 16
#define MAX_ROWS (3 + MAX_STAGES)

const deadline_policy *deadline_policy_of(const store *st)
{
    return st && st->policy ? st->policy : &policy_default;
}

static const calendar *cal_of(call *c) { return &deadline_policy_of(c->st)->cal; }

/* ------------------------------------------------------------ limits */

static bool limit_set(const Whistle__V1__TimeLimit *l)
{
    return l && l->amount > 0 && l->unit >= UNIT(MINUTES) && l->unit <= UNIT(WORKING_DAYS);
}

static void limit_make(Whistle__V1__TimeLimit *l, uint32_t amount, Whistle__V1__TimeUnit unit)
{
    whistle__v1__time_limit__init(l);
    l->amount = amount;
    l->unit = amount ? unit : UNIT(UNSPECIFIED);
}

void deadline_limits(const deadline_policy *p, const Whistle__V1__Category *cat, Whistle__V1__Priority prio,
                     Whistle__V1__WhistleKind kind, arena *a, Whistle__V1__TimeLimit *check_in,
                     Whistle__V1__TimeLimit *resolve)
{
    /* The catalogue's limits for the priority (directory.c: its own entry,
     * else the category's default, else its plain minutes and hours), then
     * the policy's defaults for what the catalogue leaves at none. */
    limit_make(check_in, p->default_check_in_minutes, UNIT(MINUTES));
    limit_make(resolve, p->default_resolve_hours, UNIT(HOURS));
    if (cat) {
        Whistle__V1__PriorityLimits *l = directory_limits_for(cat, prio, a);
        if (limit_set(l->check_in))
            *check_in = *l->check_in;
        if (limit_set(l->resolve))
            *resolve = *l->resolve;
    }
    /* An emergency whistle: check in within emergency_check_in_minutes (30
     * by default) by the clock, whatever the category says; an emergency
     * does not wait for the working day. */
    if (kind == WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY) {
        uint32_t em = p->emergency_check_in_minutes;
        bool shorter = (check_in->unit == UNIT(MINUTES) && check_in->amount <= em) ||
                       (check_in->unit == UNIT(HOURS) && (uint64_t)check_in->amount * 60 <= em);
        if (!limit_set(check_in) || !shorter)
            limit_make(check_in, em, UNIT(MINUTES));
    }
}

static Whistle__V1__TimeLimit *limit_copy(arena *a, const Whistle__V1__TimeLimit *l)
{
    if (!limit_set(l))
        return NULL;
    Whistle__V1__TimeLimit *n = arena_alloc(a, sizeof *n);
    *n = *l;
    return n;
}

int deadline_order_init(call *c, const Whistle__V1__Event *ev, Whistle__V1__Order *o)
{
    const deadline_policy *p = deadline_policy_of(c->st);
    Whistle__V1__Category *cat = directory_category_get(c->st, c->txn, ev->category, c->a);
    Whistle__V1__TimeLimit ci, rs;
    deadline_limits(p, cat, ev->priority, o->kind, c->a, &ci, &rs);
    o->check_in_limit = limit_copy(c->a, &ci);
    o->resolve_limit = limit_copy(c->a, &rs);
    o->check_in_due_ms = calendar_add(&p->cal, c->now, &ci);
    o->resolve_due_ms = calendar_add(&p->cal, c->now, &rs);
    o->parked = ev->parked;
    size_t ns = cat ? cat->n_stages : 0;
    if (ns > MAX_STAGES)
        ns = MAX_STAGES;
    o->n_stages = 0;
    o->stages = ns ? arena_alloc(c->a, ns * sizeof *o->stages) : NULL;
    for (size_t i = 0; i < ns; i++) {
        const Whistle__V1__Stage *s = cat->stages[i];
        if (!s)
            continue;
        Whistle__V1__OrderStage *os = arena_alloc(c->a, sizeof *os);
        whistle__v1__order_stage__init(os);
        os->name_zh = (char *)str0(s->name_zh);
        os->name_en = (char *)str0(s->name_en);
        os->due_ms = calendar_add(&p->cal, c->now, s->limit);
        o->stages[o->n_stages++] = os;
    }
    return 0;
}

void deadline_order_restart(call *c, Whistle__V1__Order *o)
{
    o->resolve_due_ms = calendar_add(cal_of(c), c->now, o->resolve_limit);
    o->follow_up_ms = 0;
    o->follow_up = (char *)"";
}

/* ------------------------------------------------------------ rows */

typedef struct dl_row {
    int64_t due;
    uint8_t kind;
    uint8_t stage;
    uint64_t order;
    const char *ticket;
} dl_row;

static size_t row_key(const dl_row *r, uint8_t *key)
{
    store_be64(key, (uint64_t)r->due);
    key[8] = r->kind;
    if (r->kind == DL_CASE) {
        size_t n = strlen(r->ticket);
        memcpy(key + 9, r->ticket, n);
        return 9 + n;
    }
    store_be64(key + 9, r->order);
    if (r->kind == DL_STAGE) {
        key[17] = r->stage;
        return 18;
    }
    return 17;
}

static bool row_eq(const dl_row *a, const dl_row *b)
{
    uint8_t ka[9 + TICKET_MAX + 1], kb[9 + TICKET_MAX + 1];
    size_t la = row_key(a, ka), lb = row_key(b, kb);
    return la == lb && memcmp(ka, kb, la) == 0;
}

bool deadline_order_missed(const Whistle__V1__Order *o, const char *kind, int64_t due, uint32_t stage)
{
    for (size_t i = 0; i < o->n_misses; i++) {
        const Whistle__V1__Miss *m = o->misses[i];
        if (m && strcmp(str0(m->kind), kind) == 0 && m->due_ms == due && m->stage == stage)
            return true;
    }
    return false;
}

static bool order_active(const Whistle__V1__Order *o)
{
    return o->state == OS(PENDING) || o->state == OS(CHECKED_IN);
}

/* The rows an order's record calls for: every deadline that runs and has
 * not been missed yet. A parked case runs none. */
static size_t order_rows(const Whistle__V1__Order *o, dl_row *out)
{
    size_t n = 0;
    if (!o || o->parked || !order_active(o))
        return 0;
    if (o->state == OS(PENDING) && o->check_in_due_ms && !deadline_order_missed(o, "check_in", o->check_in_due_ms, 0))
        out[n++] = (dl_row){o->check_in_due_ms, DL_CHECK_IN, 0, o->id, NULL};
    if (o->resolve_due_ms && !deadline_order_missed(o, "resolve", o->resolve_due_ms, 0))
        out[n++] = (dl_row){o->resolve_due_ms, DL_RESOLVE, 0, o->id, NULL};
    for (size_t i = 0; i < o->n_stages && i < MAX_STAGES; i++) {
        const Whistle__V1__OrderStage *s = o->stages[i];
        if (s && s->due_ms && !s->done_ms && !deadline_order_missed(o, "stage", s->due_ms, (uint32_t)i + 1))
            out[n++] = (dl_row){s->due_ms, DL_STAGE, (uint8_t)(i + 1), o->id, NULL};
    }
    if (o->follow_up_ms && (strcmp(str0(o->follow_up), "check_in") != 0 || o->state == OS(PENDING)))
        out[n++] = (dl_row){o->follow_up_ms, DL_FOLLOW_UP, 0, o->id, NULL};
    return n;
}

/* A case's own row: its due time, until it closes (for the close rates and
 * for locally handled cases, which have no orders to watch). */
static size_t event_rows(const Whistle__V1__Event *ev, dl_row *out)
{
    if (!ev || !ev->due_ms || ev->due_passed || ev->parked || ev->state == ES(CLOSED) ||
        ev->state == ES(REJECTED) || strlen(ev->ticket) > TICKET_MAX)
        return 0;
    out[0] = (dl_row){ev->due_ms, DL_CASE, 0, 0, ev->ticket};
    return 1;
}

_Static_assert(9 + TICKET_MAX + 1 == DEADLINE_KEY_MAX, "deadline key size");
_Static_assert(MAX_ROWS == DEADLINE_ROWS_MAX, "deadline rows per order");

size_t deadline_order_keys(const Whistle__V1__Order *o, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens)
{
    dl_row rows[MAX_ROWS];
    size_t n = order_rows(o, rows);
    for (size_t i = 0; i < n; i++)
        lens[i] = row_key(&rows[i], keys[i]);
    return n;
}

size_t deadline_event_keys(const Whistle__V1__Event *ev, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens)
{
    dl_row rows[1];
    size_t n = event_rows(ev, rows);
    for (size_t i = 0; i < n; i++)
        lens[i] = row_key(&rows[i], keys[i]);
    return n;
}

static int rows_apply(call *c, const dl_row *before, size_t nb, const dl_row *after, size_t na)
{
    uint8_t key[9 + TICKET_MAX + 1];
    for (size_t i = 0; i < nb; i++) {
        bool keep = false;
        for (size_t j = 0; j < na && !keep; j++)
            keep = row_eq(&before[i], &after[j]);
        if (keep)
            continue;
        MDB_val k = {row_key(&before[i], key), key};
        int rc = mdb_del(c->txn, c->st->deadlines, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return call_store_fail(c, rc, "removing a deadline");
    }
    for (size_t j = 0; j < na; j++) {
        bool had = false;
        for (size_t i = 0; i < nb && !had; i++)
            had = row_eq(&before[i], &after[j]);
        if (had)
            continue;
        MDB_val k = {row_key(&after[j], key), key}, v = {0, ""};
        int rc = mdb_put(c->txn, c->st->deadlines, &k, &v, 0);
        if (rc)
            return call_store_fail(c, rc, "recording a deadline");
    }
    return 0;
}

/* ------------------------------------------------------------ save hooks */

static Whistle__V1__Event *stored_event(call *c, const char *ticket)
{
    void *e = NULL;
    if (!ticket || !*ticket)
        return NULL;
    store_get(c->txn, c->st->events, ticket, strlen(ticket), &whistle__v1__event__descriptor, c->a, &e);
    return e;
}

/* The case's rating is copied onto its orders, so that each department's
 * statistics can count the ratings of the cases it worked on. */
static int propagate_rating(call *c, const Whistle__V1__Event *ev)
{
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        Whistle__V1__Order *o;
        void *ob;
        size_t ol;
        if (dispatch_order_load(c, ev->order_ids[i], &o, &ob, &ol))
            return -1;
        if (o->case_rating == ev->rating)
            continue;
        o->case_rating = ev->rating;
        if (dispatch_order_save(c, o, ob, ol))
            return -1;
    }
    return 0;
}

int deadline_event_saving(call *c, Whistle__V1__Event *ev)
{
    Whistle__V1__Event *old = stored_event(c, ev->ticket);
    ev->version = (old ? old->version : 0) + 1;
    if (ev->state == ES(FILED) && !ev->filed_ms)
        ev->filed_ms = c->now;
    if (ev->state == ES(RESOLVED) && !ev->resolved_ms)
        ev->resolved_ms = c->now;
    if (ev->state == ES(CLOSED) && (!old || old->state != ES(CLOSED)))
        ev->closed_ms = c->now;
    /* The case clock starts at the first dispatch, or at the hand-over to a
     * grid or community worker. */
    if ((ev->state == ES(WHISTLED) || ev->state == ES(HANDLING)) && !ev->due_ms) {
        const deadline_policy *p = deadline_policy_of(c->st);
        Whistle__V1__TimeLimit ci, rs;
        deadline_limits(p, directory_category_get(c->st, c->txn, ev->category, c->a), ev->priority,
                        ev->state == ES(WHISTLED) ? ev->whistle_kind : 0, c->a, &ci, &rs);
        ev->due_ms = calendar_add(&p->cal, c->now, &rs);
    }
    if (old && old->rating != ev->rating && propagate_rating(c, ev))
        return -1;
    if (ev->supervision_id && ev->state != ES(HANDLING) && (!old || old->state != ev->state) &&
        supervision_close(c, ev->supervision_id, arena_printf(c->a, "case %s", event_state_name(ev->state))))
        return -1;
    if (stats_event_changed(c, old, ev))
        return -1;
    dl_row before[1], after[1];
    size_t nb = event_rows(old, before), na = event_rows(ev, after);
    return rows_apply(c, before, nb, after, na);
}

int deadline_order_saving(call *c, Whistle__V1__Order *o)
{
    Whistle__V1__Order *old = dispatch_order_get(c, o->id);
    o->version = (old ? old->version : 0) + 1;
    if (o->supervision_id && !order_active(o) && (!old || old->state != o->state) &&
        supervision_close(c, o->supervision_id, o->state == OS(DONE) ? "order done" : "order returned"))
        return -1;
    if (stats_order_changed(c, old, o))
        return -1;
    dl_row before[MAX_ROWS], after[MAX_ROWS];
    size_t nb = order_rows(old, before), na = order_rows(o, after);
    return rows_apply(c, before, nb, after, na);
}

/* ------------------------------------------------------------ sweep */

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
    arena *a = arena_new();
    Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
    whistle__v1__response__init(resp);
    stream_touched mine = {0};
    call c = {.st = st, .txn = child, .who = system_principal(), .name = "deadline", .now = now, .a = a,
              .resp = resp, .touched = &mine};
    int64_t due = (int64_t)store_get_be64(r->key);
    uint8_t kind = r->key[8];
    int hrc = 0;
    if (kind == DL_CASE) {
        char *ticket = arena_strndup(a, (const char *)r->key + 9, r->len - 9);
        hrc = supervision_case_due(&c, ticket, due);
    } else if (r->len >= 17) {
        uint64_t id = store_get_be64(r->key + 9);
        hrc = supervision_order_miss(&c, id, kind, r->len == 18 ? r->key[17] : 0, due);
    }
    if (hrc == 0) {
        /* The handler's save removed the row; a row it could not use
         * (stale) goes now, so that the engine never spins on it. */
        MDB_val k = {r->len, (void *)r->key};
        int drc = mdb_del(child, st->deadlines, &k, NULL);
        if (drc && drc != MDB_NOTFOUND)
            hrc = -1;
    }
    if (hrc == 0 && (rc = mdb_txn_commit(child)) == 0) {
        for (size_t i = 0; i < mine.n; i++)
            stream_touched_add(touched, mine.names[i]);
    } else {
        if (hrc)
            mdb_txn_abort(child);
        log_error("deadline: a passed deadline could not be handled, dropped: %s",
                  resp->status && resp->status->message ? resp->status->message : mdb_strerror(rc));
        /* Dropped: the row goes, so that one damaged record cannot stop
         * every other deadline. */
        MDB_val k = {r->len, (void *)r->key};
        rc = mdb_del(txn, st->deadlines, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    stream_touched_clear(&mine);
    arena_free(a);
    return rc;
}

int deadline_sweep(store *st, MDB_txn *txn, int64_t now, stream_touched *touched, size_t max, size_t *fired,
                   bool *more)
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
        MDB_val kk = {rows[i].len, rows[i].key}, vv;
        if (mdb_get(txn, st->deadlines, &kk, &vv) != 0)
            continue; /* an earlier one in this sweep removed it */
        rc = fire_row(st, txn, &rows[i], now, touched);
        if (!rc)
            (*fired)++;
    }
    free(rows);
    return rc;
}

/* ------------------------------------------------------------ the loop's timer */

#define SWEEP_MAX 500
#define RECHECK_MS 60000 /* re-read the clock at least this often */
#define TEST_RECHECK_MS 100
#define RETRY_MS 1000

struct deadline_engine {
    server *s;
    uv_timer_t timer;
    bool ticking; /* an INTENT_TICK is with the writer */
    bool stopped;
    bool test_clock;
};

static void engine_submit(server *s)
{
    intent *it = calloc(1, sizeof *it);
    char *who = strdup("whistled");
    if (!it || !who) {
        free(it);
        free(who);
        return;
    }
    it->kind = INTENT_TICK;
    it->principal = who;
    it->tick_max = SWEEP_MAX;
    s->dl->ticking = true;
    writer_submit(s->w, it);
}

static void on_timer(uv_timer_t *t)
{
    server *s = t->data;
    struct deadline_engine *e = s->dl;
    if (!e || e->stopped || s->draining || e->ticking)
        return;
    MDB_txn *txn = store_read_begin(s->st);
    int64_t due = txn ? deadline_first_due(s->st, txn) : 0;
    store_read_end(s->st);
    if (due && due <= server_now_ms(s))
        engine_submit(s);
    else
        deadline_engine_rearm(s);
}

static void arm(struct deadline_engine *e, int64_t delay)
{
    int64_t cap = e->test_clock ? TEST_RECHECK_MS : RECHECK_MS;
    if (delay > cap)
        delay = cap;
    if (delay < 0)
        delay = 0;
    uv_timer_start(&e->timer, on_timer, (uint64_t)delay, 0);
}

void deadline_engine_rearm(server *s)
{
    struct deadline_engine *e = s->dl;
    if (!e || e->stopped || e->ticking || s->draining)
        return;
    MDB_txn *txn = store_read_begin(s->st);
    int64_t due = txn ? deadline_first_due(s->st, txn) : 0;
    store_read_end(s->st);
    if (!due) {
        /* Nothing runs; the test clock still polls, because time there
         * jumps without the loop knowing. */
        if (e->test_clock)
            arm(e, TEST_RECHECK_MS);
        else
            uv_timer_stop(&e->timer);
        return;
    }
    arm(e, due - server_now_ms(s));
}

void deadline_engine_tick_done(server *s, intent *it)
{
    struct deadline_engine *e = s->dl;
    if (!e)
        return;
    e->ticking = false;
    if (it->tick_fired)
        log_info("deadline: %zu passed deadline%s handled", it->tick_fired, it->tick_fired == 1 ? "" : "s");
    if (e->stopped || s->draining)
        return;
    if (it->code != 0 || (!it->tick_more && it->touched.n == 0 && it->tick_fired == 0)) {
        /* A failed sweep (or one that moved nothing): try again in a
         * second rather than spin. */
        if (it->code != 0)
            log_warn("deadline: sweep failed (status %d); retrying", it->code);
        arm(e, RETRY_MS);
        return;
    }
    deadline_engine_rearm(s);
}

int deadline_engine_start(server *s)
{
    struct deadline_engine *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->s = s;
    e->test_clock = s->cfg->test_clock != NULL;
    uv_timer_init(s->loop, &e->timer);
    e->timer.data = s;
    s->dl = e;
    /* A deadline that passed while the daemon was down is the first row,
     * in the past: the timer fires at once. */
    deadline_engine_rearm(s);
    return 0;
}

static void on_engine_closed(uv_handle_t *h)
{
    server *s = h->data;
    free(s->dl);
    s->dl = NULL;
}

void deadline_engine_stop(server *s)
{
    struct deadline_engine *e = s->dl;
    if (!e || e->stopped)
        return;
    e->stopped = true;
    uv_timer_stop(&e->timer);
    uv_close((uv_handle_t *)&e->timer, on_engine_closed);
}

/* ------------------------------------------------------------ the test clock */

int64_t deadline_file_clock(void *ctx)
{
    struct test_clock *tc = ctx;
    char buf[40];
    int fd = open(tc->path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n > 0) {
        buf[n] = 0;
        char *end;
        long long v = strtoll(buf, &end, 10);
        while (*end == '\n' || *end == ' ')
            end++;
        if (end != buf && !*end && v > 0) {
            atomic_store(&tc->last, (int64_t)v);
            return v;
        }
    }
    /* Unreadable (a writer not using rename): the last good value. */
    int64_t last = atomic_load(&tc->last);
    if (last)
        return last;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ calls */

static char *fmt_due(call *c, int64_t ms)
{
    if (!ms)
        return arena_strdup(c->a, "none");
    const calendar *cal = cal_of(c);
    int32_t day = calendar_day(cal, ms);
    int y, m, d;
    calendar_civil(day, &y, &m, &d);
    int64_t into = ms - calendar_day_start(cal, day);
    return arena_printf(c->a, "%04d-%02d-%02d %02d:%02d", y, m, d, (int)(into / 3600000), (int)(into / 60000 % 60));
}

/* Loads an order for a change by its department (or an admin): role,
 * existence, ownership, and the case. */
static int order_for_department(call *c, uint64_t id, Whistle__V1__Order **o, void **ob, size_t *ol,
                                Whistle__V1__Event **ev, event_snap *snap)
{
    char *target = arena_printf(c->a, "order:%llu", (unsigned long long)id);
    if (authz_check(c, target) || dispatch_order_load(c, id, o, ob, ol))
        return -1;
    if (c->who->role != ROLE(ADMIN) && strcmp(str0((*o)->department), str0(c->who->department)) != 0)
        return call_deny(c, target,
                         "order %llu belongs to %s, not to your department %s (rule: a department acts on its "
                         "own orders only)",
                         (unsigned long long)id, (*o)->department, str0(c->who->department));
    return event_load(c, (*o)->ticket, ev, snap);
}

static int order_wrong_state(call *c, const Whistle__V1__Order *o, const char *needs)
{
    return call_fail(c, CODE(FAILED_PRECONDITION), "order %llu is %s; %s needs %s", (unsigned long long)o->id,
                     dispatch_order_state_name(o->state), c->name, needs);
}

static int push_order(call *c, const Whistle__V1__Event *ev, const Whistle__V1__Order *o, const char *action)
{
    if (event_push(c, ev, action, o))
        return -1;
    return event_push_to(c, arena_printf(c->a, "dept:%s", o->department), ev, false, action, o);
}

static void reply_order(call *c, Whistle__V1__Order *o)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ORDER;
    c->resp->order = o;
}

static int check_limit(call *c, const char *field, const Whistle__V1__TimeLimit *l)
{
    if (!l || l->amount == 0)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is required: an amount and a unit (minutes, hours, "
                                                    "working_hours or working_days)",
                         field);
    if (l->unit < UNIT(MINUTES) || l->unit > UNIT(WORKING_DAYS))
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "%s.unit %d is not a time unit (1 minutes, 2 hours, 3 days, 4 working hours, 5 working days)",
                         field, l->unit);
    static const uint32_t max[] = {0, 60 * 24 * 366, 24 * 366, 366, 8 * 366, 366};
    static const char *const names[] = {"", "minutes", "hours", "days", "working hours", "working days"};
    if (l->amount > max[l->unit])
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is more than a year (%u %s at most)", field, max[l->unit],
                         names[l->unit]);
    return 0;
}

void deadline_request_extension(call *c, const Whistle__V1__RequestExtension *req)
{
    Whistle__V1__Order *o;
    Whistle__V1__Event *ev;
    event_snap snap;
    void *ob;
    size_t ol;
    if (order_for_department(c, req->order_id, &o, &ob, &ol, &ev, &snap) ||
        check_text(c, "reason", req->reason, NOTE_MAX, true) || check_limit(c, "extra", req->extra))
        return;
    if (!order_active(o)) {
        order_wrong_state(c, o, "pending or checked_in");
        return;
    }
    if (o->extension && o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "order %llu already has an extension request waiting for the operator (asked %s)",
                  (unsigned long long)o->id, fmt_due(c, o->extension->requested_ms));
        return;
    }
    Whistle__V1__Extension *x = arena_alloc(c->a, sizeof *x);
    whistle__v1__extension__init(x);
    x->state = WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING;
    x->extra = limit_copy(c->a, req->extra);
    x->reason = (char *)str0(req->reason);
    x->requested_ms = c->now;
    x->requested_by = (char *)str0(c->who->name);
    x->old_due_ms = o->resolve_due_ms;
    o->extension = x;
    char lt[64];
    event_timeline(c, ev,
                   "extension_request",
                   arena_printf(c->a, "%s more: %s", calendar_limit_text(req->extra, lt, sizeof lt), req->reason),
                   o->id, o->department);
    if (dispatch_order_save(c, o, ob, ol) || event_save(c, ev, &snap) || push_order(c, ev, o, "extension_request"))
        return;
    reply_order(c, o);
}

void deadline_decide_extension(call *c, const Whistle__V1__DecideExtension *req)
{
    Whistle__V1__Order *o;
    Whistle__V1__Event *ev;
    event_snap snap;
    void *ob;
    size_t ol;
    char *target = arena_printf(c->a, "order:%llu", (unsigned long long)req->order_id);
    if (authz_check(c, target) || check_text(c, "note", req->note, NOTE_MAX, !req->approve) ||
        dispatch_order_load(c, req->order_id, &o, &ob, &ol) || event_load(c, o->ticket, &ev, &snap) ||
        authz_operator_case(c, ev))
        return;
    if (!o->extension || o->extension->state != WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING) {
        call_fail(c, CODE(FAILED_PRECONDITION), "order %llu has no extension request waiting for a decision",
                  (unsigned long long)o->id);
        return;
    }
    if (!order_active(o)) {
        order_wrong_state(c, o, "pending or checked_in (an extension of a finished order is moot)");
        return;
    }
    Whistle__V1__Extension *x = o->extension;
    x->decided_ms = c->now;
    x->decided_by = (char *)str0(c->who->name);
    x->note = (char *)str0(req->note);
    const char *action;
    char *note;
    if (req->approve) {
        /* More time from the current deadline, or from now when it has
         * already passed; the supervision's follow-up gives way to it. */
        int64_t from = o->resolve_due_ms > c->now ? o->resolve_due_ms : c->now;
        int64_t due = calendar_add(cal_of(c), from, x->extra);
        x->state = WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_APPROVED;
        x->old_due_ms = o->resolve_due_ms;
        x->new_due_ms = due;
        o->resolve_due_ms = due;
        if (strcmp(str0(o->follow_up), "done") == 0) {
            o->follow_up_ms = 0;
            o->follow_up = (char *)"";
        }
        if (ev->due_ms && ev->due_ms < due) {
            ev->due_ms = due;
            ev->due_passed = false;
        }
        action = "extension_approved";
        note = arena_printf(c->a, "resolve by %s%s%s", fmt_due(c, due), *x->note ? ": " : "", x->note);
    } else {
        x->state = WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_REFUSED;
        action = "extension_refused";
        note = x->note;
    }
    event_timeline(c, ev, action, note, o->id, o->department);
    if (dispatch_order_save(c, o, ob, ol) || event_save(c, ev, &snap) || push_order(c, ev, o, action))
        return;
    reply_order(c, o);
}

/* Loads a case for an operator's change (role, existence, scope). */
static Whistle__V1__Event *case_for_operator(call *c, const char *ticket, event_snap *snap)
{
    Whistle__V1__Event *ev;
    if (authz_check(c, str0(ticket)) || event_load(c, ticket, &ev, snap) || authz_operator_case(c, ev))
        return NULL;
    return ev;
}

static int shift(int64_t *ms, int64_t by)
{
    if (*ms)
        *ms += by;
    return 0;
}

/* Parks or unparks every live order of the case; unparking moves each of
 * their deadlines by the time spent parked. */
static int park_orders(call *c, Whistle__V1__Event *ev, bool parked, int64_t by, const char *action)
{
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        Whistle__V1__Order *o;
        void *ob;
        size_t ol;
        if (dispatch_order_load(c, ev->order_ids[i], &o, &ob, &ol))
            return -1;
        if (!order_active(o) || o->parked == parked)
            continue;
        o->parked = parked;
        if (!parked) {
            shift(&o->check_in_due_ms, by);
            shift(&o->resolve_due_ms, by);
            shift(&o->follow_up_ms, by);
            for (size_t s = 0; s < o->n_stages; s++)
                if (o->stages[s] && !o->stages[s]->done_ms)
                    shift(&o->stages[s]->due_ms, by);
        }
        if (dispatch_order_save(c, o, ob, ol) ||
            event_push_to(c, arena_printf(c->a, "dept:%s", o->department), ev, false, action, o))
            return -1;
    }
    return 0;
}

void deadline_park(call *c, const Whistle__V1__ParkEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = case_for_operator(c, req->ticket, &snap);
    if (!ev || check_text(c, "reason", req->reason, NOTE_MAX, true))
        return;
    if (ev->state != ES(FILED) && ev->state != ES(HANDLING) && ev->state != ES(WHISTLED)) {
        event_wrong_state(c, ev, "filed, handling or whistled (an open case)");
        return;
    }
    if (ev->parked) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s is already parked (since %s): %s", ev->ticket,
                  fmt_due(c, ev->parked_ms), str0(ev->park_reason));
        return;
    }
    ev->parked = true;
    ev->parked_ms = c->now;
    ev->park_reason = (char *)str0(req->reason);
    event_timeline(c, ev, "park", req->reason, 0, NULL);
    if (park_orders(c, ev, true, 0, "park") || event_save(c, ev, &snap) || event_push(c, ev, "park", NULL))
        return;
    event_reply(c, ev);
}

void deadline_unpark(call *c, const Whistle__V1__UnparkEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = case_for_operator(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (!ev->parked) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s is not parked; park puts a case in the problem pool",
                  ev->ticket);
        return;
    }
    int64_t by = c->now - ev->parked_ms;
    if (by < 0)
        by = 0;
    ev->parked = false;
    ev->parked_ms = 0;
    ev->park_reason = (char *)"";
    ev->parked_total_ms += by;
    shift(&ev->due_ms, by);
    event_timeline(c, ev, "unpark",
                   arena_printf(c->a, "deadlines moved by %lld min%s%s", (long long)(by / 60000),
                                *str0(req->note) ? ": " : "", str0(req->note)),
                   0, NULL);
    if (park_orders(c, ev, false, by, "unpark") || event_save(c, ev, &snap) || event_push(c, ev, "unpark", NULL))
        return;
    event_reply(c, ev);
}

void deadline_report_stage(call *c, const Whistle__V1__ReportStage *req)
{
    Whistle__V1__Order *o;
    Whistle__V1__Event *ev;
    event_snap snap;
    void *ob;
    size_t ol;
    if (order_for_department(c, req->order_id, &o, &ob, &ol, &ev, &snap) ||
        check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (o->n_stages == 0) {
        call_fail(c, CODE(FAILED_PRECONDITION), "order %llu has no stages (its category %s has none)",
                  (unsigned long long)o->id, o->category);
        return;
    }
    if (req->stage < 1 || req->stage > o->n_stages) {
        call_fail(c, CODE(INVALID_ARGUMENT), "stage %u is out of range: order %llu has stages 1 to %zu", req->stage,
                  (unsigned long long)o->id, o->n_stages);
        return;
    }
    if (!order_active(o)) {
        order_wrong_state(c, o, "pending or checked_in");
        return;
    }
    Whistle__V1__OrderStage *s = o->stages[req->stage - 1];
    if (s->done_ms) {
        call_fail(c, CODE(FAILED_PRECONDITION), "stage %u (%s) of order %llu was reported done at %s", req->stage,
                  s->name_zh, (unsigned long long)o->id, fmt_due(c, s->done_ms));
        return;
    }
    s->done_ms = c->now;
    s->note = (char *)str0(req->note);
    event_timeline(c, ev, "stage",
                   arena_printf(c->a, "stage %u %s done%s%s", req->stage, str0(s->name_zh),
                                *str0(req->note) ? ": " : "", str0(req->note)),
                   o->id, o->department);
    if (dispatch_order_save(c, o, ob, ol) || event_save(c, ev, &snap) || push_order(c, ev, o, "stage"))
        return;
    reply_order(c, o);
}
