/* extension.h: the calls that move deadlines (docs/deadlines.md): a
 * department asks for more time on an order and the street decides
 * (延期申请、审批), the street parks a case and resumes it (挂账), and a
 * department reports a stage of its work done. */
#ifndef WHISTLED_EXTENSION_H
#define WHISTLED_EXTENSION_H

#include "call.h"

void deadline_request_extension(call *c, const Whistle__V1__RequestExtension *req);
void deadline_decide_extension(call *c, const Whistle__V1__DecideExtension *req);
void deadline_park(call *c, const Whistle__V1__ParkEvent *req);
void deadline_unpark(call *c, const Whistle__V1__UnparkEvent *req);
void deadline_report_stage(call *c, const Whistle__V1__ReportStage *req);

#endif
