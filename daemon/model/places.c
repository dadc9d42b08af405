/* places.c: see places.h. */
#include "places.h"

#include <geos_c.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "directory.h"
#include "log.h"

/* ------------------------------------------------------------ GEOS */

/* A GEOS context with the last error it reported (GEOS reports through a
 * handler, not a return value). */
typedef struct geo {
    GEOSContextHandle_t h;
    char err[256];
} geo;

static void geo_error_r(const char *message, void *ud)
{
    geo *g = ud;
    snprintf(g->err, sizeof g->err, "%s", message ? message : "");
}

static int geo_init(geo *g)
{
    g->err[0] = 0;
    g->h = GEOS_init_r();
    if (!g->h)
        return -1;
    GEOSContext_setErrorMessageHandler_r(g->h, geo_error_r, g);
    GEOSContext_setNoticeMessageHandler_r(g->h, NULL, NULL);
    return 0;
}

static void geo_finish(geo *g)
{
    if (g->h)
        GEOS_finish_r(g->h);
    g->h = NULL;
}

/* Parses and checks a boundary: the geometry (owned by the caller), or
 * NULL with *why in a. */
static GEOSGeometry *geo_read(geo *g, const char *text, arena *a, const char **why)
{
    GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(g->h);
    if (!rd) {
        *why = "out of memory";
        return NULL;
    }
    g->err[0] = 0;
    GEOSGeometry *geom = GEOSGeoJSONReader_readGeometry_r(g->h, rd, text);
    GEOSGeoJSONReader_destroy_r(g->h, rd);
    if (!geom) {
        *why = arena_printf(a, "not a GeoJSON geometry: %s", *g->err ? g->err : "unreadable");
        return NULL;
    }
    int type = GEOSGeomTypeId_r(g->h, geom);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
        *why = "a boundary is a GeoJSON Polygon or MultiPolygon";
        GEOSGeom_destroy_r(g->h, geom);
        return NULL;
    }
    if (GEOSisEmpty_r(g->h, geom) != 0) {
        *why = "the boundary is empty";
        GEOSGeom_destroy_r(g->h, geom);
        return NULL;
    }
    double x0, x1, y0, y1;
    if (!GEOSGeom_getXMin_r(g->h, geom, &x0) || !GEOSGeom_getXMax_r(g->h, geom, &x1) ||
        !GEOSGeom_getYMin_r(g->h, geom, &y0) || !GEOSGeom_getYMax_r(g->h, geom, &y1) || !isfinite(x0) ||
        !isfinite(x1) || !isfinite(y0) || !isfinite(y1) || x0 < -180 || x1 > 180 || y0 < -90 || y1 > 90) {
        *why = "coordinates are [longitude, latitude] in WGS84: longitude -180..180, latitude -90..90";
        GEOSGeom_destroy_r(g->h, geom);
        return NULL;
    }
    if (GEOSisValid_r(g->h, geom) != 1) {
        char *reason = GEOSisValidReason_r(g->h, geom);
        *why = arena_printf(a, "not a valid polygon: %s", reason ? reason : "GEOS says so");
        if (reason)
            GEOSFree_r(g->h, reason);
        GEOSGeom_destroy_r(g->h, geom);
        return NULL;
    }
    return geom;
}

const char *places_boundary_check(const char *text, arena *a, const char **why)
{
    if (!text || !*text) {
        *why = "empty";
        return NULL;
    }
    if (strlen(text) > PLACES_BOUNDARY_MAX) {
        *why = arena_printf(a, "%zu bytes; a boundary is at most %u", strlen(text), PLACES_BOUNDARY_MAX);
        return NULL;
    }
    /* The top level must be the geometry itself (not a Feature): what is
     * stored is what every reader of the directory gets. */
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        *why = arena_printf(a, "not JSON: %s", je.text);
        return NULL;
    }
    json_t *type = json_object_get(j, "type");
    if (!json_is_object(j) || !json_is_string(type) ||
        (strcmp(json_string_value(type), "Polygon") != 0 && strcmp(json_string_value(type), "MultiPolygon") != 0)) {
        json_decref(j);
        *why = "a boundary is a GeoJSON geometry object of type \"Polygon\" or \"MultiPolygon\"";
        return NULL;
    }
    char *compact = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(j);
    if (!compact) {
        *why = "out of memory";
        return NULL;
    }
    const char *out = arena_strdup(a, compact);
    free(compact);
    geo g;
    if (geo_init(&g) != 0) {
        *why = "GEOS could not start";
        return NULL;
    }
    GEOSGeometry *geom = geo_read(&g, out, a, why);
    if (geom)
        GEOSGeom_destroy_r(g.h, geom);
    geo_finish(&g);
    return geom ? out : NULL;
}

