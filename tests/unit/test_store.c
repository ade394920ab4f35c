/* Unit tests of the journaled JSON store (src/store/): records, files and scopes, reopen
 * after close and after a crash, group commit, durability of callbacks, injected I/O
 * faults, corrupt data refusal, torn journal tails, indexes, archives, checkpoints. */
#include "harness.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

static uv_loop_t loop;
static char errbuf[1024];

#define MAXCB 4096
static int cb_calls;
static int cb_status[MAXCB];
static int cb_order[MAXCB];
static uint64_t cb_seq_at_commit[MAXCB];
static int cb_early; /* callbacks that fired before their transaction was durable */
static struct store *cb_store;

static void cb_reset(void) {
  cb_calls = 0;
  cb_early = 0;
  memset(cb_status, 0x7f, sizeof cb_status);
}

static void record_cb(int status, void *arg) {
  int k = (int)(intptr_t)arg;
  if (cb_calls < MAXCB)
    cb_order[cb_calls] = k;
  cb_calls++;
  if (k >= 0 && k < MAXCB) {
    cb_status[k] = status;
    if (status == 0 && cb_store) {
      struct store_stats st;
      store_stats(cb_store, &st);
      if (st.durable_seq < cb_seq_at_commit[k])
        cb_early++;
    }
  }
}

static struct store *open_at(const char *dir, size_t ckpt_bytes) {
  struct store_options o = {.dir = dir, .loop = &loop, .checkpoint_bytes = ckpt_bytes};
  struct store *s = NULL;
  errbuf[0] = '\0';
  if (store_open(&s, &o, errbuf, sizeof errbuf) != 0)
    return NULL;
  return s;
}

static void close_cb(int status, void *arg) { *(int *)arg = status; }

/* Closes and frees s; returns the close status. */
static int close_store(struct store *s) {
  int status = 12345;
  store_close(s, close_cb, &status);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_free(s);
  return status;
}

static void loop_begin(void) {
  uv_loop_init(&loop);
  cb_reset();
  cb_store = NULL;
}

static int loop_end(void) {
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop);
}

static json_t *recf(const char *fmt, int k) {
  char marker[64];
  snprintf(marker, sizeof marker, fmt, k);
  return json_pack("{s:s,s:i}", "marker", marker, "k", k);
}

static int commit_one(struct store *s, enum store_coll c, const char *scope, const char *id,
                      json_t *v, int k) {
  struct store_txn *t = store_begin(s);
  if (store_put(t, c, scope, id, v) != 0) {
    store_abort(t);
    return -99;
  }
  return store_commit(t, record_cb, (void *)(intptr_t)k);
}

static const char *marker_of(const json_t *v) {
  return json_string_value(json_object_get(v, "marker"));
}

static void write_file(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(text, 1, len, f);
    fclose(f);
  }
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int count_cb(const char *id, const json_t *rec, void *arg) {
  (void)id;
  (void)rec;
  (*(int *)arg)++;
  return 0;
}

static int scope_cb(const char *scope, void *arg) {
  char *buf = arg;
  strcat(buf, scope);
  strcat(buf, ";");
  return 0;
}

/* ---- records, files, scopes ---- */

TEST(store_put_get_del_across_files_and_scopes) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  struct store_txn *t = store_begin(s);
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, "o1", json_pack("{s:s}", "status", "paid")), 0);
  CHECK_INT(store_put(t, STORE_USERS, NULL, "u1", json_pack("{s:s}", "email", "a@x")), 0);
  CHECK_INT(store_put(t, STORE_WALLET, NULL, "w1", json_pack("{s:i}", "cents", 150)), 0);
  CHECK_INT(store_put(t, STORE_STOCK, "instA", "k1", json_pack("{s:s}", "key", "AAA")), 0);
  CHECK_INT(store_put(t, STORE_STOCK, "instB", "k1", json_pack("{s:s}", "key", "BBB")), 0);
  CHECK_INT(store_put(t, STORE_STOCK, "instB", "k2", json_pack("{s:s}", "key", "CCC")), 0);
  CHECK_INT(store_put(t, STORE_OUTBOX, NULL, "x1", json_object()), 0);
  CHECK_INT(store_commit(t, record_cb, (void *)0), 0);
  /* Applied in memory at once. */
  CHECK_STR(json_string_value(json_object_get(store_get(s, STORE_ORDERS, NULL, "o1"), "status")),
            "paid");
  CHECK_STR(json_string_value(json_object_get(store_get(s, STORE_STOCK, "instA", "k1"), "key")),
            "AAA");
  CHECK_STR(json_string_value(json_object_get(store_get(s, STORE_STOCK, "instB", "k1"), "key")),
            "BBB");
  CHECK(store_get(s, STORE_STOCK, "instC", "k1") == NULL);
  CHECK(store_get(s, STORE_ORDERS, NULL, "nope") == NULL);
  CHECK_INT(store_count(s, STORE_STOCK, "instB"), 2);
  CHECK_INT(store_count(s, STORE_STOCK, NULL), 3);
  CHECK_INT(store_count(s, STORE_ORDERS, NULL), 1);
  int n = 0;
  store_foreach(s, STORE_STOCK, "instB", count_cb, &n);
  CHECK_INT(n, 2);
  char scopes[128] = "";
  store_foreach_scope(s, STORE_STOCK, scope_cb, scopes);
  CHECK(strstr(scopes, "instA;") && strstr(scopes, "instB;"));
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(cb_status[0], 0);

  t = store_begin(s);
  CHECK_INT(store_del(t, STORE_STOCK, "instB", "k1"), 0);
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, "o1", json_pack("{s:s}", "status", "sent")), 0);
  CHECK_INT(store_commit(t, record_cb, (void *)1), 0);
  CHECK(store_get(s, STORE_STOCK, "instB", "k1") == NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(cb_status[1], 0);

  /* Reopen after a clean close: files hold everything, the journal is empty. */
  char path[1024];
  snprintf(path, sizeof path, "%s/journal.jsonl", dir);
  CHECK_INT(file_size(path), 0);
  snprintf(path, sizeof path, "%s/instances/instB/stock.json", dir);
  CHECK(file_size(path) > 0);
  s = open_at(dir, 0);
  CHECK(s);
  CHECK_STR(json_string_value(json_object_get(store_get(s, STORE_ORDERS, NULL, "o1"), "status")),
            "sent");
  CHECK_INT(json_integer_value(json_object_get(store_get(s, STORE_WALLET, NULL, "w1"), "cents")),
            150);
  CHECK(store_get(s, STORE_STOCK, "instB", "k1") == NULL);
  CHECK_STR(json_string_value(json_object_get(store_get(s, STORE_STOCK, "instB", "k2"), "key")),
            "CCC");
  CHECK(store_get(s, STORE_OUTBOX, NULL, "x1") != NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_portal_file_uses_node_keys) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(commit_one(s, STORE_WALLET, NULL, "w1", json_pack("{s:i}", "cents", 5), 0), 0);
  CHECK_INT(close_store(s), 0);
  char path[1024];
  snprintf(path, sizeof path, "%s/portal.json", dir);
  json_t *root = json_load_file(path, 0, NULL);
  CHECK(root);
  int ok = json_integer_value(json_object_get(root, "version")) == 1 &&
           json_object_get(json_object_get(root, "walletTransactions"), "w1") != NULL &&
           json_is_object(json_object_get(root, "users"));
  json_decref(root);
  CHECK(ok);
  CHECK_INT(loop_end(), 0);
}

