/* tls.c: the client side of TLS for libwhistle, on OpenSSL memory BIOs.
 *
 * The socket belongs to libuv, so OpenSSL never touches it: ciphertext that
 * libuv reads is written into the read BIO, and whatever OpenSSL wants to
 * send is drained from the write BIO and handed to uv_write. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* The newest queued OpenSSL error as one line, "" if none. Clears the
 * queue: OpenSSL's error queue is per thread and shared by every
 * connection on the loop, so each operation must start and end clean. */
static void take_ssl_error(char *buf, size_t len)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    buf[0] = '\0';
    if (last) {
        const char *reason = ERR_reason_error_string(last);
        if (reason)
            snprintf(buf, len, "%s", reason);
        else
            ERR_error_string_n(last, buf, len);
    }
}

static int is_ip_literal(const char *host)
{
    unsigned char tmp[16];
    return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

/* OpenSSL's reason for an unreadable file is "system lib"; say what
 * the system said instead. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "tls: cannot read %s %s: %s", what, path, strerror(errno));
        return 0;
    }
    fclose(f);
    return 1;
}

int wtls_init(wtls *t, const char *host, const char *ca_file, const char *cert_file, const char *key_file, char *err,
              size_t errlen)
{
    char why[256];
    memset(t, 0, sizeof *t);
    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx)
        goto ssl_fail;
    /* TLS 1.3 preferred (OpenSSL offers the highest version first); 1.2 only
     * with ECDHE and AEAD suites, as the server's policy (DESIGN §3). */
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    if (!SSL_CTX_set_cipher_list(t->ctx, "ECDHE+AESGCM:ECDHE+CHACHA20"))
        goto ssl_fail;
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);

    if (ca_file) {
        if (!readable("CA file", ca_file, err, errlen))
            goto fail;
        if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
            take_ssl_error(why, sizeof why);
            snprintf(err, errlen, "tls: cannot load CA file %s: %s", ca_file, why);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1)
        goto ssl_fail;

    if (cert_file) {
        if (!readable("certificate", cert_file, err, errlen) ||
            (key_file && !readable("private key", key_file, err, errlen)))
            goto fail;
        if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1) {
            take_ssl_error(why, sizeof why);
            snprintf(err, errlen, "tls: cannot load certificate %s: %s", cert_file, why);
            goto fail;
        }
        /* No key file: the key may sit in the certificate's PEM file. */
        const char *kf = key_file ? key_file : cert_file;
        if (SSL_CTX_use_PrivateKey_file(t->ctx, kf, SSL_FILETYPE_PEM) != 1) {
            take_ssl_error(why, sizeof why);
            snprintf(err, errlen, "tls: cannot load private key %s: %s", kf, why);
            goto fail;
        }
        if (SSL_CTX_check_private_key(t->ctx) != 1) {
            ERR_clear_error();
            snprintf(err, errlen, "tls: private key %s does not match certificate %s", kf, cert_file);
            goto fail;
        }
    }

    t->ssl = SSL_new(t->ctx);
    if (!t->ssl)
        goto ssl_fail;
    /* Check the server's name: a DNS name against its SAN DNS entries, an
     * IP address literal against its SAN IP entries. */
    if (is_ip_literal(host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1)
            goto ssl_fail;
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, host) != 1 || SSL_set_tlsext_host_name(t->ssl, host) != 1)
            goto ssl_fail;
    }
    snprintf(t->host, sizeof t->host, "%s", host);
    snprintf(t->ca_file, sizeof t->ca_file, "%s", ca_file ? ca_file : "");

    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        t->rbio = t->wbio = NULL;
        goto ssl_fail;
    }
    /* An empty read BIO means "no more yet", not end of file. */
    BIO_set_mem_eof_return(t->rbio, -1);
    BIO_set_mem_eof_return(t->wbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_connect_state(t->ssl);
    return 0;

ssl_fail:
    take_ssl_error(why, sizeof why);
    snprintf(err, errlen, "tls: setup failed: %s", why[0] ? why : "out of memory");
fail:
    wtls_free(t);
    return -1;
}

void wtls_free(wtls *t)
{
    if (t->ssl)
        SSL_free(t->ssl); /* frees the BIOs too */
    else {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
    }
    SSL_CTX_free(t->ctx);
    memset(t, 0, sizeof *t);
}

int wtls_feed(wtls *t, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    return BIO_write(t->rbio, data, (int)len) == (int)len ? 0 : -1;
}

/* One line for a failed handshake or record operation. A failed
 * certificate check is the common case and OpenSSL's queue only says
 * "certificate verify failed"; the verify result says which check. */
static void describe_failure(wtls *t, int ssl_err, const char *what, char *err, size_t errlen)
{
    char why[256];
    long vr = SSL_get_verify_result(t->ssl);
    take_ssl_error(why, sizeof why);
    if (vr != X509_V_OK && !t->handshake_done) {
        const char *s = X509_verify_cert_error_string(vr);
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            snprintf(err, errlen, "tls: certificate verify failed: %s (the server's certificate is not for %s)", s,
                     t->host);
        else if (vr == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || vr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                 vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                 vr == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
            snprintf(err, errlen,
                     "tls: certificate verify failed: %s (the server's certificate is not from the CA in %s)", s,
                     t->ca_file[0] ? t->ca_file : "the system store");
        else
            snprintf(err, errlen, "tls: certificate verify failed: %s", s);
        return;
    }
    /* The server's alerts about our certificate deserve plain words. */
    if (why[0] && strstr(why, "alert") && (strstr(why, "certificate") || strstr(why, "unknown ca")))
        snprintf(err, errlen, "tls: %s: %s (the server refused the client certificate)", what, why);
    else if (why[0])
        snprintf(err, errlen, "tls: %s: %s", what, why);
    else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN)
        snprintf(err, errlen, "tls: %s: connection closed by the server", what);
    else
        snprintf(err, errlen, "tls: %s failed (ssl error %d)", what, ssl_err);
}

int wtls_handshake(wtls *t, char *err, size_t errlen)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->handshake_done = 1;
        return 1;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    describe_failure(t, e, "handshake", err, errlen);
    return -1;
}

ssize_t wtls_read(wtls *t, void *buf, size_t len, char *err, size_t errlen)
{
    ERR_clear_error();
    int r = SSL_read(t->ssl, buf, (int)len);
    if (r > 0) {
        t->got_data = 1;
        return r;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        snprintf(err, errlen, "connection closed by the server");
        return WTLS_CLOSED;
    }
    /* In TLS 1.3 the server checks the client certificate after the
     * client's side of the handshake completed, so its refusal (an alert)
     * surfaces on the first read: still the handshake to a person. */
    describe_failure(t, e, t->got_data ? "read" : "handshake", err, errlen);
    return -1;
}

int wtls_write(wtls *t, const void *buf, size_t len, char *err, size_t errlen)
{
    ERR_clear_error();
    /* The write BIO is a growing memory buffer, so a write after the
     * handshake is taken whole or fails. */
    int r = SSL_write(t->ssl, buf, (int)len);
    if (r == (int)len)
        return 0;
    int e = SSL_get_error(t->ssl, r);
    describe_failure(t, e, "write", err, errlen);
    return -1;
}

void wtls_shutdown(wtls *t)
{
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

size_t wtls_pending_out(const wtls *t) { return (size_t)BIO_ctrl_pending(t->wbio); }

size_t wtls_take_out(wtls *t, void *buf, size_t len)
{
    int r = BIO_read(t->wbio, buf, (int)len);
    return r > 0 ? (size_t)r : 0;
}

const char *wtls_version(const wtls *t) { return SSL_get_version(t->ssl); }
