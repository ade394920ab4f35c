/* The router: matches a method and a decoded path against a route table, and decodes raw
 * paths strictly. A linear scan is plenty for a few hundred routes and keeps the order of
 * the table meaningful (first match wins). */
#include "http/router.h"

#include "core/crypto.h"

#include <stdio.h>
#include <string.h>

static const struct {
  unsigned bit;
  const char *name;
} methods[] = {
    {HTTP_GET, "GET"},     {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},
    {HTTP_PUT, "PUT"},     {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"},
    {HTTP_OPTIONS, "OPTIONS"},
};

unsigned http_method_parse(const char *s) {
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (!strcmp(s, methods[i].name))
      return methods[i].bit;
  return 0;
}

const char *http_method_name(unsigned m) {
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (m == methods[i].bit)
      return methods[i].name;
  return "?";
}

void router_allow_header(unsigned bits, char *out, size_t outlen) {
  size_t used = 0;
  out[0] = 0;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    if (!(bits & methods[i].bit))
      continue;
    int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", methods[i].name);
    if (n < 0 || (size_t)n >= outlen - used)
      break;
    used += (size_t)n;
  }
}

/* Matches one pattern against a path; fills params with pointers into scratch. */
static int match_one(const char *pattern, const char *path, char *scratch, size_t scratch_len,
                     const char **params, unsigned *nparams) {
  size_t plen = strlen(path);
  if (plen + 1 > scratch_len)
    return 0;
  memcpy(scratch, path, plen + 1);
  unsigned np = 0;
  const char *p = pattern;
  char *s = scratch;
  while (*p && *s) {
    if (*p != '/' || *s != '/')
      return 0;
    p++;
    s++;
    const char *pend = strchr(p, '/');
    size_t pseg = pend ? (size_t)(pend - p) : strlen(p);
    char *send = strchr(s, '/');
    size_t sseg = send ? (size_t)(send - s) : strlen(s);
    if (pseg > 0 && p[0] == ':') {
      if (sseg == 0 || np >= HTTP_MAX_PARAMS)
        return 0;
      params[np++] = s;
    } else if (pseg != sseg || memcmp(p, s, pseg) != 0) {
      return 0;
    }
    p += pseg;
    s += sseg;
  }
  if (*p || *s)
    return 0;
  /* Terminate each parameter in place now that the whole path matched. */
  for (unsigned i = 0; i < np; i++) {
    char *slash = strchr((char *)params[i], '/');
    if (slash)
      *slash = 0;
  }
  *nparams = np;
  return 1;
}

enum router_result router_match(const struct http_route *routes, size_t n, unsigned method,
                                const char *path, char *scratch, size_t scratch_len,
                                const struct http_route **out, const char **params,
                                unsigned *nparams, unsigned *allowed) {
  unsigned allow = 0;
  *out = NULL;
  *nparams = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned np = 0;
    const char *tmp[HTTP_MAX_PARAMS];
    if (!match_one(routes[i].pattern, path, scratch, scratch_len, tmp, &np))
      continue;
    unsigned accepts = routes[i].methods;
    if (accepts & HTTP_GET)
      accepts |= HTTP_HEAD; /* HEAD is GET without the body */
    if (accepts & method) {
      /* re-match so scratch holds this route's split */
      match_one(routes[i].pattern, path, scratch, scratch_len, params, nparams);
      *out = &routes[i];
      return ROUTER_MATCH;
    }
    allow |= accepts;
  }
  if (allow) {
    *allowed = allow | HTTP_OPTIONS;
    return ROUTER_BAD_METHOD;
  }
  return ROUTER_NOT_FOUND;
}

int router_decode_path(const char *raw, size_t raw_len, char *out, size_t outlen) {
  size_t o = 0;
  if (raw_len == 0 || raw[0] != '/')
    return -1;
  for (size_t i = 0; i < raw_len; i++) {
    unsigned char c = (unsigned char)raw[i];
    if (c == '%') {
      if (i + 2 >= raw_len)
        return -1;
      int hi = crypto_hex_digit(raw[i + 1]), lo = crypto_hex_digit(raw[i + 2]);
      if (hi < 0 || lo < 0)
        return -1;
      c = (unsigned char)(hi * 16 + lo);
      i += 2;
      /* an encoded separator would let a segment hide a path */
      if (c == '/' || c == '\\' || c == 0)
        return -1;
    } else if (c == '\\') {
      return -1;
    }
    if (c < 0x20 || c == 0x7f)
      return -1;
    if (o + 1 >= outlen)
      return -1;
    out[o++] = (char)c;
  }
  out[o] = 0;
  /* no "." or ".." segments, decoded or not */
  for (const char *seg = out; seg; seg = strchr(seg + 1, '/')) {
    const char *s = seg + 1;
    size_t len = strcspn(s, "/");
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
      return -1;
  }
  return 0;
}
