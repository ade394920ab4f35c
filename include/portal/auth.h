/* Portal accounts and sessions (DESIGN §7).
 *
 * A session is a record in the store (collection sessions: id, userId, csrf, createdAt,
 * expiresAt, revokedAt) named by a signed cookie: astra_session=<session id>.<HMAC-SHA256 of
 * the id under PORTAL_SESSION_SECRET, base64url>; HttpOnly, SameSite=Lax, Path=/, Secure when
 * PUBLIC_URL is https, expiring after PORTAL_SESSION_DAYS (30). Revocable: logout and a
 * password change revoke sessions in the store. State-changing requests (POST, PUT, PATCH,
 * DELETE) need the session's CSRF token in the X-CSRF-Token header (403 otherwise); GET
 * /api/me hands it to the web app. Every /api/ route of the portal needs a session (401)
 * except those marked ROUTE_PUBLIC (health, signup, login, OAuth, webhooks).
 *
 * Public routes that take a JSON body (signup, login) need no CSRF token: the listener only
 * accepts them as application/json, which a cross-site form cannot send without a CORS
 * preflight that the portal never grants. */
#ifndef ASTRA_PORTAL_AUTH_H
#define ASTRA_PORTAL_AUTH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

struct store_txn;

/* What an authenticated portal request carries in req->auth. */
struct portal_user {
  char id[40];          /* the user's id */
  char session_id[40];
  const json_t *user;   /* the user record (borrowed from the store; valid in this call) */
};

/* The portal listener's authorize step (http_server_config.authorize): cookie -> session ->
 * user, CSRF for state-changing methods. 0, or -1 with rep filled (401 or 403). req->auth
 * stays valid for the whole request, also after the handler suspended. */
int portal_authorize(struct http_request *req, struct http_reply *rep);

/* The signed-in seller of a request that passed portal_authorize. */
static inline const struct portal_user *portal_user_of(const struct http_request *req) {
  return (const struct portal_user *)req->auth;
}

/* Called once at start, after store_open and before the listeners: defines the indexes the
 * accounts need (users by "email" and by "discordId", unique; sessions by "userId") and the
 * in-memory state. 0, or -1 with err (e.g. two users already share an email). */
int portal_auth_init(char *err, size_t errlen);

/* ---- the account endpoints (one file each in src/portal/) ---- */

