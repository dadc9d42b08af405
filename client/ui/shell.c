/* shell.c: the full-screen programs' shell (shell.h). */
#include "shell.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- start-up */

enum { PARSE_HELP = 1, PARSE_VERSION, PARSE_NO_VALUE = -1, PARSE_UNKNOWN = -2 };

/* The command line: 0, PARSE_HELP or PARSE_VERSION at the first of them,
 * or PARSE_NO_VALUE / PARSE_UNKNOWN with *bad (the option's name, the
 * argument). */
static int parse(const shell_program *p, int argc, char **argv, whistle_settings *flags, const char **bad)
{
    static const char *const keys[] = { "as", "host", "port", "cert", "key", "ca", "pki", "timeout" };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return PARSE_HELP;
        if (strcmp(a, "--version") == 0)
            return PARSE_VERSION;
        const char *name = strncmp(a, "--", 2) == 0 ? a + 2 : NULL;
        if (!name) {
            *bad = a;
            return PARSE_UNKNOWN;
        }
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        const char *found = NULL;
        const char **own = NULL; /* where a value of the program's own goes */
        for (size_t k = 0; !found && k < sizeof keys / sizeof *keys; k++)
            if (strlen(keys[k]) == nl && strncmp(name, keys[k], nl) == 0)
                found = keys[k];
        for (size_t k = 0; !found && k < p->n; k++)
            if (strlen(p->names[k]) == nl && strncmp(name, p->names[k], nl) == 0) {
                found = p->names[k];
                own = p->values[k];
            }
        if (!found) {
            *bad = a;
            return PARSE_UNKNOWN;
        }
        if (!val) {
            *bad = found;
            return PARSE_NO_VALUE;
        }
        if (own)
            *own = val;
        else
            whistle_settings_set(flags, found, val);
        if (!eq)
            i++;
    }
    return 0;
}

/* The option "config" of the program, if it has one. */
static const char *config_of(const shell_program *p)
{
    for (size_t k = 0; k < p->n; k++)
        if (strcmp(p->names[k], "config") == 0)
            return *p->values[k];
    return NULL;
}

int shell_startup(const shell_program *p, int argc, char **argv, bool utf8, whistle_resolved *out)
{
    whistle_settings flags = { 0 };
    const char *bad = NULL;
    int r = parse(p, argc, argv, &flags, &bad);
    if (r == 0 && p->check && p->check(p->ud) < 0)
        r = -1;
    else if (r == PARSE_HELP)
        p->usage(stdout);
    else if (r == PARSE_VERSION)
        printf("%s %s\n", p->name, p->version);
    else if (r == PARSE_NO_VALUE)
        fprintf(stderr, p->no_value, bad);
    else if (r == PARSE_UNKNOWN)
        fprintf(stderr, p->unknown, bad);
    else if (r == 0 && !utf8) {
        fprintf(stderr, "%s\n", p->no_utf8);
        r = -1;
    }
    if (r != 0) {
        whistle_settings_free(&flags);
        return r > 0 ? 1 : -1;
    }

    char err[512];
    whistle_settings env = { 0 }, file = { 0 };
    whistle_settings_from_env(&env);
    r = whistle_settings_from_file(&file, config_of(p), err, sizeof err);
    if (r == 0) {
        const whistle_settings *layers[WHISTLE_LAYERS] = { &flags, &env, &file };
        r = whistle_settings_resolve(layers, p->pki_fallback, out, err, sizeof err);
    }
    whistle_settings_free(&env);
    whistle_settings_free(&file);
    whistle_settings_free(&flags);
    if (r < 0)
        fprintf(stderr, "%s: %s\n", p->name, err);
    else if (!out->opts.cert_file)
        fprintf(stderr, "%s\n", p->no_cert);
    else if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        fprintf(stderr, "%s\n", p->no_terminal);
    else
        return 0;
    return -1;
}

/* ---------------------------------------------------------------- the log */

/* One shell per process (curses has one screen): the log is the process's. */
static struct {
    enum shell_log_to to;
    const char *name;
    int fd;        /* SHELL_LOG_FILE: the file */
    int saved_err; /* stderr as it was, while it points elsewhere (-1: untouched) */
} slog = { SHELL_LOG_STDERR, NULL, -1, -1 };

/* Whether stderr is the terminal the screen is drawn on. */
static bool stderr_is_screen(void)
{
    struct stat e, o;
    if (!isatty(STDERR_FILENO))
        return false;
    if (fstat(STDERR_FILENO, &e) < 0 || fstat(STDOUT_FILENO, &o) < 0)
        return true;
    return !isatty(STDOUT_FILENO) || e.st_rdev == o.st_rdev;
}

