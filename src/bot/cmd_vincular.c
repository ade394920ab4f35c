/* /vincular chave:<key>: binds the instance to the guild where a member with Manage Server
 * runs it with the instance's API key (created in the portal, stored as a SHA-256). The
 * answer is ephemeral and comes once the binding is durable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "discord/customid.h"
#include "store/store.h"

#define PERM_MANAGE_GUILD (1ull << 5)

static const char *msg(const struct ix *ix, const char *pt, const char *en) {
  return strcmp(ix_locale(ix), "en") ? pt : en;
}

struct link {
  struct ix *ix;
  char guild_id[32];
};

static void on_linked(int status, void *arg) {
  struct link *l = arg;
  struct ix *ix = l->ix;
  struct bot_ctx *ctx = ix_ctx(ix);
  if (status != 0) {
    ix_reply_text(ix, msg(ix, "Não foi possível salvar o vínculo agora. Tente de novo em instantes.",
                          "The link could not be saved right now. Try again shortly."));
  } else {
    log_info("bot", "instance %s linked to guild %s", ctx->instance_id, l->guild_id);
    bot_register_commands(ctx, l->guild_id);
    char cid[CID_MAX + 1];
    const char *args[] = {ctx->instance_id};
    cid_encode(cid, sizeof cid, "status", args, 1);
    ix_reply(ix, json_pack("{s:s, s:i, s:[{s:i, s:[{s:i, s:i, s:s, s:s}]}]}", "content",
                           msg(ix, "✅ Loja vinculada a este servidor.",
                               "✅ Store linked to this server."),
                           "flags", 64, "components", "type", 1, "components", "type", 2,
                           "style", 2, "label", msg(ix, "Status da loja", "Store status"),
                           "custom_id", cid));
  }
  ix_done(ix);
  free(l);
}

void bot_cmd_vincular(struct ix *ix) {
  struct bot_ctx *ctx = ix_ctx(ix);
  const char *guild = ix_guild_id(ix);
  if (!guild) {
    ix_reply_text(ix, msg(ix, "Use este comando dentro do servidor da loja.",
                          "Use this command inside the store's server."));
    ix_done(ix);
    return;
  }
  if (!ix_member_has(ix, PERM_MANAGE_GUILD)) {
    ix_reply_text(ix, msg(ix, "Você precisa da permissão Gerenciar Servidor para vincular a loja.",
                          "You need the Manage Server permission to link the store."));
    ix_done(ix);
    return;
  }
  const char *key = ix_option(ix, "chave");
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, ctx->instance_id);
  const char *want = json_string_value(json_object_get(rec, "apiKeyHash"));
  char have[65] = "";
  if (key) {
    uint8_t h[32];
    crypto_sha256(key, strlen(key), h);
    crypto_hex(h, sizeof h, have);
  }
  if (!rec || !want || !key || !crypto_equal(have, strlen(have), want, strlen(want))) {
    log_info("bot", "instance %s: /vincular with a wrong key in guild %s", ctx->instance_id,
             guild);
    ix_reply_text(ix, msg(ix, "Chave inválida. Copie a chave da instância no portal (ou gere uma nova).",
                          "Invalid key. Copy the instance key from the portal (or create a new one)."));
    ix_done(ix);
    return;
  }
  json_t *copy = json_deep_copy(rec);
  json_object_set_new(copy, "guildId", json_string(guild));
  json_object_set_new(copy, "linkedAt", json_integer((json_int_t)time(NULL) * 1000));
  struct link *l = calloc(1, sizeof *l);
  if (!l) {
    json_decref(copy);
    ix_done(ix);
    return;
  }
  l->ix = ix;
  snprintf(l->guild_id, sizeof l->guild_id, "%s", guild);
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_INSTANCES, NULL, ctx->instance_id, copy);
  if (store_commit(t, on_linked, l) != 0)
    on_linked(-1, l);
}
