/* Unit tests of the read side of orders and customers (src/shop/order_view.c): status
 * names, filter matching (any case, UTF-8 intact), query text checks, cursors (round trip
 * and refusal of anything encode would not make), seller views without internal fields,
 * and pages over a real store: newest first, ties broken by id, every match exactly once,
 * other instances left out. */
#include "core/app.h"
#include "harness.h"
#include "shop/order.h"
#include "shop/shop.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(status_names_round_trip) {
  static const char *const names[] = {"pending", "paid",      "delivered", "waiting_stock",
                                      "failed",  "expired",   "cancelled", "refunded",
                                      "charged_back"};
  CHECK_INT(sizeof names / sizeof names[0], SHOP_ORDER_STATUS_COUNT);
  for (int i = 0; i < SHOP_ORDER_STATUS_COUNT; i++) {
    CHECK_STR(shop_order_status_name((enum shop_order_status)i), names[i]);
    CHECK_INT(shop_order_status_parse(names[i]), i);
  }
  CHECK_INT(shop_order_status_parse("PAID"), -1);
  CHECK_INT(shop_order_status_parse("paid "), -1);
  CHECK_INT(shop_order_status_parse(""), -1);
  CHECK_INT(shop_order_status_parse(NULL), -1);
  CHECK_STR(shop_order_status_name(SHOP_ORDER_STATUS_COUNT), "?");
}

static json_t *order(const char *code, const char *status, const char *buyer, const char *name,
                     const char *product, long long at) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:[{s:s, s:i}]}", "instanceId", "inst-a",
                   "code", code, "status", status, "buyerId", buyer, "buyerName", name,
                   "createdAt", (json_int_t)at, "items", "productName", product, "quantity", 1);
}

TEST(filter_matching) {
  json_t *o = order("K7M2Q9XA", "paid", "123456789012345678", "João Ñandú", "Conta Premium",
                    1000);
  struct shop_order_filter f;
  shop_order_filter_init(&f);
  CHECK(shop_order_match(o, &f));
  f.status = SHOP_ORDER_PAID;
  CHECK(shop_order_match(o, &f));
  f.status = SHOP_ORDER_DELIVERED;
  CHECK(!shop_order_match(o, &f));
  shop_order_filter_init(&f);
  /* q on the code, the buyer's name and id, a product's name, any ASCII case */
  static const char *const hits[] = {"k7m2",  "Q9XA", "joão", "JOãO", "Ñandú",
                                     "456789", "premium", "CONTA PREM", ""};
  for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
    f.q = hits[i];
    if (!shop_order_match(o, &f))
      harness_fail(__FILE__, __LINE__, "q \"%s\" should match", hits[i]);
  }
  /* non-ASCII letters are compared as bytes: no false folding, no half characters */
  static const char *const misses[] = {"ñandú", "JOÃO", "JOAO", "basic", "K7M2Q9XAB"};
  for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
    f.q = misses[i];
    if (shop_order_match(o, &f))
      harness_fail(__FILE__, __LINE__, "q \"%s\" should not match", misses[i]);
  }
  /* dates: both ends inclusive */
  shop_order_filter_init(&f);
  f.from_ms = 1000;
  f.to_ms = 1000;
  CHECK(shop_order_match(o, &f));
  f.from_ms = 1001;
  f.to_ms = -1;
  CHECK(!shop_order_match(o, &f));
  f.from_ms = -1;
  f.to_ms = 999;
  CHECK(!shop_order_match(o, &f));
  /* combined: every condition must hold */
  f.to_ms = 2000;
  f.status = SHOP_ORDER_PAID;
  f.q = "premium";
  CHECK(shop_order_match(o, &f));
  f.q = "outro";
  CHECK(!shop_order_match(o, &f));
  json_decref(o);

  json_t *c = json_pack("{s:s, s:s}", "discordId", "998877", "username", "Comprador_X");
  CHECK(shop_order_customer_match(c, "comprador_x"));
  CHECK(shop_order_customer_match(c, "8877"));
  CHECK(shop_order_customer_match(c, NULL));
  CHECK(!shop_order_customer_match(c, "outro"));
  json_decref(c);
}

