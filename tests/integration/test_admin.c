/* Administration against a real daemon (docs/administration.md): principals
 * disabled while connected, certificates revoked while connected, imports
 * larger than a frame, the example street of the docs brought up with the
 * CLI, and the audit log of reads and refusals. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x

static daemon_h d;
static char pki_copy[256];
static void setup(void) {}
static void teardown(void)
{
    harness_cleanup(&d);
    if (pki_copy[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_copy);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", pki_copy);
        pki_copy[0] = 0;
    }
}
TestSuite(admin, .init = setup, .fini = teardown, .timeout = 120);

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs the CLI as a fixture principal; returns its exit status and its
 * output (stdout and stderr) in out. */
static int cli(char *out, size_t outlen, const char *as, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --pki %s --as %s --host 127.0.0.1 --port %d %s 2>&1", WHISTLE_CLI_BIN, harness_pki(),
             as, d.port, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static Whistle__V1__Response *update_principal(whistle_client *admin, const char *name, bool disable)
{
    Whistle__V1__UpdatePrincipal u = WHISTLE__V1__UPDATE_PRINCIPAL__INIT;
    u.name = (char *)name;
    u.disable = disable;
    u.enable = !disable;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(UPDATE_PRINCIPAL);
    req.update_principal = &u;
    return harness_call_ok(admin, &req);
}

static void ping_ok(whistle_client *c)
{
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PING);
    req.ping = &p;
    whistle_response_free(harness_call_ok(c, &req));
}

/* Whether the server closes c within timeout_ms (pushes are drained). */
static bool closed_within(whistle_client *c, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        Whistle__V1__Push *p = NULL;
        int rc = whistle_next_push(c, 100, &p);
        if (rc < 0)
            return true;
        if (rc > 0)
            whistle_push_free(p);
    }
    return false;
}

Test(admin, a_disabled_principal_is_refused_at_its_next_request_and_its_subscription_ends)
{
    harness_start(&d, NULL);
    whistle_client *admin = harness_connect(&d, "admin");
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *police = harness_connect(&d, "police");
    whistle_client *op = harness_connect(&d, "operator");
    ping_ok(grid);
    h_subscribe(police, -1);

    whistle_response_free(update_principal(admin, "gridworker", true));
    whistle_response_free(update_principal(admin, "police", true));
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PING);
    req.ping = &p;
    const char *msg = harness_call_fail(grid, &req, CODE(UNAUTHENTICATED));
    cr_assert(strstr(msg, "disabled"), "%s", msg);

    /* an order pushed to the disabled department's stream is not delivered:
     * its open subscription ends instead */
    char *t = h_report(op, FIRST_GRID, "0102", "bins");
    whistle_response_free(h_simple(op, CALL(FILE), t, ""));
    const char *depts[] = { "police" };
    whistle_response_free(h_whistle(op, t, depts, 1));
    cr_assert(closed_within(police, 10000), "the disabled department's subscription stayed open");
    cr_assert(harness_log_contains(&d, "subscription to dept:police ended"));

    whistle_response_free(update_principal(admin, "gridworker", false));
    whistle_client *again = harness_connect(&d, "gridworker");
    ping_ok(again);
    whistle_close(again);
    free(t);
    whistle_close(grid);
    whistle_close(police);
    whistle_close(op);
    whistle_close(admin);
}

static void add_operator(whistle_client *admin, const char *name)
{
    Whistle__V1__Principal pr = WHISTLE__V1__PRINCIPAL__INIT;
    pr.name = (char *)name;
    pr.role = WHISTLE__V1__ROLE__ROLE_OPERATOR;
    pr.scope = "110105001";
    Whistle__V1__AddPrincipal ap = WHISTLE__V1__ADD_PRINCIPAL__INIT;
    ap.principal = &pr;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(ADD_PRINCIPAL);
    req.add_principal = &ap;
    whistle_response_free(harness_call_ok(admin, &req));
}

