/* config.h: whistle-gateway's configuration, an INI file read with libinih
 * (conf/whistle-gateway.conf documents every key and its default). Every
 * value is checked when read, so a typo is a start-up error naming the
 * line, never a silent default. */
#ifndef GATEWAY_CONFIG_H
#define GATEWAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* An Open311 API key and the integration principal it stands for. */
typedef struct gw_api_key {
    char *key;
    char *principal;
} gw_api_key;

/* A web console login: the principal the gateway acts for when it is
 * used, and its password's argon2id hash (PHC string, libargon2). */
typedef struct gw_web_user {
    char *login;
    char *principal;
    char *hash;
} gw_web_user;

typedef struct gw_config {
    char *path;
    /* [http]: the HTTPS side */
    char *listen;
    uint16_t port;
    char *cert, *key;           /* PEM server certificate (chain) and key */
    uint32_t max_header_bytes;  /* request line + headers, above: 431 */
    uint32_t max_body_bytes;    /* request body, above: 413 */
    uint32_t request_timeout;   /* s: a request's head and body must arrive within it */
    uint32_t handshake_timeout; /* s: TLS handshake */
    uint32_t idle_timeout;      /* s: an idle HTTP/2 connection (HTTP/1 keep-alive: request_timeout) */
    uint32_t max_connections;   /* more are closed at accept */
    uint32_t drain_timeout;     /* s: a stop waits this long for answers in flight */
    /* [whistled]: the daemon, over mutual TLS */
    char *wd_host;
    uint16_t wd_port;
    char *wd_ca, *wd_cert, *wd_key;
    uint32_t call_timeout; /* s: one call to whistled */
    /* [open311] */
    char *jurisdiction_id;  /* "" : any (none required) */
    char *language;         /* "zh" or "en": names in the answers */
    char *read_as;          /* the principal GET answers are read as */
    char *endpoint_url;     /* the base URL discovery announces */
    char *contact;          /* discovery's contact */
    char *key_service;      /* discovery's key_service: how to get a key */
    char *timezone;         /* the jurisdiction's zone for datetimes ("Asia/Shanghai") */
    int public_photos;      /* 1: staff photos of a case are shown (media_url), 0: none */
    uint32_t max_page_size; /* page_size at most */
    uint32_t default_page_size;
    /* [api_keys]: key = principal */
    gw_api_key *keys;
    size_t n_keys;
    /* [notify]: the outbound notifier */
    int notify_enabled;
    char *notify_as;         /* whose stream (principal:<as>) */
    char *notify_url;        /* http:// or https:// webhook */
    char *notify_secret;     /* HMAC-SHA256 key */
    char *notify_ca;         /* CA file for an https webhook ("": system store) */
    uint32_t notify_timeout; /* s: one webhook call */
    uint32_t retry_min_ms, retry_max_ms;
    /* [web]: the web console (docs/web.md) */
    int web_enabled;
    char *web_root;        /* the directory of its static files */
    uint32_t session_idle; /* s: a session unused this long ends */
    uint32_t session_max;  /* s: a session ends this long after login, used or not */
    uint32_t max_sessions; /* more logins are refused (503) */
    uint32_t max_streams;  /* live streams (server-sent events) open at once */
    char *tile_url;        /* "": no map tiles; else https://host/{z}/{x}/{y}.png */
    char *tile_origin;     /* its scheme://host[:port], for the page's CSP */
    char *public_as;       /* "": no public page; else the principal its echo boards are read as */
    char *public_stats_as; /* "": no public statistics; else the principal they are read as */
    /* [web_users]: login = principal argon2id-hash */
    gw_web_user *users;
    size_t n_users;
    /* [log] */
    int log_level;
} gw_config;

void gw_config_defaults(gw_config *c);
void gw_config_free(gw_config *c);
/* Sets one key. Returns 0, or -1 with err naming the key and what is
 * allowed. */
int gw_config_set(gw_config *c, const char *section, const char *key, const char *value, char *err, size_t errlen);
/* Reads path over the defaults. Returns 0, or -1 with err "FILE:LINE: ..." */
int gw_config_load(gw_config *c, const char *path, char *err, size_t errlen);
/* Checks what only the whole configuration can tell (files readable,
 * the notifier complete). Returns 0, or -1 with err. */
int gw_config_validate(const gw_config *c, char *err, size_t errlen);
/* The principal an API key stands for, or NULL. Compares in constant time. */
const char *gw_config_key_principal(const gw_config *c, const char *key);

/* The web user of a login, or NULL. */
const gw_web_user *gw_config_web_user(const gw_config *c, const char *login);

#endif
