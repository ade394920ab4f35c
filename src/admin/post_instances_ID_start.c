/* POST /api/instances/:id/start: the operator wants this instance's bot running. */
#include "admin/admin.h"

enum http_result admin_post_instances_ID_start(struct http_request *req, struct http_reply *rep) {
  return admin_set_desired(req, rep, "running");
}
