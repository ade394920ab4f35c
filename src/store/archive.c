/* Archives: moving old records of an unscoped collection out of the live files into
 * data/archive/<file>-YYYY-MM.json. The records picked on the loop are referenced (they
 * are immutable), a job merges them by id into each month's archive and writes it
 * atomically, and back on the loop one transaction deletes those still unchanged. A crash
 * between the two leaves the records in both places; running again merges them again. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct arch_item {
  struct rec *r;
  char month[8];
};

struct arch {
  uv_work_t req;
  struct store *s;
  enum store_coll c;
  struct arch_item *items;
  size_t n;
  size_t archived;
  void (*done)(int status, size_t archived, void *arg);
  void *arg;
  int err;
  char msg[STORE_MSG_MAX];
};

/* Archive files of every store in the process are written one at a time: two archives of
 * the same month must not interleave their read-merge-write. */
static pthread_mutex_t archive_mu = PTHREAD_MUTEX_INITIALIZER;

static void arch_free(struct arch *a) {
  for (size_t i = 0; i < a->n; i++)
    store_rec_unref(a->items[i].r);
  free(a->items);
  free(a);
}

static void arch_finish(void *arg) {
  struct arch *a = arg;
  if (a->done)
    a->done(a->err ? -1 : 0, a->err ? 0 : a->archived, a->arg);
  arch_free(a);
}

static int cmp_month(const void *x, const void *y) {
  return strcmp(((const struct arch_item *)x)->month, ((const struct arch_item *)y)->month);
}

static int dump_cb(const char *buffer, size_t size, void *data) {
  store_aw_put(data, buffer, size);
  return 0;
}

/* Merges items [from, to) into the archive of their month. */
static int write_month(struct arch *a, const char *adir, size_t from, size_t to) {
  char path[4400];
  store_fmt(path, sizeof path, "%s/%s-%s.json", adir, store_fkind_base(store_coll_file(a->c)),
           a->items[from].month);
  const char *key = store_coll_key(a->c);
  json_t *root;
  struct stat st;
  if (stat(path, &st) == 0) {
    json_error_t je;
    root = json_load_file(path, 0, &je);
    if (!root) {
      /* Never overwrite an archive we cannot read. */
      store_fmt(a->msg, sizeof a->msg, "archive: %s: byte %d: %s", path, je.position, je.text);
      return -1;
    }
  } else {
    root = json_pack("{s:i}", "version", 1);
  }
  json_t *coll = root ? json_object_get(root, key) : NULL;
  if (root && !coll) {
    coll = json_object();
    json_object_set_new(root, key, coll);
  }
  if (!json_is_object(root) || !json_is_object(coll)) {
    store_fmt(a->msg, sizeof a->msg, "archive: %s: not an archive", path);
    json_decref(root);
    return -1;
  }
  /* Records are shared with the loop; jansson's refcounts are atomic and dumping only reads. */
  for (size_t i = from; i < to; i++)
    json_object_set(coll, a->items[i].r->id, a->items[i].r->v);
  struct store_awriter *w = malloc(sizeof *w);
  int rc = -1;
  if (!w) {
    store_fmt(a->msg, sizeof a->msg, "archive: out of memory");
  } else {
    if (store_aw_open(w, path) == 0)
      json_dump_callback(root, dump_cb, w, JSON_COMPACT);
    store_aw_put(w, "\n", 1);
    rc = store_aw_commit(w);
    if (rc != 0)
      store_fmt(a->msg, sizeof a->msg, "archive: %s", w->msg);
    free(w);
  }
  json_decref(root);
  return rc;
}

