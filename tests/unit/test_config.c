/* Unit tests for src/core/config.c: defaults, the environment over .env, dotenv syntax,
 * one clear line per invalid value (every validated variable), <DATA_DIR>/.secrets
 * (generated once with mode 0600, then reused; the environment wins) and config_print
 * never showing a secret. Each test works in its own directory, with every variable
 * cleared from the environment first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/crypto.h"
#include "harness.h"

static const char *const all_vars[] = {
    "DISCORD_TOKEN",        "PORTAL_SESSION_SECRET",       "DISCORD_OAUTH_CLIENT_ID",
    "DISCORD_OAUTH_CLIENT_SECRET", "DISCORD_OAUTH_REDIRECT_URI", "MERCADOPAGO_ACCESS_TOKEN",
    "MERCADOPAGO_WEBHOOK_SECRET",  "ADMIN_PANEL_TOKEN",          "DATA_ENCRYPTION_KEY",
    "PORTAL_PORT",          "ADMIN_PORT",                  "PORTAL_HOST",
    "ADMIN_HOST",           "DATA_DIR",                    "LOG_DIR",
    "WEB_DIR",              "LOG_LEVEL",                   "PUBLIC_URL",
    "LOCALE",               "DISCORD_API_BASE",            "DISCORD_OAUTH_AUTHORIZE_URL",
    "MERCADOPAGO_API_BASE", "TLS_CA_FILE",                 "SHUTDOWN_GRACE_MS",
    "PLATFORM_FEE_PERCENT", "PLATFORM_FEE_FIXED_CENTS",    "TRUST_PROXY",
    "PAYMENT_RECONCILE_SECONDS",
};

/* A clean slate: no variable set, cwd in a fresh directory without .env. */
static const char *fresh(void) {
  for (size_t i = 0; i < sizeof all_vars / sizeof all_vars[0]; i++)
    unsetenv(all_vars[i]);
  const char *dir = harness_tmpdir();
  if (chdir(dir) != 0)
    return NULL;
  return dir;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fputs(text, f);
  return fclose(f);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *s = calloc(1, 65536);
  size_t n = fread(s, 1, 65535, f);
  s[n] = '\0';
  fclose(f);
  return s;
}

TEST(defaults) {
  CHECK(fresh());
  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(c.portal_port, 3100);
  CHECK_INT(c.admin_port, 3000);
  CHECK_STR(c.portal_host, "0.0.0.0");
  CHECK_STR(c.admin_host, "127.0.0.1");
  CHECK_STR(c.data_dir, "./data");
  CHECK_STR(c.log_dir, "./logs");
  CHECK_STR(c.web_dir, "./web");
  CHECK_INT(c.log_level, LOG_INFO);
  CHECK_STR(c.public_url, "http://localhost:3100");
  CHECK_STR(c.locale, "pt-BR");
  CHECK_STR(c.discord_api_base, "https://discord.com/api/v10");
  CHECK_STR(c.discord_oauth_authorize_url, "https://discord.com/oauth2/authorize");
  CHECK_STR(c.mercadopago_api_base, "https://api.mercadopago.com");
  CHECK(c.tls_ca_file == NULL);
  CHECK_INT(c.shutdown_grace_ms, 10000);
  CHECK_INT(c.payment_reconcile_seconds, 60);
  CHECK_INT(c.platform_fee_bp, 500);
  CHECK_INT(c.platform_fee_fixed_cents, 0);
  CHECK_INT(c.trust_proxy, 0);
  CHECK(c.discord_token == NULL && c.admin_panel_token == NULL &&
        c.portal_session_secret == NULL && c.data_encryption_key == NULL &&
        c.mercadopago_access_token == NULL);
  config_free(&c);
}

