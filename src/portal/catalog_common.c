/* What the routes below an instance share: every lookup goes through the caller's own
 * instance first, so another seller's product, key or coupon is a 404 exactly like a missing
 * one; and one "commit, then answer" so that no 2xx leaves before its change is on disk. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/catalog.h"
#include "portal/instances.h"

/* portal_now_ms() is defined once, in src/portal/auth.c (declared in both headers). */

const json_t *portal_own_scoped(struct http_request *req, struct http_reply *rep,
                                enum store_coll c) {
  if (!portal_own_instance(req, rep))
    return NULL;
  const json_t *rec = req->nparams > 1 ? store_get(astra.store, c, req->params[0], req->params[1])
                                       : NULL;
  if (!rec || json_object_get(rec, "deletedAt")) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return NULL;
  }
  return rec;
}

const json_t *portal_own_product(struct http_request *req, struct http_reply *rep) {
  return portal_own_scoped(req, rep, STORE_PRODUCTS);
}

struct pending {
  struct http_request *req; /* NULL once the request went away */
  unsigned status;
  json_t *body;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct pending *)arg)->req = NULL;
}

static void on_durable(int status, void *arg) {
  struct pending *p = arg;
  if (p->req) {
    struct http_reply *rep = http_reply_of(p->req);
    if (status != 0)
      http_reply_error(p->req, rep, ERR_STORE_FAILED, NULL, NULL);
    else if (p->body)
      http_reply_json(rep, p->status, json_incref(p->body));
    else
      http_reply_data(rep, p->status, NULL, NULL, 0);
    http_resume(p->req);
  }
  json_decref(p->body);
  free(p);
}

enum http_result portal_commit_reply(struct http_request *req, struct http_reply *rep,
                                     struct store_txn *t, unsigned status, json_t *body,
                                     enum err_id conflict, const char *field) {
  struct pending *p = calloc(1, sizeof *p);
  if (!p) {
    store_abort(t);
    json_decref(body);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  p->req = req;
  p->status = status;
  p->body = body;
  int rc = store_commit(t, on_durable, p);
  if (rc != 0) {
    json_decref(body);
    free(p);
    if (rc == STORE_ECONFLICT)
      http_reply_error(req, rep, conflict, field, NULL);
    else
      http_reply_error(req, rep, ERR_STORE_FAILED, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, p);
  return HTTP_SUSPEND;
}
