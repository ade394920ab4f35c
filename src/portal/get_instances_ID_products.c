/* GET /api/instances/:id/products: the instance's live products, newest first, each with its
 * stock counts (one pass over the instance's stock for the whole list). */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "shop/catalog.h"
#include "shop/stock.h"
#include "store/store.h"

struct list {
  const json_t **recs;
  size_t n, cap;
  int oom;
};

static int collect(const char *id, const json_t *rec, void *arg) {
  (void)id;
  struct list *l = arg;
  if (json_object_get(rec, "deletedAt"))
    return 0;
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

/* Newest first; the id breaks ties so that the order is the same on every call. */
static int newest_first(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  json_int_t cx = json_integer_value(json_object_get(x, "createdAt"));
  json_int_t cy = json_integer_value(json_object_get(y, "createdAt"));
  if (cx != cy)
    return cx > cy ? -1 : 1;
  const char *ix = json_string_value(json_object_get(x, "id"));
  const char *iy = json_string_value(json_object_get(y, "id"));
  return strcmp(iy ? iy : "", ix ? ix : "");
}

enum http_result portal_get_instances_ID_products(struct http_request *req,
                                                  struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const char *inst = req->params[0];
  struct list l = {0};
  struct shop_stock_tally t = {0};
  store_foreach(astra.store, STORE_PRODUCTS, inst, collect, &l);
  json_t *arr = json_array();
  int failed = l.oom || !arr || shop_stock_tally(inst, NULL, &t) != 0;
  if (!failed && l.n) /* qsort wants a real array, even for 0 items */
    qsort(l.recs, l.n, sizeof *l.recs, newest_first);
  for (size_t i = 0; !failed && i < l.n; i++) {
    json_t *p = shop_product_json(l.recs[i], &t);
    failed = !p || json_array_append_new(arr, p) != 0;
  }
  free(l.recs);
  shop_stock_tally_free(&t);
  if (failed) {
    json_decref(arr);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  http_reply_json(rep, 200, json_pack("{s:o}", "products", arr));
  return HTTP_DONE;
}