static whistle_client *connect_copy(const char *name, char *err, size_t errlen)
{
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/clients/%s.crt", pki_copy, name);
    snprintf(key, sizeof key, "%s/clients/%s.key", pki_copy, name);
    return harness_try_connect(&d, cert, key, err, errlen);
}

Test(admin, a_certificate_revoked_while_connected_is_cut_off_by_reload_crl_and_by_sighup)
{
    /* A PKI of the test's own: revoking rewrites the CRL, which the other
     * tests' daemons read too. */
    snprintf(pki_copy, sizeof pki_copy, "/tmp/whistle-pki-XXXXXX");
    cr_assert(mkdtemp(pki_copy));
    const char *script = WHISTLE_SOURCE_DIR "/scripts/dev-pki.sh";
    /* without dev-pki.sh's lock directory, which another test's run of
     * the script may hold (and remove) while this copies */
    cr_assert_eq(sh("tar -C %s --exclude=./.lock -cf - . | tar -C %s -xf - && %s %s victim1 victim2 >/dev/null",
                    harness_pki(), pki_copy, script, pki_copy),
                 0);
    char extra[512];
    snprintf(extra, sizeof extra, "[tls]\ncrl = %s/crl.pem\n", pki_copy);
    harness_start(&d, extra);
    whistle_client *admin = harness_connect(&d, "admin");
    add_operator(admin, "victim1");
    add_operator(admin, "victim2");
    char err[512];
    whistle_client *v1 = connect_copy("victim1", err, sizeof err);
    cr_assert(v1, "%s", err);
    whistle_client *v2 = connect_copy("victim2", err, sizeof err);
    cr_assert(v2, "%s", err);
    ping_ok(v1);
    ping_ok(v2);

    cr_assert_eq(sh("%s revoke %s victim1 >/dev/null", script, pki_copy), 0);
    Whistle__V1__ReloadCrl rc = WHISTLE__V1__RELOAD_CRL__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(RELOAD_CRL);
    req.reload_crl = &rc;
    Whistle__V1__Response *resp = harness_call_ok(admin, &req);
    cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_RELOAD);
    cr_assert_geq(resp->reload->connections_checked, 3);
    cr_assert_eq(resp->reload->n_closed, 1);
    cr_assert(strstr(resp->reload->closed[0], "victim1"), "%s", resp->reload->closed[0]);
    whistle_response_free(resp);
    cr_assert(closed_within(v1, 10000), "the revoked certificate's connection stayed open");
    cr_assert_null(connect_copy("victim1", err, sizeof err), "a revoked certificate connected again");
    ping_ok(v2);
    /* only admins reload */
    const char *msg = harness_call_fail(v2, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "rule"));

    cr_assert_eq(sh("%s revoke %s victim2 >/dev/null", script, pki_copy), 0);
    kill(d.pid, SIGHUP);
    cr_assert(closed_within(v2, 10000), "SIGHUP did not cut off the revoked certificate");
    cr_assert(harness_log_contains(&d, "no longer valid after the reload"));
    ping_ok(admin);
    whistle_close(v1);
    whistle_close(v2);
    whistle_close(admin);
}

/* A street of n communities of m grids, as CSV. */
static void write_street(const char *path, int n, int m, bool with_errors)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "code,parent_code,kind,name_zh,name_en\n110105009,110105,street,测试街道,Test street\n");
    for (int c = 1; c <= n; c++) {
        fprintf(f, "110105009%03d,110105009,community,第%d社区,Community %d\n", c, c, c);
        for (int g = 1; g <= m; g++)
            fprintf(f, "110105009%03d%03d,110105009%03d,grid,第%d网格,Grid %d of community %d\n", c, g, c, g, g, c);
    }
    if (with_errors) {
        fprintf(f, "110105009999001,110105009999,grid,无主,Orphan\n");
        fprintf(f, "11010500900100,110105009001,grid,短,Short\n");
    }
    fclose(f);
}

