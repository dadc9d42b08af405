/* shell.h: what a full-screen program (whistle-console, whistle-kiosk)
 * has around its own screen: its start-up (the options every client takes,
 * the connection settings, the locale and the terminal), and, on its libuv
 * loop, the terminal (curses), the keyboard, resizes, the stop signals and
 * the deferred drawing. The program keeps its screens, keys and words; the
 * shell calls it back for them.
 *
 * One shell per process (curses has one screen). Everything runs on the
 * loop's thread; callbacks run from the loop. The shell prints nothing:
 * its start-up functions say what went wrong by their return value, and
 * the program says it to people in its own words (and language). */
#ifndef WHISTLE_SHELL_H
#define WHISTLE_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <wchar.h>

#include "whistle/settings.h"

/* ---- start-up */

/* What shell_parse and shell_settings found. */
enum {
    SHELL_HELP = 1,               /* --help or -h: print the usage, exit 0 */
    SHELL_VERSION = 2,            /* --version: exit 0 */
    SHELL_ERR_NO_VALUE = -1,      /* an option without its value (*bad: its name) */
    SHELL_ERR_UNKNOWN = -2,       /* not an option of this program (*bad: the argument) */
    SHELL_ERR_SETTINGS = -3,      /* the settings do not resolve (err says why) */
    SHELL_ERR_NO_CERT = -4,       /* no client certificate was given */
    SHELL_ERR_NO_TERMINAL = -5,   /* stdin or stdout is not a terminal */
};

/* Reads the command line: the connection flags every client takes (--as,
 * --host, --port, --cert, --key, --ca, --pki, --timeout: into flags) and
 * the program's own options (names[i] without the dashes: its value in
 * *values[i]; the strings point into argv), as "--name value" or
 * "--name=value". Returns 0, SHELL_HELP or SHELL_VERSION at the first of
 * them, or SHELL_ERR_NO_VALUE / SHELL_ERR_UNKNOWN with *bad set. flags is
 * the caller's to free in every case. */
int shell_parse(int argc, char **argv, const char *const *names, const char **const *values, size_t n,
                whistle_settings *flags, const char **bad);

/* The connection settings: flags, then the WHISTLE_* environment, then the
 * config file (config; NULL: the default one), then the dev PKI fallback
 * pki_fallback (whistle_settings_resolve). Frees flags. Then checks that a
 * client certificate was given and that stdin and stdout are a terminal.
 * Returns 0, or a SHELL_ERR_* (SHELL_ERR_SETTINGS with err). */
int shell_settings(whistle_settings *flags, const char *config, const char *pki_fallback, whistle_resolved *out,
                   char *err, size_t errlen);

/* ---- on the loop */

typedef struct shell_cbs {
    /* A key: a character, or (is_key) a KEY_* code. */
    void (*key)(void *ud, wint_t ch, bool is_key);
    /* Draws the whole screen (shell_redraw asked for it). */
    void (*draw)(void *ud);
    /* SIGINT, SIGTERM or SIGHUP came, or the terminal went away: the
     * program leaves (and calls shell_close). */
    void (*stop)(void *ud);
} shell_cbs;

typedef struct shell_opts {
    bool raw;         /* raw(): Ctrl-C and Ctrl-Z are keys; else cbreak() */
    unsigned draw_ms; /* how long a redraw waits, so that a burst draws once */
} shell_opts;

typedef struct shell {
    shell_cbs cbs;
    void *ud;
    shell_opts opts;
    bool draw_pending;
    bool closing;
    uv_timer_t draw;
    uv_poll_t in;
    uv_signal_t winch, sigint, sigterm, sighup;
} shell;

/* Takes the stop signals and SIGWINCH on loop (before curses, so that
 * ncurses installs no handler of its own: the loop learns of a resize),
 * ignores SIGPIPE, starts curses (no echo, keypad, no delay, no cursor)
 * and reads the keyboard. sh must stay put until the loop has ended.
 * Returns 0 or a negative libuv error. */
int shell_start(shell *sh, uv_loop_t *loop, const shell_opts *o, const shell_cbs *cbs, void *ud);

/* Asks for a draw in draw_ms (one for any number of asks meanwhile);
 * nothing once the shell is closing. */
void shell_redraw(shell *sh);

/* Whether shell_close was called: the program is leaving. */
bool shell_closing(const shell *sh);

/* Closes the shell's handles (the loop can then end); curses stays until
 * shell_end. Safe to call more than once. */
void shell_close(shell *sh);

/* Gives the terminal back (endwin), after the loop has ended. */
void shell_end(void);

/* The local wall clock, in Unix milliseconds. */
int64_t shell_clock_ms(void);

#endif
