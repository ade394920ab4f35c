/* Coupons (data/instances/<id>/coupons.json): the rules a buyer's code is held to, shared by
 * the portal (which edits coupons) and the selling flow (which applies them). Nothing here
 * knows of HTTP or Discord.
 *
 * A coupon record: {"id","instanceId","code" (normalised, upper case),"codeKey"
 * ("<instanceId>:<CODE>", unique: a code names one coupon per instance),"type" ("percent" |
 * "fixed"),"value" (per cent 1-100, or cents),"productIds" ([] = every product),"maxUses",
 * "maxUsesPerBuyer" (null = no limit),"validFrom","validUntil" (ms since the epoch or null;
 * from inclusive, until exclusive),"active","createdAt","updatedAt"}.
 *
 * The selling flow, once a buyer typed a code:
 *   struct shop_coupon c;
 *   if (shop_coupon_find(instance_id, typed, &c) != 0) -> SHOP_COUPON_UNKNOWN
 *   shop_coupon_uses(instance_id, c.id, buyer_id, &total, &mine);
 *   reason = shop_coupon_check(&c, product_id, now_ms, total, mine);
 *   if (reason != SHOP_COUPON_OK) show shop_coupon_reason_message(reason, locale)
 *   else discount = shop_coupon_discount(&c, eligible_subtotal_cents);
 * and records the order with top-level "couponId" (and its own copy of the code), so that
 * shop_coupon_uses counts it. */
#ifndef ASTRA_SHOP_COUPON_H
#define ASTRA_SHOP_COUPON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SHOP_COUPON_CODE_MIN 3
#define SHOP_COUPON_CODE_MAX 32
#define SHOP_COUPON_ID_MAX 64        /* store ids are 1-64 characters */
#define SHOP_COUPON_MAX_PRODUCTS 50  /* productIds per coupon */
#define SHOP_COUPON_MAX_PER_INSTANCE 500
#define SHOP_COUPON_MAX_PERCENT 100
#define SHOP_COUPON_MAX_FIXED_CENTS 100000000LL
#define SHOP_COUPON_MAX_USES 1000000LL

enum shop_coupon_type { SHOP_COUPON_PERCENT, SHOP_COUPON_FIXED };

/* A coupon as the rules see it: a copy, so it stays valid across store commits (the selling
 * flow checks it, then waits on the disk, then uses it). */
struct shop_coupon {
  char id[SHOP_COUPON_ID_MAX + 1];
  char code[SHOP_COUPON_CODE_MAX + 1];
  enum shop_coupon_type type;
  int64_t value;               /* per cent (1-100) or cents */
  size_t nproducts;            /* 0: every product */
  char product_ids[SHOP_COUPON_MAX_PRODUCTS][SHOP_COUPON_ID_MAX + 1];
  int64_t max_uses;            /* 0: no limit */
  int64_t max_uses_per_buyer;  /* 0: no limit */
  int64_t valid_from;          /* INT64_MIN: open-ended */
  int64_t valid_until;         /* INT64_MAX: open-ended */
  int active;
};

/* Why a coupon does or does not apply, in the order they are checked. */
enum shop_coupon_reason {
  SHOP_COUPON_OK,
  SHOP_COUPON_UNKNOWN,         /* no such code in this store (shop_coupon_find failed) */
  SHOP_COUPON_INACTIVE,
  SHOP_COUPON_NOT_STARTED,
  SHOP_COUPON_EXPIRED,
  SHOP_COUPON_NOT_FOR_PRODUCT,
  SHOP_COUPON_EXHAUSTED,
  SHOP_COUPON_BUYER_LIMIT,
};

/* Writes the canonical form of a code (ASCII upper case) into out; 0, or -1 when it is not
 * 3-32 characters of A-Z a-z 0-9 - _ (out is then ""). No trimming: callers that take a
 * human's typing trim first (shop_coupon_find does). */
int shop_coupon_normalize(const char *code, char out[SHOP_COUPON_CODE_MAX + 1]);

/* Fills out from a stored record; 0, or -1 when the record is malformed (never trusted
 * blindly: a hand-edited file must not become a 100 % discount by accident). */
int shop_coupon_parse(const json_t *rec, struct shop_coupon *out);

/* The coupon of instance_id whose code is code_any_case (surrounding spaces and case
 * ignored); 0 with out filled, or -1 (no such coupon, or not a valid code). */
int shop_coupon_find(const char *instance_id, const char *code_any_case, struct shop_coupon *out);

/* 1 when the coupon covers product_id (an empty product list covers every product). */
int shop_coupon_applies_to(const struct shop_coupon *c, const char *product_id);

/* Whether the coupon may be used now for product_id (NULL: do not check the product, e.g.
 * a cart that sums the covered items itself with shop_coupon_applies_to), given the orders
 * that already used it (uses_total) and those of this buyer (uses_by_buyer), both from
 * shop_coupon_uses. validFrom is inclusive, validUntil exclusive; a limit of N allows N uses. */
enum shop_coupon_reason shop_coupon_check(const struct shop_coupon *c, const char *product_id,
                                          int64_t now_ms, int64_t uses_total,
                                          int64_t uses_by_buyer);

/* A sentence for the buyer, pt-BR unless locale starts with "en". Never NULL. */
const char *shop_coupon_reason_message(enum shop_coupon_reason r, const char *locale);

/* The discount in cents on subtotal_cents (the covered items' subtotal): percent rounds down
 * to the cent, fixed is never more than the subtotal; 0 for a subtotal <= 0. Exact for any
 * int64 subtotal (no intermediate overflow). */
int64_t shop_coupon_discount(const struct shop_coupon *c, int64_t subtotal_cents);

/* Orders of instance_id that used coupon_id and still hold it (pending, paid, delivered,
 * waiting_stock; not expired, cancelled, refunded, charged_back, failed): *total, and
 * *by_buyer those of buyer_id (0 when buyer_id is NULL). Either pointer may be NULL. */
void shop_coupon_uses(const char *instance_id, const char *coupon_id, const char *buyer_id,
                      int64_t *total, int64_t *by_buyer);

#endif
