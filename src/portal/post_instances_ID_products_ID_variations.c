/* POST /api/instances/:id/products/:pid/variations: adds a variation (at most
 * SHOP_MAX_VARIATIONS, the size of a Discord select). A product that becomes one with
 * variations sells only its variations' keys, so the first variation is refused while the
 * product still has available or reserved keys of its own: they could never be sold. */
#include <string.h>

#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/products.h"
#include "shop/catalog.h"

enum http_result portal_post_instances_ID_products_ID_variations(struct http_request *req,
                                                                 struct http_reply *rep) {
  const json_t *rec = portal_own_product(req, rep);
  if (!rec || portal_variation_check(req, rep, req->json, 0) != 0)
    return HTTP_DONE;
  size_t n = json_array_size(json_object_get(rec, "variations"));
  if (n >= SHOP_MAX_VARIATIONS) {
    http_reply_error(req, rep, ERR_CONFLICT, NULL,
                     strcmp(req->locale, "en") ? "Um produto tem no máximo 25 variações."
                                               : "A product has at most 25 variations.");
    return HTTP_DONE;
  }
  if (n == 0 && portal_product_live_keys(req->params[0], req->params[1], "") > 0) {
    http_reply_error(req, rep, ERR_PRODUCT_HAS_STOCK, NULL, NULL);
    return HTTP_DONE;
  }
  json_t *copy = json_deep_copy(rec);
  json_t *vars = json_object_get(copy, "variations");
  if (!json_is_array(vars)) {
    vars = json_array();
    json_object_set_new(copy, "variations", vars);
  }
  json_array_append_new(vars, portal_variation_new(req->json));
  json_object_set_new(copy, "updatedAt", json_integer(portal_now_ms()));
  return portal_product_commit(req, rep, req->params[0], copy, 201);
}
