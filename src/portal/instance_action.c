/* Start and stop from the portal share this: the caller's own instance, then the runtime's
 * desired-state change, answered once durable with the instance as it is then. */
#include <stdio.h>
#include <stdlib.h>

#include "core/app.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "runtime/runtime.h"
#include "store/store.h"

struct action {
  struct http_request *req;
  char id[40];
  int aborted;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct action *)arg)->aborted = 1;
}

static void on_done(int status, void *arg) {
  struct action *a = arg;
  if (!a->aborted) {
    struct http_reply *rep = http_reply_of(a->req);
    if (status != 0)
      http_reply_error(a->req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      http_reply_json(rep, 200, portal_instance_json(a->id, store_get(astra.store, STORE_INSTANCES, NULL, a->id)));
    http_resume(a->req);
  }
  free(a);
}

enum http_result portal_instance_set_desired(struct http_request *req, struct http_reply *rep,
                                             const char *desired) {
  const json_t *rec = portal_own_instance(req, rep);
  if (!rec)
    return HTTP_DONE;
  if (!json_object_get(rec, "botToken") && desired[0] == 'r') {
    http_reply_error(req, rep, ERR_CONFLICT, NULL,
                     req->locale[0] == 'e' ? "Set the bot token first."
                                           : "Cadastre o token do bot primeiro.");
    return HTTP_DONE;
  }
  struct action *a = calloc(1, sizeof *a);
  if (!a) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  a->req = req;
  snprintf(a->id, sizeof a->id, "%s", req->params[0]);
  if (runtime_set_desired(a->id, desired, on_done, a) != 0) {
    free(a);
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, a);
  return HTTP_SUSPEND;
}
