/* A real store in a fresh temporary directory for the shop core's unit tests (cart, sale,
 * delivery): open it with the shop's indexes, commit and wait until durable, put one record,
 * close it. One per test binary (the store and the loop are the daemon's globals). */
#ifndef ASTRA_TEST_SHOP_FIXTURE_H
#define ASTRA_TEST_SHOP_FIXTURE_H

#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "harness.h"
#include "shop/shop.h"
#include "store/store.h"

static uv_loop_t loop;
static struct config cfg;

static void fixture_durable(int status, void *arg) { *(int *)arg = status == 0 ? 1 : -1; }

/* Commits t and runs the loop until it is durable; 0 when it is. */
static int commit(struct store_txn *t) {
  int done = 0;
  if (store_commit(t, fixture_durable, &done) != 0)
    return -1;
  for (int i = 0; i < 10000 && !done; i++)
    uv_run(&loop, UV_RUN_ONCE);
  return done == 1 ? 0 : -1;
}

static void put(enum store_coll c, const char *scope, const char *id, json_t *rec) {
  struct store_txn *t = store_begin(astra.store);
  store_put(t, c, scope, id, rec);
  commit(t);
}

/* The loop, a data key filled with key_byte, and the store; 0 or -1. */
static int fixture_open(unsigned char key_byte) {
  uv_loop_init(&loop);
  astra.loop = &loop;
  memset(cfg.data_key, key_byte, sizeof cfg.data_key);
  astra.cfg = &cfg;
  struct store_options o = {.dir = harness_tmpdir(), .loop = &loop};
  char err[512];
  return store_open(&astra.store, &o, err, sizeof err) != 0 || shop_init(err, sizeof err) != 0
             ? -1
             : 0;
}

static void fixture_closed(int status, void *arg) {
  (void)status;
  *(int *)arg = 1;
}

static void teardown(void) {
  int done = 0;
  store_close(astra.store, fixture_closed, &done);
  while (!done)
    uv_run(&loop, UV_RUN_ONCE);
  store_free(astra.store);
  astra.store = NULL;
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

#endif
