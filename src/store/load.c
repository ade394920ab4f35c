/* Opening the store: load every JSON file, then replay the journal segments in order.
 * This is the only place that reads the disk, and it blocks (store_open runs before the
 * loop). Corrupt data is refused with the file and byte offset, never reset; the one
 * exception is a torn last line of the last journal segment (a crash mid-append: that
 * transaction was never acknowledged), which is cut off. */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int load_records(struct store *s, struct sfile *f, struct coll *co, json_t *obj,
                        const char *key, char *err, size_t errlen) {
  if (!json_is_object(obj)) {
    store_fmt(err, errlen, "%s: \"%s\" is not an object", f->path, key);
    return -1;
  }
  const char *id;
  json_t *v;
  json_object_foreach(obj, id, v) {
    if (!store_valid_id(id)) {
      store_fmt(err, errlen, "%s: \"%s\": invalid record id \"%.80s\"", f->path, key, id);
      return -1;
    }
    if (!json_is_object(v)) {
      store_fmt(err, errlen, "%s: \"%s\": record \"%s\" is not an object", f->path, key, id);
      return -1;
    }
    struct rec *r = store_rec_new(id, json_incref(v));
    if (!r || store_apply(s, co, id, r) != 0) {
      store_fmt(err, errlen, "%s: out of memory", f->path);
      return -1;
    }
  }
  return 0;
}

static int add_extra(struct sfile *f, const char *key, json_t *v) {
  struct extra *ne = realloc(f->extras, (f->nextras + 1) * sizeof *ne);
  if (!ne)
    return -1;
  f->extras = ne;
  json_t *k = json_string(key);
  char *kser = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
  char *vser = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(k);
  if (!kser || !vser) {
    free(kser);
    free(vser);
    return -1;
  }
  f->extras[f->nextras++] = (struct extra){kser, vser};
  return 0;
}

static int load_file(struct store *s, struct sfile *f, char *err, size_t errlen) {
  struct stat st;
  if (stat(f->path, &st) != 0) {
    if (errno == ENOENT)
      return 0;
    store_fmt(err, errlen, "%s: %s", f->path, strerror(errno));
    return -1;
  }
  /* Streams the file: jansson's parser (~2 s per 100 MB here) is the cost either way, and
   * reading the whole file first would double the memory at start. */
  json_error_t je;
  json_t *root = json_load_file(f->path, 0, &je);
  if (!root) {
    store_fmt(err, errlen, "%s: byte %d: %s", f->path, je.position, je.text);
    return -1;
  }
  int rc = -1;
  if (!json_is_object(root)) {
    store_fmt(err, errlen, "%s: byte 0: not a JSON object", f->path);
    goto out;
  }
  json_t *ver = json_object_get(root, "version");
  if (ver && (!json_is_integer(ver) || json_integer_value(ver) != 1)) {
    store_fmt(err, errlen, "%s: unsupported \"version\"", f->path);
    goto out;
  }
  json_t *seq = json_object_get(root, "seq");
  if (seq && (!json_is_integer(seq) || json_integer_value(seq) < 0)) {
    store_fmt(err, errlen, "%s: \"seq\" is not a non-negative integer", f->path);
    goto out;
  }
  f->seq = seq ? (uint64_t)json_integer_value(seq) : 0;
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    if (!strcmp(key, "version") || !strcmp(key, "seq"))
      continue;
    int c = store_coll_by_key(f->kind, key);
    if (c < 0) {
      if (add_extra(f, key, v) != 0) {
        store_fmt(err, errlen, "%s: out of memory", f->path);
        goto out;
      }
      continue;
    }
    struct coll *co = NULL;
    for (int i = 0; i < f->ncolls; i++)
      if (f->colls[i]->c == (enum store_coll)c)
        co = f->colls[i];
    if (load_records(s, f, co, v, key, err, errlen) != 0)
      goto out;
  }
  f->dirty = 0;
  if (f->seq > s->last_seq)
    s->last_seq = f->seq;
  rc = 0;
out:
  json_decref(root);
  return rc;
}

static int load_scopes(struct store *s, char *err, size_t errlen) {
  char path[4200];
  store_fmt(path, sizeof path, "%s/instances", s->dir);
  DIR *d = opendir(path);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    store_fmt(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d))) {
    /* Anything else in instances/ is not ours (and could not be named safely). */
    if (!store_valid_id(e->d_name))
      continue;
    char sub[4400];
    struct stat st;
    store_fmt(sub, sizeof sub, "%s/%s", path, e->d_name);
    if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    struct scope *sc = store_scope_get(s, e->d_name, 1);
    if (!sc) {
      store_fmt(err, errlen, "%s: out of memory", sub);
      rc = -1;
      break;
    }
    for (int k = 0; k < F_SCOPED_COUNT && rc == 0; k++)
      rc = load_file(s, sc->files[k], err, errlen);
  }
  closedir(d);
  return rc;
}

