/* calendar.c: see calendar.h. */
#include "calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define MIN_MS 60000LL
/* No limit runs longer than this many days of calendar: bounds the walks
 * below even on a calendar whose every day is a holiday. */
#define WALK_DAYS (366 * 20)

/* ------------------------------------------------------------ civil dates */

/* Howard Hinnant's days_from_civil / civil_from_days (public domain). */
int32_t calendar_day_of(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void calendar_civil(int32_t z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

int calendar_parse_date(const char *s, int32_t *day)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int32_t z = calendar_day_of(y, m, d);
    int y2, m2, d2;
    calendar_civil(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return -1; /* 2026-02-30 */
    *day = z;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int32_t calendar_day(const calendar *c, int64_t ms) { return (int32_t)floor_div(ms + c->utc_offset_ms, DAY_MS); }

int64_t calendar_day_start(const calendar *c, int32_t day) { return (int64_t)day * DAY_MS - c->utc_offset_ms; }

static bool in_list(const int32_t *v, size_t n, int32_t day)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] == day)
            return true;
        if (v[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool calendar_is_workday(const calendar *c, int32_t day)
{
    if (in_list(c->workdays, c->n_workdays, day))
        return true; /* a make-up workday (调休), even on a weekend */
    if (in_list(c->holidays, c->n_holidays, day))
        return false;
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    return wd >= 1 && wd <= 5;
}

/* ------------------------------------------------------------ arithmetic */

int64_t calendar_add(const calendar *c, int64_t from, const Whistle__V1__TimeLimit *l)
{
    if (!l || l->amount == 0)
        return 0;
    int64_t n = l->amount;
    switch (l->unit) {
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES: return from + n * MIN_MS;
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS: return from + n * 60 * MIN_MS;
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS: return from + n * DAY_MS;
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS: {
        int32_t d = calendar_day(c, from);
        int64_t counted = 0;
        for (int i = 0; i < WALK_DAYS && counted < n; i++) {
            d++;
            if (calendar_is_workday(c, d))
                counted++;
        }
        return calendar_day_start(c, d) + (int64_t)c->work_end_min * MIN_MS;
    }
    case WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS: {
        int64_t left = n * 60 * MIN_MS, t = from;
        int32_t d = calendar_day(c, t);
        for (int i = 0; i < WALK_DAYS; i++, d++) {
            if (calendar_is_workday(c, d)) {
                int64_t ws = calendar_day_start(c, d) + (int64_t)c->work_start_min * MIN_MS;
                int64_t we = calendar_day_start(c, d) + (int64_t)c->work_end_min * MIN_MS;
                if (t < ws)
                    t = ws;
                if (t < we) {
                    int64_t take = we - t < left ? we - t : left;
                    t += take;
                    left -= take;
                    if (left == 0)
                        return t;
                }
            }
            t = calendar_day_start(c, d + 1);
        }
        return t;
    }
    default: return 0;
    }
}

const char *calendar_limit_text(const Whistle__V1__TimeLimit *l, char *buf, size_t len)
{
    static const char *const units[] = { "?", "minute", "hour", "day", "working hour", "working day" };
    unsigned u = l && (unsigned)l->unit < 6 ? (unsigned)l->unit : 0;
    unsigned n = l ? l->amount : 0;
    snprintf(buf, len, "%u %s%s", n, units[u], n == 1 ? "" : "s");
    return buf;
}

/* ------------------------------------------------------------ policy */

const deadline_policy policy_default = {
    .cal = { .utc_offset_ms = 8 * 3600 * 1000LL, .work_start_min = 9 * 60, .work_end_min = 17 * 60 },
    .default_check_in_minutes = 120,
    .default_resolve_hours = 168,
    .emergency_check_in_minutes = 30,
    .follow_up_hours = 24,
    .escalate_after = 2,
    .max_misses = 5,
    .reopen_max_score = 2,
    .emergency_category = "0507",
    .emergency_kiosk_category = "0509",
};

void policy_defaults(deadline_policy *p) { *p = policy_default; }

void policy_free(deadline_policy *p)
{
    free(p->cal.holidays);
    free(p->cal.workdays);
    p->cal.holidays = p->cal.workdays = NULL;
    p->cal.n_holidays = p->cal.n_workdays = 0;
}

static int cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int add_days(int32_t **v, size_t *n, int32_t from, int32_t to)
{
    size_t add = (size_t)(to - from + 1);
    int32_t *nv = realloc(*v, (*n + add) * sizeof *nv);
    if (!nv)
        return -1;
    for (int32_t d = from; d <= to; d++)
        if (!in_list(nv, *n, d))
            nv[(*n)++] = d;
    qsort(nv, *n, sizeof *nv, cmp_day);
    *v = nv;
    return 0;
}

/* "2026-10-01, 2026-10-02..2026-10-07 2026-12-31": dates and inclusive
 * ranges, separated by commas or spaces. */
static int parse_days(const char *key, const char *value, int32_t **v, size_t *n, char *err, size_t errlen)
{
    char *copy = strdup(value), *save = NULL;
    if (!copy) {
        snprintf(err, errlen, "calendar.%s: out of memory", key);
        return -1;
    }
    int rc = 0;
    for (char *tok = strtok_r(copy, ", \t", &save); tok && !rc; tok = strtok_r(NULL, ", \t", &save)) {
        int32_t a, b;
        char *dots = strstr(tok, "..");
        if (dots) {
            *dots = 0;
            if (calendar_parse_date(tok, &a) || calendar_parse_date(dots + 2, &b) || b < a || b - a > 366) {
                snprintf(err, errlen,
                         "calendar.%s: \"%s..%s\" is not a range of dates (YYYY-MM-DD..YYYY-MM-DD, first "
                         "before last, at most a year)",
                         key, tok, dots + 2);
                rc = -1;
            }
        } else if (calendar_parse_date(tok, &a)) {
            snprintf(err, errlen, "calendar.%s: \"%s\" is not a date (YYYY-MM-DD, or a range A..B)", key, tok);
            rc = -1;
        } else {
            b = a;
        }
        if (!rc && add_days(v, n, a, b)) {
            snprintf(err, errlen, "calendar.%s: out of memory", key);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

static int parse_hhmm(const char *s, int *minutes)
{
    int h, m, n = 0;
    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != (int)strlen(s) || h < 0 || h > 24 || m < 0 || m > 59 ||
        (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

static int parse_uint(const char *v, unsigned long lo, unsigned long hi, uint32_t *out)
{
    if (!*v)
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    unsigned long n = strtoul(v, NULL, 10);
    if (errno || n < lo || n > hi)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

int policy_set(deadline_policy *p, const char *section, const char *key, const char *value, char *err, size_t errlen)
{
    if (strcmp(section, "calendar") == 0) {
        if (strcmp(key, "utc_offset") == 0) {
            int h, m, n = 0;
            char sign = value[0];
            if ((sign != '+' && sign != '-') || sscanf(value + 1, "%2d:%2d%n", &h, &m, &n) != 2 ||
                n != (int)strlen(value + 1) || h > 14 || m > 59) {
                snprintf(err, errlen, "calendar.utc_offset = \"%s\": expected +HH:MM or -HH:MM (China: +08:00)", value);
                return -1;
            }
            p->cal.utc_offset_ms = (sign == '-' ? -1 : 1) * ((int64_t)h * 60 + m) * MIN_MS;
            return 0;
        }
        if (strcmp(key, "workday_start") == 0 || strcmp(key, "workday_end") == 0) {
            int mins;
            if (parse_hhmm(value, &mins)) {
                snprintf(err, errlen, "calendar.%s = \"%s\": expected HH:MM, 00:00 to 24:00", key, value);
                return -1;
            }
            if (key[8] == 's')
                p->cal.work_start_min = mins;
            else
                p->cal.work_end_min = mins;
            return 0;
        }
        if (strcmp(key, "holidays") == 0)
            return parse_days(key, value, &p->cal.holidays, &p->cal.n_holidays, err, errlen);
        if (strcmp(key, "workdays") == 0)
            return parse_days(key, value, &p->cal.workdays, &p->cal.n_workdays, err, errlen);
        snprintf(err, errlen, "unknown key calendar.%s (utc_offset, workday_start, workday_end, holidays, workdays)",
                 key);
        return -1;
    }
    if (strcmp(section, "deadline") == 0) {
        static const struct {
            const char *key;
            unsigned long lo, hi;
            size_t off;
        } nums[] = {
            { "default_check_in_minutes", 0, 7 * 24 * 60, offsetof(deadline_policy, default_check_in_minutes) },
            { "default_resolve_hours", 0, 366 * 24, offsetof(deadline_policy, default_resolve_hours) },
            { "emergency_check_in_minutes", 1, 24 * 60, offsetof(deadline_policy, emergency_check_in_minutes) },
            { "follow_up_hours", 1, 366 * 24, offsetof(deadline_policy, follow_up_hours) },
            { "escalate_after", 1, 100, offsetof(deadline_policy, escalate_after) },
            { "max_misses", 1, 100, offsetof(deadline_policy, max_misses) },
            { "reopen_max_score", 0, 5, offsetof(deadline_policy, reopen_max_score) },
        };
        for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
            if (strcmp(key, nums[i].key) != 0)
                continue;
            if (parse_uint(value, nums[i].lo, nums[i].hi, (uint32_t *)((char *)p + nums[i].off))) {
                snprintf(err, errlen, "deadline.%s = \"%s\": expected a whole number from %lu to %lu", key, value,
                         nums[i].lo, nums[i].hi);
                return -1;
            }
            return 0;
        }
        snprintf(err, errlen, "unknown key deadline.%s (conf/whistled.conf lists every key)", key);
        return -1;
    }
    if (strcmp(section, "emergency") == 0) {
        bool kiosk = strcmp(key, "kiosk_category") == 0;
        if (strcmp(key, "category") == 0 || kiosk) {
            bool ok = strlen(value) == 4;
            for (size_t i = 0; ok && i < 4; i++)
                ok = value[i] >= '0' && value[i] <= '9';
            if (!ok) {
                snprintf(err, errlen, "emergency.%s = \"%s\": expected a 4-digit minor class (e.g. 0507)", key, value);
                return -1;
            }
            char *to = kiosk ? p->emergency_kiosk_category : p->emergency_category;
            snprintf(to, sizeof p->emergency_category, "%s", value);
            return 0;
        }
        snprintf(err, errlen, "unknown key emergency.%s (category, kiosk_category)", key);
        return -1;
    }
    return 1;
}

int policy_validate(const deadline_policy *p, char *err, size_t errlen)
{
    if (p->cal.work_end_min <= p->cal.work_start_min) {
        snprintf(err, errlen, "calendar.workday_end must be after calendar.workday_start");
        return -1;
    }
    for (size_t i = 0; i < p->cal.n_workdays; i++)
        if (in_list(p->cal.holidays, p->cal.n_holidays, p->cal.workdays[i])) {
            int y, m, d;
            calendar_civil(p->cal.workdays[i], &y, &m, &d);
            snprintf(err, errlen, "calendar: %04d-%02d-%02d is listed both in holidays and in workdays", y, m, d);
            return -1;
        }
    return 0;
}
