/* Selling, write side: checkout, fulfilment, release, reversal, restock (include/shop/sale.h,
 * docs/selling.md). Each function reads the store as it is and adds records to the caller's
 * transaction. Records that must exist at most once per order have ids derived from the
 * order (sale-<id>, fee-<id>, dm-<id>...): even a path that ran twice would overwrite, never
 * duplicate, a credit or a DM. */
#include "shop/sale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "shop/catalog.h"
#include "shop/stock.h"

/* ---- small helpers ------------------------------------------------------------------- */

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static const char *or_empty(const char *s) { return s ? s : ""; }

static int64_t num(const json_t *o, const char *k) {
  return (int64_t)json_integer_value(json_object_get(o, k));
}

void shop_order_timeline_add(json_t *order, int64_t now, const char *status,
                             const char *detail) {
  json_t *tl = json_object_get(order, "timeline");
  if (!json_is_array(tl)) {
    tl = json_array();
    json_object_set_new(order, "timeline", tl);
  }
  json_t *e = json_pack("{s:I, s:s}", "at", (json_int_t)now, "status", status);
  if (detail)
    json_object_set_new(e, "detail", json_string(detail));
  json_array_append_new(tl, e);
  json_object_set_new(order, "status", json_string(status));
  json_object_set_new(order, "updatedAt", json_integer((json_int_t)now));
}

/* Stock ids already promised within the current transaction (it cannot see its own writes). */
struct taken {
  char (*ids)[40];
  size_t n, cap;
};

static int taken_has(const struct taken *t, const char *id) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->ids[i], id))
      return 1;
  return 0;
}

static int taken_add(struct taken *t, const char *id) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char(*ids)[40] = realloc(t->ids, cap * sizeof *ids);
    if (!ids)
      return -1;
    t->ids = ids;
    t->cap = cap;
  }
  snprintf(t->ids[t->n++], 40, "%s", id);
  return 0;
}

struct pick {
  const char *instance_id;
  struct taken *taken;
  size_t want, got;
  int oom;
};

static int pick_one(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)rec;
  struct pick *p = arg;
  if (p->got >= p->want)
    return 1;
  if (!scope || strcmp(scope, p->instance_id) || taken_has(p->taken, id))
    return 0;
  if (taken_add(p->taken, id) != 0) {
    p->oom = 1;
    return 1;
  }
  p->got++;
  return p->got >= p->want;
}

/* Adds up to want available keys of (product, variation) to taken; how many it found. */
static size_t pick_available(const char *instance_id, const char *pid, const char *vid,
                             size_t want, struct taken *taken, int *oom) {
  char slot[SHOP_STOCK_SLOT_MAX];
  shop_stock_slot(pid, vid, "available", slot);
  struct pick p = {instance_id, taken, want, 0, 0};
  if (want)
    store_index_foreach(astra.store, STORE_STOCK, "slot", slot, pick_one, &p);
  if (p.oom)
    *oom = 1;
  return p.got;
}

/* Puts a changed copy of a stock record. */
static void stock_put(struct store_txn *t, const char *instance_id, const char *id,
                      const char *status, const char *order_id, int64_t until, int64_t now) {
  const json_t *rec = store_get(astra.store, STORE_STOCK, instance_id, id);
  if (!rec)
    return;
  json_t *c = json_deep_copy(rec);
  shop_stock_set_status(c, status);
  json_object_set_new(c, "orderId", order_id ? json_string(order_id) : json_null());
  json_object_set_new(c, "reservedUntil", until ? json_integer((json_int_t)until) : json_null());
  if (!strcmp(status, "sold"))
    json_object_set_new(c, "soldAt", json_integer((json_int_t)now));
  store_put(t, STORE_STOCK, instance_id, id, c);
}

/* ---- checkout -------------------------------------------------------------------------- */

