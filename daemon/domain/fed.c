/* fed.c: see fed.h. */
#include "fed.h"

#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "audit.h"
#include "authz.h"
#include "directory.h"
#include "dispatch.h"
#include "event.h"
#include "event_record.h"
#include "fed_rows.h"
#include "field_limits.h"
#include "order_record.h"
#include "places.h"
#include "supervision_record.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define FED_KEY_MAX 256
#define FED_SOURCE_MAX 128
#define HISTORY_MAX 50

/* ------------------------------------------------------------ checks */

/* This server is a district of a federated city and the caller is bound
 * to it: a bridge acts for its own district only. */
static int fed_bound(call *c)
{
    if (!c->st->fed_district[0])
        return call_fail(c, CODE(FAILED_PRECONDITION),
                         "this server is not a district of a federated city ([federation] in whistled.conf)");
    if (c->who->role == ROLE(BRIDGE) && strcmp(str0(c->who->scope), c->st->fed_district) != 0)
        return call_deny(c, c->st->fed_district,
                         "bridge %s is bound to district %s; this server is district %s (rule: a bridge acts for its "
                         "own district only)",
                         str0(c->who->name), str0(c->who->scope), c->st->fed_district);
    return 0;
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* ------------------------------------------------------------ the keys */

/* The result stored for key, or NULL. *err set on a store error. */
static Whistle__V1__FedApplyResult *key_get(call *c, const char *key, int *err)
{
    *err = 0;
    Whistled__FedKeyRecord *r = NULL;
    int rc =
        store_get(c->txn, c->st->fed_keys, key, strlen(key), &whistled__fed_key_record__descriptor, c->a, (void **)&r);
    if (rc == MDB_NOTFOUND || !r)
        return NULL;
    if (rc) {
        *err = rc;
        return NULL;
    }
    Whistle__V1__FedApplyResult *res =
        whistle__v1__fed_apply_result__unpack(arena_allocator(c->a), r->result.len, r->result.data);
    if (!res)
        *err = MDB_CORRUPTED;
    return res;
}

static int key_put(call *c, const char *key, const Whistle__V1__FedApplyResult *res)
{
    size_t n = protobuf_c_message_get_packed_size(&res->base);
    uint8_t *buf = arena_alloc(c->a, n ? n : 1);
    protobuf_c_message_pack(&res->base, buf);
    Whistled__FedKeyRecord r = WHISTLED__FED_KEY_RECORD__INIT;
    r.at_ms = c->now;
    r.result.data = buf;
    r.result.len = n;
    int rc = store_put(c->txn, c->st->fed_keys, key, strlen(key), &r.base);
    return rc ? call_store_fail(c, rc, "storing the federation key") : 0;
}

/* The ticket an external id became here, or NULL. */
static const char *ext_get(call *c, const char *ext, int *err)
{
    void *v;
    size_t n;
    *err = 0;
    int rc = store_get_bytes(c->txn, c->st->fed_ext, ext, strlen(ext), c->a, &v, &n);
    if (rc == MDB_NOTFOUND)
        return NULL;
    if (rc) {
        *err = rc;
        return NULL;
    }
    char *t = arena_alloc(c->a, n + 1);
    memcpy(t, v, n);
    t[n] = 0;
    return t;
}

static int ext_put(call *c, const char *ext, const char *ticket)
{
    MDB_val k = { strlen(ext), (void *)ext }, v = { strlen(ticket), (void *)ticket };
    int rc = mdb_put(c->txn, c->st->fed_ext, &k, &v, 0);
    return rc ? call_store_fail(c, rc, "storing the external id") : 0;
}

static void answer(call *c, Whistle__V1__FedApplyResult *res)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_FED_APPLY;
    c->resp->fed_apply = res;
}

static Whistle__V1__FedApplyResult *result_new(call *c)
{
    Whistle__V1__FedApplyResult *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__fed_apply_result__init(r);
    return r;
}

/* ------------------------------------------------------------ intake */

/* Where a case from the city goes: its node when it is a live node of
 * this district; else the grid holding its location; else the district's
 * intake street ([federation] intake_node), where a person places it, so
 * that a case the city sent is never refused for its place when the
 * district has said where such cases go. "" when there is none. */
