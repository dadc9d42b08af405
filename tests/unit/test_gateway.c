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
#include "multipart.h"
#include "pbjson.h"
#include "whistle/v1/whistle.pb-c.h"

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
    /* which photos the public sees: staff's (the default) or none */
    cr_assert(c.public_photos == 1);
    cr_assert(gw_config_set(&c, "open311", "public_photos", "none", err, sizeof err) == 0 && c.public_photos == 0);
    cr_assert(gw_config_set(&c, "open311", "public_photos", "staff", err, sizeof err) == 0 && c.public_photos == 1);
    cr_assert(gw_config_set(&c, "open311", "public_photos", "all", err, sizeof err) < 0 &&
              strstr(err, "open311.public_photos"));
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

Test(config, web_users_and_sessions)
{
    gw_config c;
    gw_config_defaults(&c);
    char err[300];
    static const char h[] =
        "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    char v[200];
    snprintf(v, sizeof v, "operator %s", h);
    cr_assert(gw_config_set(&c, "web_users", "wang.li", v, err, sizeof err) == 0, "%s", err);
    cr_assert(gw_config_set(&c, "web_users", "wang.li", v, err, sizeof err) < 0 && strstr(err, "twice"));
    cr_assert(gw_config_set(&c, "web_users", "bad login", v, err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "web_users", "li", "operator", err, sizeof err) < 0 && strstr(err, "argon2id"));
    cr_assert(gw_config_set(&c, "web_users", "li", "operator $2y$10$bcrypt", err, sizeof err) < 0 &&
                  strstr(err, "argon2id"),
              "only argon2id hashes: %s", err);
    cr_assert(gw_config_set(&c, "web_users", "li", "bad!name $argon2id$x", err, sizeof err) < 0);
    const gw_web_user *u = gw_config_web_user(&c, "wang.li");
    cr_assert(u && strcmp(u->principal, "operator") == 0 && strcmp(u->hash, h) == 0);
    cr_assert_null(gw_config_web_user(&c, "wang"));
    cr_assert(gw_config_set(&c, "web", "enabled", "yes", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "web", "session_idle", "4", err, sizeof err) < 0, "under 5 s is refused");
    cr_assert(gw_config_set(&c, "web", "session_idle", "600", err, sizeof err) == 0 && c.session_idle == 600);
    cr_assert(gw_config_set(&c, "web", "nope", "1", err, sizeof err) < 0 && strstr(err, "unknown key"));
    /* the map server: an http(s) URL with {z} {x} {y}; its origin goes to
     * the page's CSP, so nothing that could break out of the header */
    cr_assert(gw_config_set(&c, "web", "tile_url", "https://tiles.city.cn:8443/map/{z}/{x}/{y}.png", err, sizeof err) ==
                  0,
              "%s", err);
    cr_assert_str_eq(c.tile_origin, "https://tiles.city.cn:8443");
    cr_assert(gw_config_set(&c, "web", "tile_url", "https://tiles.city.cn/{z}/{x}.png", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "web", "tile_url", "ftp://t/{z}/{x}/{y}", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "web", "tile_url", "https://t.cn;script-src *;/{z}/{x}/{y}", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "web", "tile_url", "https:///{z}/{x}/{y}", err, sizeof err) < 0);
    cr_assert_str_eq(c.tile_origin, "https://tiles.city.cn:8443", "a refused value changes nothing");
    cr_assert(gw_config_set(&c, "web", "tile_url", "", err, sizeof err) == 0 && !*c.tile_origin);
    cr_assert(gw_config_set(&c, "web", "public_as", "kiosk", err, sizeof err) == 0 && !strcmp(c.public_as, "kiosk"));
    cr_assert(gw_config_set(&c, "web", "public_as", "a kiosk", err, sizeof err) < 0);
    cr_assert(gw_config_set(&c, "web", "public_stats_as", "operator", err, sizeof err) == 0 &&
              !strcmp(c.public_stats_as, "operator"));
    cr_assert(gw_config_set(&c, "web", "public_stats_as", "an operator", err, sizeof err) < 0 &&
              strstr(err, "public_stats_as") && !strcmp(c.public_stats_as, "operator"));
    gw_config_free(&c);
}

/* ---- pbjson: the web API's JSON <-> protocol messages */

static ProtobufCMessage *from(const ProtobufCMessageDescriptor *d, const char *text, char *err, size_t errlen)
{
    json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL); /* the parser's own check is the page's first */
    cr_assert(j, "bad JSON in the test: %s", text);
    ProtobufCMessage *m = NULL;
    int rc = pbj_from_json(d, j, &m, err, errlen);
    json_decref(j);
    return rc == 0 ? m : NULL;
}

