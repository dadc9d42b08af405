/* geo.h: GCJ-02, the coordinates Chinese phone maps give, to WGS84.
 *
 * GCJ-02 ("Mars coordinates", 国测局坐标) is WGS84 moved by a published
 * non-linear offset of a few hundred metres inside China (the formula is
 * public: the widely used eviltransform / coordtransform code). Maps from
 * AutoNavi (高德), Tencent and Google's China tiles give it; GPS gives
 * WGS84, which is what whistled and Open311 use. The forward transform
 * (WGS84 to GCJ-02) is closed-form; the way back is found by fixed-point
 * iteration (start at the GCJ-02 point, subtract the offset of the current
 * guess, repeat): each step shrinks the error by about a thousand, so a few
 * steps reach far below a centimetre. Outside China's rough box both are
 * the same. */
#ifndef GATEWAY_GEO_H
#define GATEWAY_GEO_H

void geo_wgs84_to_gcj02(double lat, double lon, double *glat, double *glon);
void geo_gcj02_to_wgs84(double glat, double glon, double *lat, double *lon);

#endif
