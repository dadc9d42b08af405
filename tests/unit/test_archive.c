/* test_archive.c: the resident archive, visits and the echo board
 * (docs/archive.md): what is sealed at rest, what is masked and revealed
 * to whom, that every read of a person is audited with its reason, that a
 * bad import or request changes nothing, the due list and the overdue
 * alert through the deadline index, a visit's need becoming a case, and
 * the board. */
#include "helpers.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "archive_record.h"
#include "check.h"
#include "seal.h"
#include "sweep.h"

TestSuite(archive, .init = h_setup, .fini = h_teardown, .timeout = 120);

#define GRID1 "110105001001001"
#define GRID2 "110105001001002"
#define GRID_CHAOWAI "110105002001001"
#define YONGANLI "110105001001"
#define DAY 86400000LL
#define AF(x) WHISTLE__V1__ARCHIVE_FIELD__ARCHIVE_FIELD_##x

static uint64_t put_household(const char *who, const char *grid, const char *room)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_HOUSEHOLD);
    r->put_household = NEW(Whistle__V1__PutHousehold, whistle__v1__put_household__init);
    Whistle__V1__ArchiveHousehold *h = r->put_household->household =
        NEW(Whistle__V1__ArchiveHousehold, whistle__v1__archive_household__init);
    h->node = (char *)grid;
    h->building = "5号楼";
    h->unit = "2单元";
    h->room = (char *)room;
    Whistle__V1__Response *resp = h_write(who, r);
    assert_ok(resp);
    return resp->household->id;
}

static Whistle__V1__Response *put_resident(const char *who, uint64_t hh, const char *idn, const char *phone,
                                           const char *tag)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_RESIDENT);
    r->put_resident = NEW(Whistle__V1__PutResident, whistle__v1__put_resident__init);
    Whistle__V1__ArchiveResident *p = r->put_resident->resident =
        NEW(Whistle__V1__ArchiveResident, whistle__v1__archive_resident__init);
    p->household_id = hh;
    p->name = "王秀英";
    p->id_number = (char *)idn;
    p->phone = (char *)phone;
    if (tag) {
        p->tags = arena_alloc(h_a, sizeof(char *));
        p->tags[0] = (char *)tag;
        p->n_tags = 1;
    }
    return h_write(who, r);
}

static Whistle__V1__Request *rq_get_resident(uint64_t id, const char *reason, Whistle__V1__ArchiveField reveal)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(GET_RESIDENT);
    r->get_resident = NEW(Whistle__V1__GetResident, whistle__v1__get_resident__init);
    r->get_resident->id = id;
    r->get_resident->reason = (char *)reason;
    r->get_resident->reveal = reveal;
    return r;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    bool has = memmem(b, (size_t)n, needle, strlen(needle)) != NULL;
    free(b);
    return has;
}

Test(archive, the_store_file_holds_no_id_number_or_phone_in_clear)
{
    h_archive_keys();
    const char *idn = h_idcard("11010519380512004");
    uint64_t hh = put_household("gw-1", GRID1, "301");
    Whistle__V1__Response *r = put_resident("gw-1", hh, idn, "13912345678", "alone");
    assert_ok(r);
    /* the answer itself is masked */
    cr_assert_str_eq(r->resident->phone, "139****5678");
    cr_assert_str_neq(r->resident->id_number, idn);
    cr_assert_eq(strlen(r->resident->id_number), 18);
    /* a reveal is read and audited; then the file is searched */
    assert_ok(h_read("gw-1", rq_get_resident(r->resident->id, "welfare check", AF(ID_NUMBER))));
    assert_ok(put_resident("gw-1", hh, NULL, "01065432100", NULL)); /* a second, with a landline */
    /* a shop's contact phone is sealed too, and masked in the answer */
    Whistle__V1__Request *u = h_req();
    u->call_case = CALL(PUT_ARCHIVE_UNIT);
    u->put_archive_unit = NEW(Whistle__V1__PutArchiveUnit, whistle__v1__put_archive_unit__init);
    Whistle__V1__ArchiveUnit *au = u->put_archive_unit->unit =
        NEW(Whistle__V1__ArchiveUnit, whistle__v1__archive_unit__init);
    au->node = GRID1;
    au->kind = WHISTLE__V1__ARCHIVE_UNIT_KIND__ARCHIVE_UNIT_KIND_SHOP;
    au->name = "便民超市";
    au->phone = "13755556666";
    Whistle__V1__Response *ur = h_write("gw-1", u);
    assert_ok(ur);
    cr_assert_str_eq(ur->archive_unit->phone, "137****6666");
    Whistle__V1__Request *lu = h_req();
    lu->call_case = CALL(LIST_ARCHIVE_UNITS);
    lu->list_archive_units = NEW(Whistle__V1__ListArchiveUnits, whistle__v1__list_archive_units__init);
    ur = h_read("comm-yonganli", lu);
    assert_ok(ur);
    cr_assert_eq(ur->archive_units->n_units, 1);
    cr_assert_str_eq(ur->archive_units->units[0]->phone, "137****6666");
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", h_dir);
    seal_keys_free(h_st->archive_keys);
    h_st->archive_keys = NULL;
    store_close(h_st); /* everything on disk; the reopen below restores the fixture */
    h_st = NULL;
    cr_assert(file_has(path, "王秀英"), "the search works: names are stored (in clear, by design)");
    cr_assert_not(file_has(path, idn), "the ID-card number is in the store file in clear");
    cr_assert_not(file_has(path, "13912345678"), "the phone is in the store file in clear");
    cr_assert_not(file_has(path, "01065432100"), "the landline is in the store file in clear");
    cr_assert_not(file_has(path, "65432100"), "part of the landline is in clear");
    cr_assert_not(file_has(path, "13755556666"), "the shop's phone is in the store file in clear");
    h_open_opts(NULL);
}

