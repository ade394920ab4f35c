/* Integration test of the interactions module (src/discord/interactions.c) against the strict
 * fake Discord (tests/fakes/discord, run as a child process by fake_cli.h): one app, one
 * guild, one gateway session on a private uv loop whose dispatch handler passes
 * INTERACTION_CREATE to ix_dispatch, and can hold one back (a late delivery) or dispatch it
 * twice (a duplicate). The fake plays the user (runCommand, clickButton) and is the oracle:
 * interactions(id) tells which callback came and when, what @original and the follow-ups
 * became; messages(channelId) shows the clicked message after an update.
 *
 * Scenarios: a handler that answers at once (type 4); one that answers 2.6 s later (deferred
 * with type 5 at IX_DEFER_AFTER_MS, then its reply edits @original); a component handler that
 * updates 2.6 s later (type 6, then the clicked message is edited); an ephemeral route (flags
 * 64 on the type 4 reply and on the type 5 deferral); a late delivery (10062: the answer is
 * refused with -1, nothing crashes, the ix is freed); a duplicate delivery (40060 on the second
 * callback, whose answer then edits @original); an unknown custom_id action (an ephemeral "not
 * available"). The violations provoked on purpose (10062, 40060) are taken out; none other may
 * remain. At the end every ix is freed and released once, and the loop closes cleanly.
 * Without node the whole binary is skipped. */
#include "fake_cli.h"
#include "harness.h"

#include "core/app.h"
#include "core/log.h"
#include "discord/customid.h"
#include "discord/gateway.h"
#include "discord/interactions.h"
#include "discord/rest.h"
#include "net/net.h"

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define UA "DiscordBot (https://github.com/astra-systems/astrad, 0.1.0)"
#define HB_MS 1000
#define SLOW_MS 2600  /* the slow handlers answer this long after the interaction arrived */
#define HOLD_MS 3200  /* a late delivery: past Discord's 3 s */
#define FLAG_EPHEMERAL 64
#define FLAG_LOADING 128

/* Without node there is no fake to test against: report one skipped test and stop. */
__attribute__((constructor)) static void skip_without_node(void) {
  if (!fake_cli_have_node()) {
    printf("ok - test_interactions # SKIP node not found\n");
    fflush(stdout);
    _exit(0);
  }
}

/* The sessions log on stderr only when ASTRA_TEST_LOG names a level: the 10062 and 40060
 * provoked here would otherwise look like problems in the test log. */
__attribute__((constructor)) static void quiet_logs(void) {
  const char *lvl = getenv("ASTRA_TEST_LOG");
  int l = lvl ? log_level_parse(lvl) : -1;
  log_set_stderr(l >= 0);
  log_set_level(l >= 0 ? (enum log_level)l : LOG_ERROR);
  signal(SIGPIPE, SIG_IGN);
}

/* ---- the loop ---- */

static uv_loop_t loop;
static uv_timer_t tick;

/* A steady 20 ms tick so that WAIT_FOR's uv_run(UV_RUN_ONCE) re-checks its condition. */
static void on_tick(uv_timer_t *t) { (void)t; }

#define WAIT_FOR(cond, ms)                                                                  \
  do {                                                                                      \
    uv_update_time(&loop);                                                                  \
    uint64_t dl_ = uv_now(&loop) + (ms);                                                    \
    while (!(cond) && uv_now(&loop) < dl_)                                                  \
      uv_run(&loop, UV_RUN_ONCE);                                                           \
  } while (0)

/* ---- the world: the fake, one app with a guild, a user, a gateway session ---- */

static struct {
  bool tried, up;  /* set up once, by the first test */
  bool torn_down;
  struct fake_cli fake;
  char token[128], app_id[32], guild_id[32], channel_id[32], user_id[32];
  struct rest_client *rest;
  struct gw_session *gw;
  enum gw_state state;
} w;

/* What ix_dispatch gets as ctx; release counts the frees. */
static struct counters {
  unsigned created, released;
} counters;

/* Applied to the next INTERACTION_CREATE only. */
static unsigned hold_next_ms;
static bool dup_next;

