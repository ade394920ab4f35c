/* Checkpoints: rewriting dirty JSON files from memory so the journal can be trimmed.
 *   1. on the loop: S = last_seq; copy the record pointers of every collection of every
 *      dirty file out of the table's slots (no JSON work, and no write to the records
 *      themselves: taking a reference on each cost ~10 ms per 100,000 records in cache
 *      misses; this costs ~1 ms) and ask the journal to rotate its segment. Until the
 *      checkpoint ends, records dropped from the tables are parked, not released, so the
 *      copied pointers stay valid;
 *   2. the next journal job rotates, then writes its batch; when it is done every
 *      transaction up to S is durable (a checkpoint never holds a transaction the journal
 *      could lose, which could leave half of it on disk after a crash);
 *   3. a job writes each file (tmp, fsync, rename, under the file's mutex), fsyncs the
 *      directories, and only then deletes the journal segments older than the rotation;
 *   4. on the loop: files that failed are dirty again; the parked records are released
 *      by a small job (possibly most of a big file: freeing them is not the loop's work).
 * Files record "seq": S, so replay skips what they already hold. */
#include "store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ckcoll {
  const char *key;
  struct rec **recs; /* not referenced: see store_rec_drop */
  size_t n;
};

struct ckfile {
  struct sfile *f;
  struct ckcoll colls[5];
  int ncolls;
  int ok;
};

struct ckpt {
  uv_work_t req;
  struct store *s;
  uint64_t S;
  struct ckfile *files;
  size_t nfiles;
  uint64_t *segs; /* journal.<last>.jsonl to delete once the files are durable */
  int *seg_gone;
  size_t nsegs;
  int waiting; /* for the rotation */
  int err;
  char msg[STORE_MSG_MAX];
};

void store_rec_drop(struct store *s, struct rec *r) {
  if (!r)
    return;
  if (!s->snap_active) {
    store_rec_unref(r);
    return;
  }
  if (s->ngrave == s->capgrave) {
    size_t ncap = s->capgrave ? s->capgrave * 2 : 1024;
    struct rec **ng = realloc(s->grave, ncap * sizeof *ng);
    if (!ng)
      return; /* out of memory: leak it rather than free what a checkpoint may read */
    s->grave = ng;
    s->capgrave = ncap;
  }
  s->grave[s->ngrave++] = r;
}

struct reaper {
  uv_work_t req;
  struct store *s;
  struct rec **v;
  size_t n;
};

static void reap_work(uv_work_t *req) {
  struct reaper *rp = req->data;
  for (size_t i = 0; i < rp->n; i++) {
    store_rec_unref(rp->v[i]); /* refcounts (ours and jansson's) are atomic */
    /* Freeing a whole file's worth of records at full speed took the CPU (and malloc's
     * arena) from the loop for 15-30 ms on a 2-core machine; in small steps it does not. */
    if (i % 512 == 511) {
      struct timespec pause = {0, 200000};
      nanosleep(&pause, NULL);
    }
  }
}

static void reap_done(uv_work_t *req, int status) {
  (void)status;
  struct reaper *rp = req->data;
  struct store *s = rp->s;
  free(rp->v);
  free(rp);
  store_job_done(s);
}

void store_grave_release(struct store *s) {
  s->snap_active = 0;
  if (s->ngrave == 0)
    return;
  struct reaper *rp = s->ngrave > 256 ? malloc(sizeof *rp) : NULL;
  if (rp) {
    rp->s = s;
    rp->v = s->grave;
    rp->n = s->ngrave;
    rp->req.data = rp;
    s->inflight++;
    if (uv_queue_work(s->loop, &rp->req, reap_work, reap_done) == 0) {
      s->grave = NULL;
      s->ngrave = s->capgrave = 0;
      return;
    }
    s->inflight--;
    free(rp);
  }
  for (size_t i = 0; i < s->ngrave; i++)
    store_rec_unref(s->grave[i]);
  s->ngrave = 0;
}

static void ckpt_free_snap(struct ckpt *ck) {
  for (size_t i = 0; i < ck->nfiles; i++) {
    struct ckfile *cf = &ck->files[i];
    for (int c = 0; c < cf->ncolls; c++) {
      free(cf->colls[c].recs);
      cf->colls[c].recs = NULL;
      cf->colls[c].n = 0;
    }
  }
}

/* On the loop: files not written are dirty again; the parked records go. */
static void ckpt_release(struct ckpt *ck, int redirty) {
  ckpt_free_snap(ck);
  for (size_t i = 0; i < ck->nfiles; i++)
    if (redirty || !ck->files[i].ok)
      ck->files[i].f->dirty = 1;
  store_grave_release(ck->s);
  free(ck->files);
  free(ck->segs);
  free(ck->seg_gone);
  free(ck);
}

