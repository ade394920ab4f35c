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

/* Selling (custom_ids: astra:buy:<productId>, astra:pick:<productId> (select),
 * astra:cart:<op>:<cartId>[:<arg>], modal astra:coupon:<cartId>). */
void bot_btn_buy(struct ix *ix);
void bot_sel_pick(struct ix *ix);
void bot_cart_action(struct ix *ix);
void bot_modal_coupon(struct ix *ix);
/* Carts: the inactivity sweeper (warning, then expiry that releases reserved keys). */
void bot_cart_sweeper_start(void);
void bot_cart_sweeper_stop(void);

/* Delivery (astra:reveal:<orderId>, astra:resend:<orderId>) and /pedido codigo:<code>. */
void bot_btn_reveal(struct ix *ix);
void bot_btn_resend(struct ix *ix);
void bot_cmd_pedido(struct ix *ix);
/* The outbox worker: DMs, log-channel posts, product post updates, with retries. */
void bot_outbox_start(void);
void bot_outbox_stop(void);
/* Wakes the worker now (a new entry was committed). */
void bot_outbox_kick(void);

#endif
