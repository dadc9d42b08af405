/* dirio.h: the directory in and out as files: CSV (one table per file,
 * a header row) and JSON (the seed format, every table in one document).
 *
 * An import is checked as a whole before anything is written: every bad
 * line is reported (with its line number or JSON index, the field and the
 * rule), and a file with one bad line changes nothing. A good file is
 * merged into the directory in the caller's transaction: new records are
 * added, existing ones updated (columns the file does not have are left as
 * they are), each change audited. Parents may come in any order; a record
 * may refer to another in the same file or to one already stored.
 * docs/administration.md describes the files for people. */
#ifndef WHISTLED_DIRIO_H
#define WHISTLED_DIRIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "store.h"
#include "whistle/v1/whistle.pb-c.h"

typedef struct dirio_opts {
    Whistle__V1__DataFormat format;
    Whistle__V1__DirectoryTable table; /* unspecified: CSV by header, JSON all */
    bool dry_run;                      /* check and count, write nothing */
    const char *principal;             /* who, for the audit log */
    const char *call;                  /* "import" or "seed" */
    int64_t now;
} dirio_opts;

#define DIRIO_TABLES 7 /* indexed by Whistle__V1__DirectoryTable, 1..6 */

typedef struct dirio_result {
    uint32_t added[DIRIO_TABLES], updated[DIRIO_TABLES], unchanged[DIRIO_TABLES];
    bool present[DIRIO_TABLES]; /* the tables the file held */
    const char **notes;
    size_t n_notes;
    const char *errors; /* one line per error, "\n" between (cut past a budget) */
    size_t n_errors;    /* every error, also those cut from the text */
    size_t bad_rows;    /* lines (CSV) or entries (JSON) with an error */
    bool csv;
} dirio_result;

/* Imports data into txn. Returns 0 when the file is valid (and merged
 * unless dry_run), 1 when it is not (nothing was written; r->errors says
 * why), or an MDB error code from the store. Everything lives in a. */
int dirio_import(store *st, MDB_txn *txn, arena *a, const void *data, size_t len, const dirio_opts *o, dirio_result *r);

/* Loads a JSON seed into an empty store (see api_seed). */
int dirio_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen);

/* One page of an export, about budget bytes, appended to out; *next is the
 * cursor of the next page ("" after the last). 0, 1 with why (a bad
 * argument or cursor: the same 1 as an import's bad file), or a store
 * code. */
int dirio_export(store *st, MDB_txn *txn, arena *a, Whistle__V1__DataFormat format, Whistle__V1__DirectoryTable table,
                 const char *under, const char *cursor, size_t budget, csv_buf *out, const char **next, uint32_t *rows,
                 const char **why);

/* The table's name in files and messages ("nodes", ..., "service_classes",
 * "services"). */
const char *dirio_table_name(Whistle__V1__DirectoryTable t);

#endif
