/* blobs.h: the photo files beside the LMDB environment (docs/photos.md).
 *
 * A photo's bytes stay out of LMDB: a completed upload is two files under
 * <photos dir>/blobs/ ([photos] dir, by default the store's directory), named by the SHA-256 of the bytes uploaded (the
 * content's address): blobs/ab/abcdef... (the stored image, re-encoded,
 * metadata stripped) and blobs/ab/abcdef....thumb (its JPEG thumbnail).
 * An upload in progress is one file, uploads/abcdef....part, that grows
 * chunk by chunk.
 *
 * The durability rule for them (the model's photo_record.h keeps it):
 * the files are written and flushed (file and directory) before the
 * record naming them is committed, and removed only after the record's
 * removal is committed. So a committed record always has its files.
 *
 * Plain files and syscalls, no LMDB: callable from any thread. The
 * functions that write or read whole files block on the disk, so the
 * daemon calls them off the loop thread (libuv's thread pool), except
 * blob_read_at, a read of at most a frame from the page cache. Functions
 * return 0 or an errno value (docs/errors.md: a store code). */
#ifndef WHISTLED_BLOBS_H
#define WHISTLED_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOB_HASH_LEN 32
#define BLOB_HEX_LEN 64

/* The two directories under dir (the photos' directory: [photos] dir, else
 * the store's), made if missing; dir itself must exist (a file system
 * not mounted must not be replaced unnoticed by an empty directory). 0,
 * or -1 with a line for people in err (start-up). */
int blobs_init(const char *dir, char *err, size_t errlen);

/* hex: 64 lowercase digits and a NUL. */
void blob_hex(const uint8_t h[BLOB_HASH_LEN], char hex[BLOB_HEX_LEN + 1]);
/* Whether s is 64 hex digits (either case); h gets the bytes. */
bool blob_unhex(const char *s, uint8_t h[BLOB_HASH_LEN]);
void blob_sha256(const void *data, size_t len, uint8_t h[BLOB_HASH_LEN]);

/* The stored image's path (thumb: the thumbnail's), the partial upload's. */
void blob_path(const char *dir, const uint8_t h[BLOB_HASH_LEN], bool thumb, char *out, size_t len);
void blob_part_path(const char *dir, const uint8_t h[BLOB_HASH_LEN], char *out, size_t len);

/* How fast blob_write_file writes (the ingest thread's: docs/photos.md,
 * "Sharing the machine"). A file is written in steps of BLOB_STEP bytes, each
 * sent to the disk and waited for (sync_file_range) before the next, so
 * that no more than a step of a photo is ever in flight or dirty: a
 * commit of the store's, on the same disk, never waits behind a whole
 * photo's data (the flush of the disk's cache that ends a commit writes
 * out what came before it; ext4's ordered mode without dioread_nolock
 * makes a journal commit wait for the data of the blocks it allocates). With bytes_per_s > 0, the steps
 * are also spaced so that the files are written at most that fast over
 * time (no credit is saved up while idle). One per thread. */
#define BLOB_STEP (256u << 10)
typedef struct blob_pace {
    double bytes_per_s; /* 0: as fast as the disk takes them */
    uint64_t next_ns;   /* CLOCK_MONOTONIC: the next step not before */
    uint64_t slept_ns;  /* time spent waiting for the rate, in all */
} blob_pace;

/* Writes data as path, durably and whole or not at all: a temporary file
 * beside it, written in steps (pace: at its rate; NULL: unpaced), flushed,
 * renamed over path, the directory flushed (its parent made if missing). */
int blob_write_file(const char *path, const void *data, size_t len, blob_pace *pace);
/* Reads the whole file (at most max bytes: EFBIG past it) into a malloc'd
 * buffer. */
int blob_read_file(const char *path, size_t max, uint8_t **data, size_t *len);
/* The SHA-256 and size of a file. */
int blob_hash_file(const char *path, uint8_t h[BLOB_HASH_LEN], uint64_t *size);
/* At most want bytes at offset of path (an image or a thumbnail) into buf;
 * *size gets the file's size, *got what was read. */
int blob_read_at(const char *path, uint64_t offset, void *buf, size_t want, size_t *got, uint64_t *size);
/* Removes an upload's two files and flushes their directory; files
 * already gone are fine. */
int blob_remove(const char *dir, const uint8_t h[BLOB_HASH_LEN]);

/* Appends data at offset to the partial upload of h, which must then hold
 * exactly offset bytes; *have gets what it holds after (also when nothing
 * was written because offset did not match). A partial file longer than
 * total is cut back to nothing (it cannot be this upload's). */
int blob_part_append(const char *dir, const uint8_t h[BLOB_HASH_LEN], uint64_t total, uint64_t offset, const void *data,
                     size_t len, uint64_t *have);
/* What the partial upload of h holds (0: none). */
uint64_t blob_part_size(const char *dir, const uint8_t h[BLOB_HASH_LEN]);
/* Partial uploads not written to since before cutoff (Unix seconds) are
 * removed, at most max of them; *removed says how many. */
int blob_parts_expire(const char *dir, int64_t cutoff_s, size_t max, size_t *removed);

/* Calls fn for every upload that has a file under blobs/ (by its hash),
 * and for every file there that is not an upload's (h NULL, name set);
 * stops at fn's first nonzero return, which it returns. */
typedef int (*blob_walk_fn)(void *ud, const uint8_t *h, const char *name);
int blob_walk(const char *dir, blob_walk_fn fn, void *ud);
/* The same over a blobs directory itself (a backup's copy of one). */
int blob_walk_dir(const char *blobs, blob_walk_fn fn, void *ud);

/* Copies (a hard link where it can) every file under dir's blobs/ into
 * to/ (made, and must not exist), flushed; *files says how many. For
 * backups. */
int blob_copy_all(const char *dir, const char *to, uint64_t *files);
/* A restore: every file of a backup's blobs directory (from) that dir's
 * blobs/ lacks is copied in, flushed; *files says how many. */
int blob_restore_from(const char *from, const char *dir, uint64_t *files);

#endif
