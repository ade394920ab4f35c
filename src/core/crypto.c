/* Small crypto helpers on OpenSSL's libcrypto and libuuid: random bytes, hex, SHA-256,
 * HMAC-SHA256, constant-time comparison, base64, AES-256-GCM sealing of secrets at rest
 * (bot tokens, stock keys), scrypt password hashes and UUID v4 record ids. */
#include "core/crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <uuid/uuid.h>

/* Sealed layout: "v1" || nonce || ciphertext || tag. The version prefix lets a later key
 * rotation or cipher change coexist with data sealed today. */
#define SEAL_VERSION "v1"
#define SEAL_VERSION_LEN 2
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (SEAL_VERSION_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)

int crypto_random(void *buf, size_t n) {
  unsigned char *p = buf;
  /* RAND_bytes takes an int; chunk so that any size_t works. */
  while (n > 0) {
    int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
    if (RAND_bytes(p, chunk) != 1)
      return -1;
    p += chunk;
    n -= (size_t)chunk;
  }
  return 0;
}

void crypto_hex(const void *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *p = in;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0x0f];
  }
  out[2 * n] = '\0';
}

int crypto_hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int crypto_unhex(const char *hex, void *out, size_t n) {
  unsigned char *p = out;
  if (!hex)
    return -1;
  /* Validate the whole string before writing, so a failure leaves out untouched. */
  for (size_t i = 0; i < 2 * n; i++)
    if (crypto_hex_digit(hex[i]) < 0)
      return -1;
  if (hex[2 * n] != '\0')
    return -1;
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(crypto_hex_digit(hex[2 * i]) << 4 | crypto_hex_digit(hex[2 * i + 1]));
  return 0;
}

