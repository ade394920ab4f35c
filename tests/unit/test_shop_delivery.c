/* Unit tests for src/shop/delivery.c over a real store: the backoff stays within its bounds,
 * nonces are stable per seed and part and fit Discord's 25 characters, long texts split at
 * line breaks within 2000 UTF-16 units, the buyer's text carries the product's template with
 * the right decrypted keys (and nothing for an unpaid order), an entry fails after the last
 * attempt and fails its order, the seller's retry resets both once, and a delivery marks the
 * order delivered with its record. */
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
#define MINUTE (60 * 1000LL)
#define NOW 1800000000000LL

static void add_key(const char *id, const char *pid, const char *key) {
  put(STORE_STOCK, INST, id, shop_stock_record_new(id, pid, NULL, key, strlen(key), id, 1000));
}

static const char *field(enum store_coll c, const char *id, const char *k) {
  return json_string_value(json_object_get(store_get(astra.store, c, NULL, id), k));
}

static int setup(void) {
  if (fixture_open(0x22) != 0)
    return -1;
  put(STORE_INSTANCES, NULL, INST,
      json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", INST, "ownerId", "seller", "name", "Loja X",
                "settings", "logChannelId", "555"));
  put(STORE_PRODUCTS, INST, "p1",
      json_pack("{s:s, s:s, s:I, s:b, s:[], s:s}", "id", "p1", "name", "Chave Steam",
                "priceCents", (json_int_t)1990, "active", 1, "variations", "dmTemplate",
                "Oi {comprador}! {pedido} de {loja}:\n{chave}"));
  add_key("s1", "p1", "AAAA-1111");
  add_key("s2", "p1", "BBBB-2222");
  add_key("s3", "p1", "CCCC-3333");
  return 0;
}

/* A paid order of qty keys of p1; its id into id. */
static int paid_order(int qty, char id[37], char code[9], const char *payment) {
  struct shop_line line = {"p1", NULL, qty};
  struct shop_checkout in = {INST, "777", "comprador", NULL, &line, 1, NULL, NOW, 30 * MINUTE};
  struct shop_checkout_result r;
  struct store_txn *t = store_begin(astra.store);
  if (shop_checkout(t, &in, &r) != 0 || commit(t) != 0)
    return -1;
  memcpy(id, r.order_id, 37);
  memcpy(code, r.code, 9);
  struct shop_payment_seen p = {"mercadopago", payment, "approved", r.total_cents, "BRL"};
  struct shop_fees fees = {0, 0};
  t = store_begin(astra.store);
  if (shop_order_paid(t, id, &p, &fees, NOW + MINUTE) != SHOP_PAID_FULFILLED)
    return -1;
  return commit(t);
}

TEST(backoff_bounds) {
  CHECK_INT(shop_delivery_backoff_ms(1, 0), 2500);
  CHECK_INT(shop_delivery_backoff_ms(1, 2500), 5000);
  CHECK_INT(shop_delivery_backoff_ms(2, 0), 5000);
  CHECK_INT(shop_delivery_backoff_ms(3, 0xffffffffu) <= 20000, 1);
  CHECK_INT(shop_delivery_backoff_ms(3, 0xffffffffu) >= 10000, 1);
  for (int a = 1; a < 40; a++) {
    int64_t d = shop_delivery_backoff_ms(a, (uint32_t)a * 2654435761u);
    CHECK(d >= 2500 && d <= SHOP_DELIVERY_BACKOFF_CAP_MS);
  }
  CHECK(shop_delivery_backoff_ms(30, 0) >= SHOP_DELIVERY_BACKOFF_CAP_MS / 2);
}

TEST(nonce_is_stable_and_short) {
  char a[SHOP_NONCE_LEN + 1], b[SHOP_NONCE_LEN + 1], c[SHOP_NONCE_LEN + 1];
  shop_delivery_nonce("dm-123", 0, a);
  shop_delivery_nonce("dm-123", 0, b);
  CHECK_STR(a, b);
  CHECK_INT(strlen(a), 24);
  shop_delivery_nonce("dm-123", 1, c);
  CHECK(strcmp(a, c) != 0);
  shop_delivery_nonce("dm-124", 0, c);
  CHECK(strcmp(a, c) != 0);
}