static void stop_fake(void) { fake_cli_stop(&w.fake); }

/* A control call: args (stolen) is an array of arguments or one object. The answer (the
 * caller decrefs), or NULL when the call failed or the method threw. */
static json_t *ctl(const char *method, json_t *args) {
  char *body = json_dumps(args, JSON_COMPACT);
  json_decref(args);
  json_t *out = body ? fake_cli_control(&w.fake, method, body) : NULL;
  const char *err = json_string_value(json_object_get(out, "error"));
  if (!out || err) {
    printf("# control %s(%.300s) failed: %s\n", method, body ? body : "?", err ? err : "no answer");
    json_decref(out);
    out = NULL;
  }
  free(body);
  return out;
}

static const char *str(const json_t *j, const char *key) {
  return json_string_value(json_object_get(j, key));
}

static long long num(const json_t *j, const char *key) {
  return json_integer_value(json_object_get(j, key));
}

/* Takes every violation the fake recorded (it forgets them): returns how many were of kind
 * `expected` (NULL: none expected), prints and counts the others in *others. */
static unsigned take_violations(const char *expected, const char *ix_id, unsigned *others) {
  json_t *v = ctl("clearViolations", json_array());
  unsigned hits = 0;
  *others = 0;
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    const char *kind = str(e, "kind");
    const char *iid = str(e, "interactionId");
    if (expected && kind && !strcmp(kind, expected) && (!ix_id || !iid || !strcmp(iid, ix_id))) {
      hits++;
      continue;
    }
    (*others)++;
    printf("#   fake violation [%s] %s\n", kind ? kind : "?", str(e, "message"));
  }
  json_decref(v);
  return hits;
}

/* ---- REST, waited for ---- */

struct rest_wait {
  bool done;
  int error, code;
  long status;
  json_t *body;
};

static void on_rest(const struct rest_result *r, void *arg) {
  struct rest_wait *rw = arg;
  rw->error = r->error;
  rw->status = r->status;
  rw->code = r->code;
  rw->body = r->body ? json_incref(r->body) : NULL;
  rw->done = true;
}

/* Sends and runs the loop until the answer; returns the body (the caller decrefs) when the
 * status is 2xx, else NULL. */
static json_t *rest_sync(const char *method, const char *path, json_t *body) {
  struct rest_wait rw = {0};
  if (!rest_request(w.rest, method, path, body, 0, on_rest, &rw))
    return NULL;
  WAIT_FOR(rw.done, 10000);
  if (!rw.done || rw.error || rw.status >= 300) {
    char *dump = rw.body ? json_dumps(rw.body, JSON_COMPACT) : NULL;
    printf("# %s %s: error %d HTTP %ld code %d %s\n", method, path, rw.error, rw.status, rw.code,
           dump ? dump : "");
    free(dump);
    json_decref(rw.body);
    return NULL;
  }
  return rw.body ? rw.body : json_null();
}

/* ---- handlers: each run is recorded ---- */

struct run {
  char id[32];       /* the interaction's id */
  char content[64];  /* what the handler answered */
  int rc;            /* what ix_reply/ix_update returned */
  bool finished;     /* answered and ix_done called */
  bool ctx_ok;
};

static struct run runs[32];
static unsigned nruns;

static struct run *run_new(struct ix *ix) {
  static struct run spare;
  struct run *r = nruns < sizeof runs / sizeof runs[0] ? &runs[nruns++] : &spare;
  memset(r, 0, sizeof *r);
  const char *id = str(ix_raw(ix), "id");
  snprintf(r->id, sizeof r->id, "%s", id ? id : "");
  r->ctx_ok = ix_ctx(ix) == &counters && ix_app_id(ix) && !strcmp(ix_app_id(ix), w.app_id) &&
              ix_user_id(ix) && !strcmp(ix_user_id(ix), w.user_id);
  return r;
}

/* Handler runs for this interaction id, and how many of them finished. */
static unsigned runs_of(const char *id, bool finished_only) {
  unsigned n = 0;
  for (unsigned i = 0; i < nruns; i++)
    if (!strcmp(runs[i].id, id) && (!finished_only || runs[i].finished))
      n++;
  return n;
}

