/* plshim_test: the power-loss tools tested on their own (before they are
 * trusted to test whistled): a child under plshim.so makes known changes,
 * flushed and not, from several threads, and dies by SIGKILL; plrestore
 * then must leave exactly what was flushed. Then once more with
 * --keep-chance 100: every page keeps its newest version, while the
 * directories still lose what was never flushed in them.
 *
 *   plshim_test PLSHIM_SO PLRESTORE [ASAN_RUNTIME]
 *
 * Prints "plshim_test: OK" or "FAIL: ..." lines; exit 0 or 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 4
#define ROUNDS 250 /* a page holds one byte value */
#define PAGE 4096

static int failures;

static void fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *what, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("FAIL: %s: %s\n", what, msg);
    failures++;
}

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "plshim_test child: %s: %s\n", what, strerror(errno));
        _exit(3);
    }
}

static void put(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s) && fsync(fd) == 0 && close(fd) == 0, path);
}

static void dirsync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    must(fd >= 0 && fsync(fd) == 0 && close(fd) == 0, dir);
}

/* ------------------------------------------------------------ the child */

typedef struct th {
    int fd, n;
    int durable; /* the last value of its page written before a fsync */
} th;

static void *hammer(void *arg)
{
    th *t = arg;
    uint8_t page[PAGE];
    for (int v = 1; v <= ROUNDS; v++) {
        memset(page, v, sizeof page);
        must(pwrite(t->fd, page, sizeof page, (off_t)t->n * PAGE) == PAGE, "pwrite");
        if (v % 7 == 0) {
            must(fdatasync(t->fd) == 0, "fdatasync");
            t->durable = v;
        }
    }
    return NULL;
}

