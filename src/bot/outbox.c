/* The outbox worker (docs/selling.md, "Outbox worker"): a timer on astra.loop every second
 * (and at once on bot_outbox_kick) picks due pending entries, oldest first, and hands each to
 * src/bot/deliver.c, with at most OUTBOX_MAX_INFLIGHT at a time and never two attempts of the
 * same entry at once (the in-flight set). An attempt starts only once the store is durable up
 * to now (store_flush), so nothing is sent on the strength of an entry a crash could undo.
 * Entries of bots that are not running wait without an attempt being counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bot/bot.h"
#include "bot/deliver.h"
#include "core/app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "runtime/runtime.h"
#include "shop/delivery.h"
#include "store/store.h"

#define OUTBOX_TICK_MS 1000
#define OUTBOX_MAX_INFLIGHT 64

static uv_timer_t timer;
static int started, stopping, flushing;
static int kicked; /* a kick came while a pick was flushing: tick again after it */
static struct bot_job *inflight[OUTBOX_MAX_INFLIGHT];

static uint32_t rnd32(void) {
  uint32_t r = 0;
  crypto_random(&r, sizeof r);
  return r;
}

static int is_inflight(const char *id) {
  for (size_t i = 0; i < OUTBOX_MAX_INFLIGHT; i++)
    if (inflight[i] && !strcmp(inflight[i]->entry_id, id))
      return 1;
  return 0;
}

static int free_slot(void) {
  for (int i = 0; i < OUTBOX_MAX_INFLIGHT; i++)
    if (!inflight[i])
      return i;
  return -1;
}

static void release(struct bot_job *job) {
  for (size_t i = 0; i < OUTBOX_MAX_INFLIGHT; i++)
    if (inflight[i] == job)
      inflight[i] = NULL;
  free(job);
}

int bot_commit(struct store_txn *t, const char *what) {
  int rc = store_commit(t, NULL, NULL);
  if (rc != 0)
    log_warn("outbox", "%s: commit failed (%d)", what, rc);
  return rc == 0 ? 0 : -1;
}

void bot_job_end(struct bot_job *job, enum bot_job_result res, const char *error) {
  /* while stopping, the store may be closing: what was not committed is simply retried at
   * the next start (the nonce makes a repeat of a sent DM harmless) */
  if (!stopping && res != BOT_JOB_COMMITTED && res != BOT_JOB_LATER) {
    const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, job->entry_id);
    const char *st = json_string_value(json_object_get(e, "status"));
    if (st && !strcmp(st, "pending")) {
      struct store_txn *t = store_begin(astra.store);
      int dead = 0;
      if (res == BOT_JOB_DROPPED)
        shop_outbox_drop(t, job->entry_id, error ? error : "dropped", shop_delivery_now_ms());
      else
        dead = shop_outbox_fail(t, job->entry_id, error, shop_delivery_now_ms(), rnd32());
      bot_commit(t, job->entry_id);
      log_msg(dead || res == BOT_JOB_DROPPED ? LOG_WARN : LOG_INFO, "outbox", NULL,
              "%s: %s (%s)", job->entry_id,
              res == BOT_JOB_DROPPED ? "dropped" : dead ? "failed for good" : "will retry",
              error ? error : "error");
    }
  }
  release(job);
  /* a slot is free: a backlog drains at the pace of the sends, not 16 per timer tick (a
   * job put off for later leaves its entry due, so that one waits for the timer) */
  if (res != BOT_JOB_LATER)
    bot_outbox_kick();
}

static struct bot_job *job_new(const char *id, const json_t *e) {
  struct bot_job *job = calloc(1, sizeof *job);
  if (!job)
    return NULL;
  const char *type = json_string_value(json_object_get(e, "type"));
  const char *inst = json_string_value(json_object_get(e, "instanceId"));
  const char *oid = json_string_value(json_object_get(e, "orderId"));
  const char *pid = json_string_value(json_object_get(e, "productId"));
  snprintf(job->entry_id, sizeof job->entry_id, "%.71s", id);
  snprintf(job->type, sizeof job->type, "%s", type ? type : "");
  snprintf(job->instance_id, sizeof job->instance_id, "%s", inst ? inst : "");
  snprintf(job->order_id, sizeof job->order_id, "%s", oid ? oid : "");
  snprintf(job->product_id, sizeof job->product_id, "%s", pid ? pid : "");
  return job;
}