TEST(split_at_line_breaks) {
  size_t off[8], len[8];
  CHECK_INT(shop_delivery_split("curto", 2000, off, len, 8), 1);
  CHECK_INT(len[0], 5);
  /* 30 lines of 99 characters + newline: 3000 characters */
  char *big = malloc(3001);
  for (int i = 0; i < 30; i++) {
    memset(big + i * 100, 'a' + i % 26, 99);
    big[i * 100 + 99] = '\n';
  }
  big[3000] = '\0';
  size_t n = shop_delivery_split(big, 2000, off, len, 8);
  CHECK_INT(n, 2);
  CHECK_INT(len[0], 1999); /* 20 lines, the last newline dropped */
  CHECK(big[off[1]] == 'a' + 20);
  CHECK_INT(off[1] + len[1], 2999);
  CHECK_INT(shop_delivery_split(big, 200, off, len, 8), 0); /* would need 15 parts */
  free(big);
  /* an emoji is two UTF-16 units: 1001 of them do not fit in 2000 */
  char *emo = malloc(1001 * 4 + 1);
  for (int i = 0; i < 1001; i++)
    memcpy(emo + i * 4, "\xf0\x9f\x94\x91", 4);
  emo[1001 * 4] = '\0';
  CHECK_INT(shop_delivery_split(emo, 2000, off, len, 8), 2);
  CHECK_INT(len[0], 1000 * 4);
  free(emo);
}

TEST(text_has_template_and_keys) {
  CHECK_INT(setup(), 0);
  char id[37], code[9];
  CHECK_INT(paid_order(2, id, code, "9001"), 0);
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, id);
  char *keys = shop_delivery_keys(o);
  CHECK(keys != NULL);
  /* two different keys of the three, the ones the order's stock ids name */
  CHECK_INT(strlen(keys), 19);
  CHECK(keys[9] == '\n' && strncmp(keys, keys + 10, 9) != 0);
  const json_t *sid = json_array_get(json_object_get(o, "stockIds"), 0);
  const char *first = json_string_value(sid);
  CHECK(first && keys[0] == "ABC"[first[1] - '1']);
  char *text = shop_delivery_text(o);
  char want[200];
  snprintf(want, sizeof want, "Oi <@777>! %s de Loja X:\n%s", code, keys);
  free(keys);
  CHECK_STR(text, want);
  free(text);
  char *log = shop_delivery_log_text(o, "sale", "pt-BR");
  CHECK(strstr(log, code) && strstr(log, "Chave Steam ×2") && strstr(log, "R$ 39,80") &&
        strstr(log, "<@777>") && !strstr(log, "AAAA"));
  free(log);
  /* the entries were written by the payment: dm and log (p1 was never posted: no post
   * entry) */
  char ids[8][72];
  CHECK_INT(shop_outbox_due(NOW + 2 * MINUTE, ids, 8), 2);
  CHECK_INT(shop_outbox_due(NOW, ids, 8), 0);
  /* a pending (unpaid) order has no text */
  struct shop_line line = {"p1", NULL, 1};
  struct shop_checkout in = {INST, "888", "x", NULL, &line, 1, NULL, NOW, 30 * MINUTE};
  struct shop_checkout_result r;
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_checkout(t, &in, &r), 0);
  CHECK_INT(commit(t), 0);
  CHECK(shop_delivery_text(store_get(astra.store, STORE_ORDERS, NULL, r.order_id)) == NULL);
  teardown();
}

static int not_e1_e2(const json_t *e, void *arg) {
  (void)arg;
  const char *id = json_string_value(json_object_get(e, "id"));
  return strcmp(id, "e1") && strcmp(id, "e2");
}

