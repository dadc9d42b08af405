/* fed_rows.c: see fed_rows.h. */
#include "fed_rows.h"

#include <stdio.h>
#include <string.h>

#include "directory.h"

const char *fed_stream_name(const store *st, char *buf, size_t len)
{
    if (!st->fed_district[0])
        buf[0] = 0;
    else
        snprintf(buf, len, "fed:%s", st->fed_district);
    return buf;
}

static int append(call *c, Whistle__V1__Push *p)
{
    char name[32];
    fed_stream_name(c->st, name, sizeof name);
    p->actor = (char *)str0(c->who->name);
    int rc = stream_append(c->st, c->txn, arena_strdup(c->a, name), c->now, p, c->touched);
    return rc ? call_store_fail(c, rc, "appending to the federation stream") : 0;
}

int fed_rows_case(call *c, const Whistle__V1__Event *old, const Whistle__V1__Event *ev)
{
    if (!c->st->fed_district[0])
        return 0;
    if (old && old->state == ev->state && old->rating == ev->rating && old->reopen_count == ev->reopen_count &&
        strcmp(str0(old->transferred_to), str0(ev->transferred_to)) == 0 &&
        strcmp(str0(old->transferred_from), str0(ev->transferred_from)) == 0)
        return 0;
    Whistle__V1__FedCaseEvent *f = arena_alloc(c->a, sizeof *f);
    whistle__v1__fed_case_event__init(f);
    f->district = c->st->fed_district;
    f->ticket = ev->ticket;
    f->external_id = (char *)str0(ev->external_id);
    f->state = ev->state;
    f->version = ev->version;
    f->at_ms = c->now;
    /* what happened: the last entry this call appended to the timeline */
    f->action = (char *)(ev->n_timeline ? str0(ev->timeline[ev->n_timeline - 1]->action) : str0(c->name));
    f->category = (char *)str0(ev->category);
    f->street = (char *)str0(ev->street);
    f->node = (char *)str0(ev->node);
    f->note = (char *)(ev->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_REJECTED
                           ? str0(ev->reject_reason)
                           : (ev->n_timeline ? str0(ev->timeline[ev->n_timeline - 1]->note) : ""));
    f->rating = ev->rating;
    f->due_passed = ev->due_passed;
    f->transferred_to = (char *)str0(ev->transferred_to);
    f->transferred_from = (char *)str0(ev->transferred_from);
    Whistle__V1__Push p = WHISTLE__V1__PUSH__INIT;
    p.action = "fed_case";
    p.fed_case = f;
    return append(c, &p);
}

int fed_rows_order(call *c, const Whistle__V1__Order *old, const Whistle__V1__Order *o)
{
    if (!c->st->fed_district[0])
        return 0;
    Whistle__V1__Department *d = directory_department_get(c->st, c->txn, str0(o->department), c->a);
    if (!d || !d->city)
        return 0;
    Whistle__V1__FedOrder *f = arena_alloc(c->a, sizeof *f);
    whistle__v1__fed_order__init(f);
    f->district = c->st->fed_district;
    f->action = (char *)(!old ? "dispatch" : strcmp(str0(c->name), "deadline") == 0 ? "overdue" : str0(c->name));
    f->order = (Whistle__V1__Order *)o;
    f->at_ms = c->now;
    f->actor = (char *)str0(c->who->name);
    /* the hotline's id, so that the city desk can tell the caller */
    Whistle__V1__Event *ev =
        store_get_named(c->txn, c->st->events, str0(o->ticket), &whistle__v1__event__descriptor, c->a);
    if (ev)
        f->external_id = (char *)str0(ev->external_id);
    Whistle__V1__Push p = WHISTLE__V1__PUSH__INIT;
    p.action = "fed_order";
    p.fed_order = f;
    return append(c, &p);
}

int fed_rows_transfer(call *c, Whistle__V1__FedTransfer *t)
{
    if (!c->st->fed_district[0])
        return call_fail(c, CODE(FAILED_PRECONDITION), "this server is not federated ([federation] in whistled.conf)");
    Whistle__V1__Push p = WHISTLE__V1__PUSH__INIT;
    p.action = "fed_transfer";
    p.fed_transfer = t;
    return append(c, &p);
}
