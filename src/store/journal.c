/* The journal and group commit. Commits append their line to a pending buffer on the
 * loop; at most one job at a time takes the whole buffer to the thread pool, writes it
 * to data/journal.jsonl and fdatasyncs once, so that every commit made while the previous
 * job ran shares one fsync. When a checkpoint asks, the job first rotates the segment:
 * journal.jsonl becomes journal.<last seq in it>.jsonl and a new journal.jsonl starts. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A batch buffer larger than this is not kept for reuse. */
#define KEEP_BUF (4u << 20)

int store_journal_append(struct store *s, const char *line, size_t len, uint64_t seq) {
  if (store_sbuf_put(&s->j.pending, line, len) != 0)
    return -1;
  s->j.pending_last = seq;
  return 0;
}

int store_waiter_add(struct store *s, uint64_t seq, store_commit_cb cb, void *arg) {
  struct journal *j = &s->j;
  if (j->wn == j->wcap) {
    size_t ncap = j->wcap ? j->wcap * 2 : 64;
    struct waiter *nw = malloc(ncap * sizeof *nw);
    if (!nw)
      return -1;
    for (size_t i = 0; i < j->wn; i++)
      nw[i] = j->w[(j->wh + i) % j->wcap];
    free(j->w);
    j->w = nw;
    j->wh = 0;
    j->wcap = ncap;
  }
  j->w[(j->wh + j->wn) % j->wcap] = (struct waiter){seq, cb, arg};
  j->wn++;
  return 0;
}

/* Calls, in order, the callbacks whose transactions are durable; once the store has
 * failed, every remaining one gets -1. Callbacks may commit: they only append. */
void store_fire_waiters(struct store *s) {
  struct journal *j = &s->j;
  while (j->wn > 0 && !s->freed) {
    struct waiter w = j->w[j->wh];
    int status;
    if (w.seq <= s->durable_seq)
      status = 0;
    else if (s->state == STORE_FAILED)
      status = -1;
    else
      break;
    j->wh = (j->wh + 1) % j->wcap;
    j->wn--;
    if (w.cb)
      w.cb(status, w.arg);
  }
}

int store_seg_add(struct store *s, uint64_t last, uint64_t bytes) {
  struct journal *j = &s->j;
  if (j->nsegs == j->capsegs) {
    size_t ncap = j->capsegs ? j->capsegs * 2 : 8;
    struct seg *ns = realloc(j->segs, ncap * sizeof *ns);
    if (!ns)
      return -1;
    j->segs = ns;
    j->capsegs = ncap;
  }
  j->segs[j->nsegs++] = (struct seg){last, bytes};
  return 0;
}

uint64_t store_journal_bytes(const struct store *s) {
  uint64_t n = s->j.seg_bytes + s->j.pending.len;
  if (s->j.busy)
    n += s->j.job.buf.len;
  for (size_t i = 0; i < s->j.nsegs; i++)
    n += s->j.segs[i].bytes;
  return n;
}

