/* Unit tests for the Discord gateway client (src/discord/gateway.c), run for real against the
 * strict fake Discord (tests/fakes/discord, Node), which records every rule the client breaks
 * as a "violation". The fake runs as a child process through tests/fakes/discord/cli.mjs (it
 * stops when our end of its stdin closes, so a crashed test leaves nothing behind); it is
 * driven over its HTTP control API with the net module, and the gateway sessions get their
 * URL through the real REST client, all on one private uv loop driven here. Each test checks
 * the fake's violations at the end and that uv_loop_close succeeds after
 * gw_global_shutdown. Heartbeats are short (HB_MS) so that zombie detection and resumes take
 * about a second; independent sessions run side by side. Without node the whole binary is
 * skipped. */
#include "fake_cli.h"
#include "harness.h"

#include "core/app.h"
#include "core/log.h"
#include "discord/gateway.h"
#include "discord/rest.h"
#include "net/net.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define UA "DiscordBot (https://github.com/astra-systems/astrad, 0.1.0)"
#define HB_MS 500

/* ---- the fake Discord child process (tests/unit/fake_cli.h) ---- */

struct fake {
  bool tried, up;
  struct fake_cli cli;
};

static struct fake plain_fake, tls_fake;

/* Without node there is no fake to test against: report one skipped test and stop. */
__attribute__((constructor)) static void skip_without_node(void) {
  if (!fake_cli_have_node()) {
    printf("ok - test_gateway # SKIP node not found\n");
    fflush(stdout);
    _exit(0);
  }
}

static void stop_fakes(void) {
  fake_cli_stop(&plain_fake.cli);
  fake_cli_stop(&tls_fake.cli);
}

/* Starts the fake once per kind; later calls say whether it came up. */
static bool fake_start(struct fake *f, bool tls) {
  if (f->tried)
    return f->up;
  f->tried = true;
  f->up = fake_cli_start(&f->cli, HB_MS, tls) == 0;
  if (f->up)
    atexit(stop_fakes);
  return f->up;
}

/* ---- the loop ---- */

static uv_loop_t loop;
static uv_timer_t tick;
static struct fake *cur;   /* the fake of the running test */
static bool ctl_may_fail;  /* the next control call may get no answer (restart) */

/* A steady 20 ms tick so that WAIT_FOR's uv_run(UV_RUN_ONCE) re-checks its condition. */
static void on_tick(uv_timer_t *t) { (void)t; }

#define WAIT_FOR(cond, ms)                                                                  \
  do {                                                                                      \
    uv_update_time(&loop);                                                                  \
    uint64_t dl_ = uv_now(&loop) + (ms);                                                    \
    while (!(cond) && uv_now(&loop) < dl_)                                                  \
      uv_run(&loop, UV_RUN_ONCE);                                                           \
  } while (0)

static void run_for(unsigned ms) { WAIT_FOR(false, ms); }

/* ---- the control API: POST <control><method> with a JSON body ---- */

struct ctl_res {
  bool done;
  long status;
  json_t *body;
};

static void on_ctl(const struct net_response *r, void *arg) {
  struct ctl_res *res = arg;
  res->status = r->error ? 0 : r->status;
  res->body = r->error ? NULL : json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
  if (r->error && !ctl_may_fail)
    printf("# control call failed: %s\n", r->error_msg ? r->error_msg : "?");
  res->done = true;
}

/* Calls a control method; body is printf-style JSON (an array of arguments or one object).
 * Returns the parsed answer (the caller decrefs), or NULL on failure. */
__attribute__((format(printf, 2, 3))) static json_t *ctl(const char *method, const char *fmt,
                                                         ...) {
  char url[512];
  char *body = NULL;
  va_list ap;
  va_start(ap, fmt);
  int blen = vasprintf(&body, fmt, ap);
  va_end(ap);
  if (blen < 0)
    return NULL;
  snprintf(url, sizeof url, "%s%s", cur->cli.control, method);
  const char *headers[] = {"Content-Type: application/json", NULL};
  struct net_request req = {.method = "POST",
                            .url = url,
                            .headers = headers,
                            .body = body,
                            .body_len = (size_t)blen,
                            .timeout_ms = 10000,
                            .idempotent = 0};
  struct ctl_res res = {0};
  bool sent = net_send(&req, on_ctl, &res) != NULL; /* the body is copied */
  if (sent)
    WAIT_FOR(res.done, 15000);
  if (sent && res.status != 200 && !ctl_may_fail) {
    char *dump = res.body ? json_dumps(res.body, JSON_COMPACT) : NULL;
    printf("# control %s(%.200s): HTTP %ld %s\n", method, body, res.status, dump ? dump : "");
    free(dump);
  }
  free(body);
  if (!sent || res.status != 200) {
    json_decref(res.body);
    return NULL;
  }
  return res.body ? res.body : json_null();
}