TEST(public_url_default_follows_portal_port) {
  CHECK(fresh());
  setenv("PORTAL_PORT", "8080", 1);
  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_STR(c.public_url, "http://localhost:8080");
  config_free(&c);
  /* a trailing slash on a base URL is dropped so that base + "/path" stays right */
  setenv("PUBLIC_URL", "https://loja.example.com/", 1);
  setenv("DISCORD_API_BASE", "http://127.0.0.1:9999/api/v10/", 1);
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_STR(c.public_url, "https://loja.example.com");
  CHECK_STR(c.discord_api_base, "http://127.0.0.1:9999/api/v10");
  config_free(&c);
}

TEST(env_overrides_dotenv) {
  const char *dir = fresh();
  CHECK(dir);
  CHECK_INT(write_file(".env", "PORTAL_PORT=4000\nADMIN_PORT=4001\nLOG_LEVEL=debug\n"), 0);
  setenv("PORTAL_PORT", "5000", 1);
  struct config c;
  char err[256];
  /* NULL means ./.env */
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(c.portal_port, 5000);
  CHECK_INT(c.admin_port, 4001);
  CHECK_INT(c.log_level, LOG_DEBUG);
  config_free(&c);
  /* present but empty in the environment: still wins, and means "default" */
  setenv("ADMIN_PORT", "", 1);
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(c.admin_port, 3000);
  config_free(&c);
}

TEST(dotenv_syntax) {
  CHECK(fresh());
  const char *text = "# a comment\n"
                     "\n"
                     "   # indented comment\n"
                     "export DISCORD_TOKEN=tok.en-value  # trailing comment\n"
                     "DISCORD_OAUTH_CLIENT_ID = 12345\n"
                     "DISCORD_OAUTH_CLIENT_SECRET='single # not a comment \\n raw'\n"
                     "MERCADOPAGO_ACCESS_TOKEN=\"dq \\\"quoted\\\" back\\\\slash\\nnewline\" # c\n"
                     "MERCADOPAGO_WEBHOOK_SECRET=pa#ss\r\n"
                     "WEB_DIR=\"/srv/astra web\"\n"
                     "DATA_DIR=\n"
                     "LOCALE=en\n"
                     "DISCORD_TOKEN_UNUSED=x\n";
  CHECK_INT(write_file("custom.env", text), 0);
  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, "custom.env", err, sizeof err), 0);
  CHECK_STR(c.discord_token, "tok.en-value");
  CHECK_STR(c.discord_oauth_client_id, "12345");
  CHECK_STR(c.discord_oauth_client_secret, "single # not a comment \\n raw");
  CHECK_STR(c.mercadopago_access_token, "dq \"quoted\" back\\slash\nnewline");
  CHECK_STR(c.mercadopago_webhook_secret, "pa#ss");
  CHECK_STR(c.web_dir, "/srv/astra web");
  CHECK_STR(c.data_dir, "./data"); /* empty means default */
  CHECK_STR(c.locale, "en");
  config_free(&c);

  /* a double-quoted value may span lines, as in dotenv */
  CHECK_INT(write_file("multi.env", "DISCORD_TOKEN=\"line1\nline2\"\nLOCALE=en\n"), 0);
  CHECK_INT(config_load(&c, "multi.env", err, sizeof err), 0);
  CHECK_STR(c.discord_token, "line1\nline2");
  CHECK_STR(c.locale, "en");
  config_free(&c);
}

TEST(dotenv_errors_name_file_and_line) {
  CHECK(fresh());
  struct config c;
  char err[256];
  CHECK_INT(write_file("bad.env", "# ok\nLOCALE=en\nthis line has no equals\n"), 0);
  CHECK_INT(config_load(&c, "bad.env", err, sizeof err), -1);
  CHECK_STR(err, "bad.env:3: expected KEY=value");
  CHECK_INT(write_file("bad2.env", "\n\n\n=value\n"), 0);
  CHECK_INT(config_load(&c, "bad2.env", err, sizeof err), -1);
  CHECK_STR(err, "bad2.env:4: expected KEY=value");
  CHECK_INT(write_file("bad3.env", "A=1\nDISCORD_TOKEN=\"never closed\nB=2\n"), 0);
  CHECK_INT(config_load(&c, "bad3.env", err, sizeof err), -1);
  CHECK_STR(err, "bad3.env:2: expected KEY=value (unterminated quote)");
  CHECK_INT(write_file("bad4.env", "DISCORD_TOKEN='x' junk\n"), 0);
  CHECK_INT(config_load(&c, "bad4.env", err, sizeof err), -1);
  CHECK_STR(err, "bad4.env:1: expected KEY=value");
  /* a named file must exist; the implicit ./.env may be absent */
  CHECK_INT(config_load(&c, "missing.env", err, sizeof err), -1);
  CHECK_STR(err, "missing.env: No such file or directory");
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  config_free(&c);
}

