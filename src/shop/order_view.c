/* The read side of orders and customers: what a seller may see of a record, how a filter
 * matches, and newest-first pages over one instance's records with opaque cursors. Records
 * are reached only through the instanceId / buyerId indexes, so a page never costs a scan of
 * every instance's orders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "shop/delivery.h"
#include "shop/order.h"
#include "store/store.h"

/* ---- statuses ---- */

static const char *const status_names[SHOP_ORDER_STATUS_COUNT] = {
    [SHOP_ORDER_PENDING] = "pending",       [SHOP_ORDER_PAID] = "paid",
    [SHOP_ORDER_DELIVERED] = "delivered",   [SHOP_ORDER_WAITING_STOCK] = "waiting_stock",
    [SHOP_ORDER_FAILED] = "failed",         [SHOP_ORDER_EXPIRED] = "expired",
    [SHOP_ORDER_CANCELLED] = "cancelled",   [SHOP_ORDER_REFUNDED] = "refunded",
    [SHOP_ORDER_CHARGED_BACK] = "charged_back",
};

const char *shop_order_status_name(enum shop_order_status s) {
  return (unsigned)s < SHOP_ORDER_STATUS_COUNT ? status_names[s] : "?";
}

int shop_order_status_parse(const char *s) {
  for (int i = 0; s && i < SHOP_ORDER_STATUS_COUNT; i++)
    if (!strcmp(s, status_names[i]))
      return i;
  return -1;
}

/* ---- query text ---- */

int shop_order_q_valid(const char *q) {
  const unsigned char *p = (const unsigned char *)q;
  size_t chars = 0;
  while (*p) {
    unsigned c = *p;
    size_t n;
    unsigned cp;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return 0;
      n = 1;
      cp = c;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    for (size_t i = 1; i < n; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return 0;
    p += n;
    if (++chars > SHOP_ORDER_Q_MAX)
      return 0;
  }
  return 1;
}

int shop_order_parse_uint(const char *s, int64_t *out) {
  const int64_t max = ((int64_t)1 << 53) - 1;
  if (!s || !*s || (s[0] == '0' && s[1]))
    return 0;
  int64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9' || p - s >= 16)
      return 0;
    v = v * 10 + (*p - '0');
  }
  if (v > max)
    return 0;
  *out = v;
  return 1;
}

/* ---- matching ---- */

static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int shop_order_icontains(const char *hay, const char *needle) {
  if (!needle || !*needle)
    return 1;
  if (!hay)
    return 0;
  for (const unsigned char *h = (const unsigned char *)hay; *h; h++) {
    const unsigned char *a = h, *b = (const unsigned char *)needle;
    while (*a && *b && fold(*a) == fold(*b))
      a++, b++;
    if (!*b)
      return 1;
  }
  return 0;
}

static const char *str_of(const json_t *rec, const char *field) {
  return json_string_value(json_object_get(rec, field));
}

/* A record's time field in ms; anything but a non-negative integer counts as 0 so that the
 * sort key, the filter and the cursor always agree. */
static int64_t ms_of(const json_t *rec, const char *field) {
  json_t *v = json_object_get(rec, field);
  json_int_t ms = json_is_integer(v) ? json_integer_value(v) : 0;
  return ms > 0 ? (int64_t)ms : 0;
}

void shop_order_filter_init(struct shop_order_filter *f) {
  f->status = -1;
  f->q = NULL;
  f->from_ms = -1;
  f->to_ms = -1;
}

static int q_matches_order(const json_t *order, const char *q) {
  static const char *const fields[] = {"code", "buyerName", "buyerId"};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (shop_order_icontains(str_of(order, fields[i]), q))
      return 1;
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(order, "items"), i, item) {
    if (shop_order_icontains(str_of(item, "productName"), q))
      return 1;
  }
  return 0;
}

int shop_order_match(const json_t *order, const struct shop_order_filter *f) {
  if (f->status >= 0) {
    const char *st = str_of(order, "status");
    if (!st || strcmp(st, shop_order_status_name((enum shop_order_status)f->status)) != 0)
      return 0;
  }
  int64_t at = ms_of(order, "createdAt");
  if ((f->from_ms >= 0 && at < f->from_ms) || (f->to_ms >= 0 && at > f->to_ms))
    return 0;
  return !f->q || !*f->q || q_matches_order(order, f->q);
}

