/* The buyer's cart, shop side (include/shop/cart.h): records, rules, checkout, closing and
 * the inactivity policy. Every change is a changed copy of the record put in the caller's
 * transaction; a record is never edited in place (the store shares them). */
#include "shop/cart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "shop/catalog.h"
#include "shop/stock.h"

#define MINUTE_MS (60 * 1000LL)

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static int64_t num(const json_t *o, const char *k) {
  return (int64_t)json_integer_value(json_object_get(o, k));
}

static int same(const char *a, const char *b) { return a && b && !strcmp(a, b); }

const char *shop_cart_error_message(enum shop_cart_error e, const char *locale) {
  int en = locale && !strncmp(locale, "en", 2);
  switch (e) {
  case SHOP_CART_OK:
    return "OK";
  case SHOP_CART_NOT_FOUND:
    return en ? "This cart does not exist." : "Este carrinho não existe.";
  case SHOP_CART_NOT_YOURS:
    return en ? "Only the buyer can use this cart." : "Só quem abriu este carrinho pode usá-lo.";
  case SHOP_CART_CLOSED:
    return en ? "This cart is closed. Press Buy again to start a new one."
              : "Este carrinho foi fechado. Clique em Comprar de novo para abrir outro.";
  case SHOP_CART_LOCKED:
    return en ? "A payment is already under way for this cart. Pay the Pix or cancel it."
              : "Já existe um pagamento em andamento neste carrinho. Pague o Pix ou cancele.";
  case SHOP_CART_UNAVAILABLE:
    return en ? "This product is no longer available." : "Este produto não está mais disponível.";
  case SHOP_CART_LIMIT:
    return en ? "That quantity is not possible (1 to 10, and no more than the stock)."
              : "Essa quantidade não é possível (de 1 a 10, e não mais que o estoque).";
  case SHOP_CART_SOLD_OUT:
    return en ? "Sold out." : "Esgotado.";
  case SHOP_CART_INTERNAL:
    break;
  }
  return en ? "Something went wrong. Try again." : "Algo deu errado. Tente novamente.";
}

int shop_cart_open_key(const char *instance_id, const char *buyer_id, char *out, size_t len) {
  if (!instance_id || !buyer_id || !*instance_id || !*buyer_id)
    return -1;
  int n = snprintf(out, len, "%s:%s", instance_id, buyer_id);
  return n > 0 && (size_t)n < len ? 0 : -1;
}

const char *shop_cart_find_open(const char *instance_id, const char *buyer_id) {
  char key[160];
  if (shop_cart_open_key(instance_id, buyer_id, key, sizeof key) != 0)
    return NULL;
  return store_index_get(astra.store, STORE_CARTS, "openKey", key, NULL);
}

enum shop_cart_error shop_cart_get(const char *instance_id, const char *cart_id,
                                   const char *buyer_id, const json_t **out) {
  *out = NULL;
  const json_t *c = cart_id ? store_get(astra.store, STORE_CARTS, NULL, cart_id) : NULL;
  /* another instance's cart is as good as absent: say nothing about it */
  if (!c || !same(str(c, "instanceId"), instance_id))
    return SHOP_CART_NOT_FOUND;
  if (!same(str(c, "buyerId"), buyer_id))
    return SHOP_CART_NOT_YOURS;
  *out = c;
  if (same(str(c, "status"), "closed"))
    return SHOP_CART_CLOSED;
  return SHOP_CART_OK;
}

/* ---- products as the cart sees them ---- */

static int var_active(const json_t *v) {
  return json_is_object(v) && json_is_true(json_object_get(v, "active")) && str(v, "id");
}

static int has_variations(const json_t *p) {
  const json_t *vars = json_object_get(p, "variations");
  return json_is_array(vars) && json_array_size(vars) > 0;
}

