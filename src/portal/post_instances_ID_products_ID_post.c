/* POST /api/instances/:id/products/:pid/post {channelId?}: the bot posts the product (embed
 * and buy components, src/bot/product_post.c) in a channel, records where in the product's
 * `post`, and deletes the previous post. The channel is the one asked for, else the last
 * post's, else the instance's store channel.
 *
 * The request waits on Discord. It goes through the running bot's REST client, or, when the
 * bot is stopped, through a short-lived client made from the unsealed token (freed once its
 * calls are done). The message carries a random nonce with enforce_nonce, which makes a retry
 * after a lost answer harmless, so the POST may be retried on 5xx. If the seller's request goes
 * away meanwhile, the post still completes and is recorded (the message exists on Discord;
 * forgetting it would leave a post that no repost deletes); only at shutdown is the call
 * cancelled. The product is read again before committing: it may have changed or gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/product_post.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "core/log.h"
#include "discord/rest.h"
#include "portal/catalog.h"
#include "portal/products.h"
#include "portal/portal.h"
#include "runtime/runtime.h"
#include "runtime/token.h"
#include "store/store.h"

#define MOD "portal"

static const struct jspec_field fields[] = {
    {"channelId", JSPEC_STRING, JSPEC_OPTIONAL, 1, 20, NULL},
};

struct job {
  struct http_request *req; /* NULL once the request went away */
  char reqid[17];           /* for logs after the request is gone */
  char iid[40], pid[40], channel[24];
  struct rest_client *own;  /* the short-lived client when the bot is not running */
  struct rest_call *call;   /* the POST, while it is pending */
};

/* Snowflakes are 1-20 decimal digits (a uint64). */
static int snowflake_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 20)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}

static const char *str_at(const json_t *obj, const char *a, const char *b) {
  const json_t *v = json_object_get(obj, a);
  return json_string_value(b ? json_object_get(v, b) : v);
}

static void job_free(struct job *job, int client_gone) {
  /* REST_ECANCELLED means the client was freed under us (daemon shutdown): not ours to free */
  if (job->own && !client_gone)
    rest_client_free(job->own);
  free(job);
}

static void on_abort(struct http_request *req, void *arg) {
  (void)req;
  struct job *job = arg;
  job->req = NULL;
  if (astra.phase == APP_STOPPING && job->call) {
    rest_cancel(job->call);
    job_free(job, 0);
  }
}

static void reply_error(struct job *job, enum err_id id, const char *field) {
  if (!job->req)
    return;
  http_reply_error(job->req, http_reply_of(job->req), id, field, NULL);
  http_resume(job->req);
  job->req = NULL;
}

static void on_deleted(const struct rest_result *r, void *arg) {
  struct job *job = arg;
  /* best effort: a message already gone (10008) or in a channel gone (10003) is fine */
  if (r->error != REST_OK || (r->status >= 400 && r->code != 10008 && r->code != 10003))
    log_msg(LOG_WARN, MOD, job->reqid, "instance %s product %s: previous post not deleted: %s",
            job->iid, job->pid, r->error_msg ? r->error_msg : "?");
  job_free(job, r->error == REST_ECANCELLED);
}

/* Deletes channel/message with the client the post used; then frees the job. */
static void delete_message(struct job *job, const char *channel, const char *message) {
  struct rest_client *rest = job->own ? job->own : runtime_rest(job->iid);
  char path[96];
  snprintf(path, sizeof path, "/channels/%s/messages/%s", channel, message);
  if (!rest || !snowflake_ok(channel) || !snowflake_ok(message) ||
      !rest_request(rest, "DELETE", path, NULL, 0, on_deleted, job)) {
    log_msg(LOG_WARN, MOD, job->reqid, "instance %s product %s: previous post not deleted",
            job->iid, job->pid);
    job_free(job, 0);
  }
}

/* The message is on Discord: record it on the product as it is now. */
static void record_post(struct job *job, const char *message_id) {
  const json_t *rec = store_get(astra.store, STORE_PRODUCTS, job->iid, job->pid);
  if (!rec || json_object_get(rec, "deletedAt")) {
    /* deleted while we posted: take the post down again rather than leave an orphan */
    reply_error(job, ERR_NOT_FOUND, NULL);
    delete_message(job, job->channel, message_id);
    return;
  }
  char old_ch[24] = "", old_msg[24] = "";
  const char *oc = str_at(rec, "post", "channelId"), *om = str_at(rec, "post", "messageId");
  if (oc && om && strcmp(om, message_id) != 0) {
    snprintf(old_ch, sizeof old_ch, "%s", oc);
    snprintf(old_msg, sizeof old_msg, "%s", om);
  }
  json_t *copy = json_deep_copy(rec);
  json_object_set_new(copy, "post", json_pack("{s:s, s:s, s:I}", "channelId", job->channel,
                                              "messageId", message_id, "postedAt",
                                              (json_int_t)portal_now_ms()));
  json_t *body = portal_product_view(job->iid, copy);
  struct store_txn *t = store_begin(astra.store);
  store_put(t, STORE_PRODUCTS, job->iid, job->pid, copy);
  if (job->req) {
    struct http_request *req = job->req;
    job->req = NULL;
    if (portal_commit_reply(req, http_reply_of(req), t, 200, body, ERR_CONFLICT, NULL) ==
        HTTP_DONE)
      http_resume(req);
  } else {
    json_decref(body);
    if (store_commit(t, NULL, NULL) != 0)
      log_msg(LOG_ERROR, MOD, job->reqid, "instance %s product %s: post %s not recorded",
              job->iid, job->pid, message_id);
  }
  if (old_msg[0])
    delete_message(job, old_ch, old_msg);
  else
    job_free(job, 0);
}

