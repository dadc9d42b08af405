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

#endif
