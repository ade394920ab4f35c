/* POST /api/instances/:id/stock {productId, variationId?, format?, text}: adds keys to a
 * product's (or variation's) stock from a pasted list or a CSV file. Each request is one
 * transaction of at most 5000 keys; keys already in the instance's stock, repeated in the
 * upload or unfit (too long, control characters) are reported by line and not added, so a
 * chunk sent twice only reports duplicates. */
#include <string.h>
#include <uv.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "core/log.h"
#include "portal/catalog.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "portal/stock.h"
#include "shop/sale.h"
#include "shop/stock.h"

static const char *const formats[] = {"lines", "csv", NULL};

static const struct jspec_field fields[] = {
    {"productId", JSPEC_STRING, 0, 1, 64, NULL},
    {"variationId", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, 64, NULL},
    {"format", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, formats},
    {"text", JSPEC_STRING, 0, 0, 0, NULL}, /* bounded by the route's body cap */
};

/* Checks productId / variationId against the instance's catalog. 0, or -1 with rep filled. */
static int check_target(struct http_request *req, struct http_reply *rep, const char *pid,
                        const char *vid) {
  const json_t *prod = store_get(astra.store, STORE_PRODUCTS, req->params[0], pid);
  if (!prod || json_object_get(prod, "deletedAt")) {
    http_reply_error(req, rep, ERR_BAD_FIELD, "productId",
                     strcmp(req->locale, "en") ? "Produto não encontrado nesta loja."
                                               : "No such product in this store.");
    return -1;
  }
  size_t live = 0, i;
  int found = 0;
  const json_t *v;
  json_array_foreach(json_object_get(prod, "variations"), i, v) {
    if (json_object_get(v, "deletedAt"))
      continue;
    live++;
    const char *id = json_string_value(json_object_get(v, "id"));
    if (vid && id && !strcmp(id, vid))
      found = 1;
  }
  if (live && !vid) {
    http_reply_error(req, rep, ERR_VARIATION_REQUIRED, "variationId", NULL);
    return -1;
  }
  if (vid && !found) {
    http_reply_error(req, rep, ERR_BAD_FIELD, "variationId",
                     strcmp(req->locale, "en") ? "Variação não encontrada neste produto."
                                               : "No such variation in this product.");
    return -1;
  }
  return 0;
}

/* Orders paid while the product was sold out get the new keys, first come first served, in
 * a transaction of their own right after the upload (applied in memory already, so the new
 * keys are visible); the worker, kicked by the caller, delivers them once both are durable. */
static void restock(const char *inst, int64_t now) {
  struct store_txn *t = store_begin(astra.store);
  size_t served = shop_restock(t, inst, now);
  if (!served) {
    store_abort(t);
    return;
  }
  if (store_commit(t, NULL, NULL) != 0) {
    log_warn("portal", "instance %s: restock could not be committed", inst);
    return;
  }
  log_info("portal", "instance %s: restock served %zu waiting order(s)", inst, served);
}

/* One attempt: builds the transaction and the answer from the store as it is now. 1: the
 * commit is under way; 0 or -1: answered; STORE_ECONFLICT: nothing done, try again. */
