/* The Discord gateway client (reference/discord.md §1): one websocket session per bot, all
 * on the daemon's one uv loop through libwebsockets 4.1 joined as a foreign loop
 * (reference/event-loop.md, "Discord gateway").
 *
 * A session is a small state machine. The public state (enum gw_state) is what the runtime
 * sees; the internal phase says exactly which step is in flight:
 *
 *   IDLE --timer--> [FETCH: GET /gateway/bot] --> QUEUED (daemon-wide connection pacing)
 *        --> RESOLVE (uv_getaddrinfo) --> CONNECT (websocket handshake) --> HELLO (op 10)
 *        --> AUTH (Identify or Resume sent) --> ONLINE (READY / RESUMED)
 *   any connected phase --close/zombie/op 7/op 9--> IDLE with a backoff timer
 *   a no-reconnect close code --> FAILED;  gw_close --> STOPPED (freed)
 *
 * Ownership rules that keep this memory-safe:
 *  - lws never holds a pointer to a session. Each connection gets a key (slot | generation
 *    << 32) as its lws user data; every callback looks the key up, and a key that no longer
 *    matches (the session moved on, or was closed) marks the wsi as stale: stale wsi are
 *    closed and otherwise ignored. So a session never waits for lws to let go of a wsi.
 *  - gw_close detaches everything at once and uv_close()s the session's timer; the memory is
 *    freed in the close callback, which libuv runs from the loop, never inside our stack. So
 *    gw_close is safe from inside the session's own callbacks, and code after a user callback
 *    only has to check s->stopped.
 *  - The event loop must never block: host names are resolved on the uv thread pool and lws
 *    gets a numeric address (Debian's lws 4.1 has no async DNS and would call getaddrinfo on
 *    the loop thread), and lws timers are not used from outside lws (4.1 does not re-arm its
 *    uv timer when a sul is scheduled from outside), so all our timing is uv_timer_t.
 *
 * The bot token is never logged: log lines name a session by its label. */
#include "discord/gateway.h"

#include "core/crypto.h"
#include "core/log.h"
#include "discord/rest.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MOD "gateway"
#define GW_PROTOCOL_NAME "astra-discord-gw"

/* Discord's limits and our pacing (reference/discord.md §1). */
#define GW_MAX_PAYLOAD 4096       /* a bigger payload gets close 4002 */
#define GW_SEND_WINDOW_MS 60000   /* 120 events per connection per 60 s ... */
#define GW_SEND_BUDGET 110        /* ... of which 10 stay free for heartbeats */
#define GW_SEND_LOG 128           /* send timestamps kept (>= 120) */
#define GW_IDENT_WINDOW_MS 5000   /* identify rate-limit window */
#define GW_IDENT_MARGIN_MS 250    /* for network jitter between two identifies */
#define GW_HELLO_TIMEOUT_MS 20000 /* connected but no Hello: treat as a dead connection */
#define GW_BACKOFF_MAX_MS 60000
#define GW_RESUME_TRIES 3         /* failed resume connections before identifying anew */
#define GW_GATEWAY_TTL_MS (10 * 60 * 1000) /* re-fetch /gateway/bot when older than this */
#define GW_QUEUE_MAX 64           /* user payloads waiting to be sent */
#define GW_RX_MAX (16u << 20)     /* one incoming message; bigger ones are skipped */
#define GW_RX_CHUNK 4096          /* lws hands us at most this much per callback */
/* New websocket connections per second, daemon-wide: 5,000 bots are back within ~35 s after
 * an outage (bench/README.md) without a stampede of handshakes. Resumes are not identifies,
 * so Discord's identify limits do not bound this; each session still paces its own identify. */
#define GW_CONNECT_RATE 150.0
#define GW_CONNECT_BURST 150.0
#define GW_KILL_SECS 6            /* an abandoned connection is killed after this at most */
#define GW_SHUTDOWN_GRACE_MS 1000 /* time given to close frames at shutdown */

/* lws_write's close-frame type: private in lws 4.1 (lib/roles/ws/private-lib-roles-ws.h
 * defines LWS_WRITE_CLOSE 4; the public header says lws_close_reason handles it). We need
 * it because lws_close_reason cannot work with Debian's build: see stale_callback. */
#define GW_WRITE_CLOSE ((enum lws_write_protocol)4)

enum gw_phase {
  PH_IDLE,    /* nothing in flight; the timer may be set to reconnect */
  PH_FETCH,   /* GET /gateway/bot in flight */
  PH_QUEUED,  /* waiting for a daemon-wide connection slot */
  PH_RESOLVE, /* getaddrinfo on the thread pool */
  PH_CONNECT, /* TCP/TLS/websocket handshake */
  PH_HELLO,   /* websocket up, waiting for op 10 */
  PH_AUTH,    /* Identify or Resume queued or sent, waiting for READY / RESUMED */
  PH_ONLINE,  /* READY or RESUMED seen */
  PH_FAILED,  /* a no-reconnect close code or a rejected token */
};

enum { HB_NONE, HB_SCHEDULED, HB_REQUESTED };
enum { AUTH_NONE, AUTH_IDENTIFY, AUTH_RESUME };

/* A user payload waiting for a WRITEABLE callback; buf holds LWS_PRE bytes of headroom for
 * lws followed by the JSON text. */
struct gw_msg {
  struct gw_msg *next;
  size_t len;
  unsigned char buf[];
};

/* A getaddrinfo request outlives the session if it is closed meanwhile: s is then NULL and
 * the callback only frees the request. */
struct gw_resolve {
  uv_getaddrinfo_t req;
  struct gw_session *s;
};

struct gw_session {
  struct gw_session *prev, *next; /* every open session */
  struct gw_session *qnext;       /* the connection queue */
  uint32_t slot;                  /* index in G.slots: the low half of connection keys */
  uint32_t gen;                   /* generation of the current connection; 0: none */
  struct lws *wsi;                /* the current connection, or NULL */
  uv_timer_t timer;               /* the earliest of the t_* deadlines below */
  struct rest_call *fetch;        /* GET /gateway/bot in flight */
  struct gw_resolve *resolve;     /* getaddrinfo in flight */

  const struct gw_handler *handler;
  void *ud;
  struct rest_client *rest;
  char *token;
  char label[48];
  unsigned intents;

  enum gw_state state;
  enum gw_phase phase;
  bool stopped;     /* gw_close called: no more callbacks, memory freed by the timer close */
  bool queued;      /* in the connection queue */
  bool has_slot;    /* holds a connection slot (for the /gateway/bot fetch and the connect) */
  bool resume;      /* the next connection resumes instead of identifying */
  bool force_fetch; /* re-fetch /gateway/bot before the next identify */
  bool has_seq;
  bool hb_sent;     /* a scheduled heartbeat went out on this connection */
  bool hb_acked;    /* an ACK arrived since the last scheduled heartbeat */
  bool rx_skip;     /* dropping the rest of an unusable incoming message */
  uint8_t hb_pending;   /* HB_*: a heartbeat waits for WRITEABLE */
  uint8_t auth_pending; /* AUTH_*: Identify or Resume waits for WRITEABLE */

  /* GET /gateway/bot, cached */
  char *gateway_url;
  uint64_t fetched_at;
  unsigned max_concurrency;
  long starts_remaining; /* session_start_limit.remaining; -1 unknown */
  uint64_t starts_reset_at;

  /* the Discord session, for resuming */
  char session_id[64];
  char *resume_url;
  uint64_t seq;

  /* heartbeats */
  unsigned hb_interval;
  uint64_t hb_sent_hr; /* uv_hrtime of the last heartbeat written, 0 once ACKed */
  int latency_ms;

  /* deadlines in uv_now() ms; 0 = not set */
  uint64_t t_reconnect, t_hello, t_heartbeat, t_identify, t_send;

  /* pacing: the last Identify sent (absolute ms), and sends on this connection (ms since
   * conn_start; 32 bits are plenty for a 60 s window and wrap harmlessly) */
  uint64_t last_identify;
  uint64_t conn_start;
  uint32_t send_log[GW_SEND_LOG];
  unsigned send_head, send_n;

  struct gw_msg *q_first, *q_last;
  unsigned q_len;

  /* an incoming message split over several callbacks; NULL between messages */
  char *rx;
  size_t rx_len, rx_cap;

  unsigned attempt;         /* reconnects since the last READY/RESUMED: the backoff step */
  unsigned resume_failures; /* resume connections that never got a Hello */
  unsigned reconnects;
  uint64_t connected_since;
  int peer_close; /* close code the server sent on the current connection */
  int last_close;
  char last_error[160];
};

