/* The admin panel's endpoints, one file each under src/admin/, named after the route:
 * src/admin/get_api_status.c defines admin_get_api_status(). The route table is in
 * src/admin_server.c. */
#ifndef ASTRA_ADMIN_ADMIN_H
#define ASTRA_ADMIN_ADMIN_H

#include "http/http.h"

enum http_result admin_get_api_status(struct http_request *req, struct http_reply *rep);
enum http_result admin_put_api_log_level(struct http_request *req, struct http_reply *rep);

#endif
