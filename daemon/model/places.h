/* places.h: where the places are on the map.
 *
 * Node.boundary is a GeoJSON geometry, a Polygon or a MultiPolygon, with
 * [longitude, latitude] coordinates in WGS84 (docs/protocol.md section 12;
 * GCJ-02 and BD-09 are converted by clients, never here). GEOS (geos_c.h,
 * the reentrant _r API) parses and validates them, and answers "which
 * place holds this point" from an STRtree of prepared geometries.
 *
 * The index belongs to the store (store.places) and is built on first use
 * from a snapshot of the nodes. Every write of a node changes the store's
 * places generation (meta key "places_gen", a random value written in the
 * same transaction: places_touch), and a look-up whose transaction sees
 * another generation than the index was built from rebuilds it from that
 * transaction first, so the answer always agrees with what the caller's
 * transaction sees. The loop thread (reads) and the writer thread (reports
 * by location) share it under a mutex. */
#ifndef WHISTLED_PLACES_H
#define WHISTLED_PLACES_H

#include <stdbool.h>

#include "call.h"

/* A boundary's text is at most this long (a string field of a request is
 * at most 16 KiB; an import's cells may be longer). */
#define PLACES_BOUNDARY_MAX (256u << 10)

/* Checks a boundary: valid JSON of a GeoJSON "Polygon" or "MultiPolygon"
 * geometry object, coordinates within WGS84's ranges, a valid geometry
 * (closed rings, no self-intersection: GEOS's reason is quoted), not
 * empty. Returns the compact text to store (in a), or NULL with *why (in
 * a). */
const char *places_boundary_check(const char *text, arena *a, const char **why);

/* Notes, inside txn, that the nodes changed: the next look-up rebuilds
 * the index. 0 or an MDB error. */
int places_touch(store *st, MDB_txn *txn);

/* The live node of the given kind whose boundary covers the point (on
 * the edge counts), the lowest code where several do; kind 0: the deepest
 * live street, community or grid that covers it. 0 with *code (in a), 1
 * when no such node covers it, or -1 with why (a store or GEOS error). */
int places_locate(store *st, MDB_txn *txn, double lat, double lon, Whistle__V1__NodeKind kind, arena *a,
                  const char **code, const char **why);

/* Whether lat/lon are numbers inside WGS84's ranges. */
bool places_point_ok(double lat, double lon);

/* The locate_place call (any principal; the grid must be in its scope). */
void places_locate_call(call *c, const Whistle__V1__LocatePlace *req);

/* Whether the boundaries in the nodes database are sound, for whistled
 * --check: every one valid, and each inside its parent's when the parent
 * has one (loosely: at most a tenth of its area outside). Calls fn for each
 * problem; returns how many. */
typedef void (*places_problem_fn)(void *ctx, const char *code, const char *problem);
int places_check_all(MDB_txn *txn, MDB_dbi nodes, arena *a, places_problem_fn fn, void *ctx);

#endif