struct gw_closing {
  uint64_t key;
  int code;
};

static struct {
  uv_loop_t *loop;
  struct lws_context *ctx; /* NULLed by lws itself (info.pcontext) when finally freed */
  char *ua;
  char *ca_file;
  bool ca_loaded;
  bool shutting_down;
  bool destroy_called;
  bool handles; /* q_timer and grace_timer initialised and not yet closed */
  uint64_t rng;

  struct gw_session *sessions;
  unsigned nsessions;
  struct gw_session **slots;
  uint32_t nslots, slot_cap;
  uint32_t *free_slots;
  uint32_t nfree;
  uint32_t gen;

  /* the daemon-wide connection pacing: a token bucket and a FIFO of waiting sessions */
  struct gw_session *q_head, *q_tail;
  double tokens;
  uint64_t tokens_at;
  uv_timer_t q_timer;

  /* connections that owe the server a close frame (key and code), until lws destroys them */
  struct gw_closing *closing;
  size_t nclosing, closing_cap;
  uv_timer_t grace_timer;
} G;

static void start_connect(struct gw_session *s);
static void conn_lost(struct gw_session *s, int code, const char *why);
static void connq_service(void);

/* ---- small helpers ---- */

/* xorshift64*: jitter only, so it needs no cryptographic strength; seeded from
 * crypto_random so that daemons started together still spread their reconnects. */
static uint64_t rng_next(void) {
  uint64_t x = G.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  G.rng = x;
  return x * 2685821657736338717ULL;
}

/* Uniform in [0, 1). */
static double rand01(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }

static uint64_t now_ms(void) { return uv_now(G.loop); }

const char *gw_state_name(enum gw_state s) {
  switch (s) {
  case GW_CONNECTING:
    return "connecting";
  case GW_IDENTIFYING:
    return "identifying";
  case GW_RESUMING:
    return "resuming";
  case GW_READY:
    return "ready";
  case GW_BACKOFF:
    return "backoff";
  case GW_STOPPED:
    return "stopped";
  case GW_FAILED:
    return "failed";
  }
  return "unknown";
}

/* Tokens and session ids are pasted into JSON text: allow printable ASCII without quotes or
 * backslashes (real ones are base64url segments and hex). */
static bool json_safe(const char *v, size_t max) {
  size_t n = 0;
  for (; v[n]; n++)
    if (n >= max || v[n] <= 0x20 || v[n] >= 0x7f || v[n] == '"' || v[n] == '\\')
      return false;
  return n > 0;
}

/* ---- close codes (reference/discord.md §1.12) ---- */

struct close_info {
  int code;
  bool fatal;       /* no reconnect: the session fails */
  bool new_session; /* resuming is pointless: identify again */
  const char *text;
};

static const struct close_info close_codes[] = {
    {4000, false, false, "unknown error"},
    {4001, false, false, "unknown opcode or invalid payload"},
    {4002, false, false, "decode error"},
    {4003, false, false, "not authenticated"},
    {4004, true, false, "authentication failed: the bot token is invalid or was reset"},
    {4005, false, false, "already authenticated"},
    {4007, false, true, "invalid sequence number on resume"},
    {4008, false, false, "rate limited: too many gateway events sent"},
    {4009, false, true, "session timed out"},
    {4010, true, false, "invalid shard"},
    {4011, true, false, "sharding required: the bot is in too many guilds for one connection"},
    {4012, true, false, "invalid gateway API version"},
    {4013, true, false, "invalid intents"},
    {4014, true, false,
     "disallowed intents: a privileged intent is not enabled for this bot in the Developer "
     "Portal"},
};

static const struct close_info *close_lookup(int code) {
  for (size_t i = 0; i < sizeof close_codes / sizeof close_codes[0]; i++)
    if (close_codes[i].code == code)
      return &close_codes[i];
  return NULL;
}

/* ---- URLs ---- */

struct gw_target {
  bool tls;
  int port;
  char host[256];    /* for getaddrinfo: no brackets */
  char hosthdr[272]; /* Host header, SNI and certificate name: host[:port] */
  char path[600];    /* path and query, with v=10&encoding=json appended */
};

/* Parses ws[s]://host[:port][/path][?query] and appends the gateway query the way the docs
 * say: url + "/?v=10&encoding=json", or "&v=10&encoding=json" when there already is a
 * query. Only printable ASCII without spaces is accepted, so nothing from a server can
 * inject into the request line or headers. 0 or -1. */
static int parse_url(const char *url, struct gw_target *t) {
  memset(t, 0, sizeof *t);
  for (const char *c = url; *c; c++)
    if (*c <= 0x20 || *c >= 0x7f)
      return -1;
  const char *p;
  if (!strncasecmp(url, "wss://", 6)) {
    t->tls = true;
    t->port = 443;
    p = url + 6;
  } else if (!strncasecmp(url, "ws://", 5)) {
    t->port = 80;
    p = url + 5;
  } else {
    return -1;
  }
  const char *hend = p + strcspn(p, "/?#");
  const char *host = p, *hostend, *portp = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', (size_t)(hend - p));
    if (!rb)
      return -1;
    host = p + 1;
    hostend = rb;
    if (rb + 1 < hend) {
      if (rb[1] != ':')
        return -1;
      portp = rb + 2;
    }
  } else {
    const char *colon = memchr(p, ':', (size_t)(hend - p));
    hostend = colon ? colon : hend;
    if (colon)
      portp = colon + 1;
  }
  size_t hlen = (size_t)(hostend - host);
  if (hlen == 0 || hlen >= sizeof t->host)
    return -1;
  for (const char *c = host; c < hostend; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '.' || *c == '-' || *c == ':' || *c == '_'))
      return -1;
  memcpy(t->host, host, hlen);
  bool explicit_port = false;
  if (portp) {
    if (portp >= hend)
      return -1;
    long port = 0;
    for (const char *c = portp; c < hend; c++) {
      if (*c < '0' || *c > '9')
        return -1;
      port = port * 10 + (*c - '0');
      if (port > 65535)
        return -1;
    }
    if (port < 1)
      return -1;
    explicit_port = port != (t->tls ? 443 : 80);
    t->port = (int)port;
  }
  bool v6 = strchr(t->host, ':') != NULL;
  int n;
  if (explicit_port)
    n = snprintf(t->hosthdr, sizeof t->hosthdr, v6 ? "[%s]:%d" : "%s:%d", t->host, t->port);
  else
    n = snprintf(t->hosthdr, sizeof t->hosthdr, v6 ? "[%s]" : "%s", t->host);
  if (n < 0 || (size_t)n >= sizeof t->hosthdr)
    return -1;

  /* path and query, without any fragment */
  size_t plen = strcspn(hend, "#");
  const char *q = memchr(hend, '?', plen);
  size_t pathlen = q ? (size_t)(q - hend) : plen;
  size_t qlen = q ? plen - pathlen - 1 : 0;
  const char *path = pathlen ? hend : "/";
  if (!pathlen)
    pathlen = 1;
  if (qlen)
    n = snprintf(t->path, sizeof t->path, "%.*s?%.*s&v=10&encoding=json", (int)pathlen, path,
                 (int)qlen, q + 1);
  else
    n = snprintf(t->path, sizeof t->path, "%.*s%s?v=10&encoding=json", (int)pathlen, path,
                 path[pathlen - 1] == '/' ? "" : "/");
  if (n < 0 || (size_t)n >= sizeof t->path)
    return -1;
  return 0;
}

