/* plrestore: after a process that ran under plshim.so was killed, takes
 * from the files under its root every change that was not flushed, as a
 * power cut would have (docs/reliability.md, "Power loss").
 *
 *   plrestore --root DIR --journal FILE [--keep-chance PCT] [--seed N] [--verbose]
 *
 * Files: the changes of the journal (pljournal.h) not covered by a flush
 * of their file are undone, newest first, a 4 KiB page at a time, and each
 * file is cut back to its size at its last flush. With --keep-chance,
 * each page keeps instead, with that chance, the version some unflushed
 * change left in it (and every older one), as if the kernel had written
 * that page back on its own before the cut: the disk then holds any mix of
 * flushed and unflushed pages, each page whole. Pages are never torn (the
 * disk writes a 4 KiB page whole or not at all).
 *
 * Directories: every entry not in the directory's listing at its last
 * flush (or at the shim's start) is removed, with what is in it. Entries
 * removed since are not brought back (a cut could bring them back).
 *
 * The last line sums up what was undone. Exit 0, or 1 when the journal or
 * a file cannot be read or written. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pljournal.h"

typedef struct rec {
    pl_rec h;
    const uint8_t *payload;
} rec;

typedef struct file {
    uint64_t dev, ino;
    char *path;
    int fd;
    uint64_t synced; /* every change up to this seq is on disk */
    uint64_t gone;   /* its last name went at this seq: older changes are to no file now */
    uint64_t base;   /* the size before the oldest change undone or kept */
    uint64_t final;  /* the size after the newest change of which a page was kept */
    bool touched, has_final;
} file;

static file *files;
static size_t nfiles, capfiles;
static uint64_t rng = 88172645463325252ULL;
static bool verbose;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static file *find_file(uint64_t dev, uint64_t ino, bool add)
{
    for (size_t i = 0; i < nfiles; i++)
        if (files[i].dev == dev && files[i].ino == ino)
            return &files[i];
    if (!add)
        return NULL;
    if (nfiles == capfiles) {
        capfiles = capfiles ? capfiles * 2 : 64;
        files = realloc(files, capfiles * sizeof *files);
        if (!files)
            abort();
    }
    files[nfiles] = (file){ .dev = dev, .ino = ino, .fd = -1 };
    return &files[nfiles++];
}

/* The regular files under dir, by inode. */
static void map_files(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p || lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 16)
            map_files(p, depth + 1);
        else if (S_ISREG(st.st_mode)) {
            file *f = find_file((uint64_t)st.st_dev, (uint64_t)st.st_ino, false);
            if (f && !f->path)
                f->path = strdup(p);
        }
    }
    if (d)
        closedir(d);
}

/* ------------------------------------------------------------ pages */

/* (inode, page) pairs whose version is kept: open addressing */
typedef struct pkey {
    uint64_t ino, page;
} pkey;
static pkey *kept;
static size_t kcap, kn;

static size_t phash(uint64_t ino, uint64_t page)
{
    uint64_t h = ino * 0x9E3779B97F4A7C15ULL ^ (page + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h ^ h >> 29);
}

static bool is_kept(uint64_t ino, uint64_t page)
{
    if (!kcap)
        return false;
    for (size_t i = phash(ino, page) & (kcap - 1);; i = (i + 1) & (kcap - 1)) {
        if (kept[i].ino == 0 && kept[i].page == 0)
            return false;
        if (kept[i].ino == ino + 1 && kept[i].page == page)
            return true;
    }
}

static void set_kept(uint64_t ino, uint64_t page)
{
    if ((kn + 1) * 2 > kcap) {
        size_t oc = kcap;
        pkey *old = kept;
        kcap = kcap ? kcap * 2 : 1024;
        kept = calloc(kcap, sizeof *kept);
        if (!kept)
            abort();
        kn = 0;
        for (size_t i = 0; i < oc; i++)
            if (old[i].ino)
                set_kept(old[i].ino - 1, old[i].page);
        free(old);
    }
    if (is_kept(ino, page))
        return;
    size_t i = phash(ino, page) & (kcap - 1);
    while (kept[i].ino)
        i = (i + 1) & (kcap - 1);
    kept[i] = (pkey){ ino + 1, page };
    kn++;
}

/* ------------------------------------------------------------ directories */

static rec *recs;
static size_t nrecs;

/* The payload of the last PL_DIR record for path, or NULL. */
static const rec *last_listing(const char *path)
{
    for (size_t i = nrecs; i-- > 0;)
        if (recs[i].h.type == PL_DIR && strcmp((const char *)recs[i].payload, path) == 0)
            return &recs[i];
    return NULL;
}

