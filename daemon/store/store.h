/* store.h: the LMDB environment and its named databases.
 *
 * store/ is the layer of persistence: the environment (store.c), the audit
 * log (audit.c) and the durable push streams (stream.c). It calls only
 * base/. What the layers above keep with the store (the policy, the
 * denials, the look-up guard) rides on it as opaque pointers and two hooks
 * that audit_attach sets; store.c never calls up. Its functions return 0
 * or a store code (docs/errors.md).
 *
 * One environment under the state directory. Only the writer thread opens
 * write transactions; the loop thread reads through one MDB_NOTLS read
 * transaction that it resets between loop iterations (store_read_*).
 *
 * Keys are big-endian where numeric so that LMDB order is numeric order.
 * Values are packed protobuf records (whistle.v1 or whistled records).
 * Every secondary index changes in the same transaction as its record.
 *
 * Databases (name: key -> value):
 *   meta         ascii name -> bytes         counters: "order_seq" (u64 BE),
 *                                            "ticket:<yyyymmdd>" (u64 BE),
 *                                            "audit_seq" (u64 BE), "schema" (u32 BE)
 *   events       ticket -> whistle.v1.Event   (its current state only: no
 *                timeline entries; timeline_total = how many it has, and
 *                timeline_from the same: where the next one goes)
 *                and, in the same database (schema 3; ev_timeline below),
 *                ticket | 0x00 | u32 BE index -> whistle.v1.TimelineEntry
 *                (entry 0 is the report; appended, never rewritten). A
 *                ticket holds no NUL, so a case's entries follow its
 *                record: a write that changes a case and appends to its
 *                timeline dirties one leaf, not two in two trees. A walk
 *                of the cases skips the keys that hold a NUL.
 *   ev_by_state  u8 state | street code | '/' | ticket -> ""   (a state's
 *                cases are the prefix state, one street's state | street)
 *   ev_by_node   node code | '/' | ticket -> ""   (prefix scan = subtree)
 *   orders       u64 BE id -> whistle.v1.Order
 *   ord_by_dept  dept code | '/' | u8 state | u64 BE id -> ""
 *   ord_by_street_state  street code | '/' | u8 state | u64 BE id -> ""
 *                (schema 2: a listing of one street's or department's
 *                orders in a state reads only those; schema 1 had
 *                ev_by_state = state | ticket, ord_by_dept = dept | '/' | id)
 *   streams      stream name | 0x00 | u64 BE seq -> whistle.v1.Push
 *   stream_meta  stream name -> whistled.StreamMeta
 *   idem         principal | 0x00 | idempotency key -> whistled.IdemRecord
 *                and, in the same database (schema 3; schema 2 had them in
 *                a table idem_by_time), 0x00 | u64 BE at_ms | idem key -> ""
 *                (idem.c: expiry, oldest first, in bounded steps in the
 *                writer's batches; a principal's name is never empty, so
 *                these rows sort first)
 *   nodes        code -> whistle.v1.Node
 *   departments  code -> whistle.v1.Department
 *   categories   code -> whistle.v1.Category
 *   principals   name -> whistle.v1.Principal
 *   audit        0x80 | u64 BE at_ms | u64 BE seq -> whistled.AuditRecord
 *                (schema 3; 2: u64 BE seq), so in time order, and before
 *                the records its rows by principal and by target (audit.h)
 *   admission    community code -> whistle.v1.AdmissionList
 *   tasks        u64 BE id -> whistle.v1.Task
 *   task_by_comm community code | '/' | u64 BE id -> ""
 *   task_by_dept department code | '/' | u64 BE id -> ""  (street pushes: "")
 *   deadlines    i64 BE due ms | u8 kind | target -> ""   (deadline.c: one row
 *                per running deadline; target = u64 BE order id [+ u8
 *                stage] or a ticket)
 *   supervisions u64 BE id -> whistle.v1.Supervision   (supervision.c)
 *   stats        dimension | '|' | bucket | '|' | metric -> i64 BE (stats.c)
 *   service_classes  2-digit code -> whistle.v1.ServiceClass   (services.c:
 *   services         4-digit code -> whistle.v1.ServiceItem     the public
 *                    service guide; fixed-width codes, so key order is code
 *                    order and a class's items are the keys with its prefix)
 *   the resident archive (domain/archive.c, docs/archive.md; personal data:
 *   ID-card numbers and phones only sealed, base/seal.h):
 *   arc_households   u64 BE id -> whistle.v1.ArchiveHousehold (members empty)
 *   arc_hh_by_node   node code | '/' | u64 BE id -> ""
 *   arc_residents    u64 BE id -> whistled.ArcResident
 *   arc_res_by_hh    u64 BE household | u64 BE resident -> ""
 *   arc_id_index     HMAC-SHA256(ID-card number) -> u64 BE resident (never the number)
 *   arc_units        u64 BE id -> whistled.ArcUnit
 *   arc_unit_by_node node code | '/' | u64 BE id -> ""
 *   arc_visits       u64 BE id -> whistle.v1.Visit
 *   arc_visit_by_hh  u64 BE household | u64 BE visit -> ""
 *   arc_visit_by_node node code | '/' | i64 BE at_ms | u64 BE visit -> ""
 *   arc_config       "care_tags" -> whistle.v1.CareTagList
 *   arc_board        u64 BE id -> whistle.v1.BoardNotice
 *   arc_board_by_node node code | '/' | u64 BE id -> ""
 *   delib_bodies     u64 BE id -> whistle.v1.DelibBody       (deliberation.c:
 *   delib_proposals  u64 BE id -> whistle.v1.DelibProposal   councils, their
 *   delib_meetings   u64 BE id -> whistle.v1.DelibMeeting    proposals and
 *                    meetings; ids from meta's "delib_body_seq",
 *                    "delib_proposal_seq", "delib_meeting_seq")
 *   delib_by_body    u64 BE body | 'p' or 'm' | u64 BE id -> "": a body's
 *                    proposals and meetings (written with them; built at
 *                    open for a store that has records and no index yet:
 *                    store_delib_index)
 *   vol_config   community code -> whistle.v1.VolunteerConfig
 *   vol_people   u64 BE id -> whistle.v1.Volunteer
 *   vol_wishes   u64 BE id -> whistle.v1.Wish
 *   vol_ledger   u64 BE id -> whistle.v1.LedgerEntry   (append-only)
 *   vol_balances community | '/' | account -> i64 BE   (derived from vol_ledger,
 *                checked by whistled --check)
 *   vol_shop     u64 BE id -> whistle.v1.ShopItem
 *   vol_mtasks   u64 BE id -> whistle.v1.MemberTask
 *   vol_index    one letter | key -> "" or u64 BE: the volunteers' indexes
 *                (model/volrec.h names them)
 *   photos (model/photo_record.h, docs/photos.md; their bytes are files,
 *   store/blobs.h):
 *   photo_uploads    upload SHA-256 (32 bytes) -> whistled.PhotoUpload
 *   photo_up_by_time i64 BE created ms | SHA-256 -> ""   (uploads not yet
 *                    looked at by the sweep: removed if never attached)
 *   photo_att        u64 BE id -> whistled.PhotoAttachmentRecord (ids from
 *                    meta's "photo_att_seq")
 *   federation (domain/fed.c, docs/federation.md), both kept forever:
 *   fed_keys     key -> whistled.FedKeyRecord (what a fed_apply with that
 *                key answered, stored with its change)
 *   fed_ext      external id -> ticket (the case a hotline id became here)
 */
