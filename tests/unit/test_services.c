/* test_services.c: the public service catalogue (services.c): its two
 * directory tables in and out (dirio.c) and the list_services call. A bad
 * file names every bad line and changes nothing; nothing is deleted, a
 * retired class or item leaves the guide and stays in the store. */
#include "helpers.h"

#include "services.h"

TestSuite(services, .init = h_setup, .fini = h_teardown, .timeout = 60);

#define FMT(x) WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_##x
#define TBL(x) WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_##x

static Whistle__V1__Response *import_as(const char *who, int format, int table, const char *text, size_t len, bool dry)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(IMPORT_DIRECTORY);
    r->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    Whistle__V1__ImportDirectory *im = r->import_directory;
    im->last = true;
    im->format = format;
    im->table = table;
    im->dry_run = dry;
    im->source = "test-file";
    im->data.data = arena_alloc(h_a, len + 1);
    memcpy(im->data.data, text, len);
    im->data.len = len;
    return h_write(who, r);
}
#define IMPORT_CSV(text) import_as("admin", FMT(CSV), 0, text, strlen(text), false)
#define IMPORT_TABLE(table, text) import_as("admin", FMT(CSV), TBL(table), text, strlen(text), false)

static size_t entries(MDB_dbi dbi)
{
    MDB_stat s;
    MDB_txn *txn = store_read_begin(h_st);
    mdb_stat(txn, dbi, &s);
    store_read_end(h_st);
    return s.ms_entries;
}

static const Whistle__V1__TableCount *count_of(const Whistle__V1__Response *r, int table)
{
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_IMPORT_RESULT);
    for (size_t i = 0; i < r->import_result->n_counts; i++)
        if ((int)r->import_result->counts[i]->table == table)
            return r->import_result->counts[i];
    cr_assert_fail("no count for table %d", table);
    return NULL;
}

static Whistle__V1__Response *list_as(const char *who, const char *cls, bool retired)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_SERVICES);
    r->list_services = NEW(Whistle__V1__ListServices, whistle__v1__list_services__init);
    r->list_services->class_code = (char *)cls;
    r->list_services->include_retired = retired;
    return h_read(who, r);
}

/* The codes of a list_services answer: "01 02 | 0101 0201". */
static const char *codes(const Whistle__V1__Response *r)
{
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_SERVICES, "%s", h_msg(r));
    const char *s = "";
    for (size_t i = 0; i < r->services->n_classes; i++)
        s = arena_printf(h_a, "%s%s%s", s, i ? " " : "", r->services->classes[i]->code);
    s = arena_printf(h_a, "%s |", s);
    for (size_t i = 0; i < r->services->n_items; i++)
        s = arena_printf(h_a, "%s %s", s, r->services->items[i]->code);
    return s;
}

/* Out of code order on purpose: the store orders them. Class 03 is
 * retired, and so is service 0103. */
#define CLASSES_CSV                                                                                                    \
    "code,name_zh,name_en,retired\n"                                                                                   \
    "02,民政服务,Civil affairs,\n"                                                                                 \
    "01,社会保障,Social security,\n"                                                                               \
    "03,旧类别,Old class,true\n"
#define SERVICES_CSV_HEADER                                                                                            \
    "code,class_code,name_zh,name_en,where_zh,where_en,hours_zh,hours_en,bring_zh,bring_en,how_zh,how_en,"             \
    "department,retired\n"
#define SERVICES_CSV                                                                                                                    \
    SERVICES_CSV_HEADER                                                                                                                 \
    "0201,02,低保申请,Minimum living allowance,社区服务站一层2号窗口,\"Community service station, ground "                \
    "floor, window 2\",周一至周五 9:00-17:00,Mon-Fri 9:00-17:00,\"身份证\n户口本\",ID card and household "                   \
    "register,提交申请，入户调查，公示后发放,\"Apply, home visit, public notice, then payment\",,\n"                     \
    "0102,01,城乡居民医保参保登记,Medical insurance enrolment,一层1号窗口,Window 1,工作日,Working days,身份证,ID " \
    "card,当场办理,Done on the spot,,\n"                                                                                            \
    "0101,01,养老待遇资格认证,Pension certification,一层1号窗口,Window 1,工作日,Working days,身份证,ID card,"        \
    "刷脸认证,Face check,police,\n"                                                                                                 \
    "0103,01,旧事项,Old service,,,,,,,,,,true\n"                                                                                     \
    "0301,03,旧类别的事项,In the old class,,,,,,,,,,true\n"

