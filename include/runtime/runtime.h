/* The instance runtime manager: brings every instance's bot to the state stored with it.
 *
 * The store is the source of truth: an instance record (portal.json, collection instances)
 * holds desiredState ("running" | "stopped"), the sealed bot token, the bound guild and the
 * plan state. Callers change the record in a transaction and then call runtime_apply(id);
 * the runtime starts or stops the gateway session to match. At boot every instance that
 * should run is started, staggered. A bad or revoked token affects only its instance, whose
 * status becomes `erro` with a readable reason. Status names are the Node system's:
 * starting, online, offline, erro, suspenso. */
#ifndef ASTRA_RUNTIME_RUNTIME_H
#define ASTRA_RUNTIME_RUNTIME_H

#include <jansson.h>
#include <stdint.h>

enum rt_status { RT_OFFLINE, RT_STARTING, RT_ONLINE, RT_ERRO, RT_SUSPENSO };
const char *rt_status_name(enum rt_status s);

struct rt_info {
  enum rt_status status;
  char last_error[200];   /* pt-BR, for sellers and operators; empty when none */
  int latency_ms;         /* -1 when unknown */
  unsigned reconnects;
  uint64_t online_since;  /* unix ms of the last READY/RESUMED, 0 when not online */
  char gateway_state[16]; /* the session's own state, for operators */
};

struct rest_client;

/* Starts every instance whose desiredState is "running" (staggered: RUNTIME_BOOT_RATE per
 * second), and creates the platform's own instance from DISCORD_TOKEN when it is set. */
int runtime_init(void);
/* Stops every session (close 1000), then done(arg). */
void runtime_shutdown(void (*done)(void *arg), void *arg);

/* Reconciles one instance with its record (after a transaction changed it): starts, stops,
 * or restarts it when its token changed. Unknown or deleted ids stop what runs. */
void runtime_apply(const char *instance_id);
/* Sets desiredState ("running" | "stopped") in the instance record; once durable, reconciles
 * and calls done(0, arg) (or done(-1, arg) when the store failed). -1 at once (done not
 * called) when the instance does not exist or is deleted. For the admin and portal APIs. */
int runtime_set_desired(const char *instance_id, const char *desired,
                        void (*done)(int status, void *arg), void *arg);
/* Stops and starts again (keeps desiredState). */
void runtime_restart(const char *instance_id);
void runtime_info(const char *instance_id, struct rt_info *out);
/* The REST client of a running instance (product posts, DMs), or NULL. */
struct rest_client *runtime_rest(const char *instance_id);
/* Counts by status, for /api/status. */
void runtime_counts(unsigned counts[5]);

/* Boot stagger: instances started per second at boot. */
#define RUNTIME_BOOT_RATE 50

#endif