static size_t available(const char *instance_id, const char *pid, const char *vid) {
  struct shop_stock_tally t;
  memset(&t, 0, sizeof t);
  size_t n = 0;
  if (shop_stock_tally(instance_id, pid, &t) == 0)
    n = shop_stock_tally_get(&t, pid, vid).available;
  shop_stock_tally_free(&t);
  return n;
}

/* The product if it can be sold (exists in instance, active, not deleted). */
static const json_t *sellable(const char *instance_id, const char *pid) {
  const json_t *p = pid ? store_get(astra.store, STORE_PRODUCTS, instance_id, pid) : NULL;
  if (!p || json_object_get(p, "deletedAt") || !json_is_true(json_object_get(p, "active")))
    return NULL;
  return p;
}

/* Checks (product, variation) and, for a product with variations and vid NULL, picks the
 * first active variation in stock (else the first active one). *vid_out borrows. */
static enum shop_cart_error resolve(const char *instance_id, const char *pid, const char *vid,
                                    const char **vid_out) {
  const json_t *p = sellable(instance_id, pid);
  *vid_out = NULL;
  if (!p)
    return SHOP_CART_UNAVAILABLE;
  if (!has_variations(p))
    return vid ? SHOP_CART_UNAVAILABLE : SHOP_CART_OK;
  if (vid) {
    const json_t *v = shop_product_variation(p, vid);
    if (!var_active(v))
      return SHOP_CART_UNAVAILABLE;
    *vid_out = str(v, "id");
    return SHOP_CART_OK;
  }
  const char *first = NULL;
  size_t i;
  const json_t *v;
  json_array_foreach(json_object_get(p, "variations"), i, v) {
    if (!var_active(v))
      continue;
    if (!first)
      first = str(v, "id");
    if (available(instance_id, pid, str(v, "id")) > 0) {
      *vid_out = str(v, "id");
      return SHOP_CART_OK;
    }
  }
  if (!first)
    return SHOP_CART_UNAVAILABLE;
  *vid_out = first;
  return SHOP_CART_OK;
}

/* ---- changes ---- */

static json_t *line_json(const char *pid, const char *vid, int qty) {
  return json_pack("{s:s, s:s?, s:i}", "productId", pid, "variationId", vid, "quantity", qty);
}

/* A copy of the cart with the activity clock reset. */
static json_t *touched(const json_t *cart, int64_t now) {
  json_t *c = json_deep_copy(cart);
  if (!c)
    return NULL;
  json_object_set_new(c, "updatedAt", json_integer((json_int_t)now));
  json_object_set_new(c, "lastActivityAt", json_integer((json_int_t)now));
  json_object_set_new(c, "warnedAt", json_null());
  return c;
}

static int put(struct store_txn *t, json_t *c) {
  const char *id = str(c, "id");
  if (!id) {
    json_decref(c);
    return -1;
  }
  char copy[72];
  snprintf(copy, sizeof copy, "%s", id);
  return store_put(t, STORE_CARTS, NULL, copy, c) == 0 ? 0 : -1;
}

