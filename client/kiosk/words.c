/* words.c: what the kiosk says, in plain words for a resident: the state
 * of a case, each entry of its timeline, time limits, and the rules of
 * the numbers a resident types (ticket, phone). No ncurses here: the unit
 * test tests/unit/test_kiosk_words.c runs these functions as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiosk.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define TU(s) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##s

const char *words_state(Whistle__V1__EventState s)
{
    switch (s) {
    case ES(REPORTED): return _("received; the street's command center will review it");
    case ES(FILED): return _("accepted; it is being arranged");
    case ES(REJECTED): return _("not taken up");
    case ES(HANDLING): return _("being handled by the community");
    case ES(WHISTLED): return _("the departments are handling it");
    case ES(RESOLVED): return _("handled; waiting for an on-the-spot check");
    case ES(VERIFIED): return _("checked on the spot; about to be closed");
    case ES(CLOSED): return _("closed");
    default: return _("being processed");
    }
}

/* The sentence of a timeline action. The notes that staff write are kept
 * to themselves, except the answers a resident is owed: why a case was
 * not taken up, what the department or the worker did, and the case a
 * duplicate was joined to. */
void words_timeline(const Whistle__V1__TimelineEntry *t, const char *dept, char *out, size_t len)
{
    const char *a = t->action ? t->action : "";
    const char *note = t->note ? t->note : "";
    bool has_dept = dept && *dept;
    if (!has_dept)
        dept = _("a department");
    if (strcmp(a, "report") == 0)
        snprintf(out, len, "%s", _("the problem was reported"));
    else if (strcmp(a, "file") == 0)
        snprintf(out, len, "%s", _("the street's command center accepted the case"));
    else if (strcmp(a, "reject") == 0)
        snprintf(out, len, *note ? _("not taken up: %s") : "%s", *note ? note : _("not taken up"));
    else if (strcmp(a, "assign") == 0)
        snprintf(out, len, "%s", _("handed to the grid or community worker"));
    else if (strcmp(a, "resolve") == 0)
        snprintf(out, len, *note ? _("handled by the community: %s") : "%s",
                 *note ? note : _("handled by the community"));
    else if (strcmp(a, "whistle") == 0)
        snprintf(out, len, "%s", _("the street called in the departments (whistle)"));
    else if (strcmp(a, "dispatch") == 0)
        snprintf(out, len, _("%s was sent the case"), dept);
    else if (strcmp(a, "check_in") == 0)
        snprintf(out, len, _("%s checked in"), dept);
    else if (strcmp(a, "feedback") == 0)
        snprintf(out, len, *note ? _("%s reported what it did: %s") : _("%s reported what it did"), dept, note);
    else if (strcmp(a, "return") == 0)
        snprintf(out, len, _("%s handed it back; it goes to the right department"), dept);
    else if (strcmp(a, "resolved") == 0)
        snprintf(out, len, "%s", _("every department has finished"));
    else if (strcmp(a, "verify") == 0)
        snprintf(out, len, "%s",
                 strncmp(note, "failed", 6) == 0 ? _("checked on the spot: not fixed yet; it goes back for more work")
                                                 : _("checked on the spot: fixed"));
    else if (strcmp(a, "close") == 0)
        snprintf(out, len, "%s", _("the case was closed"));
    else if (strcmp(a, "rate") == 0) {
        unsigned score = (unsigned)atoi(note);
        if (score >= 1 && score <= 5)
            snprintf(out, len, _("rated %u of 5"), score);
        else
            snprintf(out, len, "%s", _("rated"));
    } else if (strcmp(a, "reopen") == 0)
        snprintf(out, len, "%s", _("taken up again after a dissatisfied rating"));
    else if (strcmp(a, "merge") == 0) {
        /* On the duplicate: "duplicate of E..."; on the earlier case: "E... merged in". */
        if (strncmp(note, "duplicate of ", 13) == 0) {
            char ticket[24];
            snprintf(ticket, sizeof ticket, "%.14s", note + 13);
            snprintf(out, len, _("joined to the earlier report %s of the same problem"), ticket);
        } else
            snprintf(out, len, "%s", _("a report of the same problem was joined to this case"));
    } else if (strcmp(a, "park") == 0)
        snprintf(out, len, "%s", _("put on the list of problems that cannot be solved at once"));
    else if (strcmp(a, "unpark") == 0)
        snprintf(out, len, "%s", _("taken up again"));
    else if (strcmp(a, "extension_request") == 0)
        snprintf(out, len, _("%s asked for more time"), dept);
    else if (strcmp(a, "extension_approved") == 0)
        snprintf(out, len, _("%s was given more time"), dept);
    else if (strcmp(a, "extension_refused") == 0)
        snprintf(out, len, _("%s was not given more time"), dept);
    else if (strcmp(a, "stage") == 0)
        snprintf(out, len, _("%s finished a stage of the work"), dept);
    else if (strcmp(a, "overdue") == 0)
        snprintf(out, len, has_dept ? _("%s is late; the street is pressing it") : "%s",
                 has_dept ? dept : _("past its due time; the street is following it up"));
    else if (strcmp(a, "escalate") == 0)
        snprintf(out, len, _("%s is late again; the district is following it up"), dept);
    else if (strcmp(a, "transfer_out") == 0) {
        /* "to district 110106: why": the district's code, not the why */
        char code[8] = "";
        if (strncmp(note, "to district ", 12) == 0)
            snprintf(code, sizeof code, "%.6s", note + 12);
        snprintf(out, len, *code ? _("handed over to district %s, which handles it from now on") : "%s",
                 *code ? code : _("handed over to the district where the problem is"));
    } else if (strcmp(a, "transfer_in") == 0)
        snprintf(out, len, "%s", _("received from another district, where it was reported first"));
    else if (strcmp(a, "city_supervise") == 0)
        snprintf(out, len, "%s", _("the city is following it up"));
    else
        snprintf(out, len, "%s", _("the case was updated"));
}

