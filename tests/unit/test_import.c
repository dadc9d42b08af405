/* test_import.c: directory files in and out (dirio.c through the
 * import_directory and export_directory calls). A bad file changes nothing
 * and names every bad line. */
#include "helpers.h"

#include "directory.h"

TestSuite(import, .init = h_setup, .fini = h_teardown, .timeout = 60);

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
#define IMPORT_JSON(text) import_as("admin", FMT(JSON), 0, text, strlen(text), false)

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

static Whistle__V1__Node *node(const char *code)
{
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Node *n = directory_node_get(h_st, txn, code, h_a);
    store_read_end(h_st);
    return n;
}

static Whistle__V1__Category *category(const char *code)
{
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Category *k = directory_category_get(h_st, txn, code, h_a);
    store_read_end(h_st);
    return k;
}

#define PLACES_HEADER "code,parent_code,kind,name_zh,name_en\n"

Test(import, places_in_any_order_are_added_and_audited)
{
    size_t nodes = entries(h_st->nodes), audit = h_audit_records();
    /* children before their parents, as a sorted spreadsheet may have them */
    Whistle__V1__Response *r = IMPORT_CSV(PLACES_HEADER "110105003001001,110105003001,grid,第一网格,Grid 1\n"
                                                        "110105003001,110105003,community,新社区,New community\n"
                                                        "110105003,110105,street,呼家楼街道,Hujialou\n");
    assert_ok(r);
    const Whistle__V1__TableCount *c = count_of(r, TBL(NODES));
    cr_assert_eq(c->added, 3);
    cr_assert_eq(c->updated, 0);
    cr_assert(r->import_result->applied);
    cr_assert_eq(entries(h_st->nodes), nodes + 3);
    cr_assert_str_eq(node("110105003001001")->parent, "110105003001");
    cr_assert_str_eq(node("110105003")->name_zh, "呼家楼街道");
    /* one record per place, one for the file */
    cr_assert_eq(h_audit_records(), audit + 4);
}

Test(import, a_second_import_updates_what_changed_and_keeps_missing_columns)
{
    const char *f = PLACES_HEADER "110105003,110105,street,呼家楼街道,Hujialou\n";
    assert_ok(IMPORT_CSV(f));
    Whistle__V1__Response *r = IMPORT_CSV(f);
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(NODES))->unchanged, 1);
    /* a file with a retired column, then one without it: retired stays */
    assert_ok(IMPORT_CSV("code,parent_code,kind,name_zh,name_en,retired\n110105003,110105,street,呼家楼,Hujialou,"
                         "true\n"));
    cr_assert(node("110105003")->retired);
    r = IMPORT_CSV(PLACES_HEADER "110105003,110105,street,呼家楼街道,Hujialou Subdistrict\n");
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(NODES))->updated, 1);
    cr_assert_str_eq(node("110105003")->name_en, "Hujialou Subdistrict");
    cr_assert(node("110105003")->retired, "a column the file does not have is left as it is");
}

