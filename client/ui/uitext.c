/* uitext.c: see uitext.h. */
#include "uitext.h"

#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *wanted_language(void)
{
    static const char *const vars[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return v;
    }
    return "";
}

const char *uitext_pgettext(const char *ctx_msgid, const char *msgid)
{
    const char *t = gettext(ctx_msgid);
    return t == ctx_msgid ? msgid : t;
}

bool uitext_lang_zh(void) { return strncmp(wanted_language(), "zh", 2) == 0; }

const char *uitext_pick(const char *zh, const char *en)
{
    zh = zh ? zh : "";
    en = en ? en : "";
    if (uitext_lang_zh())
        return *zh ? zh : en;
    return *en ? en : zh;
}

/* Where the message catalogues are: $WHISTLE_LOCALEDIR, the installed
 * ones, or those of the build tree (a program run from build/ before
 * `make install`). */
static const char *locale_dir(const char *domain)
{
    const char *env = getenv("WHISTLE_LOCALEDIR");
    if (env && *env)
        return env;
#ifdef WHISTLE_BUILD_LOCALEDIR
    char installed[512], built[512];
    snprintf(installed, sizeof installed, "%s/zh_CN/LC_MESSAGES/%s.mo", WHISTLE_LOCALEDIR, domain);
    snprintf(built, sizeof built, "%s/zh_CN/LC_MESSAGES/%s.mo", WHISTLE_BUILD_LOCALEDIR, domain);
    if (access(installed, R_OK) != 0 && access(built, R_OK) == 0)
        return WHISTLE_BUILD_LOCALEDIR;
#else
    (void)domain;
#endif
    return WHISTLE_LOCALEDIR;
}

static bool utf8_codeset(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int uitext_locale_init(const char *domain)
{
    const char *want = getenv("LC_ALL");
    if (!want || !*want)
        want = getenv("LC_MESSAGES");
    if (!want || !*want)
        want = getenv("LANG");
    int rc = 0;
    if (!(setlocale(LC_ALL, "") && utf8_codeset())) {
        if (setlocale(LC_ALL, "C.UTF-8") || setlocale(LC_ALL, "C.utf8")) {
            /* gettext ignores LANGUAGE under the C locale proper, but
             * honours it under C.UTF-8: the messages still come in
             * Chinese. And a locale set to C on purpose (a script's
             * LC_ALL=C) means untranslated, as gettext has it, whatever
             * LANGUAGE the user's session carries. */
            if (want && strncmp(want, "zh", 2) == 0 && !getenv("LANGUAGE"))
                setenv("LANGUAGE", want, 1);
            else if (want && (strcmp(want, "C") == 0 || strcmp(want, "POSIX") == 0))
                unsetenv("LANGUAGE");
        } else {
            /* No UTF-8 locale at all: whatever the environment gave (or
             * C). Widths still come right (uitext_next decodes UTF-8 by
             * itself); the messages are English. */
            rc = -1;
        }
    }
    /* Bound even on failure: a program that can do without a UTF-8
     * locale (the CLI) goes on and finds its catalogue. */
    bindtextdomain(domain, locale_dir(domain));
    bind_textdomain_codeset(domain, "UTF-8");
    textdomain(domain);
    return rc;
}

/* East Asian wide ranges (Hangul Jamo, CJK radicals to Yi, Hangul, CJK
 * compatibility, fullwidth forms, emoji, CJK extensions): the widths when
 * the locale cannot say (not UTF-8, so wcwidth knows only ASCII). */
static bool wide_fallback(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
           (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
           (cp >= 0x20000 && cp <= 0x3FFFD);
}

/* One UTF-8 sequence of s: its code point and length, or 0 for a broken
 * one (bad lead or continuation byte, overlong, surrogate, past
 * U+10FFFF). All text here is UTF-8 (the data, and the catalogues bound
 * with bind_textdomain_codeset), whatever the locale's codeset. */
static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0)
        return 0;
    unsigned v = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const unsigned least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < least[n] || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
        return 0;
    *cp = v;
    return n;
}

size_t uitext_next(const char *s, mbstate_t *st, wchar_t *wc, int *w)
{
    (void)st; /* decoded here, not by the locale: nothing carries over */
    if (!s || !*s)
        return 0;
    unsigned cp;
    size_t n = utf8_decode((const unsigned char *)s, &cp);
    if (n == 0) {
        cp = '?';
        n = 1;
    }
    if (cp < 0x20 || cp == 0x7f)
        cp = ' ';
    *wc = (wchar_t)cp;
    *w = wcwidth(*wc);
    if (*w < 0 && MB_CUR_MAX == 1 && cp >= 0xA0) /* a locale without UTF-8 */
        *w = wide_fallback(cp) ? 2 : 1;
    if (*w < 0) {
        *wc = L'?';
        *w = 1;
    }
    return n;
}

int uitext_width(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0, cw;
    wchar_t wc;
    for (size_t n; (n = uitext_next(s, &st, &wc, &cw)); s += n)
        w += cw;
    return w;
}

/* Appends wc to out as UTF-8, if it fits with the terminator. */
static bool append(char *out, size_t cap, size_t *len, wchar_t wc)
{
    unsigned c = (unsigned)wc;
    char mb[4];
    size_t n;
    if (c < 0x80) {
        mb[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        mb[0] = (char)(0xC0 | c >> 6);
        mb[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        mb[0] = (char)(0xE0 | c >> 12);
        mb[1] = (char)(0x80 | (c >> 6 & 0x3F));
        mb[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        mb[0] = (char)(0xF0 | c >> 18);
        mb[1] = (char)(0x80 | (c >> 12 & 0x3F));
        mb[2] = (char)(0x80 | (c >> 6 & 0x3F));
        mb[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    if (*len + n + 1 > cap)
        return false;
    memcpy(out + *len, mb, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

int uitext_fit(char *out, size_t cap, const char *s, int cols, bool pad)
{
    if (!cap)
        return 0;
    out[0] = '\0';
    if (cols <= 0)
        return 0;
    size_t len = 0;
    int total = uitext_width(s), w = 0, cw;
    bool cut = total > cols;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    for (size_t n; (n = uitext_next(s, &st, &wc, &cw)); s += n) {
        /* keep a column for the "…" when the text does not fit */
        if (w + cw > (cut ? cols - 1 : cols) || !append(out, cap, &len, wc))
            break;
        w += cw;
    }
    if (cut && append(out, cap, &len, L'…'))
        w++;
    while (pad && w < cols && append(out, cap, &len, L' '))
        w++;
    return w;
}

int uitext_fit_right(char *out, size_t cap, const char *s, int cols)
{
    char body[1024];
    int w = uitext_fit(body, sizeof body, s, cols, false);
    size_t len = 0;
    out[0] = '\0';
    for (int i = w; i < cols && len + 2 < cap; i++) {
        out[len++] = ' ';
        out[len] = '\0';
    }
    size_t bl = strlen(body);
    if (len + bl + 1 <= cap) {
        memcpy(out + len, body, bl + 1);
        return cols > w ? cols : w;
    }
    return (int)len;
}