/* ---- journal replay ---- */

static int replay_op(struct store *s, uint64_t seq, json_t *op, const char *why_path,
                     size_t off, char *err, size_t errlen) {
  const char *cname = json_string_value(json_object_get(op, "c"));
  json_t *js = json_object_get(op, "s");
  const char *id = json_string_value(json_object_get(op, "id"));
  json_t *v = json_object_get(op, "v");
  int del = json_is_true(json_object_get(op, "del"));
  int c = cname ? store_coll_by_name(cname) : -1;
  const char *scope = json_string_value(js);
  const char *bad = NULL;
  if (c < 0)
    bad = "unknown collection";
  else if (store_coll_scoped(c) ? !store_valid_id(scope) : (js && !json_is_null(js)))
    bad = "bad scope";
  else if (!store_valid_id(id))
    bad = "bad id";
  else if (del ? v != NULL : !json_is_object(v))
    bad = "bad op";
  if (bad) {
    store_fmt(err, errlen, "%s: byte %zu: %s", why_path, off, bad);
    return -1;
  }
  struct coll *co = store_coll_get(s, c, scope, 1);
  if (!co) {
    store_fmt(err, errlen, "%s: out of memory", why_path);
    return -1;
  }
  /* The file already holds this transaction when it was checkpointed at or after it. */
  if (seq <= co->file->seq)
    return 0;
  struct rec *r = NULL;
  if (!del && !(r = store_rec_new(id, json_incref(v)))) {
    store_fmt(err, errlen, "%s: out of memory", why_path);
    return -1;
  }
  if (store_apply(s, co, id, r) != 0) {
    store_fmt(err, errlen, "%s: out of memory", why_path);
    return -1;
  }
  return 0;
}

static int read_all(const char *path, char **out, size_t *len, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    store_fmt(err, errlen, "%s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  size_t size = (size_t)st.st_size, got = 0;
  char *buf = malloc(size + 1);
  if (!buf) {
    close(fd);
    store_fmt(err, errlen, "%s: out of memory", path);
    return -1;
  }
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  *out = buf;
  *len = got;
  return 0;
}

/* Replays one segment. last: the newest segment, whose torn tail may be cut off. *kept
 * receives the segment's length after that, *seg_last its last seq. */
static int replay_segment(struct store *s, const char *path, int last, uint64_t *prev_seq,
                          uint64_t *kept, uint64_t *seg_last, char *err, size_t errlen) {
  char *buf;
  size_t size;
  if (read_all(path, &buf, &size, err, errlen) != 0)
    return -1;
  size_t end = size;
  /* A crash after the size grew but before the data reached the disk leaves zeros. */
  if (last)
    while (end > 0 && buf[end - 1] == '\0')
      end--;
  size_t pos = 0;
  int rc = 0;
  *seg_last = 0;
  while (pos < end) {
    char *nl = memchr(buf + pos, '\n', end - pos);
    size_t llen = nl ? (size_t)(nl - (buf + pos)) : end - pos;
    int is_last_line = !nl || (size_t)(nl - buf) + 1 == end;
    json_error_t je;
    json_t *line = nl ? json_loadb(buf + pos, llen, 0, &je) : NULL;
    if (!line) {
      if (last && is_last_line)
        break; /* torn tail: cut below */
      if (!nl)
        store_fmt(err, errlen, "%s: byte %zu: incomplete line", path, pos);
      else
        store_fmt(err, errlen, "%s: byte %zu: %s", path, pos + (size_t)je.position, je.text);
      rc = -1;
      break;
    }
    json_t *jseq = json_object_get(line, "seq");
    json_t *ops = json_object_get(line, "ops");
    json_int_t seq = json_integer_value(jseq);
    if (!json_is_integer(jseq) || seq <= 0 || !json_is_array(ops)) {
      store_fmt(err, errlen, "%s: byte %zu: not a journal entry", path, pos);
      rc = -1;
    } else if ((uint64_t)seq <= *prev_seq) {
      store_fmt(err, errlen, "%s: byte %zu: seq %" PRId64 " after %" PRIu64, path, pos,
               (int64_t)seq, *prev_seq);
      rc = -1;
    } else {
      size_t i;
      json_t *op;
      json_array_foreach(ops, i, op) {
        if (!json_is_object(op) ||
            replay_op(s, (uint64_t)seq, op, path, pos, err, errlen) != 0) {
          if (!json_is_object(op))
            store_fmt(err, errlen, "%s: byte %zu: bad op", path, pos);
          rc = -1;
          break;
        }
      }
      *prev_seq = (uint64_t)seq;
      *seg_last = (uint64_t)seq;
    }
    json_decref(line);
    if (rc != 0)
      break;
    pos += llen + 1;
  }
  free(buf);
  if (rc == 0 && pos < size) {
    /* Cut the torn tail so that the next append starts on a line of its own. */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)pos) != 0 || store_io_fsync(fd) != 0) {
      store_fmt(err, errlen, "%s: truncating the torn tail: %s", path, strerror(errno));
      rc = -1;
    }
    if (fd >= 0)
      close(fd);
  }
  *kept = pos;
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Lists journal.<N>.jsonl. */
static int list_segments(struct store *s, uint64_t **out, size_t *n, char *err, size_t errlen) {
  DIR *d = opendir(s->dir);
  if (!d) {
    store_fmt(err, errlen, "%s: %s", s->dir, strerror(errno));
    return -1;
  }
  uint64_t *v = NULL;
  size_t cnt = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *nm = e->d_name;
    if (strncmp(nm, "journal.", 8) != 0)
      continue;
    const char *p = nm + 8, *q = p;
    while (*q >= '0' && *q <= '9')
      q++;
    if (q == p || strcmp(q, ".jsonl") != 0)
      continue;
    if (cnt == cap) {
      cap = cap ? cap * 2 : 8;
      uint64_t *nv = realloc(v, cap * sizeof *nv);
      if (!nv) {
        free(v);
        closedir(d);
        store_fmt(err, errlen, "%s: out of memory", s->dir);
        return -1;
      }
      v = nv;
    }
    v[cnt++] = strtoull(p, NULL, 10);
  }
  closedir(d);
  if (cnt)
    qsort(v, cnt, sizeof *v, cmp_u64);
  *out = v;
  *n = cnt;
  return 0;
}

