/* The HTTP adapter on a private loop: handlers that suspend and resume later, the abort hook
 * when a suspended request is dropped at shutdown, and the loop closing cleanly afterwards.
 * The client is our own net module, on the same loop. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "harness.h"
#include "http/httpd.h"
#include "net/net.h"

static uv_loop_t loop;
static struct http_server *srv;
static int aborted;
static struct http_request *held; /* a request parked by h_hold */

struct later {
  uv_timer_t t;
  struct http_request *req;
};

static void on_later_closed(uv_handle_t *h) { free(h->data); }

static void on_later(uv_timer_t *t) {
  struct later *l = t->data;
  http_reply_json(http_reply_of(l->req), 200, json_pack("{s:s}", "later", "yes"));
  http_resume(l->req);
  uv_close((uv_handle_t *)t, on_later_closed);
}

/* Answers 30 ms later, from a timer: the pattern of every handler that waits on I/O. */
static enum http_result h_slow(struct http_request *req, struct http_reply *rep) {
  (void)rep;
  struct later *l = calloc(1, sizeof *l);
  l->req = req;
  uv_timer_init(&loop, &l->t);
  l->t.data = l;
  uv_timer_start(&l->t, on_later, 30, 0);
  return HTTP_SUSPEND;
}

static void on_abort(struct http_request *req, void *arg) {
  (void)arg;
  if (req == held)
    held = NULL;
  aborted++;
}

/* Never answers by itself: only shutdown can end it. */
static enum http_result h_hold(struct http_request *req, struct http_reply *rep) {
  (void)rep;
  held = req;
  http_on_abort(req, on_abort, NULL);
  return HTTP_SUSPEND;
}

static enum http_result h_echo(struct http_request *req, struct http_reply *rep) {
  json_t *j = json_pack("{s:O?, s:s, s:s?}", "body", req->json, "param",
                        req->nparams ? req->params[0] : "", "q", http_query(req, "q"));
  http_reply_json(rep, 201, j);
  return HTTP_DONE;
}

static const struct http_route routes[] = {
    {HTTP_GET, "/slow", h_slow, 0, 0},
    {HTTP_GET, "/hold", h_hold, 0, 0},
    {HTTP_POST, "/echo/:id", h_echo, 64, ROUTE_JSON},
};

struct result {
  int done;
  long status;
  char body[256];
};

static void on_done(const struct net_response *r, void *arg) {
  struct result *res = arg;
  res->done = 1;
  res->status = r->status;
  snprintf(res->body, sizeof res->body, "%s", r->body ? r->body : "");
}

static char url_buf[128];
static const char *url(const char *path) {
  snprintf(url_buf, sizeof url_buf, "http://127.0.0.1:%d%s", http_server_port(srv), path);
  return url_buf;
}

static void closed_cb(void *arg) { *(int *)arg = 1; }

static int setup(void) {
  static int curl_ready;
  if (!curl_ready) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ready = 1;
  }
  log_set_stderr(0);
  uv_loop_init(&loop);
  struct http_server_config cfg = {.name = "test", .host = "127.0.0.1", .port = 0,
                                   .routes = routes, .nroutes = 3};
  char err[256];
  if (http_server_start(&srv, &loop, &cfg, err, sizeof err) != 0) {
    printf("# %s\n", err);
    return -1;
  }
  return net_init(&loop, "test", NULL);
}

static int teardown(void) {
  int closed = 0;
  http_server_stop(srv, closed_cb, &closed);
  net_shutdown();
  uv_run(&loop, UV_RUN_DEFAULT);
  return closed && uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void run_until(int *flag) {
  uint64_t end = uv_hrtime() + 5000000000ull;
  while (!*flag && uv_hrtime() < end)
    uv_run(&loop, UV_RUN_ONCE);
}

TEST(suspended_requests_resume_from_the_loop) {
  CHECK_INT(setup(), 0);
  struct result r[20] = {{0}};
  struct net_request q = {.method = "GET", .url = NULL};
  for (int i = 0; i < 20; i++) {
    q.url = url("/slow");
    CHECK(net_send(&q, on_done, &r[i]) != NULL);
  }
  for (int i = 0; i < 20; i++)
    run_until(&r[i].done);
  for (int i = 0; i < 20; i++) {
    CHECK_INT(r[i].status, 200);
    CHECK_STR(r[i].body, "{\"later\":\"yes\"}");
  }
  CHECK_INT(http_server_inflight(srv), 0);
  CHECK_INT(teardown(), 0);
}

TEST(json_body_params_and_query_reach_the_handler) {
  CHECK_INT(setup(), 0);
  struct result r = {0};
  const char *hdrs[] = {"Content-Type: application/json", NULL};
  struct net_request q = {.method = "POST", .url = url("/echo/abc?q=a%20b"), .headers = hdrs,
                          .body = "{\"x\":[1,2]}", .body_len = 11};
  CHECK(net_send(&q, on_done, &r) != NULL);
  run_until(&r.done);
  CHECK_INT(r.status, 201);
  CHECK_STR(r.body, "{\"body\":{\"x\":[1,2]},\"param\":\"abc\",\"q\":\"a b\"}");
  CHECK_INT(teardown(), 0);
}

TEST(shutdown_answers_suspended_requests_with_503) {
  CHECK_INT(setup(), 0);
  aborted = 0;
  struct result r = {0};
  struct net_request q = {.method = "GET", .url = url("/hold")};
  CHECK(net_send(&q, on_done, &r) != NULL);
  uint64_t end = uv_hrtime() + 3000000000ull;
  while (!held && uv_hrtime() < end)
    uv_run(&loop, UV_RUN_ONCE);
  CHECK(held != NULL);
  CHECK_INT(http_server_inflight(srv), 1);
  int closed = 0;
  http_server_stop(srv, closed_cb, &closed);
  run_until(&r.done);
  CHECK_INT(aborted, 1);
  CHECK(held == NULL);
  CHECK_INT(r.status, 503);
  CHECK(strstr(r.body, "\"error\":\"shutting_down\"") != NULL);
  net_shutdown();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(closed);
  CHECK_INT(uv_loop_close(&loop), 0);
}
