/* event.c: see event.h. */
#include "event.h"

#include "attributes.h"
#include "places.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "authz.h"
#include "deadline_rows.h"
#include "directory.h"
#include "dispatch.h"
#include "field_limits.h"
#include "guard.h"
#include "log.h"
#include "order_record.h"
#include "photo_record.h"

#define ST(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s

/* ------------------------------------------------------------ report */

/* Saves a changed case, pushes the change and answers with it. */
static void commit_change(call *c, Whistle__V1__Event *ev, const event_snap *snap, const char *action)
{
    if (event_save(c, ev, snap) || event_push(c, ev, action, NULL))
        return;
    event_reply(c, ev);
}

static Whistle__V1__Source source_for(Whistle__V1__Role r)
{
    switch (r) {
    case ROLE(KIOSK): return WHISTLE__V1__SOURCE__SOURCE_KIOSK;
    case ROLE(GRID_WORKER):
    case ROLE(COMMUNITY): return WHISTLE__V1__SOURCE__SOURCE_PATROL;
    case ROLE(INTEGRATION): return WHISTLE__V1__SOURCE__SOURCE_HOTLINE;
    case ROLE(SENSOR): return WHISTLE__V1__SOURCE__SOURCE_SENSOR;
    default: return WHISTLE__V1__SOURCE__SOURCE_RESIDENT;
    }
}

static int new_ticket(call *c, char *out, size_t len)
{
    time_t secs = (time_t)(c->now / 1000);
    struct tm tm;
    if (c->now < 0 || !gmtime_r(&secs, &tm))
        return call_fail(c, CODE(INTERNAL), "the clock reads %lld ms; cannot number a ticket", (long long)c->now);
    char day[48], name[64];
    snprintf(day, sizeof day, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    snprintf(name, sizeof name, "ticket:%s", day);
    uint64_t n;
    int rc = store_next_seq(c->txn, c->st, name, &n);
    if (rc)
        return call_store_fail(c, rc, "numbering the ticket");
    snprintf(out, len, "E%.8s%05llu", day, (unsigned long long)n); /* yyyymmdd: 8 digits until 9999 */
    return 0;
}

/* The place of a report that gives a location and no node
 * (docs/protocol.md section 12): the grid holding the point; outside every
 * grid, by [places] outside, refused or the street or community holding
 * it. NULL with the call failed. */
static const char *place_of(call *c, double lat, double lon)
{
    if (!places_point_ok(lat, lon)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "location %g,%g is not WGS84 (lat -90..90, lon -180..180)", lat, lon);
        return NULL;
    }
    const char *code = NULL, *why = NULL;
    int rc = places_locate(c->st, c->txn, lat, lon, WHISTLE__V1__NODE_KIND__NODE_KIND_GRID, c->a, &code, &why);
    if (rc > 0 && c->st->places_outside_street)
        rc = places_locate(c->st, c->txn, lat, lon, WHISTLE__V1__NODE_KIND__NODE_KIND_UNSPECIFIED, c->a, &code, &why);
    if (rc < 0) {
        call_fail(c, CODE(INTERNAL), "%s", why);
        return NULL;
    }
    if (rc > 0) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "(%.6f, %.6f) is outside every grid: give the place (node) or a location inside the city's grids",
                  lat, lon);
        return NULL;
    }
    return code;
}

