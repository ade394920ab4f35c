/* POST /api/instances/:id/stop: the seller wants the bot stopped (kept across restarts). */
#include "portal/portal.h"

enum http_result portal_post_instances_ID_stop(struct http_request *req, struct http_reply *rep) {
  return portal_instance_set_desired(req, rep, "stopped");
}
