/* lmdb_pages_trace: which pages of an LMDB data file each commit writes.
 * A diagnostic for the write path (docs/performance.md), not a test:
 * preloaded into a program that writes an LMDB store (bench_pages,
 * whistled), it logs, for every write() to a file named data.mdb, the
 * pages written ("W first count") and, at each commit's meta page (a
 * write of less than a page: LMDB writes only the meta's changed part),
 * "C n". scripts/lmdb-pages.py then names the tree each page of a commit
 * belongs to. LMDB 0.9 writes its pages with pwrite(), and with writev()
 * after lseek() for runs of pages; both are caught.
 *
 *   LD_PRELOAD=BUILD/tests/liblmdb_pages_trace.so \
 *   LMDB_PAGES_LOG=trace.log LMDB_PAGES_STOP=N program ...
 *
 * LMDB_PAGES_STOP=N ends the process (_exit, so nothing else is written)
 * right after the Nth commit's meta page: that commit's pages are then
 * all in the file's trees, for the walker to name. Page size 4096. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096
#define FDS 1024

static FILE *log_file;
static long commits, stop_at = -1;
static signed char is_data[FDS]; /* 0 unknown, 1 data.mdb, -1 other */

static int data_fd(int fd)
{
    if (fd < 0 || fd >= FDS)
        return 0;
    if (is_data[fd])
        return is_data[fd] > 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = 0;
    size_t l = (size_t)n;
    is_data[fd] = l >= 8 && strcmp(path + l - 8, "data.mdb") == 0 ? 1 : -1;
    return is_data[fd] > 0;
}

static void logged(off_t off, size_t len)
{
    if (!log_file) {
        const char *f = getenv("LMDB_PAGES_LOG"), *s = getenv("LMDB_PAGES_STOP");
        log_file = fopen(f ? f : "lmdb-pages.log", "w");
        if (!log_file)
            return;
        if (s)
            stop_at = atol(s);
    }
    if (len < PAGE) {
        fprintf(log_file, "C %ld\n", ++commits);
        fflush(log_file);
        if (commits == stop_at)
            _exit(0);
        return;
    }
    fprintf(log_file, "W %lld %zu\n", (long long)(off / PAGE), len / PAGE);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    ssize_t r = real(fd, buf, n, off);
    if (r > 0 && data_fd(fd))
        logged(off, n);
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        real = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    int d = data_fd(fd);
    off_t off = d ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t r = real(fd, iov, cnt);
    for (int i = 0; r > 0 && d && i < cnt; i++) {
        logged(off, iov[i].iov_len);
        off += (off_t)iov[i].iov_len;
    }
    return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    static ssize_t (*real)(int, const struct iovec *, int, off_t);
    if (!real)
        real = (ssize_t(*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "pwritev");
    ssize_t r = real(fd, iov, cnt, off);
    for (int i = 0; r > 0 && data_fd(fd) && i < cnt; i++) {
        logged(off, iov[i].iov_len);
        off += (off_t)iov[i].iov_len;
    }
    return r;
}
