/* Declarative JSON input checking: see include/core/jspec.h. */
#include "core/jspec.h"

#include <stdio.h>
#include <string.h>

size_t jspec_utf8_len(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) /* count lead bytes only */
      n++;
  return n;
}

static int fail(struct jspec_error *e, enum err_id id, const char *field, const char *fmt,
                long long a, long long b) {
  e->id = id;
  e->field = NULL;
  if (field) {
    snprintf(e->field_buf, sizeof e->field_buf, "%s", field);
    e->field = e->field_buf;
  }
  snprintf(e->detail, sizeof e->detail, fmt, a, b);
  return -1;
}

static int bounded(const struct jspec_field *f) { return f->min != 0 || f->max != 0; }

static int check_one(const struct jspec_field *f, const json_t *v, struct jspec_error *e) {
  switch (f->type) {
  case JSPEC_STRING: {
    if (!json_is_string(v))
      return fail(e, ERR_BAD_FIELD, f->name, "expected a string", 0, 0);
    long long len = (long long)jspec_utf8_len(json_string_value(v));
    if (json_string_length(v) != strlen(json_string_value(v)))
      return fail(e, ERR_BAD_FIELD, f->name, "must not contain NUL characters", 0, 0);
    if (bounded(f) && (len < f->min || len > f->max))
      return fail(e, ERR_BAD_FIELD, f->name, "expected %lld to %lld characters", f->min,
                  f->max);
    return 0;
  }
  case JSPEC_INT: {
    if (!json_is_integer(v))
      return fail(e, ERR_BAD_FIELD, f->name, "expected an integer", 0, 0);
    long long x = json_integer_value(v);
    if (bounded(f) && (x < f->min || x > f->max))
      return fail(e, ERR_BAD_FIELD, f->name, "expected an integer from %lld to %lld", f->min,
                  f->max);
    return 0;
  }
  case JSPEC_BOOL:
    return json_is_boolean(v) ? 0 : fail(e, ERR_BAD_FIELD, f->name, "expected true or false", 0, 0);
  case JSPEC_OBJECT:
    return json_is_object(v) ? 0 : fail(e, ERR_BAD_FIELD, f->name, "expected an object", 0, 0);
  case JSPEC_ARRAY: {
    if (!json_is_array(v))
      return fail(e, ERR_BAD_FIELD, f->name, "expected an array", 0, 0);
    long long n = (long long)json_array_size(v);
    if (bounded(f) && (n < f->min || n > f->max))
      return fail(e, ERR_BAD_FIELD, f->name, "expected %lld to %lld items", f->min, f->max);
    return 0;
  }
  case JSPEC_ENUM:
    if (json_is_string(v) && f->allowed)
      for (const char *const *a = f->allowed; *a; a++)
        if (!strcmp(*a, json_string_value(v)))
          return 0;
    return fail(e, ERR_BAD_FIELD, f->name, "not one of the allowed values", 0, 0);
  }
  return fail(e, ERR_BAD_FIELD, f->name, "unsupported field type", 0, 0);
}

int jspec_check(const json_t *body, const struct jspec_field *fields, size_t n,
                int allow_unknown, struct jspec_error *e) {
  static json_t *empty;
  if (!body) {
    if (!empty)
      empty = json_object();
    body = empty;
  }
  if (!json_is_object(body))
    return fail(e, ERR_BAD_JSON, NULL, "the body must be a JSON object", 0, 0);
  /* unknown fields first: a misspelt optional field is the likelier mistake */
  if (!allow_unknown) {
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v) {
      int known = 0;
      for (size_t i = 0; i < n && !known; i++)
        known = !strcmp(key, fields[i].name);
      if (!known)
        return fail(e, ERR_UNKNOWN_FIELD, key, "not a field of this request", 0, 0);
    }
  }
  for (size_t i = 0; i < n; i++) {
    const json_t *v = json_object_get(body, fields[i].name);
    if (!v) {
      if (fields[i].flags & JSPEC_OPTIONAL)
        continue;
      return fail(e, ERR_MISSING_FIELD, fields[i].name, "required", 0, 0);
    }
    if (json_is_null(v) && (fields[i].flags & JSPEC_NULLABLE))
      continue;
    if (check_one(&fields[i], v, e) != 0)
      return -1;
  }
  return 0;
}
