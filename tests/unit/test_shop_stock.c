/* Unit tests for src/shop/stock.c: parsing uploads (lines and CSV: empty lines, whitespace,
 * CRLF, quotes with commas and doubled quotes, newlines in quotes, header rows, BOM, problems,
 * repeats, the 5000-key limit), masking (short, 12 characters, multibyte), the keyed hash (per
 * instance, stable) and sealing; and src/core/audit.c: lines appended, fsynced, in order. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "core/app.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/crypto.h"
#include "harness.h"
#include "shop/stock.h"

static struct config cfg;

static void setup(void) {
  memset(cfg.data_key, 0x42, sizeof cfg.data_key);
  astra.cfg = &cfg;
}

static int parse(const char *text, enum shop_stock_format f, struct shop_stock_upload *u) {
  return shop_stock_parse(text, strlen(text), f, u);
}

TEST(lines_trim_skip_empty_crlf) {
  struct shop_stock_upload u;
  CHECK_INT(parse("  AAA-1  \r\n\r\n\tBBB-2\n   \nCCC-3", SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.n, 3);
  CHECK_INT(u.nkeys, 3);
  CHECK_STR(u.entries[0].key, "AAA-1");
  CHECK_INT(u.entries[0].line, 1);
  CHECK_STR(u.entries[1].key, "BBB-2");
  CHECK_INT(u.entries[1].line, 3);
  CHECK_STR(u.entries[2].key, "CCC-3");
  CHECK_INT(u.entries[2].line, 5);
  CHECK_INT(u.entries[2].len, 5);
  shop_stock_upload_free(&u);
  CHECK_INT(parse("", SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.n, 0);
  shop_stock_upload_free(&u);
  CHECK_INT(parse("\n\r\n  \n", SHOP_STOCK_CSV, &u), 0);
  CHECK_INT(u.n, 0);
  shop_stock_upload_free(&u);
}

TEST(lines_keep_commas_and_quotes) {
  struct shop_stock_upload u;
  CHECK_INT(parse("\"a,b\"\nkey", SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.n, 2);
  CHECK_STR(u.entries[0].key, "\"a,b\""); /* lines take a line as it is */
  CHECK_STR(u.entries[1].key, "key");     /* no header rule for lines */
  shop_stock_upload_free(&u);
}