Test(import, every_bad_line_is_reported_and_nothing_changes)
{
    size_t nodes = entries(h_st->nodes), audit = h_audit_records();
    const char text[] =
        PLACES_HEADER "110105003,110105,street,呼家楼街道,Hujialou\n"           /* 2 fine */
                      "11010500300,110105003,community,短,Short\n"              /* 3 code shape */
                      "110105003001,110105009,community,错父,Wrong parent\n"    /* 4 parent is not the prefix */
                      "110105009001001,110105009001,grid,孤儿,Orphan\n"         /* 5 unknown parent */
                      "110105003,110105,street,重复,Duplicate\n"                /* 6 duplicate code */
                      "110105003002,110105003,community,\xb5\xda\xb6\xfe,GBK\n" /* 7 bad UTF-8 */
                      "110105003003,110105003,community,少一列\n"               /* 8 missing column */
                      "1.10105E+14,110105003003,grid,科学,Scientific\n"         /* 9 reformatted number */
                      "110105003004,110105003,villa,别墅,Villa\n"               /* 10 unknown kind */
                      "110105001001003001,110105001001003,building,楼,On a retired grid\n"; /* 11 retired parent */
    Whistle__V1__Response *r = import_as("admin", FMT(CSV), 0, text, sizeof text - 1, false);
    assert_code(r, INVALID_ARGUMENT);
    const char *m = h_msg(r);
    assert_msg_has(r, "9 bad lines");
    assert_msg_has(r, "nothing was imported");
    assert_msg_has(r, "line 3: field \"code\": a community code is 12 digits");
    assert_msg_has(r, "line 4: field \"parent_code\": the parent of community 110105003001 is the street 110105003");
    assert_msg_has(r, "line 5: field \"parent_code\": 110105009001 does not exist");
    assert_msg_has(r, "line 6: field \"code\": duplicate: code 110105003 is already on line 2");
    assert_msg_has(r, "line 7: not valid UTF-8");
    assert_msg_has(r, "line 8: 4 fields where the header has 5: name_en is missing");
    assert_msg_has(r, "line 9: field \"code\": \"1.10105E+14\" is a number a spreadsheet reformatted");
    assert_msg_has(r, "line 10: field \"kind\": \"villa\" is not one of");
    assert_msg_has(r, "line 11: field \"parent_code\": 110105001001003 is retired");
    cr_assert_null(strstr(m, "line 2:"), "a good line is not reported: %s", m);
    /* in file order */
    cr_assert_lt(strstr(m, "line 3:"), strstr(m, "line 11:"));
    cr_assert_eq(entries(h_st->nodes), nodes, "a bad file changed the tree");
    cr_assert_eq(h_audit_records(), audit, "a bad file left audit records");
    cr_assert_null(node("110105003"));
}

Test(import, a_header_without_a_required_column_is_refused)
{
    Whistle__V1__Response *r = IMPORT_CSV("code,parent_code,name_zh,name_en\n110105003,110105,呼家楼,Hujialou\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "line 1: the header has no \"kind\" column");
    r = IMPORT_CSV("");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "the file is empty");
    r = IMPORT_CSV("foo,bar\n1,2\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "cannot tell which table");
}

Test(import, spreadsheet_habits_are_accepted)
{
    /* BOM, CRLF, Chinese headers and kinds, an unknown remarks column, a
     * semicolon list, quoted names with commas */
    const char text[] = "\xEF\xBB\xBF编码,上级编码,类型,名称,英文名称,备注\r\n"
                        "110105003,110105,街道,呼家楼街道,\"Hujialou, Chaoyang\",新建\r\n"
                        "110105003001,110105003,社区,新社区,,\r\n";
    Whistle__V1__Response *r = import_as("admin", FMT(CSV), 0, text, sizeof text - 1, false);
    assert_ok(r);
    cr_assert_eq(count_of(r, TBL(NODES))->added, 2);
    cr_assert_str_eq(node("110105003")->name_en, "Hujialou, Chaoyang");
    cr_assert_eq(node("110105003001")->kind, WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY);
    cr_assert_eq(r->import_result->n_notes, 1);
    cr_assert(strstr(r->import_result->notes[0], "备注"));
}

Test(import, an_import_does_not_move_places)
{
    Whistle__V1__Response *r = IMPORT_CSV(PLACES_HEADER "110105001001002,110105001001,grid,改名,Renamed\n"
                                                        "110105002001001,110105001001,grid,搬家,Moved\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r,
                   "line 3: field \"parent_code\": the parent of grid 110105002001001 is the community 110105002001");
}

Test(import, a_dry_run_counts_and_changes_nothing)
{
    size_t nodes = entries(h_st->nodes), audit = h_audit_records();
    const char *f = PLACES_HEADER "110105003,110105,street,呼家楼街道,Hujialou\n";
    Whistle__V1__Response *r = import_as("admin", FMT(CSV), 0, f, strlen(f), true);
    assert_ok(r);
    cr_assert_not(r->import_result->applied);
    cr_assert_eq(count_of(r, TBL(NODES))->added, 1);
    cr_assert_eq(entries(h_st->nodes), nodes);
    cr_assert_eq(h_audit_records(), audit);
}

