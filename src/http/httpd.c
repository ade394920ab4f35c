/* The MHD adapter: one libmicrohttpd daemon per listener on the uv loop.
 *
 * MHD runs in external epoll mode (MHD_USE_EPOLL): its epoll fd is watched by a uv_poll_t and
 * its timeouts by a uv_timer_t, so the whole daemon shares the one loop thread
 * (reference/event-loop.md). Each connection gets a struct conn from the URI log callback
 * (the only place MHD shows the raw, undecoded URI, which we need to refuse encoded slashes
 * and NUL bytes), and the access handler walks it through: route, body, handler, reply.
 * Everything MHD-specific stays in this file. */
#include "http/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"

/* Bodies over a route's cap are read and dropped up to this much, so the client still gets
 * its 413; past it the connection is closed. */
#define DISCARD_LIMIT (16u << 20)

enum conn_state { CONN_NEW, CONN_BODY, CONN_HANDLER, CONN_SUSPENDED, CONN_REPLY, CONN_DONE };

struct conn {
  struct http_server *srv;
  struct MHD_Connection *mhd;
  enum conn_state state;
  struct http_request req;
  struct http_reply rep;
  char *raw_uri;
  char *path;       /* decoded path */
  char *scratch;    /* router's split copy of path */
  char *body;
  size_t body_len, body_cap_alloc;
  size_t discarded;
  int too_large;
  uint64_t start_ns;
  size_t bytes_out;
  void (*abort_fn)(struct http_request *, void *);
  void *abort_arg;
  struct conn *prev_susp, *next_susp; /* suspended list */
  int in_susp_list;
};

struct http_server {
  struct http_server_config cfg;
  struct MHD_Daemon *d;
  uv_loop_t *loop;
  uv_poll_t poll;
  uv_timer_t timer;
  int handles_open;
  int port;
  unsigned inflight;
  uint64_t requests;
  struct conn *suspended;
  void (*closed)(void *);
  void *closed_arg;
  int stopping;       /* quiesced: no new connections */
  int closing;        /* http_server_stop called: close once inflight drains */
  uint64_t close_deadline;
};

/* After http_server_stop, how long the answers to resumed requests may take to go out. */
#define CLOSE_LINGER_MS 1000

static uint64_t rng_state;

/* Request ids need to be unique, not secret: xorshift64* seeded once from the OS. */
static void new_reqid(char out[17]) {
  if (!rng_state) {
    if (crypto_random(&rng_state, sizeof rng_state) != 0 || !rng_state)
      rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)uv_hrtime();
  }
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  uint64_t v = rng_state * 2685821657736338717ull;
  snprintf(out, 17, "%016llx", (unsigned long long)v);
}

/* ---- reply helpers (the handler side) ---- */

void http_reply_reset(struct http_reply *rep) {
  free(rep->body);
  for (unsigned i = 0; i < rep->nheaders; i++) {
    free(rep->headers[i].name);
    free(rep->headers[i].value);
  }
  memset(rep, 0, sizeof *rep);
}

void http_reply_data(struct http_reply *rep, unsigned status, const char *content_type,
                     const void *data, size_t len) {
  free(rep->body);
  rep->body = malloc(len + 1);
  if (!rep->body) {
    rep->status = 500;
    rep->len = 0;
    return;
  }
  if (len)
    memcpy(rep->body, data, len);
  rep->body[len] = 0;
  rep->len = len;
  rep->status = status;
  rep->content_type = content_type;
}

void http_reply_json(struct http_reply *rep, unsigned status, json_t *j) {
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!s) {
    http_reply_data(rep, 500, "application/json; charset=utf-8",
                    "{\"code\":1000,\"error\":\"internal\",\"message\":\"Internal error.\"}",
                    61);
    return;
  }
  free(rep->body);
  rep->body = s;
  rep->len = strlen(s);
  rep->status = status;
  rep->content_type = "application/json; charset=utf-8";
}

void http_reply_header(struct http_reply *rep, const char *name, const char *value) {
  if (rep->nheaders >= HTTP_MAX_HEADERS)
    return;
  rep->headers[rep->nheaders].name = strdup(name);
  rep->headers[rep->nheaders].value = strdup(value);
  rep->nheaders++;
}

