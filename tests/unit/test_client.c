/* test_client.c: libwhistle's pure parts: framing, enum names, settings
 * precedence, small helpers. The network part is covered by the
 * integration tests against a real whistled. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "whistle/client.h"

/* ---------------------------------------------------------------- framing */

/* Three frames of different sizes, packed back to back. */
static uint8_t *three_frames(size_t *total, size_t lens[3])
{
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    const char *tickets[3] = { "E2026112100001", "", big };
    uint8_t *all = NULL;
    *total = 0;
    for (int i = 0; i < 3; i++) {
        Whistle__V1__GetEvent g = WHISTLE__V1__GET_EVENT__INIT;
        g.ticket = (char *)tickets[i];
        Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
        r.id = (uint64_t)i + 1;
        r.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
        r.get_event = &g;
        Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
        f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
        f.request = &r;
        uint8_t *b;
        size_t n;
        cr_assert_eq(whistle_frame_pack(&f, 0, &b, &n), 0);
        lens[i] = n - 4;
        all = realloc(all, *total + n);
        memcpy(all + *total, b, n);
        *total += n;
        free(b);
    }
    return all;
}

/* Takes every whole frame out and checks it is the next expected one. */
static void drain(whistle_framer *fr, int *next, const size_t lens[3])
{
    const uint8_t *p;
    size_t n;
    int r;
    while ((r = whistle_framer_next(fr, &p, &n)) == 1) {
        cr_assert_lt(*next, 3);
        cr_assert_eq(n, lens[*next]);
        Whistle__V1__Frame *f = whistle__v1__frame__unpack(NULL, n, p);
        cr_assert_not_null(f);
        cr_assert_eq(f->kind_case, WHISTLE__V1__FRAME__KIND_REQUEST);
        cr_assert_eq(f->request->id, (uint64_t)*next + 1);
        whistle__v1__frame__free_unpacked(f, NULL);
        (*next)++;
    }
    cr_assert_eq(r, 0);
}

Test(framer, split_at_every_byte_boundary)
{
    size_t total, lens[3];
    uint8_t *all = three_frames(&total, lens);
    for (size_t cut = 0; cut <= total; cut++) {
        whistle_framer fr;
        whistle_framer_init(&fr, 0);
        int next = 0;
        cr_assert_eq(whistle_framer_feed(&fr, all, cut), 0);
        drain(&fr, &next, lens);
        cr_assert_eq(whistle_framer_feed(&fr, all + cut, total - cut), 0);
        drain(&fr, &next, lens);
        cr_assert_eq(next, 3, "cut at %zu", cut);
        cr_assert_eq(whistle_framer_pending(&fr), 0);
        whistle_framer_free(&fr);
    }
    free(all);
}

Test(framer, one_byte_at_a_time)
{
    size_t total, lens[3];
    uint8_t *all = three_frames(&total, lens);
    whistle_framer fr;
    whistle_framer_init(&fr, 0);
    int next = 0;
    for (size_t i = 0; i < total; i++) {
        cr_assert_eq(whistle_framer_feed(&fr, all + i, 1), 0);
        drain(&fr, &next, lens);
    }
    cr_assert_eq(next, 3);
    whistle_framer_free(&fr);
    free(all);
}

Test(framer, oversize_refused_on_the_header_alone)
{
    whistle_framer fr;
    whistle_framer_init(&fr, 1024);
    const uint8_t hdr[4] = { 0, 0, 4, 1 }; /* 1025 */
    const uint8_t *p;
    size_t n;
    cr_assert_eq(whistle_framer_feed(&fr, hdr, 3), 0);
    cr_assert_eq(whistle_framer_next(&fr, &p, &n), 0);
    cr_assert_eq(whistle_framer_feed(&fr, hdr + 3, 1), 0);
    cr_assert_eq(whistle_framer_next(&fr, &p, &n), WHISTLE_FRAME_ERR_TOO_BIG);
    whistle_framer_free(&fr);
}

Test(framer, exactly_max_frame_is_accepted)
{
    whistle_framer fr;
    whistle_framer_init(&fr, 16);
    uint8_t buf[4 + 16] = { 0, 0, 0, 16 };
    const uint8_t *p;
    size_t n;
    cr_assert_eq(whistle_framer_feed(&fr, buf, sizeof buf), 0);
    cr_assert_eq(whistle_framer_next(&fr, &p, &n), 1);
    cr_assert_eq(n, 16);
    whistle_framer_free(&fr);
}

