/* GET /api/instances/:id/orders/:oid: one order of the instance as its seller sees it. An
 * order of any other instance (even the same seller's) is a 404 like a missing one. */
#include "portal/instances.h"
#include "portal/portal.h"
#include "shop/order.h"

enum http_result portal_get_instances_ID_orders_ID(struct http_request *req,
                                                   struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const json_t *rec = shop_order_get(req->params[0], req->params[1]);
  if (!rec) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  http_reply_json(rep, 200, shop_order_view(req->params[1], rec));
  return HTTP_DONE;
}
