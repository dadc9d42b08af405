/* test_gateway.c: whistle-gateway's pure parts: GCJ-02 back to WGS84, the
 * two spellings of one document, strict UTF-8, and the configuration's
 * checks. The HTTP side is covered black-box by
 * tests/integration/open311_conformance.py. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "doc.h"
#include "geo.h"
#include "http.h"

/* ---------------------------------------------------------------- GCJ-02 */

Test(geo, gcj02_round_trip_is_within_a_centimetre_across_china)
{
    int n = 0;
    for (double lat = 18.5; lat < 53.5; lat += 1.7)
        for (double lon = 74.0; lon < 134.0; lon += 2.3) {
            double glat, glon, wlat, wlon;
            geo_wgs84_to_gcj02(lat, lon, &glat, &glon);
            /* the offset is real: tens to hundreds of metres */
            cr_assert(fabs(glat - lat) + fabs(glon - lon) > 1e-4, "no offset at %f,%f", lat, lon);
            geo_gcj02_to_wgs84(glat, glon, &wlat, &wlon);
            /* 1e-7 degrees is about a centimetre */
            cr_assert(fabs(wlat - lat) < 1e-7 && fabs(wlon - lon) < 1e-7, "%f,%f came back as %.9f,%.9f", lat, lon,
                      wlat, wlon);
            n++;
        }
    cr_assert(n > 300);
}

Test(geo, beijing_offset_is_the_published_one)
{
    /* Tiananmen: WGS84 39.9087, 116.3975 is GCJ-02 about 39.91012, 116.40374
     * (the formula's well-known values, to 1e-5) */
    double glat, glon;
    geo_wgs84_to_gcj02(39.9087, 116.3975, &glat, &glon);
    cr_assert(fabs(glat - 39.91012) < 2e-5 && fabs(glon - 116.40374) < 2e-5, "%.6f %.6f", glat, glon);
}

Test(geo, outside_china_nothing_moves)
{
    double lat, lon;
    geo_gcj02_to_wgs84(51.5007, -0.1246, &lat, &lon); /* London */
    cr_assert(lat == 51.5007 && lon == -0.1246);
    geo_wgs84_to_gcj02(35.6586, 139.7454, &lat, &lon); /* Tokyo: outside the box */
    cr_assert(lat == 35.6586 && lon == 139.7454);
}

/* ---------------------------------------------------------------- documents */

static char *write_errors(doc_format f)
{
    doc *d = doc_new(f);
    cr_assert(d);
    doc_list_begin(d, "errors", "error");
    doc_obj_begin(d, NULL);
    doc_int(d, "code", 400);
    doc_str(d, "description", "a <b> & \"c\" 的");
    doc_str(d, "none", NULL);
    doc_real(d, "lat", 39.9087);
    doc_bool(d, "flag", true);
    doc_list_begin(d, "formats", "format");
    doc_item(d, "text/xml");
    doc_list_end(d);
    doc_obj_end(d);
    doc_list_end(d);
    char *out;
    size_t len;
    cr_assert(doc_finish(d, &out, &len) == 0);
    cr_assert(strlen(out) == len && len > 0 && out[len - 1] == '\n');
    doc_free(d);
    return out;
}

Test(doc, one_document_two_spellings)
{
    char *j = write_errors(DOC_JSON);
    cr_assert_str_eq(j, "[{\"code\":400,\"description\":\"a <b> & \\\"c\\\" 的\",\"none\":null,\"lat\":39.9087,"
                        "\"flag\":true,\"formats\":[\"text/xml\"]}]\n");
    free(j);
    char *x = write_errors(DOC_XML);
    cr_assert(strstr(x, "<errors><error><code>400</code><description>a &lt;b&gt; &amp; &quot;c&quot; 的</description>"
                        "<none/><lat>39.908700</lat><flag>true</flag><formats><format>text/xml</format></formats>"
                        "</error></errors>"),
              "%s", x);
    cr_assert(strncmp(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0, "%s", x);
    free(x);
}

Test(doc, unbalanced_is_an_error)
{
    doc *d = doc_new(DOC_JSON);
    doc_list_begin(d, "errors", "error");
    char *out;
    size_t len;
    cr_assert(doc_finish(d, &out, &len) < 0 && out == NULL);
    doc_free(d);
}

/* ---------------------------------------------------------------- UTF-8 */

Test(utf8, strict)
{
    cr_assert(gw_utf8_ok("plain", 5));
    cr_assert(gw_utf8_ok("永安东里", strlen("永安东里")));
    cr_assert(gw_utf8_ok("\xf0\x9f\x98\x80", 4));  /* U+1F600 */
    cr_assert(!gw_utf8_ok("\xc0\xaf", 2));         /* overlong '/' */
    cr_assert(!gw_utf8_ok("\xe0\x80\xaf", 3));     /* overlong, 3 bytes */
    cr_assert(!gw_utf8_ok("\xed\xa0\x80", 3));     /* a surrogate */
    cr_assert(!gw_utf8_ok("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    cr_assert(!gw_utf8_ok("\xff", 1));
    cr_assert(!gw_utf8_ok("\xe6\xb0", 2)); /* cut short */
    cr_assert(!gw_utf8_ok("a\0b", 3));     /* NUL */
    cr_assert(!gw_utf8_ok("\x80", 1));     /* a lone continuation byte */
}

/* ---------------------------------------------------------------- config */

Test(config, every_value_is_checked)
{
    gw_config c;
    gw_config_defaults(&c);
    char err[256];
    cr_assert(c.port == 7780 && c.max_header_bytes == 16384 && !c.notify_enabled);
    cr_assert(gw_config_set(&c, "http", "port", "7781", err, sizeof err) == 0 && c.port == 7781);
    cr_assert(gw_config_set(&c, "http", "port", "70000", err, sizeof err) < 0 && strstr(err, "http.port"));
    cr_assert(gw_config_set(&c, "http", "port", "-1", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "http", "nope", "1", err, sizeof err) < 0 && strstr(err, "unknown key"));
    cr_assert(gw_config_set(&c, "nope", "x", "1", err, sizeof err) < 0 && strstr(err, "unknown section"));
    cr_assert(gw_config_set(&c, "open311", "language", "fr", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "open311", "read_as", "bad name", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "notify", "url", "ftp://x", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "notify", "enabled", "yes", err, sizeof err) < 0);
    /* API keys: long enough, printable, each once */
    cr_assert(gw_config_set(&c, "api_keys", "short", "hotline", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "api_keys", "0123456789abcdef0123", "hotline", err, sizeof err) == 0);
    cr_assert(gw_config_set(&c, "api_keys", "0123456789abcdef0123", "other", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "api_keys", "fedcba98765432100123", "sensorhub", err, sizeof err) == 0);
    cr_assert_str_eq(gw_config_key_principal(&c, "0123456789abcdef0123"), "hotline");
    cr_assert_str_eq(gw_config_key_principal(&c, "fedcba98765432100123"), "sensorhub");
    cr_assert_null(gw_config_key_principal(&c, "0123456789abcdef012"));
    cr_assert_null(gw_config_key_principal(&c, "0123456789abcdef01234"));
    cr_assert_null(gw_config_key_principal(&c, ""));
    /* the whole: files must be there, the notifier complete */
    cr_assert(gw_config_validate(&c, err, sizeof err) < 0 && strstr(err, "http.cert"));
    gw_config_free(&c);
}
