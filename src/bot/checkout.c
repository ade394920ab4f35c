/* Finalizar (astra:cart:checkout:<cartId>): the order and its reserved keys are durable
 * first (shop_cart_checkout, a 35-minute hold); then the Pix payment is created at Mercado
 * Pago with the idempotency key astra-order-<orderId> (a retry is the same payment), and its
 * id is recorded on the order (durable) before the buyer sees the QR image and the
 * copia-e-cola code in the cart. When payments are not configured nothing is reserved; when
 * Mercado Pago refuses or cannot be reached the order is released and the cart is open again.
 *
 * Payer email: Mercado Pago requires one and Discord does not give us the buyer's, so it is
 * derived from the Discord user id: "discord-<userId>@<PUBLIC_URL's host>" when that host is
 * a domain name, else "discord-<userId>@example.com" (RFC 2606; a local or IP-addressed
 * daemon). It identifies the buyer to the seller in Mercado Pago's panel and reaches nobody. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/cart.h"
#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "discord/rest.h"
#include "pay/mercadopago.h"
#include "shop/cart.h"
#include "shop/money.h"
#include "store/store.h"

struct co {
  struct ix *ix;
  char instance_id[40];
  char cart_id[40];
  char order_id[40];
  char code[16];
  char buyer_id[32];
  int64_t total_cents, expires_at;
  const char *locale;
  /* the payment, copied out of Mercado Pago's callback */
  char payment_id[32];
  char *qr_code, *qr_png_b64;
  const char *fail_text;
};

static void co_free(struct co *c) {
  ix_done(c->ix);
  free(c->qr_code);
  free(c->qr_png_b64);
  free(c);
}

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

/* "discord-<id>@<host>" (see the header comment). */
static void payer_email(const char *buyer_id, char *out, size_t len) {
  const char *url = astra.cfg && astra.cfg->public_url ? astra.cfg->public_url : "";
  const char *h = strstr(url, "://");
  h = h ? h + 3 : url;
  char host[128];
  size_t n = 0;
  while (h[n] && h[n] != ':' && h[n] != '/' && n + 1 < sizeof host) {
    host[n] = (char)tolower((unsigned char)h[n]);
    n++;
  }
  host[n] = 0;
  int domain = strchr(host, '.') != NULL && strcmp(host, "localhost") != 0;
  int ip = 1;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)host[i]) && host[i] != '.')
      ip = 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
      domain = 0;
  snprintf(out, len, "discord-%s@%s", buyer_id, domain && !ip ? host : "example.com");
}

/* ---- the end of a failed attempt: order released, cart open again ---- */

static void on_released(int status, void *arg) {
  struct co *c = arg;
  (void)status;
  /* one answer only (a second one could replace it while the deferral is in flight): the
   * buyer reads why, and the cart message is edited back to its open state */
  bot_cart_refresh(c->instance_id, c->cart_id);
  ix_reply_text(c->ix, c->fail_text);
  co_free(c);
}

static void release(struct co *c, const char *text) {
  c->fail_text = text;
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, c->cart_id);
  struct store_txn *t = store_begin(astra.store);
  if (cart && json_string_value(json_object_get(cart, "orderId")) &&
      !strcmp(str(cart, "orderId"), c->order_id) && !strcmp(str(cart, "status"), "checkout")) {
    shop_cart_abort_checkout(t, cart, bot_now_ms());
  } else {
    /* the cart moved on (cancelled meanwhile): the order alone */
    shop_order_release(t, c->order_id, "cancelled", bot_now_ms());
  }
  if (store_commit(t, on_released, c) != 0) {
    ix_reply_text(c->ix, text);
    co_free(c);
  } else {
    bot_outbox_kick(); /* the released keys show on the product posts again */
  }
}

/* ---- success: the Pix in the cart ---- */

static void on_pix_posted(const struct rest_result *r, void *arg) {
  struct co *c = arg;
  if (r->error != REST_OK || r->status >= 300)
    log_warn("bot", "cart %s: posting the Pix failed: HTTP %ld code %d %s", c->cart_id,
             r->status, r->code, r->error_msg ? r->error_msg : "");
  co_free(c);
}