Test(pbjson, calls_from_json)
{
    char err[300];
    Whistle__V1__WhistleEvent *w = (Whistle__V1__WhistleEvent *)from(
        &whistle__v1__whistle_event__descriptor,
        "{\"ticket\":\"E1\",\"departments\":[\"urban\",\"police\"],\"kind\":\"tackle\",\"lead\":\"urban\"}", err,
        sizeof err);
    cr_assert(w, "%s", err);
    cr_assert_str_eq(w->ticket, "E1");
    cr_assert_eq(w->n_departments, 2);
    cr_assert_str_eq(w->departments[1], "police");
    cr_assert_eq(w->kind, WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_TACKLE);
    cr_assert_str_eq(w->note, "", "an absent field keeps its default");
    protobuf_c_message_free_unpacked(&w->base, NULL);

    Whistle__V1__ListEvents *l = (Whistle__V1__ListEvents *)from(
        &whistle__v1__list_events__descriptor, "{\"state\":\"filed\",\"limit\":20,\"created_from_ms\":1796301097785}",
        err, sizeof err);
    cr_assert(l && l->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_FILED && l->limit == 20 &&
              l->created_from_ms == 1796301097785LL);
    protobuf_c_message_free_unpacked(&l->base, NULL);

    /* refusals name the field; nothing leaks on the way out (ASan) */
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "{\"state\":\"bogus\"}", err, sizeof err));
    cr_assert(strstr(err, "state: one of") && strstr(err, "filed"), "%s", err);
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "{\"limit\":-1}", err, sizeof err));
    cr_assert(strstr(err, "limit"), "%s", err);
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "{\"limit\":4294967296}", err, sizeof err));
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "{\"text\":5}", err, sizeof err));
    cr_assert(strstr(err, "text: a string"), "%s", err);
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "{\"nope\":1}", err, sizeof err));
    cr_assert(strstr(err, "no field nope"), "%s", err);
    cr_assert_null(from(&whistle__v1__whistle_event__descriptor, "{\"ticket\":\"E1\",\"departments\":[\"a\",7]}", err,
                        sizeof err));
    cr_assert(strstr(err, "departments"), "%s", err);
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "[1]", err, sizeof err));
    cr_assert_null(from(&whistle__v1__list_events__descriptor, "{\"text\":\"a\\u0000b\"}", err, sizeof err));
}

Test(pbjson, answers_to_json)
{
    Whistle__V1__Order o = WHISTLE__V1__ORDER__INIT;
    o.id = 7;
    o.ticket = "E2";
    o.state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN;
    o.lead = 1;
    json_t *j = pbj_to_json(&o.base);
    cr_assert_eq(json_integer_value(json_object_get(j, "id")), 7);
    cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "checked_in");
    cr_assert(json_is_true(json_object_get(j, "lead")));
    cr_assert(json_is_null(json_object_get(j, "extension")), "an unset message is null");
    /* and back: the same order */
    char err[200];
    ProtobufCMessage *m = NULL;
    cr_assert(pbj_from_json(&whistle__v1__order__descriptor, j, &m, err, sizeof err) == 0, "%s", err);
    Whistle__V1__Order *back = (Whistle__V1__Order *)m;
    cr_assert(back->id == 7 && strcmp(back->ticket, "E2") == 0 && back->state == o.state && back->lead);
    protobuf_c_message_free_unpacked(m, NULL);
    json_decref(j);
}

/* ---------------------------------------------------------------- multipart/form-data */

typedef struct parts {
    int n;
    char names[8][32];
    bool file[8];
    size_t len[8];
    const char *data[8];
} parts;

static int collect(void *ud, const mp_part *p)
{
    parts *ps = ud;
    if (ps->n == 8)
        return 9;
    snprintf(ps->names[ps->n], sizeof ps->names[0], "%.*s", (int)p->name_len, p->name);
    ps->file[ps->n] = p->is_file;
    ps->len[ps->n] = p->len;
    ps->data[ps->n] = p->data;
    ps->n++;
    return 0;
}

static int parse(const char *body, size_t n, const char *boundary, parts *ps, const char **why)
{
    memset(ps, 0, sizeof *ps);
    *why = NULL;
    return mp_parse(body, n, boundary, collect, ps, why);
}

