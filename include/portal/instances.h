/* Shared by the portal's instance routes (src/portal/ files with "instances" in their name). */
#ifndef ASTRA_PORTAL_INSTANCES_H
#define ASTRA_PORTAL_INSTANCES_H

#include <jansson.h>

#include "http/http.h"

/* The caller's own, not deleted, instance named by the route's first parameter; NULL with a
 * 404 in rep otherwise (another seller's id answers exactly like a missing one). */
const json_t *portal_own_instance(struct http_request *req, struct http_reply *rep);
/* An instance as its seller sees it: identity, bot, link, settings and live status; never
 * the token or the API key hash. */
json_t *portal_instance_json(const char *id, const json_t *rec);
/* Commits rec (stolen) as instance id, then answers 200 with its seller view (or 503 when
 * the store failed) and reconciles the runtime. Returns HTTP_SUSPEND (or HTTP_DONE after
 * filling rep on an immediate failure). */
enum http_result portal_commit_instance(struct http_request *req, struct http_reply *rep,
                                        const char *id, json_t *rec, unsigned status);

#define PORTAL_MAX_INSTANCES 20

#endif