const char *shop_sale_error_message(enum shop_sale_error e, const char *locale) {
  int en = locale && !strncmp(locale, "en", 2);
  switch (e) {
  case SHOP_SALE_OK:
    return "OK";
  case SHOP_SALE_EMPTY:
    return en ? "Your cart is empty." : "Seu carrinho está vazio.";
  case SHOP_SALE_UNAVAILABLE:
    return en ? "This product is no longer available." : "Este produto não está mais disponível.";
  case SHOP_SALE_OUT_OF_STOCK:
    return en ? "Not enough stock for this purchase. Lower the quantity or try later."
              : "Não há estoque suficiente para esta compra. Diminua a quantidade ou tente "
                "mais tarde.";
  case SHOP_SALE_COUPON:
    return en ? "This coupon cannot be used here." : "Este cupom não pode ser usado aqui.";
  case SHOP_SALE_INTERNAL:
    break;
  }
  return en ? "Something went wrong. Try again." : "Algo deu errado. Tente novamente.";
}

/* Crockford-like alphabet without 0/O, 1/I/L: codes buyers type. */
static int draw_code(char out[SHOP_ORDER_CODE_LEN + 1]) {
  static const char abc[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
  for (int attempt = 0; attempt < 8; attempt++) {
    unsigned char r[SHOP_ORDER_CODE_LEN];
    if (crypto_random(r, sizeof r) != 0)
      return -1;
    for (int i = 0; i < SHOP_ORDER_CODE_LEN; i++)
      out[i] = abc[r[i] % (sizeof abc - 1)];
    out[SHOP_ORDER_CODE_LEN] = 0;
    if (!store_index_get(astra.store, STORE_ORDERS, "code", out, NULL))
      return 0;
  }
  return -1;
}

int shop_checkout(struct store_txn *t, const struct shop_checkout *in,
                  struct shop_checkout_result *out) {
  memset(out, 0, sizeof *out);
  out->coupon_reason = SHOP_COUPON_OK;
  if (!in->nlines || in->nlines > SHOP_SALE_MAX_LINES) {
    out->error = SHOP_SALE_EMPTY;
    return -1;
  }
  const json_t *prods[SHOP_SALE_MAX_LINES];
  int64_t unit[SHOP_SALE_MAX_LINES];
  for (size_t i = 0; i < in->nlines; i++) {
    const struct shop_line *l = &in->lines[i];
    out->line = i;
    if (l->quantity < 1 || l->quantity > SHOP_SALE_MAX_QUANTITY) {
      out->error = SHOP_SALE_EMPTY;
      return -1;
    }
    const json_t *p = l->product_id
                          ? store_get(astra.store, STORE_PRODUCTS, in->instance_id, l->product_id)
                          : NULL;
    const json_t *vars = json_object_get(p, "variations");
    int has_vars = json_is_array(vars) && json_array_size(vars) > 0;
    const json_t *v = l->variation_id ? shop_product_variation(p, l->variation_id) : NULL;
    if (!p || json_object_get(p, "deletedAt") || !json_is_true(json_object_get(p, "active")) ||
        (has_vars && (!v || !json_is_true(json_object_get(v, "active")))) ||
        (!has_vars && l->variation_id)) {
      out->error = SHOP_SALE_UNAVAILABLE;
      return -1;
    }
    prods[i] = p;
    unit[i] = shop_price_cents(p, l->variation_id);
    if (unit[i] <= 0) {
      out->error = SHOP_SALE_UNAVAILABLE;
      return -1;
    }
    out->subtotal_cents += unit[i] * l->quantity;
  }

  struct shop_coupon coupon;
  int with_coupon = in->coupon_code && *in->coupon_code;
  if (with_coupon) {
    if (shop_coupon_find(in->instance_id, in->coupon_code, &coupon) != 0) {
      out->error = SHOP_SALE_COUPON;
      out->coupon_reason = SHOP_COUPON_UNKNOWN;
      return -1;
    }
    int64_t total = 0, mine = 0;
    shop_coupon_uses(in->instance_id, coupon.id, in->buyer_id, &total, &mine);
    enum shop_coupon_reason r = shop_coupon_check(&coupon, NULL, in->now_ms, total, mine);
    int64_t covered = 0;
    for (size_t i = 0; i < in->nlines; i++)
      if (shop_coupon_applies_to(&coupon, in->lines[i].product_id))
        covered += unit[i] * in->lines[i].quantity;
    if (r == SHOP_COUPON_OK && covered == 0)
      r = SHOP_COUPON_NOT_FOR_PRODUCT;
    if (r != SHOP_COUPON_OK) {
      out->error = SHOP_SALE_COUPON;
      out->coupon_reason = r;
      return -1;
    }
    out->discount_cents = shop_coupon_discount(&coupon, covered);
  }
  out->total_cents = out->subtotal_cents - out->discount_cents;

  struct taken taken = {0};
  size_t first[SHOP_SALE_MAX_LINES + 1];
  int oom = 0;
  for (size_t i = 0; i < in->nlines; i++) {
    first[i] = taken.n;
    const struct shop_line *l = &in->lines[i];
    if (pick_available(in->instance_id, l->product_id, l->variation_id, (size_t)l->quantity,
                       &taken, &oom) < (size_t)l->quantity) {
      free(taken.ids);
      out->line = i;
      out->error = oom ? SHOP_SALE_INTERNAL : SHOP_SALE_OUT_OF_STOCK;
      return -1;
    }
  }
  first[in->nlines] = taken.n;
  if (draw_code(out->code) != 0) {
    free(taken.ids);
    out->error = SHOP_SALE_INTERNAL;
    return -1;
  }
  crypto_uuid(out->order_id);
  out->expires_at = in->now_ms + in->hold_ms;

  json_t *items = json_array(), *all = json_array();
  for (size_t i = 0; i < in->nlines; i++) {
    const struct shop_line *l = &in->lines[i];
    const json_t *v = l->variation_id ? shop_product_variation(prods[i], l->variation_id) : NULL;
    json_t *ids = json_array();
    for (size_t k = first[i]; k < first[i + 1]; k++) {
      json_array_append_new(ids, json_string(taken.ids[k]));
      json_array_append_new(all, json_string(taken.ids[k]));
      stock_put(t, in->instance_id, taken.ids[k], "reserved", out->order_id, out->expires_at,
                in->now_ms);
    }
    json_array_append_new(
        items, json_pack("{s:s, s:s?, s:O?, s:O?, s:i, s:I, s:o}", "productId", l->product_id,
                         "variationId", l->variation_id, "productName",
                         json_object_get(prods[i], "name"), "variationName",
                         v ? json_object_get(v, "name") : NULL, "quantity", l->quantity,
                         "unitCents", (json_int_t)unit[i], "stockIds", ids));
  }
  free(taken.ids);
  json_t *order = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:o, s:I, s:I, s:I, s:s, s:n, s:n, s:n, s:I, s:I,"
      " s:I, s:n, s:n, s:[]}",
      "id", out->order_id, "instanceId", in->instance_id, "code", out->code, "buyerId",
      in->buyer_id, "buyerName", in->buyer_name ? in->buyer_name : "", "cartId", in->cart_id,
      "items", items, "stockIds", all, "subtotalCents", (json_int_t)out->subtotal_cents,
      "discountCents", (json_int_t)out->discount_cents, "totalCents",
      (json_int_t)out->total_cents, "currency", "BRL", "couponId", "coupon", "payment",
      "createdAt", (json_int_t)in->now_ms, "updatedAt", (json_int_t)in->now_ms, "expiresAt",
      (json_int_t)out->expires_at, "paidAt", "deliveredAt", "timeline");
  if (!order) {
    out->error = SHOP_SALE_INTERNAL;
    return -1;
  }
  if (with_coupon) {
    json_object_set_new(order, "couponId", json_string(coupon.id));
    json_object_set_new(order, "coupon", json_pack("{s:s, s:s}", "id", coupon.id, "code",
                                                    coupon.code));
  }
  shop_order_timeline_add(order, in->now_ms, "pending", NULL);
  store_put(t, STORE_ORDERS, NULL, out->order_id, order);
  /* reserved keys are no longer available: the posts show the count others can still buy */
  for (size_t i = 0; i < in->nlines; i++)
    shop_outbox_post_update(t, in->instance_id, in->lines[i].product_id, in->now_ms);
  return 0;
}

