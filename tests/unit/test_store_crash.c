/* Crash test of the store: round after round, a child commits transactions as fast as it
 * can (each writes t<k> in orders.json and in instances/<x>/stock.json, and most also
 * delete an older pair, and checkpoints run both forced and by size) and reports each
 * acknowledged one on a pipe; the parent SIGKILLs it at a random moment, reopens the
 * same directory and checks that every acknowledged transaction is there, whole, and
 * that no transaction is there in one file only. STORE_CRASH_ROUNDS overrides 40. */
#include "harness.h"
#include "store/store.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PER_ROUND 100000 /* txn numbers of round r: r*PER_ROUND + i */
#define WINDOW 16        /* commits in flight in the child */

/* ---- the child ---- */

static struct {
  struct store *s;
  int fd;
  long next;
  long base;
} ch;

static void report(char what, long k) {
  char line[32];
  int n = snprintf(line, sizeof line, "%c %ld\n", what, k);
  if (write(ch.fd, line, (size_t)n) != n)
    _exit(5);
}

static void scope_of(long k, char *out, size_t outlen) { snprintf(out, outlen, "x%ld", k % 5); }

/* Txn k also deletes t<k-8>, except those with (k-8) % 50 == 25, which stay for good: the
 * directory stays small round after round, and deletes are checked as much as puts. */
static int deletes(long k) { return k - 8 >= ch.base && (k - 8) % 50 != 25; }
static int deleted_ever(long k) { return k % 50 != 25; }

static void commit_next(void);

static void committed(int status, void *arg) {
  long k = (long)(intptr_t)arg;
  if (status != 0)
    _exit(6); /* the disk does not fail here: any failure is a bug */
  report('P', k);
  if (deletes(k))
    report('D', k - 8);
  commit_next();
}

static void commit_next(void) {
  long k = ch.next++;
  char id[32], scope[16], marker[32];
  snprintf(id, sizeof id, "t%ld", k);
  snprintf(marker, sizeof marker, "m%ld", k);
  scope_of(k, scope, sizeof scope);
  struct store_txn *t = store_begin(ch.s);
  /* ~1 KB records, so that size-triggered checkpoints come often. */
  char pad[900];
  memset(pad, 'p', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  store_put(t, STORE_ORDERS, NULL, id, json_pack("{s:s,s:s}", "marker", marker, "pad", pad));
  store_put(t, STORE_STOCK, scope, id, json_pack("{s:s}", "marker", marker));
  if (deletes(k)) {
    char did[32], dscope[16];
    snprintf(did, sizeof did, "t%ld", k - 8);
    scope_of(k - 8, dscope, sizeof dscope);
    store_del(t, STORE_ORDERS, NULL, did);
    store_del(t, STORE_STOCK, dscope, did);
  }
  /* Announced before the commit: a txn never announced was never committed. */
  report('C', k);
  if (store_commit(t, committed, (void *)(intptr_t)k) != 0)
    _exit(7);
  if (k % 50 == 0)
    store_checkpoint(ch.s);
}

static void child(const char *dir, long base, int fd) {
  uv_loop_t l;
  uv_loop_init(&l);
  struct store_options o = {.dir = dir, .loop = &l, .checkpoint_bytes = 96 * 1024};
  char err[1024];
  ch.fd = fd;
  ch.base = base;
  ch.next = base;
  if (store_open(&ch.s, &o, err, sizeof err) != 0) {
    dprintf(fd, "X %s\n", err);
    _exit(3);
  }
  report('R', 0);
  for (int i = 0; i < WINDOW; i++)
    commit_next();
  uv_run(&l, UV_RUN_DEFAULT);
  _exit(8); /* not reached: the loop always has commits in flight */
}

/* ---- the parent ---- */

struct acks {
  unsigned char *put, *del, *com; /* indexed by txn number: acked put, acked delete, committed */
  long max;
  long *list; /* acknowledged puts, in order */
  size_t n, cap;
};

/* Reads lines until EOF; returns 0, or -1 when the child could not open the store. */
static int read_pipe(FILE *f, struct acks *a, int *ready, char *why, size_t whylen) {
  char line[1200];
  while (fgets(line, sizeof line, f)) {
    long k = 0;
    char what = line[0];
    if (what == 'R') {
      *ready = 1;
      return 0; /* the caller times the kill from here */
    }
    if (what == 'X') {
      snprintf(why, whylen, "child: %.900s", line + 2);
      return -1;
    }
    if (sscanf(line + 2, "%ld", &k) != 1 || k < 0 || k >= a->max)
      continue;
    if (what == 'P' && !a->put[k]) {
      a->put[k] = 1;
      if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->list = realloc(a->list, a->cap * sizeof *a->list);
        if (!a->list)
          abort();
      }
      a->list[a->n++] = k;
    }
    else if (what == 'D')
      a->del[k] = 1;
    else if (what == 'C')
      a->com[k] = 1;
  }
  return 0;
}

struct verify {
  struct store *s;
  const struct acks *a;
  int bad;
  char why[256];
};

static long txn_of(const char *id) { return id[0] == 't' ? strtol(id + 1, NULL, 10) : -1; }

