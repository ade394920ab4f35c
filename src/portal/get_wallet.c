/* GET /api/wallet?limit&cursor: the signed-in seller's balance and ledger, newest first, a
 * page at a time (docs/api-portal.md "Wallet"). The balance is the sum of every entry, never
 * a stored number, so it cannot drift from the ledger; the entries are the sale core's
 * (sale, fee, refund/charged_back, fee_reversal), written with ids derived from the order. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/auth.h"
#include "portal/orders.h"
#include "portal/portal.h"
#include "shop/order.h"
#include "store/store.h"

struct list {
  const json_t **recs;
  size_t n, cap;
  int64_t balance;
  int oom;
};

static int64_t num(const json_t *o, const char *k) {
  return (int64_t)json_integer_value(json_object_get(o, k));
}

static const char *id_of(const json_t *o) {
  const char *s = json_string_value(json_object_get(o, "id"));
  return s ? s : "";
}

static int collect(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  (void)id;
  struct list *l = arg;
  l->balance += num(rec, "amountCents");
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    const json_t **r = realloc(l->recs, cap * sizeof *r);
    if (!r) {
      l->oom = 1;
      return 1;
    }
    l->recs = r;
    l->cap = cap;
  }
  l->recs[l->n++] = rec;
  return 0;
}

/* createdAt, then id, both descending: the order the cursor walks. */
static int cmp_key(int64_t at_x, const char *id_x, int64_t at_y, const char *id_y) {
  if (at_x != at_y)
    return at_x > at_y ? -1 : 1;
  return strcmp(id_y, id_x);
}

static int newest_first(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  return cmp_key(num(x, "createdAt"), id_of(x), num(y, "createdAt"), id_of(y));
}

/* Only the documented fields: the ledger row as the seller sees it. */
static json_t *entry_view(const json_t *e) {
  return json_pack("{s:s, s:O?, s:I, s:O?, s:O?, s:I}", "id", id_of(e), "type",
                   json_object_get(e, "type"), "amountCents", (json_int_t)num(e, "amountCents"),
                   "orderId", json_object_get(e, "orderId"), "instanceId",
                   json_object_get(e, "instanceId"), "createdAt",
                   (json_int_t)num(e, "createdAt"));
}

enum http_result portal_get_wallet(struct http_request *req, struct http_reply *rep) {
  const struct portal_user *u = portal_user_of(req);
  struct portal_page_query pq;
  if (portal_page_query(req, rep, &pq) != 0)
    return HTTP_DONE;
  int64_t after_at = 0;
  char after_id[65] = "";
  if (pq.cursor)
    shop_order_cursor_decode(pq.cursor, &after_at, after_id); /* checked by portal_page_query */

  struct list l = {0};
  store_index_foreach(astra.store, STORE_WALLET, "userId", u->id, collect, &l);
  if (l.oom) {
    free(l.recs);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  if (l.n > 1)
    qsort(l.recs, l.n, sizeof *l.recs, newest_first);
  size_t start = 0;
  if (pq.cursor)
    while (start < l.n &&
           cmp_key(num(l.recs[start], "createdAt"), id_of(l.recs[start]), after_at, after_id) <= 0)
      start++;
  json_t *entries = json_array();
  size_t end = start + pq.limit < l.n ? start + pq.limit : l.n;
  for (size_t i = start; i < end; i++)
    json_array_append_new(entries, entry_view(l.recs[i]));
  char next[SHOP_ORDER_CURSOR_MAX] = "";
  if (end < l.n && end > start &&
      shop_order_cursor_encode(num(l.recs[end - 1], "createdAt"), id_of(l.recs[end - 1]),
                               next) != 0)
    next[0] = '\0';
  free(l.recs);
  http_reply_json(rep, 200,
                  json_pack("{s:I, s:s, s:o, s:s?}", "balanceCents", (json_int_t)l.balance,
                            "currency", "BRL", "entries", entries, "nextCursor",
                            next[0] ? next : NULL));
  return HTTP_DONE;
}