int shop_order_set_payment(struct store_txn *t, const char *order_id, const char *provider,
                           const char *payment_id, const char *qr_code, int64_t expires_ms) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, order_id);
  if (!o)
    return -1;
  json_t *c = json_deep_copy(o);
  json_object_set_new(c, "paymentId", json_string(payment_id));
  json_object_set_new(c, "payment",
                      json_pack("{s:s, s:s, s:s, s:s?, s:I}", "provider", provider, "id",
                                payment_id, "status", "pending", "qrCode", qr_code, "expiresAt",
                                (json_int_t)expires_ms));
  store_put(t, STORE_ORDERS, NULL, order_id, c);
  return 0;
}

/* ---- fulfilment ------------------------------------------------------------------------ */

const char *shop_paid_outcome_name(enum shop_paid_outcome o) {
  static const char *const names[] = {"fulfilled", "waiting_stock", "already",
                                      "mismatch",  "unknown",       "error"};
  return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

int64_t shop_fee_cents(const struct shop_fees *f, int64_t total) {
  if (total <= 0)
    return 0;
  /* total ≤ 10^12 cents and bp ≤ 10^4: the product fits in 63 bits */
  int64_t fee = total / 10000 * f->percent_bp + total % 10000 * f->percent_bp / 10000;
  fee += f->fixed_cents;
  return fee > total ? total : fee;
}

/* The keys that make the order whole: for each item, the keys it still holds (reserved for
 * it) plus available ones for the shortfall. 1 when every item is complete; the keys are in
 * taken (in item order, with per-item counts in counts[]). */
static int assemble(const char *instance_id, const char *order_id, const json_t *order,
                    struct taken *taken, size_t *counts, int *oom) {
  size_t i;
  const json_t *item;
  int complete = 1;
  json_array_foreach(json_object_get(order, "items"), i, item) {
    if (i >= SHOP_SALE_MAX_LINES)
      break;
    size_t want = (size_t)num(item, "quantity"), have = 0, k;
    const json_t *sid;
    json_array_foreach(json_object_get(item, "stockIds"), k, sid) {
      const char *id = json_string_value(sid);
      const json_t *s = id ? store_get(astra.store, STORE_STOCK, instance_id, id) : NULL;
      const char *owner = str(s, "orderId");
      if (have < want && s && owner && !strcmp(owner, order_id) &&
          !strcmp(or_empty(str(s, "status")), "reserved") &&
          !taken_has(taken, id)) {
        if (taken_add(taken, id) != 0)
          *oom = 1;
        have++;
      }
    }
    have += pick_available(instance_id, str(item, "productId"), str(item, "variationId"),
                           want - have, taken, oom);
    counts[i] = have;
    if (have < want)
      complete = 0;
  }
  return complete;
}

static json_t *outbox_entry(const char *id, const char *type, const char *instance_id,
                           const char *order_id, const char *product_id, int64_t now) {
  return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:i, s:I, s:I, s:I, s:n}", "id", id,
                   "type", type, "instanceId", instance_id, "orderId", order_id, "productId",
                   product_id, "status", "pending", "attempts", 0, "nextAt", (json_int_t)now,
                   "createdAt", (json_int_t)now, "updatedAt", (json_int_t)now, "lastError");
}

