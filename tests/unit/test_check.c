/* test_check.c: whistled --check finds each kind of damage it claims to,
 * and passes a store the loop made. Each test builds a store through the
 * api, closes it, damages it behind the daemon's back, and runs the
 * checker over it (LMDB forbids one process opening an environment twice,
 * so the store is closed while the checker looks). */
#include <stdlib.h>
#include <unistd.h>

#include "audit.h"
#include "helpers.h"

#include "check.h"
#include "daemon/records.pb-c.h"
#include "event_record.h"
#include "order_record.h"

TestSuite(check, .init = h_setup, .fini = h_teardown);

static const char *ticket_a, *ticket_b;
static uint64_t order_a;

/* Two cases: one whistled to urban and housing with one order checked in
 * and fed back, one only reported. */
static void build(void)
{
    ticket_a = arena_strdup(h_a, h_report_as("gw-1", "110105001001001"));
    ticket_b = arena_strdup(h_a, h_report_as("kiosk-yonganli", "110105001001002"));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), ticket_a)));
    Whistle__V1__Response *w = h_write("op-jianwai", rq_whistle(ticket_a, 2, "urban", "housing"));
    assert_ok(w);
    order_a = w->whistle->orders[0]->id;
    assert_ok(h_write("urban", rq_order(CALL(CHECK_IN), order_a, "on the way")));
    assert_ok(h_write("urban", rq_order(CALL(FEEDBACK), order_a, "removed")));
    /* a denial, so that the audit log holds one of those too */
    cr_assert_eq(h_code(h_write("gw-2", rq_ticket(CALL(FILE), ticket_b))),
                 WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED);
    store_close(h_st);
    h_st = NULL;
}

/* Runs the checker; returns its exit code, output in *out (arena). */
static int run_check(const char **out, check_report *rep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char err[512] = "";
    int rc = check_store(h_dir, f, rep, err, sizeof err);
    fclose(f);
    *out = arena_printf(h_a, "%s%s", buf ? buf : "", err);
    free(buf);
    return rc;
}

/* Opens the store, lets fn damage it in one write transaction, closes. */
static void damage(void (*fn)(MDB_txn *txn))
{
    h_open_opts(NULL);
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    fn(txn);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    store_close(h_st);
    h_st = NULL;
}

static void expect_violation(const char *needle)
{
    const char *out;
    check_report rep;
    int rc = run_check(&out, &rep);
    cr_assert_eq(rc, 1, "the checker passed a damaged store (exit %d); output:\n%s", rc, out);
    cr_assert_geq(rep.violations, 1);
    cr_assert(strstr(out, needle), "no line mentions \"%s\"; output:\n%s", needle, out);
}

static void del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl)
{
    MDB_val key = { kl, (void *)k };
    cr_assert_eq(mdb_del(txn, dbi, &key, NULL), 0, "nothing to delete");
}

static void put_raw(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl, const void *v, size_t vl)
{
    MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
    cr_assert_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
}

Test(check, a_store_made_by_the_loop_is_clean)
{
    build();
    const char *out;
    check_report rep;
    int rc = run_check(&out, &rep);
    cr_assert_eq(rc, 0, "violations in a clean store:\n%s", out);
    cr_assert_eq(rep.events, 2);
    cr_assert_eq(rep.orders, 2);
    cr_assert_gt(rep.stream_entries, 4);
    cr_assert_gt(rep.audit_records, 6);
}

Test(check, missing_store_is_exit_2)
{
    store_close(h_st);
    h_st = NULL;
    char err[512] = "";
    check_report rep;
    cr_assert_eq(check_store("/nonexistent/whistle-store", stdout, &rep, err, sizeof err), 2);
    cr_assert(strstr(err, "/nonexistent/whistle-store"), "err: %s", err);
    cr_assert(strstr(err, "no store"), "says there is no store: %s", err);
}

/* A store whose data.mdb never got a page to the disk (made, then a power
 * cut before its first commit was flushed) is named as such, not with
 * LMDB's "Bad file descriptor". */
Test(check, empty_data_file_is_exit_2_and_says_empty)
{
    store_close(h_st);
    h_st = NULL;
    char dir[] = "/tmp/whistle-check-empty-XXXXXX";
    cr_assert(mkdtemp(dir));
    char data[64];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    FILE *f = fopen(data, "w");
    cr_assert(f);
    fclose(f);
    char err[512] = "";
    check_report rep;
    int rc = check_store(dir, stdout, &rep, err, sizeof err);
    char lock[64];
    snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
    unlink(lock);
    unlink(data);
    rmdir(dir);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "is empty"), "err: %s", err);
}

