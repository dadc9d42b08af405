/* community.c: see community.h. */
#include "community.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "board.h"
#include "visit.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

bool community_read(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(GET_HOUSEHOLD): archive_get_household(c, req->get_household); return true;
    case CALL(GET_RESIDENT): archive_get_resident(c, req->get_resident); return true;
    case CALL(LIST_HOUSEHOLDS): archive_list_households(c, req->list_households); return true;
    case CALL(LIST_ARCHIVE_UNITS): archive_list_units(c, req->list_archive_units); return true;
    case CALL(LIST_CARE_TAGS): archive_list_care_tags(c); return true;
    case CALL(EXPORT_ARCHIVE): archive_export(c, req->export_archive); return true;
    case CALL(LIST_VISITS): visit_list(c, req->list_visits); return true;
    case CALL(LIST_VISITS_DUE): visit_list_due(c, req->list_visits_due); return true;
    case CALL(GET_ARCHIVE_STATS): visit_stats(c, req->get_archive_stats); return true;
    case CALL(LIST_BOARD): board_list(c, req->list_board); return true;
    default: return false;
    }
}

bool community_write(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(PUT_HOUSEHOLD): archive_put_household(c, req->put_household); return true;
    case CALL(PUT_RESIDENT): archive_put_resident(c, req->put_resident); return true;
    case CALL(PUT_ARCHIVE_UNIT): archive_put_unit(c, req->put_archive_unit); return true;
    case CALL(SET_CARE_TAGS): archive_set_care_tags(c, req->set_care_tags); return true;
    case CALL(IMPORT_ARCHIVE): archive_import(c, req->import_archive); return true;
    case CALL(RECORD_VISIT): visit_record(c, req->record_visit); return true;
    case CALL(POST_NOTICE): board_post(c, req->post_notice); return true;
    case CALL(WITHDRAW_NOTICE): board_withdraw(c, req->withdraw_notice); return true;
    default: return false;
    }
}

int community_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *b = realloc(buf, cap *= 2);
        if (!b)
            free(buf);
        buf = b;
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    MDB_txn *txn;
    int rc = store_write_begin(st, &txn);
    if (rc) {
        free(buf);
        snprintf(err, errlen, "cannot write the store: %s", store_strerror(rc));
        return -1;
    }
    if (!store_db_empty(txn, st->arc_households)) {
        mdb_txn_commit(txn); /* keeps what store_write_begin flushed */
        free(buf);
        return 0;
    }
    static const Whistle__V1__Principal sys = {
        .base = PROTOBUF_C_MESSAGE_INIT(&whistle__v1__principal__descriptor),
        .name = (char *)"whistled",
        .role = WHISTLE__V1__ROLE__ROLE_ADMIN,
        .scope = (char *)"",
        .department = (char *)"",
        .enabled = 1,
    };
    arena *a = arena_new();
    Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
    whistle__v1__response__init(resp);
    call c = { .st = st, .txn = txn, .who = &sys, .name = "seed_archive", .now = now_ms, .a = a, .resp = resp };
    Whistle__V1__ImportArchive im = WHISTLE__V1__IMPORT_ARCHIVE__INIT;
    im.node = (char *)"";
    im.data.data = (uint8_t *)buf;
    im.data.len = n;
    im.source = (char *)path;
    archive_import(&c, &im);
    int out = 0;
    if (resp->status && resp->status->code != WHISTLE__V1__STATUS__CODE__OK) {
        snprintf(err, errlen, "%s", resp->status->message ? resp->status->message : "refused");
        mdb_txn_abort(txn);
        out = -1;
    } else if ((rc = mdb_txn_commit(txn))) {
        snprintf(err, errlen, "cannot commit the archive seed: %s", store_strerror(rc));
        out = -1;
    }
    arena_free(a);
    free(buf);
    return out;
}