static bool is_loopback(const char *host) {
  return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* A gateway URL from a server response: usable, and warned about when it is plain ws://
 * to somewhere other than this machine (the token would travel unencrypted). */
static bool url_usable(const struct gw_session *s, const char *url, const char *what) {
  struct gw_target t;
  if (parse_url(url, &t) != 0) {
    log_warn(MOD, "%s: ignoring an unusable %s (not a ws:// or wss:// URL)", s->label, what);
    return false;
  }
  if (!t.tls && !is_loopback(t.host))
    log_warn(MOD, "%s: the %s is plain ws:// to %s: the bot token is sent unencrypted",
             s->label, what, t.host);
  return true;
}

/* ---- connection keys ---- */

static void *conn_user(const struct gw_session *s) {
  return (void *)(uintptr_t)(((uint64_t)s->gen << 32) | s->slot);
}

static struct gw_session *session_for_key(uint64_t key) {
  uint32_t slot = (uint32_t)key, gen = (uint32_t)(key >> 32);
  if (!gen || slot >= G.nslots)
    return NULL;
  struct gw_session *s = G.slots[slot];
  return s && s->gen == gen ? s : NULL;
}

static uint32_t next_gen(void) {
  if (++G.gen == 0)
    G.gen = 1;
  return G.gen;
}

static int slot_alloc(struct gw_session *s) {
  if (G.nfree) {
    s->slot = G.free_slots[--G.nfree];
  } else {
    if (G.nslots == G.slot_cap) {
      uint32_t cap = G.slot_cap ? G.slot_cap * 2 : 64;
      struct gw_session **ns = realloc(G.slots, cap * sizeof *ns);
      if (!ns)
        return -1;
      G.slots = ns;
      uint32_t *nf = realloc(G.free_slots, cap * sizeof *nf);
      if (!nf)
        return -1;
      G.free_slots = nf;
      G.slot_cap = cap;
    }
    s->slot = G.nslots++;
  }
  G.slots[s->slot] = s;
  return 0;
}

static void slot_release(struct gw_session *s) {
  G.slots[s->slot] = NULL;
  G.free_slots[G.nfree++] = s->slot;
}

static void closing_add(uint64_t key, int code) {
  if (G.nclosing == G.closing_cap) {
    size_t cap = G.closing_cap ? G.closing_cap * 2 : 16;
    struct gw_closing *n = realloc(G.closing, cap * sizeof *n);
    if (!n)
      return; /* out of memory: that connection is dropped without a close frame */
    G.closing = n;
    G.closing_cap = cap;
  }
  G.closing[G.nclosing].key = key;
  G.closing[G.nclosing].code = code;
  G.nclosing++;
}

static int closing_code(uint64_t key) {
  for (size_t i = 0; i < G.nclosing; i++)
    if (G.closing[i].key == key)
      return G.closing[i].code;
  return 0;
}

static bool closing_remove(uint64_t key) {
  for (size_t i = 0; i < G.nclosing; i++)
    if (G.closing[i].key == key) {
      G.closing[i] = G.closing[--G.nclosing];
      return true;
    }
  return false;
}

/* ---- state and timers ---- */

/* Tells the runtime, once per change. The handler may call gw_close: callers check
 * s->stopped afterwards. */
static void set_state(struct gw_session *s, enum gw_state st, const char *reason) {
  if (s->stopped || s->state == st)
    return;
  s->state = st;
  if (st != GW_READY)
    s->connected_since = 0;
  if (s->handler && s->handler->state)
    s->handler->state(s->ud, st, reason);
}

static void on_timer(uv_timer_t *t);
static void on_grace_timer(uv_timer_t *t);

static void arm_timer(struct gw_session *s) {
  if (s->stopped)
    return;
  const uint64_t d[] = {s->t_reconnect, s->t_hello, s->t_heartbeat, s->t_identify, s->t_send};
  uint64_t next = 0;
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
    if (d[i] && (!next || d[i] < next))
      next = d[i];
  if (!next) {
    uv_timer_stop(&s->timer);
    return;
  }
  uint64_t now = now_ms();
  uv_timer_start(&s->timer, on_timer, next > now ? next - now : 0, 0);
}

/* Everything that belongs to one connection goes back to its initial value. */
static void conn_reset(struct gw_session *s) {
  s->t_hello = s->t_heartbeat = s->t_identify = s->t_send = 0;
  s->hb_pending = HB_NONE;
  s->auth_pending = AUTH_NONE;
  s->hb_sent = false;
  s->hb_acked = true;
  s->hb_sent_hr = 0;
  s->send_head = s->send_n = 0;
  s->peer_close = 0;
  s->rx_skip = false;
  free(s->rx);
  s->rx = NULL;
  s->rx_len = s->rx_cap = 0;
  s->phase = PH_IDLE;
}

static bool have_session(const struct gw_session *s) {
  return s->session_id[0] && (s->resume_url || s->gateway_url);
}

static void forget_session(struct gw_session *s) {
  s->session_id[0] = 0;
  free(s->resume_url);
  s->resume_url = NULL;
  s->has_seq = false;
  s->seq = 0;
  s->resume = false;
  s->resume_failures = 0;
}

/* 1 s, 2 s, 4 s ... capped at 60 s, each with jitter to [base/2, base] so that many
 * sessions dropped at once do not come back in lockstep. */
static unsigned backoff_delay(struct gw_session *s) {
  unsigned shift = s->attempt < 6 ? s->attempt : 6;
  uint64_t base = 1000ULL << shift;
  if (base > GW_BACKOFF_MAX_MS)
    base = GW_BACKOFF_MAX_MS;
  s->attempt++;
  return (unsigned)(base / 2 + (uint64_t)(rand01() * (double)(base / 2)));
}

/* Lets go of the current connection: it becomes stale (its callbacks no longer find this
 * session). An established one sends a close frame with code (0: none, just drop the TCP
 * connection) from its next WRITEABLE callback and hangs up; whatever happens, lws kills it
 * after a few seconds, so a zombie peer cannot keep it. */
static void conn_abandon(struct gw_session *s, int code) {
  struct lws *wsi = s->wsi;
  uint64_t key = (uint64_t)(uintptr_t)conn_user(s);
  bool established = s->phase >= PH_HELLO && s->phase <= PH_ONLINE;
  s->wsi = NULL;
  s->gen = 0;
  if (s->phase >= PH_CONNECT && s->phase <= PH_ONLINE)
    conn_reset(s);
  if (!wsi || G.destroy_called)
    return;
  if (established) {
    if (code)
      closing_add(key, code);
    lws_callback_on_writable(wsi); /* the stale WRITEABLE sends the close frame, hangs up */
  }
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, established ? GW_KILL_SECS : 1);
  /* lws 4.1 re-arms its uv timer only after lws I/O: poke its event pipe so that the
   * timeout above is seen even if nothing else happens */
  lws_cancel_service(G.ctx);
}

static void schedule_reconnect(struct gw_session *s, unsigned delay_ms, const char *reason) {
  char r[240];
  s->phase = PH_IDLE;
  s->has_slot = false;
  s->reconnects++;
  snprintf(s->last_error, sizeof s->last_error, "%s", reason);
  s->t_reconnect = now_ms() + (delay_ms ? delay_ms : 1);
  snprintf(r, sizeof r, "%s; %s in %.1f s", reason, s->resume ? "resuming" : "reconnecting",
           delay_ms / 1000.0);
  log_info(MOD, "%s: %s", s->label, r);
  set_state(s, GW_BACKOFF, r);
  arm_timer(s);
}

/* We end the connection ourselves and come back later. */
static void reconnect_now(struct gw_session *s, int close_code, bool want_resume,
                          unsigned delay_ms, const char *why) {
  conn_abandon(s, close_code);
  s->resume = want_resume && have_session(s);
  schedule_reconnect(s, delay_ms, why);
}

/* A no-reconnect condition: the session stays, failed, until gw_close. */
static void fail_session(struct gw_session *s, const char *reason) {
  conn_abandon(s, 0);
  s->phase = PH_FAILED;
  s->t_reconnect = 0;
  snprintf(s->last_error, sizeof s->last_error, "%s", reason);
  log_error(MOD, "%s: gateway session failed, not reconnecting: %s", s->label, reason);
  set_state(s, GW_FAILED, s->last_error);
  arm_timer(s);
}

/* Called once per connection when lws reports it gone (or it never started). */
static void conn_lost(struct gw_session *s, int code, const char *why) {
  bool established = s->phase >= PH_HELLO && s->phase <= PH_ONLINE;
  char reason[160];
  s->wsi = NULL;
  s->gen = 0;
  conn_reset(s);
  if (code)
    s->last_close = code;
  const struct close_info *ci = code ? close_lookup(code) : NULL;
  if (ci && ci->fatal) {
    snprintf(reason, sizeof reason, "%d %s", code, ci->text);
    fail_session(s, reason);
    return;
  }
  if (ci)
    snprintf(reason, sizeof reason, "closed by the gateway: %d %s", code, ci->text);
  else if (code)
    snprintf(reason, sizeof reason, "closed by the gateway with code %d", code);
  else
    snprintf(reason, sizeof reason, "%s", why ? why : "connection lost");
  if (ci && ci->new_session) {
    forget_session(s);
    s->force_fetch = true;
  }
  if (!established) {
    /* the connection never got going: after a few failed resumes the resume URL is
     * probably gone, and after a few failed identifies /gateway/bot may have changed */
    if (s->resume && ++s->resume_failures >= GW_RESUME_TRIES) {
      forget_session(s);
      s->force_fetch = true;
    } else if (!s->resume && s->attempt >= 2) {
      s->force_fetch = true;
    }
  }
  s->resume = have_session(s);
  schedule_reconnect(s, backoff_delay(s), reason);
}

