/* Orders and customers, read side: statuses, the seller's filter, the seller's view of a
 * record, and newest-first pages of one instance's orders and customers with opaque
 * cursors. Knows nothing of HTTP; the portal's order and customer routes call it.
 *
 * An order record (data/orders.json, key "orders"), as the selling flow writes it:
 *   {"id","instanceId","code","status","buyerId" (Discord user id),"buyerName",
 *    "items":[{"productId","variationId"|null,"productName","variationName"|null,
 *              "quantity","unitCents","stockIds":[…]}],
 *    "subtotalCents","discountCents","totalCents","currency",
 *    "couponId"|null (indexed),"coupon":{"id","code"}|null,
 *    "payment":{"provider","id","status", …provider data such as "qrCode", "raw"}|null,
 *    "stockIds":[…],"createdAt","paidAt"|null,"deliveredAt"|null,"expiresAt",
 *    "timeline":[{"at","status","detail"?}]}
 * Times are integer milliseconds since the epoch (anything else sorts and filters as 0).
 * Indexed on instanceId, buyerId and couponId (src/shop/shop.c).
 *
 * A customer record (data/customers.json, key "customers"), one per (instance, buyer):
 *   {"id","instanceId","discordId","username","firstPurchaseAt","lastPurchaseAt",
 *    "orderCount","totalSpentCents"}
 * Indexed on instanceId. */
#ifndef ASTRA_SHOP_ORDER_H
#define ASTRA_SHOP_ORDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum shop_order_status {
  SHOP_ORDER_PENDING,
  SHOP_ORDER_PAID,
  SHOP_ORDER_DELIVERED,
  SHOP_ORDER_WAITING_STOCK,
  SHOP_ORDER_FAILED,
  SHOP_ORDER_EXPIRED,
  SHOP_ORDER_CANCELLED,
  SHOP_ORDER_REFUNDED,
  SHOP_ORDER_CHARGED_BACK,
  SHOP_ORDER_STATUS_COUNT
};

/* "pending", "charged_back"…; "?" for a value out of range. */
const char *shop_order_status_name(enum shop_order_status s);
/* The status named s (exact, lower case), or -1. */
int shop_order_status_parse(const char *s);

/* Limits of the seller's queries. */
#define SHOP_ORDER_Q_MAX 100     /* characters (code points) of q */
#define SHOP_ORDER_LIMIT_MAX 100 /* records per page */
#define SHOP_ORDER_CURSOR_MAX 128 /* bytes of an encoded cursor, NUL included */

/* What a seller filters orders by. status -1: any; q NULL or "": any; from_ms / to_ms -1:
 * open (both inclusive, on createdAt). */
struct shop_order_filter {
  int status;
  const char *q;
  int64_t from_ms, to_ms;
};
void shop_order_filter_init(struct shop_order_filter *f);
/* 1 when the order record matches f. q is a case-insensitive substring of the code, the
 * buyer's name or id, or any item's product name. */
int shop_order_match(const json_t *order, const struct shop_order_filter *f);
/* 1 when the customer record matches q (username or Discord id; NULL or "": every one). */
int shop_order_customer_match(const json_t *customer, const char *q);
/* 1 when needle is in hay ignoring ASCII case; other bytes (UTF-8) compare exactly, so a
 * multi-byte character only ever matches itself. */
int shop_order_icontains(const char *hay, const char *needle);

/* The seller's view of a record stored under id: only the documented fields
 * (docs/api-portal.md), every one present (null when the record lacks it), so stock ids,
 * keys, QR codes and raw provider data never leave. New references. */
json_t *shop_order_view(const char *id, const json_t *order);
json_t *shop_order_customer_view(const char *id, const json_t *customer);

/* Query text checks shared by the seller's routes. q_valid: 1 when q is valid UTF-8 without
 * control characters and at most SHOP_ORDER_Q_MAX characters. parse_uint: 1 when s is a
 * decimal integer 0..2^53-1 (JSON-safe) with no sign, space or leading zero, into *out. */
int shop_order_q_valid(const char *q);
int shop_order_parse_uint(const char *s, int64_t *out);

/* Cursors name the last record of a page by its sort key (time, id). Encoding: base64url
 * without padding of "<ms>:<id>". encode: 0, or -1 when it does not fit (out holds
 * SHOP_ORDER_CURSOR_MAX bytes). decode: 0, or -1 for anything that encode would not have
 * produced (id receives at most 64 characters of [A-Za-z0-9_-]). */
int shop_order_cursor_encode(int64_t at_ms, const char *id, char out[SHOP_ORDER_CURSOR_MAX]);
int shop_order_cursor_decode(const char *cursor, int64_t *at_ms, char id[65]);

/* One page, newest first. */
struct shop_order_page {
  json_t *items;    /* array of seller views (owned by the page) */
  size_t total;     /* every match of the filter, whatever the cursor */
  char next[SHOP_ORDER_CURSOR_MAX]; /* "" on the last page */
};
void shop_order_page_free(struct shop_order_page *p);

/* A page of instance_id's orders matching f, sorted by createdAt then id, both descending;
 * cursor NULL starts at the newest, else the page begins right after the record it names.
 * limit 1..SHOP_ORDER_LIMIT_MAX. 0, or -1 (limit out of range, a cursor that does not decode,
 * out of memory); out is always safe to free. */
int shop_order_list(const char *instance_id, const struct shop_order_filter *f,
                    const char *cursor, size_t limit, struct shop_order_page *out);
/* The same for customers, by lastPurchaseAt then id, both descending. */
int shop_order_customer_list(const char *instance_id, const char *q, const char *cursor,
                             size_t limit, struct shop_order_page *out);
/* Every order of buyer_id (a Discord id) in instance_id, newest first, as seller views. */
json_t *shop_order_of_buyer(const char *instance_id, const char *buyer_id);

/* The record with that id if it belongs to instance_id, else NULL (another instance's order
 * or customer answers like a missing one). */
const json_t *shop_order_get(const char *instance_id, const char *id);
const json_t *shop_order_customer_get(const char *instance_id, const char *id);

#endif
