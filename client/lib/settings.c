/* settings.c: connection settings from flags, environment and a config
 * file (whistle/settings.h). Kept apart from the CLI so that the console
 * and the kiosk resolve settings the same way, and so that the precedence
 * rules can be unit-tested. */
#include "whistle/settings.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const keys[] = { "host", "port", "cert", "key", "ca", "as", "pki", "timeout" };
#define NKEYS (sizeof keys / sizeof keys[0])

static char **field(whistle_settings *s, size_t i)
{
    char **f[] = { &s->host, &s->port, &s->cert, &s->key, &s->ca, &s->as, &s->pki, &s->timeout };
    return f[i];
}

static const char *cfield(const whistle_settings *s, size_t i) { return *field((whistle_settings *)s, i); }

static int key_index(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(key, keys[i]) == 0)
            return (int)i;
    return -1;
}

int whistle_settings_set(whistle_settings *s, const char *key, const char *value)
{
    int i = key_index(key);
    if (i < 0)
        return -1;
    char *v = NULL;
    if (value && !(v = strdup(value)))
        return -1;
    char **f = field(s, (size_t)i);
    free(*f);
    *f = v;
    return 0;
}

void whistle_settings_free(whistle_settings *s)
{
    for (size_t i = 0; i < NKEYS; i++) {
        free(*field(s, i));
        *field(s, i) = NULL;
    }
}

int whistle_settings_from_env(whistle_settings *s)
{
    static const char *const vars[] = { "WHISTLE_HOST", "WHISTLE_PORT", "WHISTLE_CERT", "WHISTLE_KEY",
                                        "WHISTLE_CA",   "WHISTLE_AS",   "WHISTLE_PKI",  "WHISTLE_TIMEOUT" };
    for (size_t i = 0; i < NKEYS; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v && whistle_settings_set(s, keys[i], v) < 0)
            return WHISTLE_ERR_NOMEM;
    }
    return 0;
}

typedef struct {
    whistle_settings *s;
    char bad[160]; /* the first problem, for the error line */
} ini_ctx;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *x = user;
    /* Keys may sit at the top or in a [client] section; other sections are
     * refused so that a daemon config passed by mistake says so. */
    if (section[0] && strcmp(section, "client") != 0) {
        if (!x->bad[0])
            snprintf(x->bad, sizeof x->bad, "unknown section [%s] (keys go at the top or in [client])", section);
        return 0;
    }
    if (key_index(name) < 0) {
        if (!x->bad[0])
            snprintf(x->bad, sizeof x->bad, "unknown key '%s' (known: host, port, cert, key, ca, as, pki, timeout)",
                     name);
        return 0;
    }
    if (whistle_settings_set(x->s, name, value) < 0) {
        snprintf(x->bad, sizeof x->bad, "out of memory");
        return 0;
    }
    return 1;
}

int whistle_settings_from_file(whistle_settings *s, const char *path, char *err, size_t errlen)
{
    char buf[1024];
    int named = 1;
    if (!path || !*path) {
        path = getenv("WHISTLE_CONFIG");
        if (!path || !*path) {
            const char *xdg = getenv("XDG_CONFIG_HOME");
            const char *home = getenv("HOME");
            if (xdg && *xdg)
                snprintf(buf, sizeof buf, "%s/whistle/client.conf", xdg);
            else if (home && *home)
                snprintf(buf, sizeof buf, "%s/.config/whistle/client.conf", home);
            else
                return 0;
            path = buf;
            named = 0;
        }
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!named && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "config %s: %s", path, strerror(errno));
        return WHISTLE_ERR_INVALID;
    }
    ini_ctx x = { .s = s };
    int r = ini_parse_file(f, on_ini, &x);
    fclose(f);
    if (r != 0) {
        snprintf(err, errlen, "config %s:%d: %s", path, r, x.bad[0] ? x.bad : "syntax error");
        return WHISTLE_ERR_INVALID;
    }
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

enum { K_HOST, K_PORT, K_CERT, K_KEY, K_CA, K_AS, K_PKI, K_TIMEOUT };

/* The value of key i from the first layer that has it; *level gets that
 * layer's index (WHISTLE_LAYERS when unset). */
