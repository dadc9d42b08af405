/* test_api.c: the status helpers every call answers with. */
#include "helpers.h"

#include "call.h"

TestSuite(api, .init = h_mkdir, .fini = h_teardown);

static Whistle__V1__Response *status_of(const char *fmt, const char *arg)
{
    Whistle__V1__Response *r = NEW(Whistle__V1__Response, whistle__v1__response__init);
    return call_status(r, h_a, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT, fmt, arg);
}

Test(api, a_message_quoting_a_huge_value_is_cut_to_a_line)
{
    char *big = arena_alloc(h_a, 200001);
    memset(big, 'x', 200000);
    Whistle__V1__Response *r = status_of("node \"%s\" is not a node code", big);
    size_t n = strlen(r->status->message);
    cr_assert_leq(n, 1003, "a message of %zu bytes", n);
    cr_assert(strncmp(r->status->message, "node \"xxx", 9) == 0);
    cr_assert_str_eq(r->status->message + n - 3, "...");
}

Test(api, the_cut_keeps_utf8_whole)
{
    /* 3-byte characters: 1000 is not on a boundary of them */
    char *big = arena_alloc(h_a, 3 * 1000 + 1);
    for (int i = 0; i < 1000; i++)
        memcpy(big + 3 * i, "网", 3);
    Whistle__V1__Response *r = status_of("x%s", big);
    cr_assert(utf8_valid(r->status->message, strlen(r->status->message)), "the cut split a character");
    cr_assert_leq(strlen(r->status->message), 1003);
}

Test(api, a_message_of_many_short_lines_stays_whole)
{
    /* an import's refusal: one line per bad line of the file */
    char *list = arena_strdup(h_a, "");
    for (int i = 0; i < 300; i++)
        list = arena_printf(h_a, "%sline %d: field \"code\": not 15 digits\n", list, i + 2);
    Whistle__V1__Response *r = status_of("%s", list);
    cr_assert_str_eq(r->status->message, list);
}

Test(api, a_long_line_among_short_ones_is_cut_alone)
{
    char *big = arena_alloc(h_a, 5001);
    memset(big, 'y', 5000);
    char *msg = arena_printf(h_a, "first\n%s\nlast", big);
    Whistle__V1__Response *r = status_of("%s", msg);
    cr_assert(strncmp(r->status->message, "first\nyyy", 9) == 0);
    const char *last = strrchr(r->status->message, '\n');
    cr_assert_str_eq(last, "\nlast");
    cr_assert_str_eq(last - 3, "...\nlast");
    cr_assert_eq((size_t)(last - r->status->message), 6 + 1000 + 3);
}
