/* stats.h: the GetStats call (DOMAIN §5, docs/statistics.md): how the
 * work is judged, per district, street, community, grid or department,
 * by day, week or month. It reads the counters that every save keeps
 * (stats_rows.h), never the cases. */
#ifndef WHISTLED_STATS_H
#define WHISTLED_STATS_H

#include "call.h"

void stats_get(call *c, const Whistle__V1__GetStats *req);

#endif
