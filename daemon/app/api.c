/* api.c: call dispatch and the helpers every domain module answers with.
 * See api.h for the contract with the router and the writer, domain.h for
 * the helpers. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "audit.h"
#include "authz.h"
#include "call.h"
#include "community.h"
#include "directory.h"
#include "dirio.h"
#include "dispatch.h"
#include "event.h"
#include "fed.h"
#include "oversight.h"
#include "photo.h"
#include "places.h"
#include "services.h"
#include "task.h"
#include "volunteer.h"

/* ------------------------------------------------------------ names */

bool api_is_write(const Whistle__V1__Request *req)
{
    const authz_rule *r = authz_rule_for((int)req->call_case);
    return r && r->write;
}

const char *api_call_name(const Whistle__V1__Request *req)
{
    if (req->call_case == WHISTLE__V1__REQUEST__CALL__NOT_SET)
        return "none";
    const authz_rule *r = authz_rule_for((int)req->call_case);
    return r ? r->name : "unknown";
}

/* The call's message (every member of the oneof is a pointer at the same
 * place) and its descriptor; NULL when the call is unknown. */
static const ProtobufCMessage *call_body(const Whistle__V1__Request *req, const ProtobufCFieldDescriptor **fd)
{
    *fd = protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, (unsigned)req->call_case);
    if (!*fd || (*fd)->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(const ProtobufCMessage *const *)((const char *)req + (*fd)->offset);
}

/* What a call is about, for the audit log of a refused call: the first
 * field of its message (a ticket, a code, a name; an id as "order:7"),
 * looking into a nested record (AddNode.node -> its code). */
static const char *call_target(const ProtobufCMessage *m, arena *a, int depth)
{
    if (!m || depth > 2 || m->descriptor->n_fields == 0)
        return "";
    const ProtobufCFieldDescriptor *f = &m->descriptor->fields[0];
    for (unsigned i = 1; i < m->descriptor->n_fields; i++)
        if (m->descriptor->fields[i].id < f->id)
            f = &m->descriptor->fields[i];
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return "";
    const char *p = (const char *)m + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: return str0(*(char *const *)p);
    case PROTOBUF_C_TYPE_UINT64: {
        uint64_t v = *(const uint64_t *)p;
        size_t n = strlen(f->name);
        if (!v)
            return "";
        if (n > 3 && strcmp(f->name + n - 3, "_id") == 0)
            return arena_printf(a, "%.*s:%llu", (int)(n - 3), f->name, (unsigned long long)v);
        return arena_printf(a, "%llu", (unsigned long long)v);
    }
    case PROTOBUF_C_TYPE_MESSAGE: return call_target(*(const ProtobufCMessage *const *)p, a, depth + 1);
    default: return "";
    }
}

/* ------------------------------------------------------------ checks */

/* ------------------------------------------------------------ entry points */

Whistle__V1__Principal *api_principal(store *st, MDB_txn *txn, const char *name, arena *a)
{
    if (!ident_ok(name, 64))
        return NULL;
    return directory_principal_get(st, txn, name, a);
}

const Whistle__V1__Principal *api_acting(store *st, MDB_txn *txn, const Whistle__V1__Principal *caller,
                                         const char *act_as, const char *call_name, int64_t now_ms, arena *a,
                                         Whistle__V1__Response *resp, const char **why)
{
    if (!act_as || !*act_as || strcmp(act_as, str0(caller->name)) == 0)
        return caller;
    /* Only a gateway's list is worth a look-up: anyone else is refused
     * whoever it names. */
    const Whistle__V1__Principal *target = caller->role == ROLE(GATEWAY) ? api_principal(st, txn, act_as, a) : NULL;
    const char *refusal = authz_act_as_refusal(caller, act_as, target, a);
    if (!refusal)
        return target;
    if (why)
        *why = refusal;
    if (resp) {
        call_status(resp, a, CODE(PERMISSION_DENIED), "%s", refusal);
        audit_deny(st, now_ms, str0(caller->name), call_name, arena_printf(a, "%.64s", act_as), refusal);
    }
    return NULL;
}

