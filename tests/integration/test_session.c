/* libwhistle's reconnecting session (whistle/session.h) against a real
 * whistled: it comes back by itself when the connection goes away or the
 * daemon restarts, and subscribes again from the stream's acknowledged
 * cursor (DESIGN.md §3, Pushes: nothing is lost across disconnects or
 * restarts), so what was acknowledged never comes again and what was not
 * always does. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "harness.h"
#include "whistle/session.h"

#define MAX_PUSHES 64

typedef struct pushed {
    uint64_t seq;
    char ticket[32];
} pushed;

/* A program that follows its own stream, as the console does. */
typedef struct watcher {
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    whistle_session *s;
    char stream[160]; /* "": the principal's own (Hello's first stream) */
    int readies, lives, downs;
    int down_status;
    char why[512];
    bool close_on_down; /* stop at the first down (no reconnect) */
    pushed pushes[MAX_PUSHES];
    int n;
} watcher;

static daemon_h d;
static watcher w;
static char cert[512], key[512], ca[512];

static void teardown(void) { harness_cleanup(&d); }
TestSuite(session, .fini = teardown, .timeout = 120);

static void on_ready(whistle_session *s, const Whistle__V1__HelloResult *h, void *ud)
{
    watcher *x = ud;
    x->readies++;
    if (!*x->stream && h && h->n_streams)
        snprintf(x->stream, sizeof x->stream, "%s", h->streams[0]);
    cr_assert_eq(whistle_session_state_of(s), WHISTLE_SESSION_LOADING);
    cr_assert(whistle_session_conn(s), "no connection in on_ready");
    cr_assert_eq(whistle_session_subscribe(s, x->stream), 0);
}

static void on_live(whistle_session *s, void *ud)
{
    watcher *x = ud;
    cr_assert_eq(whistle_session_state_of(s), WHISTLE_SESSION_LIVE);
    x->lives++;
}

static void on_push(whistle_session *s, Whistle__V1__Push *p, void *ud)
{
    watcher *x = ud;
    (void)s;
    cr_assert_lt(x->n, MAX_PUSHES);
    x->pushes[x->n].seq = p->seq;
    snprintf(x->pushes[x->n].ticket, sizeof x->pushes[x->n].ticket, "%s", p->event ? p->event->ticket : "");
    x->n++;
    whistle_push_free(p);
}

static void on_down(whistle_session *s, int status, const char *why, void *ud)
{
    watcher *x = ud;
    x->downs++;
    x->down_status = status;
    snprintf(x->why, sizeof x->why, "%s", why);
    cr_assert_eq(whistle_session_state_of(s), WHISTLE_SESSION_OFFLINE);
    cr_assert_null(whistle_session_conn(s));
    if (x->close_on_down) {
        whistle_session_close(s);
        x->s = NULL;
    }
}

static void on_guard(uv_timer_t *t)
{
    watcher *x = t->data;
    x->timed_out = true;
}

/* Runs the loop until *count reaches target, or timeout_ms passed (the
 * bound of a wait, not an assertion on time). */
static bool run_until(const int *count, int target, int timeout_ms)
{
    w.timed_out = false;
    uv_timer_start(&w.guard, on_guard, (uint64_t)timeout_ms, 0);
    while (*count < target && !w.timed_out)
        uv_run(&w.loop, UV_RUN_ONCE);
    uv_timer_stop(&w.guard);
    return *count >= target;
}

static void watch_as(const char *name, const char *stream)
{
    memset(&w, 0, sizeof w);
    cr_assert_eq(uv_loop_init(&w.loop), 0);
    uv_timer_init(&w.loop, &w.guard);
    w.guard.data = &w;
    snprintf(w.stream, sizeof w.stream, "%s", stream ? stream : "");
    harness_cert(name, cert, sizeof cert, key, sizeof key);
    snprintf(ca, sizeof ca, "%s/ca.crt", harness_pki());
    whistle_opts o = { .host = "127.0.0.1",
                       .port = (uint16_t)d.port,
                       .ca_file = ca,
                       .cert_file = cert,
                       .key_file = key,
                       .client_name = "test_session" };
    whistle_session_cbs cbs = { on_ready, on_live, on_push, on_down };
    cr_assert_eq(whistle_session_open(&w.loop, &o, &cbs, &w, &w.s), 0);
}

/* Closes the session and runs the loop dry: the session must have freed
 * itself (LeakSanitizer says so) and left no handle behind. */
static void unwatch(void)
{
    whistle_session_close(w.s);
    w.s = NULL;
    uv_close((uv_handle_t *)&w.guard, NULL);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&w.loop), 0, "the session left a handle open");
}

static int find(const char *ticket, int from)
{
    for (int i = from; i < w.n; i++)
        if (strcmp(w.pushes[i].ticket, ticket) == 0)
            return i;
    return -1;
}

