/* console.h: whistle-console, the street command center's live screen.
 *
 * One thread, one libuv loop: libwhistle's session (whistle/session.h: the
 * connection that comes back by itself, the stream followed from its
 * cursor), the shell (client/ui/shell.h: the terminal, the keyboard,
 * SIGWINCH, the stop signals, the deferred draw), and timers (the
 * countdowns tick every second; a ping every few seconds measures the
 * server's clock; statistics refresh). Nothing ever blocks, so the screen
 * keeps counting down while a call is in flight.
 *
 * Files: main.c (options, the loop), net.c (connection, loading, pushes,
 * acknowledgements, calls), model.c (cases, orders, alerts), ui.c
 * (drawing), input.c (keys, prompts), meeting.c (the meeting screen of
 * --meeting N: loading, pushes, drawing and keys of its own).
 * docs/console.md is the user's guide; docs/deliberation.md the meeting
 * screen's. */
#ifndef WHISTLE_CONSOLE_H
#define WHISTLE_CONSOLE_H

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

/* Tab goes round them: the case feed, the month's statistics, the
 * communities' open wishes (docs/volunteers.md). */
enum view { VIEW_CASES, VIEW_STATS, VIEW_WISHES };
#define MAX_WISH_COMMUNITIES 64

typedef struct named {
    char *code, *name; /* name: in the locale's language if the data has it */
    char *depts;       /* categories: the responsible departments, "a,b" */
} named;

typedef struct alert {
    int64_t at_ms;
    int level;         /* 0 info, 1 overdue, 2 escalated or emergency */
    uint64_t order_id; /* an extension request: the order its keys (x, X) act on */
    char text[300];
} alert;

#define MAX_ALERTS 64
#define MAX_EMERGENCIES 32

/* A line of the case feed: a case, or one of its orders below it. */
typedef struct row {
    size_t kase;                     /* index into cases */
    const Whistle__V1__Order *order; /* NULL: the case's own line */
} row;

/* The line being typed at the bottom of the screen. */
typedef struct prompt {
    bool active;
    int kind;        /* what the answer is for (input.c) */
    char label[200]; /* as long as the labels the keys build */
    wchar_t buf[512];
    size_t len, cur;
    char ticket[40];
    uint64_t order_id;
    char extra[2048]; /* a first answer, for two-step prompts */
} prompt;

/* --meeting N (meeting.c): a deliberative meeting's screen in place of the
 * case feed, for the chair and the members (and whoever may read the
 * meeting). Nothing of the case feed is loaded or shown in this mode. */
typedef struct meeting_screen {
    uint64_t id;                  /* 0: not this mode */
    Whistle__V1__DelibMeeting *m; /* the latest copy (unpacked, ours), NULL until loaded */
    uint64_t m_at;                /* uv_now() when it came: the server's time runs on from m->server_ms */
    Whistle__V1__DelibBody *body; /* its body (seats, rules), ours */
    int seat_role;                /* DelibSeatRole of this principal, 0: no seat */
    bool poll;                    /* no pushes reach this principal: ask again every tick */
    bool asking;                  /* a get_meeting is in flight */
    size_t sel;                   /* the selected agenda item (index) */
    int confirm;                  /* an action waiting for y (DelibAction), 0: none */
} meeting_screen;

typedef struct console {
    uv_loop_t *loop;
    meeting_screen mt;
    whistle_resolved settings;
    /* connection (its state, the stream's seqs: the session's) */
    whistle_session *session; /* NULL once leaving */
    char net_err[300];
    int loads;        /* list calls still to answer before going live */
    char stream[160]; /* the stream followed (HelloResult.streams[0], or --stream) */
    char who[80];     /* principal, for the header */
    char scope[32];
    Whistle__V1__Role role;
    /* the server's clock: server = local + offset */
    int64_t offset_ms;
    /* data */
    Whistle__V1__Event **cases;
    size_t n_cases, cap_cases;
    Whistle__V1__Order **orders;
    size_t n_orders, cap_orders;
    named *cats, *depts, *nodes;
    size_t n_cats, n_depts, n_nodes;
    alert alerts[MAX_ALERTS];
    size_t n_alerts; /* ring: the newest is alerts[(n_alerts - 1) % MAX] */
    struct {
        char ticket[40];
        uint64_t seq;
    } emergencies[MAX_EMERGENCIES];
    size_t n_emergencies;
    char acknowledged[MAX_EMERGENCIES][40]; /* emergencies acknowledged here */
    size_t n_acknowledged;
    Whistle__V1__Response *stats_depts, *stats_places; /* the latest statistics */
    Whistle__V1__Response *stats_archive;              /* the resident archive's counts (docs/archive.md) */
    /* list_wishes per community of the scope (the wishes view), the latest each */
    Whistle__V1__Response *wishes[MAX_WISH_COMMUNITIES];
    size_t n_wishes;
    bool stats_dirty;
    /* screen */
    enum view view;
    row *rows;
    size_t n_rows, cap_rows;
    size_t sel, top;
    char sel_ticket[40];
    uint64_t sel_order;
    prompt pr;
    char status[300];
    int64_t status_until;
    bool help;
    bool fatal; /* leaving because it cannot work: net_err says why */
    /* handles */
    shell sh;
    uv_timer_t tick, ping, stats;
} console;