Test(admin, a_file_larger_than_a_frame_is_imported_in_chunks_as_one_transaction)
{
    harness_start(&d, "[server]\nmax_frame = 65536\n");
    char path[400], out[16384];
    snprintf(path, sizeof path, "%s/street.csv", d.dir);
    write_street(path, 40, 50, true); /* 2,041 places, about 150 KB */
    char args[600];
    snprintf(args, sizeof args, "admin import %s", path);
    int rc = cli(out, sizeof out, "admin", args);
    cr_assert_eq(rc, 1, "a bad file is refused (exit 1): %s", out);
    cr_assert(strstr(out, "2 bad lines"), "%s", out);
    cr_assert(strstr(out, "line 2043: field \"parent_code\": 110105009999 does not exist"), "%s", out);
    cr_assert(strstr(out, "line 2044: field \"code\": a grid code is 15 digits"), "%s", out);
    rc = cli(out, sizeof out, "admin", "nodes --parent 110105");
    cr_assert_null(strstr(out, "110105009"), "the bad file left places behind: %s", out);

    write_street(path, 40, 50, false);
    rc = cli(out, sizeof out, "admin", args);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "nodes           2041 added, 0 updated, 0 unchanged"), "%s", out);
    snprintf(args, sizeof args, "admin export --under 110105009 --output %s/back.csv", d.dir);
    rc = cli(out, sizeof out, "admin", args);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "2041 records written"), "exported in pages under the frame: %s", out);
    snprintf(args, sizeof args, "admin import --check %s/back.csv", d.dir);
    rc = cli(out, sizeof out, "admin", args);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "0 added, 0 updated, 2041 unchanged"), "the export reads back unchanged: %s", out);

    /* a file with more bad lines than a frame holds: as many as fit, and
     * the count of all */
    FILE *f = fopen(path, "w");
    fprintf(f, "code,parent_code,kind,name_zh,name_en\n");
    for (int i = 1; i <= 3000; i++)
        fprintf(f, "110105008%03d%03d,110105008%03d,grid,孤儿,Orphan\n", i % 1000, i / 1000, i % 1000);
    fclose(f);
    static char big[1 << 17];
    snprintf(args, sizeof args, "admin import %s", path);
    rc = cli(big, sizeof big, "admin", args);
    cr_assert_eq(rc, 1, "%.300s", big);
    cr_assert(strstr(big, "3000 bad lines, 3000 errors; nothing was imported"), "%.300s", big);
    cr_assert(strstr(big, "line 2: field \"parent_code\""), "%.300s", big);
    cr_assert(strstr(big, "cut to fit the frame limit"), "the list was not cut to the frame");

    /* chunks out of order, and from someone who may not import */
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__ImportDirectory im = WHISTLE__V1__IMPORT_DIRECTORY__INIT;
    im.upload_id = "u1";
    im.offset = 10;
    im.data.data = (uint8_t *)"x";
    im.data.len = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(IMPORT_DIRECTORY);
    req.import_directory = &im;
    const char *msg = harness_call_fail(admin, &req, CODE(FAILED_PRECONDITION));
    cr_assert(strstr(msg, "from offset 0"), "%s", msg);
    whistle_client *op = harness_connect(&d, "operator");
    im.offset = 0;
    harness_call_fail(op, &req, CODE(PERMISSION_DENIED));
    whistle_close(op);
    whistle_close(admin);
}

