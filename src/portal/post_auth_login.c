/* POST /api/auth/login {email, password}: 200 with the session cookie and {user, csrf}.
 * Wrong credentials get one generic 401 that never says which part was wrong, and an unknown
 * email spends the same scrypt time as a wrong password. Limits: 10 attempts per minute per
 * IP, 5 failures per 15 minutes per account (429 with Retry-After). */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/jspec.h"
#include "core/log.h"
#include "portal/auth.h"
#include "store/store.h"

static const struct jspec_field fields[] = {
    {"email", JSPEC_STRING, 0, 1, PORTAL_EMAIL_MAX, NULL},
    {"password", JSPEC_STRING, 0, 1, PORTAL_PASSWORD_MAX, NULL},
};

struct login {
  struct portal_pending p;
  char key[PORTAL_EMAIL_MAX + 1]; /* the account's rate-limit key: the normalised email */
  char user_id[40];
  struct portal_new_session session;
};

static void on_durable(int status, void *arg) {
  struct login *l = arg;
  struct http_reply *rep = portal_pending_reply(&l->p);
  if (rep) {
    if (status != 0)
      http_reply_error(l->p.req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      portal_reply_signed_in(l->p.req, rep, 200, l->user_id, &l->session);
    portal_pending_finish(&l->p);
  }
  free(l);
}

static void on_verified(int status, char *hash, void *arg) {
  struct login *l = arg;
  free(hash);
  /* Counted even when the client has gone: dropping the connection early must not be a way
   * around the per-account limit. */
  if (status == 0 || !l->user_id[0])
    portal_limit_hit(PORTAL_LIMIT_LOGIN_ACCOUNT, l->key);
  struct http_reply *rep = portal_pending_reply(&l->p);
  if (!rep) {
    free(l);
    return;
  }
  struct http_request *req = l->p.req;
  if (status < 0) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
  } else if (status == 0 || !l->user_id[0] || !portal_user_get(l->user_id)) {
    http_log(req, LOG_INFO, "failed login");
    http_reply_error(req, rep, ERR_BAD_CREDENTIALS, NULL, NULL);
  } else {
    portal_limit_clear(PORTAL_LIMIT_LOGIN_ACCOUNT, l->key);
    struct store_txn *t = store_begin(astra.store);
    int rc = STORE_ERR;
    if (t && portal_session_add(t, l->user_id, req, &l->session) == 0) {
      rc = store_commit(t, on_durable, l);
      t = NULL;
    }
    if (t)
      store_abort(t);
    if (rc == 0) {
      http_log(req, LOG_INFO, "seller %s logged in", l->user_id);
      return;
    }
    http_reply_error(req, rep, rc == STORE_EFAILED ? ERR_STORE_FAILED : ERR_INTERNAL, NULL,
                     NULL);
  }
  portal_pending_finish(&l->p);
  free(l);
}

enum http_result portal_post_auth_login(struct http_request *req, struct http_reply *rep) {
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  unsigned wait = portal_limit_take(PORTAL_LIMIT_LOGIN_IP, req->remote_ip);
  if (wait) {
    portal_reply_limited(req, rep, wait);
    return HTTP_DONE;
  }
  struct login *l = calloc(1, sizeof *l);
  if (!l) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  const char *raw = json_string_value(json_object_get(req->json, "email"));
  /* Something that is not an email cannot be an account: it is still verified against the
   * dummy hash, and still counted under its own (lower-cased) key. */
  if (portal_email_normalize(raw, l->key, sizeof l->key) != 0) {
    size_t i = 0;
    for (; raw[i] && i < sizeof l->key - 1; i++)
      l->key[i] = (char)((raw[i] >= 'A' && raw[i] <= 'Z') ? raw[i] - 'A' + 'a' : raw[i]);
    l->key[i] = '\0';
  }
  wait = portal_limit_check(PORTAL_LIMIT_LOGIN_ACCOUNT, l->key);
  if (wait) {
    free(l);
    portal_reply_limited(req, rep, wait);
    return HTTP_DONE;
  }
  const char *id = store_index_get(astra.store, STORE_USERS, "email", l->key, NULL);
  const json_t *user = portal_user_get(id);
  const char *stored = json_string_value(json_object_get(user, "passwordHash"));
  if (user && stored)
    snprintf(l->user_id, sizeof l->user_id, "%s", id);
  const char *password = json_string_value(json_object_get(req->json, "password"));
  if (portal_password_work(l->user_id[0] ? stored : NULL, password, NULL, on_verified, l) !=
      0) {
    free(l);
    http_reply_header(rep, "Retry-After", "1");
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  portal_pending_start(&l->p, req);
  return HTTP_SUSPEND;
}