struct bad_case {
  const char *var, *value, *message;
};

TEST(each_invalid_value_names_the_variable) {
  static const struct bad_case cases[] = {
      {"PORTAL_PORT", "abc", "PORTAL_PORT: expected a port number 1-65535, got 'abc'"},
      {"PORTAL_PORT", "0", "PORTAL_PORT: expected a port number 1-65535, got '0'"},
      {"PORTAL_PORT", "65536", "PORTAL_PORT: expected a port number 1-65535, got '65536'"},
      {"PORTAL_PORT", "-1", "PORTAL_PORT: expected a port number 1-65535, got '-1'"},
      {"PORTAL_PORT", "80 ", "PORTAL_PORT: expected a port number 1-65535, got '80 '"},
      {"ADMIN_PORT", "99999999999999999999",
       "ADMIN_PORT: expected a port number 1-65535, got '99999999999999999999'"},
      {"ADMIN_PORT", "3100",
       "ADMIN_PORT: expected a port different from PORTAL_PORT (3100) when both listen on the "
       "same address, got '3100'"},
      {"PORTAL_HOST", "example.com",
       "PORTAL_HOST: expected an IPv4 or IPv6 address or localhost, got 'example.com'"},
      {"ADMIN_HOST", "127.0.0.256",
       "ADMIN_HOST: expected an IPv4 or IPv6 address or localhost, got '127.0.0.256'"},
      {"LOG_LEVEL", "loud", "LOG_LEVEL: expected one of debug, info, warn, error, got 'loud'"},
      {"PUBLIC_URL", "loja.example.com",
       "PUBLIC_URL: expected an http:// or https:// URL with a host, got 'loja.example.com'"},
      {"PUBLIC_URL", "https://", "PUBLIC_URL: expected an http:// or https:// URL with a host, "
                                 "got 'https://'"},
      {"LOCALE", "fr", "LOCALE: expected pt-BR or en, got 'fr'"},
      {"DISCORD_API_BASE", "ftp://discord.com",
       "DISCORD_API_BASE: expected an http:// or https:// URL with a host, got "
       "'ftp://discord.com'"},
      {"DISCORD_OAUTH_AUTHORIZE_URL", "https:///oauth2",
       "DISCORD_OAUTH_AUTHORIZE_URL: expected an http:// or https:// URL with a host, got "
       "'https:///oauth2'"},
      {"MERCADOPAGO_API_BASE", "http://host:0",
       "MERCADOPAGO_API_BASE: expected an http:// or https:// URL with a host, got "
       "'http://host:0'"},
      {"DISCORD_OAUTH_REDIRECT_URI", "/callback",
       "DISCORD_OAUTH_REDIRECT_URI: expected an http:// or https:// URL with a host, got "
       "'/callback'"},
      {"DATA_ENCRYPTION_KEY", "abcd",
       "DATA_ENCRYPTION_KEY: expected 64 hex digits (32 bytes), got 4 characters"},
      {"DATA_ENCRYPTION_KEY", "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "DATA_ENCRYPTION_KEY: expected 64 hex digits (32 bytes), got a non-hex character"},
      {"ADMIN_PANEL_TOKEN", "short-tok",
       "ADMIN_PANEL_TOKEN: expected at least 16 characters, got 9"},
      {"PORTAL_SESSION_SECRET", "123456789012345",
       "PORTAL_SESSION_SECRET: expected at least 16 characters, got 15"},
      {"TLS_CA_FILE", "/nonexistent/ca.pem",
       "TLS_CA_FILE: expected a readable file, got '/nonexistent/ca.pem' (No such file or "
       "directory)"},
      {"TLS_CA_FILE", "/", "TLS_CA_FILE: expected a readable file, got '/' (not a regular file)"},
      {"SHUTDOWN_GRACE_MS", "600001",
       "SHUTDOWN_GRACE_MS: expected a number of milliseconds 0-600000, got '600001'"},
      {"SHUTDOWN_GRACE_MS", "10s",
       "SHUTDOWN_GRACE_MS: expected a number of milliseconds 0-600000, got '10s'"},
      {"PLATFORM_FEE_PERCENT", "100.01",
       "PLATFORM_FEE_PERCENT: expected a percentage 0-100 with at most 2 decimals, got "
       "'100.01'"},
      {"PLATFORM_FEE_PERCENT", "4.999",
       "PLATFORM_FEE_PERCENT: expected a percentage 0-100 with at most 2 decimals, got '4.999'"},
      {"PLATFORM_FEE_PERCENT", "4,99",
       "PLATFORM_FEE_PERCENT: expected a percentage 0-100 with at most 2 decimals, got '4,99'"},
      {"PLATFORM_FEE_PERCENT", "5.",
       "PLATFORM_FEE_PERCENT: expected a percentage 0-100 with at most 2 decimals, got '5.'"},
      {"PLATFORM_FEE_PERCENT", ".5",
       "PLATFORM_FEE_PERCENT: expected a percentage 0-100 with at most 2 decimals, got '.5'"},
      {"TRUST_PROXY", "talvez",
       "TRUST_PROXY: expected 1 or 0 (true/false, yes/no, on/off), got 'talvez'"},
      {"PLATFORM_FEE_FIXED_CENTS", "-1",
       "PLATFORM_FEE_FIXED_CENTS: expected an amount in cents 0-100000000, got '-1'"},
      {"PLATFORM_FEE_FIXED_CENTS", "1.50",
       "PLATFORM_FEE_FIXED_CENTS: expected an amount in cents 0-100000000, got '1.50'"},
      {"PAYMENT_RECONCILE_SECONDS", "0",
       "PAYMENT_RECONCILE_SECONDS: expected a number of seconds 1-3600, got '0'"},
      {"PAYMENT_RECONCILE_SECONDS", "3601",
       "PAYMENT_RECONCILE_SECONDS: expected a number of seconds 1-3600, got '3601'"},
      {"PAYMENT_RECONCILE_SECONDS", "1m",
       "PAYMENT_RECONCILE_SECONDS: expected a number of seconds 1-3600, got '1m'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK(fresh());
    setenv(cases[i].var, cases[i].value, 1);
    struct config c;
    char err[512] = "";
    int rc = config_load(&c, NULL, err, sizeof err);
    if (rc != -1 || strcmp(err, cases[i].message) != 0) {
      harness_fail(__FILE__, __LINE__, "%s='%s': rc %d, err \"%s\", expected \"%s\"",
                   cases[i].var, cases[i].value, rc, err, cases[i].message);
      if (rc == 0)
        config_free(&c);
      return;
    }
    CHECK(strchr(err, '\n') == NULL);
  }
  /* the same errors come from .env too */
  CHECK(fresh());
  CHECK_INT(write_file(".env", "LOCALE=de\n"), 0);
  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), -1);
  CHECK_STR(err, "LOCALE: expected pt-BR or en, got 'de'");
}

