/* test_calendar.c: the working calendar (calendar.c): limits in minutes,
 * hours, working hours and working days across weekends, public holidays
 * and make-up workdays; the config keys that set it; the bucket labels of
 * the statistics (ISO weeks at year ends). */
#include <criterion/criterion.h>
#include <string.h>

#include "calendar.h"
#include "stats_rows.h"

#define UNIT(u) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##u

static deadline_policy p;
static void setup(void) { policy_defaults(&p); }
static void teardown(void) { policy_free(&p); }
TestSuite(calendar, .init = setup, .fini = teardown);

/* Local time (UTC+8 by default) as UTC ms. */
static int64_t at(int y, int m, int d, int hh, int mm)
{
    return calendar_day_start(&p.cal, calendar_day_of(y, m, d)) + ((int64_t)hh * 60 + mm) * 60000;
}

static int64_t add(int64_t from, uint32_t n, Whistle__V1__TimeUnit u)
{
    Whistle__V1__TimeLimit l = WHISTLE__V1__TIME_LIMIT__INIT;
    l.amount = n;
    l.unit = u;
    return calendar_add(&p.cal, from, &l);
}

static void set(const char *section, const char *key, const char *value)
{
    char err[256] = "";
    cr_assert_eq(policy_set(&p, section, key, value, err, sizeof err), 0, "%s.%s = %s: %s", section, key, value, err);
}

Test(calendar, plain_minutes_and_hours_ignore_the_calendar)
{
    int64_t sat = at(2026, 11, 21, 16, 30);
    cr_assert_eq(add(sat, 30, UNIT(MINUTES)), sat + 30 * 60000);
    cr_assert_eq(add(sat, 24, UNIT(HOURS)), sat + 24 * 3600000LL);
    cr_assert_eq(add(sat, 0, UNIT(HOURS)), 0, "a limit of 0 is no deadline");
}

Test(calendar, weekdays_are_working_days)
{
    cr_assert(calendar_is_workday(&p.cal, calendar_day_of(2026, 11, 20)), "a Friday");
    cr_assert_not(calendar_is_workday(&p.cal, calendar_day_of(2026, 11, 21)), "a Saturday");
    cr_assert_not(calendar_is_workday(&p.cal, calendar_day_of(2026, 11, 22)), "a Sunday");
    cr_assert(calendar_is_workday(&p.cal, calendar_day_of(2026, 11, 23)), "a Monday");
}

Test(calendar, working_days_end_at_the_close_of_the_nth_working_day_after)
{
    /* Friday morning + 1 working day: Monday at the end of the working day. */
    cr_assert_eq(add(at(2026, 11, 20, 10, 0), 1, UNIT(WORKING_DAYS)), at(2026, 11, 23, 17, 0));
    /* From a Saturday the count starts on Monday. */
    cr_assert_eq(add(at(2026, 11, 21, 16, 30), 1, UNIT(WORKING_DAYS)), at(2026, 11, 23, 17, 0));
    cr_assert_eq(add(at(2026, 11, 20, 10, 0), 7, UNIT(WORKING_DAYS)), at(2026, 12, 1, 17, 0));
}

Test(calendar, holidays_and_make_up_workdays)
{
    /* National Day 2026: 1-7 October off, Sunday 27 September worked. */
    set("calendar", "holidays", "2026-10-01..2026-10-07");
    set("calendar", "workdays", "2026-09-27, 2026-10-10");
    char err[256];
    cr_assert_eq(policy_validate(&p, err, sizeof err), 0, "%s", err);
    cr_assert(calendar_is_workday(&p.cal, calendar_day_of(2026, 9, 27)), "the make-up Sunday is worked");
    cr_assert_not(calendar_is_workday(&p.cal, calendar_day_of(2026, 10, 5)), "a Monday in the holiday");
    /* Wednesday 30 September + 1 working day: the holiday and its weekend
     * are skipped; Thursday 8 October is the next working day. */
    cr_assert_eq(add(at(2026, 9, 30, 12, 0), 1, UNIT(WORKING_DAYS)), at(2026, 10, 8, 17, 0));
    /* Saturday 26 September + 1 working day: the make-up Sunday. */
    cr_assert_eq(add(at(2026, 9, 26, 12, 0), 1, UNIT(WORKING_DAYS)), at(2026, 9, 27, 17, 0));
}

