/* The cart message and what every cart handler shares (include/bot/cart.h): rendering from
 * the store's cart record, the checks a forged custom_id must pass, and the Discord side of
 * refreshing and closing a cart. Sellers' texts (product and variation names) are clipped
 * to Discord's limits with bot_clip_text. */
#include "bot/cart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/bot.h"
#include "bot/product_post.h"
#include "core/app.h"
#include "core/log.h"
#include "discord/customid.h"
#include "discord/rest.h"
#include "runtime/runtime.h"
#include "shop/cart.h"
#include "shop/money.h"
#include "store/store.h"

enum { COLOR_OPEN = 0x5865F2, COLOR_PENDING = 0xF1C40F, COLOR_CLOSED = 0x95A5A6 };

int64_t bot_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

const char *bot_cart_locale(const char *instance_id) {
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, instance_id);
  const char *l = str(json_object_get(inst, "settings"), "locale");
  return l && !strncmp(l, "en", 2) ? "en" : "pt-BR";
}

const char *bot_tr(const char *locale, const char *pt, const char *en) {
  return locale && !strcmp(locale, "en") ? en : pt;
}

/* ---- rendering ---- */

static json_t *button(const char *op, const char *cart_id, int style, const char *label,
                      int disabled) {
  char cid[CID_MAX + 1];
  const char *args[] = {op, cart_id};
  if (cid_encode(cid, sizeof cid, "cart", args, 2) != 0)
    return NULL;
  return json_pack("{s:i, s:i, s:s, s:s, s:b}", "type", 2, "style", style, "label", label,
                   "custom_id", cid, "disabled", disabled);
}

static int var_active(const json_t *v) {
  return json_is_object(v) && json_is_true(json_object_get(v, "active")) && str(v, "id");
}

/* The variation select of the cart's line, or NULL (no variations, or only one). */
static json_t *variation_row(const char *cart_id, const struct shop_cart_line_view *l,
                             const char *locale) {
  const json_t *vars = json_object_get(l->product, "variations");
  char cid[CID_MAX + 1];
  const char *args[] = {"var", cart_id};
  if (!json_is_array(vars) || cid_encode(cid, sizeof cid, "cart", args, 2) != 0)
    return NULL;
  json_t *opts = json_array();
  const char *cur = str(l->product, "currency");
  size_t i;
  const json_t *v;
  json_array_foreach(vars, i, v) {
    const char *vid = str(v, "id");
    if (!var_active(v) || !*vid || strlen(vid) > 100 || json_array_size(opts) == 25)
      continue;
    char price[SHOP_MONEY_MAX];
    shop_money_format(json_integer_value(json_object_get(v, "priceCents")), cur, locale, price,
                      sizeof price);
    const char *name = str(v, "name");
    json_array_append_new(opts, json_pack("{s:o, s:s, s:s, s:b}", "label",
                                          bot_clip_text(name && *name ? name : vid, 100), "value",
                                          vid, "description", price, "default",
                                          l->variation_id && !strcmp(vid, l->variation_id)));
  }
  if (json_array_size(opts) < 2) {
    json_decref(opts);
    return NULL;
  }
  return json_pack("{s:i, s:[{s:i, s:s, s:s, s:o}]}", "type", 1, "components", "type", 3,
                   "custom_id", cid, "placeholder",
                   bot_tr(locale, "Escolha uma opção", "Choose an option"), "options", opts);
}

