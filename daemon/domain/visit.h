/* visit.h: visits to households (民情走访), the due lists, the overdue
 * alert, and the archive's statistics (docs/archive.md).
 *
 * A visit moves its household's last visit and so its next due time
 * (archive_record.c keeps the DL_VISIT row of the deadline index). When a
 * special-care household's due time passes, the deadline engine's sweep
 * calls visit_overdue once for it: the household is marked alerted and the
 * street's feed gets a "visit_overdue" push (no names, no numbers). */
#ifndef WHISTLED_VISIT_H
#define WHISTLED_VISIT_H

#include "call.h"

void visit_record(call *c, const Whistle__V1__RecordVisit *req);
void visit_list(call *c, const Whistle__V1__ListVisits *req);
void visit_list_due(call *c, const Whistle__V1__ListVisitsDue *req);
void visit_stats(call *c, const Whistle__V1__GetArchiveStats *req);

/* The sweep's handler of a DL_VISIT row (household id, the due time the
 * row held): 0 when handled or stale (the household moved on), -1 with
 * the status set on a store error. */
int visit_overdue(call *c, uint64_t household_id, int64_t due);

#endif
