/* What the routes below an instance share: every lookup goes through the caller's own
 * instance first, so another seller's product, key or coupon is a 404 exactly like a missing
 * one; and one "commit, then answer" so that no 2xx leaves before its change is on disk. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/audit.h"
#include "core/log.h"
#include "portal/catalog.h"
#include "portal/instances.h"

/* portal_now_ms() is defined once, in src/portal/auth.c (declared in both headers). */

const json_t *portal_own_scoped(struct http_request *req, struct http_reply *rep,
                                enum store_coll c) {
  if (!portal_own_instance(req, rep))
    return NULL;
  const json_t *rec = req->nparams > 1 ? store_get(astra.store, c, req->params[0], req->params[1])
                                       : NULL;
  if (!rec || json_object_get(rec, "deletedAt")) {
    http_reply_error(req, rep, ERR_NOT_FOUND, NULL, NULL);
    return NULL;
  }
  return rec;
}

const json_t *portal_own_product(struct http_request *req, struct http_reply *rep) {
  return portal_own_scoped(req, rep, STORE_PRODUCTS);
}

struct pending {
  struct http_request *req; /* NULL once the request went away */
  unsigned status;
  json_t *body, *event;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct pending *)arg)->req = NULL;
}

static void on_durable(int status, void *arg) {
  struct pending *p = arg;
  if (status == 0 && p->event) {
    if (audit_append(p->event, NULL, NULL) != 0)
      log_error("portal", "audit: could not append an event");
    p->event = NULL;
  }
  if (p->req) {
    struct http_reply *rep = http_reply_of(p->req);
    if (status != 0)
      http_reply_error(p->req, rep, ERR_STORE_FAILED, NULL, NULL);
    else if (p->body)
      http_reply_json(rep, p->status, json_incref(p->body));
    else
      http_reply_data(rep, p->status, NULL, NULL, 0);
    http_resume(p->req);
  }
  json_decref(p->body);
  json_decref(p->event);
  free(p);
}

int portal_commit_event(struct http_request *req, struct http_reply *rep, struct store_txn *t,
                        unsigned status, json_t *body, json_t *event) {
  struct pending *p = calloc(1, sizeof *p);
  if (!p) {
    store_abort(t);
    json_decref(body);
    json_decref(event);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return STORE_ERR;
  }
  *p = (struct pending){req, status, body, event};
  int rc = store_commit(t, on_durable, p);
  if (rc != 0) {
    free(p);
    if (rc == STORE_ECONFLICT)
      return rc;
    json_decref(body);
    json_decref(event);
    http_reply_error(req, rep, ERR_STORE_FAILED, NULL, NULL);
    return rc;
  }
  http_on_abort(req, on_abort, p);
  return 0;
}

enum http_result portal_commit_reply(struct http_request *req, struct http_reply *rep,
                                     struct store_txn *t, unsigned status, json_t *body,
                                     enum err_id conflict, const char *field) {
  int rc = portal_commit_event(req, rep, t, status, body, NULL);
  if (rc == STORE_ECONFLICT) {
    json_decref(body);
    http_reply_error(req, rep, conflict, field, NULL);
  }
  return rc == 0 ? HTTP_SUSPEND : HTTP_DONE;
}

struct list {
  const json_t **recs;
  size_t n, cap;
  int oom;
};

static int collect(const char *id, const json_t *rec, void *arg) {
  (void)id;
  struct list *l = arg;
  if (json_object_get(rec, "deletedAt"))
    return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    const json_t **r = realloc(l->recs, cap * sizeof *r);
    if (!r) {
      l->oom = 1;
      return 1;
    }
    l->recs = r;
    l->cap = cap;
  }
  l->recs[l->n++] = rec;
  return 0;
}

static int newest_first(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  json_int_t cx = json_integer_value(json_object_get(x, "createdAt"));
  json_int_t cy = json_integer_value(json_object_get(y, "createdAt"));
  if (cx != cy)
    return cx > cy ? -1 : 1;
  const char *ix = json_string_value(json_object_get(x, "id"));
  const char *iy = json_string_value(json_object_get(y, "id"));
  return strcmp(iy ? iy : "", ix ? ix : "");
}

const json_t **portal_list_newest(const char *instance_id, enum store_coll c, size_t *n,
                                  int *oom) {
  struct list l = {0};
  store_foreach(astra.store, c, instance_id, collect, &l);
  *oom = l.oom;
  if (l.oom || !l.n) {
    free(l.recs);
    *n = 0;
    return NULL;
  }
  qsort(l.recs, l.n, sizeof *l.recs, newest_first);
  *n = l.n;
  return l.recs;
}

static int newest_at(const char *id, const json_t *rec, void *arg) {
  (void)id;
  json_int_t at = json_integer_value(json_object_get(rec, "createdAt"));
  if (at > *(json_int_t *)arg)
    *(json_int_t *)arg = at;
  return 0;
}

int64_t portal_next_created_at(const char *instance_id, enum store_coll c) {
  json_int_t newest = 0;
  store_foreach(astra.store, c, instance_id, newest_at, &newest);
  int64_t now = portal_now_ms();
  return now > newest ? now : (int64_t)newest + 1;
}
