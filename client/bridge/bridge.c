/* bridge.c: see bridge.h for the threads and the contract. */
#include "bridge.h"

#include <errno.h>
#include <jansson.h>
#include <nats/adapters/libuv.h>
#include <nats/nats.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "whistle/async.h"
#include "whistle/session.h"

#define CODE(c) WHISTLE__V1__STATUS__CODE__##c
#define MSG_ID "Nats-Msg-Id"

/* ------------------------------------------------------------ hand-over */

/* What the libnats threads and the worker hand the loop. */
typedef enum { EV_PUBACK, EV_INBOUND, EV_DIR, EV_REPLAY, EV_WORKER_DONE } ev_kind;

typedef struct bev {
    struct bev *next;
    ev_kind kind;
    uint64_t seq; /* PUBACK: the entry's seq (from its Msg-Id) */
    bool ok;
    char why[200];
    natsMsg *msg; /* INBOUND, REPLAY: ours to ack/answer and destroy */
    bool is_cmd;
    char *key; /* DIR */
    void *val;
    size_t len;
    bool deleted;
    uint64_t rev;
} bev;

/* A statistics put for the worker. */
typedef struct put_req {
    struct put_req *next;
    char key[32];
    void *val;
    size_t len;
} put_req;

/* One entry of fed:<district> on its way to JetStream. */
typedef struct out_entry {
    uint64_t seq;
    char *subject;
    void *data;
    size_t len;
    bool published, done;
    uint32_t fails; /* publishes JetStream refused or did not answer */
} out_entry;

typedef struct replay_req {
    struct replay_req *next;
    uint64_t from, to;
    char *reply;
} replay_req;

typedef struct bridge {
    const bridge_config *cfg;
    uv_loop_t *loop;
    uv_async_t wake;
    uv_signal_t sigterm, sigint;
    uv_timer_t stats_timer, retry_timer;
    whistle_opts wopts;
    whistle_session *ws;
    bool wd_live, stopping;
    char stream[16];
    /* NATS */
    natsOptions *nopts;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *replay_sub;
    /* the queue to the loop, and the worker's */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bev *qhead, *qtail;
    put_req *puts;
    int inflight; /* inbound messages handed to the loop and not finished */
    bool worker_stop;
    pthread_t worker;
    bool worker_started;
    /* outbound */
    out_entry *out;
    size_t out_head, out_n, out_cap, out_scan;
    uint32_t out_unacked;
    uint64_t acked;
    uint64_t published_total;
    /* the city directory, in order, one call at a time */
    bev *dir_head, *dir_tail;
    bool dir_busy;
    /* replay */
    replay_req *replays;
    whistle_conn *rconn;
    uint64_t r_to, r_n;
    int64_t r_started;
    /* statistics: the last row put per month (packed), and when */
    char last_month[2][8];
    void *last_row[2];
    size_t last_len[2];
    int64_t last_put_ms[2];
} bridge;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* From any thread: queue e for the loop and wake it. */
static void hand_over(bridge *b, bev *e)
{
    pthread_mutex_lock(&b->mu);
    if (b->qtail)
        b->qtail->next = e;
    else
        b->qhead = e;
    b->qtail = e;
    pthread_mutex_unlock(&b->mu);
    uv_async_send(&b->wake);
}

static bev *bev_new(ev_kind k)
{
    bev *e = calloc(1, sizeof *e);
    if (!e) {
        fputs("whistle-bridge: out of memory\n", stderr);
        abort();
    }
    e->kind = k;
    return e;
}

static void bev_free(bev *e)
{
    if (!e)
        return;
    natsMsg_Destroy(e->msg);
    free(e->key);
    free(e->val);
    free(e);
}

/* ------------------------------------------------------------ outbound */

static void out_reset(bridge *b)
{
    for (size_t i = b->out_head; i < b->out_n; i++) {
        free(b->out[i].subject);
        free(b->out[i].data);
    }
    b->out_head = b->out_n = b->out_scan = 0;
    b->out_unacked = 0;
}

static void publish_more(bridge *b);

static void on_retry(uv_timer_t *t);

/* What one entry of the stream becomes on NATS: its subject and payload.
 * false for an entry the city has no use for (acknowledged as handled). */
static bool entry_of(bridge *b, const Whistle__V1__Push *p, char **subject, void **data, size_t *len)
{
    const char *d = b->cfg->district;
    const ProtobufCMessage *m = NULL;
    Whistle__V1__FedCommand cmd = WHISTLE__V1__FED_COMMAND__INIT;
    char id[96];
    char subj[256];
    if (p->fed_case) {
        snprintf(subj, sizeof subj, "ev.%s.case.%s", d, p->fed_case->ticket);
        m = &p->fed_case->base;
    } else if (p->fed_order && p->fed_order->order) {
        snprintf(subj, sizeof subj, "ev.%s.order.%s", d, p->fed_order->order->department);
        m = &p->fed_order->base;
    } else if (p->fed_transfer) {
        /* to the receiving district's commands; the command's id is the
         * receiving store's key for it */
        snprintf(subj, sizeof subj, "cmd.%s.transfer", p->fed_transfer->to_district);
        snprintf(id, sizeof id, "%s:transfer:%s", d, p->fed_transfer->from_ticket);
        cmd.command_id = id;
        cmd.origin = (char *)d;
        cmd.kind_case = WHISTLE__V1__FED_COMMAND__KIND_TRANSFER;
        cmd.transfer = p->fed_transfer;
        m = &cmd.base;
    } else {
        return false;
    }
    /* a subject token must not hold '.', '*', '>' or blanks */
    for (char *s = strchr(subj, '.'); s && *s; s++)
        if (*s == ' ' || *s == '*' || *s == '>')
            *s = '_';
    *len = protobuf_c_message_get_packed_size(m);
    *data = malloc(*len ? *len : 1);
    *subject = strdup(subj);
    if (!*data || !*subject) {
        fputs("whistle-bridge: out of memory\n", stderr);
        abort();
    }
    protobuf_c_message_pack(m, *data);
    return true;
}

