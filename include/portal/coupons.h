/* Shared by the portal's coupon routes (src/portal/ files with "coupons" in their name): the
 * seller's view of a coupon, and the rules a body must follow to become a coupon record. */
#ifndef ASTRA_PORTAL_COUPONS_H
#define ASTRA_PORTAL_COUPONS_H

#include <jansson.h>
#include <stdint.h>

#include "http/http.h"

/* Bounds of validFrom/validUntil: the epoch to the end of year 9999 (ms). */
#define PORTAL_COUPON_MAX_MS 253402300799999LL

/* {"id","code","type","value","productIds","maxUses","maxUsesPerBuyer","validFrom",
 * "validUntil","active","uses","createdAt","updatedAt"}: the record without its internal
 * fields, with "uses" counted from the orders. */
json_t *portal_coupon_json(const char *instance_id, const json_t *rec);

/* Applies the fields of req->json (already checked with jspec for types and generic bounds)
 * to rec, a coupon record of instance_id being created or changed, and checks what only the
 * whole record can tell: the code's characters, value against type, products of this
 * instance, the validity window. Sets "updatedAt" to now_ms. 0, or -1 with a 400 in rep
 * (rec is then half-changed: the caller drops it). */
int portal_coupon_apply(struct http_request *req, struct http_reply *rep, const char *instance_id,
                        json_t *rec, int64_t now_ms);

#endif
