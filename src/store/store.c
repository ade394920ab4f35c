/* The store's front: open/close/free, reads, transactions and commit, stats, and the
 * small machinery around them (deferred calls, errors, the store's lifetime while jobs
 * are still in the thread pool). Loop thread only. */
#include "store_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CKPT_BYTES ((size_t)64 << 20)
#define DEFAULT_CKPT_MS 60000u

/* ---- errors, deferred calls ---- */

void store_set_error(struct store *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->last_error, sizeof s->last_error, fmt, ap);
  va_end(ap);
  s->has_error = 1;
}

void store_fail(struct store *s, const char *msg) {
  if (s->state != STORE_OK)
    return;
  s->state = STORE_FAILED;
  store_set_error(s, "%s", msg);
  store_ckpt_cancel(s);
  s->j.pending.len = 0;
  /* Every waiting callback gets -1, from the loop, never from inside a store_ call. */
  store_defer_waiters(s);
}

static void defer_cb(uv_timer_t *t);

static void defer_arm(struct store *s) {
  if (s->defer_timer && !uv_is_active((uv_handle_t *)s->defer_timer))
    uv_timer_start(s->defer_timer, defer_cb, 0, 0);
}

void store_defer(struct store *s, void (*fn)(void *arg), void *arg) {
  struct defer *d = malloc(sizeof *d);
  if (!d) {
    fn(arg); /* out of memory: better late than never, even if synchronous */
    return;
  }
  d->fn = fn;
  d->arg = arg;
  d->next = NULL;
  if (s->defer_tail)
    s->defer_tail->next = d;
  else
    s->defer_head = d;
  s->defer_tail = d;
  defer_arm(s);
}

void store_defer_waiters(struct store *s) {
  s->defer_waiters = 1;
  defer_arm(s);
}

/* Runs what was deferred, including what the deferred calls defer in turn. */
static void run_deferred(struct store *s) {
  while ((s->defer_waiters || s->defer_head) && !s->freed) {
    if (s->defer_waiters) {
      s->defer_waiters = 0;
      store_fire_waiters(s);
    }
    struct defer *d = s->defer_head;
    s->defer_head = s->defer_tail = NULL;
    while (d) {
      struct defer *next = d->next;
      d->fn(d->arg);
      free(d);
      d = next;
    }
  }
}

static void defer_cb(uv_timer_t *t) {
  struct store *s = t->data;
  if (!s)
    return;
  /* Counted as in flight so that a callback calling store_free does not free s under us. */
  s->inflight++;
  run_deferred(s);
  store_job_done(s);
}

/* ---- files, scopes, collections ---- */

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  char *p = malloc((size_t)n + 1);
  if (!p)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

static void file_free(struct sfile *f) {
  for (int i = 0; i < f->ncolls; i++) {
    struct coll *co = f->colls[i];
    size_t it = 0;
    struct rec *r;
    while ((r = store_htab_next(&co->recs, &it)))
      store_rec_unref(r);
    store_htab_free(&co->recs);
    free(co);
  }
  for (size_t e = 0; e < f->nextras; e++) {
    free(f->extras[e].key);
    free(f->extras[e].ser);
  }
  free(f->extras);
  pthread_mutex_destroy(&f->mu);
  free(f->path);
  free(f->fdir);
  free(f);
}

