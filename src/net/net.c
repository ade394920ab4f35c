/* Outgoing HTTP client (include/net/net.h): curl's multi_socket interface driven by the
 * daemon's uv loop, as in curl's docs/examples/multi-uv.c. One curl multi handle (so
 * connections are reused), one uv_poll_t per curl socket, one uv_timer_t for curl's
 * timeouts, and one uv_timer_t per call while it waits to be retried. Everything runs on
 * the loop thread; nothing here blocks it, and no locks are needed.
 *
 * Lifetime of a call: net_send() copies the request and adds a curl easy handle (attempt
 * 1). When curl reports the transfer done, the attempt is judged: a transient failure of an
 * idempotent call with retries left waits on its retry timer and starts a fresh easy
 * handle; anything else finishes the call, which runs the callback once and frees it. A
 * cancelled call is freed at once and its callback never runs. */
#include "net/net.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef ASTRA_VERSION
#define ASTRA_VERSION "0"
#endif

enum {
  DEFAULT_TIMEOUT_MS = 15000,
  DEFAULT_MAX_RESPONSE = 8 * 1024 * 1024,
  /* Response headers are small in practice; the cap keeps a hostile server from growing
   * our header store without bound (curl only limits each single header line). */
  MAX_HEADER_BYTES = 256 * 1024,
  /* Enough parallelism for a burst of REST calls to one API host while still reusing
   * connections; further transfers queue inside curl. */
  MAX_HOST_CONNECTIONS = 16,
  BACKOFF_BASE_MS = 200,
  BACKOFF_CAP_MS = 10 * 1000,
  RETRY_AFTER_CAP_MS = 60 * 1000,
  MAX_CA_FILE_BYTES = 16 * 1024 * 1024,
};

/* Used only when curl cannot tell us its built-in bundle (CURLINFO_CAINFO). */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define PEM_CERT_MARKER "-----BEGIN CERTIFICATE-----"

/* A growable byte buffer that always keeps a NUL after its data, so a response body can be
 * handed out as a C string. */
struct buf {
  char *data;
  size_t len, cap;
};

/* One socket curl asked us to watch. */
struct sock {
  uv_poll_t poll;
  curl_socket_t fd;
  struct sock *prev, *next;
};

enum call_state {
  CALL_IN_FLIGHT, /* an easy handle is in the multi */
  CALL_WAITING,   /* between attempts, on its retry timer */
  CALL_FINISHING, /* its callback is running; freed right after */
};

struct net_call {
  struct net_call *prev, *next; /* all calls in flight or waiting */
  enum call_state state;
  net_done_fn cb;
  void *arg;

  /* The request, owned by the call because every attempt needs it again. */
  const char *method; /* one of the static names in methods[] */
  char *url;
  struct curl_slist *headers;
  char *body; /* NULL when there is none */
  size_t body_len;
  long timeout_ms;
  unsigned max_retries;
  int idempotent;
  int sends_body; /* POSTFIELDS are set: a body was given, or the method expects one */
  size_t max_response;

  CURL *easy;              /* the current attempt, or NULL */
  uv_timer_t *retry_timer; /* allocated on the first retry; closed with the call */
  unsigned attempts;
  uint64_t start_ns;

  /* The current attempt's response; reset when an attempt starts. */
  struct buf resp;
  struct buf hdrs; /* "name\0value\0" pairs in arrival order */
  int resp_too_big;
  int hdrs_too_big;
  char errbuf[CURL_ERROR_SIZE];
};

struct net_state {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer; /* curl's single timeout; closed last, and its close frees the state */
  char *ua;
  char *ca_pem; /* system bundle + extra CA, or NULL to use curl's default bundle */
  struct curl_blob ca_blob;
  struct net_call *calls;
  unsigned pending;
  struct sock *socks;
  uint64_t rng;
};

/* The module is a singleton, like the loop it lives on. NULL before net_init and after
 * net_shutdown. */
static struct net_state *S;

/* Methods we accept, and whether they are idempotent (RFC 9110 9.2.2) and so safe to
 * retry when the caller passes idempotent = -1. */
static const struct {
  const char *name;
  int idempotent;
} methods[] = {
    {"GET", 1}, {"HEAD", 1}, {"PUT", 1}, {"DELETE", 1}, {"OPTIONS", 1}, {"POST", 0}, {"PATCH", 0},
};