void event_report(call *c, const Whistle__V1__ReportEvent *req)
{
    const char *node = str0(req->node);
    if (authz_check(c, node))
        return;
    if (!*node && req->has_location && (node = place_of(c, req->lat, req->lon)) == NULL)
        return;
    if (!*node) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "node is required: the code of the place (e.g. a grid), or a location (has_location, lat, lon)");
        return;
    }
    if (!digits_ok(node, strlen(node)) || strlen(node) < 6 || strlen(node) > 18) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node code (6 to 18 digits)", node);
        return;
    }
    if (check_text(c, "description", req->description, DESCRIPTION_MAX, true) ||
        check_text(c, "contact", req->contact, CONTACT_MAX, false) ||
        check_text(c, "external_id", req->external_id, EXTERNAL_ID_MAX, false))
        return;
    if (req->priority < 0 || req->priority > WHISTLE__V1__PRIORITY__PRIORITY_URGENT) {
        call_fail(c, CODE(INVALID_ARGUMENT), "priority %d is out of range (1 low .. 4 urgent)", req->priority);
        return;
    }
    if (req->source < 0 || req->source > WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL) {
        call_fail(c, CODE(INVALID_ARGUMENT), "source %d is not a source (1 kiosk .. 6 emergency call)", req->source);
        return;
    }
    if (req->has_location && !(isfinite(req->lat) && isfinite(req->lon) && req->lat >= -90 && req->lat <= 90 &&
                               req->lon >= -180 && req->lon <= 180)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "location %g,%g is not WGS84 (lat -90..90, lon -180..180)", req->lat,
                  req->lon);
        return;
    }

    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, node, c->a);
    if (!n) {
        call_fail(c, CODE(NOT_FOUND), "no node %s in the tree of places", node);
        return;
    }
    if (n->retired) {
        call_fail(c, CODE(FAILED_PRECONDITION), "node %s (%s) is retired; report at its successor", node, n->name_zh);
        return;
    }
    if (n->kind < WHISTLE__V1__NODE_KIND__NODE_KIND_STREET) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node %s is a %s; report at a street, community, grid or building", node,
                  directory_kind_name(n->kind));
        return;
    }
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, node)) {
        call_deny(c, node, "node %s is outside your scope %s (rule: %s reports inside its scope only)", node,
                  str0(c->who->scope), role_a(c->who->role));
        return;
    }
    const char *cat = str0(req->category);
    if (!digits_ok(cat, 4)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "category \"%.40s\" is not a minor class: 4 digits, major + minor (e.g. 0101)", cat);
        return;
    }
    Whistle__V1__Category *kat = directory_category_get(c->st, c->txn, cat, c->a);
    if (!kat) {
        call_fail(c, CODE(INVALID_ARGUMENT), "no category %s; list_categories shows them", cat);
        return;
    }
    if (!directory_serves(kat->scope, node)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "category %s is in the catalogue of district %s; node %s is not (list_categories shows the "
                  "categories of your district)",
                  cat, kat->scope, node);
        return;
    }
    Whistle__V1__AttributeAnswer **answers = NULL;
    size_t n_answers = 0;
    if (attributes_answers_check(c, kat, req->attributes, req->n_attributes,
                                 req->source != WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL, &answers, &n_answers))
        return;
    const char *street = directory_street_of(c->st, c->txn, node, c->a);
    if (!street) {
        call_fail(c, CODE(FAILED_PRECONDITION), "node %s is not under a street (the tree is broken there)", node);
        return;
    }
    if (photo_check(c, req->photos, req->n_photos, 0))
        return;

    char ticket[TICKET_MAX + 1];
    if (new_ticket(c, ticket, sizeof ticket))
        return;
    Whistle__V1__Event *ev = arena_alloc(c->a, sizeof *ev);
    whistle__v1__event__init(ev);
    ev->ticket = arena_strdup(c->a, ticket);
    ev->state = ST(REPORTED);
    ev->source = req->source ? req->source : source_for(c->who->role);
    ev->category = (char *)cat;
    ev->node = (char *)node;
    ev->street = (char *)street;
    ev->priority = req->priority ? req->priority : WHISTLE__V1__PRIORITY__PRIORITY_NORMAL;
    /* A one-key emergency call is urgent whatever it says. */
    bool emergency = ev->source == WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL;
    if (emergency)
        ev->priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    ev->description = (char *)str0(req->description);
    ev->contact = (char *)str0(req->contact);
    ev->external_id = (char *)str0(req->external_id);
    ev->has_location = req->has_location;
    ev->lat = req->has_location ? req->lat : 0;
    ev->lon = req->has_location ? req->lon : 0;
    ev->reporter = (char *)str0(c->who->name);
    ev->created_ms = c->now;
    ev->attributes = answers;
    ev->n_attributes = n_answers;
    photo_owner ow = { .ticket = ev->ticket };
    if (photo_attach(c, req->photos, req->n_photos, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_REPORT, &ow, &ev->photos,
                     &ev->n_photos))
        return;
    event_timeline(c, ev, "report", "", 0, NULL);
    commit_change(c, ev, NULL, emergency ? "emergency" : "report");
}

/* ------------------------------------------------------------ get, list */

