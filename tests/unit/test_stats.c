/* test_stats.c: the statistics agree with a recount from the cases.
 *
 * Thousands of cases go through every path of the loop (reject, merge,
 * local handling, whistle, return and re-dispatch, rework, extension, park,
 * close, rate, reopen, the emergency call), interleaved in time over months
 * with the deadline sweep running, through api_write as the writer calls it
 * (batches of nested transactions). Then every counter in the "stats" db is
 * compared with a recount made here, from the stored cases and orders, by
 * the definitions of docs/statistics.md written out again; and the GetStats
 * query is compared with the same recount. */
#include "helpers.h"

#include <math.h>

#include "deadline_rows.h"
#include "stats_rows.h"
#include "sweep.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#ifndef N_CASES
#define N_CASES 2000
#endif
#define MIN 60000LL

static deadline_policy policy;

static void setup(void)
{
    h_mkdir();
    store_opts o = { .sync = STORE_SYNC_NONE }; /* speed: durability is not what this tests */
    h_open_opts(&o);
    /* the fixture's emergency category */
    policy_defaults(&policy);
    snprintf(policy.emergency_category, sizeof policy.emergency_category, "0501");
    h_st->policy = &policy;
    char err[512] = "";
    cr_assert_eq(api_seed(h_st, SEED_SMALL, T0, err, sizeof err), 0, "seed: %s", err);
}
TestSuite(stats, .init = setup, .fini = h_teardown, .timeout = 600);

/* ------------------------------------------------------------ batched writes */

static MDB_txn *batch;
static int in_batch;

/* The batch sums its counters as the writer's does (stats_rows.h), and
 * writes them once before its commit. */
static void batch_begin(void)
{
    if (batch)
        return;
    cr_assert_eq(store_write_begin(h_st, &batch), 0);
    cr_assert_eq(stats_batch_begin(h_st), 0);
}

