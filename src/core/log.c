/* Logging: one JSON object per line in <LOG_DIR>/astra.log (for tools and the admin panel's
 * "recent logs") and one readable line per entry on stderr (for whoever runs the daemon).
 * Every message and field value goes through log_redact() first, so a secret registered
 * here, an Authorization credential or a token=/password= pair never reaches either sink.
 * Callers: the loop thread and the store's writer thread, so shared state sits behind one
 * mutex; each line is written with a single write() per sink so lines never interleave. */
#include "core/log.h"

#include "core/crypto.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define LOG_FILE_NAME "astra.log"
/* A message longer than this is cut (after redaction, so a cut never exposes half a
 * secret): one runaway line must not fill the disk or the admin panel. */
#define LOG_MSG_MAX 16384
#define SECRET_MIN 6

struct secret {
  char *value;
  size_t len;
  int refs; /* the same token may be registered by several owners */
};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static char *log_dir;
static atomic_int log_min = LOG_INFO;
static atomic_int log_stderr_on = 1;
static struct secret *secrets;
static size_t nsecrets, capsecrets;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

int log_level_parse(const char *s) {
  if (!s)
    return -1;
  for (int i = 0; i < 4; i++)
    if (!strcasecmp(s, level_names[i]))
      return i;
  return -1;
}

const char *log_level_name(enum log_level l) {
  return (unsigned)l < 4 ? level_names[l] : "info";
}

/* ---- growable text buffer ---- */

struct buf {
  char *p;
  size_t len, cap;
  int oom;
};

static void buf_reserve(struct buf *b, size_t extra) {
  if (b->oom)
    return;
  if (b->len + extra + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return;
  }
  b->p = p;
  b->cap = cap;
}

static void buf_add(struct buf *b, const char *s, size_t n) {
  buf_reserve(b, n);
  if (b->oom)
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_addc(struct buf *b, char c) { buf_add(b, &c, 1); }

/* ---- secrets registry ---- */

void log_add_secret(const char *value) {
  if (!value)
    return;
  size_t len = strlen(value);
  if (len < SECRET_MIN)
    return;
  pthread_mutex_lock(&log_mu);
  for (size_t i = 0; i < nsecrets; i++) {
    if (secrets[i].len == len && !memcmp(secrets[i].value, value, len)) {
      secrets[i].refs++;
      goto out;
    }
  }
  if (nsecrets == capsecrets) {
    size_t cap = capsecrets ? capsecrets * 2 : 16;
    struct secret *s = realloc(secrets, cap * sizeof *s);
    if (!s)
      goto out; /* cannot happen in practice; the alternative would be aborting */
    secrets = s;
    capsecrets = cap;
  }
  char *copy = strdup(value);
  if (!copy)
    goto out;
  secrets[nsecrets++] = (struct secret){copy, len, 1};
out:
  pthread_mutex_unlock(&log_mu);
}

void log_remove_secret(const char *value) {
  if (!value)
    return;
  size_t len = strlen(value);
  pthread_mutex_lock(&log_mu);
  for (size_t i = 0; i < nsecrets; i++) {
    if (secrets[i].len == len && !memcmp(secrets[i].value, value, len)) {
      if (--secrets[i].refs == 0) {
        /* wipe before free: the heap is not a place to leave tokens lying around */
        crypto_wipe(secrets[i].value, len);
        free(secrets[i].value);
        secrets[i] = secrets[--nsecrets];
      }
      break;
    }
  }
  pthread_mutex_unlock(&log_mu);
}

/* ---- redaction ---- */

/* Keys whose values are credentials in JSON bodies and in query strings / form bodies. */
static const char *const secret_keys[] = {"token",         "password",      "access_token",
                                          "refresh_token", "client_secret", "bot_token",
                                          NULL};

static int is_word(unsigned char c) { return isalnum(c) || c == '_'; }

/* Where a credential after "Bot "/"Bearer "/"Basic " ends: whitespace, quotes and the
 * punctuation that typically surrounds a header value in a log line. */
static int is_cred_char(unsigned char c) {
  return c > 0x20 && c != 0x7f && !strchr("\"'`,;<>()[]{}", c);
}

/* Longest registered secret starting at s (0 when none). Caller holds log_mu. */
static size_t match_secret(const char *s, size_t left) {
  size_t best = 0;
  for (size_t i = 0; i < nsecrets; i++) {
    const struct secret *k = &secrets[i];
    if (k->len <= left && k->len > best && k->value[0] == s[0] &&
        !memcmp(k->value, s, k->len))
      best = k->len;
  }
  return best;
}

/* "Bot x", "Bearer x", "Basic x" at s: returns the length of the scheme plus spaces (so it
 * is kept) and sets *credlen to the length of the credential to hide; 0 when no match. */
static size_t match_auth_scheme(const char *start, const char *s, size_t *credlen) {
  static const char *const schemes[] = {"bot", "bearer", "basic"};
  if (s > start && is_word((unsigned char)s[-1]))
    return 0;
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(schemes[i]);
    if (strncasecmp(s, schemes[i], n) != 0 || (s[n] != ' ' && s[n] != '\t'))
      continue;
    size_t skip = n;
    while (s[skip] == ' ' || s[skip] == '\t')
      skip++;
    size_t c = 0;
    int plain_word = 1;
    while (s[skip + c] && is_cred_char((unsigned char)s[skip + c])) {
      if (!islower((unsigned char)s[skip + c]))
        plain_word = 0;
      c++;
    }
    if (c == 0)
      return 0;
    /* This is a Discord platform: "bot online", "bot for instance" are ordinary prose.
     * After "bot" only hide what looks like a credential (any digit, capital or symbol,
     * or a long run); after Bearer/Basic always hide. */
    if (i == 0 && plain_word && c < 20)
      return 0;
    *credlen = c;
    return skip;
  }
  return 0;
}

