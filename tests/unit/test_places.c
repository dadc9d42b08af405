/* test_places.c: places on the map and category attributes
 * (docs/protocol.md section 12): boundaries checked with GEOS, the grid
 * holding a point (locate_place, reports by location) from an index that
 * follows the directory, the demo city's boundaries, whistled --check on
 * them; the extra questions a category asks and the answers a report
 * gives; a gateway's act_for list and the audit naming both. */
#include "helpers.h"

#include <math.h>

#include "check.h"
#include "directory.h"
#include "places.h"

TestSuite(places, .init = h_setup, .fini = h_teardown, .timeout = 60);

#define GRID1 "110105001001001"
#define GRID2 "110105001001002"
#define GRID_CHAOWAI "110105002001001"
/* points inside them (tests/fixtures/seed-small.json) */
#define IN_GRID1 39.90175, 116.46225
#define IN_GRID2 39.90175, 116.45075
#define IN_CHAOWAI 39.9195, 116.448
/* in the street of Jianwai, in no grid, no community (seed-small has only
 * some of the demo city's grids) */
#define IN_STREET_ONLY 39.915, 116.45
/* in the community of Yong'anli, in none of the fixture's grids */
#define IN_COMMUNITY_ONLY 39.9075, 116.462

static void answer(Whistle__V1__Request *r, const char *code, const char *values);

static Whistle__V1__Request *rq_locate(double lat, double lon)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LOCATE_PLACE);
    r->locate_place = NEW(Whistle__V1__LocatePlace, whistle__v1__locate_place__init);
    r->locate_place->lat = lat;
    r->locate_place->lon = lon;
    return r;
}

static Whistle__V1__Request *rq_report_at(double lat, double lon)
{
    Whistle__V1__Request *r = rq_report("", "0101", "reported by location");
    r->report->has_location = true;
    r->report->lat = lat;
    r->report->lon = lon;
    return r;
}

static const char *square(double lon, double lat, double side)
{
    return arena_printf(h_a,
                        "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,"
                        "%.6f]]]}",
                        lon, lat, lon + side, lat, lon + side, lat + side, lon, lat + side, lon, lat);
}

static Whistle__V1__Request *rq_boundary(const char *code, const char *boundary)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(UPDATE_NODE);
    r->update_node = NEW(Whistle__V1__UpdateNode, whistle__v1__update_node__init);
    r->update_node->code = (char *)code;
    if (boundary)
        r->update_node->boundary = (char *)boundary;
    else
        r->update_node->clear_boundary = true;
    return r;
}

/* ------------------------------------------------------------ boundaries */

