/* The kiosk's privacy rules against a real whistled (issue 5; DOMAIN.md §1
 * and §6: a kiosk stands in a public hall and must never show one resident
 * another's data). A kiosk creates cases in its community and reads a
 * ticket only with its number and the last 4 digits of the phone given at
 * report; failed look-ups are limited per principal, kiosk or not ([kiosk]
 * in the config). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x
#define MINUTE 60000LL
/* Monday 2026-11-23 10:00 in Beijing (02:00 UTC) */
#define START 1795399200000LL

static daemon_h d;
static void setup(void) { harness_start_clock(&d, "[kiosk]\nlookup_failures = 3\nlookup_window = 600\n", START); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(kiosk_privacy, .init = setup, .fini = teardown, .timeout = 60);

/* Reports as c with a phone; returns the ticket (malloc'd). */
static char *report_with_phone(whistle_client *c, const char *desc, const char *phone)
{
    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    rep.node = FIRST_GRID;
    rep.category = "0102";
    rep.description = (char *)desc;
    rep.contact = (char *)phone;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &rep;
    Whistle__V1__Response *resp = harness_call_ok(c, &req);
    cr_assert_str_eq(resp->event->contact, "", "a kiosk is not shown even the phone it just sent");
    char *t = strdup(resp->event->ticket);
    whistle_response_free(resp);
    return t;
}

static Whistle__V1__Request lookup_req(Whistle__V1__LookupTicket *l, const char *ticket, const char *digits)
{
    whistle__v1__lookup_ticket__init(l);
    l->ticket = (char *)ticket;
    l->phone_last4 = (char *)digits;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LOOKUP_TICKET);
    req.lookup_ticket = l;
    return req;
}

/* The message a failed look-up gets, with the ticket number and the digits
 * sent blanked out: a wrong phone and a missing ticket must read alike. */
static char *failed_lookup(whistle_client *c, const char *ticket, const char *digits, int code)
{
    Whistle__V1__LookupTicket l;
    Whistle__V1__Request req = lookup_req(&l, ticket, digits);
    char *msg = strdup(harness_call_fail(c, &req, code));
    char *at = strstr(msg, ticket);
    if (at)
        memset(at, '#', strlen(ticket));
    at = strstr(msg, digits);
    if (at)
        memset(at, '#', strlen(digits));
    return msg;
}

Test(kiosk_privacy, a_kiosk_reads_a_ticket_only_with_its_phone_digits)
{
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    whistle_client *grid = harness_connect(&d, "gridworker");
    char *mine = report_with_phone(kiosk, "my case: the lift is broken", "13812345678");
    char *theirs = h_report(grid, FIRST_GRID, "0102", "a neighbour's case");

    /* not by number alone, and no list, even of its own reports */
    Whistle__V1__GetEvent g = WHISTLE__V1__GET_EVENT__INIT;
    g.ticket = mine;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(GET_EVENT);
    req.get_event = &g;
    harness_call_fail(kiosk, &req, CODE(PERMISSION_DENIED));
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    req.call_case = CALL(LIST_EVENTS);
    req.list_events = &le;
    const char *msg = harness_call_fail(kiosk, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "a kiosk lists nothing"), "%s", msg);

    /* a wrong phone reads exactly like a ticket that does not exist */
    char *wrong = failed_lookup(kiosk, mine, "5679", CODE(NOT_FOUND));
    char *missing = failed_lookup(kiosk, "E2026112399999", "5679", CODE(NOT_FOUND));
    cr_assert_str_eq(wrong, missing);
    free(wrong);
    free(missing);

    /* the right pair: the state and the timeline, never the phone */
    Whistle__V1__LookupTicket l;
    req = lookup_req(&l, mine, "5678");
    Whistle__V1__Response *resp = harness_call_ok(kiosk, &req);
    cr_assert_str_eq(resp->event->description, "my case: the lift is broken");
    cr_assert_str_eq(resp->event->contact, "");
    cr_assert_geq(resp->event->n_timeline, 1);
    whistle_response_free(resp);

    free(mine);
    free(theirs);
    whistle_close(kiosk);
    whistle_close(grid);
}

