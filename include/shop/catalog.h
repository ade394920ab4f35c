/* The catalog in the shop core: products and their variations as stored records, the buyer's
 * DM template (checking and rendering), the product as sellers see it (stock counts and the
 * low-stock flag) and the price to charge. Nothing here knows of HTTP or Discord: the portal,
 * the product post and the delivery all go through these functions, so that they agree.
 *
 * A product record (collection STORE_PRODUCTS, scope = instance id): {"id","instanceId",
 * "name","description","imageUrl" (https or null),"priceCents","currency" ("BRL"),"active",
 * "dmTemplate" (null: the default),"lowStockThreshold","variations":[{"id","name",
 * "priceCents","active"}],"post" ({"channelId","messageId","postedAt"} or null),"createdAt",
 * "updatedAt","deletedAt"? (soft delete: such a product no longer exists for anyone)}. */
#ifndef ASTRA_SHOP_CATALOG_H
#define ASTRA_SHOP_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "shop/stock.h"

#define SHOP_MAX_PRODUCTS 200  /* live products per instance */
#define SHOP_MAX_VARIATIONS 25 /* the size of a Discord select */
#define SHOP_TEMPLATE_MAX 1500 /* characters of a DM template */
#define SHOP_DM_MAX 2000       /* Discord's limit on a message's content */

/* The values of the placeholders; NULL counts as empty. */
struct shop_template_vars {
  const char *produto;   /* product name */
  const char *variacao;  /* variation name, empty without one */
  const char *chave;     /* the key or keys, one per line */
  const char *pedido;    /* order code */
  const char *comprador; /* the buyer's mention */
  const char *loja;      /* the instance's name */
};

/* Checks a template: every "{word}" (a brace, one or more of [A-Za-z0-9_-] or non-ASCII
 * bytes, a brace) must be one of the six placeholders; a brace that does not open or close
 * such a word ("{}", "{ x }", a lone "{" or "}") is literal text. 0 when valid; -1 with the
 * byte offset and length of the first unknown "{word}" (braces included) in *bad_off and
 * *bad_len (either may be NULL). */
int shop_template_check(const char *tpl, size_t *bad_off, size_t *bad_len);

/* 1 when tpl uses the placeholder name ("chave": without it the buyer gets no key). */
int shop_template_uses(const char *tpl, const char *name);

/* The default template in locale ("en" or anything else: pt-BR). */
const char *shop_template_default(const char *locale);

/* The DM: tpl (NULL for the default in locale) with its placeholders replaced. Spaces left at
 * the end of a line (an empty {variacao} after the product name) are dropped. An unknown
 * "{word}" stays as it is (templates are checked when saved). malloc'd; NULL when out of
 * memory. */
char *shop_template_render(const char *tpl, const struct shop_template_vars *v,
                           const char *locale);

/* The low-stock rule: a threshold of 0 never warns; else available at or below it warns. */
int shop_low_stock(int64_t threshold, size_t available);

/* The product as a seller sees it: the record's public fields (no instanceId, deletedAt)
 * with "stock" and "lowStock" for the product and each variation, counted from t (stock of
 * the product's instance; NULL: no stock). The product is low on stock when its available
 * keys (all variations together) or those of any active variation are at or below its
 * threshold. New reference; NULL when out of memory. */
json_t *shop_product_json(const json_t *rec, const struct shop_stock_tally *t);

/* The variation of a product record with that id, or NULL. */
const json_t *shop_product_variation(const json_t *rec, const char *variation_id);

/* The price to charge or show: the variation's (variation_id not NULL), else the product's
 * (for a product with variations, its "from" price). -1 when the variation is not the
 * product's or the record has no valid price. */
int64_t shop_price_cents(const json_t *rec, const char *variation_id);

/* An image URL a seller may set: "https://" and a host ([A-Za-z0-9.-], optional ":port"),
 * then anything but spaces and control characters. 1 when acceptable. */
int shop_image_url_ok(const char *url);

#endif