static void outbox_put(struct store_txn *t, const char *id, const char *type,
                       const char *instance_id, const char *order_id, const char *product_id,
                       int64_t now) {
  store_put(t, STORE_OUTBOX, NULL, id,
            outbox_entry(id, type, instance_id, order_id, product_id, now));
}

int shop_outbox_post_update(struct store_txn *t, const char *instance_id, const char *product_id,
                            int64_t now) {
  char id[64];
  if (!instance_id || !product_id ||
      snprintf(id, sizeof id, "post-%s", product_id) >= (int)sizeof id)
    return 0;
  const json_t *p = store_get(astra.store, STORE_PRODUCTS, instance_id, product_id);
  const json_t *post = json_object_get(p, "post");
  if (!str(post, "channelId") || !str(post, "messageId"))
    return 0; /* never posted (or the post was deleted in Discord): nothing to edit */
  /* the rev tells the worker whether the post changed again while its edit was in flight;
   * called twice in one transaction (it cannot see its own writes) it writes the same rev */
  const json_t *cur = store_get(astra.store, STORE_OUTBOX, NULL, id);
  json_t *e = outbox_entry(id, "post", instance_id, NULL, product_id, now);
  if (!e)
    return 0;
  json_object_set_new(e, "rev", json_integer((json_int_t)(num(cur, "rev") + 1)));
  return store_put(t, STORE_OUTBOX, NULL, id, e) == 0;
}