void http_reply_error(const struct http_request *req, struct http_reply *rep, enum err_id id,
                      const char *field, const char *message) {
  const struct err_info *e = err_info(id);
  json_t *j = json_pack("{s:i, s:s, s:s}", "code", e->code, "error", e->name, "message",
                        message ? message : err_message(id, req ? req->locale : NULL));
  if (j && field)
    json_object_set_new(j, "field", json_string(field));
  http_reply_json(rep, e->status, j);
}

/* ---- request accessors ---- */

const char *http_header(const struct http_request *req, const char *name) {
  struct conn *c = req->priv_;
  return MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *req, const char *name) {
  struct conn *c = req->priv_;
  return MHD_lookup_connection_value(c->mhd, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const struct http_request *req, const char *name) {
  struct conn *c = req->priv_;
  return MHD_lookup_connection_value(c->mhd, MHD_COOKIE_KIND, name);
}

struct http_reply *http_reply_of(struct http_request *req) {
  return &((struct conn *)req->priv_)->rep;
}

void http_on_abort(struct http_request *req, void (*fn)(struct http_request *, void *),
                   void *arg) {
  struct conn *c = req->priv_;
  c->abort_fn = fn;
  c->abort_arg = arg;
}

void http_log(const struct http_request *req, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg((enum log_level)level, "http", req ? req->reqid : NULL, fmt, ap);
  va_end(ap);
}

/* ---- the loop glue ---- */

static void server_run(struct http_server *s);
static void finish_close(struct http_server *s);

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  server_run(h->data);
}

static void on_timer(uv_timer_t *t) { server_run(t->data); }

/* MHD_run, then re-arm the timer from MHD_get_timeout: MHD must be run again no later than
 * it says, even without socket activity (idle timeouts, resumed connections). */
static void server_run(struct http_server *s) {
  if (!s->d)
    return;
  MHD_run(s->d);
  if (s->closing) {
    if (s->inflight == 0 || uv_now(s->loop) >= s->close_deadline) {
      finish_close(s);
      return;
    }
    /* keep turning while the last answers are written */
    uv_timer_start(&s->timer, on_timer, 10, 0);
    return;
  }
  MHD_UNSIGNED_LONG_LONG to;
  if (MHD_get_timeout(s->d, &to) == MHD_YES)
    uv_timer_start(&s->timer, on_timer, to, 0);
  else
    uv_timer_stop(&s->timer);
}

static void kick(struct http_server *s) {
  if (s->handles_open)
    uv_timer_start(&s->timer, on_timer, 0, 0);
}

static void susp_add(struct conn *c) {
  struct http_server *s = c->srv;
  c->prev_susp = NULL;
  c->next_susp = s->suspended;
  if (s->suspended)
    s->suspended->prev_susp = c;
  s->suspended = c;
  c->in_susp_list = 1;
}

static void susp_remove(struct conn *c) {
  if (!c->in_susp_list)
    return;
  if (c->prev_susp)
    c->prev_susp->next_susp = c->next_susp;
  else
    c->srv->suspended = c->next_susp;
  if (c->next_susp)
    c->next_susp->prev_susp = c->prev_susp;
  c->in_susp_list = 0;
}

void http_resume(struct http_request *req) {
  struct conn *c = req->priv_;
  if (c->state != CONN_SUSPENDED)
    return;
  susp_remove(c);
  c->state = CONN_REPLY;
  c->abort_fn = NULL;
  MHD_resume_connection(c->mhd);
  kick(c->srv);
}

/* ---- building the MHD response ---- */

static const char *csp_for(const char *content_type) {
  if (content_type && !strncmp(content_type, "text/html", 9))
    return "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
           "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'";
  return "default-src 'none'; frame-ancestors 'none'";
}