int store_ckpt_start(struct store *s, int explicit) {
  if (s->ck || s->state != STORE_OK || s->freed)
    return 0;
  size_t ndirty = 0;
  for (size_t i = 0; i < s->nfiles; i++)
    ndirty += s->files[i]->dirty != 0;
  /* An explicit checkpoint (or close) also trims a journal whose files are all clean. */
  if (ndirty == 0 && !(explicit && store_journal_bytes(s) > 0))
    return 0;
  struct ckpt *ck = calloc(1, sizeof *ck);
  if (!ck || (ndirty && !(ck->files = calloc(ndirty, sizeof *ck->files)))) {
    free(ck);
    store_set_error(s, "checkpoint: out of memory");
    return 0;
  }
  ck->s = s;
  ck->S = s->last_seq;
  for (size_t i = 0; i < s->nfiles; i++) {
    struct sfile *f = s->files[i];
    if (!f->dirty)
      continue;
    struct ckfile *cf = &ck->files[ck->nfiles++];
    cf->f = f;
    f->dirty = 0;
    for (int c = 0; c < f->ncolls; c++) {
      struct coll *co = f->colls[c];
      struct ckcoll *cc = &cf->colls[cf->ncolls++];
      cc->key = store_coll_key(co->c);
      if (co->recs.n == 0)
        continue;
      cc->recs = malloc(co->recs.n * sizeof *cc->recs);
      if (!cc->recs) {
        store_set_error(s, "checkpoint: out of memory");
        ckpt_release(ck, 1);
        return 0;
      }
      const struct hslot *sl = co->recs.slots;
      for (size_t k = 0; k < co->recs.cap; k++)
        if (sl[k].val)
          cc->recs[cc->n++] = sl[k].val;
    }
  }
  s->snap_active = 1;
  ck->waiting = 1;
  s->ck = ck;
  s->j.rotate_req = 1;
  store_journal_kick(s);
  return 1;
}

static void put_file(struct store_awriter *w, const struct ckfile *cf, uint64_t S) {
  char head[64];
  store_fmt(head, sizeof head, "{\"version\":1,\"seq\":%" PRIu64, S);
  store_aw_puts(w, head);
  for (int c = 0; c < cf->ncolls; c++) {
    const struct ckcoll *cc = &cf->colls[c];
    store_aw_puts(w, ",\n\"");
    store_aw_puts(w, cc->key);
    store_aw_puts(w, "\":{");
    for (size_t k = 0; k < cc->n; k++) {
      const struct rec *r = cc->recs[k];
      /* ids are validated to [A-Za-z0-9_-]: no escaping needed. */
      store_aw_puts(w, k ? ",\n\"" : "\n\"");
      store_aw_puts(w, r->id);
      store_aw_puts(w, "\":");
      store_aw_put(w, r->ser, r->len);
    }
    store_aw_puts(w, "}");
  }
  for (size_t e = 0; e < cf->f->nextras; e++) {
    store_aw_puts(w, ",\n");
    store_aw_puts(w, cf->f->extras[e].key);
    store_aw_puts(w, ":");
    store_aw_puts(w, cf->f->extras[e].ser);
  }
  store_aw_puts(w, "}\n");
}

static void ck_error(struct ckpt *ck, const char *msg) {
  if (!ck->err)
    store_fmt(ck->msg, sizeof ck->msg, "checkpoint: %s", msg);
  ck->err = 1;
}

static int ensure_scope_dir(struct ckpt *ck, const struct sfile *f) {
  char path[4200];
  store_fmt(path, sizeof path, "%s/instances", ck->s->dir);
  if (store_io_mkdir(path) != 0 || store_io_mkdir(f->fdir) != 0) {
    char msg[STORE_MSG_MAX];
    store_fmt(msg, sizeof msg, "%s: mkdir: %s", f->fdir, strerror(errno));
    ck_error(ck, msg);
    return -1;
  }
  return 0;
}

