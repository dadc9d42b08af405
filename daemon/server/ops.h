/* ops.h: what an operator does to a running daemon and to its store
 * (docs/operations.md): backups (the backup and backup_read calls, and
 * whistled --backup beside a running daemon), restores (whistled
 * --restore), and the log level (the set_log_level call, SIGHUP). */
#ifndef WHISTLED_OPS_H
#define WHISTLED_OPS_H

#include <stdio.h>
#include <sys/types.h>

#include "check.h"
#include "config.h"
#include "conn.h"

/* What the calls need of the server, kept in it. */
typedef struct ops_state {
    const config *cfg;
    hub *h;
    bool backup_running; /* a backup's copy is in the thread pool */
    uint64_t backups_ok, backups_failed;
    int64_t last_backup_unix; /* the end of the last backup that succeeded (0: none) */
} ops_state;

/* The hub's ops_call hook: backup, backup_read, set_log_level, for an
 * admin (the router checked the role). */
void ops_call(ops_state *o, conn *c, const Whistle__V1__Request *req);
/* SIGHUP: [log] level and access re-read from the config file; a file
 * that no longer loads keeps the current ones, with an error line. */
void ops_reload_log(const config *cfg);

/* whistled --backup FILE: a compacted copy of store.dir written to FILE
 * (never over an existing file), kept only if it checks clean. 0, or -1
 * with err. */
int ops_backup_offline(const config *cfg, const char *file, char *err, size_t errlen);
/* whistled --restore FILE: FILE checked (as --check does), then put in
 * place as store.dir's data.mdb, the store it replaces kept beside it as
 * data.mdb.before-restore-TIME; refused while any process has store.dir
 * open. The restored store is then opened as at start. 0, or -1 with err. */
int ops_restore(const config *cfg, const char *file, char *err, size_t errlen);
/* check_store on a single backup file (a store's data.mdb). */
int ops_check_copy(const char *file, FILE *out, check_report *rep, char *err, size_t errlen);
int ops_mkdir_p(const char *path, mode_t mode);

#endif
