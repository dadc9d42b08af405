/* ops.c: see ops.h. The calls run on the loop thread; the copy of a
 * backup runs in libuv's thread pool, so that neither the loop nor the
 * writer waits for it. */
#include "ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "blobs.h"
#include "check.h"
#include "log.h"

#define CODE(x) WHISTLE__V1__STATUS__CODE__##x
/* What a BackupChunk's frame needs besides the data: the response's id,
 * status, offsets and tags, with room to spare. */
#define CHUNK_OVERHEAD 1024
#define STREAM_PREFIX "stream-"

static void fail(conn *c, uint64_t id, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(conn *c, uint64_t id, int code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    st.code = code;
    st.message = msg;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &st;
    conn_send_response(c, &resp);
}

int ops_mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(buf, mode);
            *p = '/';
        }
    }
    if (mkdir(buf, mode) != 0) {
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
            return -1;
    }
    return 0;
}

/* A backup's name: a plain file name in backup_dir, never a path out of
 * it, never a hidden (or partial) file. */
static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 200 || n[0] == '.' || n[0] == '-')
        return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

static void utc_stamp(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* Removes a directory of photo files a failed backup left (two levels:
 * ab/<sha256>). */
static void remove_tree(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    char p[4600];
    while ((e = readdir(dh))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0 && (errno == EISDIR || errno == EPERM))
            remove_tree(p);
    }
    closedir(dh);
    rmdir(dir);
}

/* ------------------------------------------------------------ backup */

typedef struct backup_job {
    uv_work_t work;
    ops_state *o;
    conn *c;
    uint64_t id;
    int fd;
    int rc;
    uint64_t started_ms;
    bool streamed;       /* read back by the client: the store only */
    uint64_t blob_files; /* the photos' files copied beside it */
    char name[256];
    char path[4096], partial[4096];
} backup_job;

static void backup_work(uv_work_t *w)
{
    backup_job *j = w->data;
    j->rc = store_backup_fd(j->o->h->st->env, j->fd);
    /* the photos' files beside it (a streamed copy holds the store only):
     * after the snapshot, while no sweep removes any (photo_pins), so
     * every upload the copy names has its files in it */
    if (!j->rc && !j->streamed) {
        char blobs[4200];
        snprintf(blobs, sizeof blobs, "%s.blobs", j->partial);
        j->rc = blob_copy_all(j->o->h->st->photo_dir, blobs, &j->blob_files);
    }
}

static void backup_done(uv_work_t *w, int status)
{
    backup_job *j = w->data;
    ops_state *o = j->o;
    conn *c = j->c;
    o->backup_running = false;
    atomic_fetch_sub(&o->h->st->photo_pins, 1);
    close(j->fd);
    int rc = status ? status : j->rc;
    char why[4800] = "";
    if (rc)
        snprintf(why, sizeof why, "%s", rc > 0 ? mdb_strerror(rc) : uv_strerror(rc));
    /* The copy gets its name only when whole: a name in backup_dir is a
     * complete backup. link() refuses to replace a file of that name made
     * meanwhile. */
    char pblobs[4200], blobs[4200];
    snprintf(pblobs, sizeof pblobs, "%s.blobs", j->partial);
    snprintf(blobs, sizeof blobs, "%s.blobs", j->path);
    if (!rc && !j->streamed && rename(pblobs, blobs) != 0) {
        rc = errno;
        snprintf(why, sizeof why, "%s: %s", blobs, strerror(errno));
    }
    if (!rc && link(j->partial, j->path) != 0) {
        rc = errno;
        snprintf(why, sizeof why, "%s: %s", j->path, strerror(errno));
    }
    unlink(j->partial);
    if (rc)
        remove_tree(pblobs);
    uint64_t took = uv_now(o->h->loop) - j->started_ms;
    struct stat st;
    uint64_t bytes = !rc && stat(j->path, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (rc) {
        log_call(LOG_LVL_ERROR, "backup", c->cn, NULL, "backup by %s to %s failed: %s", c->cn, j->path, why);
        o->backups_failed++;
        if (!c->closing)
            fail(c, j->id, rc == ENOSPC || rc == EDQUOT ? CODE(RESOURCE_EXHAUSTED) : CODE(INTERNAL),
                 "the backup failed: %s", why);
    } else {
        log_call(LOG_LVL_INFO, "backup", c->cn, NULL, "backup by %s: %s, %llu bytes in %llu ms", c->cn, j->path,
                 (unsigned long long)bytes, (unsigned long long)took);
        o->backups_ok++;
        o->last_backup_unix = (int64_t)time(NULL);
        if (!c->closing) {
            Whistle__V1__BackupResult r = WHISTLE__V1__BACKUP_RESULT__INIT;
            r.name = j->name;
            r.path = j->path;
            r.bytes = bytes;
            r.took_ms = took;
            Whistle__V1__Status sst = WHISTLE__V1__STATUS__INIT;
            Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
            resp.id = j->id;
            resp.status = &sst;
            resp.result_case = WHISTLE__V1__RESPONSE__RESULT_BACKUP;
            resp.backup = &r;
            conn_send_response(c, &resp);
        }
    }
    conn_release(c);
    free(j);
}

/* A streamed copy whose client went away before its last chunk stays in
 * backup_dir; the next backup removes those a day old. */
static void sweep_streams(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, STREAM_PREFIX, strlen(STREAM_PREFIX)) != 0)
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > 86400) {
            log_info("backup: removing %s, a streamed copy never read to its end", path);
            unlink(path);
        }
    }
    closedir(d);
}

