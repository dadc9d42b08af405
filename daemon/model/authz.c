/* authz.c: see authz.h. docs/protocol.md section 10 says the same in prose;
 * change both together. */
#include "authz.h"

#include <stddef.h>
#include <string.h>

#include "directory.h"

#define R(x) AUTHZ_ROLE(x)
#define C(x) WHISTLE__V1__REQUEST__CALL_##x
#define ADMIN_ONLY R(ADMIN)
/* The roles that may hold a seat on a deliberative body: people, not
 * kiosks, sensors or gateways. */
#define DELIB_ROLES                                                                                                    \
    R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(INTEGRATION) | R(REPRESENTATIVE)

static const authz_rule rules[] = {
    /* the session (answered by the server) */
    { C(HELLO), "hello", false, AUTHZ_ALL_GW | R(REPRESENTATIVE) | R(BRIDGE), "any enabled principal opens a session" },
    { C(PING), "ping", false, AUTHZ_ALL_GW | R(REPRESENTATIVE) | R(BRIDGE), "any enabled principal may ping" },
    { C(SUBSCRIBE), "subscribe", false, AUTHZ_ALL | R(REPRESENTATIVE) | R(BRIDGE),
      "a principal reads its own stream; operators their street's; a bridge its district's fed:; admins any" },

    /* cases */
    { C(REPORT), "report", true,
      R(ADMIN) | R(OPERATOR) | R(GRID_WORKER) | R(COMMUNITY) | R(KIOSK) | R(INTEGRATION) | R(SENSOR),
      "cases are reported by operators, grid and community workers, kiosks, integrations and sensors, inside "
      "their scope" },
    { C(GET_EVENT), "get", false,
      R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(INTEGRATION),
      "sensors only report; a kiosk reads a ticket only with lookup and the phone's digits" },
    { C(LIST_EVENTS), "list", false, R(ADMIN) | R(OPERATOR) | R(GRID_WORKER) | R(COMMUNITY) | R(INTEGRATION),
      "departments list their orders; sensors only report; a kiosk lists nothing" },
    { C(FILE), "file", true, R(ADMIN) | R(OPERATOR), "file needs operator or admin" },
    { C(REJECT), "reject", true, R(ADMIN) | R(OPERATOR), "reject needs operator or admin" },
    { C(ASSIGN), "assign", true, R(ADMIN) | R(OPERATOR), "assign needs operator or admin" },
    { C(WHISTLE), "whistle", true, R(ADMIN) | R(OPERATOR), "whistle needs operator or admin" },
    { C(RESOLVE), "resolve", true, R(ADMIN) | R(OPERATOR) | R(GRID_WORKER) | R(COMMUNITY),
      "resolve needs the assigned grid or community worker, an operator or an admin" },
    { C(VERIFY), "verify", true, R(ADMIN) | R(OPERATOR) | R(GRID_WORKER) | R(COMMUNITY),
      "verify needs a grid or community worker, an operator or an admin" },
    { C(CLOSE), "close", true, R(ADMIN) | R(OPERATOR), "close needs operator or admin" },
    { C(RATE), "rate", true, R(ADMIN) | R(OPERATOR) | R(GRID_WORKER) | R(COMMUNITY) | R(KIOSK) | R(INTEGRATION),
      "rate needs the reporter, an operator or an admin; a kiosk, the phone's last 4 digits" },
    { C(LOOKUP_TICKET), "lookup", false, R(ADMIN) | R(OPERATOR) | R(KIOSK) | R(INTEGRATION),
      "a ticket is looked up with its phone digits by kiosks, operators and integrations, inside their scope" },
    { C(PROPOSE_DEPARTMENTS), "propose", false, R(ADMIN) | R(OPERATOR),
      "the catalogue's proposal is for those who whistle: operators and admins" },

    /* orders */
    { C(LIST_ORDERS), "list_orders", false, R(ADMIN) | R(OPERATOR) | R(DEPARTMENT),
      "orders are listed by departments and operators" },
    { C(CHECK_IN), "check_in", true, R(ADMIN) | R(DEPARTMENT), "check_in needs the department the order was sent to" },
    { C(FEEDBACK), "feedback", true, R(ADMIN) | R(DEPARTMENT), "feedback needs the department the order was sent to" },
    { C(RETURN_ORDER), "return", true, R(ADMIN) | R(DEPARTMENT), "return needs the department the order was sent to" },

    /* the directory: read by everyone inside their scope */
    { C(LIST_NODES), "list_nodes", false, AUTHZ_ALL_GW,
      "the tree of places is read inside the caller's scope and along the path above it" },
    { C(LIST_DEPARTMENTS), "list_departments", false, AUTHZ_ALL_GW, "the departments are public to principals" },
    { C(LIST_CATEGORIES), "list_categories", false, AUTHZ_ALL_GW, "the category catalogue is public to principals" },
    { C(LOCATE_PLACE), "locate_place", false, AUTHZ_ALL_GW,
      "any principal locates a point among the grids; the grid found must be in its scope" },

    /* administration */
    { C(IMPORT_DIRECTORY), "import", true, ADMIN_ONLY, "the directory is imported by admins" },
    { C(EXPORT_DIRECTORY), "export", false, ADMIN_ONLY, "the directory is exported by admins" },
    { C(ADD_NODE), "add_node", true, ADMIN_ONLY, "places are managed by admins" },
    { C(UPDATE_NODE), "update_node", true, ADMIN_ONLY, "places are managed by admins" },
    { C(MOVE_NODE), "move_node", true, ADMIN_ONLY, "places are managed by admins" },
    { C(PUT_DEPARTMENT), "put_department", true, ADMIN_ONLY, "departments are managed by admins" },
    { C(PUT_CATEGORY), "put_category", true, ADMIN_ONLY, "the category catalogue is managed by admins" },
    { C(ADD_PRINCIPAL), "add_principal", true, ADMIN_ONLY, "principals are managed by admins" },
    { C(UPDATE_PRINCIPAL), "update_principal", true, ADMIN_ONLY, "principals are managed by admins" },
    { C(LIST_PRINCIPALS), "list_principals", false, ADMIN_ONLY, "principals are listed by admins" },
    { C(RELOAD_CRL), "reload_crl", false, ADMIN_ONLY, "certificates and the CRL are reloaded by admins" },
    { C(SERVER_STATS), "server_stats", false, ADMIN_ONLY, "the server's counters are read by admins" },
    { C(BACKUP), "backup", false, ADMIN_ONLY, "backups of the store are taken by admins" },
    { C(BACKUP_READ), "backup_read", false, ADMIN_ONLY, "backups of the store are read by admins" },
    { C(SET_LOG_LEVEL), "set_log_level", false, ADMIN_ONLY, "the daemon's log level is set by admins" },
    { C(QUERY_AUDIT), "query_audit", false, ADMIN_ONLY, "the audit log is read by admins" },

    /* the community's admission list (准入清单) and the tasks it admits */
    { C(SET_ADMISSION_LIST), "set_admission", true, R(ADMIN) | R(OPERATOR),
      "a community's admission list is set by admins and by the operators of its street" },
    { C(GET_ADMISSION_LIST), "get_admission", false, R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(COMMUNITY),
      "admission lists are read by admins, departments, the street's operators and the community itself" },
    { C(PUSH_TASK), "push_task", true, R(ADMIN) | R(OPERATOR) | R(DEPARTMENT),
      "tasks are pushed to communities by departments, the street's operators and admins, within the admission "
      "list" },
    { C(LIST_TASKS), "list_tasks", false, R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(COMMUNITY),
      "tasks are listed by the community that has them, the department that pushed them, the street's "
      "operators and admins" },
    { C(COMPLETE_TASK), "complete_task", true, R(ADMIN) | R(COMMUNITY),
      "a task is completed by its community (or an admin)" },

    /* deadlines, supervision, the exception flow, statistics
     * (docs/deadlines.md, docs/statistics.md) */
    { C(REQUEST_EXTENSION), "request_extension", true, R(ADMIN) | R(DEPARTMENT),
      "an extension is asked for by the department the order was sent to" },
    { C(DECIDE_EXTENSION), "decide_extension", true, R(ADMIN) | R(OPERATOR),
      "extensions are approved or refused by the operators of the case's street" },
    { C(PARK), "park", true, R(ADMIN) | R(OPERATOR), "park needs operator or admin" },
    { C(UNPARK), "unpark", true, R(ADMIN) | R(OPERATOR), "unpark needs operator or admin" },
    { C(REOPEN), "reopen", true, R(ADMIN) | R(OPERATOR), "reopen needs operator or admin" },
    { C(MERGE), "merge", true, R(ADMIN) | R(OPERATOR), "merge needs operator or admin" },
    { C(REPORT_STAGE), "report_stage", true, R(ADMIN) | R(DEPARTMENT),
      "a stage is reported by the department the order was sent to" },
    { C(EMERGENCY_CALL), "emergency_call", true,
      R(ADMIN) | R(OPERATOR) | R(KIOSK) | R(SENSOR) | R(INTEGRATION) | R(COMMUNITY) | R(GRID_WORKER),
      "the emergency call is made from a kiosk or a sensor, or by those who report cases, inside their scope" },
    { C(LIST_SUPERVISIONS), "list_supervisions", false, R(ADMIN) | R(OPERATOR) | R(DEPARTMENT),
      "supervision records are read by operators (their scope), departments (their own) and admins" },
    { C(GET_STATS), "stats", false,
      R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(INTEGRATION) | R(BRIDGE),
      "statistics are read by operators, departments (their own), grid and community workers, integrations and "
      "a district's bridge (places in their scope), and admins" },

    /* federation (docs/federation.md): a district's bridge applies what
     * the city sends, to its own district only (domain/fed.c) */
    { C(FED_APPLY), "fed_apply", true, R(BRIDGE),
      "what the city sends a district is applied by that district's bridge only" },
    { C(FED_DIRECTORY), "fed_directory", true, R(BRIDGE),
      "the city directory (city departments, shared categories) is put by the district's bridge only" },
    { C(TRANSFER), "transfer", true, R(ADMIN) | R(OPERATOR),
      "a case is handed to another district by the operators of its street (or a district center) and admins" },

    /* deliberation (docs/deliberation.md): the role gate lets in those who
     * may hold a seat; deliberation.c then asks for the seat (or, to set up
     * a body and to read, the scope over its place) and names the rule */
    { C(PUT_BODY), "put_body", true, R(ADMIN) | R(OPERATOR) | R(COMMUNITY),
      "a body is set up by admins, and by the operators and community workers whose scope covers its place" },
    { C(GET_BODY), "get_body", false, DELIB_ROLES,
      "a body is read by its members and by those whose scope covers its place" },
    { C(SUBMIT_PROPOSAL), "submit_proposal", true, DELIB_ROLES,
      "proposals are submitted by the body's members (not its observers)" },
    { C(LIST_PROPOSALS), "list_proposals", false, DELIB_ROLES,
      "a body's proposals are read by its members and by those whose scope covers its place" },
    { C(SCHEDULE_MEETING), "schedule_meeting", true, DELIB_ROLES, "meetings are scheduled by the body's chair" },
    { C(GET_MEETING), "get_meeting", false, DELIB_ROLES,
      "a meeting is read by the body's members and by those whose scope covers its place" },
    { C(MEETING_ACT), "meeting_act", true, DELIB_ROLES,
      "members check in and ask for the floor (not observers); the chair presides" },
    { C(CAST_VOTE), "cast_vote", true, DELIB_ROLES, "the chair and the representatives present vote" },
    { C(SIGN_MINUTES), "sign_minutes", true, DELIB_ROLES, "the minutes are signed by the representatives present" },
    { C(RATE_DECISION), "rate_decision", true, DELIB_ROLES,
      "the body's chair rates a decision once it is carried out" },
    { C(DELIB_REPORT), "delib_report", false, DELIB_ROLES,
      "a body's report is read by its members and by those whose scope covers its place" },

/* the resident's side */

/* the resident archive: personal data, for those who need it only
     * (docs/archive.md); admins configure the care tags and export */
#define ARCHIVE_ROLES (R(OPERATOR) | R(GRID_WORKER) | R(COMMUNITY))
#define ARCHIVE_RULE(what)                                                                                             \
    what " by the grid's own worker, its community's workers and its street's operators; never by admins, "            \
         "departments, kiosks, integrations or sensors"
    { C(PUT_HOUSEHOLD), "put_household", true, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is written") },
    { C(PUT_RESIDENT), "put_resident", true, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is written") },
    { C(GET_HOUSEHOLD), "get_household", false, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is read") },
    { C(GET_RESIDENT), "get_resident", false, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is read") },
    { C(LIST_HOUSEHOLDS), "list_households", false, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is read") },
    { C(PUT_ARCHIVE_UNIT), "put_archive_unit", true, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is written") },
    { C(LIST_ARCHIVE_UNITS), "list_archive_units", false, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is read") },
    { C(SET_CARE_TAGS), "set_care_tags", true, ADMIN_ONLY, "the city's care tags and visit rhythms are set by admins" },
    { C(LIST_CARE_TAGS), "list_care_tags", false, ARCHIVE_ROLES | R(ADMIN),
      "the care tags are read by admins and those who keep the archive" },
    { C(IMPORT_ARCHIVE), "import_archive", true, ARCHIVE_ROLES, ARCHIVE_RULE("the archive is imported") },
    { C(EXPORT_ARCHIVE), "export_archive", false, ADMIN_ONLY,
      "personal data leaves in clear only by an admin's export, with a reason, audited" },
    { C(RECORD_VISIT), "record_visit", true, ARCHIVE_ROLES, ARCHIVE_RULE("visits are recorded") },
    { C(LIST_VISITS), "list_visits", false, ARCHIVE_ROLES, ARCHIVE_RULE("visits are read") },
    { C(LIST_VISITS_DUE), "list_visits_due", false, ARCHIVE_ROLES, ARCHIVE_RULE("the due visits are read") },
    { C(GET_ARCHIVE_STATS), "archive_stats", false, ARCHIVE_ROLES | R(ADMIN),
      "the archive's counts (no personal data) are read by admins and those who keep the archive" },
    /* the echo board: public notices */
    { C(POST_NOTICE), "post_notice", true, ARCHIVE_ROLES | R(ADMIN),
      "the echo board is written by grid and community workers, the street's operators and admins, in their scope" },
    { C(LIST_BOARD), "list_board", false, AUTHZ_ALL,
      "the echo board is public to principals, inside their scope and along the path above it" },
    { C(WITHDRAW_NOTICE), "withdraw_notice", true, ARCHIVE_ROLES | R(ADMIN),
      "a notice is withdrawn by those who may post on its board" },
#undef ARCHIVE_RULE
#undef ARCHIVE_ROLES
    { C(LIST_SERVICES), "services", false, AUTHZ_ALL_GW, "the public service guide is open to every principal" },

    /* volunteers, wishes, points, the love supermarket, dual registration
     * (docs/volunteers.md); the scope rules are volunteer.c's, wish.c's and
     * points.c's */
    { C(SET_VOLUNTEER_CONFIG), "set_volunteer_config", true, R(ADMIN) | R(COMMUNITY),
      "a community sets its own wish categories, points and claim time" },
    { C(GET_VOLUNTEER_CONFIG), "get_volunteer_config", false,
      R(ADMIN) | R(OPERATOR) | R(COMMUNITY) | R(GRID_WORKER) | R(KIOSK) | R(VOLUNTEER),
      "a community's volunteer rules are read inside the caller's scope" },
    { C(ADD_VOLUNTEER), "add_volunteer", true, R(ADMIN) | R(COMMUNITY),
      "a community registers its own volunteers, party members and units" },
    { C(LIST_VOLUNTEERS), "list_volunteers", false, R(ADMIN) | R(OPERATOR) | R(COMMUNITY) | R(VOLUNTEER),
      "volunteers are listed by their community and its street; a volunteer reads itself" },
    { C(ADD_WISH), "add_wish", true, R(ADMIN) | R(COMMUNITY) | R(GRID_WORKER) | R(KIOSK),
      "a wish is ordered at the kiosk, or by a grid or community worker for the resident, inside their scope" },
    { C(PUBLISH_WISH), "publish_wish", true, R(ADMIN) | R(COMMUNITY),
      "a community publishes (or declines) its residents' wishes" },
    { C(CLAIM_WISH), "claim_wish", true, R(ADMIN) | R(COMMUNITY) | R(VOLUNTEER),
      "a volunteer claims a published wish of its community for itself; the community for a volunteer" },
    { C(DONE_WISH), "done_wish", true, R(ADMIN) | R(COMMUNITY) | R(VOLUNTEER),
      "the claimant, or its community, says a wish is done" },
    { C(CONFIRM_WISH), "confirm_wish", true, R(ADMIN) | R(COMMUNITY) | R(GRID_WORKER) | R(KIOSK),
      "the resident confirms at the kiosk with the slip and the phone's digits; a grid or community worker for them" },
    { C(LIST_WISHES), "list_wishes", false, R(ADMIN) | R(OPERATOR) | R(COMMUNITY) | R(GRID_WORKER) | R(VOLUNTEER),
      "wishes are read inside the caller's scope; a volunteer reads published ones without personal data" },
    { C(POINTS_BALANCE), "points_balance", false, R(ADMIN) | R(COMMUNITY) | R(KIOSK) | R(VOLUNTEER),
      "a balance is read by its volunteer, its community, or at the kiosk with the volunteer's card code" },
    { C(POINTS_HISTORY), "points_history", false, R(ADMIN) | R(OPERATOR) | R(COMMUNITY) | R(VOLUNTEER),
      "the ledger is read by its community and street; a volunteer reads its own entries" },
    { C(ADJUST_POINTS), "adjust_points", true, R(ADMIN) | R(COMMUNITY),
      "a community corrects its ledger with a reversing or adjusting entry and a reason" },
    { C(PUT_SHOP_ITEM), "put_shop_item", true, R(ADMIN) | R(COMMUNITY), "a community keeps its own supermarket" },
    { C(LIST_SHOP), "list_shop", false,
      R(ADMIN) | R(OPERATOR) | R(COMMUNITY) | R(GRID_WORKER) | R(KIOSK) | R(VOLUNTEER),
      "the supermarket's shelves are read inside the caller's scope" },
    { C(REDEEM), "redeem", true, R(ADMIN) | R(COMMUNITY),
      "goods are redeemed at the community's desk, with the volunteer's card code" },
    { C(PUBLISH_MEMBER_TASK), "publish_member_task", true, R(ADMIN) | R(COMMUNITY),
      "a community whistles tasks to its registered members" },
    { C(MEMBER_TASK_ACT), "member_task_act", true, R(ADMIN) | R(COMMUNITY) | R(VOLUNTEER),
      "members claim and report their own community's tasks; the community confirms" },
    { C(LIST_MEMBER_TASKS), "list_member_tasks", false, R(ADMIN) | R(OPERATOR) | R(COMMUNITY) | R(VOLUNTEER),
      "members' tasks are read by their community and street; a member reads its community's" },
    { C(VOLUNTEER_REPORT), "volunteer_report", false, R(ADMIN) | R(OPERATOR) | R(COMMUNITY),
      "the volunteers' reports are read by their community, its street and admins" },

    /* photos (docs/photos.md): uploaded by those who may attach them to a
     * report, a feedback or a verification (the server's own calls:
     * server/photos.c); read by whoever may read the case */
    { C(PHOTO_PUT), "photo_put", false,
      R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(KIOSK) | R(INTEGRATION) | R(SENSOR),
      "photos are uploaded by those who report, feed back or verify" },
    { C(PHOTO_UPLOAD), "photo_upload", false,
      R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(KIOSK) | R(INTEGRATION) | R(SENSOR),
      "an upload's progress is read by those who may upload" },
    { C(GET_PHOTO), "get_photo", false,
      R(ADMIN) | R(OPERATOR) | R(DEPARTMENT) | R(GRID_WORKER) | R(COMMUNITY) | R(INTEGRATION) | R(KIOSK),
      "a photo is read by whoever may read its case; a kiosk, with the ticket and the phone's last 4 digits" },
};

const authz_rule *authz_rule_for(int call_case)
{
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (rules[i].call == call_case)
            return &rules[i];
    return NULL;
}

int authz_call_of(const char *name)
{
    for (size_t i = 0; name && i < sizeof rules / sizeof *rules; i++)
        if (strcmp(rules[i].name, name) == 0)
            return rules[i].call;
    return 0;
}

const authz_rule *authz_rules(unsigned *n)
{
    *n = (unsigned)(sizeof rules / sizeof *rules);
    return rules;
}

bool authz_role_may(int call_case, Whistle__V1__Role role)
{
    const authz_rule *r = authz_rule_for(call_case);
    return r && role > 0 && role < 32 && ((r->roles >> role) & 1u);
}

int authz_check(call *c, const char *target)
{
    int cc = authz_call_of(c->name);
    if (authz_role_may(cc, c->who->role))
        return 0;
    const authz_rule *r = authz_rule_for(cc);
    return call_deny(c, target, "role %s may not %s (rule: %s)", role_name(c->who->role), c->name,
                     r ? r->rule : "no rule lets anyone make this call");
}

bool authz_may_be_acted_for(Whistle__V1__Role r) { return r >= ROLE(OPERATOR) && r <= ROLE(SENSOR); }

const char *authz_act_as_refusal(const Whistle__V1__Principal *caller, const char *name,
                                 const Whistle__V1__Principal *target, arena *a)
{
    if (!name || !*name || strcmp(name, str0(caller->name)) == 0)
        return NULL;
    if (caller->role != ROLE(GATEWAY))
        return arena_printf(a,
                            "act_as: %s may not act for another principal (rule act_as.gateway_only: only a gateway "
                            "acts for others, and only for the principals listed for it)",
                            role_a(caller->role));
    bool listed = false;
    for (size_t i = 0; i < caller->n_act_for && !listed; i++)
        listed = strcmp(str0(caller->act_for[i]), name) == 0;
    if (!listed)
        return arena_printf(a,
                            "act_as: gateway %s may not act for %.64s: not on its act_for list (rule "
                            "act_as.not_listed: a gateway acts only for the principals an admin listed for it)",
                            caller->name, name);
    if (!target || !target->enabled)
        return arena_printf(a,
                            "act_as: principal %.64s is %s (rule act_as.disabled: a gateway acts only for enabled "
                            "principals)",
                            name, target ? "disabled" : "not a known principal");
    if (!authz_may_be_acted_for(target->role))
        return arena_printf(a, "act_as: %s is %s (rule act_as.role: a gateway never acts for an admin or a gateway)",
                            name, role_a(target->role));
    return NULL;
}

int authz_operator_case(call *c, const Whistle__V1__Event *ev)
{
    const Whistle__V1__Principal *w = c->who;
    if (w->role == ROLE(ADMIN))
        return 0;
    if (w->role == ROLE(OPERATOR) && principal_covers(w, ev->node))
        return 0;
    if (w->role == ROLE(OPERATOR))
        return call_hide(c, ev->ticket, arena_printf(c->a, "no case %s", ev->ticket),
                         "case %s is at %s, outside the scope %s (rule: an operator acts on its street only)",
                         ev->ticket, ev->node, str0(w->scope));
    return call_deny(c, ev->ticket, "role %s may not %s (rule: an operator acts on its street only)",
                     role_name(w->role), c->name);
}