enum shop_cart_error shop_cart_open(struct store_txn *t, const struct shop_cart_open *in,
                                    char out_id[37], int *created) {
  *created = 0;
  out_id[0] = 0;
  char key[160];
  if (shop_cart_open_key(in->instance_id, in->buyer_id, key, sizeof key) != 0)
    return SHOP_CART_INTERNAL;
  const char *vid;
  enum shop_cart_error e = resolve(in->instance_id, in->product_id, in->variation_id, &vid);
  const char *open_id = shop_cart_find_open(in->instance_id, in->buyer_id);
  const json_t *cur = open_id ? store_get(astra.store, STORE_CARTS, NULL, open_id) : NULL;
  if (cur) {
    snprintf(out_id, 37, "%s", open_id);
    if (same(str(cur, "status"), "checkout"))
      return SHOP_CART_LOCKED; /* the Pix shown stays the truth: the buyer is sent to it */
    if (e != SHOP_CART_OK)
      return e;
    json_t *c = touched(cur, in->now_ms);
    if (!c)
      return SHOP_CART_INTERNAL;
    json_object_set_new(c, "items", json_pack("[o]", line_json(in->product_id, vid, 1)));
    return put(t, c) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
  }
  if (e != SHOP_CART_OK)
    return e;
  char id[37];
  crypto_uuid(id);
  json_int_t now = (json_int_t)in->now_ms;
  json_t *c = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s?, s:n, s:n, s:s, s:s, s:[o], s:n, s:n, s:n, s:n, s:I, "
      "s:I, s:I, s:n, s:n}",
      "id", id, "instanceId", in->instance_id, "buyerId", in->buyer_id, "buyerName",
      in->buyer_name ? in->buyer_name : "", "mode",
      same(in->mode, "channel") ? "channel" : "thread", "guildId", in->guild_id, "channelId",
      "messageId", "openKey", key, "status", "open", "items",
      line_json(in->product_id, vid, 1), "couponId", "couponCode", "orderId", "closedReason",
      "createdAt", now, "updatedAt", now, "lastActivityAt", now, "warnedAt", "closedAt");
  if (!c)
    return SHOP_CART_INTERNAL;
  if (put(t, c) != 0)
    return SHOP_CART_INTERNAL;
  snprintf(out_id, 37, "%s", id);
  *created = 1;
  return SHOP_CART_OK;
}

static enum shop_cart_error editable(const json_t *cart) {
  const char *st = str(cart, "status");
  if (same(st, "closed"))
    return SHOP_CART_CLOSED;
  if (!same(st, "open"))
    return SHOP_CART_LOCKED;
  const json_t *items = json_object_get(cart, "items");
  if (!json_is_array(items) || json_array_size(items) < 1)
    return SHOP_CART_INTERNAL;
  return SHOP_CART_OK;
}

enum shop_cart_error shop_cart_pick(struct store_txn *t, const json_t *cart,
                                    const char *variation_id, int64_t now_ms) {
  enum shop_cart_error e = editable(cart);
  if (e != SHOP_CART_OK)
    return e;
  const json_t *line = json_array_get(json_object_get(cart, "items"), 0);
  const char *inst = str(cart, "instanceId"), *pid = str(line, "productId");
  const char *vid;
  if (!variation_id || (e = resolve(inst, pid, variation_id, &vid)) != SHOP_CART_OK)
    return e == SHOP_CART_OK ? SHOP_CART_UNAVAILABLE : e;
  size_t avail = available(inst, pid, vid);
  if (avail == 0)
    return SHOP_CART_SOLD_OUT;
  int q = (int)num(line, "quantity");
  if (q < 1)
    q = 1;
  if ((size_t)q > avail)
    q = (int)avail; /* the new variation has fewer keys: the quantity follows */
  json_t *c = touched(cart, now_ms);
  if (!c)
    return SHOP_CART_INTERNAL;
  json_object_set_new(c, "items", json_pack("[o]", line_json(pid, vid, q)));
  return put(t, c) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
}

enum shop_cart_error shop_cart_step(struct store_txn *t, const json_t *cart, int delta,
                                    int64_t now_ms) {
  enum shop_cart_error e = editable(cart);
  if (e != SHOP_CART_OK)
    return e;
  const json_t *line = json_array_get(json_object_get(cart, "items"), 0);
  const char *inst = str(cart, "instanceId"), *pid = str(line, "productId");
  const char *vid = str(line, "variationId");
  const char *ok_vid;
  if ((e = resolve(inst, pid, vid, &ok_vid)) != SHOP_CART_OK)
    return e;
  int q = (int)num(line, "quantity") + (delta > 0 ? 1 : -1);
  if (q < 1 || q > SHOP_CART_MAX_QUANTITY)
    return SHOP_CART_LIMIT;
  if (delta > 0 && (size_t)q > available(inst, pid, vid))
    return SHOP_CART_LIMIT;
  json_t *c = touched(cart, now_ms);
  if (!c)
    return SHOP_CART_INTERNAL;
  json_object_set_new(c, "items", json_pack("[o]", line_json(pid, vid, q)));
  return put(t, c) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
}

