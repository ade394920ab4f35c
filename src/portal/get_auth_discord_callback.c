/* GET /api/auth/discord/callback?code&state: where Discord sends the browser back. Checks
 * the state against the signed flow cookie set by GET /api/auth/discord (so the callback
 * only completes in the browser that started it), exchanges the code for a token
 * (POST {DISCORD_API_BASE}/oauth2/token, form body, client id and secret, PKCE verifier),
 * reads the Discord user (GET {DISCORD_API_BASE}/users/@me with the Bearer token), then:
 *  - mode login: the user linked to that Discord account signs in; with none, a new account
 *    is made (with Discord's email when Discord verified it and no account has it);
 *  - mode link: the signed-in user gets that Discord account, unless another user has it.
 * Success is a 302 to /dashboard (with a new session cookie when signing in); every failure
 * a 302 to /?erro=<code> that the page turns into a message. The Discord token is used for
 * these two calls only and never stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "net/net.h"
#include "portal/auth.h"
#include "store/store.h"

#define DISCORD_TIMEOUT_MS 10000
#define DISCORD_MAX_RESPONSE (64 * 1024)

struct callback {
  struct portal_pending p;
  struct portal_oauth_flow flow;
  struct net_call *call;
  char user_id[40];
  struct portal_new_session session;
  int signed_in; /* a new session was made: set its cookie */
};

static void cb_free(struct callback *cb) {
  crypto_wipe(&cb->flow, sizeof cb->flow);
  free(cb);
}

/* The request went away while we waited: stop the outstanding call; a pending commit's
 * callback frees instead (it sees no request). */
static void on_abort(struct portal_pending *p) {
  struct callback *cb = (struct callback *)p;
  if (cb->call) {
    net_cancel(cb->call);
    cb_free(cb);
  }
}

static void finish_error(struct callback *cb, enum err_id id) {
  struct http_reply *rep = portal_pending_reply(&cb->p);
  if (rep) { /* the flow cookie's removal is already in rep (set before suspending) */
    portal_redirect_error(rep, id);
    portal_pending_finish(&cb->p);
  }
  cb_free(cb);
}

static void on_durable(int status, void *arg) {
  struct callback *cb = arg;
  struct http_reply *rep = portal_pending_reply(&cb->p);
  if (!rep) {
    cb_free(cb);
    return;
  }
  if (status != 0) {
    finish_error(cb, ERR_STORE_FAILED);
    return;
  }
  if (cb->signed_in)
    portal_session_cookie(rep, cb->session.id);
  portal_redirect(rep, "/dashboard");
  portal_pending_finish(&cb->p);
  cb_free(cb);
}

static int snowflake_ok(const char *s) {
  size_t n = 0;
  for (; s && s[n]; n++)
    if (s[n] < '0' || s[n] > '9' || n >= 20)
      return 0;
  return n > 0;
}

/* A short string field of Discord's answer, else NULL: only what we expect gets stored. */
static json_t *short_string(const json_t *me, const char *key) {
  json_t *v = json_object_get(me, key);
  return json_is_string(v) && json_string_length(v) <= 100 ? v : NULL;
}

/* The Discord profile we keep on the user: what the portal shows, nothing secret. */
static json_t *discord_profile(const json_t *me) {
  return json_pack("{s:O, s:O?, s:O?, s:O?}", "id", json_object_get(me, "id"), "username",
                   short_string(me, "username"), "globalName", short_string(me, "global_name"),
                   "avatar", short_string(me, "avatar"));
}

static void set_discord(json_t *user, const json_t *me) {
  json_object_set_new(user, "discordId", json_copy(json_object_get(me, "id")));
  json_object_set_new(user, "discord", discord_profile(me));
}

static int fail(enum err_id *err, enum err_id id) {
  *err = id;
  return -1;
}

/* Builds the transaction for the Discord user `me` in t. 0, or -1 with the error to show in
 * *err. */
