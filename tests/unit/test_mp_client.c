/* The Mercado Pago client against the fake Mercado Pago (tests/fakes/mercadopago, which
 * follows reference/payments.md strictly): a Pix payment is created with exact amounts and a
 * valid expiry, the same idempotency key gives back the same payment, a payment is read back
 * after approval, a wrong token is "rejected", an unknown id "not found", a lost answer is
 * retried into the same payment, and no token at all is "not configured". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/app.h"
#include "core/log.h"
#include "fake_cli.h"
#include "harness.h"
#include "net/net.h"
#include "pay/mercadopago.h"

static uv_loop_t loop;

struct got {
  int done;
  enum mp_error err;
  long long id;
  char status[32], qr[512], ref[64], currency[8];
  int64_t cents, expires_ms;
  size_t png_len;
};

static void on_payment(enum mp_error err, const struct mp_payment *p, const char *detail,
                       void *arg) {
  (void)detail;
  struct got *g = arg;
  g->done = 1;
  g->err = err;
  if (p) {
    g->id = p->id;
    snprintf(g->status, sizeof g->status, "%s", p->status);
    snprintf(g->qr, sizeof g->qr, "%s", p->qr_code);
    snprintf(g->ref, sizeof g->ref, "%s", p->external_reference);
    snprintf(g->currency, sizeof g->currency, "%s", p->currency);
    g->cents = p->amount_cents;
    g->expires_ms = p->expires_ms;
    g->png_len = strlen(p->qr_code_base64);
  }
}

static void pump(struct got *g) {
  for (int i = 0; i < 4000 && !g->done; i++)
    uv_run(&loop, UV_RUN_ONCE);
}

static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The expiry is fixed per run, as an order's is: a retry sends the very same body. */
static int64_t expires_at;

static struct got create(const char *key, int64_t cents, const char *ref) {
  struct mp_create c = {.idempotency_key = key,
                        .amount_cents = cents,
                        .description = "Conta Premium (30 dias)",
                        .external_reference = ref,
                        .notification_url = "http://127.0.0.1:9/api/webhooks/mercadopago",
                        .payer_email = "comprador@example.com",
                        .expires_ms = expires_at};
  struct got g = {0};
  if (!mp_payment_create(&c, on_payment, &g))
    g.err = MP_EPROTOCOL, g.done = 1;
  pump(&g);
  return g;
}

TEST(pix_payments_against_the_fake) {
  if (!fake_cli_have_node()) {
    printf("# SKIP: node not found\n");
    return;
  }
  log_set_stderr(0);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct fake_cli fake;
  char *argv[] = {"node", "tests/fakes/mercadopago/cli.mjs", "--access-token", "TEST-ACCESS-1",
                  "--webhook-secret", "segredo", "--no-notify-on-create", NULL};
  CHECK_INT(fake_cli_spawn(&fake, argv), 0);
  uv_loop_init(&loop);
  astra.loop = &loop;
  CHECK_INT(net_init(&loop, "astra-test", NULL), 0);
  mp_init(fake.api_base, "TEST-ACCESS-1");

  int64_t before = now_ms();
  expires_at = before + 40 * 60 * 1000;
  struct got a = create("astra-order-1", 1990, "order-1");
  CHECK_INT(a.err, MP_OK);
  CHECK(a.id > 0xFFFFFFFFLL); /* ids above 32 bits survive */
  CHECK_STR(a.status, "pending");
  CHECK_INT(a.cents, 1990);
  CHECK_STR(a.ref, "order-1");
  CHECK(strncmp(a.qr, "000201", 6) == 0); /* an EMV copia-e-cola */
  CHECK(a.png_len > 100);
  /* the expiry we asked for, read back through MP's -04:00 dates */
  CHECK_INT(a.expires_ms, expires_at);

  struct got again = create("astra-order-1", 1990, "order-1");
  CHECK_INT(again.err, MP_OK);
  CHECK(again.id == a.id);

  struct got odd = create("astra-order-2", 5, "order-2"); /* R$ 0,05 */
  CHECK_INT(odd.err, MP_OK);
  CHECK_INT(odd.cents, 5);

  char body[64];
  snprintf(body, sizeof body, "[%lld]", a.id);
  json_decref(fake_cli_control(&fake, "approve", body));
  struct got read = {0};
  mp_payment_get(a.id, on_payment, &read);
  pump(&read);
  CHECK_INT(read.err, MP_OK);
  CHECK_STR(read.status, "approved");
  CHECK_INT(read.cents, 1990);
  CHECK_STR(read.currency, "BRL");

  struct got missing = {0};
  mp_payment_get(999, on_payment, &missing);
  pump(&missing);
  CHECK_INT(missing.err, MP_ENOTFOUND);

  /* the answer to a create is lost after the payment was made: the retry with the same key
   * finds the same payment */
  json_decref(fake_cli_control(&fake, "timeoutNext",
                               "{\"count\":1,\"method\":\"POST\",\"path\":\"/v1/payments\","
                               "\"after\":true}"));
  struct got lost = create("astra-order-3", 4500, "order-3");
  CHECK_INT(lost.err, MP_OK);
  json_t *list = fake_cli_control(&fake, "payments", "{}");
  size_t n3 = 0, i;
  json_t *p;
  json_array_foreach(list, i, p) {
    if (!strcmp(json_string_value(json_object_get(p, "external_reference")) ?: "", "order-3"))
      n3++;
  }
  json_decref(list);
  CHECK_INT(n3, 1);

  /* no rule broken so far (the wrong token below is one, on purpose) */
  json_t *v = fake_cli_control(&fake, "violations", "[]");
  char *vtext = json_dumps(v, JSON_COMPACT);
  printf("# violations: %s\n", vtext ? vtext : "?");
  free(vtext);
  size_t nv = json_is_array(v) ? json_array_size(v) : 99;
  json_decref(v);
  mp_init(fake.api_base, "TEST-WRONG");
  struct got bad = create("astra-order-4", 1000, "order-4");
  CHECK_INT(bad.err, MP_EREJECTED);

  mp_init(fake.api_base, "");
  CHECK_INT(mp_configured(), 0);
  struct got off = create("astra-order-5", 1000, "order-5");
  CHECK_INT(off.err, MP_ENOTCONFIGURED);


  mp_shutdown();
  net_shutdown();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(uv_loop_close(&loop), 0);
  fake_cli_stop(&fake);
  CHECK_INT(nv, 0);
}
