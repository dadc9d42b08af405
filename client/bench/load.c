/* load.c: the phase driver (see bench.h). Runs on the main thread's loop;
 * the subscriber desks run on thread B. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static double tv_s(const struct timeval *t) { return (double)t->tv_sec + (double)t->tv_usec / 1e6; }

#define OPEN_AT_ONCE 100 /* desks connecting at the same time */

/* ---------------------------------------------------------------- helpers */

unsigned bench_rand(bench *b)
{
    /* xorshift: the load needs spread, not quality */
    unsigned x = b->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return b->rng = x ? x : 0x9e3779b9u;
}

int bench_dept_index(bench *b, const char *code)
{
    for (int i = 0; i < b->n_depts; i++)
        if (strcmp(b->depts[i].code, code) == 0)
            return i;
    return -1;
}

void bench_pick_targets(bench *b, int *out, int n)
{
    for (int i = 0; i < n; i++) {
        for (;;) {
            int d = b->targets[bench_rand(b) % (unsigned)b->n_targets];
            bool dup = false;
            for (int j = 0; j < i; j++)
                dup |= out[j] == d;
            if (!dup) {
                out[i] = d;
                break;
            }
        }
    }
}

static void conn_fill(bconn *lc);

void bench_pool_put(bench *b, int dept, uint64_t order)
{
    if (dept < 0 || dept >= b->n_depts)
        return;
    size_t n = b->pool_n[dept], h = b->pool_head[dept], cap = b->pool_cap[dept];
    if (h + n == cap) {
        if (h > 0) { /* slide what is left to the front */
            memmove(b->pool[dept], b->pool[dept] + h, n * sizeof(uint64_t));
            b->pool_head[dept] = h = 0;
        } else {
            size_t nc = cap ? cap * 2 : 256;
            uint64_t *p = realloc(b->pool[dept], nc * sizeof *p);
            if (!p)
                return;
            b->pool[dept] = p;
            b->pool_cap[dept] = cap = nc;
        }
    }
    b->pool[dept][h + n] = order;
    b->pool_n[dept]++;
    /* In a mix, check-in desks that ran out wait for the next whistle. */
    if (b->mixing && b->running)
        for (int i = 0; i < b->n_conns && b->pool_n[dept]; i++) {
            bconn *lc = &b->conns[i];
            if (lc->kind == OP_CHECKIN && lc->dept == dept && lc->starved) {
                lc->starved = false;
                conn_fill(lc);
            }
        }
}

static bool pool_take(bench *b, int dept, uint64_t *order)
{
    if (!b->pool_n[dept])
        return false;
    *order = b->pool[dept][b->pool_head[dept]++];
    b->pool_n[dept]--;
    return true;
}

#define TICKETS_MAX 65536

void bench_ticket_put(bench *b, const char *ticket)
{
    if (b->n_tickets < TICKETS_MAX) {
        if (b->n_tickets == b->cap_tickets) {
            size_t nc = b->cap_tickets ? b->cap_tickets * 2 : 1024;
            char **t = realloc(b->tickets, nc * sizeof *t);
            if (!t)
                return;
            b->tickets = t;
            b->cap_tickets = nc;
        }
        b->tickets[b->n_tickets++] = strdup(ticket);
        return;
    }
    /* a full reservoir: replace one at random, so reads spread over the run */
    size_t i = bench_rand(b) % TICKETS_MAX;
    free(b->tickets[i]);
    b->tickets[i] = strdup(ticket);
}

const char *bench_ticket_any(bench *b) { return b->n_tickets ? b->tickets[bench_rand(b) % b->n_tickets] : NULL; }

/* ---------------------------------------------------------------- waiting */

static void on_guard(uv_timer_t *t)
{
    bench *b = t->data;
    snprintf(b->err, sizeof b->err, "timed out");
    uv_stop(&b->loop);
}

void bench_wake(bench *b) { uv_stop(&b->loop); }

void bench_wait(bench *b, double timeout_s)
{
    uv_timer_t guard;
    uv_timer_init(&b->loop, &guard);
    guard.data = b;
    uv_timer_start(&guard, on_guard, (uint64_t)(timeout_s * 1000), 0);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    /* let the close callback run without blocking */
    uv_run(&b->loop, UV_RUN_NOWAIT);
}

/* ---------------------------------------------------------------- pushes */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % REG_BUCKETS;
}