/* A child commits, waits for its callbacks, then dies without closing. */
static void crash_child(const char *dir, int n, int checkpoint_at) {
  uv_loop_t l;
  uv_loop_init(&l);
  struct store_options o = {.dir = dir, .loop = &l};
  struct store *s = NULL;
  char err[512];
  if (store_open(&s, &o, err, sizeof err) != 0)
    _exit(3);
  static int acked;
  for (int k = 0; k < n; k++) {
    struct store_txn *t = store_begin(s);
    char id[32];
    snprintf(id, sizeof id, "o%d", k);
    store_put(t, STORE_ORDERS, NULL, id, recf("m%d", k));
    store_put(t, STORE_COUPONS, "shop1", id, recf("m%d", k));
    if (k == 3)
      store_del(t, STORE_ORDERS, NULL, "o1");
    store_commit(t, record_cb, (void *)(intptr_t)k);
    if (k == checkpoint_at) {
      uv_run(&l, UV_RUN_DEFAULT);
      store_checkpoint(s);
    }
  }
  uv_run(&l, UV_RUN_DEFAULT);
  for (int k = 0; k < n; k++)
    if (cb_status[k] == 0)
      acked++;
  /* One more commit that is never waited for: it may or may not survive. */
  struct store_txn *t = store_begin(s);
  store_put(t, STORE_ORDERS, NULL, "late", json_object());
  store_commit(t, NULL, NULL);
  _exit(acked == n ? 0 : 4);
}

TEST(store_reopen_after_crash_replays_journal) {
  for (int variant = 0; variant < 2; variant++) {
    const char *dir = harness_tmpdir();
    cb_reset();
    pid_t pid = fork();
    if (pid == 0)
      crash_child(dir, 20, variant ? 9 : -1);
    int wst;
    CHECK(waitpid(pid, &wst, 0) == pid);
    CHECK(WIFEXITED(wst));
    CHECK_INT(WEXITSTATUS(wst), 0);
    loop_begin();
    struct store *s = open_at(dir, 0);
    CHECK(s);
    for (int k = 0; k < 20; k++) {
      char id[32], m[32];
      snprintf(id, sizeof id, "o%d", k);
      snprintf(m, sizeof m, "m%d", k);
      if (k == 1) {
        CHECK(store_get(s, STORE_ORDERS, NULL, id) == NULL);
      } else {
        CHECK_STR(marker_of(store_get(s, STORE_ORDERS, NULL, id)), m);
      }
      CHECK_STR(marker_of(store_get(s, STORE_COUPONS, "shop1", id)), m);
    }
    struct store_stats st;
    store_stats(s, &st);
    CHECK(st.seq >= 20);
    /* New commits continue after the replayed sequence numbers. */
    CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "after", json_object(), 0), 0);
    CHECK_INT(close_store(s), 0);
    s = open_at(dir, 0);
    CHECK(s);
    CHECK(store_get(s, STORE_ORDERS, NULL, "after") != NULL);
    CHECK_STR(marker_of(store_get(s, STORE_ORDERS, NULL, "o19")), "m19");
    CHECK_INT(close_store(s), 0);
    CHECK_INT(loop_end(), 0);
  }
}

/* ---- group commit and durability ---- */

