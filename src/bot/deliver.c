/* Delivery over Discord (include/bot/deliver.h): the DM with its fallbacks (cart channel,
 * then a Revelar chave button), the log channel's notice and the product post's edit, each
 * ending its outbox attempt with one transaction. Messages carry a nonce derived from the
 * entry (shop_delivery_nonce) with enforce_nonce, so a send repeated after a crash between
 * Discord's answer and our commit returns the message already sent instead of a second one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bot/bot.h"
#include "bot/deliver.h"
#include "bot/product_post.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "discord/customid.h"
#include "discord/rest.h"
#include "runtime/runtime.h"
#include "shop/catalog.h"
#include "shop/delivery.h"
#include "store/store.h"

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static char *dup_wipeable(const char *s) {
  size_t n = strlen(s);
  char *p = malloc(n + 1);
  if (p)
    memcpy(p, s, n + 1);
  return p;
}

static void wipe_free(char *s) {
  if (s) {
    crypto_wipe(s, strlen(s));
    free(s);
  }
}

/* A short reason for lastError and the log: Discord's code and message, never a body. */
static void reason(const struct rest_result *r, char *out, size_t len) {
  if (r->error != REST_OK)
    snprintf(out, len, "%s", r->error_msg ? r->error_msg : "network error");
  else
    snprintf(out, len, "HTTP %ld, code %d%s%.120s", r->status, r->code,
             r->error_msg ? ": " : "", r->error_msg ? r->error_msg : "");
}

/* ---- sending a text, in parts ---- */

struct send {
  char instance_id[40], channel_id[32], user_id[32], seed[96];
  char *text;
  size_t off[SHOP_DELIVERY_MAX_PARTS], len[SHOP_DELIVERY_MAX_PARTS], nparts, next;
  json_t *components;
  char first_id[32];
  bot_sent_cb cb;
  void *arg;
};

static void send_end(struct send *s, int ok, int offline, int code, const char *error) {
  /* the ids outlive s: the callback reads them after it is freed */
  char channel_id[32], message_id[32];
  memcpy(channel_id, s->channel_id, sizeof channel_id);
  memcpy(message_id, s->first_id, sizeof message_id);
  struct bot_sent r = {ok, offline, code, channel_id, message_id, error};
  bot_sent_cb cb = s->cb;
  void *arg = s->arg;
  wipe_free(s->text);
  json_decref(s->components);
  free(s);
  cb(&r, arg);
}

static void send_part(struct send *s);

static void on_part(const struct rest_result *r, void *arg) {
  struct send *s = arg;
  if (r->error != REST_OK || r->status >= 300) {
    char why[200];
    reason(r, why, sizeof why);
    send_end(s, 0, r->error == REST_ECANCELLED, r->code, why);
    return;
  }
  if (!s->first_id[0]) {
    const char *id = str(r->body, "id");
    snprintf(s->first_id, sizeof s->first_id, "%s", id ? id : "");
  }
  s->next++;
  send_part(s);
}

static void send_part(struct send *s) {
  if (s->next >= s->nparts) {
    send_end(s, 1, 0, 0, NULL);
    return;
  }
  struct rest_client *rest = runtime_rest(s->instance_id);
  if (!rest) {
    send_end(s, 0, 1, 0, "bot not running");
    return;
  }
  char nonce[SHOP_NONCE_LEN + 1];
  shop_delivery_nonce(s->seed, (unsigned)s->next, nonce);
  json_t *body = json_pack("{s:s%, s:s, s:b, s:{s:[]}}", "content", s->text + s->off[s->next],
                           s->len[s->next], "nonce", nonce, "enforce_nonce", 1,
                           "allowed_mentions", "parse");
  if (!body) {
    send_end(s, 0, 0, 0, "out of memory");
    return;
  }
  if (s->user_id[0])
    json_object_set_new(json_object_get(body, "allowed_mentions"), "users",
                        json_pack("[s]", s->user_id));
  if (s->next + 1 == s->nparts && s->components) {
    json_object_set_new(body, "components", s->components);
    s->components = NULL;
  }
  char path[96];
  snprintf(path, sizeof path, "/channels/%s/messages", s->channel_id);
  /* nonce + enforce_nonce make a repeat harmless, so the client may retry 5xx too */
  if (!rest_request(rest, "POST", path, body, REST_RETRY_UNSAFE, on_part, s))
    send_end(s, 0, 0, 0, "out of memory");
}

