/* Declarative JSON input: each kind of mistake a client can make gives the right error and
 * names the field. */
#include "core/jspec.h"
#include "harness.h"

static const char *const kinds[] = {"percent", "fixed", NULL};
static const struct jspec_field fields[] = {
    {"name", JSPEC_STRING, 0, 1, 5, NULL},
    {"price", JSPEC_INT, 0, 0, 1000000, NULL},
    {"active", JSPEC_BOOL, JSPEC_OPTIONAL, 0, 0, NULL},
    {"kind", JSPEC_ENUM, JSPEC_OPTIONAL, 0, 0, kinds},
    {"note", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 0, 10, NULL},
};
#define NF (sizeof fields / sizeof fields[0])

static int check(const char *text, struct jspec_error *e) {
  json_t *j = json_loads(text, 0, NULL);
  int rc = jspec_check(j, fields, NF, 0, e);
  json_decref(j);
  return rc;
}

TEST(valid_body) {
  struct jspec_error e;
  CHECK_INT(check("{\"name\":\"açaí\",\"price\":100,\"kind\":\"fixed\",\"note\":null}", &e), 0);
}

TEST(each_mistake_names_its_field) {
  static const struct {
    const char *body;
    enum err_id id;
    const char *field;
  } cases[] = {
      {"{\"price\":1}", ERR_MISSING_FIELD, "name"},
      {"{\"name\":\"\",\"price\":1}", ERR_BAD_FIELD, "name"},
      {"{\"name\":\"abcdef\",\"price\":1}", ERR_BAD_FIELD, "name"},
      {"{\"name\":7,\"price\":1}", ERR_BAD_FIELD, "name"},
      {"{\"name\":\"a\",\"price\":-1}", ERR_BAD_FIELD, "price"},
      {"{\"name\":\"a\",\"price\":1.5}", ERR_BAD_FIELD, "price"},
      {"{\"name\":\"a\",\"price\":\"1\"}", ERR_BAD_FIELD, "price"},
      {"{\"name\":\"a\",\"price\":1,\"active\":1}", ERR_BAD_FIELD, "active"},
      {"{\"name\":\"a\",\"price\":1,\"kind\":\"other\"}", ERR_BAD_FIELD, "kind"},
      {"{\"name\":\"a\",\"price\":1,\"prcie\":2}", ERR_UNKNOWN_FIELD, "prcie"},
      {"[1,2]", ERR_BAD_JSON, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct jspec_error e = {0};
    if (check(cases[i].body, &e) != -1 || e.id != cases[i].id ||
        (cases[i].field ? !e.field || strcmp(e.field, cases[i].field) : e.field != NULL)) {
      harness_fail(__FILE__, __LINE__, "case %zu (%s): id %d field %s", i, cases[i].body,
                   (int)e.id, e.field ? e.field : "(null)");
      return;
    }
  }
}

TEST(null_body_is_empty_object) {
  struct jspec_error e;
  static const struct jspec_field opt[] = {{"x", JSPEC_INT, JSPEC_OPTIONAL, 0, 0, NULL}};
  CHECK_INT(jspec_check(NULL, opt, 1, 0, &e), 0);
  CHECK_INT(jspec_check(NULL, fields, NF, 0, &e), -1);
  CHECK_INT(e.id, ERR_MISSING_FIELD);
}

TEST(utf8_length_counts_characters) {
  CHECK_INT(jspec_utf8_len("açaí"), 4);
  CHECK_INT(jspec_utf8_len(""), 0);
}