struct sfile *store_file_new(struct store *s, enum store_fkind kind, struct scope *sc) {
  if (s->nfiles == s->capfiles) {
    size_t ncap = s->capfiles ? s->capfiles * 2 : 16;
    struct sfile **nf = realloc(s->files, ncap * sizeof *nf);
    if (!nf)
      return NULL;
    s->files = nf;
    s->capfiles = ncap;
  }
  struct sfile *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->kind = kind;
  f->scope = sc;
  pthread_mutex_init(&f->mu, NULL);
  if (sc)
    f->fdir = dup_printf("%s/instances/%s", s->dir, sc->name);
  else
    f->fdir = dup_printf("%s", s->dir);
  f->path = f->fdir ? dup_printf("%s/%s", f->fdir, store_fkind_name(kind)) : NULL;
  if (!f->path)
    goto fail;
  for (int c = 0; c < STORE_COLL_COUNT; c++) {
    if (store_coll_file(c) != kind)
      continue;
    struct coll *co = calloc(1, sizeof *co);
    if (!co)
      goto fail;
    co->c = c;
    co->scope = sc;
    co->file = f;
    f->colls[f->ncolls++] = co;
  }
  for (int i = 0; i < f->ncolls; i++) {
    if (sc)
      sc->colls[kind - F_PRODUCTS] = f->colls[i];
    else
      s->ucolls[f->colls[i]->c] = f->colls[i];
  }
  s->files[s->nfiles++] = f;
  return f;
fail:
  file_free(f);
  return NULL;
}

struct scope *store_scope_get(struct store *s, const char *name, int create) {
  if (!name)
    return NULL;
  struct scope *sc = store_htab_get(&s->scopes, name);
  if (sc || !create)
    return sc;
  if (!store_valid_id(name))
    return NULL;
  sc = calloc(1, sizeof *sc);
  if (!sc || !(sc->name = strdup(name))) {
    free(sc);
    return NULL;
  }
  /* Files are only ever added, never removed while the store is open: a half-built scope
   * keeps the files it got, harmlessly empty. */
  for (int k = 0; k < F_SCOPED_COUNT; k++) {
    sc->files[k] = store_file_new(s, F_PRODUCTS + k, sc);
    if (!sc->files[k])
      return NULL; /* leaks sc on ENOMEM only */
  }
  int failed;
  store_htab_set(&s->scopes, sc->name, sc, &failed);
  return failed ? NULL : sc;
}

struct coll *store_coll_get(struct store *s, enum store_coll c, const char *scope, int create) {
  if ((unsigned)c >= STORE_COLL_COUNT)
    return NULL;
  if (!store_coll_scoped(c))
    return s->ucolls[c];
  struct scope *sc = store_scope_get(s, scope, create);
  return sc ? sc->colls[store_coll_file(c) - F_PRODUCTS] : NULL;
}

int store_apply(struct store *s, struct coll *co, const char *id, struct rec *r) {
  struct rec *old;
  if (r) {
    int failed;
    old = store_htab_set(&co->recs, r->id, r, &failed);
    if (failed) {
      store_rec_unref(r);
      return -1;
    }
  } else {
    old = store_htab_del(&co->recs, id);
  }
  if (s->indexes)
    store_index_apply(s, co, id, old ? old->v : NULL, r ? r->v : NULL);
  co->file->dirty = 1;
  store_rec_drop(s, old);
  return 0;
}

/* ---- open, close, free ---- */

static void really_free(struct store *s) {
  if (s->ck) {
    store_ckpt_cancel(s);
  }
  for (size_t i = 0; i < s->ngrave; i++)
    store_rec_unref(s->grave[i]);
  free(s->grave);
  struct defer *d = s->defer_head;
  while (d) {
    struct defer *next = d->next;
    free(d);
    d = next;
  }
  store_index_free_all(s);
  for (size_t i = 0; i < s->nfiles; i++)
    file_free(s->files[i]);
  free(s->files);
  size_t it = 0;
  struct scope *sc;
  while ((sc = store_htab_next(&s->scopes, &it))) {
    free(sc->name);
    free(sc);
  }
  store_htab_free(&s->scopes);
  store_journal_free(s);
  if (s->lock_fd >= 0)
    close(s->lock_fd); /* releases the flock */
  free(s->dir);
  free(s->journal_path);
  free(s);
}

static void handle_free_cb(uv_handle_t *h) { free(h); }
static int store_job_done_quiet(struct store *s);

