/* city_stats.c: `whistle-city stats` (and `whistle stats --city`): the
 * districts' statistics of a month from the KV bucket city_stats (key
 * <district>.<yyyymm>, a FedStats of absolute counters that each district's
 * bridge rewrites), summed for the city and ranked by the three rates of
 * 接诉即办 as whistled computes them (docs/statistics.md): response
 * checked_in_on_time / orders, resolution verified / filed, satisfaction
 * satisfied / rated. The city's figures are the sums of the districts'
 * counters, and its rates are computed from those sums (not averaged). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "city.h"
#include "uitext.h"
#include "whistle/v1/whistle.pb-c.h"

typedef struct drow {
    char code[16];
    Whistle__V1__StatsRow *row; /* unpacked with its FedStats */
    Whistle__V1__FedStats *fs;
    double rate[3];
    int rank[3];
} drow;

/* s in cols display columns, padded (right: aligned right, after a space). */
static void cell(const char *s, int cols, bool right)
{
    char b[256];
    if (right)
        uitext_fit_right(b, sizeof b, s, cols);
    else
        uitext_fit(b, sizeof b, s, cols, true);
    fputs(b, stdout);
}

static double ratio(int64_t a, int64_t b) { return b > 0 ? (double)a / (double)b : -1; }

static void rates_of(const Whistle__V1__StatsRow *r, double out[3])
{
    out[0] = ratio(r->checked_in_on_time, r->orders);
    out[1] = ratio(r->verified, r->filed);
    out[2] = ratio(r->satisfied, r->rated);
}

/* sum += r, for every int64 counter of StatsRow (by its descriptor: a
 * counter added to the proto is summed by itself). */
static void add_row(Whistle__V1__StatsRow *sum, const Whistle__V1__StatsRow *r)
{
    const ProtobufCMessageDescriptor *d = &whistle__v1__stats_row__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_INT64 || f->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        *(int64_t *)((char *)sum + f->offset) += *(const int64_t *)((const char *)r + f->offset);
    }
}

static const char *RATE_NAMES[3] = { "response_rate", "resolution_rate", "satisfaction_rate" };

