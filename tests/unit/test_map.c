/* The string map: what the runtime's instance table relies on. */
#include <stdio.h>

#include "core/map.h"
#include "harness.h"

TEST(put_get_replace_delete) {
  struct map m = {0};
  int a = 1, b = 2;
  CHECK(map_get(&m, "x") == NULL);
  CHECK(map_put(&m, "x", &a, NULL) == NULL);
  CHECK(map_get(&m, "x") == &a);
  CHECK(map_put(&m, "x", &b, NULL) == &a);
  CHECK(map_get(&m, "x") == &b);
  CHECK_INT(m.len, 1);
  CHECK(map_del(&m, "x") == &b);
  CHECK(map_get(&m, "x") == NULL);
  CHECK(map_del(&m, "x") == NULL);
  CHECK_INT(m.len, 0);
  map_free(&m);
}

TEST(many_keys_and_iteration_sees_each_once) {
  struct map m = {0};
  static int vals[5000];
  char key[32];
  for (int i = 0; i < 5000; i++) {
    vals[i] = i;
    snprintf(key, sizeof key, "inst-%d", i);
    map_put(&m, key, &vals[i], NULL);
  }
  CHECK_INT(m.len, 5000);
  for (int i = 0; i < 5000; i += 2) {
    snprintf(key, sizeof key, "inst-%d", i);
    CHECK(map_del(&m, key) == &vals[i]);
  }
  static unsigned char seen[5000];
  memset(seen, 0, sizeof seen);
  size_t it = 0;
  const char *k;
  int *v, count = 0;
  while ((v = map_next(&m, &it, &k))) {
    CHECK(*v % 2 == 1);
    CHECK(!seen[*v]);
    seen[*v] = 1;
    snprintf(key, sizeof key, "inst-%d", *v);
    CHECK_STR(k, key);
    count++;
  }
  CHECK_INT(count, 2500);
  map_free(&m);
}
