/* redis.c: the same operations against Redis, over TLS with the same
 * certificates, for the side-by-side run (scripts/bench-vs-redis.sh).
 *
 * The nearest equivalent of each operation, each write step atomic in a
 * MULTI/EXEC as whistled's is in its transaction:
 *   report   MULTI, XADD to the street's stream, HSET the case record,
 *            ZADD the case into its state's index, EXEC
 *   whistle  report; then file (HSET, ZREM + ZADD state index, XADD);
 *            then per department an order record (HSET), an XADD to the
 *            department's stream and a PUBLISH to its channel, and the
 *            case's new state (HSET, ZREM + ZADD, XADD)
 *   checkin  check-in then feedback, each: HSET the order, XADD to the
 *            department's stream and to the street's
 *   read     HGETALL of a known case
 *   xadd     one plain XADD: the reference of the durable-report target
 * Subscriber desks SUBSCRIBE to their department's channel. With
 * appendfsync always, Redis writes replies and published messages only
 * after the fsync of the event loop iteration that made them, so both
 * servers deliver only what is durable. Keys live under wb:<run>: so runs
 * do not collide; the script gives Redis a scratch directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

typedef struct sbuf {
    char *p;
    size_t n, cap, off;
} sbuf;

static int sb_add(sbuf *s, const void *d, size_t n)
{
    if (s->n + n > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->n + n)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p)
            return -1;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->n, d, n);
    s->n += n;
    return 0;
}

/* Appends one command as a RESP array of bulk strings. argv ends with NULL. */
static void cmd(sbuf *s, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char h[32];
    int hn = snprintf(h, sizeof h, "*%d\r\n", argc);
    sb_add(s, h, (size_t)hn);
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        hn = snprintf(h, sizeof h, "$%zu\r\n", l);
        sb_add(s, h, (size_t)hn);
        sb_add(s, argv[i], l);
        sb_add(s, "\r\n", 2);
    }
}
#define CMD(s, ...) cmd((s), (const char *const[]){ __VA_ARGS__, NULL })

/* What the parser saw of one reply. */
typedef struct rinfo {
    bool err;
    char msg[200];
    int nel; /* bulk strings at depth 1 (pub/sub: kind, channel, payload) */
    const char *el[3];
    size_t ellen[3];
    const char *bulk; /* a top-level bulk string (INFO) */
    size_t bulklen;
} rinfo;

/* Bytes of one complete reply at p, 0 when incomplete, -1 on garbage. */
static long parse(const char *p, size_t len, int depth, rinfo *ri)
{
    if (len < 3)
        return 0;
    const char *eol = memchr(p, '\n', len);
    if (!eol)
        return 0;
    size_t line = (size_t)(eol - p) + 1;
    switch (p[0]) {
    case '+':
    case ':': return (long)line;
    case '-':
        if (!ri->err) {
            ri->err = true;
            snprintf(ri->msg, sizeof ri->msg, "%.*s", (int)(line - 3), p + 1);
        }
        return (long)line;
    case '$': {
        long n = strtol(p + 1, NULL, 10);
        if (n < 0)
            return (long)line;
        size_t need = line + (size_t)n + 2;
        if (len < need)
            return 0;
        if (depth == 1 && ri->nel < 3) {
            ri->el[ri->nel] = p + line;
            ri->ellen[ri->nel++] = (size_t)n;
        } else if (depth == 0) {
            ri->bulk = p + line;
            ri->bulklen = (size_t)n;
        }
        return (long)need;
    }
    case '*': {
        long n = strtol(p + 1, NULL, 10);
        size_t off = line;
        for (long i = 0; i < n; i++) {
            long r = parse(p + off, len - off, depth + 1, ri);
            if (r <= 0)
                return r;
            off += (size_t)r;
        }
        return (long)off;
    }
    default: return -1;
    }
}

/* A command group waiting for its replies (they come in order). */
typedef struct pend {
    bop *o; /* NULL: a stats or subscribe request */
    int left;
    bool err;
    char msg[200];
    struct pend *next;
} pend;

typedef struct rconn {
    rtls t;
    bench *b;
    bconn *lc; /* load connection, or */
    desk *d;   /* a desk, or neither: the stats connection */
    sbuf in;
    pend *head, *tail;
    bool closing;
    /* stats */
    bool got_info;
    char *info;
} rconn;

