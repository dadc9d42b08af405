/* test_stream.c: durable push streams. */
#include "helpers_store.h"

TestSuite(stream, .init = h_setup_empty, .fini = h_teardown);

static void append(const char *name, const char *action, stream_touched *t)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Push *p = NEW(Whistle__V1__Push, whistle__v1__push__init);
    p->action = arena_strdup(h_a, action);
    cr_assert_eq(stream_append(h_st, txn, name, h_now, p, t), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

static void ack(const char *name, uint64_t seq)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(stream_ack(h_st, txn, name, seq), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

static uint64_t cursor_of(const char *name)
{
    uint64_t last, cur;
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(stream_meta_get(h_st, txn, name, &last, &cur), 0);
    store_read_end(h_st);
    return cur;
}

Test(stream, seq_is_gapless_from_one_per_stream)
{
    stream_touched t = { 0 };
    for (int i = 0; i < 5; i++)
        append("dept:police", arena_printf(h_a, "a%d", i), &t);
    append("dept:urban", "u", &t);
    h_pushes *ps = h_stream("dept:police", 0);
    cr_assert_eq(ps->n, 5);
    for (size_t i = 0; i < ps->n; i++) {
        cr_assert_eq(ps->p[i]->seq, i + 1);
        cr_assert_str_eq(ps->p[i]->stream, "dept:police");
        cr_assert_eq(ps->p[i]->at_ms, h_now);
    }
    cr_assert_eq(h_last_seq("dept:urban"), 1);
    cr_assert_eq(t.n, 2, "touched holds each stream once");
    stream_touched_clear(&t);
    cr_assert_eq(t.n, 0);
}

Test(stream, an_aborted_append_leaves_no_gap)
{
    append("street:110105001", "one", NULL);
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Push *p = NEW(Whistle__V1__Push, whistle__v1__push__init);
    cr_assert_eq(stream_append(h_st, txn, "street:110105001", h_now, p, NULL), 0);
    mdb_txn_abort(txn);
    append("street:110105001", "two", NULL);
    cr_assert_str_eq(h_actions("street:110105001", 0), "one two");
    cr_assert_eq(h_last_seq("street:110105001"), 2);
}

Test(stream, read_after_seq_and_max)
{
    for (int i = 1; i <= 6; i++)
        append("principal:kiosk-1", arena_printf(h_a, "a%d", i), NULL);
    cr_assert_str_eq(h_actions("principal:kiosk-1", 4), "a5 a6");
    cr_assert_str_eq(h_actions("principal:kiosk-1", 6), "");
    cr_assert_str_eq(h_actions("principal:kiosk-1", 100), "");
    h_pushes ps = { 0 };
    MDB_txn *txn = store_read_begin(h_st);
    int n = stream_read(h_st, txn, "principal:kiosk-1", 1, 2, h_collect, &ps);
    store_read_end(h_st);
    cr_assert_eq(n, 2);
    cr_assert_eq(ps.p[0]->seq, 2);
    cr_assert_eq(ps.p[1]->seq, 3);
}

Test(stream, a_stream_does_not_read_into_a_longer_name)
{
    append("principal:kiosk", "short", NULL);
    append("principal:kiosk-1", "long", NULL);
    append("principal:kiosk-1", "long", NULL);
    cr_assert_str_eq(h_actions("principal:kiosk", 0), "short");
    cr_assert_str_eq(h_actions("principal:kiosk-1", 0), "long long");
    cr_assert_str_eq(h_actions("principal:kios", 0), "");
}

Test(stream, ack_moves_forward_only_and_not_past_the_end)
{
    for (int i = 0; i < 4; i++)
        append("dept:police", "x", NULL);
    cr_assert_eq(cursor_of("dept:police"), 0);
    ack("dept:police", 3);
    cr_assert_eq(cursor_of("dept:police"), 3);
    ack("dept:police", 1);
    cr_assert_eq(cursor_of("dept:police"), 3, "an old ack does not move the cursor back");
    ack("dept:police", 99);
    cr_assert_eq(cursor_of("dept:police"), 4, "an ack past the end stops at last_seq");
}

Test(stream, meta_of_an_unknown_stream_is_zero)
{
    uint64_t last = 7, cur = 7;
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(stream_meta_get(h_st, txn, "dept:nobody", &last, &cur), 0);
    store_read_end(h_st);
    cr_assert_eq(last, 0);
    cr_assert_eq(cur, 0);
}

static Whistle__V1__Principal *who(Whistle__V1__Role role, const char *name, const char *scope, const char *dept)
{
    Whistle__V1__Principal *p = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    p->role = role;
    p->name = arena_strdup(h_a, name);
    p->scope = arena_strdup(h_a, scope);
    p->department = arena_strdup(h_a, dept);
    p->enabled = true;
    return p;
}

Test(stream, default_stream_by_role)
{
    char buf[128];
    stream_default_for(who(WHISTLE__V1__ROLE__ROLE_OPERATOR, "op", "110105001", ""), buf, sizeof buf);
    cr_assert_str_eq(buf, "street:110105001");
    stream_default_for(who(WHISTLE__V1__ROLE__ROLE_DEPARTMENT, "police-desk", "110105", "police"), buf, sizeof buf);
    cr_assert_str_eq(buf, "dept:police");
    stream_default_for(who(WHISTLE__V1__ROLE__ROLE_ADMIN, "admin", "110105", ""), buf, sizeof buf);
    cr_assert_str_eq(buf, "");
    stream_default_for(who(WHISTLE__V1__ROLE__ROLE_KIOSK, "kiosk-1", "110105001001", ""), buf, sizeof buf);
    cr_assert_str_eq(buf, "principal:kiosk-1");
    stream_default_for(who(WHISTLE__V1__ROLE__ROLE_GRID_WORKER, "gw-1", "110105001001001", ""), buf, sizeof buf);
    cr_assert_str_eq(buf, "principal:gw-1");
    stream_default_for(who(WHISTLE__V1__ROLE__ROLE_INTEGRATION, "hotline", "110105", ""), buf, sizeof buf);
    cr_assert_str_eq(buf, "principal:hotline");
}

Test(stream, allowed_matrix)
{
    Whistle__V1__Principal *admin = who(WHISTLE__V1__ROLE__ROLE_ADMIN, "admin", "110105", "");
    Whistle__V1__Principal *op = who(WHISTLE__V1__ROLE__ROLE_OPERATOR, "op", "110105001", "");
    Whistle__V1__Principal *dop = who(WHISTLE__V1__ROLE__ROLE_OPERATOR, "district-op", "110105", "");
    Whistle__V1__Principal *police = who(WHISTLE__V1__ROLE__ROLE_DEPARTMENT, "police", "110105", "police");
    Whistle__V1__Principal *kiosk = who(WHISTLE__V1__ROLE__ROLE_KIOSK, "kiosk-1", "110105001001", "");
    Whistle__V1__Principal *gw = who(WHISTLE__V1__ROLE__ROLE_GRID_WORKER, "gw-1", "110105001001001", "");

    cr_assert(stream_allowed(admin, "dept:police"));
    cr_assert(stream_allowed(admin, "street:110105002"));
    cr_assert(stream_allowed(admin, "principal:kiosk-1"));
    cr_assert_not(stream_allowed(admin, ""));

    cr_assert(stream_allowed(op, "street:110105001"));
    cr_assert_not(stream_allowed(op, "street:110105002"));
    cr_assert_not(stream_allowed(op, "dept:police"));
    cr_assert_not(stream_allowed(op, "principal:op"));
    cr_assert(stream_allowed(dop, "street:110105002"), "a district operator reaches every street in it");
    cr_assert(stream_allowed(dop, "district:110105"));
    /* issue 11, item 17: only real names, not any that start like one */
    cr_assert_not(stream_allowed(op, "street:110105001x"));
    cr_assert_not(stream_allowed(op, "street:1101050017"));
    cr_assert_not(stream_allowed(op, "street:110105001001"));
    cr_assert_not(stream_allowed(dop, "street:110105"));
    cr_assert_not(stream_allowed(dop, "district:1101050"));
    cr_assert_not(stream_allowed(op, "district:110105"), "a street's operator has no district feed");

    cr_assert(stream_allowed(police, "dept:police"));
    cr_assert_not(stream_allowed(police, "dept:urban"));
    cr_assert_not(stream_allowed(police, "dept:police2"));
    cr_assert_not(stream_allowed(police, "street:110105001"));

    cr_assert(stream_allowed(kiosk, "principal:kiosk-1"));
    cr_assert_not(stream_allowed(kiosk, "principal:kiosk-2"));
    cr_assert_not(stream_allowed(kiosk, "principal:kiosk-10"));
    cr_assert_not(stream_allowed(kiosk, "street:110105001"));
    cr_assert(stream_allowed(gw, "principal:gw-1"));
    cr_assert_not(stream_allowed(gw, "dept:police"));
}

/* Issue 13, retention: entries the cursor has passed and older than the
 * bound go, oldest first, at most max a step; never one past the cursor,
 * never one newer than the bound; appends and acks keep the mark. */
static int count_entry(void *ctx, uint64_t seq, const void *bytes, size_t len)
{
    (void)bytes, (void)len;
    uint64_t *c = ctx;
    if (!c[0])
        c[1] = seq; /* the first one read */
    c[0]++;
    return 0;
}

Test(stream, acknowledged_old_entries_are_let_go_in_bounded_steps)
{
    for (int i = 0; i < 10; i++) {
        append("dept:urban", "dispatch", NULL);
        h_now += 1000; /* entry i at T0 + i s */
    }
    ack("dept:urban", 6);
    MDB_txn *txn;
    size_t gone;
    char pos[STREAM_NAME_BUF] = "";
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(stream_trim_next(h_st, txn, pos, T0 + 4500), 1, "dept:urban has entries to let go");
    cr_assert_str_eq(pos, "dept:urban");
    cr_assert_eq(stream_trim(h_st, txn, pos, T0 + 4500, 2, &gone), 0);
    cr_assert_eq(gone, 2, "at most max a step");
    cr_assert_eq(stream_trim(h_st, txn, pos, T0 + 4500, 64, &gone), 0);
    cr_assert_eq(gone, 3, "then up to the bound in time (entries 3, 4, 5)");
    cr_assert_eq(stream_trim(h_st, txn, pos, T0 + 60000, 64, &gone), 0);
    cr_assert_eq(gone, 1, "and never past the cursor (entry 6)");
    cr_assert_eq(mdb_txn_commit(txn), 0);

    append("dept:urban", "dispatch", NULL);
    ack("dept:urban", 8);
    uint64_t last, cur;
    txn = store_read_begin(h_st);
    cr_assert_eq(stream_meta_get(h_st, txn, "dept:urban", &last, &cur), 0);
    cr_assert_eq(last, 11);
    cr_assert_eq(cur, 8);
    uint64_t c[2] = { 0, 0 };
    cr_assert_eq(stream_read(h_st, txn, "dept:urban", 0, 100, count_entry, c), 5);
    cr_assert_eq(c[1], 7, "a replay from 0 starts at the first entry kept");
    store_read_end(h_st);
    /* the mark survived the append and the ack: 7 and 8 go now */
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(stream_trim(h_st, txn, "dept:urban", T0 + 60000, 64, &gone), 0);
    cr_assert_eq(gone, 2);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

/* Schema 4: an entry is stored without its stream and seq (the key holds
 * them), and read back whole, as is one stored with them (before). */
Test(stream, an_entry_is_stored_without_what_its_key_says_and_read_whole)
{
    append("dept:police", "first", NULL);
    /* one as schema 3 stored it: with its stream and seq */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Push *old = NEW(Whistle__V1__Push, whistle__v1__push__init);
    old->stream = "dept:police";
    old->seq = 2;
    old->action = "second";
    uint8_t key[64];
    size_t n = strlen("dept:police");
    memcpy(key, "dept:police", n + 1);
    store_be64(key + n + 1, 2);
    cr_assert_eq(store_put(txn, h_st->streams, key, n + 9, &old->base), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    append("dept:police", "third", NULL); /* seq 2 by the meta: overwrites the hand-made one */
    append("dept:police", "fourth", NULL);

    txn = store_read_begin(h_st);
    store_be64(key + n + 1, 1);
    MDB_val k = { n + 9, key }, v;
    cr_assert_eq(mdb_get(txn, h_st->streams, &k, &v), 0);
    Whistle__V1__Push *raw = whistle__v1__push__unpack(arena_allocator(h_a), v.mv_size, v.mv_data);
    cr_assert(raw);
    cr_assert_str_eq(raw->stream, "", "stored without its stream");
    cr_assert_eq(raw->seq, 0, "stored without its seq");
    cr_assert_str_eq(raw->action, "first");
    store_read_end(h_st);

    h_pushes *ps = h_stream("dept:police", 0);
    cr_assert_eq(ps->n, 3);
    for (size_t i = 0; i < ps->n; i++) {
        cr_assert_str_eq(ps->p[i]->stream, "dept:police");
        cr_assert_eq(ps->p[i]->seq, i + 1); /* h_collect checks it against the key too */
    }
    cr_assert_str_eq(ps->p[2]->action, "fourth");

    /* an entry stored with them reads as it was stored */
    store_be64(key + n + 1, 3);
    old->seq = 3;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(store_put(txn, h_st->streams, key, n + 9, &old->base), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    ps = h_stream("dept:police", 2);
    cr_assert_eq(ps->n, 1);
    cr_assert_str_eq(ps->p[0]->action, "second");
    cr_assert_eq(ps->p[0]->seq, 3);
}
