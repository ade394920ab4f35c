/* GET /api/instances/:id/products: the instance's live products, newest first, each with its
 * stock counts (one pass over the instance's stock for the whole list). */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/catalog.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "shop/catalog.h"
#include "shop/stock.h"
#include "store/store.h"

enum http_result portal_get_instances_ID_products(struct http_request *req,
                                                  struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const char *inst = req->params[0];
  size_t n;
  int oom;
  const json_t **recs = portal_list_newest(inst, STORE_PRODUCTS, &n, &oom);
  struct shop_stock_tally t = {0};
  json_t *arr = json_array();
  int failed = oom || !arr || shop_stock_tally(inst, NULL, &t) != 0;
  for (size_t i = 0; !failed && i < n; i++) {
    json_t *p = shop_product_json(recs[i], &t);
    failed = !p || json_array_append_new(arr, p) != 0;
  }
  free(recs);
  shop_stock_tally_free(&t);
  if (failed) {
    json_decref(arr);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  http_reply_json(rep, 200, json_pack("{s:o}", "products", arr));
  return HTTP_DONE;
}