/* "key":"value" (also with \" quoting, as in JSON logged inside a JSON string) for the
 * keys above. Returns the offset where the value starts and sets *vallen; 0 when none. */
static size_t match_json_pair(const char *s, size_t *vallen) {
  size_t i = 0;
  int esc = 0;
  if (s[0] == '\\' && s[1] == '"') {
    esc = 1;
    i = 2;
  } else if (s[0] == '"') {
    i = 1;
  } else {
    return 0;
  }
  for (int k = 0; secret_keys[k]; k++) {
    size_t n = strlen(secret_keys[k]);
    if (strncasecmp(s + i, secret_keys[k], n) != 0)
      continue;
    size_t j = i + n;
    if (esc ? (s[j] != '\\' || s[j + 1] != '"') : s[j] != '"')
      continue;
    j += esc ? 2 : 1;
    while (s[j] == ' ' || s[j] == '\t')
      j++;
    if (s[j] != ':')
      continue;
    j++;
    while (s[j] == ' ' || s[j] == '\t')
      j++;
    if (esc ? (s[j] != '\\' || s[j + 1] != '"') : s[j] != '"')
      continue;
    j += esc ? 2 : 1;
    size_t v = j;
    while (s[v]) {
      if (esc && s[v] == '\\' && s[v + 1] == '"')
        break;
      if (!esc && s[v] == '"')
        break;
      if (!esc && s[v] == '\\' && s[v + 1])
        v++; /* an escaped character inside the value */
      v++;
    }
    /* An unterminated value still gets hidden, up to the end of the text. */
    *vallen = v - j;
    return j;
  }
  return 0;
}

/* token=value / password=value ... in a query string or form body. */
static size_t match_query_pair(const char *start, const char *s, size_t *vallen) {
  if (s > start && (is_word((unsigned char)s[-1]) || s[-1] == '.' || s[-1] == '-'))
    return 0;
  for (int k = 0; secret_keys[k]; k++) {
    size_t n = strlen(secret_keys[k]);
    if (strncasecmp(s, secret_keys[k], n) != 0 || s[n] != '=')
      continue;
    size_t v = n + 1;
    while (s[v] && s[v] != '&' && s[v] != '#' && !isspace((unsigned char)s[v]) &&
           !strchr("\"'`;,<>", s[v]))
      v++;
    if (v == n + 1)
      return 0;
    *vallen = v - (n + 1);
    return n + 1;
  }
  return 0;
}

