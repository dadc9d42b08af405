/* archive_record.h: the resident archive's records (一本档案): households,
 * residents, units, the care tags, and what their saves keep in line
 * (docs/archive.md).
 *
 * A resident's ID-card number and phone are personal data of the most
 * sensitive kind: they are stored only sealed (base/seal.h) with the keys
 * on the store (st->archive_keys), and looked up by an HMAC of the number,
 * never by the number. They leave the daemon masked (arc_mask) unless a
 * call reveals one field (domain/archive.c decides who may).
 *
 * Saving a household recomputes its visit rhythm (the shortest rhythm of
 * its own and its residents' care tags) and when its next visit is due,
 * and keeps its DL_VISIT row of the deadline index (deadline_rows.h) in
 * line in the same transaction: one row while a due visit has not been
 * alerted yet. Saving a resident keeps the household's member tags. Every
 * save is audited with the stored (sealed) record. */
#ifndef WHISTLED_ARCHIVE_RECORD_H
#define WHISTLED_ARCHIVE_RECORD_H

#include "call.h"
#include "daemon/records.pb-c.h"

#define ARC_NAME_MAX 64    /* a resident's or a unit's name */
#define ARC_PLACE_MAX 64   /* building, unit, room, relation, licence */
#define ARC_NOTE_MAX 2000  /* a household's note, a visit's notes or follow-up */
#define ARC_REASON_MAX 200 /* the reason of a read, a reveal, an export */
#define ARC_TAGS_MAX 16    /* tags on one household or resident */
#define ARC_DAY_MS 86400000LL

/* The city's care tags: the stored list, or the defaults (docs/archive.md). */
Whistle__V1__CareTagList *arc_care_tags(call *c);
const Whistle__V1__CareTag *arc_care_tag_find(const Whistle__V1__CareTagList *l, const char *code);
/* Checks a list of tags against the city's: known, no repeats, at most
 * ARC_TAGS_MAX; -1 with INVALID_ARGUMENT naming field and the bad one. */
int arc_tags_check(call *c, const char *field, char **tags, size_t n);

/* The household; -1 with NOT_FOUND ("no household N") or a store error.
 * bytes/len (may be NULL): the stored record, for the audit log. */
int arc_household_get(call *c, uint64_t id, Whistle__V1__ArchiveHousehold **out, void **bytes, size_t *len);
/* Stores h (a new one when before is NULL: its id is assigned), with its
 * rhythm and due time recomputed, its node index and deadline row moved,
 * audited. old is the stored record (NULL: new). -1 with the status set. */
int arc_household_save(call *c, const Whistle__V1__ArchiveHousehold *old, const void *before, size_t blen,
                       Whistle__V1__ArchiveHousehold *h);
/* The rhythm (days) the household's tags call for under the city's list
 * now (0: none). */
uint32_t arc_household_rhythm(call *c, const Whistle__V1__ArchiveHousehold *h);
/* Recomputes the household's member tags from its residents and saves it
 * when they changed. */
int arc_household_refresh(call *c, uint64_t id);
/* The deadline row key of a household (17 bytes), or 0 when it has none. */
size_t arc_household_deadline_key(const Whistle__V1__ArchiveHousehold *h, uint8_t key[17]);

/* The resident as stored (id_number and phone empty) and its sealed
 * record; -1 with NOT_FOUND or a store error. */
int arc_resident_get(call *c, uint64_t id, Whistle__V1__ArchiveResident **out, Whistled__ArcResident **sealed,
                     void **bytes, size_t *len);
/* The clear value of one sealed field ("" when none was recorded); -1
 * with FAILED_PRECONDITION when the keys are not loaded or the value does
 * not open (a key taken out of the key file). */
int arc_resident_open(call *c, const Whistled__ArcResident *s, Whistle__V1__ArchiveField f, char **out);
/* Fills r's id_number and phone masked from the sealed record. */
int arc_resident_mask(call *c, const Whistled__ArcResident *s, Whistle__V1__ArchiveResident *r);
/* Stores r: its id_number and phone (clear, already checked) are sealed;
 * an empty one keeps old's sealed value. A new resident (old NULL) gets
 * its id. The ID-number index refuses a number already on another
 * resident (ALREADY_EXISTS). Audited; the household's tags follow. */
int arc_resident_save(call *c, const Whistled__ArcResident *old, const void *before, size_t blen,
                      Whistle__V1__ArchiveResident *r);
/* The resident holding an ID-card number (by its HMAC), 0 if none. */
uint64_t arc_resident_by_id_number(call *c, const char *id_number);

/* "110***********123X", "138****5678": the first 3 and the last 4 kept. */
const char *arc_mask(arena *a, const char *s);
/* GB 11643 citizen number: 17 digits, a check digit (0-9 or X) that
 * matches, a birth date that exists. false with why. */
bool arc_id_number_ok(const char *s, const char **why);
/* A mainland mobile (11 digits, 1[3-9]...) or a landline (0 + area code,
 * optional '-', 7-8 digits). */
bool arc_phone_ok(const char *s);
/* YYYY-MM-DD of a real day. */
bool arc_date_ok(const char *s);

/* Keys: u64 BE in a; node | '/' | u64 BE. */
uint8_t *arc_key64(arena *a, uint64_t id);

#endif