Test(places, a_boundary_is_a_valid_geojson_polygon_in_wgs84)
{
    const char *why = NULL;
    cr_assert(places_boundary_check(square(116.4, 39.9, 0.01), h_a, &why), "%s", why);
    const char *multi = "{\"type\": \"MultiPolygon\", \"coordinates\": [[[[116.4,39.9],[116.41,39.9],[116.41,39.91],"
                        "[116.4,39.9]]], [[[116.5,39.9],[116.51,39.9],[116.51,39.91],[116.5,39.9]]]]}";
    const char *stored = places_boundary_check(multi, h_a, &why);
    cr_assert(stored, "%s", why);
    cr_assert(!strchr(stored, ' '), "stored compact: %s", stored);
    static const struct {
        const char *text, *why;
    } bad[] = {
        { "not json", "not JSON" },
        { "{\"type\":\"Point\",\"coordinates\":[116.4,39.9]}", "Polygon" },
        { "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[]}}", "Polygon" },
        /* a bow tie: its edges cross */
        { "{\"type\":\"Polygon\",\"coordinates\":[[[116.4,39.9],[116.41,39.91],[116.41,39.9],[116.4,39.91],[116.4,"
          "39.9]]]}",
          "not a valid polygon" },
        /* latitude first, as people often write it */
        { "{\"type\":\"Polygon\",\"coordinates\":[[[39.9,116.4],[39.91,116.4],[39.91,116.41],[39.9,116.4]]]}",
          "longitude -180..180, latitude -90..90" },
        { "{\"type\":\"Polygon\",\"coordinates\":[[[116.4,39.9],[116.41,39.9]]]}", "" },
        { "{\"type\":\"Polygon\",\"coordinates\":[]}", "empty" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        cr_assert_null(places_boundary_check(bad[i].text, h_a, &why), "accepted %s", bad[i].text);
        cr_assert(why && strstr(why, bad[i].why), "%s: why \"%s\" lacks \"%s\"", bad[i].text, why ? why : "",
                  bad[i].why);
    }
}

Test(places, update_node_checks_and_changes_a_boundary)
{
    Whistle__V1__Response *r = h_write("admin", rq_boundary(GRID1, "{\"type\":\"Polygon\"}"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "boundary of " GRID1);
    r = h_write("admin", rq_boundary(GRID1, square(116.30, 39.95, 0.01)));
    assert_ok(r);
    cr_assert(strstr(r->node->boundary, "116.3"), "%s", r->node->boundary);
    /* only admins keep the map */
    assert_code(h_write("op-jianwai", rq_boundary(GRID1, square(116.30, 39.95, 0.01))), PERMISSION_DENIED);
    r = h_write("admin", rq_boundary(GRID1, NULL));
    assert_ok(r);
    cr_assert_str_eq(r->node->boundary, "");
}

/* ------------------------------------------------------------ locate_place */

Test(places, locate_place_finds_the_grid_and_its_path)
{
    Whistle__V1__Response *r = h_read("hotline", rq_locate(IN_GRID1));
    assert_ok(r);
    cr_assert_str_eq(r->place->node->code, GRID1);
    cr_assert_str_eq(r->place->node->boundary, "", "boundaries are left out");
    cr_assert_eq(r->place->n_path, 4);
    const char *codes[] = { "110105", "110105001", "110105001001", GRID1 };
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(r->place->path[i]->code, codes[i]);
    r = h_read("hotline", rq_locate(IN_GRID2));
    assert_ok(r);
    cr_assert_str_eq(r->place->node->code, GRID2);
    r = h_read("gateway-1", rq_locate(IN_CHAOWAI)); /* a gateway may, by itself */
    assert_ok(r);
    cr_assert_str_eq(r->place->node->code, GRID_CHAOWAI);
}

Test(places, locate_place_refuses_what_it_must)
{
    Whistle__V1__Response *r = h_read("hotline", rq_locate(0.5, 0.5));
    assert_code(r, NOT_FOUND);
    assert_msg_has(r, "outside every grid");
    r = h_read("hotline", rq_locate(IN_STREET_ONLY)); /* in a street, in no grid */
    assert_code(r, NOT_FOUND);
    assert_code(h_read("hotline", rq_locate(91, 116.4)), INVALID_ARGUMENT);
    assert_code(h_read("hotline", rq_locate(39.9, 181)), INVALID_ARGUMENT);
    assert_code(h_read("hotline", rq_locate(NAN, 116.4)), INVALID_ARGUMENT);
    assert_code(h_read("hotline", rq_locate(39.9, INFINITY)), INVALID_ARGUMENT);
    /* a kiosk of Yong'anli does not learn the grids of Chaowai */
    r = h_read("kiosk-yonganli", rq_locate(IN_CHAOWAI));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "rule");
    assert_ok(h_read("kiosk-yonganli", rq_locate(IN_GRID1)));
}

Test(places, the_index_follows_the_directory)
{
    double lat = 39.955, lon = 116.305;
    assert_code(h_read("admin", rq_locate(lat, lon)), NOT_FOUND);
    assert_ok(h_write("admin", rq_boundary(GRID2, square(116.30, 39.95, 0.01))));
    Whistle__V1__Response *r = h_read("admin", rq_locate(lat, lon));
    assert_ok(r);
    cr_assert_str_eq(r->place->node->code, GRID2);
    /* the old place of GRID2 is no grid's now */
    assert_code(h_read("admin", rq_locate(IN_GRID2)), NOT_FOUND);
    /* a retired grid is off the map */
    Whistle__V1__Request *ret = h_req();
    ret->call_case = CALL(UPDATE_NODE);
    ret->update_node = NEW(Whistle__V1__UpdateNode, whistle__v1__update_node__init);
    ret->update_node->code = GRID1;
    ret->update_node->retire = true;
    assert_ok(h_write("admin", ret));
    assert_code(h_read("admin", rq_locate(IN_GRID1)), NOT_FOUND);
    /* an import changes it as well */
    Whistle__V1__Request *im = h_req();
    im->call_case = CALL(IMPORT_DIRECTORY);
    im->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    const char *json = arena_printf(h_a,
                                    "{\"nodes\": [{\"code\": \"%s\", \"parent\": \"110105002001\", \"kind\": \"grid\", "
                                    "\"name_zh\": \"吉祥里\", \"name_en\": \"Jixiangli\", \"boundary\": %s}]}",
                                    GRID_CHAOWAI, square(116.0, 39.5, 0.01));
    im->import_directory->data.data = (uint8_t *)json;
    im->import_directory->data.len = strlen(json);
    im->import_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    im->import_directory->last = true;
    assert_ok(h_write("admin", im));
    r = h_read("admin", rq_locate(39.505, 116.005));
    assert_ok(r);
    cr_assert_str_eq(r->place->node->code, GRID_CHAOWAI);
    assert_code(h_read("admin", rq_locate(IN_CHAOWAI)), NOT_FOUND);
}

/* ------------------------------------------------------------ reports by location */

Test(places, a_report_by_location_lands_in_its_grid)
{
    Whistle__V1__Response *r = h_write("hotline", rq_report_at(IN_GRID2));
    assert_ok(r);
    cr_assert_str_eq(r->event->node, GRID2);
    cr_assert_str_eq(r->event->street, "110105001");
    cr_assert(r->event->has_location);
    cr_assert_float_eq(r->event->lat, 39.90175, 1e-9);
    /* a node given wins: the location is kept as given */
    Whistle__V1__Request *q = rq_report_at(IN_GRID2);
    q->report->node = GRID1;
    r = h_write("hotline", q);
    assert_ok(r);
    cr_assert_str_eq(r->event->node, GRID1);
    /* the place found is checked against the reporter's scope */
    r = h_write("kiosk-yonganli", rq_report_at(IN_CHAOWAI));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, GRID_CHAOWAI);
    assert_code(h_write("hotline", rq_report_at(95, 116.4)), INVALID_ARGUMENT);
    /* no node and no location */
    r = h_write("hotline", rq_report("", "0101", "where?"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "location");
}

Test(places, outside_every_grid_is_refused_or_filed_at_the_street_by_config)
{
    Whistle__V1__Response *r = h_write("hotline", rq_report_at(IN_STREET_ONLY));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "outside every grid");
    h_st->places_outside_street = true;
    r = h_write("hotline", rq_report_at(IN_STREET_ONLY));
    assert_ok(r);
    cr_assert_str_eq(r->event->node, "110105001");
    r = h_write("hotline", rq_report_at(IN_COMMUNITY_ONLY));
    assert_ok(r);
    cr_assert_str_eq(r->event->node, "110105001001", "the deepest place holding it");
    r = h_write("hotline", rq_report_at(IN_GRID1));
    assert_ok(r);
    cr_assert_str_eq(r->event->node, GRID1, "a grid still wins");
    /* outside every place at all: still refused */
    r = h_write("hotline", rq_report_at(0.5, 0.5));
    assert_code(r, FAILED_PRECONDITION);
}