/* ---- the connection queue: at most GW_CONNECT_RATE new connections per second, so that
 * thousands of sessions coming back after an outage do not stampede ---- */

static void connq_remove(struct gw_session *s) {
  if (!s->queued)
    return;
  struct gw_session **pp = &G.q_head, *prev = NULL;
  while (*pp && *pp != s) {
    prev = *pp;
    pp = &(*pp)->qnext;
  }
  if (*pp) {
    *pp = s->qnext;
    if (G.q_tail == s)
      G.q_tail = prev;
  }
  s->qnext = NULL;
  s->queued = false;
}

static void connq_push(struct gw_session *s) {
  s->phase = PH_QUEUED;
  s->queued = true;
  s->qnext = NULL;
  if (G.q_tail)
    G.q_tail->qnext = s;
  else
    G.q_head = s;
  G.q_tail = s;
  connq_service();
}

static void on_q_timer(uv_timer_t *t) {
  (void)t;
  connq_service();
}

static void connq_service(void) {
  if (!G.handles || G.shutting_down)
    return;
  uint64_t now = now_ms();
  G.tokens += (double)(now - G.tokens_at) * GW_CONNECT_RATE / 1000.0;
  if (G.tokens > GW_CONNECT_BURST)
    G.tokens = GW_CONNECT_BURST;
  G.tokens_at = now;
  while (G.q_head && G.tokens >= 1.0) {
    struct gw_session *s = G.q_head;
    G.q_head = s->qnext;
    if (!G.q_head)
      G.q_tail = NULL;
    s->qnext = NULL;
    s->queued = false;
    s->has_slot = true;
    G.tokens -= 1.0;
    start_connect(s);
  }
  if (G.q_head)
    uv_timer_start(&G.q_timer, on_q_timer,
                   (uint64_t)((1.0 - G.tokens) * 1000.0 / GW_CONNECT_RATE) + 1, 0);
  else
    uv_timer_stop(&G.q_timer);
}

/* ---- connecting ---- */

static const char *conn_url(const struct gw_session *s) {
  return s->resume && s->resume_url ? s->resume_url : s->gateway_url;
}

static const lws_retry_bo_t gw_retry = {
    /* lws's own ping/hangup validity checks are off: Discord heartbeats prove liveness, and
     * reconnecting is our state machine's job, not lws's */
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

static void conn_open(struct gw_session *s, const char *address, const struct gw_target *t) {
  struct lws_client_connect_info i;
  memset(&i, 0, sizeof i);
  i.context = G.ctx;
  i.address = address;
  i.port = t->port;
  i.path = t->path;
  i.host = t->hosthdr;
  i.ssl_connection = (t->tls ? LCCSCF_USE_SSL : 0) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  i.alpn = "http/1.1";
  i.local_protocol_name = GW_PROTOCOL_NAME;
  i.retry_and_idle_policy = &gw_retry;
  s->gen = next_gen();
  i.userdata = conn_user(s);
  i.pwsi = &s->wsi; /* filled before lws can call back about this connection */
  s->phase = PH_CONNECT;
  log_debug(MOD, "%s: connecting to %s (%s)", s->label, t->hosthdr, address);
  if (!lws_client_connect_via_info(&i)) {
    /* whatever lws still does with that wsi now carries a stale key */
    s->wsi = NULL;
    s->gen = 0;
    conn_lost(s, 0, "cannot start the websocket connection");
  }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  struct gw_resolve *r = (struct gw_resolve *)req;
  struct gw_session *s = r->s;
  char addr[INET6_ADDRSTRLEN] = "";
  /* IPv4 first when there is one: containers often have an IPv6 address but no route */
  const struct addrinfo *pick = NULL;
  for (const struct addrinfo *a = status == 0 ? res : NULL; a; a = a->ai_next)
    if (a->ai_family == AF_INET || (!pick && a->ai_family == AF_INET6))
      if (!pick || pick->ai_family != AF_INET)
        pick = a;
  if (pick && pick->ai_family == AF_INET6)
    uv_ip6_name((const struct sockaddr_in6 *)pick->ai_addr, addr, sizeof addr);
  else if (pick)
    uv_ip4_name((const struct sockaddr_in *)pick->ai_addr, addr, sizeof addr);
  uv_freeaddrinfo(res);
  free(r);
  if (!s)
    return; /* the session was closed meanwhile */
  s->resolve = NULL;
  struct gw_target t;
  if (status != 0 || !addr[0] || !conn_url(s) || parse_url(conn_url(s), &t) != 0) {
    char why[160];
    snprintf(why, sizeof why, "cannot resolve the gateway host: %s",
             status ? uv_strerror(status) : "no address");
    conn_lost(s, 0, why);
    return;
  }
  conn_open(s, addr, &t);
}

/* Resolves the host off the loop thread (lws 4.1 here would block the loop in
 * getaddrinfo), then connects to the numeric address. */
static void conn_begin(struct gw_session *s) {
  struct gw_target t;
  const char *url = conn_url(s);
  if (!url || parse_url(url, &t) != 0) {
    s->force_fetch = true;
    s->resume = false;
    conn_lost(s, 0, "no usable gateway URL");
    return;
  }
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, t.host, buf) == 1 || inet_pton(AF_INET6, t.host, buf) == 1) {
    conn_open(s, t.host, &t);
    return;
  }
  struct gw_resolve *r = calloc(1, sizeof *r);
  if (!r) {
    conn_lost(s, 0, "out of memory");
    return;
  }
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  r->s = s;
  s->phase = PH_RESOLVE;
  int rc = uv_getaddrinfo(G.loop, &r->req, on_resolved, t.host, NULL, &hints);
  if (rc != 0) {
    free(r);
    char why[160];
    snprintf(why, sizeof why, "cannot resolve the gateway host: %s", uv_strerror(rc));
    conn_lost(s, 0, why);
    return;
  }
  s->resolve = r;
}

/* The earliest time an Identify may be sent. Discord allows max_concurrency identifies per
 * 5 s, counted per rate-limit bucket shard_id % max_concurrency (gateway.mdx §Sharding,
 * §Rate Limiting). A session here is one bot running one shard (id 0), so all of its
 * identifies fall in bucket 0: one per 5 s, whatever max_concurrency is. A bigger
 * max_concurrency would only let several shards start together. */
static uint64_t ident_next_allowed(const struct gw_session *s, uint64_t now) {
  if (!s->last_identify)
    return now;
  uint64_t at = s->last_identify + GW_IDENT_WINDOW_MS + GW_IDENT_MARGIN_MS;
  return at > now ? at : now;
}

/* Waits, then start_connect again; reason (if any) is reported as BACKOFF. */
static void wait_then_connect(struct gw_session *s, uint64_t delay_ms, const char *reason) {
  s->phase = PH_IDLE;
  s->has_slot = false;
  s->t_reconnect = now_ms() + (delay_ms ? delay_ms : 1);
  if (reason) {
    snprintf(s->last_error, sizeof s->last_error, "%s", reason);
    log_info(MOD, "%s: %s", s->label, reason);
    set_state(s, GW_BACKOFF, reason);
  }
  arm_timer(s);
}

static void on_gateway_bot(const struct rest_result *r, void *arg);

static void fetch_gateway(struct gw_session *s) {
  s->phase = PH_FETCH;
  s->fetch = rest_request(s->rest, "GET", "/gateway/bot", NULL, 0, on_gateway_bot, s);
  if (!s->fetch) {
    s->phase = PH_IDLE;
    s->resume = false;
    schedule_reconnect(s, backoff_delay(s), "cannot request /gateway/bot (out of memory)");
  }
}

