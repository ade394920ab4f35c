/* One payment applied to its order (include/pay/apply.h). Everything between reading the order
 * and committing happens in one call on the loop thread, so two confirmations of one payment
 * (a webhook and its retry, or a webhook and the reconciliation timer) can never both see the
 * order unpaid; the sale core's deterministic ids do the rest. Nothing here trusts the
 * notification: the payment was read from Mercado Pago's API by the caller. */
#include "pay/apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/config.h"
#include "core/log.h"
#include "shop/sale.h"

#define MOD "pay"

const char *pay_outcome_name(enum pay_outcome o) {
  static const char *const names[] = {"written", "unchanged", "ignored", "error"};
  return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

/* A store id: 1-64 characters of [A-Za-z0-9_-] (what store_put accepts). The reference comes
 * from the API, but it is text a payer-side integration could have set: checked, not used
 * blindly as a key. */
static int id_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return 0;
  }
  return 1;
}

struct after {
  store_commit_cb done;
  void *arg;
  int kick; /* the transaction queued outbox entries: wake the worker once durable */
};

static void on_durable(int status, void *arg) {
  struct after *a = arg;
  if (status == 0 && a->kick)
    bot_outbox_kick();
  if (a->done)
    a->done(status, a->arg);
  free(a);
}

/* Nothing written: the answer still waits until whatever an earlier call wrote (say, the
 * first delivery of this webhook) is durable. */
static enum pay_outcome settle(enum pay_outcome o, struct after *a) {
  store_flush(astra.store, on_durable, a);
  return o;
}

/* The order this payment belongs to: its external_reference, else the order holding its id. */
static const char *order_of(const struct mp_payment *p, const char *pay_id) {
  if (p->external_reference && *p->external_reference)
    return id_ok(p->external_reference) ? p->external_reference : NULL;
  return store_index_get(astra.store, STORE_ORDERS, "paymentId", pay_id, NULL);
}

enum pay_outcome pay_apply(const struct mp_payment *p, const char *reqid, store_commit_cb done,
                           void *arg) {
  struct after *a = calloc(1, sizeof *a);
  if (!a)
    return PAY_ERROR;
  a->done = done;
  a->arg = arg;
  char pay_id[24];
  snprintf(pay_id, sizeof pay_id, "%lld", p->id);
  const char *status = p->status ? p->status : "";

  const char *oid = order_of(p, pay_id);
  const json_t *o = oid ? store_get(astra.store, STORE_ORDERS, NULL, oid) : NULL;
  if (!o) {
    log_msg(LOG_INFO, MOD, reqid, "payment %s (%s): no such order; ignored", pay_id, status);
    return settle(PAY_IGNORED, a);
  }
  /* the root of "never deliver twice": one payment per order and one order per payment */
  const char *have = str(o, "paymentId");
  const char *holder = store_index_get(astra.store, STORE_ORDERS, "paymentId", pay_id, NULL);
  if ((have && strcmp(have, pay_id)) || (holder && strcmp(holder, oid))) {
    log_msg(LOG_WARN, MOD, reqid,
            "payment %s (%s) names order %s, which holds payment %s (payment held by %s); "
            "ignored",
            pay_id, status, oid, have ? have : "-", holder ? holder : "-");
    return settle(PAY_IGNORED, a);
  }

  int64_t now = wall_ms();
  const char *ost = str(o, "status");
  int pending = ost && !strcmp(ost, "pending");
  struct store_txn *t = store_begin(astra.store);
  if (!t) {
    free(a);
    return PAY_ERROR;
  }
  int changed = 0;
  if (!strcmp(status, "approved")) {
    struct shop_payment_seen seen = {"mercadopago", pay_id, status, p->amount_cents,
                                     p->currency};
    struct shop_fees fees = {astra.cfg->platform_fee_bp, astra.cfg->platform_fee_fixed_cents};
    enum shop_paid_outcome r = shop_order_paid(t, oid, &seen, &fees, now);
    switch (r) {
    case SHOP_PAID_FULFILLED:
    case SHOP_PAID_WAITING_STOCK:
      log_msg(LOG_INFO, MOD, reqid, "payment %s approved: order %s %s", pay_id, oid,
              shop_paid_outcome_name(r));
      changed = 1;
      break;
    case SHOP_PAID_MISMATCH:
      log_msg(LOG_WARN, MOD, reqid,
              "payment %s approved for %lld cents %s, but order %s is %lld cents %s; ignored",
              pay_id, (long long)p->amount_cents, p->currency ? p->currency : "?", oid,
              (long long)json_integer_value(json_object_get(o, "totalCents")),
              str(o, "currency") ? str(o, "currency") : "?");
      store_abort(t);
      return settle(PAY_IGNORED, a);
    case SHOP_PAID_ERROR:
      store_abort(t);
      free(a);
      return PAY_ERROR;
    default: /* ALREADY; UNKNOWN cannot happen, the order was just read */
      break;
    }
  } else if (!strcmp(status, "refunded") || !strcmp(status, "charged_back")) {
    /* money returned before the approval was ever seen: nothing to reverse, the order ends */
    changed = pending ? shop_order_release(t, oid, "cancelled", now)
                      : shop_order_reverse(t, oid, status, now);
    if (changed)
      log_msg(LOG_INFO, MOD, reqid, "payment %s %s: order %s %s", pay_id, status, oid,
              pending ? "cancelled" : status);
  } else if (!strcmp(status, "cancelled") || !strcmp(status, "rejected")) {
    const char *to = p->status_detail && !strcmp(p->status_detail, "expired") ? "expired"
                                                                              : "cancelled";
    changed = shop_order_release(t, oid, to, now);
    if (changed)
      log_msg(LOG_INFO, MOD, reqid, "payment %s %s: order %s %s", pay_id, status, oid, to);
  }
  if (!changed) {
    store_abort(t);
    return settle(PAY_UNCHANGED, a);
  }
  a->kick = 1;
  int rc = store_commit(t, on_durable, a);
  if (rc != 0) {
    /* a conflict means another order took this payment id in between: impossible on one loop
     * thread, but never worth a second delivery */
    log_msg(LOG_ERROR, MOD, reqid, "payment %s: order %s not updated (%s)", pay_id, oid,
            rc == STORE_ECONFLICT ? "payment id taken" : "store failed");
    free(a);
    return PAY_ERROR;
  }
  return PAY_WRITTEN;
}