/* ------------------------------------------------------------ the demo city */

Test(places, the_demo_city_is_on_the_map)
{
    h_teardown();
    h_setup_empty();
    char err[512] = "";
    cr_assert_eq(api_seed(h_st, WHISTLE_SOURCE_DIR "/conf/demo-city.json", T0, err, sizeof err), 0, "%s", err);
    /* China World, Guomao: in Jianwai, on Jianwai Avenue */
    Whistle__V1__Response *r = h_read("admin", rq_locate(39.9087, 116.4605));
    assert_ok(r);
    cr_assert(strncmp(r->place->node->code, "110105001", 9) == 0, "%s is not a Jianwai grid", r->place->node->code);
    cr_assert_str_eq(r->place->node->code, "110105001001004");
    /* every grid has a boundary, and the middle of it is located in it */
    Whistle__V1__Request *ln = h_req();
    ln->call_case = CALL(LIST_NODES);
    ln->list_nodes = NEW(Whistle__V1__ListNodes, whistle__v1__list_nodes__init);
    ln->list_nodes->kind = WHISTLE__V1__NODE_KIND__NODE_KIND_GRID;
    ln->list_nodes->with_boundaries = true;
    Whistle__V1__Response *nodes = h_read("admin", ln);
    assert_ok(nodes);
    cr_assert_eq(nodes->nodes->n_nodes, 24);
    for (size_t i = 0; i < nodes->nodes->n_nodes; i++) {
        const Whistle__V1__Node *n = nodes->nodes->nodes[i];
        double x0, y0, x1, y1;
        cr_assert_eq(
            sscanf(n->boundary, "{\"type\":\"Polygon\",\"coordinates\":[[[%lf,%lf],[%lf,%lf]", &x0, &y0, &x1, &y1), 4,
            "%s: %s", n->code, n->boundary);
        const char *corner = strstr(n->boundary, "],[") + 3;
        corner = strstr(corner, "],[") + 3; /* the third corner, opposite the first */
        double x2, y2;
        cr_assert_eq(sscanf(corner, "%lf,%lf", &x2, &y2), 2);
        r = h_read("admin", rq_locate((y0 + y2) / 2, (x0 + x2) / 2));
        assert_ok(r);
        cr_assert_str_eq(r->place->node->code, n->code);
    }
    /* without with_boundaries they are left out */
    ln->list_nodes->with_boundaries = false;
    nodes = h_read("admin", ln);
    for (size_t i = 0; i < nodes->nodes->n_nodes; i++)
        cr_assert_str_eq(nodes->nodes->nodes[i]->boundary, "");
    /* its abandoned vehicles ask what kind of vehicle (Open311 attributes) */
    Whistle__V1__Request *rv = rq_report("110105001001004", "0405", "an abandoned car");
    Whistle__V1__Response *rr = h_write("hotline", rv);
    assert_code(rr, INVALID_ARGUMENT);
    assert_msg_has(rr, "attribute \"vehicle\" is required");
    answer(rv, "vehicle", "car");
    assert_ok(h_write("hotline", rv));
    rv = rq_report("110105001001004", "0305", "a pothole");
    answer(rv, "notice", "read it");
    assert_code(h_write("hotline", rv), INVALID_ARGUMENT);
    /* and the demo store passes whistled --check, boundaries included */
    store_close(h_st);
    h_st = NULL;
    check_report rep;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = check_store(h_dir, f, &rep, err, sizeof err);
    fclose(f);
    cr_assert_eq(rc, 0, "check: %s%s", buf, err);
    free(buf);
}

