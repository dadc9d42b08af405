/* uitext.h: what every screen and the CLI need to speak the resident's
 * and the operator's language: the locale and its message catalogue, the
 * language to pick from data that carries Chinese and English, and text
 * placed by display width (a Chinese character takes two columns, so
 * bytes and characters both line up wrong).
 *
 * Used by whistle (CLI), whistle-console and whistle-kiosk; not part of
 * libwhistle, which has no text for people. */
#ifndef WHISTLE_UITEXT_H
#define WHISTLE_UITEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#include <libintl.h>
/* Guarded: a file may have defined them the same way before including
 * this header. */
#ifndef _
#define _(s) gettext(s)
#endif
#ifndef N_
#define N_(s) s /* marked for translation, translated where it is used */
#endif
/* A message in a context (msgctxt), for a word that reads differently in
 * different places: a case that is "closed" (已结案) and a supervision
 * record that is (已销号). xgettext: --keyword=C_:1c,2. */
#ifndef C_
#define C_(ctx, s) uitext_pgettext(ctx "\004" s, s)
#endif

/* gettext of "context\004msgid"; msgid itself when the catalogue has no
 * translation (what gettext.h's pgettext does). */
const char *uitext_pgettext(const char *ctx_msgid, const char *msgid);

/* Sets the locale from the environment and binds the message catalogue of
 * `domain` (po/<domain>/LANG.po). Needs a UTF-8 codeset: when the environment
 * names none, or one this machine has not generated (zh_CN.UTF-8 on a
 * minimal system), it falls back to C.UTF-8 and asks gettext for the
 * wanted language through LANGUAGE (an environment that names C or POSIX
 * gets the untranslated messages, LANGUAGE or not, as gettext has it).
 * Returns 0, or -1 when not even
 * C.UTF-8 exists: the catalogue is bound all the same and the widths below
 * still work (they decode UTF-8 themselves), so a program that can live in
 * such a locale (the CLI) goes on in English; a screen says so and stops. */
int uitext_locale_init(const char *domain);

/* Whether people here want Chinese: the first of LANGUAGE, LC_ALL,
 * LC_MESSAGES, LANG that is set starts with "zh". */
bool uitext_lang_zh(void);

/* The text in the wanted language: zh or en as uitext_lang_zh() says,
 * the other when that one is empty, "" when both are. Never NULL. */
const char *uitext_pick(const char *zh, const char *en);

/* The next character of s (UTF-8, whatever the locale's codeset) and its
 * display width: a '?' for a broken byte or an unprintable character, a
 * space for a control character. Widths come from the locale (wcwidth);
 * in a locale without UTF-8, from a table of the East Asian wide ranges.
 * Returns the bytes it took, 0 at the end of s. *st is not used (kept
 * for callers that pass one). */
size_t uitext_next(const char *s, mbstate_t *st, wchar_t *wc, int *w);

/* Display columns of s (NULL: 0). */
int uitext_width(const char *s);

/* Copies into out (cap bytes, always terminated) the longest start of s
 * that fits in cols columns, ending in "…" when s had to be cut, then
 * spaces up to exactly cols columns when pad is set. Never cuts a
 * character in two. Returns the columns used. */
int uitext_fit(char *out, size_t cap, const char *s, int cols, bool pad);

/* Like uitext_fit with pad, but right-aligned: spaces first. */
int uitext_fit_right(char *out, size_t cap, const char *s, int cols);

#endif
