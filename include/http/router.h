/* Route tables: each listener declares its routes in one array (src/portal_server.c,
 * src/admin_server.c), so the table tells where each endpoint lives. Patterns are literal
 * segments and ":name" parameters ("/api/instances/:id/start"). */
#ifndef ASTRA_HTTP_ROUTER_H
#define ASTRA_HTTP_ROUTER_H

#include <stddef.h>

#include "http/http.h"

enum route_flags {
  ROUTE_JSON = 1 << 0,   /* a body, when present, must be application/json and parse */
  ROUTE_PUBLIC = 1 << 1, /* no authentication (health, login, webhooks) */
};

struct http_route {
  unsigned methods;      /* enum http_method bits */
  const char *pattern;
  http_handler handler;
  size_t body_cap;       /* largest body accepted; 0 = no body allowed */
  unsigned flags;
};

enum router_result { ROUTER_MATCH, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };

/* Finds the route for method+path. On ROUTER_MATCH, *out is the route and params[] point
 * into scratch (a copy of path split in place; scratch_len >= strlen(path)+1). On
 * ROUTER_BAD_METHOD, *allowed has the methods the path accepts. */
enum router_result router_match(const struct http_route *routes, size_t n, unsigned method,
                                const char *path, char *scratch, size_t scratch_len,
                                const struct http_route **out, const char **params,
                                unsigned *nparams, unsigned *allowed);
/* "GET, HEAD, POST" from method bits, into out. */
void router_allow_header(unsigned methods, char *out, size_t outlen);

/* Decodes a raw request path (percent-decoding) into out. Refuses (-1) NUL bytes, encoded
 * slashes or backslashes, control characters, invalid escapes, and "." or ".." segments,
 * so that no decoded path can name anything outside the directory it is resolved in. */
int router_decode_path(const char *raw, size_t raw_len, char *out, size_t outlen);

#endif
