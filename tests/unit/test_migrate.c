/* test_migrate.c: stores written by the releases before this layout are
 * migrated at open (the fixtures were made by those releases' whistled
 * with scripts/make-store-fixture.sh): schema 1, a case's timeline inside
 * its record; schema 2, the timeline in a table ev_timeline of its own;
 * schema 3, the audit's rows by target all in the log's table. A backup
 * copy first, then the timelines move to rows after their case's record
 * in events, and the audit rows by target of a case and its orders after
 * them, and whistled --check finds nothing wrong, before and after. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "audit.h"
#include "check.h"

#define FIXTURE WHISTLE_SOURCE_DIR "/tests/fixtures/store-schema1.mdb"
#define FIXTURE2 WHISTLE_SOURCE_DIR "/tests/fixtures/store-schema2.mdb"
#define FIXTURE3 WHISTLE_SOURCE_DIR "/tests/fixtures/store-schema3.mdb"
/* the fixture's cases (report, file, assign, resolve, failed verify; report,
 * file, whistle to police and urban, check-in, feedback; report, reject) */
#define T1 "E2026120300001"
#define T2 "E2026120300002"
#define T3 "E2026120300003"

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(in && out, "copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        cr_assert_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void setup(void)
{
    h_mkdir();
    copy_file(FIXTURE, arena_printf(h_a, "%s/data.mdb", h_dir));
}

/* After the suite's setup: the schema 2 (3) fixture in place of the other. */
static void setup2(void) { copy_file(FIXTURE2, arena_printf(h_a, "%s/data.mdb", h_dir)); }
static void setup3(void) { copy_file(FIXTURE3, arena_printf(h_a, "%s/data.mdb", h_dir)); }

TestSuite(migrate, .init = setup, .fini = h_teardown);

/* The rows after the cases' records in events (store.h): the keys that
 * hold a NUL, ticket | 0x00 | u32 index for a timeline entry (audit
 * false), ticket | 0x00 | AUDIT_CASE_ROW | ... for an audit row by target
 * (audit true). */
static size_t case_rows(MDB_txn *txn, bool audit)
{
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->events, &cur), 0);
    MDB_val k, v;
    size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *nul = memchr(k.mv_data, 0, k.mv_size);
        if (!nul)
            continue;
        size_t after = k.mv_size - (size_t)(nul - (const uint8_t *)k.mv_data);
        n += (after > 5 && nul[1] == AUDIT_CASE_ROW) == audit;
    }
    mdb_cursor_close(cur);
    return n;
}
static size_t timeline_rows(MDB_txn *txn) { return case_rows(txn, false); }

/* The audit log's rows by target left in its own table. */
static size_t log_target_rows(MDB_txn *txn)
{
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->audit, &cur), 0);
    uint8_t first = AUDIT_IX_TARGET;
    MDB_val k = { 1, &first }, v;
    size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && ((uint8_t *)k.mv_data)[0] == AUDIT_IX_TARGET;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n++;
    mdb_cursor_close(cur);
    return n;
}

static int run_check(const char *dir, const char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char err[512] = "";
    check_report rep;
    int rc = check_store(dir, f, &rep, err, sizeof err);
    fclose(f);
    *out = arena_printf(h_a, "%s%s", buf ? buf : "", err);
    free(buf);
    return rc;
}

