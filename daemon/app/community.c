/* community.c: see community.h. */
#include "community.h"

#include "archive.h"
#include "board.h"
#include "visit.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

bool community_read(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(GET_HOUSEHOLD): archive_get_household(c, req->get_household); return true;
    case CALL(GET_RESIDENT): archive_get_resident(c, req->get_resident); return true;
    case CALL(LIST_HOUSEHOLDS): archive_list_households(c, req->list_households); return true;
    case CALL(LIST_ARCHIVE_UNITS): archive_list_units(c, req->list_archive_units); return true;
    case CALL(LIST_CARE_TAGS): archive_list_care_tags(c); return true;
    case CALL(EXPORT_ARCHIVE): archive_export(c, req->export_archive); return true;
    case CALL(LIST_VISITS): visit_list(c, req->list_visits); return true;
    case CALL(LIST_VISITS_DUE): visit_list_due(c, req->list_visits_due); return true;
    case CALL(GET_ARCHIVE_STATS): visit_stats(c, req->get_archive_stats); return true;
    case CALL(LIST_BOARD): board_list(c, req->list_board); return true;
    default: return false;
    }
}

bool community_write(call *c, const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case CALL(PUT_HOUSEHOLD): archive_put_household(c, req->put_household); return true;
    case CALL(PUT_RESIDENT): archive_put_resident(c, req->put_resident); return true;
    case CALL(PUT_ARCHIVE_UNIT): archive_put_unit(c, req->put_archive_unit); return true;
    case CALL(SET_CARE_TAGS): archive_set_care_tags(c, req->set_care_tags); return true;
    case CALL(IMPORT_ARCHIVE): archive_import(c, req->import_archive); return true;
    case CALL(RECORD_VISIT): visit_record(c, req->record_visit); return true;
    case CALL(POST_NOTICE): board_post(c, req->post_notice); return true;
    case CALL(WITHDRAW_NOTICE): board_withdraw(c, req->withdraw_notice); return true;
    default: return false;
    }
}
