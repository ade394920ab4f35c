/* Cents to text (include/shop/money.h). Digits are produced from an unsigned magnitude so
 * that INT64_MIN formats too, and grouping is done by hand: the C locale machinery is
 * process-global and would make one request's language leak into another's. */
#include "shop/money.h"

#include <stdio.h>
#include <string.h>

int shop_money_format(int64_t cents, const char *currency, const char *locale, char *buf,
                      size_t len) {
  int en = locale && !strcmp(locale, "en");
  char thousands = en ? ',' : '.', decimal = en ? '.' : ',';
  uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
  char sym[16];
  if (!currency || !strcmp(currency, "BRL"))
    snprintf(sym, sizeof sym, en ? "R$" : "R$ ");
  else
    snprintf(sym, sizeof sym, "%.8s ", currency);

  /* whole part with grouping, built backwards */
  char whole[32];
  size_t n = 0;
  uint64_t units = mag / 100;
  unsigned digits = 0;
  do {
    if (digits && digits % 3 == 0)
      whole[n++] = thousands;
    whole[n++] = (char)('0' + units % 10);
    units /= 10;
    digits++;
  } while (units);
  char fwd[32];
  for (size_t i = 0; i < n; i++)
    fwd[i] = whole[n - 1 - i];
  fwd[n] = '\0';

  int w = snprintf(buf, len, "%s%s%s%c%02u", cents < 0 ? "-" : "", sym, fwd, decimal,
                   (unsigned)(mag % 100));
  if (w < 0 || (size_t)w >= len) {
    if (len)
      buf[0] = '\0';
    return -1;
  }
  return w;
}