/* Whether coupon c applies to the cart's lines now; the covered subtotal in *covered. */
static enum shop_coupon_reason coupon_fits(const json_t *cart, const struct shop_coupon *c,
                                           int64_t now, int64_t *covered) {
  int64_t total = 0, mine = 0;
  shop_coupon_uses(str(cart, "instanceId"), c->id, str(cart, "buyerId"), &total, &mine);
  enum shop_coupon_reason r = shop_coupon_check(c, NULL, now, total, mine);
  *covered = 0;
  struct shop_cart_view v;
  if (shop_cart_view(cart, now, &v) != 0)
    return SHOP_COUPON_NOT_FOR_PRODUCT;
  for (size_t i = 0; i < v.nlines; i++)
    if (!v.lines[i].unavailable && shop_coupon_applies_to(c, v.lines[i].product_id))
      *covered += v.lines[i].line_cents;
  if (r == SHOP_COUPON_OK && *covered == 0)
    r = SHOP_COUPON_NOT_FOR_PRODUCT;
  return r;
}

enum shop_cart_error shop_cart_coupon(struct store_txn *t, const json_t *cart, const char *code,
                                      int64_t now_ms, enum shop_coupon_reason *why) {
  *why = SHOP_COUPON_OK;
  enum shop_cart_error e = editable(cart);
  if (e != SHOP_CART_OK)
    return e;
  json_t *c;
  if (!code || !*code) {
    c = touched(cart, now_ms);
    if (!c)
      return SHOP_CART_INTERNAL;
    json_object_set_new(c, "couponId", json_null());
    json_object_set_new(c, "couponCode", json_null());
    return put(t, c) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
  }
  struct shop_coupon cp;
  if (shop_coupon_find(str(cart, "instanceId"), code, &cp) != 0) {
    *why = SHOP_COUPON_UNKNOWN;
    return SHOP_CART_OK;
  }
  int64_t covered;
  *why = coupon_fits(cart, &cp, now_ms, &covered);
  if (*why != SHOP_COUPON_OK)
    return SHOP_CART_OK;
  c = touched(cart, now_ms);
  if (!c)
    return SHOP_CART_INTERNAL;
  json_object_set_new(c, "couponId", json_string(cp.id));
  json_object_set_new(c, "couponCode", json_string(cp.code));
  return put(t, c) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
}

int shop_cart_set_channel(struct store_txn *t, const json_t *cart, const char *channel_id,
                          const char *message_id, int64_t now_ms) {
  json_t *c = json_deep_copy(cart);
  if (!c)
    return -1;
  if (channel_id)
    json_object_set_new(c, "channelId", json_string(channel_id));
  if (message_id)
    json_object_set_new(c, "messageId", json_string(message_id));
  json_object_set_new(c, "updatedAt", json_integer((json_int_t)now_ms));
  return put(t, c);
}

