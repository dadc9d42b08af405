/* test_gateway.c: whistle-gateway's pure parts: the two spellings of one
 * document, strict UTF-8, and the configuration's checks (GCJ-02 is
 * libwhistle's, tested in test_client.c). The HTTP side is covered black-box by
 * tests/integration/open311_conformance.py. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "doc.h"
#include "http.h"

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
