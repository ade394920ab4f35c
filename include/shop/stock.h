/* Stock of keys per instance (data/instances/<id>/stock.json): counting by product and
 * variation, shared by the catalog (stock left, low-stock flags) and the stock routes.
 *
 * A stock record: {"id","productId","variationId" (null for a product without variations),
 * "key" (sealed, AES-256-GCM), "keyHash" (HMAC, unique: a key is never in stock twice),
 * "hint" (last characters for long keys, or null), "status" ("available" | "reserved" |
 * "sold"), "orderId", "reservedUntil", "createdAt", "soldAt"}. */
#ifndef ASTRA_SHOP_STOCK_H
#define ASTRA_SHOP_STOCK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct shop_stock_counts {
  size_t available, reserved, sold;
};

/* Counts per (product, variation) of one instance, in one pass over its stock. */
struct shop_stock_tally {
  struct shop_stock_tally_row {
    char product_id[40];
    char variation_id[40]; /* "" for stock without a variation */
    struct shop_stock_counts n;
  } *rows;
  size_t nrows, cap;
};

/* Fills t (zeroed first by the caller) for instance_id; product_id NULL counts every
 * product. 0, or -1 when out of memory. Free with shop_stock_tally_free. */
int shop_stock_tally(const char *instance_id, const char *product_id, struct shop_stock_tally *t);
void shop_stock_tally_free(struct shop_stock_tally *t);
/* Counts for one product (variation_id NULL: all its variations together; "": stock
 * without a variation). */
struct shop_stock_counts shop_stock_tally_get(const struct shop_stock_tally *t,
                                              const char *product_id, const char *variation_id);


/* ---- uploads, masking, hashing and sealing (src/shop/stock.c) ---- */

#define SHOP_STOCK_MAX_KEYS 5000      /* keys (non-empty entries) per upload */
#define SHOP_STOCK_MAX_KEY_CHARS 500  /* longer keys are refused as too_long */
#define SHOP_STOCK_HINT_MIN_CHARS 12  /* shorter keys keep no hint: 4 of 11 is too much */
#define SHOP_STOCK_MASKED_MAX 48      /* bytes for a masked key, NUL included */

enum shop_stock_format { SHOP_STOCK_LINES, SHOP_STOCK_CSV };

enum shop_stock_problem {
  SHOP_STOCK_OK,
  SHOP_STOCK_TOO_LONG,      /* over SHOP_STOCK_MAX_KEY_CHARS code points */
  SHOP_STOCK_CONTROL_CHARS, /* a control character inside the key (NUL, tab, newline, C1...) */
  SHOP_STOCK_REPEATED,      /* the same key earlier in this upload */
};

/* One non-empty entry of an upload. */
struct shop_stock_entry {
  const char *key; /* NUL-terminated, trimmed, inside the upload's buffer */
  size_t len;      /* bytes (a key with an embedded NUL is a control_chars problem) */
  unsigned line;   /* 1-based line of the text where the entry starts */
  enum shop_stock_problem problem;
};

struct shop_stock_upload {
  struct shop_stock_entry *entries;
  size_t n;
  size_t nkeys;  /* entries without a problem: the keys to add */
  int too_many;  /* more than SHOP_STOCK_MAX_KEYS entries (parsing stopped there) */
  char *buf_;
  size_t buflen_;
};

/* Parses text (len bytes, UTF-8, may contain NULs) into u (zeroed by the caller): lines: one
 * key per non-empty line, trimmed, LF or CRLF; csv: the first column of each record (RFC
 * 4180 quotes, doubled quotes, newlines inside quotes), a header row skipped when its first
 * cell is key/chave/keys/chaves/codigo/código in any case. A leading UTF-8 BOM is ignored.
 * Marks per-entry problems, including keys repeated in the upload (the later ones). 0, or -1
 * when out of memory. Free with shop_stock_upload_free. */
int shop_stock_parse(const char *text, size_t len, enum shop_stock_format fmt,
                     struct shop_stock_upload *u);
void shop_stock_upload_free(struct shop_stock_upload *u);
/* "too_long", "control_chars", "repeated" (NULL for SHOP_STOCK_OK). */
const char *shop_stock_problem_name(enum shop_stock_problem p);

/* The hint stored with a key: its last 4 code points when it has at least
 * SHOP_STOCK_HINT_MIN_CHARS, else none. Writes out (17 bytes) and returns 1, or returns 0. */
int shop_stock_hint(const char *key, size_t len, char out[17]);
/* What a seller sees instead of a key: eight bullets, then the hint when there is one
 * (hint NULL or "": bullets only). out has SHOP_STOCK_MASKED_MAX bytes. */
void shop_stock_masked(const char *hint, char out[SHOP_STOCK_MASKED_MAX]);
/* shop_stock_masked of the key's own hint. */
void shop_stock_mask_key(const char *key, size_t len, char out[SHOP_STOCK_MASKED_MAX]);

/* The keyed hash that makes a key unique per instance: HMAC-SHA256 under a subkey derived
 * from DATA_ENCRYPTION_KEY (astra.cfg->data_key), over instance id || 0x00 || key; 64 hex
 * digits into out. The same key in two instances hashes differently, and nobody without
 * the data key can test a guess against the stored hashes. 0, or -1 (out of memory). */
int shop_stock_key_hash(const char *instance_id, const char *key, size_t len, char out[65]);
/* The same, for many keys of one instance: the per-instance part is computed once. */
struct shop_stock_hasher {
  void *inner_, *outer_;
};
int shop_stock_hasher_init(struct shop_stock_hasher *h, const char *instance_id);
int shop_stock_hasher_run(const struct shop_stock_hasher *h, const char *key, size_t len,
                          char out[65]);
void shop_stock_hasher_free(struct shop_stock_hasher *h);
/* Seals a key with AES-256-GCM under astra.cfg->data_key (malloc'd, or NULL), and opens a
 * sealed one (malloc'd plaintext with its length, or NULL when it does not verify). */
char *shop_stock_seal(const char *key, size_t len);
char *shop_stock_open(const char *sealed, size_t *len);

/* A new available stock record for key (the record shape above); NULL when out of memory. */
json_t *shop_stock_record_new(const char *id, const char *product_id, const char *variation_id,
                              const char *key, size_t len, const char *key_hash, int64_t now_ms);
/* A record as the seller sees it (the API's stock item): never the key, nor its hash. */
json_t *shop_stock_item_json(const char *id, const json_t *rec);

#endif
