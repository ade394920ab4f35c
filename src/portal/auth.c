/* Portal accounts: the authorize step (signed session cookie -> session record -> user, CSRF),
 * session records and cookies, the signed OAuth flow cookie, password work on the thread
 * pool, and the in-memory rate limiter. See include/portal/auth.h.
 *
 * Nothing here owns a uv handle: the periodic cleanup (rate-limit entries, cached request
 * identities, expired session records) runs at most once a minute from the next request that
 * touches this module. Entries only appear on requests, so sweeping on requests bounds them
 * (with a hard cap besides), and shutdown has nothing of ours to close. */
#include "portal/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/map.h"
#include "store/store.h"

#define SWEEP_EVERY_MS (60 * 1000)
#define PURGE_EVERY_MS (60 * 60 * 1000)
/* A cached request identity unused this long is dropped: no request lives nearly as long
 * (net calls time out in seconds), so no handler can still hold it. */
#define IDENTITY_TTL_MS (60 * 60 * 1000)
/* The hourly purge deletes expired session records, and revoked ones once they are a day
 * old (kept that long for an "active sessions" view and for support); at most this many
 * per purge transaction. */
#define REVOKED_KEEP_MS (24ll * 60 * 60 * 1000)
#define PURGE_MAX 1000
#define OAUTH_FLOW_MS (10 * 60 * 1000)

static int inited;

int64_t portal_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int https_public(void) {
  const char *u = astra.cfg ? astra.cfg->public_url : NULL;
  return u && !strncmp(u, "https://", 8);
}

/* ---- base64url and signatures ---- */

/* base64url without padding (RFC 4648 §5), as cookies and PKCE want it; malloc'd. */
static char *b64url(const void *in, size_t n) {
  char *s = crypto_b64_encode(in, n);
  if (!s)
    return NULL;
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '=')
      break;
    *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
  }
  *w = '\0';
  return s;
}

/* The inverse; malloc'd bytes (NUL-terminated) with their length in *n, or NULL. */
static void *b64url_decode(const char *in, size_t *n) {
  size_t len = strlen(in);
  if (len % 4 == 1 || len > 4096)
    return NULL;
  char *s = malloc(len + 4);
  if (!s)
    return NULL;
  size_t i = 0;
  for (; i < len; i++) {
    char c = in[i];
    if (c == '+' || c == '/' || c == '=') { /* only the url-safe alphabet, unpadded */
      free(s);
      return NULL;
    }
    s[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (i % 4)
    s[i++] = '=';
  s[i] = '\0';
  void *out = crypto_b64_decode(s, n);
  free(s);
  return out;
}

/* base64url(HMAC-SHA256(PORTAL_SESSION_SECRET, purpose ":" data)) into out (44 bytes). The
 * purpose keeps a signature made for one cookie from being replayed as another. */
static int sign(const char *purpose, const char *data, char out[44]) {
  const char *secret = astra.cfg ? astra.cfg->portal_session_secret : NULL;
  if (!secret || !*secret)
    return -1;
  size_t pl = strlen(purpose), dl = strlen(data);
  char *msg = malloc(pl + dl + 2);
  if (!msg)
    return -1;
  memcpy(msg, purpose, pl);
  msg[pl] = ':';
  memcpy(msg + pl + 1, data, dl + 1);
  uint8_t mac[32];
  crypto_hmac_sha256(secret, strlen(secret), msg, pl + 1 + dl, mac);
  free(msg);
  char *s = b64url(mac, sizeof mac);
  if (!s)
    return -1;
  snprintf(out, 44, "%s", s);
  free(s);
  return 0;
}

static int sig_ok(const char *purpose, const char *data, const char *sig) {
  char want[44];
  if (sign(purpose, data, want) != 0)
    return 0;
  return crypto_equal(want, strlen(want), sig, strlen(sig));
}

/* n random bytes as base64url into out (outlen >= 4n/3 + 2). */
static int random_token(size_t n, char *out, size_t outlen) {
  uint8_t buf[64];
  if (n > sizeof buf || crypto_random(buf, n) != 0)
    return -1;
  char *s = b64url(buf, n);
  crypto_wipe(buf, sizeof buf);
  if (!s)
    return -1;
  int rc = strlen(s) < outlen ? 0 : -1;
  if (rc == 0)
    memcpy(out, s, strlen(s) + 1);
  free(s);
  return rc;
}

/* ---- helpers ---- */

int portal_email_normalize(const char *in, char *out, size_t outlen) {
  if (!in)
    return -1;
  while (*in == ' ' || *in == '\t')
    in++;
  size_t len = strlen(in);
  while (len && (in[len - 1] == ' ' || in[len - 1] == '\t'))
    len--;
  if (len < 3 || len > PORTAL_EMAIL_MAX || len >= outlen)
    return -1;
  static const char local_extra[] = "!#$%&'*+/=?^_`{|}~.-";
  size_t at = len;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '@') {
      if (at != len)
        return -1; /* two '@' */
      at = i;
      out[i] = '@';
      continue;
    }
    /* ASCII only: look-alike Unicode addresses are a phishing tool, and mail providers in
     * practice hand out ASCII addresses. */
    if (c <= ' ' || c >= 0x7f)
      return -1;
    out[i] = (char)tolower(c);
    if (at == len ? !(isalnum(c) || strchr(local_extra, c))
                  : !(isalnum(c) || c == '-' || c == '.'))
      return -1;
  }
  out[len] = '\0';
  if (at == len || at == 0 || at > 64 || at + 1 >= len)
    return -1;
  const char *local = out, *domain = out + at + 1;
  if (local[0] == '.' || local[at - 1] == '.')
    return -1;
  for (size_t i = 0; i + 1 < at; i++)
    if (local[i] == '.' && local[i + 1] == '.')
      return -1;
  /* domain: dot-separated labels of 1-63 letters, digits or hyphens, not starting or ending
   * with a hyphen, at least two labels, the last with a letter */
  int labels = 0, last_has_alpha = 0;
  for (const char *p = domain; *p;) {
    const char *e = strchr(p, '.');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == 0 || l > 63 || p[0] == '-' || p[l - 1] == '-')
      return -1;
    labels++;
    last_has_alpha = 0;
    for (size_t k = 0; k < l; k++)
      if (isalpha((unsigned char)p[k]))
        last_has_alpha = 1;
    if (!e)
      break;
    p = e + 1;
    if (!*p)
      return -1; /* trailing dot */
  }
  if (labels < 2 || !last_has_alpha)
    return -1;
  return 0;
}

