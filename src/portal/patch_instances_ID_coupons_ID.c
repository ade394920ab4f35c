/* PATCH /api/instances/:id/coupons/:cid {any of the POST fields}: changes a coupon. The
 * merged record is checked as a whole (a new type re-checks the old value; a new start
 * re-checks the old end), and a code taken by another coupon of the instance is a 409. */
#include "core/app.h"
#include "core/jspec.h"
#include "portal/catalog.h"
#include "portal/coupons.h"
#include "portal/portal.h"
#include "shop/coupon.h"
#include "store/store.h"

static const char *const types[] = {"percent", "fixed", NULL};

static const struct jspec_field fields[] = {
    {"code", JSPEC_STRING, JSPEC_OPTIONAL, SHOP_COUPON_CODE_MIN, SHOP_COUPON_CODE_MAX, NULL},
    {"type", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, types},
    {"value", JSPEC_INT, JSPEC_OPTIONAL, 1, SHOP_COUPON_MAX_FIXED_CENTS, NULL},
    {"productIds", JSPEC_ARRAY, JSPEC_OPTIONAL, 0, SHOP_COUPON_MAX_PRODUCTS, NULL},
    {"maxUses", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, SHOP_COUPON_MAX_USES, NULL},
    {"maxUsesPerBuyer", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, SHOP_COUPON_MAX_USES,
     NULL},
    {"validFrom", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 0, PORTAL_COUPON_MAX_MS, NULL},
    {"validUntil", JSPEC_INT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 0, PORTAL_COUPON_MAX_MS, NULL},
    {"active", JSPEC_BOOL, JSPEC_OPTIONAL, 0, 0, NULL},
};

enum http_result portal_patch_instances_ID_coupons_ID(struct http_request *req,
                                                      struct http_reply *rep) {
  const json_t *cur = portal_own_scoped(req, rep, STORE_COUPONS);
  if (!cur)
    return HTTP_DONE;
  const char *inst = req->params[0], *id = req->params[1];
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  json_t *rec = json_deep_copy(cur);
  if (!rec) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  if (portal_coupon_apply(req, rep, inst, rec, portal_now_ms()) != 0) {
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
  return portal_commit_reply(req, rep, t, 200, view, ERR_COUPON_CODE_TAKEN, "code");
}
