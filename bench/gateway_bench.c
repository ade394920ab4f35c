/* Benchmark of the Discord gateway client (not a test): N bots, each its own app in the fake
 * Discord (tests/fakes/discord/cli.mjs, spawned here; plain ws://), each with its own REST
 * client and gateway session on one uv loop, as the daemon runs them. Prints one line per
 * figure:
 *   a) time until all N sessions are READY (paced by the daemon-wide connection cap);
 *   b) memory: VmRSS growth per session, for the gateway sessions alone and with their REST
 *      clients (the target is <= 64 KB per online session);
 *   c) the fake restarts (every connection cut, the port closed for a moment): time until
 *      every session is online again, and how many resumed vs identified again;
 *   d) the longest the loop was late by (a 20 ms timer) while sessions connected, and
 *      during the restart;
 *   e) the fake's rule violations seen during the run (should be 0).
 * Usage: gateway_bench [sessions, default 1000] [heartbeat interval ms, default 41250]
 * Needs node and the npm packages of tests/ (npm ci in tests/); run from the repository
 * root. The open-file limit is raised to its hard limit (each session is one socket here
 * and one in the fake). */
#include "core/app.h"
#include "core/log.h"
#include "discord/gateway.h"
#include "discord/rest.h"
#include "net/net.h"
#include "../tests/unit/fake_cli.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define UA "DiscordBot (https://github.com/astra-systems/astrad, bench)"
#define PARALLEL_CTL 64 /* control calls in flight while creating apps */


struct bot {
  char token[128];
  char name[24];
  struct rest_client *rest;
  struct gw_session *gw;
  enum gw_state state;
  bool went_down; /* left READY since the restart */
  int readies, resumes;
};

static uv_loop_t loop;
static uv_timer_t tick;
static struct bot *bots;
static int nbots, online;
static char control[256];

static double now_s(void) { return (double)uv_hrtime() / 1e9; }

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6))
      kb = atol(line + 6);
  if (f)
    fclose(f);
  return kb;
}

/* The tick also measures how late it runs: the longest loop stall (a blocked loop delays
 * every session's heartbeats). */
static double last_tick, max_stall_ms;

static void on_tick(uv_timer_t *t) {
  (void)t;
  double now = now_s();
  if (last_tick > 0 && (now - last_tick) * 1000 - 20 > max_stall_ms)
    max_stall_ms = (now - last_tick) * 1000 - 20;
  last_tick = now;
}

static void run_until(bool (*done)(void), double secs) {
  double end = now_s() + secs;
  while (!done() && now_s() < end)
    uv_run(&loop, UV_RUN_ONCE);
}

/* ---- the fake (tests/unit/fake_cli.h) ---- */

static struct fake_cli fake;

static void stop_fake(void) { fake_cli_stop(&fake); }

/* BENCH_TLS=1 in the environment: the fake serves wss:// and https:// with its own CA, which
 * the bench trusts as the daemon trusts TLS_CA_FILE. */
static int start_fake(unsigned hb, char *api_base, size_t api_len) {
  const char *tls = getenv("BENCH_TLS");
  if (fake_cli_start(&fake, hb, tls && !strcmp(tls, "1")) != 0)
    return -1;
  atexit(stop_fake);
  snprintf(api_base, api_len, "%s", fake.api_base);
  snprintf(control, sizeof control, "%s", fake.control);
  return 0;
}

/* ---- control calls ---- */

struct ctl_call {
  int *pending;
  json_t **out;
};

static void on_ctl(const struct net_response *r, void *arg) {
  struct ctl_call *c = arg;
  if (c->out)
    *c->out = !r->error && r->status == 200
                  ? json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL)
                  : NULL;
  (*c->pending)--;
  free(c);
}

static bool ctl_send(const char *method, const char *body, json_t **out, int *pending) {
  char url[512];
  snprintf(url, sizeof url, "%s%s", control, method);
  const char *headers[] = {"Content-Type: application/json", NULL};
  struct net_request req = {.method = "POST", .url = url, .headers = headers, .body = body,
                            .body_len = strlen(body), .timeout_ms = 30000, .idempotent = 0};
  struct ctl_call *c = malloc(sizeof *c);
  c->pending = pending;
  c->out = out;
  (*pending)++;
  if (!net_send(&req, on_ctl, c)) {
    (*pending)--;
    free(c);
    return false;
  }
  return true;
}

static int ctl_pending;
static bool ctl_idle(void) { return ctl_pending == 0; }

static json_t *ctl_sync(const char *method, const char *body) {
  json_t *out = NULL;
  if (ctl_send(method, body, &out, &ctl_pending))
    run_until(ctl_idle, 60);
  return out;
}

/* ---- sessions ---- */

static void on_state(void *ud, enum gw_state st, const char *reason) {
  struct bot *b = ud;
  (void)reason;
  if (b->state == GW_READY && st != GW_READY) {
    online--;
    b->went_down = true;
  }
  if (st == GW_READY && b->state != GW_READY)
    online++;
  b->state = st;
}

static void on_dispatch(void *ud, const char *t, json_t *d) {
  struct bot *b = ud;
  (void)d;
  if (!strcmp(t, "READY"))
    b->readies++;
  else if (!strcmp(t, "RESUMED"))
    b->resumes++;
}

static const struct gw_handler handler = {.dispatch = on_dispatch, .state = on_state};

static bool all_online(void) { return online == nbots; }

static bool all_back(void) {
  if (online != nbots)
    return false;
  for (int i = 0; i < nbots; i++)
    if (!bots[i].went_down)
      return false;
  return true;
}