Test(archive, masked_unless_revealed_and_only_by_the_roles_that_may)
{
    h_archive_keys();
    const char *idn = h_idcard("11010519380512004");
    uint64_t hh = put_household("gw-1", GRID1, "301");
    uint64_t id = put_resident("gw-1", hh, idn, "13912345678", NULL)->resident->id;

    Whistle__V1__Response *r = h_read("op-jianwai", rq_get_resident(id, "call back", AF(NONE)));
    assert_ok(r);
    cr_assert_str_eq(r->resident->id_number, arena_printf(h_a, "110***********%s", idn + 14));
    cr_assert_str_eq(r->resident->phone, "139****5678");
    cr_assert_eq(r->resident->revealed, AF(NONE));

    r = h_read("gw-1", rq_get_resident(id, "benefit application", AF(ID_NUMBER)));
    assert_ok(r);
    cr_assert_str_eq(r->resident->id_number, idn);
    cr_assert_str_eq(r->resident->phone, "139****5678", "one field at a time");
    cr_assert_eq(r->resident->revealed, AF(ID_NUMBER));

    r = h_read("comm-yonganli", rq_get_resident(id, "visit", AF(PHONE)));
    assert_ok(r);
    cr_assert_str_eq(r->resident->phone, "13912345678");

    /* an operator may call a resident back, not read the ID number */
    assert_ok(h_read("op-jianwai", rq_get_resident(id, "call back", AF(PHONE))));
    r = h_read("op-jianwai", rq_get_resident(id, "curious", AF(ID_NUMBER)));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "rule");
    /* no reason, no read */
    assert_code(h_read("gw-1", rq_get_resident(id, "", AF(NONE))), INVALID_ARGUMENT);
    /* another grid's worker: as if there were no such resident */
    assert_code(h_read("gw-2", rq_get_resident(id, "curious", AF(NONE))), NOT_FOUND);
    /* outside the roles: refused before anything is read */
    const char *others[] = { "admin", "police", "kiosk-yonganli", "hotline", "smoke-1" };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        assert_code(h_read(others[i], rq_get_resident(id, "x", AF(NONE))), PERMISSION_DENIED);
}

/* The audit records of a target, oldest first. */
static Whistled__AuditRecord **audit_of(const char *target, size_t *n)
{
    /* a write flushes the queued reads (as the daemon's next transaction does) */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    txn = store_read_begin(h_st);
    Whistled__AuditRecord **out;
    char *next;
    cr_assert_eq(audit_query(h_st, txn, "", target, 0, INT64_MAX, "", 100, h_a, &out, n, &next), 0);
    store_read_end(h_st);
    return out;
}