static void wallet_put(struct store_txn *t, const char *prefix, const char *order_id,
                       const char *user_id, const char *instance_id, const char *type,
                       int64_t cents, int64_t now) {
  char id[64];
  snprintf(id, sizeof id, "%s-%s", prefix, order_id);
  store_put(t, STORE_WALLET, NULL, id,
            json_pack("{s:s, s:s?, s:s, s:s, s:s, s:I, s:s, s:I}", "id", id, "userId", user_id,
                      "instanceId", instance_id, "orderId", order_id, "type", type,
                      "amountCents", (json_int_t)cents, "currency", "BRL", "createdAt",
                      (json_int_t)now));
}

static void customer_put(struct store_txn *t, const json_t *order, int64_t now) {
  const char *inst = str(order, "instanceId"), *buyer = str(order, "buyerId");
  if (!inst || !buyer)
    return;
  char id[64];
  snprintf(id, sizeof id, "%s-%s", inst, buyer);
  if (strlen(id) > 64)
    return;
  const json_t *cur = store_get(astra.store, STORE_CUSTOMERS, NULL, id);
  json_t *c = cur ? json_deep_copy(cur)
                  : json_pack("{s:s, s:s, s:s, s:I, s:i, s:i}", "id", id, "instanceId", inst,
                              "discordId", buyer, "firstPurchaseAt", (json_int_t)now,
                              "orderCount", 0, "totalSpentCents", 0);
  json_object_set_new(c, "username", json_string(or_empty(str(order, "buyerName"))));
  json_object_set_new(c, "lastPurchaseAt", json_integer((json_int_t)now));
  json_object_set_new(c, "orderCount", json_integer(num(c, "orderCount") + 1));
  json_object_set_new(c, "totalSpentCents",
                      json_integer(num(c, "totalSpentCents") + num(order, "totalCents")));
  store_put(t, STORE_CUSTOMERS, NULL, id, c);
}

/* Marks the assembled keys sold and queues the DM and the post updates. */
static void deliverable(struct store_txn *t, const char *instance_id, const char *order_id,
                        json_t *order, const struct taken *taken, const size_t *counts,
                        int64_t now) {
  json_t *all = json_array();
  size_t i, at = 0;
  json_t *item;
  json_array_foreach(json_object_get(order, "items"), i, item) {
    json_t *ids = json_array();
    for (size_t k = 0; k < counts[i] && at < taken->n; k++, at++) {
      json_array_append_new(ids, json_string(taken->ids[at]));
      json_array_append_new(all, json_string(taken->ids[at]));
      stock_put(t, instance_id, taken->ids[at], "sold", order_id, 0, now);
    }
    json_object_set_new(item, "stockIds", ids);
    shop_outbox_post_update(t, instance_id, str(item, "productId"), now);
  }
  json_object_set_new(order, "stockIds", all);
  char dm[64];
  snprintf(dm, sizeof dm, "dm-%s", order_id);
  outbox_put(t, dm, "dm", instance_id, order_id, NULL, now);
}

static int has_log_channel(const json_t *inst) {
  const char *ch = str(json_object_get(inst, "settings"), "logChannelId");
  return ch && *ch;
}

