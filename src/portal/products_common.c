/* What the product routes share (see include/portal/products.h): one set of field rules for
 * POST and PATCH, so that a value refused on creation is never accepted by an edit, and one
 * way to store a product and answer with what the seller sees. */
#include <stdio.h>
#include <string.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/products.h"
#include "shop/catalog.h"
#include "shop/sale.h"
#include "shop/stock.h"
#include "store/store.h"

#define PRICE_MAX 100000000

static const struct jspec_field product_fields[] = {
    {"name", JSPEC_STRING, 0, 1, 100, NULL},
    {"priceCents", JSPEC_INT, 0, 1, PRICE_MAX, NULL},
    {"description", JSPEC_STRING, JSPEC_OPTIONAL, 0, 2000, NULL},
    {"imageUrl", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 500, NULL},
    {"active", JSPEC_BOOL, JSPEC_OPTIONAL, 0, 0, NULL},
    {"dmTemplate", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, SHOP_TEMPLATE_MAX, NULL},
    {"lowStockThreshold", JSPEC_INT, JSPEC_OPTIONAL, 0, 100000, NULL},
    {"variations", JSPEC_ARRAY, JSPEC_OPTIONAL, 0, SHOP_MAX_VARIATIONS, NULL},
};
#define NPRODUCT (sizeof product_fields / sizeof product_fields[0])

static const struct jspec_field variation_fields[] = {
    {"name", JSPEC_STRING, 0, 1, 80, NULL},
    {"priceCents", JSPEC_INT, 0, 1, PRICE_MAX, NULL},
    {"active", JSPEC_BOOL, JSPEC_OPTIONAL, 0, 0, NULL},
};
#define NVARIATION (sizeof variation_fields / sizeof variation_fields[0])

/* A PATCH's table: the same fields, all optional (variations left out for products). */
static void as_patch(const struct jspec_field *in, size_t n, struct jspec_field *out) {
  for (size_t i = 0; i < n; i++) {
    out[i] = in[i];
    out[i].flags |= JSPEC_OPTIONAL;
  }
}

/* Text a seller typed: no control characters (a newline only where multiline), and a name
 * must have something besides spaces. */
static int text_ok(const char *s, int multiline, int nonblank) {
  int seen = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      if (!multiline || (*p != '\n' && *p != '\r' && *p != '\t'))
        return 0;
    } else if (*p != ' ') {
      seen = 1;
    }
  }
  return seen || !nonblank;
}

static int bad(struct http_request *req, struct http_reply *rep, enum err_id id,
               const char *field) {
  http_reply_error(req, rep, id, field, NULL);
  return -1;
}

int portal_template_check(struct http_request *req, struct http_reply *rep, const char *tpl,
                          const char *field) {
  size_t off, len;
  if (!text_ok(tpl, 1, 1))
    return bad(req, rep, ERR_BAD_FIELD, field);
  if (shop_template_check(tpl, &off, &len) != 0) {
    /* name the culprit: in a 1500-character template "unknown placeholder" alone is a hunt */
    int en = !strcmp(req->locale, "en");
    size_t show = len > 40 ? 40 : len;
    while (show < len && ((unsigned char)tpl[off + show] & 0xC0) == 0x80)
      show--; /* never cut a UTF-8 character in two */
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %.*s%s. %s",
             en ? "Unknown placeholder" : "Marcador desconhecido", (int)show, tpl + off,
             show < len ? "…" : "", err_message(ERR_BAD_TEMPLATE, req->locale));
    http_reply_error(req, rep, ERR_BAD_TEMPLATE, field, msg);
    return -1;
  }
  if (!shop_template_uses(tpl, "chave"))
    return bad(req, rep, ERR_TEMPLATE_NO_KEY, field);
  return 0;
}

/* The checks jspec cannot express for the variation fields present in v; prefix names the
 * field in the error ("variations[2]." inside a product, "" on its own). */
static int variation_extra(struct http_request *req, struct http_reply *rep, const json_t *v,
                           const char *prefix) {
  const char *name = json_string_value(json_object_get(v, "name"));
  if (name && !text_ok(name, 0, 1)) {
    char f[64];
    snprintf(f, sizeof f, "%sname", prefix);
    return bad(req, rep, ERR_BAD_FIELD, f);
  }
  return 0;
}

int portal_variation_check(struct http_request *req, struct http_reply *rep,
                           const json_t *body, int patch) {
  struct jspec_field patched[NVARIATION];
  as_patch(variation_fields, NVARIATION, patched);
  struct jspec_error e;
  if (jspec_check(body, patch ? patched : variation_fields, NVARIATION, 0, &e) != 0)
    return bad(req, rep, e.id, e.field);
  return variation_extra(req, rep, body, "");
}