static void jwork(uv_work_t *req) {
  struct jjob *job = req->data;
  struct store *s = job->s;
  job->err = 0;
  job->rotated = 0;
  job->wrote = 0;
  if (job->rotate && job->rot_bytes > 0) {
    char seg[4200];
    store_fmt(seg, sizeof seg, "%s/journal.%020" PRIu64 ".jsonl", s->dir, job->rot_last);
    if (store_io_rename(s->journal_path, seg) != 0) {
      store_fmt(job->msg, sizeof job->msg, "%s: rename: %s", s->journal_path, strerror(errno));
      job->err = 1;
      return;
    }
    int nfd = open(s->journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (nfd < 0) {
      store_fmt(job->msg, sizeof job->msg, "%s: open: %s", s->journal_path, strerror(errno));
      job->err = 1;
      job->rotated = 1; /* the segment exists under its new name */
      close(job->fd);
      job->fd = -1;
      return;
    }
    close(job->fd);
    job->fd = nfd;
    job->rotated = 1;
    /* Both names must be on disk before the next batch counts as durable in the new file. */
    if (store_io_fsync_dir(s->dir) != 0) {
      store_fmt(job->msg, sizeof job->msg, "%s: fsync: %s", s->dir, strerror(errno));
      job->err = 1;
      return;
    }
  }
  if (job->buf.len > 0) {
    if (store_io_write(job->fd, job->buf.p, job->buf.len) != 0) {
      store_fmt(job->msg, sizeof job->msg, "%s: write: %s", s->journal_path, strerror(errno));
      job->err = 1;
      return;
    }
    if (store_io_fdatasync(job->fd) != 0) {
      store_fmt(job->msg, sizeof job->msg, "%s: fdatasync: %s", s->journal_path,
               strerror(errno));
      job->err = 1;
      return;
    }
    job->wrote = 1;
  }
}

static void jdone(uv_work_t *req, int status) {
  struct jjob *job = req->data;
  struct store *s = job->s;
  struct journal *j = &s->j;
  j->fd = job->fd;
  if (job->rotated) {
    if (store_seg_add(s, job->rot_last, job->rot_bytes) != 0 && !job->err) {
      store_fmt(job->msg, sizeof job->msg, "journal: out of memory");
      job->err = 1;
    }
    j->seg_bytes = 0;
    j->seg_last = 0;
  }
  if (job->err || status != 0) {
    if (!job->err)
      store_fmt(job->msg, sizeof job->msg, "journal job: %s", uv_strerror(status));
    store_fail(s, job->msg);
  } else if (job->wrote) {
    s->fsyncs++;
    j->seg_bytes += job->buf.len;
    j->seg_last = job->last_seq;
    s->durable_seq = job->last_seq;
  }
  if (job->buf.cap > KEEP_BUF)
    store_sbuf_free(&job->buf);
  job->buf.len = 0;
  /* Still busy while the callbacks run: their commits join the next batch, which starts
   * below with all of them, instead of one fsync each. */
  store_fire_waiters(s);
  j->busy = 0;
  if (job->rotate && s->state == STORE_OK && !s->freed)
    store_ckpt_rotated(s);
  store_journal_kick(s);
  store_job_done(s);
}

void store_journal_kick(struct store *s) {
  struct journal *j = &s->j;
  /* An abandoned store (store_free without close) starts nothing new, like a crash. */
  if (j->busy || s->state != STORE_OK || s->freed)
    return;
  if (j->pending.len == 0 && !j->rotate_req)
    return;
  struct jjob *job = &j->job;
  struct sbuf spare = job->buf;
  job->buf = j->pending;
  j->pending = spare;
  j->pending.len = 0;
  job->s = s;
  job->req.data = job;
  job->last_seq = j->pending_last;
  job->fd = j->fd;
  job->rotate = j->rotate_req;
  job->rot_last = j->seg_last;
  job->rot_bytes = j->seg_bytes;
  j->rotate_req = 0;
  j->busy = 1;
  s->inflight++;
  int rc = uv_queue_work(s->loop, &job->req, jwork, jdone);
  if (rc != 0) {
    /* Only on invalid arguments; treat as a journal failure. */
    s->inflight--;
    j->busy = 0;
    char msg[128];
    store_fmt(msg, sizeof msg, "journal: uv_queue_work: %s", uv_strerror(rc));
    store_fail(s, msg);
  }
}

void store_journal_free(struct store *s) {
  struct journal *j = &s->j;
  if (j->fd >= 0)
    close(j->fd);
  j->fd = -1;
  store_sbuf_free(&j->pending);
  store_sbuf_free(&j->job.buf);
  free(j->w);
  j->w = NULL;
  j->wn = j->wcap = j->wh = 0;
  free(j->segs);
  j->segs = NULL;
  j->nsegs = j->capsegs = 0;
}