static struct run *run_of(const char *id) {
  for (unsigned i = 0; i < nruns; i++)
    if (!strcmp(runs[i].id, id))
      return &runs[i];
  return NULL;
}

static unsigned fast_count;

/* Answers at once, with a numbered text so that two answers can be told apart. */
static void h_fast(struct ix *ix) {
  struct run *r = run_new(ix);
  snprintf(r->content, sizeof r->content, "resposta rápida %u", ++fast_count);
  r->rc = ix_reply(ix, json_pack("{s:s}", "content", r->content));
  r->finished = true;
  ix_done(ix);
}

/* A handler waiting on I/O: answers SLOW_MS later from a uv timer. */
struct later {
  uv_timer_t t;
  struct ix *ix;
  struct run *r;
  bool update;
};

static void free_later(uv_handle_t *h) { free(h->data); }

static void on_later(uv_timer_t *t) {
  struct later *l = t->data;
  if (l->update) {
    snprintf(l->r->content, sizeof l->r->content, "Atualizado");
    l->r->rc = ix_update(
        l->ix, json_pack("{s:s, s:[{s:i, s:[{s:i, s:i, s:s, s:s, s:b}]}]}", "content",
                         l->r->content, "components", "type", 1, "components", "type", 2,
                         "style", 2, "label", "Feito", "custom_id", "astra:slow:2", "disabled", 1));
  } else {
    snprintf(l->r->content, sizeof l->r->content, "resposta lenta");
    l->r->rc = ix_reply(l->ix, json_pack("{s:s}", "content", l->r->content));
  }
  l->r->finished = true;
  ix_done(l->ix);
  uv_close((uv_handle_t *)&l->t, free_later);
}

static void answer_later(struct ix *ix, struct run *r, bool update) {
  struct later *l = calloc(1, sizeof *l);
  if (!l) {
    r->rc = -2;
    r->finished = true;
    ix_done(ix);
    return;
  }
  l->ix = ix;
  l->r = r;
  l->update = update;
  uv_timer_init(&loop, &l->t);
  l->t.data = l;
  uv_timer_start(&l->t, on_later, SLOW_MS, 0);
}

static void h_slow_reply(struct ix *ix) { answer_later(ix, run_new(ix), false); }

/* The button "astra:slow:<n>": updates the clicked message SLOW_MS later. */
static void h_slow_update(struct ix *ix) {
  struct run *r = run_new(ix);
  const struct cid *c = ix_cid(ix);
  if (!c || c->nargs != 1 || strcmp(c->args[0], "1") || ix_kind(ix) != IX_COMPONENT)
    r->ctx_ok = false;
  answer_later(ix, r, true);
}

/* /privado modo:rapido|lento, on an ephemeral route. */
static void h_private(struct ix *ix) {
  const char *mode = ix_option(ix, "modo");
  if (mode && !strcmp(mode, "lento")) {
    h_slow_reply(ix);
    return;
  }
  struct run *r = run_new(ix);
  snprintf(r->content, sizeof r->content, "só você vê");
  r->rc = ix_reply(ix, json_pack("{s:s}", "content", r->content));
  r->finished = true;
  ix_done(ix);
}

static const struct ix_route test_routes[] = {
    {IX_COMMAND, "rapido", h_fast, 0},
    {IX_COMMAND, "lento", h_slow_reply, 0},
    {IX_COMMAND, "privado", h_private, 1},
    {IX_COMPONENT, "slow", h_slow_update, 0},
};

static void on_release(void *ctx) { ((struct counters *)ctx)->released++; }

/* ---- the gateway session ---- */

static void deliver(const json_t *d, bool twice) {
  size_t n = sizeof test_routes / sizeof test_routes[0];
  counters.created += (unsigned)ix_dispatch(test_routes, n, w.rest, d, &counters, on_release);
  if (twice)
    counters.created += (unsigned)ix_dispatch(test_routes, n, w.rest, d, &counters, on_release);
}

