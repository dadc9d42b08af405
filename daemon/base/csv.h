/* csv.h: CSV as spreadsheets write it, for directory imports and exports.
 *
 * Reading: RFC 4180 (fields in double quotes may hold the delimiter, line
 * breaks and "" for a quote), CRLF, LF or CR line ends, a UTF-8 byte order
 * mark at the start (Excel's "CSV UTF-8" writes one), and the delimiter
 * that the header row uses: comma, semicolon (European spreadsheets) or
 * tab (a copy from a spreadsheet). Fields are trimmed of spaces and tabs.
 * Records are checked for UTF-8 as a whole, so that a file saved as GBK is
 * reported once per line, not once per field. */
#ifndef WHISTLED_CSV_H
#define WHISTLED_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct csv_reader {
    const char *p, *end;
    size_t line; /* the line the next record starts on (1-based) */
    char delim;
} csv_reader;

/* Starts reading data (skips a BOM, picks the delimiter from the first
 * record). */
void csv_init(csv_reader *r, const void *data, size_t len);

enum { CSV_EOF = 0, CSV_RECORD = 1, CSV_BAD = -1 };

/* The next record: CSV_RECORD with fields (in a) and *line the line it
 * starts on; CSV_EOF at the end; CSV_BAD for a record that cannot be read
 * (not UTF-8, a NUL byte, an unterminated quote), with why for people and
 * *line set: the reader has skipped it and may go on. Blank records (no
 * field with anything in it) are skipped. */
int csv_next(csv_reader *r, arena *a, char ***fields, size_t *n, size_t *line, const char **why);

/* Appends one field to buf (quoted when it must be), growing it. */
typedef struct csv_buf {
    char *data;
    size_t len, cap;
} csv_buf;
void csv_put(csv_buf *b, const char *field, bool first_in_record);
void csv_end_record(csv_buf *b);
void csv_append(csv_buf *b, const char *s, size_t n);
void csv_buf_free(csv_buf *b);

#endif