json_t *bot_cart_render(const json_t *cart, const char *locale, int64_t now_ms) {
  struct shop_cart_view v;
  const char *cart_id = str(cart, "id");
  if (!cart_id || shop_cart_view(cart, now_ms, &v) != 0)
    return NULL;
  const char *status = str(cart, "status");
  int open = status && !strcmp(status, "open");
  int closed = !status || !strcmp(status, "closed");
  char desc[4096];
  size_t used = 0;
  desc[0] = 0;
  const char *cur = NULL;
  for (size_t i = 0; i < v.nlines; i++) {
    const struct shop_cart_line_view *l = &v.lines[i];
    json_t *name = bot_clip_text(str(l->product, "name") ? str(l->product, "name") : "?", 200);
    json_t *vname = l->variation ? bot_clip_text(str(l->variation, "name"), 100) : NULL;
    cur = str(l->product, "currency");
    char unit[SHOP_MONEY_MAX], total[SHOP_MONEY_MAX];
    shop_money_format(l->unit_cents, cur, locale, unit, sizeof unit);
    shop_money_format(l->line_cents, cur, locale, total, sizeof total);
    int n;
    if (l->unavailable)
      n = snprintf(desc + used, sizeof desc - used, "%s**%s** \xE2\x80\x94 %s", i ? "\n" : "",
                   json_string_value(name),
                   bot_tr(locale, "indisponível", "unavailable"));
    else
      n = snprintf(desc + used, sizeof desc - used, "%s**%s**%s%s\n%d \xC3\x97 %s = **%s**",
                   i ? "\n" : "", json_string_value(name), vname ? " \xE2\x80\x94 " : "",
                   vname ? json_string_value(vname) : "", l->quantity, unit, total);
    json_decref(name);
    json_decref(vname);
    if (n > 0 && (size_t)n < sizeof desc - used)
      used += (size_t)n;
  }
  char sub[SHOP_MONEY_MAX], disc[SHOP_MONEY_MAX], tot[SHOP_MONEY_MAX];
  shop_money_format(v.subtotal_cents, cur, locale, sub, sizeof sub);
  shop_money_format(v.discount_cents, cur, locale, disc, sizeof disc);
  shop_money_format(v.total_cents, cur, locale, tot, sizeof tot);
  json_t *fields = json_array();
  json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name",
                                          bot_tr(locale, "Subtotal", "Subtotal"), "value", sub,
                                          "inline", 1));
  if (v.coupon_code) {
    char cv[256];
    if (v.coupon_reason == SHOP_COUPON_OK)
      snprintf(cv, sizeof cv, "%s (-%s)", v.coupon_code, disc);
    else
      snprintf(cv, sizeof cv, "%s: %s", v.coupon_code,
               shop_coupon_reason_message(v.coupon_reason, locale));
    json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name",
                                            bot_tr(locale, "Cupom", "Coupon"), "value", cv,
                                            "inline", 1));
  }
  json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name", "Total", "value", tot,
                                          "inline", 1));
  const char *state = closed ? bot_tr(locale, "Carrinho fechado.", "Cart closed.")
                      : open ? bot_tr(locale, "Ajuste e clique em Finalizar para pagar com Pix.",
                                      "Adjust it and press Checkout to pay with Pix.")
                             : bot_tr(locale, "Pagamento em andamento.", "Payment under way.");
  json_t *embed = json_pack("{s:s, s:s, s:i, s:o, s:{s:s}}", "title",
                            bot_tr(locale, "Seu carrinho", "Your cart"), "description",
                            used ? desc : "-", "color",
                            closed ? COLOR_CLOSED : open ? COLOR_OPEN : COLOR_PENDING, "fields",
                            fields, "footer", "text", state);
  json_t *rows = json_array();
  if (open && v.nlines > 0) {
    const struct shop_cart_line_view *l = &v.lines[0];
    if (!l->unavailable && l->variation) {
      json_t *sel = variation_row(cart_id, l, locale);
      if (sel)
        json_array_append_new(rows, sel);
    }
    size_t max = l->available < SHOP_CART_MAX_QUANTITY ? l->available : SHOP_CART_MAX_QUANTITY;
    json_t *btns = json_array();
    json_array_append_new(btns, button("dec", cart_id, 2, "\xE2\x88\x92", l->quantity <= 1));
    json_array_append_new(btns, button("inc", cart_id, 2, "+", (size_t)l->quantity >= max));
    json_array_append_new(btns, button("coupon", cart_id, 2, bot_tr(locale, "Cupom", "Coupon"),
                                       0));
    json_array_append_new(btns, button("checkout", cart_id, 3,
                                       bot_tr(locale, "Finalizar", "Checkout"),
                                       l->unavailable || l->available == 0));
    json_array_append_new(btns, button("cancel", cart_id, 4,
                                       bot_tr(locale, "Cancelar", "Cancel"), 0));
    json_array_append_new(rows, json_pack("{s:i, s:o}", "type", 1, "components", btns));
  } else if (!closed) {
    json_array_append_new(rows, json_pack("{s:i, s:[o]}", "type", 1, "components",
                                          button("cancel", cart_id, 4,
                                                 bot_tr(locale, "Cancelar", "Cancel"), 0)));
  }
  return json_pack("{s:[o], s:o}", "embeds", embed, "components", rows);
}

/* ---- checks ---- */