static uv_timer_t *timer_new(struct store *s) {
  uv_timer_t *t = malloc(sizeof *t);
  if (!t)
    return NULL;
  uv_timer_init(s->loop, t);
  t->data = s;
  return t;
}

int store_open(struct store **out, const struct store_options *opt, char *err, size_t errlen) {
  *out = NULL;
  if (!opt || !opt->dir || !*opt->dir || !opt->loop) {
    store_fmt(err, errlen, "store_open: dir and loop are required");
    return -1;
  }
  struct store *s = calloc(1, sizeof *s);
  if (!s) {
    store_fmt(err, errlen, "store_open: out of memory");
    return -1;
  }
  s->loop = opt->loop;
  s->state = STORE_LOADING;
  s->j.fd = -1;
  s->lock_fd = -1;
  s->ckpt_bytes = opt->checkpoint_bytes ? opt->checkpoint_bytes : DEFAULT_CKPT_BYTES;
  s->ckpt_ms = opt->checkpoint_ms ? opt->checkpoint_ms : DEFAULT_CKPT_MS;
  s->dir = strdup(opt->dir);
  if (s->dir) {
    size_t n = strlen(s->dir);
    while (n > 1 && s->dir[n - 1] == '/')
      s->dir[--n] = '\0';
  }
  s->journal_path = s->dir ? dup_printf("%s/journal.jsonl", s->dir) : NULL;
  int ok = s->journal_path != NULL;
  for (int k = 0; ok && k < F_UNSCOPED_COUNT; k++)
    ok = (s->ufiles[k] = store_file_new(s, k, NULL)) != NULL;
  if (!ok) {
    store_fmt(err, errlen, "store_open: out of memory");
    really_free(s);
    return -1;
  }
  if (store_load(s, err, errlen) != 0) {
    really_free(s);
    return -1;
  }
  s->ck_timer = timer_new(s);
  s->defer_timer = timer_new(s);
  if (!s->ck_timer || !s->defer_timer) {
    store_fmt(err, errlen, "store_open: out of memory");
    store_free(s);
    return -1;
  }
  store_ckpt_timer_start(s);
  s->state = STORE_OK;
  *out = s;
  return 0;
}

/* The last step of a close: both timers are closed, done can be called. */
static void timer_closed(uv_handle_t *h) {
  struct store *s = h->data;
  free(h);
  if (--s->handles_open > 0)
    return;
  void (*cb)(int, void *) = s->close_cb;
  void *arg = s->close_arg;
  int status = s->close_failed ? -1 : 0;
  s->close_cb = NULL;
  if (s->freed && s->inflight == 0)
    really_free(s); /* store_free came before the close finished */
  if (cb)
    cb(status, arg); /* last: it may call store_free(s) */
}

void store_close_step(struct store *s) {
  if (!s->closing || s->state == STORE_CLOSED || s->state == STORE_LOADING)
    return;
  if (s->state == STORE_OK) {
    if (s->j.busy || s->j.pending.len) {
      store_journal_kick(s);
      return;
    }
    if (s->ck || s->archives)
      return;
    if (!s->close_ckpt_started) {
      s->close_ckpt_started = 1;
      if (store_ckpt_start(s, 1))
        return;
    }
    for (size_t i = 0; i < s->nfiles; i++)
      if (s->files[i]->dirty)
        s->close_failed = 1;
  } else {
    if (s->j.busy || s->ck || s->archives)
      return;
    s->close_failed = 1;
  }
  /* Whatever was deferred runs now: the timer that would run it is closing. Counted as in
   * flight, in case a callback calls store_free. */
  s->inflight++;
  run_deferred(s);
  if (store_job_done_quiet(s))
    return;
  s->state = STORE_CLOSED;
  if (s->j.fd >= 0)
    close(s->j.fd);
  s->j.fd = -1;
  if (s->lock_fd >= 0)
    close(s->lock_fd); /* the directory can be opened again from now on */
  s->lock_fd = -1;
  s->handles_open = 2;
  uv_close((uv_handle_t *)s->ck_timer, timer_closed);
  uv_close((uv_handle_t *)s->defer_timer, timer_closed);
  s->ck_timer = s->defer_timer = NULL;
}

