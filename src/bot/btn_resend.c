/* The Reenviar button (custom_id astra:resend:<orderId>) under /pedido's answer: sends a
 * delivered order's keys to its buyer's DM again, with a fresh nonce (a resend is a new
 * message on purpose); when the DM is closed, the keys come in the ephemeral answer instead.
 * Only the buyer may use it, and nothing is written: the order stays delivered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bot/bot.h"
#include "bot/deliver.h"
#include "core/app.h"
#include "core/crypto.h"
#include "store/store.h"
#include "shop/delivery.h"

struct resend {
  struct ix *ix;
  char *text;
};

static void on_resent(const struct bot_sent *r, void *arg) {
  struct resend *rs = arg;
  int en = !strcmp(bot_ix_locale(rs->ix), "en");
  if (r->ok)
    ix_reply_text(rs->ix, en ? "✅ Sent to your DMs again." : "✅ Reenviado para sua DM.");
  else if (r->code == 50007)
    bot_reply_parts(rs->ix, rs->text); /* DMs closed: here, only the buyer sees it */
  else
    ix_reply_text(rs->ix, en ? "Could not resend right now. Try again shortly."
                             : "Não foi possível reenviar agora. Tente de novo em instantes.");
  ix_done(rs->ix);
  crypto_wipe(rs->text, strlen(rs->text));
  free(rs->text);
  free(rs);
}

void bot_btn_resend(struct ix *ix) {
  const struct cid *cid = ix_cid(ix);
  int en = !strcmp(bot_ix_locale(ix), "en");
  const json_t *o = cid && cid->nargs == 1 ? bot_buyer_order(ix, cid->args[0]) : NULL;
  const char *st = json_string_value(json_object_get(o, "status"));
  if (!o || !st || strcmp(st, "delivered")) {
    ix_reply_text(ix, o ? (en ? "This order has not been delivered yet."
                              : "Este pedido ainda não foi entregue.")
                        : (en ? "Order not found." : "Pedido não encontrado."));
    ix_done(ix);
    return;
  }
  struct resend *rs = calloc(1, sizeof *rs);
  char *text = rs ? shop_delivery_text(o) : NULL;
  if (!text) {
    free(rs);
    ix_reply_text(ix, en ? "Could not resend right now." : "Não foi possível reenviar agora.");
    ix_done(ix);
    return;
  }
  rs->ix = ix;
  rs->text = text;
  /* a seed of its own (the interaction id is unique): Discord must not fold this resend into
   * the first delivery, which enforce_nonce would do within minutes */
  char seed[96];
  const char *ixid = json_string_value(json_object_get(ix_raw(ix), "id"));
  snprintf(seed, sizeof seed, "resend:%.40s:%.32s", cid->args[0], ixid ? ixid : "");
  struct bot_ctx *ctx = ix_ctx(ix);
  bot_send_dm(ctx->instance_id, ix_user_id(ix), text, seed, on_resent, rs);
}