static int attempt(struct http_request *req, struct http_reply *rep,
                   const struct shop_stock_upload *u, const struct shop_stock_hasher *hasher,
                   const char *pid, const char *vid, struct shop_stock_counts before,
                   size_t *added_out) {
  const char *inst = req->params[0];
  struct store_txn *t = store_begin(astra.store);
  json_t *dups = json_array(), *invalid = json_array();
  int64_t now = portal_now_ms();
  size_t added = 0;
  int oom = !t || !dups || !invalid;
  for (size_t i = 0; i < u->n && !oom; i++) {
    const struct shop_stock_entry *e = &u->entries[i];
    char masked[SHOP_STOCK_MASKED_MAX];
    if (e->problem == SHOP_STOCK_TOO_LONG || e->problem == SHOP_STOCK_CONTROL_CHARS) {
      json_array_append_new(invalid, json_pack("{s:i, s:s}", "line", (int)e->line, "reason",
                                               shop_stock_problem_name(e->problem)));
      continue;
    }
    const char *reason = NULL;
    char hash[65];
    if (e->problem == SHOP_STOCK_REPEATED) {
      reason = "repeated";
    } else if (shop_stock_hasher_run(hasher, e->key, e->len, hash) != 0) {
      oom = 1;
      break;
    } else if (store_index_get(astra.store, STORE_STOCK, "keyHash", hash, NULL)) {
      reason = "in_stock";
    }
    if (reason) {
      shop_stock_mask_key(e->key, e->len, masked);
      json_array_append_new(dups, json_pack("{s:i, s:s, s:s}", "line", (int)e->line,
                                            "masked", masked, "reason", reason));
      continue;
    }
    char id[37];
    crypto_uuid(id);
    json_t *rec = shop_stock_record_new(id, pid, vid, e->key, e->len, hash, now);
    if (!rec || store_put(t, STORE_STOCK, inst, id, rec) != 0)
      oom = 1;
    else
      added++;
  }
  json_t *body = oom ? NULL
                     : json_pack("{s:I, s:o, s:o, s:{s:I, s:I, s:I}}", "added",
                                 (json_int_t)added, "duplicates", dups, "invalid", invalid,
                                 "counts", "available", (json_int_t)(before.available + added),
                                 "reserved", (json_int_t)before.reserved, "sold",
                                 (json_int_t)before.sold);
  if (!body) {
    if (!oom) /* json_pack stole both arrays even on failure */
      dups = invalid = NULL;
    json_decref(dups);
    json_decref(invalid);
    if (t)
      store_abort(t);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return -1;
  }
  *added_out = added;
  if (!added) { /* nothing changes: nothing to make durable nor to audit */
    store_abort(t);
    http_reply_json(rep, 200, body);
    return 0;
  }
  json_t *ev = portal_stock_event(req, "stock.add");
  json_object_set_new(ev, "productId", json_string(pid));
  json_object_set_new(ev, "variationId", vid ? json_string(vid) : json_null());
  json_object_set_new(ev, "count", json_integer((json_int_t)added));
  shop_outbox_post_update(t, inst, pid, now); /* the post shows the new count */
  int rc = portal_commit_event(req, rep, t, 200, body, ev);
  if (rc == STORE_ECONFLICT) {
    json_decref(body);
    json_decref(ev);
  }
  if (rc == 0) {
    restock(inst, now);
    bot_outbox_kick();
  }
  return rc == 0 ? 1 : rc;
}

enum http_result portal_post_instances_ID_stock(struct http_request *req,
                                                struct http_reply *rep) {
  if (!portal_own_instance(req, rep))
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *pid = json_string_value(json_object_get(req->json, "productId"));
  const char *vid = json_string_value(json_object_get(req->json, "variationId"));
  const char *fmt = json_string_value(json_object_get(req->json, "format"));
  const json_t *text = json_object_get(req->json, "text");
  if (check_target(req, rep, pid, vid) != 0)
    return HTTP_DONE;

  uint64_t t0 = uv_hrtime();
  struct shop_stock_upload u;
  if (shop_stock_parse(json_string_value(text), json_string_length(text),
                       fmt && !strcmp(fmt, "csv") ? SHOP_STOCK_CSV : SHOP_STOCK_LINES,
                       &u) != 0) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  if (u.too_many) {
    shop_stock_upload_free(&u);
    http_reply_error(req, rep, ERR_STOCK_TOO_MANY, "text", NULL);
    return HTTP_DONE;
  }
  struct shop_stock_tally tally = {0};
  struct shop_stock_counts before = {0, 0, 0};
  if (shop_stock_tally(req->params[0], pid, &tally) == 0)
    before = shop_stock_tally_get(&tally, pid, vid ? vid : "");
  shop_stock_tally_free(&tally);

  /* Everything below runs on the loop without a pause, so a key checked absent is still
   * absent when committed; the unique index on keyHash stays the last word all the same:
   * on a conflict, look again (the other key is now in stock and is reported). */
  int rc = STORE_ECONFLICT;
  size_t added = 0;
  struct shop_stock_hasher hasher;
  if (shop_stock_hasher_init(&hasher, req->params[0]) != 0) {
    shop_stock_upload_free(&u);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  for (int tries = 0; tries < 3 && rc == STORE_ECONFLICT; tries++)
    rc = attempt(req, rep, &u, &hasher, pid, vid, before, &added);
  shop_stock_hasher_free(&hasher);
  size_t n = u.n;
  shop_stock_upload_free(&u);
  if (rc == STORE_ECONFLICT)
    http_reply_error(req, rep, ERR_CONFLICT, "text", NULL);
  http_log(req, LOG_DEBUG, "stock upload: %zu entries, %zu added, %.1f ms on the loop", n,
           added, (double)(uv_hrtime() - t0) / 1e6);
  return rc == 1 ? HTTP_SUSPEND : HTTP_DONE;
}
