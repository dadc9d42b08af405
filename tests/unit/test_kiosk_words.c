/* test_kiosk_words.c: what the kiosk says to residents (client/kiosk/words.c):
 * a sentence for every timeline action the daemon writes, staff notes kept
 * back, time limits in plain words, the rules of the numbers a resident
 * types (ticket, phone), the phone masked, lines wrapped by display width.
 * words.c is compiled into this test as it is (it needs no ncurses). */
#include <criterion/criterion.h>
#include <glob.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../client/kiosk/words.c"

#define TU(s) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##s

static void utf8(void)
{
    cr_assert(setlocale(LC_ALL, "C.UTF-8") || setlocale(LC_ALL, "C.utf8"), "C.UTF-8 is missing");
    setenv("TZ", "CST-8", 1);
    tzset();
}

TestSuite(kiosk_words, .init = utf8);

static const char *sentence(const char *action, const char *note, const char *dept)
{
    static char out[600];
    Whistle__V1__TimelineEntry t = WHISTLE__V1__TIMELINE_ENTRY__INIT;
    t.action = (char *)action;
    t.note = (char *)(note ? note : "");
    words_timeline(&t, dept, out, sizeof out);
    return out;
}

/* The actions the daemon writes into timelines: the literals of its
 * event_timeline(c, ev, "action", ...) calls, read from the sources, and
 * those it passes by name (the order calls and the deadline outcomes). A
 * new action without a sentence of its own fails here. */
static size_t daemon_actions(char actions[][40], size_t max)
{
    static const char *const named[] = { "check_in",          "feedback", "return",  "extension_approved",
                                         "extension_refused", "overdue",  "escalate" };
    size_t n = 0;
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        snprintf(actions[n++], 40, "%s", named[i]);
    /* every layer's folder, and main.c */
    glob_t g;
    cr_assert_eq(glob(WHISTLE_SOURCE_DIR "/daemon/*.c", 0, NULL, &g), 0);
    cr_assert_eq(glob(WHISTLE_SOURCE_DIR "/daemon/*/*.c", GLOB_APPEND, NULL, &g), 0);
    for (size_t gi = 0; gi < g.gl_pathc; gi++) {
        const char *path = g.gl_pathv[gi];
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        static char src[1 << 20];
        size_t len = fread(src, 1, sizeof src - 1, f);
        src[len] = 0;
        fclose(f);
        for (char *p = src; (p = strstr(p, "event_timeline(")); p++) {
            /* the third argument */
            char *q = p + strlen("event_timeline(");
            int commas = 0;
            while (*q && commas < 2 && *q != ';')
                commas += *q++ == ',';
            while (*q == ' ' || *q == '\n')
                q++;
            if (*q != '"')
                continue;
            char *e = strchr(q + 1, '"');
            if (!e || e - q - 1 >= 40 || n >= max)
                continue;
            snprintf(actions[n++], 40, "%.*s", (int)(e - q - 1), q + 1);
        }
    }
    globfree(&g);
    return n;
}

Test(kiosk_words, every_action_the_daemon_writes_has_its_own_sentence)
{
    char actions[128][40];
    size_t n = daemon_actions(actions, 128);
    cr_assert_gt(n, 20, "found only %zu actions in daemon/", n);
    char generic[600];
    snprintf(generic, sizeof generic, "%s", sentence("something_new", "", NULL));
    for (size_t i = 0; i < n; i++) {
        const char *s = sentence(actions[i], "", "Urban management");
        cr_assert(strcmp(s, generic) != 0, "timeline action \"%s\" has no sentence of its own", actions[i]);
        cr_assert(*s, "timeline action \"%s\" says nothing", actions[i]);
    }
}

Test(kiosk_words, department_actions_name_the_department)
{
    cr_assert_str_eq(sentence("check_in", "on our way", "Urban management"), "Urban management checked in");
    cr_assert_str_eq(sentence("dispatch", "lead", "Police station"), "Police station was sent the case");
    cr_assert_str_eq(sentence("feedback", "Stall removed", "Urban management"),
                     "Urban management reported what it did: Stall removed");
    cr_assert_str_eq(sentence("overdue", "missed its check_in (due ...), supervision #3", "Police station"),
                     "Police station is late; the street is pressing it");
    cr_assert_str_eq(sentence("overdue", "passed its due time", NULL),
                     "past its due time; the street is following it up");
    cr_assert_str_eq(sentence("check_in", "", NULL), "a department checked in");
}

Test(kiosk_words, staff_notes_stay_with_the_staff)
{
    /* only a rejection's reason and what was done reach the resident */
    cr_assert_null(strstr(sentence("file", "caller sounded drunk", NULL), "drunk"));
    cr_assert_null(strstr(sentence("assign", "to Wang, 13900001111", NULL), "1390"));
    cr_assert_null(strstr(sentence("whistle", "joint action", NULL), "joint"));
    cr_assert_null(strstr(sentence("overdue", "supervision #7", "Police"), "#7"));
    cr_assert_str_eq(sentence("reject", "not in scope", NULL), "not taken up: not in scope");
    cr_assert_str_eq(sentence("resolve", "lamp replaced", NULL), "handled by the community: lamp replaced");
}