static void batch_end(void)
{
    if (!batch)
        return;
    cr_assert_eq(stats_batch_flush(h_st, batch), 0);
    cr_assert_null(h_st->stats_batch);
    cr_assert_eq(mdb_txn_commit(batch), 0);
    batch = NULL;
    in_batch = 0;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static int codes[20];

/* A read inside the open batch, so that it sees what the batch wrote. */
static Whistle__V1__Response *rd(Whistle__V1__Request *req)
{
    batch_begin();
    Whistle__V1__Principal *p = api_principal(h_st, batch, "admin", h_a);
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    api_read(h_st, batch, p, req, h_now, h_a, resp);
    cr_assert(resp->status && resp->status->code == 0, "%s: %s", api_call_name(req), h_msg(resp));
    return resp;
}

/* A write, in the batch's transaction. The writer runs each call in a
 * nested transaction of its own; here calls run in the batch directly,
 * because under ASan every nested transaction costs a fresh mapping of
 * LMDB's 3 MB of bookkeeping, which would make this test minutes long.
 * That is sound for what this test checks: every refusal the generator
 * meets (a state that moved on, a department already busy) happens before
 * the call writes anything. */
static Whistle__V1__Response *w(const char *who, Whistle__V1__Request *req)
{
    batch_begin();
    Whistle__V1__Principal *p = api_principal(h_st, batch, who, h_a);
    cr_assert(p, "no principal %s", who);
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    stream_touched t = { 0 };
    stats_batch_push(h_st); /* a level per call, as the writer's nested transactions */
    api_write(h_st, batch, p, req, h_now, h_a, resp, &t);
    stream_touched_clear(&t);
    int code = resp->status ? (int)resp->status->code : -1;
    stats_batch_pop(h_st, code == 0);
    cr_assert(code == 0 || code == WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION ||
                  code == WHISTLE__V1__STATUS__CODE__ALREADY_EXISTS,
              "%s as %s: %d %s", api_call_name(req), who, code, h_msg(resp));
    codes[code >= 0 && code < 20 ? code : 19]++;
    if (++in_batch == 1000)
        batch_end();
    return resp;
}

static void sweep(void)
{
    batch_end();
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(stats_batch_begin(h_st), 0);
    stream_touched t = { 0 };
    size_t fired;
    bool more = true;
    while (more)
        cr_assert_eq(deadline_sweep(h_st, txn, h_now, &t, 1000, &fired, &more), 0);
    cr_assert_eq(stats_batch_flush(h_st, txn), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
}

/* ------------------------------------------------------------ the generator */

typedef struct kase {
    char ticket[32];
    const char *op;
    const char *street;
    int stage; /* where this case is in the script below */
    uint64_t orders[4];
    int n_orders;
    const char *depts[4];
    bool local;
    bool done;
} kase;

static kase cases[N_CASES];
static int n_cases;

static const struct {
    const char *who, *node;
} reporters[] = {
    { "gw-1", "110105001001001" },          { "gw-1", "110105001001001001" },
    { "gw-2", "110105001001002" },          { "kiosk-yonganli", "110105001001" },
    { "comm-yonganli", "110105001001002" }, { "hotline", "110105002001001" },
    { "hotline", "110105002001" },          { "admin", "110105002" },
};
static const char *const cats[] = { "0101", "0102", "0501" };
static const char *const depts[] = { "police", "urban", "housing" }; /* with a principal each */

static Whistle__V1__Request *req(Whistle__V1__Request__CallCase cc)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = cc;
    return r;
}

static void new_case(void)
{
    kase *k = &cases[n_cases];
    int ri = (int)rnd(sizeof reporters / sizeof *reporters);
    Whistle__V1__Response *r;
    if (rnd(40) == 0) {
        Whistle__V1__Request *e = req(CALL(EMERGENCY_CALL));
        e->emergency_call = NEW(Whistle__V1__EmergencyCall, whistle__v1__emergency_call__init);
        e->emergency_call->node = "110105001001001";
        e->emergency_call->device = "btn-7";
        r = w("kiosk-yonganli", e);
    } else {
        Whistle__V1__Request *rq = rq_report(reporters[ri].node, cats[rnd(3)], "generated");
        rq->report->priority = (Whistle__V1__Priority)(1 + rnd(4));
        r = w(reporters[ri].who, rq);
    }
    cr_assert_eq(h_code(r), 0);
    snprintf(k->ticket, sizeof k->ticket, "%s", r->event->ticket);
    k->street = strcmp(r->event->street, "110105001") == 0 ? "110105001" : "110105002";
    k->op = strcmp(k->street, "110105001") == 0 ? "op-jianwai" : "op-chaowai";
    n_cases++;
}

static Whistle__V1__Request *tk(Whistle__V1__Request__CallCase cc, const kase *k) { return rq_ticket(cc, k->ticket); }

static bool ok(Whistle__V1__Response *r) { return h_code(r) == 0; }

static void whistle_some(kase *k, int n)
{
    if (k->n_orders >= 4) {
        k->done = true; /* enough re-dispatching for one case */
        return;
    }
    Whistle__V1__Request *rq = rq_ticket(CALL(WHISTLE), k->ticket);
    rq->whistle->departments = arena_alloc(h_a, 4 * sizeof(char *));
    int first = (int)rnd(3);
    for (int i = 0; i < n && k->n_orders + i < 4; i++)
        rq->whistle->departments[rq->whistle->n_departments++] = (char *)depts[(first + i) % 3];
    rq->whistle->kind = rnd(6) == 0 ? WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY : 0;
    Whistle__V1__Response *r = w(k->op, rq);
    if (!ok(r))
        return;
    for (size_t i = 0; i < r->whistle->n_orders && k->n_orders < 4; i++) {
        k->orders[k->n_orders] = r->whistle->orders[i]->id;
        for (int d = 0; d < 3; d++) /* a constant: the arena is freed now and then */
            if (strcmp(depts[d], r->whistle->orders[i]->department) == 0)
                k->depts[k->n_orders] = depts[d];
        k->n_orders++;
    }
}

static void rate(kase *k)
{
    Whistle__V1__Request *r = tk(CALL(RATE), k);
    r->rate->score = 1 + rnd(5);
    w(k->op, r);
}

/* One step of a case's life, chosen at random among what its state allows. */
static void step(kase *k)
{
    Whistle__V1__Event *ev = NULL;
    ev = rd(rq_ticket(CALL(GET_EVENT), k->ticket))->event;
    switch (ev->state) {
    case ES(REPORTED): {
        uint32_t x = rnd(20);
        if (x == 0) {
            Whistle__V1__Request *r = tk(CALL(REJECT), k);
            r->reject->reason = "not in scope";
            w(k->op, r);
        } else if (x == 1 && k > cases) {
            /* merge into an earlier case of the same street */
            kase *e = &cases[rnd((uint32_t)(k - cases))];
            if (strcmp(e->street, k->street) == 0) {
                Whistle__V1__Request *r = req(CALL(MERGE));
                r->merge = NEW(Whistle__V1__MergeEvent, whistle__v1__merge_event__init);
                r->merge->ticket = k->ticket;
                r->merge->into = e->ticket;
                w(k->op, r);
            }
        } else {
            w(k->op, tk(CALL(FILE), k));
        }
        break;
    }
    case ES(FILED):
        if (ev->parked) {
            Whistle__V1__Request *r = req(CALL(UNPARK));
            r->unpark = NEW(Whistle__V1__UnparkEvent, whistle__v1__unpark_event__init);
            r->unpark->ticket = k->ticket;
            w(k->op, r);
        } else if (rnd(30) == 0) {
            Whistle__V1__Request *r = req(CALL(PARK));
            r->park = NEW(Whistle__V1__ParkEvent, whistle__v1__park_event__init);
            r->park->ticket = k->ticket;
            r->park->reason = "waiting";
            w(k->op, r);
        } else if (rnd(3) == 0 && strcmp(k->street, "110105001") == 0) {
            Whistle__V1__Request *r = tk(CALL(ASSIGN), k);
            r->assign->assignee = strncmp(ev->node, "110105001001002", 15) == 0   ? "gw-2"
                                  : strncmp(ev->node, "110105001001001", 15) == 0 ? "gw-1"
                                                                                  : "comm-yonganli";
            k->local = ok(w(k->op, r));
        } else {
            whistle_some(k, 1 + (int)rnd(2));
        }
        break;
    case ES(HANDLING): {
        Whistle__V1__Request *r = tk(CALL(RESOLVE), k);
        r->resolve->note = "fixed on the spot";
        w(ev->assignee, r);
        break;
    }
    case ES(WHISTLED): {
        if (ev->parked) {
            Whistle__V1__Request *r = req(CALL(UNPARK));
            r->unpark = NEW(Whistle__V1__UnparkEvent, whistle__v1__unpark_event__init);
            r->unpark->ticket = k->ticket;
            w(k->op, r);
            break;
        }
        if (rnd(40) == 0) {
            Whistle__V1__Request *r = req(CALL(PARK));
            r->park = NEW(Whistle__V1__ParkEvent, whistle__v1__park_event__init);
            r->park->ticket = k->ticket;
            r->park->reason = "needs the district";
            w(k->op, r);
            break;
        }
        /* act on one live order; re-dispatch when none is left */
        int live = 0;
        for (int i = 0; i < k->n_orders; i++) {
            Whistle__V1__Order *o = NULL;
            Whistle__V1__Response *lr = rd(rq_list_orders("", k->ticket, 10, 0));
            for (size_t j = 0; j < lr->orders->n_orders; j++)
                if (lr->orders->orders[j]->id == k->orders[i])
                    o = lr->orders->orders[j];
            if (!o)
                continue;
            if (o->state == OS(PENDING)) {
                live++;
                if (rnd(12) == 0)
                    w(k->depts[i], rq_order(CALL(RETURN_ORDER), o->id, "not our duty"));
                else
                    w(k->depts[i], rq_order(CALL(CHECK_IN), o->id, ""));
                return;
            }
            if (o->state == OS(CHECKED_IN)) {
                live++;
                uint32_t x = rnd(10);
                if (x == 0 && !o->extension) {
                    Whistle__V1__Request *r = req(CALL(REQUEST_EXTENSION));
                    r->request_extension = NEW(Whistle__V1__RequestExtension, whistle__v1__request_extension__init);
                    r->request_extension->order_id = o->id;
                    r->request_extension->extra = NEW(Whistle__V1__TimeLimit, whistle__v1__time_limit__init);
                    r->request_extension->extra->amount = 1 + rnd(3);
                    r->request_extension->extra->unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
                    r->request_extension->reason = "more time";
                    w(k->depts[i], r);
                } else if (o->extension &&
                           o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING) {
                    Whistle__V1__Request *r = req(CALL(DECIDE_EXTENSION));
                    r->decide_extension = NEW(Whistle__V1__DecideExtension, whistle__v1__decide_extension__init);
                    r->decide_extension->order_id = o->id;
                    r->decide_extension->approve = rnd(3) != 0;
                    r->decide_extension->note = "decided";
                    w(k->op, r);
                } else if (x == 1) {
                    w(k->depts[i], rq_order(CALL(RETURN_ORDER), o->id, "not ours after all"));
                } else {
                    w(k->depts[i], rq_order(CALL(FEEDBACK), o->id, "done"));
                }
                return;
            }
        }
        if (!live)
            whistle_some(k, 1);
        break;
    }
    case ES(RESOLVED): {
        Whistle__V1__Request *r = tk(CALL(VERIFY), k);
        r->verify->pass = rnd(5) != 0;
        r->verify->note = "checked";
        w(k->op, r);
        break;
    }
    case ES(VERIFIED): w(k->op, tk(CALL(CLOSE), k)); break;
    case ES(CLOSED):
        if (!ev->rating) {
            rate(k);
        } else if (ev->rating <= 2 && ev->reopen_count == 0 && rnd(2) == 0) {
            Whistle__V1__Request *r = req(CALL(REOPEN));
            r->reopen = NEW(Whistle__V1__ReopenEvent, whistle__v1__reopen_event__init);
            r->reopen->ticket = k->ticket;
            r->reopen->reason = "resident says it is not fixed";
            w(k->op, r);
        } else {
            k->done = true;
        }
        break;
    default: k->done = true; break;
    }
}

/* ------------------------------------------------------------ the recount */

#define SLOTS (1u << 18)
typedef struct slot {
    char *key;
    int64_t val;
} slot;
static slot *table;

static slot *find(const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (uint32_t i = h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
        if (!table[i].key) {
            table[i].key = arena_strdup(h_a, key);
            return &table[i];
        }
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    }
}

static void count(const char *dim, int64_t anchor, const char *metric, int64_t v)
{
    if (!v)
        return;
    char b[3][16], key[160];
    stats_buckets(h_st, anchor, b);
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "%s|%s|%s", dim, b[i], metric);
        find(key)->val += v;
    }
}

