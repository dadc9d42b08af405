/* calendar.h: the working calendar and the deadline policy.
 *
 * Time limits come in minutes, hours, days, working hours or working days
 * (docs/deadlines.md). Working time is local time at a fixed UTC offset
 * (China keeps +08:00 all year, so no time zone database is needed), on
 * weekdays, minus the public holidays, plus the make-up workdays (调休)
 * that the config lists: [calendar] in conf/whistled.conf.
 *
 * The policy holds the calendar and the numbers the deadline engine and
 * the exception flow use ([deadline], [emergency]). It is read once at
 * start and never changes while the daemon runs, so the writer thread and
 * the loop thread read it without a lock. */
#ifndef WHISTLED_CALENDAR_H
#define WHISTLED_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whistle/v1/whistle.pb-c.h"

typedef struct calendar {
    int64_t utc_offset_ms;            /* local = UTC + offset */
    int work_start_min, work_end_min; /* the working day, minutes after local midnight */
    int32_t *holidays, *workdays;     /* local day numbers (days since 1970-01-01), sorted */
    size_t n_holidays, n_workdays;
} calendar;

typedef struct deadline_policy {
    calendar cal;
    uint32_t default_check_in_minutes; /* for a category without limits */
    uint32_t default_resolve_hours;
    uint32_t emergency_check_in_minutes; /* an emergency whistle's check-in at most this */
    uint32_t follow_up_hours;            /* after a missed resolve or stage deadline */
    uint32_t escalate_after;             /* misses of one order before the district hears */
    uint32_t max_misses;                 /* misses of one supervision after which no follow-up is set */
    uint32_t reopen_max_score;           /* a rating at or below this may reopen the case */
    char emergency_category[8];          /* the category of a one-key emergency call */
    char emergency_kiosk_category[8];    /* a kiosk's (F12: a resident's call for help), if the catalogue has it */
} deadline_policy;

/* The defaults (conf/whistled.conf shows them); holds no lists. */
extern const deadline_policy policy_default;
void policy_defaults(deadline_policy *p);
void policy_free(deadline_policy *p);
/* Sets one key of [calendar], [deadline] or [emergency]. Returns 0, -1
 * with err for people, or 1 when the section is not one of these. List keys
 * (holidays, workdays) add to what is there, so that a long list can be
 * split over indented continuation lines or repeated keys. */
int policy_set(deadline_policy *p, const char *section, const char *key, const char *value, char *err, size_t errlen);
/* Cross-key checks (the working day's end after its start). */
int policy_validate(const deadline_policy *p, char *err, size_t errlen);

/* The local day number of a time, and whether a day is a working day. */
int32_t calendar_day(const calendar *c, int64_t ms);
bool calendar_is_workday(const calendar *c, int32_t day);
/* Local midnight of a day number, as UTC ms. */
int64_t calendar_day_start(const calendar *c, int32_t day);

/* from_ms plus the limit, on the calendar. A limit of 0 or an unknown unit
 * gives 0 (no deadline). Working hours count only the time inside the
 * working day on working days; N working days end at the close of the Nth
 * working day after from_ms's local day. */
int64_t calendar_add(const calendar *c, int64_t from_ms, const Whistle__V1__TimeLimit *limit);

/* "2 working days", "30 minutes" (buf returned). */
const char *calendar_limit_text(const Whistle__V1__TimeLimit *limit, char *buf, size_t len);

/* Civil date of a day number, and back. */
void calendar_civil(int32_t day, int *y, int *m, int *d);
int32_t calendar_day_of(int y, int m, int d);
/* "YYYY-MM-DD" -> day number; -1 if malformed or not a date. */
int calendar_parse_date(const char *s, int32_t *day);

#endif
