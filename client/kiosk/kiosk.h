/* kiosk.h: whistle-kiosk, the resident's screen at the community service
 * hall (社区自助终端).
 *
 * One thread, one libuv loop, as whistle-console: libwhistle's session
 * (whistle/session.h: the connection that comes back by itself; a kiosk
 * follows no stream), the shell (client/ui/shell.h: the terminal, the
 * keyboard, SIGWINCH, the stop signals, the deferred draw), and timers (the
 * idle clock, the emergency confirmation's 10 s, a one-second tick for the
 * clock on screen, a call's own time limit). Nothing ever blocks, so the
 * emergency key and the idle clock work while a call is in flight or the
 * service is down.
 *
 * Files: main.c (options, the loop, timers), net.c (connection, loading
 * the directory, the calls), flow.c (screens and keys: what each key does
 * where, the resident's draft, wiping it), draw.c (drawing), words.c (plain
 * words: states, timeline entries, time limits, phone and ticket rules,
 * line wrapping). docs/kiosk.md is the guide.
 *
 * Privacy: the kiosk makes only the calls hello, list_categories,
 * list_nodes, list_departments, list_services, report, lookup_ticket, rate
 * and emergency_call, and for the volunteers' loop (docs/volunteers.md)
 * get_volunteer_config, add_wish, confirm_wish (with the slip and the
 * phone's digits) and points_balance (with the volunteer's card code); it
 * never shows a phone number in full after it was
 * typed, never lists cases, and wipes what a resident typed or looked up
 * when they are done or walk away. */
#ifndef WHISTLE_KIOSK_H
#define WHISTLE_KIOSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <wchar.h>

#include "whistle/async.h"
#include "whistle/names.h"
#include "whistle/session.h"
#include "whistle/settings.h"

#include "shell.h"
#include "uitext.h" /* _(), N_(), display width */

enum kscreen {
    S_HOME,
    /* report a problem */
    S_MAJOR,
    S_MINOR,
    S_PLACE,
    S_DESC,
    S_PHONE,
    S_CONFIRM,
    S_SENDING,
    S_SEND_FAILED,
    S_DONE,
    /* look up, rate: the ticket and the phone's last 4 digits first */
    S_TICKET,
    S_LAST4,
    S_ASKING,
    S_RESULT,
    S_NOT_FOUND,
    S_SCORE,
    S_COMMENT,
    S_RATING,
    S_RATED,
    /* the service guide */
    S_GUIDE_CLASSES,
    S_GUIDE_ITEMS,
    S_GUIDE_ITEM,
    /* the community's echo board (民情回音栏): one page of notices */
    S_BOARD,
    /* the emergency call */
    S_EMERG_CONFIRM,
    S_EMERG_CALLING,
    S_EMERG_SENT,
    /* a small wish (微心愿): its category, then S_DESC and S_PHONE */
    S_WISH_CAT,
    /* a message and a key to go on (notice_text says it) */
    S_NOTICE,
};

/* What S_TICKET and S_LAST4 are for. */
enum purpose { P_LOOKUP, P_RATE, P_WISH, P_WISH_CONFIRM, P_BALANCE };

/* A line of text being typed, as wide characters (an input method's
 * Chinese arrives as such through get_wch). */
#define FIELD_CAP 256
typedef struct field {
    wchar_t buf[FIELD_CAP];
    size_t len, cur, max;
    bool replace; /* offered again as it was (a retry): the first character typed replaces it,
                     an arrow or Backspace edits it instead */
} field;

#define DESC_MAX 200    /* characters of a description (the daemon takes 4000 bytes) */
#define COMMENT_MAX 100 /* characters of a rating's comment (the daemon takes 500 bytes) */
#define PHONE_MAX 12
#define MAX_DEPTH 6    /* places chosen below the kiosk's scope: grid, building, ... */
#define MAX_ITEMS 1024 /* choices a list screen holds */

/* What one resident has typed and chosen: wiped (explicit_bzero) when they
 * are done or walk away. Codes, not pointers, so that a reload of the
 * directory meanwhile leaves nothing dangling. */
