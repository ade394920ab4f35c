/* Unit tests for the outgoing HTTP client (src/net/net.c). A libmicrohttpd server runs in
 * this process on its own threads (one per connection, so a deliberately slow route does
 * not hold up the others) on 127.0.0.1 with a kernel-chosen port; the client runs on a
 * private uv loop driven by uv_run here. Every test ends with net_shutdown and checks that
 * uv_loop_close succeeds, which proves the client closed all of its handles. */
#include "harness.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define UA "astrad-test/1"
#define BIG_SIZE (64 * 1024)

/* ---- the test server ---- */

static struct MHD_Daemon *server;
static unsigned server_port;
static char base_url[64];

/* Attempts per route, reset by the tests that read them. */
static atomic_int hits_flaky, hits_500, hits_rl, hits_rl_json, hits_rl_date, hits_wait;

struct upload {
  char *data;
  size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const void *body,
                             size_t len, const char *const *headers) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  for (; headers && headers[0]; headers += 2)
    MHD_add_response_header(r, headers[0], headers[1]);
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)cls;
  if (pos >= BIG_SIZE)
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = BIG_SIZE - (size_t)pos;
  if (n > max)
    n = max;
  memset(buf, 'c', n);
  return (ssize_t)n;
}

static const char *req_header(struct MHD_Connection *conn, const char *name) {
  const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
  return v ? v : "none";
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

  if (!strcmp(url, "/echo")) {
    const char *h[] = {"X-Method",
                       method,
                       "X-Test",
                       req_header(conn, "X-Test"),
                       "X-UA",
                       req_header(conn, "User-Agent"),
                       "X-Content-Type",
                       req_header(conn, "Content-Type"),
                       "X-Dup",
                       "one",
                       "x-dup",
                       "two",
                       NULL};
    return reply(conn, 200, up->data ? up->data : "", up->len, h);
  }
  if (!strcmp(url, "/flaky")) {
    int n = ++hits_flaky;
    return n <= 2 ? reply(conn, 503, "busy", 4, NULL) : reply(conn, 200, "ok", 2, NULL);
  }
  if (!strcmp(url, "/fail500")) {
    ++hits_500;
    return reply(conn, 500, "oops", 4, NULL);
  }
  if (!strcmp(url, "/ratelimit")) {
    const char *h[] = {"Retry-After", "0.2", NULL};
    return ++hits_rl == 1 ? reply(conn, 429, "slow down", 9, h) : reply(conn, 200, "ok", 2, NULL);
  }
  if (!strcmp(url, "/ratelimit-json")) {
    const char *h[] = {"Content-Type", "application/json", NULL};
    const char *b = "{\"message\": \"You are being rate limited.\", \"retry_after\": 0.3}";
    return ++hits_rl_json == 1 ? reply(conn, 429, b, strlen(b), h)
                               : reply(conn, 200, "ok", 2, NULL);
  }
  if (!strcmp(url, "/ratelimit-date")) {
    char date[64];
    time_t when = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    const char *h[] = {"Retry-After", date, NULL};
    return ++hits_rl_date == 1 ? reply(conn, 429, "later", 5, h) : reply(conn, 200, "ok", 2, NULL);
  }
  if (!strcmp(url, "/wait")) {
    const char *h[] = {"Retry-After", "5", NULL};
    ++hits_wait;
    return reply(conn, 429, "later", 5, h);
  }
  if (!strcmp(url, "/sleep")) {
    usleep(800 * 1000);
    return reply(conn, 200, "late", 4, NULL);
  }
  if (!strcmp(url, "/big")) {
    static char big[BIG_SIZE];
    memset(big, 'b', sizeof big);
    return reply(conn, 200, big, sizeof big, NULL);
  }
  if (!strcmp(url, "/bigchunk")) {
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_reader, NULL, NULL);
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  return reply(conn, 404, "no", 2, NULL);
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

static struct MHD_Daemon *start_daemon(unsigned flags, const char *key, const char *cert) {
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  if (key)
    return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
                            &sa, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
                            MHD_OPTION_END);
  return MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                          MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
}

