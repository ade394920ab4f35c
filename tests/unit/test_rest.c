/* Unit tests for the Discord REST client (src/discord/rest.c). A libmicrohttpd server in this
 * process (a thread per connection) plays Discord under /api/v10: per-route rate-limit
 * headers with a real window (limit 2 per 0.3 s, shared by two routes, per token and channel),
 * 429s (route and global), 5xx, 401, 403, Discord error bodies, slow answers, and it counts
 * every request it sees and every request that arrives while its bucket is empty (a
 * "violation": the client should have waited). The client runs on a private uv loop (set as
 * astra.loop, with net_init on it), driven by uv_run here. Each test ends with
 * rest_global_shutdown, net_shutdown and a uv_loop_close that must succeed. */
#include "core/app.h"
#include "core/log.h"
#include "discord/rest.h"
#include "harness.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define UA "DiscordBot (https://github.com/astra, 0.1.0)"
#define TOKEN_A "tokenA.secret-111111"
#define TOKEN_B "tokenB.secret-222222"
#define RL_LIMIT 2
#define RL_WINDOW 0.3 /* seconds */

/* ---- the fake Discord ---- */

static struct MHD_Daemon *server;
static char base_url[96];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

enum route_id {
  R_ECHO,
  R_MESSAGES, /* GET /channels/{id}/messages and /pins: bucket "msgs" */
  R_CH55,     /* POST /channels/55/messages: captured */
  R_RATELIMITED,
  R_GLOBAL429,
  R_OTHER,
  R_FLAKY,
  R_POST500,
  R_POST500ONCE,
  R_UNAUTHORIZED,
  R_FORBIDDEN,
  R_DM,
  R_SLOW,
  R_CALLBACK,
  R_WEBHOOK,
  R_SHARED429,
  R_COUNT
};

#define MAX_TIMES 128

/* Everything below is shared with the server's threads: under mu. */
static int hits[R_COUNT];
static double hit_ms[R_COUNT][MAX_TIMES]; /* arrival times, monotonic ms */
static int violations;
struct srv_bucket {
  char key[160];
  int remaining;
  double window_end; /* monotonic seconds */
};
static struct srv_bucket sbuckets[32];
static int nsbuckets;
static struct {
  char ctype[256], auth[128];
  char *body;
  size_t len;
} captured;

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* uv_hrtime's clock too */
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void srv_reset(void) {
  pthread_mutex_lock(&mu);
  memset(hits, 0, sizeof hits);
  violations = 0;
  nsbuckets = 0;
  free(captured.body);
  memset(&captured, 0, sizeof captured);
  pthread_mutex_unlock(&mu);
}

static int srv_hits(enum route_id r) {
  pthread_mutex_lock(&mu);
  int n = hits[r];
  pthread_mutex_unlock(&mu);
  return n;
}

static int srv_violations(void) {
  pthread_mutex_lock(&mu);
  int n = violations;
  pthread_mutex_unlock(&mu);
  return n;
}

/* Counts a hit; returns its number (1 for the first). */
static int hit(enum route_id r) {
  pthread_mutex_lock(&mu);
  int n = ++hits[r];
  if (n <= MAX_TIMES)
    hit_ms[r][n - 1] = mono_s() * 1000.0;
  pthread_mutex_unlock(&mu);
  return n;
}

