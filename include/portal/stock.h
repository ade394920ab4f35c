/* Shared by the portal's stock routes (src/portal/ files with "stock" in their name): commit
 * then answer, with an audit line for each change, and the audit event of a seller's act. */
#ifndef ASTRA_PORTAL_STOCK_H
#define ASTRA_PORTAL_STOCK_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"

/* An audit event for the caller's act on the route's instance (params[0]): actor, IP,
 * request id and instanceId filled. */
json_t *portal_stock_event(const struct http_request *req, const char *action);

/* Commits t; once it is durable, appends event (stolen; may be NULL) to the audit trail
 * (without waiting for it: the change is already on disk) and answers status with body
 * (stolen; NULL for an empty body). Returns 0 (the handler then returns HTTP_SUSPEND), or
 * what store_commit returned: on STORE_ECONFLICT nothing is applied nor answered and body
 * and event are kept by the caller (to re-check and retry); otherwise an error (503 when
 * the store failed) is answered and body and event are consumed. */
int portal_stock_commit(struct http_request *req, struct http_reply *rep, struct store_txn *t,
                        unsigned status, json_t *body, json_t *event);

#endif