const json_t *portal_user_get(const char *id) {
  if (!id || !astra.store)
    return NULL;
  const json_t *rec = store_get(astra.store, STORE_USERS, NULL, id);
  if (!rec || json_object_get(rec, "deletedAt"))
    return NULL;
  return rec;
}

json_t *portal_user_json(const char *id, const json_t *rec) {
  const char *locale = json_string_value(json_object_get(rec, "locale"));
  json_t *j = json_pack("{s:s, s:O?, s:O?, s:O?, s:s, s:b}", "id", id, "email",
                        json_object_get(rec, "email"), "name", json_object_get(rec, "name"),
                        "createdAt", json_object_get(rec, "createdAt"), "locale",
                        locale ? locale : "pt-BR", "hasPassword",
                        json_is_string(json_object_get(rec, "passwordHash")));
  const json_t *d = json_object_get(rec, "discord");
  if (j && json_is_object(d))
    json_object_set_new(j, "discord",
                        json_pack("{s:O?, s:O?}", "id", json_object_get(d, "id"), "username",
                                  json_object_get(d, "username")));
  return j;
}

char *portal_urlencode(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = malloc(3 * n + 1), *w = out;
  if (!out)
    return NULL;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      *w++ = (char)c;
    } else {
      *w++ = '%';
      *w++ = hex[c >> 4];
      *w++ = hex[c & 15];
    }
  }
  *w = '\0';
  return out;
}

void portal_redirect(struct http_reply *rep, const char *location) {
  http_reply_header(rep, "Location", location);
  http_reply_data(rep, 302, NULL, "", 0);
}

void portal_redirect_error(struct http_reply *rep, enum err_id id) {
  char loc[32];
  snprintf(loc, sizeof loc, "/?erro=%d", err_info(id)->code);
  portal_redirect(rep, loc);
}

/* ---- suspended requests ---- */

static void pending_abort(struct http_request *req, void *arg) {
  (void)req;
  struct portal_pending *p = arg;
  p->req = NULL;
  if (p->on_abort)
    p->on_abort(p);
}

void portal_pending_start(struct portal_pending *p, struct http_request *req) {
  p->req = req;
  http_on_abort(req, pending_abort, p);
}

struct http_reply *portal_pending_reply(struct portal_pending *p) {
  return p->req ? http_reply_of(p->req) : NULL;
}

void portal_pending_finish(struct portal_pending *p) {
  struct http_request *req = p->req;
  p->req = NULL;
  if (req)
    http_resume(req);
}

/* ---- password work on the thread pool ---- */