struct upload {
  char *data;
  size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
                             const char *const *headers) {
  size_t len = body ? strlen(body) : 0;
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
  if (body && *body)
    MHD_add_response_header(r, "Content-Type", "application/json");
  for (; headers && headers[0]; headers += 2)
    MHD_add_response_header(r, headers[0], headers[1]);
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static const char *req_header(struct MHD_Connection *conn, const char *name) {
  const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
  return v ? v : "none";
}

/* Discord's per-route limit: RL_LIMIT requests per RL_WINDOW, per token + hash + channel. */
static enum MHD_Result rate_limited_route(struct MHD_Connection *conn, const char *major) {
  char key[160];
  snprintf(key, sizeof key, "%s|msgs|%s", req_header(conn, "Authorization"), major);
  pthread_mutex_lock(&mu);
  struct srv_bucket *b = NULL;
  for (int i = 0; i < nsbuckets; i++)
    if (!strcmp(sbuckets[i].key, key))
      b = &sbuckets[i];
  if (!b && nsbuckets < 32) {
    b = &sbuckets[nsbuckets++];
    snprintf(b->key, sizeof b->key, "%s", key);
    b->window_end = 0;
  }
  double now = mono_s();
  if (now >= b->window_end) {
    b->remaining = RL_LIMIT;
    b->window_end = now + RL_WINDOW;
  }
  /* Never tell the client an earlier reset than the truth (whole ms, rounded up). */
  double after = ceil((b->window_end - now) * 1000.0) / 1000.0;
  char s_after[32], s_reset[32], s_rem[16], s_limit[16];
  snprintf(s_after, sizeof s_after, "%.3f", after);
  snprintf(s_reset, sizeof s_reset, "%.3f", (double)time(NULL) + after + 1);
  snprintf(s_limit, sizeof s_limit, "%d", RL_LIMIT);
  if (b->remaining == 0) {
    violations++;
    pthread_mutex_unlock(&mu);
    char body[128];
    snprintf(body, sizeof body,
             "{\"message\":\"You are being rate limited.\",\"retry_after\":%s,\"global\":false}",
             s_after);
    const char *h[] = {"X-RateLimit-Limit", s_limit, "X-RateLimit-Remaining", "0",
                       "X-RateLimit-Reset-After", s_after, "X-RateLimit-Bucket", "msgs",
                       "X-RateLimit-Scope", "user", "Retry-After", "1", NULL};
    return reply(conn, 429, body, h);
  }
  b->remaining--;
  snprintf(s_rem, sizeof s_rem, "%d", b->remaining);
  pthread_mutex_unlock(&mu);
  const char *h[] = {"X-RateLimit-Limit", s_limit, "X-RateLimit-Remaining", s_rem,
                     "X-RateLimit-Reset-After", s_after, "X-RateLimit-Reset", s_reset,
                     "X-RateLimit-Bucket", "msgs", NULL};
  return reply(conn, 200, "{\"ok\":true}", h);
}

static enum MHD_Result route(struct MHD_Connection *conn, const char *url, const char *method,
                             struct upload *up) {
  if (strncmp(url, "/api/v10/", 9) != 0)
    return reply(conn, 404, "{\"message\":\"404: Not Found\",\"code\":0}", NULL);
  const char *p = url + 8;
  char major[32];

  if (!strcmp(p, "/echo")) {
    hit(R_ECHO);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I}", "auth", req_header(conn, "Authorization"),
                          "ua", req_header(conn, "User-Agent"), "ctype",
                          req_header(conn, "Content-Type"), "method", method, "len",
                          (json_int_t)up->len);
    char *s = json_dumps(j, 0);
    enum MHD_Result ret = reply(conn, 200, s, NULL);
    free(s);
    json_decref(j);
    return ret;
  }
  if (!strcmp(p, "/channels/55/messages") && !strcmp(method, "POST")) {
    hit(R_CH55);
    pthread_mutex_lock(&mu);
    free(captured.body);
    captured.body = malloc(up->len + 1);
    memcpy(captured.body, up->data ? up->data : "", up->len);
    captured.len = up->len;
    snprintf(captured.ctype, sizeof captured.ctype, "%s", req_header(conn, "Content-Type"));
    snprintf(captured.auth, sizeof captured.auth, "%s", req_header(conn, "Authorization"));
    pthread_mutex_unlock(&mu);
    return reply(conn, 200, "{\"id\":\"99\"}", NULL);
  }
  if (sscanf(p, "/channels/%31[0-9]/", major) == 1 && !strcmp(method, "GET")) {
    const char *rest = p + 10 + strlen(major);
    if (!strcmp(rest, "/messages") || !strcmp(rest, "/pins")) {
      hit(R_MESSAGES);
      return rate_limited_route(conn, major);
    }
  }
  if (!strcmp(p, "/ratelimited")) {
    if (hit(R_RATELIMITED) == 1) {
      const char *h[] = {"X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "0",
                         "X-RateLimit-Reset-After", "0.300", "X-RateLimit-Bucket", "rl",
                         "X-RateLimit-Scope", "user", "Retry-After", "1", NULL};
      return reply(conn, 429,
                   "{\"message\":\"You are being rate limited.\",\"retry_after\":0.3,"
                   "\"global\":false}",
                   h);
    }
    const char *h[] = {"X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "4",
                       "X-RateLimit-Reset-After", "1.000", "X-RateLimit-Bucket", "rl", NULL};
    return reply(conn, 200, "{\"ok\":true}", h);
  }
  if (!strcmp(p, "/global429")) {
    if (hit(R_GLOBAL429) == 1) {
      const char *h[] = {"X-RateLimit-Global", "true", "X-RateLimit-Scope", "global",
                         "Retry-After", "1", NULL};
      return reply(conn, 429,
                   "{\"message\":\"You are being rate limited.\",\"retry_after\":0.6,"
                   "\"global\":true}",
                   h);
    }
    return reply(conn, 200, "{\"ok\":true}", NULL);
  }
  if (!strcmp(p, "/shared429")) {
    if (hit(R_SHARED429) == 1) {
      const char *h[] = {"X-RateLimit-Scope", "shared", "Retry-After", "1", NULL};
      return reply(conn, 429,
                   "{\"message\":\"You are being rate limited.\",\"retry_after\":0.1,"
                   "\"global\":false}",
                   h);
    }
    return reply(conn, 200, "{\"ok\":true}", NULL);
  }
  if (!strcmp(p, "/other")) {
    hit(R_OTHER);
    return reply(conn, 200, "{\"ok\":true}", NULL);
  }
  if (!strcmp(p, "/flaky"))
    return hit(R_FLAKY) <= 2 ? reply(conn, 502, "<html>bad gateway</html>", NULL)
                             : reply(conn, 200, "{\"ok\":true}", NULL);
  if (!strcmp(p, "/post500")) {
    hit(R_POST500);
    return reply(conn, 500, "{\"message\":\"500: Internal Server Error\",\"code\":0}", NULL);
  }
  if (!strcmp(p, "/post500once"))
    return hit(R_POST500ONCE) == 1 ? reply(conn, 503, NULL, NULL)
                                   : reply(conn, 200, "{\"id\":\"1\"}", NULL);
  if (!strcmp(p, "/unauthorized")) {
    hit(R_UNAUTHORIZED);
    return reply(conn, 401, "{\"message\":\"401: Unauthorized\",\"code\":0}", NULL);
  }
  if (!strcmp(p, "/forbidden")) {
    hit(R_FORBIDDEN);
    return reply(conn, 403, "{\"message\":\"Missing Permissions\",\"code\":50013}", NULL);
  }
  if (!strcmp(p, "/dm")) {
    hit(R_DM);
    return reply(conn, 400, "{\"message\":\"Cannot send messages to this user\",\"code\":50007}",
                 NULL);
  }
  if (!strcmp(p, "/slow")) {
    hit(R_SLOW);
    usleep(300 * 1000);
    return reply(conn, 200, "{\"ok\":true}", NULL);
  }
  if (!strncmp(p, "/interactions/", 14) && !strcmp(method, "POST")) {
    hit(R_CALLBACK);
    if (!strncmp(p, "/interactions/500/", 18))
      return reply(conn, 500, NULL, NULL);
    return reply(conn, 204, NULL, NULL);
  }
  if (!strcmp(p, "/webhooks/1/expired-token/messages/@original")) {
    hit(R_WEBHOOK);
    return reply(conn, 401, "{\"message\":\"Invalid Webhook Token\",\"code\":50027}", NULL);
  }
  return reply(conn, 404, "{\"message\":\"404: Not Found\",\"code\":0}", NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  struct upload *up = *con_cls;
  if (!up) {
    up = calloc(1, sizeof *up);
    *con_cls = up;
    return up ? MHD_YES : MHD_NO;
  }
  if (*upload_size) {
    char *d = realloc(up->data, up->len + *upload_size);
    if (!d)
      return MHD_NO;
    memcpy(d + up->len, upload_data, *upload_size);
    up->data = d;
    up->len += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  return route(conn, url, method, up);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  struct upload *up = *con_cls;
  if (up) {
    free(up->data);
    free(up);
  }
  *con_cls = NULL;
}

static void stop_everything(void) {
  if (server)
    MHD_stop_daemon(server);
  server = NULL;
  free(captured.body);
  captured.body = NULL;
  curl_global_cleanup();
}

static int prepare(void) {
  if (server)
    return 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  atexit(stop_everything);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
  if (!server)
    return -1;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(server, MHD_DAEMON_INFO_BIND_PORT);
  if (!info || !info->port)
    return -1;
  /* A trailing slash on purpose: the client must not send "//". */
  snprintf(base_url, sizeof base_url, "http://127.0.0.1:%u/api/v10/", info->port);
  return 0;
}

/* ---- driving the client ---- */

static uv_loop_t loop;
static uv_timer_t watchdog;
static int watchdog_fired;
static int done_count;

struct res {
  int called;
  int error;
  long status;
  int code;
  unsigned attempts;
  int has_body;
  char msg[300];
  char body[512];
  double at_ms; /* when the callback ran, monotonic ms */
  struct rest_call *call;
};

static double now_ms(void) { return mono_s() * 1000.0; }

static void on_res(const struct rest_result *r, void *arg) {
  struct res *res = arg;
  res->called++;
  res->error = r->error;
  res->status = r->status;
  res->code = r->code;
  res->attempts = r->attempts;
  res->has_body = r->body != NULL;
  snprintf(res->msg, sizeof res->msg, "%s", r->error_msg ? r->error_msg : "");
  char *s = r->body ? json_dumps(r->body, JSON_COMPACT) : NULL;
  snprintf(res->body, sizeof res->body, "%s", s ? s : "");
  free(s);
  res->at_ms = now_ms();
  done_count++;
  uv_stop(&loop);
}

static void on_watchdog(uv_timer_t *t) {
  (void)t;
  watchdog_fired = 1;
}

/* Runs the loop until want callbacks ran in all, or ms passed. */
static void run_until_done(int want, unsigned ms) {
  watchdog_fired = 0;
  uv_update_time(&loop);
  uv_timer_start(&watchdog, on_watchdog, ms, 0);
  while (done_count < want && !watchdog_fired)
    uv_run(&loop, UV_RUN_ONCE);
  uv_timer_stop(&watchdog);
}

static void run_for(unsigned ms) { run_until_done(1 << 30, ms); }

static int setup(void) {
  if (prepare() != 0)
    return -1;
  srv_reset();
  done_count = 0;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &watchdog);
  astra.loop = &loop;
  if (net_init(&loop, "astrad-net-default-ua", NULL) != 0)
    return -1;
  return rest_global_init(base_url, UA);
}