TEST(query_text_checks) {
  CHECK(shop_order_q_valid(""));
  CHECK(shop_order_q_valid("conta premium"));
  CHECK(shop_order_q_valid("ação \xf0\x9f\x98\x80"));
  CHECK(!shop_order_q_valid("a\tb"));
  CHECK(!shop_order_q_valid("\xc3"));         /* truncated */
  CHECK(!shop_order_q_valid("\xc0\xaf"));     /* overlong */
  CHECK(!shop_order_q_valid("\xed\xa0\x80")); /* surrogate */
  char q[512];
  memset(q, 'a', 100);
  q[100] = '\0';
  CHECK(shop_order_q_valid(q));
  strcpy(q + 100, "b");
  CHECK(!shop_order_q_valid(q));
  /* 100 characters of two bytes each are still 100 characters */
  q[0] = '\0';
  for (int i = 0; i < 100; i++)
    strcat(q, "ç");
  CHECK(shop_order_q_valid(q));

  int64_t v = -5;
  CHECK(shop_order_parse_uint("0", &v) && v == 0);
  CHECK(shop_order_parse_uint("1763800000000", &v) && v == 1763800000000LL);
  CHECK(shop_order_parse_uint("9007199254740991", &v) && v == 9007199254740991LL);
  static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "01", "1e3", "1.0", "0x10",
                                    "9007199254740992", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (shop_order_parse_uint(bad[i], &v))
      harness_fail(__FILE__, __LINE__, "\"%s\" should not parse", bad[i]);
}

TEST(cursor_round_trip_and_rejection) {
  char cur[SHOP_ORDER_CURSOR_MAX], id[65];
  int64_t at = -1;
  CHECK_INT(shop_order_cursor_encode(1763800000000LL, "6f0c-a_b", cur), 0);
  CHECK_INT(shop_order_cursor_decode(cur, &at, id), 0);
  CHECK_INT(at, 1763800000000LL);
  CHECK_STR(id, "6f0c-a_b");
  /* the longest id and time fit */
  char longid[65];
  memset(longid, 'z', 64);
  longid[64] = '\0';
  CHECK_INT(shop_order_cursor_encode(9007199254740991LL, longid, cur), 0);
  CHECK_INT(shop_order_cursor_decode(cur, &at, id), 0);
  CHECK_STR(id, longid);
  CHECK_INT(shop_order_cursor_encode(0, "x", cur), 0);
  CHECK_INT(shop_order_cursor_decode(cur, &at, id), 0);
  CHECK_INT(at, 0);
  /* what encode refuses */
  CHECK_INT(shop_order_cursor_encode(-1, "x", cur), -1);
  CHECK_INT(shop_order_cursor_encode(1, "", cur), -1);
  CHECK_INT(shop_order_cursor_encode(1, "a/b", cur), -1);

  /* base64url of texts that are not "<ms>:<id>", and texts that are not base64url */
  static const char *const plains[] = {"1763800000000", ":abc", "12:", "012:abc", "-1:abc",
                                       "1:a/b",         "1:a:b", "1 :abc", "99999999999999999:a"};
  for (size_t i = 0; i < sizeof plains / sizeof plains[0]; i++) {
    char enc[SHOP_ORDER_CURSOR_MAX];
    /* base64url by hand: encode() itself refuses these texts */
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = (const unsigned char *)plains[i];
    size_t n = strlen(plains[i]), o = 0;
    for (size_t k = 0; k < n; k += 3) {
      unsigned w = (unsigned)in[k] << 16 | (k + 1 < n ? (unsigned)in[k + 1] << 8 : 0) |
                   (k + 2 < n ? in[k + 2] : 0);
      enc[o++] = al[w >> 18 & 63];
      enc[o++] = al[w >> 12 & 63];
      if (k + 1 < n)
        enc[o++] = al[w >> 6 & 63];
      if (k + 2 < n)
        enc[o++] = al[w & 63];
    }
    enc[o] = '\0';
    if (shop_order_cursor_decode(enc, &at, id) == 0)
      harness_fail(__FILE__, __LINE__, "cursor of \"%s\" accepted", plains[i]);
  }
  CHECK_INT(shop_order_cursor_encode(42, "abcd", cur), 0); /* 7 bytes: trailing bits */
  char bad[SHOP_ORDER_CURSOR_MAX + 8];
  snprintf(bad, sizeof bad, "%s=", cur); /* padding */
  CHECK_INT(shop_order_cursor_decode(bad, &at, id), -1);
  snprintf(bad, sizeof bad, "%s", cur);
  bad[0] = '+'; /* standard base64, not url */
  CHECK_INT(shop_order_cursor_decode(bad, &at, id), -1);
  snprintf(bad, sizeof bad, "%sA", cur); /* one character too many */
  CHECK_INT(shop_order_cursor_decode(bad, &at, id), -1);
  /* same bytes, different trailing bits: not canonical */
  snprintf(bad, sizeof bad, "%s", cur);
  size_t len = strlen(bad);
  CHECK(len % 4 != 0);
  bad[len - 1] = bad[len - 1] == 'A' ? 'B' : (char)(bad[len - 1] + 1);
  CHECK_INT(shop_order_cursor_decode(bad, &at, id), -1);
  CHECK_INT(shop_order_cursor_decode("", &at, id), -1);
  CHECK_INT(shop_order_cursor_decode(NULL, &at, id), -1);
  CHECK_INT(shop_order_cursor_decode("not a cursor", &at, id), -1);
  char huge[400];
  memset(huge, 'Q', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  CHECK_INT(shop_order_cursor_decode(huge, &at, id), -1);
}

TEST(seller_view_drops_internal_fields) {
  json_t *rec = json_loads(
      "{\"id\":\"o1\",\"instanceId\":\"inst-a\",\"code\":\"K7M2Q9XA\",\"status\":\"delivered\","
      "\"buyerId\":\"1\",\"buyerName\":\"b\",\"stockIds\":[\"s1\"],\"couponId\":\"c1\","
      "\"coupon\":{\"id\":\"c1\",\"code\":\"BEMVINDO\",\"secret\":1},"
      "\"items\":[{\"productId\":\"p\",\"productName\":\"Conta\",\"quantity\":1,"
      "\"unitCents\":1990,\"stockIds\":[\"s1\"],\"keys\":[\"AAAA-BBBB\"]}],"
      "\"payment\":{\"provider\":\"mercadopago\",\"id\":\"9\",\"status\":\"approved\","
      "\"qrCode\":\"000201...\",\"raw\":{\"x\":1}},"
      "\"subtotalCents\":1990,\"discountCents\":0,\"totalCents\":1990,\"currency\":\"BRL\","
      "\"createdAt\":5,\"timeline\":[{\"at\":5,\"status\":\"pending\",\"internal\":1},"
      "{\"at\":6,\"status\":\"delivered\",\"detail\":\"dm\"}]}",
      0, NULL);
  CHECK(rec);
  json_t *v = shop_order_view("o1", rec);
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  int ok = s && !strstr(s, "stockIds") && !strstr(s, "qrCode") && !strstr(s, "raw") &&
           !strstr(s, "AAAA") && !strstr(s, "instanceId") && !strstr(s, "secret") &&
           !strstr(s, "internal") && !strstr(s, "couponId");
  if (!ok)
    harness_fail(__FILE__, __LINE__, "internal field in %s", s ? s : "(null)");
  free(s);
  CHECK_STR(json_string_value(json_object_get(json_object_get(v, "payment"), "status")),
            "approved");
  CHECK_STR(json_string_value(json_object_get(json_object_get(v, "coupon"), "code")),
            "BEMVINDO");
  /* every documented field is there, null when the record lacks it */
  CHECK(json_is_null(json_object_get(v, "paidAt")));
  json_t *item = json_array_get(json_object_get(v, "items"), 0);
  CHECK(json_is_null(json_object_get(item, "variationId")));
  CHECK_INT(json_object_size(item), 6);
  CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(v, "timeline"), 1),
                                              "detail")),
            "dm");
  CHECK(json_is_null(json_object_get(v, "delivery"))); /* no outbox entry for it */
  CHECK_INT(json_object_size(v), 17);
  json_decref(v);
  json_decref(rec);

  json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:s}", "instanceId", "inst-a",
                        "discordId", "9", "username", "u", "firstPurchaseAt", 1,
                        "lastPurchaseAt", 2, "orderCount", 3, "totalSpentCents", 4, "note", "x");
  v = shop_order_customer_view("c1", c);
  CHECK_INT(json_object_size(v), 7);
  CHECK(!json_object_get(v, "instanceId") && !json_object_get(v, "note"));
  CHECK_STR(json_string_value(json_object_get(v, "id")), "c1");
  json_decref(v);
  json_decref(c);
}

