/* The paging part of the order and customer list queries. Every parameter is checked
 * strictly (a typo in a value is a 400 naming it, never a silently different page); an
 * empty q means no text filter, as a cleared search box sends it. */
#include <string.h>

#include "portal/orders.h"
#include "shop/order.h"

int portal_page_query(struct http_request *req, struct http_reply *rep,
                      struct portal_page_query *out) {
  const char *limit = http_query(req, "limit");
  out->limit = PORTAL_PAGE_DEFAULT;
  out->cursor = http_query(req, "cursor");
  out->q = http_query(req, "q");
  if (limit) {
    int64_t n;
    if (!shop_order_parse_uint(limit, &n) || n < 1 || n > SHOP_ORDER_LIMIT_MAX) {
      http_reply_error(req, rep, ERR_BAD_QUERY, "limit", NULL);
      return -1;
    }
    out->limit = (size_t)n;
  }
  int64_t at;
  char id[65];
  if (out->cursor && shop_order_cursor_decode(out->cursor, &at, id) != 0) {
    http_reply_error(req, rep, ERR_BAD_QUERY, "cursor", NULL);
    return -1;
  }
  if (out->q && !shop_order_q_valid(out->q)) {
    http_reply_error(req, rep, ERR_BAD_QUERY, "q", NULL);
    return -1;
  }
  if (out->q && !*out->q)
    out->q = NULL;
  return 0;
}

json_t *portal_page_json(const char *list_key, struct shop_order_page *p) {
  json_t *j = json_pack("{s:o, s:I, s:s?}", list_key, p->items, "total", (json_int_t)p->total,
                        "nextCursor", p->next[0] ? p->next : NULL);
  p->items = NULL;
  return j;
}
