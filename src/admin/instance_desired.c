/* Setting an instance's desired state from the admin API (start and stop share it): the
 * state is kept in the store so that it survives a restart, the runtime is told once the
 * change is durable, and the answer is the instance as it is then. */
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/app.h"
#include "core/log.h"
#include "runtime/runtime.h"
#include "store/store.h"

struct pending {
  struct http_request *req;
  char id[40];
  int aborted;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct pending *)arg)->aborted = 1;
}

static void on_done(int status, void *arg) {
  struct pending *p = arg;
  if (!p->aborted) {
    struct http_reply *rep = http_reply_of(p->req);
    if (status != 0)
      http_reply_error(p->req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      http_reply_json(rep, 200,
                      admin_instance_json(p->id, store_get(astra.store, STORE_INSTANCES, NULL, p->id)));
    http_resume(p->req);
  }
  free(p);
}

enum http_result admin_set_desired(struct http_request *req, struct http_reply *rep,
                                   const char *desired) {
  const char *id = req->params[0];
  struct pending *p = calloc(1, sizeof *p);
  if (!p) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  p->req = req;
  snprintf(p->id, sizeof p->id, "%s", id);
  if (runtime_set_desired(id, desired, on_done, p) != 0) {
    free(p);
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, p);
  http_log(req, LOG_INFO, "operator set instance %s to %s", id, desired);
  return HTTP_SUSPEND;
}
