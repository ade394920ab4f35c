/* custom_id codec: what buttons carry across restarts, and what forged ids cannot do. */
#include "discord/customid.h"
#include "harness.h"

TEST(round_trip) {
  char out[CID_MAX + 1];
  const char *args[] = {"0b7c5e0e-8f1d-4a8e-9a57-0c1d2e3f4a5b", "1234567890123456789"};
  CHECK_INT(cid_encode(out, sizeof out, "buy", args, 2), 0);
  CHECK_STR(out, "astra:buy:0b7c5e0e-8f1d-4a8e-9a57-0c1d2e3f4a5b:1234567890123456789");
  struct cid c;
  CHECK_INT(cid_parse(out, &c), 0);
  CHECK_STR(c.action, "buy");
  CHECK_INT(c.nargs, 2);
  CHECK_STR(c.args[0], args[0]);
  CHECK_STR(c.args[1], args[1]);
  CHECK_INT(cid_encode(out, sizeof out, "cancel", NULL, 0), 0);
  CHECK_INT(cid_parse(out, &c), 0);
  CHECK_STR(c.action, "cancel");
  CHECK_INT(c.nargs, 0);
}

TEST(encode_refuses_what_would_not_parse) {
  char out[CID_MAX + 1];
  const char *colon[] = {"a:b"};
  const char *empty[] = {""};
  const char *space[] = {"a b"};
  const char *longarg[] = {"0123456789012345678901234567890123456789x"};
  CHECK_INT(cid_encode(out, sizeof out, "x", colon, 1), -1);
  CHECK_INT(cid_encode(out, sizeof out, "x", empty, 1), -1);
  CHECK_INT(cid_encode(out, sizeof out, "x", space, 1), -1);
  CHECK_INT(cid_encode(out, sizeof out, "x", longarg, 1), -1);
  CHECK_INT(cid_encode(out, sizeof out, "", NULL, 0), -1);
  /* four 36-char UUIDs do not fit in 100 characters */
  const char *uuids[] = {"0b7c5e0e-8f1d-4a8e-9a57-0c1d2e3f4a5b", "0b7c5e0e-8f1d-4a8e-9a57-0c1d2e3f4a5b",
                         "0b7c5e0e-8f1d-4a8e-9a57-0c1d2e3f4a5b"};
  CHECK_INT(cid_encode(out, sizeof out, "x", uuids, 3), -1);
}

TEST(parse_refuses_foreign_and_forged_ids) {
  struct cid c;
  static const char *bad[] = {
      "",           "buy:1",        "astra:",        "astra::1",      "astra:buy:",
      "astra:buy::2", "astra:b y:1", "astra:buy:1:2:3:4:5", "ASTRA:buy",  "astra:buy:1/2",
      "astra:buy:%00",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (cid_parse(bad[i], &c) == 0) {
      harness_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
      return;
    }
  char longid[200];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = 0;
  memcpy(longid, "astra:", 6);
  CHECK_INT(cid_parse(longid, &c), -1);
}