/* Rows a listing reads for one page at most (see the loop in event_list). */
#define LIST_SCAN_MAX 1000

void event_get(call *c, const Whistle__V1__GetEvent *req)
{
    Whistle__V1__Event *ev;
    if (authz_check(c, str0(req->ticket)) || event_load(c, req->ticket, &ev, NULL) || event_allow(c, ev))
        return;
    if (req->timeline_before > ev->timeline_total) {
        call_fail(c, CODE(INVALID_ARGUMENT), "timeline_before %u is past the case's %u timeline entries",
                  req->timeline_before, ev->timeline_total);
        return;
    }
    event_reply_page(c, ev, req->timeline_before);
}

/* Proves a ticket with the last 4 digits of the phone given at report:
 * loads it into *ev when the pair matches and the ticket lies inside the
 * caller's scope. A missing ticket, a ticket outside the scope and a wrong
 * pair all read the same (NOT_FOUND, one message built from what the caller
 * sent), so that a guess learns nothing: the scope is checked before the
 * digits, or a principal of another street could try every suffix and tell
 * the right one by its different refusal. Every failure counts against the
 * caller's limit (guard.h), whatever its role; a caller that failed too
 * often lately is refused before anything is read. A wrong pair and an
 * out-of-scope try are audited as denials, with the true reason, so that
 * guessing shows in the log. Returns 0 or -1 with the answer set. */
int event_prove_ticket(call *c, const char *ticket, const char *digits, Whistle__V1__Event **ev)
{
    bool kiosk = c->who->role == ROLE(KIOSK);
    const char *me = str0(c->who->name);
    int64_t wait = c->st->lookups ? guard_wait(c->st->lookups, me, c->now) : 0;
    if (wait > 0) {
        audit_deny(c->st, c->now, me, c->name, str0(ticket),
                   kiosk ? "too many failed look-ups from this kiosk" : "too many failed look-ups by this principal");
        return call_fail(c, CODE(RESOURCE_EXHAUSTED), "too many failed look-ups from this %s: try again in %lld min%s",
                         kiosk ? "terminal" : "principal", (long long)((wait + 59999) / 60000),
                         kiosk ? ", or ask the staff" : "");
    }
    if (!digits_ok(digits, 4))
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "phone_last4 must be the last 4 digits of the phone given at report");
    const char *why = NULL;
    if (event_load(c, ticket, ev, NULL)) {
        if (c->resp->status->code != CODE(NOT_FOUND))
            return -1;
    } else if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, (*ev)->node)) {
        why = arena_printf(c->a,
                           "case %s is at %s, outside the scope %s (rule: %s looks up tickets inside its "
                           "scope only)",
                           (*ev)->ticket, (*ev)->node, str0(c->who->scope), role_a(c->who->role));
    } else {
        char tail[5] = "";
        size_t got = 0;
        const char *ph = str0((*ev)->contact);
        for (size_t i = strlen(ph); i > 0 && got < 4; i--)
            if (ph[i - 1] >= '0' && ph[i - 1] <= '9')
                tail[3 - got++] = ph[i - 1];
        if (got == 4 && memcmp(tail, digits, 4) == 0)
            return 0;
        why = "the phone digits do not match the ticket";
    }
    if (c->st->lookups)
        guard_fail(c->st->lookups, me, c->now);
    if (why)
        audit_deny(c->st, c->now, me, c->name, str0(ticket), why);
    *ev = NULL;
    return call_fail(c, CODE(NOT_FOUND), "no ticket %s with a phone ending in %s", str0(ticket), digits);
}

/* A resident at a kiosk (or on the 12345 line) reads a ticket with its
 * number and the last four digits of the phone given at report time. The
 * answer never holds the phone. prove_ticket checks the scope and the
 * digits, and answers alike for every way of failing. */
void event_lookup(call *c, const Whistle__V1__LookupTicket *req)
{
    Whistle__V1__Event *ev;
    if (event_prove_ticket(c, req->ticket, str0(req->phone_last4), &ev))
        return;
    Whistle__V1__Event *e = event_for_reply(c, ev, true);
    e->contact = (char *)"";
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_EVENT;
    c->resp->event = e;
}

