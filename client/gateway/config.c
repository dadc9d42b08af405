/* config.c: see config.h. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* where the web console's files are installed (CMake sets it) */
#ifndef WHISTLE_WEB_ROOT
#define WHISTLE_WEB_ROOT "/usr/share/whistle/web"
#endif

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
}

void gw_config_defaults(gw_config *c)
{
    memset(c, 0, sizeof *c);
    set_str(&c->listen, "127.0.0.1");
    c->port = 7780;
    set_str(&c->cert, "");
    set_str(&c->key, "");
    c->max_header_bytes = 16384;
    c->max_body_bytes = 1u << 20;
    c->request_timeout = 10;
    c->handshake_timeout = 10;
    c->idle_timeout = 30;
    c->max_connections = 1000;
    c->drain_timeout = 10;
    set_str(&c->wd_host, "127.0.0.1");
    c->wd_port = 7730;
    set_str(&c->wd_ca, "");
    set_str(&c->wd_cert, "");
    set_str(&c->wd_key, "");
    c->call_timeout = 10;
    set_str(&c->jurisdiction_id, "");
    set_str(&c->language, "zh");
    set_str(&c->read_as, "");
    set_str(&c->endpoint_url, "https://127.0.0.1:7780/open311/v2/");
    set_str(&c->contact, "");
    set_str(&c->key_service, "");
    set_str(&c->timezone, "Asia/Shanghai");
    c->max_page_size = 500;
    c->default_page_size = 50;
    c->public_photos = 1;
    set_str(&c->notify_as, "");
    set_str(&c->notify_url, "");
    set_str(&c->notify_secret, "");
    set_str(&c->notify_ca, "");
    c->notify_timeout = 10;
    c->retry_min_ms = 500;
    c->retry_max_ms = 60000;
    set_str(&c->web_root, WHISTLE_WEB_ROOT);
    c->session_idle = 1800;
    c->session_max = 43200;
    c->max_sessions = 1000;
    c->max_streams = 200;
    set_str(&c->tile_url, "");
    set_str(&c->tile_origin, "");
    set_str(&c->public_as, "");
    set_str(&c->public_stats_as, "");
    c->log_level = GW_LOG_INFO;
}

void gw_config_free(gw_config *c)
{
    char **strs[] = { &c->path,        &c->listen,      &c->cert,
                      &c->key,         &c->wd_host,     &c->wd_ca,
                      &c->wd_cert,     &c->wd_key,      &c->jurisdiction_id,
                      &c->language,    &c->read_as,     &c->endpoint_url,
                      &c->contact,     &c->key_service, &c->timezone,
                      &c->notify_as,   &c->notify_url,  &c->notify_secret,
                      &c->notify_ca,   &c->web_root,    &c->tile_url,
                      &c->tile_origin, &c->public_as,   &c->public_stats_as };
    if (c->notify_secret)
        OPENSSL_cleanse(c->notify_secret, strlen(c->notify_secret));
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < c->n_keys; i++) {
        OPENSSL_cleanse(c->keys[i].key, strlen(c->keys[i].key));
        free(c->keys[i].key);
        free(c->keys[i].principal);
    }
    free(c->keys);
    for (size_t i = 0; i < c->n_users; i++) {
        free(c->users[i].login);
        free(c->users[i].principal);
        free(c->users[i].hash);
    }
    free(c->users);
    memset(c, 0, sizeof *c);
}

static int parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!*v)
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    unsigned long long n = strtoull(v, NULL, 10);
    if (errno || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* A principal's name as whistled knows it: a certificate CN, so letters,
 * digits, '-', '_' and '.', 1 to 64 bytes. */
static int name_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            return 0;
    return 1;
}

