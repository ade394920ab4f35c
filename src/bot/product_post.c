/* A product's post (include/bot/product_post.h): one embed (name, description, price, stock,
 * variations, image) and the components that start a purchase. Texts come from sellers and
 * can be as long as the catalog allows (or longer, in old data), so every one is cut to
 * Discord's limit on a UTF-8 boundary: a body Discord would refuse is never built. Counting
 * is in code points, as limits.c does; Discord trims whitespace before counting, so ours is
 * never the smaller count. */
#include "bot/product_post.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "discord/customid.h"
#include "shop/money.h"
#include "store/store.h"

enum {
  TITLE_MAX = 256,
  DESC_MAX = 4096,
  FIELD_VALUE_MAX = 1024,
  EMBED_TOTAL_MAX = 6000,
  OPTIONS_MAX = 25,
  OPTION_TEXT_MAX = 100,
  COLOR_IN_STOCK = 0x2ECC71,
  COLOR_SOLD_OUT = 0x95A5A6,
};

/* Code points in s (valid UTF-8: jansson only holds valid strings). */
static size_t cp_len(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Byte length of the first max code points of s. */
static size_t cp_prefix(const char *s, size_t max) {
  size_t i = 0, n = 0;
  while (s[i]) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (n == max)
        break;
      n++;
    }
    i++;
  }
  return i;
}

json_t *bot_clip_text(const char *s, size_t max) {
  if (!s)
    s = "";
  if (cp_len(s) <= max)
    return json_string(s);
  if (max == 0)
    return json_string("");
  size_t keep = cp_prefix(s, max - 1); /* room for the ellipsis, one code point */
  char *buf = malloc(keep + 4);
  if (!buf)
    return NULL;
  memcpy(buf, s, keep);
  memcpy(buf + keep, "\xE2\x80\xA6", 4); /* "…" and its NUL */
  json_t *j = json_string(buf);
  free(buf);
  return j;
}

static int is_en(const char *locale) { return locale && !strcmp(locale, "en"); }

static const char *tr(const char *locale, const char *pt, const char *en) {
  return is_en(locale) ? en : pt;
}

/* Variations absent "active" count as active (the catalog's default). */
static int var_active(const json_t *v) {
  return json_is_object(v) && !json_is_false(json_object_get(v, "active")) &&
         json_string_value(json_object_get(v, "id"));
}

static size_t available(const struct shop_stock_tally *t, const char *pid, const char *vid) {
  return t ? shop_stock_tally_get(t, pid, vid).available : 0;
}

/* "12 disponíveis", "1 disponível", "Esgotado" (and English). */
static void stock_text(const char *locale, size_t n, char *out, size_t len) {
  if (n == 0)
    snprintf(out, len, "%s", tr(locale, "Esgotado", "Sold out"));
  else if (is_en(locale))
    snprintf(out, len, "%zu available", n);
  else
    snprintf(out, len, "%zu %s", n, n == 1 ? "disponível" : "disponíveis");
}

static int64_t cents_of(const json_t *rec) {
  return (int64_t)json_integer_value(json_object_get(rec, "priceCents"));
}

/* The "Variações" field: one line per active variation, as many as fit in 1024, then a line
 * saying how many were left out. */