/* Two at once leaves the default pool of four with room for the store's journal and
 * checkpoint writes, which must not wait behind a burst of logins. */
#define PW_PARALLEL 2
#define PW_QUEUE_MAX 64
/* Checked when the account is unknown: same parameters as real hashes, so the same cost. */
static const char dummy_hash[] =
    "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

struct pw_job {
  uv_work_t work;
  char *stored, *password, *new_password;
  int status;    /* out: 1 verified, 0 wrong, -1 failure */
  int malformed; /* out: the stored hash could not be read */
  char *hash;    /* out */
  portal_password_cb cb;
  void *arg;
  struct pw_job *next;
};

static struct {
  struct pw_job *head, *tail;
  unsigned waiting, running;
} pwq;

static void free_secret(char *s) {
  if (s) {
    crypto_wipe(s, strlen(s));
    free(s);
  }
}

static void pw_work(uv_work_t *w) {
  struct pw_job *j = w->data;
  j->status = 1;
  if (j->password) {
    int v = crypto_password_verify(j->password, j->stored ? j->stored : dummy_hash);
    if (v < 0)
      j->malformed = j->stored != NULL;
    if (!j->stored || v != 1)
      j->status = 0;
  }
  if (j->status == 1 && j->new_password) {
    j->hash = crypto_password_hash(j->new_password);
    if (!j->hash)
      j->status = -1;
  }
}

static void pw_pump(void);

static void pw_done(uv_work_t *w, int status) {
  struct pw_job *j = w->data;
  pwq.running--;
  if (status != 0) { /* cancelled: cannot happen for our jobs, but never report success */
    j->status = -1;
    free(j->hash);
    j->hash = NULL;
  }
  if (j->malformed)
    log_warn("auth", "a stored password hash could not be read; that account cannot log in "
                     "with a password until it is reset");
  free_secret(j->password);
  free_secret(j->new_password);
  free(j->stored);
  j->cb(j->status, j->hash, j->arg);
  free(j);
  pw_pump();
}

static int pw_submit(struct pw_job *j) {
  j->work.data = j;
  if (uv_queue_work(astra.loop, &j->work, pw_work, pw_done) != 0)
    return -1;
  pwq.running++;
  return 0;
}

/* Starts waiting jobs while there is room. Runs from pw_done, never inside a handler, so a
 * failed submission can call back at once without answering a request before it
 * suspended. */
static void pw_pump(void) {
  while (pwq.head && pwq.running < PW_PARALLEL) {
    struct pw_job *j = pwq.head;
    pwq.head = j->next;
    if (!pwq.head)
      pwq.tail = NULL;
    pwq.waiting--;
    if (pw_submit(j) != 0) {
      free_secret(j->password);
      free_secret(j->new_password);
      free(j->stored);
      j->cb(-1, NULL, j->arg);
      free(j);
    }
  }
}

int portal_password_work(const char *stored, const char *password, const char *new_password,
                         portal_password_cb cb, void *arg) {
  if (!cb || (!password && !new_password) || !astra.loop)
    return -1;
  if (pwq.running >= PW_PARALLEL && pwq.waiting >= PW_QUEUE_MAX)
    return -1;
  struct pw_job *j = calloc(1, sizeof *j);
  if (!j)
    return -1;
  j->cb = cb;
  j->arg = arg;
  int ok = 1;
  if (stored && !(j->stored = strdup(stored)))
    ok = 0;
  if (password && !(j->password = strdup(password)))
    ok = 0;
  if (new_password && !(j->new_password = strdup(new_password)))
    ok = 0;
  if (ok && pwq.running < PW_PARALLEL) {
    if (pw_submit(j) == 0)
      return 0;
    ok = 0;
  }
  if (!ok) {
    free_secret(j->password);
    free_secret(j->new_password);
    free(j->stored);
    free(j);
    return -1;
  }
  if (pwq.tail)
    pwq.tail->next = j;
  else
    pwq.head = j;
  pwq.tail = j;
  pwq.waiting++;
  return 0;
}

/* ---- rate limits ---- */

#define LIM_MAX_HITS 10
/* Per limiter. Far above any honest load; reached only under a spray of addresses or
 * emails, when failing closed for new keys is the safe answer. */
#define LIM_MAX_KEYS 50000

struct lim_def {
  const char *tag;
  uint64_t window_ms;
  unsigned limit;
};