static char *hex_encode(arena *a, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char *s = arena_alloc(a, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hx[p[i] >> 4];
        s[2 * i + 1] = hx[p[i] & 15];
    }
    return s;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

static uint8_t *hex_decode(arena *a, const char *s, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2 || len > 1000)
        return NULL;
    uint8_t *p = arena_alloc(a, len / 2 + 1);
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return NULL;
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return p;
}

/* Whether needle is in hay, ASCII letters in either case (a Chinese text
 * matches byte for byte). */
static bool text_has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] &&
               (h[i] == needle[i] ||
                ((h[i] | 0x20) == (needle[i] | 0x20) && (h[i] | 0x20) >= 'a' && (h[i] | 0x20) <= 'z')))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* The filters of list_events other than the node and state: whether ev
 * passes them. */
static bool list_keeps(const Whistle__V1__ListEvents *req, const Whistle__V1__Event *ev)
{
    const char *cat = str0(req->category);
    if (*cat && strncmp(str0(ev->category), cat, strlen(cat)) != 0)
        return false;
    if (req->created_from_ms && ev->created_ms < req->created_from_ms)
        return false;
    if (req->created_to_ms && ev->created_ms >= req->created_to_ms)
        return false;
    if (req->open && (ev->state == ST(REJECTED) || ev->state == ST(CLOSED)))
        return false;
    if (req->parked && !ev->parked)
        return false;
    return !*str0(req->text) || text_has(str0(ev->description), req->text);
}

