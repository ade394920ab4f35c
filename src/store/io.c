/* The store's file I/O: thin wrappers over write, fsync, fdatasync and rename that
 * store_fault_inject() can make fail, the atomic whole-file writer used by checkpoints
 * and archives, and a growable byte buffer. Called from worker threads and, at open, from
 * the loop thread; the fault counters are atomics for that reason. */
#include "store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int store_fmt(char *out, size_t outlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, outlen, fmt, ap);
  va_end(ap);
  return n;
}

enum { FAULT_WRITE, FAULT_FSYNC, FAULT_RENAME, FAULT_KINDS };

static const char *const fault_names[FAULT_KINDS] = {"write", "fsync", "rename"};
static atomic_uint fault_target[FAULT_KINDS];
static atomic_uint fault_count[FAULT_KINDS];

void store_fault_inject(const char *kind, unsigned n) {
  for (int k = 0; k < FAULT_KINDS; k++) {
    if (strcmp(kind, fault_names[k]) != 0)
      continue;
    atomic_store(&fault_target[k], 0);
    atomic_store(&fault_count[k], 0);
    atomic_store(&fault_target[k], n);
  }
}

/* 1 when this call of that kind must fail. */
static int fault_hit(int k) {
  unsigned target = atomic_load(&fault_target[k]);
  if (target == 0)
    return 0;
  unsigned c = atomic_fetch_add(&fault_count[k], 1) + 1;
  return c == target;
}

int store_io_write(int fd, const void *p, size_t n) {
  const char *q = p;
  if (fault_hit(FAULT_WRITE)) {
    /* A torn write, like a disk that fails midway: half goes out, then EIO. */
    size_t half = n / 2;
    while (half > 0) {
      ssize_t w = write(fd, q, half);
      if (w <= 0)
        break;
      q += w;
      half -= (size_t)w;
    }
    errno = EIO;
    return -1;
  }
  while (n > 0) {
    ssize_t w = write(fd, q, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    q += w;
    n -= (size_t)w;
  }
  return 0;
}

int store_io_fsync(int fd) {
  if (fault_hit(FAULT_FSYNC)) {
    errno = EIO;
    return -1;
  }
  return fsync(fd);
}

int store_io_fdatasync(int fd) {
  if (fault_hit(FAULT_FSYNC)) {
    errno = EIO;
    return -1;
  }
  return fdatasync(fd);
}

int store_io_rename(const char *from, const char *to) {
  if (fault_hit(FAULT_RENAME)) {
    errno = EIO;
    return -1;
  }
  return rename(from, to);
}

int store_io_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = store_io_fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

int store_io_mkdir(const char *dir) {
  if (mkdir(dir, 0700) == 0) {
    /* The new entry must reach the disk before anything inside it counts as written. */
    char parent[4096];
    store_fmt(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
      slash[1] = '\0';
    else if (slash)
      *slash = '\0';
    else
      store_fmt(parent, sizeof parent, ".");
    return store_io_fsync_dir(parent);
  }
  return errno == EEXIST ? 0 : -1;
}

/* ---- atomic file writer ---- */

#define AW_BUF (1u << 20)

int store_aw_open(struct store_awriter *w, const char *path) {
  memset(w, 0, sizeof *w);
  w->fd = -1;
  store_fmt(w->path, sizeof w->path, "%s", path);
  store_fmt(w->tmp, sizeof w->tmp, "%s.tmp", path);
  w->buf = malloc(AW_BUF);
  if (!w->buf) {
    store_fmt(w->msg, sizeof w->msg, "%s: out of memory", w->tmp);
    w->err = 1;
    return -1;
  }
  w->cap = AW_BUF;
  w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (w->fd < 0) {
    store_fmt(w->msg, sizeof w->msg, "%s: %s", w->tmp, strerror(errno));
    w->err = 1;
    return -1;
  }
  return 0;
}

static void aw_flush(struct store_awriter *w) {
  if (w->err || w->len == 0)
    return;
  if (store_io_write(w->fd, w->buf, w->len) != 0) {
    store_fmt(w->msg, sizeof w->msg, "%s: write: %s", w->tmp, strerror(errno));
    w->err = 1;
  }
  w->len = 0;
}

void store_aw_put(struct store_awriter *w, const void *p, size_t n) {
  if (w->err)
    return;
  if (w->len + n > w->cap) {
    aw_flush(w);
    if (n >= w->cap) {
      if (!w->err && store_io_write(w->fd, p, n) != 0) {
        store_fmt(w->msg, sizeof w->msg, "%s: write: %s", w->tmp, strerror(errno));
        w->err = 1;
      }
      return;
    }
  }
  memcpy(w->buf + w->len, p, n);
  w->len += n;
}

void store_aw_puts(struct store_awriter *w, const char *str) { store_aw_put(w, str, strlen(str)); }

void store_aw_abort(struct store_awriter *w) {
  if (w->fd >= 0) {
    close(w->fd);
    unlink(w->tmp);
  }
  w->fd = -1;
  free(w->buf);
  w->buf = NULL;
}

int store_aw_commit(struct store_awriter *w) {
  aw_flush(w);
  if (!w->err && store_io_fsync(w->fd) != 0) {
    store_fmt(w->msg, sizeof w->msg, "%s: fsync: %s", w->tmp, strerror(errno));
    w->err = 1;
  }
  if (w->err) {
    store_aw_abort(w);
    return -1;
  }
  close(w->fd);
  w->fd = -1;
  free(w->buf);
  w->buf = NULL;
  if (store_io_rename(w->tmp, w->path) != 0) {
    store_fmt(w->msg, sizeof w->msg, "%s: rename: %s", w->path, strerror(errno));
    unlink(w->tmp);
    return -1;
  }
  return 0;
}

/* ---- byte buffer ---- */

int store_sbuf_put(struct sbuf *b, const void *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np)
      return -1;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

int store_sbuf_puts(struct sbuf *b, const char *str) { return store_sbuf_put(b, str, strlen(str)); }

void store_sbuf_free(struct sbuf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}
