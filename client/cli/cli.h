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
#define CLI_MAX_KEPT 16

typedef struct cli {
    whistle_settings flags;      /* the command line's layer of settings */
    const char *config;          /* --config FILE, or NULL */
    const char *idempotency_key; /* --idempotency-key, or NULL: random */
    const char *act_as;          /* --act-as: a gateway's calls for this principal, or NULL */
    bool json;
    bool quiet;              /* -q: print only the ids (tickets, order ids, codes) */
    whistle_client *client;  /* connected on first use */
    whistle_resolved conn;   /* the settings it was connected with */
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
    /* What the command allocated for its request (cli_keep): released when
     * the command is done, on every path. */
    struct {
        void *p;
        void (*release)(void *);
    } kept[CLI_MAX_KEPT];
    int nkept;
} args;

/* How an argument fills a field of the request's message (call.c). The
 * field is named as in the proto; "node.code" reaches into a message field,
 * made on first use. Bindings apply in their order, so the first usage
 * error a command line has is the one reported. */
typedef enum bind_how {
    BIND_END,
    BIND_POS,         /* string field = positional argument pos */
    BIND_TEXT,        /* string field = positional arguments from pos on, joined by spaces */
    BIND_REST,        /* repeated string field = positional arguments from pos on */
    BIND_OPT,         /* string field = option opt, when given */
    BIND_NEED,        /* the same, and the option is required (field NULL: only required) */
    BIND_FLAG,        /* bool field = whether flag opt is given */
    BIND_SET,         /* bool field = true */
    BIND_ORDER,       /* uint64 field = the order id at pos ("7" or "#7") */
    BIND_EITHER,      /* bool field = flag opt given; exactly one of opt and other must be */
    BIND_TICKET,      /* string field = the ticket at pos, normalised (cli_ticket) */
    BIND_TICKET_OPT,  /* the same from option opt, when given */
    BIND_TICKET_NEED, /* the same, and the option is required */
} bind_how;

typedef struct cli_bind {
    bind_how how;
    const char *field;
    const char *opt;   /* the option */
    const char *other; /* BIND_EITHER: the option that says no */
    const char *msg;   /* BIND_ORDER: "%s: ... '%s' ..." (command, argument); BIND_EITHER: the usage error */
    int pos;
    bool bare; /* BIND_ORDER: the message shows the argument without its '#' */
} cli_bind;

#define B_POS(i, f)                                                                                                    \
    {                                                                                                                  \
        BIND_POS, f, NULL, NULL, NULL, i, false                                                                        \
    }
#define B_TEXT(i, f)                                                                                                   \
    {                                                                                                                  \
        BIND_TEXT, f, NULL, NULL, NULL, i, false                                                                       \
    }
#define B_REST(i, f)                                                                                                   \
    {                                                                                                                  \
        BIND_REST, f, NULL, NULL, NULL, i, false                                                                       \
    }
#define B_OPT(o, f)                                                                                                    \
    {                                                                                                                  \
        BIND_OPT, f, o, NULL, NULL, 0, false                                                                           \
    }
#define B_NEED(o, f)                                                                                                   \
    {                                                                                                                  \
        BIND_NEED, f, o, NULL, NULL, 0, false                                                                          \
    }
#define B_FLAG(o, f)                                                                                                   \
    {                                                                                                                  \
        BIND_FLAG, f, o, NULL, NULL, 0, false                                                                          \
    }
#define B_SET(f)                                                                                                       \
    {                                                                                                                  \
        BIND_SET, f, NULL, NULL, NULL, 0, false                                                                        \
    }
#define B_ORDER(i, f, msg, bare)                                                                                       \
    {                                                                                                                  \
        BIND_ORDER, f, NULL, NULL, msg, i, bare                                                                        \
    }
#define B_EITHER(yes, no, f, msg)                                                                                      \
    {                                                                                                                  \
        BIND_EITHER, f, yes, no, msg, 0, false                                                                         \
    }