typedef struct draft {
    char major[8], minor[8];
    char place[MAX_DEPTH][24]; /* the path chosen below the scope */
    size_t depth;
    bool here; /* the last choice was "not sure" / "not in a building": the place above */
    field desc, phone, ticket, last4, comment;
    char key[40];         /* the report's or the rating's idempotency key, kept for retries */
    char ticket_norm[24]; /* the ticket being looked up or rated */
    char last4_norm[12];  /* the phone's last 4 digits, or a volunteer's 8-digit card code */
    unsigned score;
    /* answers */
    char filed[24]; /* the ticket the report got */
    char filed_cat[8];
    Whistle__V1__Response *looked; /* lookup_ticket's answer (the case, no phone) */
    char wish_cat[40];             /* the category of wish chosen */
} draft;

/* A list screen's cursor. */
typedef struct listpos {
    size_t sel;
} listpos;

typedef struct kiosk {
    uv_loop_t *loop;
    whistle_resolved settings;
    unsigned idle_s; /* 0: never */
    char device[80]; /* EmergencyCall.device: --device, else the principal's name */
    /* connection (its state: the session's) */
    whistle_session *session; /* NULL once leaving */
    bool hello;               /* this connection said Hello (for the log's words) */
    bool ever_live;
    char who[80];
    char scope[32]; /* the kiosk's place (a community) */
    /* the directory (whole answers; freed on reload) */
    Whistle__V1__Response *cats, *depts, *nodes, *services;
    bool services_missing;         /* list_services refused (not there yet, or failed) */
    Whistle__V1__Response *board;  /* list_board: the community's echo board, loaded with the directory */
    bool board_missing;            /* list_board refused or failed */
    Whistle__V1__Response *wishes; /* get_volunteer_config: the community's categories of wish */
    int loads;
    int64_t loaded_ms; /* local clock: when the directory was loaded */
    /* the resident's session */
    enum kscreen screen;
    enum purpose purpose;
    draft d;
    listpos lp[S_NOTICE + 1]; /* each list screen's cursor */
    int scroll;               /* rows scrolled on a long page */
    char guide_class[8], guide_item[8];
    char message[300]; /* a line of advice under the screen ("please describe the problem") */
    char notice_text[600];
    enum kscreen notice_back; /* where a key goes from S_NOTICE */
    /* the call in flight (one at a time, besides the emergency) */
    unsigned gen; /* bumped by a wipe: an answer for an older session is dropped */
    uint64_t call_id;
    void *call_ud; /* the call's context (net.c), freed here if the call is cancelled */
    int call_what; /* enum call_kind of the call in flight */
    bool call_busy;
    int waiting_call; /* enum call_kind waiting for the connection (0: none) */
    /* the emergency call */
    enum kscreen emerg_return; /* the screen the confirmation covers */
    int64_t emerg_deadline;    /* local ms: the confirmation cancels itself then */
    char emerg_key[40];
    bool emerg_busy, emerg_waiting;
    uint64_t emerg_id;
    char emerg_ticket[24];
    /* lifecycle */
    bool fatal;
    char fatal_err[400];
    shell sh;
    uv_timer_t tick, idle, call_timer, emerg_timer, confirm_timer;
} kiosk;

/* main.c */
void kiosk_redraw(kiosk *k);
void kiosk_quit(kiosk *k);
/* Restarts the idle clock (every key, every answer). */
void kiosk_touch(kiosk *k);
/* Runs the call's own time limit (a call that takes longer failed). */
void kiosk_call_timer(kiosk *k, bool on);

/* net.c */
void net_start(kiosk *k);
/* Closes the session: the calls in flight get no answer. */
void net_stop(kiosk *k);
bool net_live(const kiosk *k);
/* The session's state (OFFLINE once leaving). */
whistle_session_state net_state(const kiosk *k);
/* Reloads the directory when it is older than a while (called at home). */
void net_maybe_reload(kiosk *k);
/* The calls: the answer comes to flow_answer. Each returns 0 if sent,
 * negative if not (offline). */
