/* directory.h: the fixed data the cases refer to: the tree of places
 * (nodes), departments, categories (权责清单) and principals, and the JSON
 * seed that loads them into an empty store. */
#ifndef WHISTLED_DIRECTORY_H
#define WHISTLED_DIRECTORY_H

#include "call.h"

/* Lookups: NULL when absent (or on a store error). Records live in a. */
Whistle__V1__Principal *directory_principal_get(store *st, MDB_txn *txn, const char *name, arena *a);
Whistle__V1__Node *directory_node_get(store *st, MDB_txn *txn, const char *code, arena *a);
Whistle__V1__Department *directory_department_get(store *st, MDB_txn *txn, const char *code, arena *a);
Whistle__V1__Category *directory_category_get(store *st, MDB_txn *txn, const char *code, arena *a);

/* The street a node belongs to, by walking its parents up to the node of
 * kind street (the node itself if it is one). NULL if the node is above
 * street level or its chain is broken. */
const char *directory_street_of(store *st, MDB_txn *txn, const char *code, arena *a);

/* Role names as the seed and the docs spell them ("grid_worker", ...); the
 * parsers also take the Chinese words a spreadsheet may use (网格员, 社区,
 * 街道, 网格...). */
bool directory_role_parse(const char *s, Whistle__V1__Role *out);
bool directory_kind_parse(const char *s, Whistle__V1__NodeKind *out);
const char *directory_kind_name(Whistle__V1__NodeKind k);
/* The scope of a catalogue entry (a department, a category, a service
 * class or item): a district's code, or "" for the whole city.
 * directory_serves: the entry applies at node (a case's place). */
bool directory_serves(const char *entry_scope, const char *node);
/* directory_seen_by: the entry is for the principal's reach (its scope, or
 * a place under it or over it); admins see every entry. */
bool directory_seen_by(const Whistle__V1__Principal *who, const char *entry_scope);

/* Code shapes of the service catalogue: a class is exactly 2 ASCII
 * digits, an item exactly 4 (the class's 2 + 2). */
bool directory_class_code_ok(const char *s);
bool directory_service_code_ok(const char *s);
/* A role's name as the protocol and the files spell it ("grid_worker"). */
const char *role_name(Whistle__V1__Role r);
/* The same with its article, for sentences: "an operator", "a kiosk". */
const char *role_a(Whistle__V1__Role r);
/* The digits of a code of each kind: 6 district, 9 street, 12 community,
 * 15 grid, 18 building (0 for anything else). */
size_t directory_code_len(Whistle__V1__NodeKind k);

/* Department codes: 1-32 of a-z 0-9 _ -. Task kinds follow the same rule. */
bool directory_dept_code_ok(const char *s);

/* The time limits of a category for a priority: the priority's own entry,
 * each limit falling back to the default entry's, then to the legacy
 * check_in_minutes / resolve_hours. Never NULL; an amount of 0 is "no
 * limit". */
Whistle__V1__PriorityLimits *directory_limits_for(const Whistle__V1__Category *k, Whistle__V1__Priority p, arena *a);
/* Sets the legacy check_in_minutes / resolve_hours from the default limits
 * (0 where the default is in working time or absent). */
void directory_category_mirror(Whistle__V1__Category *k);
/* A limit as people write it: "30m", "2h", "3d", "4wh" (working hours),
 * "7wd" (working days), or with Chinese units (30分钟, 2小时, 3天, 4工作小时,
 * 7工作日). "" is no limit. 0, or -1 with why. */
int directory_limit_parse(const char *s, Whistle__V1__TimeLimit *out, const char **why);
/* The same text back ("" for no limit). */
const char *directory_limit_format(const Whistle__V1__TimeLimit *l, arena *a);
/* Staged limits (docs/deadlines.md) as people write them: stages separated
 * by ';' (or '；'), each a name (中文/English, or either alone) and a limit:
 * "责令停工/Stop work 4wh; 处罚/Penalty 7wd". At most 8. "" is none.
 * Fills the stages (allocated in a); 0, or -1 with why. */
int directory_stages_parse(const char *s, arena *a, Whistle__V1__Stage ***out, size_t *n, const char **why);
/* The same text back. */
const char *directory_stages_format(const Whistle__V1__Category *k, arena *a);

/* The list calls: any principal. */
void directory_list_nodes(call *c, const Whistle__V1__ListNodes *req);
void directory_list_departments(call *c);
void directory_list_categories(call *c);
/* Unpacks the records of dbi whose keys start with prefix ("" for all),
 * in key order, into v. 0, or -1 with the call failed ("store error
 * while <what>"). */
int directory_scan(call *c, MDB_dbi dbi, const char *prefix, const ProtobufCMessageDescriptor *d, ptr_vec *v,
                   const char *what);

#endif
