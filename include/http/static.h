/* Static files: the web/ tree is loaded into memory at start (and on SIGHUP), with an ETag
 * and a gzip copy of each text file. Requests are answered from memory only, so no request
 * can ever read outside web/: the tree walk itself refuses symlinks that lead out of it. */
#ifndef ASTRA_HTTP_STATIC_H
#define ASTRA_HTTP_STATIC_H

#include <stddef.h>

struct static_mount {
  const char *prefix;     /* URL prefix, "/" or "/admin" or "/shared" */
  const char *subdir;     /* directory under web/, "portal" */
  const char *spa_prefix; /* paths under this prefix with no file fall back to the mount's
                             index.html ("/dashboard"); NULL for none */
};

struct static_file {
  const char *path; /* URL path */
  const char *data;
  size_t len;
  const char *gz;   /* gzip copy, or NULL when not worth it */
  size_t gzlen;
  char etag[20];    /* "\"<16 hex>\"" */
  const char *mime;
  int html;
};

struct static_site;

/* Loads web_dir/<subdir> for every mount. Limits: 2,000 files, 16 MiB each, 128 MiB in all.
 * 0, or -1 with err. */
int static_site_load(struct static_site **out, const char *web_dir,
                     const struct static_mount *mounts, size_t n, char *err, size_t errlen);
void static_site_free(struct static_site *site);
/* The file for a decoded URL path ("/" and "/dir/" mean index.html), with the SPA
 * fallback; NULL when none. */
const struct static_file *static_lookup(const struct static_site *site, const char *path);
/* MIME type by file name. */
const char *static_mime(const char *name);
size_t static_site_files(const struct static_site *site);

#endif
