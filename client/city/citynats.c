/* citynats.c: see citynats.h. What people read goes through gettext (the
 * CLI's catalogue, po/whistle); whistle-router, a service, never binds one
 * and logs in English. */
#include "citynats.h"

#define _(s) gettext(s)

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libintl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int64_t city_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool city_is_district(const char *s)
{
    if (!s || strlen(s) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

int city_msgid_seq(const char *msgid, char *district, size_t dlen, uint64_t *seq)
{
    if (!msgid)
        return -1;
    const char *colon = strchr(msgid, ':');
    if (!colon || (size_t)(colon - msgid) >= dlen)
        return -1;
    memcpy(district, msgid, (size_t)(colon - msgid));
    district[colon - msgid] = '\0';
    if (!city_is_district(district) || !isdigit((unsigned char)colon[1]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(colon + 1, &end, 10);
    if (errno || (*end != '\0' && *end != ':') || v == 0)
        return -1;
    *seq = v;
    return 0;
}

void city_nats_err(const char *prog, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    if (jerr)
        fprintf(stderr, "%s: %s: %s (JetStream error %d%s%s)\n", prog, what, natsStatus_GetText(s), (int)jerr,
                last ? ": " : "", last ? last : "");
    else
        fprintf(stderr, "%s: %s: %s%s%s\n", prog, what, natsStatus_GetText(s), last ? ": " : "", last ? last : "");
}

static const char *env_or(const char *v, const char *name)
{
    if (v && *v)
        return v;
    const char *e = getenv(name);
    return e && *e ? e : NULL;
}

int city_opts_env(city_opts *o)
{
    o->servers = env_or(o->servers, "WHISTLE_NATS_SERVERS");
    o->cert = env_or(o->cert, "WHISTLE_NATS_CERT");
    o->key = env_or(o->key, "WHISTLE_NATS_KEY");
    o->ca = env_or(o->ca, "WHISTLE_NATS_CA");
    const char *missing = !o->servers ? "--nats (or WHISTLE_NATS_SERVERS)"
                          : !o->cert  ? "--cert (or WHISTLE_NATS_CERT)"
                          : !o->key   ? "--key (or WHISTLE_NATS_KEY)"
                          : !o->ca    ? "--ca (or WHISTLE_NATS_CA)"
                                      : NULL;
    if (missing) {
        fprintf(stderr, _("%s: %s is required: the city's NATS servers and this program's certificate\n"), o->prog,
                missing);
        return -1;
    }
    return 0;
}

int city_cert_cn(const char *path, char *out, size_t outlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        return -1;
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)outlen);
    X509_free(x);
    return n > 0 ? 0 : -1;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    const city_opts *o = closure;
    if (!o->quiet)
        fprintf(stderr, "%s: NATS connection lost, reconnecting\n", o->prog);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    const city_opts *o = closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    if (!o->quiet)
        fprintf(stderr, "%s: NATS reconnected to %s\n", o->prog, url);
}

/* Set (from a libnats thread) when the server refused this user something. */
static _Atomic int denied;

bool city_denied(void) { return denied != 0; }

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc;
    (void)sub;
    const city_opts *o = closure;
    if (err == NATS_NOT_PERMITTED)
        denied = 1;
    const char *last = nats_GetLastError(NULL);
    if (!o->quiet || err == NATS_NOT_PERMITTED)
        fprintf(stderr, "%s: NATS: %s%s%s\n", o->prog, natsStatus_GetText(err), last ? ": " : "", last ? last : "");
}

/* What libnats's callbacks see: they run on its threads, possibly after
 * the caller's frame is gone, so they get a copy that lives as long as the
 * process (a program has one connection). */
static city_opts cb_opts;

int city_connect(const city_opts *caller, int64_t wait_ms, int64_t api_wait_ms, city_conn *c)
{
    cb_opts = *caller;
    const city_opts *o = &cb_opts;
    memset(c, 0, sizeof *c);
    if (city_cert_cn(o->cert, c->name, sizeof c->name) != 0) {
        fprintf(stderr, _("%s: cannot read the subject of %s: a PEM certificate of the city's NATS CA is needed\n"),
                o->prog, o->cert);
        return -1;
    }
    natsOptions *opts = NULL;
    natsStatus s = natsOptions_Create(&opts);
    char prefix[160];
    snprintf(prefix, sizeof prefix, "_I.%s", c->name);
    /* "nats://a:1,nats://b:2": the server list */
    char *list = strdup(o->servers);
    const char *urls[16];
    int nurls = 0;
    for (char *save = NULL, *u = list ? strtok_r(list, ", ", &save) : NULL; u && nurls < 16;
         u = strtok_r(NULL, ", ", &save))
        urls[nurls++] = u;
    if (s == NATS_OK)
        s = nurls ? natsOptions_SetServers(opts, urls, nurls) : NATS_INVALID_ARG;
    free(list);
    if (s == NATS_OK)
        s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK)
        s = natsOptions_LoadCATrustedCertificates(opts, o->ca);
    if (s == NATS_OK)
        s = natsOptions_LoadCertificatesChain(opts, o->cert, o->key);
    if (s == NATS_OK)
        s = natsOptions_SetCustomInboxPrefix(opts, prefix);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, o->prog);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 250);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, 2000);
    /* Messages published while reconnecting wait in a buffer and go out
     * once connected; their acks are awaited as usual. */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(opts, 8 * 1024 * 1024);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, (void *)o);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_reconnected, (void *)o);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(opts, on_error, (void *)o);
    if (s != NATS_OK) {
        city_nats_err(o->prog, "NATS options (check the certificate, key and CA files)", s, 0);
        natsOptions_Destroy(opts);
        return -1;
    }
    int64_t until = city_now_ms() + wait_ms;
    for (;;) {
        s = natsConnection_Connect(&c->nc, opts);
        if (s == NATS_OK || city_now_ms() >= until)
            break;
        usleep(200 * 1000);
    }
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        char what[512];
        snprintf(what, sizeof what, _("cannot connect to %s"), o->servers);
        city_nats_err(o->prog, what, s, 0);
        return -1;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = api_wait_ms;
    s = natsConnection_JetStream(&c->js, c->nc, &jo);
    if (s != NATS_OK) {
        city_nats_err(o->prog, "JetStream context", s, 0);
        natsConnection_Destroy(c->nc);
        c->nc = NULL;
        return -1;
    }
    return 0;
}

void city_close(city_conn *c)
{
    if (c->js)
        jsCtx_Destroy(c->js);
    if (c->nc) {
        natsConnection_FlushTimeout(c->nc, 2000);
        natsConnection_Destroy(c->nc);
    }
    c->js = NULL;
    c->nc = NULL;
}