#ifndef WHISTLED_STORE_H
#define WHISTLED_STORE_H

#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* The layout version written to meta "schema"; a store with a newer one is
 * refused at open (and reported by whistled --check), an older one is
 * migrated at open (migrate.c), after a backup copy. 1: a case's timeline
 * inside its record; 2: in ev_timeline, and the street/department by state
 * indexes; 3: the timeline rows in events after their case's record, the
 * audit's indexes in its log's database, the idempotency records' rows by
 * age in theirs (fewer trees, so fewer pages, written per write). */
#define STORE_SCHEMA_VERSION 3u

typedef enum { STORE_SYNC_FULL = 0, STORE_SYNC_NOMETASYNC, STORE_SYNC_NONE } store_sync;

typedef struct store_opts {
    size_t map_size; /* initial map size in bytes (0: 64 MiB) */
    size_t map_max;  /* grow the map up to this (0: 16 GiB) */
    store_sync sync;
    const char *photo_dir; /* the photos' files (blobs/, uploads/) under it; NULL: the store's dir */
} store_opts;

typedef struct store {
    MDB_env *env;
    size_t map_size, map_max;
    store_sync sync;
    MDB_dbi meta, events, ev_by_state, ev_by_node, orders, ord_by_dept, streams, stream_meta, idem, nodes, departments,
        categories, principals, audit;
    MDB_dbi admission, tasks, task_by_comm, task_by_dept;
    MDB_dbi deadlines, supervisions, stats;
    MDB_dbi service_classes, services;
    MDB_dbi arc_households, arc_hh_by_node, arc_residents, arc_res_by_hh, arc_id_index, arc_units, arc_unit_by_node,
        arc_visits, arc_visit_by_hh, arc_visit_by_node, arc_config, arc_board, arc_board_by_node;
    /* event_record.c: a case's timeline, one row per entry. Since schema
     * 3 the same database as events (the rows follow their case's record);
     * schema 2 had a table "ev_timeline" of its own, which the migration
     * empties into events and deletes. */
    MDB_dbi ev_timeline;
    MDB_dbi ord_by_street_state; /* bounded listings */
    /* How long the result of a write with an idempotency key is kept, in
     * ms (0: the default, 7 days); set once at start (main.c). */
    int64_t idem_keep_ms;
    /* How long a push stream's entries are kept once acknowledged, in ms
     * (0: the default, 30 days); set once at start (main.c). */
    int64_t stream_keep_ms;
    MDB_dbi delib_bodies, delib_proposals, delib_meetings; /* deliberation.c */
    MDB_dbi delib_by_body;                                 /* a body's proposals and meetings */
    /* the volunteers' side (model/volrec.h) */
    MDB_dbi vol_config, vol_people, vol_wishes, vol_ledger, vol_balances, vol_shop, vol_mtasks, vol_index;
    MDB_dbi photo_uploads, photo_up_by_time, photo_att; /* photo_record.c */
    /* [photos] (docs/photos.md), set once at start (main.c); 0: defaults */
    struct photo_limits {
        uint64_t max_bytes;      /* an upload's largest size (8 MiB) */
        uint32_t max_per_action; /* photos one call attaches (9) */
        uint32_t max_per_case;   /* photos a case holds in all (64) */
        int64_t grace_ms;        /* an upload never attached is removed after (24 h) */
    } photos;
    /* Backups copying the blobs now: while any does, no photo file is
     * removed (the writer's sweep waits), so a backup's store never names
     * a file its copy lacks. */
    atomic_int photo_pins;
    MDB_dbi fed_keys, fed_ext; /* domain/fed.c */
    /* [federation] (docs/federation.md), set once at start (main.c):
     * when fed_district is not empty, the saves of cases and of orders to
     * city departments append to the stream fed:<fed_district>. */
    char fed_district[8];
    char fed_intake_node[20];
    char fed_intake_category[8];
    /* loop thread's cached read transaction (MDB_NOTLS, reset/renew) */
    MDB_txn *rtxn;
    bool rtxn_live;
    /* Held shared while a read transaction is live (store_read_begin..end)
     * and exclusively while the writer grows the map: mdb_env_set_mapsize
     * remaps the file, which would pull the pages from under a reader. */
    pthread_rwlock_t map_lock;
    /* What the layers above keep with the store, set once at start before
     * any thread uses it; store.c never looks inside (the store layer
     * calls nothing above it):
     * - policy: the deadline policy and working calendar (calendar.h);
     *   NULL: the defaults;
     * - denials: the denials and reads waiting for the audit log, noticed
     *   on the loop thread or inside a call that is rolled back, so the
     *   next write transaction writes them (audit.h, audit_attach);
     * - lookups: failed ticket look-ups per principal (guard.h); NULL: no
     *   limit (main.c sets it from the config's [kiosk] limits). */
    const struct deadline_policy *policy;
    struct audit_queue *denials;
    struct guard *lookups;
    /* - archive_keys: the keys that seal the archive's ID-card numbers and
     *   phones (seal.h); NULL: the archive's personal fields cannot be
     *   written or read (main.c loads them from [archive] key_file). */
    struct seal_keys *archive_keys;
    /* The writer's open batch of statistics sums (stats_rows.h), NULL
     * outside a batch; the writer thread's only. */
    struct stats_batch *stats_batch;
    /* Hooks of the layer above (audit_attach sets both): on_write_begin
     * runs in every write transaction store_write_begin opens, first (it
     * writes the queued denials); on_close runs first in store_close, while
     * the environment is still open (the last denials, then the queue goes). */
    void (*on_write_begin)(struct store *st, MDB_txn *txn);
    void (*on_close)(struct store *st);
    /* [places] outside = street: a report by location outside every grid
     * is filed at the street or community holding it, not refused. */
    bool places_outside_street;
    /* [deliberation]: the rules a new body gets where its own leave a
     * field 0 (deliberation.c; the seed's values when the config is
     * silent). Fractions as num/den. */
    struct delib_defaults {
        uint32_t notice_days, quorum_num, quorum_den, majority_num, majority_den, speaking_limit_s, tie_rule, sign_num,
            sign_den;
        bool majority_of_all_seats;
    } delib_defaults;
    /* The spatial index of the places' boundaries (model/places.c), built
     * on first use; places_free frees it at store_close. */
    void *places;
    void (*places_free)(void *places);
    char *dir;
    /* Where the photos' files are (blobs.h: blobs/ and uploads/ under it):
     * [photos] dir, else dir. */
    char *photo_dir;
} store;

