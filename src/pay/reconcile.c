/* Payment reconciliation (include/pay/reconcile.h): every PAYMENT_RECONCILE_SECONDS a pass
 * over the pending orders, oldest first.
 *
 *  - an order with a payment: the payment is read again from Mercado Pago and applied with
 *    pay_apply(), exactly as a webhook would; so a lost notification delays a sale by one
 *    interval at most, never loses it;
 *  - an order whose reservation ended (expiresAt passed): released as "expired" after that one
 *    last look at its payment (a Pix paid in the last second wins). When Mercado Pago cannot
 *    be reached the release waits, up to EXPIRY_GRACE_MS, for a pass that can look; after that
 *    the keys go back on sale anyway, as a late Pix is still honoured by shop_order_paid;
 *  - an order without a payment (checkout not finished) is only ever expired.
 *
 * Pacing: at most RECONCILE_IN_FLIGHT reads at a time and RECONCILE_PER_PASS per pass, and a
 * pass still running when the timer fires again is not doubled. Everything runs on the loop;
 * the stop cancels the reads in flight (their callbacks then never run). */
#include "pay/reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/config.h"
#include "core/log.h"
#include "pay/apply.h"
#include "pay/mercadopago.h"
#include "pay/webhook.h"
#include "shop/sale.h"
#include "store/store.h"

#define MOD "reconcile"
#define RECONCILE_IN_FLIGHT 3
#define RECONCILE_PER_PASS 200
#define EXPIRY_GRACE_MS (15 * 60 * 1000)

struct row {
  char id[65];
  int64_t created_at;
};

struct slot {
  struct mp_call *call; /* NULL: free */
  char order_id[65];
};

static struct {
  int started;
  uv_timer_t timer;
  struct row *queue; /* this pass's orders with a payment, oldest first */
  size_t n, at;
  struct slot slots[RECONCILE_IN_FLIGHT];
} rc;

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static int64_t num(const json_t *o, const char *k) {
  return (int64_t)json_integer_value(json_object_get(o, k));
}

static void on_released(int status, void *arg) {
  (void)arg;
  if (status != 0)
    log_error(MOD, "expired orders not released: the store failed");
}

/* Releases the order as expired when it is still pending and its reservation has ended;
 * with a payment, only when force (its last look was taken, or could not be for too long). */
static void expire_one(const char *order_id, int64_t now, int force) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, order_id);
  const char *st = str(o, "status");
  int64_t until = num(o, "expiresAt");
  if (!st || strcmp(st, "pending") || until <= 0 || until > now)
    return;
  if (str(o, "paymentId") && !force)
    return;
  struct store_txn *t = store_begin(astra.store);
  if (!t)
    return;
  if (!shop_order_release(t, order_id, "expired", now)) {
    store_abort(t);
    return;
  }
  if (store_commit(t, on_released, NULL) != 0) {
    log_error(MOD, "order %s not released: the store failed", order_id);
  } else {
    log_info(MOD, "order %s expired: its keys are back on sale", order_id);
    bot_outbox_kick(); /* and on the product posts */
  }
}

static void pump(void);

static void on_payment(enum mp_error err, const struct mp_payment *p, const char *detail,
                       void *arg) {
  struct slot *s = arg;
  s->call = NULL;
  int64_t now = wall_ms();
  int looked = 0;
  if (err == MP_OK) {
    looked = pay_apply(p, NULL, NULL, NULL) != PAY_ERROR;
  } else if (err == MP_ENOTFOUND || err == MP_ENOTCONFIGURED) {
    looked = 1; /* nothing to find there: the order can only expire */
    log_warn(MOD, "order %s: payment not read (%s)", s->order_id, mp_error_name(err));
  } else {
    log_warn(MOD, "order %s: payment not read (%s%s%s); next pass", s->order_id,
             mp_error_name(err), detail && *detail ? ": " : "", detail ? detail : "");
  }
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, s->order_id);
  expire_one(s->order_id, now, looked || num(o, "expiresAt") + EXPIRY_GRACE_MS <= now);
  pump();
}

