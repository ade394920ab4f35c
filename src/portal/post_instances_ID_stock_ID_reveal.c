/* POST /api/instances/:id/stock/:sid/reveal: the key itself, for a seller who must resend it
 * by hand. The reveal goes to the audit trail (who, when, from which IP, which key id) and
 * the key is answered only once that line is durable; if the trail cannot be written, no
 * key leaves (503). The key never goes to the trail nor to the log. */
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/crypto.h"
#include "core/log.h"
#include "portal/catalog.h"
#include "portal/portal.h"
#include "portal/stock.h"
#include "shop/stock.h"

struct reveal {
  struct http_request *req; /* NULL once the request went away */
  char id[65];
  char *sealed; /* opened only when the answer is due: the plaintext lives briefly */
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct reveal *)arg)->req = NULL;
}

static void on_audited(int status, void *arg) {
  struct reveal *r = arg;
  if (r->req) {
    struct http_reply *rep = http_reply_of(r->req);
    size_t n = 0;
    char *key = status == 0 ? shop_stock_open(r->sealed, &n) : NULL;
    if (status != 0) {
      http_reply_error(r->req, rep, ERR_UNAVAILABLE, NULL, NULL);
    } else if (!key) {
      http_log(r->req, LOG_ERROR, "stock %s: the sealed key does not open", r->id);
      http_reply_error(r->req, rep, ERR_INTERNAL, NULL, NULL);
    } else {
      http_reply_json(rep, 200, json_pack("{s:s, s:s%}", "id", r->id, "key", key, n));
      http_reply_header(rep, "Cache-Control", "no-store");
      crypto_wipe(key, n);
      free(key);
    }
    http_resume(r->req);
  }
  free(r->sealed);
  free(r);
}

enum http_result portal_post_instances_ID_stock_ID_reveal(struct http_request *req,
                                                          struct http_reply *rep) {
  const json_t *rec = portal_own_scoped(req, rep, STORE_STOCK);
  if (!rec)
    return HTTP_DONE;
  const char *sealed = json_string_value(json_object_get(rec, "key"));
  struct reveal *r = calloc(1, sizeof *r);
  if (!sealed || !r || !(r->sealed = strdup(sealed))) {
    free(r);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  r->req = req;
  snprintf(r->id, sizeof r->id, "%s", req->params[1]);
  json_t *ev = portal_stock_event(req, "stock.reveal");
  json_object_set_new(ev, "stockId", json_string(r->id));
  json_object_set(ev, "productId", json_object_get(rec, "productId"));
  if (audit_append(ev, on_audited, r) != 0) {
    free(r->sealed);
    free(r);
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, r);
  return HTTP_SUSPEND;
}