static const struct lim_def lim_defs[PORTAL_LIMIT_COUNT] = {
    [PORTAL_LIMIT_LOGIN_IP] = {"login-ip", 60 * 1000, 10},
    [PORTAL_LIMIT_LOGIN_ACCOUNT] = {"login-account", 15 * 60 * 1000, 5},
    [PORTAL_LIMIT_SIGNUP_IP] = {"signup-ip", 60 * 60 * 1000, 5},
    [PORTAL_LIMIT_PASSWORD] = {"password-user", 15 * 60 * 1000, 5},
};

struct lim_entry {
  char key[33];
  unsigned n;
  uint64_t hits[LIM_MAX_HITS]; /* oldest first */
};

static struct map lim_maps[PORTAL_LIMIT_COUNT];
static uint8_t lim_secret[32];
static uint64_t lim_forced_sweep[PORTAL_LIMIT_COUNT];

static uint64_t mono_ms(void) { return astra.loop ? uv_now(astra.loop) : 0; }

/* The table key: a keyed hash, so that nobody can craft keys that pile up in one bucket of
 * the (unkeyed FNV) hash map, and no IP or email sits in memory in clear. */
static void lim_key(enum portal_limit l, const char *key, char out[33]) {
  size_t tl = strlen(lim_defs[l].tag), kl = strlen(key ? key : "");
  char *msg = malloc(tl + kl + 2);
  uint8_t mac[32];
  if (!msg) {
    snprintf(out, 33, "%s", "0");
    return;
  }
  memcpy(msg, lim_defs[l].tag, tl);
  msg[tl] = ':';
  memcpy(msg + tl + 1, key ? key : "", kl);
  crypto_hmac_sha256(lim_secret, sizeof lim_secret, msg, tl + 1 + kl, mac);
  free(msg);
  crypto_hex(mac, 16, out);
}

static void lim_prune(enum portal_limit l, struct lim_entry *e, uint64_t now) {
  unsigned drop = 0;
  while (drop < e->n && e->hits[drop] + lim_defs[l].window_ms <= now)
    drop++;
  if (drop) {
    memmove(e->hits, e->hits + drop, (e->n - drop) * sizeof e->hits[0]);
    e->n -= drop;
  }
}

static void lim_sweep(enum portal_limit l, uint64_t now) {
  struct map *m = &lim_maps[l];
  if (!m->len)
    return;
  struct lim_entry **dead = malloc(m->len * sizeof *dead);
  size_t nd = 0, it = 0;
  struct lim_entry *e;
  if (!dead)
    return;
  while ((e = map_next(m, &it, NULL))) {
    lim_prune(l, e, now);
    if (e->n == 0)
      dead[nd++] = e;
  }
  for (size_t i = 0; i < nd; i++) {
    map_del(m, dead[i]->key);
    free(dead[i]);
  }
  free(dead);
}

static unsigned secs_until(uint64_t at, uint64_t now) {
  uint64_t ms = at > now ? at - now : 0;
  unsigned s = (unsigned)((ms + 999) / 1000);
  return s ? s : 1;
}

static void maybe_sweep(void);

unsigned portal_limit_check(enum portal_limit l, const char *key) {
  if ((unsigned)l >= PORTAL_LIMIT_COUNT)
    return 0;
  maybe_sweep();
  uint64_t now = mono_ms();
  char k[33];
  lim_key(l, key, k);
  struct lim_entry *e = map_get(&lim_maps[l], k);
  if (!e) {
    if (lim_maps[l].len < LIM_MAX_KEYS)
      return 0;
    if (now - lim_forced_sweep[l] >= 1000) { /* at most one full sweep a second */
      lim_forced_sweep[l] = now;
      lim_sweep(l, now);
    }
    if (lim_maps[l].len < LIM_MAX_KEYS)
      return 0;
    log_warn("auth", "rate-limit table %s is full; refusing new keys", lim_defs[l].tag);
    return (unsigned)(lim_defs[l].window_ms / 1000);
  }
  lim_prune(l, e, now);
  if (e->n < lim_defs[l].limit)
    return 0;
  return secs_until(e->hits[e->n - lim_defs[l].limit] + lim_defs[l].window_ms, now);
}

void portal_limit_hit(enum portal_limit l, const char *key) {
  if ((unsigned)l >= PORTAL_LIMIT_COUNT)
    return;
  uint64_t now = mono_ms();
  char k[33];
  lim_key(l, key, k);
  struct lim_entry *e = map_get(&lim_maps[l], k);
  if (!e) {
    if (lim_maps[l].len >= LIM_MAX_KEYS || !(e = calloc(1, sizeof *e)))
      return;
    memcpy(e->key, k, sizeof e->key);
    int failed = 0;
    map_put(&lim_maps[l], e->key, e, &failed);
    if (failed) {
      free(e);
      return;
    }
  }
  lim_prune(l, e, now);
  if (e->n == LIM_MAX_HITS) { /* only the newest `limit` hits ever matter */
    memmove(e->hits, e->hits + 1, (LIM_MAX_HITS - 1) * sizeof e->hits[0]);
    e->n--;
  }
  e->hits[e->n++] = now;
}