static unsigned daemon_port(struct MHD_Daemon *d) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : 0;
}

static void stop_everything(void) {
  if (server)
    MHD_stop_daemon(server);
  server = NULL;
  curl_global_cleanup();
}

/* Once per process: curl's global init (main's job in the daemon) and the server. */
static int prepare(void) {
  if (server)
    return 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  atexit(stop_everything);
  server = start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                            MHD_USE_ERROR_LOG,
                        NULL, NULL);
  if (!server)
    return -1;
  server_port = daemon_port(server);
  snprintf(base_url, sizeof base_url, "http://127.0.0.1:%u", server_port);
  return server_port ? 0 : -1;
}

static const char *url(const char *path) {
  static char buf[8][256];
  static int next;
  char *b = buf[next++ % 8];
  snprintf(b, sizeof buf[0], "%s%s", base_url, path);
  return b;
}

/* ---- driving the client ---- */

static uv_loop_t loop;
static uv_timer_t watchdog;
static int watchdog_fired;

struct result {
  int called;
  int error;
  int has_error_msg;
  long status;
  unsigned attempts;
  double elapsed_ms;
  char *body;
  size_t body_len;
  char method[16], test[64], ua[64], ctype[64], dup[16];
};

static int done_count;

static void copy_header(char *dst, size_t n, const struct net_response *r, const char *name) {
  const char *v = net_header(r, name);
  snprintf(dst, n, "%s", v ? v : "(none)");
}

static void on_done(const struct net_response *r, void *arg) {
  struct result *res = arg;
  res->called++;
  res->error = r->error;
  res->has_error_msg = r->error_msg && *r->error_msg;
  res->status = r->status;
  res->attempts = r->attempts;
  res->elapsed_ms = r->elapsed_ms;
  free(res->body);
  res->body = malloc(r->body_len + 1);
  memcpy(res->body, r->body, r->body_len + 1); /* the body is NUL-terminated */
  res->body_len = r->body_len;
  copy_header(res->method, sizeof res->method, r, "x-method");
  copy_header(res->test, sizeof res->test, r, "X-TEST");
  copy_header(res->ua, sizeof res->ua, r, "X-UA");
  copy_header(res->ctype, sizeof res->ctype, r, "X-Content-Type");
  copy_header(res->dup, sizeof res->dup, r, "X-Dup");
  done_count++;
  /* Makes the current uv_run(UV_RUN_ONCE) return instead of going on to block in poll
   * (callbacks run from the timer phase would otherwise wait for the watchdog). */
  uv_stop(&loop);
}

static void result_free(struct result *res) {
  free(res->body);
  res->body = NULL;
}

static void on_watchdog(uv_timer_t *t) {
  (void)t;
  watchdog_fired = 1;
}

/* Runs the loop until `want` callbacks have run or ms have passed. */
static void run_until_done(int want, unsigned ms) {
  watchdog_fired = 0;
  uv_update_time(&loop);
  uv_timer_start(&watchdog, on_watchdog, ms, 0);
  while (done_count < want && !watchdog_fired)
    uv_run(&loop, UV_RUN_ONCE);
  uv_timer_stop(&watchdog);
}

static void run_for(unsigned ms) { run_until_done(1 << 30, ms); }

static int setup_ca(const char *ca_file) {
  if (prepare() != 0)
    return -1;
  done_count = 0;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &watchdog);
  return net_init(&loop, UA, ca_file);
}

static int setup(void) { return setup_ca(NULL); }

/* Shuts the client down and closes the loop: uv_loop_close's result, 0 when every handle
 * was closed. */
static int teardown(void) {
  net_shutdown();
  uv_close((uv_handle_t *)&watchdog, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop);
}

static struct net_call *send_simple(const char *method, const char *u, unsigned retries,
                                    struct result *res) {
  struct net_request req = {.method = method, .url = u, .max_retries = retries, .idempotent = -1};
  return net_send(&req, on_done, res);
}

/* ---- tests ---- */