static int teardown(void) {
  rest_global_shutdown();
  net_shutdown();
  uv_close((uv_handle_t *)&watchdog, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  astra.loop = NULL;
  return uv_loop_close(&loop);
}

static struct rest_call *get(struct rest_client *c, const char *path, struct res *res) {
  res->call = rest_request(c, "GET", path, NULL, 0, on_res, res);
  return res->call;
}

static json_t *jparse(const char *s) { return json_loads(s, 0, NULL); }

/* ---- tests ---- */

TEST(headers_status_and_body) {
  struct res post = {0}, get_res = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  struct rest_call *call = c ? rest_request(c, "POST", "/echo", jparse("{\"a\":1}"), 0, on_res,
                                            &post)
                             : NULL;
  int sync = post.called;
  if (c)
    get(c, "echo", &get_res); /* no leading slash: the client adds it */
  run_until_done(2, 5000);
  json_t *pb = jparse(post.body), *gb = jparse(get_res.body);
  const char *p_auth = json_string_value(json_object_get(pb, "auth"));
  const char *p_ua = json_string_value(json_object_get(pb, "ua"));
  const char *p_ct = json_string_value(json_object_get(pb, "ctype"));
  long long p_len = json_integer_value(json_object_get(pb, "len"));
  char g_ct[64], g_method[16];
  snprintf(g_ct, sizeof g_ct, "%s", json_string_value(json_object_get(gb, "ctype")));
  snprintf(g_method, sizeof g_method, "%s", json_string_value(json_object_get(gb, "method")));
  char a[96], u[96], ct[96];
  snprintf(a, sizeof a, "%s", p_auth ? p_auth : "(none)");
  snprintf(u, sizeof u, "%s", p_ua ? p_ua : "(none)");
  snprintf(ct, sizeof ct, "%s", p_ct ? p_ct : "(none)");
  json_decref(pb);
  json_decref(gb);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK(call != NULL);
  CHECK_INT(sync, 0);
  CHECK_INT(post.called, 1);
  CHECK_INT(post.error, REST_OK);
  CHECK_INT(post.status, 200);
  CHECK_INT(post.attempts, 1);
  CHECK_INT(post.code, 0);
  CHECK_STR(post.msg, ""); /* no error_msg on success */
  CHECK_STR(a, "Bot " TOKEN_A);
  CHECK_STR(u, UA);
  CHECK_STR(ct, "application/json");
  CHECK_INT(p_len, 7); /* {"a":1} */
  CHECK_INT(get_res.status, 200);
  CHECK_STR(g_method, "GET");
  CHECK_STR(g_ct, "none"); /* no body, no Content-Type */
  CHECK_INT(closed, 0);
}

TEST(route_keys) {
  static const struct {
    const char *method, *path, *key;
  } cases[] = {
      {"POST", "/channels/123/messages", "POST /channels/123/messages"},
      {"PATCH", "/channels/123/messages/456", "PATCH /channels/123/messages/{id}"},
      {"GET", "/channels/123/messages?limit=50&before=9", "GET /channels/123/messages"},
      {"PUT", "/channels/123/thread-members/77", "PUT /channels/123/thread-members/{id}"},
      {"PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me",
       "PUT /channels/1/messages/{id}/reactions/%F0%9F%91%8D/@me"},
      {"POST", "/channels/123/threads", "POST /channels/123/threads"},
      {"GET", "/users/@me", "GET /users/@me"},
      {"POST", "/users/@me/channels", "POST /users/@me/channels"},
      {"GET", "/users/555", "GET /users/{id}"},
      {"GET", "/gateway/bot", "GET /gateway/bot"},
      {"GET", "/guilds/9/members/8", "GET /guilds/9/members/{id}"},
      {"POST", "/guilds/9/channels", "POST /guilds/9/channels"},
      {"PATCH", "/webhooks/111/aBc_tok-EN/messages/@original",
       "PATCH /webhooks/111/aBc_tok-EN/messages/@original"},
      {"DELETE", "/webhooks/111/tok/messages/222", "DELETE /webhooks/111/tok/messages/{id}"},
      {"POST", "/webhooks/111/tok?wait=true", "POST /webhooks/111/tok"},
      {"POST", "/interactions/999/very-secret-token/callback",
       "POST /interactions/{id}/{token}/callback"},
      {"POST", "/interactions/1/t/callback?with_response=true",
       "POST /interactions/{id}/{token}/callback"},
      {"PUT", "/applications/5/guilds/6/commands", "PUT /applications/{id}/guilds/{id}/commands"},
      {"PUT", "/applications/5/commands", "PUT /applications/{id}/commands"},
      {"GET", "/channels/abc/messages", "GET /channels/abc/messages"},
      {"GET", "", "GET /"},
      {"GET", "//?x=1", "GET /"},
  };
  char out[256];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rest_route_key(cases[i].method, cases[i].path, out, sizeof out);
    CHECK_STR(out, cases[i].key);
  }
  char small[12];
  rest_route_key("POST", "/channels/123/messages", small, sizeof small);
  CHECK_STR(small, "POST /chann"); /* cut short, still terminated */
}

