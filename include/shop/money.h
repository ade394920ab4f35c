/* Money for people to read: integer cents (int64, never floating point) formatted the way
 * buyers and sellers expect in their locale. */
#ifndef ASTRA_SHOP_MONEY_H
#define ASTRA_SHOP_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Writes cents as text into buf, in the conventions of locale:
 *   pt-BR (and anything but "en"): "R$ 1.234,56" (dot for thousands, comma for decimals,
 *                                   a space after the symbol), "-R$ 0,50";
 *   "en":                           "R$1,234.56" (comma for thousands, dot for decimals, no
 *                                   space: what Intl.NumberFormat('en') prints for BRL).
 * currency "BRL" (or NULL) prints "R$"; any other code prints itself and a space
 * ("USD 1,234.56"). Returns the length written, or -1 when buf is too small (buf then holds
 * "" when len > 0). 32 bytes always suffice. */
int shop_money_format(int64_t cents, const char *currency, const char *locale, char *buf,
                      size_t len);

#define SHOP_MONEY_MAX 32

#endif