static enum MHD_Result queue_reply(struct conn *c) {
  struct http_reply *rep = &c->rep;
  if (!rep->status)
    http_reply_error(&c->req, rep, ERR_INTERNAL, NULL, NULL);
  struct MHD_Response *r = MHD_create_response_from_buffer(rep->len, rep->body,
                                                           MHD_RESPMEM_MUST_FREE);
  if (!r)
    return MHD_NO;
  rep->body = NULL; /* MHD owns it now */
  c->bytes_out = rep->len;
  int have_cc = 0;
  for (unsigned i = 0; i < rep->nheaders; i++) {
    MHD_add_response_header(r, rep->headers[i].name, rep->headers[i].value);
    if (!strcasecmp(rep->headers[i].name, "Cache-Control"))
      have_cc = 1;
  }
  if (rep->content_type)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
  if (!have_cc)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(r, "X-Request-Id", c->req.reqid);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Referrer-Policy", "same-origin");
  MHD_add_response_header(r, "Content-Security-Policy", csp_for(rep->content_type));
  enum MHD_Result ret = MHD_queue_response(c->mhd, rep->status, r);
  MHD_destroy_response(r);
  c->state = CONN_DONE;
  return ret;
}

static enum MHD_Result reply_error(struct conn *c, enum err_id id, const char *field) {
  http_reply_error(&c->req, &c->rep, id, field, NULL);
  return queue_reply(c);
}

/* ---- static files ---- */

static int etag_matches(const char *inm, const char *etag) {
  if (!inm)
    return 0;
  if (!strcmp(inm, "*"))
    return 1;
  size_t el = strlen(etag);
  for (const char *p = inm; (p = strstr(p, etag)); p += el) {
    char after = p[el];
    if (after == 0 || after == ',' || after == ' ')
      return 1;
  }
  /* weak form W/"..." also matches for GET */
  return 0;
}

static int accepts_gzip(const char *ae) {
  if (!ae)
    return 0;
  const char *p = strstr(ae, "gzip");
  if (!p)
    return 0;
  /* "gzip;q=0" refuses it */
  const char *q = p + 4;
  while (*q == ' ')
    q++;
  if (*q == ';') {
    const char *qv = strstr(q, "q=");
    if (qv && atof(qv + 2) <= 0.0)
      return 0;
  }
  return 1;
}

static enum MHD_Result serve_static(struct conn *c, const struct static_file *f) {
  struct http_reply *rep = &c->rep;
  http_reply_reset(rep);
  http_reply_header(rep, "ETag", f->etag);
  http_reply_header(rep, "Cache-Control", f->html ? "no-cache" : "public, max-age=300");
  if (f->gz)
    http_reply_header(rep, "Vary", "Accept-Encoding");
  if (etag_matches(http_header(&c->req, "If-None-Match"), f->etag)) {
    http_reply_data(rep, 304, NULL, "", 0);
    return queue_reply(c);
  }
  if (f->gz && accepts_gzip(http_header(&c->req, "Accept-Encoding"))) {
    http_reply_header(rep, "Content-Encoding", "gzip");
    http_reply_data(rep, 200, f->mime, f->gz, f->gzlen);
  } else {
    http_reply_data(rep, 200, f->mime, f->data, f->len);
  }
  return queue_reply(c);
}

/* ---- the access handler ---- */

static const char *pick_locale(struct conn *c) {
  const char *al = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "Accept-Language");
  if (al) {
    while (*al == ' ')
      al++;
    if (!strncasecmp(al, "en", 2))
      return "en";
    if (!strncasecmp(al, "pt", 2))
      return "pt-BR";
  }
  return c->srv->cfg.locale ? c->srv->cfg.locale : "pt-BR";
}

