/* blobs.c: see blobs.h. */
#include "blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PART_SUFFIX ".part"
#define THUMB_SUFFIX ".thumb"

static int mkdir_if(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    return errno;
}

static int fsync_dir(const char *dir);

int blobs_init(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    const char *subs[] = { "blobs", "uploads" };
    bool made = false;
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        int rc = mkdir(p, 0700) == 0 ? 0 : errno;
        made |= rc == 0;
        if (rc && rc != EEXIST) {
            snprintf(err, errlen,
                     "store: cannot make %s for the photos: %s; check that photos.dir (else store.dir) exists and is "
                     "writable",
                     p, strerror(rc));
            return -1;
        }
    }
    /* their names, flushed: the photos' files are flushed into them */
    int rc = made ? fsync_dir(dir) : 0;
    if (rc) {
        snprintf(err, errlen, "store: cannot flush the directory %s: %s", dir, strerror(rc));
        return -1;
    }
    return 0;
}

void blob_hex(const uint8_t h[BLOB_HASH_LEN], char hex[BLOB_HEX_LEN + 1])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < BLOB_HASH_LEN; i++) {
        hex[2 * i] = d[h[i] >> 4];
        hex[2 * i + 1] = d[h[i] & 15];
    }
    hex[BLOB_HEX_LEN] = 0;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool blob_unhex(const char *s, uint8_t h[BLOB_HASH_LEN])
{
    if (!s || strlen(s) != BLOB_HEX_LEN)
        return false;
    for (int i = 0; i < BLOB_HASH_LEN; i++) {
        int a = nibble(s[2 * i]), b = nibble(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        h[i] = (uint8_t)(a << 4 | b);
    }
    return true;
}

void blob_sha256(const void *data, size_t len, uint8_t h[BLOB_HASH_LEN])
{
    unsigned n = 0;
    EVP_Digest(data, len, h, &n, EVP_sha256(), NULL);
}

void blob_path(const char *dir, const uint8_t h[BLOB_HASH_LEN], bool thumb, char *out, size_t len)
{
    char hex[BLOB_HEX_LEN + 1];
    blob_hex(h, hex);
    snprintf(out, len, "%s/blobs/%.2s/%s%s", dir, hex, hex, thumb ? THUMB_SUFFIX : "");
}

void blob_part_path(const char *dir, const uint8_t h[BLOB_HASH_LEN], char *out, size_t len)
{
    char hex[BLOB_HEX_LEN + 1];
    blob_hex(h, hex);
    snprintf(out, len, "%s/uploads/%s" PART_SUFFIX, dir, hex);
}

/* The directory part of path (up to its last '/'). */
static void parent_of(const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash && slash != out)
        *slash = 0;
    else
        snprintf(out, len, "%s", slash ? "/" : ".");
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len, uint64_t at)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)at);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        len -= (size_t)n;
        at += (uint64_t)n;
    }
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Waits until pace allows the next step of n bytes, and books it. */
static void pace_step(blob_pace *pace, size_t n)
{
    if (!pace || pace->bytes_per_s <= 0)
        return;
    uint64_t now = mono_ns();
    if (pace->next_ns > now) {
        uint64_t wait = pace->next_ns - now;
        struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u) };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        pace->slept_ns += wait;
        now = pace->next_ns;
    }
    pace->next_ns = now + (uint64_t)((double)n / pace->bytes_per_s * 1e9);
}

/* Writes data at 0 in steps, each on its way to the disk and waited for
 * before the next (blobs.h, blob_pace). sync_file_range is only a means to
 * spread the writing: the caller's fsync is what makes the file durable,
 * so a file system that does not support it (EINVAL, ENOSYS, ESPIPE) is
 * simply written in one go. */
static int write_paced(int fd, const uint8_t *data, size_t len, blob_pace *pace)
{
    bool ranges = true;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < BLOB_STEP ? len - off : BLOB_STEP;
        pace_step(pace, n);
        int rc = write_all(fd, data + off, n, off);
        if (rc)
            return rc;
        if (ranges &&
            sync_file_range(fd, (off64_t)off, (off64_t)n,
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
            if (errno == EIO || errno == ENOSPC || errno == ENOMEM)
                return errno;
            ranges = false;
        }
        off += n;
    }
    return 0;
}

