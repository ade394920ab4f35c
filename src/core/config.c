/* Configuration: the Node system's environment variables, read from the real environment
 * and from a dotenv-style .env file (the environment wins), validated up front so that a
 * bad value stops the start with one line naming the variable, and the three secrets the
 * daemon can make itself (admin token, session secret, data key) kept in
 * <DATA_DIR>/.secrets so that they survive restarts without the operator writing them. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"

#define SECRETS_FILE ".secrets"
/* .env and .secrets are a few hundred bytes; anything huge is a mistake (a wrong path). */
#define KV_FILE_MAX (1024 * 1024)
#define SECRET_MIN_LEN 16
#define GRACE_MAX_MS 600000

/* ---- KEY=value files (.env, .secrets) ---- */

struct kv {
  char *key, *val;
};

struct kvlist {
  struct kv *v;
  size_t n, cap;
};

static void kv_free(struct kvlist *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].key);
    /* values may be secrets */
    if (l->v[i].val)
      crypto_wipe(l->v[i].val, strlen(l->v[i].val));
    free(l->v[i].val);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Takes ownership of key and val. */
static int kv_push(struct kvlist *l, char *key, char *val) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    struct kv *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      free(key);
      free(val);
      return -1;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (struct kv){key, val};
  return 0;
}

/* Last assignment wins, as when a shell sources the file. */
static const char *kv_get(const struct kvlist *l, const char *key) {
  for (size_t i = l->n; i-- > 0;)
    if (!strcmp(l->v[i].key, key))
      return l->v[i].val;
  return NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* A growable string for parsed values. */
struct sbuf {
  char *p;
  size_t len, cap;
};

static int sb_addc(struct sbuf *b, char c) {
  if (b->len + 2 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    char *p = realloc(b->p, cap);
    if (!p)
      return -1;
    b->p = p;
    b->cap = cap;
  }
  b->p[b->len++] = c;
  b->p[b->len] = '\0';
  return 0;
}

/* Parses dotenv text: KEY=value lines, '#' comments, blank lines, an optional "export "
 * prefix, 'single' (literal) and "double" quoted values (\n \r \t \" \\ escapes; both may
 * span lines, as in dotenv), and a " #" comment after an unquoted value. name is the file
 * name used in error messages. */
static int kv_parse(const char *name, const char *s, struct kvlist *out, char *err,
                    size_t errlen) {
  size_t i = 0;
  int line = 1;
  while (s[i]) {
    int start_line = line;
    while (is_blank(s[i]))
      i++;
    if (s[i] == '\n') {
      i++;
      line++;
      continue;
    }
    if (!s[i])
      break;
    if (s[i] == '#') {
      while (s[i] && s[i] != '\n')
        i++;
      continue;
    }
    if (!strncmp(s + i, "export", 6) && (s[i + 6] == ' ' || s[i + 6] == '\t')) {
      i += 6;
      while (s[i] == ' ' || s[i] == '\t')
        i++;
    }
    size_t k0 = i;
    if (!(isalpha((unsigned char)s[i]) || s[i] == '_'))
      goto malformed;
    while (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-')
      i++;
    size_t k1 = i;
    while (s[i] == ' ' || s[i] == '\t')
      i++;
    if (s[i] != '=')
      goto malformed;
    i++;
    while (s[i] == ' ' || s[i] == '\t')
      i++;

    struct sbuf v = {0};
    if (sb_addc(&v, 'x') != 0) /* allocate, so an empty value is "" not NULL */
      goto oom;
    v.len = 0;
    v.p[0] = '\0';
    if (s[i] == '"' || s[i] == '\'') {
      char q = s[i++];
      while (s[i] && s[i] != q) {
        char c = s[i];
        if (c == '\n')
          line++;
        if (q == '"' && c == '\\' && s[i + 1]) {
          char e = s[i + 1];
          c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e == '"' || e == '\\' ? e : 0;
          if (c) {
            i += 2;
          } else {
            /* unknown escape: kept as written, as dotenv does */
            c = '\\';
            i++;
          }
        } else {
          i++;
        }
        if (sb_addc(&v, c) != 0) {
          free(v.p);
          goto oom;
        }
      }
      if (s[i] != q) {
        free(v.p);
        set_err(err, errlen, "%s:%d: expected KEY=value (unterminated quote)", name,
                start_line);
        return -1;
      }
      i++;
      while (is_blank(s[i]))
        i++;
      if (s[i] == '#')
        while (s[i] && s[i] != '\n')
          i++;
      if (s[i] && s[i] != '\n') {
        free(v.p);
        line = start_line;
        goto malformed_at;
      }
    } else {
      while (s[i] && s[i] != '\n') {
        /* '#' starts a comment only after whitespace, so "pa#ss" stays a value */
        if (s[i] == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
          while (s[i] && s[i] != '\n')
            i++;
          break;
        }
        if (sb_addc(&v, s[i]) != 0) {
          free(v.p);
          goto oom;
        }
        i++;
      }
      while (v.len > 0 && is_blank(v.p[v.len - 1]))
        v.p[--v.len] = '\0';
    }
    char *key = strndup(s + k0, k1 - k0);
    if (!key || kv_push(out, key, v.p) != 0) {
      if (!key)
        free(v.p);
      goto oom;
    }
    continue;
  malformed:
    line = start_line;
  malformed_at:
    set_err(err, errlen, "%s:%d: expected KEY=value", name, line);
    return -1;
  }
  return 0;
oom:
  set_err(err, errlen, "%s: out of memory", name);
  return -1;
}

/* Reads all of fd into a malloc'd NUL-terminated string. */
static char *read_all(int fd, const char *name, char *err, size_t errlen) {
  size_t len = 0, cap = 4096;
  char *p = malloc(cap);
  if (!p) {
    set_err(err, errlen, "%s: out of memory", name);
    return NULL;
  }
  for (;;) {
    if (len + 1 == cap) {
      if (cap >= KV_FILE_MAX) {
        set_err(err, errlen, "%s: file too large (over %d bytes)", name, KV_FILE_MAX);
        goto fail;
      }
      char *q = realloc(p, cap * 2);
      if (!q) {
        set_err(err, errlen, "%s: out of memory", name);
        goto fail;
      }
      p = q;
      cap *= 2;
    }
    ssize_t r = read(fd, p + len, cap - 1 - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      set_err(err, errlen, "%s: %s", name, strerror(errno));
      goto fail;
    }
    if (r == 0)
      break;
    len += (size_t)r;
  }
  p[len] = '\0';
  if (strlen(p) != len) {
    set_err(err, errlen, "%s: contains a NUL byte", name);
    goto fail;
  }
  return p;
fail:
  crypto_wipe(p, len);
  free(p);
  return NULL;
}

static int parse_fd(int fd, const char *name, struct kvlist *out, char *err, size_t errlen) {
  char *text = read_all(fd, name, err, errlen);
  if (!text)
    return -1;
  int rc = kv_parse(name, text, out, err, errlen);
  crypto_wipe(text, strlen(text));
  free(text);
  return rc;
}

/* ---- the variables ---- */

enum kind {
  K_SECRET,       /* any string */
  K_SECRET_MIN16, /* at least SECRET_MIN_LEN chars */
  K_TEXT,         /* any string, not secret (public identifiers) */
  K_HEXKEY,       /* 64 hex digits */
  K_PORT,
  K_HOST,
  K_PATH,
  K_LEVEL,
  K_LOCALE,
  K_URL,      /* an http(s) URL, kept exact */
  K_URL_BASE, /* an http(s) URL that paths are appended to: trailing '/' removed */
  K_CAFILE,
  K_GRACE,
  K_PERCENT,  /* "4.99": stored as basis points (499), 0-100 with at most 2 decimals */
  K_CENTS,    /* an amount in cents, 0 - 100000000 */
  K_BOOL,     /* 1/0, true/false, yes/no, on/off */
  K_SECONDS,  /* an interval in seconds, 1 - 3600 */
};

struct var {
  const char *name;
  enum kind kind;
  size_t off;      /* into struct config: char * for strings, int for ports and grace */
  const char *def; /* NULL: unset by default */
};

#define OFF(f) offsetof(struct config, f)

/* The order here is the order of config_print and of validation (so PUBLIC_URL's default
 * can use the PORTAL_PORT already read). */
static const struct var vars[] = {
    {"DISCORD_TOKEN", K_SECRET, OFF(discord_token), NULL},
    {"PORTAL_SESSION_SECRET", K_SECRET_MIN16, OFF(portal_session_secret), NULL},
    {"DISCORD_OAUTH_CLIENT_ID", K_TEXT, OFF(discord_oauth_client_id), NULL},
    {"DISCORD_OAUTH_CLIENT_SECRET", K_SECRET, OFF(discord_oauth_client_secret), NULL},
    {"DISCORD_OAUTH_REDIRECT_URI", K_URL, OFF(discord_oauth_redirect_uri), NULL},
    {"MERCADOPAGO_ACCESS_TOKEN", K_SECRET, OFF(mercadopago_access_token), NULL},
    {"MERCADOPAGO_WEBHOOK_SECRET", K_SECRET, OFF(mercadopago_webhook_secret), NULL},
    {"ADMIN_PANEL_TOKEN", K_SECRET_MIN16, OFF(admin_panel_token), NULL},
    {"DATA_ENCRYPTION_KEY", K_HEXKEY, OFF(data_encryption_key), NULL},
    {"PORTAL_PORT", K_PORT, OFF(portal_port), "3100"},
    {"ADMIN_PORT", K_PORT, OFF(admin_port), "3000"},
    {"PORTAL_HOST", K_HOST, OFF(portal_host), "0.0.0.0"},
    {"TRUST_PROXY", K_BOOL, OFF(trust_proxy), "0"},
    {"ADMIN_HOST", K_HOST, OFF(admin_host), "127.0.0.1"},
    {"DATA_DIR", K_PATH, OFF(data_dir), "./data"},
    {"LOG_DIR", K_PATH, OFF(log_dir), "./logs"},
    {"WEB_DIR", K_PATH, OFF(web_dir), "./web"},
    {"LOG_LEVEL", K_LEVEL, OFF(log_level), "info"},
    {"PUBLIC_URL", K_URL_BASE, OFF(public_url), NULL /* http://localhost:<PORTAL_PORT> */},
    {"LOCALE", K_LOCALE, OFF(locale), "pt-BR"},
    {"DISCORD_API_BASE", K_URL_BASE, OFF(discord_api_base), "https://discord.com/api/v10"},
    {"DISCORD_OAUTH_AUTHORIZE_URL", K_URL, OFF(discord_oauth_authorize_url),
     "https://discord.com/oauth2/authorize"},
    {"MERCADOPAGO_API_BASE", K_URL_BASE, OFF(mercadopago_api_base),
     "https://api.mercadopago.com"},
    {"TLS_CA_FILE", K_CAFILE, OFF(tls_ca_file), NULL},
    {"SHUTDOWN_GRACE_MS", K_GRACE, OFF(shutdown_grace_ms), "10000"},
    {"PLATFORM_FEE_PERCENT", K_PERCENT, OFF(platform_fee_bp), "5"},
    {"PLATFORM_FEE_FIXED_CENTS", K_CENTS, OFF(platform_fee_fixed_cents), "0"},
    {"PAYMENT_RECONCILE_SECONDS", K_SECONDS, OFF(payment_reconcile_seconds), "60"},
};
#define NVARS (sizeof vars / sizeof vars[0])

static int is_secret(enum kind k) {
  return k == K_SECRET || k == K_SECRET_MIN16 || k == K_HEXKEY;
}

static int is_int(enum kind k) {
  return k == K_PORT || k == K_GRACE || k == K_PERCENT || k == K_CENTS || k == K_BOOL ||
         k == K_SECONDS;
}

static int is_string(enum kind k) { return !is_int(k) && k != K_LEVEL; }

static char **str_field(struct config *c, const struct var *v) {
  return (char **)(void *)((char *)c + v->off);
}

static char *const *cstr_field(const struct config *c, const struct var *v) {
  return (char *const *)(const void *)((const char *)c + v->off);
}

static int *int_field(struct config *c, const struct var *v) {
  return (int *)(void *)((char *)c + v->off);
}

static const struct var *var_named(const char *name) {
  for (size_t i = 0; i < NVARS; i++)
    if (!strcmp(vars[i].name, name))
      return &vars[i];
  return NULL;
}

/* Strict decimal in [lo, hi]: no sign, no spaces, no trailing junk. */
static int parse_int(const char *s, long lo, long hi, int *out) {
  long v = 0;
  if (!*s)
    return -1;
  for (const char *p = s; *p; p++) {
    if (!isdigit((unsigned char)*p))
      return -1;
    v = v * 10 + (*p - '0');
    if (v > hi)
      return -1;
  }
  if (v < lo)
    return -1;
  *out = (int)v;
  return 0;
}

/* "5", "4.99", "0.5" -> basis points (500, 499, 50); at most 2 decimals, 0-100. */
static int parse_percent(const char *s, int *out) {
  long whole = 0, frac = 0;
  int digits = 0, fdigits = -1;
  for (const char *p = s; *p; p++) {
    if (*p == '.' && fdigits < 0 && digits) {
      fdigits = 0;
    } else if (isdigit((unsigned char)*p)) {
      if (fdigits >= 0) {
        if (++fdigits > 2)
          return -1;
        frac = frac * 10 + (*p - '0');
      } else if (++digits > 3) {
        return -1;
      } else {
        whole = whole * 10 + (*p - '0');
      }
    } else {
      return -1;
    }
  }
  if (!digits || fdigits == 0)
    return -1;
  if (fdigits == 1)
    frac *= 10;
  long bp = whole * 100 + (fdigits > 0 ? frac : 0);
  if (bp > 10000)
    return -1;
  *out = (int)bp;
  return 0;
}

static int valid_host(const char *s) {
  unsigned char addr[16];
  return !strcmp(s, "localhost") || inet_pton(AF_INET, s, addr) == 1 ||
         inet_pton(AF_INET6, s, addr) == 1;
}

/* http:// or https://, then a non-empty host (optionally [v6], optionally :port), no
 * whitespace or control characters anywhere. */
static int valid_url(const char *s) {
  size_t skip;
  if (!strncasecmp(s, "http://", 7))
    skip = 7;
  else if (!strncasecmp(s, "https://", 8))
    skip = 8;
  else
    return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f)
      return 0;
  const char *a = s + skip;
  size_t alen = strcspn(a, "/?#");
  const char *at = memchr(a, '@', alen);
  if (at) {
    alen -= (size_t)(at + 1 - a);
    a = at + 1;
  }
  if (alen == 0)
    return 0;
  size_t hlen;
  if (a[0] == '[') {
    const char *close = memchr(a, ']', alen);
    if (!close || close == a + 1)
      return 0;
    hlen = (size_t)(close - a) + 1;
  } else {
    const char *colon = memchr(a, ':', alen);
    hlen = colon ? (size_t)(colon - a) : alen;
  }
  if (hlen == 0)
    return 0;
  if (hlen < alen) {
    if (a[hlen] != ':')
      return 0;
    char port[8];
    size_t plen = alen - hlen - 1;
    int p;
    if (plen == 0 || plen >= sizeof port)
      return 0;
    memcpy(port, a + hlen + 1, plen);
    port[plen] = '\0';
    if (parse_int(port, 1, 65535, &p) != 0)
      return 0;
  }
  return 1;
}

static int is_loopback(const char *h) {
  return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

static int is_wildcard(const char *h) { return !strcmp(h, "0.0.0.0") || !strcmp(h, "::"); }

/* Two listeners on these hosts and one port would collide at bind(): same address, both
 * loopback names, or one of them the wildcard (which takes the port on every address). */
static int hosts_overlap(const char *a, const char *b) {
  return !strcmp(a, b) || (is_loopback(a) && is_loopback(b)) || is_wildcard(a) ||
         is_wildcard(b);
}

/* Validates raw (NULL or "": unset) for v and stores it in c. */
static int set_var(struct config *c, const struct var *v, const char *raw, char *err,
                   size_t errlen) {
  const char *val = raw && *raw ? raw : NULL;
  char deflt[64];
  if (!val && v->def)
    val = v->def;
  if (!val && v->kind == K_URL_BASE && !strcmp(v->name, "PUBLIC_URL")) {
    snprintf(deflt, sizeof deflt, "http://localhost:%d", c->portal_port);
    val = deflt;
  }
  switch (v->kind) {
  case K_SECRET:
    break;
  case K_SECRET_MIN16:
    if (val && strlen(val) < SECRET_MIN_LEN) {
      /* the value itself is never echoed: it may be a real (if short) secret */
      set_err(err, errlen, "%s: expected at least %d characters, got %zu", v->name,
              SECRET_MIN_LEN, strlen(val));
      return -1;
    }
    break;
  case K_TEXT:
    break;
  case K_HEXKEY:
    if (val) {
      size_t n = strlen(val);
      if (n != 64) {
        set_err(err, errlen, "%s: expected 64 hex digits (32 bytes), got %zu characters",
                v->name, n);
        return -1;
      }
      if (crypto_unhex(val, c->data_key, sizeof c->data_key) != 0) {
        set_err(err, errlen, "%s: expected 64 hex digits (32 bytes), got a non-hex character",
                v->name);
        return -1;
      }
    }
    break;
  case K_PORT:
    if (parse_int(val, 1, 65535, int_field(c, v)) != 0) {
      set_err(err, errlen, "%s: expected a port number 1-65535, got '%.100s'", v->name, val);
      return -1;
    }
    return 0;
  case K_GRACE:
    if (parse_int(val, 0, GRACE_MAX_MS, int_field(c, v)) != 0) {
      set_err(err, errlen, "%s: expected a number of milliseconds 0-%d, got '%.100s'", v->name,
              GRACE_MAX_MS, val);
      return -1;
    }
    return 0;
  case K_BOOL:
    if (!strcasecmp(val, "1") || !strcasecmp(val, "true") || !strcasecmp(val, "yes") ||
        !strcasecmp(val, "on"))
      *int_field(c, v) = 1;
    else if (!strcasecmp(val, "0") || !strcasecmp(val, "false") || !strcasecmp(val, "no") ||
             !strcasecmp(val, "off"))
      *int_field(c, v) = 0;
    else {
      set_err(err, errlen, "%s: expected 1 or 0 (true/false, yes/no, on/off), got '%.100s'",
              v->name, val);
      return -1;
    }
    return 0;
  case K_PERCENT:
    if (parse_percent(val, int_field(c, v)) != 0) {
      set_err(err, errlen, "%s: expected a percentage 0-100 with at most 2 decimals, got '%.100s'",
              v->name, val);
      return -1;
    }
    return 0;
  case K_CENTS:
    if (parse_int(val, 0, 100000000, int_field(c, v)) != 0) {
      set_err(err, errlen, "%s: expected an amount in cents 0-100000000, got '%.100s'", v->name,
              val);
      return -1;
    }
    return 0;
  case K_SECONDS:
    if (parse_int(val, 1, 3600, int_field(c, v)) != 0) {
      set_err(err, errlen, "%s: expected a number of seconds 1-3600, got '%.100s'", v->name,
              val);
      return -1;
    }
    return 0;
  case K_LEVEL: {
    int l = log_level_parse(val);
    if (l < 0) {
      set_err(err, errlen, "%s: expected one of debug, info, warn, error, got '%.100s'",
              v->name, val);
      return -1;
    }
    c->log_level = (enum log_level)l;
    return 0;
  }
  case K_HOST:
    if (!valid_host(val)) {
      set_err(err, errlen, "%s: expected an IPv4 or IPv6 address or localhost, got '%.100s'",
              v->name, val);
      return -1;
    }
    break;
  case K_PATH:
    break;
  case K_LOCALE:
    /* stored in its canonical spelling: the message catalogue looks it up verbatim */
    if (!strcasecmp(val, "pt-BR") || !strcasecmp(val, "pt_BR"))
      val = "pt-BR";
    else if (!strcasecmp(val, "en"))
      val = "en";
    else {
      set_err(err, errlen, "%s: expected pt-BR or en, got '%.100s'", v->name, val);
      return -1;
    }
    break;
  case K_URL:
  case K_URL_BASE:
    if (val && !valid_url(val)) {
      set_err(err, errlen, "%s: expected an http:// or https:// URL with a host, got '%.100s'",
              v->name, val);
      return -1;
    }
    break;
  case K_CAFILE:
    if (val) {
      struct stat st;
      int fd = open(val, O_RDONLY | O_CLOEXEC);
      int e = errno;
      if (fd >= 0) {
        e = fstat(fd, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
        close(fd);
      }
      if (fd < 0 || e) {
        set_err(err, errlen, "%s: expected a readable file, got '%.200s' (%s)", v->name, val,
                e == EISDIR ? "not a regular file" : strerror(e));
        return -1;
      }
    }
    break;
  }
  if (!val)
    return 0;
  char *copy = strdup(val);
  if (!copy) {
    set_err(err, errlen, "%s: out of memory", v->name);
    return -1;
  }
  if (v->kind == K_URL_BASE) {
    /* callers append "/path"; "https://x/api/" would give "//path" */
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/' && copy[n - 2] != '/')
      copy[--n] = '\0';
  }
  char **f = str_field(c, v);
  free(*f);
  *f = copy;
  return 0;
}

int config_load(struct config *c, const char *env_file, char *err, size_t errlen) {
  struct kvlist dotenv = {0};
  const char *path = env_file ? env_file : "./.env";
  memset(c, 0, sizeof *c);
  set_err(err, errlen, "%s", "");

  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    /* Only the implicit ./.env is optional; a file named by the operator must exist. */
    if (env_file || errno != ENOENT) {
      set_err(err, errlen, "%s: %s", path, strerror(errno));
      return -1;
    }
  } else {
    int rc = parse_fd(fd, path, &dotenv, err, errlen);
    close(fd);
    if (rc != 0)
      goto fail;
  }

  for (size_t i = 0; i < NVARS; i++) {
    /* As with Node's dotenv, a variable present in the environment wins even when empty;
     * empty then means "unset" (the default applies). */
    const char *raw = getenv(vars[i].name);
    if (!raw)
      raw = kv_get(&dotenv, vars[i].name);
    if (set_var(c, &vars[i], raw, err, errlen) != 0)
      goto fail;
  }
  if (c->portal_port == c->admin_port && hosts_overlap(c->portal_host, c->admin_host)) {
    set_err(err, errlen,
            "ADMIN_PORT: expected a port different from PORTAL_PORT (%d) when both listen on "
            "the same address, got '%d'",
            c->portal_port, c->admin_port);
    goto fail;
  }
  kv_free(&dotenv);
  return 0;
fail:
  kv_free(&dotenv);
  config_free(c);
  return -1;
}

/* ---- <DATA_DIR>/.secrets ---- */

/* mkdir -p with mode for every directory created; existing ones are left as they are. */
static int mkdir_p(const char *path, mode_t mode) {
  char *p = strdup(path);
  if (!p)
    return -1;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) != 0 && errno != EEXIST) {
      int e = errno;
      free(p);
      errno = e;
      return -1;
    }
    *s = '/';
  }
  int rc = 0;
  if (mkdir(p, mode) != 0) {
    struct stat st;
    if (errno != EEXIST)
      rc = -1;
    else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      rc = -1;
    }
  }
  int e = errno;
  free(p);
  errno = e;
  return rc;
}