static int is_json_type(const char *ct) {
  if (!ct)
    return 0;
  while (*ct == ' ')
    ct++;
  size_t n = strlen("application/json");
  return !strncasecmp(ct, "application/json", n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* The last X-Forwarded-For hop into ip, when it is a valid address (else ip is kept). */
static void forwarded_for(struct conn *c, char *ip, size_t iplen) {
  const char *xff = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "X-Forwarded-For");
  if (!xff)
    return;
  const char *last = strrchr(xff, ',');
  last = last ? last + 1 : xff;
  while (*last == ' ' || *last == '\t')
    last++;
  char cand[INET6_ADDRSTRLEN];
  size_t n = strcspn(last, " \t");
  if (n == 0 || n >= sizeof cand)
    return;
  memcpy(cand, last, n);
  cand[n] = 0;
  unsigned char addr[16];
  if (inet_pton(AF_INET, cand, addr) == 1 || inet_pton(AF_INET6, cand, addr) == 1)
    snprintf(ip, iplen, "%s", cand);
}

/* The first call for a request: everything that can be decided from the headers alone. */
static enum MHD_Result on_headers(struct conn *c, const char *method) {
  struct http_server *s = c->srv;
  c->req.method = http_method_parse(method);
  c->req.locale = pick_locale(c);
  const struct sockaddr *sa =
      MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS)->client_addr;
  char ipbuf[INET6_ADDRSTRLEN];
  ipbuf[0] = 0;
  if (sa && sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ipbuf, sizeof ipbuf);
  else if (sa && sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ipbuf, sizeof ipbuf);
  if (s->cfg.trust_proxy)
    forwarded_for(c, ipbuf, sizeof ipbuf);
  c->req.remote_ip = strdup(ipbuf);

  size_t raw_len = c->raw_uri ? strlen(c->raw_uri) : 0;
  if (raw_len > HTTP_MAX_URI)
    return reply_error(c, ERR_URI_TOO_LONG, NULL);
  size_t path_len = strcspn(c->raw_uri ? c->raw_uri : "", "?#");
  c->path = malloc(path_len + 1);
  c->scratch = malloc(path_len + 1);
  if (!c->path || !c->scratch)
    return MHD_NO;
  c->req.path = c->path;
  if (router_decode_path(c->raw_uri, path_len, c->path, path_len + 1) != 0) {
    c->req.path = "(invalid)";
    return reply_error(c, ERR_BAD_PATH, NULL);
  }
  if (!c->req.method) {
    http_reply_header(&c->rep, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    return reply_error(c, ERR_METHOD_NOT_ALLOWED, NULL);
  }

  const struct http_route *route = NULL;
  unsigned allowed = 0;
  enum router_result rr =
      router_match(s->cfg.routes, s->cfg.nroutes, c->req.method, c->path, c->scratch,
                   path_len + 1, &route, c->req.params, &c->req.nparams, &allowed);
  if (rr == ROUTER_BAD_METHOD) {
    char allow[96];
    router_allow_header(allowed, allow, sizeof allow);
    http_reply_header(&c->rep, "Allow", allow);
    if (c->req.method == HTTP_OPTIONS) {
      http_reply_data(&c->rep, 204, NULL, "", 0);
      return queue_reply(c);
    }
    return reply_error(c, ERR_METHOD_NOT_ALLOWED, NULL);
  }
  if (rr == ROUTER_NOT_FOUND) {
    /* API paths never fall back to files, so a typo in a client is a clear JSON 404 */
    int api = !strncmp(c->path, "/api/", 5) || !strcmp(c->path, "/api");
    if (!api && s->cfg.site && (c->req.method & (HTTP_GET | HTTP_HEAD))) {
      const struct static_file *f = static_lookup(s->cfg.site, c->path);
      if (f)
        return serve_static(c, f);
    }
    if (!api && s->cfg.site && !(c->req.method & (HTTP_GET | HTTP_HEAD)) &&
        static_lookup(s->cfg.site, c->path)) {
      http_reply_header(&c->rep, "Allow", "GET, HEAD");
      return reply_error(c, ERR_METHOD_NOT_ALLOWED, NULL);
    }
    return reply_error(c, ERR_NOT_FOUND, NULL);
  }
  c->req.route = route;

  /* Decide about the body before reading it. */
  const char *cl = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "Content-Length");
  const char *te = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "Transfer-Encoding");
  unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
  int has_body = (cl && declared > 0) || te;
  if (has_body && declared > route->body_cap)
    return reply_error(c, ERR_BODY_TOO_LARGE, NULL);
  if (has_body && (route->flags & ROUTE_JSON) &&
      !is_json_type(MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "Content-Type")))
    return reply_error(c, ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
  c->state = CONN_BODY;
  return MHD_YES;
}

static enum MHD_Result take_body(struct conn *c, const char *data, size_t len) {
  if (c->too_large || c->body_len + len > c->req.route->body_cap) {
    c->too_large = 1;
    c->discarded += len;
    return c->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
  }
  if (c->body_len + len + 1 > c->body_cap_alloc) {
    size_t want = c->body_cap_alloc ? c->body_cap_alloc * 2 : 1024;
    while (want < c->body_len + len + 1)
      want *= 2;
    char *nb = realloc(c->body, want);
    if (!nb)
      return MHD_NO;
    c->body = nb;
    c->body_cap_alloc = want;
  }
  memcpy(c->body + c->body_len, data, len);
  c->body_len += len;
  c->body[c->body_len] = 0;
  return MHD_YES;
}