Test(archive, every_read_of_a_person_is_audited_with_its_reason)
{
    h_archive_keys();
    uint64_t hh = put_household("gw-1", GRID1, "301");
    uint64_t id = put_resident("gw-1", hh, h_idcard("11010519380512004"), "13912345678", NULL)->resident->id;
    assert_ok(h_read("gw-1", rq_get_resident(id, "monthly visit prep", AF(NONE))));
    assert_ok(h_read("comm-yonganli", rq_get_resident(id, "pension form", AF(ID_NUMBER))));
    Whistle__V1__Request *g = h_req();
    g->call_case = CALL(GET_HOUSEHOLD);
    g->get_household = NEW(Whistle__V1__GetHousehold, whistle__v1__get_household__init);
    g->get_household->id = hh;
    g->get_household->reason = "heating complaint";
    Whistle__V1__Response *r = h_read("op-jianwai", g);
    assert_ok(r);
    cr_assert_eq(r->household->n_members, 1);
    cr_assert_str_eq(r->household->members[0]->phone, "139****5678");

    size_t n;
    Whistled__AuditRecord **a = audit_of(arena_printf(h_a, "resident:%llu", (unsigned long long)id), &n);
    int reads = 0;
    bool plain = false, revealed = false;
    for (size_t i = 0; i < n; i++) {
        if (!*a[i]->read)
            continue;
        reads++;
        plain |= strstr(a[i]->read, "monthly visit prep") && !strcmp(a[i]->principal, "gw-1");
        revealed |= strstr(a[i]->read, "pension form") && strstr(a[i]->read, "REVEALED") &&
                    !strcmp(a[i]->principal, "comm-yonganli");
    }
    cr_assert_eq(reads, 2, "each read of the resident is one audit record");
    cr_assert(plain && revealed);
    a = audit_of(arena_printf(h_a, "household:%llu", (unsigned long long)hh), &n);
    bool hh_read = false;
    for (size_t i = 0; i < n; i++)
        hh_read |= strstr(a[i]->read, "heating complaint") && !strcmp(a[i]->principal, "op-jianwai");
    cr_assert(hh_read, "the household's read is audited with its reason");

    /* the router's path: the audit comes back to be written before the answer */
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Principal *p = h_who(txn, "gw-1");
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    api_read_audit aud;
    api_read_audited(h_st, txn, p, rq_get_resident(id, "door-knock", AF(PHONE)), h_now, h_a, resp, &aud);
    store_read_end(h_st);
    assert_ok(resp);
    cr_assert(aud.what && strstr(aud.what, "door-knock") && strstr(aud.what, "phone REVEALED"), "%s",
              aud.what ? aud.what : "(none)");
}

static Whistle__V1__Request *rq_import(const char *node, const char *csv, bool dry)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(IMPORT_ARCHIVE);
    r->import_archive = NEW(Whistle__V1__ImportArchive, whistle__v1__import_archive__init);
    r->import_archive->node = (char *)node;
    r->import_archive->data.data = (uint8_t *)csv;
    r->import_archive->data.len = strlen(csv);
    r->import_archive->dry_run = dry;
    r->import_archive->source = "grid1.csv";
    return r;
}

static size_t households_in(const char *who, const char *node)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_HOUSEHOLDS);
    r->list_households = NEW(Whistle__V1__ListHouseholds, whistle__v1__list_households__init);
    r->list_households->node = (char *)node;
    Whistle__V1__Response *resp = h_read(who, r);
    assert_ok(resp);
    return resp->households->n_households;
}