TEST(get_returns_body_status_and_headers) {
  struct result res = {0};
  int rc = setup();
  const char *hdrs[] = {"X-Test: hello there", NULL};
  struct net_request req = {
      .method = "GET", .url = url("/echo"), .headers = hdrs, .idempotent = -1};
  struct net_call *call = rc == 0 ? net_send(&req, on_done, &res) : NULL;
  int called_sync = res.called;
  unsigned pending = net_pending();
  run_until_done(1, 5000);
  unsigned pending_after = net_pending();
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK(call != NULL);
  CHECK_INT(called_sync, 0); /* never from inside net_send */
  CHECK_INT(pending, 1);
  CHECK_INT(pending_after, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, 0);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 1);
  CHECK_INT(res.body_len, 0);
  CHECK_STR(res.method, "GET");
  CHECK_STR(res.test, "hello there");
  CHECK_STR(res.ua, UA);
  CHECK_STR(res.dup, "two"); /* repeated header: the last value wins */
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(post_binary_body_arrives_intact) {
  enum { N = 100 * 1000 };
  char *body = malloc(N);
  for (int i = 0; i < N; i++)
    body[i] = (char)(i % 251); /* includes many NUL bytes */
  struct result res = {0}, res2 = {0};
  int rc = setup();
  const char *hdrs[] = {"Content-Type: application/octet-stream", NULL};
  struct net_request req = {.method = "POST",
                            .url = url("/echo"),
                            .headers = hdrs,
                            .body = body,
                            .body_len = N,
                            .idempotent = -1};
  struct net_request req2 = {
      .method = "POST", .url = url("/echo"), .body = "{\"a\":1}", .body_len = 7, .idempotent = -1};
  if (rc == 0) {
    net_send(&req, on_done, &res);
    net_send(&req2, on_done, &res2);
  }
  /* The request was copied: changing the caller's buffer now must not matter. */
  memset(body, 0xff, 16);
  run_until_done(2, 5000);
  int closed = teardown();
  for (int i = 0; i < 16; i++)
    body[i] = (char)(i % 251);
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, 0);
  CHECK_INT(res.status, 200);
  CHECK_STR(res.method, "POST");
  CHECK_STR(res.ctype, "application/octet-stream");
  CHECK_INT(res.body_len, N);
  CHECK(memcmp(res.body, body, N) == 0);
  /* Without a caller Content-Type, curl's form default is not sent either. */
  CHECK_INT(res2.status, 200);
  CHECK_STR(res2.ctype, "none");
  CHECK_INT(res2.body_len, 7);
  CHECK_STR(res2.body, "{\"a\":1}");
  CHECK_INT(closed, 0);
  result_free(&res);
  result_free(&res2);
  free(body);
}

