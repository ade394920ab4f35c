/* The write side of selling (docs/selling.md): checkout reserves keys and writes a pending
 * order; a confirmed payment fulfils it in one transaction (order paid, keys sold, wallet
 * entries, outbox entries, customer); expiry and cancellation release the keys; refunds and
 * chargebacks reverse the money; restocking serves orders waiting for keys, first come first
 * served. Knows nothing of HTTP, Discord or Mercado Pago's wire format.
 *
 * Every function adds to a transaction the caller commits (and acknowledges nothing before
 * it is durable). They read the store as it is now and must run on the loop thread with no
 * other commit in between (the loop gives that for free), so that two confirmations of one
 * payment cannot both see the order unpaid. */
#ifndef ASTRA_SHOP_SALE_H
#define ASTRA_SHOP_SALE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "shop/coupon.h"
#include "store/store.h"

#define SHOP_SALE_MAX_LINES 10
#define SHOP_SALE_MAX_QUANTITY 10 /* keys of one line */
#define SHOP_ORDER_CODE_LEN 8

struct shop_line {
  const char *product_id;
  const char *variation_id; /* NULL for a product without variations */
  int quantity;
};

struct shop_checkout {
  const char *instance_id;
  const char *buyer_id;   /* Discord user id */
  const char *buyer_name;
  const char *cart_id;    /* may be NULL */
  const struct shop_line *lines;
  size_t nlines;
  const char *coupon_code; /* NULL or "": none */
  int64_t now_ms;
  int64_t hold_ms; /* how long the keys stay reserved (the Pix code's life) */
};

enum shop_sale_error {
  SHOP_SALE_OK,
  SHOP_SALE_EMPTY,        /* no lines, or a quantity out of 1..SHOP_SALE_MAX_QUANTITY */
  SHOP_SALE_UNAVAILABLE,  /* product or variation unknown, deleted or inactive */
  SHOP_SALE_OUT_OF_STOCK, /* fewer available keys than asked for */
  SHOP_SALE_COUPON,       /* the coupon does not apply: see coupon_reason */
  SHOP_SALE_INTERNAL,     /* out of memory, or an order code could not be drawn */
};

struct shop_checkout_result {
  enum shop_sale_error error;
  enum shop_coupon_reason coupon_reason;
  size_t line;                 /* the offending line for UNAVAILABLE / OUT_OF_STOCK */
  char order_id[37];
  char code[SHOP_ORDER_CODE_LEN + 1];
  int64_t subtotal_cents, discount_cents, total_cents;
  int64_t expires_at;
};

/* A pending order with its keys reserved, added to t. */
int shop_checkout(struct store_txn *t, const struct shop_checkout *in,
                  struct shop_checkout_result *out);
/* Appends {at, status, detail?} to an order record's timeline (a copy being changed) and sets
 * its status and updatedAt: every state change of an order goes through here. */
void shop_order_timeline_add(json_t *order, int64_t now, const char *status, const char *detail);

/* A buyer-facing message for a checkout error ("pt-BR" or "en"). */
const char *shop_sale_error_message(enum shop_sale_error e, const char *locale);

/* Records the provider's payment on the pending order (before the buyer sees the QR code):
 * paymentId (unique across orders), and the code to show. */
int shop_order_set_payment(struct store_txn *t, const char *order_id, const char *provider,
                           const char *payment_id, const char *qr_code, int64_t expires_ms);

/* What a confirmed payment looked like, as read back from the provider. */
struct shop_payment_seen {
  const char *provider;   /* "mercadopago" */
  const char *payment_id; /* decimal text */
  const char *status;     /* the provider's status ("approved") */
  int64_t amount_cents;
  const char *currency;   /* "BRL" */
};

enum shop_paid_outcome {
  SHOP_PAID_FULFILLED,     /* paid, keys sold, DM queued */
  SHOP_PAID_WAITING_STOCK, /* paid, no keys left: waits for a restock */
  SHOP_PAID_ALREADY,       /* nothing to do: this payment was already handled */
  SHOP_PAID_MISMATCH,      /* amount or currency differ from the order: nothing done */
  SHOP_PAID_UNKNOWN,       /* no such order */
  SHOP_PAID_ERROR,         /* out of memory */
};
const char *shop_paid_outcome_name(enum shop_paid_outcome o);

struct shop_fees {
  int percent_bp;    /* basis points */
  int64_t fixed_cents;
};
/* The platform's fee on a total: floor(total * bp / 10000) + fixed, never above the total. */
int64_t shop_fee_cents(const struct shop_fees *f, int64_t total_cents);

/* The fulfilment transaction: order paid (or waiting_stock), its reserved keys sold (or, when
 * the reservation lapsed, fresh available ones), wallet entries sale-<order> and
 * fee-<order> for the seller, outbox entries dm-<order> (and log-<order> when the instance
 * has a log channel), the customer record. Idempotent: a second call for the same order
 * changes nothing and says SHOP_PAID_ALREADY. */
enum shop_paid_outcome shop_order_paid(struct store_txn *t, const char *order_id,
                                       const struct shop_payment_seen *p,
                                       const struct shop_fees *fees, int64_t now_ms);

/* Ends a pending order without payment (status "expired" or "cancelled") and releases its
 * keys. 1 when something changed, 0 when the order was not pending. */
int shop_order_release(struct store_txn *t, const char *order_id, const char *status,
                       int64_t now_ms);

/* A paid order refunded or charged back (status "refunded" / "charged_back"): wallet entries
 * refund-<order> (-total) and feeback-<order> (+fee), sold keys flagged, a log outbox entry.
 * 1 when something changed, 0 when nothing was to be done. */
int shop_order_reverse(struct store_txn *t, const char *order_id, const char *status,
                       int64_t now_ms);

/* Gives available keys to the instance's waiting_stock orders, oldest payment first, each
 * order whole or not at all. Returns how many orders it served. */
size_t shop_restock(struct store_txn *t, const char *instance_id, int64_t now_ms);

/* Queues the edit of the product's post (outbox entry post-<productId>, type "post") when the
 * product has one; nothing otherwise. Every change a post shows goes through here: price,
 * name or variations edited, keys added, removed, reserved, released or sold, the product
 * deleted or deactivated (the post then says it is unavailable). One entry per product, so a
 * burst of changes makes one edit; its "rev" grows with each call, and the worker marks the
 * entry done only when the rev it rendered is still the last (a change that lands while an
 * edit is in flight is edited too). The caller kicks the worker (bot_outbox_kick) after the
 * commit. 1 when an entry was queued. */
int shop_outbox_post_update(struct store_txn *t, const char *instance_id, const char *product_id,
                            int64_t now_ms);

/* The seller's balance: the sum of their wallet entries (cents). */
int64_t shop_wallet_balance(const char *user_id);

#endif
