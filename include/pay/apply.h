/* Applying a Mercado Pago payment, as read back from the API, to its order: the one step the
 * webhook and the reconciliation timer share, so that a payment has the same effect whichever
 * of them sees it first (docs/selling.md, "Exactly once").
 *
 * approved -> fulfilment (shop_order_paid); refunded / charged_back -> reversal
 * (shop_order_reverse; a still pending order is cancelled instead); cancelled / rejected ->
 * release of a pending order (expired when Mercado Pago says the Pix expired, else cancelled);
 * anything else changes nothing. The order is the payment's external_reference (or, without
 * one, the order that holds the payment id); a payment that names an order holding another
 * payment, or whose amount or currency differ from the order's, is ignored with a warning. */
#ifndef ASTRA_PAY_APPLY_H
#define ASTRA_PAY_APPLY_H

#include "pay/mercadopago.h"
#include "store/store.h"

enum pay_outcome {
  PAY_WRITTEN,   /* a transaction was committed: done runs once it is durable */
  PAY_UNCHANGED, /* already handled, or nothing to do: done runs after store_flush */
  PAY_IGNORED,   /* no such order, another order's payment, amount mismatch: done as above */
  PAY_ERROR,     /* out of memory or the store has failed: nothing done, done never runs */
};
const char *pay_outcome_name(enum pay_outcome o);

/* Applies p in this loop callback (no yielding between reading and writing the order), then
 * calls done(status, arg) on the loop once the outcome is durable (status 0) or the store has
 * failed (status non-zero). Wakes the outbox worker after a durable change that queued
 * messages. reqid (may be NULL) tags the log lines. */
enum pay_outcome pay_apply(const struct mp_payment *p, const char *reqid, store_commit_cb done,
                           void *arg);

#endif