TEST(bucket_burst_is_paced) {
  struct res res[6] = {{0}};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  double start = now_ms();
  for (int i = 0; c && i < 6; i++)
    get(c, "/channels/7/messages", &res[i]);
  run_until_done(6, 10000);
  double last = 0;
  int ok = 0;
  for (int i = 0; i < 6; i++) {
    ok += res[i].called == 1 && res[i].status == 200 && res[i].attempts == 1;
    if (res[i].at_ms > last)
      last = res[i].at_ms;
  }
  struct rest_stats st;
  rest_global_stats(&st);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(ok, 6);
  CHECK_INT(srv_violations(), 0);
  CHECK_INT(srv_hits(R_MESSAGES), 6); /* no 429 had to be retried */
  /* 2 per window: the 5th and 6th cannot be answered before two windows have passed. */
  CHECK(last - start >= 2 * RL_WINDOW * 1000);
  /* The server's X-RateLimit-Reset is a second later than its Reset-After: the client went by
   * Reset-After (waiting for Reset would take over 2.6 s). */
  CHECK(last - start < 1500);
  CHECK_INT(st.buckets, 1);
  CHECK_INT(st.queued, 0);
  CHECK_INT(st.rate_limited, 0);
  CHECK_INT(closed, 0);
}

TEST(routes_sharing_a_bucket_share_its_limit) {
  struct res learn1 = {0}, learn2 = {0}, res[6] = {{0}};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  /* Discord names the bucket on each route's first answer. */
  if (c)
    get(c, "/channels/8/messages", &learn1);
  run_until_done(1, 5000);
  if (c)
    get(c, "/channels/8/pins", &learn2);
  run_until_done(2, 5000);
  struct rest_stats st;
  rest_global_stats(&st);
  for (int i = 0; c && i < 6; i++)
    get(c, i % 2 ? "/channels/8/pins" : "/channels/8/messages", &res[i]);
  run_until_done(8, 10000);
  int ok = 0;
  for (int i = 0; i < 6; i++)
    ok += res[i].called == 1 && res[i].status == 200;
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(learn1.status, 200);
  CHECK_INT(learn2.status, 200);
  CHECK_INT(st.buckets, 1); /* both keys now point at "msgs:8" */
  CHECK_INT(ok, 6);
  CHECK_INT(srv_violations(), 0);
  CHECK_INT(srv_hits(R_MESSAGES), 8);
  CHECK_INT(closed, 0);
}

TEST(buckets_are_per_channel_and_per_token) {
  struct res l20 = {0}, l21 = {0}, a20 = {0}, a21 = {0}, b20 = {0};
  int rc = setup();
  struct rest_client *ca = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  struct rest_client *cb = rc == 0 ? rest_client_new(TOKEN_B, "inst-b") : NULL;
  /* One answer each: channels 20 and 21 share the hash "msgs" but not the bucket, so each
   * has one request left in its window. */
  if (ca)
    get(ca, "/channels/20/messages", &l20);
  run_until_done(1, 5000);
  if (ca)
    get(ca, "/channels/21/messages", &l21);
  run_until_done(2, 5000);
  double t0 = now_ms();
  if (ca && cb) {
    get(ca, "/channels/20/messages", &a20);
    get(ca, "/channels/21/messages", &a21);
    get(cb, "/channels/20/messages", &b20); /* another token: its own buckets */
  }
  run_until_done(5, 5000);
  double slowest = a20.at_ms;
  if (a21.at_ms > slowest)
    slowest = a21.at_ms;
  if (b20.at_ms > slowest)
    slowest = b20.at_ms;
  rest_client_free(ca);
  rest_client_free(cb);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(a20.status, 200);
  CHECK_INT(a21.status, 200);
  CHECK_INT(b20.status, 200);
  CHECK(slowest - t0 < 200); /* nobody waited for a window (300 ms) to pass */
  CHECK_INT(srv_violations(), 0);
  CHECK_INT(closed, 0);
}

TEST(route_429_is_retried_after_retry_after) {
  struct res res = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  double start = now_ms();
  if (c)
    get(c, "/ratelimited", &res);
  run_until_done(1, 5000);
  struct rest_stats st;
  rest_global_stats(&st);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 2);
  CHECK_INT(srv_hits(R_RATELIMITED), 2);
  /* retry_after 0.3 from the body (the header's whole second is only a rounding). */
  CHECK(res.at_ms - start >= 300);
  CHECK(res.at_ms - start < 900);
  CHECK_INT(st.rate_limited, 1);
  CHECK_INT(st.retries, 1);
  CHECK_INT(st.invalid_window, 1); /* a user-scope 429 counts */
  CHECK_INT(closed, 0);
}

TEST(shared_scope_429_is_retried_but_not_counted) {
  struct res res = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (c)
    get(c, "/shared429", &res);
  run_until_done(1, 5000);
  struct rest_stats st;
  rest_global_stats(&st);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 2);
  CHECK_INT(st.rate_limited, 1);
  CHECK_INT(st.invalid_window, 0); /* Discord does not count shared-scope 429s against us */
  CHECK_INT(closed, 0);
}