static int replay_journal(struct store *s, char *err, size_t errlen) {
  uint64_t *segs;
  size_t nsegs;
  if (list_segments(s, &segs, &nsegs, err, errlen) != 0)
    return -1;
  struct stat st;
  int have_active = stat(s->journal_path, &st) == 0;
  uint64_t prev = 0, kept, seg_last;
  int rc = 0;
  for (size_t i = 0; i < nsegs && rc == 0; i++) {
    char path[4200];
    store_fmt(path, sizeof path, "%s/journal.%020" PRIu64 ".jsonl", s->dir, segs[i]);
    int last = !have_active && i + 1 == nsegs;
    rc = replay_segment(s, path, last, &prev, &kept, &seg_last, err, errlen);
    if (rc == 0 && store_seg_add(s, segs[i], kept) != 0) {
      store_fmt(err, errlen, "%s: out of memory", path);
      rc = -1;
    }
  }
  free(segs);
  if (rc == 0 && have_active) {
    rc = replay_segment(s, s->journal_path, 1, &prev, &kept, &seg_last, err, errlen);
    s->j.seg_bytes = kept;
    s->j.seg_last = seg_last;
  }
  if (prev > s->last_seq)
    s->last_seq = prev;
  return rc;
}

int store_load(struct store *s, char *err, size_t errlen) {
  if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
    store_fmt(err, errlen, "%s: %s", s->dir, strerror(errno));
    return -1;
  }
  /* Two stores (two daemons, or a daemon and a tool) on one directory would overwrite each
   * other's checkpoints and interleave journal lines. The lock is on the directory itself
   * (no file to leave behind) and dies with the process. */
  s->lock_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    store_fmt(err, errlen, "%s: %s", s->dir,
              errno == EWOULDBLOCK ? "the data directory is in use by another store"
                                   : strerror(errno));
    return -1;
  }
  for (int k = 0; k < F_UNSCOPED_COUNT; k++)
    if (load_file(s, s->ufiles[k], err, errlen) != 0)
      return -1;
  if (load_scopes(s, err, errlen) != 0)
    return -1;
  if (replay_journal(s, err, errlen) != 0)
    return -1;
  s->durable_seq = s->last_seq;
  struct stat st;
  int existed = stat(s->journal_path, &st) == 0;
  s->j.fd = open(s->journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (s->j.fd < 0) {
    store_fmt(err, errlen, "%s: %s", s->journal_path, strerror(errno));
    return -1;
  }
  if (!existed && store_io_fsync_dir(s->dir) != 0) {
    store_fmt(err, errlen, "%s: fsync: %s", s->dir, strerror(errno));
    return -1;
  }
  return 0;
}
