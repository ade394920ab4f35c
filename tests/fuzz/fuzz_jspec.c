/* Fuzzes request bodies through the JSON parser and a declarative spec: every outcome is
 * either valid or one error that names a field or the body. */
#include <stdint.h>

#include "core/jspec.h"

static const char *const kinds[] = {"percent", "fixed", NULL};
static const struct jspec_field fields[] = {
    {"name", JSPEC_STRING, 0, 1, 80, NULL},
    {"price", JSPEC_INT, 0, 0, 100000000, NULL},
    {"active", JSPEC_BOOL, JSPEC_OPTIONAL, 0, 0, NULL},
    {"kind", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, kinds},
    {"tags", JSPEC_ARRAY, JSPEC_OPTIONAL, 0, 10, NULL},
    {"meta", JSPEC_OBJECT, JSPEC_OPTIONAL | JSPEC_NULLABLE, 0, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t err;
  json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
  if (!j)
    return 0;
  struct jspec_error e;
  if (jspec_check(j, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    if (e.id != ERR_BAD_JSON && !e.field)
      __builtin_trap();
  }
  json_decref(j);
  return 0;
}