Test(framer, largest_length_is_refused_not_overflowed)
{
    whistle_framer fr;
    whistle_framer_init(&fr, 0xFFFFFFFFu);
    const uint8_t hdr[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    const uint8_t *p;
    size_t n;
    cr_assert_eq(whistle_framer_feed(&fr, hdr, 4), 0);
    cr_assert_eq(whistle_framer_next(&fr, &p, &n), 0); /* waits for the body, no overflow */
    whistle_framer_free(&fr);
}

Test(framer, zero_length_is_invalid)
{
    whistle_framer fr;
    whistle_framer_init(&fr, 0);
    const uint8_t hdr[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
    const uint8_t *p;
    size_t n;
    cr_assert_eq(whistle_framer_feed(&fr, hdr, sizeof hdr), 0);
    cr_assert_eq(whistle_framer_next(&fr, &p, &n), WHISTLE_FRAME_ERR_EMPTY);
    whistle_framer_free(&fr);
}

Test(framer, pack_refuses_what_exceeds_max_frame)
{
    char text[200];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    Whistle__V1__GetEvent g = WHISTLE__V1__GET_EVENT__INIT;
    g.ticket = text;
    Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
    r.get_event = &g;
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = &r;
    uint8_t *b;
    size_t n;
    cr_assert_eq(whistle_frame_pack(&f, 100, &b, &n), WHISTLE_FRAME_ERR_TOO_BIG);
    cr_assert_eq(whistle_frame_pack(&f, 0, &b, &n), 0);
    uint32_t len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    cr_assert_eq(len + 4, n);
    free(b);
}

Test(framer, empty_frame_does_not_pack)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT; /* no kind: 0 bytes */
    uint8_t *b;
    size_t n;
    cr_assert_lt(whistle_frame_pack(&f, 0, &b, &n), 0);
}

Test(framer, code_names)
{
    cr_assert_str_eq(whistle_code_name(0), "OK");
    cr_assert_str_eq(whistle_code_name(5), "NOT_FOUND");
    cr_assert_str_eq(whistle_code_name(16), "UNAUTHENTICATED");
    cr_assert_str_eq(whistle_code_name(17), "UNKNOWN");
    cr_assert_str_eq(whistle_code_name(-1), "UNKNOWN");
}

/* ---------------------------------------------------------------- names */

Test(names, states)
{
    const char *want[] = { "unspecified", "reported", "filed",    "rejected", "handling",
                           "whistled",    "resolved", "verified", "closed" };
    for (int i = 0; i <= 8; i++) {
        cr_assert_str_eq(whistle_state_name((Whistle__V1__EventState)i), want[i]);
        Whistle__V1__EventState s;
        if (i == 0)
            cr_assert_eq(whistle_state_parse(want[i], &s), -1, "unspecified is not a filter value");
        else {
            cr_assert_eq(whistle_state_parse(want[i], &s), 0);
            cr_assert_eq((int)s, i);
        }
    }
    cr_assert_str_eq(whistle_state_name((Whistle__V1__EventState)99), "unknown");
}

Test(names, order_states_and_spelling)
{
    Whistle__V1__OrderState s;
    cr_assert_str_eq(whistle_order_state_name(WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN), "checked_in");
    cr_assert_eq(whistle_order_state_parse("checked_in", &s), 0);
    cr_assert_eq(s, WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN);
    cr_assert_eq(whistle_order_state_parse("Checked-In", &s), 0);
    cr_assert_eq(s, WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN);
    cr_assert_eq(whistle_order_state_parse("checked", &s), -1);
    cr_assert_eq(whistle_order_state_parse("", &s), -1);
    cr_assert_eq(whistle_order_state_parse(NULL, &s), -1);
}

Test(names, other_enums)
{
    Whistle__V1__Priority p;
    Whistle__V1__WhistleKind k;
    Whistle__V1__Source src;
    Whistle__V1__Role r;
    Whistle__V1__NodeKind nk;
    cr_assert_eq(whistle_priority_parse("URGENT", &p), 0);
    cr_assert_eq(p, WHISTLE__V1__PRIORITY__PRIORITY_URGENT);
    cr_assert_eq(whistle_kind_parse("tackle", &k), 0);
    cr_assert_eq(k, WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_TACKLE);
    cr_assert_eq(whistle_source_parse("emergency-call", &src), 0);
    cr_assert_eq(src, WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL);
    cr_assert_eq(whistle_role_parse("grid_worker", &r), 0);
    cr_assert_eq(r, WHISTLE__V1__ROLE__ROLE_GRID_WORKER);
    cr_assert_eq(whistle_node_kind_parse("grid", &nk), 0);
    cr_assert_eq(nk, WHISTLE__V1__NODE_KIND__NODE_KIND_GRID);
    cr_assert_str_eq(whistle_role_name(WHISTLE__V1__ROLE__ROLE_INTEGRATION), "integration");
    cr_assert_str_eq(whistle_kind_name(WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY), "emergency");
}

/* The hand-written tables and the descriptor-derived words (used by the
 * CLI's JSON) must agree for every value the proto defines. */
static void agree(const ProtobufCEnumDescriptor *d, const char *(*name)(int))
{
    char buf[64];
    for (unsigned i = 0; i < d->n_values; i++) {
        int v = d->values[i].value;
        cr_assert_str_eq(whistle_enum_word(d, v, buf, sizeof buf), name(v), "%s value %d", d->name, v);
    }
}
static const char *st(int v) { return whistle_state_name((Whistle__V1__EventState)v); }
static const char *ost(int v) { return whistle_order_state_name((Whistle__V1__OrderState)v); }
static const char *rol(int v) { return whistle_role_name((Whistle__V1__Role)v); }
static const char *src(int v) { return whistle_source_name((Whistle__V1__Source)v); }
static const char *pri(int v) { return whistle_priority_name((Whistle__V1__Priority)v); }
static const char *knd(int v) { return whistle_kind_name((Whistle__V1__WhistleKind)v); }
static const char *nkd(int v) { return whistle_node_kind_name((Whistle__V1__NodeKind)v); }

Test(names, tables_agree_with_descriptors)
{
    agree(&whistle__v1__event_state__descriptor, st);
    agree(&whistle__v1__order_state__descriptor, ost);
    agree(&whistle__v1__role__descriptor, rol);
    agree(&whistle__v1__source__descriptor, src);
    agree(&whistle__v1__priority__descriptor, pri);
    agree(&whistle__v1__whistle_kind__descriptor, knd);
    agree(&whistle__v1__node_kind__descriptor, nkd);
    char buf[64];
    cr_assert_str_eq(whistle_enum_word(&whistle__v1__status__code__descriptor, 5, buf, sizeof buf), "NOT_FOUND");
    cr_assert_str_eq(whistle_enum_word(&whistle__v1__role__descriptor, 77, buf, sizeof buf), "unknown");
}

/* ---------------------------------------------------------------- helpers */

Test(helpers, idempotency_keys_are_fresh_hex)
{
    char a[33], b[33], small[10];
    cr_assert_eq(whistle_idempotency_key(a, sizeof a), 0);
    cr_assert_eq(whistle_idempotency_key(b, sizeof b), 0);
    cr_assert_eq(strlen(a), 32);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 32);
    cr_assert_str_neq(a, b);
    cr_assert_lt(whistle_idempotency_key(small, sizeof small), 0);
    /* they sort in the order they were made: the time in ms comes first */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long now = (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000, at;
    cr_assert_eq(sscanf(b, "%12llx", &at), 1);
    cr_assert(at <= now && now - at < 60000, "key %s starts with %llu, now %llu", b, at, now);
    struct timespec pause = { 0, 2000000 };
    nanosleep(&pause, NULL);
    char c[33];
    cr_assert_eq(whistle_idempotency_key(c, sizeof c), 0);
    cr_assert_lt(strcmp(a, c), 0, "%s then %s", a, c);
}

Test(helpers, writes_are_known)
{
    Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    cr_assert(whistle_request_is_write(&r));
    r.call_case = WHISTLE__V1__REQUEST__CALL_CHECK_IN;
    cr_assert(whistle_request_is_write(&r));
    r.call_case = WHISTLE__V1__REQUEST__CALL_GET_EVENT;
    cr_assert_not(whistle_request_is_write(&r));
    r.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    cr_assert_not(whistle_request_is_write(&r));
}

Test(helpers, response_status_defaults)
{
    Whistle__V1__Response r = WHISTLE__V1__RESPONSE__INIT;
    cr_assert_eq(whistle_response_code(&r), 0);
    cr_assert_str_eq(whistle_response_message(&r), "");
    Whistle__V1__Status s = WHISTLE__V1__STATUS__INIT;
    s.code = WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED;
    s.message = "operators only";
    r.status = &s;
    cr_assert_eq(whistle_response_code(&r), 7);
    cr_assert_str_eq(whistle_response_message(&r), "operators only");
}

Test(helpers, open_refuses_unreadable_files_synchronously)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    whistle_opts o = { .host = "localhost", .port = 1, .ca_file = "/nonexistent/ca.crt" };
    whistle_conn *c = NULL;
    char err[256];
    cr_assert_eq(whistle_conn_open(&loop, &o, NULL, NULL, &c, err, sizeof err), WHISTLE_ERR_TLS);
    cr_assert(strstr(err, "/nonexistent/ca.crt") != NULL, "%s", err);
    cr_assert_eq(uv_loop_close(&loop), 0, "nothing may be left on the loop");
}