unsigned portal_limit_take(enum portal_limit l, const char *key) {
  unsigned wait = portal_limit_check(l, key);
  if (!wait)
    portal_limit_hit(l, key);
  return wait;
}

void portal_limit_clear(enum portal_limit l, const char *key) {
  if ((unsigned)l >= PORTAL_LIMIT_COUNT)
    return;
  char k[33];
  lim_key(l, key, k);
  free(map_del(&lim_maps[l], k));
}

void portal_reply_limited(const struct http_request *req, struct http_reply *rep,
                          unsigned retry_after_s) {
  char v[16];
  snprintf(v, sizeof v, "%u", retry_after_s ? retry_after_s : 1);
  http_reply_header(rep, "Retry-After", v);
  http_reply_error(req, rep, ERR_RATE_LIMITED, NULL, NULL);
}

/* ---- request identities (req->auth) ----
 * One struct portal_user per session, shared by that session's requests and kept while it is
 * in use: the adapter has no per-request hook to free what the authorize step allocates,
 * and a suspended handler must still find it when it resumes. */

struct identity {
  struct portal_user pu;
  uint64_t used;
};
static struct map identities;

static void identity_sweep(uint64_t now) {
  if (!identities.len)
    return;
  struct identity **dead = malloc(identities.len * sizeof *dead);
  size_t nd = 0, it = 0;
  struct identity *e;
  if (!dead)
    return;
  while ((e = map_next(&identities, &it, NULL)))
    if (now - e->used > IDENTITY_TTL_MS)
      dead[nd++] = e;
  for (size_t i = 0; i < nd; i++) {
    map_del(&identities, dead[i]->pu.session_id);
    free(dead[i]);
  }
  free(dead);
}

/* ---- sessions ---- */