static const char *place_for(call *c, const char *node, bool has_location, double lat, double lon)
{
    if (*node && has_prefix(node, c->st->fed_district)) {
        Whistle__V1__Node *n = directory_node_get(c->st, c->txn, node, c->a);
        if ((n && !n->retired) || !*c->st->fed_intake_node)
            return node;
    }
    if (has_location && places_point_ok(lat, lon)) {
        const char *code = NULL, *why = NULL;
        if (places_locate(c->st, c->txn, lat, lon, WHISTLE__V1__NODE_KIND__NODE_KIND_GRID, c->a, &code, &why) == 0 &&
            code && has_prefix(code, c->st->fed_district))
            return code;
    }
    return *c->st->fed_intake_node || !*node ? c->st->fed_intake_node : node;
}

/* Reports a new case from the city through event_report, as the bridge
 * (reporter = the bridge, source hotline, audited as fed_apply); the
 * external id is kept with its ticket. The ticket, or NULL with the call
 * failed. */
static const char *report_case(call *c, const char *ext, const char *node, const char *category,
                               Whistle__V1__Priority prio, const char *description, const char *contact,
                               bool has_location, double lat, double lon, Whistle__V1__AttributeAnswer **attrs,
                               size_t n_attrs)
{
    node = place_for(c, node, has_location, lat, lon);
    if (!*node) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "the case has no place (node) of district %s and no location inside its grids, and [federation] "
                  "intake_node is not set",
                  c->st->fed_district);
        return NULL;
    }
    if (!has_prefix(node, c->st->fed_district)) {
        call_fail(c, CODE(FAILED_PRECONDITION), "node %.40s is not in district %s: the case was routed wrongly", node,
                  c->st->fed_district);
        return NULL;
    }
    if (!*category)
        category = c->st->fed_intake_category;
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = (char *)node;
    r.category = (char *)category;
    r.priority = prio;
    r.description = (char *)description;
    r.contact = (char *)contact;
    r.external_id = (char *)ext;
    r.source = WHISTLE__V1__SOURCE__SOURCE_HOTLINE;
    r.has_location = has_location && places_point_ok(lat, lon);
    r.lat = lat;
    r.lon = lon;
    r.attributes = attrs;
    r.n_attributes = n_attrs;
    event_report(c, &r);
    if (c->resp->status || c->resp->result_case != WHISTLE__V1__RESPONSE__RESULT_EVENT || !c->resp->event)
        return NULL;
    const char *ticket = c->resp->event->ticket;
    if (*ext && ext_put(c, ext, ticket))
        return NULL;
    return ticket;
}

static void apply_intake(call *c, const char *key, const Whistle__V1__FedIntake *in)
{
    const char *ext = str0(in->external_id);
    if (!*ext) {
        call_fail(c, CODE(INVALID_ARGUMENT), "intake.external_id is required (the hotline's work-order number)");
        return;
    }
    if (check_text(c, "intake.external_id", ext, EXTERNAL_ID_MAX, true) ||
        check_text(c, "intake.origin", in->origin, 64, false))
        return;
    int err;
    const char *ticket = ext_get(c, ext, &err);
    if (err) {
        call_store_fail(c, err, "reading the external ids");
        return;
    }
    Whistle__V1__FedApplyResult *res = result_new(c);
    if (ticket) {
        /* the same case again (another key, or a resend past the key's
         * record): it is the case it became, and nothing changes */
        res->ticket = (char *)ticket;
        res->duplicate = true;
        answer(c, res);
        return;
    }
    ticket = report_case(c, ext, str0(in->node), str0(in->category), in->priority, str0(in->description),
                         str0(in->contact), in->has_location, in->lat, in->lon, in->attributes, in->n_attributes);
    if (!ticket)
        return;
    res->ticket = (char *)ticket;
    if (key_put(c, key, res))
        return;
    answer(c, res);
}

/* ------------------------------------------------------------ commands */

/* A city department's check-in or feedback on its order here, made as that
 * department: the audit names it (principal "dept:<code>") and the bridge
 * (via). */