/* Moves whistled's cursor to the highest seq whose every predecessor is
 * in JetStream. */
static void out_advance(bridge *b)
{
    uint64_t to = 0;
    while (b->out_head < b->out_n && b->out[b->out_head].done) {
        out_entry *e = &b->out[b->out_head++];
        to = e->seq;
        free(e->subject);
        free(e->data);
    }
    if (b->out_scan < b->out_head)
        b->out_scan = b->out_head;
    if (b->out_head == b->out_n)
        b->out_head = b->out_n = b->out_scan = 0;
    if (to > b->acked) {
        b->acked = to;
        if (b->wd_live && whistle_session_ack(b->ws, to) == 0)
            blog(3, "acknowledged fed stream to %llu", (unsigned long long)to);
    }
}

static void on_push(whistle_session *s, Whistle__V1__Push *p, void *ud)
{
    bridge *b = ud;
    (void)s;
    if (strcmp(p->stream ? p->stream : "", b->stream) != 0) {
        whistle_push_free(p);
        return;
    }
    if (b->out_n == b->out_cap) {
        /* compact before growing */
        if (b->out_head > 0) {
            memmove(b->out, b->out + b->out_head, (b->out_n - b->out_head) * sizeof *b->out);
            b->out_n -= b->out_head;
            b->out_scan -= b->out_head;
            b->out_head = 0;
        }
        if (b->out_n == b->out_cap) {
            size_t cap = b->out_cap ? b->out_cap * 2 : 256;
            out_entry *n = realloc(b->out, cap * sizeof *n);
            if (!n) {
                fputs("whistle-bridge: out of memory\n", stderr);
                abort();
            }
            b->out = n;
            b->out_cap = cap;
        }
    }
    out_entry *e = &b->out[b->out_n++];
    memset(e, 0, sizeof *e);
    e->seq = p->seq;
    if (!entry_of(b, p, &e->subject, &e->data, &e->len))
        e->done = true; /* nothing for the city: handled */
    whistle_push_free(p);
    out_advance(b);
    publish_more(b);
}

static void publish_more(bridge *b)
{
    if (!b->js)
        return;
    size_t i = b->out_scan;
    for (; i < b->out_n && b->out_unacked < b->cfg->publish_window; i++) {
        out_entry *e = &b->out[i];
        if (e->published || e->done)
            continue;
        char id[48];
        snprintf(id, sizeof id, "%s:%llu", b->cfg->district, (unsigned long long)e->seq);
        natsMsg *m = NULL;
        natsStatus st = natsMsg_Create(&m, e->subject, NULL, e->data, (int)e->len);
        if (st == NATS_OK)
            st = natsMsgHeader_Set(m, MSG_ID, id);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id;
        po.MaxWait = 10000;
        if (st == NATS_OK)
            st = js_PublishMsgAsync(b->js, &m, &po);
        natsMsg_Destroy(m);
        if (st != NATS_OK) {
            blog(3, "publish of %s waits: %s", id, natsStatus_GetText(st));
            uv_timer_start(&b->retry_timer, on_retry, 1000, 0);
            break;
        }
        e->published = true;
        b->out_unacked++;
        b->published_total++;
    }
    /* everything below i is published or done */
    size_t j = b->out_scan;
    while (j < i && (b->out[j].published || b->out[j].done))
        j++;
    b->out_scan = j;
}