static void on_gateway_bot(const struct rest_result *r, void *arg) {
  struct gw_session *s = arg;
  s->fetch = NULL;
  s->phase = PH_IDLE;
  if (r->error == REST_ECANCELLED) {
    /* the REST client is going away (shutdown): try again later, nothing synchronous */
    s->resume = false;
    schedule_reconnect(s, backoff_delay(s), "GET /gateway/bot was cancelled");
    return;
  }
  if (r->error == REST_EQUARANTINED || r->status == 401) {
    s->last_close = 0;
    fail_session(s, "401 unauthorized: the bot token is invalid or was reset");
    return;
  }
  json_t *url = r->error == REST_OK && r->status == 200 ? json_object_get(r->body, "url") : NULL;
  if (!json_is_string(url) || !url_usable(s, json_string_value(url), "gateway URL")) {
    char why[160];
    if (r->error != REST_OK)
      snprintf(why, sizeof why, "GET /gateway/bot failed: %s",
               r->error_msg ? r->error_msg : "no answer");
    else if (r->status != 200)
      snprintf(why, sizeof why, "GET /gateway/bot answered HTTP %ld", r->status);
    else
      snprintf(why, sizeof why, "GET /gateway/bot gave no usable gateway URL");
    if (s->gateway_url) {
      /* the cached URL is still the best guess: go on with it */
      log_warn(MOD, "%s: %s; using the cached gateway URL", s->label, why);
      s->fetched_at = now_ms();
      s->force_fetch = false;
      start_connect(s);
    } else {
      s->resume = false;
      schedule_reconnect(s, backoff_delay(s), why);
    }
    return;
  }
  char *copy = strdup(json_string_value(url));
  if (!copy) {
    schedule_reconnect(s, backoff_delay(s), "out of memory");
    return;
  }
  free(s->gateway_url);
  s->gateway_url = copy;
  s->fetched_at = now_ms();
  s->force_fetch = false;
  json_t *lim = json_object_get(r->body, "session_start_limit");
  json_t *rem = json_object_get(lim, "remaining"), *after = json_object_get(lim, "reset_after");
  json_t *mc = json_object_get(lim, "max_concurrency");
  s->starts_remaining = json_is_integer(rem) ? (long)json_integer_value(rem) : -1;
  s->starts_reset_at =
      json_is_integer(after) && json_integer_value(after) > 0
          ? s->fetched_at + (uint64_t)json_integer_value(after)
          : 0;
  json_int_t mcv = json_is_integer(mc) ? json_integer_value(mc) : 1;
  s->max_concurrency = mcv < 1 ? 1 : mcv > 1024 ? 1024 : (unsigned)mcv;
  start_connect(s);
}

/* The next connection: resume on resume_gateway_url, or identify on the /gateway/bot URL
 * (fetched first when missing, stale or invalidated), within the identify budget. Both the
 * fetch and the connect happen only while holding a slot of the daemon-wide connection
 * queue, so thousands of sessions starting or coming back at once are paced as a whole. */
static void start_connect(struct gw_session *s) {
  uint64_t now = now_ms();
  s->t_reconnect = 0;
  set_state(s, GW_CONNECTING, NULL);
  if (s->stopped || G.shutting_down)
    return;
  if (s->resume && !have_session(s))
    s->resume = false;
  if (!s->resume) {
    bool fetch = !s->gateway_url || s->force_fetch || now - s->fetched_at >= GW_GATEWAY_TTL_MS;
    if (!fetch && s->starts_remaining == 0 && s->starts_reset_at > now) {
      char why[160];
      snprintf(why, sizeof why,
               "the bot used up its daily session starts; waiting %.0f s for the reset",
               (double)(s->starts_reset_at - now) / 1000.0);
      s->force_fetch = true;
      wait_then_connect(s, s->starts_reset_at - now, why);
      return;
    }
    uint64_t at = ident_next_allowed(s, now);
    if (at > now) {
      wait_then_connect(s, at - now, NULL); /* identify pacing: stays "connecting" */
      return;
    }
    if (fetch) {
      if (!s->has_slot)
        connq_push(s); /* comes back here with a slot */
      else
        fetch_gateway(s); /* comes back here, still holding the slot */
      return;
    }
  }
  if (!s->has_slot) {
    connq_push(s);
    return;
  }
  s->has_slot = false;
  conn_begin(s);
}

/* ---- incoming payloads ---- */

static void went_online(struct gw_session *s, const char *what) {
  s->phase = PH_ONLINE;
  s->attempt = 0;
  s->resume_failures = 0;
  s->resume = true; /* from now on, a lost connection resumes */
  log_info(MOD, "%s: online (%s)", s->label, what);
  set_state(s, GW_READY, NULL);
  if (s->stopped)
    return;
  s->connected_since = now_ms();
  if (s->q_first && s->wsi)
    lws_callback_on_writable(s->wsi);
}

static void on_ready(struct gw_session *s, json_t *d) {
  json_t *sid = json_object_get(d, "session_id");
  json_t *rurl = json_object_get(d, "resume_gateway_url");
  if (json_is_string(sid) && json_safe(json_string_value(sid), sizeof s->session_id - 1)) {
    snprintf(s->session_id, sizeof s->session_id, "%s", json_string_value(sid));
  } else {
    s->session_id[0] = 0;
    log_warn(MOD, "%s: READY without a usable session_id: this session cannot be resumed",
             s->label);
  }
  free(s->resume_url);
  s->resume_url = NULL;
  if (json_is_string(rurl) && url_usable(s, json_string_value(rurl), "resume_gateway_url"))
    s->resume_url = strdup(json_string_value(rurl)); /* NULL: resume on gateway_url */
  went_online(s, "READY");
}

static void on_hello(struct gw_session *s, json_t *d) {
  json_t *hi = json_object_get(d, "heartbeat_interval");
  if (s->phase != PH_HELLO) {
    log_debug(MOD, "%s: ignoring an unexpected Hello", s->label);
    return;
  }
  if (!json_is_integer(hi) || json_integer_value(hi) < 1 ||
      json_integer_value(hi) > 3600000) {
    log_warn(MOD, "%s: ignoring a Hello without a usable heartbeat_interval", s->label);
    return;
  }
  uint64_t now = now_ms();
  s->hb_interval = (unsigned)json_integer_value(hi);
  s->t_hello = 0;
  /* the first heartbeat after interval * jitter, jitter uniform in [0, 1) */
  s->t_heartbeat = now + (uint64_t)(rand01() * s->hb_interval);
  s->phase = PH_AUTH;
  if (s->resume && have_session(s)) {
    s->auth_pending = AUTH_RESUME;
    set_state(s, GW_RESUMING, NULL);
  } else {
    s->resume = false;
    uint64_t at = ident_next_allowed(s, now);
    if (at > now)
      s->t_identify = at;
    else
      s->auth_pending = AUTH_IDENTIFY;
    set_state(s, GW_IDENTIFYING, NULL);
  }
  if (s->stopped)
    return;
  if (s->auth_pending && s->wsi)
    lws_callback_on_writable(s->wsi);
  arm_timer(s);
}

static void on_dispatch(struct gw_session *s, json_t *root, json_t *d) {
  json_t *sq = json_object_get(root, "s"), *t = json_object_get(root, "t");
  if (json_is_integer(sq) && json_integer_value(sq) >= 0) {
    s->seq = (uint64_t)json_integer_value(sq);
    s->has_seq = true;
  }
  if (!json_is_string(t)) {
    log_warn(MOD, "%s: ignoring a dispatch without an event name", s->label);
    return;
  }
  const char *type = json_string_value(t);
  if (!strcmp(type, "READY"))
    on_ready(s, d);
  else if (!strcmp(type, "RESUMED"))
    went_online(s, "RESUMED");
  if (s->stopped)
    return;
  if (s->handler && s->handler->dispatch)
    s->handler->dispatch(s->ud, type, d ? d : json_null());
}

/* One complete text message from the gateway. Nothing in it is trusted: anything that is
 * not the expected shape is logged (never the token: it is not in what the server sends, and
 * the label names the session) and ignored. */
