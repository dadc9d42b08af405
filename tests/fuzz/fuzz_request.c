/* libFuzzer target: one frame through the router and the api, on a real
 * store seeded with the demo city.
 *
 * The input is one byte, then one Frame as a connection would deliver it
 * (without its length prefix). The byte's low 4 bits pick the calling
 * principal (names[] below; "nobody" and "stranger" are not principals),
 * bit 4 set means the session has not said Hello yet. router_frame then
 * decodes, checks and answers the frame exactly as for a connection: the
 * session rules, UTF-8, Hello, Ping, Subscribe, PushAck, chunked imports
 * and every read and write of the api. The connection's side (net/conn.c) is replaced by
 * the stubs below: every answer is packed as the server would send it, a write
 * runs through api_write in a write transaction that is then aborted, an
 * ack moves a cursor in an aborted transaction, a subscription reads its
 * stream. Nothing is ever committed, so every input sees the same store and
 * a crash reproduces from its input alone. Nothing may crash, leak, read
 * out of bounds or produce an answer that does not pack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "community.h"
#include "config.h"
#include "log.h"
#include "router.h"
#include "seal.h"

#define NOW_MS 1763769600000LL

static store *st;
static config cfg;
static hub fake_hub;
static conn fake;
static const char *names[16] = { "admin", "operator", "operator2", "police",    "urban",  "gridworker",
                                 "kiosk", "hotline",  "sensor",    "community", "nobody", "market",
                                 "fire",  "housing",  "gateway",   "stranger" };

static void fake_reload_tls(conn *c, uint64_t id);
static void fake_stats_reply(conn *c, uint64_t id);

static void open_store(void)
{
    char dir[] = "/tmp/whistle-fuzz-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    store_opts o = { 0 };
    o.sync = STORE_SYNC_NONE;
    char err[512];
    if (store_open(&st, dir, &o, err, sizeof err) != 0 || audit_attach(st) != 0 ||
        api_seed(st, WHISTLE_SOURCE_DIR "/conf/demo-city.json", NOW_MS, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        abort();
    }
    /* the archive's keys and its demo households, so that archive calls
     * reach the sealing and the records (docs/archive.md) */
    uint8_t ik[SEAL_KEY_LEN], k1[SEAL_KEY_LEN];
    memset(ik, 0x5a, sizeof ik);
    memset(k1, 0xa5, sizeof k1);
    char csv[600];
    snprintf(csv, sizeof csv, "%s/archive.csv", dir);
    FILE *f = fopen(csv, "w");
    if (!f)
        abort();
    fputs("grid,building,unit,room,name,id_number,phone,birth_date,relation,tags,last_visit\n"
          "110105001001001,3号楼,1单元,201,赵老太,11010519380512004X,13911112222,,户主,alone,2025-11-01\n"
          "110105001001001,3号楼,1单元,202,钱先生,110105197002030014,010-65432100,,户主,,\n"
          "110105001001001,3号楼,1单元,202,钱小妹,,,2015-06-01,子女,left_behind_child,\n"
          "110105001001002,1号楼,2单元,301,孙大爷,,13800138000,1940-02-02,户主,empty_nest|disabled,\n",
          f);
    fclose(f);
    if (!(st->archive_keys = seal_keys_from(ik, 1, k1)) || community_seed(st, csv, NOW_MS, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz setup: the archive: %s\n", err);
        abort();
    }
    config_defaults(&cfg);
    fake_hub.st = st;
    fake_hub.lim.max_frame = cfg.max_frame;
    fake_hub.lim.max_in_flight = cfg.max_in_flight;
    fake_hub.reload_tls = fake_reload_tls;
    fake_hub.stats_reply = fake_stats_reply;
    /* refusals are logged at warn: a line per input would drown the
     * fuzzer's own output */
    log_set_level(LOG_LVL_ERROR);
}

/* ---- the server's side of router.c, stubbed ---- */

int64_t hub_now_ms(hub *h)
{
    (void)h;
    return NOW_MS;
}

void conn_close(conn *c, const char *why)
{
    (void)why;
    c->closing = true;
}

/* What conn_send_response does before the socket: the answer must pack
 * into a frame (or be replaced by the small error that always fits). */
static void pack_answer(const Whistle__V1__Response *resp)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_RESPONSE;
    f.response = (Whistle__V1__Response *)resp;
    uint8_t *out;
    size_t len;
    if (whistle_frame_pack(&f, cfg.max_frame, &out, &len) == 0)
        free(out);
}