/* Starts reads until the slots are full or the pass's queue is done. */
static void pump(void) {
  for (size_t i = 0; i < RECONCILE_IN_FLIGHT && rc.at < rc.n; i++) {
    struct slot *s = &rc.slots[i];
    if (s->call)
      continue;
    while (rc.at < rc.n) {
      const struct row *r = &rc.queue[rc.at++];
      /* read again: a webhook may have settled it since the pass began */
      const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, r->id);
      const char *st = str(o, "status");
      long long pid;
      if (!st || strcmp(st, "pending"))
        continue;
      if (!mp_webhook_payment_id(str(o, "paymentId"), &pid)) {
        log_warn(MOD, "order %s: payment id is not a Mercado Pago id; skipped", r->id);
        continue;
      }
      snprintf(s->order_id, sizeof s->order_id, "%s", r->id);
      s->call = mp_payment_get(pid, on_payment, s);
      if (!s->call)
        log_error(MOD, "order %s: payment read not started (out of memory)", r->id);
      break;
    }
  }
}

struct collect {
  struct row *rows;
  size_t n, cap;
  int64_t now;
  int oom;
};

static int collect_pending(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  struct collect *c = arg;
  if (!str(rec, "paymentId")) {
    /* no payment to look at: expired is expired (after this iteration, as it writes) */
    int64_t until = num(rec, "expiresAt");
    if (until <= 0 || until > c->now)
      return 0;
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 32;
    struct row *r = realloc(c->rows, cap * sizeof *r);
    if (!r) {
      c->oom = 1;
      return 1;
    }
    c->rows = r;
    c->cap = cap;
  }
  snprintf(c->rows[c->n].id, sizeof c->rows[c->n].id, "%s", id);
  c->rows[c->n++].created_at = num(rec, "createdAt");
  return 0;
}

static int oldest_first(const void *a, const void *b) {
  const struct row *x = a, *y = b;
  if (x->created_at != y->created_at)
    return x->created_at < y->created_at ? -1 : 1;
  return strcmp(x->id, y->id);
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  for (size_t i = 0; i < RECONCILE_IN_FLIGHT; i++)
    if (rc.slots[i].call)
      return; /* the last pass is still reading */
  if (astra.phase == APP_STOPPING || !astra.store)
    return;
  struct collect c = {.now = wall_ms()};
  store_index_foreach(astra.store, STORE_ORDERS, "status", "pending", collect_pending, &c);
  if (c.oom)
    log_error(MOD, "pass cut short: out of memory");
  if (c.n > 1)
    qsort(c.rows, c.n, sizeof *c.rows, oldest_first);
  /* orders without a payment are expired here; the others go to the readers */
  size_t keep = 0;
  for (size_t i = 0; i < c.n; i++) {
    const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, c.rows[i].id);
    if (!str(o, "paymentId"))
      expire_one(c.rows[i].id, c.now, 1);
    else if (keep < RECONCILE_PER_PASS)
      c.rows[keep++] = c.rows[i];
  }
  free(rc.queue);
  rc.queue = c.rows;
  rc.n = keep;
  rc.at = 0;
  if (keep)
    log_debug(MOD, "pass: %zu pending payment(s) to read", keep);
  pump();
}

void pay_reconcile_start(void) {
  if (rc.started)
    return;
  uint64_t every = (uint64_t)(astra.cfg->payment_reconcile_seconds > 0
                                  ? astra.cfg->payment_reconcile_seconds
                                  : 60) *
                   1000;
  uv_timer_init(astra.loop, &rc.timer);
  /* the first pass one interval after the start: by then the webhooks Mercado Pago retries
   * after a restart have had their chance, and the bots are up to send what it fulfils */
  uv_timer_start(&rc.timer, on_tick, every, every);
  rc.started = 1;
}

void pay_reconcile_stop(void) {
  if (!rc.started)
    return;
  rc.started = 0;
  uv_timer_stop(&rc.timer);
  uv_close((uv_handle_t *)&rc.timer, NULL);
  for (size_t i = 0; i < RECONCILE_IN_FLIGHT; i++) {
    mp_cancel(rc.slots[i].call);
    rc.slots[i].call = NULL;
  }
  free(rc.queue);
  rc.queue = NULL;
  rc.n = rc.at = 0;
}
