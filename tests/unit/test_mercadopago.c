/* Unit tests for the wire side of src/pay/mercadopago.c: the Pix create body (amount written
 * as exact decimal reais, expiry in MP's date format) and the conversion of answers to
 * cents. The calls themselves are exercised against the fake Mercado Pago end to end. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pay/mercadopago.h"

TEST(create_body_writes_exact_reais) {
  struct mp_create c = {.idempotency_key = "k",
                        .amount_cents = 1990,
                        .description = "Conta \"Premium\"",
                        .external_reference = "order-1",
                        .notification_url = "https://loja.example/api/webhooks/mercadopago",
                        .payer_email = "comprador@example.com",
                        .expires_ms = 1763827200000LL /* 2025-11-22T16:00:00Z */};
  char *b = mp_create_body(&c);
  CHECK(b != NULL);
  CHECK(strncmp(b, "{\"transaction_amount\":19.90,", 28) == 0);
  json_t *j = json_loads(b, 0, NULL);
  CHECK(j != NULL);
  CHECK_STR(json_string_value(json_object_get(j, "payment_method_id")), "pix");
  CHECK_STR(json_string_value(json_object_get(j, "description")), "Conta \"Premium\"");
  CHECK_STR(json_string_value(json_object_get(j, "date_of_expiration")),
            "2025-11-22T13:00:00.000-03:00");
  CHECK_STR(json_string_value(json_object_get(json_object_get(j, "payer"), "email")),
            "comprador@example.com");
  json_decref(j);
  free(b);
  c.amount_cents = 5;
  b = mp_create_body(&c);
  CHECK(strncmp(b, "{\"transaction_amount\":0.05,", 27) == 0);
  free(b);
  c.amount_cents = 123456789012LL;
  b = mp_create_body(&c);
  CHECK(strncmp(b, "{\"transaction_amount\":1234567890.12,", 36) == 0);
  free(b);
}

TEST(amounts_to_cents) {
  struct {
    const char *json;
    int ok;
    long long cents;
  } rows[] = {
      {"19.9", 1, 1990},  {"19.90", 1, 1990}, {"0.01", 1, 1},    {"100", 1, 10000},
      {"0.1", 1, 10},     {"1234567.89", 1, 123456789},          {"0.001", 0, 0},
      {"-1", 0, 0},       {"\"19.90\"", 0, 0}, {"null", 0, 0},   {"1e300", 0, 0},
      {"19.905", 0, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    json_t *v = json_loads(rows[i].json, JSON_DECODE_ANY, NULL);
    int64_t c = -7;
    int rc = mp_amount_to_cents(v, &c);
    CHECK_INT(rc == 0, rows[i].ok);
    if (rows[i].ok)
      CHECK_INT(c, rows[i].cents);
    json_decref(v);
  }
}

TEST(time_format) {
  char out[40];
  mp_format_time(0, out);
  CHECK_STR(out, "1969-12-31T21:00:00.000-03:00");
  mp_format_time(1742505638683LL, out);
  CHECK_STR(out, "2025-03-20T18:20:38.683-03:00");
}
