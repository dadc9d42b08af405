/* task.h: the community task admission list (社区工作事项准入清单) and the
 * tasks it admits.
 *
 * Departments and the street push work down to communities (a survey, an
 * inspection...). Only kinds on the community's admission list are
 * accepted; anything else is PERMISSION_DENIED naming the list, so that a
 * community is not buried under tasks nobody approved. A task has a
 * deadline and is open until the community completes it. */
#ifndef WHISTLED_TASK_H
#define WHISTLED_TASK_H

#include "call.h"

void task_set_admission(call *c, const Whistle__V1__SetAdmissionList *req);
void task_get_admission(call *c, const Whistle__V1__GetAdmissionList *req);
void task_push(call *c, const Whistle__V1__PushTask *req);
void task_list(call *c, const Whistle__V1__ListTasks *req);
void task_complete(call *c, const Whistle__V1__CompleteTask *req);

/* Stores a new open task of the community, without the admission list's
 * check: for the community's own work (a decision of its council, 一评),
 * which no department pushes down. owner: who carries it out ("" none);
 * proposal_id: the decision it carries out (0 none). Audited. 0, or -1
 * with the call failed. */
int task_create(call *c, const char *community, const char *kind, const char *title, const char *description,
                int64_t deadline_ms, const char *owner, uint64_t proposal_id, Whistle__V1__Task **out);
/* The task with this id, or NULL. */
Whistle__V1__Task *task_get(call *c, uint64_t id);

#endif
