/* notify.h: the outbound notifier. It follows an integration principal's
 * status stream at whistled (principal:<notify.as>, for it: act_as) from
 * the stream's durable cursor and POSTs each push as JSON to a webhook
 * (the city's SMS or WeChat gateway), one at a time, in order:
 *
 *   - the body is signed: X-Whistle-Signature: sha256=<hex HMAC-SHA256 of
 *     the body with notify.secret>;
 *   - Idempotency-Key: <stream>:<seq> (also in the body): a receiver that
 *     keeps the keys it has seen acts once per change;
 *   - a push is acknowledged to whistled (PushAck) only after the webhook
 *     answered 2xx, so a push not delivered is pushed again after a
 *     restart or a reconnect: nothing is lost, and a change may come twice
 *     (at-least-once; the key tells);
 *   - a failure (no connection, a timeout, any status but 2xx) is retried
 *     after notify.retry_min_ms, doubling up to notify.retry_max_ms, for
 *     as long as it takes; later pushes wait behind it (order is kept).
 *
 * The body carries the reporter's contact (what the SMS gateway needs to
 * tell them), so the webhook must be the city's own system. */
#ifndef GATEWAY_NOTIFY_H
#define GATEWAY_NOTIFY_H

#include <h2o.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"

typedef struct notifier notifier;

int notify_open(uv_loop_t *loop, const gw_config *cfg, h2o_context_t *hctx, notifier **out, char *err, size_t errlen);
/* Stops: a delivery in flight is abandoned (not acknowledged, so it comes
 * again after the next start). NULL is fine. */
void notify_close(notifier *n);
/* Frees it, once the loop has closed its handles (after notify_close). */
void notify_free(notifier *n);

#endif