static void free_handle(uv_handle_t *h) { free(h); }

/* ---- small helpers ---- */

static int buf_append(struct buf *b, const void *p, size_t n) {
  if (n + 1 > b->cap - b->len || !b->data) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n + 1) {
      if (cap > SIZE_MAX / 2)
        return -1;
      cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d)
      return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

static void buf_free(struct buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* splitmix64: only spreads retry times apart (jitter), so it needs no cryptographic
 * strength. */
static uint64_t rng_next(void) {
  uint64_t z = (S->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int read_file(const char *path, struct buf *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  char chunk[8192];
  size_t n;
  int rc = 0;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (out->len + n > MAX_CA_FILE_BYTES || buf_append(out, chunk, n) != 0) {
      rc = -1;
      break;
    }
  }
  if (ferror(f))
    rc = -1;
  fclose(f);
  return rc;
}

/* The CA bundle curl would use by default (Debian: the ca-certificates bundle). */
static const char *system_ca_bundle(void) {
  static char path[4096];
  const char *p = NULL;
  CURL *e = curl_easy_init();
  if (e) {
    char *info = NULL;
    if (curl_easy_getinfo(e, CURLINFO_CAINFO, &info) == CURLE_OK && info && *info) {
      snprintf(path, sizeof path, "%s", info);
      p = path;
    }
    curl_easy_cleanup(e);
  }
  return p ? p : SYSTEM_CA_BUNDLE;
}

/* Setting CURLOPT_CAINFO to the extra file would replace the system bundle, so the two are
 * concatenated once into one PEM held in memory and passed as CURLOPT_CAINFO_BLOB (curl >=
 * 7.77). Both must be readable: trusting only one of them would silently change which
 * servers we accept. */
static int load_ca(struct net_state *st, const char *extra) {
  struct buf pem = {0};
  struct buf more = {0};
  int rc = -1;
  if (read_file(system_ca_bundle(), &pem) != 0)
    goto out;
  if (read_file(extra, &more) != 0 || !more.data || !strstr(more.data, PEM_CERT_MARKER))
    goto out;
  if (buf_append(&pem, "\n", 1) != 0 || buf_append(&pem, more.data, more.len) != 0)
    goto out;
  st->ca_pem = pem.data;
  st->ca_blob.data = pem.data;
  st->ca_blob.len = pem.len;
  /* No copy per easy handle: the PEM lives until net_shutdown, after every easy handle is
   * gone (connections keep their own copy of the blob). */
  st->ca_blob.flags = CURL_BLOB_NOCOPY;
  pem.data = NULL;
  rc = 0;
out:
  buf_free(&pem);
  buf_free(&more);
  return rc;
}

/* ---- curl <-> uv plumbing ---- */

static void drain(void);

static void sock_close(struct net_state *st, struct sock *cs) {
  uv_poll_stop(&cs->poll);
  if (cs->prev)
    cs->prev->next = cs->next;
  else
    st->socks = cs->next;
  if (cs->next)
    cs->next->prev = cs->prev;
  uv_close((uv_handle_t *)&cs->poll, free_handle); /* poll is the first member */
}

static void on_sock(uv_poll_t *h, int status, int events) {
  struct sock *cs = h->data;
  int flags = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  int running;
  /* cs may be closed inside this call (CURL_POLL_REMOVE); it is not used afterwards. */
  curl_multi_socket_action(S->multi, cs->fd, flags, &running);
  drain();
}

static void on_curl_timer(uv_timer_t *t) {
  (void)t;
  int running;
  curl_multi_socket_action(S->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain();
}

/* CURLMOPT_SOCKETFUNCTION: curl tells us which sockets to watch for what. */
static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  (void)easy;
  struct net_state *st = userp;
  struct sock *cs = socketp;
  if (what == CURL_POLL_REMOVE) {
    /* Called before curl closes the fd, so the poll stops while the fd is still valid. */
    if (cs) {
      sock_close(st, cs);
      curl_multi_assign(st->multi, s, NULL);
    }
    return 0;
  }
  if (!cs) {
    cs = calloc(1, sizeof *cs);
    if (!cs)
      return -1;
    if (uv_poll_init_socket(st->loop, &cs->poll, s) != 0) {
      free(cs);
      return -1;
    }
    cs->fd = s;
    cs->poll.data = cs;
    cs->next = st->socks;
    if (st->socks)
      st->socks->prev = cs;
    st->socks = cs;
    curl_multi_assign(st->multi, s, cs);
  }
  int events = 0;
  if (what & CURL_POLL_IN)
    events |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    events |= UV_WRITABLE;
  uv_poll_start(&cs->poll, events, on_sock);
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants CURL_SOCKET_TIMEOUT in timeout_ms, or never (-1). Even
 * a 0 ms uv timer fires later from the loop, never from inside this callback: curl forbids
 * calling back into the multi handle from here. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  struct net_state *st = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&st->timer);
  else
    uv_timer_start(&st->timer, on_curl_timer, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ---- per-attempt callbacks ---- */

static size_t on_body(char *p, size_t size, size_t n, void *userdata) {
  struct net_call *c = userdata;
  size_t len = size * n;
  if (len > c->max_response - c->resp.len) {
    c->resp_too_big = 1;
    return 0; /* anything but len aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (buf_append(&c->resp, p, len) != 0)
    return 0;
  return len;
}

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

static size_t on_header(char *p, size_t size, size_t n, void *userdata) {
  struct net_call *c = userdata;
  size_t len = size * n;
  /* A status line starts a new response (1xx interim responses precede the real one), so
   * only the final response's headers remain. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    c->hdrs.len = 0;
    return len;
  }
  /* Skip the blank line ending the block, obsolete folded continuation lines, and lines
   * with NUL bytes (they would break the NUL-separated store). */
  const char *colon = memchr(p, ':', len);
  if (!colon || is_space(p[0]) || memchr(p, '\0', len))
    return len;
  size_t name_len = (size_t)(colon - p);
  while (name_len > 0 && is_space(p[name_len - 1]))
    name_len--;
  const char *v = colon + 1;
  const char *end = p + len;
  while (v < end && is_space(*v))
    v++;
  while (end > v && is_space(end[-1]))
    end--;
  size_t v_len = (size_t)(end - v);
  if (c->hdrs.len + name_len + v_len + 2 > MAX_HEADER_BYTES) {
    c->hdrs_too_big = 1;
    return 0;
  }
  if (buf_append(&c->hdrs, p, name_len) != 0 || buf_append(&c->hdrs, "", 1) != 0 ||
      buf_append(&c->hdrs, v, v_len) != 0 || buf_append(&c->hdrs, "", 1) != 0)
    return 0;
  return len;
}

static const char *header_value(const struct net_call *c, const char *name) {
  const char *found = NULL;
  const char *p = c->hdrs.data;
  const char *end = p ? p + c->hdrs.len : NULL;
  while (p && p < end) {
    const char *v = p + strlen(p) + 1;
    if (strcasecmp(p, name) == 0)
      found = v; /* keep going: the last value wins */
    p = v + strlen(v) + 1;
  }
  return found;
}

const char *net_header(const struct net_response *r, const char *name) {
  if (!r || !r->priv_ || !name)
    return NULL;
  return header_value(r->priv_, name);
}

/* ---- calls ---- */

static void call_unlink(struct net_call *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    S->calls = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
  S->pending--;
}

/* Frees a call that is no longer in the list. */
static void call_free(struct net_call *c) {
  if (c->easy) {
    curl_multi_remove_handle(S->multi, c->easy);
    curl_easy_cleanup(c->easy);
  }
  if (c->retry_timer) {
    uv_timer_stop(c->retry_timer);
    uv_close((uv_handle_t *)c->retry_timer, free_handle);
  }
  free(c->url);
  curl_slist_free_all(c->headers);
  free(c->body);
  buf_free(&c->resp);
  buf_free(&c->hdrs);
  free(c);
}

static int start_attempt(struct net_call *c) {
  c->resp.len = 0;
  c->hdrs.len = 0;
  if (c->resp.data)
    c->resp.data[0] = '\0';
  c->resp_too_big = 0;
  c->hdrs_too_big = 0;
  c->errbuf[0] = '\0';

  CURL *e = curl_easy_init();
  if (!e)
    return -1;
  curl_easy_setopt(e, CURLOPT_PRIVATE, c);
  /* No SIGALRM tricks: we are not the only thing in this process. */
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(e, CURLOPT_URL, c->url);
  /* A REST client has no business reading file:// or talking to other protocols. */
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_USERAGENT, S->ua);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
  /* Fails early when Content-Length already says too big; on_body covers chunked ones. */
  if (c->max_response < (size_t)INT64_MAX)
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
  if (S->ca_pem)
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &S->ca_blob);

  const char *m = c->method;
  if (!strcmp(m, "HEAD"))
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (c->sends_body) {
    /* The call owns the body for all its attempts and outlives the easy handle, so curl
     * reads it in place rather than copying it again (COPYPOSTFIELDS) per attempt. The
     * explicit size keeps NUL bytes; an empty body still sends Content-Length: 0, which
     * some APIs demand for PUT. */
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
  }
  /* POSTFIELDS alone means POST and NOBODY means HEAD; every other method, and a GET that
   * carries a body, is named explicitly. */
  if (strcmp(m, "POST") != 0 && strcmp(m, "HEAD") != 0 && (strcmp(m, "GET") != 0 || c->sends_body))
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);

  if (curl_multi_add_handle(S->multi, e) != CURLM_OK) {
    curl_easy_cleanup(e);
    return -1;
  }
  c->easy = e;
  c->attempts++;
  c->state = CALL_IN_FLIGHT;
  return 0;
}

/* Runs the callback once and frees the call. */
static void finish(struct net_call *c, CURLcode result, long status) {
  struct net_response r = {0};
  if (c->resp_too_big || result == CURLE_FILESIZE_EXCEEDED) {
    result = CURLE_FILESIZE_EXCEEDED;
    snprintf(c->errbuf, sizeof c->errbuf, "response body exceeds %zu bytes", c->max_response);
  } else if (c->hdrs_too_big) {
    snprintf(c->errbuf, sizeof c->errbuf, "response headers exceed %d bytes", MAX_HEADER_BYTES);
  }
  r.error = (int)result;
  if (result != CURLE_OK) {
    r.error_msg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(result);
    status = 0;
  }
  r.status = status;
  r.body = c->resp.data ? c->resp.data : "";
  r.body_len = c->resp.len;
  r.attempts = c->attempts;
  r.elapsed_ms = (double)(uv_hrtime() - c->start_ns) / 1e6;
  r.priv_ = c;

  /* Out of the list first, so net_pending() is right inside the callback and net_shutdown()
   * or net_cancel() called from it cannot reach this call. */
  call_unlink(c);
  c->state = CALL_FINISHING;
  c->cb(&r, c->arg);
  call_free(c);
}

/* Errors where the request may never have reached the server or the answer got lost on
 * the way: worth another attempt if the call is idempotent. */
int net_transient(int curl_error) {
  switch ((CURLcode)curl_error) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return 1;
  default:
    return 0;
  }
}

