/* The catalog's rules in one place (see include/shop/catalog.h): the DM template language,
 * the product as a seller sees it, the price to charge. The portal, the product post and the
 * delivery call these, so a template accepted by the portal renders the same in the DM. */
#include "shop/catalog.h"

#include <stdlib.h>
#include <string.h>

static const char *const placeholders[] = {"produto", "variacao", "chave",
                                           "pedido",  "comprador", "loja"};
#define NPLACEHOLDERS (sizeof placeholders / sizeof placeholders[0])

static const char default_pt[] = "Obrigado pela compra, {comprador}!\n"
                                 "Pedido {pedido}: {produto} {variacao}\n"
                                 "Sua chave:\n"
                                 "{chave}\n"
                                 "{loja}";
static const char default_en[] = "Thank you for your purchase, {comprador}!\n"
                                 "Order {pedido}: {produto} {variacao}\n"
                                 "Your key:\n"
                                 "{chave}\n"
                                 "{loja}";

const char *shop_template_default(const char *locale) {
  return locale && !strcmp(locale, "en") ? default_en : default_pt;
}

/* Bytes that make up a placeholder's word. Non-ASCII bytes count, so that "{variação}" is
 * refused as a typo of "{variacao}" instead of reaching a buyer as text. */
static int word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-' || c >= 0x80;
}

/* At s (a '{'): the length of "{word}" (braces included), or 0 when s does not start one. */
static size_t word_at(const char *s) {
  size_t j = 1;
  while (word_byte((unsigned char)s[j]))
    j++;
  return j > 1 && s[j] == '}' ? j + 1 : 0;
}

/* The index of the placeholder "{word}" of length len at s, or -1 when unknown. */
static int placeholder_index(const char *s, size_t len) {
  for (size_t i = 0; i < NPLACEHOLDERS; i++)
    if (strlen(placeholders[i]) == len - 2 && !memcmp(placeholders[i], s + 1, len - 2))
      return (int)i;
  return -1;
}

int shop_template_check(const char *tpl, size_t *bad_off, size_t *bad_len) {
  for (size_t i = 0; tpl[i]; i++) {
    if (tpl[i] != '{')
      continue;
    size_t len = word_at(tpl + i);
    if (!len)
      continue; /* a lone brace is text */
    if (placeholder_index(tpl + i, len) < 0) {
      if (bad_off)
        *bad_off = i;
      if (bad_len)
        *bad_len = len;
      return -1;
    }
    i += len - 1;
  }
  return 0;
}

int shop_template_uses(const char *tpl, const char *name) {
  for (size_t i = 0; tpl[i]; i++) {
    size_t len = tpl[i] == '{' ? word_at(tpl + i) : 0;
    if (len && len - 2 == strlen(name) && !memcmp(tpl + i + 1, name, len - 2))
      return 1;
  }
  return 0;
}

