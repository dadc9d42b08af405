/* geo.c: see geo.h. Constants of the public GCJ-02 formula: the Krasovsky
 * 1940 ellipsoid's semi-major axis and eccentricity squared. */
#include "geo.h"

#include <math.h>

static const double A = 6378245.0;
static const double EE = 0.00669342162296594323;

static int outside_china(double lat, double lon)
{
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

static double tf_lat(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * M_PI) + 320 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
    return r;
}

static double tf_lon(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
    return r;
}

/* The offset GCJ-02 adds at a WGS84 point. */
static void offset(double lat, double lon, double *dlat, double *dlon)
{
    double x = lon - 105.0, y = lat - 35.0;
    double dl = tf_lat(x, y), dn = tf_lon(x, y);
    double rad = lat / 180.0 * M_PI;
    double magic = sin(rad);
    magic = 1 - EE * magic * magic;
    double sq = sqrt(magic);
    *dlat = (dl * 180.0) / ((A * (1 - EE)) / (magic * sq) * M_PI);
    *dlon = (dn * 180.0) / (A / sq * cos(rad) * M_PI);
}

void geo_wgs84_to_gcj02(double lat, double lon, double *glat, double *glon)
{
    if (outside_china(lat, lon)) {
        *glat = lat, *glon = lon;
        return;
    }
    double dlat, dlon;
    offset(lat, lon, &dlat, &dlon);
    *glat = lat + dlat, *glon = lon + dlon;
}

void geo_gcj02_to_wgs84(double glat, double glon, double *lat, double *lon)
{
    if (outside_china(glat, glon)) {
        *lat = glat, *lon = glon;
        return;
    }
    double la = glat, lo = glon;
    for (int i = 0; i < 10; i++) {
        double dlat, dlon;
        offset(la, lo, &dlat, &dlon);
        double nla = glat - dlat, nlo = glon - dlon;
        double moved = fabs(nla - la) + fabs(nlo - lo);
        la = nla, lo = nlo;
        if (moved < 1e-10)
            break;
    }
    *lat = la, *lon = lo;
}