int shop_order_customer_match(const json_t *customer, const char *q) {
  return !q || !*q || shop_order_icontains(str_of(customer, "username"), q) ||
         shop_order_icontains(str_of(customer, "discordId"), q);
}

/* ---- seller views ---- */

/* A scalar as stored, or null: a nested object where a scalar belongs could hide anything. */
static json_t *scalar(const json_t *rec, const char *field) {
  json_t *v = json_object_get(rec, field);
  if (!v || json_is_object(v) || json_is_array(v))
    return json_null();
  return json_incref(v);
}

static void put_scalars(json_t *dst, const json_t *src, const char *const *fields) {
  for (; *fields; fields++)
    json_object_set_new(dst, *fields, scalar(src, *fields));
}

static json_t *items_view(const json_t *items) {
  static const char *const fields[] = {"productId",  "variationId", "productName",
                                       "variationName", "quantity", "unitCents", NULL};
  json_t *out = json_array();
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    json_t *v = json_object();
    put_scalars(v, it, fields);
    json_array_append_new(out, v);
  }
  return out;
}

static json_t *coupon_view(const json_t *order) {
  json_t *c = json_object_get(order, "coupon");
  if (json_is_object(c))
    return json_pack("{s:o, s:o}", "id", scalar(c, "id"), "code", scalar(c, "code"));
  if (str_of(order, "couponId"))
    return json_pack("{s:o, s:o}", "id", scalar(order, "couponId"), "code",
                     scalar(order, "couponCode"));
  return json_null();
}

/* Only who took the payment and its state: QR codes, copy-and-paste codes and the
 * provider's raw answer stay internal. */
static json_t *payment_view(const json_t *order) {
  json_t *p = json_object_get(order, "payment");
  if (!json_is_object(p))
    return json_null();
  return json_pack("{s:o, s:o, s:o}", "provider", scalar(p, "provider"), "id", scalar(p, "id"),
                   "status", scalar(p, "status"));
}

static json_t *timeline_view(const json_t *timeline) {
  json_t *out = json_array();
  size_t i;
  json_t *ev;
  json_array_foreach(timeline, i, ev) {
    json_t *v = json_pack("{s:o, s:o}", "at", scalar(ev, "at"), "status", scalar(ev, "status"));
    if (str_of(ev, "detail"))
      json_object_set(v, "detail", json_object_get(ev, "detail"));
    json_array_append_new(out, v);
  }
  return out;
}

json_t *shop_order_view(const char *id, const json_t *order) {
  static const char *const head[] = {"code", "status", "buyerId", "buyerName", NULL};
  static const char *const money[] = {"subtotalCents", "discountCents", "totalCents", "currency",
                                      NULL};
  static const char *const times[] = {"createdAt", "paidAt", "deliveredAt", NULL};
  json_t *v = json_pack("{s:s}", "id", id);
  put_scalars(v, order, head);
  json_object_set_new(v, "items", items_view(json_object_get(order, "items")));
  put_scalars(v, order, money);
  json_object_set_new(v, "coupon", coupon_view(order));
  json_object_set_new(v, "payment", payment_view(order));
  put_scalars(v, order, times);
  json_object_set_new(v, "timeline", timeline_view(json_object_get(order, "timeline")));
  /* how the keys reached (or failed to reach) the buyer, from the outbox and deliveries */
  json_object_set_new(v, "delivery", shop_delivery_view(id));
  return v;
}

json_t *shop_order_customer_view(const char *id, const json_t *customer) {
  static const char *const fields[] = {"discordId",  "username",   "firstPurchaseAt",
                                       "lastPurchaseAt", "orderCount", "totalSpentCents", NULL};
  json_t *v = json_pack("{s:s}", "id", id);
  put_scalars(v, customer, fields);
  return v;
}

