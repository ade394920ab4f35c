/* GET /api/instances/:id/customers/:cid: one buyer of the instance with their orders in it,
 * newest first. A customer record of another instance is a 404 like a missing one, and
 * their orders elsewhere are never listed. */
#include "portal/instances.h"
#include "portal/portal.h"
#include "shop/order.h"

enum http_result portal_get_instances_ID_customers_ID(struct http_request *req,
                                                      struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const json_t *rec = shop_order_customer_get(req->params[0], req->params[1]);
  if (!rec) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  const char *discord = json_string_value(json_object_get(rec, "discordId"));
  json_t *orders = discord ? shop_order_of_buyer(req->params[0], discord) : json_array();
  if (!orders) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  http_reply_json(rep, 200,
                  json_pack("{s:o, s:o}", "customer", shop_order_customer_view(req->params[1], rec),
                            "orders", orders));
  return HTTP_DONE;
}