bool places_point_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
}

/* ------------------------------------------------------------ generation */

#define GEN_KEY "places_gen"

int places_touch(store *st, MDB_txn *txn)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        static uint64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^ (++counter << 48);
    }
    v |= 1; /* 0 is "never touched" */
    MDB_val k = { sizeof GEN_KEY - 1, (void *)GEN_KEY }, d = { sizeof v, &v };
    return mdb_put(txn, st->meta, &k, &d, 0);
}

static int read_gen(store *st, MDB_txn *txn, uint64_t *gen)
{
    MDB_val k = { sizeof GEN_KEY - 1, (void *)GEN_KEY }, d;
    int rc = mdb_get(txn, st->meta, &k, &d);
    *gen = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (d.mv_size == sizeof *gen)
        memcpy(gen, d.mv_data, sizeof *gen);
    return 0;
}

/* ------------------------------------------------------------ the index */

typedef struct entry {
    char *code;
    Whistle__V1__NodeKind kind;
    GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep;
} entry;

typedef struct index {
    pthread_mutex_t mu;
    geo g;
    bool built;
    uint64_t gen;
    entry *e;
    size_t n;
    GEOSSTRtree *tree;
} index_t;

static void index_clear(index_t *ix)
{
    if (ix->tree)
        GEOSSTRtree_destroy_r(ix->g.h, ix->tree);
    ix->tree = NULL;
    for (size_t i = 0; i < ix->n; i++) {
        if (ix->e[i].prep)
            GEOSPreparedGeom_destroy_r(ix->g.h, ix->e[i].prep);
        if (ix->e[i].geom)
            GEOSGeom_destroy_r(ix->g.h, ix->e[i].geom);
        free(ix->e[i].code);
    }
    free(ix->e);
    ix->e = NULL;
    ix->n = 0;
    ix->built = false;
}

static void index_free(void *p)
{
    index_t *ix = p;
    if (!ix)
        return;
    index_clear(ix);
    geo_finish(&ix->g);
    pthread_mutex_destroy(&ix->mu);
    free(ix);
}

/* The store's index, made on first use. Two threads may ask at once the
 * first time: the store's own lock-free field is set once, under a
 * process-wide mutex. */
static index_t *index_of(store *st)
{
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&once);
    index_t *ix = st->places;
    if (!ix) {
        ix = calloc(1, sizeof *ix);
        if (ix && geo_init(&ix->g) != 0) {
            free(ix);
            ix = NULL;
        }
        if (ix) {
            pthread_mutex_init(&ix->mu, NULL);
            st->places = ix;
            st->places_free = index_free;
        }
    }
    pthread_mutex_unlock(&once);
    return ix;
}

/* (Re)builds ix from txn's nodes: every live node with a boundary. A
 * boundary that does not parse (it was checked when written) is logged and
 * left out. 0 or an MDB error. */