static uint64_t secs_to_ms(double secs) {
  if (secs * 1000.0 >= RETRY_AFTER_CAP_MS)
    return RETRY_AFTER_CAP_MS;
  /* Rounded up plus 1 ms: uv timers count from the loop's ms-truncated clock, and the
   * server asked us to wait at least this long. */
  return (uint64_t)ceil(secs * 1000.0) + 1;
}

/* Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. Fractional seconds are not
 * in the RFC but are what Discord sends. 0 and *ms set, or -1 when unusable. */
static int parse_retry_after(const char *v, uint64_t *ms) {
  char *end;
  double secs = strtod(v, &end);
  if (end != v) {
    while (is_space(*end))
      end++;
    if (*end != '\0' || !isfinite(secs) || secs < 0)
      return -1;
    *ms = secs_to_ms(secs);
    return 0;
  }
  time_t when = curl_getdate(v, NULL);
  if (when == (time_t)-1)
    return -1;
  time_t now = time(NULL);
  *ms = when <= now ? 0 : secs_to_ms((double)(when - now));
  return 0;
}

/* Discord-style 429 bodies carry {"retry_after": seconds}. */
static int parse_retry_after_json(const struct buf *body, uint64_t *ms) {
  if (!body->data || body->len == 0)
    return -1;
  json_t *root = json_loadb(body->data, body->len, 0, NULL);
  json_t *v = json_object_get(root, "retry_after"); /* NULL-safe */
  int rc = -1;
  if (json_is_number(v)) {
    double secs = json_number_value(v);
    if (isfinite(secs) && secs >= 0) {
      *ms = secs_to_ms(secs);
      rc = 0;
    }
  }
  json_decref(root);
  return rc;
}

