/* store.c: see store.h. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "whistle/v1/whistle.pb-c.h"

#define DEFAULT_MAP ((size_t)64 << 20)
#define DEFAULT_MAP_MAX ((size_t)16 << 30)

void store_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t store_get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

int store_status_code(int rc)
{
    switch (rc) {
    case 0: return WHISTLE__V1__STATUS__CODE__OK;
    case MDB_MAP_FULL: return WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED;
    case MDB_NOTFOUND: return WHISTLE__V1__STATUS__CODE__NOT_FOUND;
    case MDB_CORRUPTED: return WHISTLE__V1__STATUS__CODE__DATA_LOSS;
    default: return WHISTLE__V1__STATUS__CODE__INTERNAL;
    }
}

const char *store_strerror(int rc)
{
    if (rc == MDB_CORRUPTED)
        return "a stored record does not unpack (damaged store?)";
    if (rc == MDB_MAP_FULL)
        return "the store is full (its map is at map_max; raise map_max and restart)";
    if (rc == ENOSPC || rc == EDQUOT)
        return "the disk holding the store is full (writes resume once space is freed)";
    if (rc == EFBIG)
        return "the store file reached the file size limit (writes resume once it is raised)";
    return mdb_strerror(rc);
}

bool store_out_of_space(store *st, int rc)
{
    if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG)
        return true;
    if (rc != EIO)
        return false;
    /* LMDB reports a short write as EIO ("filesystem full?"): look. */
    int fd;
    struct stat sb;
    if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0)
        return false;
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)sb.st_size + 65536 > (uint64_t)rl.rlim_cur)
        return true;
    struct statvfs vfs;
    return fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < 1u << 20;
}

/* The named databases, in the order of the fields of struct store. */
static MDB_dbi *dbi_slot(store *st, size_t i)
{
    MDB_dbi *slots[] = { &st->meta, &st->events, &st->ev_by_state, &st->ev_by_node, &st->orders, &st->ord_by_dept,
                         &st->streams, &st->stream_meta, &st->idem, &st->nodes, &st->departments, &st->categories,
                         &st->principals, &st->audit, &st->admission, &st->tasks, &st->task_by_comm, &st->task_by_dept,
                         /* deadline.c, supervision.c, stats.c */
                         &st->deadlines, &st->supervisions, &st->stats,
                         /* services.c */
                         &st->service_classes, &st->services,
                         /* the resident archive, visits, the echo board (domain/archive.c) */
                         &st->arc_households, &st->arc_hh_by_node, &st->arc_residents, &st->arc_res_by_hh,
                         &st->arc_id_index, &st->arc_units, &st->arc_unit_by_node, &st->arc_visits,
                         &st->arc_visit_by_hh, &st->arc_visit_by_node, &st->arc_config, &st->arc_board,
                         &st->arc_board_by_node,
                         /* event_record.c (ev_timeline: events itself since schema 3) */
                         &st->ord_by_street_state,
                         /* deliberation.c */
                         &st->delib_bodies, &st->delib_proposals, &st->delib_meetings, &st->delib_by_body,
                         /* volrec.c */
                         &st->vol_config, &st->vol_people, &st->vol_wishes, &st->vol_ledger, &st->vol_balances,
                         &st->vol_shop, &st->vol_mtasks, &st->vol_index,
                         /* photo_record.c */
                         &st->photo_uploads, &st->photo_up_by_time, &st->photo_att,
                         /* fed.c */
                         &st->fed_keys, &st->fed_ext };
    return i < sizeof slots / sizeof *slots ? slots[i] : NULL;
}
static const char *const dbi_names[] = { "meta",
                                         "events",
                                         "ev_by_state",
                                         "ev_by_node",
                                         "orders",
                                         "ord_by_dept",
                                         "streams",
                                         "stream_meta",
                                         "idem",
                                         "nodes",
                                         "departments",
                                         "categories",
                                         "principals",
                                         "audit",
                                         "admission",
                                         "tasks",
                                         "task_by_comm",
                                         "task_by_dept",
                                         "deadlines",
                                         "supervisions",
                                         "stats",
                                         "service_classes",
                                         "services",
                                         "arc_households",
                                         "arc_hh_by_node",
                                         "arc_residents",
                                         "arc_res_by_hh",
                                         "arc_id_index",
                                         "arc_units",
                                         "arc_unit_by_node",
                                         "arc_visits",
                                         "arc_visit_by_hh",
                                         "arc_visit_by_node",
                                         "arc_config",
                                         "arc_board",
                                         "arc_board_by_node",
                                         "ord_by_street_state",
                                         "delib_bodies",
                                         "delib_proposals",
                                         "delib_meetings",
                                         "delib_by_body",
                                         "vol_config",
                                         "vol_people",
                                         "vol_wishes",
                                         "vol_ledger",
                                         "vol_balances",
                                         "vol_shop",
                                         "vol_mtasks",
                                         "vol_index",
                                         "photo_uploads",
                                         "photo_up_by_time",
                                         "photo_att",
                                         "fed_keys",
                                         "fed_ext" };
