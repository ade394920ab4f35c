/* Unit tests for src/shop/cart.c over a real store: one open cart per buyer and instance
 * (reused, and enforced by the unique openKey index), the variation chosen for a product with
 * variations, quantities 1..10 and never above the stock, coupons refused with their reason
 * or applied to the total, checkout into a pending order with the keys reserved, closing that
 * releases them, forged or foreign cart ids, and the inactivity policy (warn, expire, and the
 * carts whose Pix is pending or paid). */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "harness.h"
#include "shop_fixture.h"
#include "shop/cart.h"
#include "shop/shop.h"
#include "shop/stock.h"

#define INST "inst-1"
#define OTHER "inst-2"
#define MINUTE (60 * 1000LL)
#define T0 1700000000000LL

static void add_key(const char *id, const char *pid, const char *vid) {
  put(STORE_STOCK, INST, id, shop_stock_record_new(id, pid, vid, id, strlen(id), id, 1000));
}

static size_t avail(const char *pid, const char *vid) {
  struct shop_stock_tally t = {0};
  shop_stock_tally(INST, pid, &t);
  size_t n = shop_stock_tally_get(&t, pid, vid).available;
  shop_stock_tally_free(&t);
  return n;
}

static int setup(void) {
  if (fixture_open(0x11) != 0)
    return -1;
  put(STORE_INSTANCES, NULL, INST,
      json_pack("{s:s, s:s, s:{s:i}}", "id", INST, "ownerId", "seller", "settings",
                "cartInactivityMinutes", 15));
  put(STORE_PRODUCTS, INST, "p-var",
      json_pack("{s:s, s:s, s:I, s:b, s:[{s:s, s:s, s:I, s:b}, {s:s, s:s, s:I, s:b},"
                " {s:s, s:s, s:I, s:b}]}",
                "id", "p-var", "name", "Conta", "priceCents", (json_int_t)1000, "active", 1,
                "variations", "id", "v-old", "name", "Antiga", "priceCents", (json_int_t)100,
                "active", 0, "id", "v30", "name", "30 dias", "priceCents", (json_int_t)1000,
                "active", 1, "id", "v90", "name", "90 dias", "priceCents", (json_int_t)2500,
                "active", 1));
  put(STORE_PRODUCTS, INST, "p-one",
      json_pack("{s:s, s:s, s:I, s:b, s:[]}", "id", "p-one", "name", "Chave", "priceCents",
                (json_int_t)500, "active", 1, "variations"));
  put(STORE_PRODUCTS, OTHER, "p-x",
      json_pack("{s:s, s:s, s:I, s:b, s:[]}", "id", "p-x", "name", "Outra", "priceCents",
                (json_int_t)500, "active", 1, "variations"));
  put(STORE_COUPONS, INST, "c10",
      json_pack("{s:s, s:s, s:s, s:s, s:I, s:[], s:n, s:n, s:n, s:n, s:b}", "id", "c10", "code",
                "DEZ", "codeKey", INST ":DEZ", "type", "percent", "value", (json_int_t)10,
                "productIds", "maxUses", "maxUsesPerBuyer", "validFrom", "validUntil", "active",
                1));
  put(STORE_COUPONS, INST, "cold",
      json_pack("{s:s, s:s, s:s, s:s, s:I, s:[], s:n, s:n, s:n, s:I, s:b}", "id", "cold", "code",
                "VELHO", "codeKey", INST ":VELHO", "type", "fixed", "value", (json_int_t)100,
                "productIds", "maxUses", "maxUsesPerBuyer", "validFrom", "validUntil",
                (json_int_t)(T0 - MINUTE), "active", 1));
  put(STORE_COUPONS, INST, "conly",
      json_pack("{s:s, s:s, s:s, s:s, s:I, s:[s], s:n, s:n, s:n, s:n, s:b}", "id", "conly",
                "code", "SOUM", "codeKey", INST ":SOUM", "type", "fixed", "value",
                (json_int_t)100, "productIds", "p-one", "maxUses", "maxUsesPerBuyer", "validFrom",
                "validUntil", "active", 1));
  /* v30 has no keys: Comprar on p-var starts with v90, the first active one in stock */
  add_key("k1", "p-var", "v90");
  add_key("k2", "p-var", "v90");
  add_key("k3", "p-one", NULL);
  return 0;
}