static struct send *send_new(const char *instance_id, const char *user_id, const char *text,
                             const char *seed, json_t *components, bot_sent_cb cb, void *arg) {
  struct send *s = calloc(1, sizeof *s);
  if (!s) {
    json_decref(components);
    return NULL;
  }
  snprintf(s->instance_id, sizeof s->instance_id, "%s", instance_id);
  snprintf(s->user_id, sizeof s->user_id, "%s", user_id ? user_id : "");
  snprintf(s->seed, sizeof s->seed, "%s", seed);
  s->components = components;
  s->cb = cb;
  s->arg = arg;
  s->text = dup_wipeable(text);
  if (s->text)
    s->nparts = shop_delivery_split(s->text, SHOP_DM_MAX, s->off, s->len,
                                    SHOP_DELIVERY_MAX_PARTS);
  return s;
}

void bot_send_channel(const char *instance_id, const char *channel_id, const char *text,
                      const char *mention_user, const char *nonce_seed, json_t *components,
                      bot_sent_cb cb, void *arg) {
  struct send *s = send_new(instance_id, mention_user, text, nonce_seed, components, cb, arg);
  if (!s) {
    struct bot_sent r = {0, 0, 0, channel_id, "", "out of memory"};
    cb(&r, arg);
    return;
  }
  snprintf(s->channel_id, sizeof s->channel_id, "%s", channel_id);
  if (!s->text || !s->nparts) {
    send_end(s, 0, 0, 0, s->text ? "text too long" : "out of memory");
    return;
  }
  send_part(s);
}

static void on_dm_channel(const struct rest_result *r, void *arg) {
  struct send *s = arg;
  const char *id = r->error == REST_OK && r->status < 300 ? str(r->body, "id") : NULL;
  if (!id) {
    char why[200];
    reason(r, why, sizeof why);
    send_end(s, 0, r->error == REST_ECANCELLED, r->code, why);
    return;
  }
  snprintf(s->channel_id, sizeof s->channel_id, "%s", id);
  send_part(s);
}

void bot_send_dm(const char *instance_id, const char *user_id, const char *text,
                 const char *nonce_seed, bot_sent_cb cb, void *arg) {
  /* in a DM the mention needs no ping rights: only the buyer is there */
  struct send *s = send_new(instance_id, NULL, text, nonce_seed, NULL, cb, arg);
  if (!s) {
    struct bot_sent r = {0, 0, 0, "", "", "out of memory"};
    cb(&r, arg);
    return;
  }
  if (!s->text || !s->nparts) {
    send_end(s, 0, 0, 0, s->text ? "text too long" : "out of memory");
    return;
  }
  struct rest_client *rest = runtime_rest(instance_id);
  if (!rest) {
    send_end(s, 0, 1, 0, "bot not running");
    return;
  }
  if (!rest_request(rest, "POST", "/users/@me/channels",
                    json_pack("{s:s}", "recipient_id", user_id), 0, on_dm_channel, s))
    send_end(s, 0, 0, 0, "out of memory");
}

/* ---- dm entries: DM, else the cart channel, else a Revelar chave button ---- */

struct dm {
  struct bot_job *job;
  char *text;
  char buyer[32], cart_channel[32], seed[96];
};

static void dm_end(struct dm *d, enum bot_job_result res, const char *error) {
  struct bot_job *job = d->job;
  wipe_free(d->text);
  free(d);
  bot_job_end(job, res, error);
}

static void dm_delivered(struct dm *d, const char *channel, const struct bot_sent *r) {
  struct store_txn *t = store_begin(astra.store);
  shop_delivery_done(t, d->job->entry_id, channel, r->channel_id, r->message_id,
                     shop_delivery_now_ms());
  if (bot_commit(t, d->job->entry_id) == 0)
    log_info("outbox", "order %s delivered (%s)", d->job->order_id, channel);
  dm_end(d, BOT_JOB_COMMITTED, NULL);
}

static void on_reveal_posted(const struct bot_sent *r, void *arg) {
  struct dm *d = arg;
  if (r->ok)
    dm_delivered(d, "reveal", r);
  else
    dm_end(d, r->offline ? BOT_JOB_LATER : BOT_JOB_FAILED, r->error);
}

/* Where a buyer whose DMs are closed can find the button: the cart channel (theirs), else
 * the channel of the first item's product post (where they clicked Comprar). */
