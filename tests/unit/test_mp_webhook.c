/* The webhook's classification (src/pay/webhook.c): signature before anything else, the
 * legacy IPN acknowledged unread, other topics and non-numeric ids ignored, and the tolerance
 * on ts. Signatures computed with Python's hmac under "unit-secret". */
#include <string.h>

#include "harness.h"
#include "pay/webhook.h"

#define SECRET "unit-secret"
#define NOW 1700000000000LL
#define SIG1 \
  "ts=1700000000000,v1=" \
  "6f893f886dc4d61250d10804411c46fa1ad3f5f76816f42f42f1bb68004a1c9e"
#define SIG_ORD \
  "ts=1700000000000,v1=" \
  "2d88843b79dc2ce20dd780ba7fdd9707ed26c128a1aa2649838eaaf45be8a778"
#define SIG_OLD \
  "ts=1699999000000,v1=" \
  "ffbc975eccc9476c587095847d61b706339495075afe7390651816a1f1200d6c"

TEST(signed_payment_is_read) {
  struct mp_webhook_in in = {"payment", NULL, "130000000001", SIG1, "req-1"};
  long long id = 0;
  enum mp_sig_result sig;
  CHECK_INT(mp_webhook_check(SECRET, &in, NOW, &id, &sig), MP_WH_PAYMENT);
  CHECK(id == 130000000001LL);
  CHECK_INT(sig, MP_SIG_OK);
  /* within the tolerance either way */
  CHECK_INT(mp_webhook_check(SECRET, &in, NOW + MP_WEBHOOK_TOLERANCE_MS, &id, NULL), MP_WH_PAYMENT);
  CHECK_INT(mp_webhook_check(SECRET, &in, NOW - MP_WEBHOOK_TOLERANCE_MS, &id, NULL), MP_WH_PAYMENT);
}

TEST(refused_before_anything_else) {
  long long id = 0;
  enum mp_sig_result sig;
  struct mp_webhook_in stale = {"payment", NULL, "130000000001", SIG_OLD, "req-1"};
  CHECK_INT(mp_webhook_check(SECRET, &stale, NOW, &id, &sig), MP_WH_UNAUTHORIZED);
  CHECK_INT(sig, MP_SIG_STALE);
  struct mp_webhook_in tampered = {"payment", NULL, "130000000002", SIG1, "req-1"};
  CHECK_INT(mp_webhook_check(SECRET, &tampered, NOW, &id, &sig), MP_WH_UNAUTHORIZED);
  CHECK_INT(sig, MP_SIG_MISMATCH);
  struct mp_webhook_in other_req = {"payment", NULL, "130000000001", SIG1, "req-2"};
  CHECK_INT(mp_webhook_check(SECRET, &other_req, NOW, &id, NULL), MP_WH_UNAUTHORIZED);
  struct mp_webhook_in none = {"payment", NULL, "130000000001", NULL, "req-1"};
  CHECK_INT(mp_webhook_check(SECRET, &none, NOW, &id, &sig), MP_WH_UNAUTHORIZED);
  CHECK_INT(sig, MP_SIG_MISSING);
  CHECK_INT(mp_webhook_check("another-secret", &(struct mp_webhook_in){"payment", NULL,
            "130000000001", SIG1, "req-1"}, NOW, &id, NULL), MP_WH_UNAUTHORIZED);
  /* another topic, unsigned: still 401, so that the topics we act on are not probed */
  struct mp_webhook_in topic = {"merchant_order", NULL, "1", NULL, NULL};
  CHECK_INT(mp_webhook_check(SECRET, &topic, NOW, &id, NULL), MP_WH_UNAUTHORIZED);
}

TEST(ignored_when_signed_but_not_a_payment) {
  long long id = 0;
  struct mp_webhook_in topic = {"merchant_order", NULL, "130000000001", SIG1, "req-1"};
  CHECK_INT(mp_webhook_check(SECRET, &topic, NOW, &id, NULL), MP_WH_IGNORE_TOPIC);
  struct mp_webhook_in notype = {NULL, NULL, "130000000001", SIG1, "req-1"};
  CHECK_INT(mp_webhook_check(SECRET, &notype, NOW, &id, NULL), MP_WH_IGNORE_TOPIC);
  struct mp_webhook_in ord = {"payment", NULL, "ORD01ABC", SIG_ORD, "req-2"};
  CHECK_INT(mp_webhook_check(SECRET, &ord, NOW, &id, NULL), MP_WH_IGNORE_ID);
}

TEST(legacy_ipn_acknowledged_unread) {
  long long id = 0;
  struct mp_webhook_in ipn = {NULL, "payment", NULL, NULL, NULL};
  CHECK_INT(mp_webhook_check(SECRET, &ipn, NOW, &id, NULL), MP_WH_IGNORE_IPN);
  /* an IPN shape with a data.id is a webhook without its signature */
  struct mp_webhook_in half = {NULL, "payment", "130000000001", NULL, NULL};
  CHECK_INT(mp_webhook_check(SECRET, &half, NOW, &id, NULL), MP_WH_UNAUTHORIZED);
}

TEST(payment_ids) {
  long long id = 0;
  CHECK(mp_webhook_payment_id("1", &id) && id == 1);
  CHECK(mp_webhook_payment_id("999999999999999999", &id) && id == 999999999999999999LL);
  CHECK(!mp_webhook_payment_id("1000000000000000000", &id)); /* 19 digits */
  CHECK(!mp_webhook_payment_id("0", &id));
  CHECK(!mp_webhook_payment_id("012", &id));
  CHECK(!mp_webhook_payment_id("-1", &id));
  CHECK(!mp_webhook_payment_id("12a", &id));
  CHECK(!mp_webhook_payment_id("", &id));
  CHECK(!mp_webhook_payment_id(NULL, &id));
  CHECK(!mp_webhook_payment_id(" 12", &id));
}
