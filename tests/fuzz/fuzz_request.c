/* libFuzzer target: request decoding and validation through the api, on a
 * real store seeded with the demo city.
 *
 * The first byte picks the calling principal; the rest is a Frame. Reads
 * run in a read transaction, writes in a write transaction that is always
 * aborted, so every input sees the same store and a crash reproduces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "server.h"

static store *st;
static const char *names[] = {"admin",  "operator", "operator2", "police", "urban",  "gridworker",
                              "kiosk",  "hotline",  "sensor",    "community", "nobody"};

static void open_store(void)
{
    char dir[] = "/tmp/whistle-fuzz-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    store_opts o = {0};
    o.sync = STORE_SYNC_NONE;
    char err[512];
    if (store_open(&st, dir, &o, err, sizeof err) != 0 ||
        api_seed(st, WHISTLE_SOURCE_DIR "/conf/demo-city.json", 1763769600000, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        open_store();
    if (size < 1)
        return 0;
    const char *who_name = names[data[0] % (sizeof names / sizeof *names)];
    arena *a = arena_new();
    Whistle__V1__Frame *f = whistle__v1__frame__unpack(arena_allocator(a), size - 1, data + 1);
    if (!f || f->kind_case != WHISTLE__V1__FRAME__KIND_REQUEST || router_check_utf8(&f->base) ||
        f->request->call_case == WHISTLE__V1__REQUEST__CALL__NOT_SET) {
        arena_free(a);
        return 0;
    }
    Whistle__V1__Request *req = f->request;
    Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
    whistle__v1__response__init(resp);
    if (api_is_write(req)) {
        MDB_txn *txn;
        if (store_write_begin(st, &txn) != 0)
            abort();
        Whistle__V1__Principal *who = api_principal(st, txn, who_name, a);
        if (who) {
            stream_touched t = {0};
            api_write(st, txn, who, req, 1763769600000, a, resp, &t);
            stream_touched_clear(&t);
        }
        mdb_txn_abort(txn);
    } else {
        MDB_txn *txn = store_read_begin(st);
        Whistle__V1__Principal *who = api_principal(st, txn, who_name, a);
        if (who)
            api_read(st, txn, who, req, 1763769600000, a, resp);
        store_read_end(st);
    }
    /* every answer must pack */
    if (resp->status || resp->result_case) {
        size_t n = whistle__v1__response__get_packed_size(resp);
        uint8_t *buf = malloc(n ? n : 1);
        whistle__v1__response__pack(resp, buf);
        free(buf);
    }
    arena_free(a);
    return 0;
}