int blob_write_file(const char *path, const void *data, size_t len, blob_pace *pace)
{
    char dir[4096], tmp[4200];
    parent_of(path, dir, sizeof dir);
    int rc = mkdir_if(dir);
    if (rc)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return errno;
    rc = write_paced(fd, data, len, pace);
    if (!rc && fsync(fd) != 0)
        rc = errno;
    if (close(fd) != 0 && !rc)
        rc = errno;
    if (!rc && rename(tmp, path) != 0)
        rc = errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    /* the name, and the fan-out directory's own entry when it was just made */
    rc = fsync_dir(dir);
    if (!rc) {
        char top[4096];
        parent_of(dir, top, sizeof top);
        rc = fsync_dir(top);
    }
    return rc;
}

int blob_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = errno;
        close(fd);
        return rc;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return EFBIG;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int rc = r < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return rc;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

int blob_hash_file(const char *path, uint8_t h[BLOB_HASH_LEN], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return ENOMEM;
    }
    uint8_t buf[65536];
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = errno;
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        total += (uint64_t)n;
    }
    unsigned hl = 0;
    if (!rc)
        EVP_DigestFinal_ex(ctx, h, &hl);
    EVP_MD_CTX_free(ctx);
    close(fd);
    if (size)
        *size = total;
    return rc;
}

int blob_read_at(const char *path, uint64_t offset, void *buf, size_t want, size_t *got, uint64_t *size)
{
    *got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = errno;
        close(fd);
        return rc;
    }
    *size = (uint64_t)st.st_size;
    if (offset > *size) {
        close(fd);
        return ERANGE;
    }
    if (want > *size - offset)
        want = (size_t)(*size - offset);
    uint8_t *p = buf;
    while (*got < want) {
        ssize_t n = pread(fd, p + *got, want - *got, (off_t)(offset + *got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int rc = n < 0 ? errno : EIO;
            close(fd);
            return rc;
        }
        *got += (size_t)n;
    }
    close(fd);
    return 0;
}

int blob_remove(const char *dir, const uint8_t h[BLOB_HASH_LEN])
{
    char p[4096], d[4096];
    int rc = 0;
    for (int t = 0; t < 2; t++) {
        blob_path(dir, h, t == 1, p, sizeof p);
        if (unlink(p) != 0 && errno != ENOENT)
            rc = errno;
    }
    parent_of(p, d, sizeof d);
    int frc = fsync_dir(d);
    return rc ? rc : (frc == ENOENT ? 0 : frc);
}

int blob_part_append(const char *dir, const uint8_t h[BLOB_HASH_LEN], uint64_t total, uint64_t offset, const void *data,
                     size_t len, uint64_t *have)
{
    char p[4096];
    blob_part_path(dir, h, p, sizeof p);
    *have = 0;
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = errno;
        close(fd);
        return rc;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size > total) {
        /* not this upload's (another size was announced for the hash) */
        if (ftruncate(fd, 0) != 0) {
            int rc = errno;
            close(fd);
            return rc;
        }
        size = 0;
    }
    int rc = 0;
    if (offset == size && len && offset + len <= total) {
        rc = write_all(fd, data, len, offset);
        if (!rc)
            size += len;
        else if (ftruncate(fd, (off_t)size) != 0) /* a short write leaves no hole to resume over */
            rc = errno;
    }
    close(fd);
    *have = size;
    return rc;
}

uint64_t blob_part_size(const char *dir, const uint8_t h[BLOB_HASH_LEN])
{
    char p[4096];
    blob_part_path(dir, h, p, sizeof p);
    struct stat st;
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int blob_parts_expire(const char *dir, int64_t cutoff_s, size_t max, size_t *removed)
{
    char d[4096], p[4400];
    *removed = 0;
    snprintf(d, sizeof d, "%s/uploads", dir);
    DIR *dh = opendir(d);
    if (!dh)
        return errno == ENOENT ? 0 : errno;
    struct dirent *e;
    while (*removed < max && (e = readdir(dh))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (int64_t)st.st_mtime < cutoff_s && unlink(p) == 0)
            (*removed)++;
    }
    closedir(dh);
    return 0;
}

int blob_walk(const char *dir, blob_walk_fn fn, void *ud)
{
    char top[4096];
    snprintf(top, sizeof top, "%s/blobs", dir);
    return blob_walk_dir(top, fn, ud);
}