/* Runs the loop until the client saw `n` 429s. */
static void run_until_rate_limited(uint64_t n, unsigned ms) {
  watchdog_fired = 0;
  uv_update_time(&loop);
  uv_timer_start(&watchdog, on_watchdog, ms, 0);
  struct rest_stats st;
  rest_global_stats(&st);
  while (st.rate_limited < n && !watchdog_fired) {
    uv_run(&loop, UV_RUN_ONCE);
    rest_global_stats(&st);
  }
  uv_timer_stop(&watchdog);
}

TEST(global_429_pauses_only_that_token) {
  struct res g = {0}, a_other = {0}, b_other = {0};
  int rc = setup();
  struct rest_client *ca = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  struct rest_client *cb = rc == 0 ? rest_client_new(TOKEN_B, "inst-b") : NULL;
  double t429 = 0, t_send = 0;
  if (ca)
    get(ca, "/global429", &g);
  run_until_rate_limited(1, 5000);
  t429 = now_ms();
  if (ca && cb) {
    t_send = now_ms();
    get(ca, "/other", &a_other);
    get(cb, "/other", &b_other);
  }
  run_until_done(3, 5000);
  rest_client_free(ca);
  rest_client_free(cb);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(g.status, 200);
  CHECK_INT(g.attempts, 2);
  CHECK_INT(a_other.status, 200);
  CHECK_INT(b_other.status, 200);
  CHECK(b_other.at_ms - t_send < 300);    /* another token: not paused */
  CHECK(a_other.at_ms - t429 >= 550);     /* same token, other route: waited out 0.6 s */
  CHECK(a_other.at_ms > b_other.at_ms);
  CHECK_INT(srv_hits(R_OTHER), 2);
  CHECK_INT(closed, 0);
}

TEST(global_pace_is_50_per_second_except_callbacks) {
  enum { N = 60 };
  struct res *res = calloc(N, sizeof *res), *cbs = calloc(N, sizeof *cbs);
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  double start = now_ms();
  for (int i = 0; c && i < N; i++) {
    char path[64];
    snprintf(path, sizeof path, "/interactions/%d/tok%d/callback", 1000 + i, i);
    rest_request(c, "POST", path, jparse("{\"type\":6}"), 0, on_res, &cbs[i]);
  }
  run_until_done(N, 5000);
  double callbacks_done = now_ms() - start;
  int cb_ok = 0;
  for (int i = 0; i < N; i++)
    cb_ok += cbs[i].status == 204;
  done_count = 0;
  srv_reset();
  for (int i = 0; c && i < N; i++)
    get(c, "/other", &res[i]);
  run_until_done(N, 10000);
  int ok = 0;
  for (int i = 0; i < N; i++)
    ok += res[i].status == 200;
  pthread_mutex_lock(&mu);
  double first = hit_ms[R_OTHER][0], fifty_first = hit_ms[R_OTHER][50];
  pthread_mutex_unlock(&mu);
  rest_client_free(c);
  int closed = teardown();
  free(res);
  free(cbs);
  CHECK_INT(rc, 0);
  CHECK_INT(cb_ok, N);
  /* The callbacks of 60 interactions (sent after the 60 GETs' pacing ring was empty) did
   * not wait for the global pace. */
  CHECK(callbacks_done < 1000);
  CHECK_INT(ok, N);
  CHECK_INT(srv_hits(R_OTHER), N);
  /* The 51st request went a second after the 1st (which may have taken a moment to
   * arrive: hence the slack). */
  CHECK(fifty_first - first >= 950);
  CHECK_INT(closed, 0);
}

TEST(server_errors_retried_only_when_safe) {
  struct res g = {0}, p = {0}, pu = {0}, cb = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  double start = now_ms();
  if (c) {
    get(c, "/flaky", &g);
    rest_request(c, "POST", "/post500", jparse("{\"x\":1}"), 0, on_res, &p);
    rest_request(c, "POST", "/post500once", jparse("{\"x\":1}"), REST_RETRY_UNSAFE, on_res,
                 &pu);
    rest_request(c, "POST", "/interactions/500/tok/callback", jparse("{\"type\":6}"),
                 REST_RETRY_UNSAFE, on_res, &cb);
  }
  run_until_done(4, 10000);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(g.status, 200);
  CHECK_INT(g.attempts, 3);
  CHECK_INT(srv_hits(R_FLAKY), 3);
  /* Backoff: 250-500 ms, then 500-1000 ms. */
  CHECK(g.at_ms - start >= 750);
  CHECK_INT(p.status, 500);
  CHECK_INT(p.attempts, 1);
  CHECK_INT(srv_hits(R_POST500), 1);
  CHECK(strstr(p.msg, "HTTP 500") != NULL);
  CHECK_INT(pu.status, 200);
  CHECK_INT(pu.attempts, 2);
  CHECK_INT(cb.status, 500); /* a callback is never repeated on 5xx, flag or not */
  CHECK_INT(cb.attempts, 1);
  CHECK_INT(closed, 0);
}

static unsigned closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  socklen_t len = sizeof sa;
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

TEST(connection_errors_retried_only_when_safe) {
  struct res g = {0}, p = {0};
  int rc = setup();
  char dead[64];
  snprintf(dead, sizeof dead, "http://127.0.0.1:%u/api/v10", closed_port());
  rest_global_shutdown();
  int rc2 = rc == 0 ? rest_global_init(dead, UA) : -1;
  struct rest_client *c = rc2 == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (c) {
    get(c, "/users/@me", &g);
    rest_request(c, "POST", "/channels/1/messages", jparse("{\"content\":\"x\"}"), 0, on_res,
                 &p);
  }
  run_until_done(2, 10000);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(rc2, 0);
  CHECK_INT(g.error, REST_ENET);
  CHECK_INT(g.status, 0);
  CHECK_INT(g.attempts, 4); /* 1 + 3 retries */
  CHECK(strstr(g.msg, "no answer from Discord") != NULL);
  CHECK_INT(p.error, REST_ENET);
  CHECK_INT(p.attempts, 1);
  CHECK_INT(closed, 0);
}

static int unauthorized_calls;
static struct rest_client *hook_client;
/* Records whether the client is already quarantined when its owner hears of it. */
static void on_unauthorized(void *arg) {
  unauthorized_calls++;
  *(int *)arg = rest_client_quarantined(hook_client);
}

