/* Shared by the portal's stock routes (src/portal/ files with "stock" in their name): the
 * audit event of a seller's act, which portal_commit_event (portal/catalog.h) appends once
 * the change is durable. */
#ifndef ASTRA_PORTAL_STOCK_H
#define ASTRA_PORTAL_STOCK_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"

/* An audit event for the caller's act on the route's instance (params[0]): actor, IP,
 * request id and instanceId filled. */
json_t *portal_stock_event(const struct http_request *req, const char *action);

#endif