static void apply_order_act(call *c, const char *key, const Whistle__V1__FedOrderAct *a, bool feedback)
{
    const char *dept = str0(a ? a->department : NULL);
    if (!a || !directory_dept_code_ok(dept)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "command.%s.department: a department code is required",
                  feedback ? "feedback" : "check_in");
        return;
    }
    if (check_text(c, "command.actor", a->actor, 64, false))
        return;
    Whistle__V1__Department *d = directory_department_get(c->st, c->txn, dept, c->a);
    if (!d || !d->city) {
        call_deny(c, dept,
                  "department %s is not a city-level department here (rule: through the bridge only the city's "
                  "departments act, on their own orders)",
                  dept);
        return;
    }
    Whistle__V1__Principal as = *c->who;
    as.name = arena_printf(c->a, "dept:%s", dept);
    as.role = ROLE(DEPARTMENT);
    as.department = (char *)dept;
    const Whistle__V1__Principal *was_who = c->who;
    const char *was_name = c->name;
    const char *was_via = audit_via_set(str0(was_who->name));
    c->who = &as;
    c->name = feedback ? "feedback" : "check_in";
    if (feedback) {
        Whistle__V1__Feedback f = WHISTLE__V1__FEEDBACK__INIT;
        f.order_id = a->order_id;
        f.text = a->note;
        dispatch_feedback(c, &f);
    } else {
        Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
        ci.order_id = a->order_id;
        ci.note = a->note;
        dispatch_check_in(c, &ci);
    }
    c->who = was_who;
    c->name = was_name;
    audit_via_set(was_via);
    if (c->resp->status || c->resp->result_case != WHISTLE__V1__RESPONSE__RESULT_ORDER || !c->resp->order)
        return;
    Whistle__V1__FedApplyResult *res = result_new(c);
    res->ticket = c->resp->order->ticket;
    res->order_id = c->resp->order->id;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
    if (key_put(c, key, res))
        return;
    answer(c, res);
}

/* The timeline of the case in the district it came from, in a note. */
static const char *history_note(call *c, const Whistle__V1__FedTransfer *t)
{
    char *s = arena_printf(c->a, "from district %.6s case %.32s: %.400s", str0(t->from_district), str0(t->from_ticket),
                           str0(t->reason));
    for (size_t i = 0; i < t->n_history && strlen(s) < NOTE_MAX - 120; i++) {
        const Whistle__V1__TimelineEntry *e = t->history[i];
        s = arena_printf(c->a, "%s; %.24s by %.40s", s, str0(e->action), str0(e->actor));
    }
    if (strlen(s) > NOTE_MAX)
        s[NOTE_MAX] = 0; /* only ASCII was added after the reason's bytes */
    return s;
}

static void apply_transfer_in(call *c, const char *key, const Whistle__V1__FedTransfer *t)
{
    const Whistle__V1__Event *ev = t ? t->event : NULL;
    if (!t || !ev) {
        call_fail(c, CODE(INVALID_ARGUMENT), "command.transfer.event: the case is required");
        return;
    }
    if (strcmp(str0(t->to_district), c->st->fed_district) != 0) {
        call_fail(c, CODE(FAILED_PRECONDITION), "the transfer is for district %.6s; this is district %s",
                  str0(t->to_district), c->st->fed_district);
        return;
    }
    if (strlen(str0(t->from_district)) != 6 || strcmp(t->from_district, c->st->fed_district) == 0 ||
        check_text(c, "command.transfer.from_ticket", t->from_ticket, TICKET_MAX, true) ||
        check_text(c, "command.transfer.reason", t->reason, NOTE_MAX, false)) {
        if (!c->resp->status)
            call_fail(c, CODE(INVALID_ARGUMENT), "command.transfer.from_district: another district's 6-digit code");
        return;
    }
    const char *ext = str0(ev->external_id);
    Whistle__V1__FedApplyResult *res = result_new(c);
    if (*ext) {
        int err;
        const char *had = ext_get(c, ext, &err);
        if (err) {
            call_store_fail(c, err, "reading the external ids");
            return;
        }
        if (had) {
            res->ticket = (char *)had;
            res->duplicate = true;
            answer(c, res);
            return;
        }
    }
    /* Its category if this district has it and it serves here, else the
     * intake's. */
    const char *node = str0(t->node);
    const char *cat = str0(ev->category);
    Whistle__V1__Category *k = *cat ? directory_category_get(c->st, c->txn, cat, c->a) : NULL;
    if (!k || !directory_serves(k->scope, *node ? node : c->st->fed_district))
        cat = c->st->fed_intake_category;
    const char *ticket =
        report_case(c, ext, node, cat, ev->priority, str0(ev->description), str0(ev->contact), ev->has_location,
                    ev->lat, ev->lon, k && *cat ? ev->attributes : NULL, k && *cat ? ev->n_attributes : 0);
    if (!ticket)
        return;
    /* where it came from: a field and a timeline entry with its history */
    Whistle__V1__Event *nev;
    event_snap snap;
    if (event_load(c, ticket, &nev, &snap))
        return;
    nev->transferred_from = arena_printf(c->a, "%s:%s", t->from_district, t->from_ticket);
    event_timeline(c, nev, "transfer_in", history_note(c, t), 0, NULL);
    if (event_save(c, nev, &snap) || event_push(c, nev, "transfer_in", NULL))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
    res->ticket = (char *)ticket;
    if (key_put(c, key, res))
        return;
    answer(c, res);
}

