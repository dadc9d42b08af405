/* The public service guide against a real daemon seeded with the demo city
 * (conf/demo-city.json): what a kiosk reads with list_services, and what
 * `whistle services` prints in Chinese and in English. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x

static daemon_h d;
static void setup(void)
{
    harness_start(&d, NULL);
    setenv("WHISTLE_TMP", d.dir, 1); /* for files the CLI writes */
}
static void teardown(void) { harness_cleanup(&d); }
TestSuite(services, .init = setup, .fini = teardown, .timeout = 60);

static Whistle__V1__Request list_req(Whistle__V1__ListServices *ls)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_SERVICES);
    req.list_services = ls;
    return req;
}

Test(services, the_demo_city_has_a_guide_in_chinese_and_english)
{
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    Whistle__V1__ListServices ls = WHISTLE__V1__LIST_SERVICES__INIT;
    Whistle__V1__Request req = list_req(&ls);
    Whistle__V1__Response *r = harness_call_ok(kiosk, &req);
    const Whistle__V1__ServiceCatalogue *c = r->services;
    cr_assert_not_null(c);
    cr_assert_geq(c->n_classes, 6);
    cr_assert_geq(c->n_items, 40);
    for (size_t i = 0; i < c->n_classes; i++) {
        cr_assert(*c->classes[i]->name_zh && *c->classes[i]->name_en, "class %s", c->classes[i]->code);
        cr_assert_not(c->classes[i]->retired);
        if (i)
            cr_assert_lt(strcmp(c->classes[i - 1]->code, c->classes[i]->code), 0, "classes in code order");
    }
    for (size_t i = 0; i < c->n_items; i++) {
        const Whistle__V1__ServiceItem *it = c->items[i];
        cr_assert(*it->name_zh && *it->name_en, "service %s", it->code);
        cr_assert(*it->where_zh && *it->hours_zh && *it->bring_zh && *it->how_zh, "service %s", it->code);
        cr_assert_not(it->retired, "service %s is retired", it->code);
        cr_assert_eq(strncmp(it->code, it->class_code, 2), 0);
        if (i)
            cr_assert_lt(strcmp(c->items[i - 1]->code, it->code), 0, "services in code order");
    }
    whistle_response_free(r);

    /* one class; a code that is not one; a class there is not */
    ls.class_code = "02";
    r = harness_call_ok(kiosk, &req);
    cr_assert_eq(r->services->n_classes, 1);
    cr_assert_str_eq(r->services->classes[0]->name_zh, "民政服务");
    cr_assert_geq(r->services->n_items, 3);
    for (size_t i = 0; i < r->services->n_items; i++)
        cr_assert_str_eq(r->services->items[i]->class_code, "02");
    whistle_response_free(r);
    ls.class_code = "2";
    const char *msg = harness_call_fail(kiosk, &req, CODE(INVALID_ARGUMENT));
    cr_assert(strstr(msg, "class_code \"2\" is not a service class code"), "%s", msg);
    ls.class_code = "98";
    msg = harness_call_fail(kiosk, &req, CODE(NOT_FOUND));
    cr_assert(strstr(msg, "no service class 98"), "%s", msg);
    /* the retired service is kept, for admins only */
    ls.class_code = "";
    ls.include_retired = true;
    msg = harness_call_fail(kiosk, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "include_retired"), "%s", msg);
    whistle_client *admin = harness_connect(&d, "admin");
    r = harness_call_ok(admin, &req);
    bool retired = false;
    for (size_t i = 0; i < r->services->n_items; i++)
        retired |= r->services->items[i]->retired;
    cr_assert(retired, "the demo city keeps a retired service");
    whistle_response_free(r);
    whistle_close(admin);
    whistle_close(kiosk);
}

/* `whistle ARGS` as principal as, with the given locale variables; returns
 * the exit status and stdout (malloc'd). */
static int run_as(char **out, const char *as, const char *env, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u LC_ALL -u LC_MESSAGES -u LANG %s WHISTLE_CONFIG=/dev/null %s --pki %s --as %s --host 127.0.0.1 "
             "--port %d %s 2>&1",
             env, WHISTLE_CLI_BIN, harness_pki(), as, d.port, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(char **out, const char *env, const char *args) { return run_as(out, "kiosk", env, args); }

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(services, the_cli_prints_the_guide_in_the_locales_language)
{
    char *out;
    cr_assert_eq(run(&out, "LANG=zh_CN.UTF-8", "services"), 0, "%s", out);
    cr_assert(strstr(out, "社会保障") && strstr(out, "最低生活保障申请"), "%s", out);
    cr_assert_null(strstr(out, "Social security"), "%s", out);
    free(out);
    /* the first variable set decides: LC_ALL before LANG */
    cr_assert_eq(run(&out, "LC_ALL=en_US.UTF-8 LANG=zh_CN.UTF-8", "services 02"), 0, "%s", out);
    cr_assert(strstr(out, "Civil affairs") && strstr(out, "Minimum living allowance"), "%s", out);
    cr_assert(strstr(out, "Community service station, ground floor, window 2"), "%s", out);
    cr_assert_null(strstr(out, "民政服务"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "LC_MESSAGES=zh_CN.UTF-8 LANG=en_US.UTF-8", "services 0201"), 0, "%s", out);
    cr_assert(strstr(out, "0201  最低生活保障申请") && strstr(out, "户口簿"), "%s", out);
    free(out);
    /* --json: one object per service, both languages; -q: the codes */
    cr_assert_eq(run(&out, "LANG=C", "--json services"), 0, "%s", out);
    cr_assert_geq(lines(out), 40);
    cr_assert(strstr(out, "\"code\":\"0101\"") && strstr(out, "\"class_name_en\":\"Social security\""), "%s", out);
    json_error_t je;
    json_t *first = json_loadb(out, strchr(out, '\n') - out, 0, &je);
    cr_assert_not_null(first, "%s", je.text);
    cr_assert(json_is_string(json_object_get(first, "name_zh")) && json_is_string(json_object_get(first, "how_en")));
    json_decref(first);
    free(out);
    cr_assert_eq(run(&out, "LANG=C", "-q services 01"), 0, "%s", out);
    cr_assert(strncmp(out, "0101\n0102\n", 10) == 0, "%s", out);
    free(out);
    /* errors: a malformed argument is a usage error, a missing one the server's */
    cr_assert_eq(run(&out, "LANG=C", "services 1"), 2, "%s", out);
    free(out);
    cr_assert_eq(run(&out, "LANG=C", "services 0199"), 1, "%s", out);
    cr_assert(strstr(out, "no service 0199"), "%s", out);
    free(out);
    cr_assert_eq(run(&out, "LANG=C", "services --retired"), 1, "%s", out);
    cr_assert(strstr(out, "PERMISSION_DENIED"), "%s", out);
    free(out);

    /* an admin exports the guide as a spreadsheet and reads it back */
    cr_assert_eq(run_as(&out, "admin", "LANG=C", "admin export --table services --output $WHISTLE_TMP/s.csv"), 0, "%s",
                 out);
    free(out);
    cr_assert_eq(run_as(&out, "admin", "LANG=C", "admin import $WHISTLE_TMP/s.csv"), 0, "%s", out);
    cr_assert(strstr(out, "services        0 added, 0 updated, 49 unchanged"), "%s", out);
    free(out);
    cr_assert_eq(run_as(&out, "admin", "LANG=C", "admin export --table service_classes"), 0, "%s", out);
    cr_assert(strstr(out, "code,name_zh,name_en,retired\r\n01,社会保障,Social security,"), "%s", out);
    free(out);
}
