/* text.h: the checks of text from outside (clients, files): UTF-8, short
 * identifiers, digit strings. One of each, for every layer (the router's
 * frame check, the CSV reader, every call's fields). Pure functions. */
#ifndef WHISTLED_TEXT_H
#define WHISTLED_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A proto3 string that may be NULL in a hand-built message. */
static inline const char *str0(const char *s) { return s ? s : ""; }

/* Whether s[0..n) is well-formed UTF-8: no overlong forms, no surrogates,
 * nothing beyond U+10FFFF. */
bool utf8_valid(const char *s, size_t n);

/* A short identifier (ticket, code, name) that can be a key: 1..max bytes of
 * printable ASCII without spaces. */
bool ident_ok(const char *s, size_t max);
/* Exactly len (>= 1) ASCII digits. */
bool digits_ok(const char *s, size_t len);

#endif
