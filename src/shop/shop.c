/* The shop's store indexes, in one place so that every uniqueness rule the selling flow
 * relies on is visible at a glance. */
#include <stdio.h>

#include "core/app.h"
#include "shop/shop.h"
#include "store/store.h"

int shop_init(char *err, size_t errlen) {
  static const struct {
    enum store_coll c;
    const char *field;
    int unique;
    const char *why;
  } idx[] = {
      /* a key is never in an instance's stock twice (the hash is keyed per instance) */
      {STORE_STOCK, "keyHash", STORE_INDEX_UNIQUE, "a key is in stock twice"},
      /* a coupon code is unique per instance ("<instanceId>:<CODE>") */
      {STORE_COUPONS, "codeKey", STORE_INDEX_UNIQUE, "two coupons share a code"},
      /* "<productId>_<variationId>_<status>": the available keys of a product, fast */
      {STORE_STOCK, "slot", STORE_INDEX_MULTI, NULL},
      /* one order per provider payment: the root of "never deliver twice" */
      {STORE_ORDERS, "paymentId", STORE_INDEX_UNIQUE, "two orders share a payment"},
      /* the code a buyer types in /pedido */
      {STORE_ORDERS, "code", STORE_INDEX_UNIQUE, "two orders share a code"},
      {STORE_ORDERS, "instanceId", STORE_INDEX_MULTI, NULL},
      {STORE_ORDERS, "status", STORE_INDEX_MULTI, NULL},
      {STORE_ORDERS, "buyerId", STORE_INDEX_MULTI, NULL},
      {STORE_ORDERS, "couponId", STORE_INDEX_MULTI, NULL},
      {STORE_CUSTOMERS, "instanceId", STORE_INDEX_MULTI, NULL},
      {STORE_WALLET, "userId", STORE_INDEX_MULTI, NULL},
      {STORE_OUTBOX, "status", STORE_INDEX_MULTI, NULL},
      /* carts (src/shop/cart.c): "<instanceId>:<buyerId>" is set only while a cart is not
       * closed, so the store itself refuses a buyer's second open cart in an instance */
      {STORE_CARTS, "openKey", STORE_INDEX_UNIQUE, "a buyer has two open carts"},
      /* the inactivity sweeper visits open and checkout carts only */
      {STORE_CARTS, "status", STORE_INDEX_MULTI, NULL},
  };
  for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
    int rc = store_index_define(astra.store, idx[i].c, idx[i].field, idx[i].unique);
    if (rc != 0) {
      snprintf(err, errlen, "shop: cannot index %s by %s%s%s", store_coll_name(idx[i].c),
               idx[i].field, rc == STORE_ECONFLICT ? ": " : "",
               rc == STORE_ECONFLICT ? idx[i].why : "");
      return -1;
    }
  }
  return 0;
}