static void handle_message(struct gw_session *s, const char *buf, size_t len) {
  json_error_t err;
  json_t *root = json_loadb(buf, len, 0, &err);
  if (!json_is_object(root)) {
    log_warn(MOD, "%s: ignoring a malformed gateway payload (%zu bytes): %.80s", s->label, len,
             root ? "not a JSON object" : err.text);
    json_decref(root);
    return;
  }
  json_t *op = json_object_get(root, "op"), *d = json_object_get(root, "d");
  if (!json_is_integer(op)) {
    log_warn(MOD, "%s: ignoring a gateway payload without an integer op", s->label);
    json_decref(root);
    return;
  }
  switch (json_integer_value(op)) {
  case 0:
    on_dispatch(s, root, d);
    break;
  case 1: /* the server wants a heartbeat now */
    if (s->phase >= PH_HELLO && s->wsi && !s->hb_pending) {
      s->hb_pending = HB_REQUESTED;
      lws_callback_on_writable(s->wsi);
    }
    break;
  case 7:
    reconnect_now(s, 4000, true, backoff_delay(s), "the gateway asked for a reconnect (op 7)");
    break;
  case 9:
    if (json_is_true(d) && have_session(s)) {
      reconnect_now(s, 4000, true, backoff_delay(s), "invalid session (resumable, op 9)");
    } else {
      forget_session(s);
      s->force_fetch = true;
      /* the docs give no delay; libraries wait a random 1-5 s before identifying again */
      reconnect_now(s, 4000, false, 1000 + (unsigned)(rand01() * 4000.0),
                    "invalid session (op 9): starting a new session");
    }
    break;
  case 10:
    on_hello(s, d);
    break;
  case 11:
    s->hb_acked = true;
    if (s->hb_sent_hr) {
      s->latency_ms = (int)((uv_hrtime() - s->hb_sent_hr) / 1000000u);
      s->hb_sent_hr = 0;
    }
    break;
  default:
    log_debug(MOD, "%s: ignoring gateway op %" JSON_INTEGER_FORMAT, s->label,
              json_integer_value(op));
    break;
  }
  json_decref(root);
}

/* Fragments are collected until the message is complete. A message that fits one callback
 * (nearly all of them) is parsed in place, so the session holds no receive buffer between
 * messages; a bigger one is copied into a buffer that is freed right after. */
static void on_receive(struct gw_session *s, struct lws *wsi, const char *in, size_t len) {
  bool final = lws_is_final_fragment(wsi);
  if (!s->rx_skip && lws_frame_is_binary(wsi)) {
    log_warn(MOD, "%s: ignoring a binary gateway message (we asked for JSON, uncompressed)",
             s->label);
    s->rx_skip = true;
    free(s->rx);
    s->rx = NULL;
    s->rx_len = s->rx_cap = 0;
  }
  if (s->rx_skip) {
    if (final)
      s->rx_skip = false;
    return;
  }
  if (!s->rx_len && final) {
    handle_message(s, in, len);
    return;
  }
  if (s->rx_len + len > GW_RX_MAX) {
    log_warn(MOD, "%s: ignoring a gateway message over %u bytes", s->label, GW_RX_MAX);
    free(s->rx);
    s->rx = NULL;
    s->rx_len = s->rx_cap = 0;
    s->rx_skip = !final;
    return;
  }
  if (s->rx_len + len > s->rx_cap) {
    size_t cap = s->rx_cap ? s->rx_cap : 2 * GW_RX_CHUNK;
    while (cap < s->rx_len + len)
      cap *= 2;
    char *n = realloc(s->rx, cap);
    if (!n) {
      log_error(MOD, "%s: out of memory for a %zu-byte gateway message", s->label,
                s->rx_len + len);
      free(s->rx);
      s->rx = NULL;
      s->rx_len = s->rx_cap = 0;
      s->rx_skip = !final;
      return;
    }
    s->rx = n;
    s->rx_cap = cap;
  }
  memcpy(s->rx + s->rx_len, in, len);
  s->rx_len += len;
  if (!final)
    return;
  char *msg = s->rx;
  size_t mlen = s->rx_len;
  s->rx = NULL;
  s->rx_len = s->rx_cap = 0;
  handle_message(s, msg, mlen);
  free(msg);
}

/* ---- outgoing payloads ---- */

/* Sends on this connection within the last 60 s (dropping older entries). */
static unsigned sends_in_window(struct gw_session *s, uint64_t now) {
  uint32_t rel = (uint32_t)(now - s->conn_start);
  while (s->send_n && (uint32_t)(rel - s->send_log[s->send_head]) >= GW_SEND_WINDOW_MS) {
    s->send_head = (s->send_head + 1) % GW_SEND_LOG;
    s->send_n--;
  }
  return s->send_n;
}

static void send_log_push(struct gw_session *s, uint64_t now) {
  if (s->send_n == GW_SEND_LOG) {
    s->send_head = (s->send_head + 1) % GW_SEND_LOG;
    s->send_n--;
  }
  s->send_log[(s->send_head + s->send_n) % GW_SEND_LOG] = (uint32_t)(now - s->conn_start);
  s->send_n++;
}

/* When sends_in_window() drops below the budget again. */
static uint64_t send_next_slot(struct gw_session *s, uint64_t now) {
  uint32_t rel = (uint32_t)(now - s->conn_start);
  unsigned idx = (s->send_head + (s->send_n - GW_SEND_BUDGET)) % GW_SEND_LOG;
  uint32_t age = rel - s->send_log[idx];
  return now + (age < GW_SEND_WINDOW_MS ? GW_SEND_WINDOW_MS - age : 0) + 1;
}

static bool send_budget_ok(struct gw_session *s, uint64_t now) {
  if (sends_in_window(s, now) < GW_SEND_BUDGET)
    return true;
  if (!s->t_send) {
    s->t_send = send_next_slot(s, now);
    arm_timer(s);
  }
  return false;
}

/* One message per WRITEABLE callback, in priority order: a heartbeat (never held back by
 * the send budget), then Identify/Resume, then queued user payloads (only once online). */
static int on_writeable(struct gw_session *s, struct lws *wsi) {
  unsigned char buf[LWS_PRE + 1024];
  unsigned char *out = buf + LWS_PRE;
  uint64_t now = now_ms();
  size_t n;
  int len = 0;
  bool secret = false;
  struct gw_msg *m = NULL;

  if (s->hb_pending) {
    if (s->has_seq)
      len = snprintf((char *)out, 1024, "{\"op\":1,\"d\":%" PRIu64 "}", s->seq);
    else
      len = snprintf((char *)out, 1024, "{\"op\":1,\"d\":null}");
    if (s->hb_pending == HB_SCHEDULED) {
      s->hb_sent = true;
      s->hb_acked = false;
    }
    s->hb_pending = HB_NONE;
    s->hb_sent_hr = uv_hrtime();
  } else if (s->auth_pending) {
    if (!send_budget_ok(s, now))
      return 0;
    secret = true;
    if (s->auth_pending == AUTH_RESUME) {
      char seq[24] = "0"; /* READY always carries s, so this is only a guard */
      if (s->has_seq)
        snprintf(seq, sizeof seq, "%" PRIu64, s->seq);
      len = snprintf((char *)out, 1024,
                     "{\"op\":6,\"d\":{\"token\":\"%s\",\"session_id\":\"%s\",\"seq\":%s}}",
                     s->token, s->session_id, seq);
    } else {
      len = snprintf((char *)out, 1024,
                     "{\"op\":2,\"d\":{\"token\":\"%s\",\"intents\":%u,\"properties\":"
                     "{\"os\":\"linux\",\"browser\":\"astra\",\"device\":\"astra\"}}}",
                     s->token, s->intents);
      s->last_identify = now;
      if (s->starts_remaining > 0)
        s->starts_remaining--;
    }
    log_debug(MOD, "%s: sending %s", s->label,
              s->auth_pending == AUTH_RESUME ? "Resume" : "Identify");
    s->auth_pending = AUTH_NONE;
  } else if (s->phase == PH_ONLINE && s->q_first) {
    if (!send_budget_ok(s, now))
      return 0;
    m = s->q_first;
    s->q_first = m->next;
    if (!s->q_first)
      s->q_last = NULL;
    s->q_len--;
  } else {
    return 0;
  }
  if (!m && (len < 0 || len >= 1024))
    return -1; /* cannot happen: token, session id and numbers are bounded */
  unsigned char *p = m ? m->buf + LWS_PRE : out;
  n = m ? m->len : (size_t)len;
  int w = lws_write(wsi, p, n, LWS_WRITE_TEXT);
  if (secret)
    crypto_wipe(out, n);
  free(m);
  if (w < (int)n)
    return -1; /* the connection is broken; CLIENT_CLOSED follows and we resume */
  send_log_push(s, now);
  if (s->hb_pending || s->auth_pending || (s->phase == PH_ONLINE && s->q_first))
    lws_callback_on_writable(wsi);
  return 0;
}

/* ---- timers ---- */