Test(session, resubscribes_from_the_acknowledged_cursor_after_the_connection_drops)
{
    harness_start(&d, NULL);
    whistle_client *grid = harness_connect(&d, "gridworker");
    watch_as("operator", NULL);
    cr_assert(run_until(&w.lives, 1, 15000), "the session never went live");
    cr_assert_str_eq(w.stream, "street:110105001");

    char *a = h_report(grid, FIRST_GRID, "0401", "session: acknowledged before the drop");
    char *b = h_report(grid, FIRST_GRID, "0401", "session: not acknowledged before the drop");
    int ia, ib;
    while ((ia = find(a, 0)) < 0 || (ib = find(b, 0)) < 0)
        cr_assert(run_until(&w.n, w.n + 1, 10000), "the reports were not pushed");
    uint64_t seq_a = w.pushes[ia].seq, seq_b = w.pushes[ib].seq;
    cr_assert_lt(seq_a, seq_b);
    cr_assert_geq(whistle_session_received(w.s), seq_b);

    cr_assert_eq(whistle_session_ack(w.s, seq_a), 0);
    cr_assert_eq(whistle_session_acked(w.s), seq_a);
    int before = w.n;
    whistle_session_drop(w.s); /* the ack is queued first: it reaches the daemon before the close */
    cr_assert(run_until(&w.lives, 2, 15000), "the session did not come back");
    cr_assert_eq(w.downs, 1);
    cr_assert_eq(w.readies, 2);
    cr_assert_eq(whistle_session_reconnects(w.s), 1);
    cr_assert_eq(whistle_session_acked(w.s), seq_a, "the new subscription starts from another cursor");

    /* the replay: B again, A never */
    while (find(b, before) < 0)
        cr_assert(run_until(&w.n, w.n + 1, 10000), "what was not acknowledged did not come again");
    cr_assert_eq(find(a, before), -1, "what was acknowledged came again");
    cr_assert_gt(w.pushes[before].seq, seq_a);
    cr_assert_eq(w.pushes[find(b, before)].seq, seq_b);

    /* and it is live again */
    char *c = h_report(grid, FIRST_GRID, "0401", "session: after the reconnect");
    while (find(c, before) < 0)
        cr_assert(run_until(&w.n, w.n + 1, 10000), "a push after the reconnect did not come");
    unwatch();
    whistle_close(grid);
    free(a);
    free(b);
    free(c);
}

Test(session, comes_back_after_the_daemon_restarts_and_replays_what_was_not_acknowledged)
{
    harness_start(&d, NULL);
    /* a restart must come back on the same port: the session knows only it */
    int port = d.port;
    snprintf(d.extra, sizeof d.extra, "[server]\nport = %d\n", port);
    whistle_client *grid = harness_connect(&d, "gridworker");
    char *a = h_report(grid, FIRST_GRID, "0401", "session: reported before the restart");
    whistle_close(grid);

    watch_as("operator", NULL);
    cr_assert(run_until(&w.lives, 1, 15000), "the session never went live");
    while (find(a, 0) < 0)
        cr_assert(run_until(&w.n, w.n + 1, 10000), "the report was not pushed");

    harness_stop(&d);
    cr_assert(run_until(&w.downs, 1, 15000), "the session did not notice the daemon going away");
    cr_assert_eq(whistle_session_state_of(w.s), WHISTLE_SESSION_OFFLINE);
    harness_restart(&d);
    cr_assert_eq(d.port, port, "the daemon came back on another port");

    int before = w.n;
    cr_assert(run_until(&w.lives, 2, 30000), "the session did not come back after the restart");
    cr_assert_geq(whistle_session_reconnects(w.s), 1);
    while (find(a, before) < 0)
        cr_assert(run_until(&w.n, w.n + 1, 10000), "what was not acknowledged was lost in the restart");

    grid = harness_connect(&d, "gridworker");
    char *b = h_report(grid, FIRST_GRID, "0401", "session: reported after the restart");
    while (find(b, before) < 0)
        cr_assert(run_until(&w.n, w.n + 1, 10000), "a push after the restart did not come");
    unwatch();
    whistle_close(grid);
    free(a);
    free(b);
}

Test(session, a_refused_subscription_drops_the_connection_and_says_why)
{
    harness_start(&d, NULL);
    watch_as("operator", "dept:police"); /* an operator does not follow a department's stream */
    w.close_on_down = true;
    cr_assert(run_until(&w.downs, 1, 15000), "the refusal did not bring the session down");
    cr_assert_eq(w.lives, 0);
    cr_assert_eq(w.down_status, WHISTLE_ERR_REFUSED);
    cr_assert(strstr(w.why, "subscribe dept:police: PERMISSION_DENIED"), "why: %s", w.why);
    unwatch();
}
