/* principal.h: a principal's reach in the tree of places. Node codes are
 * prefixes of their subtree (district 6 digits, street 9, community 12,
 * grid 15, building 18), so "in scope" is a prefix test. Pure functions. */
#ifndef WHISTLED_PRINCIPAL_H
#define WHISTLED_PRINCIPAL_H

#include <stdbool.h>

#include "arena.h"
#include "whistle/v1/whistle.pb-c.h"

/* Node N is in scope S when N's code starts with S. The empty scope holds
 * nothing. */
bool scope_covers(const char *scope, const char *node);
/* Whether any of the principal's scopes (scope and extra_scopes) covers
 * node; and whether node lies on the path above one of them. */
bool principal_covers(const Whistle__V1__Principal *p, const char *node);
bool principal_below(const Whistle__V1__Principal *p, const char *node);
/* The longest code that prefixes all of the principal's scopes: what a
 * scan of its reach starts from ("" if they share no district). */
const char *principal_common_scope(const Whistle__V1__Principal *p, arena *a);

#endif
