/* services.c: see services.h. */
#include "services.h"

#include <string.h>

#include "directory.h"

Whistle__V1__ServiceClass *services_class_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return store_get_named(txn, st->service_classes, code, &whistle__v1__service_class__descriptor, a);
}

Whistle__V1__ServiceItem *services_item_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return store_get_named(txn, st->services, code, &whistle__v1__service_item__descriptor, a);
}

/* At most the first 40 bytes of what the client sent, cut on a character
 * boundary, for a message (a malformed code may be anything up to the
 * router's cap on strings). */
static const char *quoted(arena *a, const char *s)
{
    size_t n = strlen(s);
    if (!utf8_valid(s, n))
        return "(not valid UTF-8)";
    if (n <= 40)
        return s;
    size_t cut = 40;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return arena_printf(a, "%.*s...", (int)cut, s);
}

void services_list(call *c, const Whistle__V1__ListServices *req)
{
    const char *want = str0(req->class_code);
    if (*want && !directory_class_code_ok(want)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "class_code \"%s\" is not a service class code: 2 digits (01..99), or empty for the whole guide",
                  quoted(c->a, want));
        return;
    }
    bool retired = req->include_retired;
    if (retired && c->who->role != ROLE(ADMIN)) {
        /* Retired entries are what the guide no longer offers; showing
         * them is for the admins who keep it, not for a resident's screen. */
        call_deny(c, *want ? arena_printf(c->a, "service_class:%s", want) : "services",
                  "role %s may not list retired services (rule: include_retired is for admins, who keep the "
                  "catalogue; the guide itself is open to every principal)",
                  role_name(c->who->role));
        return;
    }
    ptr_vec classes = { 0 }, items = { 0 };
    if (directory_scan(c, c->st->service_classes, want, &whistle__v1__service_class__descriptor, &classes,
                       "listing the service classes"))
        return;
    /* The classes shown: live ones (all with include_retired). */
    ptr_vec shown = { 0 };
    for (size_t i = 0; i < classes.n; i++) {
        Whistle__V1__ServiceClass *k = classes.items[i];
        if (*want && strcmp(str0(k->code), want) != 0)
            continue;
        if (k->retired && !retired)
            continue;
        if (!directory_seen_by(c->who, k->scope)) /* another district's guide */
            continue;
        ptr_vec_push(c->a, &shown, k);
    }
    if (*want && !shown.n) {
        bool is_retired = classes.n && strcmp(str0(((Whistle__V1__ServiceClass *)classes.items[0])->code), want) == 0;
        call_fail(c, CODE(NOT_FOUND), "no service class %s%s", want,
                  is_retired ? " in the guide: it is retired" : "; list_services without class_code lists them");
        return;
    }
    if (directory_scan(c, c->st->services, want, &whistle__v1__service_item__descriptor, &items,
                       "listing the services"))
        return;
    /* Items in code order, each under a class that is shown: classes and
     * items are both sorted, so one pass pairs them. */
    ptr_vec out = { 0 };
    size_t ci = 0;
    for (size_t i = 0; i < items.n; i++) {
        Whistle__V1__ServiceItem *it = items.items[i];
        if (it->retired && !retired)
            continue;
        if (!directory_seen_by(c->who, it->scope))
            continue;
        const char *code = str0(it->code);
        while (ci < shown.n && strncmp(str0(((Whistle__V1__ServiceClass *)shown.items[ci])->code), code, 2) < 0)
            ci++;
        if (ci == shown.n || strncmp(str0(((Whistle__V1__ServiceClass *)shown.items[ci])->code), code, 2) != 0)
            continue;
        ptr_vec_push(c->a, &out, it);
    }
    Whistle__V1__ServiceCatalogue *cat = arena_alloc(c->a, sizeof *cat);
    whistle__v1__service_catalogue__init(cat);
    cat->classes = (Whistle__V1__ServiceClass **)shown.items;
    cat->n_classes = shown.n;
    cat->items = (Whistle__V1__ServiceItem **)out.items;
    cat->n_items = out.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_SERVICES;
    c->resp->services = cat;
}
