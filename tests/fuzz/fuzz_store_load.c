/* Fuzzes the store's loader with hostile bytes as a journal and as a checkpoint file: it
 * must either open (and close cleanly) or refuse with a message, never crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"

static char dir[64];

static void write_file(const char *name, const uint8_t *data, size_t size) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  if (f) {
    fwrite(data, 1, size, f);
    fclose(f);
  }
}

static void clear(void) {
  char p[128];
  const char *names[] = {"journal.jsonl", "orders.json", "portal.json"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
}

/* the fuzzer exits through exit(): leave no temp dir behind */
static void remove_dir(void) {
  clear();
  char p[128];
  snprintf(p, sizeof p, "%s/instances", dir);
  rmdir(p);
  rmdir(dir);
}

static void closed(int status, void *arg) {
  (void)status;
  *(int *)arg = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/astra-fuzz-store-%d", (int)getpid());
    mkdir(dir, 0700);
    log_set_stderr(0);
    atexit(remove_dir);
  }
  if (size < 1)
    return 0;
  clear();
  /* first byte picks where the bytes go */
  write_file(data[0] & 1 ? "orders.json" : "journal.jsonl", data + 1, size - 1);
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct store_options o = {.dir = dir, .loop = &loop};
  struct store *s = NULL;
  char err[512];
  if (store_open(&s, &o, err, sizeof err) == 0) {
    int done = 0;
    store_close(s, closed, &done);
    while (!done)
      uv_run(&loop, UV_RUN_ONCE);
    store_free(s);
  } else if (!err[0]) {
    __builtin_trap(); /* a refusal always says why */
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
