/* POST /api/instances/:id/stop: the operator wants this instance's bot stopped. */
#include "admin/admin.h"

enum http_result admin_post_instances_ID_stop(struct http_request *req, struct http_reply *rep) {
  return admin_set_desired(req, rep, "stopped");
}