static int decide(struct callback *cb, struct store_txn *t, const json_t *me, enum err_id *err) {
  const char *did = json_string_value(json_object_get(me, "id"));
  const char *owner = store_index_get(astra.store, STORE_USERS, "discordId", did, NULL);
  struct http_request *req = cb->p.req;

  if (!strcmp(cb->flow.mode, "link")) {
    const json_t *user = portal_user_get(cb->flow.user_id);
    if (!user)
      return fail(err, ERR_UNAUTHORIZED);
    if (owner && strcmp(owner, cb->flow.user_id) != 0)
      return fail(err, ERR_DISCORD_ALREADY_LINKED);
    json_t *copy = json_deep_copy(user);
    if (!copy)
      return fail(err, ERR_INTERNAL);
    set_discord(copy, me);
    snprintf(cb->user_id, sizeof cb->user_id, "%s", cb->flow.user_id);
    if (store_put(t, STORE_USERS, NULL, cb->user_id, copy) != 0)
      return fail(err, ERR_INTERNAL);
    http_log(req, LOG_INFO, "seller %s linked Discord account %s", cb->user_id, did);
    return 0;
  }

  json_t *rec;
  if (owner) {
    const json_t *user = portal_user_get(owner);
    if (!user) /* linked to a deleted account: not reusable, and not ours to hand out */
      return fail(err, ERR_DISCORD_ALREADY_LINKED);
    snprintf(cb->user_id, sizeof cb->user_id, "%s", owner);
    /* refresh the profile (username and avatar change over time) */
    if (!(rec = json_deep_copy(user)))
      return fail(err, ERR_INTERNAL);
    set_discord(rec, me);
    http_log(req, LOG_INFO, "seller %s logged in with Discord", owner);
  } else {
    unsigned wait = portal_limit_take(PORTAL_LIMIT_SIGNUP_IP, req->remote_ip);
    if (wait)
      return fail(err, ERR_RATE_LIMITED);
    char email[PORTAL_EMAIL_MAX + 1];
    const char *raw = json_string_value(json_object_get(me, "email"));
    /* Discord's email only when Discord verified it: otherwise anybody could claim any
     * address. An account that already has it must link Discord itself, after logging in:
     * taking it over here would let a Discord account into someone else's store. */
    int have_email = raw && json_is_true(json_object_get(me, "verified")) &&
                     portal_email_normalize(raw, email, sizeof email) == 0;
    if (have_email && store_index_get(astra.store, STORE_USERS, "email", email, NULL))
      return fail(err, ERR_DISCORD_EMAIL_TAKEN);
    const char *name = json_string_value(short_string(me, "global_name"));
    if (!name || !*name)
      name = json_string_value(short_string(me, "username"));
    const char *dloc = json_string_value(json_object_get(me, "locale"));
    const char *locale = dloc ? (!strncmp(dloc, "en", 2) ? "en" : "pt-BR") : req->locale;
    crypto_uuid(cb->user_id);
    rec = json_pack("{s:s, s:s?, s:s?, s:s, s:I}", "id", cb->user_id, "email",
                    have_email ? email : NULL, "name", name, "locale", locale, "createdAt",
                    (json_int_t)portal_now_ms());
    if (!rec)
      return fail(err, ERR_INTERNAL);
    set_discord(rec, me);
    http_log(req, LOG_INFO, "new seller account %s through Discord", cb->user_id);
  }
  if (store_put(t, STORE_USERS, NULL, cb->user_id, rec) != 0 ||
      portal_session_add(t, cb->user_id, req, &cb->session) != 0)
    return fail(err, ERR_INTERNAL);
  cb->signed_in = 1;
  return 0;
}

