/* args.c: a command's arguments. cli_run parses a command line against the
 * command's options (usage errors exit 2 before any connection is made),
 * prints its help, and runs it; the helpers read what was parsed for the
 * builders of every command table. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int opt_index(const cmd *c, const char *name, size_t nl)
{
    for (int i = 0; c->opts && c->opts[i].name; i++)
        if (strlen(c->opts[i].name) == nl && strncmp(c->opts[i].name, name, nl) == 0)
            return i;
    return -1;
}

const char *cli_opt(const args *a, const char *name)
{
    int i = opt_index(a->c, name, strlen(name));
    if (i < 0)
        return NULL;
    return a->multi[i] ? a->multi[i] : a->val[i];
}

bool cli_flag(const args *a, const char *name) { return cli_opt(a, name) != NULL; }

int cli_need(const args *a, const char *name)
{
    const char *v = cli_opt(a, name);
    if (!v || !*v)
        return cli_usage_error(_("%s: --%s is required (see whistle %s --help)"), a->c->name, name, a->c->name);
    return 0;
}

void *cli_keep(args *a, void *p, void (*release)(void *))
{
    /* The tables bound what a command keeps: more is a bug in a table. */
    assert(a->nkept < CLI_MAX_KEPT);
    if (p && a->nkept < CLI_MAX_KEPT) {
        a->kept[a->nkept].p = p;
        a->kept[a->nkept].release = release;
        a->nkept++;
    }
    return p;
}

char *cli_text(args *a, int from)
{
    size_t n = 1;
    for (int i = from; i < a->npos; i++)
        n += strlen(a->pos[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = from; i < a->npos; i++) {
        if (i > from)
            strcat(s, " ");
        strcat(s, a->pos[i]);
    }
    return cli_keep(a, s, free);
}

char **cli_split(args *a, const char *s, const char *seps, size_t max, size_t *n)
{
    char *buf = cli_keep(a, strdup(s ? s : ""), free);
    size_t cap = 8, k = 0;
    char **v = malloc(cap * sizeof *v);
    if (!buf || !v) {
        free(v);
        return NULL;
    }
    for (char *save = NULL, *t = strtok_r(buf, seps, &save); t && k < max; t = strtok_r(NULL, seps, &save)) {
        if (k == cap) {
            char **w = realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                free(v);
                return NULL;
            }
            v = w;
            cap *= 2;
        }
        v[k++] = t;
    }
    *n = k;
    return cli_keep(a, v, free);
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || s[0] == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_ticket(const char *s, char out[CLI_TICKET_LEN + 1])
{
    /* As people type and read them: the E either case, or left out; spaces
     * and dashes between groups ("E 20261203 00001", "2026-1203-00001")
     * ignored, as the kiosk does. */
    size_t n = 0;
    if (!s)
        return -1;
    if (*s == 'E' || *s == 'e')
        s++;
    for (; *s; s++) {
        if (*s == ' ' || *s == '-')
            continue;
        if (*s < '0' || *s > '9' || n == CLI_TICKET_LEN - 1)
            return -1;
        out[1 + n++] = *s;
    }
    if (n != CLI_TICKET_LEN - 1)
        return -1;
    out[0] = 'E';
    out[CLI_TICKET_LEN] = '\0';
    return 0;
}

int cli_ticket(args *a, const char *s, const char **out)
{
    char t[CLI_TICKET_LEN + 1];
    if (cli_parse_ticket(s, t) < 0)
        return cli_usage_error(
            _("%s: '%s' is not a ticket (E and 13 digits, as E2026120300001; the E may be left out)"), a->c->name, s);
    if (!(*out = cli_keep(a, strdup(t), free)))
        return cli_fail(EXIT_CONN, "%s", _("out of memory"));
    return 0;
}

int cli_parse_order(const char *s, uint64_t *out)
{
    if (s && s[0] == '#')
        s++;
    return cli_parse_u64(s, UINT64_MAX, out) < 0 || *out == 0 ? -1 : 0;
}

void cli_print_command_help(const cmd *c, FILE *out)
{
    if (!c->opts && !c->run) {
        cli_group_help(c->name, out);
        return;
    }
    /* The synopsis names options and metavariables: the same in every
     * language. */
    char line[512];
    snprintf(line, sizeof line, "whistle %s%s%s", c->name, c->synopsis[0] ? " " : "", c->synopsis);
    fprintf(out, _("usage: %s\n"), line);
    fprintf(out, "\n%s\n", _(c->summary));
    if (c->opts && c->opts[0].name) {
        fprintf(out, "\n%s\n", _("Options:"));
        for (int i = 0; c->opts[i].name; i++) {
            char left[64];
            snprintf(left, sizeof left, "--%s%s%s", c->opts[i].name, c->opts[i].arg ? " " : "",
                     c->opts[i].arg ? c->opts[i].arg : "");
            fprintf(out, "  %-22s %s\n", left, c->opts[i].help[0] ? _(c->opts[i].help) : "");
        }
    }
    fputs("\n", out);
    fputs(_("Global options (--as, --host, --json, ...) may come before or after the command;\n"
            "see whistle --help.\n"),
          out);
}

/* Parses argv against c's options into a: -1 when the command is to run,
 * else the exit status to end with (help printed, or a usage error). */
static int args_parse(cli *x, const cmd *c, int argc, char **argv, args *a)
{
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
            cli_print_command_help(c, stdout);
            return EXIT_OK;
        }
        /* -o FILE: --out FILE, for the commands that write a file */
        if (!only_pos && strcmp(s, "-o") == 0 && opt_index(c, "out", 3) >= 0)
            s = "--out";
        if (!only_pos && s[0] == '-' && s[1] == '-') {
            const char *name = s + 2;
            const char *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            int k = opt_index(c, name, nl);
            if (k < 0) {
                int n = cli_global_option(x, argc, argv, i);
                if (n < 0)
                    return EXIT_USAGE;
                if (n == 0)
                    return cli_usage_error(_("%s: unknown option '%s' (see whistle %s --help)"), c->name, s, c->name);
                i += n - 1;
                continue;
            }
            const char *v = "";
            if (c->opts[k].arg) {
                if (eq)
                    v = eq + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    return cli_usage_error(_("%s: option --%s needs a value (%s)"), c->name, c->opts[k].name,
                                           c->opts[k].arg);
            } else if (eq) {
                return cli_usage_error(_("%s: option --%s takes no value"), c->name, c->opts[k].name);
            }
            if (a->val[k] && c->opts[k].arg) {
                /* Repeated: keep every value (--dept police --dept urban). */
                const char *prev = a->multi[k] ? a->multi[k] : a->val[k];
                char *j = malloc(strlen(prev) + strlen(v) + 2);
                if (j) {
                    sprintf(j, "%s,%s", prev, v);
                    free(a->multi[k]);
                    a->multi[k] = j;
                }
            }
            a->val[k] = v;
            continue;
        }
        if (!only_pos && strcmp(s, "-q") == 0) {
            cli_global_option(x, argc, argv, i);
            continue;
        }
        if (!only_pos && s[0] == '-' && s[1] && !isdigit((unsigned char)s[1]) && s[1] != '.')
            return cli_usage_error(_("%s: unknown option '%s' (put -- before text that starts with '-')"), c->name, s);
        a->pos[a->npos++] = argv[i];
    }
    if (a->npos < c->min_pos || (c->max_pos >= 0 && a->npos > c->max_pos)) {
        cli_usage_error(_("%s: %s (usage: whistle %s %s)"), c->name,
                        a->npos < c->min_pos ? _("missing arguments") : _("too many arguments"), c->name, c->synopsis);
        return EXIT_USAGE;
    }
    return -1;
}

