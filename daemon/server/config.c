/* config.c: see config.h. libinih reads the file; every value is checked
 * here so that a typo is a start-up error naming the line, never a silent
 * default. */
#include "config.h"
#include "guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
}

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    set_str(&c->listen, "127.0.0.1");
    c->port = 7730;
    c->max_frame = 1u << 20;
    c->max_in_flight = 64;
    c->max_output = 4u << 20;
    c->max_queued = (size_t)64 << 20;
    c->max_connections = 10000;
    c->idle_timeout = 0;
    c->handshake_timeout = 10;
    c->frame_timeout = 30;
    c->drain_timeout = 10;
    set_str(&c->ca, "");
    set_str(&c->cert, "");
    set_str(&c->key, "");
    set_str(&c->crl, "");
    set_str(&c->fed_district, "");
    set_str(&c->fed_intake_node, "");
    set_str(&c->fed_intake_category, "");
    set_str(&c->store_dir, "var/state");
    c->sync = STORE_SYNC_FULL;
    c->sync_interval_ms = 1000;
    c->audit_flush_s = 1;
    c->map_size = 64u << 20;
    c->map_max = (size_t)16 << 30;
    c->idempotency_days = 7;
    c->stream_keep_days = 30;
    set_str(&c->seed, "");
    set_str(&c->seed_volunteers, "");
    set_str(&c->archive_key_file, "");
    set_str(&c->archive_seed, "");
    set_str(&c->backup_dir, "var/backups");
    c->log_level = LOG_LVL_INFO;
    set_str(&c->metrics_listen, "127.0.0.1");
    c->metrics_port = 9473;
    c->photo_max_bytes = 8u << 20;
    c->photo_max_per_action = 9;
    c->photo_max_pixels = 40u * 1000u * 1000u;
    c->photo_grace_hours = 24;
    c->photo_ingest_mib_per_s = 8;
    set_str(&c->photo_dir, "");
    c->lookup_failures = GUARD_DEFAULT_MAX;
    c->lookup_window = GUARD_DEFAULT_WINDOW_MS / 1000;
    /* the seed's written rules (上会前须公示3天, 两个三分之二, 8 minutes) */
    c->delib = (struct delib_defaults){ .notice_days = 3,
                                        .quorum_num = 2,
                                        .quorum_den = 3,
                                        .majority_num = 2,
                                        .majority_den = 3,
                                        .speaking_limit_s = 480,
                                        .tie_rule = 1,
                                        .sign_num = 1,
                                        .sign_den = 1 };
    policy_defaults(&c->policy);
}

void config_free(config *c)
{
    free(c->path);
    free(c->listen);
    free(c->ca);
    free(c->cert);
    free(c->key);
    free(c->crl);
    free(c->store_dir);
    free(c->photo_dir);
    free(c->seed);
    free(c->seed_volunteers);
    free(c->archive_key_file);
    free(c->archive_seed);
    free(c->backup_dir);
    free(c->metrics_listen);
    free(c->test_clock);
    free(c->fed_district);
    free(c->fed_intake_node);
    free(c->fed_intake_category);
    policy_free(&c->policy);
    memset(c, 0, sizeof *c);
}

/* Whether s is between min and max ASCII digits. */
static bool fed_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int parse_bool(const char *section, const char *key, const char *v, bool *out, char *err, size_t errlen)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else {
        snprintf(err, errlen, "%s.%s = \"%s\": expected yes or no", section, key, v);
        return -1;
    }
    return 0;
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

#define RANGE_ERR(lo, hi)                                                                                              \
    do {                                                                                                               \
        snprintf(err, errlen, "%s.%s = \"%s\": expected a whole number from %llu to %llu", section, key, value,        \
                 (unsigned long long)(lo), (unsigned long long)(hi));                                                  \
        return -1;                                                                                                     \
    } while (0)

/* "num/den", 1 <= num <= den <= 100. */
static int fraction(const char *key, const char *value, uint32_t *num, uint32_t *den, char *err, size_t errlen)
{
    unsigned n, d;
    char end;
    if (sscanf(value, "%u/%u%c", &n, &d, &end) != 2 || n < 1 || n > d || d > 100) {
        snprintf(err, errlen, "deliberation.%s = \"%s\": expected a fraction num/den (2/3), 1 <= num <= den <= 100",
                 key, value);
        return -1;
    }
    *num = n;
    *den = d;
    return 0;
}

