/* config.c: whistle-bridge's INI file (libinih); conf/whistle-bridge.conf
 * documents every key and its default. */
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

static int level_now = 2;

void blog_set_level(int level) { level_now = level; }

void blog(int level, const char *fmt, ...)
{
    if (level > level_now)
        return;
    static const char *const names[] = { "error", "warning", "info", "debug" };
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "whistle-bridge: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], line);
}

static void set_str(char **dst, const char *v)
{
    char *s = strdup(v ? v : "");
    if (!s) {
        fputs("whistle-bridge: out of memory\n", stderr);
        exit(1);
    }
    free(*dst);
    *dst = s;
}

void bridge_config_defaults(bridge_config *c)
{
    memset(c, 0, sizeof *c);
    set_str(&c->district, "");
    c->in_flight = 32;
    c->publish_window = 256;
    c->stats_interval = 10;
    set_str(&c->intake_durable, "");
    set_str(&c->cmd_durable, "");
    set_str(&c->intake_stream, "INTAKE");
    set_str(&c->cmd_stream, "CMD");
    set_str(&c->nats_inbox, "");
    set_str(&c->wd_host, "localhost");
    c->wd_port = 7730;
    set_str(&c->wd_ca, "");
    set_str(&c->wd_cert, "");
    set_str(&c->wd_key, "");
    set_str(&c->nats_url, "nats://127.0.0.1:4222");
    set_str(&c->nats_ca, "");
    set_str(&c->nats_cert, "");
    set_str(&c->nats_key, "");
    set_str(&c->nats_name, "");
    c->log_level = 2;
}

void bridge_config_free(bridge_config *c)
{
    char **s[] = { &c->path,      &c->district,      &c->intake_durable, &c->cmd_durable, &c->wd_host,   &c->wd_ca,
                   &c->wd_cert,   &c->wd_key,        &c->nats_url,       &c->nats_ca,     &c->nats_cert, &c->nats_key,
                   &c->nats_name, &c->intake_stream, &c->cmd_stream,     &c->nats_inbox };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        free(*s[i]);
    memset(c, 0, sizeof *c);
}

static int num(const char *section, const char *key, const char *v, unsigned long lo, unsigned long hi, uint32_t *out,
               char *err, size_t errlen)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        snprintf(err, errlen, "%s.%s = \"%s\": expected a whole number from %lu to %lu", section, key, v, lo, hi);
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