TEST(valid_edge_values_accepted) {
  CHECK(fresh());
  setenv("PORTAL_PORT", "65535", 1);
  setenv("ADMIN_PORT", "1", 1);
  setenv("PORTAL_HOST", "::", 1);
  setenv("ADMIN_HOST", "localhost", 1);
  setenv("SHUTDOWN_GRACE_MS", "0", 1);
  setenv("PLATFORM_FEE_PERCENT", "4.5", 1);
  setenv("PLATFORM_FEE_FIXED_CENTS", "99", 1);
  setenv("TRUST_PROXY", "Yes", 1);
  setenv("PAYMENT_RECONCILE_SECONDS", "3600", 1);
  setenv("LOCALE", "pt-br", 1);
  setenv("LOG_LEVEL", "error", 1);
  setenv("PUBLIC_URL", "http://[::1]:3100/loja", 1);
  setenv("DATA_ENCRYPTION_KEY", "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
         1);
  setenv("ADMIN_PANEL_TOKEN", "0123456789abcdef", 1);
  CHECK_INT(write_file("ca.pem", "-----BEGIN CERTIFICATE-----\n"), 0);
  setenv("TLS_CA_FILE", "ca.pem", 1);
  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(c.portal_port, 65535);
  CHECK_INT(c.admin_port, 1);
  CHECK_INT(c.shutdown_grace_ms, 0);
  CHECK_INT(c.platform_fee_bp, 450);
  CHECK_INT(c.platform_fee_fixed_cents, 99);
  CHECK_INT(c.trust_proxy, 1);
  CHECK_INT(c.payment_reconcile_seconds, 3600);
  CHECK_STR(c.locale, "pt-BR");
  CHECK_INT(c.log_level, LOG_ERROR);
  CHECK_STR(c.public_url, "http://[::1]:3100/loja");
  CHECK_STR(c.tls_ca_file, "ca.pem");
  CHECK(c.data_key[0] == 0x00 && c.data_key[10] == 0xaa && c.data_key[31] == 0xff);
  config_free(&c);
  /* same port on different, specific addresses is fine */
  CHECK(fresh());
  setenv("PORTAL_HOST", "192.0.2.1", 1);
  setenv("PORTAL_PORT", "3000", 1);
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  config_free(&c);
  /* but not when one of them is the wildcard, which takes the port on every address */
  setenv("PORTAL_HOST", "0.0.0.0", 1);
  CHECK_INT(config_load(&c, NULL, err, sizeof err), -1);
  const char *want = "ADMIN_PORT: expected a port different from PORTAL_PORT";
  CHECK(strncmp(err, want, strlen(want)) == 0);
}

