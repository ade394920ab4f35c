/* The daemon's shared state, like Redis's `server`: what every handler may need (the
 * configuration, the store, the loop) and the process phase that /health reports. */
#ifndef ASTRA_CORE_APP_H
#define ASTRA_CORE_APP_H

#include <stdint.h>
#include <uv.h>

enum app_phase { APP_STARTING, APP_RUNNING, APP_STOPPING };

struct config;
struct store;
struct http_server;

struct app {
  uv_loop_t *loop;
  struct config *cfg;
  struct store *store;
  struct http_server *portal;
  struct http_server *admin;
  enum app_phase phase;
  uint64_t started_ms; /* uv_now at start, for uptime */
  time_t started_at;   /* wall clock at start */
};

extern struct app astra;

const char *app_phase_name(enum app_phase p);
/* Seconds since start. */
uint64_t app_uptime_s(void);
/* Resident and peak resident memory of the process, in bytes (from /proc; 0 if unknown). */
void app_memory(uint64_t *rss, uint64_t *peak);

#endif
