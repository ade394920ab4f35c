/* GET /api/auth/discord?mode=login|link: starts Discord OAuth2 (authorization code flow with
 * state and PKCE S256). A browser navigation: 302 to DISCORD_OAUTH_AUTHORIZE_URL with
 * client_id, redirect_uri, response_type=code, scope "identify email", state and
 * code_challenge; the flow (state, verifier, mode, who is linking) goes into a signed
 * 10-minute cookie that only the callback reads. mode=link needs a session. Errors are
 * redirects to "/?erro=<code>", for the page to show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/config.h"
#include "portal/auth.h"

enum http_result portal_get_auth_discord(struct http_request *req, struct http_reply *rep) {
  const struct config *c = astra.cfg;
  const char *mode = http_query(req, "mode");
  if (!mode || !*mode)
    mode = "login";
  if (strcmp(mode, "login") != 0 && strcmp(mode, "link") != 0) {
    portal_redirect_error(rep, ERR_BAD_QUERY);
    return HTTP_DONE;
  }
  if (!c->discord_oauth_client_id || !*c->discord_oauth_client_id ||
      !c->discord_oauth_client_secret || !*c->discord_oauth_client_secret ||
      !c->discord_oauth_authorize_url) {
    portal_redirect_error(rep, ERR_DISCORD_NOT_CONFIGURED);
    return HTTP_DONE;
  }
  char user_id[40] = "";
  if (!strcmp(mode, "link") && portal_session_user(req, user_id) != 0) {
    portal_redirect_error(rep, ERR_UNAUTHORIZED);
    return HTTP_DONE;
  }
  struct portal_oauth_flow f;
  if (portal_oauth_flow_new(&f, mode, user_id) != 0) {
    portal_redirect_error(rep, ERR_INTERNAL);
    return HTTP_DONE;
  }
  char challenge[44], rbuf[512];
  portal_oauth_challenge(&f, challenge);
  char *client = portal_urlencode(c->discord_oauth_client_id);
  char *redirect = portal_urlencode(portal_oauth_redirect_uri(rbuf, sizeof rbuf));
  const char *base = c->discord_oauth_authorize_url;
  size_t len = strlen(base) + (client ? strlen(client) : 0) + (redirect ? strlen(redirect) : 0) +
               sizeof f.state + sizeof challenge + 200;
  char *url = malloc(len);
  if (!client || !redirect || !url) {
    free(client);
    free(redirect);
    free(url);
    portal_redirect_error(rep, ERR_INTERNAL);
    return HTTP_DONE;
  }
  snprintf(url, len,
           "%s%cresponse_type=code&client_id=%s&scope=identify%%20email&state=%s"
           "&redirect_uri=%s&code_challenge=%s&code_challenge_method=S256",
           base, strchr(base, '?') ? '&' : '?', client, f.state, redirect, challenge);
  portal_oauth_cookie(rep, &f);
  portal_redirect(rep, url);
  free(client);
  free(redirect);
  free(url);
  return HTTP_DONE;
}

