/* Unit tests for src/shop/sale.c over a real store: checkout reserves exactly the keys it
 * needs (with the coupon's discount), a payment fulfils an order once (keys sold, wallet
 * credit and fee, outbox, customer) however often it is confirmed, a wrong amount changes
 * nothing, two buyers race for the last key, a late Pix waits for stock and a restock
 * serves it first, and a refund reverses the money. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "harness.h"
#include "shop_fixture.h"
#include "shop/delivery.h"
#include "shop/sale.h"
#include "shop/shop.h"
#include "shop/stock.h"

#define INST "inst-1"
#define OWNER "seller-1"
#define MINUTE (60 * 1000LL)

static void add_key(const char *id, const char *pid, const char *vid) {
  json_t *rec = shop_stock_record_new(id, pid, vid, id, strlen(id), id, 1000);
  put(STORE_STOCK, INST, id, rec);
}

static const char *status_of(enum store_coll c, const char *scope, const char *id) {
  return json_string_value(json_object_get(store_get(astra.store, c, scope, id), "status"));
}

static size_t count_stock(const char *status) {
  struct shop_stock_tally t = {0};
  shop_stock_tally(INST, NULL, &t);
  size_t n = 0;
  for (size_t i = 0; i < t.nrows; i++)
    n += !strcmp(status, "available") ? t.rows[i].n.available
         : !strcmp(status, "reserved") ? t.rows[i].n.reserved
                                       : t.rows[i].n.sold;
  shop_stock_tally_free(&t);
  return n;
}

static int setup(void) {
  if (fixture_open(0x11) != 0)
    return -1;
  put(STORE_INSTANCES, NULL, INST,
      json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", INST, "ownerId", OWNER, "name", "Loja",
                "settings", "logChannelId", "555"));
  /* p-var is posted in a channel, p-one is not */
  put(STORE_PRODUCTS, INST, "p-var",
      json_pack("{s:s, s:s, s:I, s:b, s:[{s:s, s:s, s:I, s:b}, {s:s, s:s, s:I, s:b}], "
                "s:{s:s, s:s}}",
                "id", "p-var", "name", "Conta", "priceCents", (json_int_t)1000, "active", 1,
                "variations", "id", "v30", "name", "30 dias", "priceCents", (json_int_t)1000,
                "active", 1, "id", "v90", "name", "90 dias", "priceCents", (json_int_t)2500,
                "active", 0, "post", "channelId", "900", "messageId", "901"));
  put(STORE_PRODUCTS, INST, "p-one",
      json_pack("{s:s, s:s, s:I, s:b, s:[]}", "id", "p-one", "name", "Chave", "priceCents",
                (json_int_t)500, "active", 1, "variations"));
  put(STORE_COUPONS, INST, "c10",
      json_pack("{s:s, s:s, s:s, s:s, s:I, s:[], s:n, s:n, s:n, s:n, s:b}", "id", "c10",
                "code",
                "DEZ", "codeKey", INST ":DEZ", "type", "percent", "value", (json_int_t)10, "productIds",
                "maxUses", "maxUsesPerBuyer", "validFrom", "validUntil", "active", 1));
  add_key("k1", "p-var", "v30");
  add_key("k2", "p-var", "v30");
  add_key("k3", "p-var", "v30");
  add_key("k4", "p-one", NULL);
  return 0;
}

static struct shop_checkout_result checkout(const char *buyer, const char *pid, const char *vid,
                                            int qty, const char *coupon, int64_t now) {
  struct shop_line line = {pid, vid, qty};
  struct shop_checkout in = {INST, buyer, "comprador", NULL, &line, 1, coupon, now, 30 * MINUTE};
  struct shop_checkout_result r;
  struct store_txn *t = store_begin(astra.store);
  if (shop_checkout(t, &in, &r) == 0)
    commit(t);
  else
    store_abort(t);
  return r;
}

static const struct shop_fees platform_fees = {500, 30}; /* 5% + R$ 0,30 */