Test(kiosk_words, verify_rate_and_merge_read_their_notes)
{
    cr_assert_str_eq(sentence("verify", "failed: still there", NULL),
                     "checked on the spot: not fixed yet; it goes back for more work");
    cr_assert_str_eq(sentence("verify", "Pavement clear", NULL), "checked on the spot: fixed");
    cr_assert_str_eq(sentence("rate", "4/5: quick", NULL), "rated 4 of 5");
    cr_assert_str_eq(sentence("merge", "duplicate of E2026112300001: same stall", NULL),
                     "joined to the earlier report E2026112300001 of the same problem");
    cr_assert_str_eq(sentence("merge", "E2026112300002 merged in (reported by kiosk)", NULL),
                     "a report of the same problem was joined to this case");
}

static const char *limit(unsigned amount, Whistle__V1__TimeUnit unit)
{
    static char out[80];
    Whistle__V1__TimeLimit t = WHISTLE__V1__TIME_LIMIT__INIT;
    t.amount = amount;
    t.unit = unit;
    words_limit(&t, out, sizeof out);
    return out;
}

Test(kiosk_words, time_limits_in_plain_words)
{
    cr_assert_str_eq(limit(120, TU(MINUTES)), "2 hours");
    cr_assert_str_eq(limit(30, TU(MINUTES)), "30 minutes");
    cr_assert_str_eq(limit(1, TU(HOURS)), "1 hour");
    cr_assert_str_eq(limit(24, TU(HOURS)), "24 hours");
    cr_assert_str_eq(limit(168, TU(HOURS)), "7 days");
    cr_assert_str_eq(limit(3, TU(DAYS)), "3 days");
    cr_assert_str_eq(limit(4, TU(WORKING_HOURS)), "4 working hours");
    cr_assert_str_eq(limit(1, TU(WORKING_DAYS)), "1 working day");
    cr_assert_str_eq(limit(20, TU(WORKING_DAYS)), "20 working days");
    cr_assert_str_eq(limit(0, TU(HOURS)), "");
}

Test(kiosk_words, a_reports_limits_are_the_normal_prioritys_else_the_defaults)
{
    Whistle__V1__TimeLimit ci2h = { PROTOBUF_C_MESSAGE_INIT(&whistle__v1__time_limit__descriptor), 2, TU(HOURS) };
    Whistle__V1__TimeLimit rs4wh = { PROTOBUF_C_MESSAGE_INIT(&whistle__v1__time_limit__descriptor), 4,
                                     TU(WORKING_HOURS) };
    Whistle__V1__TimeLimit rs1wd = { PROTOBUF_C_MESSAGE_INIT(&whistle__v1__time_limit__descriptor), 1,
                                     TU(WORKING_DAYS) };
    Whistle__V1__PriorityLimits dflt = WHISTLE__V1__PRIORITY_LIMITS__INIT, normal = WHISTLE__V1__PRIORITY_LIMITS__INIT,
                                urgent = WHISTLE__V1__PRIORITY_LIMITS__INIT;
    dflt.check_in = &ci2h;
    dflt.resolve = &rs4wh;
    normal.priority = WHISTLE__V1__PRIORITY__PRIORITY_NORMAL;
    normal.resolve = &rs1wd;
    urgent.priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    urgent.resolve = &ci2h;
    Whistle__V1__PriorityLimits *all[] = { &urgent, &dflt, &normal };
    Whistle__V1__Category c = WHISTLE__V1__CATEGORY__INIT;
    Whistle__V1__TimeLimit ci, rs;
    char a[80], b[80];

    c.limits = all;
    c.n_limits = 2; /* urgent and the default */
    words_category_limits(&c, &ci, &rs);
    words_limit(&ci, a, sizeof a);
    words_limit(&rs, b, sizeof b);
    cr_assert_str_eq(a, "2 hours");
    cr_assert_str_eq(b, "4 working hours");

    c.n_limits = 3; /* normal's resolve wins; its check-in falls back to the default */
    words_category_limits(&c, &ci, &rs);
    words_limit(&ci, a, sizeof a);
    words_limit(&rs, b, sizeof b);
    cr_assert_str_eq(a, "2 hours");
    cr_assert_str_eq(b, "1 working day");

    c.n_limits = 0; /* only the plain fields */
    c.check_in_minutes = 30;
    c.resolve_hours = 24;
    words_category_limits(&c, &ci, &rs);
    words_limit(&ci, a, sizeof a);
    words_limit(&rs, b, sizeof b);
    cr_assert_str_eq(a, "30 minutes");
    cr_assert_str_eq(b, "24 hours");
}

