/* Shared by the portal's per-instance routes below an instance (products, variations, stock,
 * coupons, orders, customers): ownership checks that answer 404 for anything that is not the
 * caller's, and "commit, then answer once durable". */
#ifndef ASTRA_PORTAL_CATALOG_H
#define ASTRA_PORTAL_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "http/http.h"
#include "store/store.h"

/* The caller's product named by the route's parameters (instance, product), not deleted;
 * NULL with a 404 in rep otherwise. */
const json_t *portal_own_product(struct http_request *req, struct http_reply *rep);

/* A record of a scoped collection (stock, coupons) named by params[1] in the caller's
 * instance params[0]; NULL with a 404 in rep otherwise. */
const json_t *portal_own_scoped(struct http_request *req, struct http_reply *rep,
                                enum store_coll c);

/* Commits t and answers status with body (stolen; NULL for an empty body, as with 204) once
 * the transaction is durable, or 503 store_failed. When the commit is refused at once
 * because a unique index would break, answers 409 with `conflict` (and `field`). Returns
 * what the handler returns. */
enum http_result portal_commit_reply(struct http_request *req, struct http_reply *rep,
                                     struct store_txn *t, unsigned status, json_t *body,
                                     enum err_id conflict, const char *field);

/* The same with an audit event (stolen; may be NULL) appended once the change is durable
 * (without waiting for it: the change is already on disk). Returns 0 (the handler then
 * returns HTTP_SUSPEND), or what store_commit returned: on STORE_ECONFLICT nothing is applied
 * nor answered and body and event stay the caller's (to re-check and retry); otherwise an
 * error (503 when the store failed) is answered and body and event are consumed. */
int portal_commit_event(struct http_request *req, struct http_reply *rep, struct store_txn *t,
                        unsigned status, json_t *body, json_t *event);

/* The live (not deleted) records of a scoped collection of one instance, newest first
 * (createdAt, then id, so that two calls agree). A malloc'd array of borrowed records (*n of
 * them), or NULL with *n = 0 when there are none or memory ran out (*oom then set). */
const json_t **portal_list_newest(const char *instance_id, enum store_coll c, size_t *n,
                                  int *oom);

/* A createdAt for a new record of a scoped collection: now, or just after the newest record's
 * when that is not in the past, so that "newest first" follows the order of creation even
 * within one millisecond. */
int64_t portal_next_created_at(const char *instance_id, enum store_coll c);

/* Wall-clock milliseconds since the epoch (record timestamps; defined in src/portal/auth.c,
 * also declared in portal/auth.h). */
int64_t portal_now_ms(void);

#endif