static int mode_of(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return -1;
  return (int)(st.st_mode & 07777);
}

static int is_hex64(const char *s) {
  unsigned char b[32];
  return s && strlen(s) == 64 && crypto_unhex(s, b, sizeof b) == 0;
}

TEST(secrets_generated_once_then_reused) {
  const char *dir = fresh();
  CHECK(dir);
  char data[700], secrets[760];
  snprintf(data, sizeof data, "%s/deep/data", dir); /* parents are created too */
  snprintf(secrets, sizeof secrets, "%s/.secrets", data);
  setenv("DATA_DIR", data, 1);
  log_set_stderr(0);

  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), 0);
  CHECK_INT(c.admin_token_generated, 1);
  CHECK(is_hex64(c.admin_panel_token));
  CHECK(is_hex64(c.portal_session_secret));
  CHECK(is_hex64(c.data_encryption_key));
  CHECK(strcmp(c.admin_panel_token, c.portal_session_secret) != 0);
  unsigned char key[32];
  CHECK_INT(crypto_unhex(c.data_encryption_key, key, sizeof key), 0);
  CHECK(memcmp(key, c.data_key, 32) == 0);
  CHECK_INT(mode_of(secrets), 0600);
  CHECK_INT(mode_of(data), 0700);
  /* generated secrets are registered with the log */
  char red[200];
  log_redact(c.admin_panel_token, red, sizeof red);
  CHECK_STR(red, "***");

  char admin[65], session[65], dkey[65];
  snprintf(admin, sizeof admin, "%s", c.admin_panel_token);
  snprintf(session, sizeof session, "%s", c.portal_session_secret);
  snprintf(dkey, sizeof dkey, "%s", c.data_encryption_key);
  config_free(&c);
  struct stat before;
  CHECK_INT(stat(secrets, &before), 0);

  /* second start: same values, nothing generated, file untouched */
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), 0);
  CHECK_INT(c.admin_token_generated, 0);
  CHECK_STR(c.admin_panel_token, admin);
  CHECK_STR(c.portal_session_secret, session);
  CHECK_STR(c.data_encryption_key, dkey);
  config_free(&c);
  struct stat after;
  CHECK_INT(stat(secrets, &after), 0);
  CHECK(before.st_ino == after.st_ino && before.st_mtime == after.st_mtime);

  /* a .secrets that came back world-readable (a copied backup) is fixed, not refused */
  CHECK_INT(chmod(secrets, 0644), 0);
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), 0);
  CHECK_STR(c.admin_panel_token, admin);
  config_free(&c);
  CHECK_INT(mode_of(secrets), 0600);
}

