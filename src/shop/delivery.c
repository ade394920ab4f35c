/* Delivery, Discord-free (include/shop/delivery.h): due entries, backoff, nonces, the buyer's
 * text and the log notice, and the transactions that end an attempt. Kept apart from the bot
 * so that every rule of "exactly once" here is unit-tested against a real store. */
#include "shop/delivery.h"
#include "shop/sale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/crypto.h"
#include "shop/catalog.h"
#include "shop/money.h"
#include "shop/stock.h"

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* ---- time, backoff and nonces ---- */

int64_t shop_delivery_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t shop_delivery_backoff_ms(int attempts, uint32_t rnd) {
  int64_t d = SHOP_DELIVERY_BACKOFF_BASE_MS;
  for (int i = 1; i < attempts && d < SHOP_DELIVERY_BACKOFF_CAP_MS; i++)
    d *= 2;
  if (d > SHOP_DELIVERY_BACKOFF_CAP_MS)
    d = SHOP_DELIVERY_BACKOFF_CAP_MS;
  /* full jitter over the upper half: never sooner than half the step */
  return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

void shop_delivery_nonce(const char *seed, unsigned part, char out[SHOP_NONCE_LEN + 1]) {
  char in[160];
  int n = snprintf(in, sizeof in, "astra:%s:%u", seed, part);
  uint8_t h[32];
  crypto_sha256(in, (size_t)(n < (int)sizeof in ? n : (int)sizeof in - 1), h);
  char hex[65];
  crypto_hex(h, sizeof h, hex);
  memcpy(out, hex, SHOP_NONCE_LEN);
  out[SHOP_NONCE_LEN] = '\0';
}

/* ---- the buyer's text ---- */

struct buf {
  char *p;
  size_t len, cap;
  int oom;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = malloc(cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    /* copy by hand rather than realloc: the old buffer holds keys and is wiped */
    if (b->p) {
      memcpy(p, b->p, b->len);
      crypto_wipe(b->p, b->cap);
      free(b->p);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_drop(struct buf *b) {
  if (b->p) {
    crypto_wipe(b->p, b->cap);
    free(b->p);
  }
  b->p = NULL;
}

static char *buf_take(struct buf *b) {
  if (b->oom || !b->p) {
    buf_drop(b);
    return NULL;
  }
  return b->p;
}

static int order_deliverable(const json_t *order) {
  const char *st = str(order, "status");
  return st && (!strcmp(st, "paid") || !strcmp(st, "delivered"));
}

/* Appends the keys of one item, one per line; -1 when one is not sold to the order. */
static int item_keys(const json_t *order, const json_t *item, struct buf *b) {
  const char *inst = str(order, "instanceId"), *oid = str(order, "id");
  size_t i;
  const json_t *sid;
  int n = 0;
  json_array_foreach(json_object_get(item, "stockIds"), i, sid) {
    const char *id = json_string_value(sid);
    const json_t *s = id && inst ? store_get(astra.store, STORE_STOCK, inst, id) : NULL;
    if (!s || strcmp(or_empty(str(s, "status")), "sold") || !oid ||
        strcmp(or_empty(str(s, "orderId")), oid))
      return -1;
    size_t len = 0;
    char *key = shop_stock_open(str(s, "key"), &len);
    if (!key)
      return -1;
    if (n++)
      put(b, "\n", 1);
    put(b, key, len);
    crypto_wipe(key, len);
    free(key);
  }
  json_int_t want = json_integer_value(json_object_get(item, "quantity"));
  return n > 0 && n == want ? 0 : -1;
}

char *shop_delivery_keys(const json_t *order) {
  if (!order_deliverable(order))
    return NULL;
  struct buf b = {0};
  size_t i;
  const json_t *item;
  json_array_foreach(json_object_get(order, "items"), i, item) {
    if (i)
      put(&b, "\n", 1);
    if (item_keys(order, item, &b) != 0) {
      buf_drop(&b);
      return NULL;
    }
  }
  return buf_take(&b);
}

const char *shop_delivery_locale(const char *instance_id) {
  const json_t *inst =
      instance_id ? store_get(astra.store, STORE_INSTANCES, NULL, instance_id) : NULL;
  const char *l = str(json_object_get(inst, "settings"), "locale");
  return l && !strcmp(l, "en") ? "en" : "pt-BR";
}

char *shop_delivery_text(const json_t *order) {
  if (!order_deliverable(order))
    return NULL;
  const char *inst_id = str(order, "instanceId");
  const json_t *inst = inst_id ? store_get(astra.store, STORE_INSTANCES, NULL, inst_id) : NULL;
  const char *locale = shop_delivery_locale(inst_id);
  char mention[48];
  snprintf(mention, sizeof mention, "<@%.32s>", or_empty(str(order, "buyerId")));
  struct buf out = {0};
  size_t i;
  const json_t *item;
  json_array_foreach(json_object_get(order, "items"), i, item) {
    struct buf keys = {0};
    put(&keys, "", 0);
    if (item_keys(order, item, &keys) != 0 || keys.oom) {
      buf_drop(&keys);
      buf_drop(&out);
      return NULL;
    }
    const char *pid = str(item, "productId");
    const json_t *prod = pid && inst_id ? store_get(astra.store, STORE_PRODUCTS, inst_id, pid)
                                        : NULL;
    struct shop_template_vars v = {
        .produto = str(item, "productName"),
        .variacao = str(item, "variationName"),
        .chave = keys.p,
        .pedido = str(order, "code"),
        .comprador = mention,
        .loja = str(inst, "name"),
    };
    char *text = shop_template_render(str(prod, "dmTemplate"), &v, locale);
    buf_drop(&keys);
    if (!text) {
      buf_drop(&out);
      return NULL;
    }
    if (i)
      put(&out, "\n\n", 2);
    size_t tl = strlen(text);
    put(&out, text, tl);
    crypto_wipe(text, tl);
    free(text);
  }
  return buf_take(&out);
}

/* UTF-16 units of the code point starting at s (whose lead byte says how long it is). */
static size_t cp_bytes(const unsigned char *s) {
  if (*s < 0x80)
    return 1;
  if (*s >= 0xf0)
    return 4;
  if (*s >= 0xe0)
    return 3;
  if (*s >= 0xc0)
    return 2;
  return 1; /* a stray continuation byte: step over it */
}

size_t shop_delivery_split(const char *text, size_t max, size_t *off, size_t *len,
                           size_t maxparts) {
  const unsigned char *s = (const unsigned char *)text;
  size_t pos = 0, total = strlen(text), parts = 0;
  while (pos < total) {
    while (pos < total && s[pos] == '\n')
      pos++; /* a part never starts with an empty line */
    if (pos >= total)
      break;
    if (parts == maxparts)
      return 0;
    size_t units = 0, end = pos, last_nl = 0;
    while (end < total) {
      size_t nb = cp_bytes(s + end);
      size_t nu = nb == 4 ? 2 : 1;
      if (units + nu > max)
        break;
      if (s[end] == '\n')
        last_nl = end;
      units += nu;
      end += nb;
      if (end > total)
        end = total;
    }
    if (end < total && last_nl > pos)
      end = last_nl; /* cut at the line break; it is skipped by the next part */
    size_t stop = end;
    while (stop > pos && s[stop - 1] == '\n')
      stop--; /* Discord trims them anyway; the count must match what is shown */
    off[parts] = pos;
    len[parts] = stop - pos;
    parts++;
    pos = end;
  }
  return parts;
}

/* Keys of the order flagged by a reversal: the buyer had them and keeps them. */
static size_t flagged_keys(const json_t *order) {
  const char *inst = str(order, "instanceId"), *oid = str(order, "id");
  size_t i, n = 0;
  const json_t *sid;
  json_array_foreach(json_object_get(order, "stockIds"), i, sid) {
    const char *id = json_string_value(sid);
    const json_t *s = id && inst ? store_get(astra.store, STORE_STOCK, inst, id) : NULL;
    if (s && str(s, "flag") && oid && !strcmp(or_empty(str(s, "orderId")), oid))
      n++;
  }
  return n;
}

char *shop_delivery_log_text(const json_t *order, const char *kind, const char *locale) {
  int en = locale && !strcmp(locale, "en");
  int chargeback = kind && !strcmp(kind, "chargeback");
  int refund = chargeback || (kind && !strcmp(kind, "refund"));
  char money[SHOP_MONEY_MAX];
  shop_money_format(json_integer_value(json_object_get(order, "totalCents")),
                    str(order, "currency"), locale, money, sizeof money);
  struct buf b = {0};
  /* a chargeback is the buyer's bank taking the money back, not the seller's choice: the
   * seller must tell it from a refund at a glance */
  const char *head = chargeback ? (en ? "⚠️ Chargeback" : "⚠️ Contestação (chargeback)")
                     : refund   ? (en ? "↩️ Refund" : "↩️ Reembolso")
                                : (en ? "🛒 Sale" : "🛒 Venda");
  put(&b, head, strlen(head));
  put(&b, " `", 2);
  put(&b, or_empty(str(order, "code")), strlen(or_empty(str(order, "code"))));
  put(&b, "`: ", 3);
  size_t i;
  const json_t *item;
  json_array_foreach(json_object_get(order, "items"), i, item) {
    char line[400];
    const char *vn = str(item, "variationName");
    json_int_t q = json_integer_value(json_object_get(item, "quantity"));
    snprintf(line, sizeof line, "%s%.150s%s%.100s%s", i ? ", " : "",
             or_empty(str(item, "productName")), vn ? " (" : "", or_empty(vn), vn ? ")" : "");
    put(&b, line, strlen(line));
    if (q > 1) {
      snprintf(line, sizeof line, " ×%lld", (long long)q);
      put(&b, line, strlen(line));
    }
  }
  char tail[160];
  const char *back = !refund ? "" : en ? " returned" : " devolvidos";
  snprintf(tail, sizeof tail, " · %s%s · %s <@%.32s>", money, back,
           en ? "buyer" : "comprador", or_empty(str(order, "buyerId")));
  put(&b, tail, strlen(tail));
  size_t flagged = refund ? flagged_keys(order) : 0;
  if (flagged) {
    /* the buyer keeps what was delivered: the seller may want to revoke it where it works */
    if (en)
      snprintf(tail, sizeof tail, "\n%zu delivered key%s flagged (%s) in the stock.", flagged,
               flagged == 1 ? "" : "s", chargeback ? "chargeback" : "refund");
    else
      snprintf(tail, sizeof tail, "\n%zu chave%s entregue%s marcada%s (%s) no estoque.", flagged,
               flagged == 1 ? "" : "s", flagged == 1 ? "" : "s", flagged == 1 ? "" : "s",
               chargeback ? "contestação" : "reembolso");
    put(&b, tail, strlen(tail));
  }
  return buf_take(&b);
}

/* ---- due entries ---- */

/* The max oldest due entries, kept sorted while the pending ones are scanned: the worker asks
 * for a few dozen after every finished attempt, so a backlog of thousands must not be copied
 * and sorted each time. */
struct due {
  int64_t now;
  struct due_row {
    char id[72];
    int64_t at;
  } *rows;
  size_t n, max;
  int (*keep)(const json_t *entry, void *arg);
  void *arg;
};

static int due_before(int64_t at, const char *id, const struct due_row *r) {
  return at != r->at ? at < r->at : strcmp(id, r->id) < 0;
}

static int collect_due(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  struct due *d = arg;
  int64_t at = (int64_t)json_integer_value(json_object_get(rec, "nextAt"));
  if (at > d->now || strlen(id) >= sizeof d->rows[0].id)
    return 0;
  if (d->n == d->max && !due_before(at, id, &d->rows[d->n - 1]))
    return 0;
  if (d->keep && !d->keep(rec, d->arg))
    return 0;
  size_t i = d->n < d->max ? d->n++ : d->max - 1;
  for (; i > 0 && due_before(at, id, &d->rows[i - 1]); i--)
    d->rows[i] = d->rows[i - 1];
  snprintf(d->rows[i].id, sizeof d->rows[i].id, "%s", id);
  d->rows[i].at = at;
  return 0;
}

size_t shop_outbox_due(int64_t now, char (*ids)[72], size_t max) {
  return shop_outbox_due_if(now, ids, max, NULL, NULL);
}

size_t shop_outbox_due_if(int64_t now, char (*ids)[72], size_t max,
                          int (*keep)(const json_t *entry, void *arg), void *arg) {
  if (!max)
    return 0;
  struct due d = {.now = now, .rows = malloc(max * sizeof *d.rows), .max = max, .keep = keep,
                  .arg = arg};
  if (!d.rows)
    return 0;
  store_index_foreach(astra.store, STORE_OUTBOX, "status", "pending", collect_due, &d);
  for (size_t i = 0; i < d.n; i++)
    memcpy(ids[i], d.rows[i].id, sizeof ids[i]);
  free(d.rows);
  return d.n;
}

/* ---- ending an attempt ---- */

static json_t *entry_copy(const char *entry_id) {
  const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, entry_id);
  return e ? json_deep_copy(e) : NULL;
}


static void entry_set(struct store_txn *t, const char *entry_id, json_t *e, const char *status,
                      int64_t now) {
  json_object_set_new(e, "status", json_string(status));
  json_object_set_new(e, "updatedAt", json_integer((json_int_t)now));
  store_put(t, STORE_OUTBOX, NULL, entry_id, e);
}

void shop_outbox_done(struct store_txn *t, const char *entry_id, int64_t now) {
  json_t *e = entry_copy(entry_id);
  if (!e)
    return;
  json_object_set_new(e, "lastError", json_null());
  entry_set(t, entry_id, e, "done", now);
}

void shop_delivery_done(struct store_txn *t, const char *entry_id, const char *channel,
                        const char *channel_id, const char *message_id, int64_t now) {
  json_t *e = entry_copy(entry_id);
  if (!e)
    return;
  const char *oid = str(e, "orderId");
  const json_t *o = oid ? store_get(astra.store, STORE_ORDERS, NULL, oid) : NULL;
  if (o && !strcmp(or_empty(str(o, "status")), "paid")) {
    json_t *c = json_deep_copy(o);
    json_object_set_new(c, "deliveredAt", json_integer((json_int_t)now));
    shop_order_timeline_add(c, now, "delivered", channel);
    store_put(t, STORE_ORDERS, NULL, oid, c);
  }
  if (oid)
    store_put(t, STORE_DELIVERIES, NULL, oid,
              json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:I}", "id", oid, "orderId", oid,
                        "instanceId", str(e, "instanceId"), "channel", channel, "channelId",
                        channel_id, "messageId", message_id, "at", (json_int_t)now));
  json_object_set_new(e, "lastError", json_null());
  entry_set(t, entry_id, e, "done", now);
}

/* The order of a failed dm entry fails with the reason, unless it moved on meanwhile. */
static void order_failed(struct store_txn *t, const json_t *e, const char *error, int64_t now) {
  const char *oid = str(e, "orderId");
  const json_t *o = oid ? store_get(astra.store, STORE_ORDERS, NULL, oid) : NULL;
  if (!o || strcmp(or_empty(str(o, "status")), "paid"))
    return;
  json_t *c = json_deep_copy(o);
  shop_order_timeline_add(c, now, "failed", error);
  store_put(t, STORE_ORDERS, NULL, oid, c);
}

int shop_outbox_fail(struct store_txn *t, const char *entry_id, const char *error, int64_t now,
                     uint32_t rnd) {
  json_t *e = entry_copy(entry_id);
  if (!e)
    return 0;
  int attempts = (int)json_integer_value(json_object_get(e, "attempts")) + 1;
  json_object_set_new(e, "attempts", json_integer(attempts));
  json_object_set_new(e, "lastError", json_string(error ? error : "error"));
  int dead = attempts >= SHOP_DELIVERY_MAX_ATTEMPTS;
  if (dead && !strcmp(or_empty(str(e, "type")), "dm"))
    order_failed(t, e, error, now);
  if (!dead)
    json_object_set_new(e, "nextAt",
                        json_integer((json_int_t)(now + shop_delivery_backoff_ms(attempts, rnd))));
  entry_set(t, entry_id, e, dead ? "failed" : "pending", now);
  return dead;
}

void shop_outbox_drop(struct store_txn *t, const char *entry_id, const char *error,
                      int64_t now) {
  json_t *e = entry_copy(entry_id);
  if (!e)
    return;
  json_object_set_new(e, "lastError", json_string(error));
  entry_set(t, entry_id, e, "failed", now);
}

size_t shop_delivery_retry(struct store_txn *t, const char *order_id, int64_t now) {
  static const char *const prefixes[] = {"dm", "log", "logrev"};
  size_t reset = 0;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    char id[80];
    snprintf(id, sizeof id, "%s-%s", prefixes[i], order_id);
    const json_t *cur = store_get(astra.store, STORE_OUTBOX, NULL, id);
    if (!cur || strcmp(or_empty(str(cur, "status")), "failed"))
      continue;
    json_t *e = json_deep_copy(cur);
    json_object_set_new(e, "attempts", json_integer(0));
    json_object_set_new(e, "nextAt", json_integer((json_int_t)now));
    entry_set(t, id, e, "pending", now);
    reset++;
  }
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, order_id);
  if (reset && o && !strcmp(or_empty(str(o, "status")), "failed")) {
    json_t *c = json_deep_copy(o);
    shop_order_timeline_add(c, now, "paid", "retry");
    store_put(t, STORE_ORDERS, NULL, order_id, c);
  }
  return reset;
}

json_t *shop_delivery_view(const char *order_id) {
  char id[80];
  snprintf(id, sizeof id, "dm-%s", order_id);
  const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, id);
  const json_t *d = store_get(astra.store, STORE_DELIVERIES, NULL, order_id);
  if (!e && !d)
    return json_null();
  const json_t *err = json_object_get(e, "lastError");
  return json_pack("{s:s?, s:s?, s:I, s:O?}", "status", e ? str(e, "status") : "done",
                   "channel", str(d, "channel"), "attempts",
                   (json_int_t)json_integer_value(json_object_get(e, "attempts")), "lastError",
                   json_is_string(err) ? err : NULL);
}
