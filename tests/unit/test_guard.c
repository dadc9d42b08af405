/* test_guard.c: the limit on failed ticket look-ups (daemon/guard.c). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "guard.h"

#define MIN 60000LL

Test(guard, blocks_after_max_failures_until_the_oldest_leaves_the_window)
{
    guard *g = guard_new(3, 10 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-a", 0), 0);
    guard_fail(g, "kiosk-a", 0);
    guard_fail(g, "kiosk-a", 2 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-a", 2 * MIN), 0, "two failures of three: still allowed");
    guard_fail(g, "kiosk-a", 4 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-a", 4 * MIN), 6 * MIN, "blocked until the first failure is 10 min old");
    cr_assert_eq(guard_wait(g, "kiosk-a", 10 * MIN - 1), 1);
    cr_assert_eq(guard_wait(g, "kiosk-a", 10 * MIN), 0);
    /* a sliding window: one more failure now blocks until the second
     * failure (at 2 min) is 10 min old */
    guard_fail(g, "kiosk-a", 10 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-a", 10 * MIN), 2 * MIN);
    guard_free(g);
}

Test(guard, each_kiosk_has_its_own_count)
{
    guard *g = guard_new(2, 10 * MIN);
    guard_fail(g, "kiosk-a", 0);
    guard_fail(g, "kiosk-a", 0);
    cr_assert_gt(guard_wait(g, "kiosk-a", 0), 0);
    cr_assert_eq(guard_wait(g, "kiosk-b", 0), 0);
    guard_fail(g, "kiosk-b", 0);
    cr_assert_eq(guard_wait(g, "kiosk-b", 0), 0);
    guard_free(g);
}

Test(guard, quiet_entries_are_reused_and_counts_start_afresh)
{
    guard *g = guard_new(2, MIN);
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "kiosk-%d", i);
        guard_fail(g, name, (int64_t)i * 2 * MIN); /* each one's failure is old by the next */
    }
    /* kiosk-0's entry went to another kiosk: a new failure counts one, not two */
    guard_fail(g, "kiosk-0", 1000 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-0", 1000 * MIN), 0);
    guard_fail(g, "kiosk-0", 1000 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-0", 1000 * MIN), MIN);
    guard_free(g);
}

Test(guard, configure_changes_the_limits_and_forgets_the_counts)
{
    guard *g = guard_new(1, MIN);
    guard_fail(g, "kiosk-a", 0);
    cr_assert_gt(guard_wait(g, "kiosk-a", 0), 0);
    guard_configure(g, 2, 5 * MIN);
    cr_assert_eq(guard_wait(g, "kiosk-a", 0), 0);
    guard_fail(g, "kiosk-a", 0);
    guard_fail(g, "kiosk-a", 0);
    cr_assert_eq(guard_wait(g, "kiosk-a", MIN), 4 * MIN);
    guard_free(g);
}