int api_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    return dirio_seed(st, path, now_ms, err, errlen);
}

/* The role gate (authz.h), before anything is loaded: a refusal is
 * audited under what the call is about. */
static bool call_gate(call *c, const Whistle__V1__Request *req)
{
    if (authz_role_may((int)req->call_case, c->who->role))
        return true;
    const ProtobufCFieldDescriptor *fd;
    return authz_check(c, call_target(call_body(req, &fd), c->a, 0)) == 0;
}

static bool call_begin(call *c, store *st, MDB_txn *txn, const Whistle__V1__Principal *who,
                       const Whistle__V1__Request *req, int64_t now_ms, arena *a, Whistle__V1__Response *resp,
                       stream_touched *touched)
{
    *c = (call){ .st = st,
                 .txn = txn,
                 .who = who,
                 .name = api_call_name(req),
                 .now = now_ms,
                 .a = a,
                 .resp = resp,
                 .touched = touched };
    resp->id = req->id;
    if (!who || !who->enabled || who->role == ROLE(UNSPECIFIED)) {
        call_fail(c, CODE(UNAUTHENTICATED), "no enabled principal for this connection");
        return false;
    }
    if (req->call_case == WHISTLE__V1__REQUEST__CALL__NOT_SET) {
        call_fail(c, CODE(INVALID_ARGUMENT), "the request has no call set");
        return false;
    }
    if (!call_gate(c, req))
        return false;
    /* A hand-built request may name the call but not carry its message;
     * only a message without fields may be left out. */
    const ProtobufCFieldDescriptor *fd;
    const ProtobufCMessage *body = call_body(req, &fd);
    if (!body && fd && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
        ((const ProtobufCMessageDescriptor *)fd->descriptor)->n_fields > 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "the %s call has no body", c->name);
        return false;
    }
    return true;
}

bool api_authorize(store *st, const Whistle__V1__Principal *who, const Whistle__V1__Request *req, int64_t now_ms,
                   arena *a, Whistle__V1__Response *resp)
{
    call c;
    if (!call_begin(&c, st, NULL, who, req, now_ms, a, resp, NULL))
        return false;
    return true;
}

static void call_end(call *c)
{
    if (!c->resp->status)
        call_status(c->resp, c->a, CODE(OK), "%s", "");
}

