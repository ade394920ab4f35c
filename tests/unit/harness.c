/* The unit harness's runner: runs every registered test in order (or those named on the
 * command line) and prints one TAP-like line per test. */
#include "harness.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define HARNESS_MAX 512

static struct {
  const char *name;
  harness_fn fn;
} tests[HARNESS_MAX];
static int ntests;
static int current_failed;
static char tmp_root[512];
static int tmp_count;

void harness_register(const char *name, harness_fn fn) {
  if (ntests < HARNESS_MAX) {
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
  }
}

void harness_fail(const char *file, int line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!current_failed)
    printf("#   %s:%d: %s\n", file, line, msg);
  current_failed = 1;
}

int harness_failed(void) { return current_failed; }

static void rm_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
          continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_tree(sub);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static void cleanup_tmp(void) {
  if (tmp_root[0] && !getenv("KEEP_TMP"))
    rm_tree(tmp_root);
}

const char *harness_tmpdir(void) {
  static char dir[600];
  if (!tmp_root[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/astra-unit-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmp_root)) {
      perror("mkdtemp");
      exit(2);
    }
    atexit(cleanup_tmp);
  }
  snprintf(dir, sizeof dir, "%s/t%d", tmp_root, ++tmp_count);
  mkdir(dir, 0700);
  return dir;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < ntests; i++) {
    if (argc > 1) {
      int wanted = 0;
      for (int a = 1; a < argc; a++)
        if (!strcmp(argv[a], tests[i].name))
          wanted = 1;
      if (!wanted)
        continue;
    }
    current_failed = 0;
    tests[i].fn();
    if (current_failed) {
      printf("not ok - %s\n", tests[i].name);
      failed++;
    } else {
      printf("ok - %s\n", tests[i].name);
      passed++;
    }
  }
  printf("# %s: %d passed, %d failed\n", argv[0], passed, failed);
  return failed ? 1 : 0;
}
