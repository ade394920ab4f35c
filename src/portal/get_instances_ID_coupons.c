/* GET /api/instances/:id/coupons: the instance's coupons, newest first, each with the number
 * of orders that used it. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/coupons.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "store/store.h"

struct list {
  const json_t **recs;
  size_t n, cap;
  int oom;
};

static int collect(const char *id, const json_t *rec, void *arg) {
  (void)id;
  struct list *l = arg;
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

/* Newest first; the id breaks ties so that the order is stable between two calls. */
static int newest_first(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  json_int_t tx = json_integer_value(json_object_get(x, "createdAt"));
  json_int_t ty = json_integer_value(json_object_get(y, "createdAt"));
  if (tx != ty)
    return tx < ty ? 1 : -1;
  const char *ix = json_string_value(json_object_get(x, "id"));
  const char *iy = json_string_value(json_object_get(y, "id"));
  return strcmp(iy ? iy : "", ix ? ix : "");
}

enum http_result portal_get_instances_ID_coupons(struct http_request *req,
                                                 struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const char *inst = req->params[0];
  struct list l = {0};
  store_foreach(astra.store, STORE_COUPONS, inst, collect, &l);
  if (l.oom) {
    free(l.recs);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  if (l.n > 1)
    qsort(l.recs, l.n, sizeof *l.recs, newest_first);
  json_t *arr = json_array();
  for (size_t i = 0; i < l.n; i++)
    json_array_append_new(arr, portal_coupon_json(inst, l.recs[i]));
  free(l.recs);
  http_reply_json(rep, 200, json_pack("{s:o}", "coupons", arr));
  return HTTP_DONE;
}