static void load_catalogue(void)
{
    Whistle__V1__Response *r = IMPORT_CSV(CLASSES_CSV);
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(SERVICE_CLASSES))->added, 3);
    r = IMPORT_CSV(SERVICES_CSV);
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(SERVICES))->added, 5);
}

Test(services, a_catalogue_imports_and_lists_in_code_order)
{
    size_t audit = h_audit_records();
    load_catalogue();
    /* one audit record per class and service, one per file */
    cr_assert_eq(h_audit_records(), audit + 3 + 5 + 2);
    Whistle__V1__Response *r = list_as("kiosk-yonganli", "", false);
    assert_ok(r);
    cr_assert_str_eq(codes(r), "01 02 | 0101 0102 0201");
    const Whistle__V1__ServiceItem *it = r->services->items[2];
    cr_assert_str_eq(it->class_code, "02");
    cr_assert_str_eq(it->where_en, "Community service station, ground floor, window 2");
    cr_assert_str_eq(it->bring_zh, "身份证\n户口本", "a line break in a cell is kept");
    cr_assert_str_eq(it->hours_zh, "周一至周五 9:00-17:00");
    cr_assert_str_eq(r->services->items[0]->department, "police");
    cr_assert_str_eq(r->services->classes[1]->name_en, "Civil affairs");
    /* every role reads the guide */
    const char *who[] = { "op-jianwai", "police", "gw-1", "comm-yonganli", "hotline", "smoke-1" };
    for (size_t i = 0; i < sizeof who / sizeof *who; i++)
        cr_assert_str_eq(codes(list_as(who[i], "", false)), "01 02 | 0101 0102 0201", "as %s", who[i]);
}

