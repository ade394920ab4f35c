/* DELETE /api/instances/:id {confirm: "<the instance's name>"}: stops the bot and hides the
 * instance; its orders, customers and ledger stay in the store (deletedAt is set, nothing is
 * destroyed), so money already moved can still be accounted for. The name must be typed back
 * so that a stray click cannot delete a store. */
#include <string.h>
#include <sys/time.h>

#include "core/jspec.h"
#include "portal/instances.h"
#include "portal/portal.h"

static const struct jspec_field fields[] = {
    {"confirm", JSPEC_STRING, 0, 1, 80, NULL},
};

enum http_result portal_delete_instances_ID(struct http_request *req, struct http_reply *rep) {
  const json_t *rec = portal_own_instance(req, rep);
  if (!rec)
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, fields, 1, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *name = json_string_value(json_object_get(rec, "name"));
  const char *confirm = json_string_value(json_object_get(req->json, "confirm"));
  if (!name || strcmp(name, confirm) != 0) {
    http_reply_error(req, rep, ERR_BAD_FIELD, "confirm",
                     strcmp(req->locale, "en")
                         ? "Digite o nome da instância exatamente para confirmar a exclusão."
                         : "Type the instance's name exactly to confirm the deletion.");
    return HTTP_DONE;
  }
  struct timeval tv;
  gettimeofday(&tv, NULL);
  json_t *copy = json_deep_copy(rec);
  json_object_set_new(copy, "deletedAt", json_integer((json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000));
  json_object_set_new(copy, "desiredState", json_string("stopped"));
  /* the token's uniqueness is released: the seller may reuse the bot in a new instance */
  json_object_del(copy, "botTokenHash");
  return portal_commit_instance(req, rep, req->params[0], copy, 200);
}