Test(places, whistled_check_finds_bad_boundaries)
{
    /* a grid drawn far outside its community, and a bow tie written past
     * the checks */
    assert_ok(h_write("admin", rq_boundary(GRID2, square(116.0, 39.5, 0.01))));
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Node *n = directory_node_get(h_st, txn, GRID1, h_a);
    n->boundary = "{\"type\":\"Polygon\",\"coordinates\":[[[116.4,39.9],[116.41,39.91],[116.41,39.9],[116.4,39.91],"
                  "[116.4,39.9]]]}";
    cr_assert_eq(store_put(txn, h_st->nodes, GRID1, strlen(GRID1), &n->base), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    store_close(h_st);
    h_st = NULL;
    check_report rep;
    char *buf = NULL, err[512] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = check_store(h_dir, f, &rep, err, sizeof err);
    fclose(f);
    cr_assert_eq(rc, 1, "%s%s", buf, err);
    cr_assert(strstr(buf, GRID2) && strstr(buf, "outside its parent"), "%s", buf);
    cr_assert(strstr(buf, GRID1) && strstr(buf, "not a valid polygon"), "%s", buf);
    free(buf);
}

/* ------------------------------------------------------------ the directory's files */

Test(places, boundaries_travel_with_the_directory)
{
    Whistle__V1__Request *im = h_req();
    im->call_case = CALL(IMPORT_DIRECTORY);
    im->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    const char *csv =
        "code,parent_code,kind,name_zh,name_en,boundary\n" GRID1
        ",110105001001,grid,第一网格,Grid 1,\"{\"\"type\"\":\"\"Polygon\"\",\"\"coordinates\"\":[[[116.4,39.9],[116.41,"
        "39.91],[116.41,39.9],[116.4,39.91],[116.4,39.9]]]}\"\n";
    im->import_directory->data.data = (uint8_t *)csv;
    im->import_directory->data.len = strlen(csv);
    im->import_directory->table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_NODES;
    im->import_directory->last = true;
    Whistle__V1__Response *r = h_write("admin", im);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "boundary");
    assert_msg_has(r, "not a valid polygon");
    /* exported: JSON as an object, CSV as a column of text */
    Whistle__V1__Request *ex = h_req();
    ex->call_case = CALL(EXPORT_DIRECTORY);
    ex->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    ex->export_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    ex->export_directory->table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_NODES;
    r = h_read("admin", ex);
    assert_ok(r);
    const char *text = arena_strndup(h_a, (const char *)r->export_page->data.data, r->export_page->data.len);
    cr_assert(strstr(text, "\"boundary\":{\"type\":\"Polygon\""), "%.600s", text);
    ex->export_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_CSV;
    r = h_read("admin", ex);
    assert_ok(r);
    text = arena_strndup(h_a, (const char *)r->export_page->data.data, r->export_page->data.len);
    cr_assert(strncmp(text, "code,parent_code,kind,name_zh,name_en,retired,successor,boundary\r\n", 66) == 0, "%.200s",
              text);
    /* what was exported imports again unchanged */
    im->import_directory->data.data = (uint8_t *)text;
    im->import_directory->data.len = strlen(text);
    r = h_write("admin", im);
    assert_ok(r);
    cr_assert_eq(r->import_result->counts[0]->unchanged, 10, "%u added %u updated", r->import_result->counts[0]->added,
                 r->import_result->counts[0]->updated);
}

