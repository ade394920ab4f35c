/* Bot tokens: sealing, hashing and validation against Discord (include/runtime/token.h). */
#include "runtime/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "discord/rest.h"

char *token_seal(const char *token) {
  return crypto_seal(astra.cfg->data_key, token, strlen(token));
}

char *token_open(const char *sealed) {
  size_t n;
  char *t = sealed ? crypto_open(astra.cfg->data_key, sealed, &n) : NULL;
  if (t && (n == 0 || strlen(t) != n)) { /* a token never holds NUL bytes */
    crypto_wipe(t, n);
    free(t);
    return NULL;
  }
  return t;
}

void token_hash(const char *token, char out[65]) {
  uint8_t h[32];
  crypto_sha256(token, strlen(token), h);
  crypto_hex(h, sizeof h, out);
}

int token_plausible(const char *token) {
  size_t n = token ? strlen(token) : 0;
  if (n < 50 || n > 100)
    return 0;
  int dots = 0;
  for (size_t i = 0; i < n; i++) {
    char c = token[i];
    if (c == '.') {
      if (i == 0 || i == n - 1 || token[i - 1] == '.')
        return 0;
      dots++;
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-')) {
      return 0;
    }
  }
  return dots == 2;
}

void token_invite_url(const char *application_id, char *out, size_t outlen) {
  snprintf(out, outlen,
           "https://discord.com/oauth2/authorize?client_id=%s&scope=bot+applications.commands"
           "&permissions=" TOKEN_INVITE_PERMISSIONS,
           application_id);
}

/* ---- validation: two calls on a temporary client ---- */

struct validation {
  struct rest_client *rest;
  struct token_info info;
  void (*done)(int, const struct token_info *, void *);
  void *arg;
  int status;
  uv_idle_t finish; /* frees the client outside its own callback */
};

static void copy_str(char *dst, size_t cap, const json_t *v) {
  const char *s = json_string_value(v);
  snprintf(dst, cap, "%s", s ? s : "");
}

static void on_finish_closed(uv_handle_t *h) { free(h->data); }

static void on_finish(uv_idle_t *h) {
  struct validation *v = h->data;
  uv_idle_stop(h);
  if (v->rest)
    rest_client_free(v->rest);
  v->done(v->status, v->status == 0 ? &v->info : NULL, v->arg);
  uv_close((uv_handle_t *)h, on_finish_closed);
}

static void finish(struct validation *v, int status) {
  v->status = status;
  uv_idle_init(astra.loop, &v->finish);
  v->finish.data = v;
  uv_idle_start(&v->finish, on_finish);
}

static int outcome(const struct rest_result *r) {
  if (r->error == REST_OK && r->status == 200 && json_is_object(r->body))
    return 0;
  if (r->error == REST_EQUARANTINED || r->status == 401 || r->status == 403)
    return 1;
  return -1;
}

static void on_app(const struct rest_result *r, void *arg) {
  struct validation *v = arg;
  int st = outcome(r);
  if (st == 0) {
    copy_str(v->info.application_id, sizeof v->info.application_id,
             json_object_get(r->body, "id"));
    if (!v->info.application_id[0])
      st = -1;
  }
  finish(v, st);
}

static void on_me(const struct rest_result *r, void *arg) {
  struct validation *v = arg;
  int st = outcome(r);
  if (st == 0 && !json_is_true(json_object_get(r->body, "bot")))
    st = 1; /* a user token, not a bot's: refuse it */
  if (st != 0) {
    finish(v, st);
    return;
  }
  copy_str(v->info.bot_id, sizeof v->info.bot_id, json_object_get(r->body, "id"));
  copy_str(v->info.bot_name, sizeof v->info.bot_name, json_object_get(r->body, "username"));
  copy_str(v->info.bot_avatar, sizeof v->info.bot_avatar, json_object_get(r->body, "avatar"));
  rest_request(v->rest, "GET", "/oauth2/applications/@me", NULL, 0, on_app, v);
}

void token_validate(const char *token,
                    void (*done)(int status, const struct token_info *info, void *arg),
                    void *arg) {
  struct validation *v = calloc(1, sizeof *v);
  if (!v) {
    done(-1, NULL, arg);
    return;
  }
  v->done = done;
  v->arg = arg;
  v->rest = rest_client_new(token, "token-check");
  if (!v->rest) {
    finish(v, -1);
    return;
  }
  rest_request(v->rest, "GET", "/users/@me", NULL, 0, on_me, v);
}