/* Once the store is durable up to the pick: start the picked jobs that are still pending. */
static void on_flushed(int status, void *arg) {
  (void)arg;
  flushing = 0;
  if (kicked) {
    kicked = 0;
    bot_outbox_kick();
  }
  for (size_t i = 0; i < OUTBOX_MAX_INFLIGHT; i++) {
    struct bot_job *job = inflight[i];
    if (!job || !job->waiting)
      continue;
    job->waiting = 0;
    const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, job->entry_id);
    const char *st = json_string_value(json_object_get(e, "status"));
    if (status != 0 || stopping || !st || strcmp(st, "pending")) {
      release(job);
      continue;
    }
    bot_deliver_run(job);
  }
}

/* Due entries found by the last scan, oldest first, not yet handed out. Finding them walks
 * every pending entry, so one scan serves the next OUTBOX_PICK_BATCH picks rather than one per
 * freed slot (a backlog of n entries would cost n^2). Each is checked again when its turn
 * comes; entries queued since the scan are newer, so the order holds, except that a retry
 * coming due meanwhile waits until the batch is used up. */
#define OUTBOX_PICK_BATCH 256
static char due[OUTBOX_PICK_BATCH][72];
static size_t due_n, due_at;

/* Only entries whose bot runs: a stopped instance's backlog must not fill the batch and hold
 * back every other instance's deliveries. */
static int sendable(const json_t *e, void *arg) {
  (void)arg;
  const char *inst = json_string_value(json_object_get(e, "instanceId"));
  return inst && runtime_rest(inst);
}

static void tick(uv_timer_t *t) {
  (void)t;
  if (flushing)
    kicked = 1;
  if (stopping || flushing || astra.phase != APP_RUNNING || !astra.store)
    return;
  int slot = free_slot();
  if (slot < 0)
    return;
  int64_t now = shop_delivery_now_ms();
  int picked = 0, scanned = 0;
  while ((slot = free_slot()) >= 0) {
    if (due_at == due_n) {
      if (scanned++)
        break;
      due_n = shop_outbox_due_if(now, due, OUTBOX_PICK_BATCH, sendable, NULL);
      due_at = 0;
      if (!due_n)
        break;
    }
    const char *id = due[due_at++];
    if (is_inflight(id))
      continue;
    const json_t *e = store_get(astra.store, STORE_OUTBOX, NULL, id);
    const char *st = json_string_value(json_object_get(e, "status"));
    if (!st || strcmp(st, "pending") ||
        json_integer_value(json_object_get(e, "nextAt")) > now)
      continue; /* done, or put off, since the scan */
    const char *inst = json_string_value(json_object_get(e, "instanceId"));
    if (!inst || !runtime_rest(inst))
      continue; /* that bot is not running: wait for it, no attempt counted */
    struct bot_job *job = job_new(id, e);
    if (!job)
      break;
    job->waiting = 1; /* picked, started once the flush says the store is durable */
    inflight[slot] = job;
    picked = 1;
  }
  if (picked) {
    flushing = 1;
    store_flush(astra.store, on_flushed, NULL);
  }
}

void bot_outbox_start(void) {
  if (started)
    return;
  uv_timer_init(astra.loop, &timer);
  uv_timer_start(&timer, tick, OUTBOX_TICK_MS, OUTBOX_TICK_MS);
  due_n = due_at = 0;
  started = 1;
  stopping = 0;
}

void bot_outbox_stop(void) {
  if (!started || stopping)
    return;
  stopping = 1;
  uv_timer_stop(&timer);
  uv_close((uv_handle_t *)&timer, NULL);
}

void bot_outbox_kick(void) {
  if (!started || stopping)
    return;
  /* a zero timeout runs tick on the next loop iteration, after the caller's commit */
  uv_timer_start(&timer, tick, 0, OUTBOX_TICK_MS);
}
