/* The coupon modal (astra:coupon:<cartId>, text input "code"): a code that does not apply is
 * answered ephemerally with its reason (shop_coupon_reason_message) and changes nothing; one
 * that applies (or an empty field, which removes the coupon) is recorded, the cart message
 * is edited to show the new total, and the buyer gets a short confirmation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/cart.h"
#include "core/app.h"
#include "shop/cart.h"
#include "shop/coupon.h"
#include "store/store.h"

struct applied {
  struct ix *ix;
  char instance_id[40];
  char cart_id[40];
  const char *locale;
  int removed;
};

static void on_durable(int status, void *arg) {
  struct applied *a = arg;
  if (status != 0) {
    ix_reply_text(a->ix, shop_cart_error_message(SHOP_CART_INTERNAL, a->locale));
  } else {
    bot_cart_refresh(a->instance_id, a->cart_id);
    ix_reply_text(a->ix, a->removed ? bot_tr(a->locale, "Cupom removido.", "Coupon removed.")
                                    : bot_tr(a->locale, "Cupom aplicado.", "Coupon applied."));
  }
  ix_done(a->ix);
  free(a);
}

void bot_modal_coupon(struct ix *ix) {
  const char *locale;
  const json_t *cart = bot_cart_for_ix(ix, 0, &locale);
  if (!cart)
    return;
  struct bot_ctx *ctx = ix_ctx(ix);
  const char *code = ix_field(ix, "code");
  /* typing is trimmed by shop_coupon_find; a field of spaces means "no coupon" */
  int empty = !code || strspn(code, " \t") == strlen(code);
  enum shop_coupon_reason why;
  struct store_txn *t = store_begin(astra.store);
  enum shop_cart_error e = shop_cart_coupon(t, cart, empty ? "" : code, bot_now_ms(), &why);
  if (e != SHOP_CART_OK || why != SHOP_COUPON_OK) {
    store_abort(t);
    ix_reply_text(ix, e != SHOP_CART_OK ? shop_cart_error_message(e, locale)
                                        : shop_coupon_reason_message(why, locale));
    ix_done(ix);
    return;
  }
  struct applied *a = calloc(1, sizeof *a);
  if (!a) {
    store_abort(t);
    ix_done(ix);
    return;
  }
  a->ix = ix;
  a->locale = locale;
  a->removed = empty;
  snprintf(a->instance_id, sizeof a->instance_id, "%s", ctx->instance_id);
  snprintf(a->cart_id, sizeof a->cart_id, "%s", json_string_value(json_object_get(cart, "id")));
  if (store_commit(t, on_durable, a) != 0) {
    ix_reply_text(ix, shop_cart_error_message(SHOP_CART_INTERNAL, locale));
    ix_done(ix);
    free(a);
  }
}
