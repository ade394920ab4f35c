/* Stock of keys without HTTP: parsing a seller's upload (lines or CSV) into keys with their
 * line numbers and problems, the mask a seller sees instead of a key, the keyed hash that
 * keeps a key unique per instance, sealing, and the record and its public view. */
#include <stdlib.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "core/crypto.h"
#include "shop/stock.h"

/* ---- parsing ---- */

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Code points in s[0..len) (valid UTF-8: jansson refuses anything else). */
static size_t utf8_count(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* C0 controls, DEL and C1 controls (U+0080-U+009F, encoded C2 80-9F): none belongs in a key
 * that a buyer will copy from a DM, and a NUL would cut the key short in C strings. */
static int has_control(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7F)
      return 1;
    if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
        (unsigned char)s[i + 1] <= 0x9F)
      return 1;
  }
  return 0;
}

/* A header cell: the words a seller's spreadsheet puts above a column of keys. ASCII is
 * folded, and "Ó" too, for "CÓDIGO". */
static int is_header(const char *s, size_t len) {
  static const char *const words[] = {"key", "chave", "keys", "chaves", "codigo", "código"};
  char low[16];
  if (len >= sizeof low)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    else if ((unsigned char)c == 0x93 && i > 0 && (unsigned char)s[i - 1] == 0xC3)
      c = (char)0xB3; /* Ó (C3 93) -> ó (C3 B3) */
    low[i] = c;
  }
  low[len] = 0;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (!strcmp(low, words[i]))
      return 1;
  return 0;
}

struct parser {
  struct shop_stock_upload *u;
  size_t cap;
  char *out; /* next free byte of u->buf_ */
};

/* Adds one raw entry: trims it, drops it when empty, copies it into the buffer. 0, 1 when
 * the upload is over the limit (parsing stops), -1 when out of memory. */
static int add_entry(struct parser *p, const char *s, size_t len, unsigned line) {
  while (len && is_space((unsigned char)s[0]))
    s++, len--;
  while (len && is_space((unsigned char)s[len - 1]))
    len--;
  if (!len)
    return 0;
  struct shop_stock_upload *u = p->u;
  if (u->n == SHOP_STOCK_MAX_KEYS) {
    u->too_many = 1;
    return 1;
  }
  if (u->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    struct shop_stock_entry *e = realloc(u->entries, cap * sizeof *e);
    if (!e)
      return -1;
    u->entries = e;
    p->cap = cap;
  }
  struct shop_stock_entry *e = &u->entries[u->n++];
  memmove(p->out, s, len); /* csv entries are already in place: s may be p->out */
  p->out[len] = 0;
  e->key = p->out;
  e->len = len;
  e->line = line;
  p->out += len + 1;
  if (utf8_count(s, len) > SHOP_STOCK_MAX_KEY_CHARS)
    e->problem = SHOP_STOCK_TOO_LONG;
  else if (has_control(s, len))
    e->problem = SHOP_STOCK_CONTROL_CHARS;
  else
    e->problem = SHOP_STOCK_OK;
  return 0;
}

static int parse_lines(struct parser *p, const char *s, size_t len) {
  unsigned line = 1;
  size_t pos = 0;
  while (pos < len) {
    const char *nl = memchr(s + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - s) : len;
    int rc = add_entry(p, s + pos, end - pos, line);
    if (rc)
      return rc;
    line++;
    pos = end + 1;
  }
  return 0;
}

/* One CSV field starting at *pos; its content (quotes resolved) goes to dst (which has room:
 * a field never grows), *dlen its length. Stops before the ',' or '\n' that ends it, or at
 * the end; counts newlines inside quotes into *line. A quote that never closes takes the
 * rest of the text (its newlines then make the entry control_chars: nothing is guessed). */
