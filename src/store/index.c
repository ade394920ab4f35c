/* Secondary indexes over a top-level string field of a collection's records: key ->
 * set of (scope, id). Maintained by store_apply (commit and replay), checked for unique
 * violations before a commit applies anything. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct imember {
  struct scope *scope;
  const char *id; /* points into mkey */
  char mkey[];    /* "<scope>/<id>" or "<id>" */
};

struct ikey {
  char *key;
  struct htab members; /* mkey -> struct imember */
};

struct sindex {
  enum store_coll c;
  char *field;
  int unique;
  struct htab keys; /* key -> struct ikey */
  struct sindex *next;
};

static const char *field_of(const json_t *v, const char *field) {
  if (!v)
    return NULL;
  return json_string_value(json_object_get(v, field));
}

static void mkey_of(char *out, size_t outlen, const struct scope *sc, const char *id) {
  if (sc)
    store_fmt(out, outlen, "%s/%s", sc->name, id);
  else
    store_fmt(out, outlen, "%s", id);
}

static void ikey_free(struct ikey *k) {
  size_t i = 0;
  struct imember *m;
  while ((m = store_htab_next(&k->members, &i)))
    free(m);
  store_htab_free(&k->members);
  free(k->key);
  free(k);
}

static void index_free(struct sindex *x) {
  size_t i = 0;
  struct ikey *k;
  while ((k = store_htab_next(&x->keys, &i)))
    ikey_free(k);
  store_htab_free(&x->keys);
  free(x->field);
  free(x);
}

void store_index_free_all(struct store *s) {
  while (s->indexes) {
    struct sindex *x = s->indexes;
    s->indexes = x->next;
    index_free(x);
  }
}

static void member_del(struct sindex *x, const char *key, const struct scope *sc, const char *id) {
  struct ikey *k = store_htab_get(&x->keys, key);
  if (!k)
    return;
  char mk[2 * STORE_ID_MAX + 2];
  mkey_of(mk, sizeof mk, sc, id);
  free(store_htab_del(&k->members, mk));
  if (k->members.n == 0) {
    store_htab_del(&x->keys, key);
    ikey_free(k);
  }
}

/* Adds a member; returns the number of members the key had before, or -1 on ENOMEM. */
static long member_add(struct sindex *x, const char *key, struct scope *sc, const char *id) {
  int failed;
  struct ikey *k = store_htab_get(&x->keys, key);
  if (!k) {
    k = calloc(1, sizeof *k);
    if (!k || !(k->key = strdup(key))) {
      free(k);
      return -1;
    }
    store_htab_set(&x->keys, k->key, k, &failed);
    if (failed) {
      ikey_free(k);
      return -1;
    }
  }
  char mk[2 * STORE_ID_MAX + 2];
  mkey_of(mk, sizeof mk, sc, id);
  long before = (long)k->members.n;
  if (store_htab_get(&k->members, mk))
    return before - 1;
  size_t mlen = strlen(mk);
  struct imember *m = malloc(sizeof *m + mlen + 1);
  if (!m)
    return -1;
  memcpy(m->mkey, mk, mlen + 1);
  m->scope = sc;
  m->id = sc ? m->mkey + strlen(sc->name) + 1 : m->mkey;
  store_htab_set(&k->members, m->mkey, m, &failed);
  if (failed) {
    free(m);
    return -1;
  }
  return before;
}

void store_index_apply(struct store *s, struct coll *co, const char *id, const json_t *oldv,
                       const json_t *newv) {
  for (struct sindex *x = s->indexes; x; x = x->next) {
    if (x->c != co->c)
      continue;
    const char *ok = field_of(oldv, x->field), *nk = field_of(newv, x->field);
    if (ok && nk && !strcmp(ok, nk))
      continue;
    if (ok)
      member_del(x, ok, co->scope, id);
    if (nk)
      member_add(x, nk, co->scope, id); /* ENOMEM: the index misses one entry */
  }
}

int store_index_has_unique(struct store *s, enum store_coll c) {
  for (struct sindex *x = s->indexes; x; x = x->next)
    if (x->c == c && x->unique)
      return 1;
  return 0;
}

/* Key of an op in the "final op" table: "<c>:<scope>/<id>". */
static void opkey(char *out, size_t outlen, enum store_coll c, const char *scope, const char *id) {
  store_fmt(out, outlen, "%d:%s/%s", (int)c, scope ? scope : "", id);
}