void api_read_audited(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
                      int64_t now_ms, arena *a, Whistle__V1__Response *resp, api_read_audit *audit)
{
    call c;
    if (audit)
        *audit = (api_read_audit){ 0 };
    if (!call_begin(&c, st, txn, who, req, now_ms, a, resp, NULL))
        return;
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_GET_EVENT: event_get(&c, req->get_event); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_EVENTS: event_list(&c, req->list_events); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_ORDERS: dispatch_list_orders(&c, req->list_orders); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_NODES: directory_list_nodes(&c, req->list_nodes); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS: directory_list_departments(&c); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_CATEGORIES: directory_list_categories(&c); break;
    case WHISTLE__V1__REQUEST__CALL_LOOKUP_TICKET: event_lookup(&c, req->lookup_ticket); break;
    case WHISTLE__V1__REQUEST__CALL_GET_PHOTO: photo_get(&c, req->get_photo); break;
    case WHISTLE__V1__REQUEST__CALL_PROPOSE_DEPARTMENTS: dispatch_propose(&c, req->propose_departments); break;
    case WHISTLE__V1__REQUEST__CALL_EXPORT_DIRECTORY: admin_export(&c, req->export_directory); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_PRINCIPALS: admin_list_principals(&c, req->list_principals); break;
    case WHISTLE__V1__REQUEST__CALL_QUERY_AUDIT: admin_query_audit(&c, req->query_audit); break;
    case WHISTLE__V1__REQUEST__CALL_GET_ADMISSION_LIST: task_get_admission(&c, req->get_admission_list); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_TASKS: task_list(&c, req->list_tasks); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_SERVICES: services_list(&c, req->list_services); break;
    case WHISTLE__V1__REQUEST__CALL_GET_VOLUNTEER_CONFIG: volunteer_get_config(&c, req->get_volunteer_config); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_VOLUNTEERS: volunteer_list(&c, req->list_volunteers); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_WISHES: wish_list(&c, req->list_wishes); break;
    case WHISTLE__V1__REQUEST__CALL_POINTS_BALANCE: points_balance(&c, req->points_balance); break;
    case WHISTLE__V1__REQUEST__CALL_POINTS_HISTORY: points_history(&c, req->points_history); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_SHOP: points_list_shop(&c, req->list_shop); break;
    case WHISTLE__V1__REQUEST__CALL_LIST_MEMBER_TASKS: volunteer_list_tasks(&c, req->list_member_tasks); break;
    case WHISTLE__V1__REQUEST__CALL_VOLUNTEER_REPORT: volunteer_report(&c, req->volunteer_report); break;
    case WHISTLE__V1__REQUEST__CALL_LOCATE_PLACE: places_locate_call(&c, req->locate_place); break;
    case WHISTLE__V1__REQUEST__CALL_HELLO:
    case WHISTLE__V1__REQUEST__CALL_PING:
    case WHISTLE__V1__REQUEST__CALL_SUBSCRIBE:
    case WHISTLE__V1__REQUEST__CALL_SERVER_STATS:
    case WHISTLE__V1__REQUEST__CALL_RELOAD_CRL:
    case WHISTLE__V1__REQUEST__CALL_BACKUP:
    case WHISTLE__V1__REQUEST__CALL_BACKUP_READ:
    case WHISTLE__V1__REQUEST__CALL_SET_LOG_LEVEL:
    case WHISTLE__V1__REQUEST__CALL_PHOTO_PUT:
    case WHISTLE__V1__REQUEST__CALL_PHOTO_UPLOAD:
        call_fail(&c, CODE(INTERNAL), "%s is answered by the server, not by api_read", c.name);
        break;
    default:
        if (api_is_write(req))
            call_fail(&c, CODE(INTERNAL), "%s is a write; it goes to the writer", c.name);
        else if (oversight_read(&c, req) || community_read(&c, req))
            break;
        else
            call_fail(&c, CODE(UNIMPLEMENTED), "call %d is not known to this server", (int)req->call_case);
        break;
    }
    call_end(&c);
    if (c.read_what && c.resp->status && c.resp->status->code == CODE(OK)) {
        if (audit)
            *audit = (api_read_audit){ .call = c.name, .target = str0(c.read_target), .what = c.read_what };
        else
            audit_read_queue(st, now_ms, str0(who->name), c.name, c.read_target, c.read_what);
    }
}

void api_read(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
              int64_t now_ms, arena *a, Whistle__V1__Response *resp)
{
    api_read_audited(st, txn, who, req, now_ms, a, resp, NULL);
}