static void reveal(struct dm *d) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, d->job->order_id);
  const char *ch = d->cart_channel[0] ? d->cart_channel : NULL;
  if (!ch) {
    const json_t *item = json_array_get(json_object_get(o, "items"), 0);
    const char *pid = str(item, "productId");
    const json_t *p = pid ? store_get(astra.store, STORE_PRODUCTS, d->job->instance_id, pid)
                          : NULL;
    ch = str(json_object_get(p, "post"), "channelId");
  }
  if (!ch) {
    dm_end(d, BOT_JOB_FAILED, "DMs closed and no channel for the reveal button");
    return;
  }
  int en = !strcmp(shop_delivery_locale(d->job->instance_id), "en");
  char cid[CID_MAX + 1];
  const char *args[] = {d->job->order_id};
  cid_encode(cid, sizeof cid, "reveal", args, 1);
  char text[400];
  snprintf(text, sizeof text,
           en ? "<@%s>, your DMs are closed, so your order `%s` is waiting here: click "
                "**Reveal key** (only you can see it)."
              : "<@%s>, sua DM está fechada, então seu pedido `%s` está aqui: clique em "
                "**Revelar chave** (só você verá).",
           d->buyer, str(o, "code") ? str(o, "code") : "");
  json_t *rows = json_pack("[{s:i, s:[{s:i, s:i, s:s, s:s}]}]", "type", 1, "components", "type",
                           2, "style", 1, "label", en ? "Reveal key" : "Revelar chave",
                           "custom_id", cid);
  char seed[120];
  snprintf(seed, sizeof seed, "%s:reveal", d->seed);
  bot_send_channel(d->job->instance_id, ch, text, d->buyer, seed, rows, on_reveal_posted, d);
}

static void on_cart_sent(const struct bot_sent *r, void *arg) {
  struct dm *d = arg;
  if (r->ok)
    dm_delivered(d, "cart", r);
  else if (r->offline)
    dm_end(d, BOT_JOB_LATER, r->error);
  else
    reveal(d);
}

static void on_dm_sent(const struct bot_sent *r, void *arg) {
  struct dm *d = arg;
  if (r->ok) {
    dm_delivered(d, "dm", r);
    return;
  }
  if (r->offline || r->code != 50007) {
    dm_end(d, r->offline ? BOT_JOB_LATER : BOT_JOB_FAILED, r->error);
    return;
  }
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, d->job->order_id);
  const char *cart_id = str(o, "cartId");
  const json_t *cart = cart_id ? store_get(astra.store, STORE_CARTS, NULL, cart_id) : NULL;
  const char *ch = str(cart, "channelId");
  if (!ch || strlen(ch) >= sizeof d->cart_channel) {
    reveal(d);
    return;
  }
  snprintf(d->cart_channel, sizeof d->cart_channel, "%s", ch);
  /* the cart is the buyer's private channel: the key may go there, with a mention */
  size_t n = strlen(d->buyer) + strlen(d->text) + 8;
  char *text = malloc(n);
  if (!text) {
    dm_end(d, BOT_JOB_FAILED, "out of memory");
    return;
  }
  snprintf(text, n, "<@%s>\n%s", d->buyer, d->text);
  char seed[120];
  snprintf(seed, sizeof seed, "%s:cart", d->seed);
  bot_send_channel(d->job->instance_id, d->cart_channel, text, d->buyer, seed, NULL,
                   on_cart_sent, d);
  wipe_free(text);
}

static void run_dm(struct bot_job *job) {
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, job->order_id);
  const char *st = str(o, "status"), *buyer = str(o, "buyerId");
  if (st && !strcmp(st, "delivered")) { /* delivered some other way meanwhile */
    struct store_txn *t = store_begin(astra.store);
    shop_outbox_done(t, job->entry_id, shop_delivery_now_ms());
    bot_commit(t, job->entry_id);
    bot_job_end(job, BOT_JOB_COMMITTED, NULL);
    return;
  }
  if (!st || strcmp(st, "paid") || !buyer || strlen(buyer) >= 32) {
    char why[64];
    snprintf(why, sizeof why, "order is %.20s, not paid", st ? st : "missing");
    bot_job_end(job, BOT_JOB_DROPPED, why);
    return;
  }
  char *text = shop_delivery_text(o);
  if (!text) {
    bot_job_end(job, BOT_JOB_FAILED, "the order's keys could not be read");
    return;
  }
  struct dm *d = calloc(1, sizeof *d);
  if (!d) {
    wipe_free(text);
    bot_job_end(job, BOT_JOB_FAILED, "out of memory");
    return;
  }
  d->job = job;
  d->text = text;
  snprintf(d->buyer, sizeof d->buyer, "%s", buyer);
  snprintf(d->seed, sizeof d->seed, "%s", job->entry_id);
  bot_send_dm(job->instance_id, buyer, text, d->seed, on_dm_sent, d);
}

/* ---- log entries ---- */

static void on_log_sent(const struct bot_sent *r, void *arg) {
  struct bot_job *job = arg;
  if (r->ok) {
    struct store_txn *t = store_begin(astra.store);
    shop_outbox_done(t, job->entry_id, shop_delivery_now_ms());
    bot_commit(t, job->entry_id);
    bot_job_end(job, BOT_JOB_COMMITTED, NULL);
    return;
  }
  bot_job_end(job, r->offline ? BOT_JOB_LATER : BOT_JOB_FAILED, r->error);
}

