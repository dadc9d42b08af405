/* community.h: the dispatch of the community's own calls: the resident
 * archive, visits and the echo board (domain/archive.c, visit.c, board.c;
 * docs/archive.md). api.c asks these after its own table, as it asks
 * oversight.h. */
#ifndef WHISTLED_COMMUNITY_H
#define WHISTLED_COMMUNITY_H

#include <stdbool.h>

#include "call.h"

/* Answers req when it is one of these reads; false when it is not. */
bool community_read(call *c, const Whistle__V1__Request *req);
/* Applies req when it is one of these writes; false when it is not. */
bool community_write(call *c, const Whistle__V1__Request *req);

/* Loads the archive seed (CSV in the import's columns, docs/archive.md)
 * into an empty archive, as the daemon itself (the demo city's households
 * for `make run`). Does nothing if the archive has households. 0, or
 * negative with err filled. */
int community_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen);

#endif
