/* test_seed.c: the directory seed loader. A bad seed loads nothing. */
#include "helpers.h"

TestSuite(seed, .init = h_setup_empty, .fini = h_teardown);

static const char *seed_file(const char *json)
{
    char *path = arena_printf(h_a, "%s/seed.json", h_dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(json, f);
    fclose(f);
    return path;
}

static int seed(const char *path, char *err, size_t len) { return api_seed(h_st, path, T0, err, len); }

static bool store_is_empty(void)
{
    MDB_txn *txn = store_read_begin(h_st);
    bool e = store_db_empty(txn, h_st->nodes) && store_db_empty(txn, h_st->departments) &&
             store_db_empty(txn, h_st->categories) && store_db_empty(txn, h_st->principals) &&
             store_db_empty(txn, h_st->service_classes) && store_db_empty(txn, h_st->services);
    store_read_end(h_st);
    return e;
}

static size_t entries(MDB_dbi dbi)
{
    MDB_stat s;
    MDB_txn *txn = store_read_begin(h_st);
    mdb_stat(txn, dbi, &s);
    store_read_end(h_st);
    return s.ms_entries;
}

#define NODES_OK                                                                                                       \
    "\"nodes\":[{\"code\":\"110105\",\"parent\":\"\",\"kind\":\"district\",\"name_zh\":\"朝阳区\"},"                \
    "{\"code\":\"110105001\",\"parent\":\"110105\",\"kind\":\"street\",\"name_zh\":\"建外\"}]"

/* Expects the seed to fail with err holding each of the needles, and the
 * store to stay empty. */
static void expect_fail(const char *json, const char *needle1, const char *needle2)
{
    char err[512] = "";
    cr_assert_lt(seed(seed_file(json), err, sizeof err), 0, "seed should fail: %s", json);
    cr_assert(strstr(err, needle1), "error \"%s\" lacks \"%s\"", err, needle1);
    if (needle2)
        cr_assert(strstr(err, needle2), "error \"%s\" lacks \"%s\"", err, needle2);
    cr_assert(store_is_empty(), "a failed seed wrote something");
}

Test(seed, the_fixture_loads)
{
    char err[512] = "";
    cr_assert_eq(seed(SEED_SMALL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(entries(h_st->nodes), 10);
    cr_assert_eq(entries(h_st->departments), 4);
    cr_assert_eq(entries(h_st->categories), 5);
    cr_assert_eq(entries(h_st->principals), 15);

    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Principal *p = api_principal(h_st, txn, "police", h_a);
    cr_assert(p);
    cr_assert_eq(p->role, WHISTLE__V1__ROLE__ROLE_DEPARTMENT);
    cr_assert_str_eq(p->department, "police");
    cr_assert(p->enabled);
    p = api_principal(h_st, txn, "retired-op", h_a);
    cr_assert_not(p->enabled);
    cr_assert_null(api_principal(h_st, txn, "nobody", h_a));
    store_read_end(h_st);
}

Test(seed, a_second_seed_changes_nothing)
{
    char err[512] = "";
    cr_assert_eq(seed(SEED_SMALL, err, sizeof err), 0, "%s", err);
    const char *other = seed_file("{" NODES_OK ",\"departments\":[{\"code\":\"zzz\",\"name_zh\":\"x\"}]}");
    cr_assert_eq(seed(other, err, sizeof err), 0, "%s", err);
    cr_assert_eq(entries(h_st->departments), 4);
}

Test(seed, the_demo_city_loads)
{
    char err[512] = "";
    cr_assert_eq(seed(WHISTLE_SOURCE_DIR "/conf/demo-city.json", err, sizeof err), 0, "%s", err);
    cr_assert_gt(entries(h_st->nodes), 0);
    /* and its service guide (DOMAIN.md: one city has 6 classes, 83 items):
     * every text of every live service in both languages */
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_SERVICES);
    r->list_services = NEW(Whistle__V1__ListServices, whistle__v1__list_services__init);
    Whistle__V1__Response *resp = h_read("kiosk", r);
    assert_ok(resp);
    const Whistle__V1__ServiceCatalogue *c = resp->services;
    cr_assert_geq(c->n_classes, 6);
    cr_assert_geq(c->n_items, 40);
    for (size_t i = 0; i < c->n_classes; i++)
        cr_assert(*c->classes[i]->name_zh && *c->classes[i]->name_en, "class %s", c->classes[i]->code);
    for (size_t i = 0; i < c->n_items; i++) {
        const Whistle__V1__ServiceItem *it = c->items[i];
        const char *texts[] = { it->name_zh,  it->name_en,  it->where_zh, it->where_en, it->hours_zh,
                                it->hours_en, it->bring_zh, it->bring_en, it->how_zh,   it->how_en };
        for (size_t k = 0; k < sizeof texts / sizeof *texts; k++)
            cr_assert(*texts[k], "service %s lacks text %zu", it->code, k);
    }
    /* every class offers something */
    for (size_t i = 0, k = 0; i < c->n_classes; i++) {
        size_t n = 0;
        for (; k < c->n_items && strncmp(c->items[k]->code, c->classes[i]->code, 2) == 0; k++)
            n++;
        cr_assert_geq(n, 3, "class %s has %zu services", c->classes[i]->code, n);
    }
}

Test(seed, a_seed_with_a_bad_service_loads_nothing)
{
    expect_fail("{" NODES_OK ",\"service_classes\":[{\"code\":\"01\",\"name_zh\":\"社保\"}],"
                "\"services\":[{\"code\":\"0201\",\"name_zh\":\"低保\"}]}",
                "services[0] (0201): field \"code\": its class 02 does not exist", NULL);
}

Test(seed, unknown_parent)
{
    expect_fail("{\"nodes\":[{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"},"
                "{\"code\":\"110106001\",\"parent\":\"110106\",\"kind\":\"street\",\"name_zh\":\"b\"}]}",
                "nodes[1] (110106001)", "\"parent\": 110106 does not exist");
}

Test(seed, parent_must_be_the_prefix_one_level_up)
{
    expect_fail("{\"nodes\":[{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"},"
                "{\"code\":\"110105001\",\"parent\":\"110105\",\"kind\":\"street\",\"name_zh\":\"b\"},"
                "{\"code\":\"110105002001\",\"parent\":\"110105001\",\"kind\":\"community\",\"name_zh\":\"c\"}]}",
                "nodes[2]", "parent");
    expect_fail("{\"nodes\":[{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"},"
                "{\"code\":\"110105001001\",\"parent\":\"110105\",\"kind\":\"community\",\"name_zh\":\"c\"}]}",
                "nodes[1]", "parent");
}

