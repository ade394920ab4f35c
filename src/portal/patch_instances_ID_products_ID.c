/* PATCH /api/instances/:id/products/:pid: changes any of the product's own fields (the
 * variations have their own routes); a null imageUrl or dmTemplate clears it. */
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/products.h"

enum http_result portal_patch_instances_ID_products_ID(struct http_request *req,
                                                       struct http_reply *rep) {
  const json_t *rec = portal_own_product(req, rep);
  if (!rec || portal_product_check(req, rep, req->json, 1) != 0)
    return HTTP_DONE;
  json_t *copy = json_deep_copy(rec);
  if (req->json)
    portal_copy_fields(copy, req->json);
  json_object_set_new(copy, "updatedAt", json_integer(portal_now_ms()));
  return portal_product_commit(req, rep, req->params[0], copy, 200);
}
