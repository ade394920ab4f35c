/* Unit tests for src/core/crypto.c: digests and MACs against published vectors, hex and
 * base64 codecs, constant-time equality, AES-256-GCM sealing (round trip, tampering, wrong
 * key) and the shape of UUID v4 ids. */
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "harness.h"

static void hex32(const uint8_t d[32], char out[65]) { crypto_hex(d, 32, out); }

TEST(sha256_known_vectors) {
  uint8_t d[32];
  char hex[65];
  crypto_sha256("abc", 3, d);
  hex32(d, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  crypto_sha256("", 0, d);
  hex32(d, hex);
  CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  crypto_sha256(two, strlen(two), d);
  hex32(d, hex);
  CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(hmac_sha256_rfc4231) {
  uint8_t key[20], d[32];
  char hex[65];
  /* test case 1 */
  memset(key, 0x0b, sizeof key);
  crypto_hmac_sha256(key, sizeof key, "Hi There", 8, d);
  hex32(d, hex);
  CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  /* test case 2 */
  const char *data = "what do ya want for nothing?";
  crypto_hmac_sha256("Jefe", 4, data, strlen(data), d);
  hex32(d, hex);
  CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* test case 6: a key longer than the block size is hashed first */
  uint8_t longkey[131];
  memset(longkey, 0xaa, sizeof longkey);
  const char *tc6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  crypto_hmac_sha256(longkey, sizeof longkey, tc6, strlen(tc6), d);
  hex32(d, hex);
  CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(hex_round_trip_and_rejects) {
  const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  char hex[13];
  crypto_hex(in, sizeof in, hex);
  CHECK_STR(hex, "00017f80abff");
  uint8_t back[6];
  CHECK_INT(crypto_unhex(hex, back, sizeof back), 0);
  CHECK(memcmp(back, in, sizeof in) == 0);
  CHECK_INT(crypto_unhex("00017F80ABFF", back, sizeof back), 0); /* upper case is fine */
  CHECK(memcmp(back, in, sizeof in) == 0);
  CHECK_INT(crypto_unhex("00017f80abf", back, sizeof back), -1);    /* too short */
  CHECK_INT(crypto_unhex("00017f80abff00", back, sizeof back), -1); /* too long */
  CHECK_INT(crypto_unhex("00017f80abfg", back, sizeof back), -1);   /* not hex */
  CHECK_INT(crypto_unhex(" 0017f80abff", back, sizeof back), -1);
  char empty[1];
  crypto_hex(in, 0, empty);
  CHECK_STR(empty, "");
}

TEST(equal_is_content_and_length_exact) {
  CHECK_INT(crypto_equal("secret-token", 12, "secret-token", 12), 1);
  CHECK_INT(crypto_equal("secret-token", 12, "secret-tokem", 12), 0);
  CHECK_INT(crypto_equal("secret-token", 12, "Secret-token", 12), 0);
  CHECK_INT(crypto_equal("secret-token", 12, "secret-token!", 13), 0);
  CHECK_INT(crypto_equal("secret-token", 12, "secret", 6), 0);
  CHECK_INT(crypto_equal("", 0, "", 0), 1);
  CHECK_INT(crypto_equal("", 0, "x", 1), 0);
}

TEST(base64_rfc4648_vectors) {
  static const char *const vec[][2] = {{"", ""},
                                       {"f", "Zg=="},
                                       {"fo", "Zm8="},
                                       {"foo", "Zm9v"},
                                       {"foob", "Zm9vYg=="},
                                       {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    char *e = crypto_b64_encode(vec[i][0], strlen(vec[i][0]));
    CHECK(e != NULL);
    int ok = strcmp(e, vec[i][1]) == 0;
    free(e);
    CHECK(ok);
    size_t n = 99;
    char *d = crypto_b64_decode(vec[i][1], &n);
    CHECK(d != NULL);
    ok = n == strlen(vec[i][0]) && memcmp(d, vec[i][0], n) == 0 && d[n] == '\0';
    free(d);
    CHECK(ok);
  }
  /* all 256 byte values survive, including the two non-alphanumeric symbols */
  uint8_t all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (uint8_t)i;
  char *e = crypto_b64_encode(all, sizeof all);
  CHECK(e != NULL);
  CHECK(strchr(e, '+') && strchr(e, '/'));
  size_t n = 0;
  uint8_t *d = crypto_b64_decode(e, &n);
  free(e);
  CHECK(d != NULL);
  int same = n == 256 && memcmp(d, all, 256) == 0;
  free(d);
  CHECK(same);
}

TEST(base64_rejects_malformed) {
  static const char *const bad[] = {
      "Zm9",    "Zm9vY", "Zm=v",    "=Zm9", "Zm9v!A==", "Zg=a", "Z===",
      "Zm9v\n", " Zm9v", "Zm9vYg=", "Zh==", "Zm9=",     "Zm-v", "Zm_v"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n;
    void *d = crypto_b64_decode(bad[i], &n);
    if (d) {
      free(d);
      harness_fail(__FILE__, __LINE__, "decoded malformed base64 '%s'", bad[i]);
      return;
    }
  }
}

TEST(seal_open_round_trip) {
  uint8_t key[32];
  CHECK_INT(crypto_random(key, sizeof key), 0);
  const char *token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz012345";
  char *s1 = crypto_seal(key, token, strlen(token));
  char *s2 = crypto_seal(key, token, strlen(token));
  CHECK(s1 && s2);
  /* a fresh nonce per seal: the same plaintext never gives the same text */
  int differ = strcmp(s1, s2) != 0;
  int hides = strstr(s1, "abcdef") == NULL;
  size_t blen = 0;
  unsigned char *blob = crypto_b64_decode(s1, &blen);
  int layout = blob && blen == 2 + 12 + strlen(token) + 16 && memcmp(blob, "v1", 2) == 0;
  free(blob);
  size_t n = 0;
  char *p = crypto_open(key, s1, &n);
  int ok = p && n == strlen(token) && strcmp(p, token) == 0;
  free(p);
  free(s1);
  free(s2);
  CHECK(differ);
  CHECK(hides);
  CHECK(layout);
  CHECK(ok);

  /* empty and binary plaintexts */
  char *e = crypto_seal(key, "", 0);
  CHECK(e != NULL);
  p = crypto_open(key, e, &n);
  free(e);
  CHECK(p != NULL);
  ok = n == 0 && p[0] == '\0';
  free(p);
  CHECK(ok);
  uint8_t bin[300];
  for (size_t i = 0; i < sizeof bin; i++)
    bin[i] = (uint8_t)(i * 7);
  e = crypto_seal(key, bin, sizeof bin);
  CHECK(e != NULL);
  p = crypto_open(key, e, &n);
  free(e);
  ok = p && n == sizeof bin && memcmp(p, bin, n) == 0;
  free(p);
  CHECK(ok);
}

TEST(open_rejects_tampering_and_wrong_key) {
  uint8_t key[32], other[32];
  memset(key, 0x11, sizeof key);
  memcpy(other, key, sizeof other);
  other[31] ^= 1;
  const char *plain = "stock-key-AAAA-BBBB-CCCC";
  char *sealed = crypto_seal(key, plain, strlen(plain));
  CHECK(sealed != NULL);
  size_t n;
  char *p = crypto_open(other, sealed, &n);
  int wrong_key_rejected = p == NULL;
  free(p);

  /* flip each byte of the blob in turn: version, nonce, ciphertext and tag all count */
  size_t blen;
  unsigned char *blob = crypto_b64_decode(sealed, &blen);
  int all_rejected = blob != NULL;
  for (size_t i = 0; blob && i < blen; i++) {
    blob[i] ^= 0x01;
    char *t = crypto_b64_encode(blob, blen);
    char *o = crypto_open(key, t, &n);
    if (o)
      all_rejected = 0;
    free(o);
    free(t);
    blob[i] ^= 0x01;
  }
  /* cut off the last byte of the tag */
  char *shortened = blob ? crypto_b64_encode(blob, blen - 1) : NULL;
  char *o = shortened ? crypto_open(key, shortened, &n) : NULL;
  int short_rejected = shortened && !o;
  free(o);
  free(shortened);
  free(blob);
  free(sealed);
  CHECK(wrong_key_rejected);
  CHECK(all_rejected);
  CHECK(short_rejected);
  CHECK(crypto_open(key, "not base64 at all", &n) == NULL);
  CHECK(crypto_open(key, "", &n) == NULL);
  CHECK(crypto_open(key, "djE=", &n) == NULL); /* just "v1" */
}

static int is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(uuid_is_v4) {
  char a[37], b[37];
  crypto_uuid(a);
  crypto_uuid(b);
  CHECK(strcmp(a, b) != 0);
  for (int k = 0; k < 50; k++) {
    char u[37];
    crypto_uuid(u);
    CHECK_INT(strlen(u), 36);
    for (int i = 0; i < 36; i++) {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        CHECK(u[i] == '-');
      else
        CHECK(is_lower_hex(u[i]));
    }
    CHECK(u[14] == '4');                  /* version */
    CHECK(strchr("89ab", u[19]) != NULL); /* RFC 4122 variant: 10xx */
  }
}

TEST(random_fills_and_differs) {
  uint8_t a[64], b[64], zero[64] = {0};
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  CHECK_INT(crypto_random(a, sizeof a), 0);
  CHECK_INT(crypto_random(b, sizeof b), 0);
  CHECK(memcmp(a, zero, sizeof a) != 0);
  CHECK(memcmp(a, b, sizeof a) != 0);
  CHECK_INT(crypto_random(a, 0), 0);
}

TEST(wipe_zeroes) {
  char s[] = "hunter2hunter2";
  crypto_wipe(s, sizeof s - 1);
  for (size_t i = 0; i < sizeof s - 1; i++)
    CHECK(s[i] == 0);
  crypto_wipe(NULL, 0);
}