TEST(lines_bom_problems_repeats) {
  struct shop_stock_upload u;
  char longkey[600];
  memset(longkey, 'x', 501);
  longkey[501] = 0;
  char text[1024];
  snprintf(text, sizeof text, "\xEF\xBB\xBF" "K1\nK\x01X\n%s\nK1\nK2\nK\xC2\x85Y\nK2\n", longkey);
  CHECK_INT(parse(text, SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.n, 7);
  CHECK_STR(u.entries[0].key, "K1"); /* the BOM is gone */
  CHECK_INT(u.entries[0].problem, SHOP_STOCK_OK);
  CHECK_INT(u.entries[1].problem, SHOP_STOCK_CONTROL_CHARS);
  CHECK_INT(u.entries[2].problem, SHOP_STOCK_TOO_LONG);
  CHECK_INT(u.entries[3].problem, SHOP_STOCK_REPEATED);
  CHECK_INT(u.entries[3].line, 4);
  CHECK_INT(u.entries[4].problem, SHOP_STOCK_OK);
  CHECK_INT(u.entries[5].problem, SHOP_STOCK_CONTROL_CHARS); /* C1 control U+0085 */
  CHECK_INT(u.entries[6].problem, SHOP_STOCK_REPEATED);
  CHECK_INT(u.nkeys, 2);
  CHECK_STR(shop_stock_problem_name(SHOP_STOCK_TOO_LONG), "too_long");
  CHECK_STR(shop_stock_problem_name(SHOP_STOCK_CONTROL_CHARS), "control_chars");
  CHECK_STR(shop_stock_problem_name(SHOP_STOCK_REPEATED), "repeated");
  shop_stock_upload_free(&u);
  /* 500 multibyte characters are fine: the limit counts characters, not bytes */
  char wide[2048] = "";
  for (int i = 0; i < 500; i++)
    strcat(wide, "\xC3\xA9");
  CHECK_INT(parse(wide, SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.entries[0].problem, SHOP_STOCK_OK);
  shop_stock_upload_free(&u);
  /* an embedded NUL (JSON "\u0000") is a control character, not the end of the key */
  CHECK_INT(shop_stock_parse("AB\0CD\nEF", 8, SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.n, 2);
  CHECK_INT(u.entries[0].problem, SHOP_STOCK_CONTROL_CHARS);
  CHECK_INT(u.entries[0].len, 5);
  shop_stock_upload_free(&u);
}

TEST(csv_quotes_header_columns) {
  struct shop_stock_upload u;
  const char *csv = "\xEF\xBB\xBF" "Chave,produto\r\n"
                    "\"A,1\",x\r\n"
                    "\"say \"\"hi\"\"\",\"y,z\"\r\n"
                    "plain , other\n"
                    ",empty first cell\n"
                    "\"multi\nline\",w\n"
                    "last";
  CHECK_INT(parse(csv, SHOP_STOCK_CSV, &u), 0);
  CHECK_INT(u.n, 5);
  CHECK_STR(u.entries[0].key, "A,1");
  CHECK_INT(u.entries[0].line, 2);
  CHECK_STR(u.entries[1].key, "say \"hi\"");
  CHECK_INT(u.entries[1].line, 3);
  CHECK_STR(u.entries[2].key, "plain");
  CHECK_INT(u.entries[2].line, 4);
  CHECK_INT(u.entries[3].problem, SHOP_STOCK_CONTROL_CHARS); /* a newline inside the key */
  CHECK_INT(u.entries[3].line, 6);
  CHECK_STR(u.entries[4].key, "last");
  CHECK_INT(u.entries[4].line, 8);
  shop_stock_upload_free(&u);
}

TEST(csv_header_words) {
  static const char *const heads[] = {"key", "KEY", "Keys", "chave", "CHAVES", "codigo",
                                      "Código", "CÓDIGO", "\"chave\""};
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
    char text[64];
    snprintf(text, sizeof text, "%s\nK-1\n", heads[i]);
    struct shop_stock_upload u;
    CHECK_INT(parse(text, SHOP_STOCK_CSV, &u), 0);
    if (u.n != 1)
      harness_fail(__FILE__, __LINE__, "header %s not skipped", heads[i]);
    shop_stock_upload_free(&u);
  }
  /* only the first row is a header; elsewhere "key" is a key like any other */
  struct shop_stock_upload u;
  CHECK_INT(parse("K-1\nkey\n", SHOP_STOCK_CSV, &u), 0);
  CHECK_INT(u.n, 2);
  shop_stock_upload_free(&u);
  CHECK_INT(parse("keycode\nK-1\n", SHOP_STOCK_CSV, &u), 0);
  CHECK_INT(u.n, 2);
  shop_stock_upload_free(&u);
}

TEST(csv_unterminated_quote) {
  struct shop_stock_upload u;
  CHECK_INT(parse("OK-1\n\"open,\nrest\n", SHOP_STOCK_CSV, &u), 0);
  CHECK_INT(u.n, 2);
  CHECK_STR(u.entries[0].key, "OK-1");
  CHECK_INT(u.entries[1].problem, SHOP_STOCK_CONTROL_CHARS);
  shop_stock_upload_free(&u);
}

TEST(limit_5000) {
  size_t cap = 5001 * 12 + 1;
  char *text = malloc(cap), *p = text;
  for (int i = 0; i < 5000; i++)
    p += sprintf(p, "KEY-%06d\n", i);
  struct shop_stock_upload u;
  CHECK_INT(shop_stock_parse(text, (size_t)(p - text), SHOP_STOCK_LINES, &u), 0);
  CHECK_INT(u.too_many, 0);
  CHECK_INT(u.nkeys, 5000);
  shop_stock_upload_free(&u);
  p += sprintf(p, "KEY-%06d\n", 5000);
  CHECK_INT(shop_stock_parse(text, (size_t)(p - text), SHOP_STOCK_CSV, &u), 0);
  CHECK_INT(u.too_many, 1);
  shop_stock_upload_free(&u);
  free(text);
}

TEST(masking) {
  char m[SHOP_STOCK_MASKED_MAX], hint[17];
  shop_stock_mask_key("SHORT", 5, m);
  CHECK_STR(m, "••••••••");
  shop_stock_mask_key("ABCDEFGHIJK", 11, m); /* 11: bullets only */
  CHECK_STR(m, "••••••••");
  shop_stock_mask_key("ABCDEFGHIJKL", 12, m);
  CHECK_STR(m, "••••••••IJKL");
  /* 12 characters in 15 bytes: counted in code points, cut on a code point */
  const char *mb = "ããããããããããçé";
  CHECK_INT(shop_stock_hint(mb, strlen(mb), hint), 1);
  CHECK_STR(hint, "ããçé");
  const char *mb11 = "ããããããããçé"; /* 10 characters, 20 bytes: no hint */
  CHECK_INT(shop_stock_hint(mb11, strlen(mb11), hint), 0);
  const char *emoji = "KEY-0000-\xF0\x9F\x98\x80\xF0\x9F\x98\x80Z"; /* 4-byte characters */
  CHECK_INT(shop_stock_hint(emoji, strlen(emoji), hint), 1);
  CHECK_STR(hint, "-\xF0\x9F\x98\x80\xF0\x9F\x98\x80Z");
  shop_stock_masked(NULL, m);
  CHECK_STR(m, "••••••••");
  shop_stock_masked("WXYZ", m);
  CHECK_STR(m, "••••••••WXYZ");
}

TEST(key_hash_per_instance_and_stable) {
  setup();
  char a[65], b[65], c[65], d[65];
  shop_stock_key_hash("inst-1", "KEY-1", 5, a);
  shop_stock_key_hash("inst-1", "KEY-1", 5, b);
  shop_stock_key_hash("inst-2", "KEY-1", 5, c);
  shop_stock_key_hash("inst-1", "KEY-2", 5, d);
  CHECK_INT(strlen(a), 64);
  CHECK_STR(a, b);
  CHECK(strcmp(a, c) != 0);
  CHECK(strcmp(a, d) != 0);
  /* the 0 byte separates instance and key: "inst-1"+"0K" differs from "inst-10"+"K" */
  shop_stock_key_hash("inst-1", "0K", 2, c);
  shop_stock_key_hash("inst-10", "K", 1, d);
  CHECK(strcmp(c, d) != 0);
  /* another data key, another hash */
  cfg.data_key[0] ^= 1;
  shop_stock_key_hash("inst-1", "KEY-1", 5, c);
  cfg.data_key[0] ^= 1;
  CHECK(strcmp(a, c) != 0);
  /* it is HMAC-SHA256(HMAC-SHA256(data key, label), instance || 0 || key) */
  uint8_t sub[32], mac[32];
  crypto_hmac_sha256(cfg.data_key, 32, "astra stock key hash v1", 23, sub);
  crypto_hmac_sha256(sub, 32, "inst-1\0KEY-1", 12, mac);
  crypto_hex(mac, 32, c);
  CHECK_STR(a, c);
  /* the batch hasher agrees, key after key */
  struct shop_stock_hasher h;
  CHECK_INT(shop_stock_hasher_init(&h, "inst-2"), 0);
  CHECK_INT(shop_stock_hasher_run(&h, "KEY-2", 5, c), 0);
  CHECK_INT(shop_stock_hasher_run(&h, "KEY-1", 5, d), 0);
  shop_stock_hasher_free(&h);
  shop_stock_key_hash("inst-2", "KEY-1", 5, b);
  CHECK_STR(d, b);
  CHECK(strcmp(c, d) != 0);
}

TEST(seal_record_and_item) {
  setup();
  char h[65];
  shop_stock_key_hash("inst-1", "ABCD-EFGH-IJKL", 14, h);
  json_t *rec = shop_stock_record_new("s1", "p1", NULL, "ABCD-EFGH-IJKL", 14, h, 1234);
  CHECK(rec != NULL);
  const char *sealed = json_string_value(json_object_get(rec, "key"));
  CHECK(sealed && !strstr(sealed, "ABCD"));
  size_t n;
  char *plain = shop_stock_open(sealed, &n);
  CHECK(plain != NULL);
  CHECK_STR(plain, "ABCD-EFGH-IJKL");
  free(plain);
  CHECK_STR(json_string_value(json_object_get(rec, "hint")), "IJKL");
  CHECK_STR(json_string_value(json_object_get(rec, "status")), "available");
  CHECK(json_is_null(json_object_get(rec, "variationId")));
  json_t *item = shop_stock_item_json("s1", rec);
  char *text = json_dumps(item, 0);
  CHECK(text && !strstr(text, "ABCD") && !strstr(text, h) && !strstr(text, sealed));
  CHECK_STR(json_string_value(json_object_get(item, "masked")), "••••••••IJKL");
  CHECK_INT(json_integer_value(json_object_get(item, "createdAt")), 1234);
  free(text);
  json_decref(item);
  json_decref(rec);
}

/* ---- the audit trail ---- */

static int audited[8];

static void on_audit(int status, void *arg) {
  audited[(size_t)arg] = status == 0 ? 1 : -1;
}

TEST(audit_appends_durable_lines) {
  static uv_loop_t loop;
  uv_loop_init(&loop);
  astra.loop = &loop;
  static struct config acfg;
  char dir[512], bad[600];
  snprintf(dir, sizeof dir, "%s", harness_tmpdir()); /* a new directory on each call */
  snprintf(bad, sizeof bad, "%s/missing/dir", dir);
  acfg.data_dir = bad;
  astra.cfg = &acfg;
  /* a directory that does not exist: the line fails, nothing hangs */
  CHECK_INT(audit_append(audit_event("stock.reveal", "seller", "u1", "127.0.0.1", "r0"),
                         on_audit, (void *)0),
            0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(audited[0], -1);
  /* then a good one: three events queued together go out in order */
  acfg.data_dir = dir;
  for (size_t i = 1; i <= 3; i++) {
    json_t *e = audit_event("stock.reveal", "seller", "u1", "127.0.0.1", NULL);
    json_object_set_new(e, "n", json_integer((json_int_t)i));
    CHECK_INT(audit_append(e, on_audit, (void *)i), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  for (int i = 1; i <= 3; i++)
    CHECK_INT(audited[i], 1);
  char path[600];
  snprintf(path, sizeof path, "%s/audit.jsonl", dir);
  struct stat st;
  CHECK_INT(stat(path, &st), 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    n++;
    json_t *j = json_loads(line, 0, NULL);
    CHECK(j != NULL);
    CHECK_INT(json_integer_value(json_object_get(j, "n")), n);
    CHECK_STR(json_string_value(json_object_get(j, "action")), "stock.reveal");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "actor"), "type")),
              "seller");
    CHECK_STR(json_string_value(json_object_get(j, "ip")), "127.0.0.1");
    CHECK(json_integer_value(json_object_get(j, "at")) > 1600000000000LL);
    json_decref(j);
  }
  fclose(f);
  CHECK_INT(n, 3);
  /* closed at shutdown: the file is closed and later lines are refused */
  audit_close();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(audit_append(audit_event("stock.reveal", "seller", "u1", NULL, NULL), NULL, NULL),
            -1);
  CHECK_INT(uv_loop_close(&loop), 0);
  astra.loop = NULL;
  astra.cfg = NULL;
}
