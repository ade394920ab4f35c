/* Configuration from the environment and an optional .env file, with the Node system's
 * variable names. The real environment wins over .env. A bad value stops the start with one
 * line naming the variable and what it expects. */
#ifndef ASTRA_CORE_CONFIG_H
#define ASTRA_CORE_CONFIG_H

#include <stdio.h>

#include "core/log.h"

struct config {
  /* secrets (masked by config_print, registered with log_add_secret) */
  char *discord_token;
  char *portal_session_secret;
  char *discord_oauth_client_id;
  char *discord_oauth_client_secret;
  char *discord_oauth_redirect_uri;
  char *mercadopago_access_token;
  char *mercadopago_webhook_secret;
  char *admin_panel_token;
  char *data_encryption_key; /* 64 hex digits = 32 bytes */
  unsigned char data_key[32]; /* decoded data_encryption_key */

  /* listeners */
  int portal_port;   /* PORTAL_PORT, 3100 */
  int admin_port;    /* ADMIN_PORT, 3000 */
  char *portal_host; /* PORTAL_HOST, 0.0.0.0 */
  int trust_proxy;   /* TRUST_PROXY, 0: the portal's client is the last X-Forwarded-For hop */
  char *admin_host;  /* ADMIN_HOST, 127.0.0.1 */

  /* places */
  char *data_dir; /* DATA_DIR, ./data */
  char *log_dir;  /* LOG_DIR, ./logs */
  char *web_dir;  /* WEB_DIR, ./web */
  enum log_level log_level; /* LOG_LEVEL, info */
  char *public_url;         /* PUBLIC_URL, http://localhost:<PORTAL_PORT> */
  char *locale;             /* LOCALE, pt-BR | en */

  /* outside services */
  char *discord_api_base;            /* https://discord.com/api/v10 */
  char *discord_oauth_authorize_url; /* https://discord.com/oauth2/authorize */
  char *mercadopago_api_base;        /* https://api.mercadopago.com */
  char *tls_ca_file;                 /* extra CA bundle, or NULL */

  /* tuning */
  int shutdown_grace_ms; /* SHUTDOWN_GRACE_MS, 10000: in-flight requests' deadline on stop */

  /* selling */
  int platform_fee_bp;          /* PLATFORM_FEE_PERCENT, 5: in basis points (4.99% = 499) */
  int platform_fee_fixed_cents; /* PLATFORM_FEE_FIXED_CENTS, 0: per paid order */
  int payment_reconcile_seconds; /* PAYMENT_RECONCILE_SECONDS, 60: pending payments re-read */

  /* which secrets were generated on this start (so main can print the admin token once) */
  int admin_token_generated;
};

/* Fills c from the environment and env_file (NULL: "./.env" when it exists). On error
 * returns -1 with one line in err ("PORTAL_PORT: expected a port number 1-65535, got 'x'"). */
int config_load(struct config *c, const char *env_file, char *err, size_t errlen);
/* Loads <data_dir>/.secrets (mode 0600), generating ADMIN_PANEL_TOKEN, PORTAL_SESSION_SECRET
 * and DATA_ENCRYPTION_KEY when unset in the environment and absent from the file; creates
 * data_dir. Registers every secret with log_add_secret(). 0 or -1 with err. */
int config_secrets(struct config *c, char *err, size_t errlen);
/* The effective configuration, one "NAME=value" per line, secrets masked. */
void config_print(const struct config *c, FILE *out);
void config_free(struct config *c);

#endif
