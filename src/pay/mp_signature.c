/* Verifying Mercado Pago's webhook signatures. The rules come from the official docs and
 * SDK validators (reference/payments.md §1.7): split the header on ',' then '=', ignore
 * unknown keys, drop blank parts from the manifest, compare in constant time. */
#include "pay/mp_signature.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

/* Trims ASCII whitespace in place; NULL stays NULL, and an empty result becomes NULL (the
 * SDKs treat blank values as absent). */
static const char *trimmed(const char *s, char *buf, size_t buflen) {
  if (!s)
    return NULL;
  while (*s && isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  if (!n || n >= buflen)
    return n ? s : NULL; /* too long to copy: let the caller fail on it */
  memcpy(buf, s, n);
  buf[n] = 0;
  return buf;
}

int mp_signature_manifest(const char *data_id, const char *request_id, const char *ts, char *out,
                          size_t outlen) {
  char b1[256], b2[256], b3[64];
  data_id = trimmed(data_id, b1, sizeof b1);
  request_id = trimmed(request_id, b2, sizeof b2);
  ts = trimmed(ts, b3, sizeof b3);
  int n = snprintf(out, outlen, "%s%s%s%s%s%s%s", data_id ? "id:" : "", data_id ? data_id : "",
                   data_id ? ";" : "", request_id ? "request-id:" : "",
                   request_id ? request_id : "", request_id ? ";" : "", "");
  if (n < 0 || (size_t)n >= outlen)
    return -1;
  int m = snprintf(out + n, outlen - (size_t)n, "ts:%s;", ts ? ts : "");
  if (m < 0 || (size_t)m >= outlen - (size_t)n)
    return -1;
  return n + m;
}

/* Finds key's value in "k1=v1,k2=v2" into out; 0 when found. */
static int header_part(const char *h, const char *key, char *out, size_t outlen) {
  size_t klen = strlen(key);
  const char *p = h;
  while (*p) {
    while (*p == ',' || isspace((unsigned char)*p))
      p++;
    const char *end = strchr(p, ',');
    if (!end)
      end = p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (eq) {
      const char *k = p, *ke = eq;
      while (ke > k && isspace((unsigned char)ke[-1]))
        ke--;
      if ((size_t)(ke - k) == klen && !memcmp(k, key, klen)) {
        const char *v = eq + 1, *ve = end;
        while (v < ve && isspace((unsigned char)*v))
          v++;
        while (ve > v && isspace((unsigned char)ve[-1]))
          ve--;
        if ((size_t)(ve - v) >= outlen)
          return -1;
        memcpy(out, v, (size_t)(ve - v));
        out[ve - v] = 0;
        return 0;
      }
    }
    p = end;
  }
  return -1;
}

static int hmac_matches(const char *secret, const char *manifest, const uint8_t want[32]) {
  uint8_t got[32];
  crypto_hmac_sha256(secret, strlen(secret), manifest, strlen(manifest), got);
  return crypto_equal(got, 32, want, 32);
}

enum mp_sig_result mp_signature_verify(const char *secret, const char *x_signature,
                                       const char *request_id, const char *data_id,
                                       int64_t now_ms, int64_t tolerance_ms) {
  char ts[32], v1[80];
  if (!x_signature || header_part(x_signature, "ts", ts, sizeof ts) != 0 ||
      header_part(x_signature, "v1", v1, sizeof v1) != 0 || !ts[0] || !v1[0])
    return MP_SIG_MISSING;
  uint8_t want[32];
  if (strlen(v1) != 64 || crypto_unhex(v1, want, sizeof want) != 0)
    return MP_SIG_MALFORMED;
  char *end;
  errno = 0;
  long long t = strtoll(ts, &end, 10);
  if (*end || t <= 0 || ts[0] == '+' || ts[0] == '-')
    return MP_SIG_MALFORMED;
  if (tolerance_ms > 0) {
    int64_t t_ms = t > 100000000000LL ? t : t * 1000;
    int64_t age = now_ms - t_ms;
    if (age > tolerance_ms || -age > tolerance_ms)
      return MP_SIG_STALE;
  }
  char manifest[640];
  if (mp_signature_manifest(data_id, request_id, ts, manifest, sizeof manifest) < 0)
    return MP_SIG_MISMATCH;
  if (hmac_matches(secret, manifest, want))
    return MP_SIG_OK;
  /* an alphanumeric id lower-cased, as the Orders docs ask */
  int letters = 0;
  for (const char *p = data_id; p && *p; p++)
    letters |= isupper((unsigned char)*p);
  if (letters) {
    char low[256];
    size_t n = strlen(data_id);
    if (n >= sizeof low)
      return MP_SIG_MISMATCH;
    for (size_t i = 0; i <= n; i++)
      low[i] = (char)tolower((unsigned char)data_id[i]);
    if (mp_signature_manifest(low, request_id, ts, manifest, sizeof manifest) >= 0 &&
        hmac_matches(secret, manifest, want))
      return MP_SIG_OK;
  }
  return MP_SIG_MISMATCH;
}

const char *mp_sig_result_name(enum mp_sig_result r) {
  static const char *const names[] = {"ok", "missing", "malformed", "stale", "mismatch"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}