/* ---------------------------------------------------------------- settings */

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* A directory with a fake dev PKI (only existence is checked) and a
 * config file; the environment is cleared of WHISTLE_*. */
static void settings_setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/whistle-client-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    char p[256];
    snprintf(p, sizeof p, "%s/pki", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/pki/clients", tmpdir);
    mkdir(p, 0700);
    const char *files[] = { "pki/ca.crt", "pki/clients/alice.crt", "pki/clients/alice.key", "pki/clients/bob.crt",
                            "pki/clients/bob.key" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        write_file(p, "x");
    }
    const char *vars[] = { "WHISTLE_HOST", "WHISTLE_PORT", "WHISTLE_CERT",    "WHISTLE_KEY",   "WHISTLE_CA",
                           "WHISTLE_AS",   "WHISTLE_PKI",  "WHISTLE_TIMEOUT", "WHISTLE_CONFIG" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    setenv("HOME", tmpdir, 1); /* no ~/.config/whistle/client.conf */
    unsetenv("XDG_CONFIG_HOME");
    cr_assert_eq(chdir(tmpdir), 0); /* no ./var/pki */
}

static void settings_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static int resolve(whistle_settings *flags, whistle_resolved *out, char *err, size_t errlen)
{
    whistle_settings env = { 0 }, file = { 0 };
    cr_assert_eq(whistle_settings_from_env(&env), 0);
    int r = whistle_settings_from_file(&file, NULL, err, errlen);
    if (r == 0) {
        const whistle_settings *layers[WHISTLE_LAYERS] = { flags, &env, &file };
        char fallback[128];
        snprintf(fallback, sizeof fallback, "%s/pki", tmpdir);
        r = whistle_settings_resolve(layers, fallback, out, err, errlen);
    }
    whistle_settings_free(&env);
    whistle_settings_free(&file);
    return r;
}

TestSuite(settings, .init = settings_setup, .fini = settings_teardown);

Test(settings, defaults)
{
    whistle_settings flags = { 0 };
    whistle_resolved r;
    char err[256];
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.opts.host, "localhost");
    cr_assert_eq(r.opts.port, 7730);
    cr_assert_eq(r.opts.timeout_ms, 10000);
    cr_assert_null(r.opts.cert_file);
    cr_assert_null(r.opts.ca_file);
}

