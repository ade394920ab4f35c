/* Unit tests for src/pay/mp_signature.c: the worked examples of reference/payments.md §1.7
 * (computed there with openssl, Node and the official Python validator) must verify, and
 * every tampering must not. */
#include <string.h>

#include "harness.h"
#include "pay/mp_signature.h"

#define SECRET "mp_test_webhook_secret_123"
#define REQID "2066ca19-c6f1-498a-be75-1923005edd06"
#define TS "1742505638683"
#define NOW 1742505638683LL
#define HOUR (3600 * 1000LL)

TEST(manifest_template_and_omissions) {
  char m[256];
  mp_signature_manifest("123456789", REQID, TS, m, sizeof m);
  CHECK_STR(m, "id:123456789;request-id:" REQID ";ts:" TS ";");
  mp_signature_manifest("123456789", NULL, TS, m, sizeof m);
  CHECK_STR(m, "id:123456789;ts:" TS ";");
  mp_signature_manifest(NULL, REQID, TS, m, sizeof m);
  CHECK_STR(m, "request-id:" REQID ";ts:" TS ";");
  mp_signature_manifest("  ", " \t", TS, m, sizeof m); /* blank counts as absent */
  CHECK_STR(m, "ts:" TS ";");
  CHECK_INT(mp_signature_manifest("123456789", REQID, TS, m, 20), -1);
}

TEST(worked_examples_verify) {
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=" TS ",v1=663718770990e5ece9551d3eab1da553039a1cff9a1f7c8fe"
                                "c944378d04a158f",
                                REQID, "123456789", NOW, HOUR),
            MP_SIG_OK);
  /* without x-request-id the pair is left out */
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=" TS ",v1=37c0161030779fb2d58156bab5ba643963fa5f2545ea6c7a8"
                                "b91f1aed41ca78e",
                                NULL, "123456789", NOW, HOUR),
            MP_SIG_OK);
  /* an uppercase order id, signed lower-cased (Orders docs) or as received (SDKs) */
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=" TS ",v1=b20cff2248c36889b51b60ba57c96a423cbc033ebc86cd45b"
                                "9937cc65bf441f1",
                                REQID, "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3", NOW, HOUR),
            MP_SIG_OK);
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=" TS ",v1=20fc2f847085943865ee88fcf195b1df9fbae1eae29f01394"
                                "2f994fb8c796cf5",
                                REQID, "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3", NOW, HOUR),
            MP_SIG_OK);
  /* spaces around parts, unknown keys and upper-case hex are all fine */
  CHECK_INT(mp_signature_verify(SECRET,
                                " v0=abc , ts=" TS " , v1=663718770990E5ECE9551D3EAB1DA553039A1"
                                "CFF9A1F7C8FEC944378D04A158F",
                                REQID, "123456789", NOW, 0),
            MP_SIG_OK);
}

TEST(tampering_is_refused) {
  const char *good = "ts=" TS ",v1=663718770990e5ece9551d3eab1da553039a1cff9a1f7c8fec944378d04a158f";
  CHECK_INT(mp_signature_verify("another_secret", good, REQID, "123456789", NOW, HOUR),
            MP_SIG_MISMATCH);
  CHECK_INT(mp_signature_verify(SECRET, good, REQID, "123456780", NOW, HOUR), MP_SIG_MISMATCH);
  CHECK_INT(mp_signature_verify(SECRET, good, "2066ca19-c6f1-498a-be75-1923005edd07", "123456789",
                                NOW, HOUR),
            MP_SIG_MISMATCH);
  CHECK_INT(mp_signature_verify(SECRET, good, NULL, "123456789", NOW, HOUR), MP_SIG_MISMATCH);
  /* a changed ts breaks the HMAC even when fresh */
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=1742505638684,v1=663718770990e5ece9551d3eab1da553039a1cff9a1f7c"
                                "8fec944378d04a158f",
                                REQID, "123456789", NOW, HOUR),
            MP_SIG_MISMATCH);
}

TEST(missing_malformed_and_stale) {
  CHECK_INT(mp_signature_verify(SECRET, NULL, REQID, "1", NOW, HOUR), MP_SIG_MISSING);
  CHECK_INT(mp_signature_verify(SECRET, "", REQID, "1", NOW, HOUR), MP_SIG_MISSING);
  CHECK_INT(mp_signature_verify(SECRET, "ts=" TS, REQID, "1", NOW, HOUR), MP_SIG_MISSING);
  CHECK_INT(mp_signature_verify(SECRET, "v1=" "00", REQID, "1", NOW, HOUR), MP_SIG_MISSING);
  CHECK_INT(mp_signature_verify(SECRET, "ts=" TS ",v1=zz", REQID, "1", NOW, HOUR),
            MP_SIG_MALFORMED);
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=12ab,v1=663718770990e5ece9551d3eab1da553039a1cff9a1f7c8fec944"
                                "378d04a158f",
                                REQID, "123456789", NOW, HOUR),
            MP_SIG_MALFORMED);
  const char *good = "ts=" TS ",v1=663718770990e5ece9551d3eab1da553039a1cff9a1f7c8fec944378d04a158f";
  CHECK_INT(mp_signature_verify(SECRET, good, REQID, "123456789", NOW + 2 * HOUR, HOUR),
            MP_SIG_STALE);
  CHECK_INT(mp_signature_verify(SECRET, good, REQID, "123456789", NOW - 2 * HOUR, HOUR),
            MP_SIG_STALE);
  /* ts in seconds is read as seconds for the age check */
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=1742505638,v1=0000000000000000000000000000000000000000000000"
                                "000000000000000000",
                                REQID, "123456789", NOW, HOUR),
            MP_SIG_MISMATCH);
  CHECK_INT(mp_signature_verify(SECRET,
                                "ts=1742505638,v1=0000000000000000000000000000000000000000000000"
                                "000000000000000000",
                                REQID, "123456789", NOW + 2 * HOUR, HOUR),
            MP_SIG_STALE);
}

