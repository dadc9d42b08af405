/* directory.h: the fixed data the cases refer to: the tree of places
 * (nodes), departments, categories (权责清单) and principals, and the JSON
 * seed that loads them into an empty store. */
#ifndef WHISTLED_DIRECTORY_H
#define WHISTLED_DIRECTORY_H

#include "domain.h"

/* Lookups: NULL when absent (or on a store error). Records live in a. */
Whistle__V1__Principal *directory_principal_get(store *st, MDB_txn *txn, const char *name, arena *a);
Whistle__V1__Node *directory_node_get(store *st, MDB_txn *txn, const char *code, arena *a);
Whistle__V1__Department *directory_department_get(store *st, MDB_txn *txn, const char *code, arena *a);
Whistle__V1__Category *directory_category_get(store *st, MDB_txn *txn, const char *code, arena *a);

/* The street a node belongs to, by walking its parents up to the node of
 * kind street (the node itself if it is one). NULL if the node is above
 * street level or its chain is broken. */
const char *directory_street_of(store *st, MDB_txn *txn, const char *code, arena *a);

/* Role names as the seed and the docs spell them ("grid_worker", ...). */
bool directory_role_parse(const char *s, Whistle__V1__Role *out);
bool directory_kind_parse(const char *s, Whistle__V1__NodeKind *out);
const char *directory_kind_name(Whistle__V1__NodeKind k);

/* The list calls: any principal. */
void directory_list_nodes(call *c, const Whistle__V1__ListNodes *req);
void directory_list_departments(call *c);
void directory_list_categories(call *c);

/* The seed loader (api_seed calls it): see api.h. */
int directory_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen);

#endif
