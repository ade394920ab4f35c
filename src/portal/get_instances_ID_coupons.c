/* GET /api/instances/:id/coupons: the instance's coupons, newest first, each with the number
 * of orders that used it. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/catalog.h"
#include "portal/coupons.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "store/store.h"

enum http_result portal_get_instances_ID_coupons(struct http_request *req,
                                                 struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const char *inst = req->params[0];
  size_t n;
  int oom;
  const json_t **recs = portal_list_newest(inst, STORE_COUPONS, &n, &oom);
  if (oom) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, portal_coupon_json(inst, recs[i]));
  free(recs);
  http_reply_json(rep, 200, json_pack("{s:o}", "coupons", arr));
  return HTTP_DONE;
}