static const char *pick(const whistle_settings *const layers[], size_t i, int *level)
{
    for (int l = 0; l < WHISTLE_LAYERS; l++) {
        if (layers[l] && cfield(layers[l], i)) {
            if (level)
                *level = l;
            return cfield(layers[l], i);
        }
    }
    if (level)
        *level = WHISTLE_LAYERS;
    return NULL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A dev principal name becomes part of a path: keep it to a plain name. */
static int plain_name(const char *s)
{
    if (!*s || strlen(s) >= 128 || s[0] == '.')
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\')
            return 0;
    return 1;
}

int whistle_settings_resolve(const whistle_settings *const layers[WHISTLE_LAYERS], const char *pki_fallback,
                             whistle_resolved *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);

    const char *host = pick(layers, K_HOST, NULL);
    snprintf(out->host, sizeof out->host, "%s", host && *host ? host : "localhost");

    unsigned long v;
    const char *port = pick(layers, K_PORT, NULL);
    out->opts.port = WHISTLE_DEFAULT_PORT;
    if (port) {
        if (parse_uint(port, 65535, &v) < 0 || v == 0) {
            snprintf(err, errlen, "bad port '%s' (1-65535)", port);
            return WHISTLE_ERR_INVALID;
        }
        out->opts.port = (uint16_t)v;
    }
    const char *timeout = pick(layers, K_TIMEOUT, NULL);
    out->opts.timeout_ms = 10000;
    if (timeout) {
        if (parse_uint(timeout, 86400000, &v) < 0 || v == 0) {
            snprintf(err, errlen, "bad timeout '%s' (milliseconds, 1-86400000)", timeout);
            return WHISTLE_ERR_INVALID;
        }
        out->opts.timeout_ms = (uint32_t)v;
    }

    int as_level;
    const char *as = pick(layers, K_AS, &as_level);
    if (as && *as) {
        if (!plain_name(as)) {
            snprintf(err, errlen, "bad principal name '%s' for --as (a plain name, no '/')", as);
            return WHISTLE_ERR_INVALID;
        }
        snprintf(out->as, sizeof out->as, "%s", as);
        const char *pki = pick(layers, K_PKI, NULL);
        if (pki && *pki)
            snprintf(out->pki, sizeof out->pki, "%s", pki);
        else if (is_dir("var/pki")) {
            /* An absolute path, so that error lines and --help name a file
             * the user can find from anywhere. */
            char cwd[512];
            if (getcwd(cwd, sizeof cwd))
                snprintf(out->pki, sizeof out->pki, "%s/var/pki", cwd);
            else
                snprintf(out->pki, sizeof out->pki, "var/pki");
        } else if (pki_fallback && *pki_fallback)
            snprintf(out->pki, sizeof out->pki, "%s", pki_fallback);
        else {
            snprintf(err, errlen, "--as %s: no dev PKI (set WHISTLE_PKI, or run `make pki`)", as);
            return WHISTLE_ERR_INVALID;
        }
    } else
        as = NULL;

    /* cert/key/ca: an explicit file wins over what "as" implies when it
     * comes from the same or a higher layer (lower index). */
    struct {
        size_t key;
        char *dst;
        size_t dstlen;
        const char *fmt;
    } files[] = {
        { K_CERT, out->cert, sizeof out->cert, "%s/clients/%s.crt" },
        { K_KEY, out->key, sizeof out->key, "%s/clients/%s.key" },
        { K_CA, out->ca, sizeof out->ca, "%s/ca.crt" },
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int lvl;
        const char *explicit_file = pick(layers, files[i].key, &lvl);
        if (explicit_file && (!as || lvl <= as_level)) {
            snprintf(files[i].dst, files[i].dstlen, "%s", explicit_file);
            continue;
        }
        if (!as)
            continue;
        if (files[i].key == K_CA)
            snprintf(files[i].dst, files[i].dstlen, files[i].fmt, out->pki);
        else
            snprintf(files[i].dst, files[i].dstlen, files[i].fmt, out->pki, as);
        if (access(files[i].dst, R_OK) != 0) {
            snprintf(err, errlen, "--as %s: %s: %s (is %s a principal of the dev PKI?)", as, files[i].dst,
                     strerror(errno), as);
            return WHISTLE_ERR_INVALID;
        }
    }

    out->opts.host = out->host;
    out->opts.cert_file = out->cert[0] ? out->cert : NULL;
    out->opts.key_file = out->key[0] ? out->key : NULL;
    out->opts.ca_file = out->ca[0] ? out->ca : NULL;
    return 0;
}
