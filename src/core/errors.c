/* The error registry's table, built from ERR_TABLE, with names derived from the enum ids. */
#include "core/errors.h"

#include <ctype.h>
#include <string.h>

static struct err_info table[ERR_COUNT] = {
#define ERR_ROW_(id, code, status, pt, en) {id, code, #id, status, pt, en},
    ERR_TABLE(ERR_ROW_)
#undef ERR_ROW_
};
static char names[ERR_COUNT][48];
static int names_ready;

/* "ERR_NOT_FOUND" -> "not_found", once: the wire name is the enum name, so the two can
 * never drift apart. */
static void make_names(void) {
  for (int i = 0; i < ERR_COUNT; i++) {
    const char *src = table[i].name + 4;
    size_t n = strlen(src);
    if (n >= sizeof names[i])
      n = sizeof names[i] - 1;
    for (size_t k = 0; k < n; k++)
      names[i][k] = (char)tolower((unsigned char)src[k]);
    names[i][n] = 0;
    table[i].name = names[i];
  }
  names_ready = 1;
}

const struct err_info *err_info(enum err_id id) {
  if (!names_ready)
    make_names();
  if ((int)id < 0 || id >= ERR_COUNT)
    id = ERR_INTERNAL;
  return &table[id];
}

const char *err_message(enum err_id id, const char *locale) {
  const struct err_info *e = err_info(id);
  return locale && !strncmp(locale, "en", 2) ? e->msg_en : e->msg_pt;
}

int err_count(void) { return ERR_COUNT; }