static void on_posted(const struct rest_result *r, void *arg) {
  struct job *job = arg;
  job->call = NULL;
  if (job->req)
    http_on_abort(job->req, NULL, NULL);
  const char *mid = json_string_value(json_object_get(r->body, "id"));
  if (r->error == REST_OK && r->status < 300 && mid && snowflake_ok(mid)) {
    log_msg(LOG_INFO, MOD, job->reqid, "instance %s product %s posted in %s (message %s)",
            job->iid, job->pid, job->channel, mid);
    record_post(job, mid);
    return;
  }
  log_msg(LOG_WARN, MOD, job->reqid, "instance %s product %s: post in %s failed: %s",
          job->iid, job->pid, job->channel, r->error_msg ? r->error_msg : "?");
  if (r->error == REST_EQUARANTINED || (r->error == REST_OK && r->status == 401))
    reply_error(job, ERR_BOT_NOT_READY, NULL); /* the token was revoked */
  else if (r->error == REST_EINVALID)
    reply_error(job, ERR_INTERNAL, NULL); /* a body our own limits refused: our bug */
  else if (r->error == REST_OK && r->status >= 400 && r->status < 500 && r->status != 429)
    reply_error(job, ERR_DISCORD_REJECTED, "channelId"); /* 50001, 50013, 10003, 400... */
  else
    reply_error(job, ERR_UNAVAILABLE, NULL); /* network, 5xx or 429 after retries, shutdown */
  job_free(job, r->error == REST_ECANCELLED);
}

/* The REST client to post with: the running bot's, else a new one from the sealed token. */
static struct rest_client *client_for(struct job *job, const char *sealed) {
  struct rest_client *rest = runtime_rest(job->iid);
  if (rest)
    return rest;
  char *token = token_open(sealed);
  if (!token) {
    log_msg(LOG_WARN, MOD, job->reqid, "instance %s: the sealed bot token does not open",
            job->iid);
    return NULL;
  }
  job->own = rest_client_new(token, job->iid);
  crypto_wipe(token, strlen(token));
  free(token);
  return job->own;
}

enum http_result portal_post_instances_ID_products_ID_post(struct http_request *req,
                                                           struct http_reply *rep) {
  const json_t *prod = portal_own_product(req, rep);
  if (!prod)
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, fields, 1, 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *asked = str_at(req->json, "channelId", NULL);
  if (asked && !snowflake_ok(asked)) {
    http_reply_error(req, rep, ERR_BAD_FIELD, "channelId", NULL);
    return HTTP_DONE;
  }
  if (json_is_false(json_object_get(prod, "active"))) {
    http_reply_error(req, rep, ERR_PRODUCT_INACTIVE, NULL, NULL);
    return HTTP_DONE;
  }
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, req->params[0]);
  const char *sealed = str_at(inst, "botToken", NULL);
  if (!sealed) {
    http_reply_error(req, rep, ERR_BOT_NOT_READY, NULL, NULL);
    return HTTP_DONE;
  }
  const char *channel = asked;
  if (!channel || !*channel)
    channel = str_at(prod, "post", "channelId");
  if (!snowflake_ok(channel))
    channel = str_at(inst, "settings", "storeChannelId");
  if (!snowflake_ok(channel)) {
    http_reply_error(req, rep, ERR_NO_CHANNEL, "channelId", NULL);
    return HTTP_DONE;
  }

  struct job *job = calloc(1, sizeof *job);
  json_t *msg = job ? bot_product_post(req->params[0], req->params[1]) : NULL;
  unsigned char rnd[10];
  char nonce[21];
  if (!msg || crypto_random(rnd, sizeof rnd) != 0) {
    json_decref(msg);
    free(job);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  crypto_hex(rnd, sizeof rnd, nonce);
  json_object_set_new(msg, "nonce", json_string(nonce));
  json_object_set_new(msg, "enforce_nonce", json_true());
  job->req = req;
  snprintf(job->reqid, sizeof job->reqid, "%s", req->reqid);
  snprintf(job->iid, sizeof job->iid, "%s", req->params[0]);
  snprintf(job->pid, sizeof job->pid, "%s", req->params[1]);
  snprintf(job->channel, sizeof job->channel, "%s", channel);

  struct rest_client *rest = client_for(job, sealed);
  if (!rest) {
    json_decref(msg);
    job_free(job, 0);
    http_reply_error(req, rep, ERR_BOT_NOT_READY, NULL, NULL);
    return HTTP_DONE;
  }
  char path[64];
  snprintf(path, sizeof path, "/channels/%s/messages", job->channel);
  job->call = rest_request(rest, "POST", path, msg, REST_RETRY_UNSAFE, on_posted, job);
  if (!job->call) {
    job_free(job, 0);
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  http_on_abort(req, on_abort, job);
  return HTTP_SUSPEND;
}