static int valid_id(const char *s, size_t max) {
  size_t n = 0;
  for (; s[n]; n++)
    if (n >= max || !(isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_'))
      return 0;
  return n > 0;
}

/* The live session record of sid, or NULL (missing, revoked, expired, or not well formed). */
static const json_t *session_live(const char *sid, int64_t now) {
  const json_t *rec = store_get(astra.store, STORE_SESSIONS, NULL, sid);
  if (!rec || !json_is_string(json_object_get(rec, "userId")))
    return NULL;
  const json_t *rev = json_object_get(rec, "revokedAt");
  if (rev && !json_is_null(rev))
    return NULL;
  const json_t *exp = json_object_get(rec, "expiresAt");
  if (!json_is_integer(exp) || json_integer_value(exp) <= now)
    return NULL;
  return rec;
}

/* The session id of a cookie value "<id>.<signature>" when the signature is ours. */
static int cookie_session_id(const char *cookie, char sid[40]) {
  const char *dot = cookie ? strrchr(cookie, '.') : NULL;
  if (!dot || dot == cookie || (size_t)(dot - cookie) >= 40)
    return -1;
  memcpy(sid, cookie, (size_t)(dot - cookie));
  sid[dot - cookie] = '\0';
  if (!valid_id(sid, 39) || !sig_ok("session", sid, dot + 1))
    return -1;
  return 0;
}

/* The request's live session and its user; 0, or -1 (expired: the cookie named a session
 * that no longer counts, so the caller clears it). */
static int request_session(const struct http_request *req, char sid[40], const json_t **srec,
                           const json_t **user, int *expired) {
  *expired = 0;
  const char *c = http_cookie(req, PORTAL_SESSION_COOKIE);
  if (!c || !*c)
    return -1;
  *expired = 1;
  if (!astra.store || cookie_session_id(c, sid) != 0)
    return -1;
  const json_t *rec = session_live(sid, portal_now_ms());
  if (!rec)
    return -1;
  const json_t *u = portal_user_get(json_string_value(json_object_get(rec, "userId")));
  if (!u)
    return -1;
  *srec = rec;
  *user = u;
  *expired = 0;
  return 0;
}

int portal_session_user(const struct http_request *req, char user_id[40]) {
  maybe_sweep();
  char sid[40];
  const json_t *srec, *user;
  int expired;
  if (request_session(req, sid, &srec, &user, &expired) != 0)
    return -1;
  snprintf(user_id, 40, "%s", json_string_value(json_object_get(srec, "userId")));
  return 0;
}

int portal_authorize(struct http_request *req, struct http_reply *rep) {
  maybe_sweep();
  char sid[40];
  const json_t *srec = NULL, *user = NULL;
  int expired = 0;
  if (request_session(req, sid, &srec, &user, &expired) != 0) {
    if (expired)
      portal_session_clear_cookie(rep);
    http_reply_error(req, rep, expired ? ERR_SESSION_EXPIRED : ERR_UNAUTHORIZED, NULL, NULL);
    return -1;
  }
  if (req->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)) {
    const char *sent = http_header(req, "X-CSRF-Token");
    const char *want = json_string_value(json_object_get(srec, "csrf"));
    if (!sent || !want || !*want || !crypto_equal(sent, strlen(sent), want, strlen(want))) {
      http_reply_error(req, rep, ERR_CSRF, NULL, NULL);
      return -1;
    }
  }
  struct identity *id = map_get(&identities, sid);
  if (!id) {
    int failed = 0;
    id = calloc(1, sizeof *id);
    if (id) {
      snprintf(id->pu.session_id, sizeof id->pu.session_id, "%s", sid);
      snprintf(id->pu.id, sizeof id->pu.id, "%s",
               json_string_value(json_object_get(srec, "userId")));
      map_put(&identities, id->pu.session_id, id, &failed);
    }
    if (!id || failed) {
      free(id);
      http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
      return -1;
    }
  }
  id->pu.user = user;
  id->used = mono_ms();
  req->auth = &id->pu;
  return 0;
}

int portal_session_add(struct store_txn *t, const char *user_id, const struct http_request *req,
                       struct portal_new_session *out) {
  uint8_t csrf[32];
  if (crypto_random(csrf, sizeof csrf) != 0)
    return -1;
  /* A UUID v4 has 122 random bits; the cookie's signature is what makes it unforgeable. */
  crypto_uuid(out->id);
  crypto_hex(csrf, sizeof csrf, out->csrf);
  int64_t now = portal_now_ms();
  /* Printable ASCII only: a header may carry any bytes, and the store takes UTF-8 text. */
  const char *ua = req ? http_header(req, "User-Agent") : NULL;
  char uabuf[201];
  size_t ul = 0;
  for (; ua && ua[ul] && ul < sizeof uabuf - 1; ul++)
    uabuf[ul] = ua[ul] >= ' ' && ua[ul] < 0x7f ? ua[ul] : '?';
  uabuf[ul] = '\0';
  json_t *rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:s?}", "id", out->id, "userId",
                          user_id, "csrf", out->csrf, "createdAt", (json_int_t)now,
                          "expiresAt",
                          (json_int_t)(now + (int64_t)PORTAL_SESSION_DAYS * 86400 * 1000),
                          "ip", req ? req->remote_ip : NULL, "userAgent",
                          ul ? uabuf : NULL);
  if (!rec)
    return -1;
  return store_put(t, STORE_SESSIONS, NULL, out->id, rec) == 0 ? 0 : -1;
}

int portal_session_revoke(struct store_txn *t, const char *session_id) {
  const json_t *rec = store_get(astra.store, STORE_SESSIONS, NULL, session_id);
  if (!rec)
    return -1;
  json_t *copy = json_deep_copy(rec);
  if (!copy)
    return -1;
  json_object_set_new(copy, "revokedAt", json_integer((json_int_t)portal_now_ms()));
  return store_put(t, STORE_SESSIONS, NULL, session_id, copy) == 0 ? 0 : -1;
}

struct revoke_ctx {
  struct store_txn *t;
  const char *keep;
  int64_t now;
  size_t n;
};

static int revoke_one(const char *scope, const char *id, const json_t *rec, void *arg) {
  (void)scope;
  (void)rec;
  struct revoke_ctx *c = arg;
  if (c->keep && !strcmp(id, c->keep))
    return 0;
  if (session_live(id, c->now) && portal_session_revoke(c->t, id) == 0)
    c->n++;
  return 0;
}

size_t portal_session_revoke_others(struct store_txn *t, const char *user_id,
                                    const char *keep_id) {
  struct revoke_ctx c = {t, keep_id, portal_now_ms(), 0};
  store_index_foreach(astra.store, STORE_SESSIONS, "userId", user_id, revoke_one, &c);
  return c.n;
}

static void set_cookie(struct http_reply *rep, const char *name, const char *value,
                       const char *path, long max_age) {
  char buf[640]; /* the longest value is the OAuth flow's, under 400 bytes */
  snprintf(buf, sizeof buf, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Lax%s", name,
           value, path, max_age, https_public() ? "; Secure" : "");
  http_reply_header(rep, "Set-Cookie", buf);
}

