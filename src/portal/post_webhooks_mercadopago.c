/* POST /api/webhooks/mercadopago: not built yet (selling issue, work in progress). */
#include "portal/portal.h"

enum http_result portal_post_webhooks_mercadopago(struct http_request *req, struct http_reply *rep) {
  http_reply_error(req, rep, ERR_INTERNAL, NULL, "not built yet");
  return HTTP_DONE;
}
