/* geo.c: see whistle/geo.h. The transform is the one published with the
 * GCJ-02 datum (Krasovsky ellipsoid constants and the trigonometric
 * offset polynomials), as every open implementation reproduces it. */
#include "whistle/geo.h"

#include <math.h>

#define KRASOVSKY_A 6378245.0
#define KRASOVSKY_EE 0.00669342162296594323

bool whistle_geo_in_china(double lat, double lon)
{
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

static double offset_lat(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
    return r;
}

static double offset_lon(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
    return r;
}

void whistle_wgs84_to_gcj02(double lat, double lon, double *gcj_lat, double *gcj_lon)
{
    if (!whistle_geo_in_china(lat, lon)) {
        *gcj_lat = lat;
        *gcj_lon = lon;
        return;
    }
    double dlat = offset_lat(lon - 105.0, lat - 35.0);
    double dlon = offset_lon(lon - 105.0, lat - 35.0);
    double rad = lat / 180.0 * M_PI;
    double magic = sin(rad);
    magic = 1 - KRASOVSKY_EE * magic * magic;
    double sq = sqrt(magic);
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sq) * M_PI);
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sq * cos(rad) * M_PI);
    *gcj_lat = lat + dlat;
    *gcj_lon = lon + dlon;
}

void whistle_gcj02_to_wgs84(double gcj_lat, double gcj_lon, double *lat, double *lon)
{
    /* The offset varies slowly: start from the point shifted back by the
     * offset at the GCJ-02 point itself, then correct by what the forward
     * transform misses, a few times. */
    double la = gcj_lat, lo = gcj_lon;
    for (int i = 0; i < 30; i++) {
        double gla, glo;
        whistle_wgs84_to_gcj02(la, lo, &gla, &glo);
        double ela = gcj_lat - gla, elo = gcj_lon - glo;
        la += ela;
        lo += elo;
        if (fabs(ela) < 1e-9 && fabs(elo) < 1e-9)
            break;
    }
    *lat = la;
    *lon = lo;
}
