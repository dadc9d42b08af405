/* test_uitext.c: text for people (client/ui/uitext.c): display width,
 * fitting to columns without cutting a character, the language picked
 * from the environment. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "uitext.h"

static void utf8(void) { cr_assert(setlocale(LC_ALL, "C.UTF-8") || setlocale(LC_ALL, "C.utf8"), "C.UTF-8 is missing"); }

TestSuite(uitext, .init = utf8);

Test(uitext, chinese_characters_take_two_columns)
{
    cr_assert_eq(uitext_width("abc"), 3);
    cr_assert_eq(uitext_width("朝阳区"), 6);
    cr_assert_eq(uitext_width("第1网格"), 7);
    cr_assert_eq(uitext_width(""), 0);
    cr_assert_eq(uitext_width(NULL), 0);
}

Test(uitext, broken_bytes_and_control_characters_take_one_column_each)
{
    cr_assert_eq(uitext_width("a\xff"
                              "b"),
                 3);
    cr_assert_eq(uitext_width("a\tb"), 3);
    char out[32];
    uitext_fit(out, sizeof out, "a\nb", 5, false);
    cr_assert_str_eq(out, "a b", "a control character is drawn as a space, not sent to the terminal");
}

Test(uitext, fit_pads_to_exactly_the_columns)
{
    char out[64];
    cr_assert_eq(uitext_fit(out, sizeof out, "永安里", 10, true), 10);
    cr_assert_str_eq(out, "永安里    ");
    cr_assert_eq(uitext_width(out), 10);
    cr_assert_eq(uitext_fit(out, sizeof out, "ab", 4, false), 2);
    cr_assert_str_eq(out, "ab");
}

Test(uitext, a_cut_ends_in_an_ellipsis_and_never_splits_a_character)
{
    char out[64];
    /* 5 columns: two Chinese characters (4) leave one for the ellipsis */
    cr_assert_eq(uitext_fit(out, sizeof out, "建外街道办事处", 5, true), 5);
    cr_assert_str_eq(out, "建外…");
    /* 6 columns: two characters (4) + ellipsis (1) + a pad space: a third
     * character would need columns 5-6 and leave none for the ellipsis */
    cr_assert_eq(uitext_fit(out, sizeof out, "建外街道办事处", 6, true), 6);
    cr_assert_str_eq(out, "建外… ");
    cr_assert_eq(uitext_fit(out, sizeof out, "Jianwai Subdistrict", 8, false), 8);
    cr_assert_str_eq(out, "Jianwai…");
}

Test(uitext, fit_never_overruns_a_small_buffer)
{
    char out[5];
    uitext_fit(out, sizeof out, "朝阳区朝阳区", 12, true);
    cr_assert_lt(strlen(out), sizeof out);
    cr_assert_str_eq(out, "朝 ", "only whole characters go in (3 bytes + 3 would not fit), then what padding fits");
}

Test(uitext, fit_right_puts_the_spaces_first)
{
    char out[64];
    cr_assert_eq(uitext_fit_right(out, sizeof out, "12分", 6), 6);
    cr_assert_str_eq(out, "  12分");
}

Test(uitext, the_language_follows_the_first_variable_set)
{
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    setenv("LANG", "zh_CN.UTF-8", 1);
    cr_assert(uitext_lang_zh());
    cr_assert_str_eq(uitext_pick("永安里社区", "Yong'anli Community"), "永安里社区");
    setenv("LC_ALL", "en_US.UTF-8", 1);
    cr_assert_not(uitext_lang_zh(), "LC_ALL overrides LANG");
    cr_assert_str_eq(uitext_pick("永安里社区", "Yong'anli Community"), "Yong'anli Community");
    cr_assert_str_eq(uitext_pick("永安里社区", ""), "永安里社区", "no English: the Chinese name");
    setenv("LANGUAGE", "zh_CN", 1);
    cr_assert(uitext_lang_zh(), "LANGUAGE comes first, as gettext reads it");
    cr_assert_str_eq(uitext_pick("", "Grid 1"), "Grid 1", "no Chinese: the English name");
    cr_assert_str_eq(uitext_pick(NULL, NULL), "");
}

Test(uitext, widths_are_right_in_a_locale_without_utf8)
{
    /* The CLI runs in whatever locale a script gives it (LC_ALL=C): the
     * text is UTF-8 all the same, and Chinese still takes two columns. */
    cr_assert(setlocale(LC_ALL, "C"));
    cr_assert_eq(uitext_width("朝阳区"), 6);
    cr_assert_eq(uitext_width("第1网格"), 7);
    cr_assert_eq(uitext_width("a\xff"
                              "b"),
                 3);
    char out[64];
    cr_assert_eq(uitext_fit(out, sizeof out, "建外街道办事处", 5, true), 5);
    cr_assert_str_eq(out, "建外…", "whole characters, and the ellipsis as UTF-8");
    cr_assert_eq(uitext_fit(out, sizeof out, "永安里", 8, true), 8);
    cr_assert_str_eq(out, "永安里  ");
}

Test(uitext, overlong_and_surrogate_sequences_are_broken_bytes)
{
    cr_assert_eq(uitext_width("\xC0\xAF"), 2, "an overlong '/' is two broken bytes");
    cr_assert_eq(uitext_width("\xED\xA0\x80"), 3, "a UTF-16 surrogate is not a character");
    cr_assert_eq(uitext_width("\xF4\x90\x80\x80"), 4, "past U+10FFFF");
    char out[16];
    uitext_fit(out, sizeof out, "\xC0\xAFx", 5, false);
    cr_assert_str_eq(out, "??x");
}

Test(uitext, locale_init_binds_the_catalogue_and_falls_back_to_c_utf8)
{
    unsetenv("LANGUAGE");
    unsetenv("LC_MESSAGES");
    setenv("LC_ALL", "xx_NO.WHERE", 1); /* a locale nobody generated */
    cr_assert_eq(uitext_locale_init("whistle"), 0);
    cr_assert_eq(MB_CUR_MAX > 1, 1, "fell back to a UTF-8 locale");
    cr_assert_not_null(bindtextdomain("whistle", NULL), "the domain is bound");
    cr_assert_str_eq(textdomain(NULL), "whistle");
}

Test(uitext, a_c_locale_on_purpose_is_english_whatever_language_says)
{
    /* A script's LC_ALL=C in a session with LANGUAGE=zh_CN: untranslated,
     * as gettext has it, and names in English too. */
    setenv("LANGUAGE", "zh_CN", 1);
    setenv("LC_ALL", "C", 1);
    cr_assert_eq(uitext_locale_init("whistle"), 0);
    cr_assert_null(getenv("LANGUAGE"));
    cr_assert_not(uitext_lang_zh());
    /* A Chinese locale this machine may not have: Chinese all the same. */
    unsetenv("LANGUAGE");
    setenv("LC_ALL", "zh_CN.NOWHERE", 1);
    cr_assert_eq(uitext_locale_init("whistle"), 0);
    cr_assert(uitext_lang_zh());
    cr_assert_str_eq(getenv("LANGUAGE"), "zh_CN.NOWHERE");
}