void event_list(call *c, const Whistle__V1__ListEvents *req)
{
    const char *node = str0(req->node);
    if (authz_check(c, node))
        return;
    if (req->state < 0 || req->state > ST(CLOSED)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "state %d is not a case state (1 reported .. 8 closed)", req->state);
        return;
    }
    const char *cat = str0(req->category);
    if (*cat && ((strlen(cat) != 2 && strlen(cat) != 4) || !digits_ok(cat, strlen(cat)))) {
        call_fail(c, CODE(INVALID_ARGUMENT), "category \"%.40s\" is not a category (4 digits) or a class (2 digits)",
                  cat);
        return;
    }
    if (req->created_from_ms < 0 || req->created_to_ms < 0 ||
        (req->created_to_ms && req->created_to_ms <= req->created_from_ms)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "created_from_ms and created_to_ms are Unix milliseconds, from before to (0: no bound)");
        return;
    }
    if (strlen(str0(req->text)) > 200) {
        call_fail(c, CODE(INVALID_ARGUMENT), "text is at most 200 bytes");
        return;
    }
    if (req->open && req->state) {
        call_fail(c, CODE(INVALID_ARGUMENT), "open and state go apart: open is every state but rejected and closed");
        return;
    }
    bool admin = c->who->role == ROLE(ADMIN);
    if (*node) {
        if (!digits_ok(node, strlen(node)) || strlen(node) > 18) {
            call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node code (6 to 18 digits)", node);
            return;
        }
        if (!admin && !principal_covers(c->who, node)) {
            call_deny(c, node, "node %s is outside your scope %s (rule: %s lists inside its scope only)", node,
                      str0(c->who->scope), role_a(c->who->role));
            return;
        }
    } else if (!admin) {
        /* Several scopes (一员多格): scan from what they share, keep what
         * one of them covers. */
        node = c->who->n_extra_scopes ? principal_common_scope(c->who, c->a) : str0(c->who->scope);
        if (!*str0(c->who->scope)) {
            call_fail(c, CODE(FAILED_PRECONDITION), "principal %s has no scope", str0(c->who->name));
            return;
        }
    }
    bool reach_filter = !admin && !*str0(req->node) && c->who->n_extra_scopes > 0;
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;

    /* By state: the state's rows (by street, then ticket; one street's by
     * ticket), filtered by node. Newest first without a state: the cases
     * themselves (by ticket), filtered by node. Otherwise the node index,
     * whose prefix scan is the subtree. */
    bool desc = req->newest_first;
    uint8_t prefix[EVENT_STREET_MAX + 2];
    size_t plen;
    MDB_dbi dbi;
    if (req->state && strlen(node) >= 9) {
        /* A state inside one street: that street's rows of the state (by
         * ticket), not the whole city's. */
        char street[10];
        memcpy(street, node, 9);
        street[9] = 0;
        plen = event_state_key(prefix, req->state, street, "");
        dbi = c->st->ev_by_state;
    } else if (req->state) {
        prefix[0] = (uint8_t)req->state;
        plen = 1;
        dbi = c->st->ev_by_state;
    } else if (desc) {
        plen = 0;
        dbi = c->st->events;
    } else {
        plen = strlen(node);
        memcpy(prefix, node, plen);
        dbi = c->st->ev_by_node;
    }
    const uint8_t *start = prefix;
    size_t slen = plen;
    bool skip_equal = false, resume = false;
    const char *given = str0(req->cursor);
    if (*given) {
        /* A newest-first cursor is marked '-': one from the other order
         * is refused, not misread. */
        if (desc != (given[0] == '-') || !(start = hex_decode(c->a, given + desc, &slen)) || slen < plen ||
            memcmp(start, prefix, plen) != 0) {
            call_fail(c, CODE(INVALID_ARGUMENT), "cursor is not from this listing; start again without one");
            return;
        }
        skip_equal = resume = true;
    }

    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, dbi, &cur);
    if (rc) {
        call_store_fail(c, rc, "listing cases");
        return;
    }
    ptr_vec out = { 0 };
    const char *last_key = NULL;
    bool more = false;
    MDB_val k = { slen, (void *)start }, v;
    if (desc) {
        /* The last row before the cursor, or before the prefix's end (the
         * prefix with its last byte one up: a state's byte is 1 to 8). */
        uint8_t end[20];
        if (!resume && plen) {
            memcpy(end, prefix, plen);
            end[plen - 1]++;
            k.mv_data = end;
            k.mv_size = plen;
        }
        rc = resume || plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;
        rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
        skip_equal = false; /* strictly before the cursor already */
    } else
        rc = mdb_cursor_get(cur, &k, &v, slen ? MDB_SET_RANGE : MDB_FIRST);
    size_t seen = 0, prev_len = 0;
    uint8_t prev[512];
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, desc ? MDB_PREV : MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (dbi == c->st->events && memchr(k.mv_data, 0, k.mv_size)) {
            /* A timeline row (store.h: they follow their case's record).
             * Newest first, the case is the record just before its rows:
             * one seek back to it instead of a step per entry. */
            if (!desc)
                continue;
            const char *nul = memchr(k.mv_data, 0, k.mv_size);
            MDB_val tk = { (size_t)(nul - (const char *)k.mv_data),
                           arena_strndup(c->a, k.mv_data, (size_t)(nul - (const char *)k.mv_data)) };
            rc = mdb_cursor_get(cur, &tk, &v, MDB_SET_KEY);
            if (rc == MDB_NOTFOUND) {
                /* rows without their case (--check reports them): to
                 * the first of them, and on from the row before */
                k = tk;
                rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
                if (rc)
                    break;
                continue;
            }
            if (rc)
                break;
            k = tk;
        }
        if (skip_equal && k.mv_size == slen && memcmp(k.mv_data, start, slen) == 0)
            continue;
        /* A filter that matches little ends the page early, with a cursor
         * at the last row read, rather than walk the city on the loop
         * thread. */
        if (++seen > LIST_SCAN_MAX) {
            /* the cursor is the last row read: the next page starts at
             * this one, in either order */
            more = true;
            last_key = hex_encode(c->a, prev, prev_len);
            if (desc)
                last_key = arena_printf(c->a, "-%s", last_key);
            break;
        }
        if (k.mv_size <= sizeof prev) {
            memcpy(prev, k.mv_data, k.mv_size);
            prev_len = k.mv_size;
        }
        const char *kd = k.mv_data;
        const char *ticket;
        size_t tlen;
        if (dbi == c->st->events) {
            ticket = kd;
            tlen = k.mv_size;
        } else {
            /* state | street | '/' | ticket, or node | '/' | ticket */
            const char *slash = memchr(kd, '/', k.mv_size);
            if (!slash)
                continue;
            ticket = slash + 1;
            tlen = k.mv_size - (size_t)(slash + 1 - kd);
        }
        char *t = arena_strndup(c->a, ticket, tlen);
        Whistle__V1__Event *ev;
        int grc = store_get(c->txn, c->st->events, t, tlen, &whistle__v1__event__descriptor, c->a, (void **)&ev);
        if (grc == MDB_NOTFOUND)
            continue; /* an index row without its case: skip rather than fail the page */
        if (grc) {
            rc = grc;
            break;
        }
        if (dbi != c->st->ev_by_node && *node && !scope_covers(node, ev->node))
            continue;
        if (reach_filter && !principal_covers(c->who, ev->node))
            continue;
        if (!list_keeps(req, ev))
            continue;
        if (out.n == limit) {
            more = true;
            break;
        }
        /* Lists carry no phone numbers: whoever needs one opens the case
         * (get_event), and that read is audited. */
        Whistle__V1__Event *brief = event_for_reply(c, ev, false);
        brief->contact = (char *)"";
        ptr_vec_push(c->a, &out, brief);
        last_key = hex_encode(c->a, k.mv_data, k.mv_size);
        if (desc)
            last_key = arena_printf(c->a, "-%s", last_key);
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND && !more) {
        call_store_fail(c, rc, "listing cases");
        return;
    }
    Whistle__V1__EventList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__event_list__init(list);
    list->events = (Whistle__V1__Event **)out.items;
    list->n_events = out.n;
    if (more && last_key)
        list->next_cursor = (char *)last_key;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_EVENTS;
    c->resp->events = list;
}