/* main.c */
int64_t console_now(const console *k); /* the server's clock, as measured */
void console_status(console *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void console_redraw(console *k);
/* Leaves: acknowledges what was handled, closes the connection and the
 * handles; the loop then ends. */
void console_quit(console *k);

/* net.c */
void net_start(console *k);
/* Acknowledges what was handled and closes the session. */
void net_stop(console *k);
/* The session's state (OFFLINE once leaving). */
whistle_session_state net_state(const console *k);
void net_ping(console *k);
void net_refresh_stats(console *k);
/* Reads the open wishes of every community in the scope (the wishes view). */
void net_refresh_wishes(console *k);
void net_ack(console *k);
/* Calls for the keys; the answer shows on the status line. */
void net_file(console *k, const char *ticket);
void net_reject(console *k, const char *ticket, const char *reason);
void net_assign(console *k, const char *ticket, const char *who);
void net_whistle(console *k, const char *ticket, const char *depts, Whistle__V1__WhistleKind kind);
void net_close_case(console *k, const char *ticket);
void net_verify(console *k, const char *ticket);
void net_decide(console *k, uint64_t order, bool approve, const char *note);
void net_park(console *k, const char *ticket, bool park, const char *reason);

/* model.c */
void model_free(console *k);
/* Keeps the newer (by version) copy; takes ownership of nothing. */
void model_put_event(console *k, const Whistle__V1__Event *e);
void model_put_order(console *k, const Whistle__V1__Order *o);
Whistle__V1__Event *model_event(console *k, const char *ticket);
void model_alert(console *k, int level, int64_t at_ms, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An emergency to take over the screen (unless acknowledged here before). */
void model_emergency(console *k, const char *ticket, uint64_t seq);
void model_acknowledge(console *k, const char *ticket);
/* The seq below which everything is handled: acks stop before an
 * emergency nobody has acknowledged yet. */
uint64_t model_ack_limit(const console *k);
void model_names(named **v, size_t *n, const char *code, const char *name, const char *depts);
const named *model_find(const named *v, size_t n, const char *code);
/* Rebuilds the feed's rows: open cases, most urgent first (an emergency
 * not taken up, then by priority; within one, late first, then by the
 * nearest deadline), each with its live orders. Keeps the selection on the same case or order. */
void model_rows(console *k);
/* The deadline an order runs against now (0: none) and what it is for. */
int64_t model_order_due(const Whistle__V1__Order *o, const char **what);
bool model_case_open(const Whistle__V1__Event *e);
/* The case's priority as a rank: 3 urgent, 2 high, 1 normal (or unset), 0 low. */
int model_priority_level(const Whistle__V1__Event *e);

/* The outcome of a call made for a key (net.c's act_send): the meeting
 * screen's calls go through it as the case keys' do. what: the action in
 * words, for the status line. */
void net_send_act(console *k, Whistle__V1__Request *req, const char *what);

/* meeting.c */
/* The roles that may follow a meeting: those the daemon lets read one
 * (the roles that may hold a seat: model/authz.c, DELIB_ROLES). */
bool meeting_role_ok(Whistle__V1__Role role);
/* On every connection, after Hello: loads the meeting and its body, then
 * follows the stream (or polls when none reaches this principal). */
void meeting_load(console *k);
/* A push of the followed stream; takes nothing (the caller frees it). */
void meeting_push(console *k, const Whistle__V1__Push *p);
/* An answer to a call that carries the meeting: newer copies replace older. */
void meeting_put(console *k, const Whistle__V1__DelibMeeting *m);
/* Every second: the countdown, and the poll when it polls. */
void meeting_tick(console *k);
void meeting_free(console *k);
/* Draws the meeting between the header and the status line. */
void meeting_draw(console *k, int y0, int h, int w);
/* The key line and the help box. */
const char *meeting_keys(const console *k, int w);
void meeting_help(console *k, int w, int h);
/* A key (not in a prompt); prompts end in meeting_prompt. */
void meeting_key(console *k, wint_t ch, bool is_key);
void meeting_prompt(console *k, int kind, const char *text);
/* Prompt kinds from here up are meeting.c's. */
#define MEETING_PROMPTS 100

/* input.c: a prompt on the status line (kind: what the answer is for) */
void input_prompt_open(console *k, int kind, const char *label, const char *initial);

/* ui.c */
void ui_init(void);
void ui_draw(console *k);
#define ui_width uitext_width
/* s at (y, x) in at most maxw columns ("…" marks a cut), then spaces up
 * to pad columns. Returns the columns written. */
int ui_put(int y, int x, const char *s, int maxw, int pad, unsigned long attr);
enum { UI_OK = 1, UI_NEAR, UI_LATE, UI_SOS, UI_TITLE, UI_HEAD, UI_DIM }; /* colour pairs */

/* input.c */
void input_key(console *k, wint_t ch, bool is_key);

#endif
