/* POST /api/instances/:id/stock/remove {ids: [...]} (1-500): removes the available keys among
 * ids in one transaction; the others are reported as skipped (not_found: no such key in this
 * instance, or named twice; not_available: reserved or sold). */
#include <string.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/jspec.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "portal/catalog.h"
#include "portal/stock.h"
#include "shop/sale.h"
#include "store/store.h"

static const struct jspec_field fields[] = {
    {"ids", JSPEC_ARRAY, 0, 1, 500, NULL},
};

/* 1 when ids[0..i) already holds the string s. */
static int seen_before(const json_t *ids, size_t i, const char *s) {
  for (size_t j = 0; j < i; j++)
    if (!strcmp(json_string_value(json_array_get(ids, j)), s))
      return 1;
  return 0;
}

enum http_result portal_post_instances_ID_stock_remove(struct http_request *req,
                                                       struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, fields, 1, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const json_t *ids = json_object_get(req->json, "ids");
  size_t i;
  const json_t *v;
  json_array_foreach(ids, i, v) {
    if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 64) {
      http_reply_error(req, rep, ERR_BAD_FIELD, "ids", NULL);
      return HTTP_DONE;
    }
  }
  const char *inst = req->params[0];
  struct store_txn *t = store_begin(astra.store);
  json_t *skipped = json_array(), *removed = json_array();
  json_array_foreach(ids, i, v) {
    const char *id = json_string_value(v);
    const json_t *rec = store_get(astra.store, STORE_STOCK, inst, id);
    const char *st = json_string_value(json_object_get(rec, "status"));
    const char *why = NULL;
    if (!rec || json_object_get(rec, "deletedAt") || seen_before(ids, i, id))
      why = "not_found";
    else if (!st || strcmp(st, "available"))
      why = "not_available";
    if (why) {
      json_array_append_new(skipped, json_pack("{s:s, s:s}", "id", id, "reason", why));
      continue;
    }
    store_del(t, STORE_STOCK, inst, id);
    json_array_append_new(removed, json_string(id));
    /* the same product's entry put again in one transaction is the same write */
    shop_outbox_post_update(t, inst, json_string_value(json_object_get(rec, "productId")),
                            portal_now_ms());
  }
  size_t n = json_array_size(removed);
  json_t *body = json_pack("{s:I, s:o}", "removed", (json_int_t)n, "skipped", skipped);
  if (!n) { /* nothing changes */
    store_abort(t);
    json_decref(removed);
    http_reply_json(rep, 200, body);
    return HTTP_DONE;
  }
  json_t *ev = portal_stock_event(req, "stock.remove");
  json_object_set_new(ev, "count", json_integer((json_int_t)n));
  json_object_set_new(ev, "stockIds", removed);
  if (portal_commit_event(req, rep, t, 200, body, ev) != 0)
    return HTTP_DONE;
  bot_outbox_kick(); /* the posts show the keys left */
  return HTTP_SUSPEND;
}