static json_t *variations_field(const char *pid, const json_t *vars,
                                const struct shop_stock_tally *t, const char *cur,
                                const char *locale) {
  char *val = calloc(1, FIELD_VALUE_MAX * 4 + 1); /* code points of up to 4 bytes */
  if (!val)
    return NULL;
  size_t used_cp = 0, used_b = 0, total = 0, shown = 0;
  /* room kept for the "…e mais 25" line */
  const size_t reserve = 24;
  size_t i;
  json_t *v;
  json_array_foreach(vars, i, v) {
    if (!var_active(v))
      continue;
    total++;
  }
  json_array_foreach(vars, i, v) {
    if (!var_active(v))
      continue;
    char price[SHOP_MONEY_MAX], stock[64];
    shop_money_format(cents_of(v), cur, locale, price, sizeof price);
    stock_text(locale, available(t, pid, json_string_value(json_object_get(v, "id"))), stock,
               sizeof stock);
    json_t *name = bot_clip_text(json_string_value(json_object_get(v, "name")), 80);
    if (!name)
      break;
    char line[512];
    snprintf(line, sizeof line, "%s\xE2\x80\xA2 %s \xE2\x80\x94 %s (%s)", shown ? "\n" : "",
             json_string_value(name), price, stock);
    json_decref(name);
    size_t lcp = cp_len(line), lb = strlen(line);
    size_t room = shown + 1 == total ? FIELD_VALUE_MAX : FIELD_VALUE_MAX - reserve;
    if (used_cp + lcp > room)
      break;
    memcpy(val + used_b, line, lb + 1);
    used_cp += lcp;
    used_b += lb;
    shown++;
  }
  if (shown < total) {
    char more[64];
    snprintf(more, sizeof more, "%s\xE2\x80\xA6 %s %zu", shown ? "\n" : "",
             tr(locale, "e mais", "and"), total - shown);
    if (is_en(locale))
      snprintf(more + strlen(more), sizeof more - strlen(more), " more");
    memcpy(val + used_b, more, strlen(more) + 1);
  }
  json_t *f = json_pack("{s:s, s:s, s:b}", "name", tr(locale, "Variações", "Options"), "value",
                        val, "inline", 0);
  free(val);
  return f;
}

/* Code points an embed field adds to the 6000 total. */
static size_t field_cp(const json_t *f) {
  return cp_len(json_string_value(json_object_get(f, "name"))) +
         cp_len(json_string_value(json_object_get(f, "value")));
}

static json_t *select_row(const char *pid, const json_t *vars, const struct shop_stock_tally *t,
                          const char *cur, const char *locale) {
  char cid[CID_MAX + 1];
  const char *args[] = {pid};
  if (cid_encode(cid, sizeof cid, "pick", args, 1) != 0)
    return NULL;
  json_t *opts = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(vars, i, v) {
    const char *vid = json_string_value(json_object_get(v, "id"));
    if (!var_active(v) || !*vid || cp_len(vid) > OPTION_TEXT_MAX)
      continue;
    if (json_array_size(opts) == OPTIONS_MAX)
      break;
    char price[SHOP_MONEY_MAX], stock[64], desc[160];
    shop_money_format(cents_of(v), cur, locale, price, sizeof price);
    stock_text(locale, available(t, pid, vid), stock, sizeof stock);
    snprintf(desc, sizeof desc, "%s \xC2\xB7 %s", price, stock);
    const char *name = json_string_value(json_object_get(v, "name"));
    json_t *label = bot_clip_text(name && *name ? name : vid, OPTION_TEXT_MAX);
    json_array_append_new(opts, json_pack("{s:o, s:s, s:o}", "label", label, "value", vid,
                                          "description", bot_clip_text(desc, OPTION_TEXT_MAX)));
  }
  if (!json_array_size(opts)) {
    json_decref(opts);
    return NULL;
  }
  return json_pack("{s:i, s:[{s:i, s:s, s:s, s:o}]}", "type", 1, "components", "type", 3,
                   "custom_id", cid, "placeholder",
                   tr(locale, "Escolha uma opção", "Choose an option"), "options", opts);
}