typedef struct rb {
    SSL_CTX *ctx;
    struct sockaddr_storage addr;
    rconn *stats;
    bool stats_ready;
    char run[16];
} rb;

static void pend_push(rconn *r, bop *o, int left)
{
    pend *p = calloc(1, sizeof *p);
    p->o = o;
    p->left = left;
    if (r->tail)
        r->tail->next = p;
    else
        r->head = p;
    r->tail = p;
}

static void step(bop *o);

static void on_group_done(rconn *r, pend *p)
{
    bop *o = p->o;
    if (!o)
        return;
    bench *b = r->b;
    if (p->err) {
        char e[260];
        snprintf(e, sizeof e, "%s: %s", op_names[o->kind], p->msg);
        bench_op_done(o, e);
        return;
    }
    bool done = true;
    if (o->kind == OP_WHISTLE) {
        if (o->step == 2) {
            bench_whistle_answered(b, o->ticket);
            /* order ids were put in the pool when the step was sent: they
             * are numbered by the bench, not by Redis */
        } else
            done = false;
    } else if (o->kind == OP_CHECKIN)
        done = o->step == 1;
    if (done) {
        bench_op_done(o, NULL);
        return;
    }
    o->step++;
    step(o);
}

static void on_reply(rconn *r, rinfo *ri)
{
    if (r->d) {
        /* pub/sub: ["subscribe", channel, n] first, then ["message", channel, payload] */
        if (ri->nel == 3 && ri->ellen[0] == 7 && memcmp(ri->el[0], "message", 7) == 0) {
            char t[48];
            snprintf(t, sizeof t, "%.*s", (int)ri->ellen[2], ri->el[2]);
            bench_push(r->d, t, 0);
        } else if (!r->d->ready) {
            bench_desk_ready(r->d, !ri->err, ri->err ? ri->msg : NULL);
        }
        return;
    }
    pend *p = r->head;
    if (!p)
        return;
    if (ri->err && !p->err) {
        p->err = true;
        snprintf(p->msg, sizeof p->msg, "%s", ri->msg);
    }
    if (!r->lc && ri->bulk) { /* the stats connection: INFO */
        free(r->info);
        r->info = strndup(ri->bulk, ri->bulklen);
        r->got_info = true;
        bench_wake(r->b);
    }
    if (--p->left > 0)
        return;
    r->head = p->next;
    if (!r->head)
        r->tail = NULL;
    on_group_done(r, p);
    free(p);
}

static void on_data(rtls *t, const char *data, size_t len)
{
    rconn *r = t->ud;
    sb_add(&r->in, data, len);
    for (;;) {
        rinfo ri = { 0 };
        long n = parse(r->in.p + r->in.off, r->in.n - r->in.off, 0, &ri);
        if (n == 0)
            break;
        if (n < 0) {
            rtls_close(t);
            return;
        }
        r->in.off += (size_t)n;
        on_reply(r, &ri);
    }
    if (r->in.off == r->in.n)
        r->in.n = r->in.off = 0;
    else if (r->in.off > 65536) {
        memmove(r->in.p, r->in.p + r->in.off, r->in.n - r->in.off);
        r->in.n -= r->in.off;
        r->in.off = 0;
    }
}

static void fail_pending(rconn *r, const char *why)
{
    while (r->head) {
        pend *p = r->head;
        r->head = p->next;
        if (p->o)
            bench_op_done(p->o, why);
        free(p);
    }
    r->tail = NULL;
}

static void on_close(rtls *t)
{
    rconn *r = t->ud;
    fail_pending(r, t->err[0] ? t->err : "connection closed");
    if (r->lc) {
        r->lc->impl = NULL;
        if (r->closing)
            bench_conn_closed(r->lc);
        else
            r->lc->failed = true;
    } else if (r->d) {
        if (!r->d->ready && !r->d->failed)
            bench_desk_ready(r->d, 0, t->err);
        r->d->impl = NULL;
    }
    free(r->in.p);
    free(r->info);
    free(r);
}

static rconn *rconn_new(bench *b)
{
    rconn *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->b = b;
    r->t.ud = r;
    r->t.on_data = on_data;
    r->t.on_close = on_close;
    return r;
}

/* ---------------------------------------------------------------- setup */

