/* Coupon rules: code normalisation, lookup by code, the checks a buyer's code goes through,
 * the discount, and the count of orders that used a coupon. See include/shop/coupon.h. */
#include "shop/coupon.h"

#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "store/store.h"

int shop_coupon_normalize(const char *code, char out[SHOP_COUPON_CODE_MAX + 1]) {
  out[0] = '\0';
  if (!code)
    return -1;
  size_t n = 0;
  for (const char *p = code; *p; p++, n++) {
    char ch = *p;
    if (n >= SHOP_COUPON_CODE_MAX)
      goto bad;
    if (ch >= 'a' && ch <= 'z')
      ch = (char)(ch - 'a' + 'A');
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
      goto bad;
    out[n] = ch;
  }
  if (n < SHOP_COUPON_CODE_MIN)
    goto bad;
  out[n] = '\0';
  return 0;
bad:
  out[0] = '\0';
  return -1;
}

/* A nullable integer field: null or absent gives dflt; a non-integer is malformed. */
static int int_or_null(const json_t *rec, const char *key, int64_t dflt, int64_t *out) {
  const json_t *v = json_object_get(rec, key);
  if (!v || json_is_null(v)) {
    *out = dflt;
    return 0;
  }
  if (!json_is_integer(v))
    return -1;
  *out = json_integer_value(v);
  return 0;
}

int shop_coupon_parse(const json_t *rec, struct shop_coupon *out) {
  memset(out, 0, sizeof *out);
  const char *id = json_string_value(json_object_get(rec, "id"));
  const char *type = json_string_value(json_object_get(rec, "type"));
  const json_t *value = json_object_get(rec, "value");
  if (!id || strlen(id) > SHOP_COUPON_ID_MAX || !type || !json_is_integer(value))
    return -1;
  snprintf(out->id, sizeof out->id, "%s", id);
  if (shop_coupon_normalize(json_string_value(json_object_get(rec, "code")), out->code) != 0)
    return -1;
  out->value = json_integer_value(value);
  if (!strcmp(type, "percent")) {
    out->type = SHOP_COUPON_PERCENT;
    if (out->value < 1 || out->value > SHOP_COUPON_MAX_PERCENT)
      return -1;
  } else if (!strcmp(type, "fixed")) {
    out->type = SHOP_COUPON_FIXED;
    if (out->value < 1 || out->value > SHOP_COUPON_MAX_FIXED_CENTS)
      return -1;
  } else {
    return -1;
  }
  const json_t *pids = json_object_get(rec, "productIds");
  if (pids && !json_is_null(pids)) {
    if (!json_is_array(pids) || json_array_size(pids) > SHOP_COUPON_MAX_PRODUCTS)
      return -1;
    size_t i;
    const json_t *p;
    json_array_foreach(pids, i, p) {
      const char *s = json_string_value(p);
      if (!s || !*s || strlen(s) > SHOP_COUPON_ID_MAX)
        return -1;
      snprintf(out->product_ids[out->nproducts++], SHOP_COUPON_ID_MAX + 1, "%s", s);
    }
  }
  if (int_or_null(rec, "maxUses", 0, &out->max_uses) != 0 ||
      int_or_null(rec, "maxUsesPerBuyer", 0, &out->max_uses_per_buyer) != 0 ||
      int_or_null(rec, "validFrom", INT64_MIN, &out->valid_from) != 0 ||
      int_or_null(rec, "validUntil", INT64_MAX, &out->valid_until) != 0)
    return -1;
  /* a limit below 1 would read as "no limit" (0); refuse it rather than guess */
  if (out->max_uses < 0 || out->max_uses_per_buyer < 0 ||
      (json_is_integer(json_object_get(rec, "maxUses")) && out->max_uses == 0) ||
      (json_is_integer(json_object_get(rec, "maxUsesPerBuyer")) && out->max_uses_per_buyer == 0))
    return -1;
  out->active = json_is_true(json_object_get(rec, "active"));
  return 0;
}

int shop_coupon_find(const char *instance_id, const char *code_any_case,
                     struct shop_coupon *out) {
  if (!instance_id || !code_any_case)
    return -1;
  /* a code pasted into a modal often brings spaces with it */
  while (*code_any_case == ' ' || *code_any_case == '\t')
    code_any_case++;
  size_t len = strlen(code_any_case);
  while (len > 0 && (code_any_case[len - 1] == ' ' || code_any_case[len - 1] == '\t' ||
                     code_any_case[len - 1] == '\n' || code_any_case[len - 1] == '\r'))
    len--;
  char typed[SHOP_COUPON_CODE_MAX + 1], code[SHOP_COUPON_CODE_MAX + 1];
  if (len > SHOP_COUPON_CODE_MAX)
    return -1;
  memcpy(typed, code_any_case, len);
  typed[len] = '\0';
  if (shop_coupon_normalize(typed, code) != 0)
    return -1;
  char key[SHOP_COUPON_ID_MAX + 1 + SHOP_COUPON_CODE_MAX + 1];
  snprintf(key, sizeof key, "%s:%s", instance_id, code);
  const char *scope = NULL;
  const char *id = store_index_get(astra.store, STORE_COUPONS, "codeKey", key, &scope);
  if (!id || !scope || strcmp(scope, instance_id))
    return -1;
  const json_t *rec = store_get(astra.store, STORE_COUPONS, scope, id);
  return rec ? shop_coupon_parse(rec, out) : -1;
}

