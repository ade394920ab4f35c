/* GET /api/status: what an operator checks first. Version, phase, uptime, the store's state
 * and counters, memory, and how many records each collection holds. */
#include "admin/admin.h"
#include "core/app.h"
#include "discord/interactions.h"
#include "discord/gateway.h"
#include "http/httpd.h"
#include "runtime/runtime.h"
#include "store/store.h"

static int count_scope(const char *scope, void *arg) {
  json_t *per = arg;
  (void)scope;
  json_object_set_new(per, "scopes", json_integer(json_integer_value(json_object_get(per, "scopes")) + 1));
  return 0;
}

enum http_result admin_get_api_status(struct http_request *req, struct http_reply *rep) {
  (void)req;
  uint64_t rss, peak;
  app_memory(&rss, &peak);
  json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "version", ASTRA_VERSION, "phase",
                        app_phase_name(astra.phase), "uptime_s", (json_int_t)app_uptime_s(),
                        "started_at", (json_int_t)astra.started_at);
  json_object_set_new(j, "memory", json_pack("{s:I, s:I}", "rss_bytes", (json_int_t)rss,
                                             "peak_rss_bytes", (json_int_t)peak));
  json_t *store = json_object();
  if (astra.store) {
    struct store_stats st;
    store_stats(astra.store, &st);
    json_object_set_new(store, "state", json_string(store_state_name(st.state)));
    json_object_set_new(store, "seq", json_integer((json_int_t)st.seq));
    json_object_set_new(store, "durable_seq", json_integer((json_int_t)st.durable_seq));
    json_object_set_new(store, "commits", json_integer((json_int_t)st.commits));
    json_object_set_new(store, "fsyncs", json_integer((json_int_t)st.fsyncs));
    json_object_set_new(store, "journal_bytes", json_integer((json_int_t)st.journal_bytes));
    json_object_set_new(store, "checkpoints", json_integer((json_int_t)st.checkpoints));
    json_object_set_new(store, "dirty_files", json_integer(st.dirty_files));
    json_object_set_new(store, "files", json_integer(st.files));
    json_object_set_new(store, "records", json_integer((json_int_t)st.records));
    if (st.last_error)
      json_object_set_new(store, "last_error", json_string(st.last_error));
    json_t *counts = json_object();
    for (int c = 0; c < STORE_COLL_COUNT; c++) {
      if (store_coll_scoped(c)) {
        json_t *per = json_pack("{s:i}", "scopes", 0);
        store_foreach_scope(astra.store, c, count_scope, per);
        json_object_set_new(counts, store_coll_name(c), per);
      } else {
        json_object_set_new(counts, store_coll_name(c),
                            json_integer((json_int_t)store_count(astra.store, c, NULL)));
      }
    }
    json_object_set_new(j, "counts", counts);
  } else {
    json_object_set_new(store, "state", json_string("absent"));
  }
  json_object_set_new(j, "store", store);
  unsigned counts[5];
  runtime_counts(counts);
  json_t *bots = json_object();
  for (int st = 0; st < 5; st++)
    json_object_set_new(bots, rt_status_name((enum rt_status)st), json_integer(counts[st]));
  json_object_set_new(bots, "gatewaySessions", json_integer(gw_sessions()));
  json_object_set_new(bots, "interactionsInFlight", json_integer(ix_inflight()));
  struct ix_latency lat;
  ix_latency_stats(&lat);
  json_object_set_new(bots, "interactionLatencyUs",
                      json_pack("{s:I, s:i, s:i, s:i, s:i}", "count", (json_int_t)lat.count,
                                "p50", lat.p50_us, "p90", lat.p90_us, "p99", lat.p99_us, "max",
                                lat.max_us));
  json_object_set_new(j, "bots", bots);
  json_object_set_new(
      j, "http",
      json_pack("{s:{s:I, s:i}, s:{s:I, s:i}}", "portal", "requests",
                (json_int_t)(astra.portal ? http_server_requests(astra.portal) : 0), "inflight",
                astra.portal ? (int)http_server_inflight(astra.portal) : 0, "admin", "requests",
                (json_int_t)(astra.admin ? http_server_requests(astra.admin) : 0), "inflight",
                astra.admin ? (int)http_server_inflight(astra.admin) : 0));
  http_reply_json(rep, 200, j);
  return HTTP_DONE;
}