static void child(const char *root, const char *out)
{
    char a[512], b[512], c[512], d[512], e[512], f[512], sub[512], x[600];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(d, sizeof d, "%s/d", root);
    snprintf(e, sizeof e, "%s/e", root);
    snprintf(f, sizeof f, "%s/f", root);
    snprintf(sub, sizeof sub, "%s/sub", root);
    snprintf(x, sizeof x, "%s/x", sub);
    /* a existed before: flushed, then changed without a flush */
    int fa = open(a, O_RDWR);
    must(fa >= 0 && pwrite(fa, "XXXX", 4, 0) == 4 && fsync(fa) == 0, a);
    must(pwrite(fa, "YY", 2, 2) == 2 && pwrite(fa, "-appended-beyond", 16, 13) == 16, a);
    struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
    must(lseek(fa, 5, SEEK_SET) == 5 && writev(fa, iov, 2) == 4, a);
    /* c: made, flushed, named; then more without a flush */
    put(c, "cccc");
    /* d: written through O_DSYNC */
    int fd = open(d, O_WRONLY | O_CREAT | O_DSYNC, 0644);
    must(fd >= 0 && write(fd, "dddd", 4) == 4, d);
    /* e: flushed, then cut short without a flush */
    put(e, "eeee");
    /* r2/g: flushed, changed without a flush, removed; then r2/h made
     * (likely on g's inode number) and written without a flush, and r2
     * flushed: g's change must not be undone into h */
    char r2[512], g[600], hh[600];
    snprintf(r2, sizeof r2, "%s/r2", root);
    snprintf(g, sizeof g, "%s/g", r2);
    snprintf(hh, sizeof hh, "%s/h", r2);
    must(mkdir(r2, 0755) == 0, r2);
    put(g, "G0");
    dirsync(r2);
    /* f: pages hammered by threads, flushed now and then */
    int ff = open(f, O_RDWR | O_CREAT, 0644);
    must(ff >= 0 && ftruncate(ff, NTHREADS * PAGE) == 0 && fsync(ff) == 0, f);
    dirsync(root);
    /* b: made and flushed, its directory not */
    put(b, "bbbb");
    int fc = open(c, O_WRONLY | O_APPEND);
    must(fc >= 0 && write(fc, "more", 4) == 4, c);
    int fe = open(e, O_RDWR);
    must(fe >= 0 && ftruncate(fe, 2) == 0, e);
    int fg = open(g, O_WRONLY);
    must(fg >= 0 && pwrite(fg, "gggg", 4, 0) == 4 && close(fg) == 0 && unlink(g) == 0, g);
    int fh = open(hh, O_WRONLY | O_CREAT, 0644);
    must(fh >= 0 && write(fh, "hhhh", 4) == 4, hh);
    dirsync(r2);
    /* sub: made, with a file flushed in it, never named */
    must(mkdir(sub, 0755) == 0, sub);
    put(x, "x");
    th t[NTHREADS];
    pthread_t tid[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        t[i] = (th){ .fd = ff, .n = i };
        must(pthread_create(&tid[i], NULL, hammer, &t[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(tid[i], NULL);
    FILE *o = fopen(out, "w");
    must(o != NULL, out);
    for (int i = 0; i < NTHREADS; i++)
        fprintf(o, "%d\n", t[i].durable);
    fclose(o);
    raise(SIGKILL);
}

/* ------------------------------------------------------------ the parent */

static void expect_file(const char *what, const char *path, const char *want)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (!want) {
        if (fd >= 0)
            fail(what, "%s is there; it was never named in a flushed directory", path);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (fd < 0) {
        fail(what, "%s: %s", path, strerror(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    if (strcmp(buf, want) != 0)
        fail(what, "%s holds \"%s\", expected \"%s\"", path, buf, want);
}

static int run(char *const argv[], const char *preload, const char *root, const char *journal)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (preload) {
            setenv("LD_PRELOAD", preload, 1);
            setenv("WHISTLE_PLSHIM_ROOT", root, 1);
            setenv("WHISTLE_PLSHIM_JOURNAL", journal, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return st;
}

static void round_trip(const char *self, const char *shim, const char *restore, const char *asan, int keep)
{
    char dir[] = "/tmp/plshim-test-XXXXXX";
    if (!mkdtemp(dir)) {
        fail("setup", "mkdtemp: %s", strerror(errno));
        return;
    }
    char root[600], journal[600], out[600], path[700], preload[2048], what[64];
    snprintf(what, sizeof what, "keep-chance %d", keep);
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(journal, sizeof journal, "%s/journal", dir);
    snprintf(out, sizeof out, "%s/durable", dir);
    mkdir(root, 0755);
    snprintf(path, sizeof path, "%s/a", root);
    FILE *fa = fopen(path, "w");
    fputs("base-content\n", fa);
    fclose(fa);
    snprintf(preload, sizeof preload, "%s%s%s", asan && *asan ? asan : "", asan && *asan ? ":" : "", shim);
    char *cargv[] = { (char *)self, "--child", root, out, NULL };
    int st = run(cargv, preload, root, journal);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
        fail(what, "the child did not die by SIGKILL (wait status 0x%x)", st);
        return;
    }
    char keeps[16], seed[16];
    snprintf(keeps, sizeof keeps, "%d", keep);
    snprintf(seed, sizeof seed, "%d", (int)getpid());
    char *rargv[] = { (char *)restore, "--root", root,     "--journal", journal,
                      "--keep-chance", keeps,    "--seed", seed,        NULL };
    st = run(rargv, NULL, NULL, NULL);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fail(what, "plrestore failed (wait status 0x%x)", st);
        return;
    }
    snprintf(path, sizeof path, "%s/a", root);
    expect_file(what, path, keep ? "XXYY-abcdent\n-appended-beyond" : "XXXX-content\n");
    snprintf(path, sizeof path, "%s/b", root);
    expect_file(what, path, NULL);
    snprintf(path, sizeof path, "%s/c", root);
    expect_file(what, path, keep ? "ccccmore" : "cccc");
    snprintf(path, sizeof path, "%s/d", root);
    expect_file(what, path, "dddd");
    snprintf(path, sizeof path, "%s/e", root);
    expect_file(what, path, keep ? "ee" : "eeee");
    snprintf(path, sizeof path, "%s/r2/g", root);
    expect_file(what, path, NULL);
    snprintf(path, sizeof path, "%s/r2/h", root);
    expect_file(what, path, keep ? "hhhh" : "");
    snprintf(path, sizeof path, "%s/sub", root);
    struct stat sst;
    if (stat(path, &sst) == 0)
        fail(what, "%s is there; it was never named in a flushed directory", path);
    /* every page of f whole (one value throughout): the last one written
     * with --keep-chance 100, else one its thread wrote before a flush
     * (its own last one, or a later one another thread's flush took) */
    snprintf(path, sizeof path, "%s/f", root);
    int ff = open(path, O_RDONLY);
    FILE *o = fopen(out, "r");
    for (int i = 0; ff >= 0 && o && i < NTHREADS; i++) {
        int durable = -1;
        if (fscanf(o, "%d", &durable) != 1)
            break;
        uint8_t page[PAGE];
        if (pread(ff, page, PAGE, (off_t)i * PAGE) != PAGE) {
            fail(what, "f: page %d cannot be read", i);
            continue;
        }
        int v = page[0];
        for (int k = 1; k < PAGE; k++)
            if (page[k] != v) {
                fail(what, "f: page %d is torn (byte %d is %d, byte 0 %d)", i, k, page[k], v);
                break;
            }
        int last = ROUNDS;
        if (keep ? v != last : v < durable || v > last)
            fail(what, "f: page %d holds %d; its thread last flushed %d and last wrote %d", i, v, durable, last);
    }
    if (ff < 0 || !o)
        fail(what, "f or the child's notes are missing");
    if (ff >= 0)
        close(ff);
    if (o)
        fclose(o);
    if (!failures) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    } else {
        printf("kept %s\n", dir);
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0) {
        child(argv[2], argv[3]);
        return 3;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: plshim_test PLSHIM_SO PLRESTORE [ASAN_RUNTIME]\n");
        return 2;
    }
    round_trip(argv[0], argv[1], argv[2], argc > 3 ? argv[3] : NULL, 0);
    round_trip(argv[0], argv[1], argv[2], argc > 3 ? argv[3] : NULL, 100);
    if (failures)
        return 1;
    printf("plshim_test: OK\n");
    return 0;
}