/* ------------------------------------------------------------ category attributes */

static Whistle__V1__CategoryAttribute *attr(const char *code, Whistle__V1__AttributeType t, bool required,
                                            const char *keys)
{
    Whistle__V1__CategoryAttribute *a = NEW(Whistle__V1__CategoryAttribute, whistle__v1__category_attribute__init);
    a->code = (char *)code;
    a->description_zh = "问题";
    a->description_en = "Question";
    a->datatype = t;
    a->required = required;
    size_t n = 0;
    char *copy = arena_strdup(h_a, keys ? keys : "");
    a->values = arena_alloc(h_a, 8 * sizeof *a->values);
    for (char *k = strtok(copy, ","); k; k = strtok(NULL, ",")) {
        Whistle__V1__AttributeValue *v = NEW(Whistle__V1__AttributeValue, whistle__v1__attribute_value__init);
        v->key = k;
        v->name_zh = k;
        a->values[n++] = v;
    }
    a->n_values = n;
    return a;
}

#define AT(x) WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_##x

static Whistle__V1__Response *put_attrs(Whistle__V1__CategoryAttribute **a, size_t n)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_CATEGORY);
    r->put_category = NEW(Whistle__V1__PutCategory, whistle__v1__put_category__init);
    Whistle__V1__Category *k = NEW(Whistle__V1__Category, whistle__v1__category__init);
    k->code = "0102";
    k->name_zh = "暴露垃圾";
    k->name_en = "Exposed rubbish";
    k->attributes = a;
    k->n_attributes = n;
    r->put_category->category = k;
    return h_write("admin", r);
}

static void answer(Whistle__V1__Request *r, const char *code, const char *values)
{
    Whistle__V1__ReportEvent *rep = r->report;
    if (!rep->attributes)
        rep->attributes = arena_alloc(h_a, 8 * sizeof *rep->attributes);
    Whistle__V1__AttributeAnswer *an = NEW(Whistle__V1__AttributeAnswer, whistle__v1__attribute_answer__init);
    an->code = (char *)code;
    an->values = arena_alloc(h_a, 8 * sizeof *an->values);
    char *copy = arena_strdup(h_a, values);
    for (char *v = strtok(copy, "|"); v; v = strtok(NULL, "|"))
        an->values[an->n_values++] = v;
    rep->attributes[rep->n_attributes++] = an;
}

Test(places, category_attributes_are_checked_when_put)
{
    Whistle__V1__CategoryAttribute *bad1[] = { attr("kind", AT(SINGLEVALUELIST), true, NULL) };
    Whistle__V1__Response *r = put_attrs(bad1, 1);
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "values to choose from");
    Whistle__V1__CategoryAttribute *bad2[] = { attr("a", AT(STRING), false, NULL), attr("a", AT(NUMBER), false, NULL) };
    assert_code(put_attrs(bad2, 2), INVALID_ARGUMENT);
    Whistle__V1__CategoryAttribute *bad3[] = { attr("bad code", AT(STRING), false, NULL) };
    assert_code(put_attrs(bad3, 1), INVALID_ARGUMENT);
    Whistle__V1__CategoryAttribute *bad4[] = { attr("note", AT(TEXT), true, NULL) };
    bad4[0]->informational = true;
    assert_code(put_attrs(bad4, 1), INVALID_ARGUMENT);
    Whistle__V1__CategoryAttribute *bad5[] = { attr("n", AT(NUMBER), false, "x,y") };
    assert_code(put_attrs(bad5, 1), INVALID_ARGUMENT);
}