void crypto_sha256(const void *in, size_t n, uint8_t out[32]) {
  unsigned int len = 0;
  if (EVP_Digest(n ? in : "", n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
    abort(); /* only fails on allocation failure inside OpenSSL; nothing sane to return */
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *in, size_t n,
                        uint8_t out[32]) {
  unsigned int len = 0;
  if (keylen > (size_t)INT_MAX)
    abort();
  if (!HMAC(EVP_sha256(), keylen ? key : "", (int)keylen, n ? in : (const void *)"", n, out,
            &len) ||
      len != 32)
    abort();
}

int crypto_equal(const void *a, size_t alen, const void *b, size_t blen) {
  if (alen != blen) {
    /* Still compare something of the caller's length, so that a wrong-length guess costs
     * about the same time as a right-length one. */
    (void)CRYPTO_memcmp(a, a, alen);
    return 0;
  }
  return CRYPTO_memcmp(a, b, alen) == 0;
}

void crypto_uuid(char out[37]) {
  uuid_t u;
  uuid_generate_random(u);
  uuid_unparse_lower(u, out);
}

void crypto_wipe(void *p, size_t n) {
  if (p && n)
    OPENSSL_cleanse(p, n);
}

/* ---- base64 (RFC 4648 §4, standard alphabet, padded) ----
 * Own code rather than EVP_DecodeBlock, which accepts surrounding whitespace and reports
 * padding bytes as data; a sealed value must decode exactly or not at all. */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *crypto_b64_encode(const void *in, size_t n) {
  const unsigned char *p = in;
  if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
    return NULL;
  size_t outlen = (n + 2) / 3 * 4;
  char *out = malloc(outlen + 1);
  if (!out)
    return NULL;
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = b64_alphabet[v >> 18 & 63];
    out[o++] = b64_alphabet[v >> 12 & 63];
    out[o++] = b64_alphabet[v >> 6 & 63];
    out[o++] = b64_alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = b64_alphabet[v >> 18 & 63];
    out[o++] = b64_alphabet[v >> 12 & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    out[o++] = b64_alphabet[v >> 18 & 63];
    out[o++] = b64_alphabet[v >> 12 & 63];
    out[o++] = b64_alphabet[v >> 6 & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
  return out;
}

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

void *crypto_b64_decode(const char *in, size_t *n) {
  if (!in)
    return NULL;
  size_t len = strlen(in);
  if (len % 4 != 0)
    return NULL;
  size_t pad = 0;
  if (len >= 4 && in[len - 1] == '=')
    pad = in[len - 2] == '=' ? 2 : 1;
  size_t outlen = len / 4 * 3 - pad;
  /* One extra byte: callers decoding text get a terminated string for free. */
  unsigned char *out = malloc(outlen + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len; i += 4) {
    int last = i + 4 == len;
    int v[4];
    for (int k = 0; k < 4; k++) {
      /* '=' only in the last group's padding positions */
      if (last && in[i + k] == '=' && k >= 4 - (int)pad) {
        v[k] = 0;
        continue;
      }
      v[k] = b64_value(in[i + k]);
      if (v[k] < 0)
        goto bad;
    }
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    /* Canonical form only: the bits dropped by padding must be zero. */
    if (last && pad == 2 && (w & 0xffff))
      goto bad;
    if (last && pad == 1 && (w & 0xff))
      goto bad;
    out[o++] = (unsigned char)(w >> 16);
    if (!(last && pad == 2))
      out[o++] = (unsigned char)(w >> 8);
    if (!(last && pad >= 1))
      out[o++] = (unsigned char)w;
  }
  out[o] = '\0';
  if (n)
    *n = o;
  return out;
bad:
  free(out);
  return NULL;
}

/* ---- AES-256-GCM ---- */

char *crypto_seal(const uint8_t key[32], const void *plain, size_t n) {
  if (n > (size_t)INT_MAX - SEAL_OVERHEAD)
    return NULL;
  size_t blen = SEAL_OVERHEAD + n;
  unsigned char *blob = malloc(blen);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  char *sealed = NULL;
  int len = 0;
  if (!blob || !ctx)
    goto done;
  unsigned char *nonce = blob + SEAL_VERSION_LEN;
  unsigned char *ct = nonce + SEAL_NONCE_LEN;
  unsigned char *tag = ct + n;
  memcpy(blob, SEAL_VERSION, SEAL_VERSION_LEN);
  /* A random 96-bit nonce per seal: safe for far more seals than one key will ever see. */
  if (crypto_random(nonce, SEAL_NONCE_LEN) != 0)
    goto done;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
    goto done;
  /* The version prefix is authenticated too, so it cannot be swapped under a tag. */
  if (EVP_EncryptUpdate(ctx, NULL, &len, blob, SEAL_VERSION_LEN) != 1)
    goto done;
  if (n && EVP_EncryptUpdate(ctx, ct, &len, plain, (int)n) != 1)
    goto done;
  if (EVP_EncryptFinal_ex(ctx, ct + (n ? len : 0), &len) != 1)
    goto done;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) != 1)
    goto done;
  sealed = crypto_b64_encode(blob, blen);
done:
  EVP_CIPHER_CTX_free(ctx);
  if (blob)
    crypto_wipe(blob, blen);
  free(blob);
  return sealed;
}

char *crypto_open(const uint8_t key[32], const char *sealed, size_t *n) {
  size_t blen = 0;
  unsigned char *blob = crypto_b64_decode(sealed, &blen);
  EVP_CIPHER_CTX *ctx = NULL;
  char *plain = NULL;
  int len = 0, ok = 0;
  if (!blob || blen < SEAL_OVERHEAD || memcmp(blob, SEAL_VERSION, SEAL_VERSION_LEN) != 0)
    goto done;
  size_t ctlen = blen - SEAL_OVERHEAD;
  if (ctlen > (size_t)INT_MAX)
    goto done;
  unsigned char *nonce = blob + SEAL_VERSION_LEN;
  unsigned char *ct = nonce + SEAL_NONCE_LEN;
  unsigned char *tag = ct + ctlen;
  if (!(ctx = EVP_CIPHER_CTX_new()) || !(plain = malloc(ctlen + 1)))
    goto done;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
    goto done;
  if (EVP_DecryptUpdate(ctx, NULL, &len, blob, SEAL_VERSION_LEN) != 1)
    goto done;
  if (ctlen && EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, ct, (int)ctlen) != 1)
    goto done;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1)
    goto done;
  /* The tag is checked here; until it passes, the decrypted bytes are not to be trusted. */
  if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + (ctlen ? len : 0), &len) != 1)
    goto done;
  plain[ctlen] = '\0';
  if (n)
    *n = ctlen;
  ok = 1;