static enum shop_cart_error open_cart(const char *buyer, const char *pid, const char *vid,
                                      int64_t now, char id[37], int *created) {
  struct shop_cart_open in = {INST, buyer, "Comprador", "thread", "g1", pid, vid, now};
  struct store_txn *t = store_begin(astra.store);
  enum shop_cart_error e = shop_cart_open(t, &in, id, created);
  if (e == SHOP_CART_OK)
    commit(t);
  else
    store_abort(t);
  return e;
}

static const json_t *cart(const char *id) { return store_get(astra.store, STORE_CARTS, NULL, id); }

static const char *line_str(const char *id, const char *k) {
  const json_t *line = json_array_get(json_object_get(cart(id), "items"), 0);
  return json_string_value(json_object_get(line, k));
}

static int line_qty(const char *id) {
  return (int)json_integer_value(
      json_object_get(json_array_get(json_object_get(cart(id), "items"), 0), "quantity"));
}

static enum shop_cart_error step(const char *id, int delta, int64_t now) {
  struct store_txn *t = store_begin(astra.store);
  enum shop_cart_error e = shop_cart_step(t, cart(id), delta, now);
  if (e == SHOP_CART_OK)
    commit(t);
  else
    store_abort(t);
  return e;
}

static enum shop_coupon_reason coupon(const char *id, const char *code, int64_t now) {
  enum shop_coupon_reason why;
  struct store_txn *t = store_begin(astra.store);
  if (shop_cart_coupon(t, cart(id), code, now, &why) != SHOP_CART_OK) {
    store_abort(t);
    return (enum shop_coupon_reason)-1;
  }
  commit(t);
  return why;
}

TEST(open_reuse_and_one_per_buyer) {
  CHECK_INT(setup(), 0);
  char a[37], b[37], c[37];
  int created;
  CHECK_INT(open_cart("u1", "p-var", NULL, T0, a, &created), SHOP_CART_OK);
  CHECK_INT(created, 1);
  CHECK_STR(line_str(a, "variationId"), "v90");
  CHECK_STR(json_string_value(json_object_get(cart(a), "status")), "open");
  CHECK_STR(json_string_value(json_object_get(cart(a), "openKey")), INST ":u1");
  CHECK(json_is_null(json_object_get(cart(a), "channelId")));
  CHECK_STR(shop_cart_find_open(INST, "u1"), a);
  /* a second Comprar reuses it, with the other product in place of the line */
  CHECK_INT(open_cart("u1", "p-one", NULL, T0 + 1000, b, &created), SHOP_CART_OK);
  CHECK_INT(created, 0);
  CHECK_STR(b, a);
  CHECK_STR(line_str(a, "productId"), "p-one");
  CHECK(json_is_null(json_object_get(json_array_get(json_object_get(cart(a), "items"), 0),
                                     "variationId")));
  /* another buyer gets another cart */
  CHECK_INT(open_cart("u2", "p-one", NULL, T0, c, &created), SHOP_CART_OK);
  CHECK_INT(created, 1);
  CHECK(strcmp(a, c) != 0);
  /* the store itself refuses a second open cart for u1 */
  json_t *dup = json_deep_copy(cart(a));
  json_object_set_new(dup, "id", json_string("forged"));
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_CARTS, NULL, "forged", dup);
  CHECK_INT(store_commit(t, NULL, NULL), STORE_ECONFLICT);
  /* refusals: unknown product, another instance's product, a variation not its own */
  CHECK_INT(open_cart("u3", "nope", NULL, T0, c, &created), SHOP_CART_UNAVAILABLE);
  CHECK_INT(open_cart("u3", "p-x", NULL, T0, c, &created), SHOP_CART_UNAVAILABLE);
  CHECK_INT(open_cart("u3", "p-var", "v-old", T0, c, &created), SHOP_CART_UNAVAILABLE);
  CHECK_INT(open_cart("u3", "p-one", "v30", T0, c, &created), SHOP_CART_UNAVAILABLE);
  CHECK(!shop_cart_find_open(INST, "u3"));
  teardown();
}