TEST(unauthorized_quarantines_only_that_client) {
  struct res q[3] = {{0}}, later = {0}, other = {0}, hook = {0};
  int flag = 0;
  unauthorized_calls = 0;
  int rc = setup();
  struct rest_client *ca = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  struct rest_client *cb = rc == 0 ? rest_client_new(TOKEN_B, "inst-b") : NULL;
  hook_client = ca;
  if (ca) {
    rest_client_on_unauthorized(ca, on_unauthorized, &flag);
    for (int i = 0; i < 3; i++) /* one route: the 2nd and 3rd wait for the 1st answer */
      get(ca, "/unauthorized", &q[i]);
  }
  run_until_done(3, 5000);
  int quarantined = rest_client_quarantined(ca);
  if (ca)
    get(ca, "/other", &later);
  int later_sync = later.called;
  if (cb) {
    get(cb, "/other", &other);
    /* A 401 about an interaction token (older than 15 min) is not about the bot token. */
    rest_request(cb, "PATCH", "/webhooks/1/expired-token/messages/@original",
                 jparse("{\"content\":\"x\"}"), 0, on_res, &hook);
  }
  run_until_done(6, 5000);
  int b_quarantined = rest_client_quarantined(cb);
  struct rest_stats st;
  rest_global_stats(&st);
  rest_client_free(ca);
  rest_client_free(cb);
  int closed = teardown();
  CHECK_INT(rc, 0);
  for (int i = 0; i < 3; i++) {
    CHECK_INT(q[i].called, 1);
    CHECK_INT(q[i].error, REST_EQUARANTINED);
    CHECK_INT(q[i].status, 0);
  }
  CHECK_INT(q[0].attempts, 1);
  CHECK_INT(q[1].attempts, 0);
  CHECK_INT(srv_hits(R_UNAUTHORIZED), 1);
  CHECK_INT(unauthorized_calls, 1);
  CHECK_INT(flag, 1);
  CHECK_INT(quarantined, 1);
  CHECK_INT(later_sync, 0);
  CHECK_INT(later.called, 1);
  CHECK_INT(later.error, REST_EQUARANTINED);
  CHECK_INT(later.attempts, 0);
  CHECK_INT(other.status, 200);
  CHECK_INT(srv_hits(R_OTHER), 1); /* only token B's */
  CHECK_INT(hook.status, 401);
  CHECK_INT(hook.code, 50027);
  CHECK_INT(b_quarantined, 0);
  CHECK_INT(st.invalid_window, 2);
  CHECK_INT(closed, 0);
}

static struct rest_client *freed_in_hook;
static void free_on_unauthorized(void *arg) {
  (void)arg;
  rest_client_free(freed_in_hook);
  freed_in_hook = NULL;
}

TEST(client_can_be_freed_from_its_unauthorized_hook) {
  struct res q[2] = {{0}}, o = {0};
  int rc = setup();
  freed_in_hook = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (freed_in_hook) {
    rest_client_on_unauthorized(freed_in_hook, free_on_unauthorized, NULL);
    get(freed_in_hook, "/unauthorized", &q[0]);
    get(freed_in_hook, "/unauthorized", &q[1]);
    get(freed_in_hook, "/slow", &o); /* in flight when the 401 lands */
  }
  run_until_done(3, 5000);
  run_for(500); /* past /slow's answer: nothing more may happen */
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK(freed_in_hook == NULL);
  CHECK_INT(q[0].called, 1);
  CHECK_INT(q[1].called, 1);
  CHECK_INT(o.called, 1);
  CHECK_INT(q[0].error, REST_EQUARANTINED);
  CHECK_INT(o.error, REST_EQUARANTINED);
  CHECK_INT(closed, 0);
}

TEST(invalid_request_throttle) {
  struct res f[4] = {{0}}, refused = {0}, cbk = {0}, again = {0};
  int rc = setup();
  rest_test_set_invalid_limits(3, 2, 1200);
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  for (int i = 0; c && i < 4; i++)
    get(c, "/forbidden", &f[i]);
  run_until_done(4, 5000);
  struct rest_stats st1;
  rest_global_stats(&st1);
  if (c) {
    get(c, "/other", &refused);
    rest_request(c, "POST", "/interactions/1/tok/callback", jparse("{\"type\":6}"), 0, on_res,
                 &cbk);
  }
  int sync = refused.called;
  run_until_done(6, 5000);
  run_for(1400); /* the window forgets the 403s */
  struct rest_stats st2;
  rest_global_stats(&st2);
  if (c)
    get(c, "/other", &again);
  run_until_done(7, 5000);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  for (int i = 0; i < 4; i++) {
    CHECK_INT(f[i].status, 403);
    CHECK_INT(f[i].code, 50013);
  }
  CHECK_INT(st1.invalid_window, 4);
  CHECK_INT(sync, 0);
  CHECK_INT(refused.called, 1);
  CHECK_INT(refused.error, REST_ETHROTTLED);
  CHECK_INT(refused.attempts, 0);
  CHECK_INT(cbk.status, 204); /* interaction callbacks still go */
  CHECK_INT(st2.invalid_window, 0);
  CHECK_INT(again.status, 200);
  CHECK_INT(srv_hits(R_OTHER), 1);
  CHECK_INT(closed, 0);
}

/* Finds part `name` in a multipart body; its headers and data. */
static int find_part(const char *body, size_t len, const char *boundary, const char *name,
                     char *headers, size_t hlen, const char **data, size_t *dlen) {
  char delim[128], want[96];
  snprintf(delim, sizeof delim, "--%s\r\n", boundary);
  snprintf(want, sizeof want, "name=\"%s\"", name);
  const char *p = body, *end = body + len;
  while ((p = memmem(p, (size_t)(end - p), delim, strlen(delim)))) {
    p += strlen(delim);
    const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    if (!hend)
      return -1;
    snprintf(headers, hlen, "%.*s", (int)(hend - p), p);
    if (!strstr(headers, want))
      continue;
    char close_delim[128];
    snprintf(close_delim, sizeof close_delim, "\r\n--%s", boundary);
    const char *d = hend + 4;
    const char *dend = memmem(d, (size_t)(end - d), close_delim, strlen(close_delim));
    if (!dend)
      return -1;
    *data = d;
    *dlen = (size_t)(dend - d);
    return 0;
  }
  return -1;
}