static bool digits6(const char *s)
{
    if (strlen(s) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int bridge_config_set(bridge_config *c, const char *section, const char *key, const char *value, char *err,
                      size_t errlen)
{
    uint32_t n;
    if (strcmp(section, "bridge") == 0) {
        if (strcmp(key, "district") == 0) {
            if (*value && !digits6(value)) {
                snprintf(err, errlen, "bridge.district = \"%s\": expected the district's 6-digit code", value);
                return -1;
            }
            set_str(&c->district, value);
            return 0;
        }
        if (strcmp(key, "in_flight") == 0)
            return num(section, key, value, 1, 1024, &c->in_flight, err, errlen);
        if (strcmp(key, "publish_window") == 0)
            return num(section, key, value, 1, 4096, &c->publish_window, err, errlen);
        if (strcmp(key, "stats_interval") == 0)
            return num(section, key, value, 1, 3600, &c->stats_interval, err, errlen);
        if (strcmp(key, "intake_durable") == 0) {
            set_str(&c->intake_durable, value);
            return 0;
        }
        if (strcmp(key, "cmd_durable") == 0) {
            set_str(&c->cmd_durable, value);
            return 0;
        }
        if (strcmp(key, "intake_stream") == 0 || strcmp(key, "cmd_stream") == 0) {
            if (!*value) {
                snprintf(err, errlen, "bridge.%s is empty: give the JetStream stream's name", key);
                return -1;
            }
            set_str(key[0] == 'i' ? &c->intake_stream : &c->cmd_stream, value);
            return 0;
        }
    } else if (strcmp(section, "whistled") == 0) {
        if (strcmp(key, "host") == 0) {
            set_str(&c->wd_host, value);
            return 0;
        }
        if (strcmp(key, "port") == 0) {
            if (num(section, key, value, 1, 65535, &n, err, errlen))
                return -1;
            c->wd_port = (uint16_t)n;
            return 0;
        }
        char **f = strcmp(key, "ca") == 0     ? &c->wd_ca
                   : strcmp(key, "cert") == 0 ? &c->wd_cert
                   : strcmp(key, "key") == 0  ? &c->wd_key
                                              : NULL;
        if (f) {
            set_str(f, value);
            return 0;
        }
    } else if (strcmp(section, "nats") == 0) {
        char **f = strcmp(key, "url") == 0            ? &c->nats_url
                   : strcmp(key, "ca") == 0           ? &c->nats_ca
                   : strcmp(key, "cert") == 0         ? &c->nats_cert
                   : strcmp(key, "key") == 0          ? &c->nats_key
                   : strcmp(key, "name") == 0         ? &c->nats_name
                   : strcmp(key, "inbox_prefix") == 0 ? &c->nats_inbox
                                                      : NULL;
        if (f) {
            set_str(f, value);
            return 0;
        }
    } else if (strcmp(section, "log") == 0) {
        if (strcmp(key, "level") == 0) {
            static const char *const names[] = { "error", "warning", "info", "debug" };
            for (int i = 0; i < 4; i++)
                if (strcmp(value, names[i]) == 0) {
                    c->log_level = i;
                    return 0;
                }
            snprintf(err, errlen, "log.level = \"%s\": expected error, warning, info or debug", value);
            return -1;
        }
    } else {
        snprintf(err, errlen, "unknown section [%s]: expected [bridge], [whistled], [nats] or [log]", section);
        return -1;
    }
    snprintf(err, errlen, "unknown key %s.%s (conf/whistle-bridge.conf lists every key)", section, key);
    return -1;
}

typedef struct load_ctx {
    bridge_config *c;
    char *err;
    size_t errlen;
    int line;
} load_ctx;

static int on_kv(void *ud, const char *section, const char *key, const char *value)
{
    load_ctx *l = ud;
    char why[512];
    if (bridge_config_set(l->c, section, key, value, why, sizeof why) < 0) {
        snprintf(l->err, l->errlen, "%s: %s", l->c->path, why);
        return 0;
    }
    return 1;
}

int bridge_config_load(bridge_config *c, const char *path, char *err, size_t errlen)
{
    set_str(&c->path, path);
    load_ctx l = { c, err, errlen, 0 };
    err[0] = 0;
    int rc = ini_parse(path, on_kv, &l);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read the file (give --config FILE)", path);
        return -1;
    }
    if (rc > 0) {
        if (!err[0])
            snprintf(err, errlen, "%s:%d: syntax error", path, rc);
        return -1;
    }
    return 0;
}

static int readable(const char *what, const char *path, char *err, size_t errlen)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s = %s: cannot read the file", what, path);
        return -1;
    }
    return 0;
}

int bridge_config_validate(const bridge_config *c, char *err, size_t errlen)
{
    if (!*c->district) {
        snprintf(err, errlen, "bridge.district is required: the district this bridge carries (6 digits)");
        return -1;
    }
    if (!*c->wd_cert || !*c->wd_key || !*c->wd_ca) {
        snprintf(err, errlen, "whistled.ca, whistled.cert and whistled.key are required (the bridge's certificate)");
        return -1;
    }
    if (readable("whistled.ca", c->wd_ca, err, errlen) || readable("whistled.cert", c->wd_cert, err, errlen) ||
        readable("whistled.key", c->wd_key, err, errlen))
        return -1;
    if ((*c->nats_cert != 0) != (*c->nats_key != 0)) {
        snprintf(err, errlen, "nats.cert and nats.key go together");
        return -1;
    }
    if ((*c->nats_ca && readable("nats.ca", c->nats_ca, err, errlen)) ||
        (*c->nats_cert && readable("nats.cert", c->nats_cert, err, errlen)) ||
        (*c->nats_key && readable("nats.key", c->nats_key, err, errlen)))
        return -1;
    return 0;
}
