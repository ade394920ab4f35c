/* Fuzzes what every request passes through first: raw path decoding and route matching.
 * Invariants: a decoded path never has a "." or ".." segment, NUL, backslash or control
 * character, and matching never reads outside its buffers. */
#include <stdint.h>
#include <string.h>

#include "http/router.h"

static enum http_result h(struct http_request *q, struct http_reply *r) {
  (void)q;
  (void)r;
  return HTTP_DONE;
}

static const struct http_route routes[] = {
    {HTTP_GET, "/health", h, 0, 0},
    {HTTP_GET | HTTP_POST, "/api/instances", h, 1024, ROUTE_JSON},
    {HTTP_POST, "/api/instances/:id/start", h, 0, 0},
    {HTTP_DELETE, "/api/instances/:id/products/:pid", h, 0, 0},
    {HTTP_GET, "/api/:a/:b/:c/:d/:e/:f", h, 0, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 4096)
    return 0;
  char out[4097], scratch[4097];
  if (router_decode_path((const char *)data + 1, size - 1, out, sizeof out) != 0)
    return 0;
  size_t n = strlen(out);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)out[i];
    if (c < 0x20 || c == 0x7f || c == '\\')
      __builtin_trap();
  }
  if (strstr(out, "/../") || strstr(out, "/./") ||
      (n >= 3 && !strcmp(out + n - 3, "/..")) || (n >= 2 && !strcmp(out + n - 2, "/.")))
    __builtin_trap();
  const struct http_route *r;
  const char *params[HTTP_MAX_PARAMS];
  unsigned np, allowed;
  unsigned method = 1u << (data[0] % 7);
  router_match(routes, sizeof routes / sizeof routes[0], method, out, scratch, sizeof scratch,
               &r, params, &np, &allowed);
  for (unsigned i = 0; i < np; i++)
    if (strlen(params[i]) == 0 || strchr(params[i], '/'))
      __builtin_trap();
  return 0;
}