static void ctl_do(const char *method, const char *fmt, const char *arg) {
  json_decref(ctl(method, fmt, arg));
}

/* The violations the fake recorded since the last call (it forgets them), printed. */
static size_t take_violations(void) {
  json_t *v = ctl("clearViolations", "[]");
  size_t n = json_array_size(v);
  for (size_t i = 0; i < n && i < 10; i++) {
    json_t *e = json_array_get(v, i);
    printf("#   fake violation [%s] %s\n", json_string_value(json_object_get(e, "kind")),
           json_string_value(json_object_get(e, "message")));
  }
  json_decref(v);
  return n;
}

/* sessionStats(appId) field, or -1. */
static long stat_of(const char *app_id, const char *field) {
  json_t *st = ctl("sessionStats", "[\"%s\"]", app_id);
  json_t *f = json_object_get(st, field);
  long v = json_is_integer(f) ? (long)json_integer_value(f) : -1;
  json_decref(st);
  return v;
}

/* ---- bots: an app in the fake (with a guild) and a gateway session here ---- */

struct bot {
  char name[32];
  char token[128];
  char app_id[32];
  char guild_id[32];
  struct rest_client *rest;
  struct gw_session *gw;
  enum gw_state state;
  unsigned changes[GW_FAILED + 1];
  char reason[256];
  int readies, resumes, guild_creates, guild_ok, dispatches;
  size_t big_len; /* length of d.blob in the last BIG_TEST event */
  uint64_t ready_at; /* uv_now of the last READY */
};

static void bot_on_state(void *ud, enum gw_state st, const char *reason) {
  struct bot *b = ud;
  b->state = st;
  b->changes[st]++;
  snprintf(b->reason, sizeof b->reason, "%s", reason ? reason : "");
}

static void bot_on_dispatch(void *ud, const char *t, json_t *d) {
  struct bot *b = ud;
  b->dispatches++;
  if (!strcmp(t, "READY")) {
    b->readies++;
    b->ready_at = uv_now(&loop);
  } else if (!strcmp(t, "RESUMED")) {
    b->resumes++;
  } else if (!strcmp(t, "BIG_TEST")) {
    b->big_len = json_string_length(json_object_get(d, "blob"));
  } else if (!strcmp(t, "GUILD_CREATE")) {
    b->guild_creates++;
    const char *id = json_string_value(json_object_get(d, "id"));
    if (id && !strcmp(id, b->guild_id))
      b->guild_ok = 1;
  }
}

static const struct gw_handler bot_handler = {.dispatch = bot_on_dispatch, .state = bot_on_state};

/* Creates the app and a guild with the bot in it. */
static bool bot_make(struct bot *b, const char *name) {
  memset(b, 0, sizeof *b);
  snprintf(b->name, sizeof b->name, "%s", name);
  json_t *app = ctl("createApp", "{\"name\":\"%s\"}", name);
  const char *tok = json_string_value(json_object_get(app, "token"));
  const char *id = json_string_value(json_object_get(app, "appId"));
  if (tok && id) {
    snprintf(b->token, sizeof b->token, "%s", tok);
    snprintf(b->app_id, sizeof b->app_id, "%s", id);
  }
  json_decref(app);
  if (!b->app_id[0])
    return false;
  json_t *g = ctl("createGuild", "{\"name\":\"%s guild\"}", name);
  const char *gid = json_string_value(json_object_get(g, "id"));
  if (gid)
    snprintf(b->guild_id, sizeof b->guild_id, "%s", gid);
  json_decref(g);
  if (!b->guild_id[0])
    return false;
  json_t *r = ctl("addBotToGuild", "[\"%s\",\"%s\"]", b->app_id, b->guild_id);
  json_decref(r);
  return r != NULL;
}