const json_t *bot_cart_for_ix(struct ix *ix, unsigned cart_arg, const char **locale) {
  struct bot_ctx *ctx = ix_ctx(ix);
  const struct cid *cid = ix_cid(ix);
  *locale = bot_cart_locale(ctx->instance_id);
  const json_t *cart = NULL;
  enum shop_cart_error e =
      cid && cid->nargs > cart_arg
          ? shop_cart_get(ctx->instance_id, cid->args[cart_arg], ix_user_id(ix), &cart)
          : SHOP_CART_NOT_FOUND;
  if (e == SHOP_CART_OK)
    return cart;
  ix_reply_text(ix, shop_cart_error_message(e, *locale));
  ix_done(ix);
  return NULL;
}

/* ---- Discord side ---- */

static void logged(const struct rest_result *r, void *arg) {
  const char *what = arg;
  if (r->error != REST_OK || r->status >= 300)
    log_warn("bot", "cart: %s failed: HTTP %ld code %d %s", what, r->status, r->code,
             r->error_msg ? r->error_msg : "");
}

void bot_cart_refresh(const char *instance_id, const char *cart_id) {
  struct rest_client *rest = runtime_rest(instance_id);
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, cart_id);
  const char *ch = str(cart, "channelId"), *msg = str(cart, "messageId");
  if (!rest || !ch || !msg)
    return;
  json_t *body = bot_cart_render(cart, bot_cart_locale(instance_id), bot_now_ms());
  if (!body)
    return;
  char path[160];
  snprintf(path, sizeof path, "/channels/%s/messages/%s", ch, msg);
  rest_request(rest, "PATCH", path, body, 0, logged, (void *)"editing the cart message");
}

void bot_cart_send(const char *instance_id, const char *channel_id, json_t *msg) {
  struct rest_client *rest = runtime_rest(instance_id);
  if (!rest || !channel_id) {
    json_decref(msg);
    return;
  }
  char path[128];
  snprintf(path, sizeof path, "/channels/%s/messages", channel_id);
  rest_request(rest, "POST", path, msg, 0, logged, (void *)"posting in the cart");
}

struct closing {
  char instance_id[40];
  char channel_id[40];
  int thread;
  int tried_lock;
};

static void on_archived(const struct rest_result *r, void *arg) {
  struct closing *c = arg;
  struct rest_client *rest = runtime_rest(c->instance_id);
  if (c->tried_lock && r->code == 50013 && rest) {
    /* the bot may not lock threads (no MANAGE_THREADS): archiving still hides it */
    c->tried_lock = 0;
    char path[96];
    snprintf(path, sizeof path, "/channels/%s", c->channel_id);
    if (rest_request(rest, "PATCH", path, json_pack("{s:b}", "archived", 1), 0, on_archived, c))
      return;
  }
  logged(r, (void *)"closing the cart channel");
  free(c);
}

static void after_last_edit(const struct rest_result *r, void *arg) {
  struct closing *c = arg;
  logged(r, (void *)"editing the cart message");
  struct rest_client *rest = runtime_rest(c->instance_id);
  char path[96];
  snprintf(path, sizeof path, "/channels/%s", c->channel_id);
  if (!rest) {
    free(c);
    return;
  }
  if (c->thread) {
    c->tried_lock = 1;
    if (rest_request(rest, "PATCH", path, json_pack("{s:b, s:b}", "archived", 1, "locked", 1),
                     0, on_archived, c))
      return;
  } else if (rest_request(rest, "DELETE", path, NULL, 0, on_archived, c)) {
    return;
  }
  free(c);
}

void bot_cart_close_discord(const char *instance_id, const char *cart_id) {
  struct rest_client *rest = runtime_rest(instance_id);
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, cart_id);
  const char *ch = str(cart, "channelId"), *msg = str(cart, "messageId");
  if (!rest || !ch || strlen(ch) >= 40)
    return;
  struct closing *c = calloc(1, sizeof *c);
  if (!c)
    return;
  snprintf(c->instance_id, sizeof c->instance_id, "%s", instance_id);
  snprintf(c->channel_id, sizeof c->channel_id, "%s", ch);
  const char *mode = str(cart, "mode");
  c->thread = !mode || strcmp(mode, "channel");
  json_t *body = msg ? bot_cart_render(cart, bot_cart_locale(instance_id), bot_now_ms()) : NULL;
  if (body) {
    /* the last word in the cart first: an archived thread still shows it, read-only */
    char path[160];
    snprintf(path, sizeof path, "/channels/%s/messages/%s", ch, msg);
    if (rest_request(rest, "PATCH", path, body, 0, after_last_edit, c))
      return;
  }
  struct rest_result none = {0};
  after_last_edit(&none, c);
}