TEST(get_refuses_foreign_carts) {
  CHECK_INT(setup(), 0);
  char a[37];
  int created;
  CHECK_INT(open_cart("u1", "p-one", NULL, T0, a, &created), SHOP_CART_OK);
  const json_t *c;
  CHECK_INT(shop_cart_get(INST, a, "u1", &c), SHOP_CART_OK);
  CHECK(c == cart(a));
  CHECK_INT(shop_cart_get(INST, a, "u2", &c), SHOP_CART_NOT_YOURS);
  CHECK(c == NULL);
  CHECK_INT(shop_cart_get(OTHER, a, "u1", &c), SHOP_CART_NOT_FOUND);
  CHECK_INT(shop_cart_get(INST, "00000000-0000-0000-0000-000000000000", "u1", &c),
            SHOP_CART_NOT_FOUND);
  CHECK_INT(shop_cart_get(INST, NULL, "u1", &c), SHOP_CART_NOT_FOUND);
  teardown();
}

TEST(quantity_bounds_and_variation) {
  CHECK_INT(setup(), 0);
  char a[37];
  int created;
  CHECK_INT(open_cart("u1", "p-var", NULL, T0, a, &created), SHOP_CART_OK);
  CHECK_INT(step(a, -1, T0), SHOP_CART_LIMIT); /* never below 1 */
  CHECK_INT(step(a, +1, T0), SHOP_CART_OK);
  CHECK_INT(line_qty(a), 2);
  CHECK_INT(step(a, +1, T0), SHOP_CART_LIMIT); /* two keys of v90 */
  CHECK_INT(line_qty(a), 2);
  struct shop_cart_view v;
  CHECK_INT(shop_cart_view(cart(a), T0, &v), 0);
  CHECK_INT(v.nlines, 1);
  CHECK_INT(v.lines[0].unit_cents, 2500);
  CHECK_INT(v.lines[0].line_cents, 5000);
  CHECK_INT(v.lines[0].available, 2);
  CHECK_INT(v.total_cents, 5000);
  /* picking a variation without keys is refused; an unknown one too */
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_cart_pick(t, cart(a), "v30", T0), SHOP_CART_SOLD_OUT);
  CHECK_INT(shop_cart_pick(t, cart(a), "v-old", T0), SHOP_CART_UNAVAILABLE);
  CHECK_INT(shop_cart_pick(t, cart(a), "zzz", T0), SHOP_CART_UNAVAILABLE);
  store_abort(t);
  /* ten keys of v30: the quantity goes up to 10 and no further */
  for (int i = 0; i < 12; i++) {
    char id[16];
    snprintf(id, sizeof id, "m%d", i);
    add_key(id, "p-var", "v30");
  }
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_pick(t, cart(a), "v30", T0 + 5), SHOP_CART_OK);
  CHECK_INT(commit(t), 0);
  CHECK_STR(line_str(a, "variationId"), "v30");
  CHECK_INT(line_qty(a), 2); /* kept */
  for (int i = 0; i < 8; i++)
    CHECK_INT(step(a, +1, T0), SHOP_CART_OK);
  CHECK_INT(line_qty(a), 10);
  CHECK_INT(step(a, +1, T0), SHOP_CART_LIMIT);
  teardown();
}