static void pct(char *buf, size_t len, double r)
{
    if (r < 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f%%", r * 100);
}

static drow *g_rows;
static int g_k;
static int by_rate(const void *a, const void *b)
{
    const drow *x = &g_rows[*(const int *)a], *y = &g_rows[*(const int *)b];
    double p = x->rate[g_k], q = y->rate[g_k];
    if (p != q)
        return p < q ? 1 : -1; /* higher first; -1 (no data) last */
    return strcmp(x->code, y->code);
}

int city_stats(city_conn *c, int argc, char **argv)
{
    const char *month = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--month") == 0 && i + 1 < argc)
            month = argv[++i];
        else {
            city_usage("stats [--month YYYYMM] [--json]");
            return 2;
        }
    }
    if (month && (strlen(month) != 6 || strspn(month, "0123456789") != 6)) {
        city_err(_("--month %s: write it YYYYMM (202611)\n"), month);
        return 2;
    }
    kvStore *kv = NULL;
    natsStatus s = js_KeyValue(&kv, c->js, CITY_KV_STATS);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, "the bucket city_stats (run whistle-city setup)", s, 0);
        return 1;
    }
    kvKeysList keys = { 0 };
    s = kvStore_Keys(&keys, kv, NULL);
    if (s != NATS_OK && s != NATS_NOT_FOUND) {
        city_nats_err(CITY_PROG, "listing city_stats", s, 0);
        kvStore_Destroy(kv);
        return 1;
    }
    /* the month: given, or the latest any district has */
    char mon[8] = "";
    if (month)
        snprintf(mon, sizeof mon, "%s", month);
    for (int i = 0; !month && i < keys.Count; i++) {
        const char *dot = strchr(keys.Keys[i], '.');
        if (dot && strlen(dot + 1) == 6 && strcmp(dot + 1, mon) > 0)
            snprintf(mon, sizeof mon, "%s", dot + 1);
    }
    drow *rows = calloc((size_t)keys.Count + 1, sizeof *rows);
    int n = 0, rc = 0;
    for (int i = 0; rows && i < keys.Count; i++) {
        const char *k = keys.Keys[i];
        const char *dot = strchr(k, '.');
        if (!dot || strcmp(dot + 1, mon) != 0 || dot - k != 6)
            continue;
        kvEntry *e = NULL;
        if (kvStore_Get(&e, kv, k) != NATS_OK)
            continue;
        Whistle__V1__FedStats *fs = whistle__v1__fed_stats__unpack(NULL, (size_t)kvEntry_ValueLen(e), kvEntry_Value(e));
        kvEntry_Destroy(e);
        if (!fs || !fs->row) {
            city_err(_("%s is not a FedStats with a row: left out\n"), k);
            if (fs)
                whistle__v1__fed_stats__free_unpacked(fs, NULL);
            continue;
        }
        drow *r = &rows[n++];
        memcpy(r->code, k, 6);
        r->code[6] = '\0';
        r->fs = fs;
        r->row = fs->row;
        rates_of(r->row, r->rate);
    }
    kvKeysList_Destroy(&keys);
    kvStore_Destroy(kv);
    if (!rows)
        return 1;

    Whistle__V1__StatsRow city = WHISTLE__V1__STATS_ROW__INIT;
    for (int i = 0; i < n; i++)
        add_row(&city, rows[i].row);
    double crate[3];
    rates_of(&city, crate);
    int *order = calloc((size_t)n + 1, sizeof *order);
    for (int k = 0; order && k < 3; k++) {
        for (int i = 0; i < n; i++)
            order[i] = i;
        g_rows = rows;
        g_k = k;
        qsort(order, (size_t)n, sizeof *order, by_rate);
        for (int i = 0; i < n; i++)
            rows[order[i]].rank[k] = i + 1;
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "month", json_string(mon));
        json_t *cj = city_pb_json(&city.base);
        for (int k = 0; k < 3; k++)
            json_object_set_new(cj, RATE_NAMES[k], json_real(crate[k]));
        json_object_set_new(o, "city", cj);
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
            json_t *dj = json_object();
            json_object_set_new(dj, "district", json_string(rows[i].code));
            json_t *rj = city_pb_json(&rows[i].row->base);
            for (int k = 0; k < 3; k++)
                json_object_set_new(rj, RATE_NAMES[k], json_real(rows[i].rate[k]));
            json_object_set_new(dj, "row", rj);
            json_object_set_new(dj, "at_ms", json_integer(rows[i].fs->at_ms));
            json_object_set_new(dj, "rank_response", json_integer(rows[i].rank[0]));
            json_object_set_new(dj, "rank_resolution", json_integer(rows[i].rank[1]));
            json_object_set_new(dj, "rank_satisfaction", json_integer(rows[i].rank[2]));
            json_array_append_new(arr, dj);
        }
        json_object_set_new(o, "districts", arr);
        city_print_json(o);
    } else if (n == 0) {
        if (mon[0])
            printf(_("no district has statistics for %s yet\n"), mon);
        else
            printf(_("no district has statistics yet\n"));
    } else {
        printf(ngettext("month %s: %d district (ranked by response rate; the rank of each rate in brackets)\n",
                        "month %s: %d districts (ranked by response rate; the rank of each rate in brackets)\n",
                        (unsigned long)n),
               mon, n);
        /* the heads by display width: a Chinese character takes two columns */
        cell(_("district"), 8, false);
        cell(_("filed"), 9, true);
        cell(_("orders"), 9, true);
        cell(_("rated"), 9, true);
        cell(_("verified"), 9, true);
        cell(_("response"), 15, true);
        cell(_("resolution"), 15, true);
        cell(_("satisfaction"), 15, true);
        putchar('\n');
        g_k = 0;
        if (order) {
            for (int i = 0; i < n; i++)
                order[i] = i;
            qsort(order, (size_t)n, sizeof *order, by_rate);
        }
        for (int j = 0; order && j < n; j++) {
            const drow *r = &rows[order[j]];
            char a[16], b[16], cc[16], ra[32], rb[32], rcc[32];
            pct(a, sizeof a, r->rate[0]);
            pct(b, sizeof b, r->rate[1]);
            pct(cc, sizeof cc, r->rate[2]);
            snprintf(ra, sizeof ra, "%s (%d)", a, r->rank[0]);
            snprintf(rb, sizeof rb, "%s (%d)", b, r->rank[1]);
            snprintf(rcc, sizeof rcc, "%s (%d)", cc, r->rank[2]);
            printf("%-8s %8lld %8lld %8lld %8lld %14s %14s %14s\n", r->code, (long long)r->row->filed,
                   (long long)r->row->orders, (long long)r->row->rated, (long long)r->row->verified, ra, rb, rcc);
        }
        char a[16], b[16], cc[16];
        pct(a, sizeof a, crate[0]);
        pct(b, sizeof b, crate[1]);
        pct(cc, sizeof cc, crate[2]);
        cell(_("city"), 8, false);
        printf(" %8lld %8lld %8lld %8lld %14s %14s %14s\n", (long long)city.filed, (long long)city.orders,
               (long long)city.rated, (long long)city.verified, a, b, cc);
    }
    free(order);
    for (int i = 0; i < n; i++)
        whistle__v1__fed_stats__free_unpacked(rows[i].fs, NULL);
    free(rows);
    return rc;
}
