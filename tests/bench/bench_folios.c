/* bench_folios: what one 4 KiB write() costs the kernel, depending on how
 * the file's pages came into the page cache. A benchmark, not a test: it
 * prints numbers and asserts nothing.
 *
 *   bench_folios [DIR [MIB [WRITES]]]
 *
 * Makes DIR/bench-folios.dat (DIR: "." by default) of MIB MiB (1024) twice:
 * once written in 1 MiB calls (how LMDB writes a run of new pages at the
 * end of its file, and how readahead fills the cache), once in 4 KiB calls;
 * then times WRITES (200,000) single-page pwrite() calls at random pages of
 * it, as LMDB rewrites the pages it reuses at each commit. On kernels whose
 * page cache holds large folios (Linux 6.x, ext4 among others), a 4 KiB
 * write into a large folio walks every block of that folio
 * (ext4_block_write_begin), and its writeback every block again: the
 * profile of whistled's writer showed that. docs/performance.md records the
 * figures. The file is removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_all(int fd, const void *p, size_t n, off_t at)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p = (const char *)p + w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

/* Fills the file in calls of `step` bytes, flushes it, then times the
 * random single-page writes and their flush: microseconds per write. */
static double run(const char *path, size_t size, size_t step, long writes, double *flush_us)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "bench_folios: cannot create %s: %s\n", path, strerror(errno));
        exit(1);
    }
    char *buf = malloc(step);
    char page[4096];
    if (!buf) {
        fprintf(stderr, "bench_folios: out of memory\n");
        exit(1);
    }
    memset(buf, 1, step);
    memset(page, 2, sizeof page);
    for (size_t at = 0; at < size; at += step)
        if (write_all(fd, buf, step, (off_t)at) != 0) {
            fprintf(stderr, "bench_folios: writing %s: %s\n", path, strerror(errno));
            exit(1);
        }
    fdatasync(fd);
    free(buf);
    uint64_t x = 88172645463325252ull; /* xorshift: the same pages for both runs */
    size_t pages = size / sizeof page;
    double t0 = now_s();
    for (long i = 0; i < writes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (write_all(fd, page, sizeof page, (off_t)((x % pages) * sizeof page)) != 0) {
            fprintf(stderr, "bench_folios: writing %s: %s\n", path, strerror(errno));
            exit(1);
        }
    }
    double t1 = now_s();
    fdatasync(fd);
    double t2 = now_s();
    close(fd);
    unlink(path);
    *flush_us = (t2 - t1) * 1e6 / (double)writes;
    return (t1 - t0) * 1e6 / (double)writes;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
    long writes = argc > 3 ? strtol(argv[3], NULL, 10) : 200000;
    if (mib < 1 || writes < 1) {
        fprintf(stderr, "usage: bench_folios [DIR [MIB [WRITES]]]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-folios.dat", dir);
    double fl1, fl2;
    double big = run(path, mib << 20, (size_t)1 << 20, writes, &fl1);
    double small = run(path, mib << 20, 4096, writes, &fl2);
    printf("random 4 KiB pwrite() into a %zu MiB file, %ld writes, then fdatasync:\n", mib, writes);
    printf("  file written in 1 MiB calls (large folios): %6.2f us per write, flush %6.2f us per page\n", big, fl1);
    printf("  file written in 4 KiB calls (small folios): %6.2f us per write, flush %6.2f us per page\n", small, fl2);
    return 0;
}