done:
  EVP_CIPHER_CTX_free(ctx);
  if (blob)
    crypto_wipe(blob, blen);
  free(blob);
  if (!ok && plain) {
    crypto_wipe(plain, blen - SEAL_OVERHEAD + 1);
    free(plain);
    plain = NULL;
  }
  return plain;
}

/* ---- scrypt password hashes ----
 * "scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>". The parameters travel with the hash so
 * that raising the cost later only changes what new hashes get. */

#define PW_LOG_N 15
#define PW_R 8
#define PW_P 1
#define PW_SALT_LEN 16
#define PW_KEY_LEN 32
/* What verify accepts from a stored string: generous for future costs, but bounded so that
 * a damaged or planted record cannot make one check eat gigabytes or minutes. */
#define PW_MAX_MEM (256ull << 20)

static int pw_scrypt(const char *password, const unsigned char *salt, size_t saltlen,
                     unsigned log_n, unsigned r, unsigned p, unsigned char *out, size_t outlen) {
  uint64_t n = 1ull << log_n;
  /* scrypt needs about 128 * r * (N + p + 2) bytes; OpenSSL refuses anything above maxmem
   * (32 MiB by default, which N = 2^15, r = 8 just exceeds), so pass what we need. */
  uint64_t need = 128ull * r * (n + p + 2);
  return EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, r, p, need + (1u << 20),
                        out, outlen) == 1
             ? 0
             : -1;
}

char *crypto_password_hash(const char *password) {
  unsigned char salt[PW_SALT_LEN], key[PW_KEY_LEN];
  char *salt64 = NULL, *key64 = NULL, *out = NULL;
  if (!password || crypto_random(salt, sizeof salt) != 0)
    return NULL;
  if (pw_scrypt(password, salt, sizeof salt, PW_LOG_N, PW_R, PW_P, key, sizeof key) != 0)
    goto done;
  salt64 = crypto_b64_encode(salt, sizeof salt);
  key64 = crypto_b64_encode(key, sizeof key);
  if (!salt64 || !key64)
    goto done;
  size_t len = strlen(salt64) + strlen(key64) + 32;
  out = malloc(len);
  if (out)
    snprintf(out, len, "scrypt$%d$%d$%d$%s$%s", PW_LOG_N, PW_R, PW_P, salt64, key64);
done:
  crypto_wipe(key, sizeof key);
  free(salt64);
  free(key64);
  return out;
}

/* A decimal field of the stored string up to the next '$'; advances *s past it. */
static int pw_field_uint(const char **s, unsigned max, unsigned *out) {
  const char *p = *s;
  unsigned v = 0;
  if (*p < '0' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (unsigned)(*p - '0');
    if (v > max)
      return -1;
  }
  if (*p != '$')
    return -1;
  *s = p + 1;
  *out = v;
  return 0;
}

int crypto_password_verify(const char *password, const char *stored) {
  if (!password || !stored || strncmp(stored, "scrypt$", 7) != 0)
    return -1;
  const char *p = stored + 7;
  unsigned log_n, r, par;
  if (pw_field_uint(&p, 24, &log_n) != 0 || pw_field_uint(&p, 64, &r) != 0 ||
      pw_field_uint(&p, 16, &par) != 0)
    return -1;
  if (log_n < 1 || r < 1 || par < 1 || 128ull * r * ((1ull << log_n) + par + 2) > PW_MAX_MEM)
    return -1;
  const char *dollar = strchr(p, '$');
  if (!dollar || dollar - p > 128)
    return -1;
  char salt64[129];
  memcpy(salt64, p, (size_t)(dollar - p));
  salt64[dollar - p] = '\0';
  size_t saltlen = 0, keylen = 0;
  unsigned char *salt = crypto_b64_decode(salt64, &saltlen);
  unsigned char *want = crypto_b64_decode(dollar + 1, &keylen);
  unsigned char got[64];
  int rc = -1;
  if (!salt || !want || saltlen < 8 || keylen < 16 || keylen > sizeof got)
    goto done;
  if (pw_scrypt(password, salt, saltlen, log_n, r, par, got, keylen) != 0)
    goto done;
  rc = crypto_equal(got, keylen, want, keylen);
done:
  crypto_wipe(got, sizeof got);
  free(salt);
  if (want)
    crypto_wipe(want, keylen);
  free(want);
  return rc;
}
