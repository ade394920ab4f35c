/* POST /api/instances/:id/start: the seller wants the bot running (kept across restarts). */
#include "portal/portal.h"

enum http_result portal_post_instances_ID_start(struct http_request *req,
                                                struct http_reply *rep) {
  return portal_instance_set_desired(req, rep, "running");
}
