/* GET /api/instances: the caller's instances (deleted ones left out), with live status. */
#include <string.h>

#include "core/app.h"
#include "portal/auth.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "store/store.h"

struct collect {
  const char *owner;
  json_t *list;
};

static int add_own(const char *id, const json_t *rec, void *arg) {
  struct collect *c = arg;
  const char *owner = json_string_value(json_object_get(rec, "ownerId"));
  if (owner && !strcmp(owner, c->owner) && !json_object_get(rec, "deletedAt"))
    json_array_append_new(c->list, portal_instance_json(id, rec));
  return 0;
}

enum http_result portal_get_instances(struct http_request *req, struct http_reply *rep) {
  struct collect c = {portal_user_of(req)->id, json_array()};
  store_foreach(astra.store, STORE_INSTANCES, NULL, add_own, &c);
  http_reply_json(rep, 200, json_pack("{s:o}", "instances", c.list));
  return HTTP_DONE;
}