static void ckwork(uv_work_t *req) {
  struct ckpt *ck = req->data;
  struct store_awriter *w = malloc(sizeof *w);
  if (!w) {
    ck_error(ck, "out of memory");
    return;
  }
  for (size_t i = 0; i < ck->nfiles; i++) {
    struct ckfile *cf = &ck->files[i];
    struct sfile *f = cf->f;
    pthread_mutex_lock(&f->mu);
    if (!f->scope || ensure_scope_dir(ck, f) == 0) {
      if (store_aw_open(w, f->path) == 0)
        put_file(w, cf, ck->S);
      if (store_aw_commit(w) == 0)
        cf->ok = 1;
      else
        ck_error(ck, w->msg);
    }
    pthread_mutex_unlock(&f->mu);
  }
  free(w);
  /* The renames are durable once their directories are synced; once per directory. */
  struct htab dirs = {0};
  for (size_t i = 0; i < ck->nfiles; i++) {
    struct ckfile *cf = &ck->files[i];
    if (!cf->ok)
      continue;
    intptr_t st = (intptr_t)store_htab_get(&dirs, cf->f->fdir);
    if (st == 0) {
      int failed;
      st = store_io_fsync_dir(cf->f->fdir) == 0 ? 1 : 2;
      if (st == 2) {
        char msg[STORE_MSG_MAX];
        store_fmt(msg, sizeof msg, "%s: fsync: %s", cf->f->fdir, strerror(errno));
        ck_error(ck, msg);
      }
      store_htab_set(&dirs, cf->f->fdir, (void *)st, &failed);
    }
    if (st == 2)
      cf->ok = 0;
  }
  store_htab_free(&dirs);
  ckpt_free_snap(ck); /* the copies can be big: free them here, not on the loop */
  if (ck->err)
    return; /* the journal keeps everything the failed files miss */
  for (size_t i = 0; i < ck->nsegs; i++) {
    char seg[4200];
    store_fmt(seg, sizeof seg, "%s/journal.%020" PRIu64 ".jsonl", ck->s->dir, ck->segs[i]);
    ck->seg_gone[i] = unlink(seg) == 0 || errno == ENOENT;
  }
}

static void ckdone(uv_work_t *req, int status) {
  struct ckpt *ck = req->data;
  struct store *s = ck->s;
  if (status != 0)
    ck_error(ck, uv_strerror(status));
  if (ck->err) {
    store_set_error(s, "%s", ck->msg);
    s->ck_hold_until = uv_now(s->loop) + s->ckpt_ms;
    if (s->closing)
      s->close_failed = 1;
  } else {
    s->checkpoints++;
    for (size_t i = 0; i < ck->nfiles; i++)
      ck->files[i].f->seq = ck->S;
  }
  /* Forget the segments that are gone. */
  struct journal *j = &s->j;
  size_t keep = 0;
  for (size_t i = 0; i < j->nsegs; i++) {
    int gone = 0;
    for (size_t k = 0; k < ck->nsegs; k++)
      if (ck->segs[k] == j->segs[i].last && ck->seg_gone[k])
        gone = 1;
    if (!gone)
      j->segs[keep++] = j->segs[i];
  }
  j->nsegs = keep;
  s->ck = NULL;
  ckpt_release(ck, 0);
  store_job_done(s);
}

void store_ckpt_rotated(struct store *s) {
  struct ckpt *ck = s->ck;
  if (!ck || !ck->waiting)
    return;
  if (s->durable_seq < ck->S) {
    /* Cannot happen: the rotating job carried everything up to S. Be safe and wait for
     * the next batch. */
    s->j.rotate_req = 1;
    return;
  }
  ck->waiting = 0;
  struct journal *j = &s->j;
  if (j->nsegs) {
    ck->segs = malloc(j->nsegs * sizeof *ck->segs);
    ck->seg_gone = calloc(j->nsegs, sizeof *ck->seg_gone);
    if (ck->segs && ck->seg_gone) {
      for (size_t i = 0; i < j->nsegs; i++)
        ck->segs[i] = j->segs[i].last;
      ck->nsegs = j->nsegs;
    }
  }
  ck->req.data = ck;
  s->inflight++;
  int rc = uv_queue_work(s->loop, &ck->req, ckwork, ckdone);
  if (rc != 0) {
    s->inflight--;
    store_set_error(s, "checkpoint: uv_queue_work: %s", uv_strerror(rc));
    s->ck = NULL;
    ckpt_release(ck, 1);
  }
}

void store_ckpt_cancel(struct store *s) {
  /* A checkpoint still waiting for the rotation will never see its data durable. One
   * already writing holds only durable data and finishes normally. */
  if (s->ck && s->ck->waiting) {
    ckpt_release(s->ck, 1);
    s->ck = NULL;
  }
}

void store_ckpt_maybe(struct store *s) {
  if (s->ck || s->state != STORE_OK || s->closing)
    return;
  if (store_journal_bytes(s) <= s->ckpt_bytes)
    return;
  if (uv_now(s->loop) < s->ck_hold_until)
    return;
  store_ckpt_start(s, 0);
}

static void ck_timer_cb(uv_timer_t *t) {
  struct store *s = t->data;
  if (s && !s->closing)
    store_ckpt_start(s, 0);
}

int store_ckpt_timer_start(struct store *s) {
  int rc = uv_timer_start(s->ck_timer, ck_timer_cb, s->ckpt_ms, s->ckpt_ms);
  if (rc == 0)
    uv_unref((uv_handle_t *)s->ck_timer);
  return rc;
}

void store_checkpoint(struct store *s) {
  if (s && !s->closing)
    store_ckpt_start(s, 1);
}
