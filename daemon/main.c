/* main.c: whistled's entry point: flags, config, store, seed, serve. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "blobs.h"
#include "check.h"
#include "community.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "ops.h"
#include "seal.h"
#include "server.h"
#include "store.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: whistled [--config FILE] [options]\n"
                 "\n"
                 "The whistle daemon: keeps a city's grid-governance state and serves it\n"
                 "over mutual TLS (docs/protocol.md). Settings come from the INI file\n"
                 "(conf/whistled.conf documents every key), then from these flags.\n"
                 "\n"
                 "  -c, --config FILE     configuration file\n"
                 "      --listen ADDR     address to bind (server.listen)\n"
                 "  -p, --port N          port (server.port; 0 picks a free one)\n"
                 "      --state-dir DIR   LMDB directory (store.dir)\n"
                 "      --photo-dir DIR   where the photos' files are (photos.dir; default\n"
                 "                        store.dir): for --check, --backup and --restore too\n"
                 "      --seed FILE       directory seed for an empty store (store.seed)\n"
                 "      --log-level L     error, warn, info or debug (log.level)\n"
                 "      --port-file FILE  write the bound port there once listening\n"
                 "      --check-config    validate the configuration and exit\n"
                 "      --test-clock FILE for tests only: read the time (Unix ms) from FILE\n"
                 "                        instead of the system clock (docs/deadlines.md)\n"
                 "      --check           check the store (store.dir) record by record and\n"
                 "                        index by index, print one line per violation and\n"
                 "                        exit: 0 clean, 1 violations, 2 unreadable. Safe while\n"
                 "                        whistled runs; needs no certificates\n"
                 "      --backup FILE     write a compacted copy of the store (store.dir) to FILE,\n"
                 "                        beside a running whistled or a stopped one, and keep it\n"
                 "                        only if it checks clean; never over an existing file\n"
                 "      --restore FILE    check the backup FILE, then make it the store (store.dir);\n"
                 "                        refused while whistled (or anything) has the store open;\n"
                 "                        the store it replaces is kept beside it\n"
                 "  -h, --help            this help\n"
                 "  -V, --version         print the version\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The name of a directory just made, flushed in its parent (a power cut
 * must not take the store's directory with the store). */
static void flush_parent(char *buf, char *slash)
{
    char keep = slash ? *slash : 0;
    if (slash)
        *slash = 0;
    const char *parent = !slash ? "." : slash == buf ? "/" : buf;
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            fprintf(stderr, "whistled: cannot flush the directory %s: %s\n", parent, strerror(errno));
        close(fd);
    }
    if (slash)
        *slash = keep;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *last = buf[0] == '/' ? buf : NULL; /* the slash before the component */
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            bool made = mkdir(buf, 0750) == 0;
            *p = '/';
            if (made)
                flush_parent(buf, last);
            last = p;
        }
    }
    if (mkdir(buf, 0750) != 0) {
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
            return -1;
    } else {
        flush_parent(buf, last);
    }
    return 0;
}

struct override {
    const char *section, *key, *value;
};

static void add_override(struct override *o, int *n, const char *section, const char *key, const char *value)
{
    o[*n].section = section;
    o[*n].key = key;
    o[*n].value = value;
    (*n)++;
}

