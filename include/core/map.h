/* A string-keyed hash map of pointers (chained), for the daemon's in-memory tables that are
 * not store collections: running instances by id, sessions by application id. Keys are
 * copied; values are the caller's. */
#ifndef ASTRA_CORE_MAP_H
#define ASTRA_CORE_MAP_H

#include <stddef.h>

struct map_entry;
struct map {
  struct map_entry **buckets;
  size_t nbuckets;
  size_t len;
};

void *map_get(const struct map *m, const char *key);
/* Sets key to val; returns the previous value (NULL if none). -1 cast is never returned:
 * on out of memory the map is unchanged and *failed is set when failed is not NULL. */
void *map_put(struct map *m, const char *key, void *val, int *failed);
/* Removes key; returns its value or NULL. */
void *map_del(struct map *m, const char *key);
/* Iteration: start with *it = 0; returns each value (and its key) until NULL. Do not change
 * the map while iterating. */
void *map_next(const struct map *m, size_t *it, const char **key);
void map_free(struct map *m);

#endif