enum shop_paid_outcome shop_order_paid(struct store_txn *t, const char *order_id,
                                       const struct shop_payment_seen *p,
                                       const struct shop_fees *fees, int64_t now) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, order_id);
  if (!o)
    return SHOP_PAID_UNKNOWN;
  const char *st = str(o, "status");
  if (!st || (strcmp(st, "pending") && strcmp(st, "expired") && strcmp(st, "cancelled")))
    return SHOP_PAID_ALREADY;
  const char *cur = str(o, "currency");
  if (p->amount_cents != num(o, "totalCents") || !p->currency || !cur || strcmp(p->currency, cur))
    return SHOP_PAID_MISMATCH;
  const char *inst_id = str(o, "instanceId");
  const json_t *inst = inst_id ? store_get(astra.store, STORE_INSTANCES, NULL, inst_id) : NULL;

  struct taken taken = {0};
  size_t counts[SHOP_SALE_MAX_LINES] = {0};
  int oom = 0;
  int complete = assemble(inst_id, order_id, o, &taken, counts, &oom);
  if (oom) {
    free(taken.ids);
    return SHOP_PAID_ERROR;
  }
  json_t *order = json_deep_copy(o);
  json_object_set_new(order, "paymentId", json_string(p->payment_id));
  json_t *pay = json_object_get(order, "payment");
  if (!json_is_object(pay)) {
    pay = json_object();
    json_object_set_new(order, "payment", pay);
  }
  json_object_set_new(pay, "provider", json_string(p->provider));
  json_object_set_new(pay, "id", json_string(p->payment_id));
  json_object_set_new(pay, "status", json_string(p->status ? p->status : "approved"));
  json_object_del(pay, "qrCode"); /* paid: the code is of no more use */
  json_object_set_new(order, "paidAt", json_integer((json_int_t)now));
  shop_order_timeline_add(order, now, "paid", strcmp(st, "pending") ? "late" : NULL);
  enum shop_paid_outcome out;
  if (complete) {
    deliverable(t, inst_id, order_id, order, &taken, counts, now);
    out = SHOP_PAID_FULFILLED;
  } else {
    /* keys this order still holds stay with it (no expiry) so a restock needs fewer */
    for (size_t k = 0; k < taken.n; k++) {
      const json_t *s = store_get(astra.store, STORE_STOCK, inst_id, taken.ids[k]);
      const char *owner = str(s, "orderId");
      if (owner && !strcmp(owner, order_id))
        stock_put(t, inst_id, taken.ids[k], "reserved", order_id, 0, now);
    }
    shop_order_timeline_add(order, now, "waiting_stock", NULL);
    out = SHOP_PAID_WAITING_STOCK;
  }
  free(taken.ids);
  int64_t total = num(order, "totalCents");
  const char *owner = str(inst, "ownerId");
  wallet_put(t, "sale", order_id, owner, inst_id, "sale", total, now);
  wallet_put(t, "fee", order_id, owner, inst_id, "fee", -shop_fee_cents(fees, total), now);
  if (has_log_channel(inst)) {
    char id[64];
    snprintf(id, sizeof id, "log-%s", order_id);
    outbox_put(t, id, "log", inst_id, order_id, NULL, now);
  }
  customer_put(t, order, now);
  store_put(t, STORE_ORDERS, NULL, order_id, order);
  return out;
}

/* ---- release, reversal, restock -------------------------------------------------------- */

int shop_order_release(struct store_txn *t, const char *order_id, const char *status,
                       int64_t now) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, order_id);
  const char *st = str(o, "status");
  if (!st || strcmp(st, "pending"))
    return 0;
  const char *inst = str(o, "instanceId");
  size_t i;
  const json_t *sid;
  json_array_foreach(json_object_get(o, "stockIds"), i, sid) {
    const char *id = json_string_value(sid);
    const json_t *s = id ? store_get(astra.store, STORE_STOCK, inst, id) : NULL;
    const char *owner = str(s, "orderId");
    if (owner && !strcmp(owner, order_id) && !strcmp(or_empty(str(s, "status")), "reserved"))
      stock_put(t, inst, id, "available", NULL, 0, now);
  }
  /* the keys are back on sale: the posts show them again */
  const json_t *item;
  json_array_foreach(json_object_get(o, "items"), i, item)
    shop_outbox_post_update(t, inst, str(item, "productId"), now);
  json_t *c = json_deep_copy(o);
  shop_order_timeline_add(c, now, status, NULL);
  store_put(t, STORE_ORDERS, NULL, order_id, c);
  return 1;
}

