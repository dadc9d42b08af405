/* plshim.so: an LD_PRELOAD library that lets a test take away, after the
 * process is killed, every write that had not been flushed: a power cut,
 * simulated (docs/reliability.md, "Power loss"; plrestore.c undoes).
 *
 *   WHISTLE_PLSHIM_ROOT=DIR WHISTLE_PLSHIM_JOURNAL=FILE LD_PRELOAD=plshim.so prog
 *
 * Writes go through as always (LMDB reads what it wrote through its map,
 * so nothing may be hidden from the process); before each change to a
 * regular file under DIR, the bytes it replaces and the file's size are
 * appended to FILE (pljournal.h). A flush that returns (fsync, fdatasync,
 * sync_file_range with wait, a write through an O_DSYNC/O_SYNC descriptor,
 * sync, syncfs) is noted there too, and so is, for an fsync of a
 * directory, the directory's entries at that moment. The journal is
 * written with plain write(): it lives in the page cache, which a SIGKILL
 * leaves intact; what it simulates is the loss of that cache, not
 * surviving it.
 *
 * Calls seen: write, pwrite, pwrite64, writev, pwritev, pwritev64,
 * pwritev2, ftruncate, ftruncate64, truncate, fallocate, posix_fallocate,
 * fsync, fdatasync, sync_file_range, sync, syncfs; and unlink, unlinkat,
 * rename and renameat, only to note an inode that lost its last name
 * (its number may then be given to a new file). Not seen: writes through
 * a shared writable map (only LMDB's lock file, which holds nothing that
 * must survive), stdio (glibc writes through its own internal calls; no
 * store file uses it), copy_file_range/sendfile/splice, and creating,
 * renaming or removing a file (plrestore compares the directories with
 * their flushed entries instead).
 *
 * Every recorded change and its journal record are made under one lock,
 * so seq orders them as they happened, whichever thread made them; a
 * flush notes the last seq before it started, so a write racing it is
 * counted as not flushed (a power cut may take it: a valid outcome).
 *
 * WHISTLE_PLSHIM_FLUSH_DELAY_MS=N makes each flush of a file take N ms
 * more (a slow disk), which holds open the moments between a change and
 * its flush for a test to reach into.
 *
 * The variables are removed from the environment at start, so programs
 * the process runs do not write to its journal. Built without
 * sanitizers; under an ASan-built program the ASan runtime goes first in
 * LD_PRELOAD (its interceptors then call these). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pljournal.h"

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_truncate)(const char *, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);
static void (*real_sync)(void);
static int (*real_syncfs)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int jfd = -1; /* the journal; -1: the shim is off */
static char root[PATH_MAX];
static size_t rootlen;
static uint64_t seq;
static unsigned flush_delay_ms;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    /* A record that cannot be kept would make the test pass for nothing. */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "plshim: %s\n", msg);
    abort();
}

#define LOAD(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)

static void snapshot_tree(const char *dir, int depth);

static void init(void)
{
    LOAD(write);
    LOAD(pwrite);
    LOAD(pwrite64);
    LOAD(writev);
    LOAD(pwritev);
    LOAD(pwritev64);
    LOAD(pwritev2);
    LOAD(ftruncate);
    LOAD(ftruncate64);
    LOAD(truncate);
    LOAD(fallocate);
    LOAD(posix_fallocate);
    LOAD(fsync);
    LOAD(fdatasync);
    LOAD(sync_file_range);
    LOAD(sync);
    LOAD(syncfs);
    LOAD(unlink);
    LOAD(unlinkat);
    LOAD(rename);
    LOAD(renameat);
    const char *r = getenv("WHISTLE_PLSHIM_ROOT"), *j = getenv("WHISTLE_PLSHIM_JOURNAL");
    if (!r || !j)
        return;
    if (!realpath(r, root))
        die("WHISTLE_PLSHIM_ROOT %s: %s (make it before starting the program)", r, strerror(errno));
    rootlen = strlen(root);
    jfd = open(j, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (jfd < 0)
        die("cannot open the journal %s: %s", j, strerror(errno));
    const char *delay = getenv("WHISTLE_PLSHIM_FLUSH_DELAY_MS");
    flush_delay_ms = delay ? (unsigned)strtoul(delay, NULL, 10) : 0;
    unsetenv("WHISTLE_PLSHIM_FLUSH_DELAY_MS");
    unsetenv("WHISTLE_PLSHIM_ROOT");
    unsetenv("WHISTLE_PLSHIM_JOURNAL");
    /* What is there now is what the disk holds: the state a previous cut
     * (plrestore) left, or a store stopped cleanly. */
    pthread_mutex_lock(&mu);
    snapshot_tree(root, 0);
    pthread_mutex_unlock(&mu);
}

static void ensure(void) { pthread_once(&once, init); }

__attribute__((constructor)) static void plshim_start(void) { ensure(); }

/* Appends header and payload; under mu. */
static void journal(const pl_rec *h, const void *p1, size_t n1, const void *p2, size_t n2)
{
    struct iovec iov[3] = { { (void *)h, sizeof *h }, { (void *)p1, n1 }, { (void *)p2, n2 } };
    int cnt = 3, i = 0;
    while (i < cnt) {
        ssize_t n = real_writev(jfd, iov + i, cnt - i);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("the journal: %s", strerror(errno));
        }
        while (i < cnt && (size_t)n >= iov[i].iov_len) {
            n -= (ssize_t)iov[i].iov_len;
            i++;
        }
        if (i < cnt) {
            iov[i].iov_base = (char *)iov[i].iov_base + n;
            iov[i].iov_len -= (size_t)n;
        }
    }
}

