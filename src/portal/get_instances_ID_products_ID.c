/* GET /api/instances/:id/products/:pid: one live product of the caller's instance, with its
 * stock counts. */
#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/products.h"

enum http_result portal_get_instances_ID_products_ID(struct http_request *req,
                                                     struct http_reply *rep) {
  const json_t *rec = portal_own_product(req, rep);
  if (!rec)
    return HTTP_DONE;
  json_t *view = portal_product_view(req->params[0], rec);
  if (view)
    http_reply_json(rep, 200, view);
  else
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
  return HTTP_DONE;
}