/* Opens (creating if needed) the environment in dir, which must exist.
 * On failure returns a negative value and writes one line for people into
 * err (naming the directory and what to do). */
int store_open(store **out, const char *dir, const store_opts *opts, char *err, size_t errlen);
void store_close(store *st);

/* The loop thread's read transaction: begin renews the cached one, end
 * resets it. Never held across loop iterations. Returns NULL on error. */
MDB_txn *store_read_begin(store *st);
void store_read_end(store *st);

/* Write transactions (writer thread only). store_write_begin grows the map
 * by policy first when it is more than 80% used: it doubles it, up to
 * map_max, after waiting (at most a second) for the loop thread's read
 * transaction to end; if that does not happen it tries again at the next
 * batch. So every read transaction in the process must go through
 * store_read_begin/end or hold map_lock shared, and so must anything that
 * reads the map behind LMDB's back (mdb_env_copy2 for a backup takes its
 * own read transaction: hold map_lock shared around it). It then runs
 * on_write_begin (the audit layer writes its queued denials there). */
int store_write_begin(store *st, MDB_txn **out);

/* Grows the map now (to at least min_size, doubling, capped at map_max),
 * under the same rule as store_write_begin. 0 or an MDB/errno code. */
int store_grow(store *st, size_t min_size);
/* Grows the map so that extra more bytes fit under the 80% rule: for a
 * write known to be large (a directory import), before its transaction. */