struct held {
  uv_timer_t t;
  json_t *d;
};

static void free_held(uv_handle_t *h) { free(h->data); }

static void on_held(uv_timer_t *t) {
  struct held *h = t->data;
  deliver(h->d, false);
  json_decref(h->d);
  uv_close((uv_handle_t *)&h->t, free_held);
}

static void on_dispatch(void *ud, const char *t, json_t *d) {
  (void)ud;
  if (strcmp(t, "INTERACTION_CREATE") != 0)
    return;
  if (hold_next_ms) {
    struct held *h = calloc(1, sizeof *h);
    if (!h)
      return;
    h->d = json_deep_copy(d); /* d is borrowed for this call only */
    uv_timer_init(&loop, &h->t);
    h->t.data = h;
    uv_timer_start(&h->t, on_held, hold_next_ms, 0);
    hold_next_ms = 0;
    return;
  }
  bool twice = dup_next;
  dup_next = false;
  deliver(d, twice);
}

static void on_state(void *ud, enum gw_state st, const char *reason) {
  (void)ud;
  (void)reason;
  w.state = st;
}

static const struct gw_handler handler = {.dispatch = on_dispatch, .state = on_state};

/* Starts the fake, builds the world, opens the session, registers the commands. */
static bool world_up(void) {
  if (w.fake.pid == 0 && fake_cli_start(&w.fake, HB_MS, 0) != 0)
    return false;
  atexit(stop_fake);
  uv_loop_init(&loop);
  uv_timer_init(&loop, &tick);
  uv_timer_start(&tick, on_tick, 20, 20);
  astra.loop = &loop;
  if (net_init(&loop, UA, NULL) != 0 || rest_global_init(w.fake.api_base, UA) != 0 ||
      gw_global_init(&loop, UA, NULL) != 0)
    return false;

  json_t *app = ctl("createApp", json_pack("{s:s}", "name", "Loja Interações"));
  if (!app)
    return false;
  snprintf(w.token, sizeof w.token, "%s", str(app, "token"));
  snprintf(w.app_id, sizeof w.app_id, "%s", str(app, "appId"));
  json_decref(app);
  json_t *user = ctl("createUser", json_pack("{s:s}", "username", "comprador"));
  if (!user)
    return false;
  snprintf(w.user_id, sizeof w.user_id, "%s", str(user, "id"));
  json_decref(user);
  json_t *g = ctl("createGuild", json_pack("{s:s}", "name", "Servidor"));
  if (!g)
    return false;
  snprintf(w.guild_id, sizeof w.guild_id, "%s", str(g, "id"));
  snprintf(w.channel_id, sizeof w.channel_id, "%s", str(g, "system_channel_id"));
  json_decref(g);
  json_t *r = ctl("addMember", json_pack("[s,s]", w.guild_id, w.user_id));
  json_decref(r);
  if (!r)
    return false;
  r = ctl("addBotToGuild", json_pack("[s,s,{s:s}]", w.app_id, w.guild_id, "permissions", "8"));
  json_decref(r);
  if (!r)
    return false;

  w.rest = rest_client_new(w.token, "ix-test");
  struct gw_options o = {.token = w.token,
                         .intents = 1,
                         .rest = w.rest,
                         .label = "ix-test",
                         .handler = &handler,
                         .ud = NULL};
  w.gw = w.rest ? gw_open(&o) : NULL;
  if (!w.gw)
    return false;
  WAIT_FOR(w.state == GW_READY, 10000);
  if (w.state != GW_READY)
    return false;

  char path[160];
  snprintf(path, sizeof path, "/applications/%s/guilds/%s/commands", w.app_id, w.guild_id);
  json_t *cmds = json_pack(
      "[{s:s, s:s, s:i}, {s:s, s:s, s:i}, {s:s, s:s, s:i, s:[{s:i, s:s, s:s, s:b}]}]",
      "name", "rapido", "description", "Responde na hora", "type", 1,
      "name", "lento", "description", "Responde depois de esperar", "type", 1,
      "name", "privado", "description", "Só quem chamou vê", "type", 1, "options",
      "type", 3, "name", "modo", "description", "rapido ou lento", "required", 1);
  json_t *ok = rest_sync("PUT", path, cmds);
  bool registered = json_array_size(ok) == 3;
  json_decref(ok);
  return registered;
}