/* Values written back are quoted only when they must be, so that the file reads like the
 * .env the operator knows. */
static int write_value(struct sbuf *b, const char *v) {
  int plain = 1;
  for (const char *p = v; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.~+/:@%,=-", *p))
      plain = 0;
  int rc = 0;
  if (!plain)
    rc |= sb_addc(b, '"');
  for (const char *p = v; *p; p++) {
    if (plain) {
      rc |= sb_addc(b, *p);
    } else if (*p == '\n') {
      rc |= sb_addc(b, '\\');
      rc |= sb_addc(b, 'n');
    } else if (*p == '\r') {
      rc |= sb_addc(b, '\\');
      rc |= sb_addc(b, 'r');
    } else if (*p == '\t') {
      rc |= sb_addc(b, '\\');
      rc |= sb_addc(b, 't');
    } else {
      if (*p == '"' || *p == '\\')
        rc |= sb_addc(b, '\\');
      rc |= sb_addc(b, *p);
    }
  }
  if (!plain)
    rc |= sb_addc(b, '"');
  return rc;
}

static int write_str(struct sbuf *b, const char *s) {
  int rc = 0;
  for (; *s; s++)
    rc |= sb_addc(b, *s);
  return rc;
}

/* Atomic replace: a crash leaves either the old file or the new one, never half of the
 * key that decrypts every stored bot token. */
static int write_file_atomic(const char *dir, const char *path, const char *data, size_t n,
                             char *err, size_t errlen) {
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
    set_err(err, errlen, "%s: path too long", path);
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_err(err, errlen, "%s: %s", tmp, strerror(errno));
    return -1;
  }
  /* A leftover tmp from a crash keeps its old mode through O_TRUNC: force 0600. */
  if (fchmod(fd, 0600) != 0)
    goto fail;
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, data + off, n - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      goto fail;
    off += (size_t)w;
  }
  if (fsync(fd) != 0)
    goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    goto fail;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync(dfd) != 0) {
    set_err(err, errlen, "%s: fsync: %s", dir, strerror(errno));
    if (dfd >= 0)
      close(dfd);
    return -1;
  }
  close(dfd);
  return 0;