static void count_places(const char *node, int64_t anchor, const char *metric, int64_t v)
{
    size_t n = strlen(node);
    char dim[64];
    snprintf(dim, sizeof dim, "district:%.6s", node);
    count(dim, anchor, metric, v);
    snprintf(dim, sizeof dim, "street:%.9s", node);
    count(dim, anchor, metric, v);
    if (n >= 12) {
        snprintf(dim, sizeof dim, "community:%.12s", node);
        count(dim, anchor, metric, v);
    }
    if (n >= 15) {
        snprintf(dim, sizeof dim, "grid:%.15s", node);
        count(dim, anchor, metric, v);
    }
}

/* docs/statistics.md, written out again. */
static void recount_case(const Whistle__V1__Event *e)
{
    int64_t a = e->created_ms;
    const char *n = e->node;
    bool closed = e->state == ES(CLOSED), merged = *e->merged_into;
    count_places(n, a, "reported", 1);
    count_places(n, a, "filed", e->filed_ms != 0);
    count_places(n, a, "rejected", e->state == ES(REJECTED) && !merged);
    count_places(n, a, "merged", merged);
    count_places(n, a, "whistled", e->n_order_ids > 0);
    count_places(n, a, "assigned", *e->assignee != 0);
    count_places(n, a, "resolved", e->resolved_ms != 0);
    count_places(n, a, "verified", e->state == ES(VERIFIED) || closed);
    count_places(n, a, "reworked", e->rework_count > 0);
    count_places(n, a, "closed", closed);
    count_places(n, a, "due", closed || (e->due_ms && e->due_passed));
    count_places(n, a, "closed_on_time", closed && (!e->due_ms || e->closed_ms <= e->due_ms));
    count_places(n, a, "rated", e->rating > 0);
    count_places(n, a, "rating_sum", e->rating);
    count_places(n, a, "satisfied", e->rating >= 4);
    count_places(n, a, "dissatisfied", e->rating == 1 || e->rating == 2);
    count_places(n, a, "reopened", e->reopen_count > 0);
    count_places(n, a, "parked", e->parked);
    count_places(n, a, "emergency", e->source == WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL);
    count_places(n, a, "case_overdue", e->due_passed);
}

