/* seal.h: the archive's secrets at rest (docs/archive.md, "Keys").
 *
 * ID-card numbers and phones of the resident archive are stored sealed:
 * AES-256-GCM (OpenSSL EVP) with a fresh random 96-bit nonce per value, so
 * that a stolen store file or backup reveals none of them. A sealed value
 * is
 *
 *     u8 version (1) | u8 key id | 12-byte nonce | ciphertext | 16-byte tag
 *
 * and the field's name is the additional data, so a value moved into
 * another field does not open. The key file named by the config's
 * [archive] key_file holds one key a line:
 *
 *     index <64 hex digits>     the HMAC-SHA256 key of the look-up index
 *     <id 1..255> <64 hex>      sealing keys; the highest id seals new values
 *
 * Rotation: add a line with a higher id and reload (restart); values
 * sealed under older ids still open while their lines stay in the file,
 * and a value is sealed again under the newest key whenever its record is
 * saved. The index key is never rotated: the look-up index (an ID number's
 * HMAC, never the number) is keyed by it.
 *
 * Pure functions over a loaded key set; thread-safe once loaded. */
#ifndef WHISTLED_SEAL_H
#define WHISTLED_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (2 + SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_MAC_LEN 32
#define SEAL_KEYS_MAX 16

typedef struct seal_keys seal_keys;

/* Reads a key file. NULL with err filled (naming the file, the line and
 * the fix) if it cannot be read, is readable by others than its owner's
 * group, or holds no index key or no sealing key. */
seal_keys *seal_keys_load(const char *path, char *err, size_t errlen);
/* A key set from memory (tests): index key and one sealing key of id. */
seal_keys *seal_keys_from(const uint8_t index_key[SEAL_KEY_LEN], uint8_t id, const uint8_t key[SEAL_KEY_LEN]);
/* Adds a sealing key (tests of rotation); 0 or -1 when full or id is taken. */
int seal_keys_add(seal_keys *k, uint8_t id, const uint8_t key[SEAL_KEY_LEN]);
void seal_keys_free(seal_keys *k);
/* The id that seals new values. */
uint8_t seal_current_id(const seal_keys *k);

/* Seals n bytes of plain under the current key; *out (n + SEAL_OVERHEAD
 * bytes) in a. 0, or -1 when the random source or the cipher fails. */
int seal_value(const seal_keys *k, const char *field, const void *plain, size_t n, arena *a, uint8_t **out,
               size_t *outlen);
/* Opens a sealed value: a NUL-terminated string in a. 0; -1 when the value
 * is damaged, sealed for another field, or its key id is not loaded. */
int seal_open(const seal_keys *k, const char *field, const void *sealed, size_t n, arena *a, char **out);
/* The key id a sealed value names (0 for a value that is not one). */
uint8_t seal_key_id_of(const void *sealed, size_t n);

/* HMAC-SHA256 of s under the index key: the look-up key of a secret. */
void seal_mac(const seal_keys *k, const char *s, uint8_t out[SEAL_MAC_LEN]);

#endif
