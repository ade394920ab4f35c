/* The Discord door into the shop: slash commands, buttons, selects and modals (src/bot/),
 * and what a bot does when it sees its guilds. Handlers are thin: they parse, check the
 * user's rights, call the core, and render the answer as a Discord message. */
#ifndef ASTRA_BOT_BOT_H
#define ASTRA_BOT_BOT_H

#include <jansson.h>

#include "discord/interactions.h"

struct rest_client;

/* What the runtime hands every handler as ix_ctx(): one running instance. */
struct bot_ctx {
  char instance_id[40];
  char app_id[32];
  struct rest_client *rest;
};

extern const struct ix_route bot_routes[];
extern const size_t bot_nroutes;

/* A guild became available (GUILD_CREATE): registers the commands that guild should have,
 * once per change (the registered set's hash is kept with the instance). */
void bot_on_guild(struct bot_ctx *ctx, const json_t *guild);
/* Registers the full command set in guild_id now (after /vincular). */
void bot_register_commands(struct bot_ctx *ctx, const char *guild_id);

/* Handlers, one file each. */
void bot_cmd_vincular(struct ix *ix);
void bot_btn_status(struct ix *ix);

#endif