TEST(coupons_refused_with_reason_or_applied) {
  CHECK_INT(setup(), 0);
  char a[37];
  int created;
  CHECK_INT(open_cart("u1", "p-var", NULL, T0, a, &created), SHOP_CART_OK);
  CHECK_INT(coupon(a, "NAOEXISTE", T0), SHOP_COUPON_UNKNOWN);
  CHECK_INT(coupon(a, "velho", T0), SHOP_COUPON_EXPIRED);
  CHECK_INT(coupon(a, "SOUM", T0), SHOP_COUPON_NOT_FOR_PRODUCT);
  CHECK(json_is_null(json_object_get(cart(a), "couponCode")));
  CHECK_INT(coupon(a, " dez ", T0), SHOP_COUPON_OK);
  CHECK_STR(json_string_value(json_object_get(cart(a), "couponCode")), "DEZ");
  struct shop_cart_view v;
  CHECK_INT(shop_cart_view(cart(a), T0, &v), 0);
  CHECK_INT(v.subtotal_cents, 2500);
  CHECK_INT(v.discount_cents, 250);
  CHECK_INT(v.total_cents, 2250);
  CHECK_STR(v.coupon_code, "DEZ");
  CHECK_INT(coupon(a, "", T0), SHOP_COUPON_OK); /* removed */
  CHECK(json_is_null(json_object_get(cart(a), "couponCode")));
  teardown();
}

TEST(checkout_close_and_release) {
  CHECK_INT(setup(), 0);
  char a[37];
  int created;
  CHECK_INT(open_cart("u1", "p-var", NULL, T0, a, &created), SHOP_CART_OK);
  CHECK_INT(step(a, +1, T0), SHOP_CART_OK);
  CHECK_INT(coupon(a, "DEZ", T0), SHOP_COUPON_OK);
  struct shop_checkout_result r;
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_cart_checkout(t, cart(a), SHOP_CART_HOLD_MS, T0, &r), SHOP_CART_OK);
  CHECK_INT(commit(t), 0);
  CHECK_INT(r.total_cents, 4500);
  CHECK_INT(r.expires_at, T0 + 35 * MINUTE);
  CHECK_STR(json_string_value(json_object_get(cart(a), "status")), "checkout");
  CHECK_STR(json_string_value(json_object_get(cart(a), "orderId")), r.order_id);
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, r.order_id);
  CHECK_STR(json_string_value(json_object_get(o, "cartId")), a);
  CHECK_STR(json_string_value(json_object_get(o, "couponId")), "c10");
  CHECK_INT(avail("p-var", "v90"), 0);
  /* the cart is locked while the Pix is pending; Comprar sends the buyer back to it */
  CHECK_INT(step(a, -1, T0), SHOP_CART_LOCKED);
  char b[37];
  CHECK_INT(open_cart("u1", "p-one", NULL, T0, b, &created), SHOP_CART_LOCKED);
  CHECK_STR(b, a);
  /* the view shows the order's discount, not a recount that sees its own use */
  struct shop_cart_view v;
  CHECK_INT(shop_cart_view(cart(a), T0, &v), 0);
  CHECK_INT(v.discount_cents, 500);
  CHECK_INT(v.total_cents, 4500);
  /* payment creation failed: the keys come back and the cart is editable again */
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_abort_checkout(t, cart(a), T0 + 1), 0);
  CHECK_INT(commit(t), 0);
  CHECK_INT(avail("p-var", "v90"), 2);
  CHECK_STR(json_string_value(json_object_get(o = store_get(astra.store, STORE_ORDERS, NULL,
                                                              r.order_id),
                                              "status")),
            "cancelled");
  CHECK_STR(json_string_value(json_object_get(cart(a), "status")), "open");
  /* checkout again, then Cancelar: keys released, cart closed, a new cart may open */
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_checkout(t, cart(a), SHOP_CART_HOLD_MS, T0 + 2, &r), SHOP_CART_OK);
  CHECK_INT(commit(t), 0);
  CHECK_INT(avail("p-var", "v90"), 0);
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_close(t, cart(a), "cancelled", T0 + 3), 0);
  CHECK_INT(commit(t), 0);
  CHECK_INT(avail("p-var", "v90"), 2);
  CHECK_STR(json_string_value(json_object_get(store_get(astra.store, STORE_ORDERS, NULL,
                                                        r.order_id),
                                              "status")),
            "cancelled");
  CHECK_STR(json_string_value(json_object_get(cart(a), "status")), "closed");
  CHECK(!json_object_get(cart(a), "openKey"));
  const json_t *c;
  CHECK_INT(shop_cart_get(INST, a, "u1", &c), SHOP_CART_CLOSED);
  CHECK(!shop_cart_find_open(INST, "u1"));
  CHECK_INT(open_cart("u1", "p-one", NULL, T0 + 4, b, &created), SHOP_CART_OK);
  CHECK_INT(created, 1);
  /* out of stock at checkout: the buyer reads why, nothing changes */
  CHECK_INT(open_cart("u2", "p-one", NULL, T0, a, &created), SHOP_CART_OK);
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_checkout(t, cart(b), SHOP_CART_HOLD_MS, T0 + 5, &r), SHOP_CART_OK);
  CHECK_INT(commit(t), 0);
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_checkout(t, cart(a), SHOP_CART_HOLD_MS, T0 + 6, &r), SHOP_CART_INTERNAL);
  CHECK_INT(r.error, SHOP_SALE_OUT_OF_STOCK);
  store_abort(t);
  CHECK_STR(json_string_value(json_object_get(cart(a), "status")), "open");
  teardown();
}