Test(services, the_audit_log_names_services_apart_from_categories)
{
    load_catalogue();
    MDB_txn *txn = store_read_begin(h_st);
    Whistled__AuditRecord **recs;
    size_t n;
    char *next;
    cr_assert_eq(audit_query(h_st, txn, "", "service:0201", 0, INT64_MAX, "", 10, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(recs[0]->record_type, "whistle.v1.ServiceItem");
    cr_assert_eq(audit_query(h_st, txn, "", "service_class:03", 0, INT64_MAX, "", 10, h_a, &recs, &n, &next), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(audit_query(h_st, txn, "", "0101", 0, INT64_MAX, "", 10, h_a, &recs, &n, &next), 0);
    for (size_t i = 0; i < n; i++) /* the seed's category 0101, not service 0101 */
        cr_assert_str_eq(recs[i]->record_type, "whistle.v1.Category");
    store_read_end(h_st);
}

Test(services, one_class_and_its_items)
{
    load_catalogue();
    cr_assert_str_eq(codes(list_as("kiosk-yonganli", "02", false)), "02 | 0201");
    cr_assert_str_eq(codes(list_as("kiosk-yonganli", "01", false)), "01 | 0101 0102");
    Whistle__V1__Response *r = list_as("kiosk-yonganli", "99", false);
    assert_code(r, NOT_FOUND);
    assert_msg_has(r, "no service class 99");
    r = list_as("kiosk-yonganli", "03", false);
    assert_code(r, NOT_FOUND);
    assert_msg_has(r, "retired");
    const char *bad[] = { "1", "001", "0a", "01 ", "０１" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = list_as("kiosk-yonganli", bad[i], false);
        assert_code(r, INVALID_ARGUMENT);
        assert_msg_has(r, "class_code");
        assert_msg_has(r, "2 digits");
    }
    /* a long value is quoted in part, on a character boundary */
    char *longcode = arena_alloc(h_a, 3 * 100 + 1);
    longcode[0] = 0;
    for (int i = 0; i < 100; i++)
        strcat(longcode, "类");
    r = list_as("kiosk-yonganli", longcode, false);
    assert_code(r, INVALID_ARGUMENT);
    cr_assert_lt(strlen(h_msg(r)), 200);
    cr_assert(utf8_valid(h_msg(r), strlen(h_msg(r))));
}

Test(services, retired_entries_are_kept_and_shown_to_admins_only)
{
    load_catalogue();
    size_t items = entries(h_st->services);
    cr_assert_str_eq(codes(list_as("admin", "", true)), "01 02 03 | 0101 0102 0103 0201 0301");
    cr_assert_str_eq(codes(list_as("admin", "03", true)), "03 | 0301");
    cr_assert_str_eq(codes(list_as("admin", "", false)), "01 02 | 0101 0102 0201", "admins see the guide as is");
    Whistle__V1__Response *r = list_as("kiosk-yonganli", "", true);
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "include_retired is for admins");

    /* retire a service: a file with only the columns it changes */
    r = IMPORT_TABLE(SERVICES, "code,retired\n0102,true\n");
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(SERVICES))->updated, 1);
    cr_assert_str_eq(codes(list_as("kiosk-yonganli", "", false)), "01 02 | 0101 0201");
    /* retire a class: its services leave the guide with it */
    assert_ok(IMPORT_CSV("code,name_zh,retired\n01,社会保障,是\n"));
    cr_assert_str_eq(codes(list_as("kiosk-yonganli", "", false)), "02 | 0201");
    assert_code(list_as("kiosk-yonganli", "01", false), NOT_FOUND);
    /* and come back with it, each as it was */
    assert_ok(IMPORT_CSV("code,name_zh,retired\n01,社会保障,false\n"));
    cr_assert_str_eq(codes(list_as("kiosk-yonganli", "", false)), "01 02 | 0101 0201");
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__ServiceItem *it = services_item_get(h_st, txn, "0102", h_a);
    store_read_end(h_st);
    cr_assert(it && it->retired);
    cr_assert_str_eq(it->name_en, "Medical insurance enrolment", "a column the file lacks is kept");
    cr_assert_eq(entries(h_st->services), items, "nothing is deleted");

    /* a retired class takes no new services, unless they come retired */
    r = IMPORT_TABLE(SERVICES, "code,name_zh\n0302,新事项\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "line 2: field \"code\": its class 03 is retired");
    assert_ok(IMPORT_TABLE(SERVICES, "code,name_zh,retired\n0302,新事项,true\n"));
}