static uint32_t schema_of(MDB_txn *txn)
{
    MDB_val k = { 6, "schema" }, v;
    cr_assert_eq(mdb_get(txn, h_st->meta, &k, &v), 0);
    cr_assert_eq(v.mv_size, 4);
    const uint8_t *p = v.mv_data;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The backup directory the migration made, or NULL. */
static const char *backup_dir_of(const char *prefix)
{
    DIR *d = opendir(h_dir);
    cr_assert(d);
    const char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            found = arena_printf(h_a, "%s/%s", h_dir, e->d_name);
    closedir(d);
    return found;
}

static const char *backup_dir(void) { return backup_dir_of("backup-schema1-"); }

Test(migrate, a_schema_1_store_is_migrated_after_a_backup_and_checks_clean)
{
    const char *out;
    cr_assert_eq(run_check(h_dir, &out), 0, "the fixture checks clean as it is: %s", out);
    cr_assert_null(backup_dir());

    h_open_opts(NULL);
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(schema_of(txn), STORE_SCHEMA_VERSION);
    /* 5 + (report, file, whistle, 2 dispatch, check_in, feedback) + 2 */
    size_t rows = timeline_rows(txn);
    cr_assert_eq(rows, 5 + 7 + 2, "%zu timeline rows", rows);
    MDB_dbi gone;
    cr_assert_eq(mdb_dbi_open(txn, "ev_timeline", 0, &gone), MDB_NOTFOUND, "no table of its own");
    store_read_end(h_st);

    /* the copy taken first is the old store, whole */
    const char *bk = backup_dir();
    cr_assert(bk, "a backup copy is taken before migrating");
    struct stat sb;
    cr_assert_eq(stat(arena_printf(h_a, "%s/data.mdb", bk), &sb), 0);
    cr_assert_eq(run_check(bk, &out), 0, "the backup checks clean: %s", out);

    /* the cases read as before, their timelines from the new rows */
    Whistle__V1__Event *e = h_get("op-jianwai", T1);
    cr_assert_eq(e->timeline_total, 5);
    cr_assert_eq(e->n_timeline, 5);
    cr_assert_str_eq(e->timeline[0]->action, "report");
    cr_assert_str_eq(e->timeline[4]->action, "verify");
    e = h_get("op-jianwai", T2);
    cr_assert_eq(e->timeline_total, 7);
    cr_assert_str_eq(e->timeline[6]->action, "feedback");
    cr_assert_eq(h_get("admin", T3)->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_REJECTED);

    /* and go on: a new step lands after the migrated ones */
    Whistle__V1__Request *r = rq_ticket(CALL(RESOLVE), T1);
    r->resolve->note = "filled again";
    Whistle__V1__Response *w = h_write("gw-1", r);
    assert_ok(w);
    cr_assert_eq(w->event->timeline_total, 6);
    cr_assert_eq(w->event->timeline_from, 5);
    e = h_get("op-jianwai", T1);
    cr_assert_eq(e->n_timeline, 6);
    cr_assert_str_eq(e->timeline[5]->action, "resolve");

    store_close(h_st);
    h_st = NULL;
    cr_assert_eq(run_check(h_dir, &out), 0, "the migrated store checks clean: %s", out);

    /* a second open finds nothing to migrate */
    h_open_opts(NULL);
    store_close(h_st);
    h_st = NULL;
    DIR *d = opendir(h_dir);
    int backups = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        backups += strncmp(de->d_name, "backup-schema", 13) == 0;
    closedir(d);
    cr_assert_eq(backups, 1, "migrated once");
}

/* A schema 2 store (made by the release before this one): its table
 * ev_timeline empties into events, after each case's record, and goes;
 * the cases read as before and go on. */
Test(migrate, a_schema_2_store_gets_its_timelines_beside_their_cases, .init = setup2)
{
    const char *out;
    cr_assert_eq(run_check(h_dir, &out), 0, "the fixture checks clean as it is: %s", out);
    h_open_opts(NULL);
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(schema_of(txn), STORE_SCHEMA_VERSION);
    size_t rows = timeline_rows(txn);
    cr_assert_eq(rows, 5 + 7 + 2, "%zu timeline rows", rows);
    MDB_dbi gone;
    static const char *const folded[] = { "ev_timeline", "audit_by_time", "audit_by_principal", "audit_by_target",
                                          "idem_by_time" };
    for (size_t i = 0; i < sizeof folded / sizeof *folded; i++)
        cr_assert_eq(mdb_dbi_open(txn, folded[i], 0, &gone), MDB_NOTFOUND, "%s went", folded[i]);
    /* the audit's indexes answer from their new rows: the case's records
     * by target, newest first, and a principal's */
    Whistled__AuditRecord **recs;
    size_t n;
    char *next;
    cr_assert_eq(audit_query_newest(h_st, txn, "", T1, 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 5, "report, file, assign, resolve, verify: %zu", n);
    cr_assert_str_eq(recs[0]->call, "verify");
    cr_assert_eq(audit_query(h_st, txn, "police", "", 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    bool checked_in = false, fed_back = false;
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(recs[i]->principal, "police");
        checked_in |= strcmp(recs[i]->call, "check_in") == 0;
        fed_back |= strcmp(recs[i]->call, "feedback") == 0;
    }
    cr_assert(checked_in && fed_back, "the department's check-in and feedback among its %zu records", n);
    /* every write carried an idempotency key: their rows by age came along */
    cr_assert(store_idem_due(h_st, txn, INT64_MAX));
    cr_assert(!store_idem_due(h_st, txn, 0));
    store_read_end(h_st);
    const char *bk = backup_dir_of("backup-schema2-");
    cr_assert(bk, "a backup copy is taken before migrating");
    cr_assert_eq(run_check(bk, &out), 0, "the backup checks clean: %s", out);

    Whistle__V1__Event *e = h_get("op-jianwai", T1);
    cr_assert_eq(e->timeline_total, 5);
    cr_assert_eq(e->n_timeline, 5);
    cr_assert_str_eq(e->timeline[0]->action, "report");
    cr_assert_str_eq(e->timeline[4]->action, "verify");
    cr_assert_str_eq(h_get("op-jianwai", T2)->timeline[6]->action, "feedback");
    Whistle__V1__Request *r = rq_ticket(CALL(RESOLVE), T1);
    r->resolve->note = "filled again";
    assert_ok(h_write("gw-1", r));
    e = h_get("op-jianwai", T1);
    cr_assert_eq(e->n_timeline, 6);
    cr_assert_str_eq(e->timeline[5]->action, "resolve");
    /* the cases newest first walk events: one row each, not theirs too */
    Whistle__V1__Request *q = rq_list_events(0, NULL, 0, NULL);
    q->list_events->newest_first = true;
    Whistle__V1__Response *l = h_read("admin", q);
    assert_ok(l);
    cr_assert_eq(l->events->n_events, 3);
    cr_assert_str_eq(l->events->events[0]->ticket, T3);
    cr_assert_str_eq(l->events->events[2]->ticket, T1);

    store_close(h_st);
    h_st = NULL;
    cr_assert_eq(run_check(h_dir, &out), 0, "the migrated store checks clean: %s", out);
}

/* A schema 3 store (made by the release before this one): the audit's
 * rows by target of a case and of its orders move beside the case in
 * events, after its timeline; the queries by target answer as before,
 * from there, and new records' rows go there too. */
Test(migrate, a_schema_3_store_gets_its_case_audit_rows_beside_the_case, .init = setup3)
{
    const char *out;
    cr_assert_eq(run_check(h_dir, &out), 0, "the fixture checks clean as it is: %s", out);
    h_open_opts(NULL);
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(schema_of(txn), STORE_SCHEMA_VERSION);
    cr_assert_eq(timeline_rows(txn), 5 + 7 + 2);
    /* T1: report, file, assign, resolve, verify; T2: report, file,
     * whistle, and its two orders' dispatch, check-in and feedback; T3:
     * report, reject */
    size_t moved = case_rows(txn, true);
    cr_assert_geq(moved, 5 + 3 + 2 + 2 + 2, "%zu rows by target beside their cases", moved);
    /* what stays in the log's table names no case or order (the seed's
     * directory records) */
    size_t left = log_target_rows(txn);
    Whistled__AuditRecord **recs;
    size_t n;
    char *next;
    cr_assert_eq(audit_query(h_st, txn, "", "E*", 0, 0, "", 1000, h_a, &recs, &n, &next), 0);
    size_t of_cases = n;
    cr_assert_eq(audit_query(h_st, txn, "", "order:*", 0, 0, "", 1000, h_a, &recs, &n, &next), 0);
    cr_assert_eq(of_cases + n, moved, "every row of a case's or order's record moved: %zu + %zu, %zu moved", of_cases,
                 n, moved);
    cr_assert_gt(left, 0, "the directory's rows stay");

    /* the queries by target answer from the moved rows */
    cr_assert_eq(audit_query_newest(h_st, txn, "", T1, 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 5, "report, file, assign, resolve, verify: %zu", n);
    cr_assert_str_eq(recs[0]->call, "verify");
    cr_assert_str_eq(recs[4]->call, "report");
    /* one of T2's orders: dispatched, checked in, fed back (by police) */
    cr_assert_eq(audit_query(h_st, txn, "police", "order:*", 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    cr_assert_geq(n, 2);
    const char *order = arena_strdup(h_a, recs[0]->target);
    cr_assert_eq(audit_query(h_st, txn, "", order, 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 3, "%s: whistle, check_in, feedback: %zu", order, n);
    cr_assert_str_eq(recs[0]->call, "whistle");
    cr_assert_str_eq(recs[2]->call, "feedback");
    /* paged, one at a time, in both orders */
    const char *cursor = "";
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(audit_query(h_st, txn, "", T1, 0, 0, cursor, 1, h_a, &recs, &n, &next), 0);
        cr_assert_eq(n, 1);
        cr_assert_eq(*next != 0, i < 4, "page %d", i);
        cursor = next;
    }
    cursor = "";
    const char *calls[] = { "verify", "resolve", "assign", "file", "report" };
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(audit_query_newest(h_st, txn, "", T1, 0, 0, cursor, 1, h_a, &recs, &n, &next), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(recs[0]->call, calls[i]);
        cursor = next;
    }
    /* the idempotency records (every write of the fixture had a key) are
     * keyed key | 0x00 | principal now, and their rows by age name them so */
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->idem, &cur), 0);
    MDB_val k, v;
    size_t records = 0, by_age = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *p = k.mv_data;
        size_t len = k.mv_size;
        if (p[0] == 0) {
            by_age++;
            cr_assert_gt(len, 9);
            p += 9;
            len -= 9;
        } else
            records++;
        const char *nul = memchr(p, 0, len);
        cr_assert(nul, "a NUL in the key");
        const char *who = arena_strndup(h_a, nul + 1, len - (size_t)(nul - p) - 1);
        cr_assert(strcmp(who, "gw-1") == 0 || strcmp(who, "op-jianwai") == 0 || strcmp(who, "police") == 0,
                  "the principal after the key: \"%s\"", who);
        uint8_t *want;
        size_t wl = store_idem_key(who, arena_strndup(h_a, p, (size_t)(nul - p)), &want);
        cr_assert(wl == len && memcmp(want, p, len) == 0);
        free(want);
    }
    mdb_cursor_close(cur);
    cr_assert_eq(records, 12, "%zu records", records);
    cr_assert_eq(by_age, records);
    store_read_end(h_st);
    cr_assert(backup_dir_of("backup-schema3-"), "a backup copy is taken before migrating");

    /* a new step: its record's row goes beside the case too */
    Whistle__V1__Request *r = rq_ticket(CALL(RESOLVE), T1);
    r->resolve->note = "filled again";
    assert_ok(h_write("gw-1", r));
    txn = store_read_begin(h_st);
    cr_assert_eq(case_rows(txn, true), moved + 1);
    cr_assert_eq(log_target_rows(txn), left);
    cr_assert_eq(audit_query_newest(h_st, txn, "", T1, 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 6);
    /* (the tests' clock is days before the fixture's: the new record is
     * the oldest by time) */
    cr_assert_str_eq(recs[5]->call, "resolve");
    store_read_end(h_st);
    /* the cases newest first: one row each, whatever follows their records */
    Whistle__V1__Request *q = rq_list_events(0, NULL, 0, NULL);
    q->list_events->newest_first = true;
    Whistle__V1__Response *l = h_read("admin", q);
    assert_ok(l);
    cr_assert_eq(l->events->n_events, 3);
    cr_assert_str_eq(l->events->events[0]->ticket, T3);
    cr_assert_str_eq(l->events->events[2]->ticket, T1);
    store_close(h_st);
    h_st = NULL;
    cr_assert_eq(run_check(h_dir, &out), 0, "the migrated store checks clean: %s", out);
}

/* A record about an order that does not exist yet (a refused look-up)
 * keeps its row in the log's table; once the order exists, its rows go
 * beside its case, and a query by that order reads both, in time order. */
Test(migrate, a_target_that_came_later_reads_from_both_places)
{
    h_open_opts(NULL);
    MDB_txn *txn = store_read_begin(h_st);
    MDB_stat ms;
    cr_assert_eq(mdb_stat(txn, h_st->orders, &ms), 0);
    store_read_end(h_st);
    /* ids are given in order from 1, and none goes */
    const char *order = arena_printf(h_a, "order:%llu", (unsigned long long)ms.ms_entries + 1);
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(audit_append(h_st, txn, 1000, "nobody", "get_order", order, NULL, 0, NULL), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    const char *t = arena_strdup(h_a, h_report_as("gw-1", "110105001001001"));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Response *w = h_write("op-jianwai", rq_whistle(t, 1, "urban"));
    assert_ok(w);
    cr_assert_str_eq(arena_printf(h_a, "order:%llu", (unsigned long long)w->whistle->orders[0]->id), order);
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), w->whistle->orders[0]->id, "on the way")));

    txn = store_read_begin(h_st);
    Whistled__AuditRecord **recs;
    size_t n;
    char *next;
    cr_assert_eq(audit_query(h_st, txn, "", order, 0, 0, "", 100, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 3, "%zu", n);
    cr_assert_str_eq(recs[0]->call, "get_order");
    cr_assert_str_eq(recs[1]->call, "whistle");
    cr_assert_str_eq(recs[2]->call, "check_in");
    const char *calls[] = { "check_in", "whistle", "get_order" };
    const char *cursor = "";
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(audit_query_newest(h_st, txn, "", order, 0, 0, cursor, 1, h_a, &recs, &n, &next), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(recs[0]->call, calls[i]);
        cursor = next;
    }
    cr_assert_str_eq(cursor, "", "no page after the last");
    /* oldest first, a page of one at a time, across both places */
    const char *asc[] = { "get_order", "whistle", "check_in" };
    cursor = "";
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(audit_query(h_st, txn, "", order, 0, 0, cursor, 1, h_a, &recs, &n, &next), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(recs[0]->call, asc[i]);
        cursor = next;
    }
    cr_assert_str_eq(cursor, "", "no page after the last");
    /* a cursor of one order is refused by the other */
    cr_assert_eq(audit_query(h_st, txn, "", order, 0, 0, "", 1, h_a, &recs, &n, &next), 0);
    cr_assert_eq(audit_query_newest(h_st, txn, "", order, 0, 0, next, 1, h_a, &recs, &n, &next), EINVAL);
    store_read_end(h_st);
    store_close(h_st);
    h_st = NULL;
    const char *out;
    cr_assert_eq(run_check(h_dir, &out), 0, "checks clean: %s", out);
}

/* Schema 4 keeps a checked-in order's rows in the state indexes with the
 * pending ones (order_record.h): a schema 3 store's rows of checked-in
 * orders move there. The store is made schema 3 by hand: T2's urban order
 * checked in, its rows put back under the checked-in byte, the version
 * set back (and no idempotency records, which schema 3 keyed the other
 * way round). */
Test(migrate, a_checked_in_orders_rows_join_the_open_ones)
{
    h_open_opts(NULL);
    Whistle__V1__Request *q = rq_list_orders("urban", NULL, 50, 0);
    Whistle__V1__Response *r = h_read("urban", q);
    assert_ok(r);
    cr_assert_eq(r->orders->n_orders, 1, "T2's order to urban");
    uint64_t id = r->orders->orders[0]->id;
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), id, "on the way")));

    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    MDB_dbi dbis[2] = { h_st->ord_by_dept, h_st->ord_by_street_state };
    const char *codes[2] = { "urban", "110105001" };
    for (int i = 0; i < 2; i++) {
        uint8_t k[80];
        size_t n = strlen(codes[i]);
        memcpy(k, codes[i], n);
        k[n] = '/';
        k[n + 1] = WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
        store_be64(k + n + 2, id);
        MDB_val kv = { n + 10, k }, ev = { 0, "" };
        cr_assert_eq(mdb_del(txn, dbis[i], &kv, NULL), 0, "the open row of %s", codes[i]);
        k[n + 1] = WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN;
        cr_assert_eq(mdb_put(txn, dbis[i], &kv, &ev, 0), 0);
    }
    cr_assert_eq(mdb_drop(txn, h_st->idem, 0), 0);
    uint8_t b[4] = { 0, 0, 0, 3 };
    MDB_val sk = { 6, "schema" }, sv = { 4, b };
    cr_assert_eq(mdb_put(txn, h_st->meta, &sk, &sv, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    store_close(h_st);
    h_st = NULL;

    /* (not checked before: its audit rows are beside the cases already,
     * which a schema 3 store's are not) */
    h_open_opts(NULL);
    txn = store_read_begin(h_st);
    cr_assert_eq(schema_of(txn), STORE_SCHEMA_VERSION);
    store_read_end(h_st);
    /* listed by state as before: checked in, not pending */
    q->list_orders->state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN;
    r = h_read("urban", q);
    assert_ok(r);
    cr_assert_eq(r->orders->n_orders, 1);
    cr_assert_eq(r->orders->orders[0]->id, id);
    q->list_orders->state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
    cr_assert_eq(h_read("urban", q)->orders->n_orders, 0);
    /* and on: its feedback moves it to the done ones */
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), id, "cleared")));
    q->list_orders->state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_DONE;
    cr_assert_eq(h_read("urban", q)->orders->n_orders, 1);
    store_close(h_st);
    h_st = NULL;
    const char *out;
    cr_assert_eq(run_check(h_dir, &out), 0, "migrated, it checks clean: %s", out);
}

/* A store newer than this whistled is refused, and left as it is. */
Test(migrate, a_store_from_a_newer_release_is_refused)
{
    h_open_opts(NULL);
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    uint8_t b[4] = { 0, 0, 0, STORE_SCHEMA_VERSION + 1 };
    MDB_val k = { 6, "schema" }, v = { 4, b };
    cr_assert_eq(mdb_put(txn, h_st->meta, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    store_close(h_st);
    h_st = NULL;
    char err[512] = "";
    store *st;
    cr_assert_neq(store_open(&st, h_dir, NULL, err, sizeof err), 0);
    cr_assert(strstr(err, "run a newer whistled or restore a backup"), "%s", err);
}