TEST(env_secret_wins_over_secrets_file) {
  const char *dir = fresh();
  CHECK(dir);
  char secrets[700];
  snprintf(secrets, sizeof secrets, "%s/.secrets", dir);
  setenv("DATA_DIR", dir, 1);
  log_set_stderr(0);
  const char *stored_key = "1111111111111111111111111111111111111111111111111111111111111111";
  char text[400];
  snprintf(text, sizeof text,
           "ADMIN_PANEL_TOKEN=stored-admin-token-0001\nDATA_ENCRYPTION_KEY=%s\n"
           "SOMETHING_ELSE=\"kept as is\"\n",
           stored_key);
  CHECK_INT(write_file(secrets, text), 0);
  CHECK_INT(chmod(secrets, 0600), 0);
  setenv("ADMIN_PANEL_TOKEN", "env-admin-token-000002", 1);

  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), 0);
  CHECK_STR(c.admin_panel_token, "env-admin-token-000002");
  CHECK_INT(c.admin_token_generated, 0);
  CHECK_STR(c.data_encryption_key, stored_key);
  CHECK(c.data_key[0] == 0x11 && c.data_key[31] == 0x11);
  CHECK(is_hex64(c.portal_session_secret)); /* the one missing: generated */
  char session[65];
  snprintf(session, sizeof session, "%s", c.portal_session_secret);
  config_free(&c);

  /* the file was rewritten with the generated secret, keeping what it held, and the
   * environment's admin token was not copied into it */
  char *file = slurp(secrets);
  CHECK(file != NULL);
  int ok = strstr(file, "ADMIN_PANEL_TOKEN=stored-admin-token-0001\n") &&
           strstr(file, stored_key) && strstr(file, "SOMETHING_ELSE=\"kept as is\"\n") &&
           strstr(file, session) && !strstr(file, "env-admin-token");
  free(file);
  CHECK(ok);
  CHECK_INT(mode_of(secrets), 0600);

  /* without the environment, the stored token is used */
  unsetenv("ADMIN_PANEL_TOKEN");
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), 0);
  CHECK_STR(c.admin_panel_token, "stored-admin-token-0001");
  CHECK_STR(c.portal_session_secret, session);
  config_free(&c);
}

TEST(bad_secrets_file_is_an_error) {
  const char *dir = fresh();
  CHECK(dir);
  char secrets[700];
  snprintf(secrets, sizeof secrets, "%s/.secrets", dir);
  setenv("DATA_DIR", dir, 1);
  CHECK_INT(write_file(secrets, "DATA_ENCRYPTION_KEY=tooshort\n"), 0);
  struct config c;
  char err[1024], want[1024];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), -1);
  snprintf(want, sizeof want,
           "%s: DATA_ENCRYPTION_KEY: expected 64 hex digits (32 bytes), got 8 characters",
           secrets);
  CHECK_STR(err, want);
  config_free(&c);
  /* and the file was left alone: never overwrite a key that might still decrypt data */
  char *file = slurp(secrets);
  int same = file && !strcmp(file, "DATA_ENCRYPTION_KEY=tooshort\n");
  free(file);
  CHECK(same);
}