static void recount_order(const Whistle__V1__Order *o)
{
    int64_t a = o->created_ms;
    bool live = o->state != OS(RETURNED);
    bool ci_miss = false, other_miss = false;
    for (size_t i = 0; i < o->n_misses; i++) {
        if (strcmp(o->misses[i]->kind, "check_in") == 0 || strcmp(o->misses[i]->kind, "check_in_follow_up") == 0)
            ci_miss = true;
        else
            other_miss = true;
    }
    bool ci = live && o->checked_in_ms;
    bool done = o->state == OS(DONE);
    char dept[64];
    snprintf(dept, sizeof dept, "dept:%s", o->department);
    struct {
        const char *m;
        int64_t v;
    } c[] = {
        { "dispatched", 1 },
        { "orders", live },
        { "returned", !live },
        { "checked_in", ci },
        { "checked_in_on_time", ci && (!o->check_in_due_ms || o->checked_in_ms <= o->check_in_due_ms) && !ci_miss },
        { "done", done },
        { "done_on_time", done && (!o->resolve_due_ms || o->done_ms <= o->resolve_due_ms) && !other_miss },
        { "overdue", o->n_misses > 0 },
        { "escalated", o->escalated },
        { "reworked_orders", o->rework_count > 0 },
        { "extensions", o->extension != NULL },
        { "extensions_approved",
          o->extension && o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_APPROVED },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        count_places(o->node, a, c[i].m, c[i].v);
        count(dept, a, c[i].m, c[i].v);
    }
    if (live) {
        count(dept, a, "rated", o->case_rating > 0);
        count(dept, a, "rating_sum", o->case_rating);
        count(dept, a, "satisfied", o->case_rating >= 4);
        count(dept, a, "dissatisfied", o->case_rating == 1 || o->case_rating == 2);
    }
}