/* ------------------------------------------------------------ the loop */

/* Loads the case for a change: role, body, existence and authority. */
static Whistle__V1__Event *load_for_change(call *c, const char *ticket, event_snap *snap)
{
    Whistle__V1__Event *ev;
    if (authz_check(c, str0(ticket)) || event_load(c, ticket, &ev, snap) || event_allow(c, ev))
        return NULL;
    return ev;
}

void event_file(call *c, const Whistle__V1__FileEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (ev->state != ST(REPORTED)) {
        event_wrong_state(c, ev, "reported");
        return;
    }
    ev->state = ST(FILED);
    event_timeline(c, ev, "file", req->note, 0, NULL);
    commit_change(c, ev, &snap, "file");
}

void event_reject(call *c, const Whistle__V1__RejectEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "reason", req->reason, NOTE_MAX, true))
        return;
    if (ev->state != ST(REPORTED)) {
        event_wrong_state(c, ev, "reported");
        return;
    }
    ev->state = ST(REJECTED);
    ev->reject_reason = (char *)str0(req->reason);
    event_timeline(c, ev, "reject", req->reason, 0, NULL);
    commit_change(c, ev, &snap, "reject");
}

void event_assign(call *c, const Whistle__V1__AssignEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    const char *to = str0(req->assignee);
    if (!*to) {
        call_fail(c, CODE(INVALID_ARGUMENT), "assignee is required: a grid or community worker's name");
        return;
    }
    if (!ident_ok(to, 64)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "assignee is not a principal's name (1 to 64 printable characters, no spaces)");
        return;
    }
    if (ev->state != ST(FILED)) {
        event_wrong_state(c, ev, "filed");
        return;
    }
    Whistle__V1__Principal *p = directory_principal_get(c->st, c->txn, to, c->a);
    if (!p) {
        call_fail(c, CODE(NOT_FOUND), "no principal named %s", to);
        return;
    }
    if (p->role != ROLE(GRID_WORKER) && p->role != ROLE(COMMUNITY)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s is %s; a case is assigned to a grid_worker or community", to,
                  role_a(p->role));
        return;
    }
    if (!p->enabled) {
        call_fail(c, CODE(FAILED_PRECONDITION), "principal %s is disabled", to);
        return;
    }
    if (!principal_covers(p, ev->node)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s works at %s, which does not cover case %s at %s", to, str0(p->scope),
                  ev->ticket, ev->node);
        return;
    }
    ev->state = ST(HANDLING);
    ev->assignee = (char *)to;
    const char *note =
        *str0(req->note) ? arena_printf(c->a, "to %s: %s", to, req->note) : arena_printf(c->a, "to %s", to);
    event_timeline(c, ev, "assign", note, 0, NULL);
    if (event_save(c, ev, &snap) || event_push(c, ev, "assign", NULL))
        return;
    const char *rs = event_reporter_stream(c, ev);
    const char *as = arena_printf(c->a, "principal:%s", to);
    if ((!rs || strcmp(rs, as) != 0) && event_push_to(c, as, ev, strcmp(to, ev->reporter) == 0, "assign", NULL))
        return;
    event_reply(c, ev);
}

