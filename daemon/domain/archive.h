/* archive.h: the resident archive's calls (一本档案, docs/archive.md).
 *
 * Who: roles are authz.c's (the grid's worker, the community's workers and
 * the street's operators read and write the archive; admins set the care
 * tags and export; nobody else sees it). Scope is checked here against the
 * household's place, and a record outside the caller's scope reads like a
 * missing one (NOT_FOUND), its denial audited with the true reason.
 *
 * Privacy: ID-card numbers and phones leave masked; get_resident reveals
 * one field with a reason where the role may (an ID number: grid and
 * community workers; a phone: those and operators). Every read of a person,
 * or of a list of households, names its reason in the audit log (api.c
 * has the writer append it before the answer goes out). */
#ifndef WHISTLED_ARCHIVE_H
#define WHISTLED_ARCHIVE_H

#include "call.h"

void archive_put_household(call *c, const Whistle__V1__PutHousehold *req);
void archive_put_resident(call *c, const Whistle__V1__PutResident *req);
void archive_get_household(call *c, const Whistle__V1__GetHousehold *req);
void archive_get_resident(call *c, const Whistle__V1__GetResident *req);
void archive_list_households(call *c, const Whistle__V1__ListHouseholds *req);
void archive_put_unit(call *c, const Whistle__V1__PutArchiveUnit *req);
void archive_list_units(call *c, const Whistle__V1__ListArchiveUnits *req);
void archive_set_care_tags(call *c, const Whistle__V1__SetCareTags *req);
void archive_list_care_tags(call *c);
void archive_import(call *c, const Whistle__V1__ImportArchive *req);
void archive_export(call *c, const Whistle__V1__ExportArchive *req);

/* The caller reaches the archive at node (admins everywhere): 0, or -1
 * answered NOT_FOUND as missing (target: "household:7") and audited. */
int archive_reach(call *c, const char *node, const char *target, const char *missing);
/* The household's line as people read it: "3号楼 2单元 301". */
const char *archive_address(arena *a, const Whistle__V1__ArchiveHousehold *h);

#endif