Test(places, report_answers_are_checked_and_kept_with_the_case)
{
    Whistle__V1__CategoryAttribute *a[] = {
        attr("kind", AT(SINGLEVALUELIST), true, "bags,bulky,building"),
        attr("where", AT(MULTIVALUELIST), false, "pavement,road,green"),
        attr("count", AT(NUMBER), false, NULL),
        attr("seen", AT(DATETIME), false, NULL),
        attr("note", AT(STRING), false, NULL),
    };
    assert_ok(put_attrs(a, 5));
    Whistle__V1__Request *lc = h_req();
    lc->call_case = CALL(LIST_CATEGORIES);
    lc->list_categories = NEW(Whistle__V1__ListCategories, whistle__v1__list_categories__init);
    Whistle__V1__Response *cats = h_read("hotline", lc);
    bool listed = false;
    for (size_t i = 0; i < cats->categories->n_categories; i++)
        if (!strcmp(cats->categories->categories[i]->code, "0102"))
            listed = cats->categories->categories[i]->n_attributes == 5;
    cr_assert(listed, "list_categories carries the attributes");

    static const struct {
        const char *answers; /* code=v1|v2;... */
        const char *why;     /* "" : accepted */
    } cases[] = {
        { "", "attribute \"kind\" is required" },
        { "where=road", "attribute \"kind\" is required" },
        { "kind=sofa", "attribute \"kind\": \"sofa\" is not one of bags, bulky, building" },
        { "kind=bags|bulky", "attribute \"kind\" takes one value" },
        { "kind=bags;where=road|sky", "attribute \"where\": \"sky\" is not one of" },
        { "kind=bags;where=road|road", "chosen twice" },
        { "kind=bags;count=many", "attribute \"count\": \"many\" is not a number" },
        { "kind=bags;seen=yesterday", "attribute \"seen\": \"yesterday\" is not a datetime" },
        { "kind=bags;seen=2026-12-03T09:30:00", "is not a datetime" }, /* no zone */
        { "kind=bags;colour=red", "category 0102 has no attribute \"colour\"" },
        { "kind=bags;kind=bulky", "answered twice" },
        { "kind=bulky;where=road|pavement;count=3.5;seen=2026-12-03T09:30:00+08:00;note=by the gate", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Whistle__V1__Request *r = rq_report(GRID1, "0102", "rubbish");
        char *copy = arena_strdup(h_a, cases[i].answers), *save = NULL;
        for (char *pair = strtok_r(copy, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(pair, '=');
            *eq = 0;
            answer(r, pair, eq + 1);
        }
        Whistle__V1__Response *resp = h_write("hotline", r);
        if (!*cases[i].why) {
            assert_ok(resp);
            /* kept in the category's order */
            const Whistle__V1__Event *ev = h_get("admin", resp->event->ticket);
            cr_assert_eq(ev->n_attributes, 5);
            cr_assert_str_eq(ev->attributes[0]->code, "kind");
            cr_assert_str_eq(ev->attributes[0]->values[0], "bulky");
            cr_assert_str_eq(ev->attributes[1]->code, "where");
            cr_assert_eq(ev->attributes[1]->n_values, 2);
            cr_assert_str_eq(ev->attributes[4]->values[0], "by the gate");
        } else {
            assert_code(resp, INVALID_ARGUMENT);
            cr_assert(strstr(h_msg(resp), cases[i].why), "%s: \"%s\" lacks \"%s\"", cases[i].answers, h_msg(resp),
                      cases[i].why);
        }
    }
}

/* A one-key emergency call (source emergency_call) is never turned away
 * for a required attribute left unanswered; what it answers is checked. */
Test(places, an_emergency_needs_no_required_answer)
{
    Whistle__V1__CategoryAttribute *a[] = { attr("kind", AT(SINGLEVALUELIST), true, "bags,bulky") };
    assert_ok(put_attrs(a, 1));
    Whistle__V1__Request *r = rq_report(GRID1, "0102", "help");
    assert_code(h_write("hotline", r), INVALID_ARGUMENT);
    r->report->source = WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL;
    assert_ok(h_write("hotline", r));
    answer(r, "kind", "sofa");
    assert_code(h_write("hotline", r), INVALID_ARGUMENT);
}

Test(places, category_attributes_travel_with_the_directory)
{
    Whistle__V1__Request *im = h_req();
    im->call_case = CALL(IMPORT_DIRECTORY);
    im->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    const char *json =
        "{\"categories\": [{\"code\": \"0102\", \"attributes\": [{\"code\": \"kind\", \"description_zh\": \"种类\", "
        "\"datatype\": \"singlevaluelist\", \"required\": true, \"order\": 1, \"values\": [{\"key\": \"bags\", "
        "\"name_zh\": \"袋装\", \"name_en\": \"Bags\"}]}]}]}";
    im->import_directory->data.data = (uint8_t *)json;
    im->import_directory->data.len = strlen(json);
    im->import_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    im->import_directory->last = true;
    assert_ok(h_write("admin", im));
    Whistle__V1__Request *r = rq_report(GRID1, "0102", "rubbish");
    assert_code(h_write("hotline", r), INVALID_ARGUMENT);
    const char *bad =
        "{\"categories\": [{\"code\": \"0102\", \"attributes\": [{\"code\": \"kind\", \"description_zh\": "
        "\"种类\", \"datatype\": \"colour\"}]}]}";
    im->import_directory->data.data = (uint8_t *)bad;
    im->import_directory->data.len = strlen(bad);
    Whistle__V1__Response *resp = h_write("admin", im);
    assert_code(resp, INVALID_ARGUMENT);
    assert_msg_has(resp, "attributes");
    assert_msg_has(resp, "colour");
    Whistle__V1__Request *ex = h_req();
    ex->call_case = CALL(EXPORT_DIRECTORY);
    ex->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    ex->export_directory->table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_CATEGORIES;
    resp = h_read("admin", ex);
    assert_ok(resp);
    const char *text = arena_strndup(h_a, (const char *)resp->export_page->data.data, resp->export_page->data.len);
    cr_assert(strstr(text, ",attributes\r\n") && strstr(text, "\"\"datatype\"\":\"\"singlevaluelist\"\""), "%s", text);
}

/* ------------------------------------------------------------ gateways' lists and the audit */

static Whistle__V1__Request *rq_add_gateway(const char *name, const char *role_word, const char *act_for)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_PRINCIPAL);
    r->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
    Whistle__V1__Principal *p = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    p->name = (char *)name;
    p->role = strcmp(role_word, "gateway") == 0 ? WHISTLE__V1__ROLE__ROLE_GATEWAY : WHISTLE__V1__ROLE__ROLE_KIOSK;
    p->scope = "110105001001";
    p->act_for = arena_alloc(h_a, 4 * sizeof *p->act_for);
    char *copy = arena_strdup(h_a, act_for);
    for (char *n = strtok(copy, ","); n; n = strtok(NULL, ","))
        p->act_for[p->n_act_for++] = n;
    r->add_principal->principal = p;
    return r;
}

