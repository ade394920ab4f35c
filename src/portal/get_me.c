/* GET /api/me: who is signed in, for the web app: {user, csrf}. The CSRF token it hands out
 * is the one state-changing requests must echo in X-CSRF-Token. */
#include "core/app.h"
#include "portal/auth.h"
#include "store/store.h"

enum http_result portal_get_me(struct http_request *req, struct http_reply *rep) {
  const struct portal_user *u = portal_user_of(req);
  const json_t *s = store_get(astra.store, STORE_SESSIONS, NULL, u->session_id);
  http_reply_json(rep, 200,
                  json_pack("{s:o, s:O?}", "user", portal_user_json(u->id, u->user), "csrf",
                            json_object_get(s, "csrf")));
  return HTTP_DONE;
}
