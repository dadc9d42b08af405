/* test_catalogue_scope.c: the catalogue has a scope (issue 11, item 4).
 * A second district, 110106, is imported with its own departments (and
 * urban becomes the first district's own), a
 * category and a service class of its own, and a category of the whole
 * city naming both districts' departments. Every list, proposal, report,
 * whistle and statistic of district 110105 must keep to its own and the
 * city's, and the admin still sees everything. */
#include "helpers.h"

#include "directory.h"

TestSuite(catalogue_scope, .init = h_setup, .fini = h_teardown, .timeout = 60);

#define FMT(x) WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_##x
#define GRID1 "110105001001001"
#define OTHER_GRID "110106001001001"

static Whistle__V1__Response *import_csv(const char *text)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(IMPORT_DIRECTORY);
    r->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    Whistle__V1__ImportDirectory *im = r->import_directory;
    im->last = true;
    im->format = FMT(CSV);
    im->source = "scope-test";
    im->data.data = (uint8_t *)arena_strdup(h_a, text);
    im->data.len = strlen(text);
    return h_write("admin", r);
}

/* The second district, its desks, and the two catalogues. */
static void second_district(void)
{
    assert_ok(import_csv("code,parent_code,kind,name_zh,name_en\n"
                         "110106,,district,丰台区,Fengtai\n"
                         "110106001,110106,street,右安门,You'anmen\n"
                         "110106001001,110106001,community,翠林,Cuilin\n"
                         "110106001001001,110106001001,grid,翠林一格,Cuilin grid 1\n"));
    assert_ok(import_csv("code,name_zh,name_en,scope\n"
                         "urban,城管,Urban management,110105\n" /* the first district's own from now on */
                         "ft-urban,丰台城管,Fengtai urban management,110106\n"
                         "ft-water,丰台水务,Fengtai water,110106\n"));
    assert_ok(import_csv("code,name_zh,name_en,departments,check_in,resolve,scope\n"
                         "07,水务,Water,,,,110106\n"
                         "0701,管道破裂,Burst pipe,ft-water,2h,1d,110106\n"
                         "0103,占道经营,Street vending,urban;ft-urban,2h,1d,\n"));
    assert_ok(import_csv("code,name_zh,name_en,retired,scope\n"
                         "09,丰台服务,Fengtai services,,110106\n"));
    assert_ok(import_csv("name,role,scope\nop-youanmen,operator,110106001\n"));
}

static bool has_code(void **items, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(*(char **)((char *)items[i] + sizeof(ProtobufCMessage)), code) == 0)
            return true;
    return false;
}

static Whistle__V1__Request *rq_simple(int call_case)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = call_case;
    switch (call_case) {
    case CALL(LIST_DEPARTMENTS):
        r->list_departments = NEW(Whistle__V1__ListDepartments, whistle__v1__list_departments__init);
        break;
    case CALL(LIST_CATEGORIES):
        r->list_categories = NEW(Whistle__V1__ListCategories, whistle__v1__list_categories__init);
        break;
    case CALL(LIST_SERVICES):
        r->list_services = NEW(Whistle__V1__ListServices, whistle__v1__list_services__init);
        break;
    }
    return r;
}

Test(catalogue_scope, lists_show_a_district_its_own_and_the_citys)
{
    second_district();
    Whistle__V1__Response *r = h_read("kiosk-yonganli", rq_simple(CALL(LIST_CATEGORIES)));
    assert_ok(r);
    void **k = (void **)r->categories->categories;
    size_t nk = r->categories->n_categories;
    cr_assert(has_code(k, nk, "0101") && has_code(k, nk, "0103"), "its own and the city's");
    cr_assert(!has_code(k, nk, "0701") && !has_code(k, nk, "07"), "not another district's");
    r = h_read("op-jianwai", rq_simple(CALL(LIST_DEPARTMENTS)));
    assert_ok(r);
    cr_assert(has_code((void **)r->departments->departments, r->departments->n_departments, "urban"));
    cr_assert(!has_code((void **)r->departments->departments, r->departments->n_departments, "ft-urban"));
    r = h_read("kiosk-yonganli", rq_simple(CALL(LIST_SERVICES)));
    assert_ok(r);
    cr_assert(!has_code((void **)r->services->classes, r->services->n_classes, "09"));
    /* the other district sees its own, and the admin everything */
    r = h_read("op-youanmen", rq_simple(CALL(LIST_CATEGORIES)));
    cr_assert(has_code((void **)r->categories->categories, r->categories->n_categories, "0701"));
    cr_assert(has_code((void **)r->categories->categories, r->categories->n_categories, "0103"), "the city's too");
    cr_assert(has_code((void **)r->categories->categories, r->categories->n_categories, "0501"),
              "the seed's categories have no scope: the whole city's");
    r = h_read("admin", rq_simple(CALL(LIST_DEPARTMENTS)));
    cr_assert(has_code((void **)r->departments->departments, r->departments->n_departments, "ft-urban"));
    cr_assert(has_code((void **)r->departments->departments, r->departments->n_departments, "urban"));
}

