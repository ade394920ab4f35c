/* Mercado Pago's payments API on the net module. Every POST carries X-Idempotency-Key (the
 * API requires it, and it makes a retried create return the same payment); GETs are retried
 * on transient failures. Amounts: the API speaks decimal reais, so the body is written by
 * hand ("19.90", never a binary float printed back), and read answers are converted to
 * cents once, here, refusing anything that is not a whole number of cents. */
#include "pay/mercadopago.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/log.h"
#include "net/net.h"

static char *api_base, *token;

void mp_init(const char *base, const char *access_token) {
  free(api_base);
  free(token);
  api_base = strdup(base ? base : "https://api.mercadopago.com");
  token = access_token && *access_token ? strdup(access_token) : NULL;
}

void mp_shutdown(void) {
  free(api_base);
  free(token);
  api_base = token = NULL;
}

int mp_configured(void) { return token != NULL; }

const char *mp_error_name(enum mp_error e) {
  static const char *const names[] = {"ok",       "not_configured", "unavailable",
                                      "rejected", "not_found",      "protocol"};
  return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "?";
}

/* Brasília time (UTC-3, no daylight saving since 2019): what a seller reads in MP's panel. */
void mp_format_time(int64_t ms, char out[40]) {
  time_t t = (time_t)(ms / 1000) - 3 * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  /* years stay 4 digits for any time we create (now + 30 days at most) */
  snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03d-03:00", (tm.tm_year + 1900) % 10000,
           (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
           tm.tm_sec % 100, (int)(ms % 1000));
}

/* "2026-11-22T14:30:00.000-03:00", "…Z", "…+00:00", with or without milliseconds. */
static int64_t parse_time(const char *s) {
  int y, mo, d, h, mi, sec, n = 0;
  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
    return 0;
  const char *p = s + n;
  int msec = 0;
  if (*p == '.') {
    p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits++ < 3)
        msec = msec * 10 + (*p - '0');
      p++;
    }
    while (digits++ < 3)
      msec *= 10;
  }
  long off = 0;
  if (*p == '+' || *p == '-') {
    int oh, om;
    if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
      return 0;
    off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
  } else if (*p != 'Z') {
    return 0;
  }
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                  .tm_min = mi, .tm_sec = sec};
  time_t t = timegm(&tm);
  return ((int64_t)t - off) * 1000 + msec;
}

int mp_amount_to_cents(const json_t *amount, int64_t *out) {
  if (json_is_integer(amount)) {
    json_int_t v = json_integer_value(amount);
    if (v < 0 || v > 100000000000LL)
      return -1;
    *out = (int64_t)v * 100;
    return 0;
  }
  if (!json_is_real(amount))
    return -1;
  double v = json_real_value(amount) * 100.0;
  if (!(v >= 0) || v > 1e13)
    return -1;
  double r = nearbyint(v);
  if (fabs(v - r) > 1e-6) /* a fraction of a cent: not an amount we ever asked for */
    return -1;
  *out = (int64_t)r;
  return 0;
}

char *mp_create_body(const struct mp_create *c) {
  char when[40];
  mp_format_time(c->expires_ms, when);
  json_t *rest = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "description",
                           c->description ? c->description : "", "payment_method_id", "pix",
                           "external_reference", c->external_reference ? c->external_reference : "",
                           "notification_url", c->notification_url ? c->notification_url : "",
                           "date_of_expiration", when, "payer", "email",
                           c->payer_email ? c->payer_email : "");
  if (!rest)
    return NULL;
  char *tail = json_dumps(rest, JSON_COMPACT);
  json_decref(rest);
  if (!tail)
    return NULL;
  /* {"transaction_amount":19.90, + the rest without its opening brace */
  size_t n = strlen(tail) + 64;
  char *body = malloc(n);
  if (body)
    snprintf(body, n, "{\"transaction_amount\":%lld.%02lld,%s", (long long)(c->amount_cents / 100),
             (long long)(c->amount_cents % 100), tail + 1);
  free(tail);
  return body;
}

struct mp_call {
  struct net_call *net;
  mp_payment_cb cb;
  void *arg;
  uv_timer_t *defer; /* only for answers given without the network (not configured) */
};

static const char *str_or(const json_t *o, const char *k, const char *dflt) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : dflt;
}