int shop_order_reverse(struct store_txn *t, const char *order_id, const char *status,
                       int64_t now) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, order_id);
  const char *st = str(o, "status");
  if (!st || (strcmp(st, "paid") && strcmp(st, "delivered") && strcmp(st, "waiting_stock") &&
              strcmp(st, "failed")))
    return 0;
  const char *inst_id = str(o, "instanceId");
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, inst_id);
  size_t i;
  const json_t *sid;
  json_array_foreach(json_object_get(o, "stockIds"), i, sid) {
    const char *id = json_string_value(sid);
    const json_t *s = id ? store_get(astra.store, STORE_STOCK, inst_id, id) : NULL;
    const char *owner = str(s, "orderId");
    if (!owner || strcmp(owner, order_id))
      continue;
    if (!strcmp(or_empty(str(s, "status")), "reserved")) {
      stock_put(t, inst_id, id, "available", NULL, 0, now); /* never delivered: back on sale */
      shop_outbox_post_update(t, inst_id, str(s, "productId"), now);
    } else {
      json_t *c = json_deep_copy(s);
      json_object_set_new(c, "flag", json_string(status)); /* a key the buyer got for free */
      store_put(t, STORE_STOCK, inst_id, id, c);
    }
  }
  char fee_id[64];
  snprintf(fee_id, sizeof fee_id, "fee-%s", order_id);
  int64_t fee = -num(store_get(astra.store, STORE_WALLET, NULL, fee_id), "amountCents");
  const char *owner = str(inst, "ownerId");
  wallet_put(t, "refund", order_id, owner, inst_id, status, -num(o, "totalCents"), now);
  if (fee)
    wallet_put(t, "feeback", order_id, owner, inst_id, "fee_reversal", fee, now);
  char id[64];
  snprintf(id, sizeof id, "logrev-%s", order_id);
  if (has_log_channel(inst))
    outbox_put(t, id, "log", inst_id, order_id, NULL, now);
  json_t *c = json_deep_copy(o);
  shop_order_timeline_add(c, now, status, NULL);
  store_put(t, STORE_ORDERS, NULL, order_id, c);
  return 1;
}

struct waiting {
  const char *instance_id;
  struct waiting_row {
    char id[40];
    int64_t paid_at;
  } *rows;
  size_t n, cap;
};

static int collect_waiting(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  struct waiting *w = arg;
  const char *inst = str(rec, "instanceId");
  if (!inst || strcmp(inst, w->instance_id))
    return 0;
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    struct waiting_row *r = realloc(w->rows, cap * sizeof *r);
    if (!r)
      return 1;
    w->rows = r;
    w->cap = cap;
  }
  snprintf(w->rows[w->n].id, sizeof w->rows[w->n].id, "%s", id);
  w->rows[w->n++].paid_at = num(rec, "paidAt");
  return 0;
}

static int by_paid_at(const void *a, const void *b) {
  const struct waiting_row *x = a, *y = b;
  if (x->paid_at != y->paid_at)
    return x->paid_at < y->paid_at ? -1 : 1;
  return strcmp(x->id, y->id);
}

size_t shop_restock(struct store_txn *t, const char *instance_id, int64_t now) {
  struct waiting w = {instance_id, NULL, 0, 0};
  store_index_foreach(astra.store, STORE_ORDERS, "status", "waiting_stock", collect_waiting, &w);
  if (w.n > 1)
    qsort(w.rows, w.n, sizeof *w.rows, by_paid_at);
  struct taken taken = {0};
  size_t served = 0;
  for (size_t i = 0; i < w.n; i++) {
    const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, w.rows[i].id);
    size_t counts[SHOP_SALE_MAX_LINES] = {0};
    size_t mark = taken.n;
    int oom = 0;
    if (!o || !assemble(instance_id, w.rows[i].id, o, &taken, counts, &oom) || oom) {
      /* whole or not at all: what this order would have taken goes back to the pool, so the
       * next order in line may still be served */
      taken.n = mark;
      continue;
    }
    struct taken mine = {taken.ids + mark, taken.n - mark, 0};
    json_t *order = json_deep_copy(o);
    shop_order_timeline_add(order, now, "paid", "restock");
    deliverable(t, instance_id, w.rows[i].id, order, &mine, counts, now);
    store_put(t, STORE_ORDERS, NULL, w.rows[i].id, order);
    served++;
  }
  free(taken.ids);
  free(w.rows);
  return served;
}

struct sum {
  int64_t total;
};

static int add_entry(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  (void)id;
  ((struct sum *)arg)->total += num(rec, "amountCents");
  return 0;
}

int64_t shop_wallet_balance(const char *user_id) {
  struct sum s = {0};
  store_index_foreach(astra.store, STORE_WALLET, "userId", user_id, add_entry, &s);
  return s.total;
}
