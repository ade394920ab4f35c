/* What the instance routes share: ownership (another seller's instance is a 404, never a
 * 403, so ids cannot be probed), the seller's view of an instance, and "commit, then answer"
 * for changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "portal/auth.h"
#include "portal/instances.h"
#include "runtime/runtime.h"
#include "runtime/token.h"
#include "store/store.h"

const json_t *portal_own_instance(struct http_request *req, struct http_reply *rep) {
  const struct portal_user *u = portal_user_of(req);
  const char *id = req->nparams ? req->params[0] : NULL;
  const json_t *rec = id ? store_get(astra.store, STORE_INSTANCES, NULL, id) : NULL;
  const char *owner = json_string_value(json_object_get(rec, "ownerId"));
  if (!rec || !u || !owner || strcmp(owner, u->id) != 0 || json_object_get(rec, "deletedAt")) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return NULL;
  }
  return rec;
}

static const char *const public_fields[] = {"name", "createdAt", "desiredState", "guildId",
                                            "linkedAt", "settings", NULL};

json_t *portal_instance_json(const char *id, const json_t *rec) {
  json_t *j = json_pack("{s:s}", "id", id);
  for (const char *const *f = public_fields; *f; f++) {
    json_t *v = json_object_get(rec, *f);
    if (v)
      json_object_set(j, *f, v);
  }
  if (!json_object_get(j, "settings"))
    json_object_set_new(j, "settings", json_object());
  const char *app = json_string_value(json_object_get(rec, "applicationId"));
  if (json_object_get(rec, "botToken")) {
    char invite[256] = "";
    if (app)
      token_invite_url(app, invite, sizeof invite);
    json_object_set_new(
        j, "bot",
        json_pack("{s:O?, s:O?, s:O?, s:s?, s:s?}", "id", json_object_get(rec, "botId"), "name",
                  json_object_get(rec, "botName"), "avatar", json_object_get(rec, "botAvatar"),
                  "applicationId", app, "inviteUrl", invite[0] ? invite : NULL));
  } else {
    json_object_set_new(j, "bot", json_null());
  }
  json_object_set_new(j, "hasApiKey", json_boolean(json_object_get(rec, "apiKeyHash") != NULL));
  struct rt_info info;
  runtime_info(id, &info);
  json_object_set_new(j, "status", json_string(rt_status_name(info.status)));
  json_object_set_new(j, "lastError", info.last_error[0] ? json_string(info.last_error) : json_null());
  json_object_set_new(j, "latencyMs", info.latency_ms >= 0 ? json_integer(info.latency_ms) : json_null());
  json_object_set_new(j, "onlineSince", info.online_since ? json_integer((json_int_t)info.online_since) : json_null());
  return j;
}

struct commit {
  struct http_request *req;
  char id[40];
  unsigned status;
  int aborted;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct commit *)arg)->aborted = 1;
}

static void on_durable(int status, void *arg) {
  struct commit *c = arg;
  if (status == 0)
    runtime_apply(c->id);
  if (!c->aborted) {
    struct http_reply *rep = http_reply_of(c->req);
    if (status != 0)
      http_reply_error(c->req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      http_reply_json(rep, c->status,
                      portal_instance_json(c->id, store_get(astra.store, STORE_INSTANCES, NULL, c->id)));
    http_resume(c->req);
  }
  free(c);
}

enum http_result portal_commit_instance(struct http_request *req, struct http_reply *rep,
                                        const char *id, json_t *rec, unsigned status) {
  struct commit *c = calloc(1, sizeof *c);
  if (!c) {
    json_decref(rec);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  c->req = req;
  c->status = status;
  snprintf(c->id, sizeof c->id, "%s", id);
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_INSTANCES, NULL, id, rec);
  int rc = store_commit(t, on_durable, c);
  if (rc != 0) {
    free(c);
    http_reply_error(req, rep, rc == STORE_ECONFLICT ? ERR_CONFLICT : ERR_STORE_FAILED, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, c);
  return HTTP_SUSPEND;
}