/* City-level supervision (市级督办): a supervision record at level 3 on the
 * case or one of its orders, pushed to the street's feed and the
 * district's. */
static void apply_supervise(call *c, const char *key, const Whistle__V1__FedSupervise *s)
{
    if (!s || check_text(c, "command.supervise.ticket", s->ticket, TICKET_MAX, true) ||
        check_text(c, "command.supervise.note", s->note, NOTE_MAX, true) ||
        check_text(c, "command.supervise.actor", s->actor, 64, false)) {
        if (!c->resp->status)
            call_fail(c, CODE(INVALID_ARGUMENT), "command.supervise is required");
        return;
    }
    Whistle__V1__Event *ev;
    event_snap snap;
    if (event_load(c, s->ticket, &ev, &snap))
        return;
    if (!has_prefix(str0(ev->node), c->st->fed_district)) {
        call_hide(c, ev->ticket, arena_printf(c->a, "no case %s", ev->ticket),
                  "case %s is at %s, outside district %s (rule: a bridge acts on its own district's cases only)",
                  ev->ticket, ev->node, c->st->fed_district);
        return;
    }
    Whistle__V1__Order *o = NULL;
    void *ob = NULL;
    size_t ol = 0;
    if (s->order_id) {
        if (order_load(c, s->order_id, &o, &ob, &ol))
            return;
        if (strcmp(str0(o->ticket), ev->ticket) != 0) {
            call_fail(c, CODE(INVALID_ARGUMENT), "order %llu is not an order of case %s",
                      (unsigned long long)s->order_id, ev->ticket);
            return;
        }
    }
    Whistle__V1__Supervision *sup = supervision_new(c, ev);
    if (!sup)
        return;
    sup->level = 3;
    sup->order_id = o ? o->id : 0;
    sup->department = o ? o->department : (char *)"";
    sup->closed_reason = (char *)"";
    sup->assignee = (char *)str0(ev->assignee);
    const char *who = *str0(s->actor) ? s->actor : "city";
    event_timeline(c, ev, "city_supervise",
                   arena_printf(c->a, "supervision #%llu by %s: %s", (unsigned long long)sup->id, who, s->note),
                   o ? o->id : 0, o ? o->department : NULL);
    if (o)
        o->supervision_id = sup->id;
    else
        ev->supervision_id = sup->id;
    if (supervision_save(c, sup, NULL, 0) || (o && order_save(c, o, ob, ol)) || event_save(c, ev, &snap))
        return;
    const char *streams[] = { arena_printf(c->a, "street:%s", ev->street),
                              arena_printf(c->a, "district:%s", str0(sup->district)) };
    for (size_t i = 0; i < 2; i++) {
        Whistle__V1__Push p = WHISTLE__V1__PUSH__INIT;
        p.action = "city_supervise";
        p.actor = (char *)str0(c->who->name);
        Whistle__V1__Event *e = event_for_reply(c, ev, false);
        p.event = e;
        p.order = o;
        p.supervision = sup;
        int rc = stream_append(c->st, c->txn, streams[i], c->now, &p, c->touched);
        if (rc) {
            call_store_fail(c, rc, "appending the supervision's alert");
            return;
        }
    }
    Whistle__V1__FedApplyResult *res = result_new(c);
    res->ticket = ev->ticket;
    res->order_id = o ? o->id : 0;
    res->supervision_id = sup->id;
    if (key_put(c, key, res))
        return;
    answer(c, res);
}