/* The whole body is in: parse, authorize, run the handler. */
static enum MHD_Result run_handler(struct conn *c) {
  struct http_server *s = c->srv;
  const struct http_route *route = c->req.route;
  if (c->too_large)
    return reply_error(c, ERR_BODY_TOO_LARGE, NULL);
  c->req.body = c->body;
  c->req.body_len = c->body_len;
  if ((route->flags & ROUTE_JSON) && c->body_len > 0) {
    json_error_t jerr;
    c->req.json = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!c->req.json)
      return reply_error(c, ERR_BAD_JSON, NULL);
  }
  if (s->cfg.authorize && !(route->flags & ROUTE_PUBLIC)) {
    if (s->cfg.authorize(&c->req, &c->rep) != 0)
      return queue_reply(c);
  }
  c->state = CONN_HANDLER;
  enum http_result r = route->handler(&c->req, &c->rep);
  if (r == HTTP_SUSPEND && c->state == CONN_HANDLER) {
    c->state = CONN_SUSPENDED;
    susp_add(c);
    MHD_suspend_connection(c->mhd);
    return MHD_YES;
  }
  /* HTTP_DONE, or a handler that resumed before it even returned */
  return queue_reply(c);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  (void)cls;
  (void)url;
  (void)version;
  struct conn *c = *con_cls;
  if (!c)
    return MHD_NO;
  c->mhd = connection;
  switch (c->state) {
  case CONN_NEW:
    c->srv->requests++;
    return on_headers(c, method);
  case CONN_BODY:
    if (*upload_data_size) {
      enum MHD_Result r = take_body(c, upload_data, *upload_data_size);
      *upload_data_size = 0;
      return r;
    }
    return run_handler(c);
  case CONN_REPLY:
    return queue_reply(c);
  case CONN_HANDLER:
  case CONN_SUSPENDED:
  case CONN_DONE:
    /* more upload data after a reply was queued: drop it */
    *upload_data_size = 0;
    return MHD_YES;
  }
  return MHD_NO;
}

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *connection) {
  struct http_server *s = cls;
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->srv = s;
  c->mhd = connection;
  c->raw_uri = strdup(uri ? uri : "/");
  c->start_ns = uv_hrtime();
  c->req.priv_ = c;
  c->req.server = s;
  c->req.path = "";
  new_reqid(c->req.reqid);
  s->inflight++;
  return c;
}

static void completed_cb(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)connection;
  struct http_server *s = cls;
  struct conn *c = *con_cls;
  if (!c)
    return;
  *con_cls = NULL;
  if (c->abort_fn) /* the handler still holds this request: tell it to let go */
    c->abort_fn(&c->req, c->abort_arg);
  susp_remove(c);
  enum log_level lvl = c->rep.status >= 500 || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK
                           ? LOG_WARN
                           : LOG_INFO;
  if (log_enabled(lvl)) { /* the access line is the hot path's only formatting: skip it early */
    double ms = (double)(uv_hrtime() - c->start_ns) / 1e6;
    char status[8], bytes[24], dur[24];
    snprintf(status, sizeof status, "%u", c->rep.status);
    snprintf(bytes, sizeof bytes, "%zu", c->bytes_out);
    snprintf(dur, sizeof dur, "%.2f", ms);
    const char *method = c->req.method ? http_method_name(c->req.method) : "?";
    const char *kv[] = {"server", s->cfg.name, "method", method, "path", c->req.path,
                        "status", status, "bytes", bytes, "ms", dur, NULL};
    log_fields(lvl, "access", c->req.reqid, kv, "%s %s %u %zuB %.2fms%s", method, c->req.path,
               c->rep.status, c->bytes_out, ms,
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
  }
  json_decref(c->req.json);
  http_reply_reset(&c->rep);
  free((char *)c->req.remote_ip);
  free(c->raw_uri);
  free(c->path);
  free(c->scratch);
  free(c->body);
  free(c);
  s->inflight--;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = 0;
  log_msg(LOG_WARN, "mhd", NULL, "%s", buf);
}

