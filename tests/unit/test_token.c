/* Bot tokens: sealing at rest, the reuse hash, and validation against the fake Discord
 * (a good token, a revoked one, an unknown one, and Discord unreachable). */
#include <stdio.h>
#include <stdlib.h>

#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "discord/rest.h"
#include "fake_cli.h"
#include "harness.h"
#include "net/net.h"
#include "runtime/token.h"

static struct config cfg;
static uv_loop_t loop;

static void setup_keys(void) {
  memset(cfg.data_key, 0xab, sizeof cfg.data_key);
  astra.cfg = &cfg;
}

TEST(seal_and_open_round_trip_only_with_the_same_key) {
  setup_keys();
  const char *token = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB";
  char *sealed = token_seal(token);
  CHECK(sealed != NULL);
  CHECK(strstr(sealed, "MTIzNDU2") == NULL); /* nothing of the token shows */
  char *open = token_open(sealed);
  CHECK_STR(open, token);
  free(open);
  cfg.data_key[0] ^= 1; /* another DATA_ENCRYPTION_KEY */
  CHECK(token_open(sealed) == NULL);
  cfg.data_key[0] ^= 1;
  sealed[10] = sealed[10] == 'A' ? 'B' : 'A'; /* tampered */
  CHECK(token_open(sealed) == NULL);
  free(sealed);
  CHECK(token_open(NULL) == NULL);
}

TEST(hash_plausibility_and_invite) {
  char a[65], b[65];
  token_hash("x.y.z", a);
  token_hash("x.y.z", b);
  CHECK_STR(a, b);
  CHECK_INT(strlen(a), 64);
  token_hash("x.y.w", b);
  CHECK(strcmp(a, b) != 0);
  CHECK(token_plausible("MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"));
  CHECK(!token_plausible("short.a.b"));
  CHECK(!token_plausible("MTIzNDU2Nzg5MDEyMzQ1Njc4OQGabcDEabcdefghijklmnopqrstuvwxyz0123456789AB"));
  CHECK(!token_plausible("MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.Gab cDE.abcdefghijklmnopqrstuvwxyz0123456789AB"));
  CHECK(!token_plausible("MTIzNDU2Nzg5MDEyMzQ1Njc4OQ..abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"));
  CHECK(!token_plausible(NULL));
  char url[256];
  token_invite_url("123456789012345678", url, sizeof url);
  CHECK(strstr(url, "client_id=123456789012345678") != NULL);
  CHECK(strstr(url, "scope=bot+applications.commands") != NULL);
  CHECK(strstr(url, "permissions=" TOKEN_INVITE_PERMISSIONS) != NULL);
}

struct outcome {
  int done, status;
  struct token_info info;
};

static void on_valid(int status, const struct token_info *info, void *arg) {
  struct outcome *o = arg;
  o->done = 1;
  o->status = status;
  if (info)
    o->info = *info;
}

static struct outcome validate(const char *token) {
  struct outcome o = {0};
  token_validate(token, on_valid, &o);
  for (int i = 0; i < 2000 && !o.done; i++)
    uv_run(&loop, UV_RUN_ONCE);
  return o;
}

static const char *str(json_t *j, const char *k) { return json_string_value(json_object_get(j, k)); }

TEST(validation_against_the_fake_discord) {
  if (!fake_cli_have_node()) {
    printf("# SKIP: node not found\n");
    return;
  }
  setup_keys();
  log_set_stderr(0);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct fake_cli fake;
  CHECK_INT(fake_cli_start(&fake, 41250, 0), 0);
  uv_loop_init(&loop);
  astra.loop = &loop;
  CHECK_INT(net_init(&loop, "test", NULL), 0);
  CHECK_INT(rest_global_init(fake.api_base, "DiscordBot (https://example.com, 0.1.0)"), 0);

  json_t *app = fake_cli_control(&fake, "createApp", "{\"name\":\"Loja Teste\"}");
  json_t *other = fake_cli_control(&fake, "createApp", "{\"name\":\"Revogada\"}");
  int ok = app && other;
  if (ok) {
    struct outcome good = validate(str(app, "token"));
    char body[256];
    snprintf(body, sizeof body, "[\"%s\"]", str(other, "token"));
    json_decref(fake_cli_control(&fake, "revokeToken", body));
    struct outcome revoked = validate(str(other, "token"));
    struct outcome unknown =
        validate("MTExMTExMTExMTExMTExMTEx.Gabcde.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ok = good.done && good.status == 0 && !strcmp(good.info.bot_id, str(app, "botUserId")) &&
         !strcmp(good.info.application_id, str(app, "appId")) &&
         good.info.bot_name[0] != 0 && revoked.done && revoked.status == 1 &&
         unknown.done && unknown.status == 1;
    if (!ok)
      harness_fail(__FILE__, __LINE__,
                   "good %d/%d bot %s app %s name %s; revoked %d/%d; unknown %d/%d",
                   good.done, good.status, good.info.bot_id, good.info.application_id,
                   good.info.bot_name, revoked.done, revoked.status, unknown.done,
                   unknown.status);
  }
  json_decref(app);
  json_decref(other);
  json_t *v = fake_cli_control(&fake, "violations", "{}");
  size_t nviol = json_is_array(v) ? json_array_size(v) : 0;
  json_decref(v);

  /* Discord unreachable: a clear "try later", not "invalid" */
  rest_global_shutdown();
  rest_global_init("http://127.0.0.1:1/api/v10", "DiscordBot (https://example.com, 0.1.0)");
  struct outcome down =
      validate("MTExMTExMTExMTExMTExMTEx.Gabcde.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  rest_global_shutdown();
  net_shutdown();
  uv_run(&loop, UV_RUN_DEFAULT);
  int closed = uv_loop_close(&loop);
  fake_cli_stop(&fake);
  CHECK(ok);
  CHECK_INT(nviol, 0);
  CHECK(down.done);
  CHECK_INT(down.status, -1);
  CHECK_INT(closed, 0);
}