/* The redaction proper, into b. Caller holds log_mu (for the registry). */
static void redact_locked(const char *s, struct buf *b) {
  const char *start = s;
  size_t left = strlen(s);
  while (*s) {
    size_t n, m = 0;
    if ((n = match_secret(s, left)) > 0) {
      buf_adds(b, "***");
    } else if ((n = match_auth_scheme(start, s, &m)) > 0 ||
               (n = match_json_pair(s, &m)) > 0 || (n = match_query_pair(start, s, &m)) > 0) {
      buf_add(b, s, n); /* keep the keyword so the line still says what was there */
      buf_adds(b, "***");
      n += m;
    } else {
      buf_addc(b, *s);
      n = 1;
    }
    s += n;
    left -= n;
  }
  /* an empty input still yields a terminated (empty) string */
  buf_reserve(b, 0);
  if (!b->oom && b->len == 0)
    b->p[0] = '\0';
}

void log_redact(const char *s, char *out, size_t outlen) {
  if (!out || outlen == 0)
    return;
  out[0] = '\0';
  if (!s)
    return;
  struct buf b = {0};
  pthread_mutex_lock(&log_mu);
  redact_locked(s, &b);
  pthread_mutex_unlock(&log_mu);
  if (!b.oom && b.p) {
    size_t n = b.len < outlen - 1 ? b.len : outlen - 1;
    memcpy(out, b.p, n);
    out[n] = '\0';
  }
  free(b.p);
}

/* ---- output ---- */

/* jansson rejects invalid UTF-8, and a log line must never be lost to one bad byte from a
 * peer: replace each byte of an invalid sequence with '?'. */
static void utf8_sanitize(char *s) {
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    size_t n;
    uint32_t cp;
    if (*p < 0x80) {
      p++;
      continue;
    } else if ((*p & 0xe0) == 0xc0) {
      n = 2;
      cp = *p & 0x1f;
    } else if ((*p & 0xf0) == 0xe0) {
      n = 3;
      cp = *p & 0x0f;
    } else if ((*p & 0xf8) == 0xf0) {
      n = 4;
      cp = *p & 0x07;
    } else {
      *p++ = '?';
      continue;
    }
    size_t k = 1;
    for (; k < n; k++) {
      if ((p[k] & 0xc0) != 0x80)
        break;
      cp = cp << 6 | (p[k] & 0x3f);
    }
    int bad = k < n || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
              (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff);
    if (bad) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
}

/* Redacts, cuts to LOG_MSG_MAX and sanitizes one value; malloc'd. Caller holds log_mu. */
static char *clean_value(const char *s) {
  struct buf b = {0};
  redact_locked(s ? s : "", &b);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  if (b.len > LOG_MSG_MAX) {
    b.p[LOG_MSG_MAX] = '\0';
    b.len = LOG_MSG_MAX;
  }
  utf8_sanitize(b.p);
  return b.p;
}

/* The stderr line is for eyes: control characters are escaped so that one entry is one
 * line and a peer cannot forge extra lines. */
static void add_escaped(struct buf *b, const char *s, int quote) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char tmp[8];
    if (*p == '\n')
      buf_adds(b, "\\n");
    else if (*p == '\r')
      buf_adds(b, "\\r");
    else if (*p == '\t')
      buf_adds(b, "\\t");
    else if (*p < 0x20 || *p == 0x7f) {
      snprintf(tmp, sizeof tmp, "\\x%02x", *p);
      buf_adds(b, tmp);
    } else if (quote && (*p == '"' || *p == '\\')) {
      buf_addc(b, '\\');
      buf_addc(b, (char)*p);
    } else
      buf_addc(b, (char)*p);
  }
}

static int needs_quotes(const char *s) {
  if (!*s)
    return 1;
  for (; *s; s++)
    if (isspace((unsigned char)*s) || *s == '"' || *s == '=' || (unsigned char)*s < 0x20)
      return 1;
  return 0;
}