static int check_order(const char *id, const json_t *rec, void *arg) {
  struct verify *v = arg;
  long k = txn_of(id);
  char scope[16], m[32];
  scope_of(k, scope, sizeof scope);
  snprintf(m, sizeof m, "m%ld", k);
  const json_t *st = store_get(v->s, STORE_STOCK, scope, id);
  const char *m1 = json_string_value(json_object_get(rec, "marker"));
  const char *m2 = json_string_value(json_object_get(st, "marker"));
  if (!st) {
    snprintf(v->why, sizeof v->why, "%s in orders only", id);
    v->bad = 1;
  } else if (!m1 || !m2 || strcmp(m1, m) || strcmp(m2, m)) {
    snprintf(v->why, sizeof v->why, "%s: wrong marker", id);
    v->bad = 1;
  } else if (k >= 0 && k < v->a->max && v->a->del[k]) {
    snprintf(v->why, sizeof v->why, "%s: acknowledged delete lost", id);
    v->bad = 1;
  }
  return v->bad;
}

static int check_stock(const char *id, const json_t *rec, void *arg) {
  struct verify *v = arg;
  (void)rec;
  if (!store_get(v->s, STORE_ORDERS, NULL, id)) {
    snprintf(v->why, sizeof v->why, "%s in stock only", id);
    v->bad = 1;
  }
  return v->bad;
}

/* Opens the directory, checks it, and abandons the store without closing it, so the
 * next round starts from exactly what the crash left (after the torn tail cut). */
static int verify(const char *dir, const struct acks *a, char *why, size_t whylen,
                  size_t *records) {
  uv_loop_t l;
  uv_loop_init(&l);
  struct store_options o = {.dir = dir, .loop = &l};
  struct verify v = {.a = a};
  char err[1024];
  if (store_open(&v.s, &o, err, sizeof err) != 0) {
    snprintf(why, whylen, "reopen: %.900s", err);
    uv_loop_close(&l);
    return -1;
  }
  store_foreach(v.s, STORE_ORDERS, NULL, check_order, &v);
  if (!v.bad)
    store_foreach(v.s, STORE_STOCK, NULL, check_stock, &v);
  for (size_t i = 0; i < a->n && !v.bad; i++) {
    long k = a->list[i];
    if (a->del[k])
      continue;
    char id[32];
    snprintf(id, sizeof id, "t%ld", k);
    /* Gone only if the txn deleting it was committed (it may not be acknowledged). */
    int may_be_gone = deleted_ever(k) && k + 8 < a->max && a->com[k + 8];
    if (!may_be_gone && !store_get(v.s, STORE_ORDERS, NULL, id)) {
      snprintf(v.why, sizeof v.why, "%s: acknowledged put lost", id);
      v.bad = 1;
    }
  }
  *records = store_count(v.s, STORE_ORDERS, NULL);
  store_free(v.s);
  uv_run(&l, UV_RUN_DEFAULT);
  uv_loop_close(&l);
  if (v.bad)
    snprintf(why, whylen, "%s", v.why);
  return v.bad ? -1 : 0;
}

TEST(store_survives_sigkill_at_random_moments) {
  const char *env = getenv("STORE_CRASH_ROUNDS");
  int rounds = env ? atoi(env) : 40;
  const char *dir = harness_tmpdir();
  struct acks a = {0};
  a.max = (long)rounds * PER_ROUND;
  a.put = calloc((size_t)a.max, 1);
  a.del = calloc((size_t)a.max, 1);
  a.com = calloc((size_t)a.max, 1);
  CHECK(a.put && a.del && a.com);
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  long total_acked = 0;
  int failed = 0;
  for (int r = 0; r < rounds && !failed; r++) {
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      child(dir, (long)r * PER_ROUND, p[1]);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    CHECK(f);
    int ready = 0;
    char why[1024] = "";
    if (read_pipe(f, &a, &ready, why, sizeof why) != 0 || !ready) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      fclose(f);
      harness_fail(__FILE__, __LINE__, "round %d: %s", r, why[0] ? why : "child died");
      failed = 1;
      break;
    }
    /* Killed between 1 and 50 ms into its work: mid-batch, mid-checkpoint, anywhere. */
    struct timespec d = {0, (1 + rand() % 50) * 1000000L};
    nanosleep(&d, NULL);
    kill(pid, SIGKILL);
    int wst;
    waitpid(pid, &wst, 0);
    read_pipe(f, &a, &ready, why, sizeof why);
    fclose(f);
    if (!WIFSIGNALED(wst)) {
      harness_fail(__FILE__, __LINE__, "round %d: child exited with %d", r, WEXITSTATUS(wst));
      failed = 1;
      break;
    }
    long acked = 0;
    for (long k = (long)r * PER_ROUND; k < (long)(r + 1) * PER_ROUND; k++)
      acked += a.put[k];
    total_acked += acked;
    size_t records = 0;
    if (verify(dir, &a, why, sizeof why, &records) != 0) {
      harness_fail(__FILE__, __LINE__, "round %d (%ld acknowledged): %s", r, acked, why);
      failed = 1;
      break;
    }
    if (getenv("STORE_TEST_VERBOSE"))
      printf("# round %d: %ld acknowledged, %zu orders\n", r, acked, records);
  }
  free(a.put);
  free(a.del);
  free(a.com);
  free(a.list);
  if (failed)
    return;
  /* The test only means something if the children got work done. */
  CHECK(total_acked > rounds * 10);
}