static size_t recount(void)
{
    free(table);
    table = calloc(SLOTS, sizeof *table);
    cr_assert(table);
    MDB_txn *txn = store_read_begin(h_st);
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    cr_assert_eq(mdb_cursor_open(txn, h_st->events, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (memchr(k.mv_data, 0, k.mv_size))
            continue; /* a timeline row, after its case (store.h) */
        Whistle__V1__Event *e = whistle__v1__event__unpack(arena_allocator(h_a), v.mv_size, v.mv_data);
        cr_assert(e);
        recount_case(e);
        n++;
    }
    mdb_cursor_close(cur);
    cr_assert_eq(mdb_cursor_open(txn, h_st->orders, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Whistle__V1__Order *o = whistle__v1__order__unpack(arena_allocator(h_a), v.mv_size, v.mv_data);
        cr_assert(o);
        recount_order(o);
    }
    mdb_cursor_close(cur);
    store_read_end(h_st);
    return n;
}

/* ------------------------------------------------------------ the test */

Test(stats, counters_agree_with_a_recount_from_the_cases)
{
    int steps = 0;
    while (n_cases < N_CASES || steps < N_CASES * 12) {
        /* minutes between steps, now and then a night or a weekend */
        h_now += rnd(4) * MIN + rnd(60000) + (rnd(400) == 0 ? (int64_t)(12 + rnd(48)) * 60 * MIN : 0);
        if (n_cases < N_CASES && (n_cases < 20 || rnd(4) == 0)) {
            new_case();
        } else if (n_cases) {
            /* the newer cases move more: some old ones stay open and fall due */
            int i = n_cases - 1 - (int)rnd((uint32_t)(n_cases < 12 ? n_cases : 12));
            if (rnd(10) == 0)
                i = (int)rnd((uint32_t)n_cases);
            if (!cases[i].done)
                step(&cases[i]);
        }
        steps++;
        if (steps % 200 == 0) {
            sweep();
            /* the arena grows with every response: start afresh */
            arena_free(h_a);
            h_a = arena_new();
        }
    }
    sweep();
    batch_end();
    printf("stats: %d cases, %d steps over %lld days; OK %d, refused %d\n", n_cases, steps,
           (long long)((h_now - T0) / 86400000), codes[0], codes[9] + codes[6]);
    cr_assert(codes[0] > N_CASES * 4, "most steps succeed (%d)", codes[0]);

    if (getenv("STATS_DEBUG")) {
        MDB_txn *tx = store_read_begin(h_st);
        const char *names[] = { "events", "orders", "streams", "audit", "stats", "deadlines", "supervisions", "idem" };
        MDB_dbi dbis[] = { h_st->events, h_st->orders,    h_st->streams,      h_st->audit,
                           h_st->stats,  h_st->deadlines, h_st->supervisions, h_st->idem };
        for (int i = 0; i < 8; i++) {
            MDB_stat ms;
            mdb_stat(tx, dbis[i], &ms);
            printf("%-12s %8zu entries %8zu pages\n", names[i], ms.ms_entries,
                   ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages);
        }
        MDB_envinfo ei;
        mdb_env_info(h_st->env, &ei);
        printf("last page %zu\n", ei.me_last_pgno);
        store_read_end(h_st);
    }
    size_t ncases = recount();
    cr_assert_eq(ncases, (size_t)N_CASES);
    /* Every stored counter equals the recount, and every recounted counter
     * is stored. */
    MDB_txn *txn = store_read_begin(h_st);
    MDB_cursor *cur;
    MDB_val k, v;
    cr_assert_eq(mdb_cursor_open(txn, h_st->stats, &cur), 0);
    size_t stored = 0, nonzero = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char *key = arena_strndup(h_a, k.mv_data, k.mv_size);
        int64_t got = (int64_t)store_get_be64(v.mv_data);
        slot *s = find(key);
        cr_assert_eq(got, s->val, "%s: stored %lld, recount %lld", key, (long long)got, (long long)s->val);
        s->val = INT64_MIN; /* seen */
        stored++;
        nonzero += got != 0;
    }
    mdb_cursor_close(cur);
    store_read_end(h_st);
    for (size_t i = 0; i < SLOTS; i++)
        if (table[i].key && table[i].val != INT64_MIN)
            cr_assert_eq(table[i].val, 0, "%s: recount %lld, not stored", table[i].key, (long long)table[i].val);
    printf("stats: %zu counters checked (%zu non-zero)\n", stored, nonzero);

    /* Every kind of path happened. */
    recount();
    const char *const seen[] = { "rejected",     "merged",
                                 "assigned",     "whistled",
                                 "reworked",     "closed",
                                 "rated",        "reopened",
                                 "emergency",    "case_overdue",
                                 "returned",     "overdue",
                                 "escalated",    "extensions_approved",
                                 "done_on_time", "checked_in_on_time",
                                 "dissatisfied" };
    for (size_t i = 0; i < sizeof seen / sizeof *seen; i++) {
        int64_t total = 0;
        for (size_t j = 0; j < SLOTS; j++)
            if (table[j].key && strncmp(table[j].key, "district:110105|M", 17) == 0 &&
                strcmp(strrchr(table[j].key, '|') + 1, seen[i]) == 0)
                total += table[j].val;
        cr_assert(total > 0, "no case went through \"%s\"", seen[i]);
    }

    /* The query reads the same numbers: the whole district by month. */
    Whistle__V1__Request *q = req(CALL(GET_STATS));
    q->get_stats = NEW(Whistle__V1__GetStats, whistle__v1__get_stats__init);
    q->get_stats->by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT;
    q->get_stats->period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
    q->get_stats->from = "2026-11-01";
    q->get_stats->to = "2027-12-31";
    q->get_stats->totals = true;
    Whistle__V1__Response *r = h_read("admin", q);
    assert_ok(r);
    cr_assert(r->stats->n_rows >= 3, "months and a total");
    Whistle__V1__StatsRow *tot = r->stats->rows[r->stats->n_rows - 1];
    cr_assert_str_eq(tot->bucket, "total");
    cr_assert_eq(tot->reported, N_CASES);
    int64_t filed = 0, closed = 0, due = 0, ontime = 0;
    for (size_t j = 0; j < SLOTS; j++) {
        if (!table[j].key || strncmp(table[j].key, "district:110105|M", 17) != 0)
            continue;
        const char *m = strrchr(table[j].key, '|') + 1;
        filed += strcmp(m, "filed") == 0 ? table[j].val : 0;
        closed += strcmp(m, "closed") == 0 ? table[j].val : 0;
        due += strcmp(m, "due") == 0 ? table[j].val : 0;
        ontime += strcmp(m, "closed_on_time") == 0 ? table[j].val : 0;
    }
    cr_assert_eq(tot->filed, filed);
    cr_assert_eq(tot->closed, closed);
    cr_assert(fabs(tot->close_rate - (double)closed / (double)due) < 1e-9);
    cr_assert(fabs(tot->on_time_close_rate - (double)ontime / (double)due) < 1e-9);
    cr_assert(tot->close_rate <= 1.0 && tot->on_time_close_rate <= tot->close_rate);
    printf("stats: district total: %lld reported, close rate %.2f%%, on time %.2f%%, response %.2f%%\n",
           (long long)tot->reported, 100 * tot->close_rate, 100 * tot->on_time_close_rate, 100 * tot->response_rate);
    free(table);
    table = NULL;
}

/* Issue 13: in a batch, a call's counters follow its nested transaction: a
 * call rolled back leaves none, the others are written once each at the
 * flush, summed. */
static int64_t counter(const char *key)
{
    MDB_txn *txn = store_read_begin(h_st);
    MDB_val k = { strlen(key), (void *)key }, v;
    int64_t n = mdb_get(txn, h_st->stats, &k, &v) == 0 ? (int64_t)store_get_be64(v.mv_data) : 0;
    store_read_end(h_st);
    return n;
}

static void batched_report(MDB_txn *txn, bool keep)
{
    MDB_txn *child;
    cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &child), 0);
    stats_batch_push(h_st);
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    stream_touched t = { 0 };
    api_write(h_st, child, api_principal(h_st, child, "gw-1", h_a), rq_report("110105001001001", "0101", "a shed"),
              h_now, h_a, resp, &t);
    stream_touched_clear(&t);
    assert_ok(resp);
    if (keep)
        cr_assert_eq(mdb_txn_commit(child), 0);
    else
        mdb_txn_abort(child);
    stats_batch_pop(h_st, keep);
}