Test(calendar, working_hours_count_only_the_working_day)
{
    /* Friday 16:00 + 4 working hours: 1 on Friday, 3 on Monday. */
    cr_assert_eq(add(at(2026, 11, 20, 16, 0), 4, UNIT(WORKING_HOURS)), at(2026, 11, 23, 12, 0));
    /* Before the working day starts: counted from 09:00. */
    cr_assert_eq(add(at(2026, 11, 23, 7, 0), 2, UNIT(WORKING_HOURS)), at(2026, 11, 23, 11, 0));
    /* Ending exactly at the close. */
    cr_assert_eq(add(at(2026, 11, 23, 9, 0), 8, UNIT(WORKING_HOURS)), at(2026, 11, 23, 17, 0));
    /* After the close: the next working day. */
    cr_assert_eq(add(at(2026, 11, 23, 18, 0), 1, UNIT(WORKING_HOURS)), at(2026, 11, 24, 10, 0));
}

Test(calendar, working_day_and_offset_are_configurable)
{
    set("calendar", "utc_offset", "+00:00");
    set("calendar", "workday_start", "08:30");
    set("calendar", "workday_end", "17:30");
    int64_t fri = at(2026, 11, 20, 17, 0);
    cr_assert_eq(add(fri, 1, UNIT(WORKING_HOURS)), at(2026, 11, 23, 9, 0));
    cr_assert_eq(fri, (int64_t)calendar_day_of(2026, 11, 20) * 86400000LL + 17 * 3600000LL, "UTC now");
}

Test(calendar, bad_config_values_are_refused_with_a_reason)
{
    char err[256];
    cr_assert_eq(policy_set(&p, "calendar", "holidays", "2026-02-30", err, sizeof err), -1);
    cr_assert(strstr(err, "2026-02-30"), "%s", err);
    cr_assert_eq(policy_set(&p, "calendar", "holidays", "2026-10-07..2026-10-01", err, sizeof err), -1);
    cr_assert_eq(policy_set(&p, "calendar", "utc_offset", "8", err, sizeof err), -1);
    cr_assert(strstr(err, "+HH:MM"), "%s", err);
    cr_assert_eq(policy_set(&p, "calendar", "workday_start", "25:00", err, sizeof err), -1);
    cr_assert_eq(policy_set(&p, "deadline", "escalate_after", "0", err, sizeof err), -1);
    cr_assert(strstr(err, "1 to 100"), "%s", err);
    cr_assert_eq(policy_set(&p, "emergency", "category", "05", err, sizeof err), -1);
    cr_assert_eq(policy_set(&p, "calendar", "nope", "1", err, sizeof err), -1);
    cr_assert_eq(policy_set(&p, "server", "port", "1", err, sizeof err), 1, "not a policy section");
    set("calendar", "holidays", "2026-10-01");
    set("calendar", "workdays", "2026-10-01");
    cr_assert_eq(policy_validate(&p, err, sizeof err), -1);
    cr_assert(strstr(err, "both"), "%s", err);
    set("calendar", "workday_end", "08:00");
    cr_assert_eq(policy_validate(&p, err, sizeof err), -1);
}

Test(calendar, lists_add_up_over_continuation_lines)
{
    set("calendar", "holidays", "2026-01-01");
    set("calendar", "holidays", "2026-02-16..2026-02-18 2026-05-01");
    cr_assert_eq(p.cal.n_holidays, 5);
    cr_assert_not(calendar_is_workday(&p.cal, calendar_day_of(2026, 2, 17)));
}

Test(calendar, statistics_buckets_use_iso_weeks_and_local_dates)
{
    char b[3][16];
    /* 2026-01-01 is a Thursday: ISO week 1 of 2026. 00:30 local is still
     * 31 December in UTC: the local date counts. */
    stats_buckets(NULL, at(2026, 1, 1, 0, 30), b);
    cr_assert_str_eq(b[0], "D2026-01-01");
    cr_assert_str_eq(b[1], "W2026-W01");
    cr_assert_str_eq(b[2], "M2026-01");
    stats_buckets(NULL, at(2027, 1, 1, 12, 0), b);
    cr_assert_str_eq(b[1], "W2026-W53", "Friday 1 January 2027 is in 2026's week 53");
    stats_buckets(NULL, at(2024, 12, 30, 12, 0), b);
    cr_assert_str_eq(b[1], "W2025-W01", "Monday 30 December 2024 is in 2025's week 1");
    cr_assert_str_eq(b[2], "M2024-12");
}

Test(calendar, calendar_days_run_day_and_night)
{
    int64_t sat = at(2026, 11, 21, 16, 30);
    cr_assert_eq(add(sat, 3, UNIT(DAYS)), sat + 3 * 86400000LL);
    Whistle__V1__TimeLimit l = WHISTLE__V1__TIME_LIMIT__INIT;
    l.amount = 7;
    l.unit = UNIT(WORKING_DAYS);
    char buf[64];
    cr_assert_str_eq(calendar_limit_text(&l, buf, sizeof buf), "7 working days");
    l.amount = 1;
    l.unit = UNIT(DAYS);
    cr_assert_str_eq(calendar_limit_text(&l, buf, sizeof buf), "1 day");
}
