/* Discord REST: one client per bot token, on the net module. It keys every request by
 * method + route with the major parameter kept (reference/discord.md §3), learns buckets
 * from X-RateLimit-* headers, holds requests while a bucket or the whole token is limited,
 * retries 429s and (for safe requests) 5xx with backoff, counts 401/403/429 across every
 * token of the daemon (Discord bans an IP at 10,000 in 10 minutes), and quarantines a token
 * that gets a 401. Bodies are checked against Discord's limits (discord/limits.h) before they
 * are sent: a body Discord would reject is our bug, logged as such, and never sent. */
#ifndef ASTRA_DISCORD_REST_H
#define ASTRA_DISCORD_REST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Errors reported in rest_result.error (besides 0). */
enum {
  REST_OK = 0,
  REST_ENET = -1,         /* no HTTP answer (connection, timeout); see error_msg */
  REST_EINVALID = -2,     /* the body broke Discord's limits: our bug, not sent */
  REST_EQUARANTINED = -3, /* this token got a 401 earlier; nothing is sent with it */
  REST_ECANCELLED = -4,   /* the client was freed with this call pending */
  REST_ETHROTTLED = -5,   /* the daemon is near Discord's invalid-request ban: refused */
};

struct rest_result {
  int error;          /* REST_* */
  long status;        /* HTTP status (0 when error != 0) */
  int code;           /* Discord's JSON error code (50007, 10062, 40060...), or 0 */
  json_t *body;       /* parsed JSON body, or NULL; borrowed for the callback only */
  const char *error_msg; /* readable English when error != 0 or status >= 400, else NULL */
  unsigned attempts;     /* HTTP attempts made (0 when nothing was sent) */
};
typedef void (*rest_cb)(const struct rest_result *r, void *arg);

/* A file for a multipart upload (an attachment: the Pix QR image). */
struct rest_file {
  const char *name;         /* "qr.png" */
  const char *content_type; /* "image/png" */
  const void *data;
  size_t len;
};

enum rest_flags {
  /* Retry this non-idempotent request on 5xx/connection errors too: set it only when the
   * body makes a repeat harmless (a message with nonce + enforce_nonce). */
  REST_RETRY_UNSAFE = 1 << 0,
};

struct rest_client;
struct rest_call;

/* Daemon-wide setup: the API base (DISCORD_API_BASE) and User-Agent. The client runs on
 * astra.loop (core/app.h), the loop net_init was given: set it and call net_init first.
 * 0 or -1. */
int rest_global_init(const char *api_base, const char *user_agent);
/* Call after every client is freed (a client still open is freed here, with a warning) and
 * before net_shutdown. Completions still waiting for the loop are delivered from here. */
void rest_global_shutdown(void);

/* label: what logs call this client (an instance id); never the token. */
struct rest_client *rest_client_new(const char *token, const char *label);
/* Pending calls get REST_ECANCELLED: their callbacks run later, from the loop, never inside
 * rest_client_free. Safe to call from inside one of this client's own callbacks (including
 * the on_unauthorized one); the client must not be used afterwards. */
void rest_client_free(struct rest_client *c);
/* Called once when the token is quarantined after a 401 (the runtime marks the instance). */
void rest_client_on_unauthorized(struct rest_client *c, void (*fn)(void *arg), void *arg);
int rest_client_quarantined(const struct rest_client *c);

/* Sends method + path (relative to the API base, "/channels/123/messages", query allowed).
 * body (stolen, may be NULL) is checked against Discord's limits for that route first. cb
 * runs exactly once, from the loop. Returns NULL only when out of memory or before
 * rest_global_init (the body is released then too). */
struct rest_call *rest_request(struct rest_client *c, const char *method, const char *path,
                               json_t *body, unsigned flags, rest_cb cb, void *arg);
/* The same, as multipart/form-data with payload_json and files[n]. */
struct rest_call *rest_request_files(struct rest_client *c, const char *method,
                                     const char *path, json_t *payload,
                                     const struct rest_file *files, size_t nfiles,
                                     unsigned flags, rest_cb cb, void *arg);
/* The callback never runs after this. Only for a call whose callback has not run yet
 * (calling it from inside that callback is harmless and does nothing). */
void rest_cancel(struct rest_call *call);

/* The route key used for bucketing ("POST /channels/123/messages", "GET /users/@me",
 * "PATCH /channels/123/messages/{id}"): exposed for tests. */
void rest_route_key(const char *method, const char *path, char *out, size_t outlen);

struct rest_stats {
  uint64_t requests, retries, rate_limited, invalid_window; /* 401+403+429 in the last 10 min */
  unsigned buckets, queued;
};
void rest_global_stats(struct rest_stats *out);

/* For tests only: the invalid-request throttle refuses new requests above hi responses in
 * window_ms and lets them through again below lo. 0s restore the defaults (8000, 7000,
 * 10 minutes). Clears the current window. */
void rest_test_set_invalid_limits(unsigned hi, unsigned lo, unsigned window_ms);

#endif