static void csv_field(const char *s, size_t len, size_t *pos, char *dst, size_t *dlen,
                      unsigned *line) {
  size_t i = *pos, n = 0;
  size_t j = i;
  while (j < len && (s[j] == ' ' || s[j] == '\t'))
    j++;
  if (j < len && s[j] == '"') {
    i = j + 1;
    while (i < len) {
      if (s[i] == '"') {
        if (i + 1 < len && s[i + 1] == '"') {
          if (dst)
            dst[n] = '"';
          n++;
          i += 2;
          continue;
        }
        i++;
        break;
      }
      if (s[i] == '\n')
        (*line)++;
      if (dst)
        dst[n] = s[i];
      n++;
      i++;
    }
  }
  /* unquoted text, or what follows a closing quote (kept: lenient like spreadsheets) */
  while (i < len && s[i] != ',' && s[i] != '\n') {
    if (dst)
      dst[n] = s[i];
    n++;
    i++;
  }
  *pos = i;
  *dlen = n;
}

static int parse_csv(struct parser *p, const char *s, size_t len) {
  unsigned line = 1;
  size_t pos = 0;
  int first = 1;
  while (pos < len) {
    unsigned start = line;
    size_t n;
    /* the first field is unquoted straight into the free space of the buffer, where
     * add_entry keeps it (it never grows: quotes only shrink) */
    char *dst = p->out;
    csv_field(s, len, &pos, dst, &n, &line);
    while (pos < len && s[pos] == ',') { /* the other columns, skipped */
      size_t skip;
      pos++;
      csv_field(s, len, &pos, NULL, &skip, &line);
    }
    if (pos < len) { /* at '\n' */
      pos++;
      line++;
    }
    size_t a = 0, b = n;
    while (a < b && is_space((unsigned char)dst[a]))
      a++;
    while (b > a && is_space((unsigned char)dst[b - 1]))
      b--;
    if (a == b)
      continue;
    if (first) {
      first = 0;
      if (is_header(dst + a, b - a))
        continue;
    }
    memmove(dst, dst + a, b - a);
    int rc = add_entry(p, dst, b - a, start);
    if (rc)
      return rc;
  }
  return 0;
}

