/* An HTTP listener: libmicrohttpd in external epoll mode, driven by the uv loop (its epoll
 * fd is a uv_poll_t, re-armed from MHD_get_timeout after each MHD_run). It turns each MHD
 * connection into a plain struct http_request, routes it through the server's table, checks
 * body caps and media types, authenticates non-public routes, runs the handler, serves
 * static files, and writes one access-log line per request. */
#ifndef ASTRA_HTTP_HTTPD_H
#define ASTRA_HTTP_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/router.h"
#include "http/static.h"

struct http_server_config {
  const char *name;   /* "portal" or "admin", for logs */
  const char *host;   /* IPv4/IPv6 literal or "localhost" */
  int port;           /* 0 picks a free port (tests) */
  const struct http_route *routes;
  size_t nroutes;
  const struct static_site *site; /* may be NULL */
  /* Called for routes without ROUTE_PUBLIC before the handler; returns 0 to go on, or -1
   * after filling rep with an error. NULL: every route is public. */
  int (*authorize)(struct http_request *req, struct http_reply *rep);
  const char *locale; /* default "pt-BR" */
  unsigned connection_limit; /* 0: 1024 */
  /* Behind a reverse proxy: the client's address is the last entry of X-Forwarded-For (the
   * one the proxy appended; earlier ones are whatever the client sent), when it is a valid
   * IP. Without it, per-IP limits would see the proxy alone. */
  int trust_proxy;
};

struct http_server;

int http_server_start(struct http_server **out, uv_loop_t *loop,
                      const struct http_server_config *cfg, char *err, size_t errlen);
int http_server_port(const struct http_server *s);
/* Swaps the static site (after a reload); the old one may be freed once this returns. */
void http_server_set_site(struct http_server *s, const struct static_site *site);
/* Stops accepting new connections; requests in flight go on. */
void http_server_quiesce(struct http_server *s);
/* Requests in flight (including suspended ones). */
unsigned http_server_inflight(const struct http_server *s);
uint64_t http_server_requests(const struct http_server *s);
/* Answers every suspended request with 503, closes the uv handles, then (from the close
 * callback) stops MHD and frees; closed(arg) runs after that. */
void http_server_stop(struct http_server *s, void (*closed)(void *arg), void *arg);

/* Maximum raw URI length; longer answers 414. */
#define HTTP_MAX_URI 2048

#endif