void conn_send_response(conn *c, const Whistle__V1__Response *resp)
{
    (void)c;
    if (!resp->status)
        abort(); /* every answer carries a status */
    pack_answer(resp);
}

/* the metrics' counters are the real conn.c's business */
void hub_count(hub *h, int call_case, int code) { (void)h, (void)call_case, (void)code; }

void conn_submit(conn *c, intent *it)
{
    MDB_txn *txn;
    if (store_write_begin(st, &txn) != 0)
        abort();
    if (it->kind == INTENT_REQUEST) {
        arena *a = arena_new();
        Whistle__V1__Frame *f = whistle__v1__frame__unpack(arena_allocator(a), it->frame_len, it->frame);
        if (!f || f->kind_case != WHISTLE__V1__FRAME__KIND_REQUEST)
            abort(); /* the router decoded it already */
        Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
        whistle__v1__response__init(resp);
        Whistle__V1__Principal *caller = api_principal(st, txn, it->principal, a);
        /* act_as, as the writer resolves it */
        const Whistle__V1__Principal *who =
            caller ? api_acting(st, txn, caller, f->request->act_as, "fuzz", NOW_MS, a, resp, NULL) : NULL;
        MDB_txn *child;
        if (who && mdb_txn_begin(st->env, txn, 0, &child) == 0) {
            stream_touched t = { 0 };
            audit_via_set(who != caller ? caller->name : NULL);
            api_write(st, child, who, f->request, NOW_MS, a, resp, &t);
            audit_via_set(NULL);
            stream_touched_clear(&t);
            mdb_txn_abort(child);
            if (!resp->status)
                abort();
            pack_answer(resp);
        }
        arena_free(a);
    } else if (it->kind == INTENT_ACK) {
        stream_ack(st, txn, it->ack_stream, it->ack_seq);
    } else if (it->kind == INTENT_AUDIT) {
        /* an audited read: its answer is ready; the audit record is written
         * (and dropped with the transaction) */
        audit_read_append(st, txn, NOW_MS, it->principal, it->audit_call, it->audit_target, it->audit_what);
    }
    mdb_txn_abort(txn);
    /* A barrier (Subscribe from the cursor) comes back and the subscription
     * goes on, as on_writer_done does it. */
    if (it->kind == INTENT_BARRIER && !c->closing)
        router_after_barrier(c, it->frame, it->frame_len);
    intent_free(it);
}

static void fake_reload_tls(conn *c, uint64_t id)
{
    /* the certificates are not the fuzzer's business: a reload that
     * checked nothing and closed nothing */
    Whistle__V1__ReloadResult r = WHISTLE__V1__RELOAD_RESULT__INIT;
    Whistle__V1__Status ok = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &ok;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_RELOAD;
    resp.reload = &r;
    conn_send_response(c, &resp);
}

static void fake_stats_reply(conn *c, uint64_t id)
{
    /* the counters are the server's; an empty reading packs the same way */
    Whistle__V1__ServerStatsResult r = WHISTLE__V1__SERVER_STATS_RESULT__INIT;
    r.sync = "none";
    Whistle__V1__Status status = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &status;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_SERVER_STATS;
    resp.server_stats = &r;
    conn_send_response(c, &resp);
}

static int visit(void *ctx, uint64_t seq, const void *bytes, size_t len)
{
    (void)ctx, (void)seq;
    Whistle__V1__Push *p = whistle__v1__push__unpack(NULL, len, bytes);
    if (!p)
        abort(); /* stored pushes always unpack */
    whistle__v1__push__free_unpacked(p, NULL);
    return 0;
}

/* The fake connection keeps no subscriptions: each one is new, and the
 * bound is the real conn.c's business (test_abuse checks it). */
bool conn_may_subscribe(conn *c, const char *stream)
{
    (void)c, (void)stream;
    return true;
}

int conn_subscribe(conn *c, const char *stream, uint64_t after_seq, const char *act_as)
{
    (void)c, (void)act_as;
    MDB_txn *txn = store_read_begin(st);
    if (txn)
        stream_read(st, txn, stream, after_seq, 64, visit, NULL);
    store_read_end(st);
    return 0;
}

/* ---- the target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        open_store();
    if (size < 1)
        return 0;
    router_conn_free(&fake); /* an upload left by the previous input */
    memset(&fake, 0, sizeof fake);
    fake.hub = &fake_hub;
    snprintf(fake.peer, sizeof fake.peer, "fuzz:1");
    snprintf(fake.cn, sizeof fake.cn, "%s", names[data[0] & 15]);
    fake.hello_done = !(data[0] & 16);
    router_frame(&fake, data + 1, size - 1);
    return 0;
}