TEST(multipart_upload_arrives_intact) {
  enum { N = 3000 };
  unsigned char *png = malloc(N);
  for (int i = 0; i < N; i++)
    png[i] = (unsigned char)(i * 7 % 256); /* NUL bytes and CR/LF among them */
  struct rest_file files[2] = {
      {.name = "qr.png", .content_type = "image/png", .data = png, .len = N},
      {.name = "no\"te.txt", .content_type = "text/plain", .data = "copia e cola", .len = 12},
  };
  struct res res = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (c)
    rest_request_files(c, "POST", "/channels/55/messages",
                       jparse("{\"content\":\"Pague com Pix\"}"), files, 2, 0, on_res, &res);
  run_until_done(1, 5000);
  rest_client_free(c);
  int closed = teardown();

  pthread_mutex_lock(&mu);
  char ctype[256], auth[128];
  snprintf(ctype, sizeof ctype, "%s", captured.ctype);
  snprintf(auth, sizeof auth, "%s", captured.auth);
  size_t blen = captured.len;
  char *body = malloc(blen + 1);
  if (captured.body)
    memcpy(body, captured.body, blen);
  pthread_mutex_unlock(&mu);

  const char *b = strstr(ctype, "boundary=");
  char boundary[100] = "";
  if (b)
    snprintf(boundary, sizeof boundary, "%s", b + 9);
  char h0[512] = "", h1[512] = "", h2[512] = "";
  const char *pj = NULL, *f0 = NULL, *f1 = NULL;
  size_t pjl = 0, f0l = 0, f1l = 0;
  int found = find_part(body, blen, boundary, "payload_json", h0, sizeof h0, &pj, &pjl) == 0 &&
              find_part(body, blen, boundary, "files[0]", h1, sizeof h1, &f0, &f0l) == 0 &&
              find_part(body, blen, boundary, "files[1]", h2, sizeof h2, &f1, &f1l) == 0;
  json_t *payload = found ? json_loadb(pj, pjl, 0, NULL) : NULL;
  json_t *want_att = jparse("[{\"id\":0,\"filename\":\"qr.png\"},"
                            "{\"id\":1,\"filename\":\"no_te.txt\"}]");
  int att_ok = json_equal(json_object_get(payload, "attachments"), want_att);
  char content[64];
  const char *content_v = json_string_value(json_object_get(payload, "content"));
  snprintf(content, sizeof content, "%s", content_v ? content_v : "");
  int f0_ok = found && f0l == N && memcmp(f0, png, N) == 0;
  int f1_ok = found && f1l == 12 && memcmp(f1, "copia e cola", 12) == 0;
  int tail_ok = blen > 8 && memcmp(body + blen - 4, "--\r\n", 4) == 0;
  json_decref(payload);
  json_decref(want_att);
  free(body);
  free(png);
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 200);
  CHECK_INT(srv_hits(R_CH55), 1);
  CHECK(strncmp(ctype, "multipart/form-data; boundary=", 30) == 0);
  CHECK(strlen(boundary) >= 32);
  CHECK_STR(auth, "Bot " TOKEN_A);
  CHECK(found);
  CHECK(strstr(h0, "Content-Type: application/json") != NULL);
  CHECK_STR(content, "Pague com Pix");
  CHECK(att_ok);
  CHECK(strstr(h1, "filename=\"qr.png\"") != NULL);
  CHECK(strstr(h1, "Content-Type: image/png") != NULL);
  CHECK(strstr(h2, "filename=\"no_te.txt\"") != NULL); /* a quote cannot break the header */
  CHECK(f0_ok);
  CHECK(f1_ok);
  CHECK(tail_ok);
  CHECK_INT(closed, 0);
}

TEST(multipart_keeps_given_attachments) {
  struct rest_file f = {.name = "qr.png", .content_type = "image/png", .data = "\x89PNG", .len = 4};
  struct res res = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (c)
    rest_request_files(c, "POST", "/channels/55/messages",
                       jparse("{\"attachments\":[{\"id\":0,\"description\":\"QR\"}]}"), &f, 1,
                       0, on_res, &res);
  run_until_done(1, 5000);
  rest_client_free(c);
  int closed = teardown();
  pthread_mutex_lock(&mu);
  const char *want = "\"attachments\":[{\"id\":0,\"description\":\"QR\"}]";
  int has_desc = captured.body && memmem(captured.body, captured.len, want, strlen(want)) != NULL;
  pthread_mutex_unlock(&mu);
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 200);
  CHECK(has_desc); /* id 0 was there: nothing added */
  CHECK_INT(closed, 0);
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *s = calloc(1, 1 << 20);
  size_t n = fread(s, 1, (1 << 20) - 1, f);
  s[n] = '\0';
  fclose(f);
  return s;
}

TEST(over_limit_body_is_refused_unsent_and_logged) {
  struct res msg = {0}, up = {0}, cbk = {0};
  char content[2100];
  memset(content, 'a', 2001);
  content[2001] = '\0';
  char logdir[700];
  snprintf(logdir, sizeof logdir, "%s/restlog", harness_tmpdir());
  log_set_stderr(0);
  int lrc = log_open(logdir, LOG_INFO);
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  struct rest_file f = {.name = "qr.png", .content_type = "image/png", .data = "x", .len = 1};
  struct rest_call *call = NULL;
  if (c) {
    call = rest_request(c, "POST", "/channels/55/messages",
                        json_pack("{s:s}", "content", content), 0, on_res, &msg);
    rest_request_files(c, "POST", "/channels/55/messages",
                       json_pack("{s:s}", "content", content), &f, 1, 0, on_res, &up);
    rest_request(c, "POST", "/interactions/1/interaction-token-xyz/callback",
                 jparse("{\"type\":8}"), 0, on_res, &cbk);
  }
  int sync = msg.called + up.called + cbk.called;
  run_until_done(3, 5000);
  rest_client_free(c);
  int closed = teardown();
  log_close();
  log_set_stderr(1);
  char path[800];
  snprintf(path, sizeof path, "%s/astra.log", logdir);
  char *log = read_all(path);
  int logged = log && strstr(log, "discord body refused (our bug): POST /channels/55/messages: "
                                  "content: 2001 > 2000") != NULL;
  int logged_cb =
      log && strstr(log, "discord body refused (our bug): POST /interactions/{id}/{token}/callback"
                         ": type: 8") != NULL;
  int leaked = log && (strstr(log, TOKEN_A) || strstr(log, "interaction-token-xyz"));
  int is_error = log && strstr(log, "\"level\":\"error\"") != NULL;
  free(log);
  CHECK_INT(lrc, 0);
  CHECK_INT(rc, 0);
  CHECK(call != NULL);
  CHECK_INT(sync, 0);
  CHECK_INT(msg.called, 1);
  CHECK_INT(msg.error, REST_EINVALID);
  CHECK_INT(msg.attempts, 0);
  CHECK(strstr(msg.msg, "content: 2001 > 2000") != NULL);
  CHECK_INT(up.error, REST_EINVALID);
  CHECK_INT(cbk.error, REST_EINVALID);
  CHECK_INT(srv_hits(R_CH55), 0);
  CHECK_INT(srv_hits(R_CALLBACK), 0);
  CHECK(logged);
  CHECK(logged_cb);
  CHECK(is_error);
  CHECK(!leaked);
  CHECK_INT(closed, 0);
}