void store_close(struct store *s, void (*done)(int status, void *arg), void *arg) {
  if (!s || s->closing)
    return;
  s->closing = 1;
  s->close_cb = done;
  s->close_arg = arg;
  uv_timer_stop(s->ck_timer);
  /* The first step runs from the loop: done never fires from inside store_close. */
  s->defer_waiters = 1;
  defer_arm(s);
}

/* Ends an in-flight count; frees an abandoned store once nothing refers to it. Returns 1
 * when the store was abandoned (freed now or later): the caller stops touching it. */
static int store_job_done_quiet(struct store *s) {
  s->inflight--;
  if (!s->freed)
    return 0;
  if (s->inflight == 0 && s->handles_open == 0)
    really_free(s);
  return 1;
}

int store_job_done(struct store *s) {
  if (store_job_done_quiet(s))
    return 1;
  store_close_step(s);
  return 0;
}

void store_free(struct store *s) {
  if (!s)
    return;
  /* Not closed: abandon it (like a crash). The handles free themselves once closed. */
  if (s->ck_timer) {
    s->ck_timer->data = NULL;
    uv_close((uv_handle_t *)s->ck_timer, handle_free_cb);
    s->ck_timer = NULL;
  }
  if (s->defer_timer) {
    s->defer_timer->data = NULL;
    uv_close((uv_handle_t *)s->defer_timer, handle_free_cb);
    s->defer_timer = NULL;
  }
  if (s->inflight > 0 || s->handles_open > 0) {
    s->freed = 1; /* the last job or handle callback frees it */
    return;
  }
  really_free(s);
}

/* ---- reads ---- */

const json_t *store_get(struct store *s, enum store_coll c, const char *scope, const char *id) {
  if (!s || !id)
    return NULL;
  struct coll *co = store_coll_get(s, c, scope, 0);
  struct rec *r = co ? store_htab_get(&co->recs, id) : NULL;
  return r ? r->v : NULL;
}

size_t store_count(struct store *s, enum store_coll c, const char *scope) {
  if (!s || (unsigned)c >= STORE_COLL_COUNT)
    return 0;
  if (store_coll_scoped(c) && !scope) {
    size_t n = 0, it = 0;
    struct scope *sc;
    while ((sc = store_htab_next(&s->scopes, &it)))
      n += sc->colls[store_coll_file(c) - F_PRODUCTS]->recs.n;
    return n;
  }
  struct coll *co = store_coll_get(s, c, scope, 0);
  return co ? co->recs.n : 0;
}

/* Appends referenced records of co to *v. */
static int snap_coll(struct coll *co, struct rec ***v, size_t *n, size_t *cap) {
  if (*n + co->recs.n > *cap) {
    size_t ncap = *n + co->recs.n + 16;
    struct rec **nv = realloc(*v, ncap * sizeof *nv);
    if (!nv)
      return -1;
    *v = nv;
    *cap = ncap;
  }
  size_t it = 0;
  struct rec *r;
  while ((r = store_htab_next(&co->recs, &it))) {
    store_rec_ref(r);
    (*v)[(*n)++] = r;
  }
  return 0;
}

void store_foreach(struct store *s, enum store_coll c, const char *scope, store_iter_fn fn,
                   void *arg) {
  if (!s || !fn || (unsigned)c >= STORE_COLL_COUNT)
    return;
  /* fn may commit, which may reshape the table: iterate over a referenced snapshot. */
  struct rec **v = NULL;
  size_t n = 0, cap = 0;
  if (store_coll_scoped(c) && !scope) {
    size_t it = 0;
    struct scope *sc;
    while ((sc = store_htab_next(&s->scopes, &it)))
      if (snap_coll(sc->colls[store_coll_file(c) - F_PRODUCTS], &v, &n, &cap) != 0)
        break;
  } else {
    struct coll *co = store_coll_get(s, c, scope, 0);
    if (co)
      snap_coll(co, &v, &n, &cap);
  }
  size_t i = 0;
  for (; i < n; i++)
    if (fn(v[i]->id, v[i]->v, arg))
      break;
  for (i = 0; i < n; i++)
    store_rec_unref(v[i]);
  free(v);
}