Test(places, a_gateways_list_names_principals_it_may_act_for)
{
    Whistle__V1__Response *r = h_write("admin", rq_add_gateway("gw-web", "gateway", "admin"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "never acts for an admin or a gateway");
    assert_code(h_write("admin", rq_add_gateway("gw-web", "gateway", "gateway-1")), INVALID_ARGUMENT);
    assert_code(h_write("admin", rq_add_gateway("gw-web", "gateway", "nobody")), INVALID_ARGUMENT);
    assert_code(h_write("admin", rq_add_gateway("gw-web", "gateway", "hotline,hotline")), INVALID_ARGUMENT);
    assert_code(h_write("admin", rq_add_gateway("gw-web", "gateway", "gw-web")), INVALID_ARGUMENT);
    r = h_write("admin", rq_add_gateway("kiosk-9", "kiosk", "hotline"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "only a gateway");
    r = h_write("admin", rq_add_gateway("gw-web", "gateway", "hotline,kiosk-2"));
    assert_ok(r);
    cr_assert_eq(r->principal->n_act_for, 2);
    /* replaced, then cleared */
    Whistle__V1__Request *up = h_req();
    up->call_case = CALL(UPDATE_PRINCIPAL);
    up->update_principal = NEW(Whistle__V1__UpdatePrincipal, whistle__v1__update_principal__init);
    up->update_principal->name = "gw-web";
    char *one[] = { "gw-1" };
    up->update_principal->act_for = one;
    up->update_principal->n_act_for = 1;
    r = h_write("admin", up);
    assert_ok(r);
    cr_assert_eq(r->principal->n_act_for, 1);
    cr_assert_str_eq(r->principal->act_for[0], "gw-1");
    up->update_principal->act_for = NULL;
    up->update_principal->n_act_for = 0;
    up->update_principal->clear_act_for = true;
    r = h_write("admin", up);
    assert_ok(r);
    cr_assert_eq(r->principal->n_act_for, 0);
    /* a principal leaving the gateway role leaves its list */
    assert_ok(h_write("admin", rq_add_gateway("gw-app", "gateway", "hotline")));
    up->update_principal->name = "gw-app";
    up->update_principal->clear_act_for = false;
    up->update_principal->role = WHISTLE__V1__ROLE__ROLE_KIOSK;
    r = h_write("admin", up);
    assert_ok(r);
    cr_assert_eq(r->principal->n_act_for, 0);
}

Test(places, a_gateways_list_travels_with_the_directory)
{
    Whistle__V1__Request *im = h_req();
    im->call_case = CALL(IMPORT_DIRECTORY);
    im->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    im->import_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    im->import_directory->last = true;
    static const struct {
        const char *json, *why;
    } bad[] = {
        { "{\"principals\": [{\"name\": \"gw-x\", \"role\": \"gateway\", \"scope\": \"110105\", \"act_for\": "
          "[\"admin\"]}]}",
          "never acts for" },
        { "{\"principals\": [{\"name\": \"gw-x\", \"role\": \"gateway\", \"scope\": \"110105\", \"act_for\": "
          "[\"gw-y\"]}, "
          "{\"name\": \"gw-y\", \"role\": \"gateway\", \"scope\": \"110105\"}]}",
          "never acts for" },
        { "{\"principals\": [{\"name\": \"gw-x\", \"role\": \"gateway\", \"scope\": \"110105\", \"act_for\": "
          "[\"ghost\"]}]}",
          "not a principal" },
        { "{\"principals\": [{\"name\": \"k-x\", \"role\": \"kiosk\", \"scope\": \"110105001001\", \"act_for\": "
          "[\"hotline\"]}]}",
          "only a gateway" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        im->import_directory->data.data = (uint8_t *)bad[i].json;
        im->import_directory->data.len = strlen(bad[i].json);
        Whistle__V1__Response *r = h_write("admin", im);
        assert_code(r, INVALID_ARGUMENT);
        cr_assert(strstr(h_msg(r), "act_for") && strstr(h_msg(r), bad[i].why), "%s: %s", bad[i].json, h_msg(r));
    }
    const char *good = "{\"principals\": [{\"name\": \"gw-x\", \"role\": \"gateway\", \"scope\": \"110105\", "
                       "\"act_for\": [\"hotline\", \"new-system\"]}, {\"name\": \"new-system\", \"role\": "
                       "\"integration\", \"scope\": \"110105\"}]}";
    im->import_directory->data.data = (uint8_t *)good;
    im->import_directory->data.len = strlen(good);
    assert_ok(h_write("admin", im));
    Whistle__V1__Request *ex = h_req();
    ex->call_case = CALL(EXPORT_DIRECTORY);
    ex->export_directory = NEW(Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    ex->export_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    ex->export_directory->table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_PRINCIPALS;
    Whistle__V1__Response *r = h_read("admin", ex);
    assert_ok(r);
    const char *text = arena_strndup(h_a, (const char *)r->export_page->data.data, r->export_page->data.len);
    cr_assert(strstr(text, "\"act_for\":[\"hotline\",\"new-system\"]"), "%s", text);
    ex->export_directory->format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_CSV;
    r = h_read("admin", ex);
    text = arena_strndup(h_a, (const char *)r->export_page->data.data, r->export_page->data.len);
    cr_assert(strstr(text, "name,role,scope,department,enabled,act_for\r\n") && strstr(text, "hotline;new-system"),
              "%s", text);
}

Test(places, a_call_made_for_another_is_audited_naming_both)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Principal *gw = h_who(txn, "gateway-1");
    Whistle__V1__Request *req = rq_report_at(IN_GRID1);
    req->act_as = "hotline";
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    const Whistle__V1__Principal *who = api_acting(h_st, txn, gw, req->act_as, "report", h_now, h_a, resp, NULL);
    cr_assert(who && strcmp(who->name, "hotline") == 0);
    audit_via_set(gw->name);
    stream_touched t = { 0 };
    api_write(h_st, txn, who, req, h_now, h_a, resp, &t);
    audit_via_set(NULL);
    stream_touched_clear(&t);
    assert_ok(resp);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    const char *ticket = resp->event->ticket;
    cr_assert_str_eq(resp->event->reporter, "hotline");
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(QUERY_AUDIT);
    q->query_audit = NEW(Whistle__V1__QueryAudit, whistle__v1__query_audit__init);
    q->query_audit->target = (char *)ticket;
    Whistle__V1__Response *a = h_read("admin", q);
    assert_ok(a);
    cr_assert_geq(a->audit->n_entries, 1);
    cr_assert_str_eq(a->audit->entries[0]->principal, "hotline");
    cr_assert_str_eq(a->audit->entries[0]->via, "gateway-1");
    /* a call of hotline's own names no gateway */
    Whistle__V1__Response *own = h_write("hotline", rq_report_at(IN_GRID1));
    assert_ok(own);
    q->query_audit->target = own->event->ticket;
    a = h_read("admin", q);
    cr_assert_str_eq(a->audit->entries[0]->via, "");
}
