/* citydir.c: see citydir.h. A city has tens of districts: placement tries
 * each prefix and each prepared boundary in turn, which costs microseconds;
 * no index is needed. */
#include "citydir.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>

#include "whistle/v1/whistle.pb-c.h"

typedef struct dist {
    char code[16];
    char **prefixes;
    size_t nprefixes;
    GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep;
} dist;

struct citydir {
    GEOSContextHandle_t h;
    dist *d;
    size_t n;
};

static void geos_quiet(const char *fmt, ...) { (void)fmt; }

size_t citydir_count(const citydir *d) { return d->n; }

void citydir_free(citydir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->d[i].nprefixes; j++)
            free(d->d[i].prefixes[j]);
        free(d->d[i].prefixes);
        if (d->d[i].prep)
            GEOSPreparedGeom_destroy_r(d->h, d->d[i].prep);
        if (d->d[i].geom)
            GEOSGeom_destroy_r(d->h, d->d[i].geom);
    }
    free(d->d);
    if (d->h)
        GEOS_finish_r(d->h);
    free(d);
}

static int add_district(citydir *d, const Whistle__V1__FedDistrict *fd, const char *prog)
{
    if (!city_is_district(fd->code)) {
        fprintf(stderr, "%s: city_dir: district entry with a bad code '%s' left out\n", prog, fd->code);
        return 0;
    }
    dist *nd = realloc(d->d, (d->n + 1) * sizeof *nd);
    if (!nd)
        return -1;
    d->d = nd;
    dist *e = &d->d[d->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->code, sizeof e->code, "%s", fd->code);
    /* its own code is always one of its prefixes: node codes are prefixes
     * of their subtree */
    e->prefixes = calloc(fd->n_grid_prefixes + 1, sizeof *e->prefixes);
    if (!e->prefixes)
        return -1;
    e->prefixes[e->nprefixes++] = strdup(fd->code);
    for (size_t i = 0; i < fd->n_grid_prefixes; i++)
        if (fd->grid_prefixes[i][0])
            e->prefixes[e->nprefixes++] = strdup(fd->grid_prefixes[i]);
    for (size_t i = 0; i < e->nprefixes; i++)
        if (!e->prefixes[i])
            return -1;
    if (fd->boundary && fd->boundary[0]) {
        GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(d->h);
        GEOSGeometry *g = rd ? GEOSGeoJSONReader_readGeometry_r(d->h, rd, fd->boundary) : NULL;
        if (rd)
            GEOSGeoJSONReader_destroy_r(d->h, rd);
        if (!g) {
            fprintf(stderr, "%s: city_dir: district %s: its boundary is not GeoJSON; placed by grid code only\n", prog,
                    fd->code);
        } else {
            e->geom = g;
            e->prep = GEOSPrepare_r(d->h, g);
        }
    }
    return 0;
}

citydir *citydir_new(void)
{
    citydir *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->h = GEOS_init_r();
    if (!d->h) {
        free(d);
        return NULL;
    }
    GEOSContext_setErrorHandler_r(d->h, geos_quiet);
    GEOSContext_setNoticeHandler_r(d->h, geos_quiet);
    return d;
}

int citydir_add(citydir *d, const Whistle__V1__FedDistrict *fd, const char *prog) { return add_district(d, fd, prog); }

citydir *citydir_load(city_conn *c, const char *prog)
{
    citydir *d = citydir_new();
    if (!d)
        return NULL;
    kvStore *kv = NULL;
    natsStatus s = js_KeyValue(&kv, c->js, CITY_KV_DIR);
    if (s != NATS_OK) {
        city_nats_err(prog, "the city directory (KV city_dir; run whistle-city setup)", s, 0);
        citydir_free(d);
        return NULL;
    }
    kvKeysList keys = { 0 };
    s = kvStore_Keys(&keys, kv, NULL);
    if (s == NATS_NOT_FOUND) /* an empty bucket */
        s = NATS_OK;
    int rc = s == NATS_OK ? 0 : -1;
    if (rc)
        city_nats_err(prog, "listing city_dir", s, 0);
    for (int i = 0; rc == 0 && i < keys.Count; i++) {
        if (strncmp(keys.Keys[i], "district.", 9) != 0)
            continue;
        kvEntry *e = NULL;
        s = kvStore_Get(&e, kv, keys.Keys[i]);
        if (s == NATS_NOT_FOUND)
            continue; /* deleted since the listing */
        if (s != NATS_OK) {
            city_nats_err(prog, keys.Keys[i], s, 0);
            rc = -1;
            break;
        }
        Whistle__V1__FedDirEntry *fe =
            whistle__v1__fed_dir_entry__unpack(NULL, (size_t)kvEntry_ValueLen(e), kvEntry_Value(e));
        if (!fe || !fe->district || fe->deleted)
            fprintf(stderr, "%s: city_dir: %s is not a district entry; left out\n", prog, keys.Keys[i]);
        else if (add_district(d, fe->district, prog) != 0)
            rc = -1;
        if (fe)
            whistle__v1__fed_dir_entry__free_unpacked(fe, NULL);
        kvEntry_Destroy(e);
    }
    kvKeysList_Destroy(&keys);
    kvStore_Destroy(kv);
    if (rc) {
        citydir_free(d);
        return NULL;
    }
    return d;
}

const char *citydir_place(const citydir *d, const char *node, bool has_loc, double lat, double lon)
{
    if (node && node[0]) {
        const char *best = NULL;
        size_t best_len = 0;
        for (size_t i = 0; i < d->n; i++)
            for (size_t j = 0; j < d->d[i].nprefixes; j++) {
                size_t l = strlen(d->d[i].prefixes[j]);
                if (l > best_len && strncmp(node, d->d[i].prefixes[j], l) == 0) {
                    best = d->d[i].code;
                    best_len = l;
                }
            }
        if (best)
            return best;
    }
    if (!has_loc)
        return NULL;
    const char *found = NULL;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(d->h, lon, lat);
    if (!pt)
        return NULL;
    for (size_t i = 0; i < d->n && !found; i++)
        if (d->d[i].prep && GEOSPreparedCovers_r(d->h, d->d[i].prep, pt) == 1)
            found = d->d[i].code;
    GEOSGeom_destroy_r(d->h, pt);
    return found;
}
