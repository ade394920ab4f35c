/* Shared by the portal's product, variation and DM preview routes (src/portal/ files with
 * "products" or "dm_preview" in their name): the checks every product field goes through
 * beyond its JSON type, and "store the product, answer with its seller view". */
#ifndef ASTRA_PORTAL_PRODUCTS_H
#define ASTRA_PORTAL_PRODUCTS_H

#include <jansson.h>

#include "http/http.h"

/* Checks a product body: POST (patch 0: name and priceCents required, variations allowed) or
 * PATCH (patch 1: every field optional, no variations). 0, or -1 with a 400 in rep naming
 * the field (bad_template / template_no_key for dmTemplate). */
int portal_product_check(struct http_request *req, struct http_reply *rep, const json_t *body,
                         int patch);
/* The same for a variation body (POST: name and priceCents required; PATCH: all optional). */
int portal_variation_check(struct http_request *req, struct http_reply *rep,
                           const json_t *body, int patch);
/* A DM template given by the seller: unknown placeholders and a missing {chave} answer 400
 * with field. 0, or -1 with rep filled. */
int portal_template_check(struct http_request *req, struct http_reply *rep, const char *tpl,
                          const char *field);

/* A new variation record (fresh id) from a checked body. */
json_t *portal_variation_new(const json_t *body);
/* Copies the fields present in body (a checked PATCH) onto the record dst. */
void portal_copy_fields(json_t *dst, const json_t *body);

/* The seller's view of a product of instance_id (stock counted now). NULL when out of
 * memory. */
json_t *portal_product_view(const char *instance_id, const json_t *rec);
/* Puts rec (stolen, a new record or a changed copy) as the product, then answers status with
 * its view once durable (NULL body with 204). Returns what the handler returns. */
enum http_result portal_product_commit(struct http_request *req, struct http_reply *rep,
                                       const char *instance_id, json_t *rec, unsigned status);

/* Keys of the product (variation_id NULL: all; "": those without a variation) that are
 * available or reserved, which block a delete. */
size_t portal_product_live_keys(const char *instance_id, const char *product_id,
                                const char *variation_id);

#endif
