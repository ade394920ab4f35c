/* PATCH /api/instances/:id {name?, settings?}: rename, and the store's settings: store and
 * log channels, cart as private thread or private channel (with its category), staff role,
 * cart inactivity minutes, locale. Ids are Discord snowflakes; the bot checks them against the
 * guild when it uses them. */
#include "core/jspec.h"
#include "portal/instances.h"
#include "portal/portal.h"

static const char *const cart_modes[] = {"thread", "channel", NULL};
static const char *const locales[] = {"pt-BR", "en", NULL};

static const struct jspec_field fields[] = {
    {"name", JSPEC_STRING, JSPEC_OPTIONAL, 1, 80, NULL},
    {"settings", JSPEC_OBJECT, JSPEC_OPTIONAL, 0, 0, NULL},
};

static const struct jspec_field settings_fields[] = {
    {"storeChannelId", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 25, NULL},
    {"logChannelId", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 25, NULL},
    {"cartMode", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, cart_modes},
    {"cartCategoryId", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 25, NULL},
    {"staffRoleId", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 25, NULL},
    {"cartInactivityMinutes", JSPEC_INT, JSPEC_OPTIONAL, 5, 1440, NULL},
    {"locale", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, locales},
};

/* Snowflakes are decimal digits only. */
static int snowflake_ok(const json_t *v) {
  if (!v || json_is_null(v))
    return 1;
  const char *s = json_string_value(v);
  for (; s && *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return s != NULL;
}

enum http_result portal_patch_instances_ID(struct http_request *req, struct http_reply *rep) {
  const json_t *rec = portal_own_instance(req, rep);
  if (!rec)
    return HTTP_DONE;
  struct jspec_error e;
  const json_t *settings = json_object_get(req->json, "settings");
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0 ||
      (settings && jspec_check(settings, settings_fields,
                               sizeof settings_fields / sizeof settings_fields[0], 0, &e) != 0)) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  static const char *const ids[] = {"storeChannelId", "logChannelId", "cartCategoryId",
                                    "staffRoleId"};
  for (size_t i = 0; settings && i < sizeof ids / sizeof ids[0]; i++)
    if (!snowflake_ok(json_object_get(settings, ids[i]))) {
      http_reply_error(req, rep, ERR_BAD_FIELD, ids[i], NULL);
      return HTTP_DONE;
    }
  json_t *copy = json_deep_copy(rec);
  if (json_object_get(req->json, "name"))
    json_object_set(copy, "name", json_object_get(req->json, "name"));
  if (settings) {
    json_t *cur = json_object_get(copy, "settings");
    if (!json_is_object(cur)) {
      cur = json_object();
      json_object_set_new(copy, "settings", cur);
    }
    json_object_update(cur, (json_t *)settings); /* a null clears a channel or role */
  }
  return portal_commit_instance(req, rep, req->params[0], copy, 200);
}