TEST(store_group_commit_shares_fsyncs_in_order) {
  loop_begin();
  struct store *s = open_at(harness_tmpdir(), 0);
  CHECK(s);
  cb_store = s;
  for (int k = 0; k < 1000; k++) {
    char id[32];
    snprintf(id, sizeof id, "o%d", k);
    CHECK_INT(commit_one(s, STORE_ORDERS, NULL, id, recf("m%d", k), k), 0);
    struct store_stats st;
    store_stats(s, &st);
    cb_seq_at_commit[k] = st.seq;
  }
  CHECK_INT(cb_calls, 0); /* never synchronously */
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(cb_calls, 1000);
  for (int k = 0; k < 1000; k++) {
    CHECK_INT(cb_order[k], k);
    CHECK_INT(cb_status[k], 0);
  }
  CHECK_INT(cb_early, 0);
  struct store_stats st;
  store_stats(s, &st);
  CHECK_INT(st.commits, 1000);
  CHECK(st.fsyncs >= 1 && st.fsyncs <= 10);
  CHECK_INT(st.durable_seq, st.seq);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

/* Commits issued from callbacks (as a server does) join the next batch. */
static struct store *chain_store;
static int chain_left, chain_done_ok;
static void chain_cb(int status, void *arg) {
  (void)arg;
  if (status == 0)
    chain_done_ok++;
  if (chain_left > 0) {
    chain_left--;
    char id[32];
    snprintf(id, sizeof id, "c%d", chain_left);
    struct store_txn *t = store_begin(chain_store);
    store_put(t, STORE_CARTS, NULL, id, json_object());
    store_commit(t, chain_cb, NULL);
  }
}

TEST(store_commits_from_callbacks_are_batched) {
  loop_begin();
  struct store *s = open_at(harness_tmpdir(), 0);
  CHECK(s);
  chain_store = s;
  chain_left = 16 * 20;
  chain_done_ok = 0;
  for (int i = 0; i < 16; i++) {
    struct store_txn *t = store_begin(s);
    char id[32];
    snprintf(id, sizeof id, "start%d", i);
    store_put(t, STORE_CARTS, NULL, id, json_object());
    CHECK_INT(store_commit(t, chain_cb, NULL), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(chain_done_ok, 16 + 16 * 20);
  struct store_stats st;
  store_stats(s, &st);
  CHECK(st.fsyncs < st.commits / 4);
  CHECK_INT(store_count(s, STORE_CARTS, NULL), 16 + 16 * 20);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

static int flush_calls, flush_status;
static void flush_cb(int status, void *arg) {
  (void)arg;
  flush_calls++;
  flush_status = status;
}

TEST(store_flush_is_never_synchronous) {
  loop_begin();
  struct store *s = open_at(harness_tmpdir(), 0);
  CHECK(s);
  flush_calls = 0;
  flush_status = 99;
  store_flush(s, flush_cb, NULL);
  CHECK_INT(flush_calls, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(flush_calls, 1);
  CHECK_INT(flush_status, 0);
  /* After a commit: fires once that commit is durable, after its own callback. */
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "o", json_object(), 7), 0);
  store_flush(s, flush_cb, NULL);
  CHECK_INT(flush_calls, 1);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(flush_calls, 2);
  CHECK_INT(cb_status[7], 0);
  CHECK_INT(cb_order[0], 7);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_failed_fsync_fails_callbacks_and_later_commits) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "ok", json_object(), 0), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(cb_status[0], 0);
  store_fault_inject("fsync", 1);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "a", json_object(), 1), 0);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "b", json_object(), 2), 0);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "c", json_object(), 3), 0);
  flush_calls = 0;
  store_flush(s, flush_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_fault_inject("fsync", 0);
  CHECK_INT(cb_status[1], -1);
  CHECK_INT(cb_status[2], -1);
  CHECK_INT(cb_status[3], -1);
  CHECK_INT(flush_calls, 1);
  CHECK_INT(flush_status, -1);
  struct store_stats st;
  store_stats(s, &st);
  CHECK_INT(st.state, STORE_FAILED);
  CHECK(st.last_error && strstr(st.last_error, "journal.jsonl"));
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "d", json_object(), 4), STORE_EFAILED);
  CHECK_INT(close_store(s), -1);
  /* A restart finds every acknowledged transaction. */
  s = open_at(dir, 0);
  CHECK(s);
  CHECK(store_get(s, STORE_ORDERS, NULL, "ok") != NULL);
  CHECK(store_get(s, STORE_ORDERS, NULL, "d") == NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_checkpoint_waits_for_durable_journal) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  store_fault_inject("fsync", 1);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "x", recf("m%d", 1), 0), 0);
  store_checkpoint(s); /* asks while the commit is not durable yet */
  uv_run(&loop, UV_RUN_DEFAULT);
  store_fault_inject("fsync", 0);
  CHECK_INT(cb_status[0], -1);
  /* The checkpoint never wrote the transaction the journal could not make durable. */
  char path[1024];
  snprintf(path, sizeof path, "%s/orders.json", dir);
  json_t *root = json_load_file(path, 0, NULL);
  int has_x = root && json_object_get(json_object_get(root, "orders"), "x") != NULL;
  json_decref(root);
  CHECK(!has_x);
  struct store_stats st;
  store_stats(s, &st);
  CHECK_INT(st.checkpoints, 0);
  CHECK_INT(close_store(s), -1);
  CHECK_INT(loop_end(), 0);
}