static bool listed(const rec *l, const char *name)
{
    if (!l)
        return false;
    const char *p = (const char *)l->payload, *end = p + l->h.payload;
    p += strlen(p) + 1;
    while (p < end) {
        if (strcmp(p, name) == 0)
            return true;
        p += strlen(p) + 1;
    }
    return false;
}

static unsigned long removed, missing;

static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char p[PATH_MAX];
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) < (int)sizeof p)
                remove_tree(p);
        }
        if (d)
            closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int roll_back_dir(const char *dir, int depth)
{
    const rec *l = last_listing(dir);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "plrestore: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    char p[PATH_MAX];
    int rc = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        if (!listed(l, e->d_name)) {
            if (verbose)
                printf("  removed %s (its directory was not flushed since it was made)\n", p);
            if (remove_tree(p) != 0) {
                fprintf(stderr, "plrestore: cannot remove %s: %s\n", p, strerror(errno));
                rc = -1;
            }
            removed++;
            continue;
        }
        struct stat st;
        if (depth < 16 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && roll_back_dir(p, depth + 1) != 0)
            rc = -1;
    }
    closedir(d);
    if (l) {
        const char *q = (const char *)l->payload, *end = q + l->h.payload;
        q += strlen(q) + 1;
        for (; q < end; q += strlen(q) + 1) {
            struct stat st;
            if (snprintf(p, sizeof p, "%s/%s", dir, q) < (int)sizeof p && lstat(p, &st) != 0)
                missing++;
        }
    }
    return rc;
}

/* ------------------------------------------------------------ main */

static int write_at(int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: plrestore --root DIR --journal FILE [--keep-chance PCT] [--seed N] [--verbose]\n");
}

