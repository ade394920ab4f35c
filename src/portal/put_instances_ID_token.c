/* PUT /api/instances/:id/token {token}: sets or replaces the instance's bot token. The token
 * is checked with Discord first (GET /users/@me, GET /oauth2/applications/@me), refused when
 * another instance uses it, then sealed (AES-256-GCM) and stored with its SHA-256; the bot's
 * name, avatar and invite URL come back. The token itself is never logged or returned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "core/log.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "runtime/token.h"
#include "store/store.h"

static const struct jspec_field fields[] = {
    {"token", JSPEC_STRING, 0, 50, 100, NULL},
};

struct check {
  struct http_request *req;
  char id[40];
  char *token;
  int aborted;
};

static const char *t(const struct http_request *req, const char *pt, const char *en) {
  return strcmp(req->locale, "en") ? pt : en;
}

static void check_free(struct check *c) {
  crypto_wipe(c->token, strlen(c->token));
  free(c->token);
  free(c);
}

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct check *)arg)->aborted = 1;
}

/* Another live instance already runs this bot? */
static int used_elsewhere(const char *hash, const char *id) {
  const char *other = store_index_get(astra.store, STORE_INSTANCES, "botTokenHash", hash, NULL);
  return other && strcmp(other, id) != 0;
}

static void on_validated(int status, const struct token_info *info, void *arg) {
  struct check *c = arg;
  if (c->aborted) {
    check_free(c);
    return;
  }
  struct http_request *req = c->req;
  struct http_reply *rep = http_reply_of(req);
  http_on_abort(req, NULL, NULL);
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, c->id);
  char hash[65];
  token_hash(c->token, hash);
  char *sealed = status == 0 ? token_seal(c->token) : NULL;
  if (status == 1) {
    http_reply_error(req, rep, ERR_BAD_FIELD, "token",
                     t(req, "O Discord recusou este token. Copie o token do bot no Portal de Desenvolvedores.",
                       "Discord refused this token. Copy the bot token from the Developer Portal."));
  } else if (status != 0) {
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL,
                     t(req, "Não foi possível falar com o Discord agora. Tente de novo em instantes.",
                       "Could not reach Discord right now. Try again shortly."));
  } else if (!rec || json_object_get(rec, "deletedAt")) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
  } else if (used_elsewhere(hash, c->id)) {
    http_reply_error(req, rep, ERR_CONFLICT, "token",
                     t(req, "Este bot já está em uso em outra instância.",
                       "This bot is already used by another instance."));
  } else if (!sealed) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
  } else {
    json_t *copy = json_deep_copy(rec);
    json_object_set_new(copy, "botToken", json_string(sealed));
    json_object_set_new(copy, "botTokenHash", json_string(hash));
    json_object_set_new(copy, "botId", json_string(info->bot_id));
    json_object_set_new(copy, "botName", json_string(info->bot_name));
    json_object_set_new(copy, "botAvatar", info->bot_avatar[0] ? json_string(info->bot_avatar) : json_null());
    json_object_set_new(copy, "applicationId", json_string(info->application_id));
    free(sealed);
    http_log(req, LOG_INFO, "instance %s: bot token set (bot %s)", c->id, info->bot_id);
    enum http_result r = portal_commit_instance(req, rep, c->id, copy, 200);
    check_free(c);
    if (r == HTTP_DONE)
      http_resume(req);
    return;
  }
  free(sealed);
  check_free(c);
  http_resume(req);
}

enum http_result portal_put_instances_ID_token(struct http_request *req, struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, fields, 1, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *token = json_string_value(json_object_get(req->json, "token"));
  if (!token_plausible(token)) {
    http_reply_error(req, rep, ERR_BAD_FIELD, "token",
                     t(req, "Isto não parece um token de bot do Discord.",
                       "This does not look like a Discord bot token."));
    return HTTP_DONE;
  }
  char hash[65];
  token_hash(token, hash);
  if (used_elsewhere(hash, req->params[0])) {
    http_reply_error(req, rep, ERR_CONFLICT, "token",
                     t(req, "Este bot já está em uso em outra instância.",
                       "This bot is already used by another instance."));
    return HTTP_DONE;
  }
  struct check *c = calloc(1, sizeof *c);
  if (!c || !(c->token = strdup(token))) {
    free(c);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  c->req = req;
  snprintf(c->id, sizeof c->id, "%s", req->params[0]);
  http_on_abort(req, on_abort, c);
  token_validate(token, on_validated, c);
  return HTTP_SUSPEND;
}