#define N_DBIS (sizeof dbi_names / sizeof *dbi_names)

/* Reads (or, for a new store, writes) the schema version into *have. */
static int check_schema(store *st, MDB_txn *txn, uint32_t *have_out, char *err, size_t errlen)
{
    *have_out = STORE_SCHEMA_VERSION;
    MDB_val k = { 6, "schema" }, v;
    int rc = mdb_get(txn, st->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        uint8_t b[4] = { 0, 0, 0, STORE_SCHEMA_VERSION };
        v.mv_size = 4;
        v.mv_data = b;
        rc = mdb_put(txn, st->meta, &k, &v, 0);
        if (rc)
            snprintf(err, errlen, "store: cannot initialise %s: %s", st->dir, store_strerror(rc));
        return rc;
    }
    if (rc) {
        snprintf(err, errlen, "store: cannot read %s: %s", st->dir, store_strerror(rc));
        return rc;
    }
    const uint8_t *p = v.mv_data;
    uint32_t have = v.mv_size == 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
    if (have == 0 || have > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "store: %s has schema version %u, this whistled knows up to %u; "
                 "run a newer whistled or restore a backup",
                 st->dir, have, STORE_SCHEMA_VERSION);
        return MDB_INCOMPATIBLE;
    }
    *have_out = have;
    return 0;
}

int store_open(store **out, const char *dir, const store_opts *opts, char *err, size_t errlen)
{
    *out = NULL;
    store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "store: out of memory");
        return -ENOMEM;
    }
    st->dir = strdup(dir ? dir : "");
    st->photo_dir = strdup(opts && opts->photo_dir && *opts->photo_dir ? opts->photo_dir : dir ? dir : "");
    st->map_size = opts && opts->map_size ? opts->map_size : DEFAULT_MAP;
    st->map_max = opts && opts->map_max ? opts->map_max : DEFAULT_MAP_MAX;
    if (st->map_max < st->map_size)
        st->map_max = st->map_size;
    st->sync = opts ? opts->sync : STORE_SYNC_FULL;

    /* Writers waiting to grow the map must not starve behind a stream of
     * short reads from the loop thread. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->map_lock, &ra);
    pthread_rwlockattr_destroy(&ra);

    /* full: LMDB's own durability, each commit's data flushed and then its
     * meta page written through an O_DSYNC descriptor before the commit
     * returns (writer.c answers then). */
    unsigned flags = MDB_NOTLS;
    if (st->sync == STORE_SYNC_NOMETASYNC)
        flags |= MDB_NOMETASYNC;
    else if (st->sync == STORE_SYNC_NONE)
        flags |= MDB_NOSYNC;

    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&st->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(st->env, 96);
    if (!rc)
        rc = mdb_env_set_mapsize(st->env, st->map_size);
    if (!rc)
        rc = mdb_env_open(st->env, st->dir, flags, 0600);
    if (rc) {
        snprintf(err, errlen, "store: cannot open %s: %s; check the directory exists and is writable", st->dir,
                 mdb_strerror(rc));
        goto fail;
    }
    /* LMDB makes data.mdb and lock.mdb but never flushes their names: a
     * power cut could otherwise take the file, with every commit in it,
     * however well each commit was flushed (the power-loss test finds it). */
    int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        rc = errno;
        if (dfd >= 0)
            close(dfd);
        snprintf(err, errlen, "store: cannot flush the directory %s: %s", st->dir, strerror(rc));
        rc = -rc;
        goto fail;
    }
    close(dfd);
    /* An existing environment may be larger than asked: adopt its size. */
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    if (info.me_mapsize > st->map_size)
        st->map_size = info.me_mapsize;
    if (st->map_max < st->map_size)
        st->map_max = st->map_size;

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    for (size_t i = 0; !rc && i < N_DBIS; i++)
        rc = dbi_slot(st, i) ? mdb_dbi_open(txn, dbi_names[i], MDB_CREATE, dbi_slot(st, i)) : MDB_INVALID;
    if (rc) {
        snprintf(err, errlen, "store: cannot open the databases in %s: %s", st->dir, mdb_strerror(rc));
        goto fail;
    }
    /* Schema 3: a case's timeline rows live in events, right after its
     * record (store.h); ev_timeline names the same database. */
    st->ev_timeline = st->events;
    uint32_t have;
    rc = check_schema(st, txn, &have, err, errlen);
    if (rc)
        goto fail;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) {
        snprintf(err, errlen, "store: cannot write %s: %s; check free disk space and permissions", st->dir,
                 mdb_strerror(rc));
        goto fail;
    }
    if (have < STORE_SCHEMA_VERSION) {
        rc = store_migrate(st, have, err, errlen);
        if (rc)
            goto fail;
    }
    rc = store_delib_index(st, err, errlen);
    if (rc)
        goto fail;
    /* Grow at open too: a store that was left nearly full gets room before
     * the first write, while nothing else can be reading. */
    store_grow(st, 0);
    *out = st;
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    store_close(st);
    return rc < 0 ? rc : -rc;
}