/* [deliberation]: the rule set new bodies get (docs/deliberation.md). */
static int delib_set(struct delib_defaults *d, const char *key, const char *value, char *err, size_t errlen)
{
    if (strcmp(key, "quorum") == 0)
        return fraction(key, value, &d->quorum_num, &d->quorum_den, err, errlen);
    if (strcmp(key, "majority") == 0)
        return fraction(key, value, &d->majority_num, &d->majority_den, err, errlen);
    if (strcmp(key, "signatures") == 0)
        return fraction(key, value, &d->sign_num, &d->sign_den, err, errlen);
    if (strcmp(key, "majority_of") == 0) {
        if (strcmp(value, "present") != 0 && strcmp(value, "seats") != 0) {
            snprintf(err, errlen, "deliberation.majority_of = \"%s\": expected present or seats", value);
            return -1;
        }
        d->majority_of_all_seats = strcmp(value, "seats") == 0;
        return 0;
    }
    if (strcmp(key, "tie_rule") == 0) {
        if (strcmp(value, "runoff") != 0 && strcmp(value, "list_order") != 0) {
            snprintf(err, errlen, "deliberation.tie_rule = \"%s\": expected runoff or list_order", value);
            return -1;
        }
        d->tie_rule = strcmp(value, "runoff") == 0 ? 1 : 2;
        return 0;
    }
    unsigned long long v;
    char *end;
    bool days = strcmp(key, "notice_days") == 0, secs = strcmp(key, "speaking_limit") == 0;
    if (!days && !secs) {
        snprintf(err, errlen, "unknown key deliberation.%s (conf/whistled.conf lists every key)", key);
        return -1;
    }
    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno || end == value || *end || v < 1 || v > (days ? 60 : 3600)) {
        snprintf(err, errlen, "deliberation.%s = \"%s\": expected a whole number from 1 to %d", key, value,
                 days ? 60 : 3600);
        return -1;
    }
    if (days)
        d->notice_days = (uint32_t)v;
    else
        d->speaking_limit_s = (uint32_t)v;
    return 0;
}

