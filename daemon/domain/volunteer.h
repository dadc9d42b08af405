/* volunteer.h: the community's volunteers (docs/volunteers.md, DOMAIN.md
 * section 6): volunteers, teams and registered party members (双报到), the
 * wishes of the three-order loop (居民点单、社区派单、志愿者接单), the points
 * ledger (积分), the love supermarket (爱心超市) and the tasks a community
 * whistles to its registered members.
 *
 * Roles are authz.c's; these files check scope. A community principal
 * acts on its own community, an operator on its street's, a grid worker
 * on the wishes of its grids, a kiosk on its community's residents (who
 * prove a wish with its slip and their phone's last 4 digits, or their
 * balance with their card's code), and a volunteer (role volunteer) on
 * what it may see and claim of its home community: published wishes
 * without residents' personal data, its own points. Every change is
 * audited; every point moves through the ledger (volrec.h). */
#ifndef WHISTLED_VOLUNTEER_H
#define WHISTLED_VOLUNTEER_H

#include "call.h"

/* volunteer.c: the community's rules, its people, members' tasks, reports */
void volunteer_set_config(call *c, const Whistle__V1__SetVolunteerConfig *req);
void volunteer_get_config(call *c, const Whistle__V1__GetVolunteerConfig *req);
void volunteer_add(call *c, const Whistle__V1__AddVolunteer *req);
void volunteer_list(call *c, const Whistle__V1__ListVolunteers *req);
void volunteer_publish_task(call *c, const Whistle__V1__PublishMemberTask *req);
void volunteer_task_act(call *c, const Whistle__V1__MemberTaskAct *req);
void volunteer_list_tasks(call *c, const Whistle__V1__ListMemberTasks *req);
void volunteer_report(call *c, const Whistle__V1__VolunteerReport *req);

/* wish.c: the three-order loop */
void wish_add(call *c, const Whistle__V1__AddWish *req);
void wish_publish(call *c, const Whistle__V1__PublishWish *req);
void wish_claim(call *c, const Whistle__V1__ClaimWish *req);
void wish_done(call *c, const Whistle__V1__DoneWish *req);
void wish_confirm(call *c, const Whistle__V1__ConfirmWish *req);
void wish_list(call *c, const Whistle__V1__ListWishes *req);
/* The sweep (sweep.c): the claim on wish id, due at due, has lapsed; the
 * wish is published again. 0, or -1 with the status set. */
int wish_claim_lapsed(call *c, uint64_t id, int64_t due);

/* The sweep: credit entry id expires at due. What is left of it (points
 * are spent oldest credit first) goes back to the issuing account. 0, or
 * -1 with the status set. */
int points_expire(call *c, uint64_t id, int64_t due);

/* points.c: the ledger and the love supermarket */
void points_balance(call *c, const Whistle__V1__PointsBalance *req);
void points_history(call *c, const Whistle__V1__PointsHistory *req);
void points_adjust(call *c, const Whistle__V1__AdjustPoints *req);
void points_put_item(call *c, const Whistle__V1__PutShopItem *req);
void points_list_shop(call *c, const Whistle__V1__ListShop *req);
void points_redeem(call *c, const Whistle__V1__Redeem *req);

/* ------------------------------------------------ shared by the three files */

/* The community named (12 digits, a live community), or the caller's own
 * when code is empty and its scope is a community. NULL with the status set. */
const char *vol_community(call *c, const char *code);
/* The caller reaches the community: admins always, others by scope; else
 * -1, denied naming rule. */
int vol_reach(call *c, const char *community, const char *rule);
/* vol_reach for reads that a grid worker makes for the residents of its
 * grids: its places inside the community reach the community's rules and
 * shelves. */
int vol_reach_read(call *c, const char *community, const char *rule);
/* A volunteer by id, NULL with NOT_FOUND (or the store's failure) set. */
Whistle__V1__Volunteer *vol_volunteer(call *c, uint64_t id, void **bytes, size_t *len);
/* The volunteer a call acts for: a volunteer principal itself (id must be
 * 0 or its own), anyone else the id named, inside its reach. NULL with the
 * status set. */
Whistle__V1__Volunteer *vol_actor(call *c, uint64_t id, const char *rule);
/* The community's rules (defaults when it set none). */
Whistle__V1__VolunteerConfig *vol_config(call *c, const char *community);
/* Proves a volunteer's card code, as a ticket's digits are proved: a
 * caller that failed too often lately is refused first (guard.h), a wrong
 * code and a missing volunteer read alike (NOT_FOUND) and count against
 * the caller. NULL with the status set. */
Whistle__V1__Volunteer *vol_prove_code(call *c, uint64_t id, const char *code);
/* Appends a push to the community's members' stream. -1 failed. */
int vol_push(call *c, const char *community, const char *action, Whistle__V1__Wish *w, Whistle__V1__MemberTask *t);
/* The calendar year of a time (the working calendar's local day). */
int vol_year(call *c, int64_t ms);

#endif
