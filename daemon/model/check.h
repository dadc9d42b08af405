/* check.h: the invariant checker behind `whistled --check`.
 *
 * Walks every record and every index of a store and reports, one line per
 * violation, whatever does not agree: an index row without its record or a
 * record without its row, a stream with a gap in its seqs or a meta that
 * does not match its entries, an order whose case does not list it, a hole
 * in the audit log, a record that does not unpack, a deadline a record runs
 * without its row in the deadline index or a row no record runs, a
 * supervision record whose case or order is gone, a volunteers' ledger whose
 * balances are not the sums of their entries, do not sum to 0 in a
 * community, or go below 0 (volrec.h). It opens the store
 * read-only in one read transaction, so it sees one consistent snapshot and
 * may run while whistled is running (or on a stopped daemon's store).
 *
 * What it checks is what store.h, stream.h, event.h and dispatch.h promise;
 * a change to those promises changes this file in the same commit. */
#ifndef WHISTLED_CHECK_H
#define WHISTLED_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct check_report {
    uint64_t records; /* records and index rows read */
    uint64_t events, orders, stream_entries, audit_records;
    uint64_t violations;
    uint64_t photos, photo_attachments, photo_orphans; /* uploads, attachments, files no record names */
} check_report;

/* Checks the store in dir. Writes one line per violation to out (at most
 * CHECK_MAX_LINES; the count goes on). Returns 0 when the store is clean,
 * 1 when it has violations, 2 when it cannot be opened or read (err says
 * why, for people). */
#define CHECK_MAX_LINES 1000
int check_store(const char *dir, FILE *out, check_report *rep, char *err, size_t errlen);
/* The same with the photos' files looked for in blobs (a directory laid
 * out as store.dir/blobs: ab/<sha256>, ab/<sha256>.thumb); NULL: they are
 * not looked at (a backup copied without them), which the report says.
 * check_store looks in dir/blobs, hashing. Every upload's files must be
 * there and hash to what its record says (hash; else be of its size: a
 * nightly backup's check does not read every photo again), every
 * attachment name an upload whose count of attachments is right; a file
 * no record names is an orphan, reported but not a violation (an upload
 * cut short by a crash leaves one). */
int check_store_blobs(const char *dir, const char *blobs, bool hash, FILE *out, check_report *rep, char *err,
                      size_t errlen);

#endif