static void do_backup(ops_state *o, conn *c, uint64_t id, const Whistle__V1__Backup *b)
{
    const char *dir = o->cfg->backup_dir;
    if (o->backup_running) {
        fail(c, id, CODE(UNAVAILABLE), "a backup is being taken; try again when it is done");
        return;
    }
    if (o->h->draining) {
        fail(c, id, CODE(UNAVAILABLE), "the server is stopping");
        return;
    }
    backup_job *j = calloc(1, sizeof *j);
    if (!j) {
        fail(c, id, CODE(RESOURCE_EXHAUSTED), "out of memory");
        return;
    }
    char stamp[32];
    utc_stamp(stamp, sizeof stamp);
    if (b->stream)
        snprintf(j->name, sizeof j->name, STREAM_PREFIX "%s-%llu-%llu.mdb", stamp, (unsigned long long)c->id,
                 (unsigned long long)id);
    else if (b->name && *b->name) {
        if (!name_ok(b->name) || strncmp(b->name, STREAM_PREFIX, strlen(STREAM_PREFIX)) == 0) {
            fail(c, id, CODE(INVALID_ARGUMENT),
                 "backup name \"%.200s\": a file name in store.backup_dir (letters, digits, '.', '_', '-'; not "
                 "starting with '.', '-' or \"" STREAM_PREFIX "\")",
                 b->name);
            free(j);
            return;
        }
        snprintf(j->name, sizeof j->name, "%s", b->name);
    } else
        snprintf(j->name, sizeof j->name, "whistle-%s.mdb", stamp);
    if (ops_mkdir_p(dir, 0700) != 0) {
        fail(c, id, CODE(FAILED_PRECONDITION), "store.backup_dir = %s: cannot create it: %s", dir, strerror(errno));
        free(j);
        return;
    }
    sweep_streams(dir);
    snprintf(j->path, sizeof j->path, "%s/%s", dir, j->name);
    snprintf(j->partial, sizeof j->partial, "%s/.%s.partial", dir, j->name);
    if (access(j->path, F_OK) == 0) {
        fail(c, id, CODE(ALREADY_EXISTS), "%s exists: a backup never replaces a file", j->path);
        free(j);
        return;
    }
    /* a partial file left by a crash during an earlier copy is garbage */
    unlink(j->partial);
    j->fd = open(j->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        fail(c, id, CODE(FAILED_PRECONDITION), "cannot write %s: %s", j->partial, strerror(errno));
        free(j);
        return;
    }
    j->o = o;
    j->c = c;
    j->id = id;
    j->streamed = b->stream;
    j->started_ms = uv_now(o->h->loop);
    j->work.data = j;
    audit_read_queue(o->h->st, hub_now_ms(o->h), c->cn, "backup", "store", j->name);
    int rc = uv_queue_work(o->h->loop, &j->work, backup_work, backup_done);
    if (rc != 0) {
        close(j->fd);
        unlink(j->partial);
        fail(c, id, CODE(INTERNAL), "cannot start the copy: %s", uv_strerror(rc));
        free(j);
        return;
    }
    o->backup_running = true;
    atomic_fetch_add(&o->h->st->photo_pins, 1);
    conn_hold(c);
}

