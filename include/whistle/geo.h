/* whistle/geo.h: coordinates as Chinese maps give them (libwhistle).
 *
 * whistled knows WGS84 only (docs/protocol.md section 12). Phone maps in
 * China (AMap/Gaode, Tencent, most web maps) give GCJ-02, WGS84 shifted by
 * a published, non-linear offset of a few hundred metres inside China (and
 * none outside it). A client that receives GCJ-02 converts it here, once,
 * on the way in, when its caller says the coordinates are GCJ-02: nothing
 * can tell the two apart from the numbers alone. Baidu's BD-09 is GCJ-02
 * shifted again; it is not handled here. Pure functions. */
#ifndef WHISTLE_GEO_H
#define WHISTLE_GEO_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Whether the offset applies at the point (the rough box of China the
 * transform uses; outside it GCJ-02 equals WGS84). */
bool whistle_geo_in_china(double lat, double lon);

/* WGS84 to GCJ-02 (what a Chinese map would show for a WGS84 point). */
void whistle_wgs84_to_gcj02(double lat, double lon, double *gcj_lat, double *gcj_lon);

/* GCJ-02 to WGS84, by iterating the forward transform until it lands
 * within 1e-9 degrees (well under a millimetre). */
void whistle_gcj02_to_wgs84(double gcj_lat, double gcj_lon, double *lat, double *lon);

#ifdef __cplusplus
}
#endif

#endif
