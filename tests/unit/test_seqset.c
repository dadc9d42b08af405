/* test_seqset.c: client/city/seqset.c, the seqs seen of a district's
 * gapless stream: the hole the router's gap watch asks for, and the
 * repeats a city desk drops. */
#include <criterion/criterion.h>

#include "seqset.h"

Test(seqset, in_order_keeps_only_a_floor)
{
    seqset s;
    seqset_init(&s, false);
    for (uint64_t q = 1; q <= 1000; q++)
        cr_assert_eq(seqset_add(&s, q), 1);
    cr_assert_eq(s.floor, 1000);
    cr_assert_eq(s.n, 0, "nothing kept above the floor when nothing is missing");
    uint64_t a, b;
    cr_assert(!seqset_hole(&s, &a, &b));
    cr_assert_eq(seqset_add(&s, 500), 0, "a repeat below the floor is not new");
    seqset_free(&s);
}

Test(seqset, a_hole_is_reported_until_filled)
{
    seqset s;
    seqset_init(&s, false);
    for (uint64_t q = 1; q <= 10; q++)
        if (q != 4 && q != 5)
            seqset_add(&s, q);
    uint64_t a = 0, b = 0;
    cr_assert(seqset_hole(&s, &a, &b));
    cr_assert_eq(a, 4);
    cr_assert_eq(b, 5);
    cr_assert(!seqset_has(&s, 4));
    cr_assert(seqset_has(&s, 7));
    cr_assert_eq(seqset_add(&s, 5), 1);
    cr_assert(seqset_hole(&s, &a, &b));
    cr_assert_eq(a, 4);
    cr_assert_eq(b, 4);
    cr_assert_eq(seqset_add(&s, 4), 1, "the replayed entry is new");
    cr_assert(!seqset_hole(&s, &a, &b));
    cr_assert_eq(s.floor, 10, "the floor jumps over what was seen above the hole");
    cr_assert_eq(s.n, 0);
    seqset_free(&s);
}

Test(seqset, repeats_and_disorder)
{
    seqset s;
    seqset_init(&s, false);
    uint64_t order[] = { 3, 1, 3, 7, 2, 7, 5, 1, 4, 6 };
    int news = 0;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        news += seqset_add(&s, order[i]);
    cr_assert_eq(news, 7, "each of 1..7 counts once, repeats do not");
    cr_assert_eq(s.floor, 7);
    seqset_free(&s);
}

Test(seqset, a_late_watcher_starts_at_the_first_seq)
{
    seqset s;
    seqset_init(&s, true);
    cr_assert_eq(seqset_add(&s, 500), 1);
    uint64_t a, b;
    cr_assert(!seqset_hole(&s, &a, &b), "what came before the first seq is not a hole");
    seqset_add(&s, 503);
    cr_assert(seqset_hole(&s, &a, &b));
    cr_assert_eq(a, 501);
    cr_assert_eq(b, 502);
    seqset_free(&s);
}

Test(seqset, a_desk_starts_empty)
{
    seqset s;
    seqset_init(&s, false);
    cr_assert_eq(seqset_add(&s, 500), 1);
    cr_assert_eq(seqset_add(&s, 50), 1, "an older entry it never saw (a replay) is new");
    cr_assert_eq(seqset_add(&s, 50), 0);
    seqset_free(&s);
}