int store_reserve(store *st, size_t extra);
/* Bytes of the map in use (pages up to the last one written). */
size_t store_used(store *st);

/* The raw packed value copied into the arena (MDB_NOTFOUND if absent). */
int store_get_bytes(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, arena *a, void **data, size_t *len);
/* Whether the database has no entries. */
bool store_db_empty(MDB_txn *txn, MDB_dbi dbi);

/* Record helpers: get unpacks into the arena (NULL + MDB_NOTFOUND if absent,
 * other MDB errors returned); put packs and stores. */
int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessageDescriptor *desc, arena *a,
              void **out);
/* The record under a string key (a code, a name), or NULL when the key is
 * empty, missing or unreadable: for look-ups whose callers treat all three
 * as "no such record". */
void *store_get_named(MDB_txn *txn, MDB_dbi dbi, const char *key, const ProtobufCMessageDescriptor *desc, arena *a);
int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessage *msg);
int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen);
/* Puts a raw value, with MDB_APPEND when key sorts after every key of dbi
 * (so that a table that grows at its end fills its last page instead of
 * splitting one in the middle); a plain put otherwise. */
int store_put_raw_append(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen);
/* store_put, appending where it can (store_put_raw_append). */
int store_put_append(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessage *msg);

/* Counters in meta: returns the next value (first call returns 1). */
int store_next_seq(MDB_txn *txn, store *st, const char *name, uint64_t *out);

