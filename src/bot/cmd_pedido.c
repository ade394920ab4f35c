/* /pedido codigo:<code>: a buyer looks up one of their orders by its code. The answer is
 * ephemeral and only for the order's buyer in this instance; anyone else (another buyer, an
 * order of another store, a code that does not exist) gets the same "not found", so codes
 * cannot be probed. A delivered order comes with a Reenviar button (astra:resend:<id>). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/deliver.h"
#include "core/app.h"
#include "discord/customid.h"
#include "shop/money.h"
#include "shop/sale.h"
#include "store/store.h"

static const char *status_text(const char *st, int en) {
  static const char *const names[][3] = {
      {"pending", "Aguardando pagamento", "Awaiting payment"},
      {"paid", "Pago, em entrega", "Paid, being delivered"},
      {"delivered", "Entregue", "Delivered"},
      {"waiting_stock", "Pago, aguardando estoque", "Paid, waiting for stock"},
      {"failed", "Falha na entrega", "Delivery failed"},
      {"expired", "Expirado", "Expired"},
      {"cancelled", "Cancelado", "Cancelled"},
      {"refunded", "Reembolsado", "Refunded"},
      {"charged_back", "Estornado", "Charged back"},
  };
  for (size_t i = 0; st && i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(names[i][0], st))
      return names[i][en ? 2 : 1];
  return st ? st : "?";
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, const char *a,
                   const char *b) {
  if (*len >= cap)
    return;
  int n = snprintf(buf + *len, cap - *len, fmt, a, b);
  if (n > 0)
    *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

void bot_cmd_pedido(struct ix *ix) {
  int en = !strcmp(bot_ix_locale(ix), "en");
  const char *raw = ix_option(ix, "codigo");
  char code[SHOP_ORDER_CODE_LEN + 1] = "";
  size_t n = 0;
  /* buyers type codes in any case, with stray spaces */
  for (const char *p = raw ? raw : ""; *p && n <= SHOP_ORDER_CODE_LEN; p++)
    if (!isspace((unsigned char)*p))
      code[n < SHOP_ORDER_CODE_LEN ? n : 0] = (char)toupper((unsigned char)*p), n++;
  code[n <= SHOP_ORDER_CODE_LEN ? n : 0] = '\0';
  const char *id = n == SHOP_ORDER_CODE_LEN
                       ? store_index_get(astra.store, STORE_ORDERS, "code", code, NULL)
                       : NULL;
  const json_t *o = id ? bot_buyer_order(ix, id) : NULL;
  if (!o) {
    ix_reply_text(ix, en ? "No order of yours with this code in this store."
                         : "Nenhum pedido seu com este código nesta loja.");
    ix_done(ix);
    return;
  }
  const char *st = json_string_value(json_object_get(o, "status"));
  const char *locale = en ? "en" : "pt-BR";
  char text[1900], money[SHOP_MONEY_MAX], num[48];
  size_t len = 0;
  append(text, sizeof text, &len, en ? "**Order `%s`**: %s\n" : "**Pedido `%s`**: %s\n", code,
         status_text(st, en));
  size_t i;
  const json_t *item;
  json_array_foreach(json_object_get(o, "items"), i, item) {
    const char *vn = json_string_value(json_object_get(item, "variationName"));
    snprintf(num, sizeof num, " ×%lld",
             (long long)json_integer_value(json_object_get(item, "quantity")));
    append(text, sizeof text, &len, "• %.150s%s",
           json_string_value(json_object_get(item, "productName")), vn ? " (" : "");
    if (vn)
      append(text, sizeof text, &len, "%.100s%s", vn, ")");
    append(text, sizeof text, &len, "%s%s\n", num, "");
  }
  shop_money_format(json_integer_value(json_object_get(o, "totalCents")),
                    json_string_value(json_object_get(o, "currency")), locale, money,
                    sizeof money);
  append(text, sizeof text, &len, "%s %s\n", en ? "Total:" : "Total:", money);
  append(text, sizeof text, &len, "%s%s\n", en ? "History:" : "Histórico:", "");
  const json_t *ev;
  json_array_foreach(json_object_get(o, "timeline"), i, ev) {
    /* Discord shows <t:…> in each reader's own time zone and language */
    snprintf(num, sizeof num, "<t:%lld:f>",
             (long long)(json_integer_value(json_object_get(ev, "at")) / 1000));
    append(text, sizeof text, &len, "• %s — %s\n", num,
           status_text(json_string_value(json_object_get(ev, "status")), en));
  }
  json_t *msg = json_pack("{s:s, s:i, s:{s:[]}}", "content", text, "flags", 64,
                          "allowed_mentions", "parse");
  char cid[CID_MAX + 1];
  const char *args[] = {id};
  if (st && !strcmp(st, "delivered") && cid_encode(cid, sizeof cid, "resend", args, 1) == 0)
    json_object_set_new(msg, "components",
                        json_pack("[{s:i, s:[{s:i, s:i, s:s, s:s}]}]", "type", 1, "components",
                                  "type", 2, "style", 2, "label", en ? "Resend" : "Reenviar",
                                  "custom_id", cid));
  ix_reply(ix, msg);
  ix_done(ix);
}
