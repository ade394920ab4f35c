/* The instance runtime manager (include/runtime/runtime.h).
 *
 * One struct rt_instance per instance that runs or has a status worth showing (erro). It
 * owns the instance's REST client and gateway session and is freed only when no interaction
 * still refers to it. Gateway states map to the statuses sellers see: connecting, resuming
 * and backoff are `starting`; READY/RESUMED is `online`; a close code that forbids
 * reconnecting is `erro` with the reason in Portuguese; a 401 on REST is `erro` too (the
 * token was revoked), and the session is stopped so that nothing else is tried with it. */
#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/map.h"
#include "discord/gateway.h"
#include "discord/interactions.h"
#include "discord/rest.h"
#include "runtime/token.h"
#include "store/store.h"

#define INTENT_GUILDS 1u

struct rt_instance {
  struct bot_ctx ctx; /* first: what interaction handlers get */
  struct gw_session *gw;
  enum rt_status status;
  char last_error[200];
  char token_hash[65];
  uint64_t online_since;
  unsigned refs; /* interactions in flight that point at ctx */
  int detached;  /* removed from the table; freed when refs drops to 0 */
  /* REST clients of earlier sessions that interactions in flight may still use: freed when
   * refs drops to 0 */
  struct rest_client **retired;
  size_t nretired;
};

static struct map instances;
static uv_timer_t boot_timer;
static int boot_timer_open;
static char **boot_queue;
static size_t boot_len, boot_pos;
static int shutting_down;

static const char *const status_names[] = {"offline", "starting", "online", "erro", "suspenso"};

const char *rt_status_name(enum rt_status s) {
  return (unsigned)s < 5 ? status_names[s] : "offline";
}

static uint64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* ---- instance lifetime ---- */

static void free_retired(struct rt_instance *in) {
  for (size_t i = 0; i < in->nretired; i++)
    rest_client_free(in->retired[i]);
  free(in->retired);
  in->retired = NULL;
  in->nretired = 0;
}

static void instance_free(struct rt_instance *in) {
  if (in->ctx.rest)
    rest_client_free(in->ctx.rest);
  free_retired(in);
  free(in);
}

static void release_ctx(void *ctx) {
  struct rt_instance *in = ctx;
  if (--in->refs > 0)
    return;
  if (in->detached)
    instance_free(in);
  else
    free_retired(in);
}

/* Ends the session and retires its REST client; the struct stays (for its status). */
static void session_end(struct rt_instance *in) {
  if (in->gw) {
    gw_close(in->gw);
    in->gw = NULL;
  }
  if (in->ctx.rest) {
    struct rest_client **r =
        in->refs ? realloc(in->retired, (in->nretired + 1) * sizeof *r) : NULL;
    if (r) {
      in->retired = r;
      in->retired[in->nretired++] = in->ctx.rest;
    } else {
      rest_client_free(in->ctx.rest); /* nothing refers to it (or no memory to wait) */
    }
    in->ctx.rest = NULL;
  }
  in->online_since = 0;
}

static void detach(struct rt_instance *in) {
  map_del(&instances, in->ctx.instance_id);
  session_end(in);
  in->detached = 1;
  if (in->refs == 0)
    instance_free(in);
}

static void set_error(struct rt_instance *in, const char *text) {
  in->status = RT_ERRO;
  snprintf(in->last_error, sizeof in->last_error, "%s", text);
  log_warn("runtime", "instance %s: %s", in->ctx.instance_id, text);
}

/* ---- gateway events ---- */

/* The reasons sellers read, in Portuguese, for the codes that stop a bot (reference §1.12). */
static const char *failure_text(int code) {
  switch (code) {
  case 4004:
    return "Token do bot inválido ou redefinido no Discord. Cadastre um token novo.";
  case 4010:
  case 4011:
    return "O bot precisa de sharding (servidores demais para uma conexão).";
  case 4012:
    return "Versão da API do Discord não suportada.";
  case 4013:
  case 4014:
    return "Intents não permitidos para este bot no Portal de Desenvolvedores do Discord.";
  default:
    return "O Discord recusou a conexão do bot.";
  }
}