void store_be64(uint8_t out[8], uint64_t v);
uint64_t store_get_be64(const uint8_t in[8]);

/* The result of a write with an idempotency key (idem.c): the record and
 * its row by age, in txn. 0 or an MDB code. */
#define STORE_IDEM_KEEP_DEFAULT_MS (7LL * 24 * 3600 * 1000)
#define STORE_STREAM_KEEP_DEFAULT_MS (30LL * 24 * 3600 * 1000)
int store_idem_put(store *st, MDB_txn *txn, const void *key, size_t klen, int64_t at_ms, const void *response,
                   size_t rlen);
/* Whether a record kept since before before_ms waits to be let go (a
 * look at the oldest row by age: cheap, for the writer to skip the
 * expiry's nested transaction when nothing is due). */
bool store_idem_due(store *st, MDB_txn *txn, int64_t before_ms);
/* Lets go of at most max records kept since before before_ms, oldest
 * first (a key written again since keeps its newer record); *expired says
 * how many rows went. 0 or an MDB code. */
int store_idem_expire(store *st, MDB_txn *txn, int64_t before_ms, size_t max, size_t *expired);

/* migrate.c, called by store_open only: bringing a store written by an
 * older whistled to this layout (STORE_SCHEMA_VERSION).
 *
 * It first takes a compacting backup copy of the store into
 * <dir>/backup-schema<N>-<time> (mdb_env_copy2), and refuses, changing
 * nothing, when the disk has no room for it; then it rewrites what changed
 * in one transaction, sets the new version, commits and flushes. A crash
 * midway leaves the old store as it was (the transaction did not commit),
 * and the next start migrates again. Each step logs one line. Returns 0 or
 * an errno/MDB code with one line for people in err. */
int store_migrate(store *st, uint32_t from, char *err, size_t errlen);

/* Builds delib_by_body from the proposals and meetings when it is empty
 * and they are not (a store from before the index); the index is written
 * with every new record since, so this runs at most once per store.
 * Called by store_open after the migrations; 0 or an LMDB error (err
 * says it for people). */
int store_delib_index(store *st, char *err, size_t errlen);

/* MDB error -> whistle status code (MDB_MAP_FULL -> RESOURCE_EXHAUSTED,
 * MDB_NOTFOUND -> NOT_FOUND, MDB_CORRUPTED -> DATA_LOSS, else INTERNAL) */
int store_status_code(int mdb_rc);
/* A short text for a store error code: mdb_strerror, or ours for a record
 * that does not unpack, a full map or a full disk. */
const char *store_strerror(int rc);

/* Whether a failed commit (rc) ran out of room rather than failed: the
 * disk is full (ENOSPC, EDQUOT), the file hit the size limit (EFBIG), or
 * LMDB's "short write" EIO while the disk or the limit is at its end.
 * Such a commit is answered RESOURCE_EXHAUSTED, and the next one tries
 * again: writes resume by themselves once there is room. */
bool store_out_of_space(store *st, int rc);

#endif

/* ---- backups (docs/operations.md) */

/* Writes a compacted copy of the environment env (one consistent snapshot
 * of its last commit: mdb_env_copyfd2 with MDB_CP_COMPACT) to fd, then
 * flushes it to disk. Safe while the writer commits: the copy reads in
 * its own read transaction. Blocks for as long as the copy takes, so never
 * on the loop thread. 0 or an MDB/errno code. */
int store_backup_fd(MDB_env *env, int fd);
/* The same from another process (whistled --backup, the backup timer):
 * opens the store in dir read-only beside a running daemon, or a stopped
 * one. 0, or -1 with err. */
int store_backup_dir(const char *dir, int fd, char *err, size_t errlen);
/* Whether a process has the environment in dir open (a daemon serving it,
 * a checker, a backup): LMDB holds a shared lock on lock.mdb's first
 * byte while an environment is open. */
bool store_in_use(const char *dir);
