/* test_migrate.c: a store written by the release before this layout
 * (schema 1: a case's timeline inside its record; the fixture was made by
 * that release's whistled with scripts/make-store-fixture.sh) is migrated
 * at open: a backup copy first, then the timelines move to ev_timeline,
 * and whistled --check finds nothing wrong, before and after. */
#include "helpers.h"

#include <dirent.h>
#include <sys/stat.h>

#include "check.h"

#define FIXTURE WHISTLE_SOURCE_DIR "/tests/fixtures/store-schema1.mdb"
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

TestSuite(migrate, .init = setup, .fini = h_teardown);

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
static const char *backup_dir(void)
{
    DIR *d = opendir(h_dir);
    cr_assert(d);
    const char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "backup-schema1-", 15) == 0)
            found = arena_printf(h_a, "%s/%s", h_dir, e->d_name);
    closedir(d);
    return found;
}

Test(migrate, a_schema_1_store_is_migrated_after_a_backup_and_checks_clean)
{
    const char *out;
    cr_assert_eq(run_check(h_dir, &out), 0, "the fixture checks clean as it is: %s", out);
    cr_assert_null(backup_dir());

    h_open_opts(NULL);
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_eq(schema_of(txn), STORE_SCHEMA_VERSION);
    MDB_stat ms;
    cr_assert_eq(mdb_stat(txn, h_st->ev_timeline, &ms), 0);
    /* 5 + (report, file, whistle, 2 dispatch, check_in, feedback) + 2 */
    cr_assert_eq(ms.ms_entries, 5 + 7 + 2, "%zu timeline rows", ms.ms_entries);
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
