/* Discord's limits on what a bot sends (include/discord/limits.h). The rules come from
 * reference/discord.md §2.4-2.5 and §4, checked against Discord's own docs
 * (discord-api-docs: resources/message.mdx, components/reference.mdx,
 * interactions/receiving-and-responding.mdx, interactions/application-commands.mdx); where
 * the OpenAPI spec is looser (content 4000, 40 components in legacy messages) the docs win.
 *
 * The checks exist to catch our own bugs before Discord answers 50035 (and before a bad body
 * burns a request of the shared invalid-request budget), so they are strict where the docs
 * are clear and silent where they are not: a field we do not know is never refused. Lengths
 * are counted in Unicode code points, as the brief for this module asks. Every reason names
 * the field with its JSON path ("embeds[0].fields[3].value: 1025 > 1024 characters"). */
#include "discord/limits.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
  CONTENT_MAX = 2000,
  EMBEDS_MAX = 10,
  EMBED_TITLE_MAX = 256,
  EMBED_DESCRIPTION_MAX = 4096,
  EMBED_FIELDS_MAX = 25,
  EMBED_FIELD_NAME_MAX = 256,
  EMBED_FIELD_VALUE_MAX = 1024,
  EMBED_FOOTER_MAX = 2048,
  EMBED_AUTHOR_MAX = 256,
  EMBED_TOTAL_MAX = 6000,
  NONCE_MAX = 25,
  LEGACY_ROWS_MAX = 5,
  V2_COMPONENTS_MAX = 40,
  ROW_BUTTONS_MAX = 5,
  CUSTOM_ID_MAX = 100,
  BUTTON_LABEL_MAX = 80,
  BUTTON_URL_MAX = 512,
  SELECT_OPTIONS_MAX = 25,
  SELECT_OPTION_TEXT_MAX = 100,
  SELECT_PLACEHOLDER_MAX = 150,
  SELECT_VALUES_MAX = 25,
  TEXT_INPUT_LENGTH_MAX = 4000,
  TEXT_INPUT_PLACEHOLDER_MAX = 100,
  LABEL_MAX = 45,
  LABEL_DESCRIPTION_MAX = 100,
  MODAL_TITLE_MAX = 45,
  MODAL_COMPONENTS_MAX = 5,
  SECTION_TEXTS_MAX = 3,
  COMMAND_NAME_MAX = 32,
  COMMAND_DESCRIPTION_MAX = 100,
  COMMAND_OPTIONS_MAX = 25,
  COMMAND_CHOICES_MAX = 25,
  COMMAND_CHOICE_MAX = 100,
  COMMAND_STRING_LENGTH_MAX = 6000,
  COMMAND_TOTAL_MAX = 8000,
  CHAT_INPUT_COMMANDS_MAX = 100,
  USER_COMMANDS_MAX = 15,
  MESSAGE_COMMANDS_MAX = 15,
  ENTRY_POINT_COMMANDS_MAX = 1,
};

/* Message flags (resources/message.mdx §Message Flags). */
enum {
  FLAG_SUPPRESS_EMBEDS = 1 << 2,
  FLAG_EPHEMERAL = 1 << 6,
  FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12,
  FLAG_VOICE_MESSAGE = 1 << 13,
  FLAG_COMPONENTS_V2 = 1 << 15,
};

/* Which flags each kind of body may set, from each endpoint's own table. */
#define FLAGS_CREATE                                                                         \
  (FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_VOICE_MESSAGE | FLAG_COMPONENTS_V2)
#define FLAGS_EDIT (FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2)
/* Execute Webhook, plus EPHEMERAL for interaction follow-ups. */
#define FLAGS_WEBHOOK                                                                        \
  (FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2 | FLAG_EPHEMERAL)
#define FLAGS_CALLBACK                                                                       \
  (FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_COMPONENTS_V2 | FLAG_VOICE_MESSAGE |         \
   FLAG_SUPPRESS_NOTIFICATIONS)
/* limits_check_message() does not know the endpoint: any flag some message body may set. */
#define FLAGS_ANY_MESSAGE (FLAGS_CREATE | FLAGS_WEBHOOK | FLAGS_CALLBACK)

/* Component types (components/reference.mdx §Component Types). */
enum {
  C_ACTION_ROW = 1,
  C_BUTTON = 2,
  C_STRING_SELECT = 3,
  C_TEXT_INPUT = 4,
  C_USER_SELECT = 5,
  C_ROLE_SELECT = 6,
  C_MENTIONABLE_SELECT = 7,
  C_CHANNEL_SELECT = 8,
  C_SECTION = 9,
  C_TEXT_DISPLAY = 10,
  C_THUMBNAIL = 11,
  C_MEDIA_GALLERY = 12,
  C_FILE = 13,
  C_SEPARATOR = 14,
  C_CONTAINER = 17,
  C_LABEL = 18,
  C_FILE_UPLOAD = 19,
  C_RADIO_GROUP = 21,
  C_CHECKBOX_GROUP = 22,
  C_CHECKBOX = 23,
};

/* Where a callback's interaction came from: the values limits.h documents; ORIGIN_UNKNOWN is
 * limits_check_route's case, where the path cannot tell. */
enum { ORIGIN_UNKNOWN = -1 };

/* One check in progress. */
struct chk {
  char *why;
  size_t whylen;
  json_t *custom_ids; /* custom_ids seen so far in this message or modal, for uniqueness */
  unsigned components;  /* components counted so far (the V2 limit counts nested ones too) */
};

enum mode { IN_MESSAGE, IN_MESSAGE_V2, IN_MODAL };

/* The docs give a Text Display no length of its own. */
#define TEXT_DISPLAY_MAX SIZE_MAX

