/* Classifying Mercado Pago's notifications (include/pay/webhook.h). The signature is checked
 * before anything else is looked at, so that an unsigned request can neither make us call the
 * API nor learn which topics or ids we act on. The one exception is the legacy IPN, which MP
 * never signs and sends alongside webhooks unless the notification_url asks for webhooks only:
 * it is acknowledged and dropped (answering 401 would only make MP retry it for days), which
 * is safe because nothing is done for it. */
#include "pay/webhook.h"

#include <string.h>

const char *mp_webhook_verdict_name(enum mp_webhook_verdict v) {
  static const char *const names[] = {"payment", "unauthorized", "ignore_topic", "ignore_id",
                                      "ignore_ipn"};
  return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

int mp_webhook_payment_id(const char *s, long long *out) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 18 || s[0] == '0')
    return 0;
  long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (s[i] - '0'); /* 18 digits fit in 63 bits */
  }
  *out = v;
  return 1;
}

enum mp_webhook_verdict mp_webhook_check(const char *secret, const struct mp_webhook_in *in,
                                         int64_t now_ms, long long *payment_id,
                                         enum mp_sig_result *sig) {
  if (sig)
    *sig = MP_SIG_OK;
  if (!in->x_signature && !in->data_id && !in->type && in->topic)
    return MP_WH_IGNORE_IPN;
  enum mp_sig_result r = mp_signature_verify(secret, in->x_signature, in->x_request_id,
                                             in->data_id, now_ms, MP_WEBHOOK_TOLERANCE_MS);
  if (sig)
    *sig = r;
  if (r != MP_SIG_OK)
    return MP_WH_UNAUTHORIZED;
  const char *topic = in->type ? in->type : in->topic;
  if (!topic || strcmp(topic, "payment"))
    return MP_WH_IGNORE_TOPIC;
  return mp_webhook_payment_id(in->data_id, payment_id) ? MP_WH_PAYMENT : MP_WH_IGNORE_ID;
}
