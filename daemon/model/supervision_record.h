/* supervision_record.h: the supervision record (督办) of a case whose
 * deadlines were missed: opened at the first miss, its misses added, its
 * level raised on escalation (domain/supervision.c), and closed when the
 * case or the order leaves the state that was being pressed, which any
 * save of a case or an order may do (event_record.c, order_record.c).
 * Stored in db "supervisions" under its u64 BE id; every save is audited. */
#ifndef WHISTLED_SUPERVISION_RECORD_H
#define WHISTLED_SUPERVISION_RECORD_H

#include "call.h"

/* The record, unpacked into c->a (NULL when absent or unreadable); its
 * packed bytes in *bytes, *len when bytes is not NULL (the audit's before). */
Whistle__V1__Supervision *supervision_load(call *c, uint64_t id, void **bytes, size_t *len);
/* Stores s and audits the change from before. 0, or -1 with the status set. */
int supervision_save(call *c, Whistle__V1__Supervision *s, const void *before, size_t blen);
/* A new open record for the case at level 1, numbered; not yet saved. NULL
 * with the status set when numbering fails. */
Whistle__V1__Supervision *supervision_new(call *c, const Whistle__V1__Event *ev);
/* The open record id names, with its bytes; else (no id, or the record
 * closed) a new one for the case, with *bytes NULL: the caller fills what
 * the new one is about. NULL with the status set when numbering fails. */
Whistle__V1__Supervision *supervision_open(call *c, const Whistle__V1__Event *ev, uint64_t id, void **bytes,
                                           size_t *len);
/* Appends a miss to s (in c->a). */
void supervision_add_miss(call *c, Whistle__V1__Supervision *s, Whistle__V1__Miss *m);
/* Closes the record if it is open, with the reason; 0 or -1. */
int supervision_close(call *c, uint64_t id, const char *reason);
/* The district a street belongs to (its parent in the directory, else its
 * first 6 digits). */
const char *supervision_district_of(call *c, const char *street);

#endif
