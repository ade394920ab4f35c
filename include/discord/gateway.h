/* The Discord gateway: one session per running instance, all on the one loop, through
 * libwebsockets joined to libuv as a foreign loop (reference/event-loop.md). The session
 * follows reference/discord.md §1: GET /gateway/bot (cached), Hello and heartbeats with
 * jitter, ACK tracking and zombie detection, Identify (intents GUILDS), READY/RESUMED,
 * sequence tracking, op 1/7/9/11, resume on resume_gateway_url, the close-code table,
 * reconnect backoff with jitter, identify pacing by max_concurrency per 5 s, at most 120
 * sends per 60 s, the 4096-byte payload cap, and a User-Agent on the upgrade. */
#ifndef ASTRA_DISCORD_GATEWAY_H
#define ASTRA_DISCORD_GATEWAY_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

struct rest_client;

enum gw_state {
  GW_CONNECTING,  /* fetching /gateway/bot or opening the websocket */
  GW_IDENTIFYING, /* connected, Identify sent, waiting for READY */
  GW_RESUMING,    /* connected, Resume sent, waiting for RESUMED */
  GW_READY,       /* online */
  GW_BACKOFF,     /* disconnected, waiting to reconnect */
  GW_STOPPED,     /* gw_close called */
  GW_FAILED,      /* a close code that forbids reconnecting (4004, 4010-4014): see reason */
};
const char *gw_state_name(enum gw_state s);

struct gw_info {
  enum gw_state state;
  int latency_ms;          /* last heartbeat round trip, -1 before the first ACK */
  unsigned reconnects;
  uint64_t connected_since; /* ms (uv_now) of the last READY/RESUMED, 0 when not online */
  int last_close;          /* last close code received, 0 if none */
  char last_error[160];    /* readable, pt-BR free: the runtime localises for sellers */
  uint64_t seq;
  char session_id[64];
};

struct gw_handler {
  /* Every dispatch (op 0): t and d. d is borrowed for the call. */
  void (*dispatch)(void *ud, const char *t, json_t *d);
  /* Every state change; reason is set for GW_BACKOFF and GW_FAILED. */
  void (*state)(void *ud, enum gw_state st, const char *reason);
};

struct gw_options {
  const char *token;         /* copied; never logged */
  unsigned intents;          /* GUILDS = 1 */
  struct rest_client *rest;  /* for GET /gateway/bot */
  const char *label;         /* instance id, for logs */
  const struct gw_handler *handler;
  void *ud;
};

/* Joins lws to the loop (LWS_SERVER_OPTION_LIBUV + foreign loop). ca_file: extra CA for
 * wss:// (TLS_CA_FILE), or NULL. 0 or -1. */
int gw_global_init(uv_loop_t *loop, const char *user_agent, const char *ca_file);
/* Destroys the lws context (call after every session is closed); see event-loop.md for the
 * second lws_context_destroy after uv_run returns: gw_global_finish does it. */
void gw_global_shutdown(void);
void gw_global_finish(void);

struct gw_session *gw_open(const struct gw_options *opt);
/* Closes with 1000 (the session ends; the bot goes offline) and frees once lws has let go;
 * no callback runs after this returns. */
void gw_close(struct gw_session *s);
/* Queues a payload ({op, d}); refused (-1) over 4096 bytes; sends are paced to 120 per 60 s
 * (heartbeats get a reserved share). */
int gw_send(struct gw_session *s, const json_t *payload);
void gw_get_info(const struct gw_session *s, struct gw_info *out);
unsigned gw_sessions(void);

#endif
