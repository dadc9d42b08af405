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

#endif