void store_foreach_scope(struct store *s, enum store_coll c,
                         int (*fn)(const char *scope, void *arg), void *arg) {
  if (!s || !fn || !store_coll_scoped(c))
    return;
  /* Scopes are never freed while the store is open, but the table may grow under fn. */
  size_t n = 0, it = 0;
  struct scope **v = malloc((s->scopes.n + 1) * sizeof *v), *sc;
  if (!v)
    return;
  while ((sc = store_htab_next(&s->scopes, &it)))
    if (sc->colls[store_coll_file(c) - F_PRODUCTS]->recs.n > 0)
      v[n++] = sc;
  for (size_t i = 0; i < n; i++)
    if (fn(v[i]->name, arg))
      break;
  free(v);
}

/* ---- transactions ---- */

struct store_txn *store_begin(struct store *s) {
  if (!s)
    return NULL;
  struct store_txn *t = calloc(1, sizeof *t);
  if (t)
    t->s = s;
  return t;
}

static int txn_push(struct store_txn *t, enum store_coll c, const char *scope, const char *id,
                    struct rec *r) {
  if (t->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 8;
    struct txn_op *nops = realloc(t->ops, ncap * sizeof *nops);
    if (!nops) {
      store_rec_unref(r);
      return STORE_ERR;
    }
    t->ops = nops;
    t->cap = ncap;
  }
  struct txn_op *op = &t->ops[t->n++];
  op->c = c;
  store_fmt(op->scope, sizeof op->scope, "%s", scope ? scope : "");
  store_fmt(op->id, sizeof op->id, "%s", id);
  op->r = r;
  return 0;
}

/* Scope and id rules: a scoped collection needs a valid scope, an unscoped one none. */
static int op_valid(enum store_coll c, const char *scope, const char *id) {
  if ((unsigned)c >= STORE_COLL_COUNT || !store_valid_id(id))
    return 0;
  return store_coll_scoped(c) ? store_valid_id(scope) : scope == NULL;
}

int store_put(struct store_txn *t, enum store_coll c, const char *scope, const char *id,
              json_t *rec) {
  if (!t || !op_valid(c, scope, id) || !json_is_object(rec)) {
    json_decref(rec);
    return STORE_ERR;
  }
  struct rec *r = store_rec_new(id, rec);
  if (!r)
    return STORE_ERR;
  return txn_push(t, c, scope, id, r);
}

int store_del(struct store_txn *t, enum store_coll c, const char *scope, const char *id) {
  if (!t || !op_valid(c, scope, id))
    return STORE_ERR;
  return txn_push(t, c, scope, id, NULL);
}

void store_abort(struct store_txn *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    store_rec_unref(t->ops[i].r);
  free(t->ops);
  free(t);
}

/* The journal line: {"seq":N,"ops":[{"c":..,"s":..,"id":..,"v":..|"del":true},...]}\n.
 * Names, scopes and ids are validated identifiers: they need no escaping. */