/* A libnats thread: JetStream answered a publish (or it timed out). */
static void on_puback(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pa;
    bridge *b = closure;
    const char *id = NULL;
    const char *colon = NULL;
    /* "<district>:<seq>"; a replay's "<district>:<seq>:r<ms>" is not the
     * main stream's and is left alone */
    if (msg && natsMsgHeader_Get(msg, MSG_ID, &id) == NATS_OK && id &&
        !strchr(strchr(id, ':') ? strchr(id, ':') + 1 : "", ':'))
        colon = strchr(id, ':');
    if (!colon) {
        natsMsg_Destroy(msg);
        return;
    }
    bev *e = bev_new(EV_PUBACK);
    e->seq = strtoull(colon + 1, NULL, 10);
    natsMsg_Destroy(msg); /* ours (jsPubAckHandler's contract) */
    e->ok = pae == NULL;
    if (pae)
        snprintf(e->why, sizeof e->why, "%s", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    hand_over(b, e);
}

static out_entry *out_find(bridge *b, uint64_t seq)
{
    size_t lo = b->out_head, hi = b->out_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->out[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->out_n && b->out[lo].seq == seq ? &b->out[lo] : NULL;
}

static void handle_puback(bridge *b, bev *ev)
{
    out_entry *e = out_find(b, ev->seq);
    if (!e || !e->published || e->done)
        return; /* from before a reconnect, or a replay's */
    if (b->out_unacked)
        b->out_unacked--;
    if (ev->ok) {
        e->done = true;
        out_advance(b);
    } else {
        /* published again, under the same Msg-Id: JetStream keeps one.
         * Said at the 1st, 2nd, 4th, 8th... failure: a stream that is
         * missing refuses every second, for as long as it is missing. */
        e->fails++;
        if ((e->fails & (e->fails - 1)) == 0)
            blog(1, "JetStream refused or lost %s:%llu (%s; %u time%s); publishing it again", b->cfg->district,
                 (unsigned long long)e->seq, ev->why, e->fails, e->fails == 1 ? "" : "s");
        e->published = false;
        size_t idx = (size_t)(e - b->out);
        if (idx < b->out_scan)
            b->out_scan = idx;
        uv_timer_start(&b->retry_timer, on_retry, 1000, 0);
        return;
    }
    publish_more(b);
}

/* ------------------------------------------------------------ whistled */

static void dir_flush(bridge *b);

static void on_ready(whistle_session *s, const Whistle__V1__HelloResult *hello, void *ud)
{
    bridge *b = ud;
    (void)hello;
    /* the subscription replays from the cursor: what was in flight comes again */
    out_reset(b);
    b->acked = 0;
    int rc = whistle_session_subscribe(s, b->stream);
    if (rc)
        blog(1, "cannot subscribe to %s: %s", b->stream, whistle_strerror(rc));
}

static void on_live(whistle_session *s, void *ud)
{
    bridge *b = ud;
    b->wd_live = true;
    b->acked = whistle_session_acked(s);
    blog(2, "following %s from %llu", b->stream, (unsigned long long)b->acked);
    dir_flush(b);
}

static void on_down(whistle_session *s, int status, const char *why, void *ud)
{
    bridge *b = ud;
    (void)s;
    if (b->wd_live || status)
        blog(1, "whistled: connection down (%s); reconnecting", why && *why ? why : whistle_strerror(status));
    b->wd_live = false;
    b->dir_busy = false;
}

/* ------------------------------------------------------------ inbound */

typedef struct apply_ctx {
    bridge *b;
    natsMsg *msg;
    char key[160];
} apply_ctx;

static void inbound_done(bridge *b)
{
    pthread_mutex_lock(&b->mu);
    b->inflight--;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static bool transient(int code)
{
    return code == CODE(UNAVAILABLE) || code == CODE(RESOURCE_EXHAUSTED) || code == CODE(INTERNAL) ||
           code == CODE(ABORTED) || code == CODE(DEADLINE_EXCEEDED) || code == CODE(UNKNOWN) ||
           code == CODE(UNAUTHENTICATED);
}

static void on_applied(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    apply_ctx *a = ud;
    bridge *b = a->b;
    const char *subj = natsMsg_GetSubject(a->msg);
    if (status < 0) {
        /* whistled went away before answering: maybe applied, maybe not;
         * the key makes the redelivery safe either way */
        natsMsg_NakWithDelay(a->msg, 1000, NULL);
    } else {
        int code = whistle_response_code(resp);
        if (code == 0) {
            natsStatus st = natsMsg_Ack(a->msg, NULL);
            const Whistle__V1__FedApplyResult *r = resp->fed_apply;
            blog(3, "%s %s applied: %s%s (ack %s)", subj, a->key, r && r->ticket ? r->ticket : "",
                 r && r->duplicate ? " (again)" : "", natsStatus_GetText(st));
        } else if (transient(code)) {
            blog(1, "%s %s: whistled answered %d (%s); redelivered later", subj, a->key, code,
                 whistle_response_message(resp));
            natsMsg_NakWithDelay(a->msg, 2000, NULL);
        } else {
            /* it will never apply: redelivering it would only repeat the refusal */
            blog(0, "%s %s refused by whistled (%d: %s); terminated", subj, a->key, code,
                 whistle_response_message(resp));
            natsMsg_Term(a->msg, NULL);
        }
    }
    whistle_response_free(resp);
    natsMsg_Destroy(a->msg);
    free(a);
    inbound_done(b);
}

/* The key of a message: the command's id, else its Msg-Id, else its place
 * in its stream. */
static void msg_key(natsMsg *m, const char *command_id, char *out, size_t len)
{
    const char *id = NULL;
    if (command_id && *command_id) {
        snprintf(out, len, "%s", command_id);
    } else if (natsMsgHeader_Get(m, MSG_ID, &id) == NATS_OK && id && *id) {
        snprintf(out, len, "%s", id);
    } else {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK && meta) {
            snprintf(out, len, "%s:%llu", meta->Stream, (unsigned long long)meta->Sequence.Stream);
            jsMsgMetaData_Destroy(meta);
        } else {
            snprintf(out, len, "%s", natsMsg_GetSubject(m));
        }
    }
}

static void handle_inbound(bridge *b, bev *ev)
{
    natsMsg *m = ev->msg;
    ev->msg = NULL;
    whistle_conn *c = whistle_session_conn(b->ws);
    if (!b->wd_live || !c) {
        natsMsg_NakWithDelay(m, 1000, NULL);
        natsMsg_Destroy(m);
        inbound_done(b);
        return;
    }
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
    size_t len = (size_t)natsMsg_GetDataLength(m);
    Whistle__V1__FedApply fa = WHISTLE__V1__FED_APPLY__INIT;
    fa.source = (char *)natsMsg_GetSubject(m);
    Whistle__V1__FedIntake *in = NULL;
    Whistle__V1__FedCommand *cmd = NULL;
    if (ev->is_cmd)
        cmd = whistle__v1__fed_command__unpack(NULL, len, data);
    else
        in = whistle__v1__fed_intake__unpack(NULL, len, data);
    if (!in && !cmd) {
        blog(0, "%s: not a %s message (%zu bytes); terminated", fa.source, ev->is_cmd ? "FedCommand" : "FedIntake",
             len);
        natsMsg_Term(m, NULL);
        natsMsg_Destroy(m);
        inbound_done(b);
        return;
    }
    apply_ctx *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->b = b;
    a->msg = m;
    msg_key(m, cmd ? cmd->command_id : NULL, a->key, sizeof a->key);
    fa.key = a->key;
    if (cmd) {
        fa.body_case = WHISTLE__V1__FED_APPLY__BODY_COMMAND;
        fa.command = cmd;
    } else {
        fa.body_case = WHISTLE__V1__FED_APPLY__BODY_INTAKE;
        fa.intake = in;
    }
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_FED_APPLY;
    req.fed_apply = &fa;
    int rc = whistle_conn_send(c, &req, on_applied, a);
    if (in)
        whistle__v1__fed_intake__free_unpacked(in, NULL);
    if (cmd)
        whistle__v1__fed_command__free_unpacked(cmd, NULL);
    if (rc) {
        natsMsg_NakWithDelay(m, 1000, NULL);
        natsMsg_Destroy(m);
        free(a);
        inbound_done(b);
    }
}

/* ------------------------------------------------------------ the directory */

static void on_dir_put(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    bridge *b = ud;
    b->dir_busy = false;
    bev *e = b->dir_head;
    int code = status < 0 ? CODE(UNAVAILABLE) : whistle_response_code(resp);
    if (e && (code == 0 || !transient(code))) {
        if (code)
            blog(0, "city_dir %s refused by whistled (%d: %s); skipped", e->key, code, whistle_response_message(resp));
        else
            blog(3, "city_dir %s put (revision %llu)", e->key, (unsigned long long)e->rev);
        b->dir_head = e->next;
        if (!b->dir_head)
            b->dir_tail = NULL;
        bev_free(e);
    } else if (e) {
        uv_timer_start(&b->retry_timer, on_retry, 2000, 0);
    }
    whistle_response_free(resp);
    if (code == 0 || !transient(code))
        dir_flush(b);
}

static void dir_flush(bridge *b)
{
    whistle_conn *c = whistle_session_conn(b->ws);
    if (b->dir_busy || !b->dir_head || !b->wd_live || !c)
        return;
    bev *e = b->dir_head;
    Whistle__V1__FedDirEntry *d = whistle__v1__fed_dir_entry__unpack(NULL, e->len, e->val);
    Whistle__V1__FedDirEntry empty = WHISTLE__V1__FED_DIR_ENTRY__INIT;
    Whistle__V1__FedDirEntry *entry = d ? d : &empty;
    if (!d && !e->deleted) {
        blog(0, "city_dir %s: not a FedDirEntry (%zu bytes); skipped", e->key, e->len);
        b->dir_head = e->next;
        if (!b->dir_head)
            b->dir_tail = NULL;
        bev_free(e);
        dir_flush(b);
        return;
    }
    char *was_key = entry->key;
    entry->key = e->key;
    entry->deleted = e->deleted;
    entry->revision = e->rev;
    Whistle__V1__FedDirectory fd = WHISTLE__V1__FED_DIRECTORY__INIT;
    fd.n_entries = 1;
    fd.entries = &entry;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_FED_DIRECTORY;
    req.fed_directory = &fd;
    int rc = whistle_conn_send(c, &req, on_dir_put, b);
    entry->key = was_key;
    if (d)
        whistle__v1__fed_dir_entry__free_unpacked(d, NULL);
    if (rc == 0)
        b->dir_busy = true;
}

/* ------------------------------------------------------------ statistics */

static void on_stats(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    bridge *b = ud;
    if (status < 0 || whistle_response_code(resp) != 0 || !resp->stats) {
        if (status >= 0)
            blog(1, "get_stats: %s", whistle_response_message(resp));
        whistle_response_free(resp);
        return;
    }
    int64_t now = now_ms();
    for (size_t i = 0; i < resp->stats->n_rows; i++) {
        Whistle__V1__StatsRow *row = resp->stats->rows[i];
        const char *bk = row->bucket ? row->bucket : "";
        if (strcmp(row->code ? row->code : "", b->cfg->district) != 0 || strlen(bk) != 7)
            continue;
        char month[8] = { bk[0], bk[1], bk[2], bk[3], bk[5], bk[6], 0 };
        size_t rl = protobuf_c_message_get_packed_size(&row->base);
        void *rb = malloc(rl ? rl : 1);
        if (!rb)
            abort();
        protobuf_c_message_pack(&row->base, rb);
        int slot = strcmp(b->last_month[0], month) == 0             ? 0
                   : strcmp(b->last_month[1], month) == 0           ? 1
                   : strcmp(b->last_month[0], b->last_month[1]) < 0 ? 0
                                                                    : 1;
        bool same = strcmp(b->last_month[slot], month) == 0 && b->last_len[slot] == rl &&
                    memcmp(b->last_row[slot], rb, rl) == 0 && now - b->last_put_ms[slot] < 60000;
        if (same) {
            free(rb);
            continue;
        }
        free(b->last_row[slot]);
        b->last_row[slot] = rb;
        b->last_len[slot] = rl;
        b->last_put_ms[slot] = now;
        snprintf(b->last_month[slot], sizeof b->last_month[slot], "%s", month);
        Whistle__V1__FedStats fs = WHISTLE__V1__FED_STATS__INIT;
        fs.district = (char *)b->cfg->district;
        fs.month = month;
        fs.row = row;
        fs.at_ms = now;
        put_req *p = calloc(1, sizeof *p);
        if (!p)
            abort();
        snprintf(p->key, sizeof p->key, "%s.%s", b->cfg->district, month);
        p->len = protobuf_c_message_get_packed_size(&fs.base);
        p->val = malloc(p->len ? p->len : 1);
        if (!p->val)
            abort();
        protobuf_c_message_pack(&fs.base, p->val);
        pthread_mutex_lock(&b->mu);
        p->next = b->puts;
        b->puts = p;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
    whistle_response_free(resp);
}

static void on_stats_timer(uv_timer_t *t)
{
    bridge *b = t->data;
    whistle_conn *c = whistle_session_conn(b->ws);
    if (!b->wd_live || !c)
        return;
    /* this month and the last: the first days of a month still change the last */
    time_t secs = (time_t)(now_ms() / 1000) - 3 * 86400;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char from[32];
    snprintf(from, sizeof from, "%04d-%02d-01", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
    Whistle__V1__GetStats gs = WHISTLE__V1__GET_STATS__INIT;
    gs.by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT;
    gs.period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
    gs.from = from;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_GET_STATS;
    req.get_stats = &gs;
    whistle_conn_send(c, &req, on_stats, b);
}

/* ------------------------------------------------------------ replay */

static void replay_next(bridge *b);

static void replay_finish(bridge *b, const char *why)
{
    replay_req *r = b->replays;
    if (!r)
        return;
    char body[128];
    snprintf(body, sizeof body, "{\"republished\":%llu%s%s%s}", (unsigned long long)b->r_n, why ? ",\"error\":\"" : "",
             why ? why : "", why ? "\"" : "");
    if (r->reply && *r->reply && b->nc)
        natsConnection_PublishString(b->nc, r->reply, body);
    blog(2, "replay %llu..%llu: %llu republished%s%s", (unsigned long long)r->from, (unsigned long long)r->to,
         (unsigned long long)b->r_n, why ? ": " : "", why ? why : "");
    b->replays = r->next;
    free(r->reply);
    free(r);
    if (b->rconn) {
        whistle_conn_close(b->rconn);
        b->rconn = NULL;
    }
    replay_next(b);
}

static void replay_publish(bridge *b, Whistle__V1__Push *p)
{
    char *subject;
    void *data;
    size_t len;
    if (!b->js || !entry_of(b, p, &subject, &data, &len))
        return;
    /* A Msg-Id of its own: JetStream's duplicate window remembers the
     * first copy's id even when that copy is gone (the gap being
     * repaired), and would drop this one. The seq stays the second field;
     * consumers keep one copy per seq. */
    char id[64];
    snprintf(id, sizeof id, "%s:%llu:r%lld", b->cfg->district, (unsigned long long)p->seq, (long long)b->r_started);
    natsMsg *m = NULL;
    natsStatus st = natsMsg_Create(&m, subject, NULL, data, (int)len);
    if (st == NATS_OK)
        st = natsMsgHeader_Set(m, MSG_ID, id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = 10000;
    if (st == NATS_OK)
        st = js_PublishMsgAsync(b->js, &m, &po);
    natsMsg_Destroy(m);
    free(subject);
    free(data);
    if (st == NATS_OK)
        b->r_n++;
}

static void on_rpush(whistle_conn *c, Whistle__V1__Push *p, void *ud)
{
    (void)c;
    bridge *b = ud;
    replay_req *r = b->replays;
    if (r && p->seq >= r->from && p->seq <= b->r_to)
        replay_publish(b, p);
    uint64_t seq = p->seq;
    whistle_push_free(p);
    if (r && seq >= b->r_to)
        replay_finish(b, NULL);
}

static void on_rsub(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    bridge *b = ud;
    if (status < 0 || whistle_response_code(resp) != 0 || !resp->subscribe) {
        replay_finish(b, status < 0 ? "whistled went away" : "whistled refused the subscription");
        whistle_response_free(resp);
        return;
    }
    replay_req *r = b->replays;
    uint64_t last = resp->subscribe->last_seq;
    b->r_to = r->to < last ? r->to : last;
    whistle_response_free(resp);
    if (b->r_to < r->from)
        replay_finish(b, NULL);
}

static void on_rconnect(whistle_conn *c, int status, void *ud)
{
    bridge *b = ud;
    if (status < 0) {
        b->rconn = NULL; /* on_rclose frees it */
        replay_finish(b, "cannot reach whistled");
        return;
    }
    replay_req *r = b->replays;
    Whistle__V1__Subscribe sub = WHISTLE__V1__SUBSCRIBE__INIT;
    sub.stream = b->stream;
    sub.after_seq = r->from - 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    req.subscribe = &sub;
    if (whistle_conn_send(c, &req, on_rsub, b))
        replay_finish(b, "cannot subscribe");
}

static void on_rclose(whistle_conn *c, int status, void *ud)
{
    bridge *b = ud;
    (void)status;
    if (b->rconn == c) {
        b->rconn = NULL;
        replay_finish(b, "whistled went away");
    }
}

static void replay_next(bridge *b)
{
    if (b->rconn || !b->replays || b->stopping)
        return;
    b->r_n = 0;
    b->r_to = b->replays->to;
    b->r_started = now_ms();
    whistle_conn_cbs cbs = { .on_connect = on_rconnect, .on_push = on_rpush, .on_close = on_rclose };
    char err[256];
    if (whistle_conn_open(b->loop, &b->wopts, &cbs, b, &b->rconn, err, sizeof err)) {
        b->rconn = NULL;
        replay_finish(b, "cannot reach whistled");
    }
}

/* {"from_seq":N,"to_seq":M}: republish those entries of the stream. */
static void handle_replay(bridge *b, bev *ev)
{
    const char *reply = natsMsg_GetReply(ev->msg);
    json_error_t jerr;
    json_t *j = json_loadb(natsMsg_GetData(ev->msg), (size_t)natsMsg_GetDataLength(ev->msg), 0, &jerr);
    json_int_t from = 0, to = 0;
    if (!j || json_unpack(j, "{s:I,s:I}", "from_seq", &from, "to_seq", &to) != 0 || from < 1 || to < from) {
        blog(1, "replay.%s: expected {\"from_seq\":N,\"to_seq\":M} with 1 <= N <= M", b->cfg->district);
        if (reply && *reply)
            natsConnection_PublishString(b->nc, reply, "{\"error\":\"expected {from_seq,to_seq}, 1 <= from <= to\"}");
        json_decref(j);
        return;
    }
    json_decref(j);
    replay_req *r = calloc(1, sizeof *r), **tail = &b->replays;
    if (!r)
        abort();
    r->from = (uint64_t)from;
    r->to = (uint64_t)to;
    r->reply = strdup(reply ? reply : "");
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    replay_next(b);
}

/* A libnats thread: a replay request. */
static void on_replay_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    bev *e = bev_new(EV_REPLAY);
    e->msg = msg;
    hand_over(closure, e);
}

/* ------------------------------------------------------------ the worker */

static void worker_enqueue_inbound(bridge *b, natsMsgList *list, bool is_cmd)
{
    for (int i = 0; i < list->Count; i++) {
        if (!list->Msgs[i])
            continue;
        bev *e = bev_new(EV_INBOUND);
        e->msg = list->Msgs[i];
        e->is_cmd = is_cmd;
        list->Msgs[i] = NULL;
        pthread_mutex_lock(&b->mu);
        b->inflight++;
        pthread_mutex_unlock(&b->mu);
        hand_over(b, e);
    }
    natsMsgList_Destroy(list);
}

/* The pull consumer of intake.<district> (is_cmd false) or of
 * cmd.<district>.> (true): bound when the config names it, else made. NULL
 * when it cannot be had yet (logged at warning the first time). */
static natsSubscription *pull_subscribe(bridge *b, bool is_cmd, bool quiet)
{
    const char *d = b->cfg->district;
    const char *named = is_cmd ? b->cfg->cmd_durable : b->cfg->intake_durable;
    char subj[64], durable[96];
    snprintf(subj, sizeof subj, is_cmd ? "cmd.%s.>" : "intake.%s", d);
    if (*named)
        snprintf(durable, sizeof durable, "%s", named);
    else
        snprintf(durable, sizeof durable, is_cmd ? "bridge_%s_cmd" : "bridge_%s_intake", d);
    /* A consumer the city made is bound as it is (only its info is read:
     * the city need not let a district create consumers, which could
     * filter on another district's subjects); else the bridge makes its
     * own durable. */
    jsSubOptions so;
    jsSubOptions_Init(&so);
    if (*named) {
        so.Stream = is_cmd ? b->cfg->cmd_stream : b->cfg->intake_stream;
        so.Consumer = named;
    } else {
        so.Config.AckWait = (int64_t)30 * 1000000000; /* ns: a message not acked in 30 s comes again */
        so.Config.MaxAckPending = (int64_t)b->cfg->in_flight * 2;
    }
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_PullSubscribe(&sub, b->js, subj, durable, NULL, &so, &jerr);
    if (st != NATS_OK) {
        blog(quiet ? 3 : 1, "pull consumer %s on %s: %s (%d); trying again", durable, subj, natsStatus_GetText(st),
             (int)jerr);
        return NULL;
    }
    blog(2, "pulling %s (durable %s)", subj, durable);
    return sub;
}

/* Waits (briefly) for room, a statistics put or the stop. */
static void worker_nap(bridge *b, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)ms * 1000000;
    while (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&b->mu);
    if (!b->worker_stop)
        pthread_cond_timedwait(&b->cv, &b->mu, &until);
    pthread_mutex_unlock(&b->mu);
}

static bool w_stopping(bridge *b)
{
    pthread_mutex_lock(&b->mu);
    bool s = b->worker_stop;
    pthread_mutex_unlock(&b->mu);
    return s;
}

typedef struct puller {
    bridge *b;
    bool is_cmd;
    pthread_t thread;
    bool started;
} puller;

/* One thread per consumer, so that one waiting for its next message never
 * delays the other's. A fetch that found nothing is followed by one of a
 * single message, which returns as soon as one comes (a batch waits for
 * its whole size or its time); then a batch takes what came behind it. */
static void *puller_main(void *arg)
{
    puller *p = arg;
    bridge *b = p->b;
    natsSubscription *sub = NULL;
    int64_t next_try = 0;
    int tries = 0, errors = 0;
    bool idle = false;
    while (!w_stopping(b)) {
        if (!sub) {
            if (now_ms() >= next_try) {
                sub = pull_subscribe(b, p->is_cmd, tries++ > 0);
                next_try = now_ms() + 2000;
            }
            if (!sub) {
                worker_nap(b, 100);
                continue;
            }
        }
        pthread_mutex_lock(&b->mu);
        int room = (int)b->cfg->in_flight - b->inflight;
        pthread_mutex_unlock(&b->mu);
        if (room <= 0) {
            worker_nap(b, 50); /* woken when one is done */
            continue;
        }
        natsMsgList list = { 0 };
        jsErrCode jerr = 0;
        natsStatus st = natsSubscription_Fetch(&list, sub, idle ? 1 : (room > 64 ? 64 : room), idle ? 250 : 100, &jerr);
        if (st == NATS_OK && list.Count > 0) {
            errors = 0;
            idle = false;
            worker_enqueue_inbound(b, &list, p->is_cmd);
            continue;
        }
        natsMsgList_Destroy(&list);
        idle = true;
        if (st == NATS_OK || st == NATS_TIMEOUT) {
            errors = 0;
        } else if (++errors >= 50) {
            /* the consumer went away (deleted, its stream made again):
             * subscribe again, as at the start */
            blog(1, "fetch keeps failing (%s, %d); subscribing again", natsStatus_GetText(st), (int)jerr);
            natsSubscription_Destroy(sub);
            sub = NULL;
            errors = 0;
            tries = 0;
        } else {
            blog(3, "fetch: %s (%d)", natsStatus_GetText(st), (int)jerr);
            worker_nap(b, 20);
        }
    }
    natsSubscription_Destroy(sub);
    return NULL;
}

/* The worker: the key-value buckets (the directory's watcher, the
 * statistics' puts) and the two pullers' threads, joined before it says
 * it is done. */
static void *worker_main(void *arg)
{
    bridge *b = arg;
    puller pullers[2] = { { .b = b, .is_cmd = false }, { .b = b, .is_cmd = true } };
    for (int i = 0; i < 2; i++)
        pullers[i].started = pthread_create(&pullers[i].thread, NULL, puller_main, &pullers[i]) == 0;
    if (!pullers[0].started || !pullers[1].started)
        blog(0, "cannot start a puller thread: inbound messages are not applied");
    kvStore *dir = NULL, *stats = NULL;
    kvWatcher *watch = NULL;
    int64_t next_try = 0;
    int tries = 0;
    while (!w_stopping(b)) {
        if ((!watch || !stats) && now_ms() >= next_try) {
            int level = tries++ ? 3 : 1;
            if (!dir && js_KeyValue(&dir, b->js, "city_dir") != NATS_OK) {
                blog(level, "key-value bucket city_dir: not there yet; trying again");
                dir = NULL;
            }
            if (dir && !watch && !w_stopping(b)) {
                if (kvStore_WatchAll(&watch, dir, NULL) != NATS_OK)
                    watch = NULL;
                else
                    blog(2, "watching city_dir");
            }
            if (!stats && !w_stopping(b) && js_KeyValue(&stats, b->js, "city_stats") != NATS_OK) {
                blog(level, "key-value bucket city_stats: not there yet; trying again");
                stats = NULL;
            }
            next_try = now_ms() + 2000;
        }
        /* statistics puts */
        pthread_mutex_lock(&b->mu);
        put_req *puts = b->puts;
        b->puts = NULL;
        pthread_mutex_unlock(&b->mu);
        while (puts) {
            put_req *p = puts;
            puts = p->next;
            natsStatus st = stats ? kvStore_Put(NULL, stats, p->key, p->val, (int)p->len) : NATS_ERR;
            if (st != NATS_OK)
                blog(1, "city_stats %s: %s (put again later)", p->key, natsStatus_GetText(st));
            else
                blog(3, "city_stats %s put", p->key);
            free(p->val);
            free(p);
        }
        /* the directory's changes (the first round replays every key) */
        bool got = false;
        for (int n = 0; watch && n < 100; n++) {
            kvEntry *e = NULL;
            if (kvWatcher_Next(&e, watch, n ? 1 : 100) != NATS_OK)
                break;
            if (!e)
                continue; /* "caught up" marker */
            got = true;
            bev *ev = bev_new(EV_DIR);
            ev->key = strdup(kvEntry_Key(e));
            ev->len = (size_t)kvEntry_ValueLen(e);
            ev->val = malloc(ev->len ? ev->len : 1);
            if (!ev->key || !ev->val)
                abort();
            if (ev->len)
                memcpy(ev->val, kvEntry_Value(e), ev->len);
            ev->deleted = kvEntry_Operation(e) != kvOp_Put;
            ev->rev = kvEntry_Revision(e);
            kvEntry_Destroy(e);
            hand_over(b, ev);
        }
        if (!got && !watch)
            worker_nap(b, 100);
    }
    for (int i = 0; i < 2; i++)
        if (pullers[i].started)
            pthread_join(pullers[i].thread, NULL);
    kvWatcher_Destroy(watch);
    kvStore_Destroy(dir);
    kvStore_Destroy(stats);
    hand_over(b, bev_new(EV_WORKER_DONE));
    return NULL;
}

/* ------------------------------------------------------------ the loop */

static void finish(bridge *b);

static void on_wake(uv_async_t *a)
{
    bridge *b = a->data;
    pthread_mutex_lock(&b->mu);
    bev *e = b->qhead;
    b->qhead = b->qtail = NULL;
    pthread_mutex_unlock(&b->mu);
    while (e) {
        bev *next = e->next;
        e->next = NULL;
        switch (e->kind) {
        case EV_PUBACK: handle_puback(b, e); break;
        case EV_INBOUND:
            if (b->stopping) {
                natsMsg_NakWithDelay(e->msg, 1000, NULL);
                inbound_done(b);
            } else {
                handle_inbound(b, e);
            }
            break;
        case EV_DIR:
            if (b->dir_tail)
                b->dir_tail->next = e;
            else
                b->dir_head = e;
            b->dir_tail = e;
            e = NULL; /* kept until whistled took it */
            break;
        case EV_REPLAY:
            if (!b->stopping)
                handle_replay(b, e);
            break;
        case EV_WORKER_DONE: finish(b); break;
        }
        bev_free(e);
        e = next;
    }
    dir_flush(b);
}

static void on_retry(uv_timer_t *t)
{
    bridge *b = t->data;
    publish_more(b);
    dir_flush(b);
}

static void stop_begin(bridge *b)
{
    if (b->stopping)
        return;
    b->stopping = true;
    blog(2, "stopping");
    pthread_mutex_lock(&b->mu);
    b->worker_stop = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    uv_timer_stop(&b->stats_timer);
    uv_timer_stop(&b->retry_timer);
    if (!b->worker_started)
        finish(b);
}

static void on_signal(uv_signal_t *s, int sig)
{
    (void)sig;
    stop_begin(s->data);
}

/* The worker is done: close everything so that the loop ends. */
static void finish(bridge *b)
{
    if (b->worker_started) {
        pthread_join(b->worker, NULL);
        b->worker_started = false;
    }
    if (b->replay_sub) {
        natsSubscription_Unsubscribe(b->replay_sub);
        natsSubscription_Destroy(b->replay_sub);
        b->replay_sub = NULL;
    }
    if (b->rconn) {
        whistle_conn *c = b->rconn;
        b->rconn = NULL;
        whistle_conn_close(c);
    }
    whistle_session_close(b->ws);
    b->ws = NULL;
    if (b->nc)
        natsConnection_Close(b->nc);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
    uv_close((uv_handle_t *)&b->sigint, NULL);
    uv_close((uv_handle_t *)&b->stats_timer, NULL);
    uv_close((uv_handle_t *)&b->retry_timer, NULL);
    uv_close((uv_handle_t *)&b->wake, NULL);
}

static void on_nats_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    blog(1, "NATS: disconnected; reconnecting");
}

static void on_nats_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    blog(2, "NATS: reconnected");
}

static void on_nats_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    blog(2, "NATS: connected");
}

