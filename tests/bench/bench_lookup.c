/* bench_lookup: how a lookup of a place by its code scales with the size
 * of the tree. A benchmark, not a test: it prints numbers and asserts
 * nothing (scripts/bench-import.sh runs it).
 *
 *   bench_lookup STATE_DIR           random lookups of the places stored in
 *                                    STATE_DIR (whistled stopped)
 *   bench_lookup --synth N TMP_DIR   a scratch store with a tree of N grids
 *                                    (and their parents), then the same
 *
 * Places are keyed by code in an LMDB B-tree, so a lookup costs one
 * root-to-leaf walk: its depth grows with the logarithm of the count. The
 * program prints the count, the tree depth and the time per lookup. */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whistle/v1/whistle.pb-c.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "bench_lookup: %s: %s\n", what, mdb_strerror(rc));
    return 1;
}

/* A tree of n grids: 16 districts, streets of 15 communities of 20 grids. */
static int synth(const char *dir, long n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 64);
    if (!rc)
        rc = mdb_env_set_mapsize(env, (size_t)8 << 30);
    if (!rc)
        rc = mdb_env_open(env, dir, MDB_NOSYNC, 0600);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "nodes", MDB_CREATE, &dbi);
    if (rc)
        return die("opening the scratch store", rc);
    long streets_per_district = (n / 16 + 299) / 300;
    long made = 0;
    char code[48], parent[32];
    for (int d = 0; d < 16 && made < n; d++)
        for (long s = 1; s <= streets_per_district && made < n; s++)
            for (int c = 1; c <= 15 && made < n; c++)
                for (int g = 1; g <= 20 && made < n; g++) {
                    /* 6 + 3 + 3 + 3 digits, as the standard has them */
                    snprintf(parent, sizeof parent, "%06d%03ld%03d", 110101 + d, s, c);
                    snprintf(code, sizeof code, "%s%03d", parent, g);
                    Whistle__V1__Node node = WHISTLE__V1__NODE__INIT;
                    node.code = code;
                    node.parent = parent;
                    node.kind = WHISTLE__V1__NODE_KIND__NODE_KIND_GRID;
                    node.name_zh = "网格";
                    uint8_t buf[256];
                    size_t len = whistle__v1__node__pack(&node, buf);
                    MDB_val k = { strlen(code), code }, v = { len, buf };
                    if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
                        return die("writing", rc);
                    made++;
                }
    if ((rc = mdb_txn_commit(txn)))
        return die("committing", rc);
    mdb_env_close(env);
    return 0;
}

static int measure(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 64);
    if (!rc)
        rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "nodes", 0, &dbi);
    if (rc)
        return die(dir, rc);
    MDB_stat st;
    mdb_stat(txn, dbi, &st);
    /* every code, then lookups in a shuffled order */
    size_t n = st.ms_entries, i = 0;
    char **codes = malloc(n * sizeof *codes);
    MDB_cursor *cur;
    mdb_cursor_open(txn, dbi, &cur);
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && i < n; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        codes[i] = malloc(k.mv_size + 1);
        memcpy(codes[i], k.mv_data, k.mv_size);
        codes[i][k.mv_size] = 0;
        i++;
    }
    mdb_cursor_close(cur);
    n = i;
    srand(7);
    for (size_t j = n; j > 1; j--) {
        size_t r = (size_t)rand() % j;
        char *t = codes[j - 1];
        codes[j - 1] = codes[r];
        codes[r] = t;
    }
    const size_t rounds = 500000;
    size_t found = 0;
    double t0 = now_s();
    for (size_t j = 0; j < rounds; j++) {
        const char *c = codes[j % n];
        MDB_val key = { strlen(c), (void *)c }, val;
        if (mdb_get(txn, dbi, &key, &val) == 0) {
            /* unpack, as the daemon does */
            Whistle__V1__Node *node = whistle__v1__node__unpack(NULL, val.mv_size, val.mv_data);
            found += node != NULL;
            whistle__v1__node__free_unpacked(node, NULL);
        }
    }
    double dt = now_s() - t0;
    printf("  %zu places, B-tree depth %u (%zu leaf pages): %.0f ns per lookup by code (%zu random lookups, %zu "
           "found)\n",
           n, st.ms_depth, (size_t)st.ms_leaf_pages, dt / (double)rounds * 1e9, rounds, found);
    for (size_t j = 0; j < n; j++)
        free(codes[j]);
    free(codes);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return measure(argv[1]);
    if (argc == 4 && strcmp(argv[1], "--synth") == 0) {
        long n = strtol(argv[2], NULL, 10);
        if (n <= 0 || synth(argv[3], n))
            return 1;
        return measure(argv[3]);
    }
    fprintf(stderr, "usage: bench_lookup STATE_DIR | bench_lookup --synth N TMP_DIR\n");
    return 2;
}