TEST(print_masks_every_secret) {
  const char *dir = fresh();
  CHECK(dir);
  static const char *const secret_vars[][2] = {
      {"DISCORD_TOKEN", "MTIzNDU2.discord-token.WXYZ"},
      {"PORTAL_SESSION_SECRET", "session-secret-value-QRST"},
      {"DISCORD_OAUTH_CLIENT_SECRET", "oauth-client-secret-IJKL"},
      {"MERCADOPAGO_ACCESS_TOKEN", "APP_USR-mp-access-ABCD"},
      {"MERCADOPAGO_WEBHOOK_SECRET", "mp-webhook-secret-UVWX"},
      {"ADMIN_PANEL_TOKEN", "admin-panel-token-STUV"},
      {"DATA_ENCRYPTION_KEY", "abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567c9"},
  };
  for (size_t i = 0; i < sizeof secret_vars / sizeof secret_vars[0]; i++)
    setenv(secret_vars[i][0], secret_vars[i][1], 1);
  /* public identifiers are shown as they are: an operator needs to check them */
  setenv("DISCORD_OAUTH_CLIENT_ID", "112233445566778899", 1);
  setenv("DISCORD_OAUTH_REDIRECT_URI", "https://shop.example.com/api/auth/discord/callback", 1);
  setenv("DATA_DIR", dir, 1);
  log_set_stderr(0);
  struct config c;
  char err[256];
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  CHECK_INT(config_secrets(&c, err, sizeof err), 0);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  CHECK(out != NULL);
  config_print(&c, out);
  fclose(out);
  config_free(&c);

  for (size_t i = 0; i < sizeof secret_vars / sizeof secret_vars[0]; i++) {
    const char *v = secret_vars[i][1];
    char line[128], tail[5];
    snprintf(line, sizeof line, "%s=(set, %zu chars)\n", secret_vars[i][0], strlen(v));
    /* not even the last four characters */
    snprintf(tail, sizeof tail, "%s", v + strlen(v) - 4);
    if (strstr(text, v) || strstr(text, tail) || !strstr(text, line)) {
      harness_fail(__FILE__, __LINE__, "%s shown or not masked:\n%s", secret_vars[i][0], text);
      free(text);
      return;
    }
  }
  int lines = 0;
  for (const char *p = text; *p; p++)
    lines += *p == '\n';
  int ok = lines == 28 && strstr(text, "TRUST_PROXY=0\n") && strstr(text, "PORTAL_PORT=3100\n") &&
           strstr(text, "PLATFORM_FEE_PERCENT=5.00\n") &&
           strstr(text, "PLATFORM_FEE_FIXED_CENTS=0\n") &&
           strstr(text, "PAYMENT_RECONCILE_SECONDS=60\n") &&
           strstr(text, "LOG_LEVEL=info\n") && strstr(text, "TLS_CA_FILE=(unset)\n") &&
           strstr(text, "PUBLIC_URL=http://localhost:3100\n") &&
           strstr(text, "SHUTDOWN_GRACE_MS=10000\n") && !strncmp(text, "DISCORD_TOKEN=", 14) &&
           strstr(text, "DISCORD_OAUTH_CLIENT_ID=112233445566778899\n") &&
           strstr(text, "DISCORD_OAUTH_REDIRECT_URI=https://shop.example.com/api/auth/discord/callback\n");
  if (!ok)
    harness_fail(__FILE__, __LINE__, "unexpected print:\n%s", text);
  free(text);

  /* unset secrets say so */
  CHECK(fresh());
  CHECK_INT(config_load(&c, NULL, err, sizeof err), 0);
  out = open_memstream(&text, &len);
  config_print(&c, out);
  fclose(out);
  config_free(&c);
  ok = strstr(text, "DISCORD_TOKEN=(unset)\n") && strstr(text, "ADMIN_PANEL_TOKEN=(unset)\n");
  free(text);
  CHECK(ok);
}
