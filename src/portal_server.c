/* The portal listener (:3100): the seller's web app and its API, plus the public health
 * check and, later, the payment webhooks. This table is the map of every portal endpoint. */
#include <stdio.h>

#include "core/app.h"
#include "core/config.h"
#include "portal/auth.h"
#include "portal/portal.h"
#include "servers.h"
#include "shop/shop.h"

const struct http_route portal_routes[] = {
    /* methods   pattern    handler             body cap  flags */
    {HTTP_GET, "/health", portal_get_health, 0, ROUTE_PUBLIC},
    {HTTP_POST, "/api/auth/signup", portal_post_auth_signup, 4096, ROUTE_JSON | ROUTE_PUBLIC},
    {HTTP_POST, "/api/auth/login", portal_post_auth_login, 4096, ROUTE_JSON | ROUTE_PUBLIC},
    {HTTP_POST, "/api/auth/logout", portal_post_auth_logout, 256, ROUTE_JSON},
    {HTTP_POST, "/api/auth/password", portal_post_auth_password, 4096, ROUTE_JSON},
    {HTTP_GET, "/api/auth/discord", portal_get_auth_discord, 0, ROUTE_PUBLIC},
    {HTTP_GET, "/api/auth/discord/callback", portal_get_auth_discord_callback, 0, ROUTE_PUBLIC},
    {HTTP_GET, "/api/me", portal_get_me, 0, ROUTE_JSON},
    /* payments: Mercado Pago's notifications (signed; public) and the seller's wallet */
    {HTTP_POST, "/api/webhooks/mercadopago", portal_post_webhooks_mercadopago, 8192,
     ROUTE_JSON | ROUTE_PUBLIC},
    {HTTP_GET, "/api/wallet", portal_get_wallet, 0, 0},
    /* instances: src/portal/ files with "instances" in their name */
    {HTTP_GET, "/api/instances", portal_get_instances, 0, 0},
    {HTTP_POST, "/api/instances", portal_post_instances, 1024, ROUTE_JSON},
    {HTTP_GET, "/api/instances/:id", portal_get_instances_ID, 0, 0},
    {HTTP_PATCH, "/api/instances/:id", portal_patch_instances_ID, 4096, ROUTE_JSON},
    {HTTP_DELETE, "/api/instances/:id", portal_delete_instances_ID, 1024, ROUTE_JSON},
    {HTTP_PUT, "/api/instances/:id/token", portal_put_instances_ID_token, 1024, ROUTE_JSON},
    {HTTP_POST, "/api/instances/:id/api-key", portal_post_instances_ID_api_key, 0, 0},
    {HTTP_POST, "/api/instances/:id/start", portal_post_instances_ID_start, 0, 0},
    {HTTP_POST, "/api/instances/:id/stop", portal_post_instances_ID_stop, 0, 0},
    {HTTP_POST, "/api/instances/:id/restart", portal_post_instances_ID_restart, 0, 0},
    /* catalog: products, variations and DM templates */
    {HTTP_GET, "/api/instances/:id/products", portal_get_instances_ID_products, 0, 0},
    {HTTP_POST, "/api/instances/:id/products",
     portal_post_instances_ID_products, 16384, ROUTE_JSON},
    {HTTP_GET, "/api/instances/:id/products/:pid", portal_get_instances_ID_products_ID, 0, 0},
    {HTTP_PATCH, "/api/instances/:id/products/:pid",
     portal_patch_instances_ID_products_ID, 16384, ROUTE_JSON},
    {HTTP_DELETE, "/api/instances/:id/products/:pid",
     portal_delete_instances_ID_products_ID, 256, ROUTE_JSON},
    {HTTP_POST, "/api/instances/:id/products/:pid/variations",
     portal_post_instances_ID_products_ID_variations, 1024, ROUTE_JSON},
    {HTTP_PATCH, "/api/instances/:id/products/:pid/variations/:vid",
     portal_patch_instances_ID_products_ID_variations_ID, 1024, ROUTE_JSON},
    {HTTP_DELETE, "/api/instances/:id/products/:pid/variations/:vid",
     portal_delete_instances_ID_products_ID_variations_ID, 256, ROUTE_JSON},
    /* product posts */
    {HTTP_POST, "/api/instances/:id/products/:pid/post",
     portal_post_instances_ID_products_ID_post, 256, ROUTE_JSON},
    /* catalog: products, variations and DM templates */
    {HTTP_POST, "/api/instances/:id/dm-preview",
     portal_post_instances_ID_dm_preview, 8192, ROUTE_JSON},
    /* stock of keys */
    {HTTP_GET, "/api/instances/:id/stock", portal_get_instances_ID_stock, 0, 0},
    {HTTP_POST, "/api/instances/:id/stock", portal_post_instances_ID_stock, 1310720, ROUTE_JSON},
    {HTTP_POST, "/api/instances/:id/stock/remove",
     portal_post_instances_ID_stock_remove, 32768, ROUTE_JSON},
    {HTTP_POST, "/api/instances/:id/stock/:sid/reveal",
     portal_post_instances_ID_stock_ID_reveal, 0, 0},
    {HTTP_DELETE, "/api/instances/:id/stock/:sid",
     portal_delete_instances_ID_stock_ID, 256, ROUTE_JSON},
    /* coupons */
    {HTTP_GET, "/api/instances/:id/coupons", portal_get_instances_ID_coupons, 0, 0},
    {HTTP_POST, "/api/instances/:id/coupons", portal_post_instances_ID_coupons, 8192, ROUTE_JSON},
    {HTTP_PATCH, "/api/instances/:id/coupons/:cid",
     portal_patch_instances_ID_coupons_ID, 8192, ROUTE_JSON},
    {HTTP_DELETE, "/api/instances/:id/coupons/:cid",
     portal_delete_instances_ID_coupons_ID, 256, ROUTE_JSON},
    /* orders and customers (read-only) */
    {HTTP_GET, "/api/instances/:id/orders", portal_get_instances_ID_orders, 0, 0},
    {HTTP_GET, "/api/instances/:id/orders/:oid", portal_get_instances_ID_orders_ID, 0, 0},
    {HTTP_POST, "/api/instances/:id/orders/:oid/retry",
     portal_post_instances_ID_orders_ID_retry, 0, 0},
    {HTTP_GET, "/api/instances/:id/customers", portal_get_instances_ID_customers, 0, 0},
    {HTTP_GET, "/api/instances/:id/customers/:cid", portal_get_instances_ID_customers_ID, 0, 0},
};
const size_t portal_nroutes = sizeof portal_routes / sizeof portal_routes[0];

/* web/portal at "/", with the SPA's client-side routes under /dashboard; web/shared for the
 * modules both apps use. */
const struct static_mount portal_mounts[] = {
    {"/shared", "shared", NULL},
    {"/", "portal", "/dashboard"},
};
const size_t portal_nmounts = sizeof portal_mounts / sizeof portal_mounts[0];

int portal_server_start(const struct static_site *site, char *err, size_t errlen) {
  if (portal_auth_init(err, errlen) != 0 || shop_init(err, errlen) != 0)
    return -1;
  struct http_server_config cfg = {
      .name = "portal",
      .host = astra.cfg->portal_host,
      .port = astra.cfg->portal_port,
      .routes = portal_routes,
      .nroutes = portal_nroutes,
      .site = site,
      .authorize = portal_authorize,
      .locale = astra.cfg->locale,
      .trust_proxy = astra.cfg->trust_proxy,
      .connection_limit = 4096,
  };
  return http_server_start(&astra.portal, astra.loop, &cfg, err, errlen);
}