static int nats_start(bridge *b)
{
    const bridge_config *c = b->cfg;
    natsStatus st = natsOptions_Create(&b->nopts);
    /* the URLs, comma-separated */
    char *urls = strdup(c->nats_url), *save = NULL;
    const char *list[16];
    int n = 0;
    for (char *t = strtok_r(urls, ", ", &save); t && n < 16; t = strtok_r(NULL, ", ", &save))
        list[n++] = t;
    if (st == NATS_OK)
        st = natsOptions_SetServers(b->nopts, list, n);
    char name[64];
    snprintf(name, sizeof name, "whistle-bridge %s", c->district);
    if (st == NATS_OK)
        st = natsOptions_SetName(b->nopts, *c->nats_name ? c->nats_name : name);
    if (st == NATS_OK && (*c->nats_ca || *c->nats_cert))
        st = natsOptions_SetSecure(b->nopts, true);
    if (st == NATS_OK && *c->nats_ca)
        st = natsOptions_LoadCATrustedCertificates(b->nopts, c->nats_ca);
    if (st == NATS_OK && *c->nats_cert)
        st = natsOptions_LoadCertificatesChain(b->nopts, c->nats_cert, c->nats_key);
    /* the inbox of replies and pull deliveries: the city lets each user
     * subscribe only below its own prefix */
    char inbox[96];
    snprintf(inbox, sizeof inbox, "_I.bridge-%s", c->district);
    if (st == NATS_OK)
        st = natsOptions_SetCustomInboxPrefix(b->nopts, *c->nats_inbox ? c->nats_inbox : inbox);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(b->nopts, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(b->nopts, 500);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectJitter(b->nopts, 250, 1000);
    if (st == NATS_OK)
        st = natsOptions_SetDisconnectedCB(b->nopts, on_nats_disconnected, b);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectedCB(b->nopts, on_nats_reconnected, b);
    if (st == NATS_OK)
        st = natsOptions_SetRetryOnFailedConnect(b->nopts, true, on_nats_connected, b);
    if (st == NATS_OK)
        st = natsOptions_SetEventLoop(b->nopts, b->loop, natsLibuv_Attach, natsLibuv_Read, natsLibuv_Write,
                                      natsLibuv_Detach);
    free(urls);
    if (st != NATS_OK) {
        fprintf(stderr, "whistle-bridge: NATS options: %s (%s)\n", natsStatus_GetText(st), nats_GetLastError(NULL));
        return -1;
    }
    st = natsConnection_Connect(&b->nc, b->nopts);
    if (st != NATS_OK && st != NATS_NOT_YET_CONNECTED) {
        fprintf(stderr, "whistle-bridge: NATS %s: %s (%s)\n", c->nats_url, natsStatus_GetText(st),
                nats_GetLastError(NULL));
        return -1;
    }
    if (st == NATS_NOT_YET_CONNECTED)
        blog(1, "NATS %s: not reachable yet; retrying", c->nats_url);
    jsOptions jo;
    jsOptions_Init(&jo);
    /* JetStream's API answers within this, or the call is tried again
     * later: a stop never waits long behind one */
    jo.Wait = 3000;
    jo.PublishAsync.AckHandler = on_puback;
    jo.PublishAsync.AckHandlerClosure = b;
    /* our own window (publish_window) bounds what is in flight; libnats's
     * bound is only a backstop, never reached, so a publish never stalls
     * the loop */
    jo.PublishAsync.MaxPending = 1 << 20;
    st = natsConnection_JetStream(&b->js, b->nc, &jo);
    char subj[64];
    snprintf(subj, sizeof subj, "replay.%s", c->district);
    if (st == NATS_OK)
        st = natsConnection_Subscribe(&b->replay_sub, b->nc, subj, on_replay_msg, b);
    if (st != NATS_OK) {
        fprintf(stderr, "whistle-bridge: NATS JetStream: %s (%s)\n", natsStatus_GetText(st), nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

int bridge_run(const bridge_config *c)
{
    bridge *b = calloc(1, sizeof *b);
    if (!b)
        return 1;
    b->cfg = c;
    b->loop = uv_default_loop();
    snprintf(b->stream, sizeof b->stream, "fed:%s", c->district);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    signal(SIGPIPE, SIG_IGN);
    uv_async_init(b->loop, &b->wake, on_wake);
    b->wake.data = b;
    uv_signal_init(b->loop, &b->sigterm);
    uv_signal_init(b->loop, &b->sigint);
    b->sigterm.data = b->sigint.data = b;
    uv_signal_start(&b->sigterm, on_signal, SIGTERM);
    uv_signal_start(&b->sigint, on_signal, SIGINT);
    uv_timer_init(b->loop, &b->stats_timer);
    uv_timer_init(b->loop, &b->retry_timer);
    b->stats_timer.data = b->retry_timer.data = b;

    natsLibuv_Init();
    natsLibuv_SetThreadLocalLoop(b->loop);
    if (nats_start(b)) {
        /* nothing is connected yet: no stop sequence to run */
        if (b->replay_sub)
            natsSubscription_Destroy(b->replay_sub);
        jsCtx_Destroy(b->js);
        natsConnection_Destroy(b->nc);
        natsOptions_Destroy(b->nopts);
        nats_Close();
        free(b);
        return 1;
    }
    b->wopts = (whistle_opts){ .host = c->wd_host,
                               .port = c->wd_port,
                               .ca_file = c->wd_ca,
                               .cert_file = c->wd_cert,
                               .key_file = c->wd_key,
                               .client_name = "whistle-bridge" };
    whistle_session_cbs cbs = { .on_ready = on_ready, .on_live = on_live, .on_push = on_push, .on_down = on_down };
    if (whistle_session_open(b->loop, &b->wopts, &cbs, b, &b->ws) != 0) {
        fprintf(stderr, "whistle-bridge: cannot start the session with whistled\n");
        return 1;
    }
    uv_timer_start(&b->stats_timer, on_stats_timer, 1000, (uint64_t)c->stats_interval * 1000);
    if (pthread_create(&b->worker, NULL, worker_main, b) != 0) {
        fprintf(stderr, "whistle-bridge: cannot start the worker thread\n");
        return 1;
    }
    b->worker_started = true;
    blog(2, "district %s: whistled %s:%u, NATS %s", c->district, c->wd_host, (unsigned)c->wd_port, c->nats_url);
    uv_run(b->loop, UV_RUN_DEFAULT);

    /* the loop ended: every handle is closed */
    out_reset(b);
    free(b->out);
    while (b->dir_head) {
        bev *e = b->dir_head;
        b->dir_head = e->next;
        bev_free(e);
    }
    while (b->replays) {
        replay_req *r = b->replays;
        b->replays = r->next;
        free(r->reply);
        free(r);
    }
    while (b->puts) {
        put_req *p = b->puts;
        b->puts = p->next;
        free(p->val);
        free(p);
    }
    for (int i = 0; i < 2; i++)
        free(b->last_row[i]);
    jsCtx_Destroy(b->js);
    natsConnection_Destroy(b->nc);
    natsOptions_Destroy(b->nopts);
    nats_CloseAndWait(2000);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    uv_loop_close(b->loop);
    blog(2, "stopped");
    free(b);
    return 0;
}