void portal_session_cookie(struct http_reply *rep, const char *session_id) {
  char sig[44], value[96];
  if (sign("session", session_id, sig) != 0)
    return;
  snprintf(value, sizeof value, "%s.%s", session_id, sig);
  set_cookie(rep, PORTAL_SESSION_COOKIE, value, "/", (long)PORTAL_SESSION_DAYS * 86400);
}

void portal_session_clear_cookie(struct http_reply *rep) {
  set_cookie(rep, PORTAL_SESSION_COOKIE, "", "/", 0);
}

void portal_reply_signed_in(const struct http_request *req, struct http_reply *rep,
                            unsigned status, const char *user_id,
                            const struct portal_new_session *s) {
  const json_t *user = portal_user_get(user_id);
  if (!user) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return;
  }
  portal_session_cookie(rep, s->id);
  http_reply_json(rep, status,
                  json_pack("{s:o, s:s}", "user", portal_user_json(user_id, user), "csrf",
                            s->csrf));
}

/* Deletes expired session records, and revoked ones after a day, so that the sessions
 * collection does not grow with every login forever. */
struct purge_ctx {
  int64_t now;
  char (*ids)[40];
  size_t n;
};

static int purge_pick(const char *id, const json_t *rec, void *arg) {
  struct purge_ctx *c = arg;
  const json_t *exp = json_object_get(rec, "expiresAt");
  const json_t *rev = json_object_get(rec, "revokedAt");
  int dead = !json_is_integer(exp) || json_integer_value(exp) <= c->now ||
             (json_is_integer(rev) && json_integer_value(rev) + REVOKED_KEEP_MS <= c->now);
  if (dead && strlen(id) < 40)
    snprintf(c->ids[c->n++], 40, "%s", id);
  return c->n >= PURGE_MAX;
}

static void purge_sessions(void) {
  if (!astra.store || astra.phase != APP_RUNNING)
    return;
  struct purge_ctx c = {portal_now_ms(), calloc(PURGE_MAX, 40), 0};
  if (!c.ids)
    return;
  store_foreach(astra.store, STORE_SESSIONS, NULL, purge_pick, &c);
  if (c.n) {
    struct store_txn *t = store_begin(astra.store);
    for (size_t i = 0; t && i < c.n; i++)
      store_del(t, STORE_SESSIONS, NULL, c.ids[i]);
    if (t && store_commit(t, NULL, NULL) == 0)
      log_info("auth", "purged %zu expired or revoked session record(s)", c.n);
  }
  free(c.ids);
}

static void maybe_sweep(void) {
  static uint64_t last_sweep, last_purge;
  static int init_tried;
  if (!inited && !init_tried) {
    init_tried = 1;
    /* A safety net: without its indexes, email uniqueness would go unchecked. */
    char err[160];
    log_warn("auth", "portal_auth_init() was not called at start; initialising now");
    if (portal_auth_init(err, sizeof err) != 0)
      log_error("auth", "%s", err);
  }
  uint64_t now = mono_ms();
  if (!last_sweep) { /* the first call only starts the clocks */
    last_sweep = last_purge = now ? now : 1;
    return;
  }
  if (now - last_sweep < SWEEP_EVERY_MS)
    return;
  last_sweep = now;
  for (int l = 0; l < PORTAL_LIMIT_COUNT; l++)
    lim_sweep((enum portal_limit)l, now);
  identity_sweep(now);
  if (now - last_purge >= PURGE_EVERY_MS) {
    last_purge = now;
    purge_sessions();
  }
}

/* ---- the Discord OAuth flow cookie ---- */

int portal_oauth_flow_new(struct portal_oauth_flow *f, const char *mode, const char *user_id) {
  memset(f, 0, sizeof *f);
  if (random_token(24, f->state, sizeof f->state) != 0 ||
      random_token(48, f->verifier, sizeof f->verifier) != 0)
    return -1;
  snprintf(f->mode, sizeof f->mode, "%s", mode);
  snprintf(f->user_id, sizeof f->user_id, "%s", user_id ? user_id : "");
  f->expires_ms = portal_now_ms() + OAUTH_FLOW_MS;
  return 0;
}

void portal_oauth_challenge(const struct portal_oauth_flow *f, char out[44]) {
  uint8_t h[32];
  crypto_sha256(f->verifier, strlen(f->verifier), h);
  char *s = b64url(h, sizeof h);
  snprintf(out, 44, "%s", s ? s : "");
  free(s);
}

