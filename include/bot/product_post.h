/* A product's post in a Discord channel: the message body (embed + components) the portal
 * sends when a seller posts a product, and that the selling flow re-renders to edit the post
 * in place when stock or prices change. Components carry their state in custom_id
 * (astra:buy:<productId>, astra:pick:<productId>) so that they survive restarts. */
#ifndef ASTRA_BOT_PRODUCT_POST_H
#define ASTRA_BOT_PRODUCT_POST_H

#include <jansson.h>

#include "shop/stock.h"

/* The message body {"embeds":[…],"components":[…]} for product (a products.json record)
 * with id product_id, its stock counts from tally (may be NULL: no stock) and locale ("en",
 * else pt-BR). Every text is cut on a UTF-8 boundary to Discord's limits (title 256,
 * description 4096, field value 1024, 6000 in all, 25 select options, labels 100). Pure: reads
 * nothing else. NULL when product_id cannot be a custom_id argument or out of memory. */
json_t *bot_product_post_render(const char *product_id, const json_t *product,
                                const struct shop_stock_tally *tally, const char *locale);

/* The same for a stored product: reads the product, its stock and the instance's
 * settings.locale from the store. NULL when the product does not exist (or as above). */
json_t *bot_product_post(const char *instance_id, const char *product_id);

/* Cuts s to at most max code points on a UTF-8 boundary, ending with "…" when it was cut.
 * Returns a new JSON string (exposed for tests). */
json_t *bot_clip_text(const char *s, size_t max);

#endif