static void drop_state_row(MDB_txn *txn)
{
    uint8_t k[EVENT_STATE_KEY_MAX];
    del(txn, h_st->ev_by_state, k,
        event_state_key(k, WHISTLE__V1__EVENT_STATE__EVENT_STATE_REPORTED, "110105001", ticket_b));
}
Test(check, case_without_its_state_row)
{
    build();
    damage(drop_state_row);
    expect_violation("ev_by_state has no row");
}

static void stale_state_row(MDB_txn *txn)
{
    uint8_t k[EVENT_STATE_KEY_MAX];
    put_raw(txn, h_st->ev_by_state, k,
            event_state_key(k, WHISTLE__V1__EVENT_STATE__EVENT_STATE_FILED, "110105001", ticket_b), "", 0);
}
Test(check, stale_state_row)
{
    build();
    damage(stale_state_row);
    expect_violation("but the case is in state 1");
}

static void node_row_without_case(MDB_txn *txn)
{
    const char *k = "110105001001001/E2099010100001";
    put_raw(txn, h_st->ev_by_node, k, strlen(k), "", 0);
}
Test(check, node_row_without_its_case)
{
    build();
    damage(node_row_without_case);
    expect_violation("row without its case");
}

static void drop_order(MDB_txn *txn)
{
    uint8_t k[8];
    store_be64(k, order_a);
    del(txn, h_st->orders, k, 8);
}
Test(check, case_lists_a_missing_order)
{
    build();
    damage(drop_order);
    expect_violation("which does not exist");
    expect_violation("row without its order");
}

static void drop_dept_row(MDB_txn *txn)
{
    uint8_t id[8];
    store_be64(id, order_a);
    Whistle__V1__Order *o = NULL;
    cr_assert_eq(store_get(txn, h_st->orders, id, 8, &whistle__v1__order__descriptor, h_a, (void **)&o), 0);
    uint8_t k[ORDER_STATE_KEY_MAX];
    del(txn, h_st->ord_by_dept, k, order_state_key(k, "urban", o->state, order_a));
}
Test(check, order_without_its_department_row)
{
    build();
    damage(drop_dept_row);
    expect_violation("ord_by_dept has no row urban/");
}

static void stream_gap(MDB_txn *txn)
{
    const char *name = "street:110105001";
    uint8_t k[64];
    size_t n = strlen(name);
    memcpy(k, name, n);
    k[n] = 0;
    store_be64(k + n + 1, 2);
    del(txn, h_st->streams, k, n + 9);
}
Test(check, stream_with_a_gap)
{
    build();
    damage(stream_gap);
    expect_violation("the stream has a gap");
}

static void meta_behind(MDB_txn *txn)
{
    Whistled__StreamMeta m = WHISTLED__STREAM_META__INIT;
    m.last_seq = 1;
    const char *name = "street:110105001";
    cr_assert_eq(store_put(txn, h_st->stream_meta, name, strlen(name), &m.base), 0);
}
Test(check, stream_meta_behind_its_entries)
{
    build();
    damage(meta_behind);
    expect_violation("stream_meta last_seq is 1");
}

/* The key of the audit record with seq (audit.h: at_ms | seq, in time
 * order, so looked for). */
static void audit_record_key(MDB_txn *txn, uint64_t seq, uint8_t out[AUDIT_KEY_LEN])
{
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->audit, &cur), 0);
    MDB_val k, v;
    bool found = false;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !found; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (audit_is_record_key(k.mv_data, k.mv_size) && store_get_be64((uint8_t *)k.mv_data + 9) == seq) {
            memcpy(out, k.mv_data, AUDIT_KEY_LEN);
            found = true;
        }
    mdb_cursor_close(cur);
    cr_assert(found, "no audit record %llu", (unsigned long long)seq);
}

static void audit_hole(MDB_txn *txn)
{
    uint8_t k[AUDIT_KEY_LEN];
    audit_record_key(txn, 3, k);
    del(txn, h_st->audit, k, sizeof k);
}
Test(check, audit_log_with_a_hole)
{
    build();
    damage(audit_hole);
    expect_violation("record 3 is missing");
}

static void garbage_case(MDB_txn *txn) { put_raw(txn, h_st->events, ticket_b, strlen(ticket_b), "\xff\xff\xff", 3); }
Test(check, record_that_does_not_unpack)
{
    build();
    damage(garbage_case);
    expect_violation("does not unpack");
}