Test(admin, the_example_street_of_the_docs_comes_up_from_its_spreadsheets)
{
    harness_start(&d, NULL);
    char out[16384], args[800];
    const char *ex = WHISTLE_SOURCE_DIR "/docs/examples/hujialou-";
    static const char *const files[] = { "places", "departments", "categories", "principals" };
    static const char *const added[] = { "nodes           19 added", "departments     2 added",
                                         "categories      6 added", "principals      9 added" };
    for (int i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "admin import %s%s.csv", ex, files[i]);
        int rc = cli(out, sizeof out, "admin", args);
        cr_assert_eq(rc, 0, "%s: %s", files[i], out);
        cr_assert(strstr(out, added[i]), "%s: %s", files[i], out);
    }
    int rc = cli(out, sizeof out, "admin", "admin principal list --under 110105003");
    cr_assert(strstr(out, "op-hujialou") && strstr(out, "kiosk-hjl-north"), "%s", out);
    /* a case in the new street, whistled as the catalogue proposes */
    rc = cli(out, sizeof out, "admin", "report --node 110105003001001001 --category 1101 --priority urgent 电梯困人");
    cr_assert_eq(rc, 0, "%s", out);
    char ticket[32] = "";
    sscanf(out, "%31s", ticket);
    snprintf(args, sizeof args, "file %s", ticket);
    cr_assert_eq(cli(out, sizeof out, "admin", args), 0, "%s", out);
    snprintf(args, sizeof args, "whistle %s --kind emergency", ticket);
    rc = cli(out, sizeof out, "admin", args);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "proposes for category 1101: property,housing (lead property)"), "%s", out);
    cr_assert(strstr(out, "property") && strstr(out, "housing"), "%s", out);

    /* the service guide's example class (administration.md section 7) */
    static const char *const guide[] = { "service-classes", "services" };
    static const char *const guide_added[] = { "service_classes 1 added", "services        3 added" };
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "admin import %s%s.csv", ex, guide[i]);
        rc = cli(out, sizeof out, "admin", args);
        cr_assert_eq(rc, 0, "%s: %s", guide[i], out);
        cr_assert(strstr(out, guide_added[i]), "%s: %s", guide[i], out);
    }
    rc = cli(out, sizeof out, "kiosk", "services 08");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "0803") && strstr(out, "property"), "%s", out);
}

/* The audit records about target, as admin. */
static int audit_count(whistle_client *admin, const char *target, const char *kind)
{
    Whistle__V1__QueryAudit q = WHISTLE__V1__QUERY_AUDIT__INIT;
    q.target = (char *)target;
    q.brief = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(QUERY_AUDIT);
    req.query_audit = &q;
    Whistle__V1__Response *r = harness_call_ok(admin, &req);
    int n = 0;
    for (size_t i = 0; i < r->audit->n_entries; i++) {
        const Whistle__V1__AuditEntry *e = r->audit->entries[i];
        if ((!strcmp(kind, "read") && *e->read) || (!strcmp(kind, "denied") && *e->denied))
            n++;
    }
    whistle_response_free(r);
    return n;
}

Test(admin, reads_of_phones_and_refusals_reach_the_audit_log_without_other_writes)
{
    harness_start(&d, NULL);
    whistle_client *admin = harness_connect(&d, "admin");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    char *t = h_report(kiosk, FIRST_GRID, "0102", "bins");
    Whistle__V1__Response *keep;
    Whistle__V1__Event *e = h_get(op, t, &keep);
    cr_assert_str_eq(e->contact, "13800001234");
    whistle_response_free(keep);
    /* the read was committed before its answer left */
    cr_assert_eq(audit_count(admin, t, "read"), 1);
    Whistle__V1__LookupTicket lk = WHISTLE__V1__LOOKUP_TICKET__INIT;
    lk.ticket = t;
    lk.phone_last4 = "1234";
    Whistle__V1__Request lreq = WHISTLE__V1__REQUEST__INIT;
    lreq.call_case = CALL(LOOKUP_TICKET);
    lreq.lookup_ticket = &lk;
    keep = harness_call_ok(kiosk, &lreq);
    cr_assert_str_eq(keep->event->contact, "", "a kiosk never shows the phone");
    whistle_response_free(keep);
    cr_assert_eq(audit_count(admin, t, "read"), 1);

    /* a refusal on the loop thread is written within about a second, with
     * nothing else written meanwhile */
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(GET_EVENT);
    Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
    ge.ticket = t;
    req.get_event = &ge;
    whistle_client *sensor = harness_connect(&d, "sensor");
    harness_call_fail(sensor, &req, CODE(PERMISSION_DENIED));
    int n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        usleep(100000);
        n = audit_count(admin, t, "denied");
    }
    cr_assert_eq(n, 1, "the refusal never reached the audit log");
    free(t);
    whistle_close(sensor);
    whistle_close(kiosk);
    whistle_close(op);
    whistle_close(admin);
}
