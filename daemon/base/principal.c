/* principal.c: see principal.h. */
#include "principal.h"

#include <string.h>

#include "text.h"

bool scope_covers(const char *scope, const char *node)
{
    if (!scope || !*scope || !node)
        return false;
    return strncmp(node, scope, strlen(scope)) == 0;
}

bool principal_covers(const Whistle__V1__Principal *p, const char *node)
{
    if (!p)
        return false;
    if (scope_covers(p->scope, node))
        return true;
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        if (scope_covers(p->extra_scopes[i], node))
            return true;
    return false;
}

bool principal_below(const Whistle__V1__Principal *p, const char *node)
{
    if (!p || !node || !*node)
        return false;
    if (scope_covers(node, p->scope))
        return true;
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        if (scope_covers(node, p->extra_scopes[i]))
            return true;
    return false;
}

const char *principal_common_scope(const Whistle__V1__Principal *p, arena *a)
{
    const char *s = str0(p->scope);
    size_t n = strlen(s);
    for (size_t i = 0; i < p->n_extra_scopes; i++) {
        const char *e = str0(p->extra_scopes[i]);
        size_t k = 0;
        while (k < n && e[k] == s[k])
            k++;
        n = k;
    }
    return arena_strndup(a, s, n);
}
