/* services.h: the public service catalogue (公共服务事项目录, DOMAIN.md
 * section 6): what a resident can get done at the community, with where,
 * when, what to bring and how. Classes (2-digit codes) hold items (4
 * digits: the class's 2 + 2). One catalogue for the whole city, kept by
 * admins through the directory files (dirio.c: tables service_classes and
 * services) and read by every principal with list_services. Nothing is
 * deleted: a retired class or item is kept, and left out of the guide. */
#ifndef WHISTLED_SERVICES_H
#define WHISTLED_SERVICES_H

#include <stdbool.h>

#include "call.h"

/* Lookups: NULL when absent (or on a store error). Records live in a. */
Whistle__V1__ServiceClass *services_class_get(store *st, MDB_txn *txn, const char *code, arena *a);
Whistle__V1__ServiceItem *services_item_get(store *st, MDB_txn *txn, const char *code, arena *a);

/* The list_services call (a read; any principal): every class and item in
 * code order, retired ones only when an admin asks with include_retired
 * (anyone else asking for them is PERMISSION_DENIED); class_code narrows
 * it to one class (INVALID_ARGUMENT if it is not 2 digits, NOT_FOUND if
 * there is no such class in the guide). */
void services_list(call *c, const Whistle__V1__ListServices *req);

#endif
