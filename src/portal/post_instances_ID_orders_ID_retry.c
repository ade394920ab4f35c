/* POST /api/instances/:id/orders/:oid/retry: the seller retries an order's failed delivery.
 * Its failed outbox entries (dm, log) go back to pending with attempts 0, a failed order back
 * to paid, in one transaction; the answer (the order view) comes once it is durable, and the
 * worker is woken. Another seller's or another instance's order is a 404; an order with
 * nothing failed is a 409. */
#include <string.h>

#include "bot/bot.h"
#include "core/app.h"
#include "portal/catalog.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "portal/stock.h"
#include "shop/delivery.h"
#include "shop/order.h"
#include "store/store.h"

enum http_result portal_post_instances_ID_orders_ID_retry(struct http_request *req,
                                                          struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  if (!shop_order_get(req->params[0], req->params[1])) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  struct store_txn *t = store_begin(astra.store);
  if (!shop_delivery_retry(t, req->params[1], portal_now_ms())) {
    store_abort(t);
    http_reply_error(req, rep, ERR_CONFLICT, NULL,
                     strcmp(req->locale, "en") ? "Nada para tentar de novo neste pedido."
                                               : "Nothing to retry on this order.");
    return HTTP_DONE;
  }
  json_t *ev = portal_stock_event(req, "order.retry");
  json_object_set_new(ev, "orderId", json_string(req->params[1]));
  /* the answer is the order as committed: the commit applies in memory at once, so the body
   * (kept by reference until the transaction is durable) is filled right after it */
  json_t *body = json_object();
  json_incref(body);
  int rc = portal_commit_event(req, rep, t, 200, body, ev);
  if (rc == STORE_ECONFLICT) { /* no unique index is touched: cannot happen, but be total */
    json_decref(body);
    json_decref(ev);
    http_reply_error(req, rep, ERR_CONFLICT, NULL, NULL);
  }
  if (rc == 0) {
    const json_t *o = shop_order_get(req->params[0], req->params[1]);
    json_t *view = o ? shop_order_view(req->params[1], o) : NULL;
    if (view)
      json_object_update(body, view);
    json_decref(view);
    bot_outbox_kick();
  }
  json_decref(body);
  return rc == 0 ? HTTP_SUSPEND : HTTP_DONE;
}