/* ---- cursors ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; out must hold 4 * ceil(n / 3) + 1 bytes. */
static void b64_encode(const unsigned char *in, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[o++] = b64url[v >> 18 & 63];
    out[o++] = b64url[v >> 12 & 63];
    if (i + 1 < n)
      out[o++] = b64url[v >> 6 & 63];
    if (i + 2 < n)
      out[o++] = b64url[v & 63];
  }
  out[o] = '\0';
}

/* Decodes s into out (cap bytes); the length, or -1. Bits left over are checked by the
 * caller re-encoding, which makes every accepted cursor canonical. */
static long b64_decode(const char *s, unsigned char *out, size_t cap) {
  size_t len = strlen(s), o = 0;
  if (len % 4 == 1)
    return -1;
  unsigned acc = 0, bits = 0;
  for (size_t i = 0; i < len; i++) {
    const char *p = s[i] ? strchr(b64url, s[i]) : NULL;
    if (!p)
      return -1;
    acc = (acc << 6 | (unsigned)(p - b64url)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap)
        return -1;
      out[o++] = (unsigned char)(acc >> bits & 0xff);
    }
  }
  return (long)o;
}

static int id_valid(const char *id, size_t n) {
  if (n < 1 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return 0;
  }
  return 1;
}

/* "<ms>:<id>" at most: 16 digits, ':', 64 characters */
#define CURSOR_PLAIN_MAX 81

int shop_order_cursor_encode(int64_t at_ms, const char *id, char out[SHOP_ORDER_CURSOR_MAX]) {
  char plain[CURSOR_PLAIN_MAX + 1];
  if (at_ms < 0 || !id || !id_valid(id, strlen(id)))
    return -1;
  int n = snprintf(plain, sizeof plain, "%lld:%s", (long long)at_ms, id);
  if (n < 0 || n > CURSOR_PLAIN_MAX)
    return -1;
  b64_encode((const unsigned char *)plain, (size_t)n, out);
  return 0;
}

int shop_order_cursor_decode(const char *cursor, int64_t *at_ms, char id[65]) {
  char plain[CURSOR_PLAIN_MAX + 1];
  if (!cursor || !*cursor || strlen(cursor) >= SHOP_ORDER_CURSOR_MAX)
    return -1;
  long n = b64_decode(cursor, (unsigned char *)plain, CURSOR_PLAIN_MAX);
  if (n < 0)
    return -1;
  plain[n] = '\0';
  if (memchr(plain, '\0', (size_t)n))
    return -1;
  char *colon = strchr(plain, ':');
  if (!colon)
    return -1;
  *colon = '\0';
  int64_t at;
  size_t idlen = strlen(colon + 1);
  if (!shop_order_parse_uint(plain, &at) || !id_valid(colon + 1, idlen))
    return -1;
  /* only the exact text encode() makes: no stray trailing bits, one spelling per cursor */
  char again[SHOP_ORDER_CURSOR_MAX];
  if (shop_order_cursor_encode(at, colon + 1, again) != 0 || strcmp(again, cursor) != 0)
    return -1;
  *at_ms = at;
  memcpy(id, colon + 1, idlen + 1);
  return 0;
}

/* ---- pages ---- */

struct row {
  int64_t at;
  char id[65]; /* a copy: the index hands out ids that live only during its callback */
  const json_t *rec;
};

struct rows {
  struct row *v;
  size_t n, cap;
  int oom;
  const char *instance_id; /* keep only records of this instance (buyerId index) */
  const char *time_field;
  const struct shop_order_filter *filter; /* orders */
  const char *q;                          /* customers */
  int customers;
};

/* Descending on (at, id): newest first, and a total order so that a cursor is exact even
 * when records share a millisecond. */
static int row_cmp_key(int64_t at, const char *id, const struct row *r) {
  if (at != r->at)
    return at > r->at ? -1 : 1;
  return -strcmp(id, r->id);
}

static int row_cmp(const void *a, const void *b) {
  const struct row *x = a;
  return row_cmp_key(x->at, x->id, b);
}