Test(archive, a_bad_import_changes_nothing_and_names_every_bad_line)
{
    h_archive_keys();
    const char *good1 = h_idcard("11010519400101001"), *good2 = h_idcard("11010519420202002");
    char *badcheck = arena_strdup(h_a, h_idcard("11010519450303003"));
    badcheck[17] = badcheck[17] == '0' ? '1' : '0';
    const char *csv = arena_printf(h_a,
                                   "grid,building,unit,room,name,id_number,phone,birth_date,relation,tags\n"
                                   "%s,5号楼,1单元,101,李桂兰,%s,13800001111,,户主,alone\n" /* 2 good */
                                   "%s,5号楼,1单元,102,赵强,%s,13800002222,,户主,\n"        /* 3 bad check digit */
                                   "%s,5号楼,1单元,103,钱明,%s,1380000,,户主,\n"            /* 4 bad phone */
                                   "110105009009009,5号楼,1单元,104,孙丽,,,,户主,\n"        /* 5 unknown grid */
                                   "%s,5号楼,1单元,101,周杰,%s,,,配偶,\n"                   /* 6 same ID as 2 */
                                   "%s,5号楼,1单元,105,吴芳,,,,户主,nosuchtag\n"            /* 7 unknown tag */
                                   "%s,5号楼,1单元,106,,,,,,\n"                             /* 8 no name */
                                   "%s,5号楼,1单元,101,郑好,%s,,1950-01-01,配偶,\n",        /* 9 birth differs */
                                   GRID1, good1, GRID1, badcheck, GRID1, good2, GRID1, good1, GRID1, GRID1, GRID1,
                                   h_idcard("11010519420202003"));
    Whistle__V1__Response *r = h_write("gw-1", rq_import(GRID1, csv, false));
    assert_code(r, INVALID_ARGUMENT);
    const char *want[] = { "line 3: the ID-card number's check digit",
                           "line 4: phone",
                           "line 5: grid",
                           "line 6: the same ID-card number as line 2",
                           "line 7: tags",
                           "line 8: name",
                           "line 9: birth_date" };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_msg_has(r, want[i]);
    cr_assert_null(strstr(h_msg(r), "line 2:"), "a good line is not named: %s", h_msg(r));
    assert_msg_has(r, "7 bad lines; nothing was imported");
    cr_assert_eq(households_in("gw-1", GRID1), 0, "a bad file changed something");

    /* another grid's lines are refused for a grid worker */
    r = h_write("gw-1", rq_import(GRID1, arena_printf(h_a, "grid,building,name\n%s,1号楼,张三\n", GRID2), false));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "not under");

    const char *ok = arena_printf(h_a,
                                  "网格,楼栋,单元,房号,姓名,身份证号,联系电话,出生日期,与户主关系,标签\n"
                                  "%s,5号楼,1单元,101,李桂兰,%s,13800001111,,户主,alone\n"
                                  "%s,5号楼,1单元,101,李建国,%s,13800003333,,子女,\n"
                                  "%s,5号楼,1单元,102,赵强,,,1960-07-01,户主,disabled|low_income\n",
                                  GRID1, good1, GRID1, good2, GRID1);
    r = h_write("gw-1", rq_import(GRID1, ok, true));
    assert_ok(r);
    cr_assert_eq(r->archive_import->households_added, 2);
    cr_assert_eq(r->archive_import->residents_added, 3);
    cr_assert_not(r->archive_import->applied);
    cr_assert_eq(households_in("gw-1", GRID1), 0, "a dry run changed something");
    r = h_write("gw-1", rq_import(GRID1, ok, false));
    assert_ok(r);
    cr_assert(r->archive_import->applied);
    cr_assert_eq(households_in("gw-1", GRID1), 2);
    /* again: the same people are updated (by ID number), not doubled */
    r = h_write("gw-1", rq_import(GRID1, ok, false));
    assert_ok(r);
    cr_assert_eq(r->archive_import->households_added, 0);
    cr_assert_eq(r->archive_import->residents_updated, 2);
    cr_assert_eq(households_in("gw-1", GRID1), 2);

    /* the export: admins only, with a reason, says so on its first line */
    Whistle__V1__Request *e = h_req();
    e->call_case = CALL(EXPORT_ARCHIVE);
    e->export_archive = NEW(Whistle__V1__ExportArchive, whistle__v1__export_archive__init);
    e->export_archive->node = GRID1;
    assert_code(h_read("admin", e), INVALID_ARGUMENT);
    e->export_archive->reason = "civil affairs census";
    r = h_read("admin", e);
    assert_ok(r);
    cr_assert(!strncmp(r->archive_export->data, "# PERSONAL DATA", 15), "%s", r->archive_export->data);
    cr_assert(strstr(r->archive_export->data, good1), "the export carries the numbers in clear");
    cr_assert(strstr(r->archive_export->data, "civil affairs census"));
    assert_code(h_read("gw-1", e), PERMISSION_DENIED);
}

Test(archive, bad_requests_change_nothing)
{
    h_archive_keys();
    uint64_t hh = put_household("gw-1", GRID1, "301");
    /* an unknown household, a malformed ID number, an oversize name */
    assert_code(put_resident("gw-1", 999, NULL, NULL, NULL), NOT_FOUND);
    assert_code(put_resident("gw-1", hh, "110105193805120041", NULL, NULL), INVALID_ARGUMENT);
    assert_code(put_resident("gw-1", hh, NULL, "12345", NULL), INVALID_ARGUMENT);
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_RESIDENT);
    r->put_resident = NEW(Whistle__V1__PutResident, whistle__v1__put_resident__init);
    r->put_resident->resident = NEW(Whistle__V1__ArchiveResident, whistle__v1__archive_resident__init);
    r->put_resident->resident->household_id = hh;
    char *big = arena_alloc(h_a, 500);
    memset(big, 'a', 499);
    big[499] = 0;
    r->put_resident->resident->name = big;
    assert_code(h_write("gw-1", r), INVALID_ARGUMENT);
    /* an ID number on one resident is refused on a second */
    const char *idn = h_idcard("11010519380512004");
    assert_ok(put_resident("gw-1", hh, idn, NULL, NULL));
    assert_code(put_resident("gw-1", hh, idn, NULL, NULL), ALREADY_EXISTS);
    Whistle__V1__Request *g = h_req();
    g->call_case = CALL(GET_HOUSEHOLD);
    g->get_household = NEW(Whistle__V1__GetHousehold, whistle__v1__get_household__init);
    g->get_household->id = hh;
    g->get_household->reason = "check";
    Whistle__V1__Response *resp = h_read("gw-1", g);
    assert_ok(resp);
    cr_assert_eq(resp->household->n_members, 1, "a refused write left a resident");
    /* without keys nothing personal is written */
    seal_keys_free(h_st->archive_keys);
    h_st->archive_keys = NULL;
    assert_code(put_resident("gw-1", hh, h_idcard("11010519380512005"), NULL, NULL), FAILED_PRECONDITION);
}

