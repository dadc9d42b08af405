/* TLS at the door (DESIGN.md §3, §4, §7): every way in without a valid,
 * current, trusted, unrevoked client certificate over TLS 1.2+ is refused
 * with a log line that says why, and SIGHUP reloads certificates and the
 * CRL while the other connections stay up (one whose certificate was just
 * revoked is cut). */
#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(tls, .init = setup, .fini = teardown, .timeout = 60);

/* A raw TLS connection with these settings must not be served: either the
 * handshake fails or (TLS 1.3 finishes the client's side first) the
 * server closes at once. Then the log must say why. */
static void refused(const char *cert, const char *key, int minv, int maxv, const char *ciphers, const char *why)
{
    raw_conn r;
    int rc = raw_open_tls(&r, &d, cert, key, minv, maxv, ciphers);
    if (rc == 0)
        cr_assert(raw_wait_closed(&r, 10000), "refused connection was kept open (expected: %s)", why);
    raw_close(&r);
    ERR_clear_error();
    cr_assert(harness_log_wait(&d, why, 5000), "no log line says \"%s\"", why);
}

static void fixture(const char *sub, const char *name, char *cert, size_t cl, char *key, size_t kl)
{
    snprintf(cert, cl, "%s/%s/%s.crt", harness_pki(), sub, name);
    snprintf(key, kl, "%s/%s/%s.key", harness_pki(), sub, name);
}

Test(tls, no_client_certificate_is_refused_and_logged)
{
    refused(NULL, NULL, 0, 0, NULL, "no client certificate was sent");
}

Test(tls, expired_certificate_is_refused_and_logged)
{
    char cert[512], key[512];
    fixture("expired", "police", cert, sizeof cert, key, sizeof key);
    refused(cert, key, 0, 0, NULL, "client certificate /CN=police refused: certificate has expired");
}

Test(tls, not_yet_valid_certificate_is_refused_and_logged)
{
    char cert[512], key[512];
    fixture("future", "police", cert, sizeof cert, key, sizeof key);
    refused(cert, key, 0, 0, NULL, "client certificate /CN=police refused: certificate is not yet valid");
}

Test(tls, certificate_of_another_ca_is_refused_and_logged)
{
    char cert[512], key[512];
    fixture("foreign", "police", cert, sizeof cert, key, sizeof key);
    refused(cert, key, 0, 0, NULL, "client certificate /CN=police refused: unable to get local issuer certificate");
}

Test(tls, revoked_certificate_is_refused_and_logged)
{
    char cert[512], key[512];
    harness_cert("revoked", cert, sizeof cert, key, sizeof key);
    refused(cert, key, 0, 0, NULL, "client certificate /CN=revoked refused: certificate revoked");
}

/* Makes dir/NAME.crt and .key: a client certificate signed by the fixture
 * CA whose subject CN is the cn_len bytes of cn (a NUL may be among them:
 * the openssl command cannot make such a name, a hostile CA clerk can). */
static void make_cert(const char *dir, const char *name, const char *cn, int cn_len, char *cert, size_t cl, char *key,
                      size_t kl)
{
    char path[600];
    snprintf(path, sizeof path, "%s/ca.crt", harness_pki());
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/ca.key", harness_pki());
    f = fopen(path, "r");
    cr_assert(f, "%s", path);
    EVP_PKEY *ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert(ca && ca_key);
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x4e554c);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pkey);
    X509_NAME *subj = X509_get_subject_name(x);
    cr_assert(
        X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, cn_len, -1, 0));
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    cr_assert(X509_sign(x, ca_key, EVP_sha256()) > 0);
    snprintf(cert, cl, "%s/%s.crt", dir, name);
    snprintf(key, kl, "%s/%s.key", dir, name);
    f = fopen(cert, "w");
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key, "w");
    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(pkey);
    EVP_PKEY_free(ca_key);
}

/* Issue 11, item 14: a CN with an embedded NUL, signed by the CA, was cut
 * at the NUL and served as that principal ("admin\0x" as admin). A CN that
 * is not a principal name is refused at the handshake, with a log line;
 * the same CA's good certificates are served as before. */
Test(tls, a_cn_with_a_nul_or_not_a_principal_name_is_refused)
{
    char cert[600], key[600];
    make_cert(d.dir, "nul", "admin\0x", 7, cert, sizeof cert, key, sizeof key);
    refused(cert, key, 0, 0, NULL, "the client certificate's CN holds a NUL byte");
    make_cert(d.dir, "spaced", "ad min", 6, cert, sizeof cert, key, sizeof key);
    refused(cert, key, 0, 0, NULL, "is not a principal name");
    whistle_close(harness_connect(&d, "admin"));
}

Test(tls, tls_1_0_and_1_1_are_refused_and_logged)
{
    char cert[512], key[512];
    harness_cert("police", cert, sizeof cert, key, sizeof key);
    refused(cert, key, TLS1_VERSION, TLS1_VERSION, "DEFAULT:@SECLEVEL=0",
            "the client offers TLS 1.0 at most; this server requires TLS 1.2 or 1.3");
    refused(cert, key, TLS1_1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0",
            "the client offers TLS 1.1 at most; this server requires TLS 1.2 or 1.3");
}