int cli_run(cli *x, const cmd *c, int argc, char **argv)
{
    if (strcmp(c->name, "city") == 0) /* whistle-city's options and words, as they are (city.c) */
        return cli_city(x, argc, argv);
    if (!c->opts && !c->run) /* a group: its words name the subcommand */
        return cli_group_main(x, argc, argv);
    if (strcmp(c->name, "stats") == 0 && argc > 1 && strcmp(argv[1], "archive") == 0)
        return cli_group_main(x, argc, argv); /* the archive's counts (archive.c) */
    if (strcmp(c->name, "stats") == 0)
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--city") == 0)
                return cli_city_stats(x, argc, argv); /* the city's, from NATS (city.c) */
    args a;
    memset(&a, 0, sizeof a);
    a.c = c;
    a.pos = calloc((size_t)argc + 1, sizeof *a.pos);
    if (!a.pos)
        return EXIT_CONN;
    int rc = args_parse(x, c, argc, argv, &a);
    if (rc < 0)
        rc = c->run ? c->run(x, &a) : cli_call_run(x, &a);
    /* Last kept, first released: a message before what it points to. */
    while (a.nkept > 0) {
        a.nkept--;
        a.kept[a.nkept].release(a.kept[a.nkept].p);
    }
    for (int i = 0; i < CLI_MAX_OPTS; i++)
        free(a.multi[i]);
    free(a.pos);
    return rc;
}

const cmd *const cli_tables[] = { cli_commands,
                                  cli_oversight_commands,
                                  cli_services_commands,
                                  cli_archive_commands,
                                  cli_delib_commands,
                                  cli_volunteer_commands,
                                  NULL };

const cmd *cli_find(const char *name)
{
    for (const cmd *const *t = cli_tables; *t; t++)
        for (const cmd *c = *t; c->name; c++)
            if (strcmp(c->name, name) == 0)
                return c;
    return NULL;
}