Test(kiosk_words, a_ticket_is_typed_with_or_without_its_letter)
{
    char t[24];
    cr_assert_eq(words_ticket("E2026112300042", t, sizeof t), 0);
    cr_assert_str_eq(t, "E2026112300042");
    cr_assert_eq(words_ticket("2026112300042", t, sizeof t), 0);
    cr_assert_str_eq(t, "E2026112300042");
    cr_assert_eq(words_ticket("e 20261123 00042", t, sizeof t), 0);
    cr_assert_str_eq(t, "E2026112300042");
    cr_assert_eq(words_ticket("E202611230004", t, sizeof t), -1);
    cr_assert_eq(words_ticket("20261123000421", t, sizeof t), -1);
    cr_assert_eq(words_ticket("X2026112300042", t, sizeof t), -1);
    cr_assert_eq(words_ticket("E20261123000a2", t, sizeof t), -1);
    cr_assert_eq(words_ticket("", t, sizeof t), -1);
}

Test(kiosk_words, phone_numbers_mobile_and_landline)
{
    cr_assert_str_eq(words_phone_problem(""), "");
    cr_assert_str_eq(words_phone_problem("13800135678"), "");
    cr_assert_str_eq(words_phone_problem("01065001234"), "");
    cr_assert_str_eq(words_phone_problem("65001234"), "");
    cr_assert_str_neq(words_phone_problem("1380013567"), "");
    cr_assert_str_neq(words_phone_problem("138001356789"), "");
    cr_assert_str_neq(words_phone_problem("010650"), "");
    cr_assert_str_neq(words_phone_problem("123"), "");
    cr_assert_str_neq(words_phone_problem("138-0013-5678"), "");
}

Test(kiosk_words, a_phone_is_shown_masked)
{
    char m[40];
    words_mask_phone("13800135678", m, sizeof m);
    cr_assert_str_eq(m, "138****5678");
    words_mask_phone("01065001234", m, sizeof m);
    cr_assert_str_eq(m, "010****1234");
    words_mask_phone("65001234", m, sizeof m);
    cr_assert_str_eq(m, "650*1234");
    words_mask_phone("1234", m, sizeof m);
    cr_assert_str_eq(m, "****");
}

Test(kiosk_words, times_are_hours_today_and_dated_otherwise)
{
    char out[40];
    int64_t at = 1795399200000LL + 42 * 60000; /* 2026-11-23 10:42 in Beijing */
    words_when(at, at + 3600000, out, sizeof out);
    cr_assert_str_eq(out, "10:42");
    words_when(at, at + 86400000, out, sizeof out);
    cr_assert_str_eq(out, "11-23 10:42");
    words_when(at, at + 400LL * 86400000, out, sizeof out);
    cr_assert_str_eq(out, "2026-11-23 10:42");
}

typedef struct collected {
    char lines[64][256];
    int n;
} collected;

/* s without its spaces, into out (cut to fit). */
static void squeeze(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++)
        if (*s != ' ')
            out[n++] = *s;
    out[n] = 0;
}

static void collect(void *ud, const char *line, int n)
{
    collected *c = ud;
    cr_assert_eq(n, c->n);
    snprintf(c->lines[c->n++], 256, "%s", line);
}

Test(kiosk_words, wrapping_fits_the_width_and_keeps_the_text)
{
    const char *texts[] = {
        "The street's command center reviews your report and sends it to those who handle it.",
        "如需部门处置，城管执法队、市场监管所须在2小时内报到，24小时内办结。凭此编号和手机号后四位，可在本机查询。",
        "Stall blocking the pavement at building 3, 门口有摊贩（两个）。Averyveryveryverylongwordwithoutanyspace",
    };
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
        for (int width = 8; width <= 40; width += 7) {
            collected c = { 0 };
            int n = words_wrap(texts[t], width, collect, &c);
            cr_assert_eq(n, c.n);
            char joined[2048] = "", plain[2048];
            for (int i = 0; i < c.n; i++) {
                cr_assert_leq(uitext_width(c.lines[i]), width, "line \"%s\" is wider than %d", c.lines[i], width);
                /* no line starts with a closing mark */
                wchar_t first;
                mbstate_t st;
                memset(&st, 0, sizeof st);
                if (*c.lines[i] && mbrtowc(&first, c.lines[i], strlen(c.lines[i]), &st) > 0)
                    cr_assert(!closing_mark(first), "line \"%s\" starts with a closing mark", c.lines[i]);
                strcat(joined, c.lines[i]);
            }
            /* nothing lost but the spaces at the breaks */
            squeeze(plain, sizeof plain, texts[t]);
            char squeezed[2048];
            squeeze(squeezed, sizeof squeezed, joined);
            cr_assert_str_eq(squeezed, plain, "width %d", width);
        }
    collected c = { 0 };
    cr_assert_eq(words_wrap("one\n\ntwo", 20, collect, &c), 3);
    cr_assert_str_eq(c.lines[1], "");
}