static int index_build(store *st, MDB_txn *txn, index_t *ix, uint64_t gen)
{
    index_clear(ix);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->nodes, &cur);
    if (rc)
        return rc;
    size_t cap = 0;
    arena *a = arena_new();
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Whistle__V1__Node *n = whistle__v1__node__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!n) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (n->retired || !*str0(n->boundary))
            continue;
        const char *why = NULL;
        GEOSGeometry *geom = geo_read(&ix->g, n->boundary, a, &why);
        if (!geom) {
            log_warn("places: the boundary of %s is left off the map: %s", n->code, why);
            continue;
        }
        if (ix->n == cap) {
            cap = cap ? cap * 2 : 64;
            entry *e = realloc(ix->e, cap * sizeof *e);
            if (!e)
                log_oom("the places index");
            ix->e = e;
        }
        entry *e = &ix->e[ix->n++];
        e->code = strdup(n->code);
        if (!e->code)
            log_oom("the places index");
        e->kind = n->kind;
        e->geom = geom;
        e->prep = GEOSPrepare_r(ix->g.h, geom);
    }
    mdb_cursor_close(cur);
    arena_free(a);
    if (rc != MDB_NOTFOUND) {
        index_clear(ix);
        return rc;
    }
    if (ix->n) {
        ix->tree = GEOSSTRtree_create_r(ix->g.h, 10);
        for (size_t i = 0; i < ix->n; i++)
            GEOSSTRtree_insert_r(ix->g.h, ix->tree, ix->e[i].geom, &ix->e[i]);
    }
    ix->gen = gen;
    ix->built = true;
    log_debug("places: index built, %zu boundaries", ix->n);
    return 0;
}

struct hit_ctx {
    index_t *ix;
    const GEOSGeometry *pt;
    Whistle__V1__NodeKind kind;
    const entry *best;
};

static void on_candidate(void *item, void *ud)
{
    struct hit_ctx *h = ud;
    const entry *e = item;
    if (h->kind
            ? e->kind != h->kind
            : (e->kind < WHISTLE__V1__NODE_KIND__NODE_KIND_STREET || e->kind > WHISTLE__V1__NODE_KIND__NODE_KIND_GRID))
        return;
    if (GEOSPreparedCovers_r(h->ix->g.h, e->prep, h->pt) != 1)
        return;
    /* deepest first (kind 0), then the lowest code */
    if (!h->best || e->kind > h->best->kind || (e->kind == h->best->kind && strcmp(e->code, h->best->code) < 0))
        h->best = e;
}

int places_locate(store *st, MDB_txn *txn, double lat, double lon, Whistle__V1__NodeKind kind, arena *a,
                  const char **code, const char **why)
{
    *code = NULL;
    index_t *ix = index_of(st);
    if (!ix) {
        *why = "the places index could not be made (out of memory)";
        return -1;
    }
    uint64_t gen;
    int rc = read_gen(st, txn, &gen);
    if (rc) {
        *why = arena_printf(a, "store error while reading the places' generation: %s", mdb_strerror(rc));
        return -1;
    }
    pthread_mutex_lock(&ix->mu);
    if (!ix->built || ix->gen != gen) {
        rc = index_build(st, txn, ix, gen);
        if (rc) {
            pthread_mutex_unlock(&ix->mu);
            *why = arena_printf(a, "store error while indexing the places: %s", mdb_strerror(rc));
            return -1;
        }
    }
    int result = 1;
    if (ix->tree) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(ix->g.h, lon, lat);
        if (!pt) {
            pthread_mutex_unlock(&ix->mu);
            *why = "GEOS could not make the point";
            return -1;
        }
        struct hit_ctx h = { ix, pt, kind, NULL };
        GEOSSTRtree_query_r(ix->g.h, ix->tree, pt, on_candidate, &h);
        GEOSGeom_destroy_r(ix->g.h, pt);
        if (h.best) {
            *code = arena_strdup(a, h.best->code);
            result = 0;
        }
    }
    pthread_mutex_unlock(&ix->mu);
    return result;
}

/* ------------------------------------------------------------ the call */