int http_server_start(struct http_server **out, uv_loop_t *loop,
                      const struct http_server_config *cfg, char *err, size_t errlen) {
  struct http_server *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->cfg = *cfg;
  s->loop = loop;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  const char *host = cfg->host && strcmp(cfg->host, "localhost") ? cfg->host : "127.0.0.1";
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)cfg->port);
  } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)cfg->port);
    flags |= MHD_USE_IPv6;
  } else {
    snprintf(err, errlen, "%s listener: bad address '%s'", cfg->name, host);
    free(s);
    return -1;
  }
  unsigned limit = cfg->connection_limit ? cfg->connection_limit : 1024;
  /* MHD wants its logger first, so that errors in the later options reach it */
  s->d = MHD_start_daemon(
      flags, (uint16_t)cfg->port, NULL, NULL, access_cb, s, MHD_OPTION_EXTERNAL_LOGGER,
      mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s,
      MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)(64 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
  if (!s->d) {
    snprintf(err, errlen, "%s listener: cannot listen on %s:%d (in use, or not allowed)",
             cfg->name, host, cfg->port);
    free(s);
    return -1;
  }
  const union MHD_DaemonInfo *pi = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = pi ? pi->port : cfg->port;
  const union MHD_DaemonInfo *ei = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
  /* uv_poll_init, not _socket: this is an epoll fd that turns readable when MHD has work */
  if (!ei || uv_poll_init(loop, &s->poll, ei->epoll_fd) != 0) {
    snprintf(err, errlen, "%s listener: cannot watch MHD's epoll fd", cfg->name);
    MHD_stop_daemon(s->d);
    free(s);
    return -1;
  }
  uv_timer_init(loop, &s->timer);
  s->poll.data = s;
  s->timer.data = s;
  s->handles_open = 2;
  uv_poll_start(&s->poll, UV_READABLE, on_poll);
  server_run(s);
  *out = s;
  return 0;
}

int http_server_port(const struct http_server *s) { return s->port; }
unsigned http_server_inflight(const struct http_server *s) { return s->inflight; }
uint64_t http_server_requests(const struct http_server *s) { return s->requests; }

void http_server_set_site(struct http_server *s, const struct static_site *site) {
  s->cfg.site = site;
}

void http_server_quiesce(struct http_server *s) {
  if (!s->d || s->stopping)
    return;
  s->stopping = 1;
  MHD_socket fd = MHD_quiesce_daemon(s->d);
  if (fd != MHD_INVALID_SOCKET)
    close(fd);
  kick(s);
}

static void on_handle_closed(uv_handle_t *h) {
  struct http_server *s = h->data;
  if (--s->handles_open > 0)
    return;
  /* Both uv handles are gone, so MHD may now close its epoll fd. */
  MHD_stop_daemon(s->d);
  s->d = NULL;
  void (*closed)(void *) = s->closed;
  void *arg = s->closed_arg;
  free(s);
  if (closed)
    closed(arg);
}

void http_server_stop(struct http_server *s, void (*closed)(void *), void *arg) {
  http_server_quiesce(s);
  s->closed = closed;
  s->closed_arg = arg;
  s->closing = 1;
  s->close_deadline = uv_now(s->loop) + CLOSE_LINGER_MS;
  /* Stopping MHD with suspended connections is an API violation: answer them first, then
   * keep running until those answers are out (server_run calls finish_close). */
  while (s->suspended) {
    struct conn *c = s->suspended;
    susp_remove(c);
    if (c->abort_fn)
      c->abort_fn(&c->req, c->abort_arg);
    c->abort_fn = NULL;
    http_reply_reset(&c->rep);
    http_reply_error(&c->req, &c->rep, ERR_SHUTTING_DOWN, NULL, NULL);
    c->state = CONN_REPLY;
    MHD_resume_connection(c->mhd);
  }
  kick(s);
}

/* Closes the uv handles; MHD itself is stopped from the last close callback, because
 * MHD_stop_daemon closes the epoll fd that the uv_poll_t watches. */
static void finish_close(struct http_server *s) {
  if (!s->handles_open || uv_is_closing((uv_handle_t *)&s->poll))
    return;
  uv_poll_stop(&s->poll);
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}
