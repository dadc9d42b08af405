/* fed.h: a district of a federated city (docs/federation.md).
 *
 * The calls that whistle-bridge makes for the city, and the operator's
 * transfer of a case to another district. The district's daemon stays the
 * only writer of its cases: the city sends it intakes and commands over
 * NATS JetStream, and its bridge applies each with fed_apply, whose key is
 * stored with the change in the same transaction (db fed_keys, forever),
 * so a message delivered again answers the first result and changes
 * nothing. A hotline case's external id is kept with its ticket (db
 * fed_ext, forever): the same case sent again under another key is the
 * same case. What the district tells the city goes out on its stream
 * fed:<district> (model/fed_rows.h). */
#ifndef WHISTLED_FED_H
#define WHISTLED_FED_H

#include "call.h"

/* FedApply (ROLE_BRIDGE, the bridge of this district only): an intake
 * becomes a case; a command checks in or feeds back on a city
 * department's order (as that department, audited via the bridge), brings
 * in a case transferred from another district, or opens a city-level
 * supervision. Answers FedApplyResult. */
void fed_apply(call *c, const Whistle__V1__FedApply *req);

/* TransferEvent (operators of the case's street, admins): the case is
 * closed here as transferred and a FedTransfer with all of it goes out on
 * fed:<district> for the receiving district. Answers the case. */
void fed_transfer_out(call *c, const Whistle__V1__TransferEvent *req);

/* FedDirectory (ROLE_BRIDGE): the city directory's city-level departments
 * and shared categories, put as they come from the KV bucket city_dir. */
void fed_directory(call *c, const Whistle__V1__FedDirectory *req);

#endif