static Whistle__V1__Response *visit(const char *who, uint64_t hh, bool open_case)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(RECORD_VISIT);
    r->record_visit = NEW(Whistle__V1__RecordVisit, whistle__v1__record_visit__init);
    r->record_visit->household_id = hh;
    r->record_visit->kind = WHISTLE__V1__VISIT_KIND__VISIT_KIND_COMPANIONSHIP;
    r->record_visit->notes = "聊天，身体尚可";
    if (open_case) {
        r->record_visit->follow_up = "楼道灯坏了，老人夜里看不见";
        r->record_visit->open_case = true;
        r->record_visit->category = "0101";
    }
    return h_write(who, r);
}

static Whistle__V1__HouseholdList *due(const char *who, const char *node, int64_t before)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_VISITS_DUE);
    r->list_visits_due = NEW(Whistle__V1__ListVisitsDue, whistle__v1__list_visits_due__init);
    r->list_visits_due->node = (char *)node;
    r->list_visits_due->before_ms = before;
    Whistle__V1__Response *resp = h_read(who, r);
    assert_ok(resp);
    return resp->households;
}

Test(archive, a_due_visit_shows_in_the_lists_and_an_overdue_one_alerts_once)
{
    h_archive_keys();
    uint64_t hh = put_household("gw-1", GRID1, "301");
    uint64_t plain = put_household("gw-1", GRID1, "302");
    int64_t created = h_now;
    assert_ok(put_resident("gw-1", hh, NULL, NULL, "alone")); /* weekly by default */
    assert_ok(put_resident("gw-1", plain, NULL, NULL, NULL));
    cr_assert_eq(due("gw-1", GRID1, 0)->n_households, 0);
    Whistle__V1__HouseholdList *l = due("comm-yonganli", YONGANLI, created + 8 * DAY);
    cr_assert_eq(l->n_households, 1, "only the special-care household has a rhythm");
    cr_assert_eq(l->households[0]->id, hh);
    cr_assert_eq(l->households[0]->rhythm_days, 7);

    /* a week passes: the deadline engine's sweep alerts the street once */
    uint64_t before = h_last_seq("street:110105001");
    MDB_txn *txn;
    stream_touched t = { 0 };
    size_t fired;
    bool more;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(deadline_sweep(h_st, txn, created + 8 * DAY, &t, 100, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
    cr_assert_eq(fired, 1);
    h_pushes *ps = h_stream("street:110105001", before);
    cr_assert_eq(ps->n, 1);
    cr_assert_str_eq(ps->p[0]->action, "visit_overdue");
    cr_assert_eq(ps->p[0]->visit_overdue->household_id, hh);
    cr_assert_eq(ps->p[0]->visit_overdue->n_tags, 1);
    cr_assert_eq(h_last_seq("street:110105001"), before + 1);
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(deadline_sweep(h_st, txn, created + 9 * DAY, &t, 100, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    cr_assert_eq(fired, 0, "an overdue visit alerts once");

    /* the community sees it overdue; a visit clears it */
    h_now = created + 9 * DAY;
    l = due("comm-yonganli", YONGANLI, 0);
    cr_assert_eq(l->n_households, 1);
    cr_assert(l->households[0]->overdue);
    Whistle__V1__Response *v = visit("gw-1", hh, false);
    assert_ok(v);
    cr_assert_eq(due("gw-1", GRID1, 0)->n_households, 0);
    cr_assert_eq(due("gw-1", GRID1, h_now + 8 * DAY)->n_households, 1, "the next visit is a week after this one");
    /* another grid's worker sees nothing of it */
    assert_code(visit("gw-2", hh, false), NOT_FOUND);
}

Test(archive, a_visits_need_becomes_a_case_in_one_step)
{
    h_archive_keys();
    uint64_t hh = put_household("gw-1", GRID1, "301");
    Whistle__V1__Response *v = visit("gw-1", hh, true);
    assert_ok(v);
    cr_assert(v->visit->ticket && *v->visit->ticket);
    Whistle__V1__Event *ev = h_get("op-jianwai", v->visit->ticket);
    cr_assert_str_eq(ev->node, GRID1);
    cr_assert_str_eq(ev->description, "楼道灯坏了，老人夜里看不见");
    cr_assert_str_eq(ev->contact, "", "no resident's phone is copied into the case");
    /* a refused report refuses the visit: nothing is recorded */
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(RECORD_VISIT);
    r->record_visit = NEW(Whistle__V1__RecordVisit, whistle__v1__record_visit__init);
    r->record_visit->household_id = hh;
    r->record_visit->follow_up = "x";
    r->record_visit->open_case = true;
    r->record_visit->category = "9999";
    assert_code(h_write("gw-1", r), INVALID_ARGUMENT);
    Whistle__V1__Request *lv = h_req();
    lv->call_case = CALL(LIST_VISITS);
    lv->list_visits = NEW(Whistle__V1__ListVisits, whistle__v1__list_visits__init);
    lv->list_visits->household_id = hh;
    Whistle__V1__Response *resp = h_read("gw-1", lv);
    assert_ok(resp);
    cr_assert_eq(resp->visits->n_visits, 1);
}

static Whistle__V1__Response *post(const char *who, const char *node, const char *title, const char *ticket)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(POST_NOTICE);
    r->post_notice = NEW(Whistle__V1__PostNotice, whistle__v1__post_notice__init);
    Whistle__V1__BoardNotice *n = r->post_notice->notice =
        NEW(Whistle__V1__BoardNotice, whistle__v1__board_notice__init);
    n->node = (char *)node;
    n->title = (char *)title;
    n->body = ticket ? "" : "本周六上午社区义诊";
    n->ticket = (char *)ticket;
    return h_write(who, r);
}

static Whistle__V1__BoardList *board(const char *who, const char *node)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_BOARD);
    r->list_board = NEW(Whistle__V1__ListBoard, whistle__v1__list_board__init);
    r->list_board->node = (char *)node;
    Whistle__V1__Response *resp = h_read(who, r);
    assert_ok(resp);
    return resp->board;
}

Test(archive, the_echo_board_shows_a_communitys_notices_and_a_closed_case_without_the_residents_words)
{
    assert_ok(post("comm-yonganli", YONGANLI, "义诊", NULL));
    assert_ok(post("op-jianwai", "110105001", "街道工作动态", NULL));
    assert_ok(post("op-chaowai", GRID_CHAOWAI, "别处", NULL));
    Whistle__V1__BoardList *b = board("kiosk-yonganli", "");
    cr_assert_eq(b->n_notices, 2, "the community's and its street's, not another street's");
    assert_code(post("gw-1", GRID_CHAOWAI, "x", NULL), PERMISSION_DENIED);

    /* a closed case, published in one step */
    Whistle__V1__Request *rep = rq_report(GRID1, "0101", "我家楼下王大妈的电话13912345678，垃圾堆了三天");
    rep->report->contact = "13912345678";
    const char *t = h_write("kiosk-yonganli", rep)->event->ticket;
    assert_code(post("op-jianwai", YONGANLI, "回音", t), FAILED_PRECONDITION); /* not closed yet */
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Request *as = rq_ticket(CALL(ASSIGN), t);
    as->assign->assignee = "gw-1";
    assert_ok(h_write("op-jianwai", as));
    Whistle__V1__Request *rs = rq_ticket(CALL(RESOLVE), t);
    rs->resolve->note = "cleared";
    assert_ok(h_write("gw-1", rs));
    Whistle__V1__Request *vr = rq_ticket(CALL(VERIFY), t);
    vr->verify->pass = true;
    assert_ok(h_write("op-jianwai", vr));
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(CLOSE), t)));
    Whistle__V1__Response *p = post("op-jianwai", YONGANLI, "回音：垃圾已清运", t);
    assert_ok(p);
    cr_assert(strstr(p->notice->body, t));
    cr_assert_null(strstr(p->notice->body, "王大妈"), "the resident's words are on the board: %s", p->notice->body);
    cr_assert_null(strstr(p->notice->body, "1391234"), "a phone is on the board");
    cr_assert_eq(board("kiosk-yonganli", "")->n_notices, 3);

    /* withdrawn: gone from the kiosk */
    Whistle__V1__Request *w = h_req();
    w->call_case = CALL(WITHDRAW_NOTICE);
    w->withdraw_notice = NEW(Whistle__V1__WithdrawNotice, whistle__v1__withdraw_notice__init);
    w->withdraw_notice->id = p->notice->id;
    w->withdraw_notice->reason = "typo";
    assert_ok(h_write("comm-yonganli", w));
    cr_assert_eq(board("kiosk-yonganli", "")->n_notices, 2);
    /* out of its window: gone too */
    h_now += 31 * DAY;
    cr_assert_eq(board("kiosk-yonganli", "")->n_notices, 0);
}