/* One chunk of a backup in backup_dir. A read of up to a frame from a
 * file just written (in the page cache) is short enough for the loop
 * thread. The last chunk of a streamed backup removes it. */
static void do_backup_read(ops_state *o, conn *c, uint64_t id, const Whistle__V1__BackupRead *b)
{
    if (!b->name || !name_ok(b->name)) {
        fail(c, id, CODE(INVALID_ARGUMENT), "backup name: a file name from a BackupResult");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->cfg->backup_dir, b->name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(c, id, errno == ENOENT ? CODE(NOT_FOUND) : CODE(INTERNAL), "%s: %s", path, strerror(errno));
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        fail(c, id, CODE(NOT_FOUND), "%s: not a backup", path);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (b->offset > size) {
        close(fd);
        fail(c, id, CODE(OUT_OF_RANGE), "offset %llu is past the end (%llu bytes)", (unsigned long long)b->offset,
             (unsigned long long)size);
        return;
    }
    uint32_t mf = c->hub->lim.max_frame; /* at least 1,024 (config.c) */
    size_t want = mf > 2 * CHUNK_OVERHEAD ? mf - CHUNK_OVERHEAD : mf / 4;
    if (want > size - b->offset)
        want = (size_t)(size - b->offset);
    uint8_t *buf = malloc(want ? want : 1);
    if (!buf) {
        close(fd);
        fail(c, id, CODE(RESOURCE_EXHAUSTED), "out of memory");
        return;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, buf + got, want - got, (off_t)(b->offset + got));
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (got < want) {
        free(buf);
        fail(c, id, CODE(INTERNAL), "%s: short read", path);
        return;
    }
    Whistle__V1__BackupChunk ch = WHISTLE__V1__BACKUP_CHUNK__INIT;
    ch.data.data = buf;
    ch.data.len = got;
    ch.offset = b->offset;
    ch.size = size;
    ch.eof = b->offset + got >= size;
    if (ch.eof && strncmp(b->name, STREAM_PREFIX, strlen(STREAM_PREFIX)) == 0)
        unlink(path);
    if (b->offset == 0)
        audit_read_queue(o->h->st, hub_now_ms(o->h), c->cn, "backup_read", "store", b->name);
    Whistle__V1__Status sst = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &sst;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_BACKUP_CHUNK;
    resp.backup_chunk = &ch;
    conn_send_response(c, &resp);
    free(buf);
}

/* ------------------------------------------------------------ log level */

static void do_set_log_level(ops_state *o, conn *c, uint64_t id, const Whistle__V1__SetLogLevel *l)
{
    int prev = log_get_level();
    bool prev_access = log_access_on();
    if (l->level && *l->level) {
        int lv = log_level_parse(l->level);
        if (lv < 0) {
            fail(c, id, CODE(INVALID_ARGUMENT), "level \"%.40s\": expected error, warn, info or debug", l->level);
            return;
        }
        log_set_level(lv);
        log_set_access(l->access_log);
        log_call(LOG_LVL_WARN, "set_log_level", c->cn, NULL, "log level set to %s%s by %s (was %s%s)",
                 log_level_name(lv), l->access_log ? " with the access log" : "", c->cn, log_level_name(prev),
                 prev_access ? " with the access log" : "");
        audit_read_queue(o->h->st, hub_now_ms(o->h), c->cn, "set_log_level", "log", log_level_name(lv));
    }
    Whistle__V1__LogLevelResult r = WHISTLE__V1__LOG_LEVEL_RESULT__INIT;
    r.level = (char *)log_level_name(log_get_level());
    r.previous = (char *)log_level_name(prev);
    r.access_log = log_access_on();
    Whistle__V1__Status sst = WHISTLE__V1__STATUS__INIT;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &sst;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_LOG_LEVEL;
    resp.log_level = &r;
    conn_send_response(c, &resp);
}

void ops_call(ops_state *o, conn *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_BACKUP: do_backup(o, c, req->id, req->backup); break;
    case WHISTLE__V1__REQUEST__CALL_BACKUP_READ: do_backup_read(o, c, req->id, req->backup_read); break;
    case WHISTLE__V1__REQUEST__CALL_SET_LOG_LEVEL: do_set_log_level(o, c, req->id, req->set_log_level); break;
    default: fail(c, req->id, CODE(INTERNAL), "not an operations call"); break;
    }
}

