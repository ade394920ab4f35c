/* Outgoing HTTP on curl multi, driven by the uv loop (never blocks it). One call: method,
 * URL, headers, body, timeout, completion callback; idempotent calls are retried with
 * exponential backoff and jitter on connection errors, 5xx and 429 (honouring Retry-After);
 * a call can be cancelled, after which its callback never runs. */
#ifndef ASTRA_NET_NET_H
#define ASTRA_NET_NET_H

#include <stddef.h>
#include <uv.h>

struct net_request {
  const char *method;          /* "GET", "POST", ... */
  const char *url;
  const char *const *headers;  /* NULL-terminated array of "Name: value", or NULL */
  const void *body;            /* copied; NULL for none */
  size_t body_len;
  unsigned timeout_ms;         /* whole attempt; 0: 15000 */
  unsigned max_retries;        /* extra attempts for idempotent calls; 0: none */
  int idempotent;              /* -1: decide by method (GET, HEAD, PUT, DELETE, OPTIONS) */
  size_t max_response;         /* response body cap; 0: 8 MiB (bigger fails the call) */
};

struct net_response {
  int error;               /* 0, or a curl error code (no HTTP status then) */
  const char *error_msg;   /* readable, when error != 0 */
  long status;             /* HTTP status, 0 when error */
  const char *body;        /* NUL-terminated; valid during the callback only */
  size_t body_len;
  unsigned attempts;       /* 1 + retries made */
  double elapsed_ms;
  const void *priv_;       /* header storage; use net_header() */
};

/* Case-insensitive response header lookup; valid during the callback only. */
const char *net_header(const struct net_response *r, const char *name);

typedef void (*net_done_fn)(const struct net_response *r, void *arg);
struct net_call;

/* ua: the User-Agent for every call; ca_file: an extra CA bundle trusted besides the
 * system's (TLS_CA_FILE), or NULL. 0 or -1. */
int net_init(uv_loop_t *loop, const char *ua, const char *ca_file);
/* Sends; cb runs exactly once on the loop unless the call is cancelled. NULL on a bad
 * request (unsupported method, no URL). */
struct net_call *net_send(const struct net_request *req, net_done_fn cb, void *arg);
void net_cancel(struct net_call *call);
/* 1 when a curl error means the request may never have reached the server or its answer
 * was lost (worth another attempt for an idempotent call); shared with the Discord client. */
int net_transient(int curl_error);
/* Calls in flight (including those waiting to retry). */
unsigned net_pending(void);
/* Cancels everything and releases curl; the loop's handles close. */
void net_shutdown(void);

#endif
