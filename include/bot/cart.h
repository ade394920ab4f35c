/* The cart in Discord (src/bot/cart*.c, btn_buy.c, modal_coupon.c, checkout.c): what the
 * handlers share. The cart itself lives in the store (include/shop/cart.h); a cart message
 * carries its state in custom_ids (astra:cart:<op>:<cartId>, modal astra:coupon:<cartId>),
 * so a restart loses nothing.
 *
 * custom_ids: astra:cart:var:<cartId> (variation select), astra:cart:dec:<cartId> and
 * astra:cart:inc:<cartId> (quantity), astra:cart:coupon:<cartId> (opens the modal
 * astra:coupon:<cartId>, text input "code"), astra:cart:checkout:<cartId> (Finalizar),
 * astra:cart:cancel:<cartId> (Cancelar). */
#ifndef ASTRA_BOT_CART_H
#define ASTRA_BOT_CART_H

#include <jansson.h>
#include <stdint.h>

#include "discord/interactions.h"

/* Wall clock, ms since the epoch (records keep wall-clock times). */
int64_t bot_now_ms(void);
/* The instance's settings.locale: "en", else "pt-BR". */
const char *bot_cart_locale(const char *instance_id);
/* pt or en by locale. */
const char *bot_tr(const char *locale, const char *pt, const char *en);

/* The cart message {embeds, components} for a cart record: items, coupon, total, and the
 * controls its status allows (none once closed). NULL when out of memory. */
json_t *bot_cart_render(const json_t *cart, const char *locale, int64_t now_ms);

/* For a cart action (custom_id argument 1 is the cart id): the cart, after checking that it
 * is this instance's and this user's. On refusal the user gets an ephemeral explanation and
 * NULL is returned (ix is then done). */
const json_t *bot_cart_for_ix(struct ix *ix, unsigned cart_arg, const char **locale);

/* Re-renders the cart message in place (PATCH), with the instance's running client; nothing
 * when the cart has no message or the bot is not running. */
void bot_cart_refresh(const char *instance_id, const char *cart_id);
/* Sends msg (stolen) to the cart's channel, fire and forget. */
void bot_cart_send(const char *instance_id, const char *channel_id, json_t *msg);
/* Closes the cart in Discord: the message without controls, then the thread archived and
 * locked (archived only when the bot may not lock), or the channel deleted. */
void bot_cart_close_discord(const char *instance_id, const char *cart_id);

/* Finalizar (checkout.c). */
void bot_cart_checkout(struct ix *ix, const json_t *cart, const char *locale);

#endif
