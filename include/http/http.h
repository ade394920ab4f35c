/* The HTTP adapter's plain request and reply, seen by handlers instead of MHD.
 *
 * A handler gets a parsed request (method, decoded path, path parameters, query, headers,
 * JSON body) and fills a reply. It returns HTTP_DONE when the reply is ready, or
 * HTTP_SUSPEND when it waits for the network or the disk: it then keeps the request, fills
 * http_reply_of(req) later and calls http_resume(req) from a loop callback. If the request
 * goes away first (client gone, shutdown), the abort hook set with http_on_abort() runs and
 * the handler must forget the request. */
#ifndef ASTRA_HTTP_HTTP_H
#define ASTRA_HTTP_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"

enum http_method {
  HTTP_GET = 1 << 0,
  HTTP_HEAD = 1 << 1,
  HTTP_POST = 1 << 2,
  HTTP_PUT = 1 << 3,
  HTTP_PATCH = 1 << 4,
  HTTP_DELETE = 1 << 5,
  HTTP_OPTIONS = 1 << 6,
};
/* "GET" -> HTTP_GET; 0 when unknown. */
unsigned http_method_parse(const char *s);
const char *http_method_name(unsigned m);

#define HTTP_MAX_PARAMS 6
#define HTTP_MAX_HEADERS 16

struct http_server;
struct http_route;

struct http_request {
  char reqid[17];         /* 16 hex digits, also sent as X-Request-Id */
  unsigned method;        /* one enum http_method bit */
  const char *path;       /* decoded path, no query */
  const char *params[HTTP_MAX_PARAMS]; /* ":name" segments of the route, in order */
  unsigned nparams;
  const char *remote_ip;
  const char *body;       /* raw body (NUL-terminated), NULL when none */
  size_t body_len;
  json_t *json;           /* parsed body for JSON routes (NULL when no body) */
  const struct http_route *route;
  struct http_server *server;
  const char *locale;     /* "pt-BR" or "en": from the server default and Accept-Language */
  void *auth;             /* set by the server's auth step (seller, operator) */
  void *priv_;            /* the adapter's connection state */
};

struct http_reply {
  unsigned status;
  const char *content_type;
  char *body;             /* owned by the reply */
  size_t len;
  unsigned nheaders;
  struct {
    char *name, *value;
  } headers[HTTP_MAX_HEADERS];
};

enum http_result { HTTP_DONE = 0, HTTP_SUSPEND = 1 };
typedef enum http_result (*http_handler)(struct http_request *req, struct http_reply *rep);

const char *http_header(const struct http_request *req, const char *name);
const char *http_query(const struct http_request *req, const char *name);
const char *http_cookie(const struct http_request *req, const char *name);

/* Reply helpers. The body is copied (or the JSON dumped); j is stolen. */
void http_reply_json(struct http_reply *rep, unsigned status, json_t *j);
void http_reply_data(struct http_reply *rep, unsigned status, const char *content_type,
                     const void *data, size_t len);
void http_reply_header(struct http_reply *rep, const char *name, const char *value);
/* The uniform error body; field (may be NULL) names the offending field; message NULL uses
 * the registry's message in the request's locale. */
void http_reply_error(const struct http_request *req, struct http_reply *rep, enum err_id id,
                      const char *field, const char *message);
void http_reply_reset(struct http_reply *rep);

/* Asynchronous replies. */
struct http_reply *http_reply_of(struct http_request *req);
void http_resume(struct http_request *req);
void http_on_abort(struct http_request *req, void (*fn)(struct http_request *req, void *arg),
                   void *arg);

/* Logs with the request id. */
void http_log(const struct http_request *req, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