void places_locate_call(call *c, const Whistle__V1__LocatePlace *req)
{
    if (!places_point_ok(req->lat, req->lon)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "lat %g, lon %g: a point is a latitude in -90..90 and a longitude in -180..180 (WGS84)", req->lat,
                  req->lon);
        return;
    }
    const char *code, *why = NULL;
    int rc =
        places_locate(c->st, c->txn, req->lat, req->lon, WHISTLE__V1__NODE_KIND__NODE_KIND_GRID, c->a, &code, &why);
    if (rc < 0) {
        call_fail(c, CODE(INTERNAL), "%s", why);
        return;
    }
    if (rc > 0) {
        call_fail(c, CODE(NOT_FOUND), "(%.6f, %.6f) is outside every grid", req->lat, req->lon);
        return;
    }
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, code)) {
        call_deny(c, code,
                  "(%.6f, %.6f) is in grid %s, outside the scope of %s (rule: a place is located inside the caller's "
                  "scope)",
                  req->lat, req->lon, code, c->who->name);
        return;
    }
    Whistle__V1__LocatePlaceResult *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__locate_place_result__init(r);
    /* the path from the district down: each code's ancestors are its
     * prefixes of the kinds' lengths */
    Whistle__V1__Node **path = arena_alloc(c->a, 4 * sizeof *path);
    size_t n = 0;
    for (int k = WHISTLE__V1__NODE_KIND__NODE_KIND_DISTRICT; k <= WHISTLE__V1__NODE_KIND__NODE_KIND_GRID; k++) {
        size_t len = directory_code_len((Whistle__V1__NodeKind)k);
        if (strlen(code) < len)
            break;
        Whistle__V1__Node *node = directory_node_get(c->st, c->txn, arena_strndup(c->a, code, len), c->a);
        if (!node)
            continue;
        node->boundary = (char *)"";
        path[n++] = node;
    }
    if (!n || strcmp(path[n - 1]->code, code) != 0) {
        call_fail(c, CODE(INTERNAL), "grid %s was located but cannot be read", code);
        return;
    }
    r->node = path[n - 1];
    r->path = path;
    r->n_path = n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_PLACE;
    c->resp->place = r;
}

/* ------------------------------------------------------------ --check */

int places_check_all(MDB_txn *txn, MDB_dbi nodes, arena *a, places_problem_fn fn, void *ctx)
{
    geo g;
    if (geo_init(&g) != 0) {
        fn(ctx, "", "GEOS could not start");
        return 1;
    }
    int problems = 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, nodes, &cur)) {
        geo_finish(&g);
        fn(ctx, "", "cannot read the nodes");
        return 1;
    }
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Whistle__V1__Node *n = whistle__v1__node__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!n || !*str0(n->boundary))
            continue;
        const char *why = NULL;
        GEOSGeometry *geom = geo_read(&g, n->boundary, a, &why);
        if (!geom) {
            fn(ctx, n->code, arena_printf(a, "boundary: %s", why));
            problems++;
            continue;
        }
        Whistle__V1__Node *p = NULL;
        MDB_val pk = { strlen(str0(n->parent)), (void *)str0(n->parent) }, pv;
        if (pk.mv_size && mdb_get(txn, nodes, &pk, &pv) == 0)
            p = whistle__v1__node__unpack(arena_allocator(a), pv.mv_size, pv.mv_data);
        GEOSGeometry *pg = p && *str0(p->boundary) ? geo_read(&g, p->boundary, a, &why) : NULL;
        if (pg) {
            /* loosely: boundaries drawn by hand overlap their parents' by
             * a little; more than a tenth outside is a mistake */
            double area = 0, out = 0;
            GEOSGeometry *diff = GEOSDifference_r(g.h, geom, pg);
            if (diff && GEOSArea_r(g.h, geom, &area) && GEOSArea_r(g.h, diff, &out) && area > 0 && out > area / 10) {
                fn(ctx, n->code,
                   arena_printf(a, "boundary: %.0f%% of it lies outside its parent %s's", 100 * out / area, p->code));
                problems++;
            }
            if (diff)
                GEOSGeom_destroy_r(g.h, diff);
            GEOSGeom_destroy_r(g.h, pg);
        }
        GEOSGeom_destroy_r(g.h, geom);
    }
    mdb_cursor_close(cur);
    geo_finish(&g);
    return problems;
}