int config_set(config *c, const char *section, const char *key, const char *value, char *err, size_t errlen)
{
    uint64_t n;
#define NUM(field, lo, hi)                                                                                             \
    do {                                                                                                               \
        if (parse_u64(value, lo, hi, &n) < 0)                                                                          \
            RANGE_ERR(lo, hi);                                                                                         \
        c->field = n;                                                                                                  \
        return 0;                                                                                                      \
    } while (0)
    if (strcmp(section, "server") == 0) {
        if (strcmp(key, "listen") == 0) {
            set_str(&c->listen, value);
            return 0;
        }
        if (strcmp(key, "port") == 0)
            NUM(port, 0, 65535);
        if (strcmp(key, "max_frame") == 0)
            NUM(max_frame, 1024, 64u << 20);
        if (strcmp(key, "max_in_flight") == 0)
            NUM(max_in_flight, 1, 100000);
        if (strcmp(key, "max_output") == 0)
            NUM(max_output, 65536, (uint64_t)1 << 32);
        if (strcmp(key, "max_queued") == 0)
            NUM(max_queued, 1, (uint64_t)1 << 40);
        if (strcmp(key, "max_connections") == 0)
            NUM(max_connections, 1, 1000000);
        if (strcmp(key, "idle_timeout") == 0)
            NUM(idle_timeout, 0, 86400 * 30);
        if (strcmp(key, "handshake_timeout") == 0)
            NUM(handshake_timeout, 1, 3600);
        if (strcmp(key, "frame_timeout") == 0)
            NUM(frame_timeout, 1, 3600);
        if (strcmp(key, "drain_timeout") == 0)
            NUM(drain_timeout, 1, 3600);
    } else if (strcmp(section, "tls") == 0) {
        char **dst = strcmp(key, "ca") == 0     ? &c->ca
                     : strcmp(key, "cert") == 0 ? &c->cert
                     : strcmp(key, "key") == 0  ? &c->key
                     : strcmp(key, "crl") == 0  ? &c->crl
                                                : NULL;
        if (dst) {
            set_str(dst, value);
            return 0;
        }
    } else if (strcmp(section, "store") == 0) {
        if (strcmp(key, "dir") == 0) {
            if (!*value) {
                snprintf(err, errlen, "store.dir must not be empty");
                return -1;
            }
            set_str(&c->store_dir, value);
            return 0;
        }
        if (strcmp(key, "sync") == 0) {
            if (strcmp(value, "full") == 0)
                c->sync = STORE_SYNC_FULL;
            else if (strcmp(value, "nometasync") == 0)
                c->sync = STORE_SYNC_NOMETASYNC;
            else if (strcmp(value, "none") == 0)
                c->sync = STORE_SYNC_NONE;
            else {
                snprintf(err, errlen, "store.sync = \"%s\": expected full, nometasync or none", value);
                return -1;
            }
            return 0;
        }
        if (strcmp(key, "sync_interval_ms") == 0)
            NUM(sync_interval_ms, 10, 3600000);
        if (strcmp(key, "audit_flush") == 0)
            NUM(audit_flush_s, 1, 3600);
        if (strcmp(key, "map_size") == 0)
            NUM(map_size, 1u << 20, (uint64_t)1 << 40);
        if (strcmp(key, "map_max") == 0)
            NUM(map_max, 1u << 20, (uint64_t)1 << 44);
        /* at least a day: the protocol promises that long */
        if (strcmp(key, "idempotency_days") == 0)
            NUM(idempotency_days, 1, 3650);
        if (strcmp(key, "stream_keep_days") == 0)
            NUM(stream_keep_days, 1, 36500);
        if (strcmp(key, "seed") == 0) {
            set_str(&c->seed, value);
            return 0;
        }
        if (strcmp(key, "seed_volunteers") == 0) {
            set_str(&c->seed_volunteers, value);
            return 0;
        }
        if (strcmp(key, "backup_dir") == 0) {
            if (!*value) {
                snprintf(err, errlen, "store.backup_dir must not be empty");
                return -1;
            }
            set_str(&c->backup_dir, value);
            return 0;
        }
    } else if (strcmp(section, "log") == 0) {
        if (strcmp(key, "level") == 0) {
            int l = log_level_parse(value);
            if (l < 0) {
                snprintf(err, errlen, "log.level = \"%s\": expected error, warn, info or debug", value);
                return -1;
            }
            c->log_level = l;
            return 0;
        }
        if (strcmp(key, "access") == 0)
            return parse_bool(section, key, value, &c->access_log, err, errlen);
    } else if (strcmp(section, "metrics") == 0) {
        if (strcmp(key, "enabled") == 0)
            return parse_bool(section, key, value, &c->metrics, err, errlen);
        if (strcmp(key, "listen") == 0) {
            set_str(&c->metrics_listen, value);
            return 0;
        }
        if (strcmp(key, "port") == 0)
            NUM(metrics_port, 0, 65535);
    } else if (strcmp(section, "places") == 0) {
        if (strcmp(key, "outside") == 0) {
            if (strcmp(value, "refuse") != 0 && strcmp(value, "street") != 0) {
                snprintf(err, errlen, "places.outside = \"%s\": expected refuse or street", value);
                return -1;
            }
            c->places_outside_street = strcmp(value, "street") == 0;
            return 0;
        }
    } else if (strcmp(section, "photos") == 0) {
        if (strcmp(key, "max_bytes") == 0)
            NUM(photo_max_bytes, 1024, (uint64_t)64 << 20);
        if (strcmp(key, "max_per_action") == 0)
            NUM(photo_max_per_action, 1, 32);
        if (strcmp(key, "max_pixels") == 0)
            NUM(photo_max_pixels, 1000, 200u * 1000u * 1000u);
        if (strcmp(key, "grace_hours") == 0)
            NUM(photo_grace_hours, 1, 24 * 30);
        if (strcmp(key, "ingest_mib_per_s") == 0)
            NUM(photo_ingest_mib_per_s, 0, 4096);
        if (strcmp(key, "dir") == 0) {
            set_str(&c->photo_dir, value);
            return 0;
        }
    } else if (strcmp(section, "federation") == 0) {
        if (strcmp(key, "enabled") == 0)
            return parse_bool(section, key, value, &c->fed_enabled, err, errlen);
        if (strcmp(key, "district") == 0) {
            if (!fed_digits(value, 6, 6)) {
                snprintf(err, errlen, "federation.district = \"%s\": expected the district's 6-digit code", value);
                return -1;
            }
            set_str(&c->fed_district, value);
            return 0;
        }
        if (strcmp(key, "intake_node") == 0) {
            if (*value && !fed_digits(value, 9, 18)) {
                snprintf(err, errlen, "federation.intake_node = \"%s\": expected a node code (9 to 18 digits)", value);
                return -1;
            }
            set_str(&c->fed_intake_node, value);
            return 0;
        }
        if (strcmp(key, "intake_category") == 0) {
            if (*value && !fed_digits(value, 4, 4)) {
                snprintf(err, errlen, "federation.intake_category = \"%s\": expected a 4-digit category", value);
                return -1;
            }
            set_str(&c->fed_intake_category, value);
            return 0;
        }
    } else if (strcmp(section, "deliberation") == 0) {
        return delib_set(&c->delib, key, value, err, errlen);
    } else if (strcmp(section, "kiosk") == 0) {
        if (strcmp(key, "lookup_failures") == 0)
            NUM(lookup_failures, 1, 1000);
        if (strcmp(key, "lookup_window") == 0)
            NUM(lookup_window, 1, 86400);
    } else if (strcmp(section, "archive") == 0) {
        if (strcmp(key, "key_file") == 0) {
            set_str(&c->archive_key_file, value);
            return 0;
        }
        if (strcmp(key, "initial_import") == 0) {
            set_str(&c->archive_seed, value);
            return 0;
        }
    } else {
        int prc = policy_set(&c->policy, section, key, value, err, errlen);
        if (prc <= 0)
            return prc;
        snprintf(err, errlen,
                 "unknown section [%s]: expected [server], [tls], [store], [log], [metrics], [kiosk], [places], "
                 "[archive], [calendar], [deadline], [emergency], [deliberation] or [federation]",
                 section);
        return -1;
    }
#undef NUM
    snprintf(err, errlen, "unknown key %s.%s (conf/whistled.conf lists every key)", section, key);
    return -1;
}