int shop_coupon_applies_to(const struct shop_coupon *c, const char *product_id) {
  if (c->nproducts == 0)
    return 1;
  for (size_t i = 0; product_id && i < c->nproducts; i++)
    if (!strcmp(c->product_ids[i], product_id))
      return 1;
  return 0;
}

enum shop_coupon_reason shop_coupon_check(const struct shop_coupon *c, const char *product_id,
                                          int64_t now_ms, int64_t uses_total,
                                          int64_t uses_by_buyer) {
  if (!c->active)
    return SHOP_COUPON_INACTIVE;
  if (now_ms < c->valid_from)
    return SHOP_COUPON_NOT_STARTED;
  /* INT64_MAX is "no end", so it must not expire even at the last representable instant */
  if (c->valid_until != INT64_MAX && now_ms >= c->valid_until)
    return SHOP_COUPON_EXPIRED;
  if (product_id && !shop_coupon_applies_to(c, product_id))
    return SHOP_COUPON_NOT_FOR_PRODUCT;
  if (c->max_uses > 0 && uses_total >= c->max_uses)
    return SHOP_COUPON_EXHAUSTED;
  if (c->max_uses_per_buyer > 0 && uses_by_buyer >= c->max_uses_per_buyer)
    return SHOP_COUPON_BUYER_LIMIT;
  return SHOP_COUPON_OK;
}

const char *shop_coupon_reason_message(enum shop_coupon_reason r, const char *locale) {
  static const char *const msgs[][2] = {
      [SHOP_COUPON_OK] = {"Cupom aplicado.", "Coupon applied."},
      [SHOP_COUPON_UNKNOWN] = {"Cupom não encontrado. Confira o código.",
                               "Coupon not found. Check the code."},
      [SHOP_COUPON_INACTIVE] = {"Este cupom não está ativo.", "This coupon is not active."},
      [SHOP_COUPON_NOT_STARTED] = {"Este cupom ainda não está valendo.",
                                   "This coupon is not valid yet."},
      [SHOP_COUPON_EXPIRED] = {"Este cupom expirou.", "This coupon has expired."},
      [SHOP_COUPON_NOT_FOR_PRODUCT] = {"Este cupom não vale para este produto.",
                                       "This coupon does not apply to this product."},
      [SHOP_COUPON_EXHAUSTED] = {"Este cupom já atingiu o limite de usos.",
                                 "This coupon has reached its usage limit."},
      [SHOP_COUPON_BUYER_LIMIT] = {"Você já usou este cupom o máximo de vezes permitido.",
                                   "You have already used this coupon as many times as allowed."},
  };
  int en = locale && !strncmp(locale, "en", 2);
  if ((unsigned)r >= sizeof msgs / sizeof msgs[0])
    r = SHOP_COUPON_UNKNOWN;
  return msgs[r][en];
}

int64_t shop_coupon_discount(const struct shop_coupon *c, int64_t subtotal_cents) {
  if (subtotal_cents <= 0 || c->value <= 0)
    return 0;
  if (c->type == SHOP_COUPON_FIXED)
    return c->value < subtotal_cents ? c->value : subtotal_cents;
  int64_t pct = c->value > SHOP_COUPON_MAX_PERCENT ? SHOP_COUPON_MAX_PERCENT : c->value;
  /* floor(subtotal * pct / 100) without forming subtotal * pct: with subtotal = 100q + r,
   * it is q*pct + floor(r*pct/100), and q*pct <= subtotal never overflows. */
  int64_t q = subtotal_cents / 100, r = subtotal_cents % 100;
  return q * pct + r * pct / 100;
}

/* Statuses of an order that still holds its coupon; the others gave it back. */
static int status_counts(const char *status) {
  static const char *const held[] = {"pending", "paid", "delivered", "waiting_stock"};
  for (size_t i = 0; status && i < sizeof held / sizeof held[0]; i++)
    if (!strcmp(status, held[i]))
      return 1;
  return 0;
}

struct uses_walk {
  const char *instance_id, *buyer_id;
  int64_t total, by_buyer;
};

static int count_order(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  (void)id;
  struct uses_walk *w = arg;
  const char *inst = json_string_value(json_object_get(rec, "instanceId"));
  if (!inst || strcmp(inst, w->instance_id) ||
      !status_counts(json_string_value(json_object_get(rec, "status"))))
    return 0;
  w->total++;
  const char *buyer = json_string_value(json_object_get(rec, "buyerId"));
  if (w->buyer_id && buyer && !strcmp(buyer, w->buyer_id))
    w->by_buyer++;
  return 0;
}

void shop_coupon_uses(const char *instance_id, const char *coupon_id, const char *buyer_id,
                      int64_t *total, int64_t *by_buyer) {
  struct uses_walk w = {instance_id, buyer_id, 0, 0};
  if (instance_id && coupon_id)
    store_index_foreach(astra.store, STORE_ORDERS, "couponId", coupon_id, count_order, &w);
  if (total)
    *total = w.total;
  if (by_buyer)
    *by_buyer = w.by_buyer;
}