static uint64_t fnv1a(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

/* Marks the later copies of a key as repeated (an open-addressing set of entry indexes). */
static int mark_repeats(struct shop_stock_upload *u) {
  size_t cap = 16;
  while (cap < u->n * 2)
    cap *= 2;
  size_t *slot = malloc(cap * sizeof *slot);
  if (!slot)
    return -1;
  for (size_t i = 0; i < cap; i++)
    slot[i] = (size_t)-1;
  for (size_t i = 0; i < u->n; i++) {
    struct shop_stock_entry *e = &u->entries[i];
    if (e->problem != SHOP_STOCK_OK)
      continue;
    size_t k = (size_t)fnv1a(e->key, e->len) & (cap - 1);
    for (;; k = (k + 1) & (cap - 1)) {
      if (slot[k] == (size_t)-1) {
        slot[k] = i;
        u->nkeys++;
        break;
      }
      const struct shop_stock_entry *o = &u->entries[slot[k]];
      if (o->len == e->len && !memcmp(o->key, e->key, e->len)) {
        e->problem = SHOP_STOCK_REPEATED;
        break;
      }
    }
  }
  free(slot);
  return 0;
}

int shop_stock_parse(const char *text, size_t len, enum shop_stock_format fmt,
                     struct shop_stock_upload *u) {
  memset(u, 0, sizeof *u);
  if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
    text += 3, len -= 3;
  /* every entry is at most its source's length plus a NUL, and entries do not overlap */
  u->buflen_ = 2 * len + 2;
  u->buf_ = malloc(u->buflen_);
  if (!u->buf_)
    return -1;
  struct parser p = {u, 0, u->buf_};
  int rc = fmt == SHOP_STOCK_CSV ? parse_csv(&p, text, len) : parse_lines(&p, text, len);
  if (rc < 0 || mark_repeats(u) != 0) {
    shop_stock_upload_free(u);
    return -1;
  }
  return 0;
}

void shop_stock_upload_free(struct shop_stock_upload *u) {
  if (u->buf_)
    crypto_wipe(u->buf_, u->buflen_); /* plaintext keys do not linger in freed memory */
  free(u->entries);
  free(u->buf_);
  memset(u, 0, sizeof *u);
}

const char *shop_stock_problem_name(enum shop_stock_problem p) {
  switch (p) {
  case SHOP_STOCK_TOO_LONG:
    return "too_long";
  case SHOP_STOCK_CONTROL_CHARS:
    return "control_chars";
  case SHOP_STOCK_REPEATED:
    return "repeated";
  default:
    return NULL;
  }
}

/* ---- masking ---- */

int shop_stock_hint(const char *key, size_t len, char out[17]) {
  if (utf8_count(key, len) < SHOP_STOCK_HINT_MIN_CHARS)
    return 0;
  size_t i = len, cps = 0;
  while (i > 0 && cps < 4) {
    i--;
    if (((unsigned char)key[i] & 0xC0) != 0x80)
      cps++;
  }
  memcpy(out, key + i, len - i); /* at most 4 code points: 16 bytes */
  out[len - i] = 0;
  return 1;
}

#define BULLETS "\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2" \
                "\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2"

void shop_stock_masked(const char *hint, char out[SHOP_STOCK_MASKED_MAX]) {
  size_t h = hint ? strlen(hint) : 0;
  if (h > 16)
    h = 16; /* a stored hint is never longer; a tampered file gets cut */
  memcpy(out, BULLETS, sizeof BULLETS - 1);
  memcpy(out + sizeof BULLETS - 1, hint ? hint : "", h);
  out[sizeof BULLETS - 1 + h] = 0;
}

void shop_stock_mask_key(const char *key, size_t len, char out[SHOP_STOCK_MASKED_MAX]) {
  char hint[17];
  shop_stock_masked(shop_stock_hint(key, len, hint) ? hint : NULL, out);
}

/* ---- hashing and sealing ---- */

/* HMAC-SHA256 by hand on EVP digests, so that the inner state after (subkey ^ ipad) ||
 * instance id || 0x00 is computed once per upload and each key costs two digest copies:
 * HMAC() one-shot costs ~6 us a key on OpenSSL 3, 30 ms for 5000 keys on the loop. */
int shop_stock_hasher_init(struct shop_stock_hasher *h, const char *instance_id) {
  static const char label[] = "astra stock key hash v1";
  uint8_t sub[32], pad[64];
  /* a subkey, so that the data key itself is never used as a MAC key over seller input */
  crypto_hmac_sha256(astra.cfg->data_key, 32, label, sizeof label - 1, sub);
  EVP_MD_CTX *in = EVP_MD_CTX_new(), *out = EVP_MD_CTX_new();
  h->inner_ = in;
  h->outer_ = out;
  int ok = in && out;
  memset(pad, 0x36, sizeof pad);
  for (size_t i = 0; i < sizeof sub; i++)
    pad[i] ^= sub[i];
  ok = ok && EVP_DigestInit_ex(in, EVP_sha256(), NULL) == 1 &&
       EVP_DigestUpdate(in, pad, sizeof pad) == 1 &&
       EVP_DigestUpdate(in, instance_id, strlen(instance_id) + 1) == 1; /* with its NUL */
  memset(pad, 0x5c, sizeof pad);
  for (size_t i = 0; i < sizeof sub; i++)
    pad[i] ^= sub[i];
  ok = ok && EVP_DigestInit_ex(out, EVP_sha256(), NULL) == 1 &&
       EVP_DigestUpdate(out, pad, sizeof pad) == 1;
  crypto_wipe(sub, sizeof sub);
  crypto_wipe(pad, sizeof pad);
  if (!ok) {
    shop_stock_hasher_free(h);
    return -1;
  }
  return 0;
}

int shop_stock_hasher_run(const struct shop_stock_hasher *h, const char *key, size_t len,
                          char out[65]) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  uint8_t inner[32], mac[32];
  int ok = c && EVP_MD_CTX_copy_ex(c, h->inner_) == 1 && EVP_DigestUpdate(c, key, len) == 1 &&
           EVP_DigestFinal_ex(c, inner, NULL) == 1 && EVP_MD_CTX_copy_ex(c, h->outer_) == 1 &&
           EVP_DigestUpdate(c, inner, sizeof inner) == 1 &&
           EVP_DigestFinal_ex(c, mac, NULL) == 1;
  EVP_MD_CTX_free(c);
  if (!ok)
    return -1;
  crypto_hex(mac, sizeof mac, out);
  return 0;
}

