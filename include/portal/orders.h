/* Shared by the portal's read-only order and customer routes: the paging part of their
 * queries (limit, cursor, q), checked the same way everywhere. */
#ifndef ASTRA_PORTAL_ORDERS_H
#define ASTRA_PORTAL_ORDERS_H

#include <stddef.h>

#include "http/http.h"

#define PORTAL_PAGE_DEFAULT 50

struct portal_page_query {
  size_t limit;       /* 1..100, default PORTAL_PAGE_DEFAULT */
  const char *cursor; /* NULL: the first page */
  const char *q;      /* NULL: no text filter */
};

/* Reads and checks ?limit, ?cursor and ?q. 0, or -1 with 400 bad_query naming the
 * parameter in rep. Unknown parameters are ignored. */
int portal_page_query(struct http_request *req, struct http_reply *rep,
                      struct portal_page_query *out);

/* {"<list_key>": items, "total", "nextCursor"} from a page (whose items it takes). */
struct shop_order_page;
json_t *portal_page_json(const char *list_key, struct shop_order_page *p);

#endif