int store_index_check(struct store *s, struct txn_op *ops, size_t nops) {
  int need = 0;
  for (size_t i = 0; i < nops && !need; i++)
    need = store_index_has_unique(s, ops[i].c);
  if (!need)
    return 0;

  enum { KLEN = 2 * STORE_ID_MAX + 16 };
  int rc = 0, failed;
  char(*keys)[KLEN] = malloc(nops * sizeof *keys);
  struct htab final = {0}, claimed = {0};
  if (!keys)
    return STORE_ERR;
  /* The last op on each record decides its state after the commit. */
  for (size_t i = 0; i < nops; i++) {
    opkey(keys[i], KLEN, ops[i].c, ops[i].scope, ops[i].id);
    store_htab_set(&final, keys[i], &ops[i], &failed);
    if (failed) {
      rc = STORE_ERR;
      goto out;
    }
  }
  for (struct sindex *x = s->indexes; x && rc == 0; x = x->next) {
    if (!x->unique)
      continue;
    store_htab_free(&claimed);
    for (size_t i = 0; i < nops && rc == 0; i++) {
      struct txn_op *op = &ops[i];
      if (op->c != x->c || store_htab_get(&final, keys[i]) != op || !op->r)
        continue;
      const char *nk = field_of(op->r->v, x->field);
      if (!nk)
        continue;
      /* Two records of this transaction with the same key. */
      if (store_htab_get(&claimed, nk)) {
        rc = STORE_ECONFLICT;
        break;
      }
      store_htab_set(&claimed, nk, op, &failed);
      if (failed) {
        rc = STORE_ERR;
        break;
      }
      /* A record outside the transaction already holds the key. Members touched by the
       * transaction are judged by their final state, above. */
      struct ikey *k = store_htab_get(&x->keys, nk);
      if (!k)
        continue;
      size_t it = 0;
      struct imember *m;
      while ((m = store_htab_next(&k->members, &it))) {
        char mk[KLEN];
        opkey(mk, sizeof mk, x->c, m->scope ? m->scope->name : "", m->id);
        if (!store_htab_get(&final, mk)) {
          rc = STORE_ECONFLICT;
          break;
        }
      }
    }
  }
out:
  store_htab_free(&claimed);
  store_htab_free(&final);
  free(keys);
  return rc;
}

static int index_add_coll(struct sindex *x, struct coll *co) {
  size_t i = 0;
  struct rec *r;
  while ((r = store_htab_next(&co->recs, &i))) {
    const char *k = field_of(r->v, x->field);
    if (!k)
      continue;
    long before = member_add(x, k, co->scope, r->id);
    if (before < 0)
      return STORE_ERR;
    if (x->unique && before > 0)
      return STORE_ECONFLICT;
  }
  return 0;
}

int store_index_define(struct store *s, enum store_coll c, const char *field, int unique) {
  if (!s || (unsigned)c >= STORE_COLL_COUNT || !field || !*field)
    return STORE_ERR;
  for (struct sindex *x = s->indexes; x; x = x->next)
    if (x->c == c && !strcmp(x->field, field))
      return x->unique == !!unique ? 0 : STORE_ERR;
  struct sindex *x = calloc(1, sizeof *x);
  if (!x || !(x->field = strdup(field))) {
    free(x);
    return STORE_ERR;
  }
  x->c = c;
  x->unique = !!unique;
  int rc = 0;
  if (store_coll_scoped(c)) {
    size_t i = 0;
    struct scope *sc;
    while (rc == 0 && (sc = store_htab_next(&s->scopes, &i)))
      rc = index_add_coll(x, sc->colls[store_coll_file(c) - F_PRODUCTS]);
  } else {
    rc = index_add_coll(x, s->ucolls[c]);
  }
  if (rc != 0) {
    index_free(x);
    return rc;
  }
  x->next = s->indexes;
  s->indexes = x;
  return 0;
}

static struct sindex *index_find(struct store *s, enum store_coll c, const char *field) {
  for (struct sindex *x = s->indexes; x; x = x->next)
    if (x->c == c && !strcmp(x->field, field))
      return x;
  return NULL;
}

const char *store_index_get(struct store *s, enum store_coll c, const char *field,
                            const char *key, const char **scope_out) {
  if (scope_out)
    *scope_out = NULL;
  if (!s || !field || !key)
    return NULL;
  struct sindex *x = index_find(s, c, field);
  struct ikey *k = x ? store_htab_get(&x->keys, key) : NULL;
  if (!k)
    return NULL;
  size_t i = 0;
  struct imember *m = store_htab_next(&k->members, &i);
  if (!m)
    return NULL;
  if (scope_out)
    *scope_out = m->scope ? m->scope->name : NULL;
  return m->id;
}

void store_index_foreach(struct store *s, enum store_coll c, const char *field, const char *key,
                         int (*fn)(const char *scope, const char *id, const json_t *rec,
                                   void *arg),
                         void *arg) {
  if (!s || !field || !key || !fn)
    return;
  struct sindex *x = index_find(s, c, field);
  struct ikey *k = x ? store_htab_get(&x->keys, key) : NULL;
  if (!k || k->members.n == 0)
    return;
  /* fn may commit, which changes the index under us: walk a copy of the member list. */
  size_t n = k->members.n, got = 0;
  struct {
    struct scope *scope;
    char id[STORE_ID_MAX + 1];
  } *list = malloc(n * sizeof *list);
  if (!list)
    return;
  size_t i = 0;
  struct imember *m;
  while (got < n && (m = store_htab_next(&k->members, &i))) {
    list[got].scope = m->scope;
    store_fmt(list[got].id, sizeof list[got].id, "%s", m->id);
    got++;
  }
  for (size_t j = 0; j < got; j++) {
    const char *sc = list[j].scope ? list[j].scope->name : NULL;
    const json_t *rec = store_get(s, c, sc, list[j].id);
    if (!rec || !field_of(rec, field) || strcmp(field_of(rec, field), key) != 0)
      continue; /* changed by an earlier fn */
    if (fn(sc, list[j].id, rec, arg))
      break;
  }
  free(list);
}