/* Reads a payment; 0, or -1 when a field we rely on is missing or wrong. */
static int read_payment(const json_t *j, struct mp_payment *p) {
  memset(p, 0, sizeof *p);
  const json_t *id = json_object_get(j, "id");
  if (!json_is_integer(id) || json_integer_value(id) <= 0)
    return -1;
  p->id = json_integer_value(id);
  p->status = str_or(j, "status", NULL);
  if (!p->status)
    return -1;
  p->status_detail = str_or(j, "status_detail", "");
  if (mp_amount_to_cents(json_object_get(j, "transaction_amount"), &p->amount_cents) != 0)
    return -1;
  const json_t *ref = json_object_get(j, "transaction_amount_refunded");
  if (ref && !json_is_null(ref) && mp_amount_to_cents(ref, &p->refunded_cents) != 0)
    return -1;
  p->currency = str_or(j, "currency_id", "");
  p->external_reference = str_or(j, "external_reference", "");
  const json_t *td =
      json_object_get(json_object_get(j, "point_of_interaction"), "transaction_data");
  p->qr_code = str_or(td, "qr_code", "");
  p->qr_code_base64 = str_or(td, "qr_code_base64", "");
  p->ticket_url = str_or(td, "ticket_url", "");
  p->expires_ms = parse_time(str_or(j, "date_of_expiration", NULL));
  return 0;
}

static void on_answer(const struct net_response *r, void *arg) {
  struct mp_call *c = arg;
  enum mp_error err = MP_OK;
  char detail[200] = "";
  struct mp_payment p;
  json_t *j = NULL;
  if (r->error || r->status >= 500 || r->status == 429) {
    err = MP_EUNAVAILABLE;
    snprintf(detail, sizeof detail, "%s", r->error ? r->error_msg : "server error");
    if (!r->error)
      snprintf(detail, sizeof detail, "HTTP %ld", r->status);
  } else if (r->status == 404) {
    err = MP_ENOTFOUND;
  } else if (r->status >= 400) {
    err = MP_EREJECTED;
    json_t *e = json_loadb(r->body, r->body_len, 0, NULL);
    snprintf(detail, sizeof detail, "HTTP %ld: %s", r->status, str_or(e, "message", "refused"));
    json_decref(e);
  } else {
    j = json_loadb(r->body, r->body_len, 0, NULL);
    if (!j || read_payment(j, &p) != 0) {
      err = MP_EPROTOCOL;
      snprintf(detail, sizeof detail, "unreadable payment in HTTP %ld answer", r->status);
    }
  }
  c->cb(err, err == MP_OK ? &p : NULL, detail, c->arg);
  json_decref(j);
  free(c);
}

static void on_deferred_close(uv_handle_t *h) { free(h); }

static void on_deferred(uv_timer_t *t) {
  struct mp_call *c = t->data;
  uv_close((uv_handle_t *)t, on_deferred_close);
  c->cb(MP_ENOTCONFIGURED, NULL, "MERCADOPAGO_ACCESS_TOKEN is not set", c->arg);
  free(c);
}

static struct mp_call *send_call(const char *method, const char *path, const char *body,
                                 const char *idem, unsigned retries, mp_payment_cb cb, void *arg) {
  struct mp_call *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cb = cb;
  c->arg = arg;
  if (!token) {
    c->defer = malloc(sizeof *c->defer);
    if (!c->defer) {
      free(c);
      return NULL;
    }
    uv_timer_init(astra.loop, c->defer);
    c->defer->data = c;
    uv_timer_start(c->defer, on_deferred, 0, 0);
    return c;
  }
  char url[512], auth[600], idem_h[160];
  snprintf(url, sizeof url, "%s%s", api_base, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  const char *headers[5] = {auth, "Content-Type: application/json", "Accept: application/json",
                            NULL, NULL};
  if (idem) {
    snprintf(idem_h, sizeof idem_h, "X-Idempotency-Key: %s", idem);
    headers[3] = idem_h;
  }
  struct net_request req = {
      .method = method,
      .url = url,
      .headers = headers,
      .body = body,
      .body_len = body ? strlen(body) : 0,
      .timeout_ms = 15000,
      .max_retries = retries,
      /* a create with its idempotency key is safe to repeat: the API answers with the same
       * payment */
      .idempotent = 1,
      .max_response = 1 << 20,
  };
  c->net = net_send(&req, on_answer, c);
  if (!c->net) {
    free(c);
    return NULL;
  }
  return c;
}

struct mp_call *mp_payment_create(const struct mp_create *cr, mp_payment_cb cb, void *arg) {
  char *body = mp_create_body(cr);
  if (!body)
    return NULL;
  struct mp_call *c = send_call("POST", "/v1/payments", body, cr->idempotency_key, 2, cb, arg);
  free(body);
  return c;
}

struct mp_call *mp_payment_get(long long id, mp_payment_cb cb, void *arg) {
  char path[64];
  snprintf(path, sizeof path, "/v1/payments/%lld", id);
  return send_call("GET", path, NULL, NULL, 3, cb, arg);
}

void mp_cancel(struct mp_call *c) {
  if (!c)
    return;
  if (c->defer) {
    uv_timer_stop(c->defer);
    uv_close((uv_handle_t *)c->defer, on_deferred_close);
  } else {
    net_cancel(c->net);
  }
  free(c);
}
