/* tls.h: the server's TLS context and one connection's TLS session over
 * memory BIOs (libuv owns the socket; OpenSSL only sees bytes). */
#ifndef WHISTLED_TLS_H
#define WHISTLED_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* Builds a server context: TLS 1.3, or 1.2 with ECDHE + AEAD only; client
 * certificates required and verified against ca (and crl when non-empty);
 * no renegotiation. NULL with err naming the file and the fix. */
SSL_CTX *tls_ctx_new(const char *ca, const char *cert, const char *key, const char *crl, char *err, size_t errlen);

typedef struct tls_session {
    SSL *ssl;
    BIO *rbio; /* network -> OpenSSL */
    BIO *wbio; /* OpenSSL -> network */
    bool established;
    /* Set when OpenSSL refused a renegotiation (it sent the peer a
     * no_renegotiation alert): the server logs it and closes. */
    bool renegotiation_refused;
    /* The subject of the client certificate that failed verification, for
     * the log line ("" if none did). */
    char refused_subject[160];
} tls_session;

int tls_session_init(tls_session *s, SSL_CTX *ctx);
void tls_session_free(tls_session *s);

/* Negative so that tls_read can return byte counts beside them. */
enum { TLS_OK = 0, TLS_ERR = -1, TLS_CLOSED = -2, TLS_WANT = -3 };

/* Feeds ciphertext read from the socket. */
int tls_feed(tls_session *s, const void *data, size_t len);
/* Drives the handshake: TLS_OK once established, TLS_WANT if more bytes are
 * needed, TLS_ERR (reason in why) when refused. */
int tls_handshake(tls_session *s, char *why, size_t whylen);
/* Reads decrypted bytes: >0 count, TLS_WANT when none are buffered,
 * TLS_CLOSED on close_notify, TLS_ERR on error. */
int tls_read(tls_session *s, void *buf, size_t len);
/* Encrypts plaintext into the write BIO. 0 or TLS_ERR. */
int tls_write(tls_session *s, const void *data, size_t len);
/* Bytes received but not yet decrypted (a TLS record still arriving). */
size_t tls_pending_in(tls_session *s);
/* Bytes of ciphertext waiting to go to the socket, and taking them. */
size_t tls_pending_out(tls_session *s);
size_t tls_take_out(tls_session *s, void *buf, size_t len);
/* Gives back the memory BIOs' buffers when they are empty (a memory BIO
 * keeps the largest it has held, the handshake's for an idle connection):
 * swaps in fresh, empty BIOs. For connections with nothing to send or
 * read; a no-op otherwise. */
void tls_session_trim(tls_session *s);
/* A principal's name is at most this long (the certificate's CN). */
#define PRINCIPAL_NAME_MAX 64
/* The peer certificate's subject CN into buf: 0, or -1 with why for the
 * log when there is none, more than one, or one that is not a principal
 * name (a NUL inside it, spaces, more than PRINCIPAL_NAME_MAX bytes): the
 * connection is then refused. */
int tls_peer_cn(tls_session *s, char *buf, size_t len, char *why, size_t whylen);
/* Verifies the peer's certificate chain again, against ctx's trust store
 * and CRL (after a reload). TLS_OK, or TLS_ERR with why. */
int tls_peer_verify(tls_session *s, SSL_CTX *ctx, char *why, size_t whylen);
/* The first queued OpenSSL error as text, and clears the queue. */
const char *tls_error_string(char *buf, size_t len);

#endif