#define B_TICKET(i, f)                                                                                                 \
    {                                                                                                                  \
        BIND_TICKET, f, NULL, NULL, NULL, i, false                                                                     \
    }
#define B_TICKET_OPT(o, f)                                                                                             \
    {                                                                                                                  \
        BIND_TICKET_OPT, f, o, NULL, NULL, 0, false                                                                    \
    }
#define B_TICKET_NEED(o, f)                                                                                            \
    {                                                                                                                  \
        BIND_TICKET_NEED, f, o, NULL, NULL, 0, false                                                                   \
    }
/* A row's call and result by their proto names: CALL(FILE), RESULT(EVENT). */
#define CALL(name) WHISTLE__V1__REQUEST__CALL_##name
#define RESULT(name) WHISTLE__V1__RESPONSE__RESULT_##name
/* A command's bindings: .bind = BINDS(B_POS(0, "ticket"), B_OPT("note", "note")) */
#define BINDS(...) ((const cli_bind[]){ __VA_ARGS__, { BIND_END, NULL, NULL, NULL, NULL, 0, false } })

typedef struct table table;

/* A table's columns: the header (N_() strings) and up to two columns cut
 * to a width (maxw 0: none). */
typedef struct table_spec {
    int ncols;
    const char *const *header;
    struct {
        int col, maxw;
    } cap[2];
} table_spec;

/* A result whose repeated field is shown as a table (call.c): one page
 * (nodes), or pages followed by one loop (list, orders, audit...). --json
 * prints one page's result as it is, pages as {"<items>": [...]} with the
 * next cursor when json_next; -q prints each item's id, or the table when
 * there is no id. */
typedef struct cli_list {
    const char *items;         /* the result's repeated message field */
    const char *cursor, *next; /* the request's cursor field, the result's next one; NULL: one page */
    bool descending;           /* an id cursor that counts down (before_id) */
    bool every_page;           /* follow the pages to the end; else only with --all */
    bool json_next;            /* --json: "<next>": the cursor left, beside the items */
    const char *more;          /* on stderr when a page is left (N_()), or NULL */
    table_spec table;
    void (*row)(cli *x, table *t, const void *item);
    const char *(*id)(const void *item, char *buf, size_t len); /* -q; NULL: the table */
    json_t *(*json)(const void *item);                          /* --json of an item; NULL: cli_json_message */
} cli_list;

/* A command: its words and options, and either a run function of its own
 * or the parts of the one shape most commands have (call.c): build the
 * request from the arguments, call, print the result for people (--json:
 * as it is) or as a listing. */
struct cmd {
    const char *name;
    const char *synopsis; /* after "whistle NAME " */
    const char *summary;
    const cmd_opt *opts;         /* terminated by {NULL} */
    int min_pos, max_pos;        /* positional arguments; max -1: any number */
    int (*run)(cli *x, args *a); /* NULL with opts NULL: a group of subcommands (admin.c) */
    /* With run NULL: */
    int call;             /* the Request's call_case */
    const cli_bind *bind; /* its fields from the arguments (BINDS) */
    /* What bindings cannot say (a word to parse, options that go
     * together); msg is the call's message. 0, or an exit status (message
     * printed). */
    int (*build)(cli *x, args *a, void *msg);
    int result; /* the Response's result_case print takes; 0: any */
    void (*print)(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp);
    const cli_list *list; /* instead of print: the result as a listing */
};

/* The command tables, in the order `whistle --help` lists them, NULL-ended:
 * commands.c's cases, orders, directory and session; oversight.c's
 * deadlines, supervision, exceptions, statistics; services.c's guide. */
