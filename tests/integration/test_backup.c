/* Backups (docs/operations.md): `whistle admin backup` while reports
 * keep coming, on the server and streamed to the client; `whistled
 * --restore` refuses a store in use, and restores a stopped one; the
 * restored store holds every report acknowledged before the backup was
 * asked for, and checks clean. Also whistled --backup beside a running
 * daemon, the rules on names, and the role gate. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static daemon_h d;
static char bkdir[256];

static void setup(void)
{
    snprintf(bkdir, sizeof bkdir, "/tmp/whistle-bk-XXXXXX");
    cr_assert(mkdtemp(bkdir));
    char extra[512];
    snprintf(extra, sizeof extra, "[store]\nbackup_dir = %s/server\n", bkdir);
    harness_start(&d, extra);
}
static void teardown(void)
{
    harness_cleanup(&d);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", bkdir);
    cr_expect_eq(system(cmd), 0);
}
TestSuite(backup, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the load: reports, one after the other, each acknowledged */

#define MAX_TICKETS 20000
static struct {
    pthread_mutex_t mu;
    char *tickets[MAX_TICKETS];
    size_t n;
    atomic_bool stop;
    int errors;
} load = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void *loader(void *arg)
{
    whistle_client *c = arg;
    while (!atomic_load(&load.stop)) {
        Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
        r.node = FIRST_GRID;
        r.category = "0401";
        r.description = "stall at the gate, reported during a backup";
        r.contact = "13800001234";
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
        req.report = &r;
        Whistle__V1__Response *resp = NULL;
        if (whistle_call(c, &req, &resp) != 0 || !resp || resp->status->code != 0 ||
            resp->result_case != WHISTLE__V1__RESPONSE__RESULT_EVENT) {
            load.errors++;
            whistle_response_free(resp);
            break;
        }
        pthread_mutex_lock(&load.mu);
        if (load.n < MAX_TICKETS)
            load.tickets[load.n++] = strdup(resp->event->ticket);
        pthread_mutex_unlock(&load.mu);
        whistle_response_free(resp);
    }
    return NULL;
}

static size_t acked_now(void)
{
    pthread_mutex_lock(&load.mu);
    size_t n = load.n;
    pthread_mutex_unlock(&load.mu);
    return n;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static Whistle__V1__Response *backup_call(whistle_client *c, const char *name, int want_code)
{
    Whistle__V1__Backup b = WHISTLE__V1__BACKUP__INIT;
    b.name = (char *)(name ? name : "");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_BACKUP;
    req.backup = &b;
    if (want_code) {
        harness_call_fail(c, &req, want_code);
        return NULL;
    }
    Whistle__V1__Response *resp = harness_call_ok(c, &req);
    cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_BACKUP);
    return resp;
}