static uint64_t retry_delay(const struct net_call *c, long status) {
  uint64_t ms;
  const char *ra = status ? header_value(c, "Retry-After") : NULL;
  if (ra && parse_retry_after(ra, &ms) == 0)
    return ms;
  if (status == 429 && parse_retry_after_json(&c->resp, &ms) == 0)
    return ms;
  /* Exponential backoff with full jitter (uniform in [0, cap]) so that many clients
   * failing together do not retry together. */
  unsigned n = c->attempts - 1; /* 0 before the first retry */
  uint64_t cap = (uint64_t)BACKOFF_BASE_MS << (n < 16 ? n : 16);
  if (cap > BACKOFF_CAP_MS)
    cap = BACKOFF_CAP_MS;
  return rng_next() % (cap + 1);
}

static void on_retry_timer(uv_timer_t *t) {
  struct net_call *c = t->data;
  if (start_attempt(c) != 0)
    finish(c, CURLE_OUT_OF_MEMORY, 0);
}

static int schedule_retry(struct net_call *c, uint64_t delay_ms) {
  if (!c->retry_timer) {
    c->retry_timer = malloc(sizeof *c->retry_timer);
    if (!c->retry_timer)
      return -1;
    uv_timer_init(S->loop, c->retry_timer);
    c->retry_timer->data = c;
  }
  /* The loop clock was taken before this iteration's callbacks ran; refresh it so the wait
   * counts from now. */
  uv_update_time(S->loop);
  uv_timer_start(c->retry_timer, on_retry_timer, delay_ms, 0);
  c->state = CALL_WAITING;
  return 0;
}

