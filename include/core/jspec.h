/* Declarative JSON input: a handler lists its fields (name, type, bounds, optional) and one
 * call checks a body against the list. A failure names the first bad field, so the client
 * gets one uniform 400 it can show next to that field. */
#ifndef ASTRA_CORE_JSPEC_H
#define ASTRA_CORE_JSPEC_H

#include <jansson.h>
#include <stddef.h>

#include "core/errors.h"

enum jspec_type {
  JSPEC_STRING, /* min/max: length in characters (UTF-8 code points) */
  JSPEC_INT,    /* min/max: value */
  JSPEC_BOOL,
  JSPEC_OBJECT,
  JSPEC_ARRAY,  /* min/max: number of elements */
  JSPEC_ENUM,   /* a string from .allowed */
};

enum jspec_flags {
  JSPEC_OPTIONAL = 1 << 0, /* may be absent */
  JSPEC_NULLABLE = 1 << 1, /* may be null */
};

struct jspec_field {
  const char *name;
  enum jspec_type type;
  unsigned flags;
  long long min, max; /* both 0: no bound */
  const char *const *allowed; /* NULL-terminated, for JSPEC_ENUM */
};

struct jspec_error {
  enum err_id id;     /* ERR_BAD_JSON, ERR_MISSING_FIELD, ERR_BAD_FIELD, ERR_UNKNOWN_FIELD */
  const char *field;  /* the offending field's name (points into field_buf), or NULL */
  char field_buf[64];
  char detail[160];   /* English detail, for logs and the message */
};

/* Checks that body is an object with the declared fields. Unknown fields are refused unless
 * allow_unknown is set (a typo in a client should not be silently ignored). A NULL body
 * counts as {}. 0 when valid, -1 with e filled. */
int jspec_check(const json_t *body, const struct jspec_field *fields, size_t n,
                int allow_unknown, struct jspec_error *e);

/* Number of UTF-8 code points in s. */
size_t jspec_utf8_len(const char *s);

#endif
