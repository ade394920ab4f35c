/* The custom_id codec: see include/discord/customid.h. */
#include "discord/customid.h"

#include <stdio.h>
#include <string.h>

#define CID_PREFIX "astra:"

static int valid_token(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n >= max)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

int cid_encode(char *out, size_t outlen, const char *action, const char *const *args,
               unsigned nargs) {
  struct cid probe;
  if (!action || !valid_token(action, sizeof probe.action) || nargs > CID_MAX_ARGS ||
      outlen < CID_MAX + 1)
    return -1;
  size_t used = (size_t)snprintf(out, outlen, CID_PREFIX "%s", action);
  for (unsigned i = 0; i < nargs; i++) {
    if (!args[i] || !valid_token(args[i], sizeof probe.args[0]))
      return -1;
    used += (size_t)snprintf(out + used, outlen > used ? outlen - used : 0, ":%s", args[i]);
    if (used > CID_MAX)
      return -1;
  }
  return used <= CID_MAX ? 0 : -1;
}

int cid_parse(const char *s, struct cid *out) {
  memset(out, 0, sizeof *out);
  size_t plen = strlen(CID_PREFIX);
  if (!s || strlen(s) > CID_MAX || strncmp(s, CID_PREFIX, plen) != 0)
    return -1;
  const char *p = s + plen;
  int field = 0;
  for (;;) {
    size_t len = strcspn(p, ":");
    char *dst = field == 0 ? out->action : out->args[field - 1];
    size_t cap = field == 0 ? sizeof out->action : sizeof out->args[0];
    if (field > CID_MAX_ARGS || len == 0 || len >= cap)
      return -1;
    memcpy(dst, p, len);
    dst[len] = 0;
    if (!valid_token(dst, cap))
      return -1;
    if (field > 0)
      out->nargs = (unsigned)field;
    if (p[len] == 0)
      return 0;
    p += len + 1;
    field++;
  }
}