TEST(store_checkpoint_trims_journal_and_writes_files) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  for (int k = 0; k < 100; k++) {
    char id[32];
    snprintf(id, sizeof id, "o%d", k);
    CHECK_INT(commit_one(s, STORE_ORDERS, NULL, id, recf("m%d", k), k), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  struct store_stats st;
  store_stats(s, &st);
  CHECK(st.journal_bytes > 100 * 20);
  CHECK_INT(st.dirty_files, 1);
  store_checkpoint(s);
  store_stats(s, &st);
  CHECK_INT(st.checkpoint_running, 1);
  /* Committed during the checkpoint: not in the snapshot, stays in the journal. */
  CHECK_INT(commit_one(s, STORE_CARTS, NULL, "late", json_object(), 200), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_stats(s, &st);
  CHECK_INT(st.checkpoints, 1);
  CHECK_INT(st.checkpoint_running, 0);
  CHECK(st.journal_bytes < 200);
  CHECK_INT(st.dirty_files, 1); /* carts.json */
  char path[1024];
  snprintf(path, sizeof path, "%s/orders.json", dir);
  json_t *root = json_load_file(path, 0, NULL);
  CHECK(root);
  size_t n = json_object_size(json_object_get(root, "orders"));
  json_int_t seq = json_integer_value(json_object_get(root, "seq"));
  json_decref(root);
  CHECK_INT(n, 100);
  CHECK_INT(seq, 100);
  snprintf(path, sizeof path, "%s/journal.jsonl", dir);
  CHECK(file_size(path) < 200);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(file_size(path), 0);
  s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(store_count(s, STORE_ORDERS, NULL), 100);
  CHECK(store_get(s, STORE_CARTS, NULL, "late") != NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_size_trigger_checkpoints) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 4096);
  CHECK(s);
  for (int round = 0; round < 20; round++) {
    for (int k = 0; k < 20; k++) {
      char id[32];
      snprintf(id, sizeof id, "o%d", round * 20 + k);
      CHECK_INT(commit_one(s, STORE_ORDERS, NULL, id, recf("m%d", k), 0), 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  struct store_stats st;
  store_stats(s, &st);
  CHECK(st.checkpoints >= 2);
  CHECK(st.journal_bytes < 4096 * 3);
  CHECK_INT(close_store(s), 0);
  s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(store_count(s, STORE_ORDERS, NULL), 400);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_failed_checkpoint_keeps_journal_and_retries) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  for (int k = 0; k < 10; k++) {
    char id[32];
    snprintf(id, sizeof id, "o%d", k);
    CHECK_INT(commit_one(s, STORE_ORDERS, NULL, id, recf("m%d", k), k), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  struct store_stats st;
  store_stats(s, &st);
  uint64_t jbytes = st.journal_bytes;
  CHECK(jbytes > 0);
  /* Everything is durable: the first write now is the checkpoint's orders.json.tmp. */
  store_fault_inject("write", 1);
  store_checkpoint(s);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_fault_inject("write", 0);
  store_stats(s, &st);
  CHECK_INT(st.state, STORE_OK);
  CHECK_INT(st.checkpoints, 0);
  CHECK(st.last_error && strstr(st.last_error, "orders.json"));
  CHECK_INT(st.dirty_files, 1);
  CHECK_INT(st.journal_bytes, jbytes); /* nothing trimmed */
  char path[1024];
  snprintf(path, sizeof path, "%s/orders.json", dir);
  CHECK_INT(file_size(path), -1);
  snprintf(path, sizeof path, "%s/orders.json.tmp", dir);
  CHECK_INT(file_size(path), -1);
  /* Commits still work, and the next checkpoint succeeds and trims. */
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "after", json_object(), 50), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(cb_status[50], 0);
  store_checkpoint(s);
  uv_run(&loop, UV_RUN_DEFAULT);
  store_stats(s, &st);
  CHECK_INT(st.checkpoints, 1);
  CHECK_INT(st.dirty_files, 0);
  CHECK_INT(st.journal_bytes, 0);
  /* A crash now: the files alone hold everything. */
  store_free(s);
  uv_run(&loop, UV_RUN_DEFAULT);
  s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(store_count(s, STORE_ORDERS, NULL), 11);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_one_store_per_directory) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *a = open_at(dir, 0);
  CHECK(a);
  CHECK(open_at(dir, 0) == NULL);
  CHECK(strstr(errbuf, "in use") != NULL);
  CHECK_INT(close_store(a), 0);
  struct store *b = open_at(dir, 0);
  CHECK(b);
  CHECK_INT(close_store(b), 0);
  CHECK_INT(loop_end(), 0);
}

/* ---- fault injection matrix ---- */

/* The workload of one fault run, in a child. Each transaction k writes orders/t<k> and
 * stock/<scope>/t<k> with the same marker; every 7th k is deleted again in a later
 * transaction (both records). Acknowledgements go to the pipe as "P k" / "D k". */
struct fw {
  struct store *s;
  int fd;
  int k;
  int rounds;
};

static void fw_report(int fd, char what, int k) {
  char line[32];
  int n = snprintf(line, sizeof line, "%c %d\n", what, k);
  if (write(fd, line, (size_t)n) != n)
    _exit(5);
}

static struct fw fw;

static void fw_put_cb(int status, void *arg) {
  if (status == 0)
    fw_report(fw.fd, 'P', (int)(intptr_t)arg);
}
static void fw_del_cb(int status, void *arg) {
  if (status == 0)
    fw_report(fw.fd, 'D', (int)(intptr_t)arg);
}

static void fw_round(int status, void *arg);

static void fw_start_round(void) {
  struct store *s = fw.s;
  for (int i = 0; i < 4; i++) {
    int k = fw.k++;
    char id[32], scope[32];
    snprintf(id, sizeof id, "t%d", k);
    snprintf(scope, sizeof scope, "inst%d", k % 3);
    struct store_txn *t = store_begin(s);
    store_put(t, STORE_ORDERS, NULL, id, recf("m%d", k));
    store_put(t, STORE_STOCK, scope, id, recf("m%d", k));
    if (store_commit(t, fw_put_cb, (void *)(intptr_t)k) != 0)
      return;
    if (k % 7 == 0 && k > 0) {
      int d = k - 7;
      snprintf(id, sizeof id, "t%d", d);
      snprintf(scope, sizeof scope, "inst%d", d % 3);
      t = store_begin(s);
      store_del(t, STORE_ORDERS, NULL, id);
      store_del(t, STORE_STOCK, scope, id);
      if (store_commit(t, fw_del_cb, (void *)(intptr_t)d) != 0)
        return;
    }
  }
  store_checkpoint(s); /* skipped while one runs */
  store_flush(s, fw_round, NULL);
}

static void fw_round(int status, void *arg) {
  (void)arg;
  if (status != 0 || ++fw.rounds >= 24)
    return;
  fw_start_round();
}

static void fault_child(const char *dir, const char *kind, unsigned n, int fd) {
  uv_loop_t l;
  uv_loop_init(&l);
  struct store_options o = {.dir = dir, .loop = &l, .checkpoint_bytes = 2048};
  char err[512];
  if (store_open(&fw.s, &o, err, sizeof err) != 0)
    _exit(3);
  fw.fd = fd;
  fw.k = 0;
  fw.rounds = 0;
  store_fault_inject(kind, n);
  fw_start_round();
  uv_run(&l, UV_RUN_DEFAULT);
  struct store_stats st;
  store_stats(fw.s, &st);
  if (st.last_error)
    fw_report(fd, 'E', 0);
  _exit(0); /* a crash: no close */
}

/* Reads the child's acknowledgements. */
static void read_acks(int fd, char *put, char *del, int max, int *errs) {
  FILE *f = fdopen(fd, "r");
  char what;
  int k;
  while (f && fscanf(f, " %c %d", &what, &k) == 2) {
    if (what == 'E')
      (*errs)++;
    else if (k >= 0 && k < max)
      (what == 'P' ? put : del)[k] = 1;
  }
  if (f)
    fclose(f);
}

/* Checks the reopened directory: acknowledged puts present (unless deleted), acknowledged
 * deletes absent, and never one record of a transaction without the other. */
static int verify_dir(const char *dir, const char *put, const char *del, int max, char *why,
                      size_t whylen) {
  uv_loop_t l;
  uv_loop_init(&l);
  struct store_options o = {.dir = dir, .loop = &l};
  struct store *s = NULL;
  char err[512];
  if (store_open(&s, &o, err, sizeof err) != 0) {
    snprintf(why, whylen, "reopen: %s", err);
    uv_loop_close(&l);
    return -1;
  }
  int rc = 0;
  for (int k = 0; k < max && rc == 0; k++) {
    char id[32], scope[32], m[32];
    snprintf(id, sizeof id, "t%d", k);
    snprintf(scope, sizeof scope, "inst%d", k % 3);
    snprintf(m, sizeof m, "m%d", k);
    const json_t *a = store_get(s, STORE_ORDERS, NULL, id);
    const json_t *b = store_get(s, STORE_STOCK, scope, id);
    if (!!a != !!b) {
      snprintf(why, whylen, "half transaction t%d (order %d, stock %d)", k, !!a, !!b);
      rc = -1;
    } else if (a && (strcmp(marker_of(a), m) || strcmp(marker_of(b), m))) {
      snprintf(why, whylen, "t%d: wrong marker", k);
      rc = -1;
    } else if (del[k] && a) {
      snprintf(why, whylen, "t%d: acknowledged delete lost", k);
      rc = -1;
    } else if (put[k] && !del[k] && k % 7 != 0 && !a) {
      snprintf(why, whylen, "t%d: acknowledged put lost", k);
      rc = -1;
    } else if (put[k] && k % 7 == 0 && !a && !del[k]) {
      /* Deleted by a transaction that was not acknowledged: allowed. */
    }
  }
  int status = 1;
  store_close(s, close_cb, &status);
  uv_run(&l, UV_RUN_DEFAULT);
  store_free(s);
  if (rc == 0 && status != 0) {
    snprintf(why, whylen, "close after reopen: %d", status);
    rc = -1;
  }
  uv_loop_close(&l);
  return rc;
}

TEST(store_fault_injection_never_loses_acknowledged_or_splits_txn) {
  static const char *kinds[] = {"write", "fsync", "rename"};
  enum { MAXK = 256 };
  for (int ki = 0; ki < 3; ki++) {
    int observed = 0;
    for (unsigned n = 1; n <= 30; n++) {
      const char *dir = harness_tmpdir();
      int p[2];
      CHECK(pipe(p) == 0);
      pid_t pid = fork();
      if (pid == 0) {
        close(p[0]);
        fault_child(dir, kinds[ki], n, p[1]);
      }
      close(p[1]);
      char put[MAXK] = {0}, del[MAXK] = {0};
      int errs = 0;
      read_acks(p[0], put, del, MAXK, &errs);
      int wst;
      CHECK(waitpid(pid, &wst, 0) == pid);
      if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
        harness_fail(__FILE__, __LINE__, "%s #%u: child status %d", kinds[ki], n, wst);
        return;
      }
      observed += errs;
      int nput = 0, ndel = 0;
      for (int k = 0; k < MAXK; k++) {
        nput += put[k];
        ndel += del[k];
      }
      if (getenv("STORE_TEST_VERBOSE"))
        printf("# %s #%u: %d puts, %d deletes acknowledged, fault %s\n", kinds[ki], n, nput,
               ndel, errs ? "seen" : "not seen");
      if (n == 1 && nput > 0 && errs == 0) {
        harness_fail(__FILE__, __LINE__, "%s #1: the fault was not observed", kinds[ki]);
        return;
      }
      char why[1024];
      if (verify_dir(dir, put, del, MAXK, why, sizeof why) != 0) {
        harness_fail(__FILE__, __LINE__, "%s #%u: %s", kinds[ki], n, why);
        return;
      }
    }
    /* Every kind must actually have been hit by some runs. */
    CHECK(observed > 0);
  }
}

/* ---- corrupt data ---- */

TEST(store_refuses_corrupt_file_with_offset) {
  loop_begin();
  const char *dir = harness_tmpdir();
  char path[1024];
  snprintf(path, sizeof path, "%s/orders.json", dir);
  const char *bad = "{\"version\":1,\"orders\":{\"a\":{\"x\":1},, }}";
  write_file(path, bad, strlen(bad));
  struct store *s = open_at(dir, 0);
  CHECK(s == NULL);
  CHECK(strstr(errbuf, "orders.json") != NULL);
  json_error_t je;
  CHECK(json_loads(bad, 0, &je) == NULL);
  char want[64];
  snprintf(want, sizeof want, "byte %d:", je.position);
  if (!strstr(errbuf, want)) {
    harness_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", errbuf, want);
    return;
  }
  /* A record that is not an object is refused as well. */
  const char *notobj = "{\"version\":1,\"orders\":{\"a\":5}}";
  write_file(path, notobj, strlen(notobj));
  CHECK(open_at(dir, 0) == NULL);
  CHECK(strstr(errbuf, "orders.json") != NULL);
  /* The data was not reset. */
  CHECK_INT(file_size(path), (long)strlen(notobj));
  CHECK_INT(loop_end(), 0);
}

static const char *jl1 =
    "{\"seq\":1,\"ops\":[{\"c\":\"orders\",\"s\":null,\"id\":\"a\",\"v\":{\"n\":1}}]}\n";
static const char *jl2 =
    "{\"seq\":2,\"ops\":[{\"c\":\"stock\",\"s\":\"i1\",\"id\":\"b\",\"v\":{\"n\":2}}]}\n";
static const char *jl3 =
    "{\"seq\":3,\"ops\":[{\"c\":\"orders\",\"s\":null,\"id\":\"c\",\"v\":{\"n\":3}}]}\n";

TEST(store_refuses_corrupt_journal_line_in_the_middle) {
  loop_begin();
  const char *dir = harness_tmpdir();
  char path[1024], text[1024];
  snprintf(path, sizeof path, "%s/journal.jsonl", dir);
  const char *bad = "{\"seq\":2,\"ops\":[{\"c\":oops}]}\n";
  snprintf(text, sizeof text, "%s%s%s", jl1, bad, jl3);
  write_file(path, text, strlen(text));
  CHECK(open_at(dir, 0) == NULL);
  CHECK(strstr(errbuf, "journal.jsonl") != NULL);
  /* The offset is the line's start plus jansson's position within the line. */
  json_error_t je;
  CHECK(json_loads(bad, 0, &je) == NULL);
  char want[64];
  snprintf(want, sizeof want, "byte %zu:", strlen(jl1) + (size_t)je.position);
  if (!strstr(errbuf, want)) {
    harness_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", errbuf, want);
    return;
  }
  CHECK_INT(file_size(path), (long)strlen(text));
  /* An unknown collection is refused too. */
  const char *unk = "{\"seq\":2,\"ops\":[{\"c\":\"nope\",\"s\":null,\"id\":\"x\",\"v\":{}}]}\n";
  snprintf(text, sizeof text, "%s%s%s", jl1, unk, jl3);
  write_file(path, text, strlen(text));
  CHECK(open_at(dir, 0) == NULL);
  CHECK(strstr(errbuf, "unknown collection") != NULL);
  CHECK_INT(loop_end(), 0);
}

TEST(store_drops_torn_journal_tail) {
  loop_begin();
  for (int variant = 0; variant < 3; variant++) {
    const char *dir = harness_tmpdir();
    char path[1024], text[1024];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    size_t good = strlen(jl1) + strlen(jl2);
    size_t len;
    if (variant == 0) { /* a partial line */
      snprintf(text, sizeof text, "%s%s%.30s", jl1, jl2, jl3);
      len = strlen(text);
    } else if (variant == 1) { /* a whole line but unparsable, then nothing */
      snprintf(text, sizeof text, "%s%s{\"seq\":3,\"ops\":[\n", jl1, jl2);
      len = strlen(text);
    } else { /* zeros after the data */
      snprintf(text, sizeof text, "%s%s", jl1, jl2);
      len = good + 100;
      memset(text + good, 0, 100);
    }
    write_file(path, text, len);
    struct store *s = open_at(dir, 0);
    if (!s) {
      harness_fail(__FILE__, __LINE__, "variant %d: %s", variant, errbuf);
      return;
    }
    CHECK(store_get(s, STORE_ORDERS, NULL, "a") != NULL);
    CHECK(store_get(s, STORE_STOCK, "i1", "b") != NULL);
    CHECK(store_get(s, STORE_ORDERS, NULL, "c") == NULL);
    CHECK_INT(file_size(path), (long)good);
    /* Appends start on a fresh line. */
    CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "d", json_object(), 0), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(cb_status[0], 0);
    store_free(s); /* crash */
    uv_run(&loop, UV_RUN_DEFAULT);
    s = open_at(dir, 0);
    CHECK(s);
    CHECK(store_get(s, STORE_ORDERS, NULL, "d") != NULL);
    CHECK_INT(close_store(s), 0);
  }
  CHECK_INT(loop_end(), 0);
}

TEST(store_replay_skips_ops_already_in_checkpointed_files) {
  loop_begin();
  const char *dir = harness_tmpdir();
  char path[1024];
  /* orders.json was checkpointed at seq 2 (after "a" was deleted at 2, then...), while the
   * scoped stock file never was: ops 1-3 apply to it, only op 3 to orders. */
  snprintf(path, sizeof path, "%s/orders.json", dir);
  const char *orders = "{\"version\":1,\"seq\":2,\"orders\":{\"z\":{\"n\":9}}}";
  write_file(path, orders, strlen(orders));
  snprintf(path, sizeof path, "%s/journal.jsonl", dir);
  char text[1024];
  snprintf(text, sizeof text, "%s%s%s", jl1, jl2, jl3);
  write_file(path, text, strlen(text));
  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK(store_get(s, STORE_ORDERS, NULL, "a") == NULL); /* seq 1 <= 2: skipped */
  CHECK(store_get(s, STORE_ORDERS, NULL, "z") != NULL);
  CHECK(store_get(s, STORE_ORDERS, NULL, "c") != NULL);
  CHECK(store_get(s, STORE_STOCK, "i1", "b") != NULL);
  struct store_stats st;
  store_stats(s, &st);
  CHECK_INT(st.seq, 3);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_keeps_unknown_top_level_keys) {
  loop_begin();
  const char *dir = harness_tmpdir();
  char path[1024];
  snprintf(path, sizeof path, "%s/orders.json", dir);
  const char *orders = "{\"version\":1,\"orders\":{},\"meta\":{\"from\":\"node\"}}";
  write_file(path, orders, strlen(orders));
  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "o", json_object(), 0), 0);
  CHECK_INT(close_store(s), 0);
  json_t *root = json_load_file(path, 0, NULL);
  CHECK(root);
  const char *from = json_string_value(json_object_get(json_object_get(root, "meta"), "from"));
  int ok = from && !strcmp(from, "node") && json_object_get(json_object_get(root, "orders"), "o");
  json_decref(root);
  CHECK(ok);
  CHECK_INT(loop_end(), 0);
}

