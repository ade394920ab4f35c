/* The string-keyed hash map: see include/core/map.h. Chaining keeps deletion simple;
 * the table doubles when the load passes 1. */
#include "core/map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct map_entry {
  struct map_entry *next;
  void *val;
  uint32_t hash;
  char key[];
};

/* FNV-1a: short keys (UUIDs, snowflakes), no adversarial hashing concern since keys are ours */
static uint32_t hash_of(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static struct map_entry **slot(const struct map *m, const char *key, uint32_t h) {
  struct map_entry **e = &m->buckets[h & (m->nbuckets - 1)];
  while (*e && ((*e)->hash != h || strcmp((*e)->key, key) != 0))
    e = &(*e)->next;
  return e;
}

void *map_get(const struct map *m, const char *key) {
  if (!m->nbuckets)
    return NULL;
  struct map_entry *e = *slot(m, key, hash_of(key));
  return e ? e->val : NULL;
}

static int grow(struct map *m) {
  size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
  struct map_entry **b = calloc(n, sizeof *b);
  if (!b)
    return -1;
  for (size_t i = 0; i < m->nbuckets; i++) {
    struct map_entry *e = m->buckets[i];
    while (e) {
      struct map_entry *next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = n;
  return 0;
}

void *map_put(struct map *m, const char *key, void *val, int *failed) {
  if (failed)
    *failed = 0;
  if (m->len >= m->nbuckets && grow(m) != 0) {
    if (failed)
      *failed = 1;
    return NULL;
  }
  uint32_t h = hash_of(key);
  struct map_entry **s = slot(m, key, h);
  if (*s) {
    void *old = (*s)->val;
    (*s)->val = val;
    return old;
  }
  size_t klen = strlen(key);
  struct map_entry *e = malloc(sizeof *e + klen + 1);
  if (!e) {
    if (failed)
      *failed = 1;
    return NULL;
  }
  e->next = NULL;
  e->val = val;
  e->hash = h;
  memcpy(e->key, key, klen + 1);
  *s = e;
  m->len++;
  return NULL;
}

void *map_del(struct map *m, const char *key) {
  if (!m->nbuckets)
    return NULL;
  struct map_entry **s = slot(m, key, hash_of(key));
  struct map_entry *e = *s;
  if (!e)
    return NULL;
  void *val = e->val;
  *s = e->next;
  free(e);
  m->len--;
  return val;
}

void *map_next(const struct map *m, size_t *it, const char **key) {
  /* *it encodes bucket index and position within the chain */
  size_t b = *it >> 16, pos = *it & 0xffff;
  for (; b < m->nbuckets; b++, pos = 0) {
    struct map_entry *e = m->buckets[b];
    for (size_t k = 0; e && k < pos; k++)
      e = e->next;
    if (e) {
      *it = (b << 16) | (pos + 1);
      if (key)
        *key = e->key;
      return e->val;
    }
  }
  *it = b << 16;
  return NULL;
}

void map_free(struct map *m) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    struct map_entry *e = m->buckets[i];
    while (e) {
      struct map_entry *next = e->next;
      free(e);
      e = next;
    }
  }
  free(m->buckets);
  memset(m, 0, sizeof *m);
}