Test(settings, flags_beat_env_beat_file)
{
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/client.conf", tmpdir);
    write_file(path, "; a comment\nhost = file.example\nport = 1001\ntimeout = 3000\n[client]\nca = /file/ca.crt\n");
    setenv("WHISTLE_CONFIG", path, 1);
    setenv("WHISTLE_PORT", "2002", 1);
    setenv("WHISTLE_HOST", "env.example", 1);
    whistle_settings flags = { 0 };
    whistle_settings_set(&flags, "host", "flag.example");
    whistle_resolved r;
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.opts.host, "flag.example");
    cr_assert_eq(r.opts.port, 2002);
    cr_assert_eq(r.opts.timeout_ms, 3000);
    cr_assert_str_eq(r.opts.ca_file, "/file/ca.crt");
    whistle_settings_free(&flags);
}

Test(settings, as_uses_the_pki_fallback)
{
    whistle_settings flags = { 0 };
    whistle_settings_set(&flags, "as", "alice");
    whistle_resolved r;
    char err[256], want[256];
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    snprintf(want, sizeof want, "%s/pki/clients/alice.crt", tmpdir);
    cr_assert_str_eq(r.opts.cert_file, want);
    snprintf(want, sizeof want, "%s/pki/clients/alice.key", tmpdir);
    cr_assert_str_eq(r.opts.key_file, want);
    snprintf(want, sizeof want, "%s/pki/ca.crt", tmpdir);
    cr_assert_str_eq(r.opts.ca_file, want);
    cr_assert_str_eq(r.as, "alice");
    whistle_settings_free(&flags);
}

