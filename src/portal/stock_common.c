/* What the stock routes share: the audit event of a seller's act, and "commit, answer once
 * durable, then record it in the audit trail". A change is audited only once it is on disk,
 * so the trail never names a change that did not happen. */
#include <stdlib.h>

#include "core/audit.h"
#include "core/log.h"
#include "portal/auth.h"
#include "portal/stock.h"

json_t *portal_stock_event(const struct http_request *req, const char *action) {
  json_t *e = audit_event(action, "seller", portal_user_of(req)->id, req->remote_ip,
                          req->reqid);
  if (e)
    json_object_set_new(e, "instanceId", json_string(req->params[0]));
  return e;
}

struct pending {
  struct http_request *req; /* NULL once the request went away */
  unsigned status;
  json_t *body, *event;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct pending *)arg)->req = NULL;
}

static void on_durable(int status, void *arg) {
  struct pending *p = arg;
  if (status == 0 && p->event) {
    if (audit_append(p->event, NULL, NULL) != 0)
      log_error("stock", "audit: could not append a stock change");
    p->event = NULL;
  }
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
  json_decref(p->event);
  free(p);
}

int portal_stock_commit(struct http_request *req, struct http_reply *rep, struct store_txn *t,
                        unsigned status, json_t *body, json_t *event) {
  struct pending *p = calloc(1, sizeof *p);
  if (!p) {
    store_abort(t);
    json_decref(body);
    json_decref(event);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return STORE_ERR;
  }
  *p = (struct pending){req, status, body, event};
  int rc = store_commit(t, on_durable, p);
  if (rc != 0) {
    free(p);
    if (rc == STORE_ECONFLICT)
      return rc;
    json_decref(body);
    json_decref(event);
    http_reply_error(req, rep, ERR_STORE_FAILED, NULL, NULL);
    return rc;
  }
  http_on_abort(req, on_abort, p);
  return 0;
}
