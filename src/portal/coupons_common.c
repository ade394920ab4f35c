/* What the coupon routes share: the seller's view of a coupon, and the checks that need the
 * whole record (value against type, the window, products of this instance) after jspec has
 * checked each field alone. POST and PATCH go through the same function so that a PATCH can
 * never reach a state a POST would refuse (say, "type":"percent" over a 5000-cent value). */
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "portal/coupons.h"
#include "shop/coupon.h"
#include "store/store.h"

static const char *const view_fields[] = {"id",        "code",       "type",   "value",
                                          "productIds", "maxUses",   "maxUsesPerBuyer",
                                          "validFrom", "validUntil", "active", "createdAt",
                                          "updatedAt", NULL};

json_t *portal_coupon_json(const char *instance_id, const json_t *rec) {
  json_t *j = json_object();
  for (const char *const *f = view_fields; *f; f++) {
    json_t *v = json_object_get(rec, *f);
    json_object_set_new(j, *f, v ? json_incref(v) : json_null());
  }
  int64_t uses = 0;
  shop_coupon_uses(instance_id, json_string_value(json_object_get(rec, "id")), NULL, &uses,
                   NULL);
  json_object_set_new(j, "uses", json_integer((json_int_t)uses));
  return j;
}

/* A 400 naming field, with a message that says what would be accepted. */
static int refuse(struct http_request *req, struct http_reply *rep, enum err_id id,
                  const char *field, const char *pt, const char *en) {
  http_reply_error(req, rep, id, field, pt ? (strcmp(req->locale, "en") ? pt : en) : NULL);
  return -1;
}

/* productIds: products of this instance that are not deleted, each once, in the order
 * given. */
static json_t *checked_products(const char *instance_id, const json_t *ids) {
  json_t *out = json_array();
  size_t i;
  const json_t *v;
  json_array_foreach(ids, i, v) {
    const char *pid = json_string_value(v);
    const json_t *prod = pid ? store_get(astra.store, STORE_PRODUCTS, instance_id, pid) : NULL;
    if (!prod || json_object_get(prod, "deletedAt")) {
      json_decref(out);
      return NULL;
    }
    int seen = 0;
    size_t k;
    const json_t *w;
    json_array_foreach(out, k, w) seen |= !strcmp(json_string_value(w), pid);
    if (!seen)
      json_array_append_new(out, json_string(pid));
  }
  return out;
}

static const char *const copied[] = {"type", "value", "maxUses", "maxUsesPerBuyer",
                                     "validFrom", "validUntil", "active", NULL};

int portal_coupon_apply(struct http_request *req, struct http_reply *rep, const char *instance_id,
                        json_t *rec, int64_t now_ms) {
  const json_t *body = req->json;
  const json_t *code = json_object_get(body, "code");
  if (code) {
    char norm[SHOP_COUPON_CODE_MAX + 1];
    if (shop_coupon_normalize(json_string_value(code), norm) != 0)
      return refuse(req, rep, ERR_BAD_FIELD, "code",
                    "O código deve ter de 3 a 32 caracteres: letras, números, - ou _.",
                    "The code must have 3 to 32 characters: letters, digits, - or _.");
    char key[SHOP_COUPON_ID_MAX + 1 + SHOP_COUPON_CODE_MAX + 1];
    snprintf(key, sizeof key, "%s:%s", instance_id, norm);
    json_object_set_new(rec, "code", json_string(norm));
    json_object_set_new(rec, "codeKey", json_string(key));
  }
  for (const char *const *f = copied; *f; f++) {
    json_t *v = json_object_get(body, *f);
    if (v)
      json_object_set(rec, *f, v);
  }
  const json_t *pids = json_object_get(body, "productIds");
  if (pids) {
    json_t *ok = checked_products(instance_id, pids);
    if (!ok)
      return refuse(req, rep, ERR_BAD_FIELD, "productIds",
                    "Escolha apenas produtos existentes desta loja.",
                    "Pick only existing products of this store.");
    json_object_set_new(rec, "productIds", ok);
  }
  /* value against the type the record ends up with, so that a PATCH of "type" alone is held
   * to the new type's bounds */
  const char *type = json_string_value(json_object_get(rec, "type"));
  int percent = type && !strcmp(type, "percent");
  json_int_t value = json_integer_value(json_object_get(rec, "value"));
  if (percent && (value < 1 || value > SHOP_COUPON_MAX_PERCENT))
    return refuse(req, rep, ERR_BAD_FIELD, "value",
                  "Para desconto percentual, o valor vai de 1 a 100.",
                  "A percent discount takes a value from 1 to 100.");
  if (!percent && (value < 1 || value > SHOP_COUPON_MAX_FIXED_CENTS))
    return refuse(req, rep, ERR_BAD_FIELD, "value",
                  "Para desconto fixo, o valor vai de 1 a 100.000.000 centavos.",
                  "A fixed discount takes a value from 1 to 100,000,000 cents.");
  const json_t *from = json_object_get(rec, "validFrom");
  const json_t *until = json_object_get(rec, "validUntil");
  if (json_is_integer(from) && json_is_integer(until) &&
      json_integer_value(until) <= json_integer_value(from))
    return refuse(req, rep, ERR_COUPON_WINDOW,
                  json_object_get(body, "validUntil") || !json_object_get(body, "validFrom")
                      ? "validUntil"
                      : "validFrom",
                  NULL, NULL);
  json_object_set_new(rec, "updatedAt", json_integer((json_int_t)now_ms));
  /* the record must read back as a coupon the selling flow accepts */
  struct shop_coupon c;
  if (shop_coupon_parse(rec, &c) != 0) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return -1;
  }
  return 0;
}
