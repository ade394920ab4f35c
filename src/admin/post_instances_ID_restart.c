/* POST /api/instances/:id/restart: stops and starts the bot again (a new gateway session),
 * keeping its desired state. */
#include "admin/admin.h"
#include "core/app.h"
#include "core/log.h"
#include "runtime/runtime.h"
#include "store/store.h"

enum http_result admin_post_instances_ID_restart(struct http_request *req,
                                                 struct http_reply *rep) {
  const char *id = req->params[0];
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, id);
  if (!rec || json_object_get(rec, "deletedAt")) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  runtime_restart(id);
  http_log(req, LOG_INFO, "operator restarted instance %s", id);
  http_reply_json(rep, 200, admin_instance_json(id, rec));
  return HTTP_DONE;
}
