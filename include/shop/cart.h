/* The buyer's cart in the shop core (docs/selling.md): the record, its rules (one open cart
 * per buyer and instance, quantities 1..10 and never above the stock, the coupon), what it
 * costs now, checkout into an order, closing, and the inactivity policy. Nothing here knows
 * of Discord: src/bot/cart*.c renders a cart and sends what it decides.
 *
 * A cart record (STORE_CARTS, id a uuid): {"id","instanceId","buyerId","buyerName","mode"
 * ("thread" | "channel"),"guildId","channelId" (null until Discord made it),"messageId" (the
 * cart message, null until posted),"openKey" ("<instanceId>:<buyerId>", present only while
 * the cart is not closed; unique index: the store refuses a second open cart),"status"
 * ("open" | "checkout" | "closed"),"items":[{"productId","variationId" (null without
 * variations),"quantity"}],"couponId","couponCode" (null: none),"orderId" (the order of the
 * last checkout, null before),"closedReason" ("cancelled" | "expired" | "done"),
 * "createdAt","updatedAt","lastActivityAt","warnedAt" (null, or when the inactivity warning
 * was sent since the last activity),"closedAt"}.
 *
 * The Discord cart offers one product at a time: Comprar on another product while the cart is
 * open replaces its line (the custom_ids name the cart, not a line). "items" stays an array
 * so that a multi-line cart needs no data migration.
 *
 * Like sale.h: every function adds to a transaction the caller commits, reading the store as
 * it is now, on the loop thread. A transaction cannot see its own writes: one cart operation
 * per transaction. */
#ifndef ASTRA_SHOP_CART_H
#define ASTRA_SHOP_CART_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "shop/coupon.h"
#include "shop/sale.h"
#include "store/store.h"

#define SHOP_CART_MAX_QUANTITY SHOP_SALE_MAX_QUANTITY
/* The reservation (and Pix life) of a checkout: Mercado Pago refuses a Pix that expires less
 * than 30 minutes after its creation, and the request takes some time to get there. */
#define SHOP_CART_HOLD_MS (35 * 60 * 1000LL)
#define SHOP_CART_INACTIVITY_DEFAULT_MIN 15

enum shop_cart_error {
  SHOP_CART_OK,
  SHOP_CART_NOT_FOUND,   /* no such cart in this instance (or a forged id) */
  SHOP_CART_NOT_YOURS,   /* another buyer's cart */
  SHOP_CART_CLOSED,      /* the cart was closed (cancelled, expired, done) */
  SHOP_CART_LOCKED,      /* a checkout is under way: the items cannot change */
  SHOP_CART_UNAVAILABLE, /* the product or variation is gone, inactive or not the product's */
  SHOP_CART_LIMIT,       /* the quantity is already at 1, 10 or the available stock */
  SHOP_CART_SOLD_OUT,    /* nothing left of that product or variation */
  SHOP_CART_INTERNAL,    /* out of memory, or a record that is not what it should be */
};
/* A sentence for the buyer, pt-BR unless locale starts with "en". Never NULL. */
const char *shop_cart_error_message(enum shop_cart_error e, const char *locale);

/* "<instanceId>:<buyerId>" into out (>= 2 * 64 + 2 bytes); -1 when either is missing. */
int shop_cart_open_key(const char *instance_id, const char *buyer_id, char *out, size_t len);
/* The id of the buyer's cart in instance_id that is not closed, or NULL. Valid until the
 * next commit. */
const char *shop_cart_find_open(const char *instance_id, const char *buyer_id);

/* The cart a Discord action names, after every check a forged custom_id must pass: it exists,
 * belongs to instance_id and to buyer_id. *out is borrowed (valid until the next commit). */
enum shop_cart_error shop_cart_get(const char *instance_id, const char *cart_id,
                                   const char *buyer_id, const json_t **out);

struct shop_cart_open {
  const char *instance_id, *buyer_id, *buyer_name;
  const char *mode;     /* "thread" or "channel" */
  const char *guild_id; /* may be NULL */
  const char *product_id;
  const char *variation_id; /* NULL: for a product with variations, the first active one in
                             * stock (else the first active one) */
  int64_t now_ms;
};
/* The buyer's open cart with this product in it: reuses the open cart (its line replaced by
 * this product, quantity 1; a cart in checkout is left as it is) or creates one (status
 * open, no channel yet). out_id gets the cart id, *created whether it is new. */
