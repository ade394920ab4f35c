/* The audit trail: JSON lines appended to <DATA_DIR>/audit.jsonl with libuv's async fs calls
 * (the loop never blocks). One batch is in flight at a time: the lines queued while a batch
 * is being written and fsynced go out together in the next one (group commit), so lines
 * never interleave and a burst of events costs one fsync per batch, not per line. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#include "core/app.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/log.h"

struct entry {
  struct entry *next;
  char *line; /* with its '\n' */
  size_t len;
  audit_cb cb;
  void *arg;
};

static struct {
  struct entry *head, *tail; /* queued, not yet in a batch */
  struct entry *batch;       /* in flight */
  char *buf;                 /* the batch's bytes */
  size_t len, off;
  uv_fs_t req;
  uv_file fd;   /* -1 until opened (lazily, on the first line) */
  int busy;     /* a request is in flight */
  int closed;   /* audit_close was called */
  int torn;     /* a write failed part-way: start the next batch on a fresh line */
  char path[4096];
} A = {.fd = -1};

json_t *audit_event(const char *action, const char *actor_type, const char *actor_id,
                    const char *ip, const char *request_id) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return json_pack("{s:I, s:{s:s, s:s?}, s:s, s:s?, s:s?}", "at",
                   (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, "actor", "type",
                   actor_type, "id", actor_id, "action", action, "ip", ip, "requestId",
                   request_id);
}

static void kick(void);

static void finish_batch(int status) {
  uv_fs_req_cleanup(&A.req);
  struct entry *e = A.batch;
  A.batch = NULL;
  free(A.buf);
  A.buf = NULL;
  A.busy = 0;
  while (e) {
    struct entry *next = e->next;
    if (e->cb)
      e->cb(status, e->arg);
    free(e->line);
    free(e);
    e = next;
  }
  kick();
}

static void on_fsync(uv_fs_t *req) {
  if (req->result < 0)
    log_error("audit", "fsync %s: %s", A.path, uv_strerror((int)req->result));
  finish_batch(req->result < 0 ? -1 : 0);
}

static void write_more(void);

static void on_write(uv_fs_t *req) {
  ssize_t r = req->result;
  uv_fs_req_cleanup(req);
  if (r < 0) {
    log_error("audit", "write %s: %s", A.path, uv_strerror((int)r));
    A.torn = 1;
    finish_batch(-1);
    return;
  }
  A.off += (size_t)r;
  if (A.off < A.len) { /* a short write: the rest follows (O_APPEND keeps it contiguous) */
    write_more();
    return;
  }
  if (uv_fs_fsync(astra.loop, &A.req, A.fd, on_fsync) != 0)
    finish_batch(-1);
}

static void write_more(void) {
  uv_buf_t b = uv_buf_init(A.buf + A.off, (unsigned)(A.len - A.off));
  if (uv_fs_write(astra.loop, &A.req, A.fd, &b, 1, -1, on_write) != 0) {
    A.torn = A.off > 0;
    finish_batch(-1);
  }
}

static void on_open(uv_fs_t *req) {
  ssize_t r = req->result;
  uv_fs_req_cleanup(req);
  if (r < 0) { /* left closed: the next line tries again (say, once the disk has room) */
    log_error("audit", "open %s: %s", A.path, uv_strerror((int)r));
    finish_batch(-1);
    return;
  }
  A.fd = (uv_file)r;
  write_more();
}

static void on_close(uv_fs_t *req) {
  uv_fs_req_cleanup(req);
  A.busy = 0;
}

/* Makes the queued lines the batch in flight and starts it: 0, or -1 when it could not even
 * start (out of memory, bad request), with the lines left queued. */
static int start_batch(void) {
  size_t len = A.torn ? 1 : 0;
  for (struct entry *e = A.head; e; e = e->next)
    len += e->len;
  char *buf = malloc(len);
  if (!buf)
    return -1;
  size_t off = 0;
  if (A.torn)
    buf[off++] = '\n';
  for (struct entry *e = A.head; e; e = e->next) {
    memcpy(buf + off, e->line, e->len);
    off += e->len;
  }
  A.buf = buf;
  A.len = len;
  A.off = 0;
  if (A.fd >= 0) {
    uv_buf_t b = uv_buf_init(A.buf, (unsigned)A.len);
    if (uv_fs_write(astra.loop, &A.req, A.fd, &b, 1, -1, on_write) != 0)
      goto fail;
  } else {
    snprintf(A.path, sizeof A.path, "%s/audit.jsonl", astra.cfg->data_dir);
    if (uv_fs_open(astra.loop, &A.req, A.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                   0600, on_open) != 0)
      goto fail;
  }
  A.torn = 0;
  A.batch = A.head;
  A.head = A.tail = NULL;
  A.busy = 1;
  return 0;
fail:
  free(A.buf);
  A.buf = NULL;
  return -1;
}

/* Starts the next batch when idle (from a completion: a failure goes to the callbacks); at
 * shutdown, closes the file once everything is out. */
static void kick(void) {
  if (A.busy)
    return;
  if (A.head) {
    if (start_batch() != 0) {
      A.batch = A.head;
      A.head = A.tail = NULL;
      A.busy = 1;
      finish_batch(-1);
    }
    return;
  }
  if (A.closed && A.fd >= 0) {
    uv_file fd = A.fd;
    A.fd = -1;
    A.busy = 1;
    if (uv_fs_close(astra.loop, &A.req, fd, on_close) != 0)
      A.busy = 0;
  }
}

int audit_append(json_t *event, audit_cb cb, void *arg) {
  char *text = event && !A.closed ? json_dumps(event, JSON_COMPACT) : NULL;
  json_decref(event);
  struct entry *e = text ? calloc(1, sizeof *e) : NULL;
  size_t n = text ? strlen(text) : 0;
  char *line = e ? realloc(text, n + 2) : NULL;
  if (!line) {
    free(text);
    free(e);
    return -1;
  }
  line[n] = '\n'; /* compact JSON escapes newlines in strings: one event, one line */
  line[n + 1] = 0;
  e->line = line;
  e->len = n + 1;
  e->cb = cb;
  e->arg = arg;
  if (A.tail)
    A.tail->next = e;
  else
    A.head = e;
  A.tail = e;
  /* idle means the queue was empty: this line alone would be the batch, and a failure to
   * start it is reported here rather than through cb (never called back from inside) */
  if (!A.busy && start_batch() != 0) {
    A.head = A.tail = NULL;
    free(e->line);
    free(e);
    return -1;
  }
  return 0;
}

void audit_close(void) {
  A.closed = 1;
  kick();
}