Test(services, every_bad_line_is_named_and_nothing_changes)
{
    load_catalogue();
    size_t classes = entries(h_st->service_classes), items = entries(h_st->services), audit = h_audit_records();
    const char ctext[] = "code,name_zh,name_en,retired\n"
                         "04,新类别,New class,\n" /* 2 fine */
                         "1,短,Short,\n"          /* 3 code shape */
                         "0A,字母,Letters,\n"     /* 4 code shape */
                         "05,,No Chinese name,\n" /* 5 no zh name */
                         "06,好,Good,maybe\n"     /* 6 retired */
                         "04,重复,Duplicate,\n";  /* 7 duplicate */
    Whistle__V1__Response *r = import_as("admin", FMT(CSV), 0, ctext, sizeof ctext - 1, false);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "5 bad lines");
    assert_msg_has(r, "nothing was imported");
    assert_msg_has(r, "line 3: field \"code\": \"1\": a service class code is 2 digits");
    assert_msg_has(r, "line 4: field \"code\": \"0A\": a service class code is 2 digits");
    assert_msg_has(r, "line 5: field \"name_zh\": missing: a service class needs its Chinese name");
    assert_msg_has(r, "line 6: field \"retired\": \"maybe\": use true or false");
    assert_msg_has(r, "line 7: field \"code\": duplicate: service class 04 is already on line 2");
    cr_assert_null(strstr(h_msg(r), "line 2:"));

    char longtext[260];
    memset(longtext, 'x', 201);
    longtext[201] = 0;
    const char *stext = arena_printf(h_a,
                                     "code,class_code,name_zh,name_en,where_zh,department,retired\n"
                                     "0104,01,新事项,New,一层,,\n"        /* 2 fine */
                                     "101,01,短,Short,,,\n"               /* 3 code shape */
                                     "0901,09,无类,No class,,,\n"         /* 4 no such class */
                                     "0105,02,错类,Wrong class,,,\n"      /* 5 class_code is not the prefix */
                                     "0106,01,,No Chinese name,,,\n"      /* 6 no zh name */
                                     "0107,01,部门,Department,,nobody,\n" /* 7 unknown department */
                                     "0108,01,撤销,Retired,,,perhaps\n"   /* 8 retired */
                                     "0104,01,重复,Duplicate,,,\n"        /* 9 duplicate */
                                     "0109,01,长,Long,%s,,\n"             /* 10 too long */
                                     "0110,01,\"控制\x01\",Control,,,\n"  /* 11 control character */
                                     "0111,01,\xb5\xda\xb6\xfe,GBK,,,\n"  /* 12 not UTF-8 */
                                     "0112,01,少列\n",                    /* 13 fields missing */
                                     longtext);
    r = import_as("admin", FMT(CSV), 0, stext, strlen(stext), false);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "11 bad lines");
    assert_msg_has(r, "line 3: field \"code\": \"101\": a service code is 4 digits");
    assert_msg_has(r, "line 4: field \"code\": its class 09 does not exist");
    assert_msg_has(r, "line 5: field \"class_code\": the class of service 0105 is 01 (its first 2 digits); this row "
                      "says 02");
    assert_msg_has(r, "line 6: field \"name_zh\": missing: a service needs its Chinese name");
    assert_msg_has(r, "line 7: field \"department\": department \"nobody\" does not exist");
    assert_msg_has(r, "line 8: field \"retired\": \"perhaps\": use true or false");
    assert_msg_has(r, "line 9: field \"code\": duplicate: service 0104 is already on line 2");
    assert_msg_has(r, "line 10: field \"where_zh\": 201 bytes; at most 200");
    assert_msg_has(r, "line 11: field \"name_zh\": contains a control character (0x01)");
    assert_msg_has(r, "line 12: not valid UTF-8");
    assert_msg_has(r, "line 13: 3 fields where the header has 7");
    cr_assert_null(strstr(h_msg(r), "line 2:"));
    cr_assert_lt(strstr(h_msg(r), "line 3:"), strstr(h_msg(r), "line 13:"), "in file order");

    cr_assert_eq(entries(h_st->service_classes), classes, "a bad file changed the classes");
    cr_assert_eq(entries(h_st->services), items, "a bad file changed the services");
    cr_assert_eq(h_audit_records(), audit, "a bad file left audit records");
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_null(services_item_get(h_st, txn, "0104", h_a));
    cr_assert_null(services_class_get(h_st, txn, "04", h_a));
    store_read_end(h_st);
}

Test(services, texts_are_bounded_and_paragraphs_may_break_lines)
{
    load_catalogue();
    char para[1002];
    memset(para, 'x', 1001);
    para[1001] = 0;
    const char *t =
        arena_printf(h_a, "code,bring_zh,how_en,hours_en\n0101,%s,\"Step 1\nStep 2\",\"9:00\n17:00\"\n", para);
    Whistle__V1__Response *r = import_as("admin", FMT(CSV), TBL(SERVICES), t, strlen(t), false);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "line 2: field \"bring_zh\": 1001 bytes; at most 1000");
    assert_msg_has(r, "field \"hours_en\": contains a control character (0x0a); keep it on one line");
    cr_assert_null(strstr(h_msg(r), "how_en"), "a paragraph may break lines: %s", h_msg(r));
    para[1000] = 0;
    t = arena_printf(h_a, "code,bring_zh,how_en\n0101,%s,\"Step 1\nStep 2\"\n", para);
    assert_ok(import_as("admin", FMT(CSV), TBL(SERVICES), t, strlen(t), false));
}

