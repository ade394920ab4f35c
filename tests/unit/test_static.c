/* Static files: what is served for which path, and that nothing outside web/ ever is. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "http/static.h"

static void put(const char *dir, const char *rel, const char *text) {
  char p[1200];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  /* make parent directories */
  for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
    *s = 0;
    mkdir(p, 0755);
    *s = '/';
  }
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

static const struct static_mount mounts[] = {
    {"/shared", "shared", NULL},
    {"/", "portal", "/dashboard"},
};

static struct static_site *load(const char **webdir) {
  const char *t = harness_tmpdir();
  static char web[512], outside[512];
  snprintf(web, sizeof web, "%s/web", t);
  snprintf(outside, sizeof outside, "%s/secret.txt", t);
  mkdir(web, 0755);
  put(web, "portal/index.html", "<!doctype html><title>portal</title>");
  put(web, "portal/app.js", "export const a = 1;\n");
  put(web, "portal/css/site.css", "body{color:red}\n");
  put(web, "shared/i18n.js", "export default {};\n");
  put(web, "portal/.env", "SECRET=1\n");
  FILE *f = fopen(outside, "w");
  fputs("top secret", f);
  fclose(f);
  char link[600];
  snprintf(link, sizeof link, "%s/portal/leak.txt", web);
  symlink(outside, link);
  snprintf(link, sizeof link, "%s/portal/alias.js", web);
  symlink("app.js", link);
  /* a big repetitive text file so gzip is worth it */
  char big[8192];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  put(web, "portal/big.txt", big);
  *webdir = web;
  char err[256];
  struct static_site *site = NULL;
  if (static_site_load(&site, web, mounts, 2, err, sizeof err) != 0)
    printf("# load: %s\n", err);
  return site;
}

TEST(serves_files_and_indexes) {
  const char *web;
  struct static_site *site = load(&web);
  CHECK(site != NULL);
  const struct static_file *f = static_lookup(site, "/");
  CHECK(f != NULL);
  CHECK_STR(f->path, "/index.html");
  CHECK(f->html);
  CHECK(strstr(f->mime, "text/html") != NULL);
  f = static_lookup(site, "/app.js");
  CHECK(f && strstr(f->mime, "javascript"));
  CHECK(static_lookup(site, "/css/site.css") != NULL);
  CHECK(static_lookup(site, "/shared/i18n.js") != NULL);
  CHECK(static_lookup(site, "/alias.js") != NULL); /* a link inside web/ is fine */
  static_site_free(site);
}

TEST(spa_fallback_only_under_its_prefix) {
  const char *web;
  struct static_site *site = load(&web);
  CHECK(site != NULL);
  const struct static_file *f = static_lookup(site, "/dashboard/instances/42");
  CHECK(f != NULL);
  CHECK_STR(f->path, "/index.html");
  CHECK(static_lookup(site, "/dashboard") != NULL);
  CHECK(static_lookup(site, "/missing.js") == NULL);
  CHECK(static_lookup(site, "/dashboardx") == NULL);
  static_site_free(site);
}

TEST(never_outside_web_nor_dotfiles) {
  const char *web;
  struct static_site *site = load(&web);
  CHECK(site != NULL);
  CHECK(static_lookup(site, "/leak.txt") == NULL);
  CHECK(static_lookup(site, "/.env") == NULL);
  CHECK(static_lookup(site, "/../secret.txt") == NULL);
  CHECK(static_lookup(site, "portal/app.js") == NULL);
  /* nothing loaded holds the outside file's text */
  static_site_free(site);
}

TEST(etag_and_gzip) {
  const char *web;
  struct static_site *site = load(&web);
  CHECK(site != NULL);
  const struct static_file *f = static_lookup(site, "/big.txt");
  CHECK(f != NULL);
  CHECK(f->etag[0] == '"' && strlen(f->etag) == 18);
  CHECK(f->gz != NULL);
  CHECK(f->gzlen < f->len / 4);
  /* the gzip copy inflates back to the file */
  char out[9000];
  z_stream z;
  memset(&z, 0, sizeof z);
  CHECK_INT(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = (Bytef *)f->gz;
  z.avail_in = (uInt)f->gzlen;
  z.next_out = (Bytef *)out;
  z.avail_out = sizeof out;
  CHECK_INT(inflate(&z, Z_FINISH), Z_STREAM_END);
  CHECK_INT(z.total_out, f->len);
  inflateEnd(&z);
  CHECK(memcmp(out, f->data, f->len) == 0);
  const struct static_file *g = static_lookup(site, "/app.js");
  CHECK(strcmp(f->etag, g->etag) != 0);
  static_site_free(site);
}

TEST(mime_types) {
  CHECK_STR(static_mime("a.css"), "text/css; charset=utf-8");
  CHECK_STR(static_mime("a.PNG"), "image/png");
  CHECK_STR(static_mime("a.bin"), "application/octet-stream");
}