static void counter_behind(MDB_txn *txn)
{
    char name[32];
    snprintf(name, sizeof name, "ticket:%.8s", ticket_a + 1);
    uint8_t v[8];
    store_be64(v, 1);
    put_raw(txn, h_st->meta, name, strlen(name), v, 8);
}
Test(check, ticket_counter_behind_its_tickets)
{
    build();
    damage(counter_behind);
    expect_violation("behind this ticket's number 2");
}

static void whistled_without_orders(MDB_txn *txn)
{
    arena *a = arena_new();
    Whistle__V1__Event *ev;
    cr_assert_eq(
        store_get(txn, h_st->events, ticket_a, strlen(ticket_a), &whistle__v1__event__descriptor, a, (void **)&ev), 0);
    ev->n_order_ids = 0;
    cr_assert_eq(store_put(txn, h_st->events, ticket_a, strlen(ticket_a), &ev->base), 0);
    arena_free(a);
}
Test(check, whistled_case_without_orders)
{
    build();
    damage(whistled_without_orders);
    expect_violation("is whistled but has no orders");
    expect_violation("does not list it");
}

/* The service catalogue: a clean one passes; a service whose class is gone
 * is found. */
static void import_catalogue(void)
{
    static const char *const files[] = {
        "code,name_zh,name_en,retired\n01,社会保障,Social security,\n",
        "code,class_code,name_zh,department\n0101,01,养老认证,police\n0102,01,医保登记,\n",
    };
    for (size_t i = 0; i < 2; i++) {
        Whistle__V1__Request *r = h_req();
        r->call_case = CALL(IMPORT_DIRECTORY);
        r->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
        r->import_directory->last = true;
        r->import_directory->data.data = (uint8_t *)files[i];
        r->import_directory->data.len = strlen(files[i]);
        assert_ok(h_write("admin", r));
    }
}

Test(check, a_store_with_a_service_catalogue_is_clean)
{
    import_catalogue();
    build();
    const char *out;
    check_report rep;
    int rc = run_check(&out, &rep);
    cr_assert_eq(rc, 0, "violations in a clean store:\n%s", out);
}

static void drop_service_class(MDB_txn *txn) { del(txn, h_st->service_classes, "01", 2); }
Test(check, service_without_its_class)
{
    import_catalogue();
    build();
    damage(drop_service_class);
    expect_violation("services 0101: service class 01 does not exist");
}

