/* DELETE /api/instances/:id/products/:pid: a soft delete (deletedAt), refused while the
 * product has available or reserved keys, so that no paid order loses its key. The record
 * stays for the orders and stock that name it; the product answers 404 from then on. */
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/products.h"

enum http_result portal_delete_instances_ID_products_ID(struct http_request *req,
                                                        struct http_reply *rep) {
  const json_t *rec = portal_own_product(req, rep);
  if (!rec)
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, NULL, 0, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  if (portal_product_live_keys(req->params[0], req->params[1], NULL) > 0) {
    http_reply_error(req, rep, ERR_PRODUCT_HAS_STOCK, NULL, NULL);
    return HTTP_DONE;
  }
  json_t *copy = json_deep_copy(rec);
  json_int_t now = portal_now_ms();
  json_object_set_new(copy, "deletedAt", json_integer(now));
  json_object_set_new(copy, "updatedAt", json_integer(now));
  return portal_product_commit(req, rep, req->params[0], copy, 204);
}