static void post_pix(struct co *c) {
  struct bot_ctx *ctx = ix_ctx(c->ix);
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, c->cart_id);
  const char *ch = str(cart, "channelId");
  json_t *upd = cart ? bot_cart_render(cart, c->locale, bot_now_ms()) : NULL;
  if (upd)
    ix_update(c->ix, upd); /* the cart now offers only Cancelar */
  if (!ch) {
    co_free(c);
    return;
  }
  char total[SHOP_MONEY_MAX];
  shop_money_format(c->total_cents, "BRL", c->locale, total, sizeof total);
  char *content = NULL;
  if (asprintf(&content, "<@%s> %s\n```\n%s\n```\n%s <t:%lld:R>.", c->buyer_id,
               bot_tr(c->locale, "**Pix copia e cola:**", "**Pix copy and paste code:**"),
               c->qr_code ? c->qr_code : "",
               bot_tr(c->locale, "Expira", "Expires"), (long long)(c->expires_at / 1000)) < 0) {
    co_free(c);
    return;
  }
  char desc[160];
  snprintf(desc, sizeof desc, "%s %s \xC2\xB7 %s %s", bot_tr(c->locale, "Pedido", "Order"),
           c->code, bot_tr(c->locale, "Total", "Total"), total);
  json_t *embed = json_pack("{s:s, s:s, s:i}", "title",
                            bot_tr(c->locale, "Pague com Pix", "Pay with Pix"), "description",
                            desc, "color", 0x32BCAD);
  size_t png_len = 0;
  void *png = c->qr_png_b64 && *c->qr_png_b64 ? crypto_b64_decode(c->qr_png_b64, &png_len)
                                              : NULL;
  if (png)
    json_object_set_new(embed, "image", json_pack("{s:s}", "url", "attachment://pix.png"));
  json_t *msg = json_pack("{s:s, s:[o], s:{s:[s]}}", "content", content, "embeds", embed,
                          "allowed_mentions", "users", c->buyer_id);
  free(content);
  char path[96];
  snprintf(path, sizeof path, "/channels/%s/messages", ch);
  struct rest_file f = {"pix.png", "image/png", png, png_len};
  struct rest_call *call =
      png ? rest_request_files(ctx->rest, "POST", path, msg, &f, 1, 0, on_pix_posted, c)
          : rest_request(ctx->rest, "POST", path, msg, 0, on_pix_posted, c);
  free(png); /* the request keeps its own copy of the body */
  if (!call)
    co_free(c);
}

static void on_payment_recorded(int status, void *arg) {
  struct co *c = arg;
  if (status != 0) {
    ix_reply_text(c->ix, shop_cart_error_message(SHOP_CART_INTERNAL, c->locale));
    co_free(c);
    return;
  }
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, c->order_id);
  if (strcmp(str(o, "status") ? str(o, "status") : "", "pending")) {
    co_free(c); /* cancelled while Mercado Pago answered: no QR for a closed cart */
    return;
  }
  post_pix(c);
}

static void on_payment(enum mp_error err, const struct mp_payment *p, const char *detail,
                       void *arg) {
  struct co *c = arg;
  if (err != MP_OK) {
    log_warn("bot", "cart %s: order %s: Mercado Pago: %s %s", c->cart_id, c->order_id,
             mp_error_name(err), detail ? detail : "");
    release(c, err == MP_ENOTCONFIGURED
                   ? bot_tr(c->locale, "Pagamentos não configurados nesta loja.",
                            "Payments are not configured in this store.")
               : err == MP_EUNAVAILABLE
                   ? bot_tr(c->locale,
                            "O Mercado Pago está indisponível agora. Tente de novo em instantes.",
                            "Mercado Pago is unavailable right now. Try again in a moment.")
                   : bot_tr(c->locale, "O Mercado Pago recusou o pagamento. Tente mais tarde.",
                            "Mercado Pago refused the payment. Try again later."));
    return;
  }
  snprintf(c->payment_id, sizeof c->payment_id, "%lld", p->id);
  c->qr_code = strdup(p->qr_code ? p->qr_code : "");
  c->qr_png_b64 = strdup(p->qr_code_base64 ? p->qr_code_base64 : "");
  if (p->expires_ms > 0)
    c->expires_at = p->expires_ms;
  struct store_txn *t = store_begin(astra.store);
  if (!c->qr_code || !c->qr_png_b64 ||
      shop_order_set_payment(t, c->order_id, "mercadopago", c->payment_id, c->qr_code,
                             c->expires_at) != 0) {
    store_abort(t);
    ix_reply_text(c->ix, shop_cart_error_message(SHOP_CART_INTERNAL, c->locale));
    co_free(c);
    return;
  }
  if (store_commit(t, on_payment_recorded, c) != 0) {
    ix_reply_text(c->ix, shop_cart_error_message(SHOP_CART_INTERNAL, c->locale));
    co_free(c);
  }
}