static void service_with_wrong_key(MDB_txn *txn)
{
    MDB_val k = { 4, "0102" }, v;
    cr_assert_eq(mdb_get(txn, h_st->services, &k, &v), 0);
    /* a copy: the value is the map's until the next write */
    void *copy = arena_alloc(h_a, v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    put_raw(txn, h_st->services, "0199", 4, copy, v.mv_size);
}
Test(check, service_under_another_code)
{
    import_catalogue();
    build();
    damage(service_with_wrong_key);
    expect_violation("services 0199: record's code is \"0102\"");
}

/* Issue 13: the department and street state indexes are checked too. */
static void stale_order_state_row(MDB_txn *txn)
{
    uint8_t k[ORDER_STATE_KEY_MAX];
    put_raw(txn, h_st->ord_by_dept, k,
            order_state_key(k, "urban", WHISTLE__V1__ORDER_STATE__ORDER_STATE_RETURNED, order_a), "", 0);
}
Test(check, stale_order_state_row)
{
    build();
    damage(stale_order_state_row);
    expect_violation("row, but the order is in state");
}

static void drop_street_state_row(MDB_txn *txn)
{
    uint8_t id[8];
    store_be64(id, order_a);
    Whistle__V1__Order *o = NULL;
    cr_assert_eq(store_get(txn, h_st->orders, id, 8, &whistle__v1__order__descriptor, h_a, (void **)&o), 0);
    uint8_t k[ORDER_STATE_KEY_MAX];
    del(txn, h_st->ord_by_street_state, k, order_state_key(k, "110105001", o->state, order_a));
}
Test(check, order_without_its_street_state_row)
{
    build();
    damage(drop_street_state_row);
    expect_violation("ord_by_street_state has no row for 110105001");
}

static void drop_timeline_row(MDB_txn *txn)
{
    uint8_t k[64];
    size_t n = strlen(ticket_a);
    memcpy(k, ticket_a, n);
    k[n] = 0;
    memset(k + n + 1, 0, 3);
    k[n + 4] = 1; /* entry 1: the gap */
    del(txn, h_st->ev_timeline, k, n + 5);
}
Test(check, timeline_with_a_gap)
{
    build();
    damage(drop_timeline_row);
    expect_violation("the timeline has a gap");
}

/* A timeline row in events whose case is not there (schema 3: the rows
 * follow their case's record in the same table). */
static void orphan_timeline_row(MDB_txn *txn)
{
    static const uint8_t k[] = { 'E', '2', '0', '9', '9', '0', '1', '0', '1', '0', '0', '0', '0', '1', 0, 0, 0, 0, 0 };
    Whistle__V1__TimelineEntry t = WHISTLE__V1__TIMELINE_ENTRY__INIT;
    t.action = "report";
    cr_assert_eq(store_put(txn, h_st->events, k, sizeof k, &t.base), 0);
}
Test(check, timeline_row_without_its_case)
{
    build();
    damage(orphan_timeline_row);
    expect_violation("entry of a case that does not exist");
}

/* An index row of the audit log (schema 3: in the log's table) that names
 * a record that is not there, and one that names the wrong target. */
static void stray_audit_rows(MDB_txn *txn)
{
    uint8_t k[64] = { AUDIT_IX_TARGET, 'x', 0 };
    store_be64(k + 3, 1);
    store_be64(k + 11, 999999);
    MDB_val kv = { 19, k }, ev = { 0, "" };
    cr_assert_eq(mdb_put(txn, h_st->audit, &kv, &ev, 0), 0);
    uint8_t rk[AUDIT_KEY_LEN];
    audit_record_key(txn, 1, rk);
    memcpy(k + 3, rk + 1, 16); /* record 1's time and seq */
    cr_assert_eq(mdb_put(txn, h_st->audit, &kv, &ev, 0), 0);
}
Test(check, audit_index_rows_that_do_not_match)
{
    build();
    damage(stray_audit_rows);
    expect_violation("index row of record 999999, which does not exist");
    expect_violation("index row does not match record 1's target");
}

/* Schema 4: rows by target beside a case (audit.h) that name a record
 * that is not there, a record of another target, and a record of a
 * target whose case is another. */
static void stray_case_audit_rows(MDB_txn *txn)
{
    /* the report of ticket_a: its first record by target */
    Whistled__AuditRecord **recs;
    size_t found;
    char *next;
    cr_assert_eq(audit_query(h_st, txn, "", ticket_a, 0, INT64_MAX, "", 1, h_a, &recs, &found, &next), 0);
    cr_assert_eq(found, 1);
    uint8_t rk[AUDIT_KEY_LEN];
    audit_key(rk, recs[0]->at_ms, recs[0]->seq);
    const char *targets[] = { ticket_a, "nobody", ticket_a };
    const char *homes[] = { ticket_a, ticket_a, ticket_b };
    for (int i = 0; i < 3; i++) {
        uint8_t k[128];
        size_t hn = strlen(homes[i]), tn = strlen(targets[i]), n = 0;
        memcpy(k, homes[i], hn);
        n = hn;
        k[n++] = 0;
        k[n++] = AUDIT_CASE_ROW;
        memcpy(k + n, targets[i], tn);
        n += tn;
        k[n++] = 0;
        memcpy(k + n, rk + 1, 16);
        if (i == 0)
            store_be64(k + n + 8, 999999);
        n += 16;
        MDB_val kv = { n, k }, ev = { 0, "" };
        cr_assert_eq(mdb_put(txn, h_st->events, &kv, &ev, 0), 0);
    }
}
Test(check, case_audit_rows_that_do_not_match)
{
    build();
    damage(stray_case_audit_rows);
    expect_violation("audit row of record 999999, which does not exist");
    expect_violation("audit row does not match record");
    expect_violation("which is not this case's");
}

/* Schema 4: rows waiting for their row by principal that name a record
 * that is not there, or another principal. */
static void stray_pending_rows(MDB_txn *txn)
{
    uint8_t k[AUDIT_KEY_LEN];
    audit_record_key(txn, 1, k);
    k[0] = AUDIT_IX_PENDING;
    MDB_val kv = { sizeof k, k }, wrong = { 6, "nobody" };
    cr_assert_eq(mdb_put(txn, h_st->audit, &kv, &wrong, 0), 0);
    store_be64(k + 9, 999999);
    cr_assert_eq(mdb_put(txn, h_st->audit, &kv, &wrong, 0), 0);
}
Test(check, rows_waiting_for_their_row_by_principal_that_do_not_match)
{
    build();
    damage(stray_pending_rows);
    expect_violation("of record 999999, which does not exist");
    expect_violation("does not match record 1's principal");
}

/* Issue 13: a stream whose acknowledged entries were let go checks clean;
 * one with a gap after them still does not. */
static void trim_dept(MDB_txn *txn)
{
    cr_assert_eq(stream_ack(h_st, txn, "dept:urban", 1), 0);
    size_t gone;
    cr_assert_eq(stream_trim(h_st, txn, "dept:urban", INT64_MAX, 64, &gone), 0);
    cr_assert_eq(gone, 1);
}
Test(check, a_trimmed_stream_is_clean)
{
    build();
    damage(trim_dept);
    const char *out;
    check_report rep;
    cr_assert_eq(run_check(&out, &rep), 0, "%s", out);
}

/* Deliberation: a clean body and proposal pass; a proposal whose body is
 * gone does not. */
static uint64_t body_id;

static void build_delib(void)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_BODY);
    r->put_body = NEW(Whistle__V1__PutDelibBody, whistle__v1__put_delib_body__init);
    Whistle__V1__DelibBody *b = r->put_body->body = NEW(Whistle__V1__DelibBody, whistle__v1__delib_body__init);
    b->place = "110105001001";
    b->name = "council";
    Whistle__V1__DelibSeat *s = NEW(Whistle__V1__DelibSeat, whistle__v1__delib_seat__init);
    s->principal = "comm-yonganli";
    s->group = WHISTLE__V1__DELIB_GROUP__DELIB_GROUP_COMMUNITY;
    s->role = WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_CHAIR;
    b->seats = &s;
    b->n_seats = 1;
    Whistle__V1__Response *resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    body_id = resp->body->id;
    r = h_req();
    r->call_case = CALL(SUBMIT_PROPOSAL);
    r->submit_proposal = NEW(Whistle__V1__SubmitDelibProposal, whistle__v1__submit_delib_proposal__init);
    r->submit_proposal->body_id = body_id;
    r->submit_proposal->title = "lights";
    resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    store_close(h_st);
    h_st = NULL;
}