void bench_whistle_sent(bench *b, const char *ticket, const int *depts, int n)
{
    wentry *e = calloc(1, sizeof *e);
    if (!e)
        return;
    snprintf(e->ticket, sizeof e->ticket, "%s", ticket);
    e->phase = b->recording ? b->res_of_kind[OP_WHISTLE] : -1; /* warm-up whistles are not counted */
    for (int i = 0; i < n; i++)
        e->expected += b->depts[depts[i]].desks;
    uint32_t h = hash_str(ticket);
    pthread_mutex_lock(&b->mu);
    e->sent_ns = now_ns();
    e->next = b->reg[h];
    b->reg[h] = e;
    if (e->phase >= 0)
        b->res[e->phase].pushes_expected += (uint64_t)e->expected;
    pthread_mutex_unlock(&b->mu);
}

void bench_whistle_answered(bench *b, const char *ticket)
{
    uint64_t t = now_ns();
    pthread_mutex_lock(&b->mu);
    for (wentry *e = b->reg[hash_str(ticket)]; e; e = e->next)
        if (strcmp(e->ticket, ticket) == 0) {
            e->resp_ns = t;
            break;
        }
    pthread_mutex_unlock(&b->mu);
}

void bench_push(desk *d, const char *ticket, int64_t at_ms)
{
    bench *b = d->b;
    uint64_t t = now_ns();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t now_us = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000;
    d->pushes++;
    pthread_mutex_lock(&b->mu);
    for (wentry *e = b->reg[hash_str(ticket)]; e; e = e->next) {
        if (strcmp(e->ticket, ticket) != 0)
            continue;
        if (e->phase < 0)
            break;
        phase_res *r = &b->res[e->phase];
        e->received++;
        r->pushes_received++;
        lat_add(&r->push_e2e, t - e->sent_ns);
        /* The daemon writes the whistle's answer before the pushes of the
         * same commit; a push that is seen first was read first by this
         * process (two threads, two sockets), so the commit was at most
         * 0 ns before it as far as we can tell. */
        if (e->resp_ns && e->resp_ns <= t)
            lat_add(&r->push_after, t - e->resp_ns);
        else {
            lat_add(&r->push_after, 0);
            r->push_before_answer++;
        }
        /* From the batch's start (ms, the same host's clock): an upper
         * bound of commit-to-receipt, the flush included. */
        if (at_ms > 0)
            lat_add(&r->push_from_at, now_us > at_ms * 1000 ? (uint64_t)(now_us - at_ms * 1000) * 1000 : 0);
        break;
    }
    pthread_mutex_unlock(&b->mu);
}

/* ---------------------------------------------------------------- desks (thread B) */

static void desk_open_next(bench *b)
{
    while (b->desks_next < b->n_desks && b->desks_next - (b->desks_ready + b->desks_failed) < OPEN_AT_ONCE) {
        desk *d = &b->desks[b->desks_next++];
        if (b->be->desk_open(b, d) != 0) {
            pthread_mutex_lock(&b->mu);
            b->desks_failed++;
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
        }
    }
}

