/* Router and path decoding: what the listeners rely on to send each request to the right
 * handler and to refuse paths that could escape a directory. */
#include <stdio.h>

#include "harness.h"
#include "http/router.h"

static enum http_result h_a(struct http_request *q, struct http_reply *r) { (void)q; (void)r; return HTTP_DONE; }
static enum http_result h_b(struct http_request *q, struct http_reply *r) { (void)q; (void)r; return HTTP_DONE; }
static enum http_result h_c(struct http_request *q, struct http_reply *r) { (void)q; (void)r; return HTTP_DONE; }

static const struct http_route routes[] = {
    {HTTP_GET, "/health", h_a, 0, 0},
    {HTTP_GET | HTTP_POST, "/api/instances", h_b, 1024, ROUTE_JSON},
    {HTTP_POST, "/api/instances/:id/start", h_c, 0, 0},
    {HTTP_DELETE, "/api/instances/:id/products/:pid", h_a, 0, 0},
};
#define NR (sizeof routes / sizeof routes[0])

static enum router_result m(unsigned method, const char *path, const struct http_route **r,
                            const char **params, unsigned *np, unsigned *allowed) {
  static char scratch[256];
  return router_match(routes, NR, method, path, scratch, sizeof scratch, r, params, np,
                      allowed);
}

TEST(matches_literal_and_params) {
  const struct http_route *r;
  const char *p[HTTP_MAX_PARAMS];
  unsigned np, allowed;
  CHECK_INT(m(HTTP_GET, "/health", &r, p, &np, &allowed), ROUTER_MATCH);
  CHECK(r->handler == h_a);
  CHECK_INT(np, 0);
  CHECK_INT(m(HTTP_POST, "/api/instances/abc-1/start", &r, p, &np, &allowed), ROUTER_MATCH);
  CHECK(r->handler == h_c);
  CHECK_INT(np, 1);
  CHECK_STR(p[0], "abc-1");
  CHECK_INT(m(HTTP_DELETE, "/api/instances/i1/products/p2", &r, p, &np, &allowed),
            ROUTER_MATCH);
  CHECK_INT(np, 2);
  CHECK_STR(p[0], "i1");
  CHECK_STR(p[1], "p2");
}

TEST(head_follows_get) {
  const struct http_route *r;
  const char *p[HTTP_MAX_PARAMS];
  unsigned np, allowed;
  CHECK_INT(m(HTTP_HEAD, "/health", &r, p, &np, &allowed), ROUTER_MATCH);
}

TEST(not_found_and_bad_method) {
  const struct http_route *r;
  const char *p[HTTP_MAX_PARAMS];
  unsigned np, allowed = 0;
  CHECK_INT(m(HTTP_GET, "/nope", &r, p, &np, &allowed), ROUTER_NOT_FOUND);
  CHECK_INT(m(HTTP_GET, "/health/", &r, p, &np, &allowed), ROUTER_NOT_FOUND);
  CHECK_INT(m(HTTP_GET, "/api/instances//start", &r, p, &np, &allowed), ROUTER_NOT_FOUND);
  CHECK_INT(m(HTTP_PUT, "/api/instances", &r, p, &np, &allowed), ROUTER_BAD_METHOD);
  CHECK(allowed & HTTP_GET);
  CHECK(allowed & HTTP_POST);
  CHECK(!(allowed & HTTP_DELETE));
  char allow[64];
  router_allow_header(allowed, allow, sizeof allow);
  CHECK_STR(allow, "GET, HEAD, POST, OPTIONS");
}

TEST(decode_path_accepts_normal_paths) {
  char out[64];
  CHECK_INT(router_decode_path("/a%20b/c", 8, out, sizeof out), 0);
  CHECK_STR(out, "/a b/c");
  CHECK_INT(router_decode_path("/caf%C3%A9", 10, out, sizeof out), 0);
  CHECK_STR(out, "/café");
  CHECK_INT(router_decode_path("/...x/.hidden", 13, out, sizeof out), 0);
}

TEST(decode_path_refuses_escapes) {
  static const char *bad[] = {
      "/../etc/passwd", "/a/..",     "/a/./b",      "/%2e%2e/x",  "/%2E%2e/x",
      "/a%2fb",         "/a%2Fb",    "/a%5cb",      "/a\\b",      "/a%00b",
      "/a%0ab",         "/a%",       "/a%4",        "/a%zz",      "relative",
      "/%2e/",          "/a/%2e%2e", "/a%7f",
  };
  char out[64];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (router_decode_path(bad[i], strlen(bad[i]), out, sizeof out) == 0) {
      harness_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
      return;
    }
  }
}

TEST(method_names) {
  CHECK_INT(http_method_parse("PATCH"), HTTP_PATCH);
  CHECK_INT(http_method_parse("get"), 0);
  CHECK_STR(http_method_name(HTTP_DELETE), "DELETE");
}