static void drop_body(MDB_txn *txn)
{
    uint8_t k[8];
    store_be64(k, body_id);
    del(txn, h_st->delib_bodies, k, 8);
}

Test(check, deliberation_records_are_checked)
{
    build_delib();
    const char *out;
    check_report rep;
    cr_assert_eq(run_check(&out, &rep), 0, "%s", out);
    damage(drop_body);
    expect_violation("delib_proposals 1: body 1 does not exist");
}

/* delib_by_body: one entry gone is a violation; the whole index gone (a
 * store from before it) is built again at open, and is clean. */
static void drop_one_index_entry(MDB_txn *txn)
{
    uint8_t k[17];
    store_be64(k, body_id);
    k[8] = 'p';
    store_be64(k + 9, 1);
    del(txn, h_st->delib_by_body, k, sizeof k);
    /* a second proposal keeps the index non-empty: it is checked */
    uint8_t k2[17];
    memcpy(k2, k, sizeof k2);
    store_be64(k2 + 9, 2);
    MDB_val kk = { sizeof k2, k2 }, vv = { 0, "" };
    cr_assert_eq(mdb_put(txn, h_st->delib_by_body, &kk, &vv, 0), 0);
}

static void drop_index(MDB_txn *txn) { cr_assert_eq(mdb_drop(txn, h_st->delib_by_body, 0), 0); }

Test(check, deliberation_index_is_checked_and_rebuilt_when_missing)
{
    build_delib();
    damage(drop_one_index_entry);
    expect_violation("delib_proposals 1: not in delib_by_body under body 1");
    expect_violation("proposal 2 does not exist");
    damage(drop_index); /* damage opens the store: the index is built again */
    h_open_opts(NULL);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(h_st->env, NULL, MDB_RDONLY, &txn), 0);
    MDB_stat st;
    cr_assert_eq(mdb_stat(txn, h_st->delib_by_body, &st), 0);
    cr_assert_eq(st.ms_entries, 1, "the index was not built again at open");
    mdb_txn_abort(txn);
    store_close(h_st);
    h_st = NULL;
    const char *out;
    check_report rep;
    cr_assert_eq(run_check(&out, &rep), 0, "%s", out);
}
