/* PATCH /api/instances/:id/products/:pid/variations/:vid: renames, reprices or (de)activates
 * one variation of the caller's product. */
#include <string.h>

#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/products.h"

enum http_result portal_patch_instances_ID_products_ID_variations_ID(struct http_request *req,
                                                                     struct http_reply *rep) {
  const json_t *rec = portal_own_product(req, rep);
  if (!rec)
    return HTTP_DONE;
  json_t *copy = json_deep_copy(rec);
  json_t *vars = json_object_get(copy, "variations"), *v, *found = NULL;
  size_t i;
  json_array_foreach(vars, i, v) {
    const char *id = json_string_value(json_object_get(v, "id"));
    if (id && req->nparams > 2 && !strcmp(id, req->params[2]))
      found = v;
  }
  if (!found) {
    json_decref(copy);
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  if (portal_variation_check(req, rep, req->json, 1) != 0) {
    json_decref(copy);
    return HTTP_DONE;
  }
  if (req->json)
    portal_copy_fields(found, req->json);
  json_object_set_new(copy, "updatedAt", json_integer(portal_now_ms()));
  return portal_product_commit(req, rep, req->params[0], copy, 200);
}
