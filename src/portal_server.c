/* The portal listener (:3100): the seller's web app and its API, plus the public health
 * check and, later, the payment webhooks. This table is the map of every portal endpoint. */
#include <stdio.h>

#include "core/app.h"
#include "core/config.h"
#include "portal/portal.h"
#include "servers.h"

const struct http_route portal_routes[] = {
    /* methods   pattern    handler             body cap  flags */
    {HTTP_GET, "/health", portal_get_health, 0, ROUTE_PUBLIC},
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
  struct http_server_config cfg = {
      .name = "portal",
      .host = astra.cfg->portal_host,
      .port = astra.cfg->portal_port,
      .routes = portal_routes,
      .nroutes = portal_nroutes,
      .site = site,
      .authorize = NULL,
      .locale = astra.cfg->locale,
      .connection_limit = 4096,
  };
  return http_server_start(&astra.portal, astra.loop, &cfg, err, errlen);
}