extern const cmd cli_commands[];
/* `whistle stats --city ...`: runs whistle-city stats (city.c). */
int cli_city_stats(cli *x, int argc, char **argv);
/* `whistle city COMMAND ...`: runs whistle-city COMMAND ... (city.c). */
int cli_city(cli *x, int argc, char **argv);
extern const cmd cli_oversight_commands[];
extern const cmd cli_services_commands[];
/* archive.c: the groups archive, visit and board, and `stats archive` */
extern const cmd cli_archive_commands[];
extern const cmd cli_archive_subcommands[];
/* deliberation.c: the groups body, proposal, meeting, minutes and the
 * commands vote and ballot (cli_delib_commands, searched after the
 * others), and the groups' subcommands (cli_delib_subcommands, searched
 * by the group runner with admin.c's). */
extern const cmd cli_delib_commands[];
extern const cmd cli_delib_subcommands[];
/* volunteers.c: the groups wish, volunteer, points, shop and member, and
 * their subcommands (found by cli_group_main) */
extern const cmd cli_volunteer_commands[];
extern const cmd cli_volunteer_subcommands[];
/* photos.c: the group photo (photo get) */
extern const cmd cli_photo_subcommands[];
/* Uploads the file at path (docs/photos.md), in chunks, going on after a
 * dropped connection from where the server says it stopped; hex gets its
 * SHA-256, the name a call attaches it by. 0, or an exit status (message
 * printed). */
int cli_photo_upload(cli *x, const char *path, char hex[65]);
/* Every --photo FILE of a command uploaded: *photos their hashes (kept by
 * a), *n of them. 0, or an exit status. */
int cli_photos_for(cli *x, args *a, char ***photos, size_t *n);
extern const cmd *const cli_tables[];
const cmd *cli_find(const char *name);
void cli_print_command_help(const cmd *c, FILE *out);
/* Parses argv (argv[0] is the command's name) and runs c. Exit status. */
int cli_run(cli *x, const cmd *c, int argc, char **argv);

/* args.c: a command's arguments */
/* The option's value (repeated ones joined by ','), "" for a flag that is
 * set, NULL when absent. */
const char *cli_opt(const args *a, const char *name);
bool cli_flag(const args *a, const char *name);
/* 0 if the option is given and not empty, else EXIT_USAGE (message printed). */
int cli_need(const args *a, const char *name);
/* The positional arguments from `from` on, joined by spaces; kept by a
 * (NULL when out of memory). */
char *cli_text(args *a, int from);
/* Hands p to a, to be released (release(p)) when the command is done.
 * Returns p. */
void *cli_keep(args *a, void *p, void (*release)(void *));
/* s split at any of seps, blanks skipped, at most max pieces: a list kept
 * by a, *n long (NULL when out of memory). */
char **cli_split(args *a, const char *s, const char *seps, size_t max, size_t *n);
/* A decimal number up to max (no sign, nothing after it): 0, or -1. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* A ticket as people type it: E2026120300001, e2026120300001 or
 * 2026120300001, spaces and dashes ignored; out gets the ticket
 * (E2026120300001). 0, or -1 when it is not one. */
#define CLI_TICKET_LEN 14
int cli_parse_ticket(const char *s, char out[CLI_TICKET_LEN + 1]);
/* *out = the ticket s, normalised, kept by a: 0, or an exit status after
 * printing a usage error ("not a ticket"). */
int cli_ticket(args *a, const char *s, const char **out);
/* A time (admin.c): Unix ms; YYYY-MM-DD[ HH:MM[:SS]] local, or UTC with
 * a trailing Z; or relative to now: +3d, -2h, +30m. 0, or -1. */
int cli_parse_time(const char *s, int64_t *out);
/* A whole file ("-": stdin) into *data (malloc'd): 0, or EXIT_USAGE after
 * saying why. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);
/* An order id, "7" or "#7", not 0: 0, or -1. */
int cli_parse_order(const char *s, uint64_t *out);