static void on_order_durable(int status, void *arg) {
  struct co *c = arg;
  if (status != 0) {
    ix_reply_text(c->ix, shop_cart_error_message(SHOP_CART_INTERNAL, c->locale));
    co_free(c);
    return;
  }
  ix_defer(c->ix); /* Mercado Pago may take a while: acknowledge the click now */
  char key[64], url[512], email[200], desc[96];
  snprintf(key, sizeof key, "astra-order-%s", c->order_id);
  snprintf(url, sizeof url, "%s/api/webhooks/mercadopago?source_news=webhooks",
           astra.cfg && astra.cfg->public_url ? astra.cfg->public_url : "");
  payer_email(c->buyer_id, email, sizeof email);
  snprintf(desc, sizeof desc, "Pedido %s", c->code);
  struct mp_create req = {
      .idempotency_key = key,
      .amount_cents = c->total_cents,
      .description = desc,
      .external_reference = c->order_id,
      .notification_url = url,
      .payer_email = email,
      .expires_ms = c->expires_at,
  };
  if (!mp_payment_create(&req, on_payment, c))
    release(c, shop_cart_error_message(SHOP_CART_INTERNAL, c->locale));
}

void bot_cart_checkout(struct ix *ix, const json_t *cart, const char *locale) {
  struct bot_ctx *ctx = ix_ctx(ix);
  if (!mp_configured()) {
    /* nothing is reserved for a payment that cannot be made */
    ix_reply_text(ix, bot_tr(locale, "Pagamentos não configurados nesta loja.",
                             "Payments are not configured in this store."));
    ix_done(ix);
    return;
  }
  struct shop_checkout_result res;
  struct store_txn *t = store_begin(astra.store);
  enum shop_cart_error e = shop_cart_checkout(t, cart, SHOP_CART_HOLD_MS, bot_now_ms(), &res);
  if (e != SHOP_CART_OK) {
    store_abort(t);
    const char *why = res.error == SHOP_SALE_COUPON
                          ? shop_coupon_reason_message(res.coupon_reason, locale)
                      : res.error != SHOP_SALE_OK ? shop_sale_error_message(res.error, locale)
                                                  : shop_cart_error_message(e, locale);
    ix_reply_text(ix, why);
    ix_done(ix);
    return;
  }
  struct co *c = calloc(1, sizeof *c);
  if (!c) {
    store_abort(t);
    ix_done(ix);
    return;
  }
  c->ix = ix;
  c->locale = locale;
  c->total_cents = res.total_cents;
  c->expires_at = res.expires_at;
  snprintf(c->instance_id, sizeof c->instance_id, "%s", ctx->instance_id);
  snprintf(c->cart_id, sizeof c->cart_id, "%s", str(cart, "id"));
  snprintf(c->order_id, sizeof c->order_id, "%s", res.order_id);
  snprintf(c->code, sizeof c->code, "%s", res.code);
  snprintf(c->buyer_id, sizeof c->buyer_id, "%s", str(cart, "buyerId"));
  if (store_commit(t, on_order_durable, c) != 0) {
    ix_reply_text(ix, shop_cart_error_message(SHOP_CART_INTERNAL, locale));
    co_free(c);
  } else {
    bot_outbox_kick(); /* the reserved keys leave the product posts' counts */
  }
}