static bool bot_open(struct bot *b) {
  b->rest = rest_client_new(b->token, b->name);
  struct gw_options o = {.token = b->token,
                         .intents = 1,
                         .rest = b->rest,
                         .label = b->name,
                         .handler = &bot_handler,
                         .ud = b};
  b->gw = b->rest ? gw_open(&o) : NULL;
  return b->gw != NULL;
}

static bool bot_start(struct bot *b, const char *name) { return bot_make(b, name) && bot_open(b); }

static void bot_close(struct bot *b) {
  if (b->gw)
    gw_close(b->gw);
  b->gw = NULL;
  if (b->rest)
    rest_client_free(b->rest);
  b->rest = NULL;
}

static struct gw_info info_of(const struct bot *b) {
  struct gw_info i;
  gw_get_info(b->gw, &i);
  return i;
}

/* ---- per-test environment ---- */

static bool env_active;
static int env_down(void);

static bool env_up(struct fake *f, bool tls) {
  if (env_active)
    env_down(); /* an earlier test failed half-way */
  if (!fake_start(f, tls))
    return false;
  env_active = true;
  cur = f;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &tick);
  uv_timer_start(&tick, on_tick, 20, 20);
  astra.loop = &loop;
  const char *ca = f->cli.ca_file[0] ? f->cli.ca_file : NULL;
  if (net_init(&loop, UA, ca) != 0 || rest_global_init(f->cli.api_base, UA) != 0 ||
      gw_global_init(&loop, UA, ca) != 0)
    return false;
  take_violations(); /* whatever an earlier test left */
  return true;
}

/* Shuts everything down and closes the loop: uv_loop_close's result (0: no handle left). */
static int env_down(void) {
  env_active = false;
  rest_global_shutdown();
  gw_global_shutdown();
  net_shutdown();
  uv_timer_stop(&tick);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  gw_global_finish();
  astra.loop = NULL;
  return uv_loop_close(&loop);
}

/* Whether every one of n bots is in state st (and, when min_readies/min_resumes are not
 * negative, has seen at least that many READY/RESUMED). */
static bool all_in(const struct bot *bots, int n, enum gw_state st, int min_readies,
                   int min_resumes) {
  for (int k = 0; k < n; k++)
    if (bots[k].state != st || bots[k].readies < min_readies || bots[k].resumes < min_resumes)
      return false;
  return true;
}

/* ---- tests ---- */

/* Identify -> READY -> GUILD_CREATE, heartbeats ACKed with a measured latency, a server op 1
 * answered at once, the upgrade carrying v=10&encoding=json and our User-Agent, and a close
 * by gw_close with 1000. */