void store_close(store *st)
{
    if (!st)
        return;
    if (st->on_close)
        st->on_close(st);
    if (st->places && st->places_free)
        st->places_free(st->places);
    st->places = NULL;
    if (st->rtxn_live)
        pthread_rwlock_unlock(&st->map_lock);
    if (st->rtxn)
        mdb_txn_abort(st->rtxn);
    /* The last commit's meta page may still be only in the page cache
     * (store.sync = nometasync or none): a clean stop leaves everything
     * on disk. */
    if (st->env && mdb_env_sync(st->env, 1) != 0)
        log_error("store: the last flush to disk failed");
    if (st->env)
        mdb_env_close(st->env);
    pthread_rwlock_destroy(&st->map_lock);
    free(st->dir);
    free(st->photo_dir);
    free(st);
}

MDB_txn *store_read_begin(store *st)
{
    if (st->rtxn_live)
        return st->rtxn;
    pthread_rwlock_rdlock(&st->map_lock);
    int rc;
    if (st->rtxn) {
        rc = mdb_txn_renew(st->rtxn);
    } else {
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn);
        if (rc)
            st->rtxn = NULL;
    }
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt the size and retry once. */
        if (st->rtxn) {
            mdb_txn_abort(st->rtxn);
            st->rtxn = NULL;
        }
        pthread_rwlock_unlock(&st->map_lock);
        pthread_rwlock_wrlock(&st->map_lock);
        mdb_env_set_mapsize(st->env, 0);
        pthread_rwlock_unlock(&st->map_lock);
        pthread_rwlock_rdlock(&st->map_lock);
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn);
        if (rc)
            st->rtxn = NULL;
    }
    if (rc) {
        pthread_rwlock_unlock(&st->map_lock);
        return NULL;
    }
    st->rtxn_live = true;
    return st->rtxn;
}

void store_read_end(store *st)
{
    if (!st->rtxn_live)
        return;
    mdb_txn_reset(st->rtxn);
    st->rtxn_live = false;
    pthread_rwlock_unlock(&st->map_lock);
}

size_t store_used(store *st)
{
    MDB_envinfo info;
    MDB_stat stat;
    if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &stat))
        return 0;
    return (info.me_last_pgno + 1) * (size_t)stat.ms_psize;
}

int store_grow(store *st, size_t min_size)
{
    size_t used = store_used(st);
    /* The map is big enough when the used part is at most 80% of it. */
    size_t need = used + used / 4;
    if (need < min_size)
        need = min_size;
    size_t want = st->map_size;
    while (want < need && want < st->map_max)
        want = want > st->map_max / 2 ? st->map_max : want * 2;
    if (want <= st->map_size)
        return 0;

    /* LMDB allows set_mapsize only while no transaction of this process is
     * active; the write lock waits for the loop thread's reader to end. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    int rc = pthread_rwlock_timedwrlock(&st->map_lock, &ts);
    if (rc)
        return rc;
    rc = mdb_env_set_mapsize(st->env, want);
    pthread_rwlock_unlock(&st->map_lock);
    if (rc) {
        log_error("store: cannot grow the map of %s to %zu MiB: %s", st->dir, want >> 20, mdb_strerror(rc));
        return rc;
    }
    log_info("store: map of %s grown to %zu MiB (%zu MiB used, max %zu MiB)", st->dir, want >> 20, used >> 20,
             st->map_max >> 20);
    st->map_size = want;
    return 0;
}

int store_reserve(store *st, size_t extra)
{
    size_t used = store_used(st);
    return store_grow(st, used + extra + (used + extra) / 4);
}

int store_write_begin(store *st, MDB_txn **out)
{
    *out = NULL;
    store_grow(st, 0);
    int rc = mdb_txn_begin(st->env, NULL, 0, out);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_wrlock(&st->map_lock);
        mdb_env_set_mapsize(st->env, 0);
        pthread_rwlock_unlock(&st->map_lock);
        rc = mdb_txn_begin(st->env, NULL, 0, out);
    }
    if (rc) {
        *out = NULL;
        return rc;
    }
    if (st->on_write_begin)
        st->on_write_begin(st, *out);
    return 0;
}

int store_get_bytes(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, arena *a, void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (klen == 0)
        return MDB_NOTFOUND;
    MDB_val k = { klen, (void *)key }, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc)
        return rc;
    /* Copied: in a write transaction the page may move at the next put. */
    *data = arena_alloc(a, v.mv_size ? v.mv_size : 1);
    memcpy(*data, v.mv_data, v.mv_size);
    *len = v.mv_size;
    return 0;
}