Test(backup, under_load_restores_every_acknowledged_write)
{
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *admin = harness_connect(&d, "admin");
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, loader, op), 0);
    while (acked_now() < 50 && !load.errors)
        usleep(10000);

    /* on the server, by name, while the reports go on */
    size_t before_server = acked_now();
    Whistle__V1__Response *r = backup_call(admin, "nightly.mdb", 0);
    cr_expect_str_eq(r->backup->name, "nightly.mdb");
    cr_expect_gt(r->backup->bytes, 0);
    char server_copy[600];
    snprintf(server_copy, sizeof server_copy, "%s/server/nightly.mdb", bkdir);
    struct stat st;
    cr_assert_eq(stat(server_copy, &st), 0, "the backup is in backup_dir");
    cr_expect_eq((uint64_t)st.st_size, r->backup->bytes);
    cr_expect_eq(st.st_mode & 077, 0, "a backup is readable by the daemon's user only");
    whistle_response_free(r);
    /* never over an existing file, nor out of backup_dir */
    backup_call(admin, "nightly.mdb", WHISTLE__V1__STATUS__CODE__ALREADY_EXISTS);
    backup_call(admin, "../escape.mdb", WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT);
    backup_call(admin, ".hidden", WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT);

    /* streamed to the client by the CLI, in chunks, while the reports go on */
    size_t before_stream = acked_now();
    char streamed[600];
    snprintf(streamed, sizeof streamed, "%s/streamed.mdb", bkdir);
    cr_assert_eq(sh("WHISTLE_CONFIG=/dev/null %s --host 127.0.0.1 --port %d --pki %s --as admin "
                    "admin backup --to %s 2>%s/cli.err",
                    WHISTLE_CLI_BIN, d.port, harness_pki(), streamed, bkdir),
                 0, "whistle admin backup --to");
    cr_assert_eq(sh("WHISTLE_CONFIG=/dev/null %s --host 127.0.0.1 --port %d --pki %s --as admin "
                    "admin backup --to %s 2>/dev/null",
                    WHISTLE_CLI_BIN, d.port, harness_pki(), streamed),
                 2, "--to refuses an existing file");
    cr_assert_eq(stat(streamed, &st), 0);
    cr_expect_eq(st.st_mode & 077, 0, "the streamed copy is the caller's alone");
    /* the streamed copy's file on the server is gone once read */
    cr_expect_eq(sh("ls %s/server | grep -q '^stream-'", bkdir), 1, "the streamed copy was removed");

    /* whistled --backup beside the running daemon */
    size_t before_offline = acked_now();
    char offline[600];
    snprintf(offline, sizeof offline, "%s/offline.mdb", bkdir);
    cr_assert_eq(sh("%s --state-dir %s/state --backup %s >/dev/null", WHISTLED_BIN, d.dir, offline), 0);

    usleep(200000);
    atomic_store(&load.stop, true);
    pthread_join(th, NULL);
    cr_assert_eq(load.errors, 0, "every report of the load was acknowledged");
    size_t total = acked_now();
    cr_assert_gt(total, before_offline, "reports went on during the backups");

    /* a restore refuses the store the daemon serves */
    cr_expect_eq(
        sh("%s --state-dir %s/state --restore %s >/dev/null 2>%s/restore.err", WHISTLED_BIN, d.dir, streamed, bkdir),
        1);
    cr_expect_eq(sh("grep -q 'in use' %s/restore.err", bkdir), 0, "it says why");
    whistle_close(op);
    whistle_close(admin);

    /* each copy, restored into the stopped daemon's store, holds what was
     * acknowledged before it was asked for */
    const char *copies[] = { server_copy, streamed, offline };
    size_t befores[] = { before_server, before_stream, before_offline };
    for (int k = 0; k < 3; k++) {
        harness_stop(&d);
        cr_assert_eq(sh("%s --state-dir %s/state --restore %s >/dev/null", WHISTLED_BIN, d.dir, copies[k]), 0,
                     "restore of %s", copies[k]);
        char out[4096];
        cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "the restored store checks clean: %s", out);
        harness_restart(&d);
        whistle_client *c = harness_connect(&d, "operator");
        for (size_t i = 0; i < befores[k]; i++) {
            Whistle__V1__Response *keep;
            Whistle__V1__Event *ev = h_get(c, load.tickets[i], &keep);
            cr_assert_str_eq(ev->ticket, load.tickets[i]);
            whistle_response_free(keep);
        }
        whistle_close(c);
    }
    /* the stores replaced are kept beside the restored one */
    cr_expect_eq(sh("test $(ls %s/state | grep -c before-restore) -ge 2", d.dir), 0);
    for (size_t i = 0; i < total; i++)
        free(load.tickets[i]);
}

Test(backup, restore_refuses_a_copy_that_does_not_check)
{
    char bad[600];
    snprintf(bad, sizeof bad, "%s/garbage.mdb", bkdir);
    cr_assert_eq(sh("head -c 65536 /dev/urandom > %s", bad), 0);
    harness_stop(&d);
    cr_expect_eq(sh("%s --state-dir %s/state --restore %s >/dev/null 2>&1", WHISTLED_BIN, d.dir, bad), 1);
    char out[4096];
    cr_expect_eq(harness_check_store(&d, out, sizeof out), 0, "the store is untouched: %s", out);
    cr_expect_eq(sh("ls %s/state | grep -q before-restore", d.dir), 1, "nothing moved aside");
}

