/* GET /health: for load balancers and container health checks. 200 with status "ok" once the
 * daemon is running and its store can write; 503 while starting, stopping, or after the
 * store has failed (so an orchestrator restarts or drains it). */
#include "core/app.h"
#include "portal/portal.h"
#include "store/store.h"

enum http_result portal_get_health(struct http_request *req, struct http_reply *rep) {
  (void)req;
  struct store_stats st = {0};
  if (astra.store)
    store_stats(astra.store, &st);
  const char *status = "ok";
  unsigned code = 200;
  if (astra.phase != APP_RUNNING) {
    status = app_phase_name(astra.phase);
    code = 503;
  } else if (!astra.store || st.state != STORE_OK) {
    status = "store_failed";
    code = 503;
  }
  http_reply_json(rep, code,
                  json_pack("{s:s, s:s, s:I}", "status", status, "version", ASTRA_VERSION,
                            "uptime_s", (json_int_t)app_uptime_s()));
  return HTTP_DONE;
}
