/* metrics.c: see metrics.h. Runs on the loop thread. */
#include "metrics.h"

#include <h2o.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "log.h"
#include "server.h"

struct metrics {
    server *s;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    bool listening, ctx_live;
    int64_t started_unix;
};

typedef struct mhandler {
    h2o_handler_t super;
    metrics *m;
} mhandler;

/* ------------------------------------------------------------ rendering */

static void help(FILE *out, const char *name, const char *type, const char *text)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void one(FILE *out, const char *name, const char *type, const char *text, double v)
{
    help(out, name, type, text);
    fprintf(out, "%s %.15g\n", name, v);
}

static const char *code_name(int code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&whistle__v1__status__code__descriptor, code);
    return v ? v->name : "UNKNOWN";
}

/* Cases not yet closed or rejected, by state, from the ev_by_state index
 * (keys begin with the state byte): each state's rows are counted from its first, so
 * the closed cases, which are most, are never walked. */
static void open_cases(server *s, FILE *out)
{
    static const int open_states[] = { 1, 2, 4, 5, 6, 7 };
    uint64_t n[sizeof open_states / sizeof *open_states] = { 0 };
    MDB_txn *txn = store_read_begin(s->h.st);
    if (!txn)
        return;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, s->h.st->ev_by_state, &cur) == 0) {
        for (size_t i = 0; i < sizeof open_states / sizeof *open_states; i++) {
            uint8_t first = (uint8_t)open_states[i];
            MDB_val k = { 1, &first }, v;
            int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            while (rc == 0 && k.mv_size >= 1 && ((const uint8_t *)k.mv_data)[0] == first) {
                n[i]++;
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            }
        }
        mdb_cursor_close(cur);
    }
    store_read_end(s->h.st);
    help(out, "whistle_open_cases", "gauge", "Cases not yet closed or rejected, by state.");
    for (size_t i = 0; i < sizeof open_states / sizeof *open_states; i++) {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(&whistle__v1__event_state__descriptor, open_states[i]);
        const char *name = ev ? ev->name : "?";
        if (strncmp(name, "EVENT_STATE_", 12) == 0)
            name += 12;
        fprintf(out, "whistle_open_cases{state=\"");
        for (const char *p = name; *p; p++)
            fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p, out);
        fprintf(out, "\"} %llu\n", (unsigned long long)n[i]);
    }
}

