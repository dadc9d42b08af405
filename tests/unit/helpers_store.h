/* helpers_store.h: a real store in a temp dir, for the tests of store/
 * and of every layer above it (helpers.h adds the calls). */
#ifndef WHISTLE_TEST_HELPERS_STORE_H
#define WHISTLE_TEST_HELPERS_STORE_H

/* Each test file uses some of these helpers, not all. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "audit.h"
#include "seal.h"
#include "store.h"
#include "stream.h"

/* 2026-11-21 08:30 UTC */
#define T0 1795249800000LL
#define SEED_SMALL WHISTLE_SOURCE_DIR "/tests/fixtures/seed-small.json"

static char h_dir[64];
static store *h_st;
static arena *h_a;
static int64_t h_now __attribute__((unused)) = T0;

/* A message of type T made in h_a. */
#define NEW(T, init)                                                                                                   \
    ({                                                                                                                 \
        T *_p = arena_alloc(h_a, sizeof *_p);                                                                          \
        init(_p);                                                                                                      \
        _p;                                                                                                            \
    })

static int h_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void h_rmtree(const char *dir) { nftw(dir, h_rm, 8, FTW_DEPTH | FTW_PHYS); }

static void h_mkdir(void)
{
    strcpy(h_dir, "/tmp/whistle-unit-XXXXXX");
    cr_assert(mkdtemp(h_dir), "mkdtemp");
    h_a = arena_new();
}

static void h_open_opts(const store_opts *o)
{
    char err[512] = "";
    int rc = store_open(&h_st, h_dir, o, err, sizeof err);
    cr_assert_eq(rc, 0, "store_open: %s", err);
    cr_assert_eq(audit_attach(h_st), 0);
}

/* The audit log's records (its table holds its index rows too: audit.h). */
static size_t __attribute__((unused)) h_audit_records(void)
{
    MDB_txn *txn = store_read_begin(h_st);
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->audit, &cur), 0);
    uint8_t first = AUDIT_LOG_TAG;
    MDB_val k = { 1, &first }, v;
    size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && audit_is_record_key(k.mv_data, k.mv_size);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n++;
    mdb_cursor_close(cur);
    store_read_end(h_st);
    return n;
}

/* A fresh store, empty. */
static void h_setup_empty(void)
{
    h_mkdir();
    h_open_opts(NULL);
}

static void h_teardown(void)
{
    /* the keys are the program's, not the store's (main.c frees them) */
    if (h_st)
        seal_keys_free(h_st->archive_keys);
    store_close(h_st);
    h_st = NULL;
    arena_free(h_a);
    h_a = NULL;
    if (h_dir[0])
        h_rmtree(h_dir);
}

/* Gives the store a fixed test key set (index key 0x11.., sealing key id
 * 1 = 0x22..), as main.c does from [archive] key_file. */
static void h_archive_keys(void)
{
    uint8_t ik[SEAL_KEY_LEN], k[SEAL_KEY_LEN];
    memset(ik, 0x11, sizeof ik);
    memset(k, 0x22, sizeof k);
    h_st->archive_keys = seal_keys_from(ik, 1, k);
    cr_assert(h_st->archive_keys);
}

/* An ID-card number (GB 11643) from its first 17 digits: the check digit
 * added. In h_a. */
static const char *h_idcard(const char *first17)
{
    static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (first17[i] - '0') * w[i];
    char *s = arena_alloc(h_a, 19);
    memcpy(s, first17, 17);
    s[17] = "10X98765432"[sum % 11];
    s[18] = 0;
    return s;
}

/* ------------------------------------------------------------ streams */

typedef struct h_pushes {
    Whistle__V1__Push *p[256];
    size_t n;
} h_pushes;

static int h_collect(void *ctx, uint64_t seq, const void *bytes, size_t len)
{
    h_pushes *ps = ctx;
    Whistle__V1__Push *p = whistle__v1__push__unpack(arena_allocator(h_a), len, bytes);
    cr_assert(p, "push %llu does not unpack", (unsigned long long)seq);
    cr_assert_eq(p->seq, seq);
    if (ps->n < 256)
        ps->p[ps->n++] = p;
    return 0;
}

/* Every entry of the stream after after_seq. */
static h_pushes *h_stream(const char *name, uint64_t after_seq)
{
    h_pushes *ps = arena_alloc(h_a, sizeof *ps);
    MDB_txn *txn = store_read_begin(h_st);
    int n = stream_read(h_st, txn, name, after_seq, 1000, h_collect, ps);
    store_read_end(h_st);
    cr_assert(n >= 0, "stream_read %s: %d", name, n);
    return ps;
}

static uint64_t h_last_seq(const char *name)
{
    uint64_t last = 0, cursor = 0;
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(stream_meta_get(h_st, txn, name, &last, &cursor), 0);
    store_read_end(h_st);
    return last;
}

/* The actions of a stream after after_seq, joined by spaces. */
static const char *h_actions(const char *name, uint64_t after_seq)
{
    h_pushes *ps = h_stream(name, after_seq);
    char *s = arena_strdup(h_a, "");
    for (size_t i = 0; i < ps->n; i++)
        s = arena_printf(h_a, "%s%s%s", s, i ? " " : "", ps->p[i]->action);
    return s;
}

#endif