void ops_reload_log(const config *cfg)
{
    if (!cfg->path)
        return;
    config fresh;
    char err[512];
    config_defaults(&fresh);
    if (config_load(&fresh, cfg->path, err, sizeof err) < 0) {
        log_error("SIGHUP: %s: keeping log level %s: %s", cfg->path, log_level_name(log_get_level()), err);
        config_free(&fresh);
        return;
    }
    if (fresh.log_level != log_get_level() || fresh.access_log != log_access_on())
        log_msg(LOG_LVL_WARN, "SIGHUP: log level %s%s (was %s)", log_level_name(fresh.log_level),
                fresh.access_log ? " with the access log" : "", log_level_name(log_get_level()));
    log_set_level(fresh.log_level);
    log_set_access(fresh.access_log);
    config_free(&fresh);
}

/* ------------------------------------------------------------ offline */

int ops_check_copy(const char *file, FILE *out, check_report *rep, char *err, size_t errlen)
{
    char dir[4096], data[4200], lock[4200];
    if (snprintf(dir, sizeof dir, "%s.check-XXXXXX", file) >= (int)sizeof dir || !mkdtemp(dir)) {
        snprintf(err, errlen, "%s: cannot make a directory beside it to check it: %s", file, strerror(errno));
        return 2;
    }
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
    int rc;
    /* a link, not a copy: the checker reads the file itself */
    if (link(file, data) != 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        rc = 2;
    } else {
        /* the photos' files beside the copy, when it has them */
        char blobs[4300];
        snprintf(blobs, sizeof blobs, "%s.blobs", file);
        struct stat sb;
        bool with = stat(blobs, &sb) == 0 && S_ISDIR(sb.st_mode);
        /* the photos' sizes, not their hashes: a nightly backup does not
         * read every photo again (whistled --check does) */
        rc = check_store_blobs(dir, with ? blobs : NULL, false, out, rep, err, errlen);
    }
    unlink(data);
    unlink(lock);
    rmdir(dir);
    return rc;
}

int ops_backup_offline(const config *cfg, const char *file, char *err, size_t errlen)
{
    char partial[4200];
    snprintf(partial, sizeof partial, "%s.partial", file);
    if (access(file, F_OK) == 0) {
        snprintf(err, errlen, "%s exists: a backup never replaces a file", file);
        return -1;
    }
    unlink(partial);
    int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", partial, strerror(errno));
        return -1;
    }
    int rc = store_backup_dir(cfg->store_dir, fd, err, errlen);
    close(fd);
    char pblobs[4300], blobs[4300];
    snprintf(pblobs, sizeof pblobs, "%s.blobs", partial);
    snprintf(blobs, sizeof blobs, "%s.blobs", file);
    if (rc == 0) {
        /* the photos' files, after the snapshot (docs/photos.md: a sweep
         * by the daemon meanwhile fails the check below; run it again) */
        uint64_t n = 0;
        int brc = blob_copy_all(config_photo_dir(cfg), pblobs, &n);
        if (brc) {
            snprintf(err, errlen, "copying the photos to %s: %s", pblobs, strerror(brc));
            rc = -1;
        }
    }
    if (rc == 0) {
        check_report rep;
        char cerr[512];
        int ck = ops_check_copy(partial, stderr, &rep, cerr, sizeof cerr);
        if (ck != 0) {
            snprintf(err, errlen, "the copy does not check clean (%s); not kept",
                     ck == 2 ? cerr : "violations listed above");
            rc = -1;
        }
    }
    if (rc == 0 && rename(pblobs, blobs) != 0) {
        snprintf(err, errlen, "%s: %s", blobs, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && link(partial, file) != 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        rc = -1;
    }
    unlink(partial);
    if (rc != 0)
        remove_tree(pblobs);
    return rc;
}