static void render(metrics *m, FILE *out)
{
    server *s = m->s;
    hub *h = &s->h;
    const writer_stats *ws = writer_get_stats(h->w);

    help(out, "whistle_build_info", "gauge", "The version of whistled.");
    fprintf(out, "whistle_build_info{version=\"%s\"} 1\n", WHISTLE_VERSION);
    one(out, "whistle_uptime_seconds", "gauge", "Seconds since whistled started.",
        (double)(uv_now(h->loop) - s->started_mono_ms) / 1000.0);

    /* connections */
    one(out, "whistle_connections", "gauge", "Client connections open now.", h->nconns);
    one(out, "whistle_connections_accepted_total", "counter", "Client connections accepted.", (double)h->next_conn_id);
    one(out, "whistle_connections_refused_total", "counter",
        "Client connections refused at max_connections or while stopping.", (double)h->refused_total);
    uint32_t subs = 0;
    for (conn *x = h->conns; x; x = x->next)
        for (sub *b = x->subs; b; b = b->next_in_conn)
            subs++;
    one(out, "whistle_subscriptions", "gauge", "Stream subscriptions open now, over all connections.", subs);
    one(out, "whistle_pushes_total", "counter", "Pushes sent to subscribers.", (double)h->pushes_sent);

    /* requests */
    help(out, "whistle_requests_total", "counter", "Requests answered, by call and status code.");
    for (int call_case = 1; call_case < HUB_CALLS; call_case++)
        for (int code = 0; code < HUB_CODES; code++) {
            uint64_t n = h->answers[call_case][code];
            if (!n)
                continue;
            const authz_rule *r = authz_rule_for(call_case);
            const char *name = r ? r->name : NULL;
            if (!name && call_case == WHISTLE__V1__REQUEST__CALL_HELLO)
                name = "hello";
            if (!name)
                continue;
            fprintf(out, "whistle_requests_total{call=\"%s\",code=\"%s\"} %llu\n", name, code_name(code),
                    (unsigned long long)n);
        }

    /* the writer */
    uint64_t commits = atomic_load(&ws->commits);
    one(out, "whistle_commits_total", "counter", "Write transactions committed that changed the store.",
        (double)commits);
    one(out, "whistle_commits_failed_total", "counter", "Write transactions whose commit failed.",
        (double)atomic_load(&ws->failed_commits));
    one(out, "whistle_writer_reruns_total", "counter",
        "Batches run a second time, each call on its own, because one of their calls failed.",
        (double)atomic_load(&ws->reruns));
    uint64_t fsyncs = s->cfg->sync == STORE_SYNC_FULL         ? 2 * commits
                      : s->cfg->sync == STORE_SYNC_NOMETASYNC ? commits
                                                              : s->periodic_syncs;
    one(out, "whistle_fsyncs_total", "counter", "Disk flushes of the store.", (double)fsyncs);
    one(out, "whistle_writes_total", "counter", "Write requests handled by the writer.",
        (double)atomic_load(&ws->writes));
    one(out, "whistle_writer_queue_depth", "gauge", "Intents submitted to the writer and not yet handed back.",
        (double)writer_backlog(h->w));

    help(out, "whistle_writer_batch_size", "histogram", "Intents per writer batch.");
    uint64_t cum = 0;
    for (int i = 0; i <= WRITER_BATCH_BUCKETS; i++) {
        cum += atomic_load(&ws->batch_hist[i]);
        if (i < WRITER_BATCH_BUCKETS)
            fprintf(out, "whistle_writer_batch_size_bucket{le=\"%u\"} %llu\n", 1u << i, (unsigned long long)cum);
        else
            fprintf(out, "whistle_writer_batch_size_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    /* sum and count from the histogram's own buckets' moment, near enough:
     * intents and batches move together in the writer */
    fprintf(out, "whistle_writer_batch_size_sum %llu\nwhistle_writer_batch_size_count %llu\n",
            (unsigned long long)atomic_load(&ws->intents), (unsigned long long)cum);

    help(out, "whistle_commit_duration_seconds", "histogram",
         "Time of each commit of the writer, mostly waiting for the disk.");
    cum = 0;
    for (int i = 0; i <= WRITER_COMMIT_BUCKETS; i++) {
        cum += atomic_load(&ws->commit_hist[i]);
        if (i < WRITER_COMMIT_BUCKETS)
            fprintf(out, "whistle_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
                    (double)writer_commit_bounds_ns[i] / 1e9, (unsigned long long)cum);
        else
            fprintf(out, "whistle_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    fprintf(out, "whistle_commit_duration_seconds_sum %.9f\nwhistle_commit_duration_seconds_count %llu\n",
            (double)atomic_load(&ws->commit_ns) / 1e9, (unsigned long long)cum);

    /* the store */
    MDB_envinfo info;
    MDB_stat est;
    if (mdb_env_info(h->st->env, &info) == 0 && mdb_env_stat(h->st->env, &est) == 0) {
        one(out, "whistle_store_map_size_bytes", "gauge", "The store's memory map now (it grows up to map_max).",
            (double)info.me_mapsize);
        one(out, "whistle_store_map_used_bytes", "gauge", "Bytes of the map in use (pages up to the last one used).",
            (double)(info.me_last_pgno + 1) * est.ms_psize);
    }
    one(out, "whistle_store_map_max_bytes", "gauge", "store.map_max: writes are refused past it.",
        (double)s->cfg->map_max);
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", s->cfg->store_dir);
    if (stat(path, &st) == 0)
        one(out, "whistle_store_file_bytes", "gauge", "Size of the store's file on disk.", (double)st.st_size);
    open_cases(s, out);
    one(out, "whistle_deadlines_missed_total", "counter",
        "Deadlines that passed unmet and were recorded (supervision, escalation).", (double)s->deadlines_missed);

    /* backups taken by the daemon */
    help(out, "whistle_backups_total", "counter", "Backups taken by the backup call, by result.");
    fprintf(out, "whistle_backups_total{result=\"ok\"} %llu\nwhistle_backups_total{result=\"failed\"} %llu\n",
            (unsigned long long)s->ops.backups_ok, (unsigned long long)s->ops.backups_failed);
    if (s->ops.last_backup_unix)
        one(out, "whistle_last_backup_timestamp_seconds", "gauge",
            "When the last backup by the backup call finished (Unix time).", (double)s->ops.last_backup_unix);

    /* photo uploads (photos.c) */
    help(out, "whistle_photo_uploads_total", "counter",
         "Photo uploads completed, by result: stored, or refused (not an image, a wrong hash).");
    fprintf(out,
            "whistle_photo_uploads_total{result=\"stored\"} %llu\nwhistle_photo_uploads_total{result=\"refused\"} "
            "%llu\n",
            (unsigned long long)s->photos.completed, (unsigned long long)s->photos.refused);
    one(out, "whistle_photo_uploads_in_progress", "gauge", "Photo chunks and uploads being written or stored now.",
        (double)s->photos.jobs);

    /* the process, under the names Prometheus's client libraries use */
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        one(out, "process_cpu_seconds_total", "counter", "User and system CPU time.",
            (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages_total, pages_res;
    if (f) {
        if (fscanf(f, "%llu %llu", &pages_total, &pages_res) == 2)
            one(out, "process_resident_memory_bytes", "gauge", "Resident memory, the store's pages read included.",
                (double)pages_res * (double)sysconf(_SC_PAGESIZE));
        fclose(f);
    }
    one(out, "process_start_time_seconds", "gauge", "When whistled started (Unix time).", (double)m->started_unix);
}

/* ------------------------------------------------------------ serving */

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    metrics *m = ((mhandler *)self)->m;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_send_error_405(req, "Method Not Allowed", "GET /metrics only", 0);
        return 0;
    }
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    if (!out) {
        h2o_send_error_503(req, "Service Unavailable", "out of memory", 0);
        return 0;
    }
    render(m, out);
    fclose(out);
    /* One scrape per connection: an idle keep-alive connection would hold
     * the loop open at a stop. */
    req->http1_is_persistent = 0;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
    h2o_send_inline(req, body, len); /* copies body into the request's pool */
    free(body);
    return 0;
}

static void on_accept(uv_stream_t *listener, int status)
{
    metrics *m = listener->data;
    if (status != 0)
        return;
    uv_tcp_t *c = h2o_mem_alloc(sizeof *c);
    uv_tcp_init(listener->loop, c);
    if (uv_accept(listener, (uv_stream_t *)c) != 0) {
        uv_close((uv_handle_t *)c, (uv_close_cb)free);
        return;
    }
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)c, (uv_close_cb)free);
    h2o_accept(&m->accept_ctx, sock);
}

static void stop(void *ctx)
{
    metrics *m = ctx;
    if (m->listening) {
        uv_close((uv_handle_t *)&m->listener, NULL);
        m->listening = false;
    }
    /* its timers close with it, so that the loop can end */
    if (m->ctx_live) {
        h2o_context_dispose(&m->ctx);
        m->ctx_live = false;
    }
}

static void free_on_close(uv_handle_t *h) { free(h->data); }

metrics *metrics_start(server *s, char *err, size_t errlen)
{
    const config *cfg = s->cfg;
    struct sockaddr_storage addr;
    if (uv_ip4_addr(cfg->metrics_listen, (int)cfg->metrics_port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(cfg->metrics_listen, (int)cfg->metrics_port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(err, errlen, "metrics.listen = %s: not an IPv4 or IPv6 address", cfg->metrics_listen);
        return NULL;
    }
    metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->s = s;
    m->started_unix = (int64_t)time(NULL);
    uv_loop_t *loop = s->h.loop;
    uv_tcp_init(loop, &m->listener);
    m->listener.data = m;
    m->listening = true;
    int rc = uv_tcp_bind(&m->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&m->listener, 64, on_accept);
    if (rc != 0) {
        snprintf(err, errlen, "metrics: cannot listen on %s port %u: %s", cfg->metrics_listen, cfg->metrics_port,
                 uv_strerror(rc));
        /* freed when the loop has closed the handle (the caller drains) */
        uv_close((uv_handle_t *)&m->listener, free_on_close);
        return NULL;
    }
    h2o_config_init(&m->config);
    h2o_hostconf_t *host = h2o_config_register_host(&m->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/metrics", 0);
    mhandler *hd = (mhandler *)h2o_create_handler(path, sizeof *hd);
    hd->super.on_req = on_req;
    hd->m = m;
    h2o_context_init(&m->ctx, loop, &m->config);
    m->ctx_live = true;
    m->accept_ctx.ctx = &m->ctx;
    m->accept_ctx.hosts = m->config.hosts;
    s->on_drain = stop;
    s->on_drain_ctx = m;
    return m;
}

int metrics_port(metrics *m)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    if (!m->listening || uv_tcp_getsockname(&m->listener, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    if (sa.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    if (m->ctx_live)
        h2o_context_dispose(&m->ctx);
    if (m->config.hosts)
        h2o_config_dispose(&m->config);
    free(m);
}