static int collect(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  struct rows *rs = arg;
  if (rs->instance_id) {
    const char *inst = str_of(rec, "instanceId");
    if (!inst || strcmp(inst, rs->instance_id) != 0)
      return 0;
  }
  int ok = rs->customers ? shop_order_customer_match(rec, rs->q)
                         : !rs->filter || shop_order_match(rec, rs->filter);
  if (!ok)
    return 0;
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 64;
    struct row *nv = realloc(rs->v, cap * sizeof *nv);
    if (!nv) {
      rs->oom = 1;
      return 1;
    }
    rs->v = nv;
    rs->cap = cap;
  }
  struct row *r = &rs->v[rs->n++];
  r->at = ms_of(rec, rs->time_field);
  snprintf(r->id, sizeof r->id, "%s", id);
  r->rec = rec;
  return 0;
}

void shop_order_page_free(struct shop_order_page *p) {
  json_decref(p->items);
  p->items = NULL;
}

static int page(enum store_coll c, const char *index, const char *key, struct rows *rs,
                const char *cursor, size_t limit, struct shop_order_page *out) {
  int64_t cat = 0;
  char cid[65];
  memset(out, 0, sizeof *out);
  if (limit < 1 || limit > SHOP_ORDER_LIMIT_MAX ||
      (cursor && shop_order_cursor_decode(cursor, &cat, cid) != 0))
    return -1;
  store_index_foreach(astra.store, c, index, key, collect, rs);
  if (rs->oom || !(out->items = json_array())) {
    free(rs->v);
    return -1;
  }
  if (rs->n)
    qsort(rs->v, rs->n, sizeof *rs->v, row_cmp);
  out->total = rs->n;
  size_t start = 0;
  /* the first record that sorts strictly after the cursor's; the cursor's record itself may
   * be gone since, which changes nothing */
  while (cursor && start < rs->n && row_cmp_key(cat, cid, &rs->v[start]) >= 0)
    start++;
  size_t end = start + limit < rs->n ? start + limit : rs->n;
  for (size_t i = start; i < end; i++)
    json_array_append_new(out->items, c == STORE_ORDERS
                                          ? shop_order_view(rs->v[i].id, rs->v[i].rec)
                                          : shop_order_customer_view(rs->v[i].id, rs->v[i].rec));
  if (end < rs->n && end > start)
    shop_order_cursor_encode(rs->v[end - 1].at, rs->v[end - 1].id, out->next);
  free(rs->v);
  return 0;
}

int shop_order_list(const char *instance_id, const struct shop_order_filter *f,
                    const char *cursor, size_t limit, struct shop_order_page *out) {
  struct rows rs = {.time_field = "createdAt", .filter = f};
  return page(STORE_ORDERS, "instanceId", instance_id, &rs, cursor, limit, out);
}

int shop_order_customer_list(const char *instance_id, const char *q, const char *cursor,
                             size_t limit, struct shop_order_page *out) {
  struct rows rs = {.time_field = "lastPurchaseAt", .q = q, .customers = 1};
  return page(STORE_CUSTOMERS, "instanceId", instance_id, &rs, cursor, limit, out);
}

json_t *shop_order_of_buyer(const char *instance_id, const char *buyer_id) {
  struct rows rs = {.time_field = "createdAt", .instance_id = instance_id};
  json_t *out = json_array();
  if (!out)
    return NULL;
  store_index_foreach(astra.store, STORE_ORDERS, "buyerId", buyer_id, collect, &rs);
  if (rs.oom) {
    free(rs.v);
    json_decref(out);
    return NULL;
  }
  if (rs.n)
    qsort(rs.v, rs.n, sizeof *rs.v, row_cmp);
  for (size_t i = 0; i < rs.n; i++)
    json_array_append_new(out, shop_order_view(rs.v[i].id, rs.v[i].rec));
  free(rs.v);
  return out;
}

static const json_t *get_in(enum store_coll c, const char *instance_id, const char *id) {
  const json_t *rec = id ? store_get(astra.store, c, NULL, id) : NULL;
  const char *inst = str_of(rec, "instanceId");
  return inst && instance_id && !strcmp(inst, instance_id) ? rec : NULL;
}

const json_t *shop_order_get(const char *instance_id, const char *id) {
  return get_in(STORE_ORDERS, instance_id, id);
}

const json_t *shop_order_customer_get(const char *instance_id, const char *id) {
  return get_in(STORE_CUSTOMERS, instance_id, id);
}
