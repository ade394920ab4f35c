/* POST /api/auth/signup {email, password, name?, locale?}: a seller opens an account with
 * email and password. 201 with the session cookie and {user, csrf}; 409 when the email is
 * taken; 429 past 5 signups per hour from one IP. The password is hashed (scrypt) on the
 * thread pool, and the answer waits until the new user and session are durable. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "core/log.h"
#include "portal/auth.h"
#include "store/store.h"

static const char *const locales[] = {"pt-BR", "en", NULL};
static const struct jspec_field fields[] = {
    {"email", JSPEC_STRING, 0, 1, PORTAL_EMAIL_MAX, NULL},
    {"password", JSPEC_STRING, 0, PORTAL_PASSWORD_MIN, PORTAL_PASSWORD_MAX, NULL},
    {"name", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 80, NULL},
    {"locale", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, locales},
};

struct signup {
  struct portal_pending p;
  char email[PORTAL_EMAIL_MAX + 1];
  char *name;
  char locale[8];
  char user_id[40];
  struct portal_new_session session;
};

static void signup_free(struct signup *s) {
  free(s->name);
  free(s);
}

static void on_durable(int status, void *arg) {
  struct signup *s = arg;
  struct http_reply *rep = portal_pending_reply(&s->p);
  if (rep) {
    if (status != 0)
      http_reply_error(s->p.req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      portal_reply_signed_in(s->p.req, rep, 201, s->user_id, &s->session);
    portal_pending_finish(&s->p);
  }
  signup_free(s);
}

static void on_hashed(int status, char *hash, void *arg) {
  struct signup *s = arg;
  struct http_reply *rep = portal_pending_reply(&s->p);
  if (!rep) {
    free(hash);
    signup_free(s);
    return;
  }
  if (status != 1 || !hash) {
    free(hash);
    http_reply_error(s->p.req, rep, ERR_INTERNAL, NULL, NULL);
    portal_pending_finish(&s->p);
    signup_free(s);
    return;
  }
  crypto_uuid(s->user_id);
  json_t *user = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:I}", "id", s->user_id, "email",
                           s->email, "name", s->name, "passwordHash", hash, "locale",
                           s->locale, "createdAt", (json_int_t)portal_now_ms());
  free(hash);
  struct store_txn *t = store_begin(astra.store);
  int rc = STORE_ERR;
  if (t && user && store_put(t, STORE_USERS, NULL, s->user_id, user) == 0 &&
      portal_session_add(t, s->user_id, s->p.req, &s->session) == 0) {
    rc = store_commit(t, on_durable, s);
    t = NULL;
  } else if (!t) {
    json_decref(user);
  }
  if (t)
    store_abort(t);
  if (rc == 0) {
    http_log(s->p.req, LOG_INFO, "new seller account %s", s->user_id);
    return;
  }
  /* A unique-index conflict: someone took the email while the password was hashing. */
  if (rc == STORE_ECONFLICT)
    http_reply_error(s->p.req, rep, ERR_EMAIL_TAKEN, "email", NULL);
  else
    http_reply_error(s->p.req, rep, rc == STORE_EFAILED ? ERR_STORE_FAILED : ERR_INTERNAL,
                     NULL, NULL);
  portal_pending_finish(&s->p);
  signup_free(s);
}

enum http_result portal_post_auth_signup(struct http_request *req, struct http_reply *rep) {
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    enum err_id id = e.id;
    if (id == ERR_BAD_FIELD && e.field && !strcmp(e.field, "password"))
      id = ERR_BAD_PASSWORD; /* the rule is worth saying in the seller's words */
    http_reply_error(req, rep, id, e.field, NULL);
    return HTTP_DONE;
  }
  char email[PORTAL_EMAIL_MAX + 1];
  if (portal_email_normalize(json_string_value(json_object_get(req->json, "email")), email,
                             sizeof email) != 0) {
    http_reply_error(req, rep, ERR_BAD_EMAIL, "email", NULL);
    return HTTP_DONE;
  }
  unsigned wait = portal_limit_take(PORTAL_LIMIT_SIGNUP_IP, req->remote_ip);
  if (wait) {
    portal_reply_limited(req, rep, wait);
    return HTTP_DONE;
  }
  if (store_index_get(astra.store, STORE_USERS, "email", email, NULL)) {
    http_reply_error(req, rep, ERR_EMAIL_TAKEN, "email", NULL);
    return HTTP_DONE;
  }
  struct signup *s = calloc(1, sizeof *s);
  if (!s) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  memcpy(s->email, email, sizeof email);
  const char *name = json_string_value(json_object_get(req->json, "name"));
  const char *locale = json_string_value(json_object_get(req->json, "locale"));
  s->name = name ? strdup(name) : NULL;
  snprintf(s->locale, sizeof s->locale, "%s", locale ? locale : req->locale);
  const char *password = json_string_value(json_object_get(req->json, "password"));
  if ((name && !s->name) || portal_password_work(NULL, NULL, password, on_hashed, s) != 0) {
    signup_free(s);
    http_reply_header(rep, "Retry-After", "1");
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  portal_pending_start(&s->p, req);
  return HTTP_SUSPEND;
}