int blob_walk_dir(const char *top, blob_walk_fn fn, void *ud)
{
    char sub[4400];
    DIR *th = opendir(top);
    if (!th)
        return errno == ENOENT ? 0 : errno;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(th))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", top, e->d_name);
        DIR *sh = opendir(sub);
        if (!sh) {
            rc = fn(ud, NULL, e->d_name);
            continue;
        }
        struct dirent *f;
        while (!rc && (f = readdir(sh))) {
            if (f->d_name[0] == '.')
                continue;
            uint8_t h[BLOB_HASH_LEN];
            size_t nl = strlen(f->d_name);
            if (nl == BLOB_HEX_LEN && blob_unhex(f->d_name, h) && strncmp(f->d_name, e->d_name, 2) == 0)
                rc = fn(ud, h, f->d_name);
            else if (nl == BLOB_HEX_LEN + strlen(THUMB_SUFFIX) && strcmp(f->d_name + BLOB_HEX_LEN, THUMB_SUFFIX) == 0)
                continue; /* walked with its image */
            else
                rc = fn(ud, NULL, f->d_name);
        }
        closedir(sh);
    }
    closedir(th);
    return rc;
}

static int copy_file(const char *from, const char *to)
{
    if (link(from, to) == 0)
        return 0;
    uint8_t *data;
    size_t len;
    int rc = blob_read_file(from, (size_t)1 << 30, &data, &len);
    if (rc)
        return rc;
    rc = blob_write_file(to, data, len, NULL);
    free(data);
    return rc;
}

typedef struct copy_ctx {
    const char *dir, *to;
    uint64_t files;
} copy_ctx;

static int copy_one(void *ud, const uint8_t *h, const char *name)
{
    copy_ctx *cc = ud;
    (void)name;
    if (!h)
        return 0; /* not an upload's: left out */
    char from[4096], to[4400], sub[4400];
    char hex[BLOB_HEX_LEN + 1];
    blob_hex(h, hex);
    snprintf(sub, sizeof sub, "%s/%.2s", cc->to, hex);
    int rc = mkdir_if(sub);
    for (int t = 0; !rc && t < 2; t++) {
        blob_path(cc->dir, h, t == 1, from, sizeof from);
        if (snprintf(to, sizeof to, "%s/%s%s", sub, hex, t ? THUMB_SUFFIX : "") >= (int)sizeof to)
            return ENAMETOOLONG;
        rc = copy_file(from, to);
        if (rc == ENOENT && t == 1)
            rc = 0;
        else if (!rc)
            cc->files++;
    }
    if (!rc)
        rc = fsync_dir(sub);
    return rc;
}

int blob_copy_all(const char *dir, const char *to, uint64_t *files)
{
    *files = 0;
    if (mkdir(to, 0700) != 0)
        return errno;
    copy_ctx cc = { .dir = dir, .to = to };
    int rc = blob_walk(dir, copy_one, &cc);
    *files = cc.files;
    if (!rc) {
        rc = fsync_dir(to);
        if (!rc) {
            char top[4096];
            parent_of(to, top, sizeof top);
            rc = fsync_dir(top);
        }
    }
    return rc;
}

typedef struct restore_ctx {
    const char *from, *dir;
    uint64_t files;
} restore_ctx;

static int restore_one(void *ud, const uint8_t *h, const char *name)
{
    restore_ctx *rc_ = ud;
    (void)name;
    if (!h)
        return 0;
    char hex[BLOB_HEX_LEN + 1], from[4400], to[4096];
    blob_hex(h, hex);
    for (int t = 0; t < 2; t++) {
        if (snprintf(from, sizeof from, "%s/%.2s/%s%s", rc_->from, hex, hex, t ? THUMB_SUFFIX : "") >= (int)sizeof from)
            return ENAMETOOLONG;
        blob_path(rc_->dir, h, t == 1, to, sizeof to);
        if (access(to, F_OK) == 0 || access(from, F_OK) != 0)
            continue;
        uint8_t *data;
        size_t len;
        int rc = blob_read_file(from, (size_t)1 << 30, &data, &len);
        if (!rc) {
            rc = blob_write_file(to, data, len, NULL);
            free(data);
        }
        if (rc)
            return rc;
        rc_->files++;
    }
    return 0;
}

int blob_restore_from(const char *from, const char *dir, uint64_t *files)
{
    char top[4096];
    snprintf(top, sizeof top, "%s/blobs", dir);
    int rc = mkdir_if(top);
    if (rc)
        return rc;
    restore_ctx cc = { .from = from, .dir = dir };
    rc = blob_walk_dir(from, restore_one, &cc);
    *files = cc.files;
    return rc;
}