int main(int argc, char **argv)
{
    const char *root_arg = NULL, *journal_path = NULL;
    int keep_pct = 0;
    static const struct option opts[] = {
        { "root", required_argument, 0, 'r' },
        { "journal", required_argument, 0, 'j' },
        { "keep-chance", required_argument, 0, 'k' },
        { "seed", required_argument, 0, 's' },
        { "verbose", no_argument, 0, 'v' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'r': root_arg = optarg; break;
        case 'j': journal_path = optarg; break;
        case 'k': keep_pct = atoi(optarg); break;
        case 's': rng = strtoull(optarg, NULL, 10) | 1; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    char root[PATH_MAX];
    if (!root_arg || !journal_path || keep_pct < 0 || keep_pct > 100 || !realpath(root_arg, root)) {
        usage(stderr);
        return 2;
    }

    /* the journal, whole, up to a record cut short by the kill */
    int jfd = open(journal_path, O_RDONLY | O_CLOEXEC);
    struct stat jst;
    if (jfd < 0 || fstat(jfd, &jst) != 0) {
        fprintf(stderr, "plrestore: %s: %s\n", journal_path, strerror(errno));
        return 1;
    }
    size_t jlen = (size_t)jst.st_size;
    uint8_t *j = malloc(jlen ? jlen : 1);
    size_t got = 0;
    while (j && got < jlen) {
        ssize_t n = read(jfd, j + got, jlen - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(jfd);
    if (!j || got != jlen) {
        fprintf(stderr, "plrestore: cannot read %s\n", journal_path);
        return 1;
    }
    size_t cap = 0, at = 0, torn = 0;
    uint64_t all = 0;
    while (at + sizeof(pl_rec) <= jlen) {
        pl_rec h;
        memcpy(&h, j + at, sizeof h);
        if (h.magic != PL_MAGIC) {
            fprintf(stderr, "plrestore: %s: no record at byte %zu\n", journal_path, at);
            return 1;
        }
        if (h.payload > jlen - at - sizeof h)
            break;
        if (nrecs == cap) {
            cap = cap ? cap * 2 : 4096;
            recs = realloc(recs, cap * sizeof *recs);
            if (!recs)
                abort();
        }
        recs[nrecs++] = (rec){ h, j + at + sizeof h };
        at += sizeof h + h.payload;
        if (h.type == PL_SYNC) {
            file *f = find_file(h.dev, h.ino, true);
            if (h.seq > f->synced)
                f->synced = h.seq;
        } else if (h.type == PL_GONE) {
            file *f = find_file(h.dev, h.ino, true);
            if (h.seq > f->gone)
                f->gone = h.seq;
        } else if (h.type == PL_ALL && h.seq > all) {
            all = h.seq;
        } else if (h.type == PL_WRITE) {
            find_file(h.dev, h.ino, true);
        }
    }
    torn = jlen - at;
    map_files(root, 0);
    /* the PL_RANGE records, newest first */
    size_t *ranges = malloc((nrecs ? nrecs : 1) * sizeof *ranges), nranges = 0;
    if (!ranges)
        abort();
    for (size_t i = nrecs; i-- > 0;)
        if (recs[i].h.type == PL_RANGE)
            ranges[nranges++] = i;

    /* the changes, newest first */
    unsigned long undone = 0, flushed = 0, pages_kept = 0, gone = 0;
    uint64_t bytes = 0;
    static const uint8_t zeros[PL_PAGE];
    int rc = 0;
    for (size_t i = nrecs; i-- > 0 && rc == 0;) {
        const pl_rec *h = &recs[i].h;
        if (h->type != PL_WRITE)
            continue;
        file *f = find_file(h->dev, h->ino, false);
        if (h->seq <= f->synced || h->seq <= all) {
            flushed++;
            continue;
        }
        if (!f->path || h->seq < f->gone) {
            gone++; /* removed or replaced since: nothing to undo in */
            continue;
        }
        if (f->fd < 0 && (f->fd = open(f->path, O_RDWR | O_CLOEXEC)) < 0) {
            fprintf(stderr, "plrestore: %s: %s\n", f->path, strerror(errno));
            rc = 1;
            break;
        }
        f->touched = true;
        f->base = h->oldsize;
        bool any_kept = false, any_undone = false;
        uint64_t end = h->off + h->len;
        for (uint64_t a = h->off; a < end && rc == 0;) {
            uint64_t page = a / PL_PAGE, b = (page + 1) * PL_PAGE < end ? (page + 1) * PL_PAGE : end;
            bool keep = is_kept(h->ino, page);
            /* a later write through an O_DSYNC descriptor, or a
             * sync_file_range, put the page on disk as it was then */
            for (size_t k = 0; !keep && k < nranges && ranges[k] > i; k++) {
                const pl_rec *r = &recs[ranges[k]].h;
                if (r->dev == h->dev && r->ino == h->ino && r->seq >= h->seq && r->off < (page + 1) * PL_PAGE &&
                    (r->len >= UINT64_MAX - r->off || r->off + r->len > page * PL_PAGE))
                    keep = true;
            }
            if (!keep && keep_pct > 0 && rnd() % 100 < (uint64_t)keep_pct)
                keep = true;
            if (keep) {
                if (!is_kept(h->ino, page)) {
                    set_kept(h->ino, page);
                    pages_kept++;
                }
                any_kept = true;
                a = b;
                continue;
            }
            /* the bytes it replaced; beyond the old end, a hole */
            uint64_t pre_end = h->oldsize < b ? (h->oldsize > a ? h->oldsize : a) : b;
            if (pre_end > a && write_at(f->fd, recs[i].payload + (a - h->off), (size_t)(pre_end - a), a) != 0)
                rc = 1;
            if (b > pre_end && write_at(f->fd, zeros, (size_t)(b - pre_end), pre_end) != 0)
                rc = 1;
            bytes += b - a;
            any_undone = true;
            a = b;
        }
        if (rc) {
            fprintf(stderr, "plrestore: cannot write %s: %s\n", f->path, strerror(errno));
            break;
        }
        if (any_kept && !f->has_final) {
            f->final = h->newsize;
            f->has_final = true;
        }
        undone += any_undone;
    }
    free(ranges);
    unsigned long nfiles_touched = 0;
    for (size_t i = 0; i < nfiles; i++) {
        file *f = &files[i];
        if (f->touched && rc == 0) {
            uint64_t size = f->has_final ? f->final : f->base;
            if (ftruncate(f->fd, (off_t)size) != 0) {
                fprintf(stderr, "plrestore: cannot cut %s to %llu bytes: %s\n", f->path, (unsigned long long)size,
                        strerror(errno));
                rc = 1;
            }
            if (verbose)
                printf("  %s: back to %llu bytes\n", f->path, (unsigned long long)size);
            nfiles_touched++;
        }
        if (f->fd >= 0)
            close(f->fd);
        free(f->path);
    }
    if (rc == 0 && roll_back_dir(root, 0) != 0)
        rc = 1;
    printf("plrestore: %lu unflushed changes undone (%llu bytes) in %lu files, %lu pages kept at an unflushed "
           "version, %lu flushed changes kept, %lu changes to files since removed; %lu entries removed, %lu "
           "removed entries not brought back; %zu bytes of a record cut short\n",
           undone, (unsigned long long)bytes, nfiles_touched, pages_kept, flushed, gone, removed, missing, torn);
    free(recs);
    free(files);
    free(kept);
    free(j);
    return rc;
}