Test(backup, only_admins)
{
    whistle_client *op = harness_connect(&d, "operator");
    backup_call(op, "x.mdb", WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED);
    Whistle__V1__BackupRead rd = WHISTLE__V1__BACKUP_READ__INIT;
    rd.name = "x.mdb";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_BACKUP_READ;
    req.backup_read = &rd;
    harness_call_fail(op, &req, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED);
    Whistle__V1__SetLogLevel sl = WHISTLE__V1__SET_LOG_LEVEL__INIT;
    sl.level = "debug";
    Whistle__V1__Request req2 = WHISTLE__V1__REQUEST__INIT;
    req2.call_case = WHISTLE__V1__REQUEST__CALL_SET_LOG_LEVEL;
    req2.set_log_level = &sl;
    harness_call_fail(op, &req2, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED);
    whistle_close(op);
}

/* The log level by the call and by SIGHUP (re-read from the config), and
 * the access log naming the call and the principal. */
Test(backup, log_level_by_call_and_sighup)
{
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__SetLogLevel sl = WHISTLE__V1__SET_LOG_LEVEL__INIT;
    sl.level = "warn";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SET_LOG_LEVEL;
    req.set_log_level = &sl;
    Whistle__V1__Response *r = harness_call_ok(admin, &req);
    cr_expect_str_eq(r->log_level->level, "warn");
    cr_expect_str_eq(r->log_level->previous, "debug", "the tests' config says debug");
    cr_expect(!r->log_level->access_log);
    whistle_response_free(r);
    sl.level = "debug";
    sl.access_log = true;
    r = harness_call_ok(admin, &req);
    cr_expect_str_eq(r->log_level->level, "debug");
    cr_expect_str_eq(r->log_level->previous, "warn");
    cr_expect(r->log_level->access_log);
    whistle_response_free(r);
    sl.level = "loud";
    harness_call_fail(admin, &req, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT);
    whistle_client *op = harness_connect(&d, "operator");
    char *t = h_report(op, FIRST_GRID, "0401", "a stall");
    Whistle__V1__Response *keep;
    h_get(op, t, &keep);
    whistle_response_free(keep);
    char line[200];
    snprintf(line, sizeof line, "access: operator get id");
    cr_expect(harness_log_wait(&d, line, 5000), "the access log shows the call");
    snprintf(line, sizeof line, "ticket %s", t);
    cr_expect(harness_log_contains(&d, line), "with its ticket");
    free(t);
    /* SIGHUP: back to the config's (debug, no access log) */
    harness_signal(&d, SIGHUP);
    cr_expect(harness_log_wait(&d, "SIGHUP: log level debug (was debug)", 5000));
    sl.level = "";
    r = harness_call_ok(admin, &req);
    cr_expect_str_eq(r->log_level->level, "debug");
    cr_expect(!r->log_level->access_log);
    whistle_response_free(r);
    whistle_close(op);
    whistle_close(admin);
}

/* A streamed copy never read to its end is removed a day later, at the
 * next backup; a recent one, or a named backup, is not. */
Test(backup, stale_streamed_copies_are_swept)
{
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__Response *r = backup_call(admin, "first.mdb", 0);
    whistle_response_free(r);
    cr_assert_eq(sh("cd %s/server && echo x > stream-old.mdb && touch -d '2 days ago' stream-old.mdb && "
                    "echo x > stream-new.mdb && touch -d '2 days ago' first.mdb",
                    bkdir),
                 0);
    r = backup_call(admin, "second.mdb", 0);
    whistle_response_free(r);
    cr_expect_neq(sh("test -e %s/server/stream-old.mdb", bkdir), 0, "the stale streamed copy is gone");
    cr_expect_eq(sh("test -e %s/server/stream-new.mdb", bkdir), 0, "a recent one is kept");
    cr_expect_eq(sh("test -e %s/server/first.mdb", bkdir), 0, "named backups are never swept");
    whistle_close(admin);
}
