/* volrec.h: the records of the community's volunteers (docs/volunteers.md):
 * volunteers and registered members, wishes, the points ledger, the love
 * supermarket's goods and the members' tasks, with their indexes.
 *
 * The ledger is double entry, per community. Every entry moves a positive
 * amount from one account to another of the same community: "issue" (the
 * community's issuing account, the source of every credit: its balance is
 * minus the points in circulation), "shop" (the love supermarket's, where
 * redemptions go) and "v<id>" (a volunteer's). Entries are appended and
 * never changed; a balance is the sum of an account's entries, kept in
 * vol_balances in the same transaction so that a redemption reads it
 * without a scan, and proved against the entries by whistled --check
 * (check.c): each community's balances sum to 0, none but the issuing
 * account is below 0.
 *
 * vol_index rows (one letter, then the key):
 *   'c' community '/' u64 id       volunteers of a community
 *   'p' principal name             -> u64 BE volunteer id (role volunteer)
 *   'w' community '/' u64 id       wishes of a community
 *   't' ticket                     -> u64 BE wish id
 *   'e' community '/' u64 id       ledger entries of a community
 *   'a' community '/' account '/' u64 id   ledger entries of an account
 *   'r' u64 id                     -> u64 BE id of the entry that reversed it
 *   's' community '/' u64 id       the supermarket's goods
 *   'm' community '/' u64 id       members' tasks */
#ifndef WHISTLED_VOLREC_H
#define WHISTLED_VOLREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"

#define VOL_ISSUE "issue"
#define VOL_SHOP "shop"
#define VOL_CODE_LEN 8
#define VOL_CLAIM_HOURS_DEFAULT 72

/* "v<id>": a volunteer's account. In a. */
const char *volrec_account(arena *a, uint64_t volunteer_id);

/* A record by u64 id: 0 and *out (with its packed bytes, for the audit
 * log's before, when bytes is not NULL); 1 when absent; -1 when the store
 * failed (the call failed). */
int volrec_get(call *c, MDB_dbi dbi, uint64_t id, const ProtobufCMessageDescriptor *d, void **out, void **bytes,
               size_t *len);
/* Stores a record under its u64 id; -1 with the call failed. */
int volrec_put(call *c, MDB_dbi dbi, uint64_t id, const ProtobufCMessage *m);
/* The next id of a counter in meta; -1 with the call failed. */
int volrec_next_id(call *c, const char *counter, uint64_t *id);

/* An index row letter | prefix | '/' | u64 BE id -> "". -1 failed. */
int volrec_index_put(call *c, char letter, const char *prefix, uint64_t id);
/* An index row letter | key -> u64 BE value. -1 failed. */
int volrec_index_set(call *c, char letter, const char *key, size_t klen, uint64_t value);
/* The value of such a row: 0 and *value, 1 absent. */
int volrec_index_value(call *c, char letter, const char *key, size_t klen, uint64_t *value);
/* The ids of the rows letter | prefix | '/' | id with id > after, in id
 * order, at most max (*more when there were others). -1 failed. */
int volrec_scan(call *c, char letter, const char *prefix, uint64_t after, size_t max, uint64_t **ids, size_t *n,
                bool *more);

/* The deadline row a wish runs (its claim lapsing), or 0 when it runs none;
 * key holds 17 bytes. */
size_t volrec_wish_row(const Whistle__V1__Wish *w, uint8_t key[17]);
/* Stores a wish (old: as stored, NULL for a new one) and moves its
 * deadline row with it. -1 failed. */
int volrec_wish_save(call *c, const Whistle__V1__Wish *old, const Whistle__V1__Wish *w);

/* The balance of an account (0 when it has no entries). -1 failed. */
int volrec_balance(call *c, const char *community, const char *account, int64_t *out);
/* Appends an entry (its id, at_ms and actor are set here): the balances
 * move in the same transaction, and the entry is audited with its reason.
 * Refused FAILED_PRECONDITION when it would take an account other than
 * the issuing one below 0. -1 failed. */
int volrec_post(call *c, Whistle__V1__LedgerEntry *e);

/* The volunteer record of a principal with role volunteer: 0 and *id, or
 * -1 with the call denied (no volunteer has this certificate). */
int volrec_self(call *c, uint64_t *id);

#endif