/* One attempt ended (its easy handle is already gone): retry or finish. */
static void attempt_done(struct net_call *c, CURLcode result, long status) {
  int retryable;
  if (result != CURLE_OK)
    retryable = net_transient(result) && !c->resp_too_big && !c->hdrs_too_big;
  else
    retryable = status == 429 || (status >= 500 && status <= 599);
  if (retryable && c->idempotent && c->attempts <= c->max_retries &&
      schedule_retry(c, retry_delay(c, result == CURLE_OK ? status : 0)) == 0)
    return;
  finish(c, result, status);
}

/* Collects finished transfers. Called after every curl_multi_socket_action. Callbacks run
 * from here may send, cancel or even shut the module down, hence S is checked each turn. */
static void drain(void) {
  CURLMsg *msg;
  int left;
  while (S && (msg = curl_multi_info_read(S->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    CURL *e = msg->easy_handle;
    CURLcode result = msg->data.result;
    char *priv = NULL;
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(S->multi, e);
    curl_easy_cleanup(e);
    struct net_call *c = (struct net_call *)(void *)priv;
    if (!c)
      continue;
    c->easy = NULL;
    attempt_done(c, result, status);
  }
}

/* ---- public interface ---- */

int net_init(uv_loop_t *loop, const char *ua, const char *ca_file) {
  if (S || !loop)
    return -1;
  /* curl resolves names with getaddrinfo(), which blocks; only a build with an
   * asynchronous resolver keeps that off the loop thread. Debian's libcurl uses the
   * threaded resolver (CURL_VERSION_ASYNCHDNS is set; checked on bookworm's 7.88.1), and
   * we refuse to run on one without it rather than stall the whole daemon on DNS. */
  const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
  if (!vi || !(vi->features & CURL_VERSION_ASYNCHDNS))
    return -1;

  struct net_state *st = calloc(1, sizeof *st);
  if (!st)
    return -1;
  st->loop = loop;
  st->ua = strdup(ua && *ua ? ua : "astrad/" ASTRA_VERSION);
  if (!st->ua || (ca_file && load_ca(st, ca_file) != 0))
    goto fail;
  st->multi = curl_multi_init();
  if (!st->multi)
    goto fail;
  curl_multi_setopt(st->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
  curl_multi_setopt(st->multi, CURLMOPT_SOCKETDATA, st);
  curl_multi_setopt(st->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(st->multi, CURLMOPT_TIMERDATA, st);
  curl_multi_setopt(st->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_HOST_CONNECTIONS);
  /* Last: from here on the state can only be released through the loop. */
  uv_timer_init(loop, &st->timer);
  st->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)st;
  S = st;
  return 0;
fail:
  if (st->multi)
    curl_multi_cleanup(st->multi);
  free(st->ca_pem);
  free(st->ua);
  free(st);
  return -1;
}

static int header_ok(const char *h) {
  /* A CR or LF would let a value smuggle extra header lines into the request. */
  return h && strchr(h, ':') && !strpbrk(h, "\r\n");
}

static int has_header(const struct curl_slist *l, const char *name) {
  size_t n = strlen(name);
  for (; l; l = l->next)
    if (strncasecmp(l->data, name, n) == 0 && (l->data[n] == ':' || l->data[n] == ';'))
      return 1;
  return 0;
}

static struct curl_slist *append(struct curl_slist *l, const char *h, int *ok) {
  struct curl_slist *n = curl_slist_append(l, h);
  if (!n)
    *ok = 0;
  return n ? n : l;
}

struct net_call *net_send(const struct net_request *req, net_done_fn cb, void *arg) {
  if (!S || !req || !req->url || !*req->url || !req->method || !cb)
    return NULL;
  if (req->body_len && !req->body)
    return NULL;
  int known = -1;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (!strcmp(req->method, methods[i].name))
      known = (int)i;
  if (known < 0)
    return NULL;
  if (req->headers)
    for (const char *const *h = req->headers; *h; h++)
      if (!header_ok(*h))
        return NULL;

  struct net_call *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cb = cb;
  c->arg = arg;
  c->method = methods[known].name;
  c->url = strdup(req->url);
  int ok = c->url != NULL;
  if (req->headers)
    for (const char *const *h = req->headers; *h; h++)
      c->headers = append(c->headers, *h, &ok);
  if (req->body) {
    /* +1 so an empty body still gets a real allocation. */
    c->body = malloc(req->body_len + 1);
    if (c->body)
      memcpy(c->body, req->body, req->body_len);
    else
      ok = 0;
    c->body_len = req->body_len;
  }
  /* HEAD never carries a body; the methods that normally do always send one, if empty. */
  c->sends_body =
      strcmp(c->method, "HEAD") != 0 && (c->body || !strcmp(c->method, "POST") ||
                                         !strcmp(c->method, "PUT") || !strcmp(c->method, "PATCH"));
  if (c->sends_body) {
    /* Without these curl would label the body as a form (Content-Type:
     * application/x-www-form-urlencoded) and, for big bodies, wait for "100 Continue".
     * An empty "Name:" line tells curl to send no such header. */
    if (!has_header(c->headers, "Content-Type"))
      c->headers = append(c->headers, "Content-Type:", &ok);
    if (!has_header(c->headers, "Expect"))
      c->headers = append(c->headers, "Expect:", &ok);
  }
  c->timeout_ms = req->timeout_ms ? (long)req->timeout_ms : DEFAULT_TIMEOUT_MS;
  c->max_retries = req->max_retries;
  c->idempotent = req->idempotent < 0 ? methods[known].idempotent : req->idempotent != 0;
  c->max_response = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
  c->start_ns = uv_hrtime();

  /* curl_multi_add_handle only arms curl's timer; the transfer, and so the callback, run
   * later from the loop, never from here. */
  if (!ok || start_attempt(c) != 0) {
    call_free(c);
    return NULL;
  }
  c->next = S->calls;
  if (S->calls)
    S->calls->prev = c;
  S->calls = c;
  S->pending++;
  return c;
}

void net_cancel(struct net_call *call) {
  /* A call whose callback is running is freed when the callback returns; cancelling it
   * there has nothing left to prevent. */
  if (!S || !call || call->state == CALL_FINISHING)
    return;
  call_unlink(call);
  call_free(call); /* removes its easy handle or closes its retry timer */
}

unsigned net_pending(void) { return S ? S->pending : 0; }

static void on_state_closed(uv_handle_t *h) {
  struct net_state *st = h->data;
  free(st);
}

void net_shutdown(void) {
  if (!S)
    return;
  while (S->calls)
    net_cancel(S->calls);
  /* Closes the cached connections, which fires CURL_POLL_REMOVE for their sockets:
   * sock_cb closes those polls, so S must still be set here. */
  curl_multi_cleanup(S->multi);
  S->multi = NULL;
  /* Anything curl did not report removed must not keep the loop alive either. */
  while (S->socks)
    sock_close(S, S->socks);
  free(S->ca_pem);
  free(S->ua);
  struct net_state *st = S;
  S = NULL;
  uv_timer_stop(&st->timer);
  st->timer.data = st;
  uv_close((uv_handle_t *)&st->timer, on_state_closed);
}