TEST(other_methods_are_sent_as_asked) {
  const char *names[] = {"PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "GET"};
  enum { M = sizeof names / sizeof names[0] };
  struct result res[M] = {0};
  int rc = setup();
  for (int i = 0; rc == 0 && i < M; i++) {
    /* PUT carries a body; DELETE and GET one too, which curl must then send as well. */
    struct net_request req = {.method = names[i],
                              .url = url("/echo"),
                              .idempotent = -1,
                              .body = i == 0 || i == 2 || i == 5 ? "payload" : NULL,
                              .body_len = i == 0 || i == 2 || i == 5 ? 7 : 0};
    net_send(&req, on_done, &res[i]);
  }
  run_until_done(M, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  for (int i = 0; i < M; i++) {
    CHECK_INT(res[i].called, 1);
    CHECK_INT(res[i].status, 200);
    CHECK_STR(res[i].method, names[i]);
  }
  CHECK_STR(res[0].body, "payload");
  CHECK_STR(res[1].body, "");
  CHECK_STR(res[2].body, "payload");
  CHECK_STR(res[4].body, ""); /* HEAD: headers only */
  CHECK_STR(res[5].body, "payload");
  CHECK_INT(closed, 0);
  for (int i = 0; i < M; i++)
    result_free(&res[i]);
}

TEST(get_is_retried_on_503) {
  struct result res = {0};
  hits_flaky = 0;
  int rc = setup();
  if (rc == 0)
    send_simple("GET", url("/flaky"), 3, &res);
  run_until_done(1, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, 0);
  CHECK_INT(res.status, 200);
  CHECK_STR(res.body, "ok");
  CHECK_INT(res.attempts, 3);
  CHECK_INT(hits_flaky, 3);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(retries_stop_at_max_retries) {
  struct result res = {0};
  hits_500 = 0;
  int rc = setup();
  if (rc == 0)
    send_simple("GET", url("/fail500"), 2, &res);
  run_until_done(1, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, 0);
  CHECK_INT(res.status, 500); /* the last answer is reported */
  CHECK_STR(res.body, "oops");
  CHECK_INT(res.attempts, 3);
  CHECK_INT(hits_500, 3);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(retry_after_header_is_honoured) {
  struct result res = {0};
  hits_rl = 0;
  int rc = setup();
  if (rc == 0)
    send_simple("GET", url("/ratelimit"), 2, &res);
  run_until_done(1, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 2);
  CHECK_INT(hits_rl, 2);
  CHECK(res.elapsed_ms >= 200.0);
  CHECK(res.elapsed_ms < 2000.0);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(retry_after_json_body_is_honoured) {
  struct result res = {0};
  hits_rl_json = 0;
  int rc = setup();
  if (rc == 0)
    send_simple("GET", url("/ratelimit-json"), 2, &res);
  run_until_done(1, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 2);
  CHECK(res.elapsed_ms >= 300.0);
  CHECK(res.elapsed_ms < 2000.0);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(retry_after_http_date_is_honoured) {
  struct result res = {0};
  hits_rl_date = 0;
  int rc = setup();
  if (rc == 0)
    send_simple("GET", url("/ratelimit-date"), 2, &res);
  run_until_done(1, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 2);
  /* "now + 2 s" at whole-second resolution: at least 1 s of waiting. */
  CHECK(res.elapsed_ms >= 1000.0);
  CHECK(res.elapsed_ms < 4000.0);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(post_500_is_not_retried) {
  struct result res = {0};
  hits_500 = 0;
  int rc = setup();
  if (rc == 0) {
    struct net_request req = {.method = "POST",
                              .url = url("/fail500"),
                              .body = "x",
                              .body_len = 1,
                              .max_retries = 3,
                              .idempotent = -1};
    net_send(&req, on_done, &res);
  }
  run_until_done(1, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.status, 500);
  CHECK_INT(res.attempts, 1);
  CHECK_INT(hits_500, 1);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(post_marked_idempotent_is_retried) {
  struct result res = {0};
  hits_flaky = 0;
  int rc = setup();
  if (rc == 0) {
    struct net_request req = {.method = "POST",
                              .url = url("/flaky"),
                              .body = "x",
                              .body_len = 1,
                              .max_retries = 3,
                              .idempotent = 1};
    net_send(&req, on_done, &res);
  }
  run_until_done(1, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 200);
  CHECK_INT(res.attempts, 3);
  CHECK_INT(hits_flaky, 3);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(get_marked_not_idempotent_is_not_retried) {
  struct result res = {0};
  hits_flaky = 0;
  int rc = setup();
  if (rc == 0) {
    struct net_request req = {
        .method = "GET", .url = url("/flaky"), .max_retries = 3, .idempotent = 0};
    net_send(&req, on_done, &res);
  }
  run_until_done(1, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.status, 503);
  CHECK_INT(res.attempts, 1);
  CHECK_INT(hits_flaky, 1);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(timeout_reports_an_error) {
  struct result res = {0};
  int rc = setup();
  if (rc == 0) {
    struct net_request req = {
        .method = "GET", .url = url("/sleep"), .timeout_ms = 300, .idempotent = -1};
    net_send(&req, on_done, &res);
  }
  run_until_done(1, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, CURLE_OPERATION_TIMEDOUT);
  CHECK(res.has_error_msg);
  CHECK_INT(res.status, 0);
  CHECK_INT(res.attempts, 1);
  CHECK(res.elapsed_ms >= 250.0 && res.elapsed_ms < 1000.0);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(max_response_exceeded_reports_an_error) {
  struct result sized = {0}, chunked = {0}, fits = {0};
  int rc = setup();
  if (rc == 0) {
    /* /big has a Content-Length; /bigchunk is chunked, so only the write cap catches it. */
    struct net_request req = {.method = "GET",
                              .url = url("/big"),
                              .max_response = 1000,
                              .max_retries = 2,
                              .idempotent = -1};
    net_send(&req, on_done, &sized);
    req.url = url("/bigchunk");
    net_send(&req, on_done, &chunked);
    req.max_response = BIG_SIZE;
    net_send(&req, on_done, &fits);
  }
  run_until_done(3, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(sized.called, 1);
  CHECK_INT(sized.error, CURLE_FILESIZE_EXCEEDED);
  CHECK(sized.has_error_msg);
  CHECK_INT(sized.attempts, 1); /* not a transient failure */
  CHECK_INT(chunked.called, 1);
  CHECK_INT(chunked.error, CURLE_FILESIZE_EXCEEDED);
  CHECK_INT(chunked.attempts, 1);
  CHECK_INT(fits.error, 0);
  CHECK_INT(fits.body_len, BIG_SIZE);
  CHECK_INT(closed, 0);
  result_free(&sized);
  result_free(&chunked);
  result_free(&fits);
}

TEST(cancel_before_completion) {
  struct result res = {0}, res2 = {0};
  int rc = setup();
  struct net_call *call = rc == 0 ? send_simple("GET", url("/sleep"), 2, &res) : NULL;
  struct net_call *call2 = rc == 0 ? send_simple("GET", url("/echo"), 2, &res2) : NULL;
  net_cancel(call2); /* before the loop ever ran */
  run_for(100);      /* call is now on the wire, waiting for the server */
  unsigned before = net_pending();
  net_cancel(call);
  unsigned after = net_pending();
  run_for(1000); /* past the server's answer */
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK(call != NULL && call2 != NULL);
  CHECK_INT(before, 1);
  CHECK_INT(after, 0);
  CHECK_INT(res.called, 0);
  CHECK_INT(res2.called, 0);
  CHECK_INT(closed, 0);
}

TEST(cancel_during_retry_wait) {
  struct result res = {0};
  hits_wait = 0;
  int rc = setup();
  uint64_t t0 = uv_hrtime();
  struct net_call *call = rc == 0 ? send_simple("GET", url("/wait"), 3, &res) : NULL;
  run_for(400); /* the 429 came back; the call now waits 5 s (Retry-After) */
  unsigned before = net_pending();
  int hits = hits_wait;
  net_cancel(call);
  unsigned after = net_pending();
  int closed = teardown();
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  CHECK_INT(rc, 0);
  CHECK_INT(hits, 1);
  CHECK_INT(before, 1);
  CHECK_INT(after, 0);
  CHECK_INT(res.called, 0);
  CHECK_INT(closed, 0);
  CHECK(ms < 2000.0); /* the retry timer did not keep the loop alive */
}

static struct net_call *victim;
static struct result victim_res;

static void cancel_victim(const struct net_response *r, void *arg) {
  on_done(r, arg);
  net_cancel(victim);
  victim = NULL;
}

TEST(cancel_from_another_calls_callback) {
  struct result res = {0};
  memset(&victim_res, 0, sizeof victim_res);
  int rc = setup();
  if (rc == 0) {
    victim = send_simple("GET", url("/sleep"), 0, &victim_res);
    struct net_request req = {.method = "GET", .url = url("/echo"), .idempotent = -1};
    net_send(&req, cancel_victim, &res);
  }
  run_until_done(1, 5000);
  unsigned pending = net_pending();
  run_for(1000); /* past /sleep's answer */
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.status, 200);
  CHECK_INT(pending, 0);
  CHECK_INT(victim_res.called, 0);
  CHECK_INT(closed, 0);
  result_free(&res);
}

static struct result chained_res;

static void send_another(const struct net_response *r, void *arg) {
  on_done(r, arg);
  struct net_request req = {.method = "GET", .url = url("/echo"), .idempotent = -1};
  net_send(&req, on_done, &chained_res);
}

TEST(send_from_a_callback) {
  struct result res = {0};
  memset(&chained_res, 0, sizeof chained_res);
  int rc = setup();
  if (rc == 0) {
    struct net_request req = {.method = "GET", .url = url("/echo"), .idempotent = -1};
    net_send(&req, send_another, &res);
  }
  run_until_done(2, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(chained_res.called, 1);
  CHECK_INT(chained_res.status, 200);
  CHECK_INT(closed, 0);
  result_free(&res);
  result_free(&chained_res);
}

static void shutdown_in_callback(const struct net_response *r, void *arg) {
  on_done(r, arg);
  net_shutdown();
}

TEST(shutdown_from_a_callback) {
  struct result res = {0}, other = {0};
  int rc = setup();
  if (rc == 0) {
    send_simple("GET", url("/sleep"), 0, &other);
    struct net_request req = {.method = "GET", .url = url("/echo"), .idempotent = -1};
    net_send(&req, shutdown_in_callback, &res);
  }
  run_until_done(1, 5000);
  unsigned pending = net_pending();
  run_for(1000);           /* past /sleep's answer */
  int closed = teardown(); /* a second net_shutdown is harmless */
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(other.called, 0);
  CHECK_INT(pending, 0);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(shutdown_with_calls_in_flight_closes_everything) {
  struct result res[6] = {0};
  hits_wait = 0;
  int rc = setup();
  for (int i = 0; rc == 0 && i < 5; i++)
    send_simple("GET", url("/sleep"), 1, &res[i]);
  if (rc == 0)
    send_simple("GET", url("/wait"), 3, &res[5]);
  run_for(300);
  unsigned pending = net_pending();
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(pending, 6);
  CHECK_INT(net_pending(), 0);
  for (int i = 0; i < 6; i++)
    CHECK_INT(res[i].called, 0);
  CHECK_INT(closed, 0);
}

TEST(many_concurrent_calls_complete) {
  enum { N = 200 };
  struct result *res = calloc(N, sizeof *res);
  char(*hv)[32] = calloc(N, sizeof *hv);
  int rc = setup();
  int sent = 0;
  for (int i = 0; rc == 0 && i < N; i++) {
    snprintf(hv[i], sizeof hv[i], "X-Test: n%d", i);
    const char *hdrs[] = {hv[i], NULL};
    struct net_request req = {.method = i % 2 ? "POST" : "GET",
                              .url = url("/echo"),
                              .headers = hdrs,
                              .body = i % 2 ? hv[i] : NULL,
                              .body_len = i % 2 ? strlen(hv[i]) : 0,
                              .idempotent = -1};
    sent += net_send(&req, on_done, &res[i]) != NULL;
  }
  unsigned pending = net_pending();
  run_until_done(N, 20000);
  int closed = teardown();
  int ok = 0;
  for (int i = 0; i < N; i++)
    ok += res[i].called == 1 && res[i].status == 200 && !strcmp(res[i].test, hv[i] + 8) &&
          (i % 2 ? !strcmp(res[i].body, hv[i]) : res[i].body_len == 0);
  for (int i = 0; i < N; i++)
    result_free(&res[i]);
  free(res);
  free(hv);
  CHECK_INT(rc, 0);
  CHECK_INT(sent, N);
  CHECK_INT(pending, N);
  CHECK_INT(done_count, N);
  CHECK_INT(ok, N);
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
  close(fd); /* nobody listens there now */
  return ntohs(sa.sin_port);
}

TEST(connection_refused_reports_an_error_after_retries) {
  struct result res = {0}, post = {0};
  char u[64];
  snprintf(u, sizeof u, "http://127.0.0.1:%u/", closed_port());
  int rc = setup();
  if (rc == 0) {
    send_simple("GET", u, 2, &res);
    struct net_request req = {
        .method = "POST", .url = u, .body = "x", .body_len = 1, .max_retries = 2, .idempotent = -1};
    net_send(&req, on_done, &post);
  }
  run_until_done(2, 10000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, CURLE_COULDNT_CONNECT);
  CHECK(res.has_error_msg);
  CHECK_INT(res.status, 0);
  CHECK_INT(res.attempts, 3);
  CHECK_INT(post.error, CURLE_COULDNT_CONNECT);
  CHECK_INT(post.attempts, 1);
  CHECK_INT(closed, 0);
  result_free(&res);
  result_free(&post);
}

TEST(callback_runs_later_even_for_immediate_failures) {
  struct result res = {0};
  int rc = setup();
  /* Refused by curl on its first step (protocols are limited to http and https). */
  struct net_call *call = rc == 0 ? send_simple("GET", "file:///etc/passwd", 2, &res) : NULL;
  int called_sync = res.called;
  run_until_done(1, 5000);
  int closed = teardown();
  CHECK_INT(rc, 0);
  CHECK(call != NULL);
  CHECK_INT(called_sync, 0);
  CHECK_INT(res.called, 1);
  CHECK_INT(res.error, CURLE_UNSUPPORTED_PROTOCOL);
  CHECK_INT(res.attempts, 1);
  CHECK_INT(closed, 0);
  result_free(&res);
}

TEST(bad_requests_are_rejected) {
  struct result res = {0};
  struct net_request req = {.method = "GET", .url = "http://127.0.0.1:1/"};
  struct net_call *before_init = net_send(&req, on_done, &res);
  int rc = setup();
  struct net_request no_url = {.method = "GET"};
  struct net_request empty_url = {.method = "GET", .url = ""};
  struct net_request bad_method = {.method = "FETCH", .url = "http://127.0.0.1:1/"};
  struct net_request no_method = {.url = "http://127.0.0.1:1/"};
  const char *inject[] = {"X-A: b\r\nX-Evil: 1", NULL};
  struct net_request bad_header = {
      .method = "GET", .url = "http://127.0.0.1:1/", .headers = inject};
  struct net_request no_body = {.method = "POST", .url = "http://127.0.0.1:1/", .body_len = 3};
  int rejected = !net_send(&no_url, on_done, &res) + !net_send(&empty_url, on_done, &res) +
                 !net_send(&bad_method, on_done, &res) + !net_send(&no_method, on_done, &res) +
                 !net_send(&bad_header, on_done, &res) + !net_send(&no_body, on_done, &res) +
                 !net_send(&req, NULL, NULL);
  unsigned pending = net_pending();
  int closed = teardown();
  CHECK(before_init == NULL);
  CHECK_INT(rc, 0);
  CHECK_INT(rejected, 7);
  CHECK_INT(pending, 0);
  CHECK_INT(res.called, 0);
  CHECK_INT(closed, 0);
}

TEST(init_twice_fails_and_shutdown_allows_init_again) {
  int rc = setup();
  int again = net_init(&loop, UA, NULL);
  int closed = teardown();
  int rc2 = setup();
  int closed2 = teardown();
  CHECK_INT(rc, 0);
  CHECK_INT(again, -1);
  CHECK_INT(closed, 0);
  CHECK_INT(rc2, 0);
  CHECK_INT(closed2, 0);
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fputs(text, f);
  return fclose(f);
}

TEST(init_fails_when_extra_ca_cannot_be_used) {
  char not_pem[700];
  snprintf(not_pem, sizeof not_pem, "%s/not.pem", harness_tmpdir());
  CHECK_INT(write_file(not_pem, "just some text\n"), 0);
  int missing = setup_ca("/nonexistent/astrad-ca.pem");
  int closed = teardown();
  int garbage = setup_ca(not_pem);
  int closed2 = teardown();
  int fine = setup_ca(NULL);
  int closed3 = teardown();
  CHECK_INT(missing, -1);
  CHECK_INT(garbage, -1);
  CHECK_INT(fine, 0);
  CHECK_INT(closed, 0);
  CHECK_INT(closed2, 0);
  CHECK_INT(closed3, 0);
}

/* ---- TLS with an extra CA: a throw-away CA and server certificate, made here so they are
 * always valid whatever the clock says. ---- */

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
  if (!ext)
    return -1;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key) {
  static long serial = 1;
  X509 *x = X509_new();
  if (!x)
    return NULL;
  X509V3_CTX ctx;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -86400L);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
  int bad = 0;
  if (!issuer) {
    bad |= add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    bad |= add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    bad |= add_ext(x, &ctx, NID_subject_key_identifier, "hash");
  } else {
    bad |= add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
    bad |= add_ext(x, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    bad |= add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
    bad |= add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
  }
  if (bad || !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static char *bio_string(BIO *b) {
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *s = n >= 0 ? strndup(data, (size_t)n) : NULL;
  BIO_free(b);
  return s;
}

static char *cert_pem(X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b || !PEM_write_bio_X509(b, x)) {
    BIO_free(b);
    return NULL;
  }
  return bio_string(b);
}

static char *key_pem(EVP_PKEY *k) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
    BIO_free(b);
    return NULL;
  }
  return bio_string(b);
}

struct tls_material {
  char *ca, *cert, *key;
};

static int make_tls_material(struct tls_material *m) {
  EVP_PKEY *ca_key = EVP_EC_gen("P-256");
  EVP_PKEY *srv_key = EVP_EC_gen("P-256");
  X509 *ca = ca_key ? make_cert(ca_key, "astrad test CA", NULL, NULL) : NULL;
  X509 *srv = ca && srv_key ? make_cert(srv_key, "127.0.0.1", ca, ca_key) : NULL;
  if (srv) {
    m->ca = cert_pem(ca);
    m->cert = cert_pem(srv);
    m->key = key_pem(srv_key);
  }
  X509_free(srv);
  X509_free(ca);
  EVP_PKEY_free(srv_key);
  EVP_PKEY_free(ca_key);
  return m->ca && m->cert && m->key ? 0 : -1;
}

TEST(extra_ca_is_trusted_for_tls) {
  if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
    printf("# skipped: libmicrohttpd without TLS\n");
    return;
  }
  struct tls_material m = {0};
  char ca_path[700];
  snprintf(ca_path, sizeof ca_path, "%s/extra-ca.pem", harness_tmpdir());
  int made = make_tls_material(&m);
  int written = made == 0 ? write_file(ca_path, m.ca) : -1;
  struct MHD_Daemon *tls = NULL;
  char u[64] = "";
  if (written == 0 && prepare() == 0) {
    /* No error log: the refused handshake below would print a gnutls complaint. */
    tls = start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, m.key, m.cert);
    if (tls)
      snprintf(u, sizeof u, "https://127.0.0.1:%u/echo", daemon_port(tls));
  }

  /* With the extra CA: the server's certificate verifies. */
  struct result with = {0}, without = {0};
  int rc = setup_ca(written == 0 ? ca_path : NULL);
  if (rc == 0 && tls)
    send_simple("GET", u, 0, &with);
  run_until_done(1, 5000);
  int closed = teardown();
  /* Without it (system bundle only) the same server is refused. */
  int rc2 = setup_ca(NULL);
  if (rc2 == 0 && tls)
    send_simple("GET", u, 0, &without);
  run_until_done(1, 5000);
  int closed2 = teardown();

  if (tls)
    MHD_stop_daemon(tls);
  free(m.ca);
  free(m.cert);
  free(m.key);
  CHECK_INT(made, 0);
  CHECK(tls != NULL);
  CHECK_INT(rc, 0);
  CHECK_INT(with.called, 1);
  CHECK_INT(with.error, 0);
  CHECK_INT(with.status, 200);
  CHECK_STR(with.method, "GET");
  CHECK_INT(rc2, 0);
  CHECK_INT(without.called, 1);
  CHECK_INT(without.error, CURLE_PEER_FAILED_VERIFICATION);
  CHECK_INT(closed, 0);
  CHECK_INT(closed2, 0);
  result_free(&with);
  result_free(&without);
}