/* The path of fd; 1 when it is root or under it. */
static int under_root(int fd, char *path, size_t len)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, len - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    return strncmp(path, root, rootlen) == 0 && (path[rootlen] == '/' || path[rootlen] == 0);
}

/* A regular file under root: its stat. */
static int tracked(int fd, struct stat *st)
{
    ensure();
    if (jfd < 0 || fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
        return 0;
    char path[PATH_MAX];
    return under_root(fd, path, sizeof path);
}

static int synchronous(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & (O_DSYNC | O_SYNC));
}

/* Journals a change of [off, off + len) of fd (st: its stat now) to a
 * file of newsize bytes; under mu. The bytes replaced are read back
 * first (through /proc when fd is write-only). */
static void note_change(int fd, const struct stat *st, uint64_t off, uint64_t len, uint64_t newsize)
{
    uint64_t old = (uint64_t)st->st_size;
    size_t plen = off < old ? (size_t)(len < old - off ? len : old - off) : 0;
    uint8_t *pre = plen ? malloc(plen) : NULL;
    if (plen && !pre)
        die("out of memory for a pre-image of %zu bytes", plen);
    int rfd = fd, opened = -1;
    size_t got = 0;
    while (got < plen) {
        ssize_t n = pread(rfd, pre + got, plen - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EBADF && opened < 0) {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            opened = rfd = open(link, O_RDONLY | O_CLOEXEC);
            if (rfd >= 0)
                continue;
        }
        if (n <= 0)
            die("cannot read back %zu bytes at %llu of inode %llu: %s", plen, (unsigned long long)off,
                (unsigned long long)st->st_ino, n < 0 ? strerror(errno) : "end of file");
        got += (size_t)n;
    }
    if (opened >= 0)
        close(opened);
    pl_rec h = { .magic = PL_MAGIC,
                 .type = PL_WRITE,
                 .seq = ++seq,
                 .dev = (uint64_t)st->st_dev,
                 .ino = (uint64_t)st->st_ino,
                 .off = off,
                 .len = len,
                 .oldsize = old,
                 .newsize = newsize,
                 .payload = plen };
    journal(&h, pre, plen, NULL, 0);
    free(pre);
}

/* A write through an O_DSYNC/O_SYNC descriptor is on disk when it
 * returns, and with it the pages it lands on; under mu. (Noted before the
 * write: a SIGKILL between the two is far less likely than the write
 * itself, and would only keep an older version of those pages.) */
static void note_range(const struct stat *st, uint64_t off, uint64_t len)
{
    pl_rec h = { .magic = PL_MAGIC,
                 .type = PL_RANGE,
                 .seq = ++seq,
                 .dev = (uint64_t)st->st_dev,
                 .ino = (uint64_t)st->st_ino,
                 .off = off,
                 .len = len };
    journal(&h, NULL, 0, NULL, 0);
}

/* The entries of dir, as a PL_DIR record's payload (malloc'd). */
static char *list_dir(const char *dir, size_t *len)
{
    size_t cap = 4096, n = strlen(dir) + 1;
    char *buf = malloc(cap);
    if (!buf)
        die("out of memory");
    memcpy(buf, dir, n);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t l = strlen(e->d_name) + 1;
        if (n + l > cap) {
            cap = (n + l) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                die("out of memory");
        }
        memcpy(buf + n, e->d_name, l);
        n += l;
    }
    if (d)
        closedir(d);
    *len = n;
    return buf;
}

