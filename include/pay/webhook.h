/* Mercado Pago's webhook, the part that needs no loop: from the query string and headers of
 * a notification to "read this payment", "ignore" or "refuse". Kept apart from the HTTP
 * handler (src/portal/post_webhooks_mercadopago.c) so that it can be fuzzed on its own. */
#ifndef ASTRA_PAY_WEBHOOK_H
#define ASTRA_PAY_WEBHOOK_H

#include <stdint.h>

#include "pay/mp_signature.h"

/* How far a notification's ts may be from our clock. Mercado Pago re-signs every retry with a
 * fresh ts, so only clock skew and delivery time have to fit; a replay inside the window is
 * harmless anyway, as a notification only makes us re-read the payment from the API. */
#define MP_WEBHOOK_TOLERANCE_MS (10 * 60 * 1000)

/* What arrived; any of these may be NULL (absent). */
struct mp_webhook_in {
  const char *type;         /* ?type= */
  const char *topic;        /* ?topic= (legacy IPN and some webhook variants) */
  const char *data_id;      /* ?data.id= */
  const char *x_signature;  /* x-signature header */
  const char *x_request_id; /* x-request-id header */
};

enum mp_webhook_verdict {
  MP_WH_PAYMENT,      /* signed and about a payment: read *payment_id from the API */
  MP_WH_UNAUTHORIZED, /* missing, malformed, stale or forged signature (see *sig) */
  MP_WH_IGNORE_TOPIC, /* signed, but not about a payment */
  MP_WH_IGNORE_ID,    /* signed payment notification whose data.id is no payment id */
  MP_WH_IGNORE_IPN,   /* the legacy IPN (?topic=&id=, never signed): acknowledged, unused */
};
const char *mp_webhook_verdict_name(enum mp_webhook_verdict v);

/* Classifies a notification. secret must be set (the caller refuses to work without one).
 * *payment_id is set for MP_WH_PAYMENT; *sig (may be NULL) receives the signature check's
 * result (MP_SIG_OK when it was not reached). */
enum mp_webhook_verdict mp_webhook_check(const char *secret, const struct mp_webhook_in *in,
                                         int64_t now_ms, long long *payment_id,
                                         enum mp_sig_result *sig);

/* A Mercado Pago payment id: 1-18 decimal digits, no sign, no leading zero. 1 and *out, or 0. */
int mp_webhook_payment_id(const char *s, long long *out);

#endif
