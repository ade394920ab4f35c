/* POST /api/instances {name}: a new instance for the caller (stopped, no bot yet). */
#include <string.h>
#include <sys/time.h>

#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "portal/auth.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "store/store.h"

static const struct jspec_field fields[] = {
    {"name", JSPEC_STRING, 0, 1, 80, NULL},
};

struct count {
  const char *owner;
  size_t n;
};

static int count_own(const char *id, const json_t *rec, void *arg) {
  (void)id;
  struct count *c = arg;
  const char *o = json_string_value(json_object_get(rec, "ownerId"));
  if (o && !strcmp(o, c->owner) && !json_object_get(rec, "deletedAt"))
    c->n++;
  return 0;
}

enum http_result portal_post_instances(struct http_request *req, struct http_reply *rep) {
  struct jspec_error e;
  if (jspec_check(req->json, fields, 1, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const struct portal_user *u = portal_user_of(req);
  struct count c = {u->id, 0};
  store_foreach(astra.store, STORE_INSTANCES, NULL, count_own, &c);
  if (c.n >= PORTAL_MAX_INSTANCES) {
    http_reply_error(req, rep, ERR_CONFLICT, NULL,
                     strcmp(req->locale, "en") ? "Limite de instâncias atingido."
                                               : "Instance limit reached.");
    return HTTP_DONE;
  }
  char id[37];
  crypto_uuid(id);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  json_t *rec = json_pack("{s:s, s:s, s:O, s:s, s:I, s:{}}", "id", id, "ownerId", u->id, "name",
                          json_object_get(req->json, "name"), "desiredState", "stopped",
                          "createdAt", (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000,
                          "settings");
  return portal_commit_instance(req, rep, id, rec, 201);
}
