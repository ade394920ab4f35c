/* POST /api/instances/:id/products: a new product (with its variations, if any) in the
 * caller's instance; at most SHOP_MAX_PRODUCTS live ones per instance. */
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "portal/catalog.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "portal/products.h"
#include "shop/catalog.h"
#include "store/store.h"

struct census {
  size_t live;
  json_int_t newest; /* the latest createdAt, live or not */
};

static int count_live(const char *id, const json_t *rec, void *arg) {
  (void)id;
  struct census *c = arg;
  json_int_t at = json_integer_value(json_object_get(rec, "createdAt"));
  if (at > c->newest)
    c->newest = at;
  if (!json_object_get(rec, "deletedAt"))
    c->live++;
  return 0;
}

enum http_result portal_post_instances_ID_products(struct http_request *req,
                                                   struct http_reply *rep) {
  if (!portal_own_instance(req, rep) || portal_product_check(req, rep, req->json, 0) != 0)
    return HTTP_DONE;
  const char *inst = req->params[0];
  struct census c = {0, 0};
  store_foreach(astra.store, STORE_PRODUCTS, inst, count_live, &c);
  if (c.live >= SHOP_MAX_PRODUCTS) {
    http_reply_error(req, rep, ERR_CONFLICT, NULL,
                     strcmp(req->locale, "en") ? "Limite de 200 produtos por loja atingido."
                                               : "Limit of 200 products per store reached.");
    return HTTP_DONE;
  }
  /* createdAt strictly after every other product's, so that "newest first" follows the order
   * in which the seller created them even within one millisecond */
  json_int_t now = portal_now_ms();
  if (now <= c.newest)
    now = c.newest + 1;
  const json_t *b = req->json;
  json_t *vars = json_array();
  size_t i;
  const json_t *v;
  json_array_foreach(json_object_get(b, "variations"), i, v)
    json_array_append_new(vars, portal_variation_new(v));
  const json_t *desc = json_object_get(b, "description"), *active = json_object_get(b, "active");
  const json_t *low = json_object_get(b, "lowStockThreshold");
  char id[37];
  crypto_uuid(id);
  json_t *rec = json_pack(
      "{s:s, s:s, s:O, s:s, s:O?, s:O, s:s, s:b, s:O?, s:I, s:o, s:n, s:I, s:I}", "id", id,
      "instanceId", inst, "name", json_object_get(b, "name"), "description",
      desc ? json_string_value(desc) : "", "imageUrl", json_object_get(b, "imageUrl"),
      "priceCents", json_object_get(b, "priceCents"), "currency", "BRL", "active",
      active ? json_is_true(active) : 1, "dmTemplate", json_object_get(b, "dmTemplate"),
      "lowStockThreshold", low ? json_integer_value(low) : (json_int_t)5, "variations", vars,
      "post", "createdAt", now, "updatedAt", now);
  return portal_product_commit(req, rep, inst, rec, 201);
}