void words_limit(const Whistle__V1__TimeLimit *t, char *out, size_t len)
{
    out[0] = 0;
    if (!t || !t->amount)
        return;
    unsigned n = t->amount;
    switch (t->unit) {
    case TU(MINUTES):
        if (n % 60 == 0)
            snprintf(out, len, ngettext("%u hour", "%u hours", n / 60), n / 60);
        else
            snprintf(out, len, ngettext("%u minute", "%u minutes", n), n);
        break;
    case TU(HOURS):
        if (n >= 48 && n % 24 == 0)
            snprintf(out, len, ngettext("%u day", "%u days", n / 24), n / 24);
        else
            snprintf(out, len, ngettext("%u hour", "%u hours", n), n);
        break;
    case TU(DAYS): snprintf(out, len, ngettext("%u day", "%u days", n), n); break;
    case TU(WORKING_HOURS): snprintf(out, len, ngettext("%u working hour", "%u working hours", n), n); break;
    case TU(WORKING_DAYS): snprintf(out, len, ngettext("%u working day", "%u working days", n), n); break;
    default: break;
    }
}

void words_category_limits(const Whistle__V1__Category *c, Whistle__V1__TimeLimit *check_in,
                           Whistle__V1__TimeLimit *resolve)
{
    whistle__v1__time_limit__init(check_in);
    whistle__v1__time_limit__init(resolve);
    if (!c)
        return;
    const Whistle__V1__PriorityLimits *normal = NULL, *dflt = NULL;
    for (size_t i = 0; i < c->n_limits; i++) {
        const Whistle__V1__PriorityLimits *p = c->limits[i];
        if (p->priority == WHISTLE__V1__PRIORITY__PRIORITY_NORMAL)
            normal = p;
        else if (p->priority == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED)
            dflt = p;
    }
    /* each limit on its own: the normal priority's, else the default's */
    const Whistle__V1__PriorityLimits *from[] = { normal, dflt };
    for (size_t i = 0; i < 2; i++) {
        if (!from[i])
            continue;
        if (!check_in->amount && from[i]->check_in && from[i]->check_in->amount)
            *check_in = *from[i]->check_in;
        if (!resolve->amount && from[i]->resolve && from[i]->resolve->amount)
            *resolve = *from[i]->resolve;
    }
    if (!check_in->amount && c->check_in_minutes) {
        check_in->amount = c->check_in_minutes;
        check_in->unit = TU(MINUTES);
    }
    if (!resolve->amount && c->resolve_hours) {
        resolve->amount = c->resolve_hours;
        resolve->unit = TU(HOURS);
    }
}

void words_when(int64_t at_ms, int64_t now_ms, char *out, size_t len)
{
    time_t at = (time_t)(at_ms / 1000), now = (time_t)(now_ms / 1000);
    struct tm a, n;
    localtime_r(&at, &a);
    localtime_r(&now, &n);
    bool today = a.tm_year == n.tm_year && a.tm_yday == n.tm_yday;
    strftime(out, len, today ? "%H:%M" : a.tm_year == n.tm_year ? "%m-%d %H:%M" : "%Y-%m-%d %H:%M", &a);
}

