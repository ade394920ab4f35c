/* The cart sweeper: a timer on astra.loop that visits the carts that are not closed (by the
 * "status" index) and applies the inactivity policy of include/shop/cart.h: a warning in the
 * cart once, before settings.cartInactivityMinutes runs out, then expiry (the pending order
 * released, the cart closed in the store, then archived or deleted in Discord). Carts whose
 * Pix is pending are left alone (the order's expiry is the reconciliation timer's); carts
 * whose order was paid stay until it is delivered, then close after the same idle time.
 *
 * Each change is durable before the buyer reads about it. Discord work needs the instance's
 * running client: with the bot stopped the store side still happens (keys go back on sale)
 * and the thread simply stays as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/cart.h"
#include "core/app.h"
#include "core/log.h"
#include "shop/cart.h"
#include "store/store.h"

#define SWEEP_EVERY_MS 3000
#define SWEEP_MAX 256 /* carts changed per tick: a backlog drains over a few ticks */

static uv_timer_t timer;
static int running;

struct ids {
  char (*id)[40];
  size_t n;
};

static int collect(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  (void)rec;
  struct ids *s = arg;
  if (s->n < SWEEP_MAX && strlen(id) < 40)
    snprintf(s->id[s->n++], 40, "%s", id);
  return s->n >= SWEEP_MAX;
}

struct swept {
  char instance_id[40];
  char cart_id[40];
  int warn;
};

static void on_durable(int status, void *arg) {
  struct swept *s = arg;
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, s->cart_id);
  if (status == 0 && cart) {
    const char *locale = bot_cart_locale(s->instance_id);
    const char *ch = json_string_value(json_object_get(cart, "channelId"));
    const char *buyer = json_string_value(json_object_get(cart, "buyerId"));
    if (s->warn) {
      char text[300];
      snprintf(text, sizeof text, "<@%s> %s", buyer ? buyer : "",
               bot_tr(locale,
                      "Seu carrinho será fechado em breve por inatividade. Use um botão para "
                      "mantê-lo aberto.",
                      "Your cart will close soon for inactivity. Press any button to keep it."));
      bot_cart_send(s->instance_id, ch,
                    json_pack("{s:s, s:{s:[s]}}", "content", text, "allowed_mentions", "users",
                              buyer ? buyer : "0"));
    } else {
      bot_cart_close_discord(s->instance_id, s->cart_id);
    }
  }
  free(s);
}

static void sweep_one(const char *cart_id, int64_t now) {
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, cart_id);
  const char *inst_id = json_string_value(json_object_get(cart, "instanceId"));
  const json_t *inst = inst_id ? store_get(astra.store, STORE_INSTANCES, NULL, inst_id) : NULL;
  if (!cart || !inst || strlen(inst_id) >= 40)
    return;
  enum shop_cart_sweep what = shop_cart_sweep_check(cart, now, shop_cart_inactivity_ms(inst));
  if (what == SHOP_SWEEP_NONE)
    return;
  struct swept *s = calloc(1, sizeof *s);
  if (!s)
    return;
  snprintf(s->instance_id, sizeof s->instance_id, "%s", inst_id);
  snprintf(s->cart_id, sizeof s->cart_id, "%s", cart_id);
  s->warn = what == SHOP_SWEEP_WARN;
  struct store_txn *t = store_begin(astra.store);
  int rc = s->warn ? shop_cart_warned(t, cart, now)
                   : shop_cart_close(t, cart, what == SHOP_SWEEP_EXPIRE ? "expired" : "done", now);
  if (rc != 0) {
    store_abort(t);
    free(s);
    return;
  }
  if (what == SHOP_SWEEP_EXPIRE)
    log_info("bot", "cart %s expired after inactivity", cart_id);
  if (store_commit(t, on_durable, s) != 0)
    free(s);
  else
    bot_outbox_kick(); /* a released reservation shows on the product posts again */
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  struct store_stats st;
  store_stats(astra.store, &st);
  if (st.state != STORE_OK)
    return;
  struct ids s = {calloc(SWEEP_MAX, 40), 0};
  if (!s.id)
    return;
  static const char *const live[] = {"open", "checkout"};
  for (size_t i = 0; i < 2 && s.n < SWEEP_MAX; i++)
    store_index_foreach(astra.store, STORE_CARTS, "status", live[i], collect, &s);
  int64_t now = bot_now_ms();
  for (size_t i = 0; i < s.n; i++)
    sweep_one(s.id[i], now);
  free(s.id);
}

void bot_cart_sweeper_start(void) {
  if (running || !astra.loop || !astra.store)
    return;
  uv_timer_init(astra.loop, &timer);
  uv_timer_start(&timer, on_tick, 1000, SWEEP_EVERY_MS);
  running = 1;
}

void bot_cart_sweeper_stop(void) {
  if (!running)
    return;
  running = 0;
  uv_timer_stop(&timer);
  uv_close((uv_handle_t *)&timer, NULL);
}