Test(kiosk_privacy, failed_lookups_are_limited_per_kiosk_and_the_limit_passes)
{
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    whistle_client *op = harness_connect(&d, "operator");
    char *t = report_with_phone(kiosk, "rubbish at gate 2", "13912340000");

    for (int i = 0; i < 3; i++)
        free(failed_lookup(kiosk, t, i == 1 ? "1111" : "1234", CODE(NOT_FOUND)));
    /* the fourth try is refused before anything is read, right digits or not */
    char *msg = failed_lookup(kiosk, t, "0000", CODE(RESOURCE_EXHAUSTED));
    cr_assert(strstr(msg, "too many failed look-ups") && strstr(msg, "try again in 10 min"), "%s", msg);
    free(msg);
    /* ... and so is a rating, which proves the ticket the same way */
    Whistle__V1__RateEvent re = WHISTLE__V1__RATE_EVENT__INIT;
    re.ticket = t;
    re.score = 5;
    re.phone_last4 = "0000";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(RATE);
    req.rate = &re;
    harness_call_fail(kiosk, &req, CODE(RESOURCE_EXHAUSTED));
    /* the limit is the kiosk's, not the ticket's: the operator still reads it */
    Whistle__V1__LookupTicket l;
    req = lookup_req(&l, t, "0000");
    whistle_response_free(harness_call_ok(op, &req));

    /* once the oldest failure is 10 minutes old, the kiosk may try again */
    harness_set_clock(&d, START + 9 * MINUTE);
    free(failed_lookup(kiosk, t, "0000", CODE(RESOURCE_EXHAUSTED)));
    harness_set_clock(&d, START + 10 * MINUTE + 1000);
    req = lookup_req(&l, t, "0000");
    whistle_response_free(harness_call_ok(kiosk, &req));

    free(t);
    whistle_close(kiosk);
    whistle_close(op);
}

/* Issue 11, item 11: a principal outside a ticket's scope must learn
 * nothing of its phone digits. Before, the digits were checked first: a
 * wrong pair answered NOT_FOUND and the right one PERMISSION_DENIED, so an
 * operator of another street found the suffix by trying all 10,000. Now
 * every pair reads alike, and its failures are limited like a kiosk's. */
Test(kiosk_privacy, a_principal_outside_the_scope_learns_nothing_from_the_digits)
{
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    whistle_client *other = harness_connect(&d, "operator2"); /* another street */
    char *t = report_with_phone(kiosk, "a case of street 001", "13912344321");

    char *right = failed_lookup(other, t, "4321", CODE(NOT_FOUND));
    char *wrong = failed_lookup(other, t, "4322", CODE(NOT_FOUND));
    char *missing = failed_lookup(other, "E2026112399999", "4321", CODE(NOT_FOUND));
    cr_assert_str_eq(right, wrong, "the right digits must read like wrong ones outside the scope");
    cr_assert_str_eq(right, missing, "an out-of-scope ticket must read like a missing one");
    cr_assert_null(strstr(right, "110105"), "the refusal names no place: %s", right);
    free(right);
    free(wrong);
    free(missing);

    /* three failures against a limit of 3: an operator is limited too */
    char *msg = failed_lookup(other, t, "4321", CODE(RESOURCE_EXHAUSTED));
    cr_assert(strstr(msg, "too many failed look-ups from this principal"), "%s", msg);
    free(msg);
    /* ... and the kiosk in the ticket's community still reads it */
    Whistle__V1__LookupTicket l;
    Whistle__V1__Request req = lookup_req(&l, t, "4321");
    whistle_response_free(harness_call_ok(kiosk, &req));

    free(t);
    whistle_close(kiosk);
    whistle_close(other);
}
