/* PUT /api/log-level {"level":"debug"|"info"|"warn"|"error"}: changes the log level of the
 * running daemon until the next restart (LOG_LEVEL sets it at start), so an operator can
 * look closer at a problem without a restart that would drop every bot's session. */
#include "admin/admin.h"
#include "core/config.h"
#include "core/app.h"
#include "core/jspec.h"
#include "core/log.h"

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const struct jspec_field fields[] = {
    {"level", JSPEC_ENUM, 0, 0, 0, levels},
};

enum http_result admin_put_api_log_level(struct http_request *req, struct http_reply *rep) {
  struct jspec_error e;
  if (jspec_check(req->json, fields, 1, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *level = json_string_value(json_object_get(req->json, "level"));
  int l = log_level_parse(level);
  log_set_level((enum log_level)l);
  astra.cfg->log_level = (enum log_level)l;
  http_log(req, LOG_WARN, "log level set to %s by an operator", level);
  http_reply_json(rep, 200, json_pack("{s:s}", "level", level));
  return HTTP_DONE;
}