json_t *bot_product_post_render(const char *pid, const json_t *product,
                                const struct shop_stock_tally *t, const char *locale) {
  char buy[CID_MAX + 1];
  const char *args[] = {pid};
  if (!pid || !json_is_object(product) || cid_encode(buy, sizeof buy, "buy", args, 1) != 0)
    return NULL;
  const char *cur = json_string_value(json_object_get(product, "currency"));
  const json_t *vars = json_object_get(product, "variations");
  if (!json_is_array(vars))
    vars = NULL;
  /* a deleted or deactivated product's post stays where buyers saw it, saying so, with the
   * button disabled: a post that vanished would leave buyers wondering (docs/selling.md) */
  int off = json_object_get(product, "deletedAt") != NULL ||
            json_is_false(json_object_get(product, "active"));

  /* price and stock: with variations, only the active ones are for sale */
  size_t nactive = 0, avail = 0;
  int64_t lo = INT64_MAX, hi = 0;
  size_t i;
  json_t *v;
  json_array_foreach(vars, i, v) {
    if (!var_active(v))
      continue;
    int64_t c = cents_of(v);
    lo = c < lo ? c : lo;
    hi = c > hi ? c : hi;
    avail += available(t, pid, json_string_value(json_object_get(v, "id")));
    nactive++;
  }
  if (!vars || !json_array_size(vars)) {
    lo = hi = cents_of(product);
    avail = available(t, pid, NULL);
  } else if (!nactive) {
    lo = hi = cents_of(product); /* nothing on sale: show the product's own price */
  }
  char price[SHOP_MONEY_MAX], price_text[80], stock[64];
  shop_money_format(lo, cur, locale, price, sizeof price);
  if (lo != hi)
    snprintf(price_text, sizeof price_text, "%s %s", tr(locale, "a partir de", "from"), price);
  else
    snprintf(price_text, sizeof price_text, "%s", price);
  stock_text(locale, avail, stock, sizeof stock);
  if (off)
    snprintf(stock, sizeof stock, "%s", tr(locale, "Indisponível", "Unavailable"));

  json_t *fields = json_array();
  json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name", tr(locale, "Preço", "Price"),
                                          "value", price_text, "inline", 1));
  json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name",
                                          tr(locale, "Estoque", "Stock"), "value", stock,
                                          "inline", 1));
  if (nactive && !off) {
    json_t *f = variations_field(pid, vars, t, cur, locale);
    if (f)
      json_array_append_new(fields, f);
  }

  json_t *title = bot_clip_text(json_string_value(json_object_get(product, "name")), TITLE_MAX);
  size_t used = title ? cp_len(json_string_value(title)) : 0;
  json_t *f;
  json_array_foreach(fields, i, f) used += field_cp(f);
  /* the description gets what the 6000 total leaves */
  size_t room = used < EMBED_TOTAL_MAX ? EMBED_TOTAL_MAX - used : 0;
  const char *d = json_string_value(json_object_get(product, "description"));
  json_t *embed = json_pack("{s:o?, s:i, s:o}", "title", title, "color",
                            avail && !off ? COLOR_IN_STOCK : COLOR_SOLD_OUT, "fields", fields);
  if (d && *d && room > 0)
    json_object_set_new(embed, "description", bot_clip_text(d, room < DESC_MAX ? room : DESC_MAX));
  const char *img = json_string_value(json_object_get(product, "imageUrl"));
  if (img && !strncmp(img, "https://", 8))
    json_object_set_new(embed, "image", json_pack("{s:s}", "url", img));

  json_t *rows = json_array();
  json_t *sel = vars && !off ? select_row(pid, vars, t, cur, locale) : NULL;
  if (sel)
    json_array_append_new(rows, sel);
  json_t *button = json_pack("{s:i, s:i, s:s, s:s}", "type", 2, "style", 3, "label",
                             tr(locale, "Comprar", "Buy"), "custom_id", buy);
  if (off)
    json_object_set_new(button, "disabled", json_true());
  json_array_append_new(rows, json_pack("{s:i, s:[o]}", "type", 1, "components", button));
  return json_pack("{s:[o], s:o}", "embeds", embed, "components", rows);
}

json_t *bot_product_post(const char *instance_id, const char *product_id) {
  const json_t *prod = store_get(astra.store, STORE_PRODUCTS, instance_id, product_id);
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, instance_id);
  if (!prod || !inst)
    return NULL;
  const char *locale =
      json_string_value(json_object_get(json_object_get(inst, "settings"), "locale"));
  struct shop_stock_tally t;
  memset(&t, 0, sizeof t);
  if (shop_stock_tally(instance_id, product_id, &t) != 0) {
    shop_stock_tally_free(&t);
    return NULL;
  }
  json_t *msg = bot_product_post_render(product_id, prod, &t, locale ? locale : "pt-BR");
  shop_stock_tally_free(&t);
  return msg;
}
