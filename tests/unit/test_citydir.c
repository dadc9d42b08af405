/* test_citydir.c: client/city/citydir.c, where the 12345 router sends a
 * case: the longest grid prefix of its node, else the district whose
 * boundary covers its location, else nowhere (a person places it). */
#include <criterion/criterion.h>
#include <string.h>

#include "citydir.h"

static citydir *two_districts(void)
{
    citydir *d = citydir_new();
    cr_assert_not_null(d);
    /* A: 116.40-116.66 E; B: 116.10-116.40 E, and B also holds a street
     * whose code is under A's (a boundary moved by the city: its grid
     * prefix says so) */
    Whistle__V1__FedDistrict a = WHISTLE__V1__FED_DISTRICT__INIT, b = WHISTLE__V1__FED_DISTRICT__INIT;
    a.code = "110105";
    a.boundary = "{\"type\":\"Polygon\",\"coordinates\":[[[116.40,39.82],[116.66,39.82],[116.66,40.09],"
                 "[116.40,40.09],[116.40,39.82]]]}";
    char *pb[] = { "110105009" };
    b.code = "110108";
    b.boundary = "{\"type\":\"Polygon\",\"coordinates\":[[[116.10,39.82],[116.40,39.82],[116.40,40.09],"
                 "[116.10,40.09],[116.10,39.82]]]}";
    b.grid_prefixes = pb;
    b.n_grid_prefixes = 1;
    cr_assert_eq(citydir_add(d, &a, "test"), 0);
    cr_assert_eq(citydir_add(d, &b, "test"), 0);
    cr_assert_eq(citydir_count(d), 2);
    return d;
}

Test(citydir, by_the_longest_grid_prefix)
{
    citydir *d = two_districts();
    cr_assert_str_eq(citydir_place(d, "110105001001001", false, 0, 0), "110105");
    cr_assert_str_eq(citydir_place(d, "110108002", false, 0, 0), "110108");
    cr_assert_str_eq(citydir_place(d, "110105009001", false, 0, 0), "110108",
                     "a street given to the other district goes there");
    citydir_free(d);
}

Test(citydir, by_location_when_the_node_is_unknown)
{
    citydir *d = two_districts();
    cr_assert_str_eq(citydir_place(d, "", true, 39.95, 116.50), "110105");
    cr_assert_str_eq(citydir_place(d, "999999001", true, 39.95, 116.20), "110108");
    cr_assert_str_eq(citydir_place(d, "110108001", true, 39.95, 116.50), "110108", "the node wins over the point");
    citydir_free(d);
}

Test(citydir, nowhere)
{
    citydir *d = two_districts();
    cr_assert_null(citydir_place(d, "", false, 0, 0));
    cr_assert_null(citydir_place(d, "", true, 31.23, 121.47), "a point outside every district");
    cr_assert_null(citydir_place(d, "310101001", false, 0, 0), "a node of no district");
    citydir_free(d);
}

Test(citydir, a_bad_entry_is_left_out)
{
    citydir *d = citydir_new();
    Whistle__V1__FedDistrict x = WHISTLE__V1__FED_DISTRICT__INIT;
    x.code = "11010";
    cr_assert_eq(citydir_add(d, &x, "test"), 0);
    cr_assert_eq(citydir_count(d), 0, "a code that is not 6 digits");
    x.code = "110101";
    x.boundary = "not geojson";
    cr_assert_eq(citydir_add(d, &x, "test"), 0);
    cr_assert_eq(citydir_count(d), 1, "kept for its grid code");
    cr_assert_str_eq(citydir_place(d, "110101001", false, 0, 0), "110101");
    cr_assert_null(citydir_place(d, "", true, 39.9, 116.4));
    citydir_free(d);
}