static void write_all(int fd, const char *p, size_t n) {
  /* One write() in the normal case; the loop only matters on a short write (disk full,
   * signal), where finishing the line beats leaving half of it. */
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    p += w;
    n -= (size_t)w;
  }
}

static void emit(enum log_level l, const char *module, const char *reqid, const char *const *kv,
                 const char *msg) {
  struct timespec ts;
  struct tm tm;
  char iso[96], human[96]; /* sized for any int, to keep -Wformat-truncation quiet */
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int ms = (int)(ts.tv_nsec / 1000000);
  snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  snprintf(human, sizeof human, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  if (!module || !*module)
    module = "-";

  pthread_mutex_lock(&log_mu);
  int to_file = log_fd >= 0, to_stderr = atomic_load(&log_stderr_on);
  if (!to_file && !to_stderr) {
    pthread_mutex_unlock(&log_mu);
    return;
  }
  char *cmsg = clean_value(msg);
  char *cmod = clean_value(module);
  char *creq = reqid && *reqid ? clean_value(reqid) : NULL;
  size_t nkv = 0;
  if (kv)
    while (kv[nkv] && kv[nkv + 1])
      nkv += 2;
  char **cvals = nkv ? calloc(nkv / 2, sizeof *cvals) : NULL;
  char **ckeys = nkv ? calloc(nkv / 2, sizeof *ckeys) : NULL;
  for (size_t i = 0; cvals && ckeys && i < nkv / 2; i++) {
    ckeys[i] = clean_value(kv[2 * i]);
    cvals[i] = clean_value(kv[2 * i + 1]);
  }
  if (!cmsg || !cmod || (nkv && (!cvals || !ckeys)))
    goto out;

  if (to_file) {
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(iso));
    json_object_set_new(o, "level", json_string(level_names[l]));
    json_object_set_new(o, "module", json_string(cmod));
    if (creq)
      json_object_set_new(o, "req", json_string(creq));
    json_object_set_new(o, "msg", json_string(cmsg));
    for (size_t i = 0; i < nkv / 2; i++) {
      if (!ckeys[i] || !cvals[i] || !*ckeys[i])
        continue;
      /* A field must not overwrite ts/level/msg...: a reader relies on those. */
      if (json_object_get(o, ckeys[i])) {
        struct buf k = {0};
        buf_adds(&k, "field_");
        buf_adds(&k, ckeys[i]);
        if (!k.oom)
          json_object_set_new(o, k.p, json_string(cvals[i]));
        free(k.p);
      } else {
        json_object_set_new(o, ckeys[i], json_string(cvals[i]));
      }
    }
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (line) {
      size_t n = strlen(line);
      char *nl = realloc(line, n + 2);
      if (nl) {
        line = nl;
        line[n] = '\n';
        line[n + 1] = '\0';
        write_all(log_fd, line, n + 1);
      }
      free(line);
    }
  }

  if (to_stderr) {
    struct buf b = {0};
    buf_adds(&b, human);
    buf_addc(&b, ' ');
    buf_adds(&b, level_tags[l]);
    buf_addc(&b, ' ');
    add_escaped(&b, cmod, 0);
    if (creq) {
      buf_adds(&b, " [");
      add_escaped(&b, creq, 0);
      buf_addc(&b, ']');
    }
    buf_addc(&b, ' ');
    add_escaped(&b, cmsg, 0);
    for (size_t i = 0; i < nkv / 2; i++) {
      if (!ckeys[i] || !cvals[i])
        continue;
      buf_addc(&b, ' ');
      add_escaped(&b, ckeys[i], 0);
      buf_addc(&b, '=');
      if (needs_quotes(cvals[i])) {
        buf_addc(&b, '"');
        add_escaped(&b, cvals[i], 1);
        buf_addc(&b, '"');
      } else {
        add_escaped(&b, cvals[i], 0);
      }
    }
    buf_addc(&b, '\n');
    if (!b.oom)
      write_all(STDERR_FILENO, b.p, b.len);
    free(b.p);
  }

out:
  pthread_mutex_unlock(&log_mu);
  free(cmsg);
  free(cmod);
  free(creq);
  for (size_t i = 0; i < nkv / 2; i++) {
    if (ckeys)
      free(ckeys[i]);
    if (cvals)
      free(cvals[i]);
  }
  free(ckeys);
  free(cvals);
}