void bench_desk_ready(desk *d, int ok, const char *err)
{
    bench *b = d->b;
    pthread_mutex_lock(&b->mu);
    if (ok) {
        d->ready = true;
        b->desks_ready++;
    } else {
        d->failed = true;
        b->desks_failed++;
        if (!b->err[0])
            snprintf(b->err, sizeof b->err, "subscriber %s: %s", b->depts[d->dept].code, err ? err : "failed");
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    desk_open_next(b);
}

static void on_sub_stop(uv_async_t *a)
{
    bench *b = a->data;
    for (int i = 0; i < b->n_desks; i++)
        if (b->desks[i].impl)
            b->be->desk_close(&b->desks[i]);
    uv_close((uv_handle_t *)a, NULL);
}

static void *sub_main(void *arg)
{
    bench *b = arg;
    desk_open_next(b);
    uv_run(&b->sub_loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---------------------------------------------------------------- load connections */

void bench_conn_ready(bconn *lc, int ok, const char *err)
{
    bench *b = lc->b;
    if (ok)
        lc->ready = true;
    else {
        lc->failed = true;
        if (!b->err[0])
            snprintf(b->err, sizeof b->err, "connection as %s: %s", lc->principal, err ? err : "failed");
    }
    if (--b->waiting == 0)
        bench_wake(b);
}

void bench_conn_closed(bconn *lc)
{
    bench *b = lc->b;
    lc->closed = true;
    if (--b->waiting == 0)
        bench_wake(b);
}

static bool phase_idle(bench *b)
{
    for (int i = 0; i < b->n_conns; i++)
        if (b->conns[i].in_flight)
            return false;
    return true;
}

static void check_end(bench *b)
{
    if (b->running) {
        /* every connection out of work (check-in orders ran out) */
        for (int i = 0; i < b->n_conns; i++)
            if (!b->conns[i].starved && !b->conns[i].failed)
                return;
        b->running = false;
        if (b->res_of_kind[OP_CHECKIN] >= 0)
            b->res[b->res_of_kind[OP_CHECKIN]].starved = true;
    }
    if (phase_idle(b))
        bench_wake(b);
}

void bench_op_done(bop *o, const char *err)
{
    bconn *lc = o->lc;
    bench *b = lc->b;
    phase_res *r = b->res_of_kind[o->kind] >= 0 ? &b->res[b->res_of_kind[o->kind]] : NULL;
    lc->in_flight--;
    if (b->recording && r) {
        if (!err) {
            uint64_t t = now_ns();
            lat_add(&r->lat, t - o->t0);
            r->ops++;
            r->calls += (uint64_t)op_calls[o->kind];
            if (t > b->phase_t1)
                b->phase_t1 = t;
            if (t > r->t1)
                r->t1 = t;
        } else {
            r->errors++;
            if (!r->first_error[0])
                snprintf(r->first_error, sizeof r->first_error, "%s", err);
        }
    }
    free(o);
    if (b->running)
        conn_fill(lc);
    if (!b->running || lc->starved || lc->failed)
        check_end(b);
}

static void conn_fill(bconn *lc)
{
    bench *b = lc->b;
    if (lc->filling) /* be->start may finish an operation at once */
        return;
    lc->filling = true;
    while (b->running && lc->ready && !lc->failed && !lc->starved && lc->in_flight < b->o->pipeline) {
        bop *o = calloc(1, sizeof *o);
        if (!o)
            break;
        o->lc = lc;
        o->kind = lc->kind;
        o->seq = ++b->seq;
        o->dept = lc->dept;
        if (o->kind == OP_CHECKIN && !pool_take(b, lc->dept, &o->order)) {
            free(o);
            lc->starved = true;
            break;
        }
        o->t0 = now_ns();
        lc->in_flight++;
        b->be->start(lc, o);
    }
    lc->filling = false;
}

static void on_phase_timer(uv_timer_t *t)
{
    bench *b = t->data;
    b->running = false;
    check_end(b);
}

/* Runs the open connections for secs; returns once every answer is in. */
static void run_for(bench *b, double secs)
{
    uv_timer_t timer;
    uv_timer_init(&b->loop, &timer);
    timer.data = b;
    b->running = true;
    uv_timer_start(&timer, on_phase_timer, (uint64_t)(secs * 1000), 0);
    for (int i = 0; i < b->n_conns; i++)
        conn_fill(&b->conns[i]);
    check_end(b);
    /* the answers still in flight get 30 s after the end */
    bench_wait(b, secs + 30);
    b->running = false;
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&b->loop, UV_RUN_NOWAIT);
}

/* Check-in connection i acts for a target department; every other
 * operation for the operator. */
static const char *principal_for(bench *b, int kind, int i, int *dept)
{
    *dept = -1;
    if (kind == OP_CHECKIN) {
        *dept = b->targets[i % b->n_targets];
        return b->depts[*dept].code;
    }
    return b->o->as_operator;
}

/* Opens the load connections, running kinds[] round robin; those that
 * would run omit (-1: none) are left out, the others are as without it. */
static int open_conns(bench *b, const int *kinds, int n_kinds, int omit)
{
    const bopts *o = b->o;
    b->n_conns = 0;
    b->conns = calloc((size_t)o->conns, sizeof *b->conns);
    if (!b->conns)
        return -1;
    for (int i = 0; i < o->conns; i++)
        if (kinds[i % n_kinds] != omit)
            b->conns[b->n_conns++].kind = kinds[i % n_kinds];
    b->waiting = b->n_conns;
    int checkins = 0;
    for (int i = 0; i < b->n_conns; i++) {
        bconn *lc = &b->conns[i];
        lc->b = b;
        lc->idx = i;
        int nth = lc->kind == OP_CHECKIN ? checkins++ : i;
        snprintf(lc->principal, sizeof lc->principal, "%s", principal_for(b, lc->kind, nth, &lc->dept));
        if (b->be->open(b, lc) != 0) {
            lc->failed = true;
            b->waiting--;
        }
    }
    if (b->waiting > 0)
        bench_wait(b, 60);
    for (int i = 0; i < b->n_conns; i++)
        if (!b->conns[i].ready)
            return -1;
    return 0;
}

static void close_conns(bench *b)
{
    b->waiting = 0;
    for (int i = 0; i < b->n_conns; i++)
        if (b->conns[i].impl && !b->conns[i].closed)
            b->waiting++;
    for (int i = 0; i < b->n_conns; i++)
        if (b->conns[i].impl && !b->conns[i].closed)
            b->be->close(&b->conns[i]);
    if (b->waiting > 0)
        bench_wait(b, 30);
    free(b->conns);
    b->conns = NULL;
    b->n_conns = 0;
}

/* ---------------------------------------------------------------- results */

static json_t *server_json(const srv_snap *a, const srv_snap *z, uint64_t ops)
{
    if (!a->ok || !z->ok)
        return json_null();
    json_t *j = json_object();
    double secs = (double)(z->at_ns - a->at_ns) / 1e9;
    if (a->cpu_us >= 0 && z->cpu_us >= 0 && ops)
        json_object_set_new(j, "cpu_us_per_op", json_real((double)(z->cpu_us - a->cpu_us) / (double)ops));
    if (a->cpu_us >= 0 && z->cpu_us >= 0 && secs > 0)
        json_object_set_new(j, "cpu_util", json_real((double)(z->cpu_us - a->cpu_us) / 1e6 / secs));
    if (z->rss >= 0)
        json_object_set_new(j, "rss_bytes", json_integer(z->rss));
    if (z->rss_anon >= 0)
        json_object_set_new(j, "rss_anon_bytes", json_integer(z->rss_anon));
    if (a->commits >= 0 && z->commits >= 0 && secs > 0) {
        int64_t commits = z->commits - a->commits;
        json_object_set_new(j, "commits_per_s", json_real((double)commits / secs));
        json_object_set_new(j, "fsyncs_per_s", json_real((double)(z->fsyncs - a->fsyncs) / secs));
        if (commits > 0) {
            json_object_set_new(j, "writes_per_commit", json_real((double)(z->writes - a->writes) / (double)commits));
            json_object_set_new(j, "intents_per_commit",
                                json_real((double)(z->intents - a->intents) / (double)commits));
            json_object_set_new(j, "commit_ms_avg",
                                json_real((double)(z->commit_us - a->commit_us) / 1e3 / (double)commits));
        }
        json_object_set_new(j, "max_batch", json_integer(z->max_batch));
    }
    /* what the server wrote per operation: to write() (the page cache),
     * to the disk, and Redis's append-only file's growth */
    if (a->wchar >= 0 && z->wchar >= 0 && ops)
        json_object_set_new(j, "wchar_per_op", json_real((double)(z->wchar - a->wchar) / (double)ops));
    if (a->write_bytes >= 0 && z->write_bytes >= 0 && ops)
        json_object_set_new(j, "write_bytes_per_op",
                            json_real((double)(z->write_bytes - a->write_bytes) / (double)ops));
    if (a->dev_bytes >= 0 && z->dev_bytes >= 0 && ops)
        json_object_set_new(j, "device_bytes_per_op", json_real((double)(z->dev_bytes - a->dev_bytes) / (double)ops));
    if (a->aof_bytes >= 0 && z->aof_bytes >= 0 && ops)
        json_object_set_new(j, "aof_bytes_per_op", json_real((double)(z->aof_bytes - a->aof_bytes) / (double)ops));
    if (a->run_delay_us >= 0 && z->run_delay_us >= 0 && secs > 0)
        /* on average this many of its threads were ready to run but had no CPU */
        json_object_set_new(j, "waiting_for_cpu", json_real((double)(z->run_delay_us - a->run_delay_us) / 1e6 / secs));
    if (z->sync[0])
        json_object_set_new(j, "sync", json_string(z->sync));
    if (z->connections >= 0)
        json_object_set_new(j, "connections", json_integer(z->connections));
    return j;
}

static json_t *phase_json(bench *b, phase_res *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "op", json_string(op_names[r->kind]));
    json_object_set_new(j, "calls_per_op", json_integer(op_calls[r->kind]));
    json_object_set_new(j, "ops", json_integer((json_int_t)r->ops));
    json_object_set_new(j, "errors", json_integer((json_int_t)r->errors));
    if (r->first_error[0])
        json_object_set_new(j, "first_error", json_string(r->first_error));
    json_object_set_new(j, "seconds", json_real(r->seconds));
    json_object_set_new(j, "ops_per_s", json_real(r->seconds > 0 ? (double)r->ops / r->seconds : 0));
    json_object_set_new(j, "calls_per_s", json_real(r->seconds > 0 ? (double)r->calls / r->seconds : 0));
    json_object_set_new(j, "latency_us", lat_json(&r->lat));
    if (r->starved)
        json_object_set_new(j, "ran_out_of_orders", json_true());
    if (r->kind == OP_WHISTLE && b->n_desks > 0) {
        json_t *p = json_object();
        json_object_set_new(p, "expected", json_integer((json_int_t)r->pushes_expected));
        json_object_set_new(p, "received", json_integer((json_int_t)r->pushes_received));
        json_object_set_new(p, "seen_before_answer", json_integer((json_int_t)r->push_before_answer));
        json_object_set_new(p, "from_send_us", lat_json(&r->push_e2e));
        json_object_set_new(p, "after_commit_us", lat_json(&r->push_after));
        if (r->push_from_at.n)
            json_object_set_new(p, "from_batch_start_us", lat_json(&r->push_from_at));
        json_object_set_new(j, "push", p);
    }
    json_object_set_new(j, "server", server_json(&r->before, &r->after, r->cpu_ops));
    if (r->round) {
        json_object_set_new(j, "round", json_integer(r->round));
        json_object_set_new(j, "without_photos", json_boolean(r->alone));
    }
    if (!isnan(r->load1))
        json_object_set_new(j, "load1", json_real(r->load1));
    if (!isnan(r->client_cpu))
        json_object_set_new(j, "client_cpu_util", json_real(r->client_cpu));
    return j;
}

/* ---------------------------------------------------------------- the run */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorted in place); NAN when n is 0. */
static double median_of(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static phase_res *round_res(bench *b, int round, bool alone, int kind)
{
    for (int i = 0; i < b->n_res; i++)
        if (b->res[i].round == round && b->res[i].alone == alone && b->res[i].kind == kind)
            return &b->res[i];
    return NULL;
}

/* --rounds: each operation but photo, its rate beside photo uploads
 * against its rate without them in the same round; the medians of the
 * rounds (the machine's load drifts between rounds, not within one). */
static json_t *beside_photos_json(bench *b)
{
    const bopts *o = b->o;
    json_t *all = json_array();
    for (int k = 0; k < o->n_ops; k++) {
        int kind = o->ops[k];
        if (kind == OP_PHOTO)
            continue;
        double ratio[BENCH_MAX_ROUNDS], a_ops[BENCH_MAX_ROUNDS], w_ops[BENCH_MAX_ROUNDS], a50[BENCH_MAX_ROUNDS],
            w50[BENCH_MAX_ROUNDS], a99[BENCH_MAX_ROUNDS], w99[BENCH_MAX_ROUNDS], photos[BENCH_MAX_ROUNDS];
        int n = 0;
        json_t *ratios = json_array();
        for (int r = 1; r <= o->rounds; r++) {
            /* the phase with photos against the mean of the phases
             * without them just before and just after: a load that
             * drifts steadily over the round weighs on both alike */
            phase_res *a = round_res(b, r, true, kind), *z = round_res(b, r + 1, true, kind),
                      *w = round_res(b, r, false, kind), *ph = round_res(b, r, false, OP_PHOTO);
            if (!a || !z || !w || !ph || a->seconds <= 0 || z->seconds <= 0 || w->seconds <= 0 || !a->ops || !z->ops)
                continue;
            a_ops[n] = ((double)a->ops / a->seconds + (double)z->ops / z->seconds) / 2;
            w_ops[n] = (double)w->ops / w->seconds;
            ratio[n] = w_ops[n] / a_ops[n];
            a50[n] = ((double)lat_pct(&a->lat, 0.50) + (double)lat_pct(&z->lat, 0.50)) / 2;
            w50[n] = (double)lat_pct(&w->lat, 0.50);
            a99[n] = ((double)lat_pct(&a->lat, 0.99) + (double)lat_pct(&z->lat, 0.99)) / 2;
            w99[n] = (double)lat_pct(&w->lat, 0.99);
            photos[n] = ph->seconds > 0 ? (double)ph->ops / ph->seconds : 0;
            json_array_append_new(ratios, json_real(ratio[n]));
            n++;
        }
        json_t *j = json_object();
        json_object_set_new(j, "op", json_string(op_names[kind]));
        json_object_set_new(j, "rounds", json_integer(n));
        json_object_set_new(j, "ratios", ratios);
        if (n) {
            double lo = ratio[0], hi = ratio[0];
            for (int i = 1; i < n; i++) {
                lo = ratio[i] < lo ? ratio[i] : lo;
                hi = ratio[i] > hi ? ratio[i] : hi;
            }
            json_object_set_new(j, "ratio_median", json_real(median_of(ratio, n)));
            json_object_set_new(j, "ratio_min", json_real(lo));
            json_object_set_new(j, "ratio_max", json_real(hi));
            json_object_set_new(j, "without_ops_per_s_median", json_real(median_of(a_ops, n)));
            json_object_set_new(j, "with_ops_per_s_median", json_real(median_of(w_ops, n)));
            json_object_set_new(j, "without_p50_us_median", json_real(median_of(a50, n) / 1e3));
            json_object_set_new(j, "with_p50_us_median", json_real(median_of(w50, n) / 1e3));
            json_object_set_new(j, "without_p99_us_median", json_real(median_of(a99, n) / 1e3));
            json_object_set_new(j, "with_p99_us_median", json_real(median_of(w99, n) / 1e3));
            json_object_set_new(j, "photos_per_s_median", json_real(median_of(photos, n)));
        }
        json_array_append_new(all, j);
    }
    return all;
}

static void wait_pushes(bench *b, phase_res *r)
{
    /* pushes of the last whistles may still be on their way: up to 5 s */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&b->mu);
        bool done = r->pushes_received >= r->pushes_expected;
        pthread_mutex_unlock(&b->mu);
        if (done)
            return;
        usleep(10000);
    }
}

