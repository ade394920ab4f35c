/* The two listeners: their route tables and start functions (src/portal_server.c,
 * src/admin_server.c). */
#ifndef ASTRA_SERVERS_H
#define ASTRA_SERVERS_H

#include <stddef.h>

#include "http/httpd.h"

extern const struct http_route portal_routes[];
extern const size_t portal_nroutes;
extern const struct http_route admin_routes[];
extern const size_t admin_nroutes;

/* Static mounts of each listener. */
extern const struct static_mount portal_mounts[];
extern const size_t portal_nmounts;
extern const struct static_mount admin_mounts[];
extern const size_t admin_nmounts;

int portal_server_start(const struct static_site *site, char *err, size_t errlen);
int admin_server_start(const struct static_site *site, char *err, size_t errlen);
/* Admin requests need "Authorization: Bearer <ADMIN_PANEL_TOKEN>" (constant-time compare). */
int admin_authorize(struct http_request *req, struct http_reply *rep);

#endif