void event_resolve(call *c, const Whistle__V1__ResolveEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, true))
        return;
    if (ev->state != ST(HANDLING)) {
        if (ev->state == ST(WHISTLED))
            call_fail(c, CODE(FAILED_PRECONDITION),
                      "case %s is whistled; it resolves when every department has fed back. Allowed now: %s",
                      ev->ticket, event_allowed_in(ev));
        else
            event_wrong_state(c, ev, "handling");
        return;
    }
    ev->state = ST(RESOLVED);
    ev->resolution = (char *)str0(req->note);
    event_timeline(c, ev, "resolve", req->note, 0, NULL);
    commit_change(c, ev, &snap, "resolve");
}

void event_verify(call *c, const Whistle__V1__VerifyEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, !req->pass))
        return;
    if (ev->state != ST(RESOLVED)) {
        event_wrong_state(c, ev, "resolved");
        return;
    }
    /* the photos taken on the spot, passed or not (the "after" beside the
     * report's "before") */
    photo_owner ow = { .ticket = ev->ticket };
    if (photo_attach(c, req->photos, req->n_photos, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_VERIFY, &ow, &ev->photos,
                     &ev->n_photos))
        return;
    if (req->pass) {
        ev->state = ST(VERIFIED);
        event_timeline(c, ev, "verify", req->note, 0, NULL);
        commit_change(c, ev, &snap, "verify");
        return;
    }
    /* Rework: back to whoever did the work. */
    ev->rework_count++;
    bool whistled = ev->n_order_ids > 0;
    ev->state = whistled ? ST(WHISTLED) : ST(HANDLING);
    event_timeline(c, ev, "verify", arena_printf(c->a, "failed: %s", req->note), 0, NULL);
    if (event_save(c, ev, &snap) || event_push(c, ev, "verify", NULL))
        return;
    if (whistled) {
        if (dispatch_rework(c, ev))
            return;
    } else if (*str0(ev->assignee)) {
        const char *as = arena_printf(c->a, "principal:%s", ev->assignee);
        if (event_push_to(c, as, ev, strcmp(ev->assignee, ev->reporter) == 0, "rework", NULL))
            return;
    }
    event_reply(c, ev);
}

void event_close(call *c, const Whistle__V1__CloseEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (ev->state != ST(VERIFIED)) {
        event_wrong_state(c, ev, "verified");
        return;
    }
    ev->state = ST(CLOSED);
    event_timeline(c, ev, "close", req->note, 0, NULL);
    commit_change(c, ev, &snap, "close");
}

void event_rate(call *c, const Whistle__V1__RateEvent *req)
{
    /* A kiosk rates for whoever stands at it: that resident proves the
     * ticket as for a look-up. The digits are not needed from the others,
     * who rate their own reports, but must still be well formed. */
    if (*str0(req->phone_last4) && !digits_ok(req->phone_last4, 4)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "phone_last4 must be the last 4 digits of the phone given at report");
        return;
    }
    if (c->who->role == ROLE(KIOSK)) {
        Whistle__V1__Event *proved;
        if (authz_check(c, str0(req->ticket)) || event_prove_ticket(c, req->ticket, str0(req->phone_last4), &proved))
            return;
    }
    event_snap snap;
    Whistle__V1__Event *ev = load_for_change(c, req->ticket, &snap);
    if (!ev || check_text(c, "comment", req->comment, COMMENT_MAX, false))
        return;
    if (req->score < 1 || req->score > 5) {
        call_fail(c, CODE(INVALID_ARGUMENT), "score %u is out of range: 1 (dissatisfied) to 5 (very satisfied)",
                  req->score);
        return;
    }
    if (ev->state != ST(CLOSED)) {
        event_wrong_state(c, ev, "closed");
        return;
    }
    if (ev->rating) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s is closed and already rated %u; a case is rated once",
                  ev->ticket, ev->rating);
        return;
    }
    ev->rating = req->score;
    ev->rating_comment = (char *)str0(req->comment);
    event_timeline(c, ev, "rate",
                   arena_printf(c->a, "%u/5%s%s", req->score, *str0(req->comment) ? ": " : "", str0(req->comment)), 0,
                   NULL);
    commit_change(c, ev, &snap, "rate");
}