int api_write(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
              int64_t now_ms, arena *a, Whistle__V1__Response *resp, stream_touched *touched)
{
    call c;
    if (!call_begin(&c, st, txn, who, req, now_ms, a, resp, touched))
        return 0;
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_REPORT: event_report(&c, req->report); break;
    case WHISTLE__V1__REQUEST__CALL_FILE: event_file(&c, req->file); break;
    case WHISTLE__V1__REQUEST__CALL_REJECT: event_reject(&c, req->reject); break;
    case WHISTLE__V1__REQUEST__CALL_ASSIGN: event_assign(&c, req->assign); break;
    case WHISTLE__V1__REQUEST__CALL_RESOLVE: event_resolve(&c, req->resolve); break;
    case WHISTLE__V1__REQUEST__CALL_VERIFY: event_verify(&c, req->verify); break;
    case WHISTLE__V1__REQUEST__CALL_CLOSE: event_close(&c, req->close); break;
    case WHISTLE__V1__REQUEST__CALL_RATE: event_rate(&c, req->rate); break;
    case WHISTLE__V1__REQUEST__CALL_WHISTLE: dispatch_whistle(&c, req->whistle); break;
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN: dispatch_check_in(&c, req->check_in); break;
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK: dispatch_feedback(&c, req->feedback); break;
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER: dispatch_return(&c, req->return_order); break;
    case WHISTLE__V1__REQUEST__CALL_IMPORT_DIRECTORY: admin_import(&c, req->import_directory); break;
    case WHISTLE__V1__REQUEST__CALL_ADD_NODE: admin_add_node(&c, req->add_node); break;
    case WHISTLE__V1__REQUEST__CALL_UPDATE_NODE: admin_update_node(&c, req->update_node); break;
    case WHISTLE__V1__REQUEST__CALL_MOVE_NODE: admin_move_node(&c, req->move_node); break;
    case WHISTLE__V1__REQUEST__CALL_PUT_DEPARTMENT: admin_put_department(&c, req->put_department); break;
    case WHISTLE__V1__REQUEST__CALL_PUT_CATEGORY: admin_put_category(&c, req->put_category); break;
    case WHISTLE__V1__REQUEST__CALL_ADD_PRINCIPAL: admin_add_principal(&c, req->add_principal); break;
    case WHISTLE__V1__REQUEST__CALL_UPDATE_PRINCIPAL: admin_update_principal(&c, req->update_principal); break;
    case WHISTLE__V1__REQUEST__CALL_SET_ADMISSION_LIST: task_set_admission(&c, req->set_admission_list); break;
    case WHISTLE__V1__REQUEST__CALL_PUSH_TASK: task_push(&c, req->push_task); break;
    case WHISTLE__V1__REQUEST__CALL_COMPLETE_TASK: task_complete(&c, req->complete_task); break;
    case WHISTLE__V1__REQUEST__CALL_SET_VOLUNTEER_CONFIG: volunteer_set_config(&c, req->set_volunteer_config); break;
    case WHISTLE__V1__REQUEST__CALL_ADD_VOLUNTEER: volunteer_add(&c, req->add_volunteer); break;
    case WHISTLE__V1__REQUEST__CALL_ADD_WISH: wish_add(&c, req->add_wish); break;
    case WHISTLE__V1__REQUEST__CALL_PUBLISH_WISH: wish_publish(&c, req->publish_wish); break;
    case WHISTLE__V1__REQUEST__CALL_CLAIM_WISH: wish_claim(&c, req->claim_wish); break;
    case WHISTLE__V1__REQUEST__CALL_DONE_WISH: wish_done(&c, req->done_wish); break;
    case WHISTLE__V1__REQUEST__CALL_CONFIRM_WISH: wish_confirm(&c, req->confirm_wish); break;
    case WHISTLE__V1__REQUEST__CALL_ADJUST_POINTS: points_adjust(&c, req->adjust_points); break;
    case WHISTLE__V1__REQUEST__CALL_PUT_SHOP_ITEM: points_put_item(&c, req->put_shop_item); break;
    case WHISTLE__V1__REQUEST__CALL_REDEEM: points_redeem(&c, req->redeem); break;
    case WHISTLE__V1__REQUEST__CALL_PUBLISH_MEMBER_TASK: volunteer_publish_task(&c, req->publish_member_task); break;
    case WHISTLE__V1__REQUEST__CALL_MEMBER_TASK_ACT: volunteer_task_act(&c, req->member_task_act); break;
    case WHISTLE__V1__REQUEST__CALL_FED_APPLY: fed_apply(&c, req->fed_apply); break;
    case WHISTLE__V1__REQUEST__CALL_TRANSFER: fed_transfer_out(&c, req->transfer); break;
    case WHISTLE__V1__REQUEST__CALL_FED_DIRECTORY: fed_directory(&c, req->fed_directory); break;
    default:
        if (!oversight_write(&c, req) && !community_write(&c, req))
            call_fail(&c, CODE(INTERNAL), "%s is not a write; it is answered from a read transaction", c.name);
        break;
    }
    call_end(&c);
    return c.store_rc;
}
