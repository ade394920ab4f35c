/* The shop core: catalog, stock, coupons, carts, orders, payments, deliveries, wallet. It
 * knows nothing of HTTP or Discord; the portal and the bot call it. */
#ifndef ASTRA_SHOP_SHOP_H
#define ASTRA_SHOP_SHOP_H

#include <stddef.h>

/* Defines the store indexes the shop relies on (right after the store is opened). 0, or -1
 * with err (two records break a unique index: the data needs fixing by hand). */
int shop_init(char *err, size_t errlen);

#endif
