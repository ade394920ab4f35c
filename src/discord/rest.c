/* Discord REST client (include/discord/rest.h), on the net module and the daemon's loop.
 *
 * Shape, following reference/discord.md §2-§3:
 * - Every request is keyed by method + route template with the major parameter kept
 *   (rest_route_key). A key maps to a bucket; a key Discord has not answered yet has a bucket
 *   of its own that lets one request through at a time. The first answer naming an
 *   X-RateLimit-Bucket moves the key to the bucket "hash:major", which other keys may share.
 * - A bucket tracks limit / remaining / reset (from Reset-After when given) and holds its
 *   queue while remaining is 0. Interaction callbacks are the exception: each one targets
 *   its own interaction (the real major parameter), has 3 seconds to arrive, and is bound by
 *   neither the global limit nor a shared bucket, so they are never held back.
 * - Per token: a global pause after a global 429, and pacing at 50 requests per second.
 * - Daemon-wide: a sliding window of 401/403/429 answers; near Discord's IP ban we refuse new
 *   requests (REST_ETHROTTLED) until the window drains below the low mark.
 * - Retries are ours (net's max_retries is 0) so that every 429 updates the bucket and every
 *   attempt goes through the gates again: 429 after retry_after (5 times), 5xx and lost
 *   connections with exponential backoff and jitter (3 times) for idempotent methods, and for
 *   POST only with REST_RETRY_UNSAFE; never for interaction callbacks except on 429.
 * - A 401 on the bot token quarantines the client: everything pending and later fails with
 *   REST_EQUARANTINED and the owner is told once.
 * All waiting is one uv timer per client (the earliest moment anything queued may move); all
 * callbacks run from one place, a zero-delay timer draining the list of finished calls, so
 * no callback ever runs inside rest_request, rest_cancel or rest_client_free, and a callback
 * may free its own client. Everything runs on the loop thread; no locks. Tokens never reach
 * a log: each is registered with log_add_secret, and routes are logged with webhook and
 * interaction tokens replaced by {token}. */
#include "discord/rest.h"

#include "core/app.h"
#include "core/log.h"
#include "discord/limits.h"
#include "net/net.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <uv.h>

#define MOD "rest"

enum {
  GLOBAL_PER_SECOND = 50, /* Discord's global limit per bot token */
  MAX_429_RETRIES = 5,
  MAX_ERROR_RETRIES = 3, /* 5xx and lost connections */
  BACKOFF_BASE_MS = 500,
  BACKOFF_CAP_MS = 10 * 1000,
  /* A 429 asking for a longer wait is handed to the caller: nothing we send is worth holding
   * a minute (interactions are long dead by then). The bucket still waits it out. */
  RETRY_AFTER_MAX_MS = 60 * 1000,
  DEFAULT_RETRY_AFTER_MS = 1000,
  INVALID_HI = 8000, /* Discord bans the IP at 10,000 in 10 minutes */
  INVALID_LO = 7000,
  INVALID_WINDOW_MS = 10 * 60 * 1000,
  INVALID_SLOTS = 600, /* the window is kept as 600 counters (1 s each by default) */
  /* Two answers from one rate-limit window disagree on its reset by their difference in
   * latency; a later window resets at least a whole window later. */
  WINDOW_SLACK_MS = 100,
  ROUTE_IDLE_MS = 10 * 60 * 1000, /* a route unused this long is forgotten */
  SWEEP_MIN = 256,
  ROUTE_SLOTS_MIN = 64,
  KEY_MAX = 512,
  MSG_MAX = 256,
};

/* ---- state ---- */

struct rest_call;

struct bucket {
  struct bucket *prev, *next;   /* the client's buckets */
  struct bucket *wprev, *wnext; /* the client's buckets with queued calls */
  char *id;                     /* "hash:major" once Discord named it, else NULL */
  unsigned routes;              /* routes pointing here */
  int known;                    /* Discord answered for it: no more one-at-a-time */
  int limited;                  /* it sent X-RateLimit-Remaining for it */
  int ungated;                  /* interaction callbacks: never held back */
  long limit, remaining;
  uint64_t reset_at; /* now_ms() when the window resets; 0 when unknown */
  unsigned inflight;
  struct rest_call *qhead, *qtail;
  unsigned queued;
};

struct route {
  struct route *next; /* hash chain */
  char *key;
  char *major; /* the major parameter ("123", "id/token"), "" for none */
  struct bucket *bucket;
  unsigned refs; /* live calls using it */
  uint64_t last_used;
};

struct rest_client {
  struct rest_client *prev, *next;
  char *auth;  /* "Authorization: Bot <token>" */
  char *token; /* kept to undo log_add_secret */
  char *label;
  int quarantined;
  int notified; /* on_unauthorized ran */
  void (*on_unauthorized)(void *arg);
  void *on_unauthorized_arg;
  struct route **slots;
  size_t nslots, nroutes, sweep_at;
  struct bucket *buckets, *waiting;
  unsigned nbuckets, nqueued;
  struct rest_call *calls; /* live: queued, in flight, or between the two */
  uint64_t global_until;   /* paused until then by a global 429 */
  uint64_t sent[GLOBAL_PER_SECOND]; /* send times, a ring: sent[sent_pos] is the oldest */
  unsigned sent_pos, sent_count;
  uv_timer_t timer; /* the next moment something queued may move; its close frees us */
};

enum call_state {
  CALL_NEW,        /* not attached to a client yet */
  CALL_QUEUED,     /* in a bucket queue */
  CALL_INFLIGHT,   /* a net call is out */
  CALL_DONE,       /* in the finished list, its callback not run yet */
  CALL_DELIVERING, /* its callback is running */
};

struct rest_call {
  struct rest_client *client;       /* NULL once finished */
  struct rest_call *cprev, *cnext;  /* the client's live calls */
  struct rest_call *qprev, *qnext;  /* a bucket queue, or the finished list */
  struct bucket *qbucket;           /* the queue it is in */
  struct bucket *counted;           /* the bucket counting it in flight */
  struct route *route;
  enum call_state state;
  struct net_call *net;
  char *method, *path, *url;
  char *body;
  size_t body_len;
  const char *ctype; /* a Content-Type header line, or NULL */
  char *ctype_owned; /* the multipart one */
  char key[KEY_MAX];
  char log_route[KEY_MAX]; /* the key with tokens replaced by {token} */
  char major[KEY_MAX];
  int interaction; /* POST interactions/{id}/{token}/callback */
  int token_route; /* its URL carries a webhook or interaction token */
  int retry_safe;  /* may be repeated after a 5xx or a lost connection */
  rest_cb cb;
  void *arg;
  uint64_t not_before; /* a retry waits until then */
  unsigned attempts, n429, nerr;
  /* the result */
  int error;
  long status;
  int code;
  json_t *rbody;
  char msg[MSG_MAX];
};