/* Every test starts here: the world is built once, by whichever test runs first. */
static bool world(void) {
  if (!w.tried) {
    w.tried = true;
    w.up = world_up();
    if (!w.up)
      printf("# could not set up the fake Discord world\n");
  } else if (w.up && !w.torn_down) {
    unsigned others; /* what a test that failed half-way left behind: printed, not counted */
    take_violations(NULL, NULL, &others);
  }
  return w.up && !w.torn_down;
}

/* runCommand as the user; returns the interaction id into id (or ""). */
static bool run_command(const char *name, const char *mode, char *id, size_t idlen) {
  json_t *args = json_pack("{s:s, s:s, s:s, s:s, s:s}", "appId", w.app_id, "guildId",
                           w.guild_id, "channelId", w.channel_id, "userId", w.user_id, "name",
                           name);
  if (mode)
    json_object_set_new(args, "options",
                        json_pack("[{s:s, s:i, s:s}]", "name", "modo", "type", 3, "value", mode));
  json_t *h = ctl("runCommand", args);
  snprintf(id, idlen, "%s", h && str(h, "id") ? str(h, "id") : "");
  long long delivered = num(h, "delivered");
  json_decref(h);
  return id[0] && delivered == 1;
}

static bool click(const char *message_id, const char *custom_id, char *id, size_t idlen) {
  json_t *h = ctl("clickButton", json_pack("{s:s, s:s, s:s, s:s}", "appId", w.app_id,
                                           "messageId", message_id, "customId", custom_id,
                                           "userId", w.user_id));
  snprintf(id, idlen, "%s", h && str(h, "id") ? str(h, "id") : "");
  long long delivered = num(h, "delivered");
  json_decref(h);
  return id[0] && delivered == 1;
}

/* Posts a message with one button (as the bot, through REST); its id into out. */
static bool post_button(const char *content, const char *custom_id, char *out, size_t outlen) {
  char path[96];
  snprintf(path, sizeof path, "/channels/%s/messages", w.channel_id);
  json_t *msg = rest_sync(
      "POST", path,
      json_pack("{s:s, s:[{s:i, s:[{s:i, s:i, s:s, s:s}]}]}", "content", content, "components",
                "type", 1, "components", "type", 2, "style", 1, "label", "Clique", "custom_id",
                custom_id));
  snprintf(out, outlen, "%s", msg && str(msg, "id") ? str(msg, "id") : "");
  json_decref(msg);
  return out[0] != 0;
}

/* Runs the loop until n interactions more than `before` were created and all are freed. */
static bool settle(unsigned before, unsigned n, unsigned ms) {
  WAIT_FOR(counters.created >= before + n && ix_inflight() == 0 &&
               counters.released == counters.created,
           ms);
  return counters.created == before + n && ix_inflight() == 0 &&
         counters.released == counters.created;
}

static json_t *view(const char *id) { return ctl("interactions", json_pack("[s]", id)); }

static const json_t *message_in_channel(const json_t *list, const char *id) {
  size_t i;
  const json_t *m;
  json_array_foreach(list, i, m) if (str(m, "id") && !strcmp(str(m, "id"), id)) return m;
  return NULL;
}

/* ---- tests ---- */

/* (1) A handler that answers at once: a type 4 callback well within 3 s, and @original holds
 * the answer; no deferral, no follow-up. */
