/* The cart message's controls (astra:cart:<op>:<cartId>): the variation select, quantity − and
 * +, Cupom (opens the modal astra:coupon:<cartId>), Finalizar and Cancelar. Only the cart's
 * buyer may press them (bot_cart_for_ix); a change is durable before the message shows it,
 * and the message is updated in place (type 7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/cart.h"
#include "core/app.h"
#include "discord/customid.h"
#include "shop/cart.h"
#include "shop/coupon.h"
#include "store/store.h"

struct act {
  struct ix *ix;
  char instance_id[40];
  char cart_id[40];
  const char *locale;
  int cancel;
};

static void on_durable(int status, void *arg) {
  struct act *a = arg;
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, a->cart_id);
  if (status != 0 || !cart) {
    ix_reply_text(a->ix, shop_cart_error_message(SHOP_CART_INTERNAL, a->locale));
  } else if (a->cancel) {
    /* acknowledged without a new message; the cart's last edit and the closing of its
     * thread or channel follow, in that order */
    ix_defer(a->ix);
    bot_cart_close_discord(a->instance_id, a->cart_id);
  } else {
    json_t *msg = bot_cart_render(cart, a->locale, bot_now_ms());
    if (msg)
      ix_update(a->ix, msg);
  }
  ix_done(a->ix);
  free(a);
}

static void coupon_modal(struct ix *ix, const char *cart_id, const char *locale) {
  char cid[CID_MAX + 1];
  const char *args[] = {cart_id};
  if (cid_encode(cid, sizeof cid, "coupon", args, 1) != 0) {
    ix_done(ix);
    return;
  }
  json_t *modal = json_pack(
      "{s:s, s:s, s:[{s:i, s:s, s:{s:i, s:s, s:i, s:i, s:i, s:b, s:s}}]}", "custom_id", cid,
      "title", bot_tr(locale, "Cupom de desconto", "Discount coupon"), "components", "type", 18,
      "label", bot_tr(locale, "Código do cupom", "Coupon code"), "component", "type", 4,
      "custom_id", "code", "style", 1, "min_length", 0, "max_length", SHOP_COUPON_CODE_MAX,
      "required", 0, "placeholder",
      bot_tr(locale, "Vazio remove o cupom", "Empty removes the coupon"));
  ix_modal(ix, modal);
  ix_done(ix);
}

void bot_cart_action(struct ix *ix) {
  const char *locale;
  const json_t *cart = bot_cart_for_ix(ix, 1, &locale);
  if (!cart)
    return;
  const struct cid *cid = ix_cid(ix);
  const char *op = cid->args[0];
  struct bot_ctx *ctx = ix_ctx(ix);
  int64_t now = bot_now_ms();
  const char *status = json_string_value(json_object_get(cart, "status"));
  int open = status && !strcmp(status, "open");

  if (!strcmp(op, "checkout")) {
    bot_cart_checkout(ix, cart, locale);
    return;
  }
  if (!strcmp(op, "coupon")) {
    if (!open) {
      ix_reply_text(ix, shop_cart_error_message(SHOP_CART_LOCKED, locale));
      ix_done(ix);
      return;
    }
    coupon_modal(ix, cid->args[1], locale);
    return;
  }
  struct store_txn *t = store_begin(astra.store);
  enum shop_cart_error e;
  int cancel = 0;
  if (!strcmp(op, "inc") || !strcmp(op, "dec")) {
    e = shop_cart_step(t, cart, !strcmp(op, "inc") ? 1 : -1, now);
  } else if (!strcmp(op, "var")) {
    const json_t *vals = ix_values(ix);
    const char *vid = json_array_size(vals) == 1 ? json_string_value(json_array_get(vals, 0))
                                                 : NULL;
    e = shop_cart_pick(t, cart, vid, now);
  } else if (!strcmp(op, "cancel")) {
    cancel = 1;
    e = shop_cart_close(t, cart, "cancelled", now) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
  } else {
    e = SHOP_CART_NOT_FOUND; /* an op we never made */
  }
  if (e != SHOP_CART_OK) {
    store_abort(t);
    ix_reply_text(ix, shop_cart_error_message(e, locale));
    ix_done(ix);
    return;
  }
  struct act *a = calloc(1, sizeof *a);
  if (!a) {
    store_abort(t);
    ix_done(ix);
    return;
  }
  a->ix = ix;
  a->locale = locale;
  a->cancel = cancel;
  snprintf(a->instance_id, sizeof a->instance_id, "%s", ctx->instance_id);
  snprintf(a->cart_id, sizeof a->cart_id, "%s", cid->args[1]);
  if (store_commit(t, on_durable, a) != 0) {
    ix_reply_text(ix, shop_cart_error_message(SHOP_CART_INTERNAL, locale));
    ix_done(ix);
    free(a);
  } else {
    bot_outbox_kick(); /* a cancel may have released keys: the posts show them again */
  }
}