fail:
  set_err(err, errlen, "%s: %s", tmp, strerror(errno));
  if (fd >= 0)
    close(fd);
  unlink(tmp);
  return -1;
}

static char *random_hex32(void) {
  unsigned char raw[32];
  char hex[65];
  if (crypto_random(raw, sizeof raw) != 0)
    return NULL;
  crypto_hex(raw, sizeof raw, hex);
  crypto_wipe(raw, sizeof raw);
  char *s = strdup(hex);
  crypto_wipe(hex, sizeof hex);
  return s;
}

int config_secrets(struct config *c, char *err, size_t errlen) {
  static const char *const names[] = {"ADMIN_PANEL_TOKEN", "PORTAL_SESSION_SECRET",
                                      "DATA_ENCRYPTION_KEY"};
  int generated[3] = {0, 0, 0}, any = 0, rc = -1;
  struct kvlist file = {0};
  struct sbuf out = {0};
  char path[4096];

  set_err(err, errlen, "%s", "");
  if (!c->data_dir) {
    set_err(err, errlen, "DATA_DIR: not set (config_load first)");
    return -1;
  }
  if (mkdir_p(c->data_dir, 0700) != 0) {
    set_err(err, errlen, "DATA_DIR: cannot create '%.200s': %s", c->data_dir, strerror(errno));
    return -1;
  }
  if ((size_t)snprintf(path, sizeof path, "%s/%s", c->data_dir, SECRETS_FILE) >= sizeof path) {
    set_err(err, errlen, "DATA_DIR: path too long");
    return -1;
  }

  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) {
    set_err(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      set_err(err, errlen, "%s: not a regular file", path);
      close(fd);
      return -1;
    }
    /* A copy or an unpacked backup often comes back 0644; fix it rather than refuse. */
    if (st.st_mode & 077) {
      if (fchmod(fd, 0600) != 0) {
        set_err(err, errlen, "%s: readable by others and chmod 0600 failed: %s", path,
                strerror(errno));
        close(fd);
        return -1;
      }
      log_warn("config", "%s was readable by group or others; its mode is now 0600", path);
    }
    int prc = parse_fd(fd, path, &file, err, errlen);
    close(fd);
    if (prc != 0)
      goto done;
  }

  for (int i = 0; i < 3; i++) {
    const struct var *v = var_named(names[i]);
    char **f = str_field(c, v);
    const char *stored = kv_get(&file, names[i]);
    if (stored && !*stored)
      stored = NULL;
    if (*f) {
      /* The environment wins, but a different data key would make every stored token
       * unreadable: say so, loudly, once. */
      if (i == 2 && stored && strcasecmp(stored, *f) != 0)
        log_warn("config",
                 "DATA_ENCRYPTION_KEY from the environment differs from the one in %s; data "
                 "sealed with the other key cannot be opened",
                 path);
      continue;
    }
    if (stored) {
      char sub[128];
      if (set_var(c, v, stored, sub, sizeof sub) != 0) {
        set_err(err, errlen, "%s: %s", path, sub);
        goto done;
      }
      continue;
    }
    if (!(*f = random_hex32())) {
      set_err(err, errlen, "%s: cannot generate %s", path, names[i]);
      goto done;
    }
    generated[i] = 1;
    any = 1;
  }

  if (any) {
    int w = write_str(&out, "# Secrets generated by astrad on first start. Keep this file with "
                            "the data:\n# DATA_ENCRYPTION_KEY decrypts the stored bot tokens "
                            "and stock keys.\n");
    /* Keep what the file already held (even values the environment overrides this time),
     * one line per key, then add what was generated. */
    for (size_t i = 0; i < file.n; i++) {
      int later = 0;
      for (size_t j = i + 1; j < file.n; j++)
        if (!strcmp(file.v[i].key, file.v[j].key))
          later = 1;
      int regenerated = 0;
      for (int k = 0; k < 3; k++)
        if (generated[k] && !strcmp(file.v[i].key, names[k]))
          regenerated = 1;
      if (later || regenerated)
        continue;
      w |= write_str(&out, file.v[i].key);
      w |= sb_addc(&out, '=');
      w |= write_value(&out, file.v[i].val);
      w |= sb_addc(&out, '\n');
    }
    for (int k = 0; k < 3; k++) {
      if (!generated[k])
        continue;
      w |= write_str(&out, names[k]);
      w |= sb_addc(&out, '=');
      w |= write_value(&out, *str_field(c, var_named(names[k])));
      w |= sb_addc(&out, '\n');
    }
    if (w != 0) {
      set_err(err, errlen, "%s: out of memory", path);
      goto done;
    }
    if (write_file_atomic(c->data_dir, path, out.p, out.len, err, errlen) != 0)
      goto done;
  }

  if (crypto_unhex(c->data_encryption_key, c->data_key, sizeof c->data_key) != 0) {
    set_err(err, errlen, "DATA_ENCRYPTION_KEY: expected 64 hex digits (32 bytes)");
    goto done;
  }
  for (size_t i = 0; i < NVARS; i++)
    if (is_secret(vars[i].kind))
      log_add_secret(*str_field(c, &vars[i]));
  c->admin_token_generated = generated[0];
  rc = 0;