enum shop_cart_error shop_cart_open(struct store_txn *t, const struct shop_cart_open *in,
                                    char out_id[37], int *created);

/* Edits of an open cart by its buyer; each counts as activity (warnedAt cleared). */
enum shop_cart_error shop_cart_pick(struct store_txn *t, const json_t *cart,
                                    const char *variation_id, int64_t now_ms);
/* Quantity +delta (±1): LIMIT below 1, above SHOP_CART_MAX_QUANTITY or above the stock. */
enum shop_cart_error shop_cart_step(struct store_txn *t, const json_t *cart, int delta,
                                    int64_t now_ms);
/* Applies a typed coupon code ("" or NULL removes the coupon). When the coupon does not apply
 * to this cart now, returns SHOP_CART_OK with *why set and adds nothing. */
enum shop_cart_error shop_cart_coupon(struct store_txn *t, const json_t *cart, const char *code,
                                      int64_t now_ms, enum shop_coupon_reason *why);

/* Records where the cart lives in Discord (NULL keeps a field as it is). */
int shop_cart_set_channel(struct store_txn *t, const json_t *cart, const char *channel_id,
                          const char *message_id, int64_t now_ms);

/* Finalizar: shop_checkout over the cart's line and coupon (hold_ms of reservation); on
 * success the cart is in "checkout" with orderId set, in the same transaction. res tells what
 * went wrong otherwise (nothing is added then). */
enum shop_cart_error shop_cart_checkout(struct store_txn *t, const json_t *cart,
                                        int64_t hold_ms, int64_t now_ms,
                                        struct shop_checkout_result *res);
/* The payment could not be created: the order is released ("cancelled") and the cart is
 * open again, as it was before Finalizar. */
int shop_cart_abort_checkout(struct store_txn *t, const json_t *cart, int64_t now_ms);

/* Closes the cart (reason "cancelled", "expired" or "done"): its pending order, if any, is
 * released (status "cancelled", or "expired" for an expiry) and openKey goes, so the buyer
 * may open a new cart. A cart whose order is paid is closed without touching the order. */
int shop_cart_close(struct store_txn *t, const json_t *cart, const char *reason, int64_t now_ms);

/* The inactivity warning was sent. */
int shop_cart_warned(struct store_txn *t, const json_t *cart, int64_t now_ms);

/* What the sweeper should do with a cart now (inactivity_ms from the instance settings):
 *  - open cart: WARN once when idle for inactivity - warning lead (a third of it, at most
 *    5 minutes), EXPIRE when idle for inactivity (warned or not: a cart idle past its time
 *    while the daemon was down is expired at once);
 *  - checkout cart whose order is pending: NONE (the Pix is alive; the order's own expiry is
 *    the reconciliation timer's; once expired, the cart is idle like an open one);
 *  - checkout cart whose order is paid or waiting for stock: NONE (stays for the delivery);
 *  - checkout cart whose order is delivered, expired, cancelled, refunded...: DONE once idle
 *    for inactivity since the order's last change (the buyer had time to read the key). */
enum shop_cart_sweep { SHOP_SWEEP_NONE, SHOP_SWEEP_WARN, SHOP_SWEEP_EXPIRE, SHOP_SWEEP_DONE };
enum shop_cart_sweep shop_cart_sweep_check(const json_t *cart, int64_t now_ms,
                                           int64_t inactivity_ms);
/* settings.cartInactivityMinutes of an instance record (5..1440), else the default; in ms. */
int64_t shop_cart_inactivity_ms(const json_t *instance);

/* What the cart costs now, for rendering. Pointers borrow from the store (valid until the
 * next commit). A line whose product went away has unavailable set and counts for nothing. */
struct shop_cart_line_view {
  const char *product_id, *variation_id;
  const json_t *product, *variation;
  int quantity;
  int64_t unit_cents, line_cents;
  size_t available; /* keys available for this product/variation */
  int unavailable;
};
struct shop_cart_view {
  size_t nlines;
  struct shop_cart_line_view lines[SHOP_SALE_MAX_LINES];
  int64_t subtotal_cents, discount_cents, total_cents;
  const char *coupon_code;              /* NULL: no coupon */
  enum shop_coupon_reason coupon_reason; /* OK, or why the stored coupon no longer applies */
};
int shop_cart_view(const json_t *cart, int64_t now_ms, struct shop_cart_view *out);

#endif