struct buf {
  char *p;
  size_t len, cap;
  int oom;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

/* Drops the blanks at the end of what was written so far (the end of a line). */
static void trim_line_end(struct buf *b) {
  while (b->len && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t'))
    b->p[--b->len] = '\0';
}

char *shop_template_render(const char *tpl, const struct shop_template_vars *v,
                           const char *locale) {
  if (!tpl)
    tpl = shop_template_default(locale);
  const char *vals[NPLACEHOLDERS] = {v->produto, v->variacao, v->chave,
                                     v->pedido,  v->comprador, v->loja};
  struct buf b = {0};
  put(&b, "", 0); /* an empty template still yields "" */
  for (size_t i = 0; tpl[i];) {
    if (tpl[i] == '\n') {
      trim_line_end(&b);
      put(&b, "\n", 1);
      i++;
      continue;
    }
    size_t len = tpl[i] == '{' ? word_at(tpl + i) : 0;
    int k = len ? placeholder_index(tpl + i, len) : -1;
    if (k >= 0) {
      if (vals[k])
        put(&b, vals[k], strlen(vals[k]));
      i += len;
      continue;
    }
    /* literal text up to the next brace or line end */
    size_t j = i + 1;
    while (tpl[j] && tpl[j] != '{' && tpl[j] != '\n')
      j++;
    put(&b, tpl + i, j - i);
    i = j;
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  trim_line_end(&b);
  return b.p;
}

int shop_low_stock(int64_t threshold, size_t available) {
  return threshold > 0 && (int64_t)available <= threshold;
}

static json_t *counts_json(struct shop_stock_counts n) {
  return json_pack("{s:I,s:I,s:I}", "available", (json_int_t)n.available, "reserved",
                   (json_int_t)n.reserved, "sold", (json_int_t)n.sold);
}

/* Sets key to null when the record lacks it, so that the seller's object always has every
 * field of the contract. */
static void default_null(json_t *o, const char *key) {
  if (!json_object_get(o, key))
    json_object_set_new(o, key, json_null());
}

json_t *shop_product_json(const json_t *rec, const struct shop_stock_tally *t) {
  const char *pid = json_string_value(json_object_get(rec, "id"));
  json_t *out = json_deep_copy(rec);
  if (!out || !pid) {
    json_decref(out);
    return NULL;
  }
  json_object_del(out, "instanceId");
  json_object_del(out, "deletedAt");
  default_null(out, "imageUrl");
  default_null(out, "dmTemplate");
  default_null(out, "post");
  int64_t threshold = json_integer_value(json_object_get(rec, "lowStockThreshold"));
  struct shop_stock_counts none = {0, 0, 0};
  int low_variation = 0;
  json_t *vars = json_object_get(out, "variations");
  if (!json_is_array(vars)) {
    vars = json_array();
    json_object_set_new(out, "variations", vars);
  }
  size_t i;
  json_t *var;
  json_array_foreach(vars, i, var) {
    const char *vid = json_string_value(json_object_get(var, "id"));
    struct shop_stock_counts n = t && vid ? shop_stock_tally_get(t, pid, vid) : none;
    /* an inactive variation is not on sale: its stock is no reason to warn */
    int low =
        json_is_true(json_object_get(var, "active")) && shop_low_stock(threshold, n.available);
    low_variation |= low;
    json_object_set_new(var, "stock", counts_json(n));
    json_object_set_new(var, "lowStock", json_boolean(low));
  }
  struct shop_stock_counts n = t ? shop_stock_tally_get(t, pid, NULL) : none;
  json_object_set_new(out, "stock", counts_json(n));
  json_object_set_new(out, "lowStock",
                      json_boolean(low_variation || shop_low_stock(threshold, n.available)));
  return out;
}

const json_t *shop_product_variation(const json_t *rec, const char *variation_id) {
  size_t i;
  const json_t *var;
  if (!variation_id)
    return NULL;
  json_array_foreach(json_object_get(rec, "variations"), i, var) {
    const char *id = json_string_value(json_object_get(var, "id"));
    if (id && !strcmp(id, variation_id))
      return var;
  }
  return NULL;
}

int64_t shop_price_cents(const json_t *rec, const char *variation_id) {
  const json_t *from = rec;
  if (variation_id && !(from = shop_product_variation(rec, variation_id)))
    return -1;
  const json_t *p = json_object_get(from, "priceCents");
  if (!json_is_integer(p) || json_integer_value(p) < 1)
    return -1;
  return json_integer_value(p);
}

int shop_image_url_ok(const char *url) {
  static const char scheme[] = "https://";
  if (!url || strncmp(url, scheme, sizeof scheme - 1))
    return 0;
  const char *h = url + sizeof scheme - 1, *p = h;
  while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '.' || *p == '-')
    p++;
  /* a host needs a letter or digit: "https://./x" or "https://-" is no host */
  int host_ok = 0;
  for (const char *q = h; q < p; q++)
    host_ok |= *q != '.' && *q != '-';
  if (!host_ok)
    return 0;
  if (*p == ':') {
    const char *port = ++p;
    while (*p >= '0' && *p <= '9')
      p++;
    if (p == port || p - port > 5)
      return 0;
  }
  /* after the host: the end, or a path, query or fragment (never userinfo, "@") */
  if (*p && *p != '/' && *p != '?' && *p != '#')
    return 0;
  for (; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f)
      return 0;
  return 1;
}
