/* The portal's endpoints, one file each under src/portal/, named after the route:
 * src/portal/get_health.c defines portal_get_health(). The route table that maps paths to
 * them is in src/portal_server.c. */
#ifndef ASTRA_PORTAL_PORTAL_H
#define ASTRA_PORTAL_PORTAL_H

#include "http/http.h"

enum http_result portal_get_health(struct http_request *req, struct http_reply *rep);

#endif
