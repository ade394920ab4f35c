/* The portal's endpoints, one file each under src/portal/, named after the route:
 * src/portal/get_health.c defines portal_get_health(). The route table that maps paths to
 * them is in src/portal_server.c. */
#ifndef ASTRA_PORTAL_PORTAL_H
#define ASTRA_PORTAL_PORTAL_H

#include "http/http.h"

enum http_result portal_get_health(struct http_request *req, struct http_reply *rep);

/* Payments: Mercado Pago's notifications, and the seller's wallet. */
enum http_result portal_post_webhooks_mercadopago(struct http_request *req,
                                                  struct http_reply *rep);
enum http_result portal_get_wallet(struct http_request *req, struct http_reply *rep);
/* Retries an order's failed deliveries. */
enum http_result portal_post_instances_ID_orders_ID_retry(struct http_request *req,
                                                          struct http_reply *rep);

/* Instances (src/portal/ files with "instances" in their name). */
enum http_result portal_get_instances(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances(struct http_request *req, struct http_reply *rep);
enum http_result portal_get_instances_ID(struct http_request *req, struct http_reply *rep);
enum http_result portal_patch_instances_ID(struct http_request *req, struct http_reply *rep);
enum http_result portal_delete_instances_ID(struct http_request *req, struct http_reply *rep);
enum http_result portal_put_instances_ID_token(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances_ID_api_key(struct http_request *req,
                                                  struct http_reply *rep);
enum http_result portal_post_instances_ID_start(struct http_request *req,
                                                struct http_reply *rep);
enum http_result portal_post_instances_ID_stop(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances_ID_restart(struct http_request *req,
                                                  struct http_reply *rep);
/* Shared by start and stop (src/portal/instance_action.c). */
enum http_result portal_instance_set_desired(struct http_request *req, struct http_reply *rep,
                                             const char *desired);

/* Catalog: products, variations and DM templates. */
enum http_result portal_get_instances_ID_products(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances_ID_products(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_get_instances_ID_products_ID(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_patch_instances_ID_products_ID(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_delete_instances_ID_products_ID(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_post_instances_ID_products_ID_variations(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_patch_instances_ID_products_ID_variations_ID(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_delete_instances_ID_products_ID_variations_ID(struct http_request *req,
    struct http_reply *rep);

/* Product posts. */
enum http_result portal_post_instances_ID_products_ID_post(struct http_request *req,
    struct http_reply *rep);

/* Catalog: products, variations and DM templates. */
enum http_result portal_post_instances_ID_dm_preview(struct http_request *req,
    struct http_reply *rep);

/* Stock of keys. */
enum http_result portal_get_instances_ID_stock(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances_ID_stock(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances_ID_stock_remove(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_post_instances_ID_stock_ID_reveal(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_delete_instances_ID_stock_ID(struct http_request *req,
    struct http_reply *rep);

/* Coupons. */
enum http_result portal_get_instances_ID_coupons(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_instances_ID_coupons(struct http_request *req, struct http_reply *rep);
enum http_result portal_patch_instances_ID_coupons_ID(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_delete_instances_ID_coupons_ID(struct http_request *req,
    struct http_reply *rep);

/* Orders and customers (read-only). */
enum http_result portal_get_instances_ID_orders(struct http_request *req, struct http_reply *rep);
enum http_result portal_get_instances_ID_orders_ID(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_get_instances_ID_customers(struct http_request *req,
    struct http_reply *rep);
enum http_result portal_get_instances_ID_customers_ID(struct http_request *req,
    struct http_reply *rep);

#endif