Test(services, a_dry_run_counts_and_changes_nothing)
{
    size_t audit = h_audit_records();
    Whistle__V1__Response *r = import_as("admin", FMT(CSV), 0, CLASSES_CSV, strlen(CLASSES_CSV), true);
    assert_ok(r);
    cr_assert_not(r->import_result->applied);
    cr_assert_eq(count_of(r, TBL(SERVICE_CLASSES))->added, 3);
    cr_assert_eq(entries(h_st->service_classes), 0);
    cr_assert_eq(h_audit_records(), audit);
}

Test(services, the_header_tells_the_table_and_numbers_are_not_taken_for_departments)
{
    /* code,name_zh,name_en is also a departments header: a file of 2-digit
     * codes is refused unless the table is said */
    const char *f = "code,name_zh,name_en\n01,社会保障,Social security\n";
    Whistle__V1__Response *r = IMPORT_CSV(f);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "line 2: field \"code\": \"01\" is digits only");
    assert_msg_has(r, "--table service_classes");
    cr_assert_eq(entries(h_st->departments), 4);
    r = import_as("admin", FMT(CSV), TBL(SERVICE_CLASSES), f, strlen(f), false);
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(SERVICE_CLASSES))->added, 1);
    /* Chinese headers, detected by a service's own columns */
    r = IMPORT_CSV("事项编码,名称,办理地点,办理时间,所需材料,办理流程\n0101,养老认证,一层,工作日,身份证,刷脸\n");
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(SERVICES))->added, 1);
    /* a principals file with a department column is still principals */
    r = IMPORT_CSV("name,department,role,scope\npolice2,police,department,110105\n");
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(PRINCIPALS))->added, 1);
}

Test(services, json_holds_the_catalogue_with_references_inside_the_file)
{
    Whistle__V1__Response *r = import_as(
        "admin", FMT(JSON), 0,
        "{\"departments\":[{\"code\":\"civil\",\"name_zh\":\"民政科\"}],"
        "\"services\":[{\"code\":\"0201\",\"name_zh\":\"低保\",\"name_en\":\"Allowance\",\"department\":\"civil\"}],"
        "\"service_classes\":[{\"code\":\"02\",\"name_zh\":\"民政服务\",\"name_en\":\"Civil affairs\"}]}",
        strlen("{\"departments\":[{\"code\":\"civil\",\"name_zh\":\"民政科\"}],"
               "\"services\":[{\"code\":\"0201\",\"name_zh\":\"低保\",\"name_en\":\"Allowance\",\"department\":"
               "\"civil\"}],"
               "\"service_classes\":[{\"code\":\"02\",\"name_zh\":\"民政服务\",\"name_en\":\"Civil affairs\"}]}"),
        false);
    assert_ok(r);
    cr_assert_eq(r->import_result->n_counts, 3);
    cr_assert_eq(count_of(r, TBL(SERVICES))->added, 1);
    cr_assert_str_eq(codes(list_as("kiosk-yonganli", "", false)), "02 | 0201");

    const char *bad = "{\"services\":[{\"code\":\"0301\",\"retired\":\"yes\"},{\"code\":301}]}";
    r = import_as("admin", FMT(JSON), 0, bad, strlen(bad), false);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "services[0] (0301): field \"retired\": must be true or false");
    assert_msg_has(r, "services[1]: field \"code\": must be a string");
}

/* ------------------------------------------------------------ export */