__attribute__((format(printf, 2, 3))) static int fail(struct chk *k, const char *fmt, ...) {
  if (k->why && k->whylen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->why, k->whylen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* JSON paths for reasons. A path too long for the buffer is cut short, which still names the
 * field well enough; the return value is looked at only to say that this is intended. */
static const char *path_done(char *buf, int len, size_t n) {
  if (len < 0 || (size_t)len >= n)
    buf[n - 1] = '\0';
  return buf;
}

/* "at.name", or "name" at the top level. */
static const char *join(char *buf, size_t n, const char *at, const char *name) {
  return path_done(buf, snprintf(buf, n, "%s%s%s", at, *at ? "." : "", name), n);
}

/* "at.name[i]". */
static const char *index_path(char *buf, size_t n, const char *at, const char *name, size_t i) {
  return path_done(buf, snprintf(buf, n, "%s%s%s[%zu]", at, *at ? "." : "", name, i), n);
}

/* "at[i]". */
static const char *elem_path(char *buf, size_t n, const char *at, size_t i) {
  return path_done(buf, snprintf(buf, n, "%s[%zu]", at, i), n);
}

/* Code points in UTF-8 text: every byte that is not a continuation byte starts one. */
static size_t cp_count(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Code points after trimming leading and trailing whitespace, as Discord counts embed text.
 * Only ASCII whitespace is trimmed: counting a stray Unicode space can only make us stricter. */
static size_t trimmed_count(const char *s, size_t n) {
  size_t a = 0;
  while (a < n && is_space((unsigned char)s[a]))
    a++;
  while (n > a && is_space((unsigned char)s[n - 1]))
    n--;
  return cp_count(s + a, n - a);
}

static int absent(const json_t *v) { return !v || json_is_null(v); }

/* A string field of obj with min..max code points (after trimming when trim is set). Absent
 * (or null) is fine unless required. *count gets the length when given. */
static int str_field(struct chk *k, const json_t *obj, const char *at, const char *name,
                     size_t min, size_t max, int required, int trim, size_t *count) {
  char path[256];
  const json_t *v = json_object_get(obj, name);
  if (count)
    *count = 0;
  if (absent(v))
    return required ? fail(k, "%s: missing", join(path, sizeof path, at, name)) : 0;
  if (!json_is_string(v))
    return fail(k, "%s: not a string", join(path, sizeof path, at, name));
  const char *s = json_string_value(v);
  size_t bytes = json_string_length(v);
  size_t n = trim ? trimmed_count(s, bytes) : cp_count(s, bytes);
  if (count)
    *count = n;
  if (n < min)
    return fail(k, "%s: empty (%zu-%zu characters)", join(path, sizeof path, at, name), min,
                max);
  if (n > max)
    return fail(k, "%s: %zu > %zu characters", join(path, sizeof path, at, name), n, max);
  return 0;
}

/* An integer field within lo..hi; *out keeps its default when the field is absent. */
static int int_field(struct chk *k, const json_t *obj, const char *at, const char *name,
                     long long lo, long long hi, long long *out) {
  char path[256];
  const json_t *v = json_object_get(obj, name);
  if (absent(v))
    return 0;
  if (!json_is_integer(v))
    return fail(k, "%s: not an integer", join(path, sizeof path, at, name));
  long long x = json_integer_value(v);
  if (x < lo || x > hi)
    return fail(k, "%s: %lld outside %lld-%lld", join(path, sizeof path, at, name), x, lo, hi);
  if (out)
    *out = x;
  return 0;
}

static int must_be_absent(struct chk *k, const json_t *obj, const char *at, const char *name,
                          const char *because) {
  char path[256];
  if (!absent(json_object_get(obj, name)))
    return fail(k, "%s: not allowed %s", join(path, sizeof path, at, name), because);
  return 0;
}

/* An optional array field; *arr is NULL when absent. */
static int array_field(struct chk *k, const json_t *obj, const char *at, const char *name,
                       const json_t **arr) {
  char path[256];
  const json_t *v = json_object_get(obj, name);
  *arr = NULL;
  if (absent(v))
    return 0;
  if (!json_is_array(v))
    return fail(k, "%s: not an array", join(path, sizeof path, at, name));
  *arr = v;
  return 0;
}

/* ---- components ---- */

/* custom_id: 1-100 characters and unique within the message or modal. */
static int check_custom_id(struct chk *k, const json_t *comp, const char *at) {
  char path[256];
  if (str_field(k, comp, at, "custom_id", 1, CUSTOM_ID_MAX, 1, 0, NULL) != 0)
    return -1;
  const char *id = json_string_value(json_object_get(comp, "custom_id"));
  if (!k->custom_ids)
    k->custom_ids = json_object();
  if (!k->custom_ids)
    return fail(k, "out of memory");
  if (json_object_get(k->custom_ids, id))
    return fail(k, "%s: \"%s\" is used twice in this message",
                join(path, sizeof path, at, "custom_id"), id);
  json_object_set_new(k->custom_ids, id, json_true());
  return 0;
}

/* Reads a component's type; also counts it for the V2 total. */
static int component_type(struct chk *k, const json_t *comp, const char *at, int *type) {
  if (!json_is_object(comp))
    return fail(k, "%s: not an object", at);
  const json_t *t = json_object_get(comp, "type");
  if (!json_is_integer(t))
    return fail(k, "%s.type: missing or not an integer", at);
  json_int_t v = json_integer_value(t);
  *type = v < 0 || v > 1000 ? -1 : (int)v;
  k->components++;
  return 0;
}

static int check_button(struct chk *k, const json_t *b, const char *at) {
  long long style = 0;
  if (!json_is_integer(json_object_get(b, "style")))
    return fail(k, "%s.style: missing or not an integer", at);
  if (int_field(k, b, at, "style", 1, 6, &style) != 0)
    return -1;
  if (str_field(k, b, at, "label", 0, BUTTON_LABEL_MAX, 0, 0, NULL) != 0)
    return -1;
  if (style <= 4) {
    if (check_custom_id(k, b, at) != 0 ||
        must_be_absent(k, b, at, "url", "on a button with a custom_id (styles 1-4)") != 0 ||
        must_be_absent(k, b, at, "sku_id", "on a button with a custom_id (styles 1-4)") != 0)
      return -1;
  } else if (style == 5) {
    if (str_field(k, b, at, "url", 1, BUTTON_URL_MAX, 1, 0, NULL) != 0 ||
        must_be_absent(k, b, at, "custom_id", "on a link button (style 5)") != 0)
      return -1;
  } else {
    if (str_field(k, b, at, "sku_id", 1, 32, 1, 0, NULL) != 0 ||
        must_be_absent(k, b, at, "custom_id", "on a premium button (style 6)") != 0 ||
        must_be_absent(k, b, at, "url", "on a premium button (style 6)") != 0 ||
        must_be_absent(k, b, at, "label", "on a premium button (style 6)") != 0)
      return -1;
  }
  return 0;
}

/* Any select (string, user, role, mentionable, channel). */
static int check_select(struct chk *k, const json_t *s, const char *at, int type, enum mode m) {
  char path[256];
  if (check_custom_id(k, s, at) != 0 ||
      str_field(k, s, at, "placeholder", 0, SELECT_PLACEHOLDER_MAX, 0, 0, NULL) != 0)
    return -1;
  long long min = 1, max = 1;
  if (int_field(k, s, at, "min_values", 0, SELECT_VALUES_MAX, &min) != 0 ||
      int_field(k, s, at, "max_values", 1, SELECT_VALUES_MAX, &max) != 0)
    return -1;
  if (max < min)
    return fail(k, "%s: max_values %lld < min_values %lld", at, max, min);
  if (m == IN_MODAL) {
    /* "Modals can not currently have disabled components in them." */
    if (json_is_true(json_object_get(s, "disabled")))
      return fail(k, "%s: not allowed in a modal", join(path, sizeof path, at, "disabled"));
    /* min_values must be omitted or >= 1 when required is omitted or true. */
    const json_t *req = json_object_get(s, "required");
    if (min == 0 && !json_is_false(req))
      return fail(k, "%s: 0 on a required select", join(path, sizeof path, at, "min_values"));
  }
  if (type != C_STRING_SELECT)
    return 0;
  const json_t *opts;
  if (array_field(k, s, at, "options", &opts) != 0)
    return -1;
  size_t n = json_array_size(opts);
  if (n < 1 || n > SELECT_OPTIONS_MAX)
    return fail(k, "%s: %zu options (1-%d)", join(path, sizeof path, at, "options"), n,
                SELECT_OPTIONS_MAX);
  for (size_t i = 0; i < n; i++) {
    const json_t *o = json_array_get(opts, i);
    index_path(path, sizeof path, at, "options", i);
    if (!json_is_object(o))
      return fail(k, "%s: not an object", path);
    if (str_field(k, o, path, "label", 1, SELECT_OPTION_TEXT_MAX, 1, 0, NULL) != 0 ||
        str_field(k, o, path, "value", 1, SELECT_OPTION_TEXT_MAX, 1, 0, NULL) != 0 ||
        str_field(k, o, path, "description", 0, SELECT_OPTION_TEXT_MAX, 0, 0, NULL) != 0)
      return -1;
  }
  return 0;
}

/* needs_label: "label" must be there (1-45) for a text input in a legacy action row, where it
 * is the only label the user sees; inside a Label component it is deprecated but still
 * limited. */
static int check_text_input(struct chk *k, const json_t *t, const char *at, int needs_label) {
  long long style = 0, min = 0, max = TEXT_INPUT_LENGTH_MAX;
  if (check_custom_id(k, t, at) != 0)
    return -1;
  if (!json_is_integer(json_object_get(t, "style")))
    return fail(k, "%s.style: missing or not an integer", at);
  if (int_field(k, t, at, "style", 1, 2, &style) != 0 ||
      int_field(k, t, at, "min_length", 0, TEXT_INPUT_LENGTH_MAX, &min) != 0 ||
      int_field(k, t, at, "max_length", 1, TEXT_INPUT_LENGTH_MAX, &max) != 0)
    return -1;
  if (max < min)
    return fail(k, "%s: max_length %lld < min_length %lld", at, max, min);
  if (str_field(k, t, at, "value", 0, TEXT_INPUT_LENGTH_MAX, 0, 0, NULL) != 0 ||
      str_field(k, t, at, "placeholder", 0, TEXT_INPUT_PLACEHOLDER_MAX, 0, 0, NULL) != 0 ||
      str_field(k, t, at, "label", needs_label, LABEL_MAX, needs_label, 0, NULL) != 0)
    return -1;
  return 0;
}

static int is_select(int type) {
  return type == C_STRING_SELECT || (type >= C_USER_SELECT && type <= C_CHANNEL_SELECT);
}

/* An Action Row: up to 5 buttons or exactly one select in messages; in a modal (the legacy,
 * deprecated form) exactly one text input. */
static int check_row(struct chk *k, const json_t *row, const char *at, enum mode m) {
  char path[256];
  const json_t *kids;
  if (array_field(k, row, at, "components", &kids) != 0)
    return -1;
  size_t n = json_array_size(kids);
  if (n == 0)
    return fail(k, "%s: an action row needs at least one component",
                join(path, sizeof path, at, "components"));
  unsigned buttons = 0, selects = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *c = json_array_get(kids, i);
    int type;
    index_path(path, sizeof path, at, "components", i);
    if (component_type(k, c, path, &type) != 0)
      return -1;
    if (m == IN_MODAL) {
      if (type != C_TEXT_INPUT)
        return fail(k, "%s: type %d cannot be in a modal action row (use a Label, type 18)",
                    path, type);
      if (n != 1)
        return fail(k, "%s: a modal action row holds exactly one text input", at);
      if (check_text_input(k, c, path, 1) != 0)
        return -1;
    } else if (type == C_BUTTON) {
      buttons++;
      if (check_button(k, c, path) != 0)
        return -1;
    } else if (is_select(type)) {
      selects++;
      if (check_select(k, c, path, type, m) != 0)
        return -1;
    } else if (type == C_TEXT_INPUT) {
      return fail(k, "%s: text inputs belong in modals", path);
    } else {
      return fail(k, "%s: type %d cannot be in an action row", path, type);
    }
  }
  if (selects && n != 1)
    return fail(k, "%s: an action row with a select holds only that select", at);
  if (buttons > ROW_BUTTONS_MAX)
    return fail(k, "%s: %u buttons > %d", at, buttons, ROW_BUTTONS_MAX);
  return 0;
}

static int check_v2_component(struct chk *k, const json_t *c, const char *at, int depth);

/* The children of a Section or Container. */
static int check_v2_children(struct chk *k, const json_t *parent, const char *at, int depth,
                             const int *allowed, size_t nallowed, size_t max) {
  char path[256];
  const json_t *kids;
  if (array_field(k, parent, at, "components", &kids) != 0)
    return -1;
  size_t n = json_array_size(kids);
  if (n == 0 || n > max)
    return fail(k, "%s: %zu components (1-%zu)", join(path, sizeof path, at, "components"), n,
                max);
  for (size_t i = 0; i < n; i++) {
    const json_t *c = json_array_get(kids, i);
    index_path(path, sizeof path, at, "components", i);
    int type = json_is_object(c) ? (int)json_integer_value(json_object_get(c, "type")) : -1;
    int ok = 0;
    for (size_t j = 0; j < nallowed; j++)
      ok |= allowed[j] == type;
    if (!ok && json_is_object(c) && json_is_integer(json_object_get(c, "type")))
      return fail(k, "%s: type %d not allowed here", path, type);
    if (check_v2_component(k, c, path, depth + 1) != 0)
      return -1;
  }
  return 0;
}

/* A component of an IS_COMPONENTS_V2 message. Layout beyond what the docs spell out as
 * limits is left to Discord; the interactive pieces get the same checks as anywhere. */
static int check_v2_component(struct chk *k, const json_t *c, const char *at, int depth) {
  static const int section_kids[] = {C_TEXT_DISPLAY};
  static const int container_kids[] = {C_ACTION_ROW, C_TEXT_DISPLAY, C_SECTION,
                                       C_MEDIA_GALLERY, C_SEPARATOR, C_FILE};
  char path[256];
  int type;
  if (depth > 8)
    return fail(k, "%s: components nested too deep", at);
  if (component_type(k, c, at, &type) != 0)
    return -1;
  switch (type) {
  case C_ACTION_ROW:
    return check_row(k, c, at, IN_MESSAGE_V2);
  case C_SECTION: {
    if (check_v2_children(k, c, at, depth, section_kids, 1, SECTION_TEXTS_MAX) != 0)
      return -1;
    const json_t *acc = json_object_get(c, "accessory");
    join(path, sizeof path, at, "accessory");
    if (absent(acc))
      return fail(k, "%s: missing", path);
    int at_type;
    if (component_type(k, acc, path, &at_type) != 0)
      return -1;
    if (at_type == C_BUTTON)
      return check_button(k, acc, path);
    if (at_type != C_THUMBNAIL)
      return fail(k, "%s: type %d (a button or a thumbnail)", path, at_type);
    return 0;
  }
  case C_CONTAINER:
    return check_v2_children(k, c, at, depth, container_kids,
                             sizeof container_kids / sizeof container_kids[0],
                             V2_COMPONENTS_MAX);
  case C_TEXT_DISPLAY:
    return str_field(k, c, at, "content", 1, TEXT_DISPLAY_MAX, 1, 0, NULL);
  case C_THUMBNAIL:
  case C_MEDIA_GALLERY:
  case C_FILE:
  case C_SEPARATOR:
    return 0;
  default:
    return fail(k, "%s: type %d cannot be in a message", at, type);
  }
}

/* A Label (type 18) in a modal: label 1-45, description up to 100, one input inside. */
static int check_label(struct chk *k, const json_t *l, const char *at) {
  char path[256];
  if (str_field(k, l, at, "label", 1, LABEL_MAX, 1, 0, NULL) != 0 ||
      str_field(k, l, at, "description", 0, LABEL_DESCRIPTION_MAX, 0, 0, NULL) != 0)
    return -1;
  const json_t *c = json_object_get(l, "component");
  join(path, sizeof path, at, "component");
  if (absent(c))
    return fail(k, "%s: missing", path);
  int type;
  if (component_type(k, c, path, &type) != 0)
    return -1;
  if (type == C_TEXT_INPUT)
    return check_text_input(k, c, path, 0);
  if (is_select(type))
    return check_select(k, c, path, type, IN_MODAL);
  if (type == C_FILE_UPLOAD || type == C_RADIO_GROUP || type == C_CHECKBOX_GROUP ||
      type == C_CHECKBOX)
    return check_custom_id(k, c, path);
  return fail(k, "%s: type %d cannot be in a Label", path, type);
}

/* The components of a message: legacy (up to 5 action rows) or V2 (up to 40 in all). */
static int check_message_components(struct chk *k, const json_t *arr, const char *at, int v2) {
  char path[256];
  size_t n = json_array_size(arr);
  if (!v2 && n > LEGACY_ROWS_MAX)
    return fail(k, "%s: %zu action rows > %d (without IS_COMPONENTS_V2)", at, n,
                LEGACY_ROWS_MAX);
  for (size_t i = 0; i < n; i++) {
    const json_t *c = json_array_get(arr, i);
    elem_path(path, sizeof path, at, i);
    if (v2) {
      if (check_v2_component(k, c, path, 0) != 0)
        return -1;
      continue;
    }
    int type;
    if (component_type(k, c, path, &type) != 0)
      return -1;
    if (type != C_ACTION_ROW)
      return fail(k, "%s: type %d at the top level needs IS_COMPONENTS_V2 (flag 32768)", path,
                  type);
    if (check_row(k, c, path, IN_MESSAGE) != 0)
      return -1;
  }
  if (v2 && k->components > V2_COMPONENTS_MAX)
    return fail(k, "%s: %u components in all > %d", at, k->components, V2_COMPONENTS_MAX);
  return 0;
}

/* ---- messages ---- */

static int check_embeds(struct chk *k, const json_t *embeds, const char *at) {
  char path[256], fpath[256];
  size_t n = json_array_size(embeds);
  if (n > EMBEDS_MAX)
    return fail(k, "%s: %zu embeds > %d", at, n, EMBEDS_MAX);
  size_t total = 0, len;
  for (size_t i = 0; i < n; i++) {
    const json_t *e = json_array_get(embeds, i);
    elem_path(path, sizeof path, at, i);
    if (!json_is_object(e))
      return fail(k, "%s: not an object", path);
    if (str_field(k, e, path, "title", 0, EMBED_TITLE_MAX, 0, 1, &len) != 0)
      return -1;
    total += len;
    if (str_field(k, e, path, "description", 0, EMBED_DESCRIPTION_MAX, 0, 1, &len) != 0)
      return -1;
    total += len;
    const json_t *footer = json_object_get(e, "footer");
    if (json_is_object(footer)) {
      if (str_field(k, footer, join(fpath, sizeof fpath, path, "footer"), "text", 0,
                    EMBED_FOOTER_MAX, 0, 1, &len) != 0)
        return -1;
      total += len;
    }
    const json_t *author = json_object_get(e, "author");
    if (json_is_object(author)) {
      if (str_field(k, author, join(fpath, sizeof fpath, path, "author"), "name", 0,
                    EMBED_AUTHOR_MAX, 0, 1, &len) != 0)
        return -1;
      total += len;
    }
    const json_t *fields;
    if (array_field(k, e, path, "fields", &fields) != 0)
      return -1;
    size_t nf = json_array_size(fields);
    if (nf > EMBED_FIELDS_MAX)
      return fail(k, "%s.fields: %zu fields > %d", path, nf, EMBED_FIELDS_MAX);
    for (size_t j = 0; j < nf; j++) {
      const json_t *f = json_array_get(fields, j);
      index_path(fpath, sizeof fpath, path, "fields", j);
      if (!json_is_object(f))
        return fail(k, "%s: not an object", fpath);
      /* name and value are required and may not be blank. */
      if (str_field(k, f, fpath, "name", 1, EMBED_FIELD_NAME_MAX, 1, 1, &len) != 0)
        return -1;
      total += len;
      if (str_field(k, f, fpath, "value", 1, EMBED_FIELD_VALUE_MAX, 1, 1, &len) != 0)
        return -1;
      total += len;
    }
  }
  if (total > EMBED_TOTAL_MAX)
    return fail(k, "%s: %zu characters in all embeds > %d", at, total, EMBED_TOTAL_MAX);
  return 0;
}

/* The lowest set bit of x, for naming one offending flag. */
static unsigned long long low_bit(unsigned long long x) { return x & (~x + 1); }

/* A message body (create, edit, follow-up, callback data). at: the path prefix ("" or
 * "data"); allowed: the flags this endpoint accepts. */
static int check_message(struct chk *k, const json_t *msg, const char *at,
                         unsigned long long allowed) {
  char path[256];
  if (!json_is_object(msg))
    return fail(k, "%s: not an object", *at ? at : "body");
  if (str_field(k, msg, at, "content", 0, CONTENT_MAX, 0, 0, NULL) != 0)
    return -1;

  const json_t *nonce = json_object_get(msg, "nonce");
  join(path, sizeof path, at, "nonce");
  if (json_is_string(nonce)) {
    size_t n = cp_count(json_string_value(nonce), json_string_length(nonce));
    if (n > NONCE_MAX)
      return fail(k, "%s: %zu > %d characters", path, n, NONCE_MAX);
  } else if (!absent(nonce) && !json_is_integer(nonce)) {
    return fail(k, "%s: not a string or an integer", path);
  }
  if (json_is_true(json_object_get(msg, "enforce_nonce")) && absent(nonce))
    return fail(k, "%s: enforce_nonce without a nonce", join(path, sizeof path, at,
                                                             "enforce_nonce"));

  long long flags = 0;
  if (int_field(k, msg, at, "flags", 0, INT32_MAX, &flags) != 0)
    return -1;
  unsigned long long bad = (unsigned long long)flags & ~allowed;
  if (bad)
    return fail(k, "%s: flag %llu not allowed here", join(path, sizeof path, at, "flags"),
                low_bit(bad));
  int v2 = (flags & FLAG_COMPONENTS_V2) != 0;

  const json_t *embeds, *components, *stickers;
  if (array_field(k, msg, at, "embeds", &embeds) != 0 ||
      array_field(k, msg, at, "components", &components) != 0 ||
      array_field(k, msg, at, "sticker_ids", &stickers) != 0)
    return -1;
  if (v2) {
    /* A V2 message carries only components; edits clear the rest with null or []. */
    const char *why = "with IS_COMPONENTS_V2 (flag 32768)";
    if (must_be_absent(k, msg, at, "content", why) != 0 ||
        must_be_absent(k, msg, at, "poll", why) != 0)
      return -1;
    if (json_array_size(embeds))
      return fail(k, "%s: not allowed %s", join(path, sizeof path, at, "embeds"), why);
    if (json_array_size(stickers))
      return fail(k, "%s: not allowed %s", join(path, sizeof path, at, "sticker_ids"), why);
  }
  if (embeds && check_embeds(k, embeds, join(path, sizeof path, at, "embeds")) != 0)
    return -1;
  if (components &&
      check_message_components(k, components, join(path, sizeof path, at, "components"), v2) !=
          0)
    return -1;
  return 0;
}

/* ---- interaction callbacks ---- */

static int check_modal(struct chk *k, const json_t *data) {
  char path[256];
  if (!json_is_object(data))
    return fail(k, "data: missing (a modal needs custom_id, title and components)");
  if (str_field(k, data, "data", "custom_id", 1, CUSTOM_ID_MAX, 1, 0, NULL) != 0 ||
      str_field(k, data, "data", "title", 1, MODAL_TITLE_MAX, 1, 0, NULL) != 0)
    return -1;
  const json_t *comps;
  if (array_field(k, data, "data", "components", &comps) != 0)
    return -1;
  size_t n = json_array_size(comps);
  if (n < 1 || n > MODAL_COMPONENTS_MAX)
    return fail(k, "data.components: %zu components (1-%d)", n, MODAL_COMPONENTS_MAX);
  for (size_t i = 0; i < n; i++) {
    const json_t *c = json_array_get(comps, i);
    int type;
    index_path(path, sizeof path, "data", "components", i);
    if (component_type(k, c, path, &type) != 0)
      return -1;
    int rc;
    if (type == C_LABEL)
      rc = check_label(k, c, path);
    else if (type == C_TEXT_DISPLAY)
      rc = str_field(k, c, path, "content", 1, TEXT_DISPLAY_MAX, 1, 0, NULL);
    else if (type == C_ACTION_ROW)
      rc = check_row(k, c, path, IN_MODAL);
    else
      rc = fail(k, "%s: type %d cannot be in a modal", path, type);
    if (rc != 0)
      return -1;
  }
  return 0;
}

static int check_callback(struct chk *k, const json_t *cb, int origin) {
  if (!json_is_object(cb))
    return fail(k, "body: not an object");
  const json_t *t = json_object_get(cb, "type");
  if (!json_is_integer(t))
    return fail(k, "type: missing or not an integer");
  long long type = json_integer_value(t);
  const json_t *data = json_object_get(cb, "data");
  int from_component = origin == LIMITS_FROM_COMPONENT || origin == LIMITS_FROM_MODAL_ON_MESSAGE;
  int from_modal = origin == LIMITS_FROM_MODAL || origin == LIMITS_FROM_MODAL_ON_MESSAGE;
  switch (type) {
  case 1: /* PONG */
  case 6: /* DEFERRED_UPDATE_MESSAGE */
    if (type == 6 && origin != ORIGIN_UNKNOWN && !from_component)
      return fail(k, "type: 6 (DEFERRED_UPDATE_MESSAGE) answers only a component interaction");
    return 0;
  case 4: /* CHANNEL_MESSAGE_WITH_SOURCE */
    if (absent(data))
      return fail(k, "data: missing (type 4 sends a message)");
    return check_message(k, data, "data", FLAGS_CALLBACK);
  case 7: /* UPDATE_MESSAGE */
    if (origin != ORIGIN_UNKNOWN && !from_component)
      return fail(k, "type: 7 (UPDATE_MESSAGE) answers only a component interaction");
    return absent(data) ? 0 : check_message(k, data, "data", FLAGS_CALLBACK);
  case 5: { /* DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: only EPHEMERAL is valid */
    if (absent(data))
      return 0;
    if (!json_is_object(data))
      return fail(k, "data: not an object");
    long long flags = 0;
    if (int_field(k, data, "data", "flags", 0, INT32_MAX, &flags) != 0)
      return -1;
    if (flags & ~(long long)FLAG_EPHEMERAL)
      return fail(k, "data.flags: only EPHEMERAL (64) is valid with type 5, not %llu",
                  low_bit((unsigned long long)flags & ~(unsigned long long)FLAG_EPHEMERAL));
    return 0;
  }
  case 9: /* MODAL */
    if (from_modal)
      return fail(k, "type: 9 (MODAL) cannot answer a modal submit");
    return check_modal(k, data);
  default:
    return fail(k, "type: %lld is not a callback type we send (1, 4, 5, 6, 7, 9)", type);
  }
}

/* ---- application commands ---- */

/* Decodes one UTF-8 code point at s[*i] (advancing *i); -1 on malformed input. */
static long utf8_next(const unsigned char *s, size_t n, size_t *i) {
  unsigned char c = s[*i];
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (!len || *i + (size_t)len > n)
    return -1;
  long cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int j = 1; j < len; j++) {
    if ((s[*i + (size_t)j] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[*i + (size_t)j] & 0x3F);
  }
  *i += (size_t)len;
  return cp;
}

/* An upper-case letter that has a lower-case variant, for the scripts a seller is likely to
 * use (Latin, Greek, Cyrillic). Outside them we cannot tell without Unicode tables and let
 * Discord judge. */
static int is_upper(long cp) {
  if (cp >= 'A' && cp <= 'Z')
    return 1;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
    return 1;
  if (cp >= 0x100 && cp <= 0x137)
    return cp % 2 == 0;
  if (cp >= 0x139 && cp <= 0x148)
    return cp % 2 == 1;
  if (cp >= 0x14A && cp <= 0x177)
    return cp % 2 == 0;
  if (cp == 0x178 || cp == 0x179 || cp == 0x17B || cp == 0x17D)
    return 1;
  if ((cp >= 0x391 && cp <= 0x3A9) || (cp >= 0x400 && cp <= 0x42F))
    return 1;
  return 0;
}

/* Code points that are certainly neither letters nor digits: ASCII and Latin-1 punctuation
 * and symbols, spaces, and the symbol and emoji blocks. */
static int is_not_word(long cp) {
  if (cp < 0x80)
    return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
             cp == '-' || cp == '_' || cp == '\'');
  if (cp < 0xC0)
    return cp != 0xAA && cp != 0xB5 && cp != 0xBA;
  if (cp == 0xD7 || cp == 0xF7)
    return 1;
  if ((cp >= 0x2000 && cp <= 0x2BFF) || cp == 0x3000 || (cp >= 0xFE00 && cp <= 0xFE0F) ||
      cp >= 0x1F000)
    return 1;
  return 0;
}

/* CHAT_INPUT command and option names: ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$, lower
 * case where a letter has a lower-case variant (application-commands.mdx §Naming; the docs
 * now also allow the apostrophe). */
static int check_name(struct chk *k, const json_t *obj, const char *at, int chat_input) {
  char path[256];
  if (str_field(k, obj, at, "name", 1, COMMAND_NAME_MAX, 1, 0, NULL) != 0)
    return -1;
  if (!chat_input)
    return 0; /* USER and MESSAGE commands may be mixed case and have spaces */
  const json_t *v = json_object_get(obj, "name");
  const unsigned char *s = (const unsigned char *)json_string_value(v);
  size_t n = json_string_length(v);
  join(path, sizeof path, at, "name");
  for (size_t i = 0; i < n;) {
    long cp = utf8_next(s, n, &i);
    if (cp < 0)
      return fail(k, "%s: not valid UTF-8", path);
    if (is_upper(cp))
      return fail(k, "%s: \"%s\" must be lower case", path, (const char *)s);
    if (is_not_word(cp))
      return fail(k, "%s: \"%s\" may only hold letters, digits, '-', '_' and '''", path,
                  (const char *)s);
  }
  return 0;
}

static size_t str_len_of(const json_t *obj, const char *name) {
  const json_t *v = json_object_get(obj, name);
  return json_is_string(v) ? cp_count(json_string_value(v), json_string_length(v)) : 0;
}

static int check_options(struct chk *k, const json_t *opts, const char *at, int depth,
                         size_t *total);

static int check_option(struct chk *k, const json_t *o, const char *at, int depth,
                        size_t *total, int *required) {
  char path[256];
  if (!json_is_object(o))
    return fail(k, "%s: not an object", at);
  long long type = 0;
  if (!json_is_integer(json_object_get(o, "type")))
    return fail(k, "%s.type: missing or not an integer", at);
  if (int_field(k, o, at, "type", 1, 11, &type) != 0 || check_name(k, o, at, 1) != 0 ||
      str_field(k, o, at, "description", 1, COMMAND_DESCRIPTION_MAX, 1, 0, NULL) != 0)
    return -1;
  *total += str_len_of(o, "name") + str_len_of(o, "description");
  *required = json_is_true(json_object_get(o, "required"));
  long long minl = 0, maxl = COMMAND_STRING_LENGTH_MAX;
  if (int_field(k, o, at, "min_length", 0, COMMAND_STRING_LENGTH_MAX, &minl) != 0 ||
      int_field(k, o, at, "max_length", 1, COMMAND_STRING_LENGTH_MAX, &maxl) != 0)
    return -1;
  if (maxl < minl)
    return fail(k, "%s: max_length %lld < min_length %lld", at, maxl, minl);

  const json_t *choices;
  if (array_field(k, o, at, "choices", &choices) != 0)
    return -1;
  size_t nc = json_array_size(choices);
  if (nc > COMMAND_CHOICES_MAX)
    return fail(k, "%s: %zu choices > %d", join(path, sizeof path, at, "choices"), nc,
                COMMAND_CHOICES_MAX);
  if (nc && json_is_true(json_object_get(o, "autocomplete")))
    return fail(k, "%s: autocomplete cannot be set with choices",
                join(path, sizeof path, at, "autocomplete"));
  for (size_t i = 0; i < nc; i++) {
    const json_t *c = json_array_get(choices, i);
    index_path(path, sizeof path, at, "choices", i);
    if (!json_is_object(c))
      return fail(k, "%s: not an object", path);
    if (str_field(k, c, path, "name", 1, COMMAND_CHOICE_MAX, 1, 0, NULL) != 0)
      return -1;
    /* A string (up to 100 characters), an integer or a double, by the option's type. */
    const json_t *value = json_object_get(c, "value");
    if (absent(value))
      return fail(k, "%s.value: missing", path);
    if (json_is_string(value)) {
      if (str_field(k, c, path, "value", 0, COMMAND_CHOICE_MAX, 0, 0, NULL) != 0)
        return -1;
    } else if (!json_is_number(value)) {
      return fail(k, "%s.value: not a string or a number", path);
    }
    *total += str_len_of(c, "name") + str_len_of(c, "value");
  }

  const json_t *sub;
  if (array_field(k, o, at, "options", &sub) != 0)
    return -1;
  if (sub) {
    /* Only SUB_COMMAND (1) and SUB_COMMAND_GROUP (2) nest options. */
    if (type != 1 && type != 2)
      return fail(k, "%s: only subcommands and groups have options",
                  join(path, sizeof path, at, "options"));
    if (check_options(k, sub, join(path, sizeof path, at, "options"), depth + 1, total) != 0)
      return -1;
  }
  return 0;
}

/* An options array: up to 25, unique names, required ones before optional ones. */
static int check_options(struct chk *k, const json_t *opts, const char *at, int depth,
                         size_t *total) {
  char path[256];
  size_t n = json_array_size(opts);
  if (depth > 3)
    return fail(k, "%s: options nested too deep", at);
  if (n > COMMAND_OPTIONS_MAX)
    return fail(k, "%s: %zu options > %d", at, n, COMMAND_OPTIONS_MAX);
  int seen_optional = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *o = json_array_get(opts, i);
    elem_path(path, sizeof path, at, i);
    int required = 0;
    if (check_option(k, o, path, depth, total, &required) != 0)
      return -1;
    if (required && seen_optional)
      return fail(k, "%s: a required option after an optional one", path);
    seen_optional |= !required;
    const char *name = json_string_value(json_object_get(o, "name"));
    for (size_t j = 0; j < i; j++)
      if (!strcmp(name, json_string_value(json_object_get(json_array_get(opts, j), "name"))))
        return fail(k, "%s.name: \"%s\" is used twice", path, name);
  }
  return 0;
}