enum shop_cart_error shop_cart_checkout(struct store_txn *t, const json_t *cart,
                                        int64_t hold_ms, int64_t now_ms,
                                        struct shop_checkout_result *res) {
  memset(res, 0, sizeof *res);
  enum shop_cart_error e = editable(cart);
  if (e != SHOP_CART_OK)
    return e;
  struct shop_line lines[SHOP_SALE_MAX_LINES];
  size_t n = 0, i;
  const json_t *it;
  json_array_foreach(json_object_get(cart, "items"), i, it) {
    if (n == SHOP_SALE_MAX_LINES)
      break;
    lines[n].product_id = str(it, "productId");
    lines[n].variation_id = str(it, "variationId");
    lines[n].quantity = (int)num(it, "quantity");
    n++;
  }
  struct shop_checkout in = {
      .instance_id = str(cart, "instanceId"),
      .buyer_id = str(cart, "buyerId"),
      .buyer_name = str(cart, "buyerName"),
      .cart_id = str(cart, "id"),
      .lines = lines,
      .nlines = n,
      .coupon_code = str(cart, "couponCode"),
      .now_ms = now_ms,
      .hold_ms = hold_ms,
  };
  if (shop_checkout(t, &in, res) != 0)
    return SHOP_CART_INTERNAL; /* res->error says why */
  json_t *c = touched(cart, now_ms);
  if (!c)
    return SHOP_CART_INTERNAL;
  json_object_set_new(c, "status", json_string("checkout"));
  json_object_set_new(c, "orderId", json_string(res->order_id));
  return put(t, c) == 0 ? SHOP_CART_OK : SHOP_CART_INTERNAL;
}

int shop_cart_abort_checkout(struct store_txn *t, const json_t *cart, int64_t now_ms) {
  const char *oid = str(cart, "orderId");
  if (oid)
    shop_order_release(t, oid, "cancelled", now_ms);
  if (same(str(cart, "status"), "closed"))
    return 0;
  json_t *c = touched(cart, now_ms);
  if (!c)
    return -1;
  json_object_set_new(c, "status", json_string("open"));
  return put(t, c);
}

int shop_cart_close(struct store_txn *t, const json_t *cart, const char *reason,
                    int64_t now_ms) {
  if (same(str(cart, "status"), "closed"))
    return 0;
  const char *oid = str(cart, "orderId");
  /* release does nothing to an order that is no longer pending (paid, delivered...) */
  if (oid)
    shop_order_release(t, oid, same(reason, "expired") ? "expired" : "cancelled", now_ms);
  json_t *c = json_deep_copy(cart);
  if (!c)
    return -1;
  json_object_del(c, "openKey"); /* out of the unique index: a new cart may open */
  json_object_set_new(c, "status", json_string("closed"));
  json_object_set_new(c, "closedReason", json_string(reason));
  json_object_set_new(c, "closedAt", json_integer((json_int_t)now_ms));
  json_object_set_new(c, "updatedAt", json_integer((json_int_t)now_ms));
  return put(t, c);
}

int shop_cart_warned(struct store_txn *t, const json_t *cart, int64_t now_ms) {
  json_t *c = json_deep_copy(cart);
  if (!c)
    return -1;
  json_object_set_new(c, "warnedAt", json_integer((json_int_t)now_ms));
  return put(t, c);
}

/* ---- inactivity ---- */

int64_t shop_cart_inactivity_ms(const json_t *instance) {
  const json_t *v = json_object_get(json_object_get(instance, "settings"), "cartInactivityMinutes");
  json_int_t m = json_is_integer(v) ? json_integer_value(v) : 0;
  if (m < 5 || m > 1440)
    m = SHOP_CART_INACTIVITY_DEFAULT_MIN;
  return (int64_t)m * MINUTE_MS;
}

static int64_t warn_lead(int64_t inactivity_ms) {
  int64_t lead = inactivity_ms / 3;
  return lead > 5 * MINUTE_MS ? 5 * MINUTE_MS : lead;
}