done:
  kv_free(&file);
  if (out.p) {
    crypto_wipe(out.p, out.len);
    free(out.p);
  }
  return rc;
}

void config_print(const struct config *c, FILE *out) {
  for (size_t i = 0; i < NVARS; i++) {
    const struct var *v = &vars[i];
    if (v->kind == K_PERCENT) {
      int bp = *(const int *)(const void *)((const char *)c + v->off);
      fprintf(out, "%s=%d.%02d\n", v->name, bp / 100, bp % 100);
    } else if (is_int(v->kind)) {
      fprintf(out, "%s=%d\n", v->name, *(const int *)(const void *)((const char *)c + v->off));
    } else if (v->kind == K_LEVEL) {
      fprintf(out, "%s=%s\n", v->name, log_level_name(c->log_level));
    } else {
      const char *s = *cstr_field(c, v);
      if (!s)
        fprintf(out, "%s=(unset)\n", v->name);
      else if (is_secret(v->kind))
        /* not even a suffix: the length is enough to tell "set" from "typo" */
        fprintf(out, "%s=(set, %zu chars)\n", v->name, strlen(s));
      else
        fprintf(out, "%s=%s\n", v->name, s);
    }
  }
}

void config_free(struct config *c) {
  for (size_t i = 0; i < NVARS; i++) {
    if (!is_string(vars[i].kind))
      continue;
    char **f = str_field(c, &vars[i]);
    if (*f && is_secret(vars[i].kind))
      crypto_wipe(*f, strlen(*f));
    free(*f);
    *f = NULL;
  }
  crypto_wipe(c->data_key, sizeof c->data_key);
  memset(c, 0, sizeof *c);
}
