/* Stock of keys per instance (data/instances/<id>/stock.json): counting by product and
 * variation, shared by the catalog (stock left, low-stock flags) and the stock routes.
 *
 * A stock record: {"id","productId","variationId" (null for a product without variations),
 * "key" (sealed, AES-256-GCM), "keyHash" (HMAC, unique: a key is never in stock twice),
 * "hint" (last characters for long keys, or null), "status" ("available" | "reserved" |
 * "sold"), "orderId", "reservedUntil", "createdAt", "soldAt"}. */
#ifndef ASTRA_SHOP_STOCK_H
#define ASTRA_SHOP_STOCK_H

#include <stddef.h>

struct shop_stock_counts {
  size_t available, reserved, sold;
};

/* Counts per (product, variation) of one instance, in one pass over its stock. */
struct shop_stock_tally {
  struct shop_stock_tally_row {
    char product_id[40];
    char variation_id[40]; /* "" for stock without a variation */
    struct shop_stock_counts n;
  } *rows;
  size_t nrows, cap;
};

/* Fills t (zeroed first by the caller) for instance_id; product_id NULL counts every
 * product. 0, or -1 when out of memory. Free with shop_stock_tally_free. */
int shop_stock_tally(const char *instance_id, const char *product_id, struct shop_stock_tally *t);
void shop_stock_tally_free(struct shop_stock_tally *t);
/* Counts for one product (variation_id NULL: all its variations together; "": stock
 * without a variation). */
struct shop_stock_counts shop_stock_tally_get(const struct shop_stock_tally *t,
                                              const char *product_id, const char *variation_id);

#endif