Test(catalogue_scope, reports_proposals_and_whistles_keep_to_the_district)
{
    second_district();
    /* no report in 110105 with 110106's category */
    Whistle__V1__Response *r = h_write("gw-1", rq_report(GRID1, "0701", "a pipe"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "catalogue of district 110106");
    /* the city's category proposes each district its own department */
    const char *t = h_write("gw-1", rq_report(GRID1, "0103", "a stall on the pavement"))->event->ticket;
    Whistle__V1__Request *p = h_req();
    p->call_case = CALL(PROPOSE_DEPARTMENTS);
    p->propose_departments = NEW(Whistle__V1__ProposeDepartments, whistle__v1__propose_departments__init);
    p->propose_departments->ticket = (char *)t;
    r = h_read("op-jianwai", p);
    assert_ok(r);
    cr_assert_eq(r->proposal->n_departments, 1);
    cr_assert_str_eq(r->proposal->departments[0], "urban");
    /* by category alone, for the caller's own place */
    p->propose_departments->ticket = "";
    p->propose_departments->category = "0103";
    r = h_read("op-youanmen", p);
    assert_ok(r);
    cr_assert_eq(r->proposal->n_departments, 1);
    cr_assert_str_eq(r->proposal->departments[0], "ft-urban");
    p->propose_departments->category = "0701";
    assert_code(h_read("op-jianwai", p), NOT_FOUND);
    /* a whistle to another district's department is refused, nothing changes */
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    r = h_write("op-jianwai", rq_whistle(t, 1, "ft-urban"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "serves district 110106");
    cr_assert_eq(h_get("admin", t)->n_order_ids, 0);
    assert_ok(h_write("op-jianwai", rq_whistle(t, 1, "urban")));
}

Test(catalogue_scope, a_districts_statistics_list_its_departments_and_the_citys)
{
    second_district();
    /* an order for each district's department, so both have counters */
    const char *a = h_write("gw-1", rq_report(GRID1, "0103", "here"))->event->ticket;
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), a)));
    assert_ok(h_write("op-jianwai", rq_whistle(a, 1, "urban")));
    const char *b = h_write("admin", rq_report(OTHER_GRID, "0701", "there"))->event->ticket;
    assert_ok(h_write("op-youanmen", rq_ticket(CALL(FILE), b)));
    assert_ok(h_write("op-youanmen", rq_whistle(b, 1, "ft-water")));

    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(GET_STATS);
    q->get_stats = NEW(Whistle__V1__GetStats, whistle__v1__get_stats__init);
    q->get_stats->by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT;
    q->get_stats->period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH;
    q->get_stats->from = "2026-11-01";
    q->get_stats->to = "2027-12-31";
    Whistle__V1__Response *r = h_read("op-jianwai", q);
    assert_ok(r);
    bool urban = false, water = false;
    for (size_t i = 0; i < r->stats->n_rows; i++) {
        urban |= strcmp(r->stats->rows[i]->code, "urban") == 0;
        water |= strcmp(r->stats->rows[i]->code, "ft-water") == 0;
    }
    cr_assert(urban, "its own department is listed");
    cr_assert(!water, "another district's department is not");
    r = h_read("admin", q);
    water = false;
    for (size_t i = 0; i < r->stats->n_rows; i++)
        water |= strcmp(r->stats->rows[i]->code, "ft-water") == 0;
    cr_assert(water, "the admin sees every department");
}

Test(catalogue_scope, a_scope_is_a_district_and_the_export_carries_it)
{
    Whistle__V1__Response *r = import_csv("code,name_zh,name_en,scope\nx-dept,某部门,Some office,110105001\n");
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "is not a district");
    r = import_csv("code,name_zh,name_en,scope\nx-dept,某部门,Some office,999999\n");
    assert_code(r, INVALID_ARGUMENT);

    /* a city without scopes exports the columns it always had */
    Whistle__V1__Request *e = h_req();
    e->call_case = CALL(EXPORT_DIRECTORY);
    e->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    e->export_directory->format = FMT(CSV);
    e->export_directory->table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_DEPARTMENTS;
    r = h_read("admin", e);
    assert_ok(r);
    char *text = arena_strndup(h_a, (char *)r->export_page->data.data, r->export_page->data.len);
    cr_assert(strncmp(text, "code,name_zh,name_en\n", 21) == 0 || strncmp(text, "code,name_zh,name_en\r\n", 22) == 0,
              "%s", text);
    second_district();
    r = h_read("admin", e);
    assert_ok(r);
    text = arena_strndup(h_a, (char *)r->export_page->data.data, r->export_page->data.len);
    cr_assert(strstr(text, "code,name_zh,name_en,scope"), "%s", text);
    cr_assert(strstr(text, "ft-urban,丰台城管,Fengtai urban management,110106"), "%s", text);
}
