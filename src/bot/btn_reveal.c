/* The Revelar chave button (custom_id astra:reveal:<orderId>), posted where a buyer whose DMs
 * are closed can reach it: only the order's buyer gets the keys, in an ephemeral answer, so
 * the key never sits in a channel others can read. Also the buyer-order check and the
 * ephemeral multi-part answer shared with Reenviar and /pedido. */
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/deliver.h"
#include "core/app.h"
#include "core/crypto.h"
#include "shop/catalog.h"
#include "shop/delivery.h"
#include "store/store.h"

const char *bot_ix_locale(struct ix *ix) { return strcmp(ix_locale(ix), "en") ? "pt-BR" : "en"; }

const json_t *bot_buyer_order(struct ix *ix, const char *order_id) {
  struct bot_ctx *ctx = ix_ctx(ix);
  const json_t *o = order_id ? store_get(astra.store, STORE_ORDERS, NULL, order_id) : NULL;
  const char *inst = json_string_value(json_object_get(o, "instanceId"));
  const char *buyer = json_string_value(json_object_get(o, "buyerId"));
  const char *user = ix_user_id(ix);
  if (!o || !inst || strcmp(inst, ctx->instance_id) || !buyer || !user || strcmp(buyer, user))
    return NULL;
  return o;
}

void bot_reply_parts(struct ix *ix, const char *text) {
  size_t off[SHOP_DELIVERY_MAX_PARTS], len[SHOP_DELIVERY_MAX_PARTS];
  size_t n = shop_delivery_split(text, SHOP_DM_MAX, off, len, SHOP_DELIVERY_MAX_PARTS);
  for (size_t i = 0; i < n; i++) {
    json_t *msg = json_pack("{s:s%, s:i, s:{s:[]}}", "content", text + off[i], len[i], "flags",
                            64, "allowed_mentions", "parse");
    if (i == 0)
      ix_reply(ix, msg);
    else
      ix_followup(ix, msg);
  }
}

void bot_btn_reveal(struct ix *ix) {
  const struct cid *cid = ix_cid(ix);
  int en = !strcmp(bot_ix_locale(ix), "en");
  const json_t *o = cid && cid->nargs == 1 ? bot_buyer_order(ix, cid->args[0]) : NULL;
  char *text = o ? shop_delivery_text(o) : NULL;
  if (!text) {
    ix_reply_text(ix, o ? (en ? "This order's keys are not available."
                              : "As chaves deste pedido não estão disponíveis.")
                        : (en ? "This button is for the buyer of the order only."
                              : "Este botão é só para quem comprou o pedido."));
    ix_done(ix);
    return;
  }
  bot_reply_parts(ix, text);
  crypto_wipe(text, strlen(text));
  free(text);
  ix_done(ix);
}
