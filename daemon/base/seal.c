/* seal.c: see seal.h. */
#include "seal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEAL_VERSION 1

struct seal_keys {
    uint8_t index[SEAL_KEY_LEN];
    uint8_t ids[SEAL_KEYS_MAX];
    uint8_t keys[SEAL_KEYS_MAX][SEAL_KEY_LEN];
    size_t n;
    uint8_t current;
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 64 hex digits, then only spaces to the end of the line. */
static bool parse_key(const char *s, uint8_t out[SEAL_KEY_LEN])
{
    for (size_t i = 0; i < SEAL_KEY_LEN; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hi < 0 ? -1 : hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    for (s += 2 * SEAL_KEY_LEN; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

int seal_keys_add(seal_keys *k, uint8_t id, const uint8_t key[SEAL_KEY_LEN])
{
    if (!k || id == 0 || k->n == SEAL_KEYS_MAX)
        return -1;
    for (size_t i = 0; i < k->n; i++)
        if (k->ids[i] == id)
            return -1;
    k->ids[k->n] = id;
    memcpy(k->keys[k->n++], key, SEAL_KEY_LEN);
    if (id > k->current)
        k->current = id;
    return 0;
}

seal_keys *seal_keys_from(const uint8_t index_key[SEAL_KEY_LEN], uint8_t id, const uint8_t key[SEAL_KEY_LEN])
{
    seal_keys *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    memcpy(k->index, index_key, SEAL_KEY_LEN);
    if (seal_keys_add(k, id, key)) {
        free(k);
        return NULL;
    }
    return k;
}

void seal_keys_free(seal_keys *k)
{
    if (!k)
        return;
    OPENSSL_cleanse(k, sizeof *k);
    free(k);
}

uint8_t seal_current_id(const seal_keys *k) { return k ? k->current : 0; }

seal_keys *seal_keys_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "archive key file %s: %s (make one with scripts/archive-key.sh; docs/archive.md)", path,
                 strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & S_IROTH)) {
        snprintf(err, errlen, "archive key file %s is readable by everyone; chmod 600 it", path);
        fclose(f);
        return NULL;
    }
    seal_keys *k = calloc(1, sizeof *k);
    bool have_index = false;
    char line[256];
    unsigned lineno = 0;
    while (k && fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == 0)
            continue;
        uint8_t key[SEAL_KEY_LEN];
        bool ok;
        if (strncmp(p, "index ", 6) == 0) {
            ok = !have_index && parse_key(p + 6, k->index);
            have_index = ok;
        } else {
            char *end;
            errno = 0;
            unsigned long id = strtoul(p, &end, 10);
            ok = end != p && *end == ' ' && errno == 0 && id >= 1 && id <= 255 && parse_key(end + 1, key) &&
                 seal_keys_add(k, (uint8_t)id, key) == 0;
            OPENSSL_cleanse(key, sizeof key);
        }
        if (!ok) {
            snprintf(err, errlen,
                     "archive key file %s line %u: expected \"index <64 hex>\" once, or \"<id 1-255> <64 hex>\" "
                     "with an id not used before",
                     path, lineno);
            seal_keys_free(k);
            k = NULL;
        }
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(f);
    if (!k) {
        if (!*err)
            snprintf(err, errlen, "archive key file %s: out of memory", path);
        return NULL;
    }
    if (!have_index || k->n == 0) {
        snprintf(err, errlen, "archive key file %s has %s; docs/archive.md shows the format", path,
                 !have_index ? "no \"index\" line" : "no sealing key line");
        seal_keys_free(k);
        return NULL;
    }
    return k;
}

static const uint8_t *key_of(const seal_keys *k, uint8_t id)
{
    for (size_t i = 0; k && i < k->n; i++)
        if (k->ids[i] == id)
            return k->keys[i];
    return NULL;
}

uint8_t seal_key_id_of(const void *sealed, size_t n)
{
    const uint8_t *s = sealed;
    return n >= SEAL_OVERHEAD && s[0] == SEAL_VERSION ? s[1] : 0;
}

int seal_value(const seal_keys *k, const char *field, const void *plain, size_t n, arena *a, uint8_t **out,
               size_t *outlen)
{
    const uint8_t *key = key_of(k, seal_current_id(k));
    if (!key || n > (size_t)INT32_MAX)
        return -1;
    uint8_t *b = arena_alloc(a, n + SEAL_OVERHEAD);
    b[0] = SEAL_VERSION;
    b[1] = k->current;
    uint8_t *nonce = b + 2, *ct = b + 2 + SEAL_NONCE_LEN, *tag = ct + n;
    if (RAND_bytes(nonce, SEAL_NONCE_LEN) != 1)
        return -1;
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    int len = 0, ok = cx && EVP_EncryptInit_ex(cx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
                      EVP_EncryptUpdate(cx, NULL, &len, (const uint8_t *)field, (int)strlen(field)) == 1 &&
                      EVP_EncryptUpdate(cx, ct, &len, plain, (int)n) == 1 &&
                      EVP_EncryptFinal_ex(cx, ct + len, &len) == 1 &&
                      EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(cx);
    if (!ok)
        return -1;
    *out = b;
    *outlen = n + SEAL_OVERHEAD;
    return 0;
}

int seal_open(const seal_keys *k, const char *field, const void *sealed, size_t n, arena *a, char **out)
{
    const uint8_t *s = sealed;
    const uint8_t *key = key_of(k, seal_key_id_of(sealed, n));
    if (!key)
        return -1;
    size_t pn = n - SEAL_OVERHEAD;
    const uint8_t *nonce = s + 2, *ct = s + 2 + SEAL_NONCE_LEN, *tag = ct + pn;
    char *p = arena_alloc(a, pn + 1);
    uint8_t tagcopy[SEAL_TAG_LEN];
    memcpy(tagcopy, tag, SEAL_TAG_LEN);
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    int len = 0, ok = cx && pn <= (size_t)INT32_MAX &&
                      EVP_DecryptInit_ex(cx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
                      EVP_DecryptUpdate(cx, NULL, &len, (const uint8_t *)field, (int)strlen(field)) == 1 &&
                      EVP_DecryptUpdate(cx, (uint8_t *)p, &len, ct, (int)pn) == 1 &&
                      EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tagcopy) == 1 &&
                      EVP_DecryptFinal_ex(cx, (uint8_t *)p + len, &len) == 1;
    EVP_CIPHER_CTX_free(cx);
    if (!ok || memchr(p, 0, pn))
        return -1;
    p[pn] = 0;
    *out = p;
    return 0;
}

void seal_mac(const seal_keys *k, const char *s, uint8_t out[SEAL_MAC_LEN])
{
    unsigned len = SEAL_MAC_LEN;
    if (!HMAC(EVP_sha256(), k->index, SEAL_KEY_LEN, (const uint8_t *)s, strlen(s), out, &len))
        memset(out, 0, SEAL_MAC_LEN);
}