static void on_gw_state(void *ud, enum gw_state st, const char *reason) {
  struct rt_instance *in = ud;
  struct gw_info info;
  switch (st) {
  case GW_READY:
    if (in->status != RT_ONLINE)
      log_info("runtime", "instance %s online", in->ctx.instance_id);
    in->status = RT_ONLINE;
    in->last_error[0] = 0;
    in->online_since = now_ms();
    break;
  case GW_CONNECTING:
  case GW_IDENTIFYING:
  case GW_RESUMING:
    if (in->status != RT_ERRO)
      in->status = RT_STARTING;
    break;
  case GW_BACKOFF:
    in->status = RT_STARTING;
    in->online_since = 0;
    snprintf(in->last_error, sizeof in->last_error, "Reconectando ao Discord%s%s",
             reason ? ": " : "", reason ? reason : "");
    break;
  case GW_FAILED:
    gw_get_info(in->gw, &info);
    set_error(in, failure_text(info.last_close));
    in->online_since = 0;
    break;
  case GW_STOPPED:
    if (in->status != RT_ERRO)
      in->status = RT_OFFLINE;
    in->online_since = 0;
    break;
  }
}

static void on_gw_dispatch(void *ud, const char *t, json_t *d) {
  struct rt_instance *in = ud;
  if (!strcmp(t, "INTERACTION_CREATE")) {
    if (ix_dispatch(bot_routes, bot_nroutes, in->ctx.rest, d, &in->ctx, release_ctx))
      in->refs++;
  } else if (!strcmp(t, "READY")) {
    const char *app = json_string_value(json_object_get(json_object_get(d, "application"), "id"));
    if (app)
      snprintf(in->ctx.app_id, sizeof in->ctx.app_id, "%s", app);
  } else if (!strcmp(t, "GUILD_CREATE")) {
    bot_on_guild(&in->ctx, d);
  }
}

static const struct gw_handler gw_events = {.dispatch = on_gw_dispatch, .state = on_gw_state};

static void on_unauthorized(void *arg) {
  struct rt_instance *in = arg;
  /* the token was revoked: stop using it at once (Discord counts every 401 against our IP) */
  if (in->gw) {
    gw_close(in->gw);
    in->gw = NULL;
  }
  set_error(in, "Token do bot recusado pelo Discord (401). Cadastre um token novo.");
}

/* ---- reconciling ---- */

static int wants_to_run(const json_t *rec) {
  if (!rec || json_object_get(rec, "deletedAt"))
    return 0;
  const char *desired = json_string_value(json_object_get(rec, "desiredState"));
  return desired && !strcmp(desired, "running") && json_object_get(rec, "botToken");
}

static int suspended(const json_t *rec) {
  const char *plan = json_string_value(json_object_get(json_object_get(rec, "plan"), "status"));
  return plan && !strcmp(plan, "suspended");
}

static void start(struct rt_instance *in, const json_t *rec) {
  char *token = token_open(json_string_value(json_object_get(rec, "botToken")));
  if (!token) {
    set_error(in, "Não foi possível ler o token salvo (a chave DATA_ENCRYPTION_KEY mudou?).");
    return;
  }
  token_hash(token, in->token_hash);
  const char *app = json_string_value(json_object_get(rec, "applicationId"));
  snprintf(in->ctx.app_id, sizeof in->ctx.app_id, "%s", app ? app : "");
  in->ctx.rest = rest_client_new(token, in->ctx.instance_id);
  if (!in->ctx.rest) {
    set_error(in, "Sem memória para iniciar o bot.");
  } else {
    rest_client_on_unauthorized(in->ctx.rest, on_unauthorized, in);
    struct gw_options o = {.token = token,
                           .intents = INTENT_GUILDS,
                           .rest = in->ctx.rest,
                           .label = in->ctx.instance_id,
                           .handler = &gw_events,
                           .ud = in};
    in->status = RT_STARTING;
    in->last_error[0] = 0;
    in->gw = gw_open(&o);
    if (!in->gw)
      set_error(in, "Não foi possível abrir a conexão com o Discord.");
  }
  crypto_wipe(token, strlen(token));
  free(token);
}