int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessageDescriptor *desc, arena *a,
              void **out)
{
    *out = NULL;
    if (klen == 0 || klen > 511)
        return MDB_NOTFOUND;
    MDB_val k = { klen, (void *)key }, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc)
        return rc;
    /* protobuf-c copies strings and bytes out of the buffer, so the result
     * does not point into the map. */
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, arena_allocator(a), v.mv_size, v.mv_data);
    if (!m)
        return MDB_CORRUPTED;
    *out = m;
    return 0;
}

void *store_get_named(MDB_txn *txn, MDB_dbi dbi, const char *key, const ProtobufCMessageDescriptor *desc, arena *a)
{
    void *out = NULL;
    if (!key || !*key)
        return NULL;
    store_get(txn, dbi, key, strlen(key), desc, a, &out);
    return out;
}

int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessage *msg)
{
    if (klen == 0 || klen > 511)
        return MDB_BAD_VALSIZE;
    MDB_val k = { klen, (void *)key }, v;
    v.mv_size = protobuf_c_message_get_packed_size(msg);
    if (v.mv_size == 0) {
        v.mv_data = "";
        return mdb_put(txn, dbi, &k, &v, 0);
    }
    int rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE);
    if (rc)
        return rc;
    protobuf_c_message_pack(msg, v.mv_data);
    return 0;
}

int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
    if (klen == 0 || klen > 511)
        return MDB_NOTFOUND;
    MDB_val k = { klen, (void *)key };
    return mdb_del(txn, dbi, &k, NULL);
}

int store_next_seq(MDB_txn *txn, store *st, const char *name, uint64_t *out)
{
    MDB_val k = { strlen(name), (void *)name }, v;
    uint64_t n = 0;
    int rc = mdb_get(txn, st->meta, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        n = store_get_be64(v.mv_data);
    else if (rc == 0)
        return MDB_CORRUPTED;
    else if (rc != MDB_NOTFOUND)
        return rc;
    uint8_t b[8];
    store_be64(b, n + 1);
    v.mv_size = 8;
    v.mv_data = b;
    rc = mdb_put(txn, st->meta, &k, &v, 0);
    if (rc)
        return rc;
    *out = n + 1;
    return 0;
}

int store_put_raw_append(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen == 0 || klen > 511)
        return MDB_BAD_VALSIZE;
    MDB_val k = { klen, (void *)key }, v = { vlen, (void *)(vlen ? val : "") };
    /* One descent, not two: with MDB_APPEND, LMDB itself finds the last
     * key and, when the new one is not after it, answers MDB_KEYEXIST
     * before changing anything; only then is it a plain put. */
    int rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(txn, dbi, &k, &v, 0);
    return rc;
}

int store_put_append(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t small[1024];
    uint8_t *buf = n <= sizeof small ? small : malloc(n);
    if (!buf)
        return ENOMEM;
    protobuf_c_message_pack(msg, buf);
    int rc = store_put_raw_append(txn, dbi, key, klen, buf, n);
    if (buf != small)
        free(buf);
    return rc;
}

bool store_db_empty(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_stat s;
    return mdb_stat(txn, dbi, &s) == 0 && s.ms_entries == 0;
}

/* ------------------------------------------------------------ backups */

int store_backup_fd(MDB_env *env, int fd)
{
    int rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    return rc;
}

int store_backup_dir(const char *dir, int fd, char *err, size_t errlen)
{
    MDB_env *env = NULL;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 64);
    /* Read-only: a backup never writes the store; its reader slot keeps
     * the snapshot's pages from reuse while it copies. */
    if (!rc)
        rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc) {
        snprintf(err, errlen, "cannot open the store in %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(env);
        return -1;
    }
    rc = store_backup_fd(env, fd);
    mdb_env_close(env);
    if (rc) {
        snprintf(err, errlen, "copying the store in %s: %s", dir, mdb_strerror(rc));
        return -1;
    }
    return 0;
}

bool store_in_use(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return false;
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    bool used = fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK;
    close(fd);
    return used;
}