void fed_apply(call *c, const Whistle__V1__FedApply *req)
{
    const char *key = str0(req->key), *source = str0(req->source);
    if (authz_check(c, key) || fed_bound(c))
        return;
    if (check_text(c, "key", key, FED_KEY_MAX, true) || check_text(c, "source", source, FED_SOURCE_MAX, false))
        return;
    /* the subject it came from is this district's */
    bool intake = req->body_case == WHISTLE__V1__FED_APPLY__BODY_INTAKE;
    const char *want = intake ? "intake." : "cmd.";
    if (*source && (!has_prefix(source, want) || !has_prefix(source + strlen(want), c->st->fed_district) ||
                    (source[strlen(want) + 6] != 0 && source[strlen(want) + 6] != '.'))) {
        call_deny(c, source,
                  "source %.128s is not this district's (%s%s...) (rule: a bridge applies only what was sent to its "
                  "own district)",
                  source, want, c->st->fed_district);
        return;
    }
    int err;
    Whistle__V1__FedApplyResult *had = key_get(c, key, &err);
    if (err) {
        call_store_fail(c, err, "reading the federation keys");
        return;
    }
    if (had) {
        had->duplicate = true;
        answer(c, had);
        return;
    }
    switch (req->body_case) {
    case WHISTLE__V1__FED_APPLY__BODY_INTAKE: apply_intake(c, key, req->intake); return;
    case WHISTLE__V1__FED_APPLY__BODY_COMMAND: break;
    default: call_fail(c, CODE(INVALID_ARGUMENT), "fed_apply needs an intake or a command"); return;
    }
    const Whistle__V1__FedCommand *cmd = req->command;
    switch (cmd->kind_case) {
    case WHISTLE__V1__FED_COMMAND__KIND_CHECK_IN: apply_order_act(c, key, cmd->check_in, false); break;
    case WHISTLE__V1__FED_COMMAND__KIND_FEEDBACK: apply_order_act(c, key, cmd->feedback, true); break;
    case WHISTLE__V1__FED_COMMAND__KIND_TRANSFER: apply_transfer_in(c, key, cmd->transfer); break;
    case WHISTLE__V1__FED_COMMAND__KIND_SUPERVISE: apply_supervise(c, key, cmd->supervise); break;
    default:
        call_fail(c, CODE(INVALID_ARGUMENT), "command %.64s has no kind (check_in, feedback, transfer, supervise)",
                  str0(cmd->command_id));
        break;
    }
}

/* ------------------------------------------------------------ transfer out */

void fed_transfer_out(call *c, const Whistle__V1__TransferEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = event_load_for_operator(c, req->ticket, &snap);
    if (!ev || check_text(c, "reason", req->reason, NOTE_MAX, true) || fed_bound(c))
        return;
    const char *to = str0(req->to_district), *node = str0(req->node);
    if (strlen(to) != 6 || !digits_ok(to, 6) || strcmp(to, c->st->fed_district) == 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "to_district \"%.40s\": another district's 6-digit code (this is %s)", to,
                  c->st->fed_district);
        return;
    }
    if (*node && (!digits_ok(node, strlen(node)) || strlen(node) > 18 || !has_prefix(node, to))) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node of district %s", node, to);
        return;
    }
    if (ev->state != ES(REPORTED) && ev->state != ES(FILED) && ev->state != ES(HANDLING)) {
        event_wrong_state(c, ev, "reported, filed or handling (a case with orders out is not transferred)");
        return;
    }
    Whistle__V1__FedTransfer *t = arena_alloc(c->a, sizeof *t);
    whistle__v1__fed_transfer__init(t);
    t->from_district = c->st->fed_district;
    t->from_ticket = ev->ticket;
    t->to_district = (char *)to;
    t->reason = req->reason;
    t->actor = (char *)str0(c->who->name);
    t->at_ms = c->now;
    t->node = (char *)node;
    if (event_history(c, ev, HISTORY_MAX, &t->history, &t->n_history))
        return;
    /* the case as it was, without the timeline (history has it) */
    Whistle__V1__Event *was = arena_alloc(c->a, sizeof *was);
    *was = *ev;
    was->timeline = NULL;
    was->n_timeline = 0;
    was->timeline_total = 0;
    was->timeline_from = 0;
    t->event = was;
    ev->state = ES(CLOSED);
    ev->transferred_to = (char *)to;
    ev->assignee = (char *)"";
    event_timeline(c, ev, "transfer_out", arena_printf(c->a, "to district %s: %s", to, req->reason), 0, NULL);
    if (event_save(c, ev, &snap) || event_push(c, ev, "transfer_out", NULL) || fed_rows_transfer(c, t))
        return;
    /* The hotline's id now belongs to the receiving district: should the
     * case ever come back (transferred again), it is a new case here. The
     * keys of what was applied stay, so a message delivered again still
     * answers what it did. */
    if (*str0(ev->external_id)) {
        MDB_val k = { strlen(ev->external_id), ev->external_id };
        int rc = mdb_del(c->txn, c->st->fed_ext, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
            call_store_fail(c, rc, "forgetting the external id");
            return;
        }
    }
    event_reply(c, ev);
}