enum shop_cart_sweep shop_cart_sweep_check(const json_t *cart, int64_t now,
                                           int64_t inactivity_ms) {
  const char *st = str(cart, "status");
  int64_t last = num(cart, "lastActivityAt");
  if (same(st, "checkout")) {
    const char *oid = str(cart, "orderId");
    const json_t *o = oid ? store_get(astra.store, STORE_ORDERS, NULL, oid) : NULL;
    const char *ost = str(o, "status");
    if (!o)
      return now - last >= inactivity_ms ? SHOP_SWEEP_DONE : SHOP_SWEEP_NONE;
    if (same(ost, "pending") || same(ost, "paid") || same(ost, "waiting_stock"))
      return SHOP_SWEEP_NONE;
    int64_t changed = num(o, "updatedAt");
    if (changed > last)
      last = changed;
    return now - last >= inactivity_ms ? SHOP_SWEEP_DONE : SHOP_SWEEP_NONE;
  }
  if (!same(st, "open"))
    return SHOP_SWEEP_NONE;
  int64_t idle = now - last;
  if (idle >= inactivity_ms)
    return SHOP_SWEEP_EXPIRE;
  if (idle >= inactivity_ms - warn_lead(inactivity_ms) &&
      json_is_null(json_object_get(cart, "warnedAt")))
    return SHOP_SWEEP_WARN;
  return SHOP_SWEEP_NONE;
}

/* ---- the view ---- */

int shop_cart_view(const json_t *cart, int64_t now_ms, struct shop_cart_view *out) {
  memset(out, 0, sizeof *out);
  out->coupon_reason = SHOP_COUPON_OK;
  const char *inst = str(cart, "instanceId");
  if (!inst)
    return -1;
  size_t i;
  const json_t *it;
  json_array_foreach(json_object_get(cart, "items"), i, it) {
    if (out->nlines == SHOP_SALE_MAX_LINES)
      break;
    struct shop_cart_line_view *l = &out->lines[out->nlines++];
    l->product_id = str(it, "productId");
    l->variation_id = str(it, "variationId");
    l->quantity = (int)num(it, "quantity");
    l->product = l->product_id ? store_get(astra.store, STORE_PRODUCTS, inst, l->product_id)
                               : NULL;
    l->variation = l->variation_id ? shop_product_variation(l->product, l->variation_id) : NULL;
    const char *ok;
    if (!l->product_id || resolve(inst, l->product_id, l->variation_id, &ok) != SHOP_CART_OK ||
        (l->variation_id && !l->variation)) {
      l->unavailable = 1;
      continue;
    }
    l->unit_cents = shop_price_cents(l->product, l->variation_id);
    if (l->unit_cents <= 0) {
      l->unavailable = 1;
      l->unit_cents = 0;
      continue;
    }
    l->line_cents = l->unit_cents * l->quantity;
    l->available = available(inst, l->product_id, l->variation_id);
    out->subtotal_cents += l->line_cents;
  }
  const char *code = str(cart, "couponCode");
  if (code && *code) {
    out->coupon_code = code;
    struct shop_coupon cp;
    int64_t covered = 0;
    if (shop_coupon_find(inst, code, &cp) != 0) {
      out->coupon_reason = SHOP_COUPON_UNKNOWN;
    } else {
      /* shop_coupon_uses counts this cart's own pending order too: while in checkout the
       * discount shown is the order's, not recomputed */
      const char *oid = str(cart, "orderId");
      const json_t *o = oid ? store_get(astra.store, STORE_ORDERS, NULL, oid) : NULL;
      if (same(str(cart, "status"), "checkout") && o) {
        out->discount_cents = num(o, "discountCents");
      } else {
        int64_t total = 0, mine = 0;
        shop_coupon_uses(inst, cp.id, str(cart, "buyerId"), &total, &mine);
        out->coupon_reason = shop_coupon_check(&cp, NULL, now_ms, total, mine);
        for (size_t k = 0; k < out->nlines; k++)
          if (!out->lines[k].unavailable && shop_coupon_applies_to(&cp, out->lines[k].product_id))
            covered += out->lines[k].line_cents;
        if (out->coupon_reason == SHOP_COUPON_OK && covered == 0)
          out->coupon_reason = SHOP_COUPON_NOT_FOR_PRODUCT;
        if (out->coupon_reason == SHOP_COUPON_OK)
          out->discount_cents = shop_coupon_discount(&cp, covered);
      }
    }
  }
  out->total_cents = out->subtotal_cents - out->discount_cents;
  return 0;
}