TEST(cancel_in_every_state) {
  struct res a = {0}, b = {0}, cc = {0}, d = {0}, e = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  double start = now_ms();
  if (c) {
    /* Finished (refused) at once, its callback not run yet. */
    e.call = rest_request(c, "POST", "/channels/1/messages", jparse("{\"content\":5}"), 0,
                          on_res, &e);
    rest_cancel(e.call);
    get(c, "/slow", &a); /* in flight */
    get(c, "/slow", &b); /* queued behind it: the route is not known yet */
  }
  run_for(50);
  rest_cancel(a.call); /* in flight: b may go now, without waiting for a's answer */
  run_until_done(1, 5000);
  double b_time = b.at_ms - start;
  if (c) {
    get(c, "/slow", &cc);
    get(c, "/slow", &d);
  }
  rest_cancel(d.call); /* queued */
  run_until_done(2, 5000);
  run_for(400);
  struct rest_stats st;
  rest_global_stats(&st);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(a.called, 0);
  CHECK_INT(b.called, 1);
  CHECK_INT(b.status, 200);
  CHECK(b_time < 550); /* not a's 300 ms plus its own */
  CHECK_INT(cc.called, 1);
  CHECK_INT(d.called, 0);
  CHECK_INT(e.called, 0);
  CHECK_INT(st.queued, 0);
  CHECK_INT(done_count, 2);
  CHECK_INT(closed, 0);
}

TEST(client_free_cancels_pending_calls_later) {
  struct res flying = {0}, queued = {0}, refused = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (c) {
    get(c, "/slow", &flying);
    get(c, "/slow", &queued);
  }
  run_for(50);
  if (c) /* finished (refused) but not delivered yet when the client goes */
    rest_request(c, "POST", "/channels/1/messages", jparse("{\"content\":5}"), 0, on_res,
                 &refused);
  rest_client_free(c);
  int sync = flying.called + queued.called + refused.called;
  run_until_done(3, 5000);
  run_for(500); /* past /slow's answer */
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(sync, 0);
  CHECK_INT(flying.called, 1);
  CHECK_INT(flying.error, REST_ECANCELLED);
  CHECK(flying.msg[0] != '\0');
  CHECK_INT(queued.called, 1);
  CHECK_INT(queued.error, REST_ECANCELLED);
  CHECK_INT(refused.called, 1);
  CHECK_INT(refused.error, REST_EINVALID);
  CHECK_INT(done_count, 3);
  CHECK_INT(closed, 0);
}

static struct rest_client *self_freeing;
static void free_own_client(const struct rest_result *r, void *arg) {
  on_res(r, arg);
  rest_client_free(self_freeing);
  self_freeing = NULL;
}

TEST(client_freed_from_its_own_callback) {
  struct res first = {0}, second = {0}, third = {0};
  int rc = setup();
  self_freeing = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (self_freeing) {
    rest_request(self_freeing, "GET", "/other", NULL, 0, free_own_client, &first);
    get(self_freeing, "/other", &second); /* wait for the route's first answer */
    get(self_freeing, "/other", &third);
  }
  run_until_done(3, 5000);
  run_for(200);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK(self_freeing == NULL);
  CHECK_INT(first.called, 1);
  CHECK_INT(first.status, 200);
  CHECK_INT(second.called, 1);
  CHECK_INT(second.error, REST_ECANCELLED);
  CHECK_INT(third.called, 1);
  CHECK_INT(third.error, REST_ECANCELLED);
  CHECK_INT(srv_hits(R_OTHER), 1);
  CHECK_INT(closed, 0);
}

TEST(discord_error_code_is_parsed) {
  struct res res = {0};
  int rc = setup();
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  if (c)
    rest_request(c, "POST", "/dm", jparse("{\"content\":\"sua chave\"}"), 0, on_res, &res);
  run_until_done(1, 5000);
  rest_client_free(c);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.error, REST_OK);
  CHECK_INT(res.status, 400);
  CHECK_INT(res.code, 50007);
  CHECK(res.has_body);
  CHECK(strstr(res.body, "Cannot send messages to this user") != NULL);
  CHECK(strstr(res.msg, "50007") != NULL);
  CHECK_INT(res.attempts, 1);
  CHECK_INT(closed, 0);
}

TEST(misuse_is_refused) {
  struct res res = {0};
  struct rest_client *before = rest_client_new(TOKEN_A, "x"); /* before rest_global_init */
  int rc = setup();
  int again = rest_global_init(base_url, UA);
  struct rest_client *bad = rest_client_new("tok\r\nX-Evil: 1", "x");
  struct rest_client *empty = rest_client_new("", "x");
  struct rest_client *c = rc == 0 ? rest_client_new(TOKEN_A, "inst-a") : NULL;
  struct rest_call *no_cb = c ? rest_request(c, "GET", "/other", NULL, 0, NULL, NULL) : NULL;
  struct rest_call *bad_method =
      c ? rest_request(c, "FETCH", "/other", NULL, 0, on_res, &res) : NULL;
  run_until_done(1, 5000);
  rest_client_free(c);
  int closed = teardown();
  CHECK(before == NULL);
  CHECK_INT(rc, 0);
  CHECK_INT(again, -1);
  CHECK(bad == NULL);
  CHECK(empty == NULL);
  CHECK(no_cb == NULL);
  CHECK(bad_method != NULL);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, REST_ENET);
  CHECK_INT(srv_hits(R_OTHER), 0);
  CHECK_INT(closed, 0);
}