void portal_oauth_cookie(struct http_reply *rep, const struct portal_oauth_flow *f) {
  /* every field is [A-Za-z0-9_-], so ':' separates them safely */
  char payload[256], sig[44];
  snprintf(payload, sizeof payload, "v1:%s:%s:%s:%s:%lld", f->state, f->verifier, f->mode,
           f->user_id[0] ? f->user_id : "-", (long long)f->expires_ms);
  char *p64 = b64url(payload, strlen(payload));
  if (!p64)
    return;
  if (sign("oauth", p64, sig) == 0) {
    char value[400];
    snprintf(value, sizeof value, "%s.%s", p64, sig);
    set_cookie(rep, PORTAL_OAUTH_COOKIE, value, "/api/auth/discord", OAUTH_FLOW_MS / 1000);
  }
  free(p64);
}

void portal_oauth_clear_cookie(struct http_reply *rep) {
  set_cookie(rep, PORTAL_OAUTH_COOKIE, "", "/api/auth/discord", 0);
}

const char *portal_oauth_redirect_uri(char *buf, size_t len) {
  const struct config *c = astra.cfg;
  if (c->discord_oauth_redirect_uri && *c->discord_oauth_redirect_uri)
    return c->discord_oauth_redirect_uri;
  snprintf(buf, len, "%s/api/auth/discord/callback", c->public_url ? c->public_url : "");
  return buf;
}

/* Copies the next ':'-separated field of *s into out; 0 or -1. */
static int take_field(char **s, char *out, size_t outlen) {
  char *p = *s, *e = strchr(p, ':');
  size_t n = e ? (size_t)(e - p) : strlen(p);
  if (n == 0 || n >= outlen)
    return -1;
  memcpy(out, p, n);
  out[n] = '\0';
  *s = e ? e + 1 : p + n;
  return 0;
}

int portal_oauth_flow_read(const struct http_request *req, struct portal_oauth_flow *f) {
  const char *c = http_cookie(req, PORTAL_OAUTH_COOKIE);
  const char *dot = c ? strrchr(c, '.') : NULL;
  if (!dot || dot == c || (size_t)(dot - c) > 400)
    return -1;
  char p64[401];
  memcpy(p64, c, (size_t)(dot - c));
  p64[dot - c] = '\0';
  if (!sig_ok("oauth", p64, dot + 1))
    return -1;
  size_t n = 0;
  char *payload = b64url_decode(p64, &n);
  if (!payload)
    return -1;
  memset(f, 0, sizeof *f);
  char *s = payload, ver[4], exp[24];
  int rc = -1;
  if (take_field(&s, ver, sizeof ver) == 0 && !strcmp(ver, "v1") &&
      take_field(&s, f->state, sizeof f->state) == 0 &&
      take_field(&s, f->verifier, sizeof f->verifier) == 0 &&
      take_field(&s, f->mode, sizeof f->mode) == 0 &&
      take_field(&s, f->user_id, sizeof f->user_id) == 0 &&
      take_field(&s, exp, sizeof exp) == 0 && !*s) {
    f->expires_ms = strtoll(exp, NULL, 10);
    if (!strcmp(f->user_id, "-"))
      f->user_id[0] = '\0';
    rc = f->expires_ms > portal_now_ms() ? 0 : -1;
  }
  free(payload);
  return rc;
}

/* ---- start ---- */

int portal_auth_init(char *err, size_t errlen) {
  if (!astra.store) {
    snprintf(err, errlen, "portal accounts: the store is not open");
    return -1;
  }
  static const struct {
    enum store_coll c;
    const char *field;
    int unique;
  } idx[] = {
      {STORE_USERS, "email", STORE_INDEX_UNIQUE},
      {STORE_USERS, "discordId", STORE_INDEX_UNIQUE},
      {STORE_SESSIONS, "userId", STORE_INDEX_MULTI},
  };
  for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
    int rc = store_index_define(astra.store, idx[i].c, idx[i].field, idx[i].unique);
    if (rc != 0) {
      snprintf(err, errlen,
               rc == STORE_ECONFLICT
                   ? "portal accounts: two %s records share the same %s; fix data/portal.json"
                   : "portal accounts: cannot index %s by %s",
               store_coll_name(idx[i].c), idx[i].field);
      return -1;
    }
  }
  if (!inited && crypto_random(lim_secret, sizeof lim_secret) != 0) {
    snprintf(err, errlen, "portal accounts: no randomness for the rate limiter");
    return -1;
  }
  inited = 1;
  return 0;
}