int main(int argc, char **argv) {
  nbots = argc > 1 ? atoi(argv[1]) : 1000;
  unsigned hb = argc > 2 ? (unsigned)atoi(argv[2]) : 41250;
  if (nbots < 1)
    nbots = 1;
  signal(SIGPIPE, SIG_IGN);
  log_set_level(LOG_ERROR);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  printf("# gateway_bench: %d sessions, heartbeat %u ms, open-file limit %ld\n", nbots, hb,
         (long)rl.rlim_cur);
  char api_base[256];
  if (start_fake(hb, api_base, sizeof api_base) != 0) {
    fprintf(stderr, "gateway_bench: cannot start the fake Discord (node, tests/node_modules?)\n");
    return 1;
  }
  uv_loop_init(&loop);
  uv_timer_init(&loop, &tick);
  uv_timer_start(&tick, on_tick, 20, 20);
  astra.loop = &loop;
  printf("# transport: %s\n", fake.ca_file[0] ? "TLS (wss://, https://)" : "plain (ws://, http://)");
  if (net_init(&loop, UA, fake.ca_file[0] ? fake.ca_file : NULL) != 0 || rest_global_init(api_base, UA) != 0 ||
      gw_global_init(&loop, UA, fake.ca_file[0] ? fake.ca_file : NULL) != 0) {
    fprintf(stderr, "gateway_bench: init failed\n");
    return 1;
  }
  bots = calloc((size_t)nbots, sizeof *bots);
  json_t **apps = calloc((size_t)nbots, sizeof *apps);

  /* the apps, PARALLEL_CTL control calls at a time */
  double t = now_s();
  for (int i = 0; i < nbots; i++) {
    char body[64];
    snprintf(bots[i].name, sizeof bots[i].name, "bench-%d", i);
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", bots[i].name);
    ctl_send("createApp", body, &apps[i], &ctl_pending);
    while (ctl_pending >= PARALLEL_CTL)
      uv_run(&loop, UV_RUN_ONCE);
  }
  run_until(ctl_idle, 120);
  for (int i = 0; i < nbots; i++) {
    const char *tok = json_string_value(json_object_get(apps[i], "token"));
    if (!tok) {
      fprintf(stderr, "gateway_bench: createApp %d failed\n", i);
      return 1;
    }
    snprintf(bots[i].token, sizeof bots[i].token, "%s", tok);
    json_decref(apps[i]);
  }
  free(apps);
  printf("# %d apps created in %.1f s\n", nbots, now_s() - t);

  /* settle the allocator and curl's connection cache before the baseline */
  double settle = now_s() + 1;
  while (now_s() < settle)
    uv_run(&loop, UV_RUN_ONCE);
  long rss0 = rss_kb();
  for (int i = 0; i < nbots; i++)
    bots[i].rest = rest_client_new(bots[i].token, bots[i].name);
  long rss1 = rss_kb();

  t = now_s();
  max_stall_ms = 0;
  for (int i = 0; i < nbots; i++) {
    struct gw_options o = {.token = bots[i].token, .intents = 1, .rest = bots[i].rest,
                           .label = bots[i].name, .handler = &handler, .ud = &bots[i]};
    bots[i].gw = gw_open(&o);
  }
  run_until(all_online, 600);
  double t_online = now_s() - t;
  printf("all_online_s %.2f (%d/%d online; %.0f sessions/s; loop late by %.1f ms at most)\n",
         t_online, online, nbots, online / t_online, max_stall_ms);
  settle = now_s() + 3; /* a few heartbeats' worth of steady state */
  while (now_s() < settle)
    uv_run(&loop, UV_RUN_ONCE);
  long rss2 = rss_kb();
  printf("rss_per_session_kb %.1f (gateway only; %.1f with its REST client; process VmRSS "
         "%ld -> %ld KB)\n",
         (double)(rss2 - rss1) / nbots, (double)(rss2 - rss0) / nbots, rss0, rss2);

  /* the fake restarts: its answer is lost with every other connection */
  for (int i = 0; i < nbots; i++)
    bots[i].went_down = false;
  int readies0 = 0, resumes0 = 0;
  for (int i = 0; i < nbots; i++) {
    readies0 += bots[i].readies;
    resumes0 += bots[i].resumes;
  }
  t = now_s();
  max_stall_ms = 0;
  json_decref(ctl_sync("restart", "[]"));
  run_until(all_back, 900);
  double t_back = now_s() - t;
  int readies = -readies0, resumes = -resumes0;
  for (int i = 0; i < nbots; i++) {
    readies += bots[i].readies;
    resumes += bots[i].resumes;
  }
  printf("restart_all_back_s %.2f (%d/%d online: %d resumed, %d identified again; loop late by "
         "%.1f ms at most)\n",
         t_back, online, nbots, resumes, readies, max_stall_ms);
  printf("rss_after_restart_kb %ld\n", rss_kb());

  json_t *v = ctl_sync("violations", "[]");
  printf("fake_violations %zu\n", json_array_size(v));
  for (size_t i = 0; i < json_array_size(v) && i < 5; i++)
    printf("#   [%s] %s\n", json_string_value(json_object_get(json_array_get(v, i), "kind")),
           json_string_value(json_object_get(json_array_get(v, i), "message")));
  json_decref(v);

  for (int i = 0; i < nbots; i++) {
    gw_close(bots[i].gw);
    rest_client_free(bots[i].rest);
  }
  rest_global_shutdown();
  gw_global_shutdown();
  net_shutdown();
  uv_timer_stop(&tick);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  gw_global_finish();
  int rc = uv_loop_close(&loop);
  printf("# loop closed: %s\n", rc == 0 ? "ok" : uv_err_name(rc));
  free(bots);
  stop_fake();
  return online == nbots && rc == 0 ? 0 : 1;
}
