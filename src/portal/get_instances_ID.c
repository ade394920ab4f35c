/* GET /api/instances/:id: one of the caller's instances, with live status (the web app polls
 * it for the status badge). */
#include "portal/instances.h"
#include "portal/portal.h"

enum http_result portal_get_instances_ID(struct http_request *req, struct http_reply *rep) {
  const json_t *rec = portal_own_instance(req, rep);
  if (rec)
    http_reply_json(rep, 200, portal_instance_json(req->params[0], rec));
  return HTTP_DONE;
}