static struct rt_instance *instance_get(const char *id, int create) {
  struct rt_instance *in = map_get(&instances, id);
  if (in || !create)
    return in;
  in = calloc(1, sizeof *in);
  if (!in)
    return NULL;
  snprintf(in->ctx.instance_id, sizeof in->ctx.instance_id, "%s", id);
  int failed;
  map_put(&instances, in->ctx.instance_id, in, &failed);
  if (failed) {
    free(in);
    return NULL;
  }
  return in;
}

void runtime_apply(const char *id) {
  if (shutting_down || !id || strlen(id) >= sizeof(((struct bot_ctx *)0)->instance_id))
    return;
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, id);
  struct rt_instance *in = instance_get(id, 0);
  if (!rec || json_object_get(rec, "deletedAt")) {
    if (in)
      detach(in);
    return;
  }
  if (suspended(rec)) {
    in = instance_get(id, 1);
    if (in) {
      session_end(in);
      in->status = RT_SUSPENSO;
      snprintf(in->last_error, sizeof in->last_error, "Plano vencido: bot suspenso.");
    }
    return;
  }
  if (!wants_to_run(rec)) {
    if (in)
      detach(in); /* stopped: nothing worth keeping in memory */
    return;
  }
  in = instance_get(id, 1);
  if (!in)
    return;
  /* A new token (the seller replaced it) means a new session. */
  char *token = token_open(json_string_value(json_object_get(rec, "botToken")));
  char hash[65] = "";
  if (token) {
    token_hash(token, hash);
    crypto_wipe(token, strlen(token));
    free(token);
  }
  if (in->gw && !strcmp(hash, in->token_hash))
    return; /* already running with this token */
  session_end(in);
  start(in, rec);
}

struct desired_change {
  char id[40];
  void (*done)(int, void *);
  void *arg;
};

static void on_desired_durable(int status, void *arg) {
  struct desired_change *c = arg;
  if (status == 0)
    runtime_apply(c->id);
  if (c->done)
    c->done(status == 0 ? 0 : -1, c->arg);
  free(c);
}

int runtime_set_desired(const char *id, const char *desired, void (*done)(int, void *),
                        void *arg) {
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, id);
  struct desired_change *c = calloc(1, sizeof *c);
  if (!rec || json_object_get(rec, "deletedAt") || !c) {
    free(c);
    return -1;
  }
  json_t *copy = json_deep_copy(rec);
  json_object_set_new(copy, "desiredState", json_string(desired));
  snprintf(c->id, sizeof c->id, "%s", id);
  c->done = done;
  c->arg = arg;
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_INSTANCES, NULL, id, copy);
  if (store_commit(t, on_desired_durable, c) != 0) {
    free(c);
    return -1;
  }
  return 0;
}

void runtime_restart(const char *id) {
  struct rt_instance *in = instance_get(id, 0);
  if (in) {
    session_end(in);
    in->token_hash[0] = 0;
  }
  runtime_apply(id);
}

void runtime_info(const char *id, struct rt_info *out) {
  memset(out, 0, sizeof *out);
  out->latency_ms = -1;
  struct rt_instance *in = instance_get(id, 0);
  if (!in) {
    const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, id);
    out->status = rec && suspended(rec) ? RT_SUSPENSO : RT_OFFLINE;
    snprintf(out->gateway_state, sizeof out->gateway_state, "none");
    return;
  }
  out->status = in->status;
  snprintf(out->last_error, sizeof out->last_error, "%s", in->last_error);
  out->online_since = in->online_since;
  if (in->gw) {
    struct gw_info g;
    gw_get_info(in->gw, &g);
    out->latency_ms = g.latency_ms;
    out->reconnects = g.reconnects;
    snprintf(out->gateway_state, sizeof out->gateway_state, "%s", gw_state_name(g.state));
  } else {
    snprintf(out->gateway_state, sizeof out->gateway_state, "none");
  }
}

struct rest_client *runtime_rest(const char *id) {
  struct rt_instance *in = instance_get(id, 0);
  return in && in->gw ? in->ctx.rest : NULL;
}

void runtime_counts(unsigned counts[5]) {
  memset(counts, 0, 5 * sizeof counts[0]);
  size_t it = 0;
  struct rt_instance *in;
  while ((in = map_next(&instances, &it, NULL)))
    counts[in->status]++;
}