static void on_me(const struct net_response *r, void *arg) {
  struct callback *cb = arg;
  cb->call = NULL;
  if (!cb->p.req) {
    cb_free(cb);
    return;
  }
  if (r->error || r->status != 200) {
    http_log(cb->p.req, LOG_WARN, "Discord GET /users/@me failed: %s",
             r->error ? r->error_msg : "unexpected status");
    finish_error(cb, ERR_DISCORD_FAILED);
    return;
  }
  json_t *me = json_loadb(r->body, r->body_len, 0, NULL);
  if (!json_is_object(me) || !snowflake_ok(json_string_value(json_object_get(me, "id")))) {
    json_decref(me);
    http_log(cb->p.req, LOG_WARN, "Discord GET /users/@me: no user id in the answer");
    finish_error(cb, ERR_DISCORD_FAILED);
    return;
  }
  struct store_txn *t = store_begin(astra.store);
  enum err_id err = ERR_STORE_FAILED;
  int bad = t ? decide(cb, t, me, &err) : -1;
  json_decref(me);
  if (bad) {
    if (t)
      store_abort(t);
    finish_error(cb, err);
    return;
  }
  int rc = store_commit(t, on_durable, cb);
  if (rc != 0) /* a unique index: the Discord account or its email was taken meanwhile */
    finish_error(cb, rc == STORE_ECONFLICT   ? (!strcmp(cb->flow.mode, "link")
                                                    ? ERR_DISCORD_ALREADY_LINKED
                                                    : ERR_CONFLICT)
                     : rc == STORE_EFAILED ? ERR_STORE_FAILED
                                           : ERR_INTERNAL);
}

/* {DISCORD_API_BASE}<path>, without a doubled slash. */
static void api_url(char *buf, size_t len, const char *path) {
  const char *base = astra.cfg->discord_api_base ? astra.cfg->discord_api_base : "";
  size_t bl = strlen(base);
  while (bl && base[bl - 1] == '/')
    bl--;
  snprintf(buf, len, "%.*s%s", (int)bl, base, path);
}

static void on_token(const struct net_response *r, void *arg) {
  struct callback *cb = arg;
  cb->call = NULL;
  if (!cb->p.req) {
    cb_free(cb);
    return;
  }
  json_t *j = r->error ? NULL : json_loadb(r->body, r->body_len, 0, NULL);
  if (r->error || r->status != 200) {
    /* Discord's OAuth errors ({"error": "invalid_grant", ...}) carry no secret. */
    http_log(cb->p.req, LOG_WARN, "Discord token exchange failed: %s (%ld %s)",
             r->error ? r->error_msg : "refused", r->status,
             json_string_value(json_object_get(j, "error")) ? json_string_value(
                                                                  json_object_get(j, "error"))
                                                            : "");
    json_decref(j);
    finish_error(cb, ERR_DISCORD_FAILED);
    return;
  }
  const char *tok = json_string_value(json_object_get(j, "access_token"));
  const char *type = json_string_value(json_object_get(j, "token_type"));
  char auth[600], url[512];
  if (!tok || !*tok || strlen(tok) > 512 || (type && strcasecmp(type, "Bearer") != 0)) {
    json_decref(j);
    http_log(cb->p.req, LOG_WARN, "Discord token exchange: no Bearer token in the answer");
    finish_error(cb, ERR_DISCORD_FAILED);
    return;
  }
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
  json_decref(j);
  api_url(url, sizeof url, "/users/@me");
  const char *headers[] = {auth, "Accept: application/json", NULL};
  struct net_request nr = {.method = "GET", .url = url, .headers = headers,
                           .timeout_ms = DISCORD_TIMEOUT_MS, .max_retries = 1,
                           .idempotent = 1, .max_response = DISCORD_MAX_RESPONSE};
  cb->call = net_send(&nr, on_me, cb);
  crypto_wipe(auth, sizeof auth);
  if (!cb->call)
    finish_error(cb, ERR_DISCORD_FAILED);
}