static void run_log(struct bot_job *job) {
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, job->instance_id);
  const char *ch = str(json_object_get(inst, "settings"), "logChannelId");
  const json_t *o = store_get(astra.store, STORE_ORDERS, NULL, job->order_id);
  if (!ch || !*ch || !o) { /* the seller removed the log channel: nothing to say */
    struct store_txn *t = store_begin(astra.store);
    shop_outbox_done(t, job->entry_id, shop_delivery_now_ms());
    bot_commit(t, job->entry_id);
    bot_job_end(job, BOT_JOB_COMMITTED, NULL);
    return;
  }
  const char *st = str(o, "status");
  const char *kind = strncmp(job->entry_id, "logrev-", 7)        ? "sale"
                     : st && !strcmp(st, "charged_back") ? "chargeback"
                                                         : "refund";
  char *text = shop_delivery_log_text(o, kind, shop_delivery_locale(job->instance_id));
  if (!text) {
    bot_job_end(job, BOT_JOB_FAILED, "out of memory");
    return;
  }
  /* the buyer is mentioned in the log but not pinged: mention_user NULL */
  bot_send_channel(job->instance_id, ch, text, NULL, job->entry_id, NULL, on_log_sent, job);
  free(text);
}

/* ---- post entries: the product post edited in place ---- */

static int64_t entry_rev(const char *entry_id) {
  const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, entry_id);
  return (int64_t)json_integer_value(json_object_get(e, "rev"));
}

/* The edit sent showed the product as it was when rendered. If the product changed again
 * meanwhile (shop_outbox_post_update raised the rev), the entry stays pending and the next
 * tick renders and sends it again; marking it done would leave the post one change behind. */
static void post_done(struct bot_job *job) {
  if (entry_rev(job->entry_id) == job->rev) {
    struct store_txn *t = store_begin(astra.store);
    shop_outbox_done(t, job->entry_id, shop_delivery_now_ms());
    bot_commit(t, job->entry_id);
  }
  bot_job_end(job, BOT_JOB_COMMITTED, NULL);
}

static void on_post_edited(const struct rest_result *r, void *arg) {
  struct bot_job *job = arg;
  int gone = r->error == REST_OK && (r->code == 10008 || r->code == 10003);
  if (r->error == REST_OK && r->status < 300) {
    post_done(job);
  } else if (gone) {
    /* the message (or its channel) was deleted in Discord: forget the post */
    struct store_txn *t = store_begin(astra.store);
    const json_t *p = store_get(astra.store, STORE_PRODUCTS, job->instance_id, job->product_id);
    if (p) {
      json_t *c = json_deep_copy(p);
      json_object_set_new(c, "post", json_null());
      store_put(t, STORE_PRODUCTS, job->instance_id, job->product_id, c);
    }
    shop_outbox_done(t, job->entry_id, shop_delivery_now_ms());
    bot_commit(t, job->entry_id);
    bot_job_end(job, BOT_JOB_COMMITTED, NULL);
  } else {
    char why[200];
    reason(r, why, sizeof why);
    bot_job_end(job, r->error == REST_ECANCELLED ? BOT_JOB_LATER : BOT_JOB_FAILED, why);
  }
}

static void run_post(struct bot_job *job) {
  const json_t *p = store_get(astra.store, STORE_PRODUCTS, job->instance_id, job->product_id);
  const json_t *post = json_object_get(p, "post");
  const char *ch = str(post, "channelId"), *msg = str(post, "messageId");
  struct rest_client *rest = runtime_rest(job->instance_id);
  if (!rest) {
    bot_job_end(job, BOT_JOB_LATER, "bot not running");
    return;
  }
  job->rev = entry_rev(job->entry_id);
  /* a deleted or deactivated product's post is edited too: it then says "Indisponível" */
  json_t *body = ch && msg ? bot_product_post(job->instance_id, job->product_id) : NULL;
  if (!body) { /* no post (or no product) to keep up to date */
    post_done(job);
    return;
  }
  char path[128];
  snprintf(path, sizeof path, "/channels/%s/messages/%s", ch, msg);
  if (!rest_request(rest, "PATCH", path, body, 0, on_post_edited, job))
    bot_job_end(job, BOT_JOB_FAILED, "out of memory");
}

void bot_deliver_run(struct bot_job *job) {
  if (!strcmp(job->type, "dm"))
    run_dm(job);
  else if (!strcmp(job->type, "log"))
    run_log(job);
  else if (!strcmp(job->type, "post"))
    run_post(job);
  else
    bot_job_end(job, BOT_JOB_DROPPED, "unknown entry type");
}
