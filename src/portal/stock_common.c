/* What the stock routes share: the audit event of a seller's act (portal_commit_event appends
 * it once the change is on disk, so the trail never names a change that did not happen). */
#include "core/audit.h"
#include "portal/auth.h"
#include "portal/catalog.h"
#include "portal/stock.h"

json_t *portal_stock_event(const struct http_request *req, const char *action) {
  json_t *e = audit_event(action, "seller", portal_user_of(req)->id, req->remote_ip,
                          req->reqid);
  if (e)
    json_object_set_new(e, "instanceId", json_string(req->params[0]));
  return e;
}
