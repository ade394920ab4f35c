/* Bot tokens at rest and their validation (DESIGN §4): sealed with AES-256-GCM under the
 * data key, with a SHA-256 to refuse a token already used by another instance. A token is
 * never logged and never returned by any API. */
#ifndef ASTRA_RUNTIME_TOKEN_H
#define ASTRA_RUNTIME_TOKEN_H

#include <stddef.h>

/* Seals a token for the instance record (malloc'd) or NULL. */
char *token_seal(const char *token);
/* Opens a sealed token (malloc'd; wipe and free it) or NULL when it does not verify. */
char *token_open(const char *sealed);
/* Lower-case hex SHA-256 of the token into out (65 bytes): the unique index key. */
void token_hash(const char *token, char out[65]);
/* 1 when the string looks like a bot token at all (three dot-separated base64url parts,
 * 50-100 characters): a cheap check before asking Discord. */
int token_plausible(const char *token);

struct token_info {
  char bot_id[32];
  char bot_name[100];
  char bot_avatar[80];  /* avatar hash, or empty */
  char application_id[32];
};
/* Asks Discord (GET /users/@me, then GET /oauth2/applications/@me) whether the token is a
 * working bot token. done(status, info, arg): status 0 valid, 1 refused by Discord (401),
 * -1 Discord unreachable or answered something unexpected (say so; try again later). */
void token_validate(const char *token,
                    void (*done)(int status, const struct token_info *info, void *arg),
                    void *arg);

/* The invite URL for a bot: scopes bot + applications.commands and the permissions the
 * shop needs (view channels, send messages, embed links, attach files, read history,
 * manage channels and roles for carts, create private threads, send in threads, manage
 * threads). */
void token_invite_url(const char *application_id, char *out, size_t outlen);
#define TOKEN_INVITE_PERMISSIONS "361045806096"

#endif
