/* city.c: the city's side of a federation from the CLI
 * (docs/federation.md): `whistle stats --city` (the city's ranking of its
 * districts) and `whistle city COMMAND ...` (a city department's desk,
 * placing an unrouted case, ...). None of it is whistled's: it is the
 * city's NATS cluster, which whistle-city speaks to. The CLI does not link
 * libnats for these: it runs whistle-city (beside this program, else on
 * PATH) with the command's arguments; the connection comes from
 * WHISTLE_NATS_SERVERS, _CERT, _KEY and _CA. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int exec_city(char **av);

int cli_city_stats(cli *x, int argc, char **argv)
{
    /* whistle-city [global options] stats [--month M] [--json] */
    char **av = calloc((size_t)argc + 4, sizeof *av);
    if (!av)
        return EXIT_CONN;
    int n = 0;
    av[n++] = "whistle-city";
    av[n++] = "stats";
    bool json = x->json;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--city") == 0)
            continue;
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(argv[i], "--month") == 0 && i + 1 < argc) {
            av[n++] = argv[i++];
            av[n++] = argv[i];
            continue;
        }
        free(av);
        return cli_usage_error(_("stats --city: '%s' is not for the city's figures (usage: whistle stats --city "
                                 "[--month YYYYMM] [--json])"),
                               argv[i]);
    }
    if (json)
        av[n++] = "--json";
    av[n] = NULL;
    int rc = exec_city(av);
    free(av);
    return rc;
}

int cli_city(cli *x, int argc, char **argv)
{
    (void)x;
    if (argc < 2) {
        return cli_usage_error(_("city: which command? (whistle city --help, or whistle-city --help: orders, "
                                 "checkin, feedback, unrouted, place, stats, ...)"));
    }
    argv[0] = "whistle-city";
    return exec_city(argv);
}

static int exec_city(char **av)
{
    fflush(stdout);
    /* beside this program first: a build tree, or /usr/bin */
    char self[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 32);
    if (l > 0) {
        self[l] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            strcpy(slash + 1, "whistle-city");
            execv(self, av);
        }
    }
    execvp("whistle-city", av);
    int e = errno;
    fprintf(stderr, _("whistle: stats --city needs whistle-city (%s): install the whistle package's city programs\n"),
            strerror(e));
    return EXIT_CONN;
}