Test(settings, as_prefers_whistle_pki_then_dot_var_pki)
{
    char p[256], err[256], want[256];
    /* ./var/pki beats the fallback */
    snprintf(p, sizeof p, "%s/var", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/var/pki", tmpdir);
    char src[128];
    snprintf(src, sizeof src, "%s/pki", tmpdir);
    cr_assert_eq(symlink(src, p), 0);
    whistle_settings flags = { 0 };
    whistle_settings_set(&flags, "as", "bob");
    whistle_resolved r;
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    snprintf(want, sizeof want, "%s/var/pki/clients/bob.crt", tmpdir);
    cr_assert_str_eq(r.opts.cert_file, want);
    /* $WHISTLE_PKI beats ./var/pki */
    setenv("WHISTLE_PKI", src, 1);
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    snprintf(want, sizeof want, "%s/clients/bob.crt", src);
    cr_assert_str_eq(r.opts.cert_file, want);
    whistle_settings_free(&flags);
}

Test(settings, as_flag_beats_cert_from_env)
{
    setenv("WHISTLE_CERT", "/env/cert.pem", 1);
    setenv("WHISTLE_KEY", "/env/key.pem", 1);
    whistle_settings flags = { 0 };
    whistle_settings_set(&flags, "as", "alice");
    whistle_resolved r;
    char err[256];
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert(strstr(r.opts.cert_file, "/clients/alice.crt") != NULL, "%s", r.opts.cert_file);
    whistle_settings_free(&flags);
}

Test(settings, cert_flag_beats_as_for_that_file_only)
{
    whistle_settings flags = { 0 };
    whistle_settings_set(&flags, "as", "alice");
    whistle_settings_set(&flags, "cert", "/flag/cert.pem");
    whistle_settings_set(&flags, "key", "/flag/key.pem");
    whistle_resolved r;
    char err[256];
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.opts.cert_file, "/flag/cert.pem");
    cr_assert_str_eq(r.opts.key_file, "/flag/key.pem");
    cr_assert(strstr(r.opts.ca_file, "/pki/ca.crt") != NULL, "%s", r.opts.ca_file);
    whistle_settings_free(&flags);
}

Test(settings, as_from_env_and_cert_from_env)
{
    /* same layer: the explicit file wins */
    setenv("WHISTLE_AS", "alice", 1);
    setenv("WHISTLE_CA", "/env/ca.pem", 1);
    whistle_settings flags = { 0 };
    whistle_resolved r;
    char err[256];
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.opts.ca_file, "/env/ca.pem");
    cr_assert(strstr(r.opts.cert_file, "/clients/alice.crt") != NULL);
}

Test(settings, unknown_principal_names_the_missing_file)
{
    whistle_settings flags = { 0 };
    whistle_settings_set(&flags, "as", "carol");
    whistle_resolved r;
    char err[256];
    cr_assert_lt(resolve(&flags, &r, err, sizeof err), 0);
    cr_assert(strstr(err, "carol.crt") != NULL, "%s", err);
    whistle_settings_set(&flags, "as", "../alice");
    cr_assert_lt(resolve(&flags, &r, err, sizeof err), 0);
    whistle_settings_free(&flags);
}