int words_ticket(const char *typed, char *out, size_t len)
{
    char t[32];
    size_t n = 0;
    for (const char *p = typed; p && *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (n + 1 >= sizeof t)
            return -1;
        t[n++] = *p == 'e' ? 'E' : *p;
    }
    t[n] = 0;
    const char *digits = t[0] == 'E' ? t + 1 : t;
    if (strlen(digits) != 13 || len < 15)
        return -1;
    for (const char *p = digits; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    snprintf(out, len, "E%s", digits);
    return 0;
}

const char *words_phone_problem(const char *digits)
{
    size_t n = strlen(digits);
    for (size_t i = 0; i < n; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return _("A phone number has digits only.");
    if (n == 0)
        return "";
    /* a mobile: 11 digits, starting with 1; a landline with its area code
     * (0...), 10 to 12 digits; a local landline, 7 or 8 digits */
    if (digits[0] == '1')
        return n == 11 ? "" : _("A mobile number has 11 digits. Please check it.");
    if (digits[0] == '0')
        return n >= 10 && n <= 12 ? "" : _("A landline with its area code has 10 to 12 digits. Please check it.");
    return n == 7 || n == 8 ? "" : _("A landline has 7 or 8 digits. Please check it.");
}

void words_mask_phone(const char *digits, char *out, size_t len)
{
    size_t n = strlen(digits);
    if (n < 7) {
        snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), "****************");
        return;
    }
    /* the first 3 and the last 4 show, as Chinese services print a phone */
    size_t hide = n - 7;
    snprintf(out, len, "%.3s%.*s%s", digits, (int)hide, "****************", digits + n - 4);
}

/* Closing marks that must not start a line, opening ones that must not end one. */
static bool closing_mark(wchar_t c) { return c && wcschr(L"，。、；：？！）」』》〉】”’,.;:?!)]}%…", c) != NULL; }
static bool opening_mark(wchar_t c) { return c && wcschr(L"（「『《〈【“‘([{", c) != NULL; }

int words_wrap(const char *s, int width, void (*emit)(void *ud, const char *line, int n), void *ud)
{
    int lines = 0;
    if (width < 2)
        width = 2;
    if (!s)
        s = "";
    char *buf = malloc(strlen(s) + 1);
    if (!buf)
        return 0;
    while (true) {
        /* one paragraph: up to '\n' or the end */
        const char *end = strchr(s, '\n');
        size_t plen = end ? (size_t)(end - s) : strlen(s);
        memcpy(buf, s, plen);
        buf[plen] = 0;
        const char *p = buf;
        if (!*p) {
            if (emit)
                emit(ud, "", lines);
            lines++;
        }
        while (*p) {
            /* take characters while they fit; remember the last place to break */
            mbstate_t st;
            memset(&st, 0, sizeof st);
            const char *q = p, *brk = NULL, *resume = NULL;
            int w = 0, cw;
            wchar_t wc, prev = 0;
            size_t n;
            while ((n = uitext_next(q, &st, &wc, &cw))) {
                if (w + cw > width)
                    break;
                if (wc == L' ') {
                    brk = q;
                    resume = q + n;
                } else if (q != p && (cw == 2 || wcwidth(prev) == 2) && !closing_mark(wc) && !opening_mark(prev)) {
                    brk = q;
                    resume = q;
                }
                w += cw;
                prev = wc;
                q += n;
            }
            const char *cut, *next;
            if (!n) { /* the rest fits */
                cut = q;
                next = q;
            } else if (brk && brk > p) {
                cut = brk;
                next = resume;
            } else { /* one word longer than the line: cut it */
                cut = q > p ? q : q + n;
                next = cut;
            }
            char line[1024];
            size_t ll = (size_t)(cut - p) < sizeof line - 1 ? (size_t)(cut - p) : sizeof line - 1;
            memcpy(line, p, ll);
            while (ll && line[ll - 1] == ' ')
                ll--;
            line[ll] = 0;
            if (emit)
                emit(ud, line, lines);
            lines++;
            p = next;
            while (*p == ' ')
                p++;
        }
        if (!end)
            break;
        s = end + 1;
    }
    free(buf);
    return lines;
}
