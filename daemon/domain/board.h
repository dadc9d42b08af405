/* board.h: the echo board (民情回音栏, docs/archive.md): public notices and
 * replies at a street, a community or a grid, each shown in a window.
 *
 * Posting and withdrawing: the grid's worker, the community's workers, the
 * street's operators (and admins), on places in their scope. Reading: every
 * principal on places in its scope or on the path above it, so a kiosk
 * shows its community's board, its grids' and its street's. A notice is
 * public: it holds no personal data, and a closed case is published with
 * its category, place, dates and state, never the resident's words. */
#ifndef WHISTLED_BOARD_H
#define WHISTLED_BOARD_H

#include "call.h"

void board_post(call *c, const Whistle__V1__PostNotice *req);
void board_list(call *c, const Whistle__V1__ListBoard *req);
void board_withdraw(call *c, const Whistle__V1__WithdrawNotice *req);

/* Posts a notice for another call's rule, not the caller's scope: the
 * minutes of a deliberative body, published once signed
 * (deliberation.c), on its community's board for the default window.
 * Audited under the calling call. The notice's id, or 0 with the call
 * failed. */
uint64_t board_publish(call *c, const char *node, Whistle__V1__BoardKind kind, const char *title, const char *body);

#endif