/* ---- validation and indexes ---- */

TEST(store_validates_scope_and_id) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  struct store_txn *t = store_begin(s);
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, "../x", json_object()), STORE_ERR);
  CHECK_INT(store_put(t, STORE_STOCK, "../x", "k", json_object()), STORE_ERR);
  CHECK_INT(store_put(t, STORE_STOCK, "a/b", "k", json_object()), STORE_ERR);
  CHECK_INT(store_put(t, STORE_STOCK, NULL, "k", json_object()), STORE_ERR);
  CHECK_INT(store_put(t, STORE_ORDERS, "inst", "k", json_object()), STORE_ERR);
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, "", json_object()), STORE_ERR);
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, "k", json_array()), STORE_ERR);
  CHECK_INT(store_del(t, STORE_ORDERS, NULL, "a b"), STORE_ERR);
  char id[80];
  memset(id, 'a', 65);
  id[65] = '\0';
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, id, json_object()), STORE_ERR);
  id[64] = '\0';
  CHECK_INT(store_put(t, STORE_ORDERS, NULL, id, json_object()), 0);
  CHECK_INT(store_put(t, STORE_COUPONS, "Inst_1-x", "C-1_a", json_object()), 0);
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  CHECK(store_get(s, STORE_ORDERS, NULL, id) != NULL);
  CHECK_INT(close_store(s), 0);
  char path[1024];
  snprintf(path, sizeof path, "%s/x", dir);
  CHECK_INT(file_size(path), -1);
  snprintf(path, sizeof path, "%s/instances/Inst_1-x/coupons.json", dir);
  CHECK(file_size(path) > 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_unique_index_conflicts) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(commit_one(s, STORE_USERS, NULL, "u0", json_pack("{s:s}", "email", "z@x"), 0), 0);
  CHECK_INT(store_index_define(s, STORE_USERS, "email", STORE_INDEX_UNIQUE), 0);
  CHECK_STR(store_index_get(s, STORE_USERS, "email", "z@x", NULL), "u0");
  CHECK_INT(commit_one(s, STORE_USERS, NULL, "u1", json_pack("{s:s}", "email", "a@x"), 1), 0);
  CHECK_INT(commit_one(s, STORE_USERS, NULL, "u2", json_pack("{s:s}", "email", "b@x"), 2), 0);
  /* Another record with a taken key: refused, nothing of the txn applied. */
  struct store_txn *t = store_begin(s);
  store_put(t, STORE_ORDERS, NULL, "o1", json_object());
  store_put(t, STORE_USERS, NULL, "u3", json_pack("{s:s}", "email", "a@x"));
  CHECK_INT(store_commit(t, record_cb, (void *)3), STORE_ECONFLICT);
  CHECK(store_get(s, STORE_ORDERS, NULL, "o1") == NULL);
  CHECK(store_get(s, STORE_USERS, NULL, "u3") == NULL);
  /* Two records of one txn with the same key. */
  t = store_begin(s);
  store_put(t, STORE_USERS, NULL, "u4", json_pack("{s:s}", "email", "c@x"));
  store_put(t, STORE_USERS, NULL, "u5", json_pack("{s:s}", "email", "c@x"));
  CHECK_INT(store_commit(t, NULL, NULL), STORE_ECONFLICT);
  /* Swapping keys within one txn is fine; so is re-putting a record with its own key. */
  t = store_begin(s);
  store_put(t, STORE_USERS, NULL, "u1", json_pack("{s:s}", "email", "b@x"));
  store_put(t, STORE_USERS, NULL, "u2", json_pack("{s:s}", "email", "a@x"));
  store_put(t, STORE_USERS, NULL, "u0", json_pack("{s:s,s:i}", "email", "z@x", "v", 2));
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  CHECK_STR(store_index_get(s, STORE_USERS, "email", "a@x", NULL), "u2");
  CHECK_STR(store_index_get(s, STORE_USERS, "email", "b@x", NULL), "u1");
  /* Freeing a key and taking it in one txn. */
  t = store_begin(s);
  store_del(t, STORE_USERS, NULL, "u2");
  store_put(t, STORE_USERS, NULL, "u6", json_pack("{s:s}", "email", "a@x"));
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  CHECK_STR(store_index_get(s, STORE_USERS, "email", "a@x", NULL), "u6");
  /* A put that drops the field frees the key. */
  CHECK_INT(commit_one(s, STORE_USERS, NULL, "u6", json_object(), 4), 0);
  CHECK(store_index_get(s, STORE_USERS, "email", "a@x", NULL) == NULL);
  CHECK_INT(commit_one(s, STORE_USERS, NULL, "u7", json_pack("{s:s}", "email", "a@x"), 5), 0);
  /* Defining a unique index over data that already breaks it fails. */
  CHECK_INT(commit_one(s, STORE_CARTS, NULL, "c1", json_pack("{s:s}", "k", "same"), 6), 0);
  CHECK_INT(commit_one(s, STORE_CARTS, NULL, "c2", json_pack("{s:s}", "k", "same"), 7), 0);
  CHECK_INT(store_index_define(s, STORE_CARTS, "k", STORE_INDEX_UNIQUE), STORE_ECONFLICT);
  CHECK(store_index_get(s, STORE_CARTS, "k", "same", NULL) == NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(cb_status[3], 0x7f7f7f7f); /* refused commits never call back */
  CHECK_INT(loop_end(), 0);
}

