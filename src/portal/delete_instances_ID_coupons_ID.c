/* DELETE /api/instances/:id/coupons/:cid: removes the coupon for good. Orders keep their own
 * copy of the code they used, so nothing else refers to the record; its code is free again
 * at once. */
#include "core/app.h"
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/portal.h"
#include "store/store.h"

enum http_result portal_delete_instances_ID_coupons_ID(struct http_request *req,
                                                       struct http_reply *rep) {
  if (!portal_own_scoped(req, rep, STORE_COUPONS))
    return HTTP_DONE;
  /* the route takes no fields: a body with any is a client mistake, refused */
  struct jspec_error e;
  if (jspec_check(req->json, NULL, 0, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  struct store_txn *t = store_begin(astra.store);
  if (store_del(t, STORE_COUPONS, req->params[0], req->params[1]) != 0) {
    store_abort(t);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  return portal_commit_reply(req, rep, t, 204, NULL, ERR_CONFLICT, NULL);
}