/* ---- pages over a real store ---- */

static uv_loop_t loop;

static int open_store(void) {
  char err[512];
  struct store_options o = {.dir = harness_tmpdir(), .loop = &loop};
  uv_loop_init(&loop);
  if (store_open(&astra.store, &o, err, sizeof err) != 0 || shop_init(err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}

static void closed(int status, void *arg) {
  (void)status;
  (void)arg;
}

static void close_store(void) {
  store_close(astra.store, closed, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_free(astra.store);
  astra.store = NULL;
  uv_loop_close(&loop);
}

/* 60 orders of inst-a (times repeat so that ties need the id), 10 of inst-b. */
static void seed(void) {
  struct store_txn *t = store_begin(astra.store);
  for (int i = 0; i < 70; i++) {
    char id[16], code[16];
    snprintf(id, sizeof id, "o%02d", i);
    snprintf(code, sizeof code, "CODE%02d", i);
    json_t *o = order(code, i % 3 ? "paid" : "delivered", i % 2 ? "111" : "222", "b",
                      i % 5 ? "Conta" : "Gift Card", 1000 + (i % 20) * 10);
    json_object_set_new(o, "instanceId", json_string(i < 60 ? "inst-a" : "inst-b"));
    store_put(t, STORE_ORDERS, NULL, id, o);
  }
  for (int i = 0; i < 5; i++) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    store_put(t, STORE_CUSTOMERS, NULL, id,
              json_pack("{s:s, s:s, s:s, s:i}", "instanceId", i < 4 ? "inst-a" : "inst-b",
                        "discordId", i % 2 ? "111" : "222", "username", "u", "lastPurchaseAt",
                        100 - i * 10));
  }
  store_commit(t, NULL, NULL);
}

TEST(pages_newest_first_every_match_once) {
  CHECK(open_store() == 0);
  seed();
  struct shop_order_filter f;
  shop_order_filter_init(&f);
  char cursor[SHOP_ORDER_CURSOR_MAX] = "";
  int seen[70] = {0}, pages = 0, bad = 0;
  long long prev_at = -1;
  char prev_id[16] = "";
  do {
    struct shop_order_page p;
    if (shop_order_list("inst-a", &f, cursor[0] ? cursor : NULL, 7, &p) != 0) {
      bad = 1;
      break;
    }
    if (p.total != 60)
      bad = 2;
    size_t i;
    json_t *o;
    json_array_foreach(p.items, i, o) {
      const char *id = json_string_value(json_object_get(o, "id"));
      long long at = json_integer_value(json_object_get(o, "createdAt"));
      int k = atoi(id + 1);
      if (k >= 60 || seen[k]++)
        bad = 3;
      /* newest first, then id descending */
      if (prev_at >= 0 && (at > prev_at || (at == prev_at && strcmp(id, prev_id) >= 0)))
        bad = 4;
      prev_at = at;
      snprintf(prev_id, sizeof prev_id, "%s", id);
    }
    snprintf(cursor, sizeof cursor, "%s", p.next);
    shop_order_page_free(&p);
    pages++;
  } while (cursor[0] && pages < 100);
  for (int k = 0; k < 60; k++)
    if (seen[k] != 1)
      bad = 5;
  close_store();
  CHECK_INT(bad, 0);
  CHECK_INT(pages, 9); /* 60 / 7, rounded up */
}

TEST(pages_filtered_and_customers) {
  CHECK(open_store() == 0);
  seed();
  struct shop_order_filter f;
  shop_order_filter_init(&f);
  f.status = SHOP_ORDER_DELIVERED;
  f.q = "gift";
  struct shop_order_page p;
  int rc = shop_order_list("inst-a", &f, NULL, 100, &p);
  /* delivered: i % 3 == 0; gift: i % 5 == 0; so i % 15 == 0 below 60 */
  size_t total = p.total, n = json_array_size(p.items);
  int last = p.next[0] == '\0';
  shop_order_page_free(&p);
  /* a bad cursor is refused, not read as "from the start" */
  int rc_bad = shop_order_list("inst-a", &f, "bm90LWEtY3Vyc29y", 10, &p);
  shop_order_page_free(&p);
  int rc_lim = shop_order_list("inst-a", &f, NULL, 101, &p);
  shop_order_page_free(&p);

  rc |= shop_order_customer_list("inst-a", NULL, NULL, 3, &p);
  size_t ctotal = p.total;
  const char *first = json_string_value(json_object_get(json_array_get(p.items, 0), "id"));
  int first_ok = first && !strcmp(first, "c0");
  char next[SHOP_ORDER_CURSOR_MAX];
  snprintf(next, sizeof next, "%s", p.next);
  shop_order_page_free(&p);
  rc |= shop_order_customer_list("inst-a", NULL, next, 3, &p);
  size_t rest = json_array_size(p.items);
  shop_order_page_free(&p);

  json_t *mine = shop_order_of_buyer("inst-a", "111");
  size_t nmine = json_array_size(mine);
  json_decref(mine);
  const json_t *other = shop_order_get("inst-a", "o65");
  const json_t *own = shop_order_get("inst-a", "o05");
  const json_t *cust_other = shop_order_customer_get("inst-a", "c4");
  close_store();
  CHECK_INT(rc, 0);
  CHECK_INT(total, 4);
  CHECK_INT(n, 4);
  CHECK(last);
  CHECK_INT(rc_bad, -1);
  CHECK_INT(rc_lim, -1);
  CHECK_INT(ctotal, 4);
  CHECK(first_ok);
  CHECK_INT(rest, 1);
  CHECK_INT(nmine, 30); /* odd i below 60 */
  CHECK(other == NULL);
  CHECK(own != NULL);
  CHECK(cust_other == NULL);
}