static void arch_work(uv_work_t *req) {
  struct arch *a = req->data;
  char adir[4200];
  store_fmt(adir, sizeof adir, "%s/archive", a->s->dir);
  pthread_mutex_lock(&archive_mu);
  if (store_io_mkdir(adir) != 0) {
    store_fmt(a->msg, sizeof a->msg, "archive: %s: mkdir: %s", adir, strerror(errno));
    a->err = 1;
  }
  for (size_t i = 0; i < a->n && !a->err;) {
    size_t j = i + 1;
    while (j < a->n && !strcmp(a->items[j].month, a->items[i].month))
      j++;
    if (write_month(a, adir, i, j) != 0)
      a->err = 1;
    i = j;
  }
  if (!a->err && store_io_fsync_dir(adir) != 0) {
    store_fmt(a->msg, sizeof a->msg, "archive: %s: fsync: %s", adir, strerror(errno));
    a->err = 1;
  }
  pthread_mutex_unlock(&archive_mu);
}

static void arch_committed(int status, void *arg) {
  struct arch *a = arg;
  if (status != 0)
    a->err = 1;
  arch_finish(a);
}

static void arch_done(uv_work_t *req, int status) {
  struct arch *a = req->data;
  struct store *s = a->s;
  s->archives--;
  if (s->freed)
    a->done = NULL; /* abandoned store: like a crash, nobody is told */
  if (status != 0 && !a->err) {
    store_fmt(a->msg, sizeof a->msg, "archive: %s", uv_strerror(status));
    a->err = 1;
  }
  if (a->err || s->freed) {
    if (a->err)
      store_set_error(s, "%s", a->msg);
    arch_finish(a);
  } else {
    /* Delete what is still the version that was archived; a record changed meanwhile
     * stays live (the archive's copy is replaced on a later run). */
    struct store_txn *t = store_begin(s);
    struct coll *co = s->ucolls[a->c];
    for (size_t i = 0; t && i < a->n; i++) {
      if (store_htab_get(&co->recs, a->items[i].r->id) == a->items[i].r &&
          store_del(t, a->c, NULL, a->items[i].r->id) == 0)
        a->archived++;
    }
    int rc = t ? store_commit(t, arch_committed, a) : STORE_ERR;
    if (rc != 0) {
      a->err = 1;
      arch_finish(a);
    }
  }
  store_job_done(s);
}

void store_archive(struct store *s, enum store_coll c,
                   int (*pick)(const char *id, const json_t *rec, char month[8], void *arg),
                   void *pick_arg, void (*done)(int status, size_t archived, void *arg),
                   void *arg) {
  if (!s)
    return;
  struct arch *a = calloc(1, sizeof *a);
  if (!a) {
    if (done)
      done(-1, 0, arg); /* out of memory */
    return;
  }
  a->s = s;
  a->c = c;
  a->done = done;
  a->arg = arg;
  if ((unsigned)c >= STORE_COLL_COUNT || store_coll_scoped(c) || !pick ||
      s->state != STORE_OK || s->closing) {
    a->err = 1;
    store_defer(s, arch_finish, a);
    return;
  }
  /* pick may call into the store: walk a referenced snapshot, not the live table. */
  struct coll *co = s->ucolls[c];
  size_t n = co->recs.n, it = 0, got = 0;
  struct rec **snap = malloc((n ? n : 1) * sizeof *snap), *r;
  a->items = malloc((n ? n : 1) * sizeof *a->items);
  if (!snap || !a->items) {
    free(snap);
    a->err = 1;
    store_defer(s, arch_finish, a);
    return;
  }
  while ((r = store_htab_next(&co->recs, &it))) {
    store_rec_ref(r);
    snap[got++] = r;
  }
  for (size_t i = 0; i < got; i++) {
    char month[8] = {0};
    if (pick(snap[i]->id, snap[i]->v, month, pick_arg) && store_valid_month(month)) {
      a->items[a->n].r = snap[i];
      memcpy(a->items[a->n].month, month, sizeof month);
      a->n++;
    } else {
      store_rec_unref(snap[i]);
    }
  }
  free(snap);
  if (a->n == 0) {
    store_defer(s, arch_finish, a);
    return;
  }
  qsort(a->items, a->n, sizeof *a->items, cmp_month);
  a->req.data = a;
  s->archives++;
  s->inflight++;
  int rc = uv_queue_work(s->loop, &a->req, arch_work, arch_done);
  if (rc != 0) {
    s->archives--;
    s->inflight--;
    a->err = 1;
    store_defer(s, arch_finish, a);
  }
}
