/* A small unit test harness. Each tests/unit/test_*.c is its own binary; TEST() registers a
 * test, CHECK*() records a failure and returns from the test. The output is TAP-like:
 * "ok - name" or "not ok - name: file:line: what", which tests/run.sh counts. */
#ifndef ASTRA_TEST_HARNESS_H
#define ASTRA_TEST_HARNESS_H

#include <stdint.h>
#include <string.h>

typedef void (*harness_fn)(void);
void harness_register(const char *name, harness_fn fn);
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int harness_failed(void);
/* A fresh empty directory under $TMPDIR, removed at exit unless KEEP_TMP is set. */
const char *harness_tmpdir(void);

#define TEST(name)                                                                          \
  static void name(void);                                                                   \
  __attribute__((constructor)) static void harness_reg_##name(void) {                       \
    harness_register(#name, name);                                                          \
  }                                                                                         \
  static void name(void)

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                 \
      return;                                                                               \
    }                                                                                       \
  } while (0)

#define CHECK_INT(a, b)                                                                     \
  do {                                                                                      \
    long long a_ = (long long)(a), b_ = (long long)(b);                                     \
    if (a_ != b_) {                                                                         \
      harness_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_);  \
      return;                                                                               \
    }                                                                                       \
  } while (0)

#define CHECK_STR(a, b)                                                                     \
  do {                                                                                      \
    const char *a_ = (a), *b_ = (b);                                                        \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                \
      harness_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,                 \
                   a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                 \
      return;                                                                               \
    }                                                                                       \
  } while (0)

#endif
