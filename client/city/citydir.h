/* citydir.h: the districts of the city directory (KV bucket city_dir,
 * keys district.<code>, values FedDirEntry) and where a hotline case goes:
 * by its node code (the longest grid prefix of a district) or else by its
 * location (the district whose boundary covers the point, GEOS). */
#ifndef WHISTLE_CITYDIR_H
#define WHISTLE_CITYDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "citynats.h"
#include "whistle/v1/whistle.pb-c.h"

typedef struct citydir citydir;

/* Reads every district.* entry of city_dir. Returns a directory (possibly
 * of no district), or NULL with a line on stderr. A boundary that does not
 * parse is left out of placement by location, with a line on stderr. */
citydir *citydir_load(city_conn *c, const char *prog);
void citydir_free(citydir *d);

/* An empty directory, and one district added to it (what citydir_load
 * does for each entry; a bad code or boundary is left out with a line on
 * stderr, prefixed prog). citydir_add returns 0, or -1 out of memory. */
citydir *citydir_new(void);
int citydir_add(citydir *d, const Whistle__V1__FedDistrict *fd, const char *prog);
size_t citydir_count(const citydir *d);

/* The district of a node code (longest prefix among the districts' grid
 * prefixes, a district's own code being one), else of a location
 * (has_loc), else NULL. The string is the directory's. */
const char *citydir_place(const citydir *d, const char *node, bool has_loc, double lat, double lon);

#endif
