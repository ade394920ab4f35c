/* GET /api/instances/:id/customers?q&limit&cursor: the instance's buyers, most recent buyer
 * first, a page at a time, with the count of every match. */
#include "portal/instances.h"
#include "portal/orders.h"
#include "portal/portal.h"
#include "shop/order.h"

enum http_result portal_get_instances_ID_customers(struct http_request *req,
                                                   struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  struct portal_page_query pq;
  if (portal_page_query(req, rep, &pq) != 0)
    return HTTP_DONE;
  struct shop_order_page p;
  if (shop_order_customer_list(req->params[0], pq.q, pq.cursor, pq.limit, &p) != 0) {
    shop_order_page_free(&p);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  http_reply_json(rep, 200, portal_page_json("customers", &p));
  return HTTP_DONE;
}