struct load_ctx {
    config *c;
    char *err;
    size_t errlen;
    int failed_line;
};

/* Debian's libinih passes no line number to the handler; ini_parse
 * returns the line of the first error instead, which config_load adds. */
static int on_kv(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    if (lc->failed_line)
        return 1; /* report the first error only */
    if (config_set(lc->c, section, name, value, lc->err, lc->errlen) < 0) {
        lc->failed_line = 1;
        return 0;
    }
    return 1;
}

int config_load(config *c, const char *path, char *err, size_t errlen)
{
    set_str(&c->path, path);
    struct load_ctx lc = { c, err, errlen, 0 };
    int rc = ini_parse(path, on_kv, &lc);
    if (rc == -1) {
        snprintf(err, errlen, "%s: cannot open: %s (pass --config FILE; conf/whistled.conf is the example)", path,
                 strerror(errno));
        return -1;
    }
    if (rc == -2) {
        snprintf(err, errlen, "%s: out of memory while reading", path);
        return -1;
    }
    if (rc > 0) {
        char what[512];
        if (lc.failed_line)
            snprintf(what, sizeof what, "%s", err);
        else
            snprintf(what, sizeof what, "not a valid INI line (expected key = value or [section])");
        snprintf(err, errlen, "%s:%d: %s", path, rc, what);
        return -1;
    }
    return 0;
}

static int readable(const char *what, const char *file, char *err, size_t errlen)
{
    if (!*file) {
        snprintf(err, errlen, "tls.%s is required: the PEM file (make pki creates dev ones under var/pki)", what);
        return -1;
    }
    if (access(file, R_OK) != 0) {
        snprintf(err, errlen, "tls.%s = %s: cannot read: %s", what, file, strerror(errno));
        return -1;
    }
    return 0;
}

int config_validate(const config *c, char *err, size_t errlen)
{
    if (readable("ca", c->ca, err, errlen) < 0 || readable("cert", c->cert, err, errlen) < 0 ||
        readable("key", c->key, err, errlen) < 0)
        return -1;
    if (*c->crl && readable("crl", c->crl, err, errlen) < 0)
        return -1;
    if (c->map_max < c->map_size) {
        snprintf(err, errlen, "store.map_max (%zu) is below store.map_size (%zu)", c->map_max, c->map_size);
        return -1;
    }
    if (policy_validate(&c->policy, err, errlen) < 0)
        return -1;
    if (c->fed_enabled && !*c->fed_district) {
        snprintf(err, errlen, "federation.enabled is on but federation.district is not set: give the district's code");
        return -1;
    }
    if (c->fed_enabled && *c->fed_intake_node && strncmp(c->fed_intake_node, c->fed_district, 6) != 0) {
        snprintf(err, errlen, "federation.intake_node = %s is not in district %s", c->fed_intake_node, c->fed_district);
        return -1;
    }
    unsigned char addr[sizeof(struct in6_addr)];
    if (c->metrics && inet_pton(AF_INET, c->metrics_listen, addr) != 1 &&
        inet_pton(AF_INET6, c->metrics_listen, addr) != 1) {
        snprintf(err, errlen, "metrics.listen = %s: not an IPv4 or IPv6 address", c->metrics_listen);
        return -1;
    }
    if (*c->seed && access(c->seed, R_OK) != 0) {
        snprintf(err, errlen, "store.seed = %s: cannot read: %s", c->seed, strerror(errno));
        return -1;
    }
    if (*c->seed_volunteers && access(c->seed_volunteers, R_OK) != 0) {
        snprintf(err, errlen, "store.seed_volunteers = %s: cannot read: %s", c->seed_volunteers, strerror(errno));
        return -1;
    }
    return 0;
}

const char *config_photo_dir(const config *c) { return c->photo_dir && *c->photo_dir ? c->photo_dir : c->store_dir; }
