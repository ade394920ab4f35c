/* shop_money_format: both locales, grouping, negatives, extremes, small buffers. */
#include <stdint.h>

#include "harness.h"
#include "shop/money.h"

static const char *fmt(int64_t cents, const char *cur, const char *loc) {
  static char buf[SHOP_MONEY_MAX];
  shop_money_format(cents, cur, loc, buf, sizeof buf);
  return buf;
}

TEST(money_pt_br) {
  CHECK_STR(fmt(1990, "BRL", "pt-BR"), "R$ 19,90");
  CHECK_STR(fmt(0, "BRL", "pt-BR"), "R$ 0,00");
  CHECK_STR(fmt(5, "BRL", "pt-BR"), "R$ 0,05");
  CHECK_STR(fmt(100000, "BRL", "pt-BR"), "R$ 1.000,00");
  CHECK_STR(fmt(123456, "BRL", "pt-BR"), "R$ 1.234,56");
  CHECK_STR(fmt(10000000000, "BRL", "pt-BR"), "R$ 100.000.000,00");
  CHECK_STR(fmt(-50, "BRL", "pt-BR"), "-R$ 0,50");
  CHECK_STR(fmt(1990, NULL, NULL), "R$ 19,90"); /* defaults: BRL, pt-BR */
}

TEST(money_en) {
  CHECK_STR(fmt(1990, "BRL", "en"), "R$19.90");
  CHECK_STR(fmt(123456, "BRL", "en"), "R$1,234.56");
  CHECK_STR(fmt(99999999, "BRL", "en"), "R$999,999.99");
  CHECK_STR(fmt(-123456, "BRL", "en"), "-R$1,234.56");
  CHECK_STR(fmt(1990, "USD", "en"), "USD 19.90");
}

TEST(money_extremes) {
  CHECK_STR(fmt(INT64_MAX, "BRL", "pt-BR"), "R$ 92.233.720.368.547.758,07");
  CHECK_STR(fmt(INT64_MIN, "BRL", "en"), "-R$92,233,720,368,547,758.08");
}

TEST(money_small_buffer) {
  char buf[8];
  CHECK_INT(shop_money_format(123456, "BRL", "pt-BR", buf, sizeof buf), -1);
  CHECK_STR(buf, "");
  char ok[9];
  CHECK_INT(shop_money_format(1990, "BRL", "pt-BR", ok, sizeof ok), 8);
  CHECK_STR(ok, "R$ 19,90");
}
