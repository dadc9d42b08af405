/* tls.c: see tls.h. */
#include "tls.h"

#include "text.h"

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

/* Keeps the subject of a client certificate that fails verification, so
 * that the log line names whose certificate was refused (OpenSSL drops the
 * certificate on failure). */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    if (ok)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    tls_session *s = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    if (s && cert && !s->refused_subject[0])
        X509_NAME_oneline(X509_get_subject_name(cert), s->refused_subject, sizeof s->refused_subject);
    return ok;
}

/* With SSL_OP_NO_RENEGOTIATION OpenSSL answers a renegotiation attempt
 * with a no_renegotiation alert and carries on; the alert going out is the
 * one sign of the attempt, so it is noted here for the server to act on. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    (void)version, (void)arg;
    if (write_p && content_type == SSL3_RT_ALERT && len >= 2 &&
        ((const unsigned char *)buf)[1] == SSL_AD_NO_RENEGOTIATION) {
        tls_session *s = SSL_get_app_data(ssl);
        if (s)
            s->renegotiation_refused = true;
    }
}

SSL_CTX *tls_ctx_new(const char *ca, const char *cert, const char *key, const char *crl, char *err, size_t errlen)
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
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_TICKET);
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
        snprintf(err, errlen, "tls.key = %s: cannot load the private key: %s", key, tls_error_string(eb, sizeof eb));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "tls.key = %s does not match tls.cert = %s", key, cert);
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        snprintf(err, errlen, "tls.ca = %s: cannot load CA certificates: %s", ca, tls_error_string(eb, sizeof eb));
        goto fail;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_msg_callback(ctx, msg_cb);
    SSL_CTX_set_verify_depth(ctx, 4);

    if (crl && *crl) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        X509_LOOKUP *lk = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (!lk || X509_load_crl_file(lk, crl, X509_FILETYPE_PEM) <= 0) {
            snprintf(err, errlen, "tls.crl = %s: cannot load the CRL: %s", crl, tls_error_string(eb, sizeof eb));
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
    SSL_set_app_data(s->ssl, s);
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
    unsigned long err = ERR_peek_error();
    int reason = ERR_GET_LIB(err) == ERR_LIB_SSL ? ERR_GET_REASON(err) : 0;
    char eb[256];
    if (vr != X509_V_OK) {
        snprintf(why, whylen, "client certificate%s%s refused: %s", s->refused_subject[0] ? " " : "",
                 s->refused_subject, X509_verify_cert_error_string(vr));
    } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        snprintf(why, whylen, "no client certificate was sent (every client needs one: mutual TLS)");
    } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_WRONG_VERSION_NUMBER ||
               reason == SSL_R_VERSION_TOO_LOW) {
        int v = SSL_client_version(s->ssl);
        const char *name = v == TLS1_1_VERSION ? "TLS 1.1"
                           : v == TLS1_VERSION ? "TLS 1.0"
                           : v == SSL3_VERSION ? "SSL 3"
                                               : NULL;
        if (name)
            snprintf(why, whylen, "the client offers %s at most; this server requires TLS 1.2 or 1.3", name);
        else
            snprintf(why, whylen, "protocol version not accepted (TLS 1.2 or 1.3 required): %s",
                     tls_error_string(eb, sizeof eb));
    } else if (reason == SSL_R_NO_SHARED_CIPHER) {
        snprintf(why, whylen,
                 "no shared cipher: TLS 1.2 needs an ECDHE key exchange with AES-GCM or ChaCha20-Poly1305");
    } else if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
        snprintf(why, whylen, "the client spoke plain HTTP to a TLS port");
    } else {
        snprintf(why, whylen, "%s", tls_error_string(eb, sizeof eb));
    }
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

size_t tls_pending_in(tls_session *s)
{
    /* OpenSSL moves a partial record from the BIO into its own buffer;
     * SSL_has_pending sees that one. */
    return BIO_ctrl_pending(s->rbio) + (s->ssl && SSL_has_pending(s->ssl) ? 1 : 0);
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

int tls_peer_cn(tls_session *s, char *buf, size_t len, char *why, size_t whylen)
{
    X509 *peer = SSL_get1_peer_certificate(s->ssl);
    if (!peer) {
        snprintf(why, whylen, "no client certificate");
        return -1;
    }
    /* Exactly one CN, read with its length: X509_NAME_get_text_by_NID
     * would cut "admin\0x" at the NUL and serve it as admin. */
    const X509_NAME *subject = X509_get_subject_name(peer);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    int rc = -1;
    if (at < 0) {
        snprintf(why, whylen, "the client certificate has no subject CN");
    } else if (X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0) {
        snprintf(why, whylen, "the client certificate has more than one subject CN");
    } else {
        const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, cn);
        if (n < 0) {
            snprintf(why, whylen, "the client certificate's CN cannot be read as UTF-8");
        } else if (memchr(utf8, 0, (size_t)n)) {
            snprintf(why, whylen, "the client certificate's CN holds a NUL byte");
        } else if ((size_t)n >= len || !ident_ok((const char *)utf8, PRINCIPAL_NAME_MAX)) {
            snprintf(why, whylen,
                     "the client certificate's CN \"%.80s\" is not a principal name (1 to %d printable ASCII "
                     "characters, no spaces)",
                     (const char *)utf8, PRINCIPAL_NAME_MAX);
        } else {
            memcpy(buf, utf8, (size_t)n + 1);
            rc = 0;
        }
        OPENSSL_free(utf8);
    }
    X509_free(peer);
    return rc;
}

int tls_peer_verify(tls_session *s, SSL_CTX *ctx, char *why, size_t whylen)
{
    if (!s->ssl || !s->established)
        return TLS_OK;
    X509 *leaf = SSL_get1_peer_certificate(s->ssl);
    if (!leaf) {
        snprintf(why, whylen, "no client certificate");
        return TLS_ERR;
    }
    /* On the server side the peer chain does not hold the leaf. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl);
    X509_STORE_CTX *x = X509_STORE_CTX_new();
    int ok = 0;
    if (x && X509_STORE_CTX_init(x, SSL_CTX_get_cert_store(ctx), leaf, chain) == 1) {
        X509_STORE_CTX_set_purpose(x, X509_PURPOSE_SSL_CLIENT);
        ok = X509_verify_cert(x) == 1;
        if (!ok)
            snprintf(why, whylen, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
    } else {
        snprintf(why, whylen, "cannot check the certificate (out of memory)");
    }
    X509_STORE_CTX_free(x);
    X509_free(leaf);
    ERR_clear_error();
    return ok ? TLS_OK : TLS_ERR;
}
