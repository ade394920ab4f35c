/* POST /api/instances/:id/api-key: creates (or rotates) the key the seller types in
 * /vincular. It is shown once, in this answer; the store keeps only its SHA-256, so a lost
 * key is replaced, never recovered. A rotation makes the old key useless at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "store/store.h"

struct issue {
  struct http_request *req;
  char id[40];
  char key[64];
  int aborted;
};

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  ((struct issue *)arg)->aborted = 1;
}

static void on_durable(int status, void *arg) {
  struct issue *k = arg;
  if (!k->aborted) {
    struct http_reply *rep = http_reply_of(k->req);
    if (status != 0)
      http_reply_error(k->req, rep, ERR_STORE_FAILED, NULL, NULL);
    else
      http_reply_json(rep, 201, json_pack("{s:s, s:s}", "apiKey", k->key, "usage",
                                          strcmp(k->req->locale, "en")
                                              ? "No servidor da loja: /vincular chave:<esta chave>"
                                              : "In the store's server: /vincular chave:<this key>"));
    http_resume(k->req);
  }
  crypto_wipe(k->key, sizeof k->key);
  free(k);
}

enum http_result portal_post_instances_ID_api_key(struct http_request *req,
                                                  struct http_reply *rep) {
  const json_t *rec = portal_own_instance(req, rep);
  if (!rec)
    return HTTP_DONE;
  struct issue *k = calloc(1, sizeof *k);
  uint8_t raw[24];
  if (!k || crypto_random(raw, sizeof raw) != 0) {
    free(k);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  char hex[49];
  crypto_hex(raw, sizeof raw, hex);
  snprintf(k->key, sizeof k->key, "astra_%s", hex);
  uint8_t h[32];
  char hash[65];
  crypto_sha256(k->key, strlen(k->key), h);
  crypto_hex(h, sizeof h, hash);
  k->req = req;
  snprintf(k->id, sizeof k->id, "%s", req->params[0]);
  json_t *copy = json_deep_copy(rec);
  json_object_set_new(copy, "apiKeyHash", json_string(hash));
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_INSTANCES, NULL, k->id, copy);
  if (store_commit(t, on_durable, k) != 0) {
    free(k);
    http_reply_error(req, rep, ERR_STORE_FAILED, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, k);
  http_log(req, LOG_INFO, "instance %s: API key issued", k->id);
  return HTTP_SUSPEND;
}