TEST(fast_command_answers_with_type_4) {
  CHECK(world());
  char id[32];
  unsigned before = counters.created;
  CHECK(run_command("rapido", NULL, id, sizeof id));
  WAIT_FOR(runs_of(id, true) == 1, 3000);
  CHECK(settle(before, 1, 3000));
  struct run *r = run_of(id);
  CHECK(r != NULL);
  CHECK(r->ctx_ok);
  CHECK_INT(r->rc, 0);
  json_t *v = view(id);
  json_t *cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 4);
  CHECK(num(cb, "ms") >= 0 && num(cb, "ms") < 1000);
  CHECK_STR(str(json_object_get(cb, "data"), "content"), r->content);
  CHECK_INT(num(json_object_get(cb, "data"), "flags") & FLAG_EPHEMERAL, 0);
  json_t *orig = json_object_get(v, "original");
  CHECK_STR(str(orig, "content"), r->content);
  CHECK_INT(json_array_size(json_object_get(v, "followups")), 0);
  json_decref(v);
  unsigned others;
  CHECK_INT(take_violations(NULL, NULL, &others), 0);
  CHECK_INT(others, 0);
}

/* (2) A handler that answers after 2.6 s: deferred (type 5) at ~2 s on its behalf, then its
 * reply edits @original (the loading message), not a follow-up. */
TEST(slow_command_is_deferred_then_edits_original) {
  CHECK(world());
  char id[32];
  unsigned before = counters.created;
  CHECK(run_command("lento", NULL, id, sizeof id));
  WAIT_FOR(runs_of(id, false) == 1, 3000);
  CHECK_INT(runs_of(id, false), 1);
  CHECK(ix_inflight() == 1);
  CHECK(settle(before, 1, SLOW_MS + 3000));
  struct run *r = run_of(id);
  CHECK(r->ctx_ok);
  CHECK_INT(r->rc, 0);
  json_t *v = view(id);
  json_t *cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 5);
  printf("# deferral after %lld ms\n", num(cb, "ms"));
  CHECK(num(cb, "ms") >= 1900 && num(cb, "ms") < 3000);
  CHECK_INT(num(json_object_get(cb, "data"), "flags") & FLAG_EPHEMERAL, 0);
  json_t *orig = json_object_get(v, "original");
  CHECK_STR(str(orig, "content"), "resposta lenta");
  CHECK_INT(num(orig, "flags") & FLAG_LOADING, 0); /* no longer "thinking" */
  CHECK_INT(json_array_size(json_object_get(v, "followups")), 0);
  json_decref(v);
  unsigned others;
  CHECK_INT(take_violations(NULL, NULL, &others), 0);
  CHECK_INT(others, 0);
}

/* (3) A button whose handler updates the message 2.6 s later: a type 6 deferral at ~2 s,
 * then the update edits the clicked message itself (content and components). */
TEST(slow_component_is_deferred_then_updates_the_message) {
  CHECK(world());
  char mid[32], id[32];
  CHECK(post_button("Escolha", "astra:slow:1", mid, sizeof mid));
  unsigned before = counters.created;
  CHECK(click(mid, "astra:slow:1", id, sizeof id));
  CHECK(settle(before, 1, SLOW_MS + 4000));
  struct run *r = run_of(id);
  CHECK(r != NULL);
  CHECK(r->ctx_ok); /* custom_id parsed: action "slow", argument "1" */
  CHECK_INT(r->rc, 0);
  json_t *v = view(id);
  json_t *cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 6);
  printf("# deferral after %lld ms\n", num(cb, "ms"));
  CHECK(num(cb, "ms") >= 1900 && num(cb, "ms") < 3000);
  CHECK_STR(str(json_object_get(v, "original"), "id"), mid);
  CHECK_INT(json_array_size(json_object_get(v, "followups")), 0);
  json_decref(v);

  json_t *list = ctl("messages", json_pack("[s]", w.channel_id));
  const json_t *m = message_in_channel(list, mid);
  CHECK(m != NULL);
  CHECK_STR(str(m, "content"), "Atualizado");
  const json_t *button =
      json_array_get(json_object_get(json_array_get(json_object_get(m, "components"), 0),
                                     "components"),
                     0);
  CHECK_STR(str(button, "custom_id"), "astra:slow:2");
  CHECK_STR(str(button, "label"), "Feito");
  CHECK(json_is_true(json_object_get(button, "disabled")));
  CHECK_INT(json_array_size(json_object_get(m, "_history")), 1); /* edited once */
  CHECK_STR(str(json_array_get(json_object_get(m, "_history"), 0), "content"), "Escolha");
  json_decref(list);
  unsigned others;
  CHECK_INT(take_violations(NULL, NULL, &others), 0);
  CHECK_INT(others, 0);
}

