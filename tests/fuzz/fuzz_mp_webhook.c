/* Fuzzes the Mercado Pago webhook's classification (src/pay/webhook.c): the query's type,
 * topic and data.id and the x-signature and x-request-id headers, all hostile. The input is
 * five fields separated by '\n'; a field that is exactly "\x01" stands for an absent one.
 * Invariants: only a notification whose signature verifies under the secret is ever a
 * payment to read, its id is a positive number spelled exactly as data.id, and nothing reads
 * outside its buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pay/webhook.h"

#define SECRET "fuzz-secret"
#define NOW_MS 1700000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192)
    return 0;
  char *buf = malloc(size + 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  const char *f[5] = {NULL, NULL, NULL, NULL, NULL};
  char *p = buf;
  for (int i = 0; i < 5 && p; i++) {
    char *nl = strchr(p, '\n');
    if (nl)
      *nl = 0;
    f[i] = strcmp(p, "\x01") ? p : NULL;
    p = nl ? nl + 1 : NULL;
  }
  struct mp_webhook_in in = {f[0], f[1], f[2], f[3], f[4]};
  long long id = -1;
  enum mp_sig_result sig;
  enum mp_webhook_verdict v = mp_webhook_check(SECRET, &in, NOW_MS, &id, &sig);
  if (v == MP_WH_PAYMENT) {
    char again[32];
    if (sig != MP_SIG_OK || id <= 0 || !in.data_id)
      __builtin_trap();
    snprintf(again, sizeof again, "%lld", id);
    if (strcmp(again, in.data_id))
      __builtin_trap();
    if (mp_signature_verify(SECRET, in.x_signature, in.x_request_id, in.data_id, NOW_MS,
                            MP_WEBHOOK_TOLERANCE_MS) != MP_SIG_OK)
      __builtin_trap();
  }
  if (v == MP_WH_UNAUTHORIZED && sig == MP_SIG_OK)
    __builtin_trap();
  if ((v == MP_WH_IGNORE_TOPIC || v == MP_WH_IGNORE_ID) && sig != MP_SIG_OK)
    __builtin_trap();
  free(buf);
  return 0;
}