void shop_stock_hasher_free(struct shop_stock_hasher *h) {
  EVP_MD_CTX_free(h->inner_);
  EVP_MD_CTX_free(h->outer_);
  h->inner_ = h->outer_ = NULL;
}

int shop_stock_key_hash(const char *instance_id, const char *key, size_t len, char out[65]) {
  struct shop_stock_hasher h;
  if (shop_stock_hasher_init(&h, instance_id) != 0)
    return -1;
  int rc = shop_stock_hasher_run(&h, key, len, out);
  shop_stock_hasher_free(&h);
  return rc;
}

char *shop_stock_seal(const char *key, size_t len) {
  return crypto_seal(astra.cfg->data_key, key, len);
}

char *shop_stock_open(const char *sealed, size_t *len) {
  return crypto_open(astra.cfg->data_key, sealed, len);
}

/* ---- records ---- */

json_t *shop_stock_record_new(const char *id, const char *product_id, const char *variation_id,
                              const char *key, size_t len, const char *key_hash, int64_t now_ms) {
  char *sealed = shop_stock_seal(key, len);
  if (!sealed)
    return NULL;
  char hint[17];
  int has_hint = shop_stock_hint(key, len, hint);
  json_t *rec = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:s, s:n, s:n, s:I, s:n}", "id", id,
                          "productId", product_id, "variationId", variation_id, "key", sealed,
                          "keyHash", key_hash, "hint", has_hint ? hint : NULL, "status",
                          "available", "orderId", "reservedUntil", "createdAt",
                          (json_int_t)now_ms, "soldAt");
  free(sealed);
  if (rec)
    shop_stock_set_status(rec, "available");
  return rec;
}

void shop_stock_slot(const char *product_id, const char *variation_id, const char *status,
                     char out[SHOP_STOCK_SLOT_MAX]) {
  snprintf(out, SHOP_STOCK_SLOT_MAX, "%s_%s_%s", product_id ? product_id : "",
           variation_id && *variation_id ? variation_id : "none", status);
}

void shop_stock_set_status(json_t *rec, const char *status) {
  char slot[SHOP_STOCK_SLOT_MAX];
  shop_stock_slot(json_string_value(json_object_get(rec, "productId")),
                  json_string_value(json_object_get(rec, "variationId")), status, slot);
  json_object_set_new(rec, "status", json_string(status));
  json_object_set_new(rec, "slot", json_string(slot));
}

static json_t *or_null(const json_t *v) {
  return v ? json_incref((json_t *)v) : json_null();
}

json_t *shop_stock_item_json(const char *id, const json_t *rec) {
  char masked[SHOP_STOCK_MASKED_MAX];
  shop_stock_masked(json_string_value(json_object_get(rec, "hint")), masked);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(id));
  json_object_set_new(o, "productId", or_null(json_object_get(rec, "productId")));
  json_object_set_new(o, "variationId", or_null(json_object_get(rec, "variationId")));
  json_object_set_new(o, "status", or_null(json_object_get(rec, "status")));
  json_object_set_new(o, "masked", json_string(masked));
  json_object_set_new(o, "createdAt", or_null(json_object_get(rec, "createdAt")));
  json_object_set_new(o, "reservedUntil", or_null(json_object_get(rec, "reservedUntil")));
  json_object_set_new(o, "soldAt", or_null(json_object_get(rec, "soldAt")));
  json_object_set_new(o, "orderId", or_null(json_object_get(rec, "orderId")));
  /* "refunded" / "charged_back": sold, then the money went back; the buyer keeps the key */
  json_object_set_new(o, "flag", or_null(json_object_get(rec, "flag")));
  return o;
}
