/* The fake Discord as a child process, for C tests and benchmarks: starts
 * tests/fakes/discord/cli.mjs (from the repository root), reads the JSON line it prints
 * (apiBase, control, caFile), and stops it by closing its stdin. fake_cli_control() is a
 * blocking call of the fake's control API, which tests may make (the loop is theirs). */
#ifndef ASTRA_TEST_FAKE_CLI_H
#define ASTRA_TEST_FAKE_CLI_H

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define FAKE_CLI_PATH "tests/fakes/discord/cli.mjs"

struct fake_cli {
  pid_t pid;
  int in_fd, out_fd;
  char api_base[256];
  char control[256];
  char ca_file[512];
};

static inline int fake_cli_have_node(void) {
  const char *path = getenv("PATH");
  if (!path)
    return 0;
  char *copy = strdup(path), *save = NULL;
  int found = 0;
  for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
    char f[1024];
    snprintf(f, sizeof f, "%s/node", *dir ? dir : ".");
    found = access(f, X_OK) == 0;
  }
  free(copy);
  return found;
}

static inline void fake_cli_stop(struct fake_cli *f) {
  if (!f->pid)
    return;
  close(f->in_fd); /* cli.mjs stops when its stdin closes */
  for (int i = 0; i < 300; i++) {
    if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
      f->pid = 0;
      break;
    }
    usleep(10000);
  }
  if (f->pid) {
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    f->pid = 0;
  }
  close(f->out_fd);
}

/* Spawns argv (argv[0] "node", argv[1] the fake's cli.mjs) with a pipe on stdin and stdout;
 * 0 when the fake printed its JSON line and f holds its addresses. */
static inline int fake_cli_spawn(struct fake_cli *f, char *const argv[]) {
  memset(f, 0, sizeof *f);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
    return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  int rc = posix_spawnp(&f->pid, "node", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  f->in_fd = in[1];
  f->out_fd = out[0];
  if (rc != 0) {
    f->pid = 0;
    close(in[1]);
    close(out[0]);
    return -1;
  }
  char line[2048];
  size_t n = 0;
  while (n < sizeof line - 1 && !memchr(line, '\n', n)) {
    struct pollfd p = {.fd = f->out_fd, .events = POLLIN};
    if (poll(&p, 1, 20000) <= 0)
      break;
    ssize_t r = read(f->out_fd, line + n, sizeof line - 1 - n);
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  line[n] = 0;
  json_t *j = json_loads(line, 0, NULL);
  const char *api = json_string_value(json_object_get(j, "apiBase"));
  const char *ctl = json_string_value(json_object_get(j, "control"));
  const char *ca = json_string_value(json_object_get(j, "caFile"));
  int ok = api && ctl;
  if (ok) {
    snprintf(f->api_base, sizeof f->api_base, "%s", api);
    snprintf(f->control, sizeof f->control, "%s", ctl);
    snprintf(f->ca_file, sizeof f->ca_file, "%s", ca ? ca : "");
  } else {
    fprintf(stderr, "# cannot start the fake (%s): got \"%s\"\n", argv[1], line);
    fake_cli_stop(f);
  }
  json_decref(j);
  return ok ? 0 : -1;
}

/* The fake Discord. */
static inline int fake_cli_start(struct fake_cli *f, unsigned heartbeat_ms, int tls) {
  char hb[16];
  snprintf(hb, sizeof hb, "%u", heartbeat_ms);
  char *argv[] = {"node", FAKE_CLI_PATH, "--heartbeat-interval", hb, tls ? "--tls" : NULL, NULL};
  return fake_cli_spawn(f, argv);
}

static inline size_t fake_cli_collect(char *data, size_t size, size_t n, void *arg) {
  json_t **buf = arg; /* a JSON string accumulating the body */
  const char *have = json_string_value(*buf);
  size_t len = have ? strlen(have) : 0;
  char *s = malloc(len + size * n + 1);
  if (!s)
    return 0;
  memcpy(s, have ? have : "", len);
  memcpy(s + len, data, size * n);
  s[len + size * n] = 0;
  json_decref(*buf);
  *buf = json_string(s);
  free(s);
  return size * n;
}

/* POST <control>/<method> with body (a JSON text); returns the parsed answer or NULL. Blocks:
 * for tests only. */
static inline json_t *fake_cli_control(const struct fake_cli *f, const char *method,
                                       const char *body) {
  CURL *c = curl_easy_init();
  if (!c)
    return NULL;
  char url[512];
  snprintf(url, sizeof url, "%s%s", f->control, method); /* control ends with a slash */
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  json_t *buf = json_string("");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "{}");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fake_cli_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  if (f->ca_file[0])
    curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  json_t *out = rc == CURLE_OK ? json_loads(json_string_value(buf), JSON_DECODE_ANY, NULL) : NULL;
  json_decref(buf);
  return out;
}

#endif
