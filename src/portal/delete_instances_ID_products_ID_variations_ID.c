/* DELETE /api/instances/:id/products/:pid/variations/:vid: removes a variation, refused while
 * it has available or reserved keys (they would belong to nothing on sale). Its sold keys
 * stay counted in the product's "sold". */
#include <string.h>

#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/products.h"

enum http_result portal_delete_instances_ID_products_ID_variations_ID(struct http_request *req,
                                                                      struct http_reply *rep) {
  const json_t *rec = portal_own_product(req, rep);
  if (!rec)
    return HTTP_DONE;
  const json_t *vars = json_object_get(rec, "variations"), *v;
  size_t i, at = (size_t)-1;
  json_array_foreach(vars, i, v) {
    const char *id = json_string_value(json_object_get(v, "id"));
    if (id && req->nparams > 2 && !strcmp(id, req->params[2]))
      at = i;
  }
  if (at == (size_t)-1) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  struct jspec_error e;
  if (jspec_check(req->json, NULL, 0, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  if (portal_product_live_keys(req->params[0], req->params[1], req->params[2]) > 0) {
    http_reply_error(req, rep, ERR_VARIATION_HAS_STOCK, NULL, NULL);
    return HTTP_DONE;
  }
  json_t *copy = json_deep_copy(rec);
  json_array_remove(json_object_get(copy, "variations"), at);
  json_object_set_new(copy, "updatedAt", json_integer(portal_now_ms()));
  return portal_product_commit(req, rep, req->params[0], copy, 200);
}