int bench_run(const bopts *o, json_t **out, char *err, size_t errlen)
{
    bench *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    b->o = o;
    b->rng = o->seed ? o->seed : (unsigned)time(NULL) | 1u;
    b->be = strcmp(o->target, "redis") == 0 ? &redis_backend : &whistle_backend;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    uv_loop_init(&b->loop);

    if (b->be->setup(b, err, errlen) != 0)
        goto out;

    /* Departments a whistle goes to: those with desks when there are
     * subscribers, else as many as there are load connections (so that
     * the check-in phase has one connection per department). */
    int staffed = 0;
    for (int i = 0; i < b->n_depts; i++)
        staffed += b->depts[i].staffed;
    b->targets = calloc((size_t)(staffed ? staffed : 1), sizeof *b->targets);
    int want = o->targets > 0 ? o->targets : o->subscribers > 0 ? o->subscribers : o->conns;
    if (want < o->whistle_depts)
        want = o->whistle_depts;
    for (int i = 0; i < b->n_depts && b->n_targets < want; i++)
        if (b->depts[i].staffed)
            b->targets[b->n_targets++] = i;
    bool whistles = false;
    for (int i = 0; i < o->n_ops; i++)
        whistles |= o->ops[i] == OP_WHISTLE;
    if (b->n_targets < (whistles ? o->whistle_depts : 1)) {
        snprintf(err, errlen,
                 "%d department(s) with a certificate in %s; a whistle to %d needs at least that many "
                 "(lower --whistle-depts or make more certificates)",
                 b->n_targets, o->pki, o->whistle_depts);
        goto out;
    }
    size_t nd = (size_t)b->n_depts;
    b->pool = calloc(nd, sizeof *b->pool);
    b->pool_head = calloc(nd, sizeof(size_t));
    b->pool_n = calloc(nd, sizeof(size_t));
    b->pool_cap = calloc(nd, sizeof(size_t));

    /* Desks: one per target department, round robin past that. */
    if (o->subscribers > 0) {
        b->n_desks = o->subscribers;
        b->desks = calloc((size_t)b->n_desks, sizeof *b->desks);
        for (int i = 0; i < b->n_desks; i++) {
            b->desks[i].b = b;
            b->desks[i].idx = i;
            b->desks[i].dept = b->targets[i % b->n_targets];
            b->depts[b->desks[i].dept].desks++;
        }
        uv_loop_init(&b->sub_loop);
        uv_async_init(&b->sub_loop, &b->sub_stop, on_sub_stop);
        b->sub_stop.data = b;
        if (pthread_create(&b->sub_thread, NULL, sub_main, b) != 0) {
            snprintf(err, errlen, "cannot start the subscriber thread");
            goto out;
        }
        b->sub_started = true;
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 120;
        pthread_mutex_lock(&b->mu);
        while (b->desks_ready + b->desks_failed < b->n_desks)
            if (pthread_cond_timedwait(&b->cv, &b->mu, &dl) != 0)
                break;
        bool ok = b->desks_ready == b->n_desks;
        pthread_mutex_unlock(&b->mu);
        if (!ok) {
            snprintf(err, errlen, "%d of %d subscribers ready: %s", b->desks_ready, b->n_desks,
                     b->err[0] ? b->err : "timed out");
            goto out;
        }
    }

    /* One phase per operation; with --mix one phase running them all;
     * with --rounds, the mix without its photo connections (the others
     * exactly as in the mix), then the whole mix, N times, and once more
     * without: each phase with photos lies between two without, and all
     * three see the machine's load of the same minute. */
    int n_phases = o->rounds ? 2 * o->rounds + 1 : o->mix ? 1 : o->n_ops;
    for (int p = 0; p < n_phases; p++) {
        const int *deal = o->mix ? o->ops : &o->ops[p]; /* how the connections are dealt out */
        int n_deal = o->mix ? o->n_ops : 1;
        int omit = o->rounds && p % 2 == 0 ? OP_PHOTO : -1;
        int kinds[OP_KINDS], n_kinds = 0; /* the operations that run */
        for (int k = 0; k < n_deal; k++)
            if (deal[k] != omit)
                kinds[n_kinds++] = deal[k];
        for (int k = 0; k < OP_KINDS; k++)
            b->res_of_kind[k] = -1;
        for (int k = 0; k < n_kinds; k++) {
            b->res_of_kind[kinds[k]] = b->n_res;
            phase_res *r = &b->res[b->n_res++];
            r->kind = kinds[k];
            r->round = o->rounds ? p / 2 + 1 : 0;
            r->alone = omit >= 0;
        }
        b->mixing = o->mix;
        char what[128] = "";
        for (int k = 0; k < n_kinds; k++)
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", k ? "+" : "", op_names[kinds[k]]);
        if (open_conns(b, deal, n_deal, omit) != 0) {
            snprintf(err, errlen, "%s", b->err[0] ? b->err : "cannot open the load connections");
            close_conns(b);
            goto out;
        }
        if (!o->json) {
            if (o->rounds)
                fprintf(stderr, "whistle-bench: %s: round %d of %d, %s: %s, %d connections x %d in flight, %.1f s\n",
                        b->be->name, p / 2 + 1 > o->rounds ? o->rounds : p / 2 + 1, o->rounds,
                        p == n_phases - 1 ? "closing, without photos"
                        : omit >= 0       ? "without photos"
                                          : "with photos",
                        what, b->n_conns, o->pipeline, o->duration);
            else
                fprintf(stderr, "whistle-bench: %s: %s, %d connections x %d in flight, %.1f s\n", b->be->name, what,
                        b->n_conns, o->pipeline, o->duration);
        }
        bool reads = false;
        for (int k = 0; k < n_kinds; k++)
            reads |= kinds[k] == OP_READ;
        if (reads && b->n_tickets == 0) {
            /* Reads are of known cases: the readers report some first,
             * unmeasured. */
            b->recording = false;
            for (int i = 0; i < b->n_conns; i++)
                if (b->conns[i].kind == OP_READ)
                    b->conns[i].kind = OP_REPORT, b->conns[i].was_read = true;
            run_for(b, 0.5);
            for (int i = 0; i < b->n_conns; i++)
                if (b->conns[i].was_read)
                    b->conns[i].kind = OP_READ;
        }
        if (o->warmup > 0) {
            b->recording = false;
            run_for(b, o->warmup);
            for (int i = 0; i < b->n_conns; i++)
                if (b->conns[i].starved)
                    b->conns[i].starved = false; /* try again in the measured part */
        }
        srv_snap before, after;
        double load[3] = { NAN, NAN, NAN };
        getloadavg(load, 3);
        b->be->stats(b, &before);
        struct rusage ru0, ru1;
        getrusage(RUSAGE_SELF, &ru0);
        uint64_t t0 = now_ns();
        b->recording = true;
        b->phase_t0 = t0;
        b->phase_t1 = b->phase_t0;
        run_for(b, o->duration);
        getrusage(RUSAGE_SELF, &ru1);
        uint64_t t1 = now_ns();
        /* Operations still waiting 30 s after the end got no answer: a
         * server that stalls must not look like one that was merely slow. */
        for (int i = 0; i < b->n_conns; i++) {
            bconn *lc = &b->conns[i];
            if (lc->in_flight > 0 && b->res_of_kind[lc->kind] >= 0) {
                phase_res *r = &b->res[b->res_of_kind[lc->kind]];
                r->errors += (uint64_t)lc->in_flight;
                if (!r->first_error[0])
                    snprintf(r->first_error, sizeof r->first_error,
                             "%s: no answer within 30 s after the end of the run", op_names[lc->kind]);
            }
        }
        b->recording = false;
        bool pushes = false;
        for (int k = 0; k < n_kinds; k++)
            pushes |= kinds[k] == OP_WHISTLE;
        if (pushes && b->n_desks > 0)
            wait_pushes(b, &b->res[b->res_of_kind[OP_WHISTLE]]);
        b->be->stats(b, &after);
        close_conns(b);
        b->mixing = false;
        uint64_t all_ops = 0;
        for (int k = 0; k < n_kinds; k++)
            all_ops += b->res[b->res_of_kind[kinds[k]]].ops;
        double cpu_s = tv_s(&ru1.ru_utime) + tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_utime) - tv_s(&ru0.ru_stime);
        for (int k = 0; k < n_kinds; k++) {
            phase_res *r = &b->res[b->res_of_kind[kinds[k]]];
            r->cpu_ops = all_ops; /* a mix's CPU time is shared by all its operations */
            /* each operation over its own time: in a mix, photos still
             * being stored seconds after the end must not stretch the
             * time of the reports, long answered */
            r->seconds = (double)((r->t1 ? r->t1 : b->phase_t1) - b->phase_t0) / 1e9;
            r->before = before;
            r->after = after;
            r->load1 = load[0];
            r->client_cpu = t1 > t0 ? cpu_s / ((double)(t1 - t0) / 1e9) : NAN;
            if (!o->json)
                fprintf(stderr, "whistle-bench: %s: %llu ops, %llu errors%s%s\n", op_names[kinds[k]],
                        (unsigned long long)r->ops, (unsigned long long)r->errors, r->first_error[0] ? ": " : "",
                        r->first_error);
        }
    }

    json_t *run = json_object();
    json_object_set_new(run, "mode", json_string("load"));
    json_object_set_new(run, "target", json_string(b->be->name));
    if (o->label)
        json_object_set_new(run, "label", json_string(o->label));
    json_object_set_new(run, "host", json_string(o->host));
    json_object_set_new(run, "port", json_integer(o->port));
    json_object_set_new(run, "connections", json_integer(o->conns));
    json_object_set_new(run, "pipeline", json_integer(o->pipeline));
    json_object_set_new(run, "mix", json_boolean(o->mix));
    if (o->rounds) {
        json_object_set_new(run, "rounds", json_integer(o->rounds));
        json_object_set_new(run, "beside_photos", beside_photos_json(b));
    }
    int photo_conns = 0;
    for (int i = 0; i < o->conns; i++)
        photo_conns += (o->mix ? o->ops[i % o->n_ops] : OP_KINDS) == OP_PHOTO;
    for (int k = 0; k < o->n_ops; k++)
        if (o->ops[k] == OP_PHOTO) {
            json_object_set_new(run, "photo_bytes", json_integer((json_int_t)o->photo_bytes));
            if (o->mix)
                json_object_set_new(run, "photo_connections", json_integer(photo_conns));
        }
    json_object_set_new(run, "subscribers", json_integer(b->n_desks));
    json_object_set_new(run, "target_departments", json_integer(b->n_targets));
    json_object_set_new(run, "whistle_departments", json_integer(o->whistle_depts));
    json_object_set_new(run, "duration_s", json_real(o->duration));
    json_object_set_new(run, "machine", machine_json());
    json_t *ops = json_array();
    for (int i = 0; i < b->n_res; i++)
        json_array_append_new(ops, phase_json(b, &b->res[i]));
    json_object_set_new(run, "ops", ops);
    *out = run;
    rc = 0;