enum http_result portal_post_auth_signup(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_auth_login(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_auth_logout(struct http_request *req, struct http_reply *rep);
enum http_result portal_post_auth_password(struct http_request *req, struct http_reply *rep);
enum http_result portal_get_me(struct http_request *req, struct http_reply *rep);
enum http_result portal_get_auth_discord(struct http_request *req, struct http_reply *rep);
enum http_result portal_get_auth_discord_callback(struct http_request *req,
                                                 struct http_reply *rep);

/* ---- shared by the account endpoints ---- */

#define PORTAL_SESSION_COOKIE "astra_session"
#define PORTAL_OAUTH_COOKIE "astra_oauth"
#define PORTAL_SESSION_DAYS 30
#define PORTAL_PASSWORD_MIN 8
#define PORTAL_PASSWORD_MAX 128
#define PORTAL_EMAIL_MAX 254

/* Wall-clock milliseconds since the epoch (the timestamps records carry). */
int64_t portal_now_ms(void);

/* Lower-cases and checks an email address (one '@', a local part, a dotted domain, no
 * spaces or control characters, at most PORTAL_EMAIL_MAX bytes). 0, or -1 when it does not
 * look like one. */
int portal_email_normalize(const char *in, char *out, size_t outlen);

/* A user as the user sees it: {id, email, name, discord?:{id, username}, createdAt, locale,
 * hasPassword}. Never the password hash. */
json_t *portal_user_json(const char *id, const json_t *rec);
/* The user record of id, NULL when missing or deleted. */
const json_t *portal_user_get(const char *id);

/* A handler's work that outlives its call (password hashing, a commit, a call to Discord).
 * The request may go away meanwhile (client gone, shutdown): then req becomes NULL and, if
 * set, on_abort runs (to cancel outstanding work; it may free the state holding this). */
struct portal_pending {
  struct http_request *req;
  void (*on_abort)(struct portal_pending *p);
};
void portal_pending_start(struct portal_pending *p, struct http_request *req);
/* The reply to fill, or NULL when the request went away. */
struct http_reply *portal_pending_reply(struct portal_pending *p);
/* Sends the reply (http_resume) when the request is still there. */
void portal_pending_finish(struct portal_pending *p);

/* Password work on the libuv thread pool, never on the loop: scrypt takes ~100 ms. At most
 * two run at once (the pool's other threads stay free for the store's journal writes); the
 * rest wait in a bounded queue.
 *  - password set: verify it against stored; stored NULL (an unknown account) checks a
 *    dummy hash instead, so that an unknown email costs the same time as a wrong password;
 *  - new_password set (and the verification, if any, passed): hash it.
 * cb(status, hash, arg) on the loop: status 1 = verified (and hash made when asked; hash is
 * the caller's to free), 0 = wrong password, -1 = internal failure. Returns -1 (cb not
 * called) when the queue is full: answer 503. The strings are copied. */
typedef void (*portal_password_cb)(int status, char *hash, void *arg);
int portal_password_work(const char *stored, const char *password, const char *new_password,
                         portal_password_cb cb, void *arg);

/* Rate limits: in-memory sliding windows keyed by a keyed hash of the IP, email or user id
 * (so that crafted keys cannot collide in the table, and no address is kept in clear),
 * swept periodically so that the table cannot grow without bound. */
enum portal_limit {
  PORTAL_LIMIT_LOGIN_IP,      /* 10 login attempts per minute per IP (Discord logins too) */
  PORTAL_LIMIT_LOGIN_ACCOUNT, /* 5 failed logins per 15 minutes per account (email) */
  PORTAL_LIMIT_SIGNUP_IP,     /* 5 signups per hour per IP */
  PORTAL_LIMIT_PASSWORD,      /* 5 wrong current passwords per 15 minutes per user */
  PORTAL_LIMIT_COUNT
};
/* 0 when one more event fits in the window, else the seconds until one will. */
unsigned portal_limit_check(enum portal_limit l, const char *key);
void portal_limit_hit(enum portal_limit l, const char *key);
/* check, and hit when allowed. */
unsigned portal_limit_take(enum portal_limit l, const char *key);
void portal_limit_clear(enum portal_limit l, const char *key);
/* 429 with Retry-After and the uniform error body. */
void portal_reply_limited(const struct http_request *req, struct http_reply *rep,
                          unsigned retry_after_s);

/* Sessions. */
struct portal_new_session {
  char id[40];
  char csrf[65];
};
/* Puts a new session for user_id into t (with the request's IP and User-Agent, for a later
 * "active sessions" list). 0 or -1. */
int portal_session_add(struct store_txn *t, const char *user_id, const struct http_request *req,
                       struct portal_new_session *out);
/* Marks a session revoked in t; 0, or -1 when it does not exist. */
int portal_session_revoke(struct store_txn *t, const char *session_id);
/* Revokes every live session of user_id except keep_id (may be NULL); how many. */
size_t portal_session_revoke_others(struct store_txn *t, const char *user_id,
                                    const char *keep_id);
/* Set-Cookie for a session, and the one that removes it. */
void portal_session_cookie(struct http_reply *rep, const char *session_id);
void portal_session_clear_cookie(struct http_reply *rep);
/* On a public route: the user id of the request's valid session (same checks as
 * portal_authorize, without CSRF) into user_id; 0, or -1 when there is none. */
int portal_session_user(const struct http_request *req, char user_id[40]);
/* The answer to a sign-in: Set-Cookie, and {user, csrf} with the given status. */
void portal_reply_signed_in(const struct http_request *req, struct http_reply *rep,
                            unsigned status, const char *user_id,
                            const struct portal_new_session *s);

/* Discord OAuth2: the flow between GET /api/auth/discord and its callback lives in a signed,
 * short-lived cookie (astra_oauth, Path=/api/auth/discord, 10 minutes), not in memory, so
 * that it survives a restart and works when several processes serve the portal. It binds the
 * callback to the browser that started the flow (login CSRF). */
struct portal_oauth_flow {
  char state[44];    /* random, base64url */
  char verifier[88]; /* PKCE code_verifier, base64url (43-128 characters) */
  char mode[8];      /* "login" or "link" */
  char user_id[40];  /* who is linking (mode link), else "" */
  int64_t expires_ms;
};
/* A new flow with a random state and verifier; 0 or -1. */
int portal_oauth_flow_new(struct portal_oauth_flow *f, const char *mode, const char *user_id);
/* The S256 code_challenge of f's verifier (base64url, 43 characters). */
void portal_oauth_challenge(const struct portal_oauth_flow *f, char out[44]);
void portal_oauth_cookie(struct http_reply *rep, const struct portal_oauth_flow *f);
void portal_oauth_clear_cookie(struct http_reply *rep);
/* The flow from the request's cookie: 0, or -1 when absent, forged or expired. */
int portal_oauth_flow_read(const struct http_request *req, struct portal_oauth_flow *f);
/* The redirect URI registered with Discord: DISCORD_OAUTH_REDIRECT_URI, else the callback
 * under PUBLIC_URL (the authorize request and the token exchange must send the same one). */
const char *portal_oauth_redirect_uri(char *buf, size_t len);

/* Browser redirects (the OAuth routes are navigations, not API calls): 302 to location,
 * and 302 to "/?erro=<error code>" for the page to show the registry's message. */
void portal_redirect(struct http_reply *rep, const char *location);
void portal_redirect_error(struct http_reply *rep, enum err_id id);
/* Percent-encodes everything but RFC 3986 unreserved characters; malloc'd or NULL. */
char *portal_urlencode(const char *s);

#endif