Test(stats, a_batch_writes_each_counter_once_and_drops_a_rolled_back_call)
{
    char b[3][16];
    stats_buckets(h_st, h_now, b);
    const char *key = arena_printf(h_a, "grid:110105001001001|%s|reported", b[0]);
    int64_t before = counter(key);
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(stats_batch_begin(h_st), 0);
    batched_report(txn, true);
    batched_report(txn, false);
    batched_report(txn, true);
    MDB_val k = { strlen(key), (void *)key }, v;
    cr_assert_eq(mdb_get(txn, h_st->stats, &k, &v) == 0 ? (int64_t)store_get_be64(v.mv_data) : 0, before,
                 "nothing is written before the flush");
    cr_assert_eq(stats_batch_flush(h_st, txn), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    cr_assert_eq(counter(key), before + 2, "two reports kept, one rolled back");
}

/* Levels nest (a deadline tick's transaction holds one per missed
 * deadline): a level kept inside one that is dropped goes with it, and a
 * level dropped inside one that is kept takes only its own sums back. */
Test(stats, nested_levels_follow_their_transactions)
{
    char b[3][16];
    stats_buckets(h_st, h_now, b);
    const char *key = arena_printf(h_a, "grid:110105001001001|%s|reported", b[0]);
    int64_t before = counter(key);
    MDB_txn *txn, *outer;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(stats_batch_begin(h_st), 0);
    /* dropped outer level: its kept inner report goes too */
    cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &outer), 0);
    stats_batch_push(h_st);
    batched_report(outer, true);
    batched_report(outer, true);
    mdb_txn_abort(outer);
    stats_batch_pop(h_st, false);
    /* kept outer level: of its two inner reports only the kept one stays */
    cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &outer), 0);
    stats_batch_push(h_st);
    batched_report(outer, false);
    batched_report(outer, true);
    cr_assert_eq(mdb_txn_commit(outer), 0);
    stats_batch_pop(h_st, true);
    cr_assert_eq(stats_batch_flush(h_st, txn), 0);
    cr_assert_null(h_st->stats_batch);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    cr_assert_eq(counter(key), before + 1, "one report kept in a kept level; the rest dropped");
}
