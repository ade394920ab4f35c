/* Static files, loaded into memory once (start and SIGHUP) so that serving one never touches
 * the disk from the loop thread and no request can name a file outside web/. The walk uses
 * lstat and resolves each symlink with realpath, keeping it only when it stays inside the
 * web directory. */
#include "http/static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/crypto.h"

#define STATIC_MAX_FILES 2000
#define STATIC_MAX_FILE (16u << 20)
#define STATIC_MAX_TOTAL (128u << 20)

struct static_site {
  struct static_file *files; /* sorted by path, for bsearch */
  size_t n, cap;
  size_t total;
  struct static_mount *mounts;
  size_t nmounts;
  char *root; /* realpath of web_dir */
};

static const struct {
  const char *ext, *mime;
  int text;
} mimes[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "text/javascript; charset=utf-8", 1},
    {".mjs", "text/javascript; charset=utf-8", 1},
    {".css", "text/css; charset=utf-8", 1},
    {".json", "application/json; charset=utf-8", 1},
    {".svg", "image/svg+xml", 1},
    {".txt", "text/plain; charset=utf-8", 1},
    {".map", "application/json; charset=utf-8", 1},
    {".webmanifest", "application/manifest+json", 1},
    {".png", "image/png", 0},
    {".jpg", "image/jpeg", 0},
    {".jpeg", "image/jpeg", 0},
    {".gif", "image/gif", 0},
    {".webp", "image/webp", 0},
    {".ico", "image/x-icon", 0},
    {".woff2", "font/woff2", 0},
    {".woff", "font/woff", 0},
};

static int mime_index(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot)
    return -1;
  for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
    if (!strcasecmp(dot, mimes[i].ext))
      return (int)i;
  return -1;
}

const char *static_mime(const char *name) {
  int i = mime_index(name);
  return i < 0 ? "application/octet-stream" : mimes[i].mime;
}

/* gzip (not raw deflate) so that Content-Encoding: gzip is exact. NULL unless it saves. */
static char *gzip_of(const char *data, size_t len, size_t *outlen) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    return NULL;
  size_t cap = deflateBound(&z, len);
  char *out = malloc(cap);
  if (!out) {
    deflateEnd(&z);
    return NULL;
  }
  z.next_in = (Bytef *)data;
  z.avail_in = (uInt)len;
  z.next_out = (Bytef *)out;
  z.avail_out = (uInt)cap;
  int rc = deflate(&z, Z_FINISH);
  *outlen = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END || *outlen + 64 >= len) {
    free(out);
    return NULL;
  }
  return out;
}