/* ---- boot: the platform's own store, then every instance that should run, staggered ---- */

static int collect(const char *id, const json_t *rec, void *arg) {
  (void)arg;
  if (!wants_to_run(rec) && !suspended(rec))
    return 0;
  char **q = realloc(boot_queue, (boot_len + 1) * sizeof *q);
  if (!q)
    return 1;
  boot_queue = q;
  boot_queue[boot_len++] = strdup(id);
  return 0;
}

static void boot_closed(uv_handle_t *h) {
  (void)h;
  for (size_t i = boot_pos; i < boot_len; i++)
    free(boot_queue[i]);
  free(boot_queue);
  boot_queue = NULL;
  boot_len = boot_pos = 0;
}

static void on_boot_tick(uv_timer_t *t) {
  if (boot_pos < boot_len) {
    char *id = boot_queue[boot_pos++];
    runtime_apply(id);
    free(id);
  }
  if (boot_pos >= boot_len && boot_timer_open) {
    boot_timer_open = 0;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, boot_closed);
  }
}

static void on_platform_durable(int status, void *arg) {
  (void)arg;
  if (status != 0)
    log_error("runtime", "could not save the platform's own instance");
}

/* DISCORD_TOKEN is the platform's own store, as in the Node system: an instance owned by the
 * operator, created on first start and kept running with whatever token is configured. */
static void ensure_platform_instance(void) {
  const char *token = astra.cfg->discord_token;
  if (!token || !*token)
    return;
  char hash[65];
  token_hash(token, hash);
  const char *id = store_index_get(astra.store, STORE_INSTANCES, "platform", "yes", NULL);
  const json_t *rec = id ? store_get(astra.store, STORE_INSTANCES, NULL, id) : NULL;
  const char *have = rec ? json_string_value(json_object_get(rec, "botTokenHash")) : NULL;
  if (have && !strcmp(have, hash))
    return;
  char *sealed = token_seal(token);
  if (!sealed)
    return;
  char newid[37];
  json_t *r;
  if (rec) {
    r = json_deep_copy(rec);
  } else {
    crypto_uuid(newid);
    id = newid;
    r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", id, "ownerId", "platform", "name",
                  "Loja da plataforma", "platform", "yes", "desiredState", "running",
                  "createdAt", (json_int_t)now_ms());
  }
  json_object_set_new(r, "botToken", json_string(sealed));
  json_object_set_new(r, "botTokenHash", json_string(hash));
  free(sealed);
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_INSTANCES, NULL, id, r);
  if (store_commit(t, on_platform_durable, NULL) != 0)
    log_error("runtime", "the platform instance's token is used by another instance");
}

int runtime_init(void) {
  store_index_define(astra.store, STORE_INSTANCES, "platform", STORE_INDEX_UNIQUE);
  /* one bot token, one instance: a second instance with the same token would fight the
   * first for the same gateway session */
  store_index_define(astra.store, STORE_INSTANCES, "botTokenHash", STORE_INDEX_UNIQUE);
  ensure_platform_instance();
  store_foreach(astra.store, STORE_INSTANCES, NULL, collect, NULL);
  if (boot_len == 0)
    return 0;
  log_info("runtime", "starting %zu instance(s), %d per second", boot_len, RUNTIME_BOOT_RATE);
  uv_timer_init(astra.loop, &boot_timer);
  boot_timer_open = 1;
  uv_timer_start(&boot_timer, on_boot_tick, 0, 1000 / RUNTIME_BOOT_RATE);
  return 0;
}

void runtime_shutdown(void (*done)(void *arg), void *arg) {
  shutting_down = 1;
  if (boot_timer_open) {
    boot_timer_open = 0;
    uv_timer_stop(&boot_timer);
    uv_close((uv_handle_t *)&boot_timer, boot_closed);
  }
  /* collect first: detach changes the table */
  size_t n = instances.len, k = 0, it = 0;
  struct rt_instance **all = calloc(n ? n : 1, sizeof *all);
  struct rt_instance *in;
  while (all && (in = map_next(&instances, &it, NULL)))
    all[k++] = in;
  for (size_t i = 0; i < k; i++)
    detach(all[i]);
  free(all);
  map_free(&instances);
  if (done)
    done(arg);
}
