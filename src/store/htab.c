/* A string-keyed hash table (open addressing, linear probing, backward-shift deletion so
 * that there are no tombstones) used for records, scopes and index keys; and the record
 * versions themselves, reference counted so that checkpoints can hold them off the loop. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

struct rec *store_rec_new(const char *id, json_t *v) {
  size_t idlen = strlen(id);
  struct rec *r = malloc(sizeof *r + idlen + 1);
  if (!r) {
    json_decref(v);
    return NULL;
  }
  r->ser = json_dumps(v, JSON_COMPACT);
  if (!r->ser) {
    json_decref(v);
    free(r);
    return NULL;
  }
  atomic_init(&r->refs, 1);
  r->v = v;
  r->len = strlen(r->ser);
  memcpy(r->id, id, idlen + 1);
  return r;
}

void store_rec_ref(struct rec *r) { atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed); }

void store_rec_unref(struct rec *r) {
  if (!r)
    return;
  if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
    json_decref(r->v);
    free(r->ser);
    free(r);
  }
}

/* FNV-1a: ids are short; good enough and cheap. */
uint32_t store_hash(const char *key) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    h ^= *p;
    h *= 16777619u;
  }
  return h;
}

static struct hslot *find(const struct htab *t, const char *key, uint32_t h) {
  if (!t->cap)
    return NULL;
  size_t mask = t->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    struct hslot *sl = &t->slots[i];
    if (!sl->val)
      return NULL;
    if (sl->hash == h && !strcmp(sl->key, key))
      return sl;
  }
}

void *store_htab_get(const struct htab *t, const char *key) {
  struct hslot *sl = find(t, key, store_hash(key));
  return sl ? sl->val : NULL;
}

static void insert_new(struct htab *t, const char *key, void *val, uint32_t h) {
  size_t mask = t->cap - 1;
  size_t i = h & mask;
  while (t->slots[i].val)
    i = (i + 1) & mask;
  t->slots[i].key = key;
  t->slots[i].val = val;
  t->slots[i].hash = h;
  t->n++;
}

static int grow(struct htab *t) {
  size_t ncap = t->cap ? t->cap * 2 : 16;
  struct hslot *old = t->slots;
  size_t ocap = t->cap;
  t->slots = calloc(ncap, sizeof *t->slots);
  if (!t->slots) {
    t->slots = old;
    return -1;
  }
  t->cap = ncap;
  t->n = 0;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].val)
      insert_new(t, old[i].key, old[i].val, old[i].hash);
  free(old);
  return 0;
}

void *store_htab_set(struct htab *t, const char *key, void *val, int *failed) {
  uint32_t h = store_hash(key);
  struct hslot *sl = find(t, key, h);
  *failed = 0;
  if (sl) {
    void *prev = sl->val;
    sl->key = key;
    sl->val = val;
    return prev;
  }
  /* Load factor at most 3/4 keeps probe runs short. */
  if ((t->n + 1) * 4 > t->cap * 3 && grow(t) != 0) {
    *failed = 1;
    return NULL;
  }
  insert_new(t, key, val, h);
  return NULL;
}

void *store_htab_del(struct htab *t, const char *key) {
  uint32_t h = store_hash(key);
  struct hslot *sl = find(t, key, h);
  if (!sl)
    return NULL;
  void *val = sl->val;
  size_t mask = t->cap - 1;
  size_t i = (size_t)(sl - t->slots);
  /* Backward shift: move later members of the probe run into the hole when their home
   * slot does not lie (cyclically) between the hole and their position. */
  size_t j = i;
  for (;;) {
    t->slots[i].val = NULL;
    t->slots[i].key = NULL;
    for (;;) {
      j = (j + 1) & mask;
      if (!t->slots[j].val) {
        t->n--;
        return val;
      }
      size_t home = t->slots[j].hash & mask;
      int in_between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!in_between)
        break;
    }
    t->slots[i] = t->slots[j];
    i = j;
  }
}

void store_htab_free(struct htab *t) {
  free(t->slots);
  t->slots = NULL;
  t->cap = t->n = 0;
}

void *store_htab_next(const struct htab *t, size_t *i) {
  while (*i < t->cap) {
    struct hslot *sl = &t->slots[(*i)++];
    if (sl->val)
      return sl->val;
  }
  return NULL;
}