Test(archive, keys_rotate_and_old_values_still_open)
{
    uint8_t ik[SEAL_KEY_LEN], k1[SEAL_KEY_LEN], k2[SEAL_KEY_LEN];
    memset(ik, 1, sizeof ik);
    memset(k1, 2, sizeof k1);
    memset(k2, 3, sizeof k2);
    seal_keys *k = seal_keys_from(ik, 1, k1);
    uint8_t *s1, *s2;
    size_t n1, n2;
    char *out;
    cr_assert_eq(seal_value(k, "phone", "13912345678", 11, h_a, &s1, &n1), 0);
    cr_assert_eq(seal_key_id_of(s1, n1), 1);
    cr_assert_eq(seal_keys_add(k, 2, k2), 0);
    cr_assert_eq(seal_value(k, "phone", "13912345678", 11, h_a, &s2, &n2), 0);
    cr_assert_eq(seal_key_id_of(s2, n2), 2, "the newest key seals");
    cr_assert_eq(seal_open(k, "phone", s1, n1, h_a, &out), 0);
    cr_assert_str_eq(out, "13912345678");
    cr_assert_neq(memcmp(s1 + 2, s2 + 2, 12), 0, "a fresh nonce per value");
    cr_assert_neq(seal_open(k, "id_number", s1, n1, h_a, &out), 0, "sealed for another field");
    s1[n1 - 1] ^= 1;
    cr_assert_neq(seal_open(k, "phone", s1, n1, h_a, &out), 0, "a damaged value does not open");
    seal_keys_free(k);

    /* the key file */
    char path[128];
    snprintf(path, sizeof path, "%s/keys", h_dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# test\nindex %064d\n1 %064d\n", 0, 1);
    fclose(f);
    chmod(path, 0600);
    char err[256] = "";
    k = seal_keys_load(path, err, sizeof err);
    cr_assert(k, "%s", err);
    cr_assert_eq(seal_current_id(k), 1);
    seal_keys_free(k);
    chmod(path, 0644);
    cr_assert_null(seal_keys_load(path, err, sizeof err), "a key file anyone can read is refused");
    assert_msg_has(&(Whistle__V1__Response){ .status = &(Whistle__V1__Status){ .message = err } }, "chmod 600");
    f = fopen(path, "w");
    fprintf(f, "1 %064d\n", 1);
    fclose(f);
    chmod(path, 0600);
    cr_assert_null(seal_keys_load(path, err, sizeof err));
    cr_assert(strstr(err, "no \"index\" line"), "%s", err);
}

Test(archive, id_numbers_and_phones_are_checked)
{
    const char *why;
    cr_assert(arc_id_number_ok(h_idcard("11010519491231002"), &why));
    cr_assert(arc_id_number_ok("11010519491231002X", &why) == (h_idcard("11010519491231002")[17] == 'X'));
    cr_assert_not(arc_id_number_ok("1101051949123100", &why));
    cr_assert_not(arc_id_number_ok(h_idcard("11010519491332002"), &why), "month 13");
    cr_assert(arc_phone_ok("13800138000"));
    cr_assert(arc_phone_ok("010-65432100"));
    cr_assert(arc_phone_ok("0755-2345678"));
    cr_assert_not(arc_phone_ok("12800138000"));
    cr_assert_not(arc_phone_ok("1380013800"));
    cr_assert_not(arc_phone_ok("010-123"));
    cr_assert_str_eq(arc_mask(h_a, "13800138000"), "138****8000");
}

Test(archive, the_counts_of_visits_overdue_households_and_tags)
{
    h_archive_keys();
    uint64_t a = put_household("gw-1", GRID1, "301"), b = put_household("gw-1", GRID1, "302"),
             c = put_household("gw-2", GRID2, "101");
    int64_t start = h_now;
    assert_ok(put_resident("gw-1", a, NULL, NULL, "alone"));
    assert_ok(put_resident("gw-1", b, NULL, NULL, "disabled"));
    assert_ok(put_resident("gw-2", c, NULL, NULL, "alone"));
    assert_ok(visit("gw-1", a, false));
    assert_ok(visit("gw-1", b, false));
    assert_ok(visit("comm-yonganli", c, false));
    h_now = start + 10 * DAY; /* the weekly visits of a and c are overdue; b's monthly is not */
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(GET_ARCHIVE_STATS);
    r->get_archive_stats = NEW(Whistle__V1__GetArchiveStats, whistle__v1__get_archive_stats__init);
    r->get_archive_stats->node = YONGANLI;
    r->get_archive_stats->period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
    Whistle__V1__Response *resp = h_read("comm-yonganli", r);
    assert_ok(resp);
    const Whistle__V1__ArchiveStatsResult *s = resp->archive_stats;
    uint64_t by_gw1 = 0, by_comm = 0, grid1 = 0, grid2 = 0, overdue1 = 0, overdue2 = 0, alone = 0, disabled = 0;
    for (size_t i = 0; i < s->n_rows; i++) {
        const Whistle__V1__ArchiveStatsRow *w = s->rows[i];
        if (!strcmp(w->measure, "visits_by_worker"))
            *(strcmp(w->code, "gw-1") == 0 ? &by_gw1 : &by_comm) += w->count;
        else if (!strcmp(w->measure, "visits_by_grid"))
            *(strcmp(w->code, GRID1) == 0 ? &grid1 : &grid2) += w->count;
        else if (!strcmp(w->measure, "overdue"))
            *(strcmp(w->code, GRID1) == 0 ? &overdue1 : &overdue2) += w->count;
        else if (!strcmp(w->measure, "households_by_tag"))
            *(strcmp(w->code, "alone") == 0 ? &alone : &disabled) += w->count;
    }
    cr_assert_eq(by_gw1, 2);
    cr_assert_eq(by_comm, 1);
    cr_assert_eq(grid1, 2);
    cr_assert_eq(grid2, 1);
    cr_assert_eq(overdue1, 1, "a's weekly visit is overdue, b's monthly is not");
    cr_assert_eq(overdue2, 1);
    cr_assert_eq(alone, 2);
    cr_assert_eq(disabled, 1);
    /* a grid worker counts its own grid only */
    r->get_archive_stats->node = GRID2;
    assert_code(h_read("gw-1", r), PERMISSION_DENIED);
}

/* whistled --check: a clean archive passes; a lost index row or visit
 * deadline is named. */
static int check_now(const char **out)
{
    seal_keys_free(h_st->archive_keys);
    h_st->archive_keys = NULL;
    store_close(h_st);
    h_st = NULL;
    char *buf = NULL, err[512] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    check_report rep;
    int rc = check_store(h_dir, f, &rep, err, sizeof err);
    fclose(f);
    *out = arena_printf(h_a, "%s%s", buf ? buf : "", err);
    free(buf);
    h_open_opts(NULL);
    h_archive_keys();
    return rc;
}

Test(archive, the_store_checker_knows_the_archive)
{
    h_archive_keys();
    uint64_t hh = put_household("gw-1", GRID1, "301");
    assert_ok(put_resident("gw-1", hh, h_idcard("11010519380512004"), "13912345678", "alone"));
    assert_ok(visit("gw-1", hh, false));
    const char *out;
    cr_assert_eq(check_now(&out), 0, "a clean archive:\n%s", out);
    /* lose the household's visit deadline, then its place in the index */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->deadlines, &cur), 0);
    MDB_val k, v;
    bool gone = false;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (k.mv_size == 17 && ((uint8_t *)k.mv_data)[8] == 6) {
            cr_assert_eq(mdb_cursor_del(cur, 0), 0);
            gone = true;
            break;
        }
    mdb_cursor_close(cur);
    cr_assert(gone, "the household has a visit deadline row");
    cr_assert_eq(mdb_txn_commit(txn), 0);
    cr_assert_eq(check_now(&out), 1);
    cr_assert(strstr(out, "arc_households") && strstr(out, "deadlines has no row"), "%s", out);
}

