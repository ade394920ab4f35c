/* GET /api/instances/:id/stock?productId&variationId&status&limit&cursor: the instance's keys,
 * newest first, masked (from the stored hint: nothing is decrypted to list), with the counts
 * of the product/variation filter. The cursor is opaque to clients: base64url of
 * "<createdAt>:<id>" of the last item of the page, the order being (createdAt, id) descending. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "shop/stock.h"
#include "store/store.h"

struct pos {
  long long at;
  const char *id;
};

struct item {
  struct pos p;
  const json_t *rec;
};

struct walk {
  const char *pid, *vid, *status;
  int has_cursor;
  struct pos cursor;
  struct item *items;
  size_t n, cap;
  struct shop_stock_counts counts;
  int oom;
};

/* Descending order: a before b when newer, or as new with a greater id. */
static int newer(const struct pos *a, const struct pos *b) {
  if (a->at != b->at)
    return a->at > b->at;
  return strcmp(a->id, b->id) > 0;
}

static int by_newest(const void *x, const void *y) {
  const struct item *a = x, *b = y;
  return newer(&a->p, &b->p) ? -1 : newer(&b->p, &a->p) ? 1 : 0;
}

/* An id as the store accepts them: 1-64 of [A-Za-z0-9_-]. */
static int id_ok(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
          (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
      return 0;
  return n >= 1 && n <= 64;
}

static int visit(const char *id, const json_t *rec, void *arg) {
  struct walk *w = arg;
  const char *pid = json_string_value(json_object_get(rec, "productId"));
  const char *vid = json_string_value(json_object_get(rec, "variationId"));
  const char *st = json_string_value(json_object_get(rec, "status"));
  if (!st || (w->pid && (!pid || strcmp(pid, w->pid))) ||
      (w->vid && (!vid || strcmp(vid, w->vid))))
    return 0;
  if (!strcmp(st, "available"))
    w->counts.available++;
  else if (!strcmp(st, "reserved"))
    w->counts.reserved++;
  else if (!strcmp(st, "sold"))
    w->counts.sold++;
  if (w->status && strcmp(st, w->status))
    return 0;
  struct pos p = {json_integer_value(json_object_get(rec, "createdAt")), id};
  if (w->has_cursor && !newer(&w->cursor, &p))
    return 0; /* not after the cursor */
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 256;
    struct item *it = realloc(w->items, cap * sizeof *it);
    if (!it) {
      w->oom = 1;
      return 1;
    }
    w->items = it;
    w->cap = cap;
  }
  w->items[w->n++] = (struct item){p, rec};
  return 0;
}

/* base64url without padding, from standard base64. */
static char *cursor_encode(long long at, const char *id) {
  char raw[100];
  int n = snprintf(raw, sizeof raw, "%lld:%s", at, id);
  char *b = crypto_b64_encode(raw, (size_t)n);
  for (char *c = b; c && *c; c++) {
    if (*c == '+')
      *c = '-';
    else if (*c == '/')
      *c = '_';
    else if (*c == '=')
      *c = 0;
  }
  return b;
}

/* Parses a cursor into p (p->id points into idbuf). 0, or -1 when it is not one of ours. */
static int cursor_decode(const char *s, struct pos *p, char idbuf[65]) {
  size_t n = strlen(s);
  if (n < 4 || n > 120)
    return -1;
  char b64[128];
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return -1;
    b64[i] = c;
  }
  while (n % 4)
    b64[n++] = '=';
  b64[n] = 0;
  size_t len;
  char *raw = crypto_b64_decode(b64, &len);
  if (!raw)
    return -1;
  char text[100];
  int ok = len < sizeof text;
  if (ok) {
    memcpy(text, raw, len);
    text[len] = 0;
    ok = strlen(text) == len;
  }
  free(raw);
  char *colon = ok ? strchr(text, ':') : NULL;
  if (!colon || colon == text || colon - text > 15)
    return -1;
  *colon = 0;
  for (const char *c = text; *c; c++)
    if (*c < '0' || *c > '9')
      return -1;
  if (!id_ok(colon + 1))
    return -1;
  p->at = atoll(text);
  snprintf(idbuf, 65, "%s", colon + 1);
  p->id = idbuf;
  return 0;
}

/* A present query parameter; an empty value counts as given (and is then refused). */
static const char *param(struct http_request *req, const char *name, int *given) {
  const char *v = http_query(req, name);
  *given = v != NULL;
  return v;
}

static enum http_result bad(struct http_request *req, struct http_reply *rep, const char *name) {
  http_reply_error(req, rep, ERR_BAD_QUERY, name, NULL);
  return HTTP_DONE;
}

enum http_result portal_get_instances_ID_stock(struct http_request *req,
                                               struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  struct walk w = {0};
  int given;
  char idbuf[65];
  w.pid = param(req, "productId", &given);
  if (given && !id_ok(w.pid))
    return bad(req, rep, "productId");
  w.vid = param(req, "variationId", &given);
  if (given && (!id_ok(w.vid) || !w.pid)) /* a variation is only ever named with its product */
    return bad(req, rep, "variationId");
  w.status = param(req, "status", &given);
  if (given && strcmp(w.status, "available") && strcmp(w.status, "reserved") &&
      strcmp(w.status, "sold"))
    return bad(req, rep, "status");
  long limit = 50;
  const char *l = param(req, "limit", &given);
  if (given) {
    size_t n = strlen(l);
    if (n < 1 || n > 3 || strspn(l, "0123456789") != n || (limit = atol(l)) < 1 || limit > 200)
      return bad(req, rep, "limit");
  }
  const char *c = param(req, "cursor", &given);
  if (given) {
    if (cursor_decode(c, &w.cursor, idbuf) != 0)
      return bad(req, rep, "cursor");
    w.has_cursor = 1;
  }

  store_foreach(astra.store, STORE_STOCK, req->params[0], visit, &w);
  if (w.oom) {
    free(w.items);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  if (w.n > 1) /* qsort wants a real array, even for 0 items */
    qsort(w.items, w.n, sizeof *w.items, by_newest);
  size_t page = w.n < (size_t)limit ? w.n : (size_t)limit;
  json_t *items = json_array();
  for (size_t i = 0; i < page; i++)
    json_array_append_new(items, shop_stock_item_json(w.items[i].p.id, w.items[i].rec));
  char *next = w.n > page ? cursor_encode(w.items[page - 1].p.at, w.items[page - 1].p.id) : NULL;
  json_t *body = json_pack("{s:o, s:{s:I, s:I, s:I}, s:s?}", "items", items, "counts",
                           "available", (json_int_t)w.counts.available, "reserved",
                           (json_int_t)w.counts.reserved, "sold", (json_int_t)w.counts.sold,
                           "nextCursor", next);
  free(next);
  free(w.items);
  http_reply_json(rep, 200, body);
  return HTTP_DONE;
}
