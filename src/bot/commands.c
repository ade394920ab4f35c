/* The bot's slash commands: their definitions, the route table of every interaction the bot
 * answers, and registration per guild with one bulk overwrite. The hash of the set last
 * registered in a guild is kept with the instance (instances[id].commands[guild]) so that a
 * restart of thousands of bots does not re-register anything that has not changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "discord/rest.h"
#include "store/store.h"

const struct ix_route bot_routes[] = {
    /* type        name        handler           ephemeral */
    {IX_COMMAND, "vincular", bot_cmd_vincular, 1},
    {IX_COMPONENT, "status", bot_btn_status, 1},
    /* selling: the product post, the cart (src/bot/cart*.c) */
    {IX_COMPONENT, "buy", bot_btn_buy, 1},
    {IX_COMPONENT, "pick", bot_sel_pick, 1},
    {IX_COMPONENT, "cart", bot_cart_action, 1},
    {IX_MODAL, "coupon", bot_modal_coupon, 1},
    /* delivery and the buyer's orders (src/bot/outbox.c, cmd_pedido.c) */
    {IX_COMPONENT, "reveal", bot_btn_reveal, 1},
    {IX_COMPONENT, "resend", bot_btn_resend, 1},
    {IX_COMMAND, "pedido", bot_cmd_pedido, 1},
};
const size_t bot_nroutes = sizeof bot_routes / sizeof bot_routes[0];

/* Permission bit MANAGE_GUILD: only members who may manage the server see /vincular. */
#define PERM_MANAGE_GUILD "32"

static json_t *cmd_vincular(void) {
  return json_pack(
      "{s:s, s:i, s:s, s:{s:s, s:s}, s:s, s:[i], s:[{s:i, s:s, s:s, s:{s:s, s:s}, s:b, s:i, "
      "s:i}]}",
      "name", "vincular", "type", 1, "description", "Vincula este servidor à sua loja Astra",
      "description_localizations", "en-US", "Link this server to your Astra store", "en-GB",
      "Link this server to your Astra store", "default_member_permissions", PERM_MANAGE_GUILD,
      "contexts", 0, "options", "type", 3, "name", "chave", "description",
      "A chave da instância, mostrada no portal", "description_localizations", "en-US",
      "The instance key shown in the portal", "en-GB", "The instance key shown in the portal",
      "required", 1, "min_length", 16, "max_length", 100);
}

/* /pedido codigo:<code>: any member looks up their own order (src/bot/cmd_pedido.c). */
static json_t *cmd_pedido(void) {
  return json_pack(
      "{s:s, s:i, s:s, s:{s:s, s:s}, s:[i], s:[{s:i, s:s, s:s, s:{s:s, s:s}, s:b, s:i, s:i}]}",
      "name", "pedido", "type", 1, "description", "Mostra um pedido seu pelo código",
      "description_localizations", "en-US", "Show one of your orders by its code", "en-GB",
      "Show one of your orders by its code", "contexts", 0, "options", "type", 3, "name",
      "codigo", "description", "O código do pedido (8 caracteres)", "description_localizations",
      "en-US", "The order code (8 characters)", "en-GB", "The order code (8 characters)",
      "required", 1, "min_length", 1, "max_length", 32);
}

/* The set a guild gets: the bound guild gets the shop's commands too; any other guild only
 * /vincular, so the seller can link it. */
static json_t *command_set(int bound) {
  if (bound)
    return json_pack("[o, o]", cmd_vincular(), cmd_pedido());
  return json_pack("[o]", cmd_vincular());
}

struct reg {
  char instance_id[40];
  char guild_id[32];
  char hash[65];
};

static void on_registered_durable(int status, void *arg) {
  if (status != 0)
    log_warn("bot", "could not record the registered commands (store failed)");
  free(arg);
}

static void on_registered(const struct rest_result *r, void *arg) {
  struct reg *g = arg;
  if (r->error != REST_OK || r->status >= 300) {
    log_warn("bot", "instance %s: registering commands in guild %s failed: HTTP %ld code %d %s",
             g->instance_id, g->guild_id, r->status, r->code, r->error_msg ? r->error_msg : "");
    free(g);
    return;
  }
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, g->instance_id);
  if (!rec) {
    free(g);
    return;
  }
  json_t *copy = json_deep_copy(rec);
  json_t *cmds = json_object_get(copy, "commands");
  if (!json_is_object(cmds)) {
    cmds = json_object();
    json_object_set_new(copy, "commands", cmds);
  }
  json_object_set_new(cmds, g->guild_id, json_string(g->hash));
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_INSTANCES, NULL, g->instance_id, copy);
  if (store_commit(t, on_registered_durable, g) != 0)
    free(g);
}

static void register_set(struct bot_ctx *ctx, const char *guild_id, int bound, int force) {
  if (!ctx->app_id[0] || !guild_id || strlen(guild_id) >= 32)
    return;
  json_t *set = command_set(bound);
  char *text = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
  uint8_t h[32];
  crypto_sha256(text, strlen(text), h);
  free(text);
  struct reg *g = calloc(1, sizeof *g);
  if (!g) {
    json_decref(set);
    return;
  }
  crypto_hex(h, sizeof h, g->hash);
  snprintf(g->instance_id, sizeof g->instance_id, "%s", ctx->instance_id);
  snprintf(g->guild_id, sizeof g->guild_id, "%s", guild_id);
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, ctx->instance_id);
  const char *have =
      json_string_value(json_object_get(json_object_get(rec, "commands"), guild_id));
  if (!force && have && !strcmp(have, g->hash)) {
    json_decref(set);
    free(g);
    return; /* already there */
  }
  char path[128];
  snprintf(path, sizeof path, "/applications/%s/guilds/%s/commands", ctx->app_id, guild_id);
  rest_request(ctx->rest, "PUT", path, set, 0, on_registered, g);
}

void bot_on_guild(struct bot_ctx *ctx, const json_t *guild) {
  const char *gid = json_string_value(json_object_get(guild, "id"));
  if (!gid || json_is_true(json_object_get(guild, "unavailable")))
    return;
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, ctx->instance_id);
  const char *bound = json_string_value(json_object_get(rec, "guildId"));
  register_set(ctx, gid, bound && !strcmp(bound, gid), 0);
}

void bot_register_commands(struct bot_ctx *ctx, const char *guild_id) {
  register_set(ctx, guild_id, 1, 0);
}
