/* The admin listener (:3000): the operators' panel and its API. Every API route needs the
 * ADMIN_PANEL_TOKEN; the panel's static files are public (they hold no data; the page asks
 * for the token and sends it with each call). This table is the map of every admin
 * endpoint. */
#include <string.h>
#include <strings.h>

#include "admin/admin.h"
#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "servers.h"

const struct http_route admin_routes[] = {
    /* methods   pattern        handler               body cap  flags */
    {HTTP_GET, "/api/status", admin_get_api_status, 0, 0},
    {HTTP_PUT, "/api/log-level", admin_put_api_log_level, 256, ROUTE_JSON},
    {HTTP_POST, "/api/store/checkpoint", admin_post_api_store_checkpoint, 0, 0},
    {HTTP_GET, "/api/instances", admin_get_api_instances, 0, 0},
    {HTTP_POST, "/api/instances/:id/start", admin_post_instances_ID_start, 0, 0},
    {HTTP_POST, "/api/instances/:id/stop", admin_post_instances_ID_stop, 0, 0},
    {HTTP_POST, "/api/instances/:id/restart", admin_post_instances_ID_restart, 0, 0},
};
const size_t admin_nroutes = sizeof admin_routes / sizeof admin_routes[0];

const struct static_mount admin_mounts[] = {
    {"/shared", "shared", NULL},
    {"/admin", "admin", "/admin"},
};
const size_t admin_nmounts = sizeof admin_mounts / sizeof admin_mounts[0];

int admin_authorize(struct http_request *req, struct http_reply *rep) {
  const char *h = http_header(req, "Authorization");
  const char *want = astra.cfg->admin_panel_token;
  if (h && !strncasecmp(h, "Bearer ", 7) && want) {
    const char *tok = h + 7;
    if (crypto_equal(tok, strlen(tok), want, strlen(want)))
      return 0;
  }
  http_reply_header(rep, "WWW-Authenticate", "Bearer realm=\"astra-admin\"");
  http_reply_error(req, rep, ERR_UNAUTHORIZED, NULL, NULL);
  return -1;
}

int admin_server_start(const struct static_site *site, char *err, size_t errlen) {
  struct http_server_config cfg = {
      .name = "admin",
      .host = astra.cfg->admin_host,
      .port = astra.cfg->admin_port,
      .routes = admin_routes,
      .nroutes = admin_nroutes,
      .site = site,
      .authorize = admin_authorize,
      .locale = astra.cfg->locale,
      .connection_limit = 256,
  };
  return http_server_start(&astra.admin, astra.loop, &cfg, err, errlen);
}
