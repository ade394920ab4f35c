/* GET /api/instances/:id/orders?status&q&from&to&limit&cursor: the instance's orders,
 * newest first, a page at a time, with the count of every match. */
#include "portal/instances.h"
#include "portal/orders.h"
#include "portal/portal.h"
#include "shop/order.h"

/* ?from / ?to: milliseconds, non-negative integers; -1 when absent. */
static int time_param(struct http_request *req, struct http_reply *rep, const char *name,
                      int64_t *out) {
  const char *s = http_query(req, name);
  *out = -1;
  if (s && !shop_order_parse_uint(s, out)) {
    http_reply_error(req, rep, ERR_BAD_QUERY, name, NULL);
    return -1;
  }
  return 0;
}

enum http_result portal_get_instances_ID_orders(struct http_request *req,
                                                struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  struct portal_page_query pq;
  struct shop_order_filter f;
  shop_order_filter_init(&f);
  const char *status = http_query(req, "status");
  if (status && (f.status = shop_order_status_parse(status)) < 0) {
    http_reply_error(req, rep, ERR_BAD_QUERY, "status", NULL);
    return HTTP_DONE;
  }
  if (time_param(req, rep, "from", &f.from_ms) != 0 ||
      time_param(req, rep, "to", &f.to_ms) != 0 || portal_page_query(req, rep, &pq) != 0)
    return HTTP_DONE;
  if (f.from_ms >= 0 && f.to_ms >= 0 && f.from_ms > f.to_ms) {
    /* named after the second of the pair: the one a date picker just moved out of order */
    http_reply_error(req, rep, ERR_BAD_QUERY, "to", NULL);
    return HTTP_DONE;
  }
  f.q = pq.q;
  struct shop_order_page p;
  if (shop_order_list(req->params[0], &f, pq.cursor, pq.limit, &p) != 0) {
    shop_order_page_free(&p);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  http_reply_json(rep, 200, portal_page_json("orders", &p));
  return HTTP_DONE;
}