int shell_log_open(const char *name, const char *file)
{
    slog.name = name;
    if (file) {
        int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            fprintf(stderr, "%s: --log %s: %s (give a file the program may write)\n", name, file, strerror(errno));
            return -1;
        }
        slog.fd = fd;
        slog.to = SHELL_LOG_FILE;
    } else if (stderr_is_screen()) {
        openlog(name, LOG_PID, LOG_USER);
        slog.to = SHELL_LOG_SYSLOG;
    } else {
        slog.to = SHELL_LOG_STDERR;
    }
    return 0;
}

enum shell_log_to shell_log_target(void) { return slog.to; }

void shell_log(bool warn, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one line: a newline inside would forge another */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    const char *name = slog.name ? slog.name : "whistle";
    if (slog.to == SHELL_LOG_SYSLOG) {
        syslog(warn ? LOG_WARNING : LOG_INFO, "%s", line);
    } else if (slog.to == SHELL_LOG_FILE) {
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        dprintf(slog.fd, "%s %s: %s\n", when, name, line);
    } else {
        fprintf(stderr, "%s: %s\n", name, line);
    }
}

/* stderr away from the screen while it is up (shell.h, the log). */
static void log_take_stderr(void)
{
    if (slog.to == SHELL_LOG_STDERR || slog.saved_err >= 0)
        return;
    int to = slog.to == SHELL_LOG_FILE ? slog.fd : open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (to < 0)
        return;
    fflush(stderr);
    slog.saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    dup2(to, STDERR_FILENO);
    if (to != slog.fd)
        close(to);
}

static void log_give_stderr(void)
{
    if (slog.saved_err < 0)
        return;
    fflush(stderr);
    dup2(slog.saved_err, STDERR_FILENO);
    close(slog.saved_err);
    slog.saved_err = -1;
}

/* ---------------------------------------------------------------- on the loop */

int64_t shell_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_draw(uv_timer_t *t)
{
    shell *sh = t->data;
    sh->draw_pending = false;
    if (!sh->closing)
        sh->cbs.draw(sh->ud);
}

void shell_redraw(shell *sh)
{
    if (sh->closing || sh->draw_pending)
        return;
    sh->draw_pending = true;
    uv_timer_start(&sh->draw, on_draw, sh->opts.draw_ms, 0);
}

bool shell_closing(const shell *sh) { return sh->closing; }

/* Keys are read until none is left (at most a screenful of them per turn,
 * so that a paste cannot starve the loop), then drawn once. */
static void on_input(uv_poll_t *h, int status, int events)
{
    shell *sh = h->data;
    (void)events;
    if (status < 0) {
        sh->cbs.stop(sh->ud);
        return;
    }
    wint_t ch;
    int r, n = 0;
    while (!sh->closing && (r = get_wch(&ch)) != ERR && n++ < 256)
        sh->cbs.key(sh->ud, ch, r == KEY_CODE_YES);
    shell_redraw(sh);
}

static void on_winch(uv_signal_t *s, int sig)
{
    shell *sh = s->data;
    (void)sig;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        resizeterm(ws.ws_row, ws.ws_col);
    clear();
    shell_redraw(sh);
}

static void on_stop_signal(uv_signal_t *s, int sig)
{
    shell *sh = s->data;
    (void)sig;
    sh->cbs.stop(sh->ud);
}

int shell_start(shell *sh, uv_loop_t *loop, const shell_opts *o, const shell_cbs *cbs, void *ud)
{
    memset(sh, 0, sizeof *sh);
    sh->cbs = *cbs;
    sh->ud = ud;
    sh->opts = *o;
    int r;
    if ((r = uv_signal_init(loop, &sh->winch)) < 0 || (r = uv_signal_init(loop, &sh->sigint)) < 0 ||
        (r = uv_signal_init(loop, &sh->sigterm)) < 0 || (r = uv_signal_init(loop, &sh->sighup)) < 0 ||
        (r = uv_timer_init(loop, &sh->draw)) < 0 || (r = uv_poll_init(loop, &sh->in, STDIN_FILENO)) < 0)
        return r;
    sh->winch.data = sh->sigint.data = sh->sigterm.data = sh->sighup.data = sh;
    sh->draw.data = sh->in.data = sh;
    uv_signal_start(&sh->winch, on_winch, SIGWINCH);
    uv_signal_start(&sh->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&sh->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&sh->sighup, on_stop_signal, SIGHUP);
    signal(SIGPIPE, SIG_IGN);

    log_take_stderr();
    initscr();
    if (o->raw)
        raw();
    else
        cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    return uv_poll_start(&sh->in, UV_READABLE, on_input);
}

static void on_closed(uv_handle_t *h) { (void)h; }

void shell_close(shell *sh)
{
    if (sh->closing)
        return;
    sh->closing = true;
    uv_handle_t *hs[] = { (uv_handle_t *)&sh->draw,   (uv_handle_t *)&sh->in,      (uv_handle_t *)&sh->winch,
                          (uv_handle_t *)&sh->sigint, (uv_handle_t *)&sh->sigterm, (uv_handle_t *)&sh->sighup };
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

void shell_end(void)
{
    endwin();
    log_give_stderr();
}