int net_report(kiosk *k);
int net_lookup(kiosk *k);
int net_rate(kiosk *k);
int net_emergency(kiosk *k);
int net_wish_add(kiosk *k);
int net_wish_confirm(kiosk *k);
int net_balance(kiosk *k);
/* The call in flight gives up (its time limit passed). */
void net_call_timeout(kiosk *k);
void net_emergency_timeout(kiosk *k);
/* directory lookups (NULL when absent) */
const Whistle__V1__Category *net_category(const kiosk *k, const char *code);
const Whistle__V1__Node *net_node(const kiosk *k, const char *code);
const char *net_dept_name(const kiosk *k, const char *code);
const Whistle__V1__ServiceClass *net_service_class(const kiosk *k, const char *code);
const Whistle__V1__ServiceItem *net_service_item(const kiosk *k, const char *code);

/* flow.c */
enum call_kind { CALL_REPORT = 1, CALL_LOOKUP, CALL_RATE, CALL_WISH_ADD, CALL_WISH_CONFIRM, CALL_BALANCE };
void flow_key(kiosk *k, wint_t ch, bool is_key);
/* status < 0: no answer (the connection closed, or the time limit). */
void flow_answer(kiosk *k, enum call_kind what, int status, Whistle__V1__Response *resp);
void flow_emergency_answer(kiosk *k, int status, Whistle__V1__Response *resp);
/* The connection is up and the directory loaded: what waited goes now. */
void flow_net_live(kiosk *k);
/* The idle clock ran out: home, and everything typed is wiped. */
void flow_idle(kiosk *k);
void flow_emergency_expired(kiosk *k);
/* Back to the home screen, wiping the session. */
void flow_home(kiosk *k);

/* The items a list screen shows: codes (or "" for the "not sure" choice
 * of the place list), in order. Fills and returns at most max. */
size_t flow_items(kiosk *k, enum kscreen s, const char **codes, size_t max);
/* Where the place list is (the last chosen place, or the scope). */
const char *flow_place_parent(const kiosk *k);
/* The node the report goes to. */
const char *flow_place_node(const kiosk *k);

/* draw.c */
void draw_init(void);
void draw_screen(kiosk *k);
/* How many choices fit on a page of a list screen now. */
size_t draw_per_page(void);
/* Content rows of a page screen, for scrolling. */
int draw_page_rows(void);

/* words.c: plain words for people */
const char *words_state(Whistle__V1__EventState s);
/* One timeline entry as a sentence, without its time ("城管执法队已报到").
 * dept: the department's name (NULL or "" when not an order's entry). */
void words_timeline(const Whistle__V1__TimelineEntry *t, const char *dept, char *out, size_t len);
/* "2 hours", "3 working days"; "" for no limit. */
void words_limit(const Whistle__V1__TimeLimit *t, char *out, size_t len);
/* The category's limits for a normal report: from its limits by priority
 * (normal, else the default), else its plain minutes and hours. */
void words_category_limits(const Whistle__V1__Category *c, Whistle__V1__TimeLimit *check_in,
                           Whistle__V1__TimeLimit *resolve);
/* "10:42" today, "11-22 10:42" another day (local time). */
void words_when(int64_t at_ms, int64_t now_ms, char *out, size_t len);
/* A typed ticket: "E" and 13 digits, or just the 13 digits; spaces and a
 * lower-case e are fine. Writes "E" + 13 digits; 0, or -1. */
int words_ticket(const char *typed, char *out, size_t len);
/* A phone number: "" when it is fine, else what is wrong, for people. */
const char *words_phone_problem(const char *digits);
/* 13800135678 -> 138****5678. */
void words_mask_phone(const char *digits, char *out, size_t len);
/* Cuts s into lines of at most width columns: at spaces, and between
 * Chinese characters (not before a closing mark, not after an opening one).
 * Calls emit for each line (without the newline); "\n" in s breaks too.
 * Returns the number of lines. */
int words_wrap(const char *s, int width, void (*emit)(void *ud, const char *line, int n), void *ud);

/* field helpers (flow.c) */
void field_init(field *f, size_t max);
void field_wipe(field *f);
/* The field as UTF-8 (trimmed of spaces at both ends). */
void field_text(const field *f, char *out, size_t len);

#endif
