/* The error registry: codes and names must be unique (a client keys on them), statuses must
 * be errors, and both languages must be present. */
#include "core/errors.h"
#include "harness.h"

TEST(codes_and_names_unique) {
  int n = err_count();
  CHECK(n > 10);
  for (int i = 0; i < n; i++)
    for (int k = i + 1; k < n; k++) {
      if (err_info(i)->code == err_info(k)->code) {
        harness_fail(__FILE__, __LINE__, "code %d used twice", err_info(i)->code);
        return;
      }
      CHECK(strcmp(err_info(i)->name, err_info(k)->name) != 0);
    }
}

TEST(rows_are_complete) {
  for (int i = 0; i < err_count(); i++) {
    const struct err_info *e = err_info(i);
    CHECK(e->status >= 400 && e->status <= 599);
    CHECK(e->msg_pt[0] && e->msg_en[0]);
    CHECK(strcmp(e->msg_pt, e->msg_en) != 0);
    for (const char *p = e->name; *p; p++)
      CHECK((*p >= 'a' && *p <= 'z') || *p == '_');
  }
}

TEST(names_and_locales) {
  CHECK_STR(err_info(ERR_NOT_FOUND)->name, "not_found");
  CHECK_INT(err_info(ERR_NOT_FOUND)->status, 404);
  CHECK_STR(err_message(ERR_NOT_FOUND, "en"), "Not found.");
  CHECK_STR(err_message(ERR_NOT_FOUND, "pt-BR"), "Recurso não encontrado.");
  CHECK_STR(err_message(ERR_NOT_FOUND, NULL), "Recurso não encontrado.");
}