static char *export_all(int format, int table, uint32_t page)
{
    char *out = arena_strdup(h_a, "");
    const char *cursor = "";
    int pages = 0;
    do {
        Whistle__V1__Request *r = h_req();
        r->call_case = CALL(EXPORT_DIRECTORY);
        r->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
        r->export_directory->format = format;
        r->export_directory->table = table;
        r->export_directory->cursor = (char *)cursor;
        r->export_directory->page_bytes = page;
        Whistle__V1__Response *resp = h_read("admin", r);
        assert_ok(resp);
        out = arena_printf(h_a, "%s%.*s", out, (int)resp->export_page->data.len,
                           (const char *)resp->export_page->data.data);
        cursor = resp->export_page->next_cursor;
        cr_assert_lt(++pages, 1000);
    } while (*cursor);
    return out;
}

Test(services, csv_exports_read_back_unchanged)
{
    load_catalogue();
    static const int tables[] = { TBL(SERVICE_CLASSES), TBL(SERVICES) };
    static const uint32_t rows[] = { 3, 5 };
    for (size_t i = 0; i < 2; i++) {
        char *csv = export_all(FMT(CSV), tables[i], 1024);
        /* and the header alone tells the table */
        Whistle__V1__Response *r = import_as("admin", FMT(CSV), 0, csv, strlen(csv), false);
        assert_ok(r);
        const Whistle__V1__TableCount *c = count_of(r, tables[i]);
        cr_assert_eq(c->added + c->updated, 0, "table %d: an export read back changes nothing", tables[i]);
        cr_assert_eq(c->unchanged, rows[i]);
    }
    char *csv = export_all(FMT(CSV), TBL(SERVICES), 0);
    cr_assert(strstr(csv, "0201,02,低保申请,Minimum living allowance,社区服务站一层2号窗口,\"Community service "
                          "station, ground floor, window 2\""),
              "%s", csv);
    cr_assert(strstr(csv, "0103,01,旧事项,Old service,,,,,,,,,,true"), "%s", csv);
}

Test(services, json_export_holds_every_table_and_reads_back_unchanged)
{
    load_catalogue();
    char *before = export_all(FMT(JSON), 0, 1024);
    cr_assert(strstr(before, "\"service_classes\": ["));
    cr_assert(strstr(before, "\"services\": ["));
    Whistle__V1__Response *r = import_as("admin", FMT(JSON), 0, before, strlen(before), false);
    assert_ok(r);
    cr_assert_eq(r->import_result->n_counts, 6);
    for (size_t i = 0; i < r->import_result->n_counts; i++) {
        const Whistle__V1__TableCount *c = r->import_result->counts[i];
        cr_assert_eq(c->added + c->updated, 0, "table %d changed", c->table);
    }
    cr_assert_eq(count_of(r, TBL(SERVICES))->unchanged, 5);

    /* a seed from the export makes the same catalogue */
    store_close(h_st);
    h_rmtree(h_dir);
    strcpy(h_dir, "/tmp/whistle-unit-XXXXXX");
    cr_assert(mkdtemp(h_dir));
    h_open_opts(NULL);
    char *path = arena_printf(h_a, "%s/export.json", h_dir);
    FILE *f = fopen(path, "w");
    fputs(before, f);
    fclose(f);
    char err[512] = "";
    cr_assert_eq(api_seed(h_st, path, T0, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(export_all(FMT(JSON), 0, 1 << 20), before);
}

Test(services, an_export_cursor_walks_the_catalogue_tables)
{
    load_catalogue();
    /* small pages: the cursor goes through table 6 */
    char *paged = export_all(FMT(CSV), TBL(SERVICES), 1);
    char *whole = export_all(FMT(CSV), TBL(SERVICES), 1 << 20);
    cr_assert_str_eq(paged, whole);
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(EXPORT_DIRECTORY);
    r->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    r->export_directory->table = 7;
    Whistle__V1__Response *resp = h_read("admin", r);
    assert_code(resp, INVALID_ARGUMENT);
    assert_msg_has(resp, "service_classes or services");
}
