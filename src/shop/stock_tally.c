/* Counting stock by product and variation. One pass over the instance's stock, so that a
 * product list with many products does not rescan the keys once per product. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "shop/stock.h"
#include "store/store.h"

struct walk {
  const char *product_id;
  struct shop_stock_tally *t;
  int oom;
};

static struct shop_stock_tally_row *row_for(struct shop_stock_tally *t, const char *pid,
                                            const char *vid) {
  for (size_t i = 0; i < t->nrows; i++)
    if (!strcmp(t->rows[i].product_id, pid) && !strcmp(t->rows[i].variation_id, vid))
      return &t->rows[i];
  if (t->nrows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    struct shop_stock_tally_row *r = realloc(t->rows, cap * sizeof *r);
    if (!r)
      return NULL;
    t->rows = r;
    t->cap = cap;
  }
  struct shop_stock_tally_row *r = &t->rows[t->nrows++];
  memset(r, 0, sizeof *r);
  strncpy(r->product_id, pid, sizeof r->product_id - 1);
  strncpy(r->variation_id, vid, sizeof r->variation_id - 1);
  return r;
}

static int count_one(const char *id, const json_t *rec, void *arg) {
  (void)id;
  struct walk *w = arg;
  const char *pid = json_string_value(json_object_get(rec, "productId"));
  const char *vid = json_string_value(json_object_get(rec, "variationId"));
  const char *st = json_string_value(json_object_get(rec, "status"));
  if (!pid || !st || (w->product_id && strcmp(pid, w->product_id)))
    return 0;
  struct shop_stock_tally_row *r = row_for(w->t, pid, vid ? vid : "");
  if (!r) {
    w->oom = 1;
    return 1;
  }
  if (!strcmp(st, "available"))
    r->n.available++;
  else if (!strcmp(st, "reserved"))
    r->n.reserved++;
  else if (!strcmp(st, "sold"))
    r->n.sold++;
  return 0;
}

int shop_stock_tally(const char *instance_id, const char *product_id, struct shop_stock_tally *t) {
  struct walk w = {product_id, t, 0};
  store_foreach(astra.store, STORE_STOCK, instance_id, count_one, &w);
  return w.oom ? -1 : 0;
}

void shop_stock_tally_free(struct shop_stock_tally *t) {
  free(t->rows);
  memset(t, 0, sizeof *t);
}

struct shop_stock_counts shop_stock_tally_get(const struct shop_stock_tally *t,
                                              const char *product_id, const char *variation_id) {
  struct shop_stock_counts n = {0, 0, 0};
  for (size_t i = 0; i < t->nrows; i++) {
    const struct shop_stock_tally_row *r = &t->rows[i];
    if (strcmp(r->product_id, product_id) ||
        (variation_id && strcmp(r->variation_id, variation_id)))
      continue;
    n.available += r->n.available;
    n.reserved += r->n.reserved;
    n.sold += r->n.sold;
  }
  return n;
}