TEST(gateway_identify_ready_heartbeats) {
  CHECK(env_up(&plain_fake, false));
  struct bot b;
  CHECK(bot_start(&b, "ready"));
  WAIT_FOR(b.readies && b.guild_ok, 10000);
  CHECK_INT(b.readies, 1);
  CHECK_INT(b.guild_ok, 1);
  CHECK_INT(b.state, GW_READY);
  CHECK(b.changes[GW_IDENTIFYING] == 1 && b.changes[GW_READY] == 1);
  WAIT_FOR(info_of(&b).latency_ms >= 0, 3 * HB_MS);
  struct gw_info i = info_of(&b);
  CHECK(i.latency_ms >= 0 && i.latency_ms < HB_MS);
  CHECK(i.session_id[0] != 0);
  CHECK(i.seq >= 2); /* READY and GUILD_CREATE */
  CHECK(i.connected_since > 0);
  CHECK_INT(i.reconnects, 0);
  CHECK_INT(gw_sessions(), 1);

  /* a few more heartbeats, then a server op 1 */
  run_for(3 * HB_MS);
  long beats = stat_of(b.app_id, "heartbeats");
  CHECK(beats >= 3);
  ctl_do("gatewayHeartbeatRequest", "[\"%s\"]", b.app_id);
  run_for(200);
  CHECK(stat_of(b.app_id, "heartbeats") > beats);

  /* a 100 KB event arrives in many 4 KB pieces: reassembled, then dispatched whole */
  {
    enum { BIG = 100000 };
    char *blob = malloc(BIG + 1), *body = malloc(BIG + 128);
    memset(blob, 'b', BIG);
    blob[BIG] = 0;
    snprintf(body, BIG + 128, "[\"%s\",\"BIG_TEST\",{\"blob\":\"%s\"}]", b.app_id, blob);
    json_decref(ctl("dispatch", "%s", body));
    free(blob);
    free(body);
    WAIT_FOR(b.big_len, 2000);
    CHECK_INT(b.big_len, BIG);
    CHECK_INT(b.state, GW_READY);
  }

  json_t *conns = ctl("sessions", "[\"%s\"]", b.app_id);
  CHECK_INT(json_array_size(conns), 1);
  json_t *c = json_array_get(conns, 0);
  CHECK_STR(json_string_value(json_object_get(c, "path")), "/gateway");
  CHECK_STR(json_string_value(json_object_get(c, "query")), "?v=10&encoding=json");
  CHECK_STR(json_string_value(json_object_get(c, "userAgent")), UA);
  CHECK(json_integer_value(json_object_get(c, "acks")) >= 3);
  json_decref(conns);

  bot_close(&b);
  CHECK_INT(gw_sessions(), 0);
  run_for(300);
  json_t *st = ctl("sessionStats", "[\"%s\"]", b.app_id);
  json_t *close0 = json_array_get(json_object_get(st, "closes"), 0);
  CHECK_INT(json_integer_value(json_object_get(close0, "code")), 1000);
  CHECK_STR(json_string_value(json_object_get(close0, "by")), "client");
  json_decref(st);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* Close codes that allow reconnecting (4000-4003, 4005, 4008) and a TCP drop without a close
 * frame: the session resumes on resume_gateway_url without identifying again. */
TEST(gateway_close_codes_resume) {
  CHECK(env_up(&plain_fake, false));
  enum { N = 7 };
  static const int codes[N] = {4000, 4001, 4002, 4003, 4005, 4008, 0 /* drop */};
  struct bot bots[N];
  for (int k = 0; k < N; k++) {
    char name[32];
    snprintf(name, sizeof name, "resume-%d", codes[k]);
    CHECK(bot_start(&bots[k], name));
  }
  WAIT_FOR(all_in(bots, N, GW_READY, 1, 0), 10000);
  CHECK(all_in(bots, N, GW_READY, 1, 0));
  for (int k = 0; k < N; k++) {
    if (codes[k])
      json_decref(ctl("gatewayClose", "[\"%s\",%d]", bots[k].app_id, codes[k]));
    else
      ctl_do("gatewayDrop", "[\"%s\"]", bots[k].app_id);
  }
  WAIT_FOR(all_in(bots, N, GW_READY, 1, 1), 10000);
  for (int k = 0; k < N; k++) {
    struct bot *b = &bots[k];
    if (b->resumes != 1 || b->state != GW_READY)
      printf("#   code %d: state %s, resumes %d (%s)\n", codes[k], gw_state_name(b->state),
             b->resumes, b->reason);
    CHECK_INT(b->resumes, 1);
    CHECK_INT(b->readies, 1);
    struct gw_info i = info_of(b);
    CHECK_INT(i.last_close, codes[k]);
    CHECK(i.reconnects >= 1);
    CHECK(b->changes[GW_BACKOFF] >= 1 && b->changes[GW_RESUMING] >= 1);
    CHECK_INT(stat_of(b->app_id, "identifies"), 1);
    CHECK_INT(stat_of(b->app_id, "resumes"), 1);
  }
  json_t *conns = ctl("sessions", "[\"%s\"]", bots[0].app_id);
  json_t *last = json_array_get(conns, json_array_size(conns) - 1);
  CHECK_STR(json_string_value(json_object_get(last, "path")), "/gateway-resume");
  CHECK_INT(json_integer_value(json_object_get(last, "resumed")), 1);
  json_decref(conns);
  for (int k = 0; k < N; k++)
    bot_close(&bots[k]);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* 4007 and 4009: resuming is pointless; a new session is identified (after the 5 s identify
 * window, which the fake enforces). */
TEST(gateway_close_codes_reidentify) {
  CHECK(env_up(&plain_fake, false));
  enum { N = 2 };
  static const int codes[N] = {4007, 4009};
  struct bot bots[N];
  CHECK(bot_start(&bots[0], "reident-4007") && bot_start(&bots[1], "reident-4009"));
  WAIT_FOR(all_in(bots, N, GW_READY, 1, 0), 10000);
  CHECK(all_in(bots, N, GW_READY, 1, 0));
  char first_sid[N][64];
  for (int k = 0; k < N; k++) {
    snprintf(first_sid[k], sizeof first_sid[k], "%s", info_of(&bots[k]).session_id);
    json_decref(ctl("gatewayClose", "[\"%s\",%d]", bots[k].app_id, codes[k]));
  }
  WAIT_FOR(all_in(bots, N, GW_READY, 2, 0), 12000);
  for (int k = 0; k < N; k++) {
    struct bot *b = &bots[k];
    CHECK_INT(b->readies, 2);
    CHECK_INT(b->resumes, 0);
    CHECK_INT(info_of(b).last_close, codes[k]);
    CHECK(strcmp(info_of(b).session_id, first_sid[k]) != 0);
    CHECK_INT(stat_of(b->app_id, "identifies"), 2);
    CHECK_INT(stat_of(b->app_id, "resumes"), 0);
  }
  for (int k = 0; k < N; k++)
    bot_close(&bots[k]);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* 4004 and 4010-4014 forbid reconnecting: the session fails with a readable reason and stays
 * down, and a session of another bot on the same loop is not disturbed. */
TEST(gateway_close_codes_fatal) {
  CHECK(env_up(&plain_fake, false));
  enum { N = 7 };
  static const int codes[N] = {4004, 4010, 4011, 4012, 4013, 4014, 0 /* bystander */};
  struct bot bots[N];
  for (int k = 0; k < N; k++) {
    char name[32];
    snprintf(name, sizeof name, "fatal-%d", codes[k]);
    CHECK(bot_start(&bots[k], name));
  }
  WAIT_FOR(all_in(bots, N, GW_READY, 1, 0), 10000);
  CHECK(all_in(bots, N, GW_READY, 1, 0));
  for (int k = 0; k < N - 1; k++)
    json_decref(ctl("gatewayClose", "[\"%s\",%d]", bots[k].app_id, codes[k]));
  WAIT_FOR(all_in(bots, N - 1, GW_FAILED, 1, 0), 5000);
  run_for(1500); /* long enough for a (wrong) reconnect to show */
  for (int k = 0; k < N - 1; k++) {
    struct bot *b = &bots[k];
    struct gw_info i = info_of(b);
    CHECK_INT(b->state, GW_FAILED);
    CHECK_INT(i.last_close, codes[k]);
    char code[8];
    snprintf(code, sizeof code, "%d ", codes[k]);
    CHECK(!strncmp(b->reason, code, 5) && strlen(b->reason) > 12);
    CHECK(!strncmp(i.last_error, code, 5));
    CHECK_INT(b->changes[GW_BACKOFF], 0);
    CHECK_INT(stat_of(b->app_id, "open"), 0);
    CHECK_INT(stat_of(b->app_id, "identifies"), 1);
    json_t *p = json_pack("{s:i,s:n}", "op", 3, "d");
    int rc = gw_send(b->gw, p);
    json_decref(p);
    CHECK_INT(rc, -1);
  }
  CHECK(strstr(bots[0].reason, "authentication failed") != NULL);
  CHECK(strstr(bots[5].reason, "privileged intent") != NULL);
  struct bot *by = &bots[N - 1];
  CHECK_INT(by->state, GW_READY);
  CHECK_INT(by->changes[GW_READY], 1);
  CHECK_INT(by->changes[GW_BACKOFF], 0);
  CHECK_INT(info_of(by).reconnects, 0);
  CHECK_INT(gw_sessions(), N);
  for (int k = 0; k < N; k++)
    bot_close(&bots[k]);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* op 7 Reconnect: the client closes (not with 1000) and resumes on resume_gateway_url. */
TEST(gateway_op7_reconnect_resumes) {
  CHECK(env_up(&plain_fake, false));
  struct bot b;
  CHECK(bot_start(&b, "op7"));
  WAIT_FOR(b.state == GW_READY, 10000);
  CHECK_INT(b.state, GW_READY);
  uint64_t seq0 = info_of(&b).seq;
  ctl_do("gatewayReconnect", "[\"%s\"]", b.app_id);
  WAIT_FOR(b.resumes == 1 && b.state == GW_READY, 5000);
  CHECK_INT(b.resumes, 1);
  CHECK_INT(b.readies, 1);
  CHECK(info_of(&b).seq > seq0); /* RESUMED has its own sequence number */
  json_t *conns = ctl("sessions", "[\"%s\"]", b.app_id);
  CHECK_INT(json_array_size(conns), 2);
  json_t *c0 = json_array_get(conns, 0), *c1 = json_array_get(conns, 1);
  json_t *close0 = json_object_get(c0, "close");
  CHECK_STR(json_string_value(json_object_get(close0, "by")), "client");
  CHECK_INT(json_integer_value(json_object_get(close0, "code")), 4000);
  CHECK_STR(json_string_value(json_object_get(c1, "path")), "/gateway-resume");
  CHECK_INT(json_integer_value(json_object_get(c1, "resumed")), 1);
  CHECK_STR(json_string_value(json_object_get(c1, "sessionId")), info_of(&b).session_id);
  json_decref(conns);
  bot_close(&b);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* op 9 with d:true resumes; with d:false a new session is identified after 1-5 s. */
TEST(gateway_op9_invalid_session) {
  CHECK(env_up(&plain_fake, false));
  struct bot bots[2];
  CHECK(bot_start(&bots[0], "op9-true") && bot_start(&bots[1], "op9-false"));
  WAIT_FOR(all_in(bots, 2, GW_READY, 1, 0), 10000);
  CHECK(all_in(bots, 2, GW_READY, 1, 0));
  ctl_do("gatewayInvalidSession", "[\"%s\",true]", bots[0].app_id);
  uv_update_time(&loop);
  uint64_t t0 = uv_now(&loop);
  ctl_do("gatewayInvalidSession", "[\"%s\",false]", bots[1].app_id);
  WAIT_FOR(bots[0].resumes == 1 && bots[1].readies == 2 && all_in(bots, 2, GW_READY, 1, 0),
           12000);
  CHECK_INT(bots[0].resumes, 1);
  CHECK_INT(bots[0].readies, 1);
  CHECK_INT(stat_of(bots[0].app_id, "identifies"), 1);
  CHECK_INT(bots[1].readies, 2);
  CHECK_INT(bots[1].resumes, 0);
  CHECK(bots[1].ready_at - t0 >= 1000);
  CHECK_INT(stat_of(bots[1].app_id, "identifies"), 2);
  for (int k = 0; k < 2; k++)
    bot_close(&bots[k]);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* The server stops ACKing heartbeats: after one unanswered heartbeat the connection is a
 * zombie, closed with 4000 (not 1000/1001, so the session survives), and resumed. */
TEST(gateway_zombie_resumes) {
  CHECK(env_up(&plain_fake, false));
  struct bot b;
  CHECK(bot_start(&b, "zombie"));
  WAIT_FOR(b.state == GW_READY, 10000);
  CHECK_INT(b.state, GW_READY);
  ctl_do("gatewaySilence", "[\"%s\",true]", b.app_id);
  WAIT_FOR(b.resumes >= 1, 6 * HB_MS + 2000);
  ctl_do("gatewaySilence", "[\"%s\",false]", b.app_id);
  CHECK(b.resumes >= 1);
  WAIT_FOR(b.state == GW_READY, 5000);
  run_for(3 * HB_MS); /* heartbeats flow again: no further reconnect */
  int resumes = b.resumes;
  run_for(3 * HB_MS);
  CHECK_INT(b.resumes, resumes);
  CHECK_INT(b.state, GW_READY);
  CHECK_INT(b.readies, 1);
  json_t *conns = ctl("sessions", "[\"%s\"]", b.app_id);
  json_t *close0 = json_object_get(json_array_get(conns, 0), "close");
  CHECK_STR(json_string_value(json_object_get(close0, "by")), "client");
  CHECK_INT(json_integer_value(json_object_get(close0, "code")), 4000);
  json_decref(conns);
  CHECK_INT(stat_of(b.app_id, "identifies"), 1);
  bot_close(&b);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* gw_send: payloads over 4096 bytes and our own ops are refused; others go out once online. */
TEST(gateway_send_limits) {
  CHECK(env_up(&plain_fake, false));
  struct bot b;
  CHECK(bot_start(&b, "send"));
  /* queued before the session is online: sent after READY */
  json_t *presence = json_pack("{s:i,s:{s:n,s:[],s:s,s:b}}", "op", 3, "d", "since", "activities",
                               "status", "online", "afk", 0);
  CHECK_INT(gw_send(b.gw, presence), 0);
  WAIT_FOR(b.state == GW_READY, 10000);
  CHECK_INT(b.state, GW_READY);
  char *big = malloc(5000);
  memset(big, 'x', 4999);
  big[4999] = 0;
  json_t *huge = json_pack("{s:i,s:{s:n,s:[{s:s,s:i}],s:s,s:b}}", "op", 3, "d", "since",
                           "activities", "name", big, "type", 0, "status", "online", "afk", 0);
  free(big);
  CHECK_INT(gw_send(b.gw, huge), -1);
  json_decref(huge);
  json_t *hb = json_pack("{s:i,s:n}", "op", 1, "d");
  json_t *ident = json_pack("{s:i,s:{}}", "op", 2, "d");
  CHECK_INT(gw_send(b.gw, hb), -1);
  CHECK_INT(gw_send(b.gw, ident), -1);
  CHECK_INT(gw_send(b.gw, json_object_get(presence, "d")), -1); /* no op */
  json_decref(hb);
  json_decref(ident);
  for (int k = 0; k < 5; k++)
    CHECK_INT(gw_send(b.gw, presence), 0);
  json_decref(presence);
  run_for(500);
  CHECK_INT(b.state, GW_READY);
  CHECK_INT(b.resumes, 0);
  CHECK_INT(stat_of(b.app_id, "open"), 1);
  bot_close(&b);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* The fake restarts (every connection cut, the port closed for 1.5 s, so that reconnecting
 * fails a few times first): the session comes back, resumed. */
TEST(gateway_fake_restart) {
  CHECK(env_up(&plain_fake, false));
  struct bot b;
  CHECK(bot_start(&b, "restart"));
  WAIT_FOR(b.state == GW_READY, 10000);
  CHECK_INT(b.state, GW_READY);
  /* the restart cuts every TCP connection, the control call's own included: its answer is
   * lost, by design */
  ctl_may_fail = true;
  json_decref(ctl("restart", "[{\"delayMs\":1500}]"));
  ctl_may_fail = false;
  WAIT_FOR(b.state != GW_READY, 3000);
  WAIT_FOR(b.state == GW_READY, 15000);
  CHECK_INT(b.state, GW_READY);
  CHECK_INT(b.resumes, 1);
  CHECK_INT(b.readies, 1);
  CHECK(info_of(&b).reconnects >= 2); /* at least one refused attempt */
  CHECK(strstr(info_of(&b).last_error, "connection failed") != NULL);
  bot_close(&b);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* wss:// with the fake's own CA given as the extra CA file (TLS_CA_FILE). */
TEST(gateway_tls) {
  CHECK(env_up(&tls_fake, true));
  CHECK(tls_fake.cli.ca_file[0] != 0);
  struct bot b;
  CHECK(bot_start(&b, "tls"));
  WAIT_FOR(b.readies && b.guild_ok, 10000);
  CHECK_INT(b.state, GW_READY);
  CHECK_INT(b.guild_ok, 1);
  /* a resume goes over TLS too */
  ctl_do("gatewayReconnect", "[\"%s\"]", b.app_id);
  WAIT_FOR(b.resumes == 1 && b.state == GW_READY, 5000);
  CHECK_INT(b.resumes, 1);
  bot_close(&b);
  CHECK_INT(take_violations(), 0);
  CHECK_INT(env_down(), 0);
}

/* Refusals that need no server: gw_open without a context, with a bad token. */
TEST(gateway_open_refusals) {
  struct gw_options o = {.token = "abc", .intents = 1, .rest = (struct rest_client *)1};
  CHECK(gw_open(&o) == NULL); /* no gw_global_init yet */
  CHECK(env_up(&plain_fake, false));
  o.token = "bad\"token";
  CHECK(gw_open(&o) == NULL);
  o.token = "";
  CHECK(gw_open(&o) == NULL);
  o.token = "fine.token";
  o.rest = NULL;
  CHECK(gw_open(&o) == NULL);
  CHECK_INT(gw_sessions(), 0);
  CHECK_INT(env_down(), 0);
}

/* The sessions log on stderr only when ASTRA_TEST_LOG names a level (debug, info...): the
 * failures provoked here on purpose would otherwise look like problems in the test log. */
__attribute__((constructor)) static void quiet_logs(void) {
  const char *lvl = getenv("ASTRA_TEST_LOG");
  int l = lvl ? log_level_parse(lvl) : -1;
  log_set_stderr(l >= 0);
  log_set_level(l >= 0 ? (enum log_level)l : LOG_ERROR);
  signal(SIGPIPE, SIG_IGN);
}
