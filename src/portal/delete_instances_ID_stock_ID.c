/* DELETE /api/instances/:id/stock/:sid: removes one available key. A reserved key belongs to
 * an order awaiting payment and a sold one to a buyer: neither can go (409). */
#include <string.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/stock.h"
#include "shop/sale.h"

enum http_result portal_delete_instances_ID_stock_ID(struct http_request *req,
                                                     struct http_reply *rep) {
  const json_t *rec = portal_own_scoped(req, rep, STORE_STOCK);
  if (!rec)
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, NULL, 0, 0, &e) != 0) { /* no body fields: a typo is refused */
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *st = json_string_value(json_object_get(rec, "status"));
  if (!st || strcmp(st, "available")) {
    http_reply_error(req, rep, ERR_STOCK_NOT_REMOVABLE, NULL, NULL);
    return HTTP_DONE;
  }
  json_t *ev = portal_stock_event(req, "stock.remove");
  json_object_set_new(ev, "count", json_integer(1));
  json_object_set_new(ev, "stockIds", json_pack("[s]", req->params[1]));
  json_object_set(ev, "productId", json_object_get(rec, "productId"));
  struct store_txn *t = store_begin(astra.store);
  store_del(t, STORE_STOCK, req->params[0], req->params[1]);
  int queued = shop_outbox_post_update(
      t, req->params[0], json_string_value(json_object_get(rec, "productId")), portal_now_ms());
  if (portal_commit_event(req, rep, t, 204, NULL, ev) != 0)
    return HTTP_DONE;
  if (queued)
    bot_outbox_kick(); /* the post shows one key less */
  return HTTP_SUSPEND;
}
