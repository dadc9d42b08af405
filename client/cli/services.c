/* services.c: `whistle services`, the public service guide (公共服务事项目录)
 * as the kiosk shows it: what a resident can get done at the community,
 * where, when, what to bring and how.
 *
 * The guide's texts come in Chinese and English; the command shows the
 * locale's language (docs/i18n.md), and Chinese where the English text is
 * empty. --json prints both. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Whether the guide is shown in Chinese: as for every text of the CLI
 * (uitext.h, docs/i18n.md). */
static bool lang_zh(void) { return uitext_lang_zh(); }

/* The text in the chosen language, falling back to the other one. */
static const char *pick(bool zh, const char *t_zh, const char *t_en)
{
    t_zh = t_zh ? t_zh : "";
    t_en = t_en ? t_en : "";
    if (zh)
        return *t_zh ? t_zh : t_en;
    return *t_en ? t_en : t_zh;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static const Whistle__V1__ServiceClass *class_of(const Whistle__V1__ServiceCatalogue *c, const char *code)
{
    for (size_t i = 0; i < c->n_classes; i++)
        if (strncmp(c->classes[i]->code, code, 2) == 0)
            return c->classes[i];
    return NULL;
}

/* "name" or "name (retired)", in a static buffer. */
static const char *marked(const char *name, bool retired)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", name, retired ? _(" (retired)") : "");
    return buf;
}

static void print_item(cli *x, const Whistle__V1__ServiceItem *it, bool zh)
{
    printf("%s  %s\n", it->code, marked(pick(zh, it->name_zh, it->name_en), it->retired));
    kv_print(stdout, _("where"), pick(zh, it->where_zh, it->where_en), false);
    kv_print(stdout, _("hours"), pick(zh, it->hours_zh, it->hours_en), false);
    kv_print(stdout, _("what to bring"), pick(zh, it->bring_zh, it->bring_en), false);
    kv_print(stdout, _("how"), pick(zh, it->how_zh, it->how_en), false);
    /* The department by its name, as a resident reads it (--json: the code). */
    kv_print(stdout, _("department"), cli_or(cli_department_name(x, it->department), it->department), false);
}

/* --json: one object per service, with its class's names beside its own. */
static void print_json(const Whistle__V1__ServiceCatalogue *c, const char *only)
{
    for (size_t i = 0; i < c->n_items; i++) {
        const Whistle__V1__ServiceItem *it = c->items[i];
        if (only && strcmp(it->code, only) != 0)
            continue;
        json_t *o = cli_json_message(&it->base);
        const Whistle__V1__ServiceClass *k = class_of(c, it->code);
        json_object_set_new(o, "class_name_zh", json_string(k ? k->name_zh : ""));
        json_object_set_new(o, "class_name_en", json_string(k ? k->name_en : ""));
        cli_json_print(o);
    }
}

static int run_services(cli *x, args *a)
{
    const char *arg = a->npos ? a->pos[0] : "";
    char cls[3] = "";
    const char *item = NULL;
    if (*arg) {
        size_t n = strlen(arg);
        if (!all_digits(arg) || (n != 2 && n != 4))
            return cli_usage_error(_("services: '%s' is neither a class (2 digits, 01) nor a service (4 digits, "
                                     "0101)"),
                                   arg);
        memcpy(cls, arg, 2);
        item = n == 4 ? arg : NULL;
    }
    Whistle__V1__ListServices ls = WHISTLE__V1__LIST_SERVICES__INIT;
    ls.class_code = cls;
    ls.include_retired = cli_flag(a, "retired");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, CALL(LIST_SERVICES), &ls);
    Whistle__V1__Response *resp;
    int rc = cli_call(x, &req, &resp);
    if (rc)
        return rc;
    const Whistle__V1__ServiceCatalogue *c =
        resp->result_case == WHISTLE__V1__RESPONSE__RESULT_SERVICES ? resp->services : NULL;
    static const Whistle__V1__ServiceCatalogue empty = WHISTLE__V1__SERVICE_CATALOGUE__INIT;
    if (!c)
        c = &empty;
    const Whistle__V1__ServiceItem *found = NULL;
    for (size_t i = 0; item && i < c->n_items; i++)
        if (strcmp(c->items[i]->code, item) == 0)
            found = c->items[i];
    if (item && !found) {
        char msg[256];
        snprintf(msg, sizeof msg, _("no service %s in the guide (whistle services %s lists class %s)"), item, cls, cls);
        whistle_response_free(resp);
        return cli_refused(WHISTLE__V1__STATUS__CODE__NOT_FOUND, msg);
    }
    bool zh = lang_zh();
    if (x->json) {
        print_json(c, item);
    } else if (x->quiet) {
        for (size_t i = 0; i < c->n_items; i++)
            if (!item || c->items[i] == found)
                printf("%s\n", c->items[i]->code);
    } else if (found) {
        print_item(x, found, zh);
    } else if (*cls) {
        /* one class: every service in full */
        for (size_t i = 0; i < c->n_classes; i++)
            printf("%s  %s\n", c->classes[i]->code,
                   marked(pick(zh, c->classes[i]->name_zh, c->classes[i]->name_en), c->classes[i]->retired));
        for (size_t i = 0; i < c->n_items; i++) {
            fputc('\n', stdout);
            print_item(x, c->items[i], zh);
        }
        if (!c->n_items)
            printf("%s\n", _("(no services in this class)"));
    } else {
        /* the whole guide: a line per class and per service */
        const char *h[] = { _("CODE"), _("SERVICE"), _("HOURS"), _("WHERE") };
        table tb;
        table_init(&tb, 4, h);
        size_t it = 0;
        for (size_t i = 0; i < c->n_classes; i++) {
            const Whistle__V1__ServiceClass *k = c->classes[i];
            const char *row[] = { k->code, marked(pick(zh, k->name_zh, k->name_en), k->retired), "", "" };
            table_add(&tb, row);
            for (; it < c->n_items && strncmp(c->items[it]->code, k->code, 2) <= 0; it++) {
                const Whistle__V1__ServiceItem *s = c->items[it];
                if (strncmp(s->code, k->code, 2) != 0)
                    continue;
                char name[1100];
                snprintf(name, sizeof name, "  %s", marked(pick(zh, s->name_zh, s->name_en), s->retired));
                const char *srow[] = { s->code, name, pick(zh, s->hours_zh, s->hours_en),
                                       pick(zh, s->where_zh, s->where_en) };
                table_add(&tb, srow);
            }
        }
        table_print(&tb, stdout);
        table_free(&tb);
    }
    whistle_response_free(resp);
    return EXIT_OK;
}

static const cmd_opt services_opts[] = {
    { "retired", NULL, N_("admins: retired classes and services too, marked") },
    { NULL, NULL, NULL },
};

const cmd cli_services_commands[] = {
    { "services", "[CLASS|SERVICE] [--retired]",
      N_("The public service guide: what residents can get done, where, when, what to bring."), services_opts, 0, 1,
      .run = run_services },
    { .name = NULL },
};