static void vlog(enum log_level l, const char *module, const char *reqid, const char *const *kv,
                 const char *fmt, va_list ap) {
  if ((unsigned)l > LOG_ERROR)
    l = LOG_ERROR;
  if ((int)l < atomic_load(&log_min))
    return;
  char small[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt ? fmt : "", ap2);
  va_end(ap2);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    emit(l, module, reqid, kv, small);
    return;
  }
  /* Format in full and cut after redaction (see LOG_MSG_MAX). */
  char *big = malloc((size_t)n + 1);
  if (!big)
    return;
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  emit(l, module, reqid, kv, big);
  free(big);
}

int log_enabled(enum log_level l) { return (int)l >= atomic_load(&log_min); }

void log_vmsg(enum log_level l, const char *module, const char *reqid, const char *fmt,
              va_list ap) {
  vlog(l, module, reqid, NULL, fmt, ap);
}

void log_msg(enum log_level l, const char *module, const char *reqid, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(l, module, reqid, NULL, fmt, ap);
  va_end(ap);
}

void log_fields(enum log_level l, const char *module, const char *reqid, const char *const *kv,
                const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(l, module, reqid, kv, fmt, ap);
  va_end(ap);
}

/* ---- the file ---- */

/* mkdir -p; existing directories keep their mode. */
static int mkdir_p(const char *path, mode_t mode) {
  char *p = strdup(path);
  if (!p)
    return -1;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) != 0 && errno != EEXIST) {
      free(p);
      return -1;
    }
    *s = '/';
  }
  int rc = mkdir(p, mode) != 0 && errno != EEXIST ? -1 : 0;
  free(p);
  return rc;
}

/* Caller holds log_mu. */
static int open_file_locked(void) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s", log_dir, LOG_FILE_NAME);
  if (n < 0 || (size_t)n >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return -1;
  log_fd = fd;
  return 0;
}

int log_open(const char *dir, enum log_level min) {
  log_set_level(min);
  pthread_mutex_lock(&log_mu);
  if (log_fd >= 0)
    close(log_fd);
  log_fd = -1;
  free(log_dir);
  log_dir = NULL;
  int rc = 0;
  if (dir) {
    /* The log may quote request paths and error bodies: not for every local user. */
    if (mkdir_p(dir, 0750) != 0 || !(log_dir = strdup(dir)) || open_file_locked() != 0) {
      int e = errno;
      free(log_dir);
      log_dir = NULL;
      errno = e;
      rc = -1;
    }
  }
  pthread_mutex_unlock(&log_mu);
  return rc;
}

void log_reopen(void) {
  char failed[4096] = "";
  pthread_mutex_lock(&log_mu);
  if (log_dir) {
    if (log_fd >= 0)
      close(log_fd);
    log_fd = -1;
    if (open_file_locked() != 0)
      snprintf(failed, sizeof failed, "%s/%s: %s", log_dir, LOG_FILE_NAME, strerror(errno));
  }
  pthread_mutex_unlock(&log_mu);
  /* Logged after unlocking (log_msg takes the lock); it reaches stderr at least. */
  if (failed[0])
    log_error("log", "cannot reopen %s", failed);
}

void log_close(void) {
  pthread_mutex_lock(&log_mu);
  if (log_fd >= 0)
    close(log_fd);
  log_fd = -1;
  free(log_dir);
  log_dir = NULL;
  pthread_mutex_unlock(&log_mu);
}

void log_set_level(enum log_level min) {
  if ((unsigned)min > LOG_ERROR)
    min = LOG_ERROR;
  atomic_store(&log_min, (int)min);
}

void log_set_stderr(int on) { atomic_store(&log_stderr_on, on ? 1 : 0); }