static int check_commands(struct chk *k, const json_t *cmds) {
  char path[256];
  if (!json_is_array(cmds))
    return fail(k, "body: not an array of commands");
  size_t n = json_array_size(cmds);
  unsigned count[5] = {0};
  static const unsigned count_max[5] = {0, CHAT_INPUT_COMMANDS_MAX, USER_COMMANDS_MAX,
                                        MESSAGE_COMMANDS_MAX, ENTRY_POINT_COMMANDS_MAX};
  static const char *const type_name[5] = {"", "CHAT_INPUT", "USER", "MESSAGE",
                                           "PRIMARY_ENTRY_POINT"};
  for (size_t i = 0; i < n; i++) {
    const json_t *c = json_array_get(cmds, i);
    snprintf(path, sizeof path, "[%zu]", i);
    if (!json_is_object(c))
      return fail(k, "%s: not an object", path);
    long long type = 1;
    if (int_field(k, c, path, "type", 1, 4, &type) != 0)
      return -1;
    if (++count[type] > count_max[type])
      return fail(k, "body: more than %u %s commands", count_max[type], type_name[type]);
    int chat = type == 1 || type == 4;
    if (check_name(k, c, path, chat) != 0)
      return -1;
    if (chat) {
      if (str_field(k, c, path, "description", 1, COMMAND_DESCRIPTION_MAX, 1, 0, NULL) != 0)
        return -1;
    } else if (str_field(k, c, path, "description", 0, 0, 0, 0, NULL) != 0) {
      return -1; /* "Empty string for USER and MESSAGE commands" */
    }
    const char *name = json_string_value(json_object_get(c, "name"));
    for (size_t j = 0; j < i; j++) {
      const json_t *o = json_array_get(cmds, j);
      long long otype = json_is_integer(json_object_get(o, "type"))
                            ? json_integer_value(json_object_get(o, "type"))
                            : 1;
      if (otype == type && !strcmp(name, json_string_value(json_object_get(o, "name"))))
        return fail(k, "%s.name: \"%s\" is used twice", path, name);
    }
    size_t total = str_len_of(c, "name") + str_len_of(c, "description");
    const json_t *opts;
    if (array_field(k, c, path, "options", &opts) != 0)
      return -1;
    if (opts && !chat)
      return fail(k, "%s.options: only CHAT_INPUT commands have options", path);
    char opath[64];
    snprintf(opath, sizeof opath, "[%zu].options", i);
    if (opts && check_options(k, opts, opath, 0, &total) != 0)
      return -1;
    if (total > COMMAND_TOTAL_MAX)
      return fail(k, "%s: %zu characters of names, descriptions and values > %d", path, total,
                  COMMAND_TOTAL_MAX);
  }
  return 0;
}

