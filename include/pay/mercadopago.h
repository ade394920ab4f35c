/* The Mercado Pago client (reference/payments.md §1): Pix payments created with an
 * idempotency key, read back, and refunded, over the net module (never blocking the loop).
 * Money crosses the wire as a decimal number of reais; here it is always integer cents. */
#ifndef ASTRA_PAY_MERCADOPAGO_H
#define ASTRA_PAY_MERCADOPAGO_H

#include <jansson.h>
#include <stdint.h>

/* A payment as read from the API; strings are NUL-terminated copies valid during the
 * callback only. */
struct mp_payment {
  long long id;
  const char *status;        /* pending, approved, rejected, cancelled, refunded, charged_back... */
  const char *status_detail;
  int64_t amount_cents;      /* transaction_amount */
  int64_t refunded_cents;    /* transaction_amount_refunded */
  const char *currency;      /* currency_id ("BRL"), "" when absent */
  const char *external_reference;
  const char *qr_code;       /* the copia-e-cola code, "" when absent */
  const char *qr_code_base64;/* PNG, "" when absent */
  const char *ticket_url;
  int64_t expires_ms;        /* date_of_expiration, 0 when absent */
};

enum mp_error {
  MP_OK = 0,
  MP_ENOTCONFIGURED, /* no access token */
  MP_EUNAVAILABLE,   /* network, timeout, 5xx or 429 after retries: try again later */
  MP_EREJECTED,      /* 4xx: the request was refused (bad data, bad token) */
  MP_ENOTFOUND,      /* 404 on a payment */
  MP_EPROTOCOL,      /* an answer we cannot read */
};
const char *mp_error_name(enum mp_error e);

struct mp_create {
  const char *idempotency_key; /* derived from the order: a retry is the same payment */
  int64_t amount_cents;        /* 1 .. 10^10 */
  const char *description;
  const char *external_reference; /* the order id */
  const char *notification_url;   /* ≤ 248 characters */
  const char *payer_email;
  int64_t expires_ms;             /* date_of_expiration: 30 min .. 30 days from now */
};

typedef void (*mp_payment_cb)(enum mp_error err, const struct mp_payment *p, const char *detail,
                              void *arg);
struct mp_call;

/* api_base (MERCADOPAGO_API_BASE) and access_token (NULL or "": payments not configured);
 * both copied. Call after net_init. */
void mp_init(const char *api_base, const char *access_token);
void mp_shutdown(void);
int mp_configured(void);

/* POST /v1/payments (Pix). cb runs exactly once from the loop, unless cancelled; with
 * MP_ENOTCONFIGURED it runs from the loop too. NULL when out of memory. */
struct mp_call *mp_payment_create(const struct mp_create *c, mp_payment_cb cb, void *arg);
/* GET /v1/payments/{id}, retried on transient failures. */
struct mp_call *mp_payment_get(long long id, mp_payment_cb cb, void *arg);
void mp_cancel(struct mp_call *call);

/* For tests: the request body mp_payment_create sends (malloc'd), and the RFC 3339 form of
 * a time as Mercado Pago wants it ("2026-11-22T14:30:00.000-03:00"). */
char *mp_create_body(const struct mp_create *c);
void mp_format_time(int64_t ms, char out[40]);
/* "19.90" -> 1990; amounts with more than 2 decimals, negative or absurd ones fail (-1). */
int mp_amount_to_cents(const json_t *amount, int64_t *out);

#endif