int gw_config_set(gw_config *c, const char *section, const char *key, const char *value, char *err, size_t errlen)
{
    uint64_t n;
#define NUM(field, lo, hi)                                                                                             \
    do {                                                                                                               \
        if (parse_u64(value, lo, hi, &n) < 0) {                                                                        \
            snprintf(err, errlen, "%s.%s = \"%s\": expected a whole number from %llu to %llu", section, key, value,    \
                     (unsigned long long)(lo), (unsigned long long)(hi));                                              \
            return -1;                                                                                                 \
        }                                                                                                              \
        c->field = n;                                                                                                  \
        return 0;                                                                                                      \
    } while (0)
#define STR(field)                                                                                                     \
    do {                                                                                                               \
        set_str(&c->field, value);                                                                                     \
        return 0;                                                                                                      \
    } while (0)
    if (strcmp(section, "http") == 0) {
        if (strcmp(key, "listen") == 0)
            STR(listen);
        if (strcmp(key, "port") == 0)
            NUM(port, 0, 65535);
        if (strcmp(key, "cert") == 0)
            STR(cert);
        if (strcmp(key, "key") == 0)
            STR(key);
        if (strcmp(key, "max_header_bytes") == 0)
            NUM(max_header_bytes, 1024, 262144);
        if (strcmp(key, "max_body_bytes") == 0)
            NUM(max_body_bytes, 1024, 64u << 20);
        if (strcmp(key, "request_timeout") == 0)
            NUM(request_timeout, 1, 3600);
        if (strcmp(key, "handshake_timeout") == 0)
            NUM(handshake_timeout, 1, 3600);
        if (strcmp(key, "idle_timeout") == 0)
            NUM(idle_timeout, 1, 86400);
        if (strcmp(key, "max_connections") == 0)
            NUM(max_connections, 1, 100000);
        if (strcmp(key, "drain_timeout") == 0)
            NUM(drain_timeout, 0, 3600);
    } else if (strcmp(section, "whistled") == 0) {
        if (strcmp(key, "host") == 0)
            STR(wd_host);
        if (strcmp(key, "port") == 0)
            NUM(wd_port, 1, 65535);
        if (strcmp(key, "ca") == 0)
            STR(wd_ca);
        if (strcmp(key, "cert") == 0)
            STR(wd_cert);
        if (strcmp(key, "key") == 0)
            STR(wd_key);
        if (strcmp(key, "call_timeout") == 0)
            NUM(call_timeout, 1, 600);
    } else if (strcmp(section, "open311") == 0) {
        if (strcmp(key, "jurisdiction_id") == 0)
            STR(jurisdiction_id);
        if (strcmp(key, "language") == 0) {
            if (strcmp(value, "zh") != 0 && strcmp(value, "en") != 0) {
                snprintf(err, errlen, "open311.language = \"%s\": expected zh or en", value);
                return -1;
            }
            STR(language);
        }
        if (strcmp(key, "read_as") == 0) {
            if (*value && !name_ok(value)) {
                snprintf(err, errlen, "open311.read_as = \"%s\": not a principal's name", value);
                return -1;
            }
            STR(read_as);
        }
        if (strcmp(key, "endpoint_url") == 0)
            STR(endpoint_url);
        if (strcmp(key, "contact") == 0)
            STR(contact);
        if (strcmp(key, "key_service") == 0)
            STR(key_service);
        if (strcmp(key, "timezone") == 0)
            STR(timezone);
        if (strcmp(key, "public_photos") == 0) {
            /* staff: the photos staff took on duty (a patrol's report, a
             * department's feedback, a verification); none: no photo. A
             * resident's photo is never public (docs/open311.md) */
            if (strcmp(value, "staff") != 0 && strcmp(value, "none") != 0) {
                snprintf(err, errlen, "open311.public_photos = \"%s\": expected staff or none", value);
                return -1;
            }
            c->public_photos = strcmp(value, "staff") == 0;
            return 0;
        }
        if (strcmp(key, "max_page_size") == 0)
            NUM(max_page_size, 1, 500);
        if (strcmp(key, "default_page_size") == 0)
            NUM(default_page_size, 1, 500);
    } else if (strcmp(section, "api_keys") == 0) {
        /* key = principal: a key is at least 16 characters, so that a
         * guess is hopeless, and printable ASCII without spaces */
        size_t kl = strlen(key);
        int ok = kl >= 16 && kl <= 256;
        for (const char *p = key; ok && *p; p++)
            ok = *p > 0x20 && *p < 0x7f;
        if (!ok) {
            snprintf(err, errlen, "api_keys: a key must be 16 to 256 printable ASCII characters without spaces");
            return -1;
        }
        if (!name_ok(value)) {
            snprintf(err, errlen, "api_keys: \"%s\" is not a principal's name", value);
            return -1;
        }
        for (size_t i = 0; i < c->n_keys; i++)
            if (strcmp(c->keys[i].key, key) == 0) {
                snprintf(err, errlen, "api_keys: a key is given twice");
                return -1;
            }
        gw_api_key *k = realloc(c->keys, (c->n_keys + 1) * sizeof *k);
        if (!k) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        c->keys = k;
        c->keys[c->n_keys].key = strdup(key);
        c->keys[c->n_keys].principal = strdup(value);
        c->n_keys++;
        return 0;
    } else if (strcmp(section, "notify") == 0) {
        if (strcmp(key, "enabled") == 0) {
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
                snprintf(err, errlen, "notify.enabled = \"%s\": expected true or false", value);
                return -1;
            }
            c->notify_enabled = strcmp(value, "true") == 0;
            return 0;
        }
        if (strcmp(key, "as") == 0) {
            if (*value && !name_ok(value)) {
                snprintf(err, errlen, "notify.as = \"%s\": not a principal's name", value);
                return -1;
            }
            STR(notify_as);
        }
        if (strcmp(key, "url") == 0) {
            if (*value && strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
                snprintf(err, errlen, "notify.url = \"%s\": expected an http:// or https:// URL", value);
                return -1;
            }
            STR(notify_url);
        }
        if (strcmp(key, "secret") == 0)
            STR(notify_secret);
        if (strcmp(key, "ca") == 0)
            STR(notify_ca);
        if (strcmp(key, "timeout") == 0)
            NUM(notify_timeout, 1, 600);
        if (strcmp(key, "retry_min_ms") == 0)
            NUM(retry_min_ms, 10, 3600000);
        if (strcmp(key, "retry_max_ms") == 0)
            NUM(retry_max_ms, 10, 3600000);
    } else if (strcmp(section, "web") == 0) {
        if (strcmp(key, "enabled") == 0) {
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
                snprintf(err, errlen, "web.enabled = \"%s\": expected true or false", value);
                return -1;
            }
            c->web_enabled = strcmp(value, "true") == 0;
            return 0;
        }
        if (strcmp(key, "root") == 0)
            STR(web_root);
        if (strcmp(key, "session_idle") == 0)
            NUM(session_idle, 5, 86400);
        if (strcmp(key, "session_max") == 0)
            NUM(session_max, 60, 604800);
        if (strcmp(key, "max_sessions") == 0)
            NUM(max_sessions, 1, 100000);
        if (strcmp(key, "max_streams") == 0)
            NUM(max_streams, 1, 10000);
        if (strcmp(key, "public_as") == 0) {
            if (*value && !name_ok(value)) {
                snprintf(err, errlen, "web.public_as = \"%s\": a principal's name (or empty: no public page)", value);
                return -1;
            }
            STR(public_as);
        }
        if (strcmp(key, "public_stats_as") == 0) {
            if (*value && !name_ok(value)) {
                snprintf(err, errlen,
                         "web.public_stats_as = \"%s\": a principal's name (or empty: no public statistics)", value);
                return -1;
            }
            STR(public_stats_as);
        }
        if (strcmp(key, "tile_url") == 0) {
            /* the city's own map server: the page asks it for tiles, and
             * the CSP lets images come from its origin (and nothing else) */
            const char *host = strncmp(value, "https://", 8) == 0  ? value + 8
                               : strncmp(value, "http://", 7) == 0 ? value + 7
                                                                   : NULL;
            size_t hl = host ? strcspn(host, "/") : 0;
            int ok = !*value || (host && hl > 0 && host[hl] == '/' && strstr(value, "{z}") && strstr(value, "{x}") &&
                                 strstr(value, "{y}"));
            for (const char *p = value; ok && *p; p++)
                ok = *p > 0x20 && *p < 0x7f && *p != '\'' && *p != '"' && *p != ';' && *p != ',';
            if (!ok) {
                snprintf(err, errlen,
                         "web.tile_url = \"%s\": expected https://host/.../{z}/{x}/{y}.png (or empty: no tiles)",
                         value);
                return -1;
            }
            set_str(&c->tile_url, value);
            char origin[300] = "";
            if (*value)
                snprintf(origin, sizeof origin, "%.*s", (int)(host - value + (ptrdiff_t)hl), value);
            set_str(&c->tile_origin, origin);
            return 0;
        }
    } else if (strcmp(section, "web_users") == 0) {
        /* login = principal $argon2id$...: whistle-gateway --hash-password
         * makes the hash */
        const char *sp = strchr(value, ' ');
        char principal[128];
        if (!name_ok(key) || !sp || (size_t)(sp - value) >= sizeof principal) {
            snprintf(err, errlen,
                     "web_users: \"%s = %s\": expected login = principal $argon2id$... (a login and a "
                     "principal are names: letters, digits, '.', '_', '-')",
                     key, value);
            return -1;
        }
        memcpy(principal, value, (size_t)(sp - value));
        principal[sp - value] = '\0';
        while (*sp == ' ')
            sp++;
        if (!name_ok(principal) || strncmp(sp, "$argon2id$", 10) != 0) {
            snprintf(err, errlen,
                     "web_users: %s: expected principal $argon2id$... (whistle-gateway --hash-password makes one)",
                     key);
            return -1;
        }
        if (gw_config_web_user(c, key)) {
            snprintf(err, errlen, "web_users: %s is given twice", key);
            return -1;
        }
        gw_web_user *u = realloc(c->users, (c->n_users + 1) * sizeof *u);
        if (!u) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        c->users = u;
        c->users[c->n_users].login = strdup(key);
        c->users[c->n_users].principal = strdup(principal);
        c->users[c->n_users].hash = strdup(sp);
        c->n_users++;
        return 0;
    } else if (strcmp(section, "log") == 0) {
        if (strcmp(key, "level") == 0) {
            int l = gw_log_level_parse(value);
            if (l < 0) {
                snprintf(err, errlen, "log.level = \"%s\": expected error, warn, info or debug", value);
                return -1;
            }
            c->log_level = l;
            return 0;
        }
    } else {
        snprintf(err, errlen,
                 "unknown section [%s] (allowed: http, whistled, open311, api_keys, notify, web, web_users, log)",
                 section);
        return -1;
    }
    snprintf(err, errlen, "unknown key %s.%s (conf/whistle-gateway.conf lists them)", section, key);
    return -1;