static void on_stats_ready(rtls *t, int status, const char *err)
{
    rconn *r = t->ud;
    rb *R = r->b->impl;
    R->stats_ready = status == 0;
    if (status != 0)
        snprintf(r->b->err, sizeof r->b->err, "redis: %s", err ? err : "connect failed");
    bench_wake(r->b);
}

static int r_setup(bench *b, char *err, size_t errlen)
{
    const bopts *o = b->o;
    rb *R = calloc(1, sizeof *R);
    b->impl = R;
    snprintf(R->run, sizeof R->run, "%08x", (unsigned)time(NULL) ^ bench_rand(b));
    char cert[1024], key[1024], ca[1024];
    pki_paths(o, o->redis_auth_cert, cert, sizeof cert, key, sizeof key, ca, sizeof ca);
    R->ctx = rtls_ctx(ca, cert, key, err, errlen);
    if (!R->ctx)
        return -1;
    if (resolve_addr(o->host, o->port, &R->addr, err, errlen) != 0)
        return -1;
    R->stats = rconn_new(b);
    R->stats->t.on_ready = on_stats_ready;
    rtls_open(&R->stats->t, &b->loop, R->ctx, (struct sockaddr *)&R->addr, NULL);
    bench_wait(b, 30);
    if (!R->stats_ready) {
        snprintf(err, errlen, "redis at %s:%d: %s", o->host, o->port, b->err[0] ? b->err : "no answer");
        return -1;
    }
    /* Departments: numbered, as many as the run needs; all can subscribe. */
    int n = o->subscribers;
    if (o->targets > n)
        n = o->targets;
    if (o->conns > n)
        n = o->conns;
    if (o->whistle_depts > n)
        n = o->whistle_depts;
    b->depts = calloc((size_t)n, sizeof *b->depts);
    for (int i = 0; i < n; i++) {
        snprintf(b->depts[i].code, sizeof b->depts[i].code, "d%04d", i + 1);
        b->depts[i].staffed = true;
    }
    b->n_depts = n;
    snprintf(b->node, sizeof b->node, "110105001001001");
    snprintf(b->category, sizeof b->category, "0401");
    return 0;
}

static void r_teardown(bench *b)
{
    rb *R = b->impl;
    if (!R)
        return;
    if (R->stats)
        rtls_close(&R->stats->t);
    uv_run(&b->loop, UV_RUN_NOWAIT);
    /* the close callback frees the connection */
    uv_run(&b->loop, UV_RUN_DEFAULT);
    SSL_CTX_free(R->ctx);
    free(R);
    b->impl = NULL;
}