Test(tls, tls_1_2_without_ecdhe_and_aead_is_refused_with_it_served)
{
    char cert[512], key[512];
    harness_cert("police", cert, sizeof cert, key, sizeof key);
    /* CBC and plain RSA key exchange: refused */
    refused(cert, key, TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256:AES128-GCM-SHA256",
            "no shared cipher");
    /* the same client with ECDHE + AES-GCM: served */
    raw_conn r;
    cr_assert_eq(raw_open_tls(&r, &d, cert, key, TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"), 0);
    cr_assert_eq(SSL_version(r.ssl), TLS1_2_VERSION);
    Whistle__V1__Hello h = WHISTLE__V1__HELLO__INIT;
    h.protocol_version = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 1;
    req.call_case = CALL(HELLO);
    req.hello = &h;
    cr_assert_eq(raw_send_request(&r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1, "a TLS 1.2 ECDHE+AEAD client was not served");
    cr_assert_eq(f->response->status->code, 0);
    whistle__v1__frame__free_unpacked(f, NULL);
    raw_close(&r);
}

Test(tls, renegotiation_attempt_is_refused_logged_and_closed)
{
    char cert[512], key[512];
    harness_cert("police", cert, sizeof cert, key, sizeof key);
    raw_conn r;
    /* TLS 1.3 has no renegotiation; 1.2 is where it can be attempted. */
    cr_assert_eq(raw_open_tls(&r, &d, cert, key, TLS1_2_VERSION, TLS1_2_VERSION, NULL), 0);
    cr_assert_eq(SSL_renegotiate(r.ssl), 1, "the client library would not even try");
    int rc = SSL_do_handshake(r.ssl);
    cr_assert_leq(rc, 0, "the server accepted a renegotiation");
    ERR_clear_error();
    cr_assert(raw_wait_closed(&r, 10000), "the connection stayed open after a renegotiation attempt");
    raw_close(&r);
    cr_assert(harness_log_wait(&d, "TLS renegotiation attempt refused", 5000), "no log line says why");
}

/* ------------------------------------------------------------ SIGHUP */

static void run_ok(const char *cmd)
{
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "failed: %s", cmd);
}

static void list_orders_ok(whistle_client *c)
{
    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_ORDERS);
    req.list_orders = &lo;
    whistle_response_free(harness_call_ok(c, &req));
}

Test(tls, crl_reload_on_sighup_refuses_the_revoked_and_keeps_other_connections)
{
    /* A PKI of this test's own (a copy of the fixture), so that revoking
     * police here changes no other test's CRL. */
    char pki[400], cmd[2048];
    snprintf(pki, sizeof pki, "%s/pki", d.dir);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s' && rm -rf '%s/.lock'", harness_pki(), pki, pki);
    run_ok(cmd);
    harness_stop(&d);
    snprintf(d.extra, sizeof d.extra, "[tls]\nca = %s/ca.crt\ncrl = %s/crl.pem\n", pki, pki);
    harness_restart(&d);

    /* connections open before the reload: one whose certificate will be
     * revoked, one whose will not */
    whistle_client *police_before = harness_connect(&d, "police");
    whistle_client *open_before = harness_connect(&d, "urban");
    list_orders_ok(police_before);
    list_orders_ok(open_before);

    snprintf(cmd, sizeof cmd, "'%s/scripts/dev-pki.sh' revoke '%s' police >/dev/null", WHISTLE_SOURCE_DIR, pki);
    run_ok(cmd);
    harness_signal(&d, SIGHUP);
    cr_assert(harness_log_wait(&d, "SIGHUP: certificates and CRL reloaded", 10000), "no reload line in the log");

    /* a new connection with the revoked certificate: refused */
    char cert[512], key[512], err[512];
    harness_cert("police", cert, sizeof cert, key, sizeof key);
    whistle_client *after = harness_try_connect(&d, cert, key, err, sizeof err);
    cr_assert_null(after, "a certificate revoked and reloaded was accepted");
    cr_assert(harness_log_wait(&d, "client certificate /CN=police refused: certificate revoked", 5000),
              "no log line names the revocation");
    /* the open connection of the revoked certificate was cut at the
     * reload, with a log line (docs/operations.md, Revoking) */
    cr_assert(harness_log_contains(&d, "its certificate is no longer valid after the reload"),
              "no log line for the revoked certificate's open connection");
    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_ORDERS);
    req.list_orders = &lo;
    Whistle__V1__Response *resp = NULL;
    cr_assert_neq(whistle_call(police_before, &req, &resp), 0, "a revoked certificate's connection was still served");
    whistle_close(police_before);
    /* everyone else stays connected and gets in */
    list_orders_ok(open_before);
    whistle_client *op = harness_connect(&d, "operator");
    whistle_close(op);

    /* A broken CRL on SIGHUP: the old context stays, nothing drops. */
    snprintf(cmd, sizeof cmd, "echo 'not a CRL' > '%s/crl.pem'", pki);
    run_ok(cmd);
    harness_signal(&d, SIGHUP);
    cr_assert(harness_log_wait(&d, "SIGHUP: keeping the current certificates", 10000), "a broken CRL was not reported");
    list_orders_ok(open_before);
    after = harness_try_connect(&d, cert, key, err, sizeof err);
    cr_assert_null(after, "a failed reload let the revoked certificate back in");
    whistle_close(open_before);
}