/* ---- public interface ---- */

static int finish(struct chk *k, int rc) {
  json_decref(k->custom_ids);
  if (rc == 0 && k->why && k->whylen)
    k->why[0] = '\0';
  return rc;
}

int limits_check_message(const json_t *msg, char *why, size_t whylen) {
  struct chk k = {.why = why, .whylen = whylen};
  return finish(&k, check_message(&k, msg, "", FLAGS_ANY_MESSAGE));
}

int limits_check_callback(const json_t *cb, int component, char *why, size_t whylen) {
  struct chk k = {.why = why, .whylen = whylen};
  if (component < LIMITS_FROM_COMMAND || component > LIMITS_FROM_MODAL_ON_MESSAGE)
    return finish(&k, fail(&k, "component: %d is not an interaction origin", component));
  return finish(&k, check_callback(&k, cb, component));
}

int limits_check_commands(const json_t *cmds, char *why, size_t whylen) {
  struct chk k = {.why = why, .whylen = whylen};
  return finish(&k, check_commands(&k, cmds));
}

enum { MAX_SEGS = 8 };

/* Splits path (no leading API base; query ignored) into at most MAX_SEGS segments of buf. */
static size_t split_path(const char *path, char *buf, size_t buflen, char **seg) {
  size_t n = strcspn(path, "?#");
  while (n && *path == '/') {
    path++;
    n--;
  }
  if (n >= buflen)
    n = buflen - 1;
  memcpy(buf, path, n);
  buf[n] = '\0';
  while (n && buf[n - 1] == '/')
    buf[--n] = '\0';
  size_t count = 0;
  char *p = buf;
  while (*p && count < MAX_SEGS) {
    seg[count++] = p;
    char *slash = strchr(p, '/');
    if (!slash)
      break;
    *slash = '\0';
    p = slash + 1;
  }
  if (*p && count == MAX_SEGS && strchr(p, '/'))
    return MAX_SEGS + 1; /* longer than any route with rules */
  return count;
}