static int64_t info_field(const char *info, const char *name, double scale)
{
    const char *p = info;
    size_t nl = strlen(name);
    while (p && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':')
            return (int64_t)(strtod(p + nl + 1, NULL) * scale);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

static void r_stats(bench *b, srv_snap *s)
{
    rb *R = b->impl;
    memset(s, 0, sizeof *s);
    s->cpu_us = s->rss = s->rss_anon = s->commits = s->fsyncs = s->writes = s->intents = s->batches = s->commit_us =
        s->max_batch = s->connections = s->subscriptions = -1;
    rconn *r = R->stats;
    r->got_info = false;
    sbuf c = { 0 };
    CMD(&c, "INFO");
    pend_push(r, NULL, 1);
    if (rtls_write(&r->t, c.p, c.n) == 0)
        bench_wait(b, 10);
    free(c.p);
    if (r->got_info && r->info) {
        s->ok = true;
        int64_t su = info_field(r->info, "used_cpu_sys", 1e6), uu = info_field(r->info, "used_cpu_user", 1e6);
        s->cpu_us = su >= 0 && uu >= 0 ? su + uu : -1;
        s->rss = info_field(r->info, "used_memory_rss", 1);
        s->connections = info_field(r->info, "connected_clients", 1);
        s->aof_bytes = info_field(r->info, "aof_current_size", 1);
        snprintf(s->sync, sizeof s->sync, "always");
    } else {
        s->aof_bytes = -1;
    }
    if (b->o->daemon_pid) {
        srv_snap p = *s;
        if (proc_snap(b->o->daemon_pid, &p) == 0) {
            s->ok = true;
            s->cpu_us = p.cpu_us;
            s->rss = p.rss;
            s->rss_anon = p.rss_anon;
        }
    }
    if (b->o->daemon_pid)
        proc_io(b->o->daemon_pid, s);
    else
        s->wchar = s->write_bytes = s->dev_bytes = -1;
    s->run_delay_us = b->o->daemon_pid ? proc_run_delay(b->o->daemon_pid) : -1;
    s->at_ns = now_ns();
}

/* ---------------------------------------------------------------- load */

static void on_conn_ready(rtls *t, int status, const char *err)
{
    rconn *r = t->ud;
    bench_conn_ready(r->lc, status == 0, err);
}

static int r_open(bench *b, bconn *lc)
{
    rb *R = b->impl;
    rconn *r = rconn_new(b);
    if (!r)
        return -1;
    r->lc = lc;
    lc->impl = r;
    r->t.on_ready = on_conn_ready;
    return rtls_open(&r->t, &b->loop, R->ctx, (struct sockaddr *)&R->addr, NULL);
}

static void r_close(bconn *lc)
{
    rconn *r = lc->impl;
    r->closing = true;
    rtls_close(&r->t);
}

static void step(bop *o)
{
    bconn *lc = o->lc;
    bench *b = lc->b;
    rconn *r = lc->impl;
    rb *R = b->impl;
    sbuf c = { 0 };
    char k1[96], k2[96], k3[96], ms[32], id[32];
    int replies = 0;
    snprintf(ms, sizeof ms, "%lld", (long long)time(NULL) * 1000);
    if (!o->ticket[0])
        snprintf(o->ticket, sizeof o->ticket, "R%s-%llu", R->run, (unsigned long long)o->seq);
    const char *T = o->ticket;
    char street[80];
    snprintf(street, sizeof street, "wb:%s:street", R->run);
    switch (o->kind * 4 + o->step) {
    case OP_REPORT * 4:
    case OP_WHISTLE * 4: {
        char text[200];
        snprintf(text, sizeof text,
                 "bench %llu: rubbish piled at the gate of building 3 for two days, smells; reported by "
                 "whistle-bench",
                 (unsigned long long)o->seq);
        snprintf(k1, sizeof k1, "wb:%s:case:%s", R->run, T);
        snprintf(k2, sizeof k2, "wb:%s:state:reported", R->run);
        CMD(&c, "MULTI");
        CMD(&c, "XADD", street, "*", "ticket", T, "action", "report", "node", b->node, "category", b->category);
        CMD(&c, "HSET", k1, "ticket", T, "node", b->node, "category", b->category, "description", text, "state",
            "reported", "reporter", "operator", "created", ms);
        CMD(&c, "ZADD", k2, ms, T);
        CMD(&c, "EXEC");
        replies = 5;
        bench_ticket_put(b, T);
        break;
    }
    case OP_WHISTLE * 4 + 1:
        snprintf(k1, sizeof k1, "wb:%s:case:%s", R->run, T);
        snprintf(k2, sizeof k2, "wb:%s:state:reported", R->run);
        snprintf(k3, sizeof k3, "wb:%s:state:filed", R->run);
        CMD(&c, "MULTI");
        CMD(&c, "HSET", k1, "state", "filed", "updated", ms);
        CMD(&c, "ZREM", k2, T);
        CMD(&c, "ZADD", k3, ms, T);
        CMD(&c, "XADD", street, "*", "ticket", T, "action", "file");
        CMD(&c, "EXEC");
        replies = 6;
        break;
    case OP_WHISTLE * 4 + 2: {
        int k = b->o->whistle_depts, idx[32];
        bench_pick_targets(b, idx, k);
        CMD(&c, "MULTI");
        replies = 1;
        for (int i = 0; i < k; i++) {
            const char *dc = b->depts[idx[i]].code;
            uint64_t oid = ++b->seq;
            char ok[96], dk[96];
            snprintf(id, sizeof id, "%llu", (unsigned long long)oid);
            snprintf(ok, sizeof ok, "wb:%s:order:%s", R->run, id);
            snprintf(dk, sizeof dk, "wb:%s:dept:%s", R->run, dc);
            CMD(&c, "HSET", ok, "ticket", T, "department", dc, "state", "pending", "created", ms);
            CMD(&c, "XADD", dk, "*", "order", id, "ticket", T, "action", "dispatch");
            CMD(&c, "PUBLISH", dk, T);
            replies += 3;
            bench_pool_put(b, idx[i], oid);
        }
        snprintf(k1, sizeof k1, "wb:%s:case:%s", R->run, T);
        snprintf(k2, sizeof k2, "wb:%s:state:filed", R->run);
        snprintf(k3, sizeof k3, "wb:%s:state:whistled", R->run);
        CMD(&c, "HSET", k1, "state", "whistled", "updated", ms);
        CMD(&c, "ZREM", k2, T);
        CMD(&c, "ZADD", k3, ms, T);
        CMD(&c, "XADD", street, "*", "ticket", T, "action", "whistle");
        CMD(&c, "EXEC");
        replies += 5;
        bench_whistle_sent(b, T, idx, k);
        break;
    }
    case OP_CHECKIN * 4:
    case OP_CHECKIN * 4 + 1: {
        const char *dc = b->depts[o->dept].code;
        snprintf(id, sizeof id, "%llu", (unsigned long long)o->order);
        snprintf(k1, sizeof k1, "wb:%s:order:%s", R->run, id);
        snprintf(k2, sizeof k2, "wb:%s:dept:%s", R->run, dc);
        CMD(&c, "MULTI");
        if (o->step == 0)
            CMD(&c, "HSET", k1, "state", "checked_in", "checked_in", ms);
        else
            CMD(&c, "HSET", k1, "state", "done", "done", ms, "feedback", "cleared and disinfected; whistle-bench");
        CMD(&c, "XADD", k2, "*", "order", id, "action", o->step == 0 ? "check_in" : "feedback");
        CMD(&c, "XADD", street, "*", "order", id, "action", o->step == 0 ? "check_in" : "feedback");
        CMD(&c, "EXEC");
        replies = 5;
        break;
    }
    case OP_READ * 4: {
        const char *t = bench_ticket_any(b);
        if (t) {
            snprintf(k1, sizeof k1, "wb:%s:case:%s", R->run, t);
            CMD(&c, "HGETALL", k1);
        } else
            CMD(&c, "XREVRANGE", street, "+", "-", "COUNT", "10");
        replies = 1;
        break;
    }
    case OP_XADD * 4: {
        snprintf(k1, sizeof k1, "wb:%s:xadd", R->run);
        CMD(&c, "XADD", k1, "*", "ticket", T, "node", b->node, "category", b->category, "description",
            "rubbish piled at the gate of building 3 for two days, smells; reported by whistle-bench");
        replies = 1;
        break;
    }
    default: bench_op_done(o, "unknown step"); return;
    }
    pend_push(r, o, replies);
    int rc = rtls_write(&r->t, c.p, c.n);
    free(c.p);
    if (rc != 0)
        lc->failed = true; /* on_close fails what is pending, this one included */
}

static void r_start(bconn *lc, bop *o)
{
    (void)lc;
    step(o);
}

/* ---------------------------------------------------------------- desks */

static void on_desk_ready(rtls *t, int status, const char *err)
{
    rconn *r = t->ud;
    if (status != 0) {
        bench_desk_ready(r->d, 0, err);
        return;
    }
    rb *R = r->b->impl;
    char ch[96];
    snprintf(ch, sizeof ch, "wb:%s:dept:%s", R->run, r->b->depts[r->d->dept].code);
    sbuf c = { 0 };
    CMD(&c, "SUBSCRIBE", ch);
    rtls_write(t, c.p, c.n);
    free(c.p);
}

static int r_desk_open(bench *b, desk *d)
{
    rb *R = b->impl;
    rconn *r = rconn_new(b);
    if (!r)
        return -1;
    r->d = d;
    d->impl = r;
    r->t.on_ready = on_desk_ready;
    return rtls_open(&r->t, &b->sub_loop, R->ctx, (struct sockaddr *)&R->addr, NULL);
}

static void r_desk_close(desk *d)
{
    rconn *r = d->impl;
    r->closing = true;
    rtls_close(&r->t);
}

const backend redis_backend = {
    .name = "redis",
    .setup = r_setup,
    .open = r_open,
    .start = r_start,
    .close = r_close,
    .stats = r_stats,
    .desk_open = r_desk_open,
    .desk_close = r_desk_close,
    .teardown = r_teardown,
};
