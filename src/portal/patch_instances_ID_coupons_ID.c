/* PATCH /api/instances/:id/coupons/:cid: not built yet (issue 4 work in
 * progress). */
#include "portal/portal.h"

enum http_result portal_patch_instances_ID_coupons_ID(struct http_request *req,
                                                      struct http_reply *rep) {
  http_reply_error(req, rep, ERR_INTERNAL, NULL, "not built yet");
  return HTTP_DONE;
}
