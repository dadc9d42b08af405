/* whistle/settings.h: where a client's connection settings come from.
 *
 * A setting is taken from the first layer that has it: command-line flags,
 * then the WHISTLE_* environment, then the client config file (INI:
 * $WHISTLE_CONFIG, else ~/.config/whistle/client.conf; keys host, port,
 * cert, key, ca, as, pki, timeout; an optional [client] section), then the
 * defaults (localhost, 7730).
 *
 * "as" names a principal of the dev PKI: cert <pki>/clients/NAME.crt, key
 * <pki>/clients/NAME.key, CA <pki>/ca.crt, where <pki> is the pki setting
 * ($WHISTLE_PKI), else ./var/pki if it exists, else the caller's fallback
 * (the CLI passes the source tree's var/pki). A file given in the same or a
 * higher layer than "as" wins over the one "as" implies: `--as alice` beats
 * WHISTLE_CERT, `--cert f` beats `--as alice` for the certificate only. */
#ifndef WHISTLE_SETTINGS_H
#define WHISTLE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "whistle/async.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One layer of settings; every string is malloc'd or NULL (unset). */
typedef struct whistle_settings {
    char *host, *port, *cert, *key, *ca, *as, *pki, *timeout;
} whistle_settings;

enum { WHISTLE_LAYER_FLAGS, WHISTLE_LAYER_ENV, WHISTLE_LAYER_FILE, WHISTLE_LAYERS };

/* Sets one field by its key name ("host", "port", ...): replaces the old
 * value. Returns 0, or -1 for an unknown key or no memory. */
int whistle_settings_set(whistle_settings *s, const char *key, const char *value);
void whistle_settings_free(whistle_settings *s);

/* Reads WHISTLE_HOST, WHISTLE_PORT, WHISTLE_CERT, WHISTLE_KEY, WHISTLE_CA,
 * WHISTLE_AS, WHISTLE_PKI, WHISTLE_TIMEOUT (empty values count as unset). */
int whistle_settings_from_env(whistle_settings *s);

/* Reads an INI file. path NULL: $WHISTLE_CONFIG, else
 * ~/.config/whistle/client.conf, and then a missing file is no error. A
 * missing file that was named (path or $WHISTLE_CONFIG), a syntax error or
 * an unknown key is: returns negative with err "config FILE:LINE: ...". */
int whistle_settings_from_file(whistle_settings *s, const char *path, char *err, size_t errlen);

/* The resolved settings; strings point into this struct. */
typedef struct whistle_resolved {
    whistle_opts opts; /* host, port, ca/cert/key files, timeout_ms */
    char host[256];
    char cert[1024], key[1024], ca[1024];
    char as[128];   /* "" when no dev principal was named */
    char pki[1024]; /* the dev PKI directory used for "as" ("" if none) */
} whistle_resolved;

/* Merges layers[WHISTLE_LAYER_FLAGS..FILE] (entries may be NULL) as above.
 * pki_fallback: the dev PKI directory when neither the pki setting nor
 * ./var/pki exists (may be NULL). Checks that the files "as" implies exist.
 * Returns 0, or negative with err (one line: a bad port, a missing file). */
int whistle_settings_resolve(const whistle_settings *const layers[WHISTLE_LAYERS], const char *pki_fallback,
                             whistle_resolved *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