Test(settings, bad_port_and_timeout)
{
    char err[256];
    whistle_resolved r;
    whistle_settings flags = { 0 };
    const char *bad[] = { "0", "65536", "-1", "80x", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        whistle_settings_set(&flags, "port", bad[i]);
        cr_assert_lt(resolve(&flags, &r, err, sizeof err), 0, "port '%s'", bad[i]);
    }
    whistle_settings_set(&flags, "port", "65535");
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.opts.port, 65535);
    whistle_settings_set(&flags, "timeout", "soon");
    cr_assert_lt(resolve(&flags, &r, err, sizeof err), 0);
    whistle_settings_free(&flags);
}

Test(settings, config_file_errors)
{
    char path[256], err[256];
    whistle_settings s = { 0 };
    snprintf(path, sizeof path, "%s/bad.conf", tmpdir);
    write_file(path, "host = a\nprot = 1\n");
    cr_assert_lt(whistle_settings_from_file(&s, path, err, sizeof err), 0);
    cr_assert(strstr(err, ":2:") && strstr(err, "prot"), "%s", err);
    write_file(path, "[server]\nport = 1\n");
    cr_assert_lt(whistle_settings_from_file(&s, path, err, sizeof err), 0);
    cr_assert(strstr(err, "[server]"), "%s", err);
    /* named but missing: an error; the default path missing: not */
    snprintf(path, sizeof path, "%s/none.conf", tmpdir);
    cr_assert_lt(whistle_settings_from_file(&s, path, err, sizeof err), 0);
    cr_assert_eq(whistle_settings_from_file(&s, NULL, err, sizeof err), 0);
    setenv("WHISTLE_CONFIG", path, 1);
    cr_assert_lt(whistle_settings_from_file(&s, NULL, err, sizeof err), 0);
    whistle_settings_free(&s);
}

Test(settings, default_config_path_under_home)
{
    char p[256], err[256];
    snprintf(p, sizeof p, "%s/.config", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/.config/whistle", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/.config/whistle/client.conf", tmpdir);
    write_file(p, "as = bob\nport = 7999\n");
    whistle_settings flags = { 0 };
    whistle_resolved r;
    cr_assert_eq(resolve(&flags, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.opts.port, 7999);
    cr_assert(strstr(r.opts.cert_file, "/clients/bob.crt") != NULL);
}

/* ------------------------------------------------------------ GCJ-02 (whistle/geo.h) */

#include <math.h>

#include "whistle/geo.h"

Test(geo, gcj02_is_wgs84_shifted_inside_china_only)
{
    /* China World, Guomao: a Chinese map shows it some 150 m north and
     * 550 m east of where WGS84 has it */
    double glat, glon;
    whistle_wgs84_to_gcj02(39.9087, 116.4605, &glat, &glon);
    cr_assert(glat - 39.9087 > 0.0008 && glat - 39.9087 < 0.0020, "dlat %f", glat - 39.9087);
    cr_assert(glon - 116.4605 > 0.0050 && glon - 116.4605 < 0.0070, "dlon %f", glon - 116.4605);
    /* and back, to well under a millimetre */
    double lat, lon;
    whistle_gcj02_to_wgs84(glat, glon, &lat, &lon);
    cr_assert(fabs(lat - 39.9087) < 1e-8 && fabs(lon - 116.4605) < 1e-8, "%.10f %.10f", lat, lon);
    /* across the country */
    for (double la = 18.5; la < 53; la += 3.7)
        for (double lo = 74; lo < 135; lo += 5.3) {
            whistle_wgs84_to_gcj02(la, lo, &glat, &glon);
            whistle_gcj02_to_wgs84(glat, glon, &lat, &lon);
            cr_assert(fabs(lat - la) < 1e-8 && fabs(lon - lo) < 1e-8, "%f,%f -> %.10f,%.10f", la, lo, lat, lon);
            cr_assert(fabs(glat - la) < 0.01 && fabs(glon - lo) < 0.01, "an offset of a few hundred metres");
        }
    /* Paris: no offset */
    whistle_wgs84_to_gcj02(48.8566, 2.3522, &glat, &glon);
    cr_assert(glat == 48.8566 && glon == 2.3522);
    whistle_gcj02_to_wgs84(48.8566, 2.3522, &lat, &lon);
    cr_assert(lat == 48.8566 && lon == 2.3522);
    cr_assert(whistle_geo_in_china(39.9, 116.4));
    cr_assert(!whistle_geo_in_china(48.8566, 2.3522));
}