static int txn_line(struct sbuf *b, uint64_t seq, const struct store_txn *t) {
  char head[48];
  store_fmt(head, sizeof head, "{\"seq\":%" PRIu64 ",\"ops\":[", seq);
  int rc = store_sbuf_puts(b, head);
  for (size_t i = 0; i < t->n && rc == 0; i++) {
    const struct txn_op *op = &t->ops[i];
    rc |= store_sbuf_puts(b, i ? ",{\"c\":\"" : "{\"c\":\"");
    rc |= store_sbuf_puts(b, store_coll_name(op->c));
    if (op->scope[0]) {
      rc |= store_sbuf_puts(b, "\",\"s\":\"");
      rc |= store_sbuf_puts(b, op->scope);
      rc |= store_sbuf_puts(b, "\",\"id\":\"");
    } else {
      rc |= store_sbuf_puts(b, "\",\"s\":null,\"id\":\"");
    }
    rc |= store_sbuf_puts(b, op->id);
    if (op->r) {
      rc |= store_sbuf_puts(b, "\",\"v\":");
      rc |= store_sbuf_put(b, op->r->ser, op->r->len);
      rc |= store_sbuf_puts(b, "}");
    } else {
      rc |= store_sbuf_puts(b, "\",\"del\":true}");
    }
  }
  rc |= store_sbuf_puts(b, "]}\n");
  return rc ? -1 : 0;
}

int store_commit(struct store_txn *t, store_commit_cb cb, void *arg) {
  if (!t)
    return STORE_ERR;
  struct store *s = t->s;
  if (s->state != STORE_OK || s->closing) {
    store_abort(t);
    return STORE_EFAILED;
  }
  if (t->n == 0) {
    store_abort(t);
    store_flush(s, cb, arg);
    return 0;
  }
  int rc = store_index_check(s, t->ops, t->n);
  if (rc != 0) {
    store_abort(t);
    return rc;
  }
  /* Everything that can fail for lack of memory happens before anything is applied. */
  for (size_t i = 0; i < t->n; i++) {
    const struct txn_op *op = &t->ops[i];
    if (!store_coll_get(s, op->c, op->scope[0] ? op->scope : NULL, 1)) {
      store_abort(t);
      return STORE_ERR;
    }
  }
  uint64_t seq = s->last_seq + 1;
  size_t mark = s->j.pending.len;
  if (txn_line(&s->j.pending, seq, t) != 0 || (cb && store_waiter_add(s, seq, cb, arg) != 0)) {
    s->j.pending.len = mark;
    store_abort(t);
    return STORE_ERR;
  }
  s->j.pending_last = seq;
  s->last_seq = seq;
  s->commits++;
  for (size_t i = 0; i < t->n; i++) {
    struct txn_op *op = &t->ops[i];
    struct coll *co = store_coll_get(s, op->c, op->scope[0] ? op->scope : NULL, 0);
    struct rec *r = op->r;
    op->r = NULL; /* reference moves to the table */
    if (store_apply(s, co, op->id, r) != 0)
      store_fail(s, "commit: out of memory applying a transaction");
  }
  free(t->ops);
  free(t);
  store_journal_kick(s);
  store_ckpt_maybe(s);
  return 0;
}

void store_flush(struct store *s, store_commit_cb cb, void *arg) {
  if (!s || !cb)
    return;
  if (store_waiter_add(s, s->last_seq, cb, arg) != 0)
    return;
  if (s->durable_seq >= s->last_seq || s->state != STORE_OK)
    store_defer_waiters(s);
}

/* ---- stats ---- */

void store_stats(struct store *s, struct store_stats *out) {
  memset(out, 0, sizeof *out);
  if (!s)
    return;
  out->state = s->state;
  out->seq = s->last_seq;
  out->durable_seq = s->durable_seq;
  out->commits = s->commits;
  out->fsyncs = s->fsyncs;
  out->journal_bytes = store_journal_bytes(s);
  out->checkpoints = s->checkpoints;
  out->files = (unsigned)s->nfiles;
  for (size_t i = 0; i < s->nfiles; i++) {
    struct sfile *f = s->files[i];
    out->dirty_files += f->dirty != 0;
    for (int c = 0; c < f->ncolls; c++)
      out->records += f->colls[c]->recs.n;
  }
  out->checkpoint_running = s->ck != NULL;
  out->last_error = s->has_error ? s->last_error : NULL;
}
