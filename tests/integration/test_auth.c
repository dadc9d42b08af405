/* Identity and authority (DESIGN.md §4): mTLS, principals, roles, scopes,
 * and the state machine's refusals, against a real daemon. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(auth, .init = setup, .fini = teardown, .timeout = 60);

Test(auth, no_client_certificate_is_refused)
{
    raw_conn r;
    int rc = raw_open(&r, &d, NULL, NULL);
    /* TLS 1.3 finishes the client's side before the server checks, so the
     * refusal may show at the first read instead. */
    if (rc == 0)
        cr_assert(raw_wait_closed(&r, 10000), "a connection without a certificate was served");
    raw_close(&r);
    cr_assert(harness_log_contains(&d, "refused"), "no log line says why");
}

static void refused_cert(const char *cert, const char *key)
{
    char err[512];
    whistle_client *c = harness_try_connect(&d, cert, key, err, sizeof err);
    cr_assert_null(c, "certificate %s was accepted", cert);
}

Test(auth, foreign_ca_expired_and_revoked_certificates_are_refused)
{
    const char *pki = harness_pki();
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/foreign/police.crt", pki);
    snprintf(key, sizeof key, "%s/foreign/police.key", pki);
    refused_cert(cert, key);
    snprintf(cert, sizeof cert, "%s/expired/police.crt", pki);
    snprintf(key, sizeof key, "%s/expired/police.key", pki);
    refused_cert(cert, key);
    cr_assert(harness_log_contains(&d, "expired"), "no log line names the expiry");
    harness_cert("revoked", cert, sizeof cert, key, sizeof key);
    refused_cert(cert, key);
    cr_assert(harness_log_contains(&d, "revoked"), "no log line names the revocation");
}

Test(auth, unknown_principal_gets_unauthenticated_and_nothing_else)
{
    char cert[512], key[512], err[512];
    harness_cert("stranger", cert, sizeof cert, key, sizeof key);
    whistle_client *c = harness_try_connect(&d, cert, key, err, sizeof err);
    cr_assert_null(c);
    cr_assert(strstr(err, "UNAUTHENTICATED"), "error: %s", err);

    raw_conn r;
    cr_assert_eq(raw_open(&r, &d, cert, key), 0);
    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 4;
    req.call_case = CALL(LIST_DEPARTMENTS);
    req.list_departments = &ld;
    cr_assert_eq(raw_send_request(&r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->status->code, CODE(UNAUTHENTICATED));
    cr_assert_eq(f->response->result_case, WHISTLE__V1__RESPONSE__RESULT__NOT_SET);
    whistle__v1__frame__free_unpacked(f, NULL);
    cr_assert(raw_wait_closed(&r, 10000), "the connection of an unknown principal stayed open");
    raw_close(&r);
}

Test(auth, kiosk_trying_to_whistle_gets_permission_denied)
{
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    char *t = h_report(kiosk, FIRST_GRID, "0102", "overflowing bins");
    const char *depts[] = { "urban" };
    Whistle__V1__WhistleEvent w = WHISTLE__V1__WHISTLE_EVENT__INIT;
    w.ticket = t;
    w.departments = (char **)depts;
    w.n_departments = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(WHISTLE);
    req.whistle = &w;
    const char *msg = harness_call_fail(kiosk, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "rule"), "the denial does not name its rule: %s", msg);
    free(t);
    whistle_close(kiosk);
}

/* What a kiosk may read: test_kiosk_privacy.c. */

Test(auth, operator_acts_on_its_own_street_only)
{
    whistle_client *op2 = harness_connect(&d, "operator2");
    whistle_client *grid = harness_connect(&d, "gridworker");
    char *t = h_report(grid, FIRST_GRID, "0102", "in street 001");
    Whistle__V1__FileEvent fe = WHISTLE__V1__FILE_EVENT__INIT;
    fe.ticket = t;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(FILE);
    req.file = &fe;
    /* a case of another street reads like a missing one: nothing of where
     * it is (issue 11, item 16); the denial is audited with its rule */
    const char *msg = harness_call_fail(op2, &req, CODE(NOT_FOUND));
    cr_assert(strstr(msg, "no case") && !strstr(msg, "110105"), "message: %s", msg);
    free(t);
    whistle_close(op2);
    whistle_close(grid);
}

Test(auth, department_sees_only_its_own_orders)
{
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *police = harness_connect(&d, "police");
    char *t = h_report(op, FIRST_GRID, "0102", "for urban only");
    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    const char *depts[] = { "urban" };
    Whistle__V1__Response *wr = h_whistle(op, t, depts, 1);
    uint64_t oid = wr->whistle->orders[0]->id;
    whistle_response_free(wr);
    Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
    ci.order_id = oid;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(CHECK_IN);
    req.check_in = &ci;
    harness_call_fail(police, &req, CODE(PERMISSION_DENIED));
    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
    lo.department = "urban";
    Whistle__V1__Request lr = WHISTLE__V1__REQUEST__INIT;
    lr.call_case = CALL(LIST_ORDERS);
    lr.list_orders = &lo;
    harness_call_fail(police, &lr, CODE(PERMISSION_DENIED));
    free(t);
    whistle_close(op);
    whistle_close(police);
}

Test(auth, illegal_transitions_get_failed_precondition_naming_the_state)
{
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *urban = harness_connect(&d, "urban");
    char *t = h_report(op, FIRST_GRID, "0102", "transition checks");
    /* close before verify */
    Whistle__V1__CloseEvent ce = WHISTLE__V1__CLOSE_EVENT__INIT;
    ce.ticket = t;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(CLOSE);
    req.close = &ce;
    const char *msg = harness_call_fail(op, &req, CODE(FAILED_PRECONDITION));
    cr_assert(strstr(msg, "reported"), "the message does not name the current state: %s", msg);
    cr_assert(strstr(msg, "file"), "the message does not name what is allowed: %s", msg);

    whistle_response_free(h_simple(op, CALL(FILE), t, NULL));
    const char *depts[] = { "urban" };
    Whistle__V1__Response *wr = h_whistle(op, t, depts, 1);
    uint64_t oid = wr->whistle->orders[0]->id;
    whistle_response_free(wr);
    /* check in twice */
    whistle_response_free(h_order_call(urban, CALL(CHECK_IN), oid, NULL));
    Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
    ci.order_id = oid;
    Whistle__V1__Request cr = WHISTLE__V1__REQUEST__INIT;
    cr.call_case = CALL(CHECK_IN);
    cr.check_in = &ci;
    msg = harness_call_fail(urban, &cr, CODE(FAILED_PRECONDITION));
    cr_assert(strstr(msg, "checked_in") || strstr(msg, "checked in"), "message: %s", msg);
    /* feed back on a returned order */
    whistle_response_free(h_order_call(urban, CALL(RETURN_ORDER), oid, "not ours: a private lane"));
    Whistle__V1__Feedback fb = WHISTLE__V1__FEEDBACK__INIT;
    fb.order_id = oid;
    fb.text = "done";
    Whistle__V1__Request fr = WHISTLE__V1__REQUEST__INIT;
    fr.call_case = CALL(FEEDBACK);
    fr.feedback = &fb;
    msg = harness_call_fail(urban, &fr, CODE(FAILED_PRECONDITION));
    cr_assert(strstr(msg, "returned"), "message: %s", msg);
    free(t);
    whistle_close(op);
    whistle_close(urban);
}