Test(import, categories_carry_departments_and_limits_per_priority)
{
    assert_ok(IMPORT_CSV("code,name_zh,name_en\nproperty,物业科,Property office\n"));
    Whistle__V1__Response *r =
        IMPORT_CSV("code,name_zh,name_en,departments,check_in,resolve,check_in_urgent,resolve_urgent\n"
                   "10,邻里纠纷,Neighbour disputes,,,,,\n"
                   "1001,噪音扰民,Noise,\"property, police\",2h,3wd,30分钟,4小时\n");
    assert_ok(r);
    Whistle__V1__Category *k = category("1001");
    cr_assert_eq(k->n_departments, 2);
    cr_assert_str_eq(k->departments[0], "property");
    cr_assert_eq(k->n_limits, 2);
    cr_assert_eq(k->check_in_minutes, 120, "the default in natural time is mirrored");
    cr_assert_eq(k->resolve_hours, 0, "working days have no natural-time mirror");
    Whistle__V1__PriorityLimits *u = directory_limits_for(k, WHISTLE__V1__PRIORITY__PRIORITY_URGENT, h_a);
    cr_assert_eq(u->check_in->amount, 30);
    cr_assert_eq(u->check_in->unit, WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES);
    cr_assert_eq(u->resolve->amount, 4);
    Whistle__V1__PriorityLimits *n = directory_limits_for(k, WHISTLE__V1__PRIORITY__PRIORITY_HIGH, h_a);
    cr_assert_eq(n->resolve->amount, 3);
    cr_assert_eq(n->resolve->unit, WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS);

    r = IMPORT_CSV("code,name_zh,departments,check_in,resolve,check_in_minutes\n"
                   "1002,x,nobody,3 weeks,0h,30\n"
                   "2001,y,police,,,\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "line 2: field \"departments\": department \"nobody\" does not exist");
    assert_msg_has(r, "line 2: field \"check_in\": \"3 weeks\": unknown unit");
    assert_msg_has(r, "line 2: field \"resolve\": \"0h\": the amount is out of range");
    assert_msg_has(r, "line 3: field \"code\": its major class 20 does not exist");
}

Test(import, json_imports_every_table_with_references_inside_the_file)
{
    Whistle__V1__Response *r = IMPORT_JSON(
        "{\"nodes\":[{\"code\":\"110105003\",\"parent\":\"110105\",\"kind\":\"street\",\"name_zh\":\"呼家楼\"}],"
        "\"departments\":[{\"code\":\"property\",\"name_zh\":\"物业科\"}],"
        "\"categories\":[{\"code\":\"10\",\"name_zh\":\"邻里\"},{\"code\":\"1001\",\"name_zh\":\"噪音\","
        "\"departments\":[\"property\"],\"check_in_minutes\":60,\"resolve_hours\":24}],"
        "\"principals\":[{\"name\":\"op-hjl\",\"role\":\"operator\",\"scope\":\"110105003\"},"
        "{\"name\":\"prop\",\"role\":\"department\",\"scope\":\"110105\",\"department\":\"property\"}]}");
    assert_ok(r);
    cr_assert_eq(r->import_result->n_counts, 4);
    cr_assert_eq(count_of(r, TBL(PRINCIPALS))->added, 2);
    cr_assert_eq(category("1001")->check_in_minutes, 60);
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Principal *p = api_principal(h_st, txn, "op-hjl", h_a);
    store_read_end(h_st);
    cr_assert(p && p->enabled);

    r = IMPORT_JSON("{\"nodes\":[{\"code\":\"110105004\",\"parent\":\"110105\",\"kind\":\"street\"},"
                    "{\"code\":\"110105005\",\"parent\":7,\"kind\":\"street\",\"name_zh\":\"x\"}],"
                    "\"principals\":[{\"name\":\"p\",\"role\":\"department\",\"scope\":\"110105\"}]}");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "nodes[0] (110105004): field \"name_zh\": a place needs a name");
    assert_msg_has(r, "nodes[1] (110105005): field \"parent\": must be a string");
    assert_msg_has(r, "principals[0] (p): field \"department\": missing");
    assert_msg_has(r, "3 bad entries, 3 errors");
}