static void heartbeat_tick(struct gw_session *s, uint64_t now) {
  if (s->phase < PH_AUTH || s->phase > PH_ONLINE || !s->wsi) {
    s->t_heartbeat = 0;
    return;
  }
  if (s->hb_pending == HB_SCHEDULED || (s->hb_sent && !s->hb_acked)) {
    /* no ACK between two heartbeats (or the last one could not even be written): a zombie
     * connection. Close with a non-1000 code so that the session stays resumable. */
    log_warn(MOD, "%s: no heartbeat ACK within %u ms: zombie connection", s->label,
             s->hb_interval);
    reconnect_now(s, 4000, true, backoff_delay(s),
                  "no heartbeat ACK: the connection is a zombie");
    return;
  }
  s->hb_pending = HB_SCHEDULED; /* also serves a server op 1 still waiting to be written */
  lws_callback_on_writable(s->wsi);
  s->t_heartbeat += s->hb_interval;
  if (s->t_heartbeat <= now)
    s->t_heartbeat = now + s->hb_interval;
}

static void on_timer(uv_timer_t *t) {
  struct gw_session *s = t->data;
  uint64_t now = now_ms();
  if (s->t_reconnect && now >= s->t_reconnect) {
    s->t_reconnect = 0;
    start_connect(s);
    if (s->stopped)
      return;
  }
  if (s->t_hello && now >= s->t_hello) {
    s->t_hello = 0;
    reconnect_now(s, 4000, true, backoff_delay(s), "no Hello from the gateway within 20 s");
    if (s->stopped)
      return;
  }
  if (s->t_heartbeat && now >= s->t_heartbeat) {
    heartbeat_tick(s, now);
    if (s->stopped)
      return;
  }
  if (s->t_identify && now >= s->t_identify) {
    s->t_identify = 0;
    if (s->phase == PH_AUTH && s->wsi) {
      s->auth_pending = AUTH_IDENTIFY;
      lws_callback_on_writable(s->wsi);
    }
  }
  if (s->t_send && now >= s->t_send) {
    s->t_send = 0;
    if (s->wsi)
      lws_callback_on_writable(s->wsi);
  }
  arm_timer(s);
}

/* ---- the lws protocol callback ---- */

/* The extra CA (TLS_CA_FILE) goes into the client SSL_CTX lws built, next to the system
 * bundle (see gw_global_init). X509 stores are additive, so both are trusted. */
static int load_extra_ca(SSL_CTX *ctx) {
  if (!G.ca_file || !ctx)
    return 0;
  if (SSL_CTX_load_verify_locations(ctx, G.ca_file, NULL) == 1)
    G.ca_loaded = true;
  else
    log_error(MOD, "cannot load the extra CA file %s into the gateway TLS context",
              G.ca_file);
  return 0;
}

/* A callback for a connection whose session moved on or was closed. */
static int stale_callback(struct lws *wsi, enum lws_callback_reasons reason, uint64_t key) {
  switch (reason) {
  case LWS_CALLBACK_CLIENT_WRITEABLE: {
    /* We write the close frame ourselves and then hang up. Returning -1 after
     * lws_close_reason() would be lws's way, but Debian builds lws 4.1.6 with _DEBUG, where
     * lws_service_fd_tsi closes a wsi twice ("uv repeat test") and the second call kills the
     * socket before the close frame goes out. Without an lws close reason, -1 is a plain
     * kill in every build, so exactly one close frame is sent. */
    int code = closing_code(key);
    if (code > 0) {
      unsigned char frame[LWS_PRE + 2];
      frame[LWS_PRE] = (unsigned char)(code >> 8);
      frame[LWS_PRE + 1] = (unsigned char)(code & 0xff);
      lws_write(wsi, frame + LWS_PRE, 2, GW_WRITE_CLOSE);
    }
    return -1;
  }
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    return -1; /* a connection nobody wants any more: drop it */
  case LWS_CALLBACK_WSI_DESTROY:
    /* at shutdown, the last close frame done lets the context go (from the loop: not
     * from inside this lws callback) */
    if (closing_remove(key) && G.shutting_down && !G.nclosing && G.handles)
      uv_timer_start(&G.grace_timer, on_grace_timer, 0, 0);
    return 0;
  default:
    return 0;
  }
}

static int gw_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                           void *in, size_t len) {
  switch (reason) {
  case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
    return load_extra_ca(user);
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
  case LWS_CALLBACK_CLIENT_RECEIVE:
  case LWS_CALLBACK_CLIENT_WRITEABLE:
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
  case LWS_CALLBACK_CLIENT_CLOSED:
  case LWS_CALLBACK_WSI_DESTROY:
    break;
  default:
    return 0;
  }
  uint64_t key = (uint64_t)(uintptr_t)user;
  if (!key)
    return 0; /* not a gateway connection (lws's own event pipe, for one) */
  struct gw_session *s = session_for_key(key);
  if (!s)
    return stale_callback(wsi, reason, key);
  if (!s->wsi)
    s->wsi = wsi;

  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
    char **p = in;
    int n = snprintf(*p, len, "User-Agent: %s\r\n", G.ua);
    if (n < 0 || (size_t)n >= len)
      return -1;
    *p += n;
    return 0;
  }
  case LWS_CALLBACK_CLIENT_ESTABLISHED: {
    uint64_t now = now_ms();
    s->phase = PH_HELLO;
    s->conn_start = now;
    s->peer_close = 0;
    s->t_hello = now + GW_HELLO_TIMEOUT_MS;
    log_debug(MOD, "%s: websocket connected", s->label);
    arm_timer(s);
    return 0;
  }
  case LWS_CALLBACK_CLIENT_RECEIVE:
    on_receive(s, wsi, in, len);
    return 0;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    return on_writeable(s, wsi);
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (in && len >= 2) {
      const unsigned char *c = in;
      s->peer_close = (c[0] << 8) | c[1];
    }
    return 0; /* lws echoes the close frame, then CLIENT_CLOSED */
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
    char why[160];
    snprintf(why, sizeof why, "connection failed: %.100s",
             in ? (const char *)in : "no reason given");
    conn_lost(s, 0, why);
    return 0;
  }
  case LWS_CALLBACK_CLIENT_CLOSED:
    conn_lost(s, s->peer_close, s->peer_close ? NULL : "connection closed without a close code");
    return 0;
  case LWS_CALLBACK_WSI_DESTROY: /* only if lws skipped both of the above */
    conn_lost(s, 0, "connection lost");
    return 0;
  default:
    return 0;
  }
}