static int idx_cb(const char *scope, const char *id, const json_t *rec, void *arg) {
  char *buf = arg;
  (void)rec;
  strcat(buf, scope ? scope : "-");
  strcat(buf, "/");
  strcat(buf, id);
  strcat(buf, ";");
  return 0;
}

TEST(store_multi_index_spans_scopes) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(store_index_define(s, STORE_STOCK, "productId", STORE_INDEX_MULTI), 0);
  struct store_txn *t = store_begin(s);
  store_put(t, STORE_STOCK, "i1", "k1", json_pack("{s:s}", "productId", "p1"));
  store_put(t, STORE_STOCK, "i1", "k2", json_pack("{s:s}", "productId", "p1"));
  store_put(t, STORE_STOCK, "i2", "k1", json_pack("{s:s}", "productId", "p1"));
  store_put(t, STORE_STOCK, "i2", "k3", json_pack("{s:s}", "productId", "p2"));
  store_put(t, STORE_STOCK, "i2", "k4", json_pack("{s:i}", "productId", 5));
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  char buf[256] = "";
  store_index_foreach(s, STORE_STOCK, "productId", "p1", idx_cb, buf);
  CHECK(strstr(buf, "i1/k1;") && strstr(buf, "i1/k2;") && strstr(buf, "i2/k1;"));
  CHECK_INT(strlen(buf), strlen("i1/k1;i1/k2;i2/k1;"));
  const char *sc = NULL;
  CHECK_STR(store_index_get(s, STORE_STOCK, "productId", "p2", &sc), "k3");
  CHECK_STR(sc, "i2");
  /* Changing the key moves the record. */
  t = store_begin(s);
  store_put(t, STORE_STOCK, "i1", "k2", json_pack("{s:s}", "productId", "p2"));
  store_del(t, STORE_STOCK, "i2", "k1");
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  buf[0] = '\0';
  store_index_foreach(s, STORE_STOCK, "productId", "p1", idx_cb, buf);
  CHECK_STR(buf, "i1/k1;");
  buf[0] = '\0';
  store_index_foreach(s, STORE_STOCK, "productId", "p2", idx_cb, buf);
  CHECK(strstr(buf, "i1/k2;") && strstr(buf, "i2/k3;"));
  CHECK_INT(close_store(s), 0);
  /* Defined after a reopen, the index is built from the loaded records. */
  s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(store_index_define(s, STORE_STOCK, "productId", STORE_INDEX_MULTI), 0);
  buf[0] = '\0';
  store_index_foreach(s, STORE_STOCK, "productId", "p2", idx_cb, buf);
  CHECK(strstr(buf, "i1/k2;") && strstr(buf, "i2/k3;"));
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

