/* Idle connections (docs/performance.md): a connection quiet for a few
 * seconds gives its frame buffer and TLS buffers back to the daemon; it
 * must work exactly as before when it speaks again, in both directions. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(idle_conns, .init = setup, .fini = teardown, .timeout = 60);

Test(idle_conns, a_connection_that_went_quiet_still_reads_writes_and_receives_pushes)
{
    whistle_client *police = harness_connect(&d, "police");
    h_subscribe(police, -1);
    whistle_client *op = harness_connect(&d, "operator");
    char *t = h_report(op, FIRST_GRID, "0401", "stall before the quiet");
    /* longer than the daemon's trim interval (2 s, checked every second) */
    sleep(4);
    whistle_response_free(h_simple(op, WHISTLE__V1__REQUEST__CALL_FILE, t, "filed after the quiet"));
    const char *depts[] = { "police" };
    whistle_response_free(h_whistle(op, t, depts, 1));
    Whistle__V1__Push *p = h_wait_push(police, "dispatch", 10000);
    cr_assert_not_null(p, "the quiet subscriber still gets its dispatch");
    cr_expect_str_eq(p->event->ticket, t);
    whistle_push_free(p);
    Whistle__V1__Response *keep;
    Whistle__V1__Event *ev = h_get(op, t, &keep);
    cr_expect_eq(ev->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_WHISTLED);
    whistle_response_free(keep);
    free(t);
    whistle_close(op);
    whistle_close(police);
}