/* The token request's form body; malloc'd or NULL. */
static char *token_form(const char *code, const struct portal_oauth_flow *f) {
  const struct config *c = astra.cfg;
  char rbuf[512];
  const char *vals[] = {code, portal_oauth_redirect_uri(rbuf, sizeof rbuf), f->verifier,
                        c->discord_oauth_client_id, c->discord_oauth_client_secret};
  static const char *const names[] = {"code", "redirect_uri", "code_verifier", "client_id",
                                      "client_secret"};
  size_t cap = 64, len;
  char *enc[5] = {0};
  char *out = NULL;
  for (int i = 0; i < 5; i++) {
    if (!(enc[i] = portal_urlencode(vals[i])))
      goto done;
    cap += strlen(names[i]) + strlen(enc[i]) + 2;
  }
  if (!(out = malloc(cap)))
    goto done;
  len = (size_t)snprintf(out, cap, "grant_type=authorization_code");
  for (int i = 0; i < 5; i++)
    len += (size_t)snprintf(out + len, cap - len, "&%s=%s", names[i], enc[i]);
done:
  for (int i = 0; i < 5; i++)
    if (enc[i]) {
      crypto_wipe(enc[i], strlen(enc[i]));
      free(enc[i]);
    }
  return out;
}

enum http_result portal_get_auth_discord_callback(struct http_request *req,
                                                 struct http_reply *rep) {
  const struct config *c = astra.cfg;
  struct portal_oauth_flow flow;
  const char *state = http_query(req, "state");
  portal_oauth_clear_cookie(rep); /* one use, whatever happens next */
  if (portal_oauth_flow_read(req, &flow) != 0 || !state ||
      !crypto_equal(state, strlen(state), flow.state, strlen(flow.state))) {
    http_log(req, LOG_INFO, "Discord callback without a matching flow (bad or old state)");
    portal_redirect_error(rep, ERR_OAUTH_STATE);
    return HTTP_DONE;
  }
  const char *error = http_query(req, "error");
  const char *code = http_query(req, "code");
  if (error || !code || !*code || strlen(code) > 256) {
    portal_redirect_error(rep, error && !strcmp(error, "access_denied") ? ERR_OAUTH_DENIED
                                                                         : ERR_DISCORD_FAILED);
    return HTTP_DONE;
  }
  if (!c->discord_oauth_client_id || !c->discord_oauth_client_secret) {
    portal_redirect_error(rep, ERR_DISCORD_NOT_CONFIGURED);
    return HTTP_DONE;
  }
  char who[40];
  if (!strcmp(flow.mode, "link") &&
      (portal_session_user(req, who) != 0 || strcmp(who, flow.user_id) != 0)) {
    portal_redirect_error(rep, ERR_UNAUTHORIZED);
    return HTTP_DONE;
  }
  if (portal_limit_take(PORTAL_LIMIT_LOGIN_IP, req->remote_ip)) {
    portal_redirect_error(rep, ERR_RATE_LIMITED);
    return HTTP_DONE;
  }
  struct callback *cb = calloc(1, sizeof *cb);
  char *form = cb ? token_form(code, &flow) : NULL;
  if (!form) {
    free(cb);
    portal_redirect_error(rep, ERR_INTERNAL);
    return HTTP_DONE;
  }
  cb->flow = flow;
  crypto_wipe(&flow, sizeof flow);
  char url[512];
  api_url(url, sizeof url, "/oauth2/token");
  const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                           "Accept: application/json", NULL};
  /* Not retried: a code is single use, so a second attempt could only fail. */
  struct net_request nr = {.method = "POST", .url = url, .headers = headers, .body = form,
                           .body_len = strlen(form), .timeout_ms = DISCORD_TIMEOUT_MS,
                           .idempotent = 0, .max_response = DISCORD_MAX_RESPONSE};
  cb->call = net_send(&nr, on_token, cb);
  crypto_wipe(form, strlen(form));
  free(form);
  if (!cb->call) {
    cb_free(cb);
    portal_redirect_error(rep, ERR_DISCORD_FAILED);
    return HTTP_DONE;
  }
  cb->p.on_abort = on_abort;
  portal_pending_start(&cb->p, req);
  return HTTP_SUSPEND;
}