Test(import, principals_keep_an_admin)
{
    Whistle__V1__Response *r = IMPORT_CSV("name,role,scope,enabled\nadmin,admin,110105,false\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "no enabled admin");
    r = IMPORT_CSV("name,role,scope,department\nx,operator,110105001,police\ny,kiosk,999,\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "line 2: field \"department\": only a department principal has a department");
    assert_msg_has(r, "line 3: field \"scope\": node 999 does not exist");
}

Test(import, only_admins_import)
{
    Whistle__V1__Response *r = import_as("op-jianwai", FMT(CSV), 0, PLACES_HEADER, strlen(PLACES_HEADER), false);
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "the directory is imported by admins");
}

/* ------------------------------------------------------------ export */

/* The whole export of a table (or all, JSON), in pages of about page bytes. */
static char *export_all(int format, int table, uint32_t page, int *pages)
{
    char *out = arena_strdup(h_a, "");
    const char *cursor = "";
    *pages = 0;
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
        (*pages)++;
        cr_assert_lt(*pages, 1000);
    } while (*cursor);
    return out;
}

static void fresh_store(void)
{
    store_close(h_st);
    h_rmtree(h_dir);
    strcpy(h_dir, "/tmp/whistle-unit-XXXXXX");
    cr_assert(mkdtemp(h_dir));
    h_open_opts(NULL);
}

Test(import, json_export_imports_into_an_empty_store_and_exports_the_same)
{
    assert_ok(IMPORT_CSV("code,name_zh,name_en,departments,check_in,resolve,check_in_low,resolve_low\n"
                         "0103,乱扔,Littering,urban,1wh,2wd,1d,5wd\n"));
    int pages;
    char *before = export_all(FMT(JSON), 0, 1024, &pages);
    cr_assert_gt(pages, 2, "small pages make several");
    fresh_store();
    /* an empty store has no admin to import: load it the way a seed does */
    char *path = arena_printf(h_a, "%s/export.json", h_dir);
    FILE *f = fopen(path, "w");
    fputs(before, f);
    fclose(f);
    char err[512] = "";
    cr_assert_eq(api_seed(h_st, path, T0, err, sizeof err), 0, "%s", err);
    char *after = export_all(FMT(JSON), 0, 1 << 20, &pages);
    cr_assert_eq(pages, 1);
    cr_assert_str_eq(after, before);
}

Test(import, csv_exports_import_back_unchanged)
{
    static const int tables[] = { TBL(NODES), TBL(DEPARTMENTS), TBL(CATEGORIES), TBL(PRINCIPALS) };
    for (size_t i = 0; i < 4; i++) {
        int pages;
        char *csv = export_all(FMT(CSV), tables[i], 1024, &pages);
        Whistle__V1__Response *r = import_as("admin", FMT(CSV), tables[i], csv, strlen(csv), false);
        assert_ok(r);
        const Whistle__V1__TableCount *c = count_of(r, tables[i]);
        cr_assert_eq(c->added + c->updated, 0, "table %d: an export read back changes nothing", tables[i]);
        cr_assert_gt(c->unchanged, 0);
    }
}

Test(import, export_of_a_subtree)
{
    int pages;
    char *csv = export_all(FMT(CSV), TBL(NODES), 0, &pages);
    cr_assert(strstr(csv, "110105002001001"));
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(EXPORT_DIRECTORY);
    r->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    r->export_directory->under = "110105001";
    Whistle__V1__Response *resp = h_read("admin", r);
    assert_ok(resp);
    cr_assert_eq(resp->export_page->rows, 6);
    cr_assert_null(strstr((const char *)resp->export_page->data.data, "110105002"));
}