int portal_product_check(struct http_request *req, struct http_reply *rep, const json_t *body,
                         int patch) {
  struct jspec_field patched[NPRODUCT];
  as_patch(product_fields, NPRODUCT, patched);
  struct jspec_error e;
  /* a PATCH never carries variations: they have their own routes */
  if (jspec_check(body, patch ? patched : product_fields, patch ? NPRODUCT - 1 : NPRODUCT, 0,
                  &e) != 0)
    return bad(req, rep, e.id, e.field);
  const char *name = json_string_value(json_object_get(body, "name"));
  if (name && !text_ok(name, 0, 1))
    return bad(req, rep, ERR_BAD_FIELD, "name");
  const char *desc = json_string_value(json_object_get(body, "description"));
  if (desc && !text_ok(desc, 1, 0))
    return bad(req, rep, ERR_BAD_FIELD, "description");
  const char *url = json_string_value(json_object_get(body, "imageUrl"));
  if (url && !shop_image_url_ok(url))
    return bad(req, rep, ERR_BAD_FIELD, "imageUrl");
  const char *tpl = json_string_value(json_object_get(body, "dmTemplate"));
  if (tpl && portal_template_check(req, rep, tpl, "dmTemplate") != 0)
    return -1;
  size_t i;
  const json_t *v;
  json_array_foreach(patch ? NULL : json_object_get(body, "variations"), i, v) {
    char prefix[32], f[96];
    snprintf(prefix, sizeof prefix, "variations[%zu]", i);
    if (!json_is_object(v))
      return bad(req, rep, ERR_BAD_FIELD, prefix);
    if (jspec_check(v, variation_fields, NVARIATION, 0, &e) != 0) {
      snprintf(f, sizeof f, "%s.%s", prefix, e.field ? e.field : "");
      return bad(req, rep, e.id, f);
    }
    strcat(prefix, ".");
    if (variation_extra(req, rep, v, prefix) != 0)
      return -1;
  }
  return 0;
}

json_t *portal_variation_new(const json_t *body) {
  char id[37];
  crypto_uuid(id);
  const json_t *active = json_object_get(body, "active");
  return json_pack("{s:s, s:O, s:O, s:b}", "id", id, "name", json_object_get(body, "name"),
                   "priceCents", json_object_get(body, "priceCents"), "active",
                   active ? json_is_true(active) : 1);
}

void portal_copy_fields(json_t *dst, const json_t *body) {
  const char *key;
  json_t *v;
  /* the body was checked against a table of known fields: nothing else can be in it */
  json_object_foreach((json_t *)body, key, v) json_object_set(dst, key, v);
}

json_t *portal_product_view(const char *instance_id, const json_t *rec) {
  struct shop_stock_tally t = {0};
  const char *pid = json_string_value(json_object_get(rec, "id"));
  json_t *view = NULL;
  if (pid && shop_stock_tally(instance_id, pid, &t) == 0)
    view = shop_product_json(rec, &t);
  shop_stock_tally_free(&t);
  return view;
}

enum http_result portal_product_commit(struct http_request *req, struct http_reply *rep,
                                       const char *instance_id, json_t *rec, unsigned status) {
  const char *pid = json_string_value(json_object_get(rec, "id"));
  json_t *body = status == 204 ? NULL : portal_product_view(instance_id, rec);
  struct store_txn *t = store_begin(astra.store);
  if (!pid || (status != 204 && !body) || !t) {
    json_decref(body);
    json_decref(rec);
    if (t)
      store_abort(t);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  char id[65];
  snprintf(id, sizeof id, "%s", pid); /* rec goes to the store below */
  if (store_put(t, STORE_PRODUCTS, instance_id, id, rec) != 0) {
    store_abort(t);
    json_decref(body);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  /* every route that changes a product comes here: a posted product's post is edited to
   * match (name, price, variations; unavailable once deleted or deactivated) */
  int queued = shop_outbox_post_update(t, instance_id, id, portal_now_ms());
  enum http_result r = portal_commit_reply(req, rep, t, status, body, ERR_CONFLICT, NULL);
  if (queued && r == HTTP_SUSPEND)
    bot_outbox_kick();
  return r;
}

size_t portal_product_live_keys(const char *instance_id, const char *product_id,
                                const char *variation_id) {
  struct shop_stock_tally t = {0};
  /* out of memory counts as "has keys": refusing a delete is the safe mistake */
  if (shop_stock_tally(instance_id, product_id, &t) != 0) {
    shop_stock_tally_free(&t);
    return 1;
  }
  struct shop_stock_counts n = shop_stock_tally_get(&t, product_id, variation_id);
  shop_stock_tally_free(&t);
  return n.available + n.reserved;
}