static enum shop_paid_outcome pay(const char *order_id, int64_t cents, const char *payment_id,
                                  int64_t now) {
  struct shop_payment_seen p = {"mercadopago", payment_id, "approved", cents, "BRL"};
  struct store_txn *t = store_begin(astra.store);
  enum shop_paid_outcome o = shop_order_paid(t, order_id, &p, &platform_fees, now);
  if (commit(t) != 0)
    return SHOP_PAID_ERROR;
  return o;
}

TEST(fee_rounding) {
  struct shop_fees f = {500, 0};
  CHECK_INT(shop_fee_cents(&f, 1800), 90);
  CHECK_INT(shop_fee_cents(&f, 19), 0); /* rounds down */
  CHECK_INT(shop_fee_cents(&f, 0), 0);
  f.fixed_cents = 100;
  CHECK_INT(shop_fee_cents(&f, 50), 50); /* never more than the total */
  f.percent_bp = 499;
  CHECK_INT(shop_fee_cents(&f, 100000000000LL), 4990000000LL + 100);
}

static int64_t rev_of(const char *id) {
  return (int64_t)json_integer_value(
      json_object_get(store_get(astra.store, STORE_OUTBOX, NULL, id), "rev"));
}

static void outbox_done(const char *id) {
  struct store_txn *t = store_begin(astra.store);
  shop_outbox_done(t, id, 0);
  commit(t);
}

/* Every change a post shows queues post-<product>, only for a posted product, with a rev
 * that grows so the worker can tell an edit overtaken by a newer change. */
TEST(post_entries_follow_the_stock) {
  CHECK_INT(setup(), 0);
  int64_t now = 1800000000000LL;
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_outbox_post_update(t, INST, "p-one", now), 0); /* never posted */
  CHECK_INT(shop_outbox_post_update(t, INST, "nope", now), 0);
  CHECK_INT(shop_outbox_post_update(t, INST, "p-var", now), 1);
  CHECK_INT(shop_outbox_post_update(t, INST, "p-var", now), 1); /* same txn: same write */
  CHECK_INT(commit(t), 0);
  CHECK(!store_get(astra.store, STORE_OUTBOX, NULL, "post-p-one"));
  CHECK_STR(status_of(STORE_OUTBOX, NULL, "post-p-var"), "pending");
  CHECK_INT(rev_of("post-p-var"), 1);
  outbox_done("post-p-var");

  /* checkout reserves: the post's count drops */
  struct shop_checkout_result r = checkout("buyer-a", "p-var", "v30", 1, NULL, now);
  CHECK_INT(r.error, SHOP_SALE_OK);
  CHECK_STR(status_of(STORE_OUTBOX, NULL, "post-p-var"), "pending");
  CHECK_INT(rev_of("post-p-var"), 2);
  outbox_done("post-p-var");

  /* the reservation released: back on the post */
  t = store_begin(astra.store);
  CHECK_INT(shop_order_release(t, r.order_id, "expired", now + MINUTE), 1);
  CHECK_INT(commit(t), 0);
  CHECK_STR(status_of(STORE_OUTBOX, NULL, "post-p-var"), "pending");
  CHECK_INT(rev_of("post-p-var"), 3);
  CHECK_INT(count_stock("reserved"), 0);

  /* a product without a post never gets an entry, not even from a sale */
  r = checkout("buyer-b", "p-one", NULL, 1, NULL, now);
  CHECK_INT(pay(r.order_id, 500, "p1", now + MINUTE), SHOP_PAID_FULFILLED);
  CHECK(!store_get(astra.store, STORE_OUTBOX, NULL, "post-p-one"));
  teardown();
}

