/* Delivery, the Discord-free half (docs/selling.md, "Outbox worker"): which outbox entries
 * are due, the backoff between attempts, the nonce that makes a DM resend recognisable, the
 * text a buyer receives (the product's template with the decrypted keys) cut to Discord's
 * message limit, the log channel's notice, and the transactions that end an attempt (done,
 * delivered, failed, retried). The bot's worker (src/bot/outbox.c) does the talking.
 *
 * An outbox entry (deliveries.json "outbox"): {"id" ("dm-<order>", "log-<order>",
 * "logrev-<order>", "post-<product>"),"type" ("dm" | "log" | "post"),"instanceId","orderId",
 * "productId","status" ("pending" | "done" | "failed"),"attempts","nextAt","lastError",
 * "createdAt","updatedAt"}. A delivery (deliveries.json "deliveries", id = order id):
 * {"id","orderId","instanceId","channel" ("dm" | "cart" | "reveal"),"channelId","messageId",
 * "at"}. */
#ifndef ASTRA_SHOP_DELIVERY_H
#define ASTRA_SHOP_DELIVERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* After this many failed attempts an entry is "failed" (a dm entry fails its order too). */
#define SHOP_DELIVERY_MAX_ATTEMPTS 8
/* Backoff: 5 s doubled per attempt, capped at 30 min; the wait is drawn in [d/2, d]. */
#define SHOP_DELIVERY_BACKOFF_BASE_MS 5000LL
#define SHOP_DELIVERY_BACKOFF_CAP_MS (30 * 60 * 1000LL)
/* Discord's nonce limit is 25 characters; ours are 24 hex digits (96 bits of SHA-256). */
#define SHOP_NONCE_LEN 24
/* Parts of one delivery text (a 10-key order of 500-character keys fits in 4). */
#define SHOP_DELIVERY_MAX_PARTS 8

/* Wall-clock milliseconds since the epoch (record times). */
int64_t shop_delivery_now_ms(void);

/* The wait before the next attempt after `attempts` failures (1 = the first), from rnd (a
 * random 32-bit value: the jitter, so that entries failed together do not retry together). */
int64_t shop_delivery_backoff_ms(int attempts, uint32_t rnd);

/* The nonce for one message: SHA-256 of "astra:<seed>:<part>" in hex, cut to 24 digits. The
 * same seed and part give the same nonce, so a message sent again after a crash between
 * Discord's answer and our commit is recognised by Discord (enforce_nonce) as the first. */
void shop_delivery_nonce(const char *seed, unsigned part, char out[SHOP_NONCE_LEN + 1]);

/* The keys of an order, decrypted, one per line, in item order: malloc'd, or NULL when the
 * order is not paid/delivered or a key is not sold to it or does not open. The caller wipes
 * and frees it (crypto_wipe): keys never stay in memory longer than needed, nor reach logs. */
char *shop_delivery_keys(const json_t *order);

/* What the buyer reads: for each item, its product's DM template (the default when the
 * product has none) with {chave} = that item's keys one per line, {pedido} the order code,
 * {comprador} the buyer's mention, {loja} the instance name, in the instance's locale; items
 * joined by a blank line. malloc'd (wipe it: it holds keys), or NULL (see above). */
char *shop_delivery_text(const json_t *order);

/* Cuts text into messages of at most max characters as Discord counts them (UTF-16 units),
 * at the last line break that fits (a key never spans two messages unless a line alone is
 * longer than max, which is then cut at a character boundary). Fills offsets/lengths of up to
 * maxparts parts (leading line breaks of a part are skipped); returns the number of parts, or
 * 0 when text does not fit in maxparts. Decision (docs/selling.md): long deliveries are split,
 * not sent as a .txt attachment, so that every key stays readable and copyable in the DM on a
 * phone, and each part has its own nonce. */
size_t shop_delivery_split(const char *text, size_t max, size_t *off, size_t *len,
                           size_t maxparts);

/* The log channel's notice for an order ("sale" for log-<order>; "refund" or "chargeback"
 * for logrev-<order>, after the reversal): code, products, total (as money returned for a
 * reversal), buyer mention, and for a reversal how many delivered keys were flagged.
 * malloc'd, or NULL. */
char *shop_delivery_log_text(const json_t *order, const char *kind, const char *locale);

/* The instance's locale ("en" or "pt-BR"). */
const char *shop_delivery_locale(const char *instance_id);

/* Pending entries whose nextAt is at or before now, oldest nextAt first (up to max ids
 * copied into ids[][72]); returns how many. */
size_t shop_outbox_due(int64_t now, char (*ids)[72], size_t max);
/* The same, counting only entries for which keep(entry, arg) is true (keep NULL: all), so
 * that entries which cannot be sent now do not fill the max slots ahead of those which can. */
size_t shop_outbox_due_if(int64_t now, char (*ids)[72], size_t max,
                          int (*keep)(const json_t *entry, void *arg), void *arg);

/* Ends an attempt. Each adds to t. */
/* The entry is done (no delivery record: log and post entries). */
void shop_outbox_done(struct store_txn *t, const char *entry_id, int64_t now);
/* The dm entry done and its order delivered, with the delivery record. */
void shop_delivery_done(struct store_txn *t, const char *entry_id, const char *channel,
                        const char *channel_id, const char *message_id, int64_t now);
/* A failed attempt: attempts + 1, nextAt after the backoff, lastError; at the last attempt
 * the entry is "failed" and, for a dm entry, its order too (timeline detail = error).
 * Returns 1 when the entry is now failed. */
int shop_outbox_fail(struct store_txn *t, const char *entry_id, const char *error, int64_t now,
                     uint32_t rnd);
/* Ends an entry for good without an attempt (an order no longer paid): "failed". */
void shop_outbox_drop(struct store_txn *t, const char *entry_id, const char *error,
                      int64_t now);

/* The seller's retry: the order's failed entries (dm, log) back to pending with attempts 0,
 * and a failed order back to paid. Returns how many entries it reset (0: nothing to retry). */
size_t shop_delivery_retry(struct store_txn *t, const char *order_id, int64_t now);

/* The delivery as the seller sees it: {status, channel, attempts, lastError} from the dm
 * entry and the delivery record; null (json_null) when the order has neither. */
json_t *shop_delivery_view(const char *order_id);

#endif
