/* Private structures and helpers shared by the store's source files (src/store/ *.c).
 * Threading: everything here belongs to the loop thread, except what a queued job owns
 * while it runs (its own buffers, the journal fd during a journal job) and what is
 * immutable once built (struct rec, struct sfile paths and extras). */
#ifndef ASTRA_STORE_STORE_INT_H
#define ASTRA_STORE_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_ID_MAX 64
#define STORE_MSG_MAX 512

/* ---- schema.c ---- */

/* The files. Unscoped files exist once; scoped ones once per instance. */
enum store_fkind {
  F_PORTAL,
  F_ORDERS,
  F_CARTS,
  F_DELIVERIES,
  F_CUSTOMERS,
  F_PRODUCTS, /* scoped from here on */
  F_STOCK,
  F_COUPONS,
  F_COUNT
};
#define F_UNSCOPED_COUNT F_PRODUCTS
#define F_SCOPED_COUNT (F_COUNT - F_PRODUCTS)

const char *store_fkind_name(enum store_fkind f); /* "orders.json" */
const char *store_fkind_base(enum store_fkind f); /* "orders" */
int store_fkind_scoped(enum store_fkind f);
enum store_fkind store_coll_file(enum store_coll c);
const char *store_coll_key(enum store_coll c); /* key inside the file: "walletTransactions" */
/* The collection with that journal name ("wallet"), or -1. */
int store_coll_by_name(const char *name);
/* The collection of file f stored under key, or -1. */
int store_coll_by_key(enum store_fkind f, const char *key);
/* 1-64 chars of [A-Za-z0-9_-]: safe as a path component and as a JSON string as is. */
int store_valid_id(const char *id);
/* 1 when month is "YYYY-MM". */
int store_valid_month(const char *month);

/* snprintf that may truncate (messages, paths checked elsewhere); a function of its own so
 * that -Wformat-truncation does not flag every message built from a path. */