TEST(checkout_pay_once_and_refund) {
  CHECK_INT(setup(), 0);
  int64_t now = 1800000000000LL;
  struct shop_checkout_result r = checkout("buyer-a", "p-var", "v30", 2, "dez", now);
  CHECK_INT(r.error, SHOP_SALE_OK);
  CHECK_INT(r.subtotal_cents, 2000);
  CHECK_INT(r.discount_cents, 200);
  CHECK_INT(r.total_cents, 1800);
  CHECK_INT(strlen(r.code), 8);
  CHECK_INT(count_stock("reserved"), 2);
  CHECK_STR(status_of(STORE_ORDERS, NULL, r.order_id), "pending");
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, r.order_id);
  CHECK_STR(json_string_value(json_object_get(o, "couponId")), "c10");
  CHECK_INT(json_array_size(json_object_get(o, "stockIds")), 2);

  /* a wrong amount or currency changes nothing */
  CHECK_INT(pay(r.order_id, 1700, "777", now + MINUTE), SHOP_PAID_MISMATCH);
  CHECK_STR(status_of(STORE_ORDERS, NULL, r.order_id), "pending");
  CHECK_INT(shop_wallet_balance(OWNER), 0);

  CHECK_INT(pay(r.order_id, 1800, "777", now + MINUTE), SHOP_PAID_FULFILLED);
  CHECK_STR(status_of(STORE_ORDERS, NULL, r.order_id), "paid");
  CHECK_INT(count_stock("sold"), 2);
  CHECK_INT(count_stock("reserved"), 0);
  CHECK_INT(shop_wallet_balance(OWNER), 1800 - (90 + 30));
  char id[80];
  snprintf(id, sizeof id, "dm-%s", r.order_id);
  CHECK_STR(status_of(STORE_OUTBOX, NULL, id), "pending");
  snprintf(id, sizeof id, "log-%s", r.order_id);
  CHECK_STR(status_of(STORE_OUTBOX, NULL, id), "pending");
  CHECK_STR(status_of(STORE_OUTBOX, NULL, "post-p-var"), "pending");
  const json_t *cust = store_get(astra.store, STORE_CUSTOMERS, NULL, INST "-buyer-a");
  CHECK_INT(json_integer_value(json_object_get(cust, "orderCount")), 1);
  CHECK_INT(json_integer_value(json_object_get(cust, "totalSpentCents")), 1800);
  CHECK(store_index_get(astra.store, STORE_ORDERS, "paymentId", "777", NULL) != NULL);

  /* the same confirmation again, ten times: nothing more */
  for (int i = 0; i < 10; i++)
    CHECK_INT(pay(r.order_id, 1800, "777", now + 2 * MINUTE), SHOP_PAID_ALREADY);
  CHECK_INT(shop_wallet_balance(OWNER), 1680);
  CHECK_INT(json_integer_value(json_object_get(
                store_get(astra.store, STORE_CUSTOMERS, NULL, INST "-buyer-a"), "orderCount")),
            1);

  /* refunded: the seller's credit goes back, the fee too; the keys are flagged */
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_order_reverse(t, r.order_id, "refunded", now + 3 * MINUTE), 1);
  CHECK_INT(commit(t), 0);
  CHECK_STR(status_of(STORE_ORDERS, NULL, r.order_id), "refunded");
  CHECK_INT(shop_wallet_balance(OWNER), 0);
  const json_t *k = store_get(astra.store, STORE_STOCK, INST,
                              json_string_value(json_array_get(json_object_get(
                                  store_get(astra.store, STORE_ORDERS, NULL, r.order_id),
                                  "stockIds"), 0)));
  CHECK_STR(json_string_value(json_object_get(k, "flag")), "refunded");
  /* the log channel's notice says what happened and that the keys were flagged */
  o = store_get(astra.store, STORE_ORDERS, NULL, r.order_id);
  char *log = shop_delivery_log_text(o, "refund", "pt-BR");
  CHECK(log && strstr(log, "↩️ Reembolso `") && strstr(log, "R$ 18,00 devolvidos") &&
        strstr(log, "\n2 chaves entregues marcadas (reembolso) no estoque."));
  free(log);
  log = shop_delivery_log_text(o, "chargeback", "en");
  CHECK(log && strstr(log, "⚠️ Chargeback `") && strstr(log, "R$18.00 returned") &&
        strstr(log, "2 delivered keys flagged (chargeback)"));
  free(log);
  snprintf(id, sizeof id, "logrev-%s", r.order_id);
  CHECK_STR(status_of(STORE_OUTBOX, NULL, id), "pending");
  t = store_begin(astra.store);
  CHECK_INT(shop_order_reverse(t, r.order_id, "refunded", now + 4 * MINUTE), 0);
  store_abort(t);
  teardown();
}