/* The oldest due first (ties by id), only as many as asked, none not yet due or not pending. */
TEST(due_entries_oldest_first_bounded) {
  CHECK_INT(setup(), 0);
  static const struct {
    const char *id, *status;
    long long at;
  } rows[] = {{"e5", "pending", NOW - 5}, {"e1", "pending", NOW - 9}, {"e9", "done", NOW - 99},
              {"e3", "pending", NOW - 7}, {"e2", "pending", NOW - 9}, {"e7", "pending", NOW + 1},
              {"e4", "pending", NOW - 1}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    put(STORE_OUTBOX, NULL, rows[i].id,
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", rows[i].id, "type", "dm", "instanceId",
                  INST, "status", rows[i].status, "nextAt", (json_int_t)rows[i].at));
  char ids[8][72];
  CHECK_INT(shop_outbox_due(NOW, ids, 8), 5);
  CHECK_STR(ids[0], "e1");
  CHECK_STR(ids[1], "e2");
  CHECK_STR(ids[2], "e3");
  CHECK_STR(ids[3], "e5");
  CHECK_STR(ids[4], "e4");
  CHECK_INT(shop_outbox_due(NOW, ids, 3), 3);
  CHECK_STR(ids[0], "e1");
  CHECK_STR(ids[1], "e2");
  CHECK_STR(ids[2], "e3");
  CHECK_INT(shop_outbox_due(NOW, ids, 1), 1);
  CHECK_STR(ids[0], "e1");
  CHECK_INT(shop_outbox_due(NOW, ids, 0), 0);
  /* entries that cannot be sent now do not take the places of those that can */
  CHECK_INT(shop_outbox_due_if(NOW, ids, 2, not_e1_e2, NULL), 2);
  CHECK_STR(ids[0], "e3");
  CHECK_STR(ids[1], "e5");
  teardown();
}

TEST(fail_until_failed_then_retry_then_deliver) {
  CHECK_INT(setup(), 0);
  char id[37], code[9], dm[80];
  CHECK_INT(paid_order(1, id, code, "9002"), 0);
  snprintf(dm, sizeof dm, "dm-%s", id);
  int64_t now = NOW + 2 * MINUTE;
  for (int i = 1; i <= SHOP_DELIVERY_MAX_ATTEMPTS; i++) {
    struct store_txn *t = store_begin(astra.store);
    int dead = shop_outbox_fail(t, dm, "HTTP 500", now, 7);
    CHECK_INT(commit(t), 0);
    CHECK_INT(dead, i == SHOP_DELIVERY_MAX_ATTEMPTS);
    const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, dm);
    CHECK_INT(json_integer_value(json_object_get(e, "attempts")), i);
    if (!dead)
      CHECK(json_integer_value(json_object_get(e, "nextAt")) > now);
  }
  CHECK_STR(field(STORE_OUTBOX, dm, "status"), "failed");
  CHECK_STR(field(STORE_OUTBOX, dm, "lastError"), "HTTP 500");
  CHECK_STR(field(STORE_ORDERS, id, "status"), "failed");
  json_t *v = shop_delivery_view(id);
  CHECK_STR(json_string_value(json_object_get(v, "status")), "failed");
  CHECK_INT(json_integer_value(json_object_get(v, "attempts")), 8);
  json_decref(v);
  /* the seller retries: back to pending and paid; a second retry has nothing to do */
  struct store_txn *t = store_begin(astra.store);
  CHECK_INT(shop_delivery_retry(t, id, now + MINUTE), 1);
  CHECK_INT(commit(t), 0);
  CHECK_STR(field(STORE_OUTBOX, dm, "status"), "pending");
  CHECK_INT(json_integer_value(json_object_get(store_get(astra.store, STORE_OUTBOX, NULL, dm),
                                               "attempts")),
            0);
  CHECK_STR(field(STORE_ORDERS, id, "status"), "paid");
  t = store_begin(astra.store);
  CHECK_INT(shop_delivery_retry(t, id, now + MINUTE), 0);
  store_abort(t);
  /* delivered: entry done, order delivered, the record */
  t = store_begin(astra.store);
  shop_delivery_done(t, dm, "cart", "c-1", "m-1", now + 2 * MINUTE);
  CHECK_INT(commit(t), 0);
  CHECK_STR(field(STORE_OUTBOX, dm, "status"), "done");
  CHECK_STR(field(STORE_ORDERS, id, "status"), "delivered");
  CHECK_STR(field(STORE_DELIVERIES, id, "channel"), "cart");
  CHECK_STR(field(STORE_DELIVERIES, id, "messageId"), "m-1");
  v = shop_delivery_view(id);
  CHECK_STR(json_string_value(json_object_get(v, "status")), "done");
  CHECK_STR(json_string_value(json_object_get(v, "channel")), "cart");
  CHECK(json_is_null(json_object_get(v, "lastError")));
  json_decref(v);
  const json_t *tl = json_object_get(store_get(astra.store, STORE_ORDERS, NULL, id), "timeline");
  const json_t *last = json_array_get(tl, json_array_size(tl) - 1);
  CHECK_STR(json_string_value(json_object_get(last, "detail")), "cart");
  /* no view for an order without entries */
  CHECK(json_is_null(shop_delivery_view("nope")));
  teardown();
}
