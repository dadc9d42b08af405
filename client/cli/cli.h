/* cli.h: the whistle command-line client's internals. */
#ifndef WHISTLE_CLI_H
#define WHISTLE_CLI_H

#include <jansson.h>
#include <libintl.h>
#include <stdbool.h>
#include <stdio.h>

#include "uitext.h" /* _(), N_(), display widths */
#include "whistle/client.h"

/* Text for people goes through gettext (the CLI's message catalogue). */
#ifndef _
#define _(s) gettext(s)
#endif
#ifndef N_
#define N_(s) (s)
#endif

/* Exit statuses (documented in `whistle --help`). */
enum { EXIT_OK = 0, EXIT_SERVER = 1, EXIT_USAGE = 2, EXIT_CONN = 3 };

#define CLI_MAX_OPTS 12

typedef struct cli {
    whistle_settings flags; /* the command line's layer of settings */
    const char *config;     /* --config FILE, or NULL */
    const char *idempotency_key; /* --idempotency-key, or NULL: random */
    bool json;
    bool quiet;             /* -q: print only the ids (tickets, order ids, codes) */
    whistle_client *client; /* connected on first use */
    whistle_resolved conn;  /* the settings it was connected with */
    struct cli_names *names; /* names.c's directory names, read on first need */
} cli;

typedef struct cmd_opt {
    const char *name; /* long option, without "--" */
    const char *arg;  /* metavariable ("CODE"), or NULL for a flag */
    const char *help;
} cmd_opt;

typedef struct cmd cmd;

/* A command line after parsing against a command's options. */
typedef struct args {
    const cmd *c;
    const char *val[CLI_MAX_OPTS]; /* by index into c->opts; flags get "" */
    char *multi[CLI_MAX_OPTS];     /* repeated options, joined by ',' (owned) */
    char **pos;
    int npos;
} args;

struct cmd {
    const char *name;
    const char *synopsis; /* after "whistle NAME " */
    const char *summary;
    const cmd_opt *opts;  /* terminated by {NULL} */
    int min_pos, max_pos; /* positional arguments; max -1: any number */
    int (*run)(cli *x, args *a); /* NULL with opts NULL: a group of subcommands (admin.c) */
};

/* commands.c */
extern const cmd cli_commands[];
/* oversight.c: deadlines, supervision, exceptions, statistics */
extern const cmd cli_oversight_commands[];
/* services.c: the public service guide */
extern const cmd cli_services_commands[];
const cmd *cli_find(const char *name);
void cli_print_command_help(const cmd *c, FILE *out);
/* Parses argv (argv[0] is the command's name) and runs c. Exit status. */
int cli_run(cli *x, const cmd *c, int argc, char **argv);

/* admin.c: the groups admin, admission and task; argv[0] is the group. */
int cli_group_main(cli *x, int argc, char **argv);
void cli_group_help(const char *group, FILE *out);

/* main.c */
/* Connects if not yet connected. 0, or an exit status (message printed). */
int cli_connect(cli *x);
/* Connects if needed, sets an idempotency key on writes, calls, and checks
 * the status. Returns 0 with *resp, or an exit status (message printed). */
int cli_call(cli *x, Whistle__V1__Request *req, Whistle__V1__Response **resp);
/* Prints "whistle: ..." on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Tries argv[i] as a global option (for options given after the command).
 * Returns the number of argv entries taken (1 or 2), 0 if it is not a
 * global option, or -1 after printing a usage error. */
int cli_global_option(cli *x, int argc, char **argv, int i);

/* names.c: names of places, categories and departments in the locale's
 * language (uitext_pick), read quietly from the directory on first need
 * over the command's connection; NULL when there is none to be had. Only
 * for human output. */
const char *cli_node_name(cli *x, const char *code);
const char *cli_category_name(cli *x, const char *code);
const char *cli_department_name(cli *x, const char *code);
/* Reads every node of a kind in the caller's scope at once (statistics by
 * grid: one call, not one per community). */
void cli_names_load_kind(cli *x, Whistle__V1__NodeKind kind);
/* name if there is one, else code (never NULL). */
const char *cli_or(const char *name, const char *code);
void cli_names_free(cli *x);

/* output.c: the protocol's words in the locale's language, for people:
 * states, priorities, kinds, sources, node kinds, roles (the words --json
 * prints and the options take stay as they are); and the actions of the
 * timeline and of pushes. An unknown word comes back unchanged. */
const char *cli_word(const char *w);
const char *cli_action_word(const char *w);

/* output.c: human tables and times */
int cli_display_width(const char *s);
/* A copy of s cut to at most maxw display columns, "…" marking the cut. */
char *cli_truncate(const char *s, int maxw);
/* "2026-11-21 14:03:05" in local time ("-" for 0); with_seconds 0 drops them. */
const char *cli_local_time(int64_t ms, bool with_seconds, char *buf, size_t len);
/* "2026-11-21T06:03:05.123Z" */
const char *cli_iso_time(int64_t ms, char *buf, size_t len);
/* Width of the terminal on stdout, or 0 when it is not a terminal. */
int cli_term_width(void);

#define TABLE_MAX_COLS 16

/* A table header in a context, where one word heads different things
 * ("KIND" of a place, of a whistle, of a task). xgettext: NC_:1c,2. */
#define NC_(ctx, s) ctx "\004" s

typedef struct table {
    int ncols;
    char **cells; /* row-major, row 0 the header */
    int nrows, cap;
    int maxw[TABLE_MAX_COLS]; /* a column's cap in display columns (0: none) */
} table;

/* header: ncols strings marked N_(), translated here. */
void table_init(table *t, int ncols, const char *const *header);
/* Cuts the cells of column col to maxw display columns ("…"): names that
 * may be long (a department's, in English) leave room for the rest. */
void table_cap(table *t, int col, int maxw);
/* Adds a row of ncols strings (copied; NULL prints as ""). */
void table_add(table *t, const char *const *row);
/* Prints with columns aligned by display width; the last column is cut to
 * fit the terminal (or to 60 columns when not a terminal). */
void table_print(table *t, FILE *out);
void table_free(table *t);

/* Prints "key  value" lines aligned; skips empty values unless always. */
void kv_print(FILE *out, const char *key, const char *value, bool always);

/* json.c: protobuf messages as JSON objects */
json_t *cli_json_message(const ProtobufCMessage *m);
/* Prints a compact JSON object and a newline, flushed. Takes the reference. */
void cli_json_print(json_t *j);

#endif