/* (4) An ephemeral route: flags 64 on the type 4 reply, and on the type 5 deferral when the
 * handler is slow (whose later edit keeps the message ephemeral). */
TEST(ephemeral_route_flags_reply_and_deferral) {
  CHECK(world());
  char id[32];
  unsigned before = counters.created;
  CHECK(run_command("privado", "rapido", id, sizeof id));
  CHECK(settle(before, 1, 3000));
  CHECK_INT(run_of(id)->rc, 0);
  json_t *v = view(id);
  json_t *cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 4);
  CHECK_INT(num(json_object_get(cb, "data"), "flags"), FLAG_EPHEMERAL);
  CHECK_STR(str(json_object_get(v, "original"), "content"), "só você vê");
  CHECK_STR(str(json_object_get(v, "original"), "_ephemeralFor"), w.user_id);
  json_decref(v);

  before = counters.created;
  CHECK(run_command("privado", "lento", id, sizeof id));
  CHECK(settle(before, 1, SLOW_MS + 3000));
  CHECK_INT(run_of(id)->rc, 0);
  v = view(id);
  cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 5);
  CHECK_INT(num(json_object_get(cb, "data"), "flags"), FLAG_EPHEMERAL);
  CHECK(num(cb, "ms") >= 1900 && num(cb, "ms") < 3000);
  json_t *orig = json_object_get(v, "original");
  CHECK_STR(str(orig, "content"), "resposta lenta");
  CHECK_STR(str(orig, "_ephemeralFor"), w.user_id);
  CHECK_INT(num(orig, "flags"), FLAG_EPHEMERAL);
  json_decref(v);
  unsigned others;
  CHECK_INT(take_violations(NULL, NULL, &others), 0);
  CHECK_INT(others, 0);
}

/* (5) A late delivery (3.2 s after the interaction): the deferral gets 10062, the
 * interaction is expired, the handler's later reply is refused with -1, and the ix is still
 * freed and released. */
TEST(late_delivery_expires_and_is_freed) {
  CHECK(world());
  char id[32];
  unsigned before = counters.created;
  hold_next_ms = HOLD_MS;
  CHECK(run_command("lento", NULL, id, sizeof id));
  WAIT_FOR(runs_of(id, false) == 1, HOLD_MS + 2000);
  CHECK_INT(runs_of(id, false), 1);
  CHECK(settle(before, 1, SLOW_MS + 3000));
  struct run *r = run_of(id);
  CHECK(r->finished);
  CHECK_INT(r->rc, -1);
  json_t *v = view(id);
  CHECK(json_is_null(json_object_get(v, "callback")));
  CHECK(json_is_null(json_object_get(v, "original")));
  CHECK_INT(json_array_size(json_object_get(v, "followups")), 0);
  json_decref(v);
  unsigned others;
  CHECK_INT(take_violations("interaction-deadline", id, &others), 1); /* the deferral only */
  CHECK_INT(others, 0);
}

/* (6) The same interaction delivered twice: the second callback gets 40060, and the second
 * answer then edits @original (a PATCH the fake accepts), so the user sees the later one. */