Test(multipart, boundary_from_the_content_type)
{
    char b[MP_BOUNDARY_MAX + 1];
    const char *ct = "multipart/form-data; boundary=----x1y2";
    cr_assert(mp_boundary(ct, strlen(ct), b) == 0);
    cr_assert_str_eq(b, "----x1y2");
    ct = "Multipart/Form-Data;charset=utf-8; boundary=\"a b'c\"";
    cr_assert(mp_boundary(ct, strlen(ct), b) < 0, "a space is not a boundary's character here");
    ct = "multipart/form-data; boundary=\"abc:def\"";
    cr_assert(mp_boundary(ct, strlen(ct), b) == 0 && strcmp(b, "abc:def") == 0);
    const char *bad[] = { "multipart/form-data",
                          "multipart/form-data; boundary=",
                          "multipart/mixed; boundary=x",
                          "application/x-www-form-urlencoded",
                          "multipart/form-data; boundary=\"unclosed",
                          "multipart/form-data; boundary=x<y",
                          "multipart/form-data; boundary=01234567890123456789012345678901234567890123456789012345"
                          "678901234567890" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(mp_boundary(bad[i], strlen(bad[i]), b) < 0, "%s", bad[i]);
}

Test(multipart, fields_and_a_file)
{
    /* as curl -F sends it, with a binary file holding CRLFs and dashes */
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"api_key\"\r\n\r\n"
                               "key-1\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"description\"\r\n\r\n"
                               "垃圾桶满溢\r\n--X\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"media\"; filename=\"p.jpg\"\r\n"
                               "Content-Type: image/jpeg\r\n\r\n"
                               "\xff\xd8\xff\r\n--XyY-not-quite\r\n\x00\x01\r\n"
                               "--XyZ--\r\n";
    parts ps;
    const char *why;
    cr_assert(parse(body, sizeof body - 1, "XyZ", &ps, &why) == 0, "%s", why);
    cr_assert_eq(ps.n, 3);
    cr_assert_str_eq(ps.names[0], "api_key");
    cr_assert(ps.len[0] == 5 && memcmp(ps.data[0], "key-1", 5) == 0 && !ps.file[0]);
    cr_assert(ps.len[1] == strlen("垃圾桶满溢\r\n--X") && memcmp(ps.data[1], "垃圾桶满溢\r\n--X", ps.len[1]) == 0);
    cr_assert_str_eq(ps.names[2], "media");
    cr_assert(ps.file[2]);
    static const char img[] = "\xff\xd8\xff\r\n--XyY-not-quite\r\n\x00\x01";
    cr_assert(ps.len[2] == sizeof img - 1 && memcmp(ps.data[2], img, ps.len[2]) == 0,
              "the file's bytes are whole, CRLFs and a boundary-like line included");
    /* a preamble before the first delimiter is allowed */
    static const char pre[] = "ignored\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--";
    cr_assert(parse(pre, sizeof pre - 1, "b", &ps, &why) == 0 && ps.n == 1 && ps.len[0] == 1);
}

Test(multipart, malformed_bodies_are_refused)
{
    static const struct {
        const char *body, *why;
    } bad[] = {
        { "no boundary here", "boundary" },
        { "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1", "closing" },
        { "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b", "closing" },
        { "--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--", "Content-Disposition" },
        { "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--b--", "form-data" },
        { "--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--", "name" },
        { "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--b--", "name" },
        { "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nbroken line\r\n\r\n1\r\n--b--", "colon" },
        { "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n"
          "1\r\n--b--",
          "two" },
        { "--bX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", "closing" },
        { "--b\r\n\r\n1\r\n--b--", "Content-Disposition" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parts ps;
        const char *why;
        cr_assert(parse(bad[i].body, strlen(bad[i].body), "b", &ps, &why) == -1, "accepted: %s", bad[i].body);
        cr_assert(why && strstr(why, bad[i].why), "%s: \"%s\" does not say %s", bad[i].body, why, bad[i].why);
    }
    /* headers past MP_HEAD_MAX */
    char big[MP_HEAD_MAX + 200];
    int n = snprintf(big, sizeof big, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    memset(big + n, 'p', sizeof big - (size_t)n - 1);
    big[sizeof big - 1] = 0;
    parts ps;
    const char *why;
    cr_assert(parse(big, strlen(big), "b", &ps, &why) == -1 && strstr(why, "headers"));
    /* a cut at every length of a valid body: refused or whole, never a crash */
    static const char ok[] = "--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"x\"\r\n\r\n"
                             "\xff\xd8\r\n--b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--b--\r\n";
    for (size_t cut = 0; cut < sizeof ok - 1; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, ok, cut);
        int rc = parse(copy, cut, "b", &ps, &why);
        cr_assert(rc == -1 || (rc == 0 && cut >= sizeof ok - 3), "a body cut at %zu was accepted", cut);
        free(copy);
    }
}
