/* Unit tests for src/core/log.c: the JSON lines in astra.log (read back and parsed), the
 * readable stderr line, level filtering, redaction of secrets and credentials in messages
 * and fields, log_reopen after a rotation, and whole lines under concurrent writers. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "harness.h"

/* The whole file at path as a malloc'd string ("" when absent). */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return strdup("");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  size_t r = fread(s, 1, (size_t)n, f);
  s[r] = '\0';
  fclose(f);
  return s;
}

static void log_path(const char *dir, char *out, size_t n) {
  snprintf(out, n, "%s/astra.log", dir);
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

TEST(json_line_has_ts_level_module_msg) {
  const char *dir = harness_tmpdir();
  char sub[700], path[800];
  /* a directory that does not exist yet, two levels down */
  snprintf(sub, sizeof sub, "%s/a/logs", dir);
  log_set_stderr(0);
  CHECK_INT(log_open(sub, LOG_DEBUG), 0);
  log_msg(LOG_INFO, "http", "req-42", "GET %s -> %d", "/health", 200);
  const char *const kv[] = {"instance", "i-1", "status", "online", NULL};
  log_fields(LOG_WARN, "runtime", NULL, kv, "state \"changed\"\nnext");
  log_close();
  log_path(sub, path, sizeof path);
  char *text = slurp(path);
  CHECK_INT(count_lines(text), 2);

  char *nl = strchr(text, '\n');
  *nl = '\0';
  json_error_t e;
  json_t *a = json_loads(text, 0, &e);
  json_t *b = json_loads(nl + 1, 0, &e);
  free(text);
  CHECK(a && b);
  const char *ts = json_string_value(json_object_get(a, "ts"));
  int ts_ok =
      ts && strlen(ts) == 24 && ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z';
  int a_ok = !strcmp(json_string_value(json_object_get(a, "level")), "info") &&
             !strcmp(json_string_value(json_object_get(a, "module")), "http") &&
             !strcmp(json_string_value(json_object_get(a, "req")), "req-42") &&
             !strcmp(json_string_value(json_object_get(a, "msg")), "GET /health -> 200");
  int b_ok = !strcmp(json_string_value(json_object_get(b, "level")), "warn") &&
             json_object_get(b, "req") == NULL &&
             !strcmp(json_string_value(json_object_get(b, "msg")), "state \"changed\"\nnext") &&
             !strcmp(json_string_value(json_object_get(b, "instance")), "i-1") &&
             !strcmp(json_string_value(json_object_get(b, "status")), "online");
  json_decref(a);
  json_decref(b);
  CHECK(ts_ok);
  CHECK(a_ok);
  CHECK(b_ok);
}

TEST(level_filtering) {
  const char *dir = harness_tmpdir();
  char path[800];
  log_set_stderr(0);
  CHECK_INT(log_open(dir, LOG_WARN), 0);
  log_debug("t", "dropped-debug");
  log_info("t", "dropped-info");
  log_warn("t", "kept-warn");
  log_error("t", "kept-error");
  log_set_level(LOG_ERROR);
  log_warn("t", "dropped-warn");
  log_set_level(LOG_DEBUG);
  log_debug("t", "kept-debug");
  log_close();
  log_path(dir, path, sizeof path);
  char *text = slurp(path);
  int ok = !strstr(text, "dropped") && strstr(text, "kept-warn") && strstr(text, "kept-error") &&
           strstr(text, "kept-debug") && count_lines(text) == 3;
  free(text);
  CHECK(ok);
}

TEST(level_names_parse) {
  CHECK_INT(log_level_parse("debug"), LOG_DEBUG);
  CHECK_INT(log_level_parse("info"), LOG_INFO);
  CHECK_INT(log_level_parse("WARN"), LOG_WARN);
  CHECK_INT(log_level_parse("error"), LOG_ERROR);
  CHECK_INT(log_level_parse("loud"), -1);
  CHECK_INT(log_level_parse(""), -1);
  CHECK_STR(log_level_name(LOG_WARN), "warn");
}

TEST(secrets_and_credentials_never_reach_the_file) {
  const char *dir = harness_tmpdir();
  char path[800];
  const char *secret = "s3cr3t-registered-value";
  const char *bot = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz012345";
  log_add_secret(secret);
  log_set_stderr(0);
  CHECK_INT(log_open(dir, LOG_DEBUG), 0);
  log_info("t", "config has %s inside", secret);
  log_info("t", "Authorization: Bot %s", bot);
  log_info("t", "authorization: bearer eyJhbGciOiJIUzI1NiJ9.payload.sig");
  log_info("t", "Authorization: Basic dXNlcjpwYXNzd29yZA==");
  log_info("t", "body {\"email\":\"a@b.c\",\"password\":\"hunter2hunter2\"}");
  log_info("t", "upstream said {\"access_token\": \"APP_USR-123456-mp\", \"ok\":true}");
  log_info("t", "nested \"{\\\"client_secret\\\":\\\"cs-xyzzy-0001\\\"}\"");
  log_info("t", "GET /callback?code=abc&token=tok-qwerty-77&x=1");
  log_info("t", "form email=a%%40b.c&password=pw-plugh-99");
  const char *const kv[] = {"header",
                            "Bot MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz012345",
                            "copy", secret, NULL};
  log_fields(LOG_INFO, "t", NULL, kv, "fields");
  log_close();
  log_path(dir, path, sizeof path);
  char *text = slurp(path);
  static const char *const leaked[] = {"s3cr3t-registered",
                                       "abcdefghijklmnopqrstuvwxyz012345",
                                       "eyJhbGciOiJIUzI1NiJ9",
                                       "dXNlcjpwYXNzd29yZA",
                                       "hunter2",
                                       "APP_USR-123456",
                                       "cs-xyzzy",
                                       "tok-qwerty",
                                       "pw-plugh"};
  for (size_t i = 0; i < sizeof leaked / sizeof leaked[0]; i++) {
    if (strstr(text, leaked[i])) {
      harness_fail(__FILE__, __LINE__, "'%s' reached the log", leaked[i]);
      free(text);
      return;
    }
  }
  /* the line around the secret is kept, so the log stays useful */
  int kept = strstr(text, "config has *** inside") && strstr(text, "Bot ***") &&
             strstr(text, "bearer ***") && strstr(text, "\\\"password\\\":\\\"***\\\"") &&
             strstr(text, "token=***&x=1") && strstr(text, "a@b.c") && strstr(text, "code=abc");
  int lines = count_lines(text);
  free(text);
  log_remove_secret(secret);
  CHECK(kept);
  CHECK_INT(lines, 10);
}

TEST(redact_leaves_ordinary_text_alone) {
  char out[256];
  log_redact("bot online for instance 7; basic plan", out, sizeof out);
  /* "bot" followed by a plain lower-case word is prose, not a credential */
  CHECK(strstr(out, "bot online for instance 7") != NULL);
  log_redact("robot Bearerish tokens=1 mytoken=abc", out, sizeof out);
  CHECK_STR(out, "robot Bearerish tokens=1 mytoken=abc");
  log_redact("short", out, sizeof out);
  CHECK_STR(out, "short");
  log_redact("", out, sizeof out);
  CHECK_STR(out, "");
  /* output is cut, never overrun */
  char tiny[8];
  log_redact("0123456789abcdef", tiny, sizeof tiny);
  CHECK_STR(tiny, "0123456");
}

TEST(secret_registry_counts_and_ignores_short) {
  char out[256];
  log_add_secret("abc12"); /* under 6 bytes: ignored */
  log_redact("x abc12 y", out, sizeof out);
  CHECK_STR(out, "x abc12 y");

  log_add_secret("tok-registered-twice");
  log_add_secret("tok-registered-twice");
  log_remove_secret("tok-registered-twice");
  log_redact("a tok-registered-twice b", out, sizeof out);
  CHECK_STR(out, "a *** b"); /* still registered once */
  log_remove_secret("tok-registered-twice");
  log_redact("a tok-registered-twice b", out, sizeof out);
  CHECK_STR(out, "a tok-registered-twice b");

  /* a longer secret that starts with a shorter one is hidden whole */
  log_add_secret("prefix-secret");
  log_add_secret("prefix-secret-and-more");
  log_redact("[prefix-secret-and-more]", out, sizeof out);
  CHECK_STR(out, "[***]");
  log_remove_secret("prefix-secret");
  log_remove_secret("prefix-secret-and-more");

  /* hundreds of registrations (one per bot token) keep working */
  char buf[64];
  for (int i = 0; i < 500; i++) {
    snprintf(buf, sizeof buf, "bot-token-number-%04d", i);
    log_add_secret(buf);
  }
  log_redact("x bot-token-number-0321 y bot-token-number-0499", out, sizeof out);
  CHECK_STR(out, "x *** y ***");
  for (int i = 0; i < 500; i++) {
    snprintf(buf, sizeof buf, "bot-token-number-%04d", i);
    log_remove_secret(buf);
  }
  log_redact("x bot-token-number-0321", out, sizeof out);
  CHECK_STR(out, "x bot-token-number-0321");
}

TEST(reopen_after_rename_writes_new_file) {
  const char *dir = harness_tmpdir();
  char path[800], rotated[820];
  log_set_stderr(0);
  CHECK_INT(log_open(dir, LOG_INFO), 0);
  log_info("t", "before-rotation");
  log_path(dir, path, sizeof path);
  snprintf(rotated, sizeof rotated, "%s.1", path);
  CHECK_INT(rename(path, rotated), 0);
  log_info("t", "still-old-fd"); /* without reopen, the moved file gets it */
  log_reopen();
  log_info("t", "after-rotation");
  log_close();
  char *old = slurp(rotated), *cur = slurp(path);
  int ok = strstr(old, "before-rotation") && strstr(old, "still-old-fd") &&
           !strstr(old, "after-rotation") && strstr(cur, "after-rotation") &&
           !strstr(cur, "before-rotation") && count_lines(cur) == 1;
  free(old);
  free(cur);
  CHECK(ok);
}

TEST(stderr_line_is_readable) {
  const char *dir = harness_tmpdir();
  char path[800];
  snprintf(path, sizeof path, "%s/stderr.txt", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
  CHECK_INT(log_open(NULL, LOG_DEBUG), 0); /* stderr only */
  log_set_stderr(1);
  const char *const kv[] = {"order", "o-9", "note", "two words", NULL};
  log_fields(LOG_INFO, "http", "r-1", kv, "paid\nforged line");
  log_set_stderr(0);
  log_error("http", "not-shown");
  dup2(saved, STDERR_FILENO);
  close(saved);
  char *text = slurp(path);
  /* "2026-11-22 12:00:00.123 INFO  http [r-1] msg key=value" */
  int ok = strlen(text) > 24 && text[4] == '-' && text[10] == ' ' && text[19] == '.' &&
           strstr(text, " INFO  http [r-1] paid\\nforged line order=o-9 note=\"two words\"\n") &&
           count_lines(text) == 1 && !strstr(text, "not-shown");
  if (!ok)
    harness_fail(__FILE__, __LINE__, "stderr line: %s", text);
  free(text);
}

struct writer_arg {
  int id;
};

static void *writer(void *p) {
  const struct writer_arg *a = p;
  char big[3000];
  memset(big, 'a' + a->id, sizeof big - 1);
  big[sizeof big - 1] = '\0';
  for (int i = 0; i < 200; i++)
    log_msg(LOG_INFO, "w", NULL, "writer %d line %d %s", a->id, i, big);
  return NULL;
}

TEST(concurrent_writers_keep_lines_whole) {
  const char *dir = harness_tmpdir();
  char path[800];
  log_set_stderr(0);
  CHECK_INT(log_open(dir, LOG_INFO), 0);
  pthread_t t[4];
  struct writer_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i].id = i;
    pthread_create(&t[i], NULL, writer, &args[i]);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  log_close();
  log_path(dir, path, sizeof path);
  char *text = slurp(path);
  int lines = 0, bad = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    if (!o || !json_string_value(json_object_get(o, "msg")))
      bad++;
    json_decref(o);
    lines++;
  }
  free(text);
  CHECK_INT(bad, 0);
  CHECK_INT(lines, 800);
}

TEST(invalid_utf8_and_long_messages_still_log) {
  const char *dir = harness_tmpdir();
  char path[800];
  log_set_stderr(0);
  CHECK_INT(log_open(dir, LOG_INFO), 0);
  log_info("t", "bad \xff\xfe bytes \xc3\xa7 ok");
  char *huge = malloc(100000);
  memset(huge, 'z', 99999);
  huge[99999] = '\0';
  log_info("t", "%s", huge);
  free(huge);
  log_close();
  log_path(dir, path, sizeof path);
  char *text = slurp(path);
  char *nl = strchr(text, '\n');
  CHECK(nl);
  *nl = '\0';
  json_error_t e;
  json_t *a = json_loads(text, 0, &e), *b = json_loads(nl + 1, 0, &e);
  free(text);
  const char *am = a ? json_string_value(json_object_get(a, "msg")) : NULL;
  const char *bm = b ? json_string_value(json_object_get(b, "msg")) : NULL;
  int ok = am && !strcmp(am, "bad ?? bytes \xc3\xa7 ok") && bm && strlen(bm) == 16384;
  json_decref(a);
  json_decref(b);
  CHECK(ok);
}
