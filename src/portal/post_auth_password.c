/* POST /api/auth/password {current, new}: changes the caller's password and revokes every
 * other session of theirs (a password change is what a seller does when they fear someone
 * else is in). 204 once durable. An account made through Discord has no password yet: it
 * may set one without `current`. Wrong current passwords count toward a per-user limit (5
 * per 15 minutes), so a stolen session cannot be used to guess the password. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/jspec.h"
#include "core/log.h"
#include "portal/auth.h"
#include "store/store.h"

static const struct jspec_field fields[] = {
    {"current", JSPEC_STRING, JSPEC_OPTIONAL, 1, PORTAL_PASSWORD_MAX, NULL},
    {"new", JSPEC_STRING, 0, PORTAL_PASSWORD_MIN, PORTAL_PASSWORD_MAX, NULL},
};

struct change {
  struct portal_pending p;
  char user_id[40];
  char session_id[40];
};

static void on_durable(int status, void *arg) {
  struct change *c = arg;
  struct http_reply *rep = portal_pending_reply(&c->p);
  if (rep) {
    if (status != 0)
      http_reply_error(c->p.req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      http_reply_data(rep, 204, NULL, "", 0);
    portal_pending_finish(&c->p);
  }
  free(c);
}

/* Puts the new hash and the revocations in one transaction; 0 when committed (on_durable
 * answers), else the store's error code. */
static int commit_change(struct change *c, const json_t *user, const char *hash) {
  json_t *copy = json_deep_copy(user);
  struct store_txn *t = copy ? store_begin(astra.store) : NULL;
  if (!t) {
    json_decref(copy);
    return STORE_ERR;
  }
  json_object_set_new(copy, "passwordHash", json_string(hash));
  json_object_set_new(copy, "passwordChangedAt", json_integer((json_int_t)portal_now_ms()));
  if (store_put(t, STORE_USERS, NULL, c->user_id, copy) != 0) {
    store_abort(t);
    return STORE_ERR;
  }
  size_t n = portal_session_revoke_others(t, c->user_id, c->session_id);
  int rc = store_commit(t, on_durable, c);
  if (rc == 0)
    http_log(c->p.req, LOG_INFO, "seller %s changed the password; %zu other session(s) revoked",
             c->user_id, n);
  return rc;
}

static void on_hashed(int status, char *hash, void *arg) {
  struct change *c = arg;
  if (status == 0) /* counted even if the client left: see post_auth_login.c */
    portal_limit_hit(PORTAL_LIMIT_PASSWORD, c->user_id);
  struct http_reply *rep = portal_pending_reply(&c->p);
  if (!rep) {
    free(hash);
    free(c);
    return;
  }
  struct http_request *req = c->p.req;
  const json_t *user = portal_user_get(c->user_id);
  if (status == 0) {
    http_reply_error(req, rep, ERR_WRONG_PASSWORD, "current", NULL);
  } else if (status < 0 || !hash || !user) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
  } else {
    portal_limit_clear(PORTAL_LIMIT_PASSWORD, c->user_id);
    int rc = commit_change(c, user, hash);
    if (rc == 0) {
      free(hash);
      return;
    }
    http_reply_error(req, rep, rc == STORE_EFAILED ? ERR_STORE_FAILED : ERR_INTERNAL, NULL,
                     NULL);
  }
  free(hash);
  portal_pending_finish(&c->p);
  free(c);
}

enum http_result portal_post_auth_password(struct http_request *req, struct http_reply *rep) {
  const struct portal_user *u = portal_user_of(req);
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    enum err_id id = e.id;
    if (id == ERR_BAD_FIELD && e.field && !strcmp(e.field, "new"))
      id = ERR_BAD_PASSWORD;
    http_reply_error(req, rep, id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *stored = json_string_value(json_object_get(u->user, "passwordHash"));
  const char *current = json_string_value(json_object_get(req->json, "current"));
  const char *next = json_string_value(json_object_get(req->json, "new"));
  if (stored && !current) {
    http_reply_error(req, rep, ERR_MISSING_FIELD, "current", NULL);
    return HTTP_DONE;
  }
  unsigned wait = stored ? portal_limit_check(PORTAL_LIMIT_PASSWORD, u->id) : 0;
  if (wait) {
    portal_reply_limited(req, rep, wait);
    return HTTP_DONE;
  }
  struct change *c = calloc(1, sizeof *c);
  if (!c) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  memcpy(c->user_id, u->id, sizeof c->user_id);
  memcpy(c->session_id, u->session_id, sizeof c->session_id);
  /* No stored hash (a Discord-made account): nothing to verify, only the new hash to make. */
  if (portal_password_work(stored, stored ? current : NULL, next, on_hashed, c) != 0) {
    free(c);
    http_reply_header(rep, "Retry-After", "1");
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  portal_pending_start(&c->p, req);
  return HTTP_SUSPEND;
}
