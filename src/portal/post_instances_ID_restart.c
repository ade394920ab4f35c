/* POST /api/instances/:id/restart: a new gateway session for the bot (after changing its
 * permissions in Discord, say). */
#include "core/app.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "runtime/runtime.h"
#include "store/store.h"

enum http_result portal_post_instances_ID_restart(struct http_request *req,
                                                  struct http_reply *rep) {
  const json_t *rec = portal_own_instance(req, rep);
  if (!rec)
    return HTTP_DONE;
  runtime_restart(req->params[0]);
  http_reply_json(rep, 200, portal_instance_json(req->params[0], rec));
  return HTTP_DONE;
}