static const struct lws_protocols gw_protocols[] = {
    /* first, so that it also gets the context-wide callbacks (WSI_DESTROY, the TLS CA
     * hook); rx_buffer_size keeps lws's per-connection receive buffer at 4 KB */
    {GW_PROTOCOL_NAME, gw_lws_callback, 0, GW_RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* lws logs (errors and warnings only) go through our log, which redacts secrets. */
static void lws_log_emit(int level, const char *line) {
  const char *p = strstr(line, "] ");
  if (p && p[2] && p[3] == ':' && p[4] == ' ')
    p += 5; /* drop lws's own timestamp and level letter */
  else
    p = line;
  size_t n = strlen(p);
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
    n--;
  log_msg(level == LLL_ERR ? LOG_WARN : LOG_INFO, "lws", NULL, "%.*s", (int)n, p);
}

/* ---- global ---- */

int gw_global_init(uv_loop_t *loop, const char *user_agent, const char *ca_file) {
  if (G.ctx || G.handles || !loop)
    return -1;
  const char *ua = user_agent && *user_agent ? user_agent : "DiscordBot (astra, 1)";
  for (const char *c = ua; *c; c++)
    if (*c < 0x20 || *c >= 0x7f) {
      log_error(MOD, "the User-Agent contains control characters");
      return -1;
    }
  memset(&G, 0, sizeof G);
  G.loop = loop;
  G.ua = strdup(ua);
  G.ca_file = ca_file && *ca_file ? strdup(ca_file) : NULL;
  if (!G.ua || (ca_file && *ca_file && !G.ca_file))
    goto fail;
  if (G.ca_file) {
    /* fail now, with a clear message, rather than on every TLS handshake later */
    X509_STORE *st = X509_STORE_new();
    int ok = st && X509_STORE_load_file(st, G.ca_file) == 1;
    X509_STORE_free(st);
    if (!ok) {
      log_error(MOD, "cannot load the CA file %s (TLS_CA_FILE)", G.ca_file);
      goto fail;
    }
  }
  if (crypto_random(&G.rng, sizeof G.rng) != 0 || !G.rng)
    G.rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;

  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

  struct lws_context_creation_info info;
  void *loops[1] = {loop};
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.foreign_loops = loops;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = gw_protocols;
  info.pcontext = &G.ctx;
  info.timeout_secs = 15; /* connect + TLS + upgrade; lws's default of 5 s is tight */
  /* The system bundle, named explicitly: without a CA file lws 4.1 also adds a directory
   * relative to the working directory ("../share") to the trust store. lws loads the OS
   * default paths as well (Debian builds it with LWS_SSL_CLIENT_USE_OS_CA_CERTS), and the
   * extra CA is added in LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS. */
  info.client_ssl_ca_filepath = X509_get_default_cert_file();
  G.ctx = lws_create_context(&info);
  if (!G.ctx) {
    log_error(MOD, "cannot create the websocket context (is libwebsockets-evlib-uv "
                   "installed?)");
    goto fail;
  }
  if (G.ca_file && !G.ca_loaded) {
    log_error(MOD, "the CA file %s was not added to the gateway TLS context", G.ca_file);
    lws_context_destroy(G.ctx); /* finished by gw_global_finish after uv_run */
    G.destroy_called = true;
    return -1;
  }
  uv_timer_init(loop, &G.q_timer);
  uv_timer_init(loop, &G.grace_timer);
  G.handles = true;
  G.tokens = GW_CONNECT_BURST;
  G.tokens_at = uv_now(loop);
  log_info(MOD, "gateway client ready (libwebsockets %s on the uv loop)",
           lws_get_library_version());
  return 0;
fail:
  free(G.ua);
  free(G.ca_file);
  memset(&G, 0, sizeof G);
  return -1;
}

static void destroy_context(void) {
  if (G.destroy_called || !G.ctx)
    return;
  G.destroy_called = true;
  if (G.handles) {
    uv_timer_stop(&G.grace_timer);
    uv_close((uv_handle_t *)&G.grace_timer, NULL);
    G.handles = false;
  }
  /* first of two calls (event-loop.md): closes every wsi and lws's uv handles from inside
   * the loop; gw_global_finish makes the second after uv_run returns */
  lws_context_destroy(G.ctx);
}

static void on_grace_timer(uv_timer_t *t) {
  (void)t;
  destroy_context();
}

void gw_global_shutdown(void) {
  if (!G.loop || G.shutting_down)
    return;
  G.shutting_down = true;
  if (G.nsessions)
    log_warn(MOD, "closing %u gateway sessions still open at shutdown", G.nsessions);
  while (G.sessions)
    gw_close(G.sessions);
  if (!G.handles) { /* init failed half-way */
    destroy_context();
    return;
  }
  uv_timer_stop(&G.q_timer);
  uv_close((uv_handle_t *)&G.q_timer, NULL);
  /* The context is destroyed from a timer callback: never from inside an lws callback
   * (the runtime may shut down from a gateway event), and, when close frames were just
   * queued, after they went out (the last one done restarts the timer at 0) or after
   * GW_SHUTDOWN_GRACE_MS, whichever comes first. */
  uv_timer_start(&G.grace_timer, on_grace_timer, G.nclosing ? GW_SHUTDOWN_GRACE_MS : 0, 0);
}

void gw_global_finish(void) {
  if (G.ctx) {
    /* second call: lws_context_destroy3 frees the context and NULLs G.ctx (pcontext) */
    lws_context_destroy(G.ctx);
  }
  free(G.ua);
  free(G.ca_file);
  free(G.slots);
  free(G.free_slots);
  free(G.closing);
  memset(&G, 0, sizeof G);
}

/* ---- sessions ---- */

struct gw_session *gw_open(const struct gw_options *opt) {
  if (!G.ctx || G.shutting_down || G.destroy_called || !opt || !opt->token || !opt->rest)
    return NULL;
  const char *label = opt->label && *opt->label ? opt->label : "gateway";
  if (!json_safe(opt->token, 256)) {
    log_error(MOD, "%s: refusing a bot token with characters a token cannot have", label);
    return NULL;
  }
  struct gw_session *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->token = strdup(opt->token);
  if (!s->token || slot_alloc(s) != 0) {
    free(s->token);
    free(s);
    return NULL;
  }
  snprintf(s->label, sizeof s->label, "%s", label);
  s->intents = opt->intents;
  s->rest = opt->rest;
  s->handler = opt->handler;
  s->ud = opt->ud;
  s->state = GW_CONNECTING;
  s->phase = PH_IDLE;
  s->latency_ms = -1;
  s->starts_remaining = -1;
  s->max_concurrency = 1;
  s->hb_acked = true;
  uv_timer_init(G.loop, &s->timer);
  s->timer.data = s;
  s->next = G.sessions;
  if (G.sessions)
    G.sessions->prev = s;
  G.sessions = s;
  G.nsessions++;
  /* start from the loop, not from the caller's stack (which may be an lws callback) */
  s->t_reconnect = now_ms();
  arm_timer(s);
  log_info(MOD, "%s: gateway session opened", s->label);
  return s;
}

static void session_free(uv_handle_t *h) {
  struct gw_session *s = h->data;
  crypto_wipe(s->token, strlen(s->token));
  free(s->token);
  free(s->gateway_url);
  free(s->resume_url);
  free(s->rx);
  while (s->q_first) {
    struct gw_msg *m = s->q_first;
    s->q_first = m->next;
    free(m);
  }
  free(s);
}

void gw_close(struct gw_session *s) {
  if (!s || s->stopped)
    return;
  log_info(MOD, "%s: closing the gateway session", s->label);
  if (s->fetch) {
    rest_cancel(s->fetch);
    s->fetch = NULL;
  }
  if (s->resolve) {
    s->resolve->s = NULL;
    uv_cancel((uv_req_t *)&s->resolve->req);
    s->resolve = NULL;
  }
  connq_remove(s);
  /* 1000: we stop this bot on purpose, so Discord may end the session (the bot goes
   * offline at once instead of lingering until the session times out) */
  conn_abandon(s, 1000);
  s->stopped = true;
  s->state = GW_STOPPED;
  slot_release(s);
  if (s->prev)
    s->prev->next = s->next;
  else
    G.sessions = s->next;
  if (s->next)
    s->next->prev = s->prev;
  G.nsessions--;
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->timer, session_free);
}

int gw_send(struct gw_session *s, const json_t *payload) {
  if (!s || s->stopped || s->state == GW_FAILED || !json_is_object(payload))
    return -1;
  json_t *op = json_object_get(payload, "op");
  if (!json_is_integer(op))
    return -1;
  json_int_t opv = json_integer_value(op);
  if (opv == 1 || opv == 2 || opv == 6) {
    /* heartbeats, Identify and Resume belong to the state machine */
    log_warn(MOD, "%s: gw_send refuses op %" JSON_INTEGER_FORMAT, s->label, opv);
    return -1;
  }
  char *txt = json_dumps(payload, JSON_COMPACT);
  if (!txt)
    return -1;
  size_t len = strlen(txt);
  if (len > GW_MAX_PAYLOAD) {
    log_warn(MOD, "%s: refusing a %zu-byte gateway payload (Discord's limit is %d)", s->label,
             len, GW_MAX_PAYLOAD);
    free(txt);
    return -1;
  }
  if (s->q_len >= GW_QUEUE_MAX) {
    log_warn(MOD, "%s: gateway send queue full (%d payloads)", s->label, GW_QUEUE_MAX);
    free(txt);
    return -1;
  }
  struct gw_msg *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) {
    free(txt);
    return -1;
  }
  m->next = NULL;
  m->len = len;
  memcpy(m->buf + LWS_PRE, txt, len);
  free(txt);
  if (s->q_last)
    s->q_last->next = m;
  else
    s->q_first = m;
  s->q_last = m;
  s->q_len++;
  if (s->phase == PH_ONLINE && s->wsi)
    lws_callback_on_writable(s->wsi);
  return 0;
}

void gw_get_info(const struct gw_session *s, struct gw_info *out) {
  memset(out, 0, sizeof *out);
  if (!s)
    return;
  out->state = s->state;
  out->latency_ms = s->latency_ms;
  out->reconnects = s->reconnects;
  out->connected_since = s->state == GW_READY ? s->connected_since : 0;
  out->last_close = s->last_close;
  snprintf(out->last_error, sizeof out->last_error, "%s", s->last_error);
  out->seq = s->seq;
  snprintf(out->session_id, sizeof out->session_id, "%s", s->session_id);
}

unsigned gw_sessions(void) { return G.nsessions; }
