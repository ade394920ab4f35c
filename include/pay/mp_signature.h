/* Mercado Pago webhook signatures (reference/payments.md §1.7): the `x-signature` header
 * "ts=<t>,v1=<hex>" is HMAC-SHA256, under the webhook secret, of the manifest
 * "id:<data.id>;request-id:<x-request-id>;ts:<t>;", where a part whose value is absent or
 * blank is left out whole. data.id comes from the query string, never from the body. */
#ifndef ASTRA_PAY_MP_SIGNATURE_H
#define ASTRA_PAY_MP_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

enum mp_sig_result {
  MP_SIG_OK = 0,
  MP_SIG_MISSING,  /* no x-signature header, or no ts / v1 in it */
  MP_SIG_MALFORMED,/* ts not a number, v1 not 64 hex digits */
  MP_SIG_STALE,    /* ts further from now than the tolerance */
  MP_SIG_MISMATCH, /* the HMAC does not match */
};

/* The manifest for these values (NULL or blank: left out) into out; its length, or -1 when
 * it does not fit. */
int mp_signature_manifest(const char *data_id, const char *request_id, const char *ts, char *out,
                          size_t outlen);

/* Checks a notification. now_ms is the wall clock; tolerance_ms 0 skips the age check. ts is
 * read as milliseconds when above 10^11, else as seconds (the docs and SDKs disagree on the
 * unit; the HMAC covers the string as sent either way). An alphanumeric data.id is tried as
 * received, then lower-cased (the Orders docs lower-case it; the SDKs since 2026 do not). */
enum mp_sig_result mp_signature_verify(const char *secret, const char *x_signature,
                                       const char *request_id, const char *data_id,
                                       int64_t now_ms, int64_t tolerance_ms);

const char *mp_sig_result_name(enum mp_sig_result r);

#endif
