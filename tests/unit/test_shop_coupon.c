/* Unit tests of the coupon rules (src/shop/coupon.c): code normalisation, every reason a
 * code is refused, window edges, product scope, limits at the boundary, discount rounding
 * and bounds, malformed records, and lookup and use counting over a real store. */
#include "harness.h"
#include "core/app.h"
#include "shop/coupon.h"
#include "shop/shop.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>

/* A valid coupon record, to be tweaked by each test. */
static json_t *base_rec(void) {
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:[],s:n,s:n,s:n,s:n,s:b}", "id", "c1",
                   "instanceId", "i1", "code", "PROMO10", "codeKey", "i1:PROMO10", "type",
                   "percent", "value", (json_int_t)10, "productIds", "maxUses",
                   "maxUsesPerBuyer", "validFrom", "validUntil", "active", 1);
}

static int parse(json_t *rec, struct shop_coupon *c) {
  int rc = shop_coupon_parse(rec, c);
  json_decref(rec);
  return rc;
}

static json_t *with(json_t *rec, const char *key, json_t *v) {
  json_object_set_new(rec, key, v);
  return rec;
}

TEST(normalize_accepts_and_upper_cases) {
  char out[SHOP_COUPON_CODE_MAX + 1];
  CHECK_INT(shop_coupon_normalize("promo-10_x", out), 0);
  CHECK_STR(out, "PROMO-10_X");
  CHECK_INT(shop_coupon_normalize("abc", out), 0); /* 3: the shortest */
  CHECK_STR(out, "ABC");
  CHECK_INT(shop_coupon_normalize("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", out), 0); /* 32 */
  CHECK_STR(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
}

TEST(normalize_refuses_bad_codes) {
  char out[SHOP_COUPON_CODE_MAX + 1];
  static const char *const bad[] = {
      "", "AB", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456" /* 33 */, "PRO MO", " PROMO", "PROMO!",
      "PROMOÇÃO", "a/b/c", "PRO\tMO", "%00ABC",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (shop_coupon_normalize(bad[i], out) != -1) {
      harness_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
      return;
    }
    CHECK_STR(out, "");
  }
  CHECK_INT(shop_coupon_normalize(NULL, out), -1);
}

TEST(parse_reads_a_record) {
  struct shop_coupon c;
  json_t *r = base_rec();
  json_object_set_new(r, "productIds", json_pack("[s,s]", "p1", "p2"));
  json_object_set_new(r, "maxUses", json_integer(5));
  json_object_set_new(r, "validFrom", json_integer(1000));
  CHECK_INT(parse(r, &c), 0);
  CHECK_STR(c.id, "c1");
  CHECK_STR(c.code, "PROMO10");
  CHECK_INT(c.type, SHOP_COUPON_PERCENT);
  CHECK_INT(c.value, 10);
  CHECK_INT(c.nproducts, 2);
  CHECK_STR(c.product_ids[1], "p2");
  CHECK_INT(c.max_uses, 5);
  CHECK_INT(c.max_uses_per_buyer, 0);
  CHECK_INT(c.valid_from, 1000);
  CHECK(c.valid_until == INT64_MAX);
  CHECK(c.active);
}

TEST(parse_refuses_malformed_records) {
  struct shop_coupon c;
  CHECK_INT(parse(with(base_rec(), "type", json_string("free")), &c), -1);
  CHECK_INT(parse(with(base_rec(), "value", json_integer(101)), &c), -1);
  CHECK_INT(parse(with(base_rec(), "value", json_integer(0)), &c), -1);
  CHECK_INT(parse(with(base_rec(), "value", json_real(10.5)), &c), -1);
  CHECK_INT(parse(with(with(base_rec(), "type", json_string("fixed")), "value",
                       json_integer(100000001)), &c), -1);
  CHECK_INT(parse(with(base_rec(), "code", json_string("x")), &c), -1);
  CHECK_INT(parse(with(base_rec(), "maxUses", json_integer(0)), &c), -1);
  CHECK_INT(parse(with(base_rec(), "maxUsesPerBuyer", json_integer(-1)), &c), -1);
  CHECK_INT(parse(with(base_rec(), "validFrom", json_string("ontem")), &c), -1);
  CHECK_INT(parse(with(base_rec(), "productIds", json_pack("[i]", 1)), &c), -1);
  CHECK_INT(parse(with(base_rec(), "productIds", json_string("p1")), &c), -1);
  json_t *many = json_array();
  for (int i = 0; i <= SHOP_COUPON_MAX_PRODUCTS; i++)
    json_array_append_new(many, json_string("p"));
  CHECK_INT(parse(with(base_rec(), "productIds", many), &c), -1);
  /* a missing "active" is not an active coupon */
  json_t *r = base_rec();
  json_object_del(r, "active");
  CHECK_INT(parse(r, &c), 0);
  CHECK(!c.active);
}

TEST(check_every_reason) {
  struct shop_coupon c;
  json_t *r = base_rec();
  json_object_set_new(r, "productIds", json_pack("[s]", "p1"));
  json_object_set_new(r, "maxUses", json_integer(10));
  json_object_set_new(r, "maxUsesPerBuyer", json_integer(2));
  json_object_set_new(r, "validFrom", json_integer(1000));
  json_object_set_new(r, "validUntil", json_integer(2000));
  CHECK_INT(parse(r, &c), 0);
  CHECK_INT(shop_coupon_check(&c, "p1", 1500, 0, 0), SHOP_COUPON_OK);
  CHECK_INT(shop_coupon_check(&c, "p1", 999, 0, 0), SHOP_COUPON_NOT_STARTED);
  CHECK_INT(shop_coupon_check(&c, "p1", 2000, 0, 0), SHOP_COUPON_EXPIRED);
  CHECK_INT(shop_coupon_check(&c, "p2", 1500, 0, 0), SHOP_COUPON_NOT_FOR_PRODUCT);
  CHECK_INT(shop_coupon_check(&c, "p1", 1500, 10, 0), SHOP_COUPON_EXHAUSTED);
  CHECK_INT(shop_coupon_check(&c, "p1", 1500, 3, 2), SHOP_COUPON_BUYER_LIMIT);
  c.active = 0;
  CHECK_INT(shop_coupon_check(&c, "p1", 1500, 0, 0), SHOP_COUPON_INACTIVE);
  /* inactive wins over everything else: the buyer learns the most useful thing first */
  CHECK_INT(shop_coupon_check(&c, "p2", 5000, 99, 99), SHOP_COUPON_INACTIVE);
}

TEST(check_window_edges) {
  struct shop_coupon c;
  json_t *r = base_rec();
  json_object_set_new(r, "validFrom", json_integer(1000));
  json_object_set_new(r, "validUntil", json_integer(2000));
  CHECK_INT(parse(r, &c), 0);
  CHECK_INT(shop_coupon_check(&c, NULL, 999, 0, 0), SHOP_COUPON_NOT_STARTED);
  CHECK_INT(shop_coupon_check(&c, NULL, 1000, 0, 0), SHOP_COUPON_OK); /* from: inclusive */
  CHECK_INT(shop_coupon_check(&c, NULL, 1999, 0, 0), SHOP_COUPON_OK);
  CHECK_INT(shop_coupon_check(&c, NULL, 2000, 0, 0), SHOP_COUPON_EXPIRED); /* until: excl. */
  /* open-ended on either side */
  CHECK_INT(parse(with(base_rec(), "validUntil", json_integer(2000)), &c), 0);
  CHECK_INT(shop_coupon_check(&c, NULL, INT64_MIN, 0, 0), SHOP_COUPON_OK);
  CHECK_INT(parse(with(base_rec(), "validFrom", json_integer(1000)), &c), 0);
  CHECK_INT(shop_coupon_check(&c, NULL, INT64_MAX, 0, 0), SHOP_COUPON_OK);
  CHECK_INT(shop_coupon_check(&c, NULL, 999, 0, 0), SHOP_COUPON_NOT_STARTED);
}

TEST(check_product_scope) {
  struct shop_coupon c;
  CHECK_INT(parse(base_rec(), &c), 0); /* empty list: every product */
  CHECK(shop_coupon_applies_to(&c, "anything"));
  CHECK_INT(shop_coupon_check(&c, "anything", 0, 0, 0), SHOP_COUPON_OK);
  CHECK_INT(parse(with(base_rec(), "productIds", json_pack("[s,s]", "p1", "p2")), &c), 0);
  CHECK(shop_coupon_applies_to(&c, "p1"));
  CHECK(shop_coupon_applies_to(&c, "p2"));
  CHECK(!shop_coupon_applies_to(&c, "p3"));
  CHECK(!shop_coupon_applies_to(&c, NULL));
  CHECK_INT(shop_coupon_check(&c, "p2", 0, 0, 0), SHOP_COUPON_OK);
  CHECK_INT(shop_coupon_check(&c, "p3", 0, 0, 0), SHOP_COUPON_NOT_FOR_PRODUCT);
  CHECK_INT(shop_coupon_check(&c, NULL, 0, 0, 0), SHOP_COUPON_OK); /* caller sums itself */
}

TEST(check_limits_at_the_boundary) {
  struct shop_coupon c;
  json_t *r = base_rec();
  json_object_set_new(r, "maxUses", json_integer(3));
  json_object_set_new(r, "maxUsesPerBuyer", json_integer(1));
  CHECK_INT(parse(r, &c), 0);
  CHECK_INT(shop_coupon_check(&c, NULL, 0, 2, 0), SHOP_COUPON_OK);
  CHECK_INT(shop_coupon_check(&c, NULL, 0, 3, 0), SHOP_COUPON_EXHAUSTED);
  CHECK_INT(shop_coupon_check(&c, NULL, 0, 0, 1), SHOP_COUPON_BUYER_LIMIT);
  CHECK_INT(shop_coupon_check(&c, NULL, 0, 2, 0), SHOP_COUPON_OK);
  /* no limits: any count passes */
  CHECK_INT(parse(base_rec(), &c), 0);
  CHECK_INT(shop_coupon_check(&c, NULL, 0, 1000000000, 1000000000), SHOP_COUPON_OK);
}

TEST(discount_percent_rounds_down) {
  struct shop_coupon c;
  CHECK_INT(parse(base_rec(), &c), 0); /* 10 % */
  CHECK_INT(shop_coupon_discount(&c, 1999), 199);
  CHECK_INT(shop_coupon_discount(&c, 1990), 199);
  CHECK_INT(shop_coupon_discount(&c, 9), 0);
  CHECK_INT(shop_coupon_discount(&c, 0), 0);
  CHECK_INT(shop_coupon_discount(&c, -500), 0);
  CHECK_INT(parse(with(base_rec(), "value", json_integer(33)), &c), 0);
  CHECK_INT(shop_coupon_discount(&c, 1999), 659); /* 659.67 */
  CHECK_INT(shop_coupon_discount(&c, 101), 33);   /* 33.33 */
  CHECK_INT(parse(with(base_rec(), "value", json_integer(1)), &c), 0);
  CHECK_INT(shop_coupon_discount(&c, 99), 0);
  CHECK_INT(shop_coupon_discount(&c, 100), 1);
  CHECK_INT(parse(with(base_rec(), "value", json_integer(100)), &c), 0);
  CHECK_INT(shop_coupon_discount(&c, 1999), 1999);
  CHECK_INT(shop_coupon_discount(&c, 1), 1);
}

TEST(discount_percent_has_no_overflow) {
  struct shop_coupon c;
  CHECK_INT(parse(with(base_rec(), "value", json_integer(99)), &c), 0);
  /* the largest cart: 100 items at the highest price */
  int64_t big = 100000000LL * 100;
  CHECK(shop_coupon_discount(&c, big) == big / 100 * 99);
  CHECK(shop_coupon_discount(&c, big + 99) == big / 100 * 99 + 98); /* 99*99/100 = 98.01 */
  /* any int64 works: no intermediate product */
  int64_t d = shop_coupon_discount(&c, INT64_MAX);
  CHECK(d > 0 && d < INT64_MAX);
  CHECK(d == (INT64_MAX / 100) * 99 + (INT64_MAX % 100) * 99 / 100);
  CHECK_INT(parse(with(base_rec(), "value", json_integer(100)), &c), 0);
  CHECK(shop_coupon_discount(&c, INT64_MAX) == INT64_MAX);
}

TEST(discount_fixed_never_above_subtotal) {
  struct shop_coupon c;
  CHECK_INT(parse(with(with(base_rec(), "type", json_string("fixed")), "value",
                       json_integer(500)), &c), 0);
  CHECK_INT(c.type, SHOP_COUPON_FIXED);
  CHECK_INT(shop_coupon_discount(&c, 1999), 500);
  CHECK_INT(shop_coupon_discount(&c, 500), 500);
  CHECK_INT(shop_coupon_discount(&c, 499), 499);
  CHECK_INT(shop_coupon_discount(&c, 1), 1);
  CHECK_INT(shop_coupon_discount(&c, 0), 0);
}

TEST(reason_messages_in_both_languages) {
  for (int r = SHOP_COUPON_OK; r <= SHOP_COUPON_BUYER_LIMIT; r++) {
    const char *pt = shop_coupon_reason_message((enum shop_coupon_reason)r, "pt-BR");
    const char *en = shop_coupon_reason_message((enum shop_coupon_reason)r, "en-US");
    CHECK(pt && en && *pt && *en && strcmp(pt, en));
  }
  CHECK_STR(shop_coupon_reason_message(SHOP_COUPON_EXPIRED, "pt-BR"), "Este cupom expirou.");
  CHECK_STR(shop_coupon_reason_message(SHOP_COUPON_EXPIRED, "en"), "This coupon has expired.");
  CHECK_STR(shop_coupon_reason_message(SHOP_COUPON_EXPIRED, NULL), "Este cupom expirou.");
  CHECK(shop_coupon_reason_message((enum shop_coupon_reason)999, "en") != NULL);
}

/* ---- over a real store: find by code, count uses ---- */

static uv_loop_t loop;

static void close_cb(int status, void *arg) { *(int *)arg = status; }

static int put(enum store_coll c, const char *scope, const char *id, json_t *rec) {
  struct store_txn *t = store_begin(astra.store);
  if (store_put(t, c, scope, id, rec) != 0) {
    store_abort(t);
    return -99;
  }
  return store_commit(t, NULL, NULL);
}

static json_t *order(const char *inst, const char *coupon, const char *buyer,
                     const char *status) {
  return json_pack("{s:s,s:s,s:s,s:s}", "instanceId", inst, "couponId", coupon, "buyerId",
                   buyer, "status", status);
}

TEST(find_and_uses_over_the_store) {
  uv_loop_init(&loop);
  astra.loop = &loop;
  struct store_options o = {.dir = harness_tmpdir(), .loop = &loop};
  char err[512];
  struct store *s = NULL;
  CHECK_INT(store_open(&s, &o, err, sizeof err), 0);
  astra.store = s;
  CHECK_INT(shop_init(err, sizeof err), 0);

  CHECK_INT(put(STORE_COUPONS, "i1", "c1", base_rec()), 0);
  json_t *other = base_rec(); /* same code in another instance */
  json_object_set_new(other, "id", json_string("c2"));
  json_object_set_new(other, "instanceId", json_string("i2"));
  json_object_set_new(other, "codeKey", json_string("i2:PROMO10"));
  json_object_set_new(other, "value", json_integer(50));
  CHECK_INT(put(STORE_COUPONS, "i2", "c2", other), 0);
  /* a second coupon with a taken code in the same instance is refused by the index */
  json_t *dup = base_rec();
  json_object_set_new(dup, "id", json_string("c3"));
  CHECK_INT(put(STORE_COUPONS, "i1", "c3", dup), STORE_ECONFLICT);

  struct shop_coupon c;
  CHECK_INT(shop_coupon_find("i1", "promo10", &c), 0);
  CHECK_STR(c.id, "c1");
  CHECK_INT(c.value, 10);
  CHECK_INT(shop_coupon_find("i1", "  Promo10 \n", &c), 0);
  CHECK_STR(c.id, "c1");
  CHECK_INT(shop_coupon_find("i2", "PROMO10", &c), 0);
  CHECK_STR(c.id, "c2");
  CHECK_INT(shop_coupon_find("i3", "PROMO10", &c), -1);
  CHECK_INT(shop_coupon_find("i1", "PROMO11", &c), -1);
  CHECK_INT(shop_coupon_find("i1", "PRO MO10", &c), -1);
  CHECK_INT(shop_coupon_find("i1", "", &c), -1);
  CHECK_INT(shop_coupon_find("i1", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", &c), -1);

  static const struct {
    const char *id, *inst, *coupon, *buyer, *status;
  } orders[] = {
      {"o1", "i1", "c1", "b1", "pending"},   {"o2", "i1", "c1", "b1", "paid"},
      {"o3", "i1", "c1", "b2", "delivered"}, {"o4", "i1", "c1", "b2", "waiting_stock"},
      {"o5", "i1", "c1", "b1", "expired"},   {"o6", "i1", "c1", "b1", "cancelled"},
      {"o7", "i1", "c1", "b1", "refunded"},  {"o8", "i1", "c1", "b1", "charged_back"},
      {"o9", "i1", "c1", "b1", "failed"},    {"o10", "i2", "c1", "b1", "paid"},
      {"o11", "i1", "c9", "b1", "paid"},
  };
  for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
    CHECK_INT(put(STORE_ORDERS, NULL, orders[i].id,
                  order(orders[i].inst, orders[i].coupon, orders[i].buyer, orders[i].status)),
              0);
  int64_t total = -1, mine = -1;
  shop_coupon_uses("i1", "c1", "b1", &total, &mine);
  CHECK_INT(total, 4);
  CHECK_INT(mine, 2);
  shop_coupon_uses("i1", "c1", "b2", &total, &mine);
  CHECK_INT(mine, 2);
  shop_coupon_uses("i1", "c1", NULL, &total, &mine);
  CHECK_INT(total, 4);
  CHECK_INT(mine, 0);
  shop_coupon_uses("i1", "nobody", "b1", &total, NULL);
  CHECK_INT(total, 0);

  int status = 12345;
  store_close(s, close_cb, &status);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_free(s);
  astra.store = NULL;
  CHECK_INT(status, 0);
  CHECK_INT(uv_loop_close(&loop), 0);
}
