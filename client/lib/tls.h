/* tls.h: libwhistle's client TLS session over memory BIOs (internal).
 *
 * No I/O here: the caller feeds received ciphertext with wtls_feed and
 * drains ciphertext to send with wtls_take_out after every operation. */
#ifndef WHISTLE_LIB_TLS_H
#define WHISTLE_LIB_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

#define WTLS_CLOSED (-2) /* wtls_read: the server sent close_notify */

typedef struct wtls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl once attached */
    int handshake_done;
    int got_data; /* application data was received */
    char host[256];
    char ca_file[512]; /* for error messages */
} wtls;

/* Sets up a session that verifies the server against ca_file and host and
 * presents cert_file/key_file (both may be NULL). 0, or -1 with err. */
int wtls_init(wtls *t, const char *host, const char *ca_file, const char *cert_file, const char *key_file, char *err,
              size_t errlen);
void wtls_free(wtls *t);

/* Hands received ciphertext to OpenSSL. 0 or -1 (no memory). */
int wtls_feed(wtls *t, const void *data, size_t len);
/* Advances the handshake: 1 done, 0 needs more input, -1 failed (err). */
int wtls_handshake(wtls *t, char *err, size_t errlen);
/* Plaintext: > 0 bytes, 0 needs more input, WTLS_CLOSED, or -1 (err). */
ssize_t wtls_read(wtls *t, void *buf, size_t len, char *err, size_t errlen);
/* Encrypts all of buf. 0 or -1 (err). */
int wtls_write(wtls *t, const void *buf, size_t len, char *err, size_t errlen);
/* Queues close_notify. */
void wtls_shutdown(wtls *t);

size_t wtls_pending_out(const wtls *t);
size_t wtls_take_out(wtls *t, void *buf, size_t len);
const char *wtls_version(const wtls *t);

#endif