static void note_dir(const char *listing, size_t len)
{
    pl_rec h = { .magic = PL_MAGIC, .type = PL_DIR, .seq = seq, .payload = len };
    journal(&h, listing, len, NULL, 0);
}

/* Every directory under dir as it is now; under mu. */
static void snapshot_tree(const char *dir, int depth)
{
    size_t len;
    char *l = list_dir(dir, &len);
    note_dir(l, len);
    free(l);
    if (depth > 16)
        return;
    DIR *d = opendir(dir);
    struct dirent *e;
    char sub[PATH_MAX];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) < (int)sizeof sub && lstat(sub, &st) == 0 &&
            S_ISDIR(st.st_mode))
            snapshot_tree(sub, depth + 1);
    }
    if (d)
        closedir(d);
}

/* ------------------------------------------------------------ writes */

static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* Runs a write of len bytes at off (-1: the file position) through the
 * journal. */
#define WRITE_THROUGH(fd, off_in, len, call)                                                                           \
    do {                                                                                                               \
        struct stat st_;                                                                                               \
        if (!tracked(fd, &st_))                                                                                        \
            return call;                                                                                               \
        pthread_mutex_lock(&mu);                                                                                       \
        fstat(fd, &st_);                                                                                               \
        int fl_ = fcntl(fd, F_GETFL);                                                                                  \
        int64_t o_ = (off_in);                                                                                         \
        if (fl_ >= 0 && (fl_ & O_APPEND))                                                                              \
            o_ = (int64_t)st_.st_size;                                                                                 \
        else if (o_ < 0)                                                                                               \
            o_ = (int64_t)lseek(fd, 0, SEEK_CUR);                                                                      \
        uint64_t end_ = (uint64_t)o_ + (uint64_t)(len);                                                                \
        if (o_ >= 0 && (len) > 0) {                                                                                    \
            if (synchronous(fd))                                                                                       \
                note_range(&st_, (uint64_t)o_, (uint64_t)(len));                                                       \
            else                                                                                                       \
                note_change(fd, &st_, (uint64_t)o_, (uint64_t)(len),                                                   \
                            end_ > (uint64_t)st_.st_size ? end_ : (uint64_t)st_.st_size);                              \
        }                                                                                                              \
        ssize_t r_ = call;                                                                                             \
        int e_ = errno;                                                                                                \
        pthread_mutex_unlock(&mu);                                                                                     \
        errno = e_;                                                                                                    \
        return r_;                                                                                                     \
    } while (0)