int store_fmt(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- io.c: every write, fsync and rename goes through these (fault injection) ---- */

/* Writes all of p; -1 with errno on failure (an injected fault writes half first). */
int store_io_write(int fd, const void *p, size_t n);
int store_io_fsync(int fd);
int store_io_fdatasync(int fd);
int store_io_rename(const char *from, const char *to);
/* Opens and fsyncs a directory. */
int store_io_fsync_dir(const char *dir);
/* mkdir (mode 0700) when missing, fsyncing the parent when it was created. */
int store_io_mkdir(const char *dir);

/* A file written whole and atomically: <path>.tmp, buffered writes, fsync, rename. The
 * caller fsyncs the directory afterwards. Errors stick and are reported by commit. */
struct store_awriter {
  char path[4096];
  char tmp[4100];
  int fd;
  int err;
  char *buf;
  size_t len, cap;
  char msg[STORE_MSG_MAX];
};
int store_aw_open(struct store_awriter *w, const char *path);
void store_aw_put(struct store_awriter *w, const void *p, size_t n);
void store_aw_puts(struct store_awriter *w, const char *str);
/* Flush, fsync, close, rename. 0, or -1 with w->msg set (the tmp file is removed). */
int store_aw_commit(struct store_awriter *w);
void store_aw_abort(struct store_awriter *w);

/* ---- growable byte buffer ---- */
struct sbuf {
  char *p;
  size_t len, cap;
};
int store_sbuf_put(struct sbuf *b, const void *p, size_t n);
int store_sbuf_puts(struct sbuf *b, const char *str);
void store_sbuf_free(struct sbuf *b);

/* ---- htab.c: string-keyed open addressing table, and records ---- */

/* One version of a record: immutable once built, shared by the live table, checkpoint
 * snapshots, iterations and archive jobs; freed when the last reference goes. */
struct rec {
  atomic_uint refs;
  json_t *v;
  char *ser; /* compact JSON of v: what the journal and checkpoints write */
  size_t len;
  char id[];
};
/* Steals v; serializes it. NULL on allocation failure (v released). */
struct rec *store_rec_new(const char *id, json_t *v);
void store_rec_ref(struct rec *r);
void store_rec_unref(struct rec *r);

struct hslot {
  const char *key; /* owned by val (or by the table user) */
  void *val;
  uint32_t hash;
};
struct htab {
  struct hslot *slots;
  size_t cap; /* power of two, or 0 */
  size_t n;
};
uint32_t store_hash(const char *key);
void *store_htab_get(const struct htab *t, const char *key);
/* Inserts or replaces; returns the previous value (NULL if none). *failed is set on ENOMEM. */
void *store_htab_set(struct htab *t, const char *key, void *val, int *failed);
/* Removes; returns the value removed or NULL. */
void *store_htab_del(struct htab *t, const char *key);
void store_htab_free(struct htab *t);
/* Iteration over slots: i from 0; returns the next value or NULL at the end. */
void *store_htab_next(const struct htab *t, size_t *i);

/* ---- the store's objects ---- */

struct sfile;
struct scope;

/* One collection in one scope (or the only one, unscoped): id -> struct rec. */
struct coll {
  enum store_coll c;
  struct scope *scope; /* NULL when unscoped */
  struct sfile *file;
  struct htab recs;
};

/* A top-level key of a file that the schema does not know: kept and rewritten as is. */
struct extra {
  char *key;
  char *ser;
};

/* One JSON file. */
struct sfile {
  enum store_fkind kind;
  struct scope *scope;
  char *path; /* <dir>/orders.json, <dir>/instances/<scope>/stock.json */
  char *fdir; /* the directory holding it */
  struct coll *colls[5];
  int ncolls;
  uint64_t seq; /* checkpoint seq read from disk: replay skips ops at or below it */
  int dirty;
  struct extra *extras;
  size_t nextras;
  pthread_mutex_t mu; /* serializes writers of this file (checkpoint jobs) */
};

struct scope {
  char *name;
  struct sfile *files[F_SCOPED_COUNT];
  struct coll *colls[F_SCOPED_COUNT];
};

/* ---- index.c ---- */
struct sindex;

/* ---- journal.c ---- */
struct waiter {
  uint64_t seq;
  store_commit_cb cb;
  void *arg;
};
struct seg {
  uint64_t last; /* journal.<last>.jsonl: the last seq in it */
  uint64_t bytes;
};
struct jjob {
  uv_work_t req;
  struct store *s;
  struct sbuf buf;
  uint64_t last_seq;
  int fd;
  int rotate;
  uint64_t rot_last, rot_bytes;
  int rotated; /* a segment was renamed */
  int wrote;
  int err;
  char msg[STORE_MSG_MAX];
};
struct journal {
  int fd;
  uint64_t seg_bytes; /* bytes written to journal.jsonl */
  uint64_t seg_last;  /* last seq written to journal.jsonl (0: none) */
  struct sbuf pending;
  uint64_t pending_last;
  struct waiter *w; /* ring of commit/flush callbacks, in seq order */
  size_t wh, wn, wcap;
  struct seg *segs; /* rotated segments, oldest first */
  size_t nsegs, capsegs;
  int busy;
  int rotate_req;
  struct jjob job;
};

/* ---- deferred calls: run from a 0 ms timer, never synchronously ---- */
struct defer {
  void (*fn)(void *arg);
  void *arg;
  struct defer *next;
};

struct ckpt;

struct store {
  uv_loop_t *loop;
  char *dir;
  char *journal_path;
  int lock_fd; /* the data directory, flocked: one store per directory */
  size_t ckpt_bytes;
  unsigned ckpt_ms;
  enum store_state state;
  char last_error[STORE_MSG_MAX];
  int has_error;

  struct sfile *ufiles[F_UNSCOPED_COUNT];
  struct coll *ucolls[STORE_COLL_COUNT]; /* NULL for scoped collections */
  struct htab scopes;                    /* name -> struct scope */
  struct sfile **files;                  /* every file, for checkpoints */
  size_t nfiles, capfiles;
  struct sindex *indexes;

  uint64_t last_seq, durable_seq, commits, fsyncs, checkpoints;
  struct journal j;

  struct ckpt *ck;       /* the running checkpoint, or NULL */
  /* While a checkpoint's snapshot (copies of table slots, without references) is alive,
   * records dropped from the tables are parked here instead of released. */
  int snap_active;
  struct rec **grave;
  size_t ngrave, capgrave;
  uint64_t ck_hold_until; /* after a failure, the size trigger waits until then (uv_now) */
  uv_timer_t *ck_timer;
  uv_timer_t *defer_timer;
  struct defer *defer_head, *defer_tail;
  int defer_waiters; /* fire_waiters wanted on the next tick */

  int inflight; /* queued work requests not yet completed */
  int archives; /* archive jobs running */
  int freed;    /* store_free called while work was in flight */

  int closing;
  int close_ckpt_started;
  int close_failed;
  int handles_open; /* timers closing at the end of store_close */
  void (*close_cb)(int status, void *arg);
  void *close_arg;
};

/* store.c */
void store_set_error(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The journal failed: the store goes to STORE_FAILED, callbacks get -1. */
void store_fail(struct store *s, const char *msg);
void store_defer(struct store *s, void (*fn)(void *arg), void *arg);
void store_defer_waiters(struct store *s);
/* Called when a job ends: progresses a close, releases a store freed meanwhile. Returns 1
 * when the store was freed (the caller must not touch it any more). */
int store_job_done(struct store *s);
void store_close_step(struct store *s);
struct scope *store_scope_get(struct store *s, const char *name, int create);
struct coll *store_coll_get(struct store *s, enum store_coll c, const char *scope, int create);
/* Applies one put (r != NULL, reference stolen) or delete in memory: table, indexes, dirty. */
int store_apply(struct store *s, struct coll *co, const char *id, struct rec *r);
struct sfile *store_file_new(struct store *s, enum store_fkind kind, struct scope *sc);

/* load.c: everything store_open does with the disk. */
int store_load(struct store *s, char *err, size_t errlen);

/* journal.c */
int store_journal_append(struct store *s, const char *line, size_t len, uint64_t seq);
int store_waiter_add(struct store *s, uint64_t seq, store_commit_cb cb, void *arg);
void store_fire_waiters(struct store *s);
void store_journal_kick(struct store *s);
uint64_t store_journal_bytes(const struct store *s);
void store_journal_free(struct store *s);
int store_seg_add(struct store *s, uint64_t last, uint64_t bytes);

/* Drops the table's reference to r: now, or after the running checkpoint (checkpoint.c). */
void store_rec_drop(struct store *s, struct rec *r);
/* Releases the parked records (off the loop when there are many). */
void store_grave_release(struct store *s);

/* checkpoint.c */
/* Starts a checkpoint unless one runs or the store is not OK; force ignores the hold
 * after a failure. Returns 1 when one was started. */
int store_ckpt_start(struct store *s, int force);
void store_ckpt_rotated(struct store *s);
void store_ckpt_cancel(struct store *s);
void store_ckpt_maybe(struct store *s);
int store_ckpt_timer_start(struct store *s);

/* index.c */
void store_index_apply(struct store *s, struct coll *co, const char *id, const json_t *oldv,
                       const json_t *newv);
/* 1 when some unique index covers collection c. */
int store_index_has_unique(struct store *s, enum store_coll c);
struct txn_op;
/* STORE_ECONFLICT when applying the final ops would break a unique index, else 0 (or
 * STORE_ERR on ENOMEM). */
int store_index_check(struct store *s, struct txn_op *ops, size_t nops);
void store_index_free_all(struct store *s);

/* Transactions (store.c). */
struct txn_op {
  enum store_coll c;
  char scope[STORE_ID_MAX + 1]; /* "" when unscoped */
  char id[STORE_ID_MAX + 1];
  struct rec *r; /* NULL: delete */
};
struct store_txn {
  struct store *s;
  struct txn_op *ops;
  size_t n, cap;
};

#endif