/* ------------------------------------------------------------ directory */

static int put_city_department(call *c, const Whistle__V1__FedDirEntry *e, bool *changed)
{
    const char *code = e->key + 5;
    const Whistle__V1__Department *in = e->department;
    void *bytes = NULL;
    size_t len = 0;
    int rc = store_get_bytes(c->txn, c->st->departments, code, strlen(code), c->a, &bytes, &len);
    if (rc && rc != MDB_NOTFOUND)
        return call_store_fail(c, rc, "reading the department");
    Whistle__V1__Department *old =
        rc ? NULL : whistle__v1__department__unpack(arena_allocator(c->a), len, (const uint8_t *)bytes);
    Whistle__V1__Department *d = arena_alloc(c->a, sizeof *d);
    whistle__v1__department__init(d);
    if (e->deleted) {
        if (!old || !old->city)
            return 0; /* kept: its orders refer to it; only no longer the city's */
        *d = *old;
        d->city = false;
    } else {
        if (!in || strcmp(str0(in->code), code) != 0)
            return call_fail(c, CODE(INVALID_ARGUMENT), "entry %.64s: its department's code must be %s", e->key, code);
        if (check_text(c, "department.name_zh", in->name_zh, 200, true) ||
            check_text(c, "department.name_en", in->name_en, 200, false))
            return -1;
        d->code = (char *)code;
        d->name_zh = in->name_zh;
        d->name_en = (char *)str0(in->name_en);
        d->scope = (char *)"";
        d->city = true;
        if (old && old->city && strcmp(str0(old->name_zh), d->name_zh) == 0 &&
            strcmp(str0(old->name_en), d->name_en) == 0 && !*str0(old->scope))
            return 0;
    }
    rc = store_put(c->txn, c->st->departments, code, strlen(code), &d->base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, str0(c->who->name), c->name, code, old ? bytes : NULL, old ? len : 0,
                          &d->base);
    if (rc)
        return call_store_fail(c, rc, "storing the department");
    *changed = true;
    return 0;
}

/* departments first, then major classes, then minor ones: what a category
 * names must exist before it */
static int entry_rank(const Whistle__V1__FedDirEntry *e)
{
    const char *k = str0(e->key);
    if (has_prefix(k, "dept."))
        return 0;
    if (has_prefix(k, "cat."))
        return strlen(k) <= 6 ? 1 : 2;
    return 3;
}

void fed_directory(call *c, const Whistle__V1__FedDirectory *req)
{
    if (authz_check(c, "") || fed_bound(c))
        return;
    if (req->n_entries > 1000) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu entries; at most 1000 in one call", req->n_entries);
        return;
    }
    Whistle__V1__FedDirectoryResult *res = arena_alloc(c->a, sizeof *res);
    whistle__v1__fed_directory_result__init(res);
    for (int rank = 0; rank <= 3; rank++)
        for (size_t i = 0; i < req->n_entries; i++) {
            const Whistle__V1__FedDirEntry *e = req->entries[i];
            if (!e || entry_rank(e) != rank)
                continue;
            const char *k = str0(e->key);
            if (check_text(c, "key", k, 128, true))
                return;
            if (rank == 0) {
                if (!directory_dept_code_ok(k + 5)) {
                    call_fail(c, CODE(INVALID_ARGUMENT), "entry %.64s: not a department code", k);
                    return;
                }
                bool changed = false;
                if (put_city_department(c, e, &changed))
                    return;
                changed ? res->applied++ : res->unchanged++;
            } else if (rank <= 2 && !e->deleted) {
                /* a shared category: the admin's own checks, audited as
                 * this call's */
                if (!e->category || strcmp(str0(e->category->code), k + 4) != 0) {
                    call_fail(c, CODE(INVALID_ARGUMENT), "entry %.64s: its category's code must be %s", k, k + 4);
                    return;
                }
                Whistle__V1__PutCategory pc = WHISTLE__V1__PUT_CATEGORY__INIT;
                pc.category = e->category;
                admin_put_category(c, &pc);
                if (c->resp->status)
                    return;
                res->applied++;
            } else {
                /* districts are the router's; a category deleted from the
                 * city's catalogue stays here (cases refer to it) */
                res->ignored++;
            }
        }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_FED_DIRECTORY;
    c->resp->fed_directory = res;
}