static int is_id(const char *s) { return *s && strspn(s, "0123456789") == strlen(s); }

int limits_check_route(const char *method, const char *path, const json_t *body, char *why,
                       size_t whylen) {
  struct chk k = {.why = why, .whylen = whylen};
  char buf[512];
  char *s[MAX_SEGS] = {0};
  if (!method || !path)
    return finish(&k, 0);
  size_t n = split_path(path, buf, sizeof buf, s);
  int post = !strcmp(method, "POST"), patch = !strcmp(method, "PATCH");
  int put = !strcmp(method, "PUT");
  enum { NONE, MESSAGE, CALLBACK, COMMANDS } kind = NONE;
  unsigned long long flags = 0;

  if (n >= 3 && !strcmp(s[0], "channels") && is_id(s[1]) && !strcmp(s[2], "messages")) {
    if (post && n == 3)
      kind = MESSAGE, flags = FLAGS_CREATE;
    else if (patch && n == 4 && is_id(s[3]))
      kind = MESSAGE, flags = FLAGS_EDIT;
  } else if (n >= 3 && !strcmp(s[0], "webhooks") && is_id(s[1])) {
    if (post && n == 3)
      kind = MESSAGE, flags = FLAGS_WEBHOOK;
    else if (patch && n == 5 && !strcmp(s[3], "messages"))
      kind = MESSAGE, flags = FLAGS_EDIT;
  } else if (post && n == 4 && !strcmp(s[0], "interactions") && is_id(s[1]) &&
             !strcmp(s[3], "callback")) {
    kind = CALLBACK;
  } else if (put && !strcmp(s[0], "applications") && n >= 3 && is_id(s[1]) &&
             ((n == 3 && !strcmp(s[2], "commands")) ||
              (n == 5 && !strcmp(s[2], "guilds") && is_id(s[3]) &&
               !strcmp(s[4], "commands")))) {
    kind = COMMANDS;
  }

  switch (kind) {
  case MESSAGE:
    /* A body-less message call has nothing to check; Discord would say what is missing. */
    return finish(&k, body ? check_message(&k, body, "", flags) : 0);
  case CALLBACK:
    /* The interactions module checks the origin-dependent rules itself
     * (limits_check_callback with the real origin); here only the rest. */
    return finish(&k, body ? check_callback(&k, body, ORIGIN_UNKNOWN)
                           : fail(&k, "body: missing (a callback needs a type)"));
  case COMMANDS:
    return finish(&k, body ? check_commands(&k, body) : fail(&k, "body: missing"));
  case NONE:
    break;
  }
  return finish(&k, 0);
}
