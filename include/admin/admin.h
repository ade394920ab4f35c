/* The admin panel's endpoints, one file each under src/admin/, named after the route:
 * src/admin/get_api_status.c defines admin_get_api_status(). The route table is in
 * src/admin_server.c. */
#ifndef ASTRA_ADMIN_ADMIN_H
#define ASTRA_ADMIN_ADMIN_H

#include "http/http.h"

enum http_result admin_get_api_status(struct http_request *req, struct http_reply *rep);
enum http_result admin_put_api_log_level(struct http_request *req, struct http_reply *rep);
enum http_result admin_post_api_store_checkpoint(struct http_request *req,
                                                 struct http_reply *rep);
enum http_result admin_get_api_instances(struct http_request *req, struct http_reply *rep);
enum http_result admin_post_instances_ID_start(struct http_request *req, struct http_reply *rep);
enum http_result admin_post_instances_ID_stop(struct http_request *req, struct http_reply *rep);
enum http_result admin_post_instances_ID_restart(struct http_request *req,
                                                 struct http_reply *rep);

/* Shared by start and stop: sets desiredState, answers once durable (src/admin/instance_desired.c). */
enum http_result admin_set_desired(struct http_request *req, struct http_reply *rep,
                                   const char *desired);
/* An instance as operators see it: identity, desired state and live status; never secrets. */
json_t *admin_instance_json(const char *id, const json_t *rec);

#endif
