/* Delivery, the Discord half: sending a (possibly long) text to a buyer's DM or to a channel
 * with idempotent nonces, and the per-type work of the outbox worker (DM with its fallbacks,
 * log-channel notice, product post edit). Shared by the worker (src/bot/outbox.c), the
 * Reenviar button and the Revelar button. Texts here hold keys: they are copied, wiped when
 * done, and never logged. */
#ifndef ASTRA_BOT_DELIVER_H
#define ASTRA_BOT_DELIVER_H

#include <jansson.h>
#include <stdint.h>

/* ok: every part was sent (message_id is the first part's). Otherwise code is Discord's JSON
 * error code (50007...) or 0, offline is 1 when the instance's bot was not running (nothing
 * counts as an attempt then), and error is a short English reason without any key. */
struct bot_sent {
  int ok, offline, code;
  const char *channel_id, *message_id, *error;
};
typedef void (*bot_sent_cb)(const struct bot_sent *r, void *arg);

/* Opens (or finds) the DM channel with user_id and sends text there, split at Discord's
 * limit, each part with nonce shop_delivery_nonce(nonce_seed, part) and enforce_nonce. */
void bot_send_dm(const char *instance_id, const char *user_id, const char *text,
                 const char *nonce_seed, bot_sent_cb cb, void *arg);
/* The same into channel_id; mention_user (may be NULL) is the only mention allowed to ping;
 * components (stolen, may be NULL) go with the last part. */
void bot_send_channel(const char *instance_id, const char *channel_id, const char *text,
                      const char *mention_user, const char *nonce_seed, json_t *components,
                      bot_sent_cb cb, void *arg);

/* One outbox entry being worked on (owned by the worker). */
struct bot_job {
  char entry_id[72];
  char type[8];
  char instance_id[40];
  char order_id[40];
  char product_id[40];
  int64_t rev; /* a post entry's rev when its edit was rendered */
  int waiting; /* picked, not started yet (the worker's) */
};

/* The per-type work (src/bot/deliver.c). Each ends by calling bot_job_end exactly once. */
void bot_deliver_run(struct bot_job *job);

/* How an attempt ended. */
enum bot_job_result {
  BOT_JOB_COMMITTED, /* the handler committed its own success transaction */
  BOT_JOB_FAILED,    /* counts as an attempt: backoff, then failed at the last one */
  BOT_JOB_LATER,     /* the bot is not running: try again later, no attempt counted */
  BOT_JOB_DROPPED,   /* nothing will ever be sent for this entry (order not paid) */
};
void bot_job_end(struct bot_job *job, enum bot_job_result res, const char *error);

struct ix;
struct store_txn;
/* The order order_id if it is this interaction's instance's and the user is its buyer, else
 * NULL (the handlers then answer as for a missing order: nobody learns another's codes). */
const json_t *bot_buyer_order(struct ix *ix, const char *order_id);
/* Answers ix with text (keys: ephemeral), cut into the reply and follow-ups. */
void bot_reply_parts(struct ix *ix, const char *text);
/* "pt-BR" or "en" for a buyer-facing answer. */
const char *bot_ix_locale(struct ix *ix);

/* Commits t now (applied in memory at once); logs a store failure. 0 or -1. */
int bot_commit(struct store_txn *t, const char *what);

#endif