int main(int argc, char **argv)
{
    enum {
        OPT_LISTEN = 256,
        OPT_STATE,
        OPT_SEED,
        OPT_LOG,
        OPT_CHECK,
        OPT_PORTFILE,
        OPT_CHECK_STORE,
        OPT_TESTCLOCK,
        OPT_BACKUP,
        OPT_RESTORE,
        OPT_PHOTO_DIR
    };
    static const struct option opts[] = {
        { "config", required_argument, 0, 'c' },
        { "listen", required_argument, 0, OPT_LISTEN },
        { "port", required_argument, 0, 'p' },
        { "state-dir", required_argument, 0, OPT_STATE },
        { "photo-dir", required_argument, 0, OPT_PHOTO_DIR },
        { "seed", required_argument, 0, OPT_SEED },
        { "log-level", required_argument, 0, OPT_LOG },
        { "check-config", no_argument, 0, OPT_CHECK },
        { "port-file", required_argument, 0, OPT_PORTFILE },
        { "check", no_argument, 0, OPT_CHECK_STORE },
        { "test-clock", required_argument, 0, OPT_TESTCLOCK },
        { "backup", required_argument, 0, OPT_BACKUP },
        { "restore", required_argument, 0, OPT_RESTORE },
        { "help", no_argument, 0, 'h' },
        { "version", no_argument, 0, 'V' },
        { 0, 0, 0, 0 },
    };
    const char *config_path = NULL, *port_file = NULL, *test_clock = NULL, *backup_to = NULL, *restore_from = NULL;
    bool check_only = false, check_store_only = false;
    struct override overrides[16];
    int n_over = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:p:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config_path = optarg; break;
        case 'p': add_override(overrides, &n_over, "server", "port", optarg); break;
        case OPT_LISTEN: add_override(overrides, &n_over, "server", "listen", optarg); break;
        case OPT_STATE: add_override(overrides, &n_over, "store", "dir", optarg); break;
        case OPT_PHOTO_DIR: add_override(overrides, &n_over, "photos", "dir", optarg); break;
        case OPT_SEED: add_override(overrides, &n_over, "store", "seed", optarg); break;
        case OPT_LOG: add_override(overrides, &n_over, "log", "level", optarg); break;
        case OPT_CHECK: check_only = true; break;
        case OPT_CHECK_STORE: check_store_only = true; break;
        case OPT_PORTFILE: port_file = optarg; break;
        case OPT_TESTCLOCK: test_clock = optarg; break;
        case OPT_BACKUP: backup_to = optarg; break;
        case OPT_RESTORE: restore_from = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("whistled %s\n", WHISTLE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
        if (n_over >= 15) {
            fprintf(stderr, "whistled: too many options\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "whistled: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return 2;
    }

    config cfg;
    char err[1024];
    config_defaults(&cfg);
    if (config_path && config_load(&cfg, config_path, err, sizeof err) < 0) {
        fprintf(stderr, "whistled: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    for (int i = 0; i < n_over; i++)
        if (config_set(&cfg, overrides[i].section, overrides[i].key, overrides[i].value, err, sizeof err) < 0) {
            fprintf(stderr, "whistled: command line: %s\n", err);
            config_free(&cfg);
            return 2;
        }
    if (check_store_only) {
        /* The checker reads the store only: no certificates needed, so an
         * admin can run it on a copy or on a stopped daemon's directory. */
        check_report rep;
        char blobs[4200];
        snprintf(blobs, sizeof blobs, "%s/blobs", config_photo_dir(&cfg));
        int rc = check_store_blobs(cfg.store_dir, blobs, true, stdout, &rep, err, sizeof err);
        if (rc == 2)
            fprintf(stderr, "whistled: check: %s\n", err);
        else
            printf("whistled: check: %s: %llu records read (%llu cases, %llu orders, %llu stream entries, "
                   "%llu audit records): %llu violation%s\n",
                   cfg.store_dir, (unsigned long long)rep.records, (unsigned long long)rep.events,
                   (unsigned long long)rep.orders, (unsigned long long)rep.stream_entries,
                   (unsigned long long)rep.audit_records, (unsigned long long)rep.violations,
                   rep.violations == 1 ? "" : "s");
        config_free(&cfg);
        return rc;
    }
    if (backup_to || restore_from) {
        /* Like --check: the store only, no certificates. */
        int rc = backup_to ? ops_backup_offline(&cfg, backup_to, err, sizeof err)
                           : ops_restore(&cfg, restore_from, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "whistled: %s: %s\n", backup_to ? "backup" : "restore", err);
        else if (backup_to)
            printf("whistled: backup: %s written, checked clean\n", backup_to);
        config_free(&cfg);
        return rc < 0 ? 1 : 0;
    }
    if (config_validate(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "whistled: %s%s%s\n", cfg.path ? cfg.path : "", cfg.path ? ": " : "", err);
        config_free(&cfg);
        return 1;
    }
    log_set_level(cfg.log_level);
    log_set_access(cfg.access_log);
    if (test_clock) {
        /* Only a flag, never a config key, so that no config file can turn
         * it on: tests move time by writing FILE. */
        cfg.test_clock = strdup(test_clock);
        log_warn("TEST CLOCK: the time is read from %s, not from the system clock; never use --test-clock in "
                 "production",
                 test_clock);
    }
    if (check_only) {
        SSL_CTX *ctx = tls_ctx_new(cfg.ca, cfg.cert, cfg.key, cfg.crl, err, sizeof err);
        if (!ctx) {
            fprintf(stderr, "whistled: %s\n", err);
            config_free(&cfg);
            return 1;
        }
        SSL_CTX_free(ctx);
        printf("whistled: configuration OK\n");
        config_free(&cfg);
        return 0;
    }

    if (mkdir_p(cfg.store_dir) != 0) {
        fprintf(stderr, "whistled: store.dir = %s: cannot create the directory\n", cfg.store_dir);
        config_free(&cfg);
        return 1;
    }
    store *st = NULL;
    store_opts so = {
        .map_size = cfg.map_size, .map_max = cfg.map_max, .sync = cfg.sync, .photo_dir = config_photo_dir(&cfg)
    };
    if (store_open(&st, cfg.store_dir, &so, err, sizeof err) < 0) {
        fprintf(stderr, "whistled: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    /* What the layers above keep with the store, before any thread uses
     * it (store.h). */
    guard *lookups = guard_new(cfg.lookup_failures, (int64_t)cfg.lookup_window * 1000);
    if (!lookups || audit_attach(st) < 0) {
        fprintf(stderr, "whistled: out of memory at start-up\n");
        guard_free(lookups);
        store_close(st);
        config_free(&cfg);
        return 1;
    }
    st->policy = &cfg.policy;
    st->lookups = lookups;
    if (*cfg.archive_key_file && !(st->archive_keys = seal_keys_load(cfg.archive_key_file, err, sizeof err))) {
        fprintf(stderr, "whistled: archive.key_file: %s\n", err);
        store_close(st);
        guard_free(lookups);
        config_free(&cfg);
        return 1;
    }
    seal_keys *archive_keys = st->archive_keys;
    st->idem_keep_ms = (int64_t)cfg.idempotency_days * 24 * 3600 * 1000;
    st->stream_keep_ms = (int64_t)cfg.stream_keep_days * 24 * 3600 * 1000;
    st->places_outside_street = cfg.places_outside_street;
    if (cfg.fed_enabled) {
        snprintf(st->fed_district, sizeof st->fed_district, "%s", cfg.fed_district);
        snprintf(st->fed_intake_node, sizeof st->fed_intake_node, "%s", cfg.fed_intake_node);
        snprintf(st->fed_intake_category, sizeof st->fed_intake_category, "%s", cfg.fed_intake_category);
    }
    st->delib_defaults = cfg.delib;
    st->photos = (struct photo_limits){ .max_bytes = cfg.photo_max_bytes,
                                        .max_per_action = cfg.photo_max_per_action,
                                        .grace_ms = (int64_t)cfg.photo_grace_hours * 3600 * 1000 };
    /* the photos' files beside the store, and the image library */
    if (blobs_init(config_photo_dir(&cfg), err, sizeof err) < 0 || media_init(err, sizeof err) < 0) {
        fprintf(stderr, "whistled: %s\n", err);
        store_close(st);
        guard_free(lookups);
        seal_keys_free(archive_keys);
        config_free(&cfg);
        return 1;
    }
    if (*cfg.seed && api_seed(st, cfg.seed, now_ms(), err, sizeof err) < 0) {
        fprintf(stderr, "whistled: store.seed = %s: %s\n", cfg.seed, err);
        store_close(st);
        guard_free(lookups);
        seal_keys_free(archive_keys);
        config_free(&cfg);
        return 1;
    }

    if (*cfg.archive_seed && community_seed(st, cfg.archive_seed, now_ms(), err, sizeof err) < 0) {
        fprintf(stderr, "whistled: archive.initial_import = %s: %s\n", cfg.archive_seed, err);
        store_close(st);
        guard_free(lookups);
        seal_keys_free(archive_keys);
        config_free(&cfg);
        return 1;
    }
    if (*cfg.seed_volunteers && api_seed_volunteers(st, cfg.seed_volunteers, now_ms(), err, sizeof err) < 0) {
        fprintf(stderr, "whistled: store.seed_volunteers = %s: %s\n", cfg.seed_volunteers, err);
        store_close(st);
        guard_free(lookups);
        config_free(&cfg);
        return 1;
    }

    /* A store file that reaches the file size limit (ulimit -f, systemd's
     * LimitFSIZE=) must fail the commit with EFBIG, answered as a full
     * disk, not kill the daemon with SIGXFSZ. */
    signal(SIGXFSZ, SIG_IGN);
    /* A peer that resets its connection while answers are being written
     * makes the next write fail with EPIPE: an error on that connection
     * (conn closes it), never a SIGPIPE that ends the daemon and every
     * other connection with it. libuv writes with plain write(2), so the
     * signal must be ignored process-wide. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t loop;
    uv_loop_init(&loop);
    server srv;
    if (server_start(&srv, &loop, &cfg, st, err, sizeof err) < 0) {
        fprintf(stderr, "whistled: %s\n", err);
        server_free(&srv);
        uv_loop_close(&loop);
        store_close(st);
        guard_free(lookups);
        seal_keys_free(archive_keys);
        config_free(&cfg);
        return 1;
    }
    metrics *mx = NULL;
    if (cfg.metrics) {
        mx = metrics_start(&srv, err, sizeof err);
        if (!mx) {
            fprintf(stderr, "whistled: %s\n", err);
            server_drain(&srv);
            uv_run(&loop, UV_RUN_DEFAULT);
            server_free(&srv);
            uv_loop_close(&loop);
            store_close(st);
            guard_free(lookups);
            seal_keys_free(archive_keys);
            config_free(&cfg);
            return 1;
        }
        log_info("metrics on http://%s:%d/metrics", cfg.metrics_listen, metrics_port(mx));
    }
    int port = server_port(&srv);
    if (port_file) {
        FILE *pf = fopen(port_file, "w");
        if (pf) {
            fprintf(pf, "%d\n", port);
            fclose(pf);
        }
    }
    log_info("whistled %s listening on %s port %d, store %s", WHISTLE_VERSION, cfg.listen, port, cfg.store_dir);
#ifdef HAVE_SYSTEMD
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s port %d", cfg.listen, port);
#endif
    uv_run(&loop, UV_RUN_DEFAULT);

    server_free(&srv);
    metrics_free(mx);
    int rc = uv_loop_close(&loop);
    if (rc != 0)
        log_warn("loop closed with handles still open");
    store_close(st);
    media_shutdown();
    guard_free(lookups);
    seal_keys_free(archive_keys);
    log_info("stopped");
    config_free(&cfg);
    return 0;
}