struct rest_global {
  uv_loop_t *loop;
  char *base; /* without a trailing slash */
  char *ua;   /* "User-Agent: ..." */
  uv_timer_t done_timer; /* runs finished calls' callbacks; its close frees this */
  struct rest_call *done_head, *done_tail;
  struct rest_client *clients;
  unsigned inv_hi, inv_lo, inv_window_ms;
  uint64_t inv_slot[INVALID_SLOTS]; /* which slot number each counter holds */
  uint32_t inv_count[INVALID_SLOTS];
  int throttled;
  uint64_t requests, retries, rate_limited;
  uint64_t rng;
};

/* The module is a singleton, like net and the loop. */
static struct rest_global *G;

static void client_pump(struct rest_client *c);
static void on_client_timer(uv_timer_t *t);

/* Milliseconds on the monotonic clock uv timers use; fresh, unlike uv_now(), which is the
 * time the current loop iteration started. */
static uint64_t now_ms(void) { return uv_hrtime() / 1000000u; }

static void wake_at(uint64_t *wake, uint64_t t) {
  if (t < *wake)
    *wake = t;
}

/* splitmix64: only spreads retries apart (jitter); no cryptographic strength needed. */
static uint64_t rng_next(void) {
  uint64_t z = (G->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static char *str_concat(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  if (s) {
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
  }
  return s;
}

/* ---- the invalid-request window (daemon-wide) ---- */

static uint64_t inv_slot_ms(void) {
  uint64_t s = G->inv_window_ms / INVALID_SLOTS;
  return s ? s : 1;
}

static uint64_t invalid_count(uint64_t now) {
  uint64_t cur = now / inv_slot_ms(), total = 0;
  for (size_t i = 0; i < INVALID_SLOTS; i++)
    if (G->inv_slot[i] + INVALID_SLOTS > cur)
      total += G->inv_count[i];
  return total;
}

/* Whether new requests are refused now; moves the hysteresis and logs each crossing. */
static int invalid_throttled(uint64_t now) {
  uint64_t n = invalid_count(now);
  if (!G->throttled && n > G->inv_hi) {
    G->throttled = 1;
    log_warn(MOD,
             "%llu 401/403/429 answers in the invalid-request window (Discord bans the IP at "
             "10,000 in 10 minutes): refusing new requests until below %u",
             (unsigned long long)n, G->inv_lo);
  } else if (G->throttled && n < G->inv_lo) {
    G->throttled = 0;
    log_info(MOD, "invalid-request window down to %llu: requests allowed again",
             (unsigned long long)n);
  }
  return G->throttled;
}

static void invalid_add(uint64_t now) {
  uint64_t cur = now / inv_slot_ms();
  size_t i = (size_t)(cur % INVALID_SLOTS);
  if (G->inv_slot[i] != cur) {
    G->inv_slot[i] = cur;
    G->inv_count[i] = 0;
  }
  G->inv_count[i]++;
  invalid_throttled(now);
}

/* ---- route keys ---- */

struct sbuf {
  char *p;
  size_t cap, len;
};

static void sb_put(struct sbuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n && b->len + 1 < b->cap; i++)
    b->p[b->len++] = s[i];
  b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static int seg_is(const char *s, size_t n, const char *word) {
  return n == strlen(word) && memcmp(s, word, n) == 0;
}

static int seg_is_id(const char *s, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

struct route_info {
  char key[KEY_MAX], log[KEY_MAX], major[KEY_MAX];
  int interaction, token_route;
};

/* Builds the key (reference §3): numeric segments become {id}, except the major parameter
 * right after a top-level channels/, guilds/ or webhooks/ (and a webhook's token after its
 * id); interactions/{id}/{token}/callback is one literal template. Only the top level counts
 * as a major parameter, as in Discord's docs ("top-level resources"): the guild in
 * applications/{id}/guilds/{id}/commands is not one. The query is ignored. */
static void route_parse(const char *method, const char *path, struct route_info *ri) {
  struct sbuf key = {ri->key, sizeof ri->key, 0}, log = {ri->log, sizeof ri->log, 0};
  struct sbuf major = {ri->major, sizeof ri->major, 0};
  ri->key[0] = ri->log[0] = ri->major[0] = '\0';
  ri->interaction = ri->token_route = 0;
  sb_puts(&key, method);
  sb_puts(&key, " ");
  sb_puts(&log, method);
  sb_puts(&log, " ");
  size_t end = strcspn(path, "?#");
  const char *p = path, *stop = path + end;
  const char *top = "";
  size_t top_len = 0, i = 0;
  int webhook_id = 0, callback = 0;
  while (p < stop) {
    if (*p == '/') {
      p++;
      continue;
    }
    const char *seg = p;
    while (p < stop && *p != '/')
      p++;
    size_t n = (size_t)(p - seg);
    if (i == 0) {
      top = seg;
      top_len = n;
    }
    int is_channels = seg_is(top, top_len, "channels"), is_guilds = seg_is(top, top_len, "guilds");
    int is_webhooks = seg_is(top, top_len, "webhooks");
    int is_interactions = seg_is(top, top_len, "interactions");
    const char *out = seg, *out_log = seg;
    size_t out_n = n, out_log_n = n;
    if (i == 1 && seg_is_id(seg, n) && (is_channels || is_guilds || is_webhooks)) {
      sb_put(&major, seg, n); /* the major parameter stays literal */
      webhook_id = is_webhooks;
    } else if (i == 2 && webhook_id) {
      sb_puts(&major, "/");
      sb_put(&major, seg, n); /* a webhook's token is part of its major parameter */
      out_log = "{token}";
      out_log_n = 7;
      ri->token_route = 1;
    } else if (is_interactions && (i == 1 || i == 2)) {
      out = out_log = i == 1 ? "{id}" : "{token}";
      out_n = out_log_n = strlen(out);
      ri->token_route |= i == 2;
    } else if (seg_is_id(seg, n)) {
      out = out_log = "{id}";
      out_n = out_log_n = 4;
    }
    callback = is_interactions && i == 3 && seg_is(seg, n, "callback");
    sb_puts(&key, "/");
    sb_put(&key, out, out_n);
    sb_puts(&log, "/");
    sb_put(&log, out_log, out_log_n);
    i++;
  }
  if (i == 0) {
    sb_puts(&key, "/");
    sb_puts(&log, "/");
  }
  ri->interaction = callback && i == 4;
}

void rest_route_key(const char *method, const char *path, char *out, size_t outlen) {
  struct route_info ri;
  if (!out || !outlen)
    return;
  route_parse(method ? method : "", path ? path : "", &ri);
  size_t n = strlen(ri.key);
  if (n >= outlen)
    n = outlen - 1;
  memcpy(out, ri.key, n);
  out[n] = '\0';
}

/* ---- buckets, routes and queues ---- */

static struct bucket *bucket_new(struct rest_client *c) {
  struct bucket *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->next = c->buckets;
  if (c->buckets)
    c->buckets->prev = b;
  c->buckets = b;
  c->nbuckets++;
  return b;
}

static void bucket_free(struct rest_client *c, struct bucket *b) {
  if (b->prev)
    b->prev->next = b->next;
  else
    c->buckets = b->next;
  if (b->next)
    b->next->prev = b->prev;
  c->nbuckets--;
  free(b->id);
  free(b);
}

/* Frees a bucket nothing refers to any more. */
static void bucket_maybe_free(struct rest_client *c, struct bucket *b) {
  if (b && b->routes == 0 && b->inflight == 0 && b->queued == 0)
    bucket_free(c, b);
}

static void queue_push(struct rest_client *c, struct bucket *b, struct rest_call *call,
                       int front) {
  call->qbucket = b;
  call->qprev = call->qnext = NULL;
  if (front) {
    call->qnext = b->qhead;
    if (b->qhead)
      b->qhead->qprev = call;
    else
      b->qtail = call;
    b->qhead = call;
  } else {
    call->qprev = b->qtail;
    if (b->qtail)
      b->qtail->qnext = call;
    else
      b->qhead = call;
    b->qtail = call;
  }
  if (b->queued++ == 0) { /* joins the waiting list */
    b->wprev = NULL;
    b->wnext = c->waiting;
    if (c->waiting)
      c->waiting->wprev = b;
    c->waiting = b;
  }
  c->nqueued++;
  call->state = CALL_QUEUED;
}

static void queue_remove(struct rest_client *c, struct rest_call *call) {
  struct bucket *b = call->qbucket;
  if (!b)
    return;
  if (call->qprev)
    call->qprev->qnext = call->qnext;
  else
    b->qhead = call->qnext;
  if (call->qnext)
    call->qnext->qprev = call->qprev;
  else
    b->qtail = call->qprev;
  call->qprev = call->qnext = NULL;
  call->qbucket = NULL;
  c->nqueued--;
  if (--b->queued == 0) { /* leaves the waiting list */
    if (b->wprev)
      b->wprev->wnext = b->wnext;
    else
      c->waiting = b->wnext;
    if (b->wnext)
      b->wnext->wprev = b->wprev;
    b->wprev = b->wnext = NULL;
  }
}

static uint64_t hash_key(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void route_free(struct route *rt) {
  free(rt->key);
  free(rt->major);
  free(rt);
}

static int bucket_idle(const struct bucket *b, uint64_t now) {
  return b->queued == 0 && b->inflight == 0 && (b->reset_at == 0 || b->reset_at <= now);
}

/* Forgets routes unused for a while (every cart thread is a new channel, so keys would
 * otherwise pile up for the life of the daemon); they are learned again if used. */
static void routes_sweep(struct rest_client *c, uint64_t now) {
  for (size_t i = 0; i < c->nslots; i++) {
    struct route **pp = &c->slots[i];
    while (*pp) {
      struct route *rt = *pp;
      if (rt->refs == 0 && bucket_idle(rt->bucket, now) && now - rt->last_used > ROUTE_IDLE_MS) {
        *pp = rt->next;
        struct bucket *b = rt->bucket;
        b->routes--;
        route_free(rt);
        c->nroutes--;
        bucket_maybe_free(c, b);
      } else {
        pp = &rt->next;
      }
    }
  }
  c->sweep_at = c->nroutes * 2 > SWEEP_MIN ? c->nroutes * 2 : SWEEP_MIN;
}

static int routes_grow(struct rest_client *c) {
  size_t n = c->nslots ? c->nslots * 2 : ROUTE_SLOTS_MIN;
  struct route **slots = calloc(n, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < c->nslots; i++) {
    struct route *rt = c->slots[i], *next;
    for (; rt; rt = next) {
      next = rt->next;
      size_t j = (size_t)(hash_key(rt->key) & (n - 1));
      rt->next = slots[j];
      slots[j] = rt;
    }
  }
  free(c->slots);
  c->slots = slots;
  c->nslots = n;
  return 0;
}

/* The route for key, created with its own not-yet-known bucket on first use. */
static struct route *route_get(struct rest_client *c, const struct rest_call *call,
                               uint64_t now) {
  if (c->nslots) {
    struct route *rt = c->slots[hash_key(call->key) & (c->nslots - 1)];
    for (; rt; rt = rt->next)
      if (!strcmp(rt->key, call->key))
        return rt;
  }
  if (c->nroutes >= c->sweep_at)
    routes_sweep(c, now);
  if (c->nroutes >= c->nslots && routes_grow(c) != 0)
    return NULL;
  struct route *rt = calloc(1, sizeof *rt);
  struct bucket *b = rt ? bucket_new(c) : NULL;
  if (rt) {
    rt->key = strdup(call->key);
    rt->major = strdup(call->major);
  }
  if (!b || !rt->key || !rt->major) {
    if (b)
      bucket_free(c, b);
    if (rt)
      route_free(rt);
    return NULL;
  }
  b->routes = 1;
  b->ungated = call->interaction;
  rt->bucket = b;
  rt->last_used = now;
  size_t j = (size_t)(hash_key(rt->key) & (c->nslots - 1));
  rt->next = c->slots[j];
  c->slots[j] = rt;
  c->nroutes++;
  return rt;
}

/* Points rt at bucket `to`, taking its queued calls along in order. */
static void route_move(struct rest_client *c, struct route *rt, struct bucket *to) {
  struct bucket *from = rt->bucket;
  rt->bucket = to;
  to->routes++;
  from->routes--;
  struct rest_call *call = from->qhead, *next;
  for (; call; call = next) {
    next = call->qnext;
    if (call->route == rt) {
      queue_remove(c, call);
      queue_push(c, to, call, 0);
    }
  }
  bucket_maybe_free(c, from);
}

/* Discord named rt's bucket: the bucket's identity is that hash plus the major parameter. */
static struct bucket *route_rebucket(struct rest_client *c, struct route *rt, const char *hash) {
  struct bucket *cur = rt->bucket;
  char *id = malloc(strlen(hash) + strlen(rt->major) + 2);
  if (!id)
    return cur;
  sprintf(id, "%s:%s", hash, rt->major);
  if (cur->id && !strcmp(cur->id, id)) {
    free(id);
    return cur;
  }
  struct bucket *found = c->buckets;
  while (found && (!found->id || strcmp(found->id, id) != 0))
    found = found->next;
  if (found) {
    free(id);
  } else if (cur->routes == 1) {
    free(cur->id); /* ours alone: it simply gets (or changes) its name */
    cur->id = id;
    cur->known = 1;
    return cur;
  } else if (!(found = bucket_new(c))) {
    free(id);
    return cur;
  } else {
    found->id = id;
    found->known = 1;
  }
  route_move(c, rt, found);
  return found;
}

static double header_num(const struct net_response *r, const char *name, int *ok) {
  const char *v = net_header(r, name);
  char *end;
  *ok = 0;
  if (!v)
    return 0;
  double x = strtod(v, &end);
  if (end == v || !isfinite(x))
    return 0;
  *ok = 1;
  return x;
}

static uint64_t secs_to_ms(double s) {
  if (s <= 0)
    return 0;
  if (s > 86400)
    s = 86400;
  /* Rounded up plus 1 ms: we must never be early. */
  return (uint64_t)ceil(s * 1000.0) + 1;
}

/* Updates the bucket from an answer's X-RateLimit-* headers. */
static void learn(struct rest_client *c, struct rest_call *call, const struct net_response *r,
                  uint64_t now) {
  struct route *rt = call->route;
  if (rt->bucket->ungated)
    return;
  const char *hash = net_header(r, "X-RateLimit-Bucket");
  struct bucket *b = hash && *hash ? route_rebucket(c, rt, hash) : rt->bucket;
  if (r->status >= 500)
    return; /* an answer from a proxy in trouble says nothing about the limits */
  b->known = 1;
  int have_rem, have_limit, have_after, have_reset;
  double rem = header_num(r, "X-RateLimit-Remaining", &have_rem);
  double limit = header_num(r, "X-RateLimit-Limit", &have_limit);
  double after = header_num(r, "X-RateLimit-Reset-After", &have_after);
  double reset = header_num(r, "X-RateLimit-Reset", &have_reset);
  if (!have_rem)
    return;
  b->limited = 1;
  if (have_limit && limit >= 1)
    b->limit = (long)limit;
  /* Calls still out may or may not be in this count: assume they are not. */
  long left = (long)rem - (long)b->inflight;
  if (left < 0)
    left = 0;
  uint64_t at = 0;
  if (have_after) {
    at = now + secs_to_ms(after);
  } else if (have_reset) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    at = now + secs_to_ms(reset - ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9));
  }
  if (!at) {
    if (left < b->remaining || !b->reset_at)
      b->remaining = left;
    return;
  }
  if (!b->reset_at || now >= b->reset_at || at > b->reset_at + WINDOW_SLACK_MS) {
    b->remaining = left; /* a newer window than the one we knew */
    b->reset_at = at;
  } else if (at + WINDOW_SLACK_MS >= b->reset_at) {
    /* The same window: answers can arrive out of order, so keep the lower count. */
    if (left < b->remaining)
      b->remaining = left;
    if (at > b->reset_at)
      b->reset_at = at;
  } /* else a late answer from an older window: nothing in it is news */
}

/* Whether bucket b lets a call go now; if not and the wait has an end, *wake gets it. */
static int bucket_ready(struct bucket *b, uint64_t now, uint64_t *wake) {
  if (b->ungated || (b->known && !b->limited))
    return 1;
  if (!b->known)
    return b->inflight == 0; /* before Discord's first answer: one at a time */
  if (b->remaining > 0)
    return 1;
  if (b->reset_at) {
    if (now < b->reset_at) {
      wake_at(wake, b->reset_at);
      return 0;
    }
    /* The window is over. Calls still out may land in the new one; the next answer tells the
     * new reset, so until then it is unknown. */
    b->remaining = (b->limit > 0 ? b->limit : 1) - (long)b->inflight;
    b->reset_at = 0;
    return b->remaining > 0;
  }
  return b->inflight == 0; /* nothing known about the window: probe with one call */
}

/* The 50 requests per second per token: at most that many sends in any 1000 ms. */
static int pace_ok(const struct rest_client *c, uint64_t now, uint64_t *wake) {
  if (c->sent_count < GLOBAL_PER_SECOND)
    return 1;
  uint64_t oldest = c->sent[c->sent_pos];
  if (now >= oldest + 1000)
    return 1;
  wake_at(wake, oldest + 1000);
  return 0;
}

static void pace_record(struct rest_client *c, uint64_t now) {
  c->sent[c->sent_pos] = now;
  c->sent_pos = (c->sent_pos + 1) % GLOBAL_PER_SECOND;
  if (c->sent_count < GLOBAL_PER_SECOND)
    c->sent_count++;
}

/* ---- finishing calls ---- */

static void call_free(struct rest_call *call) {
  free(call->method);
  free(call->path);
  free(call->url);
  free(call->body);
  free(call->ctype_owned);
  json_decref(call->rbody);
  free(call);
}

/* Takes a live call out of its client: queue, net call, bucket and route counts. */
static void call_detach(struct rest_call *call) {
  struct rest_client *c = call->client;
  if (!c)
    return;
  queue_remove(c, call);
  if (call->net) {
    net_cancel(call->net);
    call->net = NULL;
  }
  if (call->counted) {
    call->counted->inflight--;
    bucket_maybe_free(c, call->counted);
    call->counted = NULL;
  }
  if (call->route) {
    call->route->refs--;
    call->route = NULL;
  }
  if (call->cprev)
    call->cprev->cnext = call->cnext;
  else
    c->calls = call->cnext;
  if (call->cnext)
    call->cnext->cprev = call->cprev;
  call->cprev = call->cnext = NULL;
  call->client = NULL;
}

static void deliver_all(void) {
  while (G && G->done_head) {
    struct rest_call *call = G->done_head;
    G->done_head = call->qnext;
    if (!G->done_head)
      G->done_tail = NULL;
    call->qnext = call->qprev = NULL;
    call->state = CALL_DELIVERING;
    struct rest_result r = {
        .error = call->error,
        .status = call->error ? 0 : call->status,
        .code = call->code,
        .body = call->rbody,
        .error_msg = call->msg[0] ? call->msg : NULL,
        .attempts = call->attempts,
    };
    call->cb(&r, call->arg);
    call_free(call);
  }
}

static void on_done_timer(uv_timer_t *t) {
  (void)t;
  deliver_all();
}

/* Queues a detached call's callback for the loop. */
static void done_push(struct rest_call *call) {
  call->state = CALL_DONE;
  call->qnext = NULL;
  call->qprev = G->done_tail;
  if (G->done_tail)
    G->done_tail->qnext = call;
  else
    G->done_head = call;
  G->done_tail = call;
  if (!uv_is_active((uv_handle_t *)&G->done_timer))
    uv_timer_start(&G->done_timer, on_done_timer, 0, 0);
}

__attribute__((format(printf, 3, 4))) static void finish_error(struct rest_call *call,
                                                                int error, const char *fmt,
                                                                ...) {
  call_detach(call);
  call->error = error;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(call->msg, sizeof call->msg, fmt, ap);
  va_end(ap);
  done_push(call);
}

/* Finishes a call with Discord's answer; takes body (parsed JSON or NULL). */
static void finish_http(struct rest_call *call, long status, json_t *body) {
  call_detach(call);
  call->error = REST_OK;
  call->status = status;
  call->rbody = body;
  if (status >= 400) {
    const json_t *code = json_object_get(body, "code");
    const char *message = json_string_value(json_object_get(body, "message"));
    call->code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
    if (call->code)
      snprintf(call->msg, sizeof call->msg, "HTTP %ld from Discord: %s (code %d)", status,
               message ? message : "no message", call->code);
    else
      snprintf(call->msg, sizeof call->msg, "HTTP %ld from Discord: %s", status,
               message ? message : "no message");
  }
  done_push(call);
}

/* ---- sending ---- */

static void on_net_done(const struct net_response *r, void *arg);

static void send_call(struct rest_client *c, struct bucket *b, struct rest_call *call,
                      uint64_t now) {
  const char *headers[4] = {c->auth, G->ua, call->ctype, NULL};
  struct net_request req = {
      .method = call->method,
      .url = call->url,
      .headers = headers,
      .body = call->body,
      .body_len = call->body_len,
      .max_retries = 0, /* our retries: each 429 must update the bucket first */
      .idempotent = 0,
  };
  queue_remove(c, call);
  call->net = net_send(&req, on_net_done, call);
  if (!call->net) {
    finish_error(call, REST_ENET, "the request could not be started (method %s)", call->method);
    return;
  }
  call->state = CALL_INFLIGHT;
  call->attempts++;
  G->requests++;
  if (call->attempts > 1)
    G->retries++;
  call->counted = b;
  b->inflight++;
  if (b->limited && b->remaining > 0)
    b->remaining--;
  if (!call->interaction)
    pace_record(c, now);
  call->route->last_used = now;
}

/* One pass over one bucket: sends what its gates allow (one call, or every due callback).
 * Returns whether anything moved. */
static int pump_bucket(struct rest_client *c, struct bucket *b, uint64_t now, uint64_t *wake) {
  if (b->ungated) {
    int moved = 0;
    struct rest_call *call = b->qhead, *next;
    for (; call; call = next) {
      next = call->qnext;
      if (call->not_before > now) {
        wake_at(wake, call->not_before);
        continue;
      }
      send_call(c, b, call, now);
      moved = 1;
    }
    return moved;
  }
  struct rest_call *call = b->qhead;
  if (call->not_before > now) {
    wake_at(wake, call->not_before);
    return 0;
  }
  if (c->global_until > now) {
    wake_at(wake, c->global_until);
    return 0;
  }
  if (invalid_throttled(now)) {
    finish_error(call, REST_ETHROTTLED,
                 "refused: too many 401/403/429 answers lately (Discord would ban the IP)");
    return 1;
  }
  if (!pace_ok(c, now, wake) || !bucket_ready(b, now, wake))
    return 0;
  send_call(c, b, call, now);
  return 1;
}

/* Sends whatever may go now, round-robin over the buckets, and sets the timer for the
 * earliest moment something still queued may go. */
static void client_pump(struct rest_client *c) {
  uint64_t now = now_ms(), wake;
  int moved;
  do {
    moved = 0;
    wake = UINT64_MAX;
    struct bucket *b = c->waiting, *next;
    for (; b; b = next) {
      next = b->wnext;
      moved |= pump_bucket(c, b, now, &wake);
    }
  } while (moved);
  if (wake == UINT64_MAX) {
    uv_timer_stop(&c->timer);
    return;
  }
  /* The timer counts from the loop's clock, which is the time this loop iteration began:
   * refresh it so the wait counts from now. An early wake-up is harmless anyway (the pump
   * checks every gate again). */
  uv_update_time(G->loop);
  uint64_t t = now_ms();
  uv_timer_start(&c->timer, on_client_timer, wake > t ? wake - t : 0, 0);
}

static void on_client_timer(uv_timer_t *t) { client_pump(t->data); }

/* 5xx and lost connections: idempotent methods, or POST the caller declared repeatable. */
static int may_retry_error(const struct rest_call *call) {
  return call->retry_safe && !call->interaction && call->nerr < MAX_ERROR_RETRIES;
}


/* Exponential backoff with jitter: half the step fixed, half random, so that many calls
 * failing together spread out but none retries at once. */
static uint64_t backoff_ms(unsigned n) {
  uint64_t cap = (uint64_t)BACKOFF_BASE_MS << (n < 8 ? n - 1 : 7);
  if (cap > BACKOFF_CAP_MS)
    cap = BACKOFF_CAP_MS;
  return cap / 2 + rng_next() % (cap / 2 + 1);
}

/* Back to the front of its bucket's queue, to go again at not_before. */
static void requeue(struct rest_client *c, struct rest_call *call, uint64_t not_before) {
  call->not_before = not_before;
  queue_push(c, call->route->bucket, call, 1);
}

static uint64_t retry_after_ms(const struct net_response *r, const json_t *body) {
  const json_t *ra = json_object_get(body, "retry_after");
  if (json_is_number(ra) && json_number_value(ra) >= 0)
    return secs_to_ms(json_number_value(ra));
  int ok;
  double s = header_num(r, "Retry-After", &ok);
  if (ok && s >= 0)
    return secs_to_ms(s);
  s = header_num(r, "X-RateLimit-Reset-After", &ok);
  if (ok && s >= 0)
    return secs_to_ms(s);
  return DEFAULT_RETRY_AFTER_MS;
}

static void on_429(struct rest_client *c, struct rest_call *call, const struct net_response *r,
                   json_t *body, uint64_t now) {
  uint64_t wait = retry_after_ms(r, body);
  const char *g = net_header(r, "X-RateLimit-Global");
  const char *scope = net_header(r, "X-RateLimit-Scope");
  int global = (g && !strcasecmp(g, "true")) || (scope && !strcasecmp(scope, "global")) ||
               json_is_true(json_object_get(body, "global"));
  G->rate_limited++;
  if (global && !call->interaction) {
    if (now + wait > c->global_until)
      c->global_until = now + wait;
    log_warn(MOD, "%s: global rate limit hit (%s): every request waits %llu ms", c->label,
             call->log_route, (unsigned long long)wait);
  } else if (!call->interaction) {
    struct bucket *b = call->route->bucket;
    b->known = b->limited = 1;
    b->remaining = 0;
    if (now + wait > b->reset_at)
      b->reset_at = now + wait;
    log_info(MOD, "%s: rate limited on %s (scope %s): waiting %llu ms", c->label,
             call->log_route, scope ? scope : "?", (unsigned long long)wait);
  }
  if (call->n429 < MAX_429_RETRIES && wait <= RETRY_AFTER_MAX_MS) {
    call->n429++;
    json_decref(body);
    requeue(c, call, now + wait);
  } else {
    finish_http(call, r->status, body);
  }
}

/* A 401 on the bot token: nothing more is sent with it. Finishes every live call. */
static void quarantine(struct rest_client *c, struct rest_call *call) {
  c->quarantined = 1;
  log_error(MOD, "%s: Discord answered 401 Unauthorized on %s: token quarantined", c->label,
            call->log_route);
  while (c->calls)
    finish_error(c->calls, REST_EQUARANTINED,
                 "Discord rejected this bot token (401 Unauthorized); nothing is sent with it");
}

static void on_net_done(const struct net_response *r, void *arg) {
  struct rest_call *call = arg;
  struct rest_client *c = call->client;
  uint64_t now = now_ms();
  call->net = NULL;
  struct bucket *counted = call->counted;
  call->counted = NULL;
  counted->inflight--;
  /* Before learn(), which may free the route's old bucket; counted is not used after. */
  bucket_maybe_free(c, counted);

  if (r->error) {
    if (net_transient(r->error) && may_retry_error(call)) {
      call->nerr++;
      requeue(c, call, now + backoff_ms(call->nerr));
    } else {
      finish_error(call, REST_ENET, "no answer from Discord: %s",
                   r->error_msg ? r->error_msg : "connection failed");
    }
    client_pump(c);
    return;
  }

  long status = r->status;
  json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
  const char *scope = net_header(r, "X-RateLimit-Scope");
  if (status == 401 || status == 403 ||
      (status == 429 && !(scope && !strcasecmp(scope, "shared"))))
    invalid_add(now);
  learn(c, call, r, now);

  if (status == 429) {
    on_429(c, call, r, body, now);
  } else if (status == 401 && !call->token_route) {
    /* (A 401 on a webhook or interaction URL is about that URL's token, e.g. an interaction
     * older than 15 minutes, not about the bot's.) */
    json_decref(body);
    quarantine(c, call);
    if (!c->notified) {
      c->notified = 1;
      /* Last: the owner may free the client from in here. */
      if (c->on_unauthorized)
        c->on_unauthorized(c->on_unauthorized_arg);
    }
    return;
  } else if (status >= 500 && may_retry_error(call)) {
    json_decref(body);
    call->nerr++;
    requeue(c, call, now + backoff_ms(call->nerr));
  } else {
    finish_http(call, status, body);
  }
  client_pump(c);
}

/* ---- multipart ---- */

struct buf {
  char *p;
  size_t len, cap;
  int failed;
};

static void buf_add(struct buf *b, const void *data, size_t n) {
  if (b->failed)
    return;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len < n)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* A header parameter value: no quote, backslash or line break can break out of it. */
static void safe_copy(char *dst, size_t n, const char *src, const char *fallback) {
  if (!src || !*src)
    src = fallback;
  size_t i = 0;
  for (; src[i] && i + 1 < n; i++)
    dst[i] = strchr("\"\\\r\n", src[i]) ? '_' : src[i];
  dst[i] = '\0';
}

static void random_boundary(char *out, size_t n) {
  unsigned char raw[16];
  if (getrandom(raw, sizeof raw, GRND_NONBLOCK) != (ssize_t)sizeof raw)
    for (size_t i = 0; i < sizeof raw; i += 8) {
      uint64_t x = rng_next();
      memcpy(raw + i, &x, 8);
    }
  static const char hex[] = "0123456789abcdef";
  size_t k = (size_t)snprintf(out, n, "astra-");
  for (size_t i = 0; i < sizeof raw && k + 2 < n; i++) {
    out[k++] = hex[raw[i] >> 4];
    out[k++] = hex[raw[i] & 15];
  }
  out[k] = '\0';
}

/* payload_json's attachments must name files[0..n-1] by id: adds the ones missing. */
static int add_attachments(json_t *payload, const struct rest_file *files, size_t nfiles) {
  json_t *att = json_object_get(payload, "attachments");
  if (!json_is_array(att)) {
    att = json_array();
    if (!att || json_object_set_new(payload, "attachments", att) != 0)
      return -1;
  }
  for (size_t i = 0; i < nfiles; i++) {
    char want[24];
    snprintf(want, sizeof want, "%zu", i);
    int found = 0;
    size_t j;
    json_t *a;
    json_array_foreach(att, j, a) {
      const json_t *id = json_object_get(a, "id");
      found |= (json_is_integer(id) && json_integer_value(id) == (json_int_t)i) ||
               (json_is_string(id) && !strcmp(json_string_value(id), want));
    }
    if (found)
      continue;
    char name[256];
    safe_copy(name, sizeof name, files[i].name, "file");
    if (json_array_append_new(att, json_pack("{s:I,s:s}", "id", (json_int_t)i, "filename",
                                             name)) != 0)
      return -1;
  }
  return 0;
}

static int contains(const char *hay, size_t n, const char *needle) {
  return n && memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* multipart/form-data: payload_json, then files[0..n-1]. */
static int build_multipart(struct rest_call *call, const char *json, const struct rest_file *files,
                           size_t nfiles) {
  char boundary[64];
  int clash;
  int tries = 0;
  do { /* a random 128-bit boundary will not be in the data, but it costs little to check */
    random_boundary(boundary, sizeof boundary);
    clash = contains(json, strlen(json), boundary);
    for (size_t i = 0; i < nfiles && !clash; i++)
      clash = contains(files[i].data, files[i].len, boundary);
  } while (clash && ++tries < 8);
  if (clash)
    return -1;
  struct buf b = {0};
  char line[512];
  buf_str(&b, "--");
  buf_str(&b, boundary);
  buf_str(&b, "\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n"
              "Content-Type: application/json\r\n\r\n");
  buf_str(&b, json);
  for (size_t i = 0; i < nfiles; i++) {
    char name[256], type[128];
    safe_copy(name, sizeof name, files[i].name, "file");
    safe_copy(type, sizeof type, files[i].content_type, "application/octet-stream");
    snprintf(line, sizeof line,
             "\r\n--%s\r\nContent-Disposition: form-data; name=\"files[%zu]\"; "
             "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
             boundary, i, name, type);
    buf_str(&b, line);
    buf_add(&b, files[i].data, files[i].len);
  }
  buf_str(&b, "\r\n--");
  buf_str(&b, boundary);
  buf_str(&b, "--\r\n");
  snprintf(line, sizeof line, "Content-Type: multipart/form-data; boundary=%s", boundary);
  call->ctype_owned = strdup(line);
  if (b.failed || !call->ctype_owned) {
    free(b.p);
    return -1;
  }
  call->body = b.p;
  call->body_len = b.len;
  call->ctype = call->ctype_owned;
  return 0;
}

/* ---- public interface ---- */

static struct rest_call *call_new(struct rest_client *c, const char *method, const char *path,
                                  unsigned flags, rest_cb cb, void *arg) {
  if (!G || !c || !method || !path || !cb)
    return NULL;
  struct rest_call *call = calloc(1, sizeof *call);
  if (!call)
    return NULL;
  call->cb = cb;
  call->arg = arg;
  call->state = CALL_NEW;
  call->method = strdup(method);
  call->path = path[0] == '/' ? strdup(path) : str_concat("/", path);
  call->url = call->path ? str_concat(G->base, call->path) : NULL;
  if (!call->method || !call->url) {
    call_free(call);
    return NULL;
  }
  struct route_info ri;
  route_parse(method, call->path, &ri);
  memcpy(call->key, ri.key, sizeof call->key);
  memcpy(call->log_route, ri.log, sizeof call->log_route);
  memcpy(call->major, ri.major, sizeof call->major);
  call->interaction = ri.interaction;
  call->token_route = ri.token_route;
  /* Discord's PUT and PATCH are idempotent (they set state), like GET and DELETE. */
  call->retry_safe = strcmp(method, "POST") != 0 || (flags & REST_RETRY_UNSAFE);
  return call;
}

/* Checks the body against Discord's limits; 0, or -1 with the call finished (REST_EINVALID,
 * later, from the loop) and the refusal logged as our bug. */
static int refuse_bad_body(struct rest_client *c, struct rest_call *call, const json_t *body) {
  char why[256];
  if (limits_check_route(call->method, call->path, body, why, sizeof why) == 0)
    return 0;
  const char *kv[] = {"instance", c->label, NULL};
  log_fields(LOG_ERROR, MOD, NULL, kv, "discord body refused (our bug): %s: %s",
             call->log_route, why);
  finish_error(call, REST_EINVALID, "body refused before sending (our bug): %s", why);
  return -1;
}

/* Attaches a prepared call to its client and route, and sends it if the gates allow. */
static struct rest_call *call_submit(struct rest_client *c, struct rest_call *call) {
  uint64_t now = now_ms();
  if (c->quarantined) {
    finish_error(call, REST_EQUARANTINED,
                 "Discord rejected this bot token (401 Unauthorized); nothing is sent with it");
    return call;
  }
  if (!call->interaction && invalid_throttled(now)) {
    finish_error(call, REST_ETHROTTLED,
                 "refused: too many 401/403/429 answers lately (Discord would ban the IP)");
    return call;
  }
  struct route *rt = route_get(c, call, now);
  if (!rt) {
    call_free(call);
    return NULL;
  }
  call->client = c;
  call->cnext = c->calls;
  if (c->calls)
    c->calls->cprev = call;
  c->calls = call;
  call->route = rt;
  rt->refs++;
  rt->last_used = now;
  queue_push(c, rt->bucket, call, 0);
  client_pump(c);
  return call;
}

struct rest_call *rest_request(struct rest_client *c, const char *method, const char *path,
                               json_t *body, unsigned flags, rest_cb cb, void *arg) {
  struct rest_call *call = call_new(c, method, path, flags, cb, arg);
  if (!call) {
    json_decref(body);
    return NULL;
  }
  if (refuse_bad_body(c, call, body) != 0) {
    json_decref(body);
    return call;
  }
  if (body) {
    call->body = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    if (!call->body) {
      call_free(call);
      return NULL;
    }
    call->body_len = strlen(call->body);
    call->ctype = "Content-Type: application/json";
  }
  return call_submit(c, call);
}

struct rest_call *rest_request_files(struct rest_client *c, const char *method,
                                     const char *path, json_t *payload,
                                     const struct rest_file *files, size_t nfiles,
                                     unsigned flags, rest_cb cb, void *arg) {
  struct rest_call *call = call_new(c, method, path, flags, cb, arg);
  if (!call) {
    json_decref(payload);
    return NULL;
  }
  if (!payload)
    payload = json_object();
  if (!json_is_object(payload)) {
    json_decref(payload);
    finish_error(call, REST_EINVALID, "payload_json: not an object");
    return call;
  }
  for (size_t i = 0; i < nfiles; i++)
    if (files[i].len && !files[i].data) {
      json_decref(payload);
      finish_error(call, REST_EINVALID, "files[%zu]: no data", i);
      return call;
    }
  if (refuse_bad_body(c, call, payload) != 0) {
    json_decref(payload);
    return call;
  }
  char *json = NULL;
  if (add_attachments(payload, files, nfiles) == 0)
    json = json_dumps(payload, JSON_COMPACT);
  json_decref(payload);
  int rc = json ? build_multipart(call, json, files, nfiles) : -1;
  free(json);
  if (rc != 0) {
    call_free(call);
    return NULL;
  }
  return call_submit(c, call);
}

void rest_cancel(struct rest_call *call) {
  if (!call || call->state == CALL_DELIVERING)
    return;
  if (call->state == CALL_DONE) {
    if (!G)
      return;
    if (call->qprev)
      call->qprev->qnext = call->qnext;
    else
      G->done_head = call->qnext;
    if (call->qnext)
      call->qnext->qprev = call->qprev;
    else
      G->done_tail = call->qprev;
    call_free(call);
    return;
  }
  struct rest_client *c = call->client;
  call_detach(call);
  call_free(call);
  if (c)
    client_pump(c); /* a call out of the way may let the next one go */
}

int rest_global_init(const char *api_base, const char *user_agent) {
  if (G || !astra.loop || !api_base || !*api_base || !user_agent ||
      strpbrk(user_agent, "\r\n"))
    return -1;
  struct rest_global *g = calloc(1, sizeof *g);
  if (!g)
    return -1;
  g->loop = astra.loop;
  g->base = strdup(api_base);
  g->ua = str_concat("User-Agent: ", user_agent);
  if (!g->base || !g->ua) {
    free(g->base);
    free(g->ua);
    free(g);
    return -1;
  }
  size_t n = strlen(g->base);
  while (n && g->base[n - 1] == '/')
    g->base[--n] = '\0';
  g->inv_hi = INVALID_HI;
  g->inv_lo = INVALID_LO;
  g->inv_window_ms = INVALID_WINDOW_MS;
  g->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)g;
  uv_timer_init(g->loop, &g->done_timer);
  g->done_timer.data = g;
  G = g;
  return 0;
}

static void on_global_closed(uv_handle_t *h) {
  struct rest_global *g = h->data;
  free(g->base);
  free(g->ua);
  free(g);
}

void rest_global_shutdown(void) {
  if (!G)
    return;
  while (G->clients) {
    log_warn(MOD, "%s: client still open at shutdown; freeing it", G->clients->label);
    rest_client_free(G->clients);
  }
  /* Last chance for the loop-less callbacks: each call's owner is told exactly once. */
  deliver_all();
  if (!G)
    return; /* a callback shut us down already */
  struct rest_global *g = G;
  G = NULL;
  uv_timer_stop(&g->done_timer);
  uv_close((uv_handle_t *)&g->done_timer, on_global_closed);
}

struct rest_client *rest_client_new(const char *token, const char *label) {
  if (!G || !token || !*token || strpbrk(token, "\r\n "))
    return NULL;
  struct rest_client *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->token = strdup(token);
  c->auth = str_concat("Authorization: Bot ", token);
  c->label = strdup(label && *label ? label : "discord");
  if (!c->token || !c->auth || !c->label) {
    free(c->token);
    free(c->auth);
    free(c->label);
    free(c);
    return NULL;
  }
  log_add_secret(token);
  c->sweep_at = SWEEP_MIN;
  uv_timer_init(G->loop, &c->timer);
  c->timer.data = c;
  c->next = G->clients;
  if (G->clients)
    G->clients->prev = c;
  G->clients = c;
  return c;
}

static void on_client_closed(uv_handle_t *h) { free(h->data); }

void rest_client_free(struct rest_client *c) {
  if (!c || !G)
    return;
  while (c->calls)
    finish_error(c->calls, REST_ECANCELLED, "cancelled: the Discord client was freed");
  for (size_t i = 0; i < c->nslots; i++) {
    struct route *rt = c->slots[i], *next;
    for (; rt; rt = next) {
      next = rt->next;
      route_free(rt);
    }
  }
  free(c->slots);
  while (c->buckets)
    bucket_free(c, c->buckets);
  if (c->prev)
    c->prev->next = c->next;
  else
    G->clients = c->next;
  if (c->next)
    c->next->prev = c->prev;
  log_remove_secret(c->token);
  explicit_bzero(c->token, strlen(c->token));
  explicit_bzero(c->auth, strlen(c->auth));
  free(c->token);
  free(c->auth);
  free(c->label);
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_client_closed);
}

void rest_client_on_unauthorized(struct rest_client *c, void (*fn)(void *arg), void *arg) {
  if (!c)
    return;
  c->on_unauthorized = fn;
  c->on_unauthorized_arg = arg;
}

int rest_client_quarantined(const struct rest_client *c) { return c ? c->quarantined : 0; }

void rest_global_stats(struct rest_stats *out) {
  memset(out, 0, sizeof *out);
  if (!G)
    return;
  out->requests = G->requests;
  out->retries = G->retries;
  out->rate_limited = G->rate_limited;
  out->invalid_window = invalid_count(now_ms());
  for (const struct rest_client *c = G->clients; c; c = c->next) {
    out->buckets += c->nbuckets;
    out->queued += c->nqueued;
  }
}

void rest_test_set_invalid_limits(unsigned hi, unsigned lo, unsigned window_ms) {
  if (!G)
    return;
  G->inv_hi = hi ? hi : INVALID_HI;
  G->inv_lo = lo ? lo : INVALID_LO;
  G->inv_window_ms = window_ms ? window_ms : INVALID_WINDOW_MS;
  memset(G->inv_slot, 0, sizeof G->inv_slot);
  memset(G->inv_count, 0, sizeof G->inv_count);
  G->throttled = 0;
}
