/* GET /api/instances: every instance with its live status, for operators. Never the token:
 * only the bot's public identity. */
#include <string.h>

#include "admin/admin.h"
#include "core/app.h"
#include "runtime/runtime.h"
#include "store/store.h"

static const char *const shown[] = {"id", "name", "ownerId", "botId", "botName",
                                     "applicationId", "guildId", "desiredState", "platform",
                                     "createdAt", "deletedAt", NULL};

json_t *admin_instance_json(const char *id, const json_t *rec) {
  json_t *j = json_object();
  for (const char *const *f = shown; *f; f++) {
    json_t *v = json_object_get(rec, *f);
    if (v)
      json_object_set(j, *f, v);
  }
  json_object_set_new(j, "id", json_string(id));
  struct rt_info info;
  runtime_info(id, &info);
  json_object_set_new(j, "status", json_string(rt_status_name(info.status)));
  json_object_set_new(j, "lastError", info.last_error[0] ? json_string(info.last_error) : json_null());
  json_object_set_new(j, "latencyMs", info.latency_ms >= 0 ? json_integer(info.latency_ms) : json_null());
  json_object_set_new(j, "reconnects", json_integer(info.reconnects));
  json_object_set_new(j, "onlineSince", info.online_since ? json_integer((json_int_t)info.online_since) : json_null());
  json_object_set_new(j, "gatewayState", json_string(info.gateway_state));
  return j;
}

static int add(const char *id, const json_t *rec, void *arg) {
  json_array_append_new(arg, admin_instance_json(id, rec));
  return 0;
}

enum http_result admin_get_api_instances(struct http_request *req, struct http_reply *rep) {
  (void)req;
  json_t *list = json_array();
  store_foreach(astra.store, STORE_INSTANCES, NULL, add, list);
  http_reply_json(rep, 200, json_pack("{s:o}", "instances", list));
  return HTTP_DONE;
}