TEST(inactivity_policy) {
  CHECK_INT(setup(), 0);
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, INST);
  int64_t idle = shop_cart_inactivity_ms(inst);
  CHECK_INT(idle, 15 * MINUTE);
  CHECK_INT(shop_cart_inactivity_ms(NULL), SHOP_CART_INACTIVITY_DEFAULT_MIN * MINUTE);
  char a[37];
  int created;
  CHECK_INT(open_cart("u1", "p-var", NULL, T0, a, &created), SHOP_CART_OK);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 9 * MINUTE, idle), SHOP_SWEEP_NONE);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 10 * MINUTE, idle), SHOP_SWEEP_WARN);
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_cart_warned(t, cart(a), T0 + 10 * MINUTE), 0);
  CHECK_INT(commit(t), 0);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 11 * MINUTE, idle), SHOP_SWEEP_NONE); /* once */
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 15 * MINUTE, idle), SHOP_SWEEP_EXPIRE);
  /* activity resets the clock and the warning */
  CHECK_INT(step(a, +1, T0 + 12 * MINUTE), SHOP_CART_OK);
  CHECK(json_is_null(json_object_get(cart(a), "warnedAt")));
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 15 * MINUTE, idle), SHOP_SWEEP_NONE);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 22 * MINUTE, idle), SHOP_SWEEP_WARN);
  /* idle past the limit without a warning (the daemon was down): expired at once */
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 60 * MINUTE, idle), SHOP_SWEEP_EXPIRE);
  /* a pending Pix keeps the cart; its order's expiry makes it idle again */
  struct shop_checkout_result r;
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_checkout(t, cart(a), SHOP_CART_HOLD_MS, T0 + 13 * MINUTE, &r),
            SHOP_CART_OK);
  CHECK_INT(commit(t), 0);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 300 * MINUTE, idle), SHOP_SWEEP_NONE);
  t = store_begin(astra.store);
  CHECK_INT(shop_order_release(t, r.order_id, "expired", T0 + 48 * MINUTE), 1);
  CHECK_INT(commit(t), 0);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 50 * MINUTE, idle), SHOP_SWEEP_NONE);
  CHECK_INT(shop_cart_sweep_check(cart(a), T0 + 63 * MINUTE, idle), SHOP_SWEEP_DONE);
  /* expiring releases the keys of a pending order */
  char b[37];
  CHECK_INT(open_cart("u2", "p-one", NULL, T0, b, &created), SHOP_CART_OK);
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_checkout(t, cart(b), SHOP_CART_HOLD_MS, T0, &r), SHOP_CART_OK);
  CHECK_INT(commit(t), 0);
  CHECK_INT(avail("p-one", NULL), 0);
  t = store_begin(astra.store);
  CHECK_INT(shop_cart_close(t, cart(b), "expired", T0 + MINUTE), 0);
  CHECK_INT(commit(t), 0);
  CHECK_INT(avail("p-one", NULL), 1);
  CHECK_STR(json_string_value(json_object_get(store_get(astra.store, STORE_ORDERS, NULL,
                                                        r.order_id),
                                              "status")),
            "expired");
  CHECK_INT(shop_cart_sweep_check(cart(b), T0 + 300 * MINUTE, idle), SHOP_SWEEP_NONE);
  teardown();
}
