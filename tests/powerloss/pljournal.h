/* pljournal.h: the journal that plshim.so writes and plrestore reads
 * (docs/reliability.md, "Power loss").
 *
 * One process's life under the shim is one journal: a header per record,
 * appended with write() before the change it describes is made, so a
 * SIGKILL leaves at most a record cut short at the end (ignored: its
 * change was never made). Records are in the order of their seq, which
 * the shim hands out under one lock together with the write itself.
 *
 *  PL_WRITE  a change to a regular file under the root: the bytes it
 *            replaces (payload: the part of [off, off + len) below
 *            oldsize), the size before and after. ftruncate and fallocate
 *            are changes too (off/len the range they cut or add).
 *  PL_SYNC   fsync/fdatasync of the inode returned: every PL_WRITE of it
 *            with seq <= this record's seq is on disk.
 *  PL_RANGE  the pages of [off, off + len) of the inode reached the disk
 *            with every PL_WRITE of them up to seq (a write through an
 *            O_DSYNC or O_SYNC descriptor, sync_file_range with WAIT_AFTER).
 *  PL_ALL    sync() or syncfs(): every PL_WRITE up to seq is on disk.
 *  PL_GONE   the inode's last name was removed (unlink, or a rename over
 *            it): its changes up to seq belong to no file now, even if
 *            its number is given to a new one.
 *  PL_DIR    a directory's entries on disk (payload: its path, a NUL, then
 *            each name and a NUL): taken at start for every directory
 *            under the root, and before each fsync of a directory that
 *            then succeeded. */
#ifndef WHISTLE_PLJOURNAL_H
#define WHISTLE_PLJOURNAL_H

#include <stdint.h>

#define PL_MAGIC 0x314a4c50u /* "PLJ1" */
#define PL_PAGE 4096u        /* the unit the kernel writes back */

enum { PL_WRITE = 1, PL_SYNC = 2, PL_RANGE = 3, PL_ALL = 4, PL_DIR = 5, PL_GONE = 6 };

typedef struct pl_rec {
    uint32_t magic;
    uint32_t type;
    uint64_t seq;
    uint64_t dev, ino;
    uint64_t off, len;
    uint64_t oldsize, newsize;
    uint64_t payload; /* bytes that follow the header */
} pl_rec;

#endif
