/* POST /api/webhooks/mercadopago?data.id=&type=: Mercado Pago's payment notifications
 * (public, signed; docs/api-portal.md "Webhooks").
 *
 * The notification is only a hint: after the signature check (src/pay/webhook.c: 401 and
 * nothing else otherwise) the payment is always read back from the API, and what the API says
 * is applied to the order by pay_apply(), the same step the reconciliation timer uses. The
 * body is never read. The answer is 200 only once the outcome is durable (Mercado Pago stops
 * retrying on 200), 503 when the payment could not be read or the store failed (it retries).
 * Without a webhook secret nothing is accepted: 503, logged once. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/config.h"
#include "core/log.h"
#include "pay/apply.h"
#include "pay/mercadopago.h"
#include "pay/webhook.h"
#include "portal/portal.h"

#define MOD "webhook"

struct job {
  struct http_request *req; /* NULL once the request went away */
  struct mp_call *call;     /* the GET, while it is pending */
  char reqid[17];           /* for logs after the request is gone */
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ok_reply(struct http_reply *rep) {
  http_reply_json(rep, 200, json_pack("{s:b}", "ok", 1));
}

static void finish(struct job *job, int ok, enum err_id err) {
  if (job->req) {
    struct http_reply *rep = http_reply_of(job->req);
    if (ok)
      ok_reply(rep);
    else
      http_reply_error(job->req, rep, err, NULL, NULL);
    http_resume(job->req);
  }
  free(job);
}

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  struct job *job = arg;
  job->req = NULL;
  /* nobody will hear the answer, so Mercado Pago will retry: the read is dropped (which also
   * lets the shutdown go without a call outliving the API client). Once the payment was read,
   * the change is committed anyway and the job ends in on_durable. */
  if (job->call) {
    mp_cancel(job->call);
    free(job);
  }
}

static void on_durable(int status, void *arg) {
  finish(arg, status == 0, ERR_STORE_FAILED);
}

static void on_payment(enum mp_error err, const struct mp_payment *p, const char *detail,
                       void *arg) {
  struct job *job = arg;
  job->call = NULL;
  if (err == MP_ENOTFOUND) {
    log_msg(LOG_INFO, MOD, job->reqid, "payment unknown at Mercado Pago; ignored");
    finish(job, 1, ERR_INTERNAL);
    return;
  }
  if (err != MP_OK) {
    log_msg(err == MP_EUNAVAILABLE ? LOG_WARN : LOG_ERROR, MOD, job->reqid,
            "payment not read (%s%s%s); answering 503 so that Mercado Pago retries",
            mp_error_name(err), detail && *detail ? ": " : "", detail ? detail : "");
    finish(job, 0, ERR_UNAVAILABLE);
    return;
  }
  if (pay_apply(p, job->reqid, on_durable, job) == PAY_ERROR)
    finish(job, 0, ERR_STORE_FAILED);
}

enum http_result portal_post_webhooks_mercadopago(struct http_request *req,
                                                  struct http_reply *rep) {
  static int warned;
  const char *secret = astra.cfg->mercadopago_webhook_secret;
  if (!secret || !*secret) {
    if (!warned++)
      log_msg(LOG_ERROR, MOD, req->reqid,
              "MERCADOPAGO_WEBHOOK_SECRET is not set: payment notifications are refused "
              "(503) until it is");
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  struct mp_webhook_in in = {
      .type = http_query(req, "type"),
      .topic = http_query(req, "topic"),
      .data_id = http_query(req, "data.id"),
      .x_signature = http_header(req, "x-signature"),
      .x_request_id = http_header(req, "x-request-id"),
  };
  long long id = 0;
  enum mp_sig_result sig;
  enum mp_webhook_verdict v = mp_webhook_check(secret, &in, wall_ms(), &id, &sig);
  switch (v) {
  case MP_WH_UNAUTHORIZED:
    http_log(req, LOG_WARN, "notification refused: signature %s", mp_sig_result_name(sig));
    http_reply_error(req, rep, ERR_UNAUTHORIZED, NULL, NULL);
    return HTTP_DONE;
  case MP_WH_PAYMENT:
    break;
  default:
    http_log(req, LOG_DEBUG, "notification ignored (%s)", mp_webhook_verdict_name(v));
    ok_reply(rep);
    return HTTP_DONE;
  }
  struct job *job = calloc(1, sizeof *job);
  if (!job) {
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  job->req = req;
  memcpy(job->reqid, req->reqid, sizeof job->reqid);
  job->call = mp_payment_get(id, on_payment, job);
  if (!job->call) {
    free(job);
    http_reply_error(req, rep, ERR_UNAVAILABLE, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, job);
  return HTTP_SUSPEND;
}
