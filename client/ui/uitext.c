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
    static const char *const vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return v;
    }
    return "";
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
    if (!(setlocale(LC_ALL, "") && utf8_codeset())) {
        if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "C.utf8"))
            return -1;
        /* gettext ignores LANGUAGE under the C locale proper, but honours
         * it under C.UTF-8: the messages still come in Chinese. */
        if (want && strncmp(want, "zh", 2) == 0 && !getenv("LANGUAGE"))
            setenv("LANGUAGE", want, 1);
    }
    bindtextdomain(domain, locale_dir(domain));
    bind_textdomain_codeset(domain, "UTF-8");
    textdomain(domain);
    return 0;
}

size_t uitext_next(const char *s, mbstate_t *st, wchar_t *wc, int *w)
{
    if (!s || !*s)
        return 0;
    size_t n = mbrtowc(wc, s, MB_CUR_MAX, st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        memset(st, 0, sizeof *st);
        *wc = L'?';
        n = 1;
    }
    if (*wc < 0x20 || *wc == 0x7f)
        *wc = L' ';
    *w = wcwidth(*wc);
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

/* Appends wc to out as multibyte, if it fits with the terminator. */
static bool append(char *out, size_t cap, size_t *len, wchar_t wc)
{
    char mb[MB_LEN_MAX];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = wcrtomb(mb, wc, &st);
    if (n == (size_t)-1) {
        mb[0] = '?';
        n = 1;
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