Test(seed, bad_code_length)
{
    expect_fail("{\"nodes\":[{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"},"
                "{\"code\":\"11010500\",\"parent\":\"110105\",\"kind\":\"street\",\"name_zh\":\"b\"}]}",
                "nodes[1] (11010500)", "a street code is 9 digits");
    expect_fail("{\"nodes\":[{\"code\":\"11010a\",\"kind\":\"district\",\"name_zh\":\"a\"}]}", "nodes[0]", "code");
}

Test(seed, duplicates)
{
    expect_fail("{" NODES_OK ",\"departments\":[{\"code\":\"police\",\"name_zh\":\"a\"},"
                "{\"code\":\"police\",\"name_zh\":\"b\"}]}",
                "departments[1] (police)", "duplicate");
    expect_fail("{\"nodes\":[{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"},"
                "{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"}]}",
                "nodes[1]", "duplicate");
}

Test(seed, categories_need_their_major_and_known_departments)
{
    expect_fail("{" NODES_OK ",\"categories\":[{\"code\":\"0101\",\"name_zh\":\"a\"}]}", "categories[0] (0101)",
                "major class 01");
    expect_fail("{" NODES_OK ",\"categories\":[{\"code\":\"01\",\"name_zh\":\"a\"},"
                "{\"code\":\"0101\",\"name_zh\":\"b\",\"departments\":[\"police\"]}]}",
                "categories[1]", "department \"police\" does not exist");
    expect_fail("{" NODES_OK ",\"categories\":[{\"code\":\"011\",\"name_zh\":\"a\"}]}", "categories[0]", "2 digits");
}

Test(seed, principals_are_checked)
{
    expect_fail("{" NODES_OK ",\"principals\":[{\"name\":\"x\",\"role\":\"boss\",\"scope\":\"110105\"}]}",
                "principals[0] (x)", "role");
    expect_fail("{" NODES_OK ",\"principals\":[{\"name\":\"x\",\"role\":\"operator\",\"scope\":\"110105009\"}]}",
                "principals[0] (x)", "node 110105009 does not exist");
    expect_fail("{" NODES_OK ",\"principals\":[{\"name\":\"x\",\"role\":\"department\",\"scope\":\"110105\","
                "\"department\":\"police\"}]}",
                "principals[0] (x)", "department \"police\" does not exist");
    expect_fail("{" NODES_OK ",\"principals\":[{\"name\":\"a b\",\"role\":\"admin\",\"scope\":\"110105\"}]}",
                "principals[0]", "name");
}

Test(seed, broken_json_names_the_line)
{
    expect_fail("{\"nodes\": [\n{\"code\": \"110105\",,}\n]}", "line 2", NULL);
    expect_fail("[1,2]", "top level", NULL);
    expect_fail("{\"departments\":[]}", "no nodes", NULL);
}

Test(seed, a_bad_seed_names_every_bad_entry)
{
    char *path = arena_printf(h_a, "%s/seed.json", h_dir);
    FILE *f = fopen(path, "w");
    fputs("{\"nodes\":[{\"code\":\"110105\",\"kind\":\"district\",\"name_zh\":\"a\"},"
          "{\"code\":\"1101050\",\"parent\":\"110105\",\"kind\":\"street\",\"name_zh\":\"b\"},"
          "{\"code\":\"110105001001\",\"parent\":\"110105001\",\"kind\":\"community\",\"name_zh\":\"c\"}]}",
          f);
    fclose(f);
    char err[1024] = "";
    cr_assert_lt(api_seed(h_st, path, T0, err, sizeof err), 0);
    cr_assert(strstr(err, "nodes[1] (1101050): field \"code\""), "%s", err);
    cr_assert(strstr(err, "nodes[2] (110105001001): field \"parent\": 110105001 does not exist"), "%s", err);
    cr_assert(strstr(err, "(2 errors)"), "%s", err);
    cr_assert_eq(entries(h_st->nodes), 0);
}
