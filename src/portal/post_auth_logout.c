/* POST /api/auth/logout: ends the caller's session. 204 once the revocation is durable (so
 * a stolen copy of the cookie stops working everywhere), with a Set-Cookie that removes it
 * from the browser. */
#include <stdlib.h>

#include "core/app.h"
#include "core/log.h"
#include "portal/auth.h"
#include "store/store.h"

struct logout {
  struct portal_pending p;
};

static void on_durable(int status, void *arg) {
  struct logout *l = arg;
  struct http_reply *rep = portal_pending_reply(&l->p);
  if (rep) {
    if (status != 0) {
      http_reply_error(l->p.req, rep, ERR_STORE_FAILED, NULL, NULL);
    } else {
      portal_session_clear_cookie(rep);
      http_reply_data(rep, 204, NULL, "", 0);
    }
    portal_pending_finish(&l->p);
  }
  free(l);
}

enum http_result portal_post_auth_logout(struct http_request *req, struct http_reply *rep) {
  const struct portal_user *u = portal_user_of(req);
  struct logout *l = calloc(1, sizeof *l);
  struct store_txn *t = l ? store_begin(astra.store) : NULL;
  if (!t || portal_session_revoke(t, u->session_id) != 0) {
    if (t)
      store_abort(t);
    free(l);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  int rc = store_commit(t, on_durable, l);
  if (rc != 0) {
    free(l);
    http_reply_error(req, rep, rc == STORE_EFAILED ? ERR_STORE_FAILED : ERR_INTERNAL, NULL,
                     NULL);
    return HTTP_DONE;
  }
  http_log(req, LOG_INFO, "seller %s logged out", u->id);
  portal_pending_start(&l->p, req);
  return HTTP_SUSPEND;
}