out:
    if (b->conns)
        close_conns(b);
    if (b->sub_started) {
        uv_async_send(&b->sub_stop);
        pthread_join(b->sub_thread, NULL);
        uv_loop_close(&b->sub_loop);
    }
    if (b->be->teardown)
        b->be->teardown(b);
    uv_run(&b->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&b->loop) != 0) {
        uv_run(&b->loop, UV_RUN_DEFAULT);
        uv_loop_close(&b->loop);
    }
    for (int i = 0; i < REG_BUCKETS; i++)
        while (b->reg[i]) {
            wentry *e = b->reg[i];
            b->reg[i] = e->next;
            free(e);
        }
    for (int i = 0; i < b->n_res; i++) {
        lat_free(&b->res[i].lat);
        lat_free(&b->res[i].push_e2e);
        lat_free(&b->res[i].push_after);
        lat_free(&b->res[i].push_from_at);
    }
    for (size_t i = 0; i < b->n_tickets; i++)
        free(b->tickets[i]);
    free(b->tickets);
    for (int i = 0; b->pool && i < b->n_depts; i++)
        free(b->pool[i]);
    free(b->pool);
    free(b->pool_head);
    free(b->pool_n);
    free(b->pool_cap);
    free(b->targets);
    free(b->depts);
    free(b->desks);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
    return rc;
}