static int read_file(const char *path, char **data, size_t *len, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > STATIC_MAX_FILE) {
    snprintf(err, errlen, "%s: not a regular file under 16 MiB", path);
    close(fd);
    return -1;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (buf && got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  if (!buf || got != (size_t)st.st_size) {
    free(buf);
    snprintf(err, errlen, "%s: read failed", path);
    return -1;
  }
  buf[got] = 0;
  *data = buf;
  *len = got;
  return 0;
}

static int add_file(struct static_site *site, const char *urlpath, const char *fspath, char *err,
                    size_t errlen) {
  if (site->n >= STATIC_MAX_FILES) {
    snprintf(err, errlen, "web: more than %d files", STATIC_MAX_FILES);
    return -1;
  }
  char *data;
  size_t len;
  if (read_file(fspath, &data, &len, err, errlen) != 0)
    return -1;
  site->total += len;
  if (site->total > STATIC_MAX_TOTAL) {
    free(data);
    snprintf(err, errlen, "web: more than 128 MiB of files");
    return -1;
  }
  if (site->n == site->cap) {
    size_t nc = site->cap ? site->cap * 2 : 64;
    struct static_file *nf = realloc(site->files, nc * sizeof *nf);
    if (!nf) {
      free(data);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    site->files = nf;
    site->cap = nc;
  }
  struct static_file *f = &site->files[site->n++];
  memset(f, 0, sizeof *f);
  f->path = strdup(urlpath);
  f->data = data;
  f->len = len;
  int mi = mime_index(fspath);
  f->mime = mi < 0 ? "application/octet-stream" : mimes[mi].mime;
  f->html = mi == 0;
  if (mi >= 0 && mimes[mi].text)
    f->gz = gzip_of(data, len, &f->gzlen);
  uint8_t h[32];
  crypto_sha256(data, len, h);
  char hex[17];
  crypto_hex(h, 8, hex);
  snprintf(f->etag, sizeof f->etag, "\"%s\"", hex);
  return 0;
}

/* Walks dir (a path inside root) adding every regular file under urlbase. */
static int walk(struct static_site *site, const char *dir, const char *urlbase, int depth,
                char *err, size_t errlen) {
  if (depth > 16)
    return 0;
  DIR *d = opendir(dir);
  if (!d)
    return 0; /* a mount whose directory does not exist just serves nothing */
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.') /* no dotfiles, no "." or ".." */
      continue;
    char fs[PATH_MAX], url[PATH_MAX];
    if (snprintf(fs, sizeof fs, "%s/%s", dir, e->d_name) >= (int)sizeof fs ||
        snprintf(url, sizeof url, "%s/%s", strcmp(urlbase, "/") ? urlbase : "", e->d_name) >=
            (int)sizeof url)
      continue;
    struct stat st;
    if (lstat(fs, &st) != 0)
      continue;
    if (S_ISLNK(st.st_mode)) {
      char real[PATH_MAX];
      size_t rl = strlen(site->root);
      if (!realpath(fs, real) || strncmp(real, site->root, rl) != 0 ||
          (real[rl] != '/' && real[rl] != 0))
        continue; /* a link out of web/ is never served */
      if (stat(real, &st) != 0)
        continue;
      if (S_ISREG(st.st_mode))
        rc = add_file(site, url, real, err, errlen);
      continue; /* directory links are not followed: no loops */
    }
    if (S_ISDIR(st.st_mode))
      rc = walk(site, fs, url, depth + 1, err, errlen);
    else if (S_ISREG(st.st_mode))
      rc = add_file(site, url, fs, err, errlen);
  }
  closedir(d);
  return rc;
}

static int cmp_file(const void *a, const void *b) {
  return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

int static_site_load(struct static_site **out, const char *web_dir,
                     const struct static_mount *mounts, size_t n, char *err, size_t errlen) {
  struct static_site *site = calloc(1, sizeof *site);
  if (!site)
    return -1;
  char real[PATH_MAX];
  if (!realpath(web_dir, real)) {
    snprintf(err, errlen, "WEB_DIR: %s: %s", web_dir, strerror(errno));
    free(site);
    return -1;
  }
  site->root = strdup(real);
  site->mounts = calloc(n ? n : 1, sizeof *site->mounts);
  site->nmounts = n;
  for (size_t i = 0; i < n; i++) {
    site->mounts[i].prefix = strdup(mounts[i].prefix);
    site->mounts[i].subdir = strdup(mounts[i].subdir);
    site->mounts[i].spa_prefix = mounts[i].spa_prefix ? strdup(mounts[i].spa_prefix) : NULL;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", site->root, mounts[i].subdir);
    if (walk(site, dir, mounts[i].prefix, 0, err, errlen) != 0) {
      static_site_free(site);
      return -1;
    }
  }
  qsort(site->files, site->n, sizeof *site->files, cmp_file);
  *out = site;
  return 0;
}

void static_site_free(struct static_site *site) {
  if (!site)
    return;
  for (size_t i = 0; i < site->n; i++) {
    free((char *)site->files[i].path);
    free((char *)site->files[i].data);
    free((char *)site->files[i].gz);
  }
  for (size_t i = 0; i < site->nmounts; i++) {
    free((char *)site->mounts[i].prefix);
    free((char *)site->mounts[i].subdir);
    free((char *)site->mounts[i].spa_prefix);
  }
  free(site->mounts);
  free(site->files);
  free(site->root);
  free(site);
}

size_t static_site_files(const struct static_site *site) { return site ? site->n : 0; }

static const struct static_file *find(const struct static_site *site, const char *path) {
  struct static_file key = {.path = path};
  return bsearch(&key, site->files, site->n, sizeof key, cmp_file);
}

/* "/x" is under prefix "/x" and "/x/..."; every path is under "/". */
static int under(const char *path, const char *prefix) {
  size_t n = strlen(prefix);
  if (n == 1 && prefix[0] == '/')
    return 1;
  return !strncmp(path, prefix, n) && (path[n] == 0 || path[n] == '/');
}

const struct static_file *static_lookup(const struct static_site *site, const char *path) {
  if (!site || !path || path[0] != '/')
    return NULL;
  char buf[PATH_MAX];
  size_t len = strlen(path);
  if (len + 16 >= sizeof buf)
    return NULL;
  memcpy(buf, path, len + 1);
  if (buf[len - 1] == '/') /* a directory means its index.html */
    memcpy(buf + len, "index.html", 11);
  const struct static_file *f = find(site, buf);
  if (f)
    return f;
  /* "/admin" (no slash) is the admin app's index too */
  for (size_t i = 0; i < site->nmounts; i++) {
    const struct static_mount *m = &site->mounts[i];
    if (!strcmp(path, m->prefix) ||
        (m->spa_prefix && under(path, m->spa_prefix) && under(path, m->prefix))) {
      char idx[PATH_MAX];
      snprintf(idx, sizeof idx, "%s/index.html", strcmp(m->prefix, "/") ? m->prefix : "");
      if ((f = find(site, idx)))
        return f;
    }
  }
  return NULL;
}