TEST(checkout_refusals) {
  CHECK_INT(setup(), 0);
  int64_t now = 1800000000000LL;
  CHECK_INT(checkout("b", "p-var", "v30", 4, NULL, now).error, SHOP_SALE_OUT_OF_STOCK);
  CHECK_INT(checkout("b", "p-var", "v90", 1, NULL, now).error, SHOP_SALE_UNAVAILABLE);
  CHECK_INT(checkout("b", "p-var", NULL, 1, NULL, now).error, SHOP_SALE_UNAVAILABLE);
  CHECK_INT(checkout("b", "p-one", "v30", 1, NULL, now).error, SHOP_SALE_UNAVAILABLE);
  CHECK_INT(checkout("b", "nope", NULL, 1, NULL, now).error, SHOP_SALE_UNAVAILABLE);
  CHECK_INT(checkout("b", "p-one", NULL, 0, NULL, now).error, SHOP_SALE_EMPTY);
  CHECK_INT(checkout("b", "p-one", NULL, 11, NULL, now).error, SHOP_SALE_EMPTY);
  struct shop_checkout_result r = checkout("b", "p-one", NULL, 1, "NADA", now);
  CHECK_INT(r.error, SHOP_SALE_COUPON);
  CHECK_INT(r.coupon_reason, SHOP_COUPON_UNKNOWN);
  /* nothing was reserved by the refusals */
  CHECK_INT(count_stock("reserved"), 0);
  CHECK_INT(count_stock("available"), 4);
  teardown();
}

TEST(race_for_the_last_key_late_pix_and_restock) {
  CHECK_INT(setup(), 0);
  int64_t now = 1800000000000LL;
  struct shop_checkout_result a = checkout("buyer-a", "p-one", NULL, 1, NULL, now);
  CHECK_INT(a.error, SHOP_SALE_OK);
  struct shop_checkout_result b = checkout("buyer-b", "p-one", NULL, 1, NULL, now);
  CHECK_INT(b.error, SHOP_SALE_OUT_OF_STOCK);
  /* A's reservation lapses; B gets the key */
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_order_release(t, a.order_id, "expired", now + 31 * MINUTE), 1);
  CHECK_INT(commit(t), 0);
  CHECK_STR(status_of(STORE_STOCK, INST, "k4"), "available");
  b = checkout("buyer-b", "p-one", NULL, 1, NULL, now + 32 * MINUTE);
  CHECK_INT(b.error, SHOP_SALE_OK);
  /* A pays late: honoured, but the key is B's: A waits for stock */
  CHECK_INT(pay(a.order_id, 500, "1001", now + 33 * MINUTE), SHOP_PAID_WAITING_STOCK);
  CHECK_STR(status_of(STORE_ORDERS, NULL, a.order_id), "waiting_stock");
  CHECK_STR(status_of(STORE_STOCK, INST, "k4"), "reserved");
  CHECK_INT(pay(b.order_id, 500, "1002", now + 34 * MINUTE), SHOP_PAID_FULFILLED);
  CHECK_STR(status_of(STORE_STOCK, INST, "k4"), "sold");
  /* both are credited: A paid */
  CHECK_INT(shop_wallet_balance(OWNER), 2 * (500 - 25 - 30));
  /* restock: A is served first, whole */
  add_key("k5", "p-one", NULL);
  t = store_begin(astra.store);
  CHECK_INT(shop_restock(t, INST, now + 40 * MINUTE), 1);
  CHECK_INT(commit(t), 0);
  CHECK_STR(status_of(STORE_ORDERS, NULL, a.order_id), "paid");
  CHECK_STR(status_of(STORE_STOCK, INST, "k5"), "sold");
  char id[80];
  snprintf(id, sizeof id, "dm-%s", a.order_id);
  CHECK_STR(status_of(STORE_OUTBOX, NULL, id), "pending");
  /* nothing left waiting */
  t = store_begin(astra.store);
  CHECK_INT(shop_restock(t, INST, now + 41 * MINUTE), 0);
  store_abort(t);
  /* a second payment id for the same order is refused by the unique index, never a double */
  CHECK_INT(pay(a.order_id, 500, "1003", now + 42 * MINUTE), SHOP_PAID_ALREADY);
  teardown();
}
