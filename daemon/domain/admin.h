/* admin.h: the administrator's calls: the directory (places, departments,
 * the category catalogue) and its files, principals, the audit log.
 *
 * Every change is audited in its transaction with the record before and
 * after. Places are never deleted: a place that is no longer used is
 * retired (it keeps its cases and takes no new ones), and a place that
 * moves gets new codes while the old ones are retired with their
 * successor named, because codes are prefixes of their subtree and
 * history must stay where it happened. */
#ifndef WHISTLED_ADMIN_H
#define WHISTLED_ADMIN_H

#include "call.h"

void admin_import(call *c, const Whistle__V1__ImportDirectory *req);
void admin_export(call *c, const Whistle__V1__ExportDirectory *req);
void admin_add_node(call *c, const Whistle__V1__AddNode *req);
void admin_update_node(call *c, const Whistle__V1__UpdateNode *req);
void admin_move_node(call *c, const Whistle__V1__MoveNode *req);
void admin_put_department(call *c, const Whistle__V1__PutDepartment *req);
void admin_put_category(call *c, const Whistle__V1__PutCategory *req);
void admin_add_principal(call *c, const Whistle__V1__AddPrincipal *req);
void admin_update_principal(call *c, const Whistle__V1__UpdatePrincipal *req);
void admin_list_principals(call *c, const Whistle__V1__ListPrincipals *req);
void admin_query_audit(call *c, const Whistle__V1__QueryAudit *req);

/* The largest file an import accepts (the router assembles chunks up to
 * this much on a connection). One import is one LMDB transaction, and a
 * transaction holds at most about 512 MiB of changed pages; 32 MiB of CSV
 * (some 600,000 places) stays well under that. */
#define ADMIN_IMPORT_MAX ((size_t)32 << 20)

#endif
