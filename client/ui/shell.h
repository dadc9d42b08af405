/* shell.h: what a full-screen program (whistle-console, whistle-kiosk)
 * has around its own screen: its start-up (the options every client takes,
 * the connection settings, the locale and the terminal), and, on its libuv
 * loop, the terminal (curses), the keyboard, resizes, the stop signals and
 * the deferred drawing. The program keeps its screens, keys and words; the
 * shell calls it back for them.
 *
 * One shell per process (curses has one screen). Everything runs on the
 * loop's thread; callbacks run from the loop. The shell has no words of
 * its own: what start-up prints is in the program's words and language
 * (shell_program), so each program's catalogue keeps its texts. */
#ifndef WHISTLE_SHELL_H
#define WHISTLE_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>
#include <wchar.h>

#include "whistle/settings.h"

/* ---- start-up */

/* A program's start-up: what it is called, its own options, its words. */
typedef struct shell_program {
    const char *name; /* "whistle-console": the prefix of its messages */
    const char *version;
    void (*usage)(FILE *out);
    const char *const *names;   /* its own options, without the dashes ("config", ...) */
    const char **const *values; /* where their values go (pointers into argv) */
    size_t n;
    /* Checks the values of its own options: 0, or it says what is wrong
     * on stderr and returns negative. NULL: nothing to check. */
    int (*check)(void *ud);
    void *ud;
    const char *pki_fallback; /* the dev PKI when neither --pki nor ./var/pki */
    /* Its words, in its language (or English): formats of one line with
     * its newline, taking the option's name or the argument; then lines
     * without it. */
    const char *no_value, *unknown;
    const char *no_utf8, *no_cert, *no_terminal;
} shell_program;

/* Start-up as the screens do it, in this order: the command line (the
 * connection flags every client takes, --as, --host, --port, --cert,
 * --key, --ca, --pki, --timeout, and the program's own options, as
 * "--name value" or "--name=value"); --help (or -h) and --version print
 * and end it; the program's check; the locale (utf8: whether
 * uitext_locale_init, called before anything is printed, found UTF-8);
 * the settings (flags, the WHISTLE_* environment, the config file of the
 * option "config" if the program has it), a client certificate, and a
 * terminal on stdin and stdout. Says what is wrong on stderr, in the
 * program's words. Returns 0 to go on, 1 for a clean end (help, version),
 * or negative: the program exits with 2. */
int shell_startup(const shell_program *p, int argc, char **argv, bool utf8, whistle_resolved *out);

/* ---- the log
 *
 * While the screen is up, nothing but the screen may reach the terminal: a
 * line written to it would be drawn over the resident's or the operator's
 * page (under `cage -- foot -- whistle-kiosk` stderr is that terminal).
 * So from shell_start to shell_end the program's log lines (shell_log) go
 * to, in this order of choice:
 *
 *   - the file of --log FILE, appended, each line with its local time; the
 *     process's stderr points there too meanwhile, so that whatever else
 *     writes to stderr (a library, a sanitizer) lands in the file as well;
 *   - stderr as it is, when it is not the screen's terminal (the journal
 *     under systemd, a file, a pipe);
 *   - else syslog (the journal under systemd) as NAME, and stderr points
 *     at /dev/null meanwhile.
 *
 * Before shell_start and after shell_end stderr is untouched: start-up
 * errors and the last word of a program that gives up reach the person
 * who started it. */
enum shell_log_to { SHELL_LOG_STDERR, SHELL_LOG_FILE, SHELL_LOG_SYSLOG };

/* Chooses where the log goes (above): file NULL for no --log. A file that
 * cannot be opened is a start-up error: it says so on stderr, in English
 * (a line for the staff), and returns negative. */
int shell_log_open(const char *name, const char *file);

/* Where the log goes. */
enum shell_log_to shell_log_target(void);

/* One line of the log (without its newline), for the staff, in English;
 * warn: something went wrong (syslog's warning level, else info). Before
 * shell_log_open: stderr. */
void shell_log(bool warn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
 * ignores SIGPIPE, turns stderr away from the screen (the log, above),
 * starts curses (no echo, keypad, no delay, no cursor) and reads the
 * keyboard. sh must stay put until the loop has ended.
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

/* Gives the terminal back (endwin), and stderr with it, after the loop
 * has ended. */
void shell_end(void);

/* The local wall clock, in Unix milliseconds. */
int64_t shell_clock_ms(void);

#endif
