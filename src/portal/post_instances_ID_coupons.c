/* POST /api/instances/:id/coupons {code,type,value,productIds?,maxUses?,maxUsesPerBuyer?,
 * validFrom?,validUntil?,active?}: a new coupon. A code already used in this instance is a
 * 409 from the store's unique index on codeKey, checked in the same step as the write. */
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/coupons.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "shop/coupon.h"
#include "store/store.h"

static const char *const types[] = {"percent", "fixed", NULL};

/* Generic bounds here; value against type and the window are checked on the whole record. */
static const struct jspec_field fields[] = {
    {"code", JSPEC_STRING, 0, SHOP_COUPON_CODE_MIN, SHOP_COUPON_CODE_MAX, NULL},
    {"type", JSPEC_ENUM, 0, 0, 0, types},
    {"value", JSPEC_INT, 0, 1, SHOP_COUPON_MAX_FIXED_CENTS, NULL},
    {"productIds", JSPEC_ARRAY, JSPEC_OPTIONAL, 0, SHOP_COUPON_MAX_PRODUCTS, NULL},
    {"maxUses", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, SHOP_COUPON_MAX_USES, NULL},
    {"maxUsesPerBuyer", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, SHOP_COUPON_MAX_USES,
     NULL},
    {"validFrom", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 0, PORTAL_COUPON_MAX_MS, NULL},
    {"validUntil", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 0, PORTAL_COUPON_MAX_MS, NULL},
    {"active", JSPEC_BOOL, JSPEC_OPTIONAL, 0, 0, NULL},
};

enum http_result portal_post_instances_ID_coupons(struct http_request *req,
                                                  struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  const char *inst = req->params[0];
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  if (store_count(astra.store, STORE_COUPONS, inst) >= SHOP_COUPON_MAX_PER_INSTANCE) {
    http_reply_error(req, rep, ERR_CONFLICT, NULL,
                     strcmp(req->locale, "en") ? "Limite de 500 cupons por loja atingido."
                                               : "Limit of 500 coupons per store reached.");
    return HTTP_DONE;
  }
  char id[37];
  crypto_uuid(id);
  int64_t now = portal_next_created_at(inst, STORE_COUPONS);
  json_t *rec = json_pack("{s:s, s:s, s:[], s:n, s:n, s:n, s:n, s:b, s:I}", "id", id,
                          "instanceId", inst, "productIds", "maxUses", "maxUsesPerBuyer",
                          "validFrom", "validUntil", "active", 1, "createdAt", (json_int_t)now);
  if (portal_coupon_apply(req, rep, inst, rec, now) != 0) {
    json_decref(rec);
    return HTTP_DONE;
  }
  json_t *view = portal_coupon_json(inst, rec);
  struct store_txn *t = store_begin(astra.store);
  if (store_put(t, STORE_COUPONS, inst, id, rec) != 0) {
    store_abort(t);
    json_decref(view);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  return portal_commit_reply(req, rep, t, 201, view, ERR_COUPON_CODE_TAKEN, "code");
}