/* call.c: the requests, their calls and their printing */
/* Sets req to call call_case with msg (the oneof's message). */
void cli_request_set(Whistle__V1__Request *req, int call_case, void *msg);
/* Makes the message of call_case, set in req, kept by a. NULL when out of memory. */
void *cli_request_new(Whistle__V1__Request *req, int call_case, args *a);
/* A message of type d, initialised, kept by a (NULL when out of memory). */
void *cli_new(args *a, const ProtobufCMessageDescriptor *d);
/* Runs a command made of parts (cmd.call...): exit status. */
int cli_call_run(cli *x, args *a);
/* The response's result when it is of result_case (0: whichever it is),
 * else NULL. */
const ProtobufCMessage *cli_result(const Whistle__V1__Response *resp, int result_case);
/* --json: the response's result as one object ({} when it has none). */
void cli_print_json(const Whistle__V1__Response *resp);
/* The items of a result's repeated message field (*n of them). */
ProtobufCMessage **cli_items(const ProtobufCMessage *result, const char *field, size_t *n);
/* A string field of a message by its name ("" when unset). */
const char *cli_field_text(const ProtobufCMessage *m, const char *field);
/* Prints items as l's table. */
void cli_list_print(cli *x, const cli_list *l, ProtobufCMessage *const *items, size_t n);

/* The cursor a paged call stopped at: text for string cursors, id for
 * number ones (NULL, 0: none, the last page was read). */
typedef struct cli_cursor {
    char *text;
    uint64_t id;
    bool is_text; /* the cursor is a string field (else a uint64 one) */
} cli_cursor;
/* Calls req page after page: sets msg's field l->cursor (msg is req's
 * message), hands each result (of result_case; NULL if another) to
 * on_page, and follows l->next while every page, or follow, says so. A
 * cursor that does not move on stops it (a server handing back what it
 * was given would loop forever). 0 with *left (free left->text), or an
 * exit status (message printed). */
int cli_pages(cli *x, Whistle__V1__Request *req, void *msg, int result_case, const cli_list *l, bool follow,
              void (*on_page)(void *ctx, const ProtobufCMessage *result), void *ctx, cli_cursor *left);

/* admin.c: the groups admin, admission and task; argv[0] is the group. */
int cli_group_main(cli *x, int argc, char **argv);
void cli_group_help(const char *group, FILE *out);

/* main.c */
/* Connects if not yet connected. 0, or an exit status (message printed). */
int cli_connect(cli *x);
/* Connects if needed, sets an idempotency key on writes, calls, and checks
 * the status. Returns 0 with *resp, or an exit status (message printed). */
int cli_call(cli *x, Whistle__V1__Request *req, Whistle__V1__Response **resp);
/* Errors on stderr, one line each: "whistle: message" (the client's own:
 * a usage error, exit 2; a connection failure, exit 3) or "whistle: CODE:
 * message" (the server's refusal, exit 1). With --json, one JSON object
 * instead, {"error": {"code": "NOT_FOUND", "message": ..., "status": 5}}:
 * code is the status name, or USAGE, or CONNECTION; status the status's
 * number, only for the server's. Each returns its exit status. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_fail(int exit_status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_refused(int code, const char *message);
/* A connection or call that failed (kind: a WHISTLE_ERR_*), in the CLI's
 * words, then the library's detail. EXIT_CONN. */
int cli_conn_error(cli *x, int kind, const char *detail);
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
/* A timeline entry's note for people: the few the server writes in fixed
 * words ("lead" on a dispatch, "every department has fed back") in the
 * locale's language, every other as it is. buf may hold the result. */
const char *cli_timeline_note(const char *action, const char *note, char *buf, size_t len);

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

struct table {
    int ncols;
    char **cells; /* row-major, row 0 the header */
    int nrows, cap;
    int maxw[TABLE_MAX_COLS]; /* a column's cap in display columns (0: none) */
};

/* header: ncols strings marked N_(), translated here. */
void table_init(table *t, int ncols, const char *const *header);
/* Cuts the cells of column col to maxw display columns ("…"): names that
 * may be long (a department's, in English) leave room for the rest. */
void table_cap(table *t, int col, int maxw);
/* table_init and table_cap as spec says. */
void table_start(table *t, const table_spec *spec);
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
