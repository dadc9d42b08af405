/* config.h: whistled's settings, from the INI file (conf/whistled.conf
 * documents every key and its default), then command-line flags. */
#ifndef WHISTLED_CONFIG_H
#define WHISTLED_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "store.h"

typedef struct config {
    char *path; /* the file it came from, for messages */
    /* [server] */
    char *listen;
    int port;
    uint32_t max_frame;
    uint32_t max_in_flight;
    size_t max_output;
    size_t max_queued; /* bytes of requests read and not yet done, all connections */
    uint32_t max_connections;
    uint32_t idle_timeout;      /* seconds, 0 = never */
    uint32_t handshake_timeout; /* seconds to finish the TLS handshake */
    uint32_t frame_timeout;     /* seconds to finish a frame once begun */
    uint32_t drain_timeout;     /* seconds a stop waits for clients to take their answers */
    /* [tls] */
    char *ca, *cert, *key, *crl;
    /* [store] */
    char *store_dir;
    store_sync sync;
    uint32_t sync_interval_ms;
    uint32_t audit_flush_s; /* [store] audit_flush: seconds a queued denial or read waits at most */
    size_t map_size, map_max;
    char *seed;
    char *seed_volunteers;     /* demo volunteers, wishes and goods (docs/volunteers.md); "" none */
    char *backup_dir;          /* where the backup call writes (docs/operations.md) */
    uint32_t idempotency_days; /* how long a write's idempotency key is kept */
    uint32_t stream_keep_days; /* how long an acknowledged push is kept */
    /* [log] */
    int log_level;
    bool access_log; /* every call logged at debug */
    /* [metrics]: the Prometheus endpoint (metrics.c), off unless enabled */
    bool metrics;
    char *metrics_listen;
    uint32_t metrics_port;
    /* [kiosk]: failed ticket look-ups allowed per kiosk in a window (guard.h) */
    uint32_t lookup_failures;
    uint32_t lookup_window; /* seconds */
    /* [archive]: the file of keys that seal the archive's ID-card numbers
     * and phones (base/seal.h); empty: the archive keeps no such fields */
    char *archive_key_file;
    /* [archive] initial_import: households and residents loaded into an empty archive */
    char *archive_seed;
    /* [places]: outside = street files a report by location outside every
     * grid at the street or community holding it (else it is refused) */
    bool places_outside_street;
    /* [photos] (docs/photos.md) */
    uint64_t photo_max_bytes;        /* an upload's largest size */
    uint32_t photo_max_per_action;   /* photos one call attaches */
    uint32_t photo_max_pixels;       /* larger images are refused before decoding */
    uint32_t photo_grace_hours;      /* an upload never attached is removed after */
    uint32_t photo_ingest_mib_per_s; /* the ingest thread writes at most this fast (0: no bound) */
    char *photo_dir;                 /* blobs/ and uploads/ under it; "": store_dir */
    /* [federation] (docs/federation.md): this daemon is district
     * fed_district of a federated city; when enabled its writes append to the
     * stream fed:<district> that whistle-bridge carries to NATS. */
    bool fed_enabled;
    char *fed_district;
    char *fed_intake_node;     /* where an intake with no place goes (a street), "" none */
    char *fed_intake_category; /* the category of an intake without one, "" none */
    /* [calendar], [deadline], [emergency]: calendar.c */
    deadline_policy policy;
    struct delib_defaults delib; /* [deliberation] */
    /* --test-clock FILE (a flag only, never from the file): tests drive
     * time by writing the current Unix ms into FILE. */
    char *test_clock;
} config;

void config_defaults(config *c);
/* Reads path over the defaults. On error returns -1 and err names the file,
 * line and key, and what is allowed. */
int config_load(config *c, const char *path, char *err, size_t errlen);
/* Sets one key as if read from [section]; used for flags. */
int config_set(config *c, const char *section, const char *key, const char *value, char *err, size_t errlen);
/* Checks that required keys are present and files readable. */
int config_validate(const config *c, char *err, size_t errlen);
void config_free(config *c);

/* Where the photos' files are: photos.dir, else store.dir. */
const char *config_photo_dir(const config *c);

#endif