#undef NUM
#undef STR
}

struct load_ctx {
    gw_config *c;
    char *err;
    size_t errlen;
    int failed;
};

static int on_ini(void *ud, const char *section, const char *key, const char *value)
{
    struct load_ctx *l = ud;
    if (l->failed)
        return 0;
    char e[512];
    if (gw_config_set(l->c, section, key, value, e, sizeof e) < 0) {
        snprintf(l->err, l->errlen, "%s", e);
        l->failed = 1;
        return 0;
    }
    return 1;
}

int gw_config_load(gw_config *c, const char *path, char *err, size_t errlen)
{
    set_str(&c->path, path);
    struct load_ctx l = { c, err, errlen, 0 };
    char e[600] = "";
    l.err = e;
    l.errlen = sizeof e;
    int r = ini_parse(path, on_ini, &l);
    if (r == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (r == -2) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (r > 0) {
        snprintf(err, errlen, "%s:%d: %s", path, r, *e ? e : "syntax error (expected [section] or key = value)");
        return -1;
    }
    return 0;
}

static int readable(const char *what, const char *file, const char *fix, char *err, size_t errlen)
{
    if (!*file) {
        snprintf(err, errlen, "%s is not set: %s", what, fix);
        return -1;
    }
    if (access(file, R_OK) != 0) {
        snprintf(err, errlen, "%s = %s: cannot read it: %s (%s)", what, file, strerror(errno), fix);
        return -1;
    }
    return 0;
}

int gw_config_validate(const gw_config *c, char *err, size_t errlen)
{
    const char *pki = "scripts/dev-pki.sh makes a development one";
    if (readable("http.cert", c->cert, pki, err, errlen) || readable("http.key", c->key, pki, err, errlen) ||
        readable("whistled.ca", c->wd_ca, pki, err, errlen) ||
        readable("whistled.cert", c->wd_cert, pki, err, errlen) ||
        readable("whistled.key", c->wd_key, pki, err, errlen))
        return -1;
    if (!*c->read_as) {
        snprintf(err, errlen,
                 "open311.read_as is not set: name the integration principal that GET answers are "
                 "read as");
        return -1;
    }
    if (c->default_page_size > c->max_page_size) {
        snprintf(err, errlen, "open311.default_page_size (%u) is above open311.max_page_size (%u)",
                 c->default_page_size, c->max_page_size);
        return -1;
    }
    if (c->web_enabled) {
        char index[1100];
        snprintf(index, sizeof index, "%s/index.html", c->web_root);
        if (readable("web.root", index, "point it at the installed web directory (client/web in the source)", err,
                     errlen))
            return -1;
        if (c->session_idle > c->session_max) {
            snprintf(err, errlen, "web.session_idle (%u) is above web.session_max (%u)", c->session_idle,
                     c->session_max);
            return -1;
        }
    }
    if (c->retry_min_ms > c->retry_max_ms) {
        snprintf(err, errlen, "notify.retry_min_ms (%u) is above notify.retry_max_ms (%u)", c->retry_min_ms,
                 c->retry_max_ms);
        return -1;
    }
    if (c->notify_enabled) {
        if (!*c->notify_as || !*c->notify_url || !*c->notify_secret) {
            snprintf(err, errlen, "notify.enabled = true needs notify.as, notify.url and notify.secret");
            return -1;
        }
        if (strlen(c->notify_secret) < 16) {
            snprintf(err, errlen, "notify.secret: at least 16 characters, shared with the webhook's receiver");
            return -1;
        }
        if (*c->notify_ca &&
            readable("notify.ca", c->notify_ca, "the CA the webhook's certificate chains to", err, errlen))
            return -1;
    }
    return 0;
}

const gw_web_user *gw_config_web_user(const gw_config *c, const char *login)
{
    for (size_t i = 0; i < c->n_users; i++)
        if (strcmp(c->users[i].login, login) == 0)
            return &c->users[i];
    return NULL;
}

const char *gw_config_key_principal(const gw_config *c, const char *key)
{
    size_t kl = strlen(key);
    const char *found = NULL;
    /* every key is compared, each in constant time, so that the time taken
     * says nothing about how much of a key was right */
    for (size_t i = 0; i < c->n_keys; i++) {
        size_t l = strlen(c->keys[i].key);
        if (l == kl && CRYPTO_memcmp(c->keys[i].key, key, l) == 0)
            found = c->keys[i].principal;
    }
    return found;
}
