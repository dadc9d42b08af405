/* tls.c: see tls.h. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

const char *tls_error_string(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (!e)
        snprintf(buf, len, "unknown TLS error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

SSL_CTX *tls_ctx_new(const char *ca, const char *cert, const char *key, const char *crl, char *err,
                     size_t errlen)
{
    char eb[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "tls: cannot create context: %s", tls_error_string(eb, sizeof eb));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* TLS 1.2 only with forward secrecy and AEAD; 1.3 suites are all AEAD. */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    /* Our clients do not resume sessions; tickets would only cost bytes and
     * signatures on every handshake. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "tls.cert = %s: cannot load the certificate chain: %s", cert,
                 tls_error_string(eb, sizeof eb));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "tls.key = %s: cannot load the private key: %s", key,
                 tls_error_string(eb, sizeof eb));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "tls.key = %s does not match tls.cert = %s", key, cert);
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        snprintf(err, errlen, "tls.ca = %s: cannot load CA certificates: %s", ca,
                 tls_error_string(eb, sizeof eb));
        goto fail;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);

    if (crl && *crl) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        X509_LOOKUP *lk = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (!lk || X509_load_crl_file(lk, crl, X509_FILETYPE_PEM) <= 0) {
            snprintf(err, errlen, "tls.crl = %s: cannot load the CRL: %s", crl,
                     tls_error_string(eb, sizeof eb));
            goto fail;
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_session_init(tls_session *s, SSL_CTX *ctx)
{
    memset(s, 0, sizeof *s);
    s->ssl = SSL_new(ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        SSL_free(s->ssl);
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        memset(s, 0, sizeof *s);
        return TLS_ERR;
    }
    /* An empty memory BIO means "no more data now", not EOF. */
    BIO_set_mem_eof_return(s->rbio, -1);
    BIO_set_mem_eof_return(s->wbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_accept_state(s->ssl);
    return TLS_OK;
}

void tls_session_free(tls_session *s)
{
    if (s->ssl)
        SSL_free(s->ssl); /* frees both BIOs */
    memset(s, 0, sizeof *s);
}

int tls_feed(tls_session *s, const void *data, size_t len)
{
    while (len > 0) {
        int n = BIO_write(s->rbio, data, len > 1 << 30 ? 1 << 30 : (int)len);
        if (n <= 0)
            return TLS_ERR;
        data = (const char *)data + n;
        len -= (size_t)n;
    }
    return TLS_OK;
}

int tls_handshake(tls_session *s, char *why, size_t whylen)
{
    if (s->established)
        return TLS_OK;
    ERR_clear_error();
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        s->established = true;
        return TLS_OK;
    }
    int e = SSL_get_error(s->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return TLS_WANT;
    long vr = SSL_get_verify_result(s->ssl);
    char eb[256];
    if (vr != X509_V_OK)
        snprintf(why, whylen, "client certificate refused: %s", X509_verify_cert_error_string(vr));
    else
        snprintf(why, whylen, "%s", tls_error_string(eb, sizeof eb));
    ERR_clear_error();
    return TLS_ERR;
}

int tls_read(tls_session *s, void *buf, size_t len)
{
    ERR_clear_error();
    int n = SSL_read(s->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(s->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return TLS_WANT;
    if (e == SSL_ERROR_ZERO_RETURN)
        return TLS_CLOSED;
    return TLS_ERR;
}

int tls_write(tls_session *s, const void *data, size_t len)
{
    /* Memory BIOs accept everything, so SSL_write never wants to wait. */
    while (len > 0) {
        ERR_clear_error();
        int n = SSL_write(s->ssl, data, len > 1 << 30 ? 1 << 30 : (int)len);
        if (n <= 0)
            return TLS_ERR;
        data = (const char *)data + n;
        len -= (size_t)n;
    }
    return TLS_OK;
}

size_t tls_pending_out(tls_session *s) { return BIO_ctrl_pending(s->wbio); }

size_t tls_take_out(tls_session *s, void *buf, size_t len)
{
    int n = BIO_read(s->wbio, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    return n > 0 ? (size_t)n : 0;
}

static BIO *fresh_bio_if_holding(BIO *b)
{
    BUF_MEM *m = NULL;
    if (BIO_ctrl_pending(b) != 0 || BIO_get_mem_ptr(b, &m) != 1 || !m || m->max == 0)
        return NULL;
    BIO *nb = BIO_new(BIO_s_mem());
    if (nb)
        BIO_set_mem_eof_return(nb, -1);
    return nb;
}

void tls_session_trim(tls_session *s)
{
    if (!s->ssl || !s->established)
        return;
    BIO *nb = fresh_bio_if_holding(s->rbio);
    if (nb) {
        SSL_set0_rbio(s->ssl, nb); /* frees the old one */
        s->rbio = nb;
    }
    nb = fresh_bio_if_holding(s->wbio);
    if (nb) {
        SSL_set0_wbio(s->ssl, nb);
        s->wbio = nb;
    }
}

int tls_peer_cn(tls_session *s, char *buf, size_t len)
{
    X509 *peer = SSL_get1_peer_certificate(s->ssl);
    if (!peer)
        return -1;
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, (int)len);
    X509_free(peer);
    return n > 0 ? 0 : -1;
}