Test(archive, units_are_imported_from_a_spreadsheet_and_a_bad_file_changes_nothing)
{
    h_archive_keys();
    const char *bad = "类型,所在地,名称,联系电话\n"
                      "沿街商铺," YONGANLI ",便民超市,13700001111\n"
                      "驻区单位," YONGANLI ",区医院,12345\n"   /* line 3: phone */
                      "菜市场," YONGANLI ",早市,\n"            /* line 4: kind */
                      "social_org,110105002001,志愿者协会,\n"; /* line 5: outside */
    Whistle__V1__Request *r = rq_import(YONGANLI, bad, false);
    r->import_archive->units = true;
    Whistle__V1__Response *resp = h_write("comm-yonganli", r);
    assert_code(resp, INVALID_ARGUMENT);
    assert_msg_has(resp, "line 3: phone");
    assert_msg_has(resp, "line 4: kind");
    assert_msg_has(resp, "line 5: node");
    Whistle__V1__Request *lu = h_req();
    lu->call_case = CALL(LIST_ARCHIVE_UNITS);
    lu->list_archive_units = NEW(Whistle__V1__ListArchiveUnits, whistle__v1__list_archive_units__init);
    resp = h_read("comm-yonganli", lu);
    assert_ok(resp);
    cr_assert_eq(resp->archive_units->n_units, 0, "a bad file changed something");
    const char *good = "kind,node,name,contact_name,phone,licence\n"
                       "shop," YONGANLI ",便民超市,李老板,13700001111,91110105MA00000000\n"
                       "owners_committee," YONGANLI ",永安里业委会,,,\n";
    r = rq_import(YONGANLI, good, false);
    r->import_archive->units = true;
    resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    cr_assert_eq(resp->archive_import->units_added, 2);
    r = rq_import(YONGANLI, good, false);
    r->import_archive->units = true;
    resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    cr_assert_eq(resp->archive_import->units_updated, 2, "the same units again are updated, not doubled");
    resp = h_read("comm-yonganli", lu);
    assert_ok(resp);
    cr_assert_eq(resp->archive_units->n_units, 2);
    cr_assert_str_eq(resp->archive_units->units[0]->phone, "137****1111");
}