TEST(duplicate_delivery_gets_40060_then_edits_original) {
  CHECK(world());
  char id[32];
  unsigned before = counters.created;
  dup_next = true;
  CHECK(run_command("rapido", NULL, id, sizeof id));
  CHECK(settle(before, 2, 5000));
  CHECK_INT(runs_of(id, true), 2);
  const struct run *first = NULL, *second = NULL;
  for (unsigned i = 0; i < nruns; i++)
    if (!strcmp(runs[i].id, id)) {
      if (!first)
        first = &runs[i];
      else
        second = &runs[i];
    }
  CHECK(first && second);
  CHECK_INT(first->rc, 0);
  CHECK_INT(second->rc, 0);
  json_t *v = view(id);
  json_t *cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 4);
  const char *acked = str(json_object_get(cb, "data"), "content");
  CHECK(acked != NULL);
  /* whichever callback reached the fake first was acknowledged; the other got 40060 */
  const char *other = !strcmp(acked, first->content) ? second->content : first->content;
  CHECK(!strcmp(acked, first->content) || !strcmp(acked, second->content));
  json_t *orig = json_object_get(v, "original");
  CHECK_STR(str(orig, "content"), other);
  CHECK_INT(json_array_size(json_object_get(v, "followups")), 0);
  char orig_id[32], acked_text[64];
  snprintf(orig_id, sizeof orig_id, "%s", str(orig, "id") ? str(orig, "id") : "");
  snprintf(acked_text, sizeof acked_text, "%s", acked);
  json_decref(v);
  /* one message, edited once: the acknowledged answer replaced by the other */
  json_t *list = ctl("messages", json_pack("[s]", w.channel_id));
  const json_t *m = message_in_channel(list, orig_id);
  CHECK(m != NULL);
  CHECK_INT(json_array_size(json_object_get(m, "_history")), 1);
  CHECK_STR(str(json_array_get(json_object_get(m, "_history"), 0), "content"), acked_text);
  json_decref(list);
  unsigned others;
  CHECK_INT(take_violations("interaction-already-acknowledged", NULL, &others), 1);
  CHECK_INT(others, 0);
}

/* (7) A button whose custom_id action has no route (an old version's): an ephemeral "not
 * available" reply, no handler run. */
TEST(unknown_action_gets_ephemeral_not_available) {
  CHECK(world());
  char mid[32], id[32];
  CHECK(post_button("Velho", "astra:sumiu:1", mid, sizeof mid));
  unsigned before = counters.created, nruns0 = nruns;
  CHECK(click(mid, "astra:sumiu:1", id, sizeof id));
  CHECK(settle(before, 1, 3000));
  CHECK_INT(nruns, nruns0);
  json_t *v = view(id);
  json_t *cb = json_object_get(v, "callback");
  CHECK_INT(num(cb, "type"), 4);
  CHECK(num(cb, "ms") < 1000);
  json_t *data = json_object_get(cb, "data");
  CHECK_INT(num(data, "flags"), FLAG_EPHEMERAL);
  CHECK(str(data, "content") && strstr(str(data, "content"), "não está mais disponível"));
  CHECK_STR(str(json_object_get(v, "original"), "_ephemeralFor"), w.user_id);
  json_decref(v);
  /* the clicked message is untouched */
  json_t *list = ctl("messages", json_pack("[s]", w.channel_id));
  const json_t *m = message_in_channel(list, mid);
  CHECK(m != NULL);
  CHECK_STR(str(m, "content"), "Velho");
  CHECK_INT(json_array_size(json_object_get(m, "_history")), 0);
  json_decref(list);
  unsigned others;
  CHECK_INT(take_violations(NULL, NULL, &others), 0);
  CHECK_INT(others, 0);
}

/* (8) Nothing left: every ix freed and released once, no violation, the session closed, and
 * the loop closes with no handle left. */
TEST(everything_freed_and_loop_closes) {
  CHECK(world());
  w.torn_down = true;
  WAIT_FOR(ix_inflight() == 0, 3000);
  CHECK_INT(ix_inflight(), 0);
  CHECK(counters.created >= 9);
  CHECK_INT(counters.released, counters.created);
  unsigned others;
  CHECK_INT(take_violations(NULL, NULL, &others), 0);
  CHECK_INT(others, 0);
  gw_close(w.gw);
  w.gw = NULL;
  rest_client_free(w.rest);
  w.rest = NULL;
  gw_global_shutdown();
  rest_global_shutdown();
  net_shutdown();
  uv_timer_stop(&tick);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  gw_global_finish();
  astra.loop = NULL;
  CHECK_INT(uv_loop_close(&loop), 0);
  CHECK_INT(counters.released, counters.created);
}