/* ---- archive ---- */

static int pick_done(const char *id, const json_t *rec, char month[8], void *arg) {
  (void)id;
  (void)arg;
  const char *st = json_string_value(json_object_get(rec, "status"));
  const char *at = json_string_value(json_object_get(rec, "createdAt"));
  if (!st || strcmp(st, "done") || !at || strlen(at) < 7)
    return 0;
  memcpy(month, at, 7);
  month[7] = '\0';
  return 1;
}

static int arch_status;
static size_t arch_count;
static void arch_cb(int status, size_t archived, void *arg) {
  (void)arg;
  arch_status = status;
  arch_count = archived;
}

static size_t archive_size(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/archive/%s", dir, name);
  json_t *root = json_load_file(path, 0, NULL);
  size_t n = json_object_size(json_object_get(root, "orders"));
  json_decref(root);
  return root ? n : (size_t)-1;
}

TEST(store_archive_moves_and_merges) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  struct store_txn *t = store_begin(s);
  store_put(t, STORE_ORDERS, NULL, "a",
            json_pack("{s:s,s:s}", "status", "done", "createdAt", "2026-09-03T10:00:00Z"));
  store_put(t, STORE_ORDERS, NULL, "b",
            json_pack("{s:s,s:s}", "status", "done", "createdAt", "2026-10-01T10:00:00Z"));
  store_put(t, STORE_ORDERS, NULL, "c",
            json_pack("{s:s,s:s}", "status", "open", "createdAt", "2026-10-02T10:00:00Z"));
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  arch_status = 99;
  store_archive(s, STORE_ORDERS, pick_done, NULL, arch_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(arch_status, 0);
  CHECK_INT(arch_count, 2);
  CHECK(store_get(s, STORE_ORDERS, NULL, "a") == NULL);
  CHECK(store_get(s, STORE_ORDERS, NULL, "b") == NULL);
  CHECK(store_get(s, STORE_ORDERS, NULL, "c") != NULL);
  CHECK_INT(archive_size(dir, "orders-2026-09.json"), 1);
  CHECK_INT(archive_size(dir, "orders-2026-10.json"), 1);
  /* A second run merges into the existing month. */
  t = store_begin(s);
  store_put(t, STORE_ORDERS, NULL, "c",
            json_pack("{s:s,s:s}", "status", "done", "createdAt", "2026-10-02T10:00:00Z"));
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  store_archive(s, STORE_ORDERS, pick_done, NULL, arch_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(arch_status, 0);
  CHECK_INT(arch_count, 1);
  CHECK_INT(archive_size(dir, "orders-2026-10.json"), 2);
  CHECK_INT(store_count(s, STORE_ORDERS, NULL), 0);
  /* Nothing to archive: done with 0. */
  store_archive(s, STORE_ORDERS, pick_done, NULL, arch_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(arch_status, 0);
  CHECK_INT(arch_count, 0);
  /* Scoped collections cannot be archived. */
  store_archive(s, STORE_STOCK, pick_done, NULL, arch_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(arch_status, -1);
  CHECK_INT(close_store(s), 0);
  s = open_at(dir, 0);
  CHECK(s);
  CHECK_INT(store_count(s, STORE_ORDERS, NULL), 0);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

TEST(store_archive_refuses_to_overwrite_a_corrupt_archive) {
  loop_begin();
  const char *dir = harness_tmpdir();
  struct store *s = open_at(dir, 0);
  CHECK(s);
  char path[1024];
  snprintf(path, sizeof path, "%s/archive", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/archive/orders-2026-09.json", dir);
  write_file(path, "{broken", 7);
  CHECK_INT(commit_one(s, STORE_ORDERS, NULL, "a",
                       json_pack("{s:s,s:s}", "status", "done", "createdAt", "2026-09-03"), 0),
            0);
  store_archive(s, STORE_ORDERS, pick_done, NULL, arch_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(arch_status, -1);
  CHECK(store_get(s, STORE_ORDERS, NULL, "a") != NULL);
  CHECK_INT(file_size(path), 7);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

/* ---- lifetime driven from callbacks ---- */

static struct store *life_store;
static int life_status;
static void free_in_cb(int status, void *arg) {
  (void)arg;
  life_status = status;
  store_free(life_store); /* abandon from inside a callback */
}
static void close_done_free(int status, void *arg) {
  (void)arg;
  life_status = status;
  store_free(life_store);
}
static void close_in_cb(int status, void *arg) {
  (void)status;
  (void)arg;
  store_close(life_store, close_done_free, NULL);
}

TEST(store_close_and_free_from_callbacks) {
  loop_begin();
  const char *dir = harness_tmpdir();
  life_store = open_at(dir, 0);
  CHECK(life_store);
  struct store_txn *t = store_begin(life_store);
  store_put(t, STORE_ORDERS, NULL, "a", json_object());
  CHECK_INT(store_commit(t, free_in_cb, NULL), 0);
  /* A second commit in the same batch: its callback never comes (abandoned store). */
  t = store_begin(life_store);
  store_put(t, STORE_ORDERS, NULL, "b", json_object());
  CHECK_INT(store_commit(t, record_cb, (void *)1), 0);
  life_status = 99;
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(life_status, 0);
  CHECK_INT(cb_calls, 0);

  life_store = open_at(dir, 0); /* the lock went with the abandoned store */
  CHECK(life_store);
  CHECK(store_get(life_store, STORE_ORDERS, NULL, "a") != NULL);
  t = store_begin(life_store);
  store_put(t, STORE_ORDERS, NULL, "c", json_object());
  CHECK_INT(store_commit(t, close_in_cb, NULL), 0);
  life_status = 99;
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(life_status, 0);

  struct store *s = open_at(dir, 0);
  CHECK(s);
  CHECK(store_get(s, STORE_ORDERS, NULL, "c") != NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}

/* ---- iteration under modification ---- */

static struct store *iter_store;
static int iter_mut_cb(const char *id, const json_t *rec, void *arg) {
  (void)rec;
  (*(int *)arg)++;
  struct store_txn *t = store_begin(iter_store);
  char nid[80];
  snprintf(nid, sizeof nid, "n%s", id);
  store_del(t, STORE_CARTS, NULL, id);
  store_put(t, STORE_CARTS, NULL, nid, json_object());
  store_commit(t, NULL, NULL);
  return 0;
}

TEST(store_foreach_tolerates_commits_from_the_callback) {
  loop_begin();
  struct store *s = open_at(harness_tmpdir(), 0);
  CHECK(s);
  iter_store = s;
  struct store_txn *t = store_begin(s);
  for (int k = 0; k < 50; k++) {
    char id[32];
    snprintf(id, sizeof id, "c%d", k);
    store_put(t, STORE_CARTS, NULL, id, json_object());
  }
  CHECK_INT(store_commit(t, NULL, NULL), 0);
  int seen = 0;
  store_foreach(s, STORE_CARTS, NULL, iter_mut_cb, &seen);
  CHECK_INT(seen, 50);
  CHECK_INT(store_count(s, STORE_CARTS, NULL), 50);
  CHECK(store_get(s, STORE_CARTS, NULL, "nc7") != NULL);
  CHECK_INT(close_store(s), 0);
  CHECK_INT(loop_end(), 0);
}