static int copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
        return -1;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        close(in);
        return -1;
    }
    char buf[1 << 16];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(out, buf + w, (size_t)(n - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                rc = -1;
                break;
            }
            w += k;
        }
        if (rc)
            break;
    }
    if (n < 0 || rc || fsync(out) != 0) {
        snprintf(err, errlen, "copying %s to %s: %s", from, to, strerror(errno));
        rc = -1;
    }
    close(in);
    close(out);
    if (rc)
        unlink(to);
    return rc;
}

int ops_restore(const config *cfg, const char *file, char *err, size_t errlen)
{
    const char *dir = cfg->store_dir;
    if (store_in_use(dir)) {
        snprintf(err, errlen,
                 "store.dir = %s is in use (a whistled serves it, or a check or backup reads it): stop it first "
                 "(systemctl stop whistled)",
                 dir);
        return -1;
    }
    check_report rep;
    char cerr[512];
    int ck = ops_check_copy(file, stdout, &rep, cerr, sizeof cerr);
    if (ck != 0) {
        snprintf(err, errlen, "%s does not check clean (%s); the store was not touched", file,
                 ck == 2 ? cerr : "violations listed above");
        return -1;
    }
    if (ops_mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "store.dir = %s: cannot create it: %s", dir, strerror(errno));
        return -1;
    }
    char data[4200], lock[4200], incoming[4200], aside[4300];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
    snprintf(incoming, sizeof incoming, "%s/data.mdb.restoring", dir);
    unlink(incoming);
    if (copy_file(file, incoming, err, errlen) < 0)
        return -1;
    /* The store it replaces is kept beside it, never removed: a restore
     * of the wrong file is undone by renaming it back. */
    if (access(data, F_OK) == 0) {
        char stamp[32];
        utc_stamp(stamp, sizeof stamp);
        /* link() never replaces: two restores in one second keep both */
        int k = 0, lrc;
        do {
            if (k == 0)
                snprintf(aside, sizeof aside, "%s/data.mdb.before-restore-%s", dir, stamp);
            else
                snprintf(aside, sizeof aside, "%s/data.mdb.before-restore-%s-%d", dir, stamp, k);
            lrc = link(data, aside);
        } while (lrc != 0 && errno == EEXIST && ++k < 1000);
        if (lrc != 0 || unlink(data) != 0) {
            snprintf(err, errlen, "cannot move %s aside: %s", data, strerror(errno));
            unlink(incoming);
            return -1;
        }
        printf("whistled: restore: the store it replaces is kept as %s\n", aside);
    }
    unlink(lock); /* no process has it (checked above): a new one is made on open */
    if (rename(incoming, data) != 0) {
        snprintf(err, errlen, "cannot put %s in place: %s", data, strerror(errno));
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    /* the photos' files of the backup that the store lacks */
    char blobs[4300];
    snprintf(blobs, sizeof blobs, "%s.blobs", file);
    struct stat sb;
    if (stat(blobs, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        uint64_t n = 0;
        int brc = blob_restore_from(blobs, config_photo_dir(cfg), &n);
        if (brc) {
            snprintf(err, errlen, "restoring the photos from %s: %s", blobs, strerror(brc));
            return -1;
        }
        printf("whistled: restore: %llu photo files restored from %s\n", (unsigned long long)n, blobs);
    }
    /* The normal open path: what whistled does at start. */
    store *st = NULL;
    store_opts so = {
        .map_size = cfg->map_size, .map_max = cfg->map_max, .sync = cfg->sync, .photo_dir = config_photo_dir(cfg)
    };
    if (store_open(&st, dir, &so, err, errlen) < 0)
        return -1;
    store_close(st);
    printf("whistled: restore: %s restored into %s (%llu cases, %llu orders, %llu audit records)\n", file, dir,
           (unsigned long long)rep.events, (unsigned long long)rep.orders, (unsigned long long)rep.audit_records);
    return 0;
}