ssize_t write(int fd, const void *buf, size_t n)
{
    ensure();
    WRITE_THROUGH(fd, -1, n, real_write(fd, buf, n));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ensure();
    WRITE_THROUGH(fd, off, n, real_pwrite(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    ensure();
    WRITE_THROUGH(fd, off, n, real_pwrite64(fd, buf, n, off));
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    ensure();
    WRITE_THROUGH(fd, -1, iov_total(iov, cnt), real_writev(fd, iov, cnt));
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ensure();
    WRITE_THROUGH(fd, off, iov_total(iov, cnt), real_pwritev(fd, iov, cnt, off));
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    ensure();
    WRITE_THROUGH(fd, off, iov_total(iov, cnt), real_pwritev64(fd, iov, cnt, off));
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    ensure();
    /* RWF_DSYNC/RWF_SYNC: on disk when it returns */
    if (flags & (RWF_DSYNC | RWF_SYNC)) {
        struct stat st;
        if (!tracked(fd, &st) || off < 0)
            return real_pwritev2(fd, iov, cnt, off, flags);
        pthread_mutex_lock(&mu);
        note_range(&st, (uint64_t)off, iov_total(iov, cnt));
        ssize_t r = real_pwritev2(fd, iov, cnt, off, flags);
        int e = errno;
        pthread_mutex_unlock(&mu);
        errno = e;
        return r;
    }
    WRITE_THROUGH(fd, off, iov_total(iov, cnt), real_pwritev2(fd, iov, cnt, off, flags));
}

/* ------------------------------------------------------------ sizes */

static int resize(int fd, uint64_t to, int (*call)(int, uint64_t, void *), void *ctx)
{
    struct stat st;
    if (!tracked(fd, &st))
        return call(fd, to, ctx);
    pthread_mutex_lock(&mu);
    fstat(fd, &st);
    uint64_t old = (uint64_t)st.st_size;
    if (to != old)
        note_change(fd, &st, to < old ? to : old, to < old ? old - to : to - old, to);
    int r = call(fd, to, ctx);
    int e = errno;
    pthread_mutex_unlock(&mu);
    errno = e;
    return r;
}

static int do_ftruncate(int fd, uint64_t to, void *ctx)
{
    (void)ctx;
    return real_ftruncate(fd, (off_t)to);
}

int ftruncate(int fd, off_t len)
{
    ensure();
    if (len < 0)
        return real_ftruncate(fd, len);
    return resize(fd, (uint64_t)len, do_ftruncate, NULL);
}

int ftruncate64(int fd, off64_t len)
{
    ensure();
    if (len < 0)
        return real_ftruncate64(fd, len);
    return resize(fd, (uint64_t)len, do_ftruncate, NULL);
}

int truncate(const char *path, off_t len)
{
    ensure();
    int fd = jfd >= 0 && len >= 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return real_truncate(path, len);
    struct stat st;
    int r;
    if (!tracked(fd, &st)) {
        r = real_truncate(path, len);
    } else {
        pthread_mutex_lock(&mu);
        fstat(fd, &st);
        uint64_t old = (uint64_t)st.st_size, to = (uint64_t)len;
        if (to != old)
            note_change(fd, &st, to < old ? to : old, to < old ? old - to : to - old, to);
        r = real_truncate(path, len);
        pthread_mutex_unlock(&mu);
    }
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

typedef struct falloc_args {
    int mode;
    off_t off, len;
    int posix;
} falloc_args;

static int falloc_through(int fd, const falloc_args *a)
{
    struct stat st;
    if (a->off < 0 || a->len <= 0 || !tracked(fd, &st))
        return a->posix ? real_posix_fallocate(fd, a->off, a->len) : real_fallocate(fd, a->mode, a->off, a->len);
    pthread_mutex_lock(&mu);
    fstat(fd, &st);
    uint64_t old = (uint64_t)st.st_size, end = (uint64_t)a->off + (uint64_t)a->len;
    uint64_t newsize = (a->mode & FALLOC_FL_KEEP_SIZE) || end < old ? old : end;
    if (a->mode & ~FALLOC_FL_KEEP_SIZE) /* punching or zeroing: the range's bytes change */
        note_change(fd, &st, (uint64_t)a->off, (uint64_t)a->len, newsize);
    else if (newsize > old) /* allocating: only the size */
        note_change(fd, &st, old, newsize - old, newsize);
    int r = a->posix ? real_posix_fallocate(fd, a->off, a->len) : real_fallocate(fd, a->mode, a->off, a->len);
    int e = errno;
    pthread_mutex_unlock(&mu);
    errno = e;
    return r;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    ensure();
    falloc_args a = { mode, off, len, 0 };
    return falloc_through(fd, &a);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
    ensure();
    falloc_args a = { 0, off, len, 1 };
    return falloc_through(fd, &a);
}

/* ------------------------------------------------------------ flushes */

static int flush_through(int fd, int (*call)(int))
{
    ensure();
    struct stat st;
    char path[PATH_MAX];
    if (jfd < 0 || fd < 0 || fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) ||
        !under_root(fd, path, sizeof path))
        return call(fd);
    if (S_ISDIR(st.st_mode)) {
        /* the entries there before the flush are on disk after it */
        size_t len;
        pthread_mutex_lock(&mu);
        char *l = list_dir(path, &len);
        pthread_mutex_unlock(&mu);
        int r = call(fd);
        int e = errno;
        if (r == 0) {
            pthread_mutex_lock(&mu);
            note_dir(l, len);
            pthread_mutex_unlock(&mu);
        }
        free(l);
        errno = e;
        return r;
    }
    pthread_mutex_lock(&mu);
    uint64_t upto = seq;
    pthread_mutex_unlock(&mu);
    if (flush_delay_ms)
        usleep(flush_delay_ms * 1000u);
    int r = call(fd);
    int e = errno;
    if (r == 0) {
        pl_rec h = {
            .magic = PL_MAGIC, .type = PL_SYNC, .seq = upto, .dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino
        };
        pthread_mutex_lock(&mu);
        journal(&h, NULL, 0, NULL, 0);
        pthread_mutex_unlock(&mu);
    }
    errno = e;
    return r;
}

int fsync(int fd)
{
    ensure();
    return flush_through(fd, real_fsync);
}

int fdatasync(int fd)
{
    ensure();
    return flush_through(fd, real_fdatasync);
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
    ensure();
    struct stat st;
    unsigned want = SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if ((flags & want) != want || off < 0 || n < 0 || !tracked(fd, &st))
        return real_sync_file_range(fd, off, n, flags);
    pthread_mutex_lock(&mu);
    uint64_t upto = seq;
    pthread_mutex_unlock(&mu);
    int r = real_sync_file_range(fd, off, n, flags);
    int e = errno;
    if (r == 0) {
        /* the pages only: the size and the file's other metadata need a
         * fsync (sync_file_range(2)), which plrestore follows by keeping
         * the size of the last fsync */
        pl_rec h = { .magic = PL_MAGIC,
                     .type = PL_RANGE,
                     .seq = upto,
                     .dev = (uint64_t)st.st_dev,
                     .ino = (uint64_t)st.st_ino,
                     .off = (uint64_t)off,
                     .len = n ? (uint64_t)n : UINT64_MAX - (uint64_t)off };
        pthread_mutex_lock(&mu);
        journal(&h, NULL, 0, NULL, 0);
        pthread_mutex_unlock(&mu);
    }
    errno = e;
    return r;
}

static void note_all(uint64_t upto)
{
    pthread_mutex_lock(&mu);
    pl_rec h = { .magic = PL_MAGIC, .type = PL_ALL, .seq = upto };
    journal(&h, NULL, 0, NULL, 0);
    pthread_mutex_unlock(&mu);
}

void sync(void)
{
    ensure();
    if (jfd < 0) {
        real_sync();
        return;
    }
    /* the directories too, as they are before it (journaled before it
     * returns, unlike a directory's fsync: nothing here calls sync) */
    pthread_mutex_lock(&mu);
    uint64_t upto = seq;
    snapshot_tree(root, 0);
    pthread_mutex_unlock(&mu);
    real_sync();
    note_all(upto);
}

int syncfs(int fd)
{
    ensure();
    if (jfd < 0)
        return real_syncfs(fd);
    pthread_mutex_lock(&mu);
    uint64_t upto = seq;
    snapshot_tree(root, 0);
    pthread_mutex_unlock(&mu);
    int r = real_syncfs(fd);
    int e = errno;
    if (r == 0)
        note_all(upto);
    errno = e;
    return r;
}

/* ------------------------------------------------------------ names */

/* Runs call, which removes the name at (dirfd, path); when it was the last
 * name of a regular file under root, notes the inode gone. */
#define GONE_THROUGH(dirfd, path, call)                                                                                \
    do {                                                                                                               \
        ensure();                                                                                                      \
        struct stat st_;                                                                                               \
        char rp_[PATH_MAX];                                                                                            \
        int watch_ = jfd >= 0 && fstatat(dirfd, path, &st_, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st_.st_mode) &&       \
                     st_.st_nlink == 1;                                                                                \
        if (watch_) {                                                                                                  \
            int fd_ = openat(dirfd, path, O_PATH | O_CLOEXEC | O_NOFOLLOW);                                            \
            watch_ = fd_ >= 0 && under_root(fd_, rp_, sizeof rp_);                                                     \
            if (fd_ >= 0)                                                                                              \
                close(fd_);                                                                                            \
        }                                                                                                              \
        if (!watch_)                                                                                                   \
            return call;                                                                                               \
        pthread_mutex_lock(&mu);                                                                                       \
        int r_ = call;                                                                                                 \
        int e_ = errno;                                                                                                \
        if (r_ == 0) {                                                                                                 \
            pl_rec h_ = { .magic = PL_MAGIC,                                                                           \
                          .type = PL_GONE,                                                                             \
                          .seq = ++seq,                                                                                \
                          .dev = (uint64_t)st_.st_dev,                                                                 \
                          .ino = (uint64_t)st_.st_ino };                                                               \
            journal(&h_, NULL, 0, NULL, 0);                                                                            \
        }                                                                                                              \
        pthread_mutex_unlock(&mu);                                                                                     \
        errno = e_;                                                                                                    \
        return r_;                                                                                                     \
    } while (0)

int unlink(const char *path) { GONE_THROUGH(AT_FDCWD, path, real_unlink(path)); }

int unlinkat(int dirfd, const char *path, int flags)
{
    if (flags & AT_REMOVEDIR) {
        ensure();
        return real_unlinkat(dirfd, path, flags);
    }
    GONE_THROUGH(dirfd, path, real_unlinkat(dirfd, path, flags));
}

/* A rename over an existing file removes that file's name. */
int rename(const char *from, const char *to) { GONE_THROUGH(AT_FDCWD, to, real_rename(from, to)); }

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    GONE_THROUGH(tofd, to, real_renameat(fromfd, from, tofd, to));
}
