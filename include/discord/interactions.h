/* Interactions: INTERACTION_CREATE dispatched by type and by custom_id action (or command
 * name) to a handler from a route table, and answered within Discord's 3 s. A handler that
 * answers at once calls ix_reply(); one that waits on I/O either calls ix_defer() first or
 * is deferred automatically at IX_DEFER_AFTER_MS; its later ix_reply() then edits the
 * original response. 10062 (unknown interaction: too late) and 40060 (already acknowledged)
 * are handled here so handlers never see them. */
#ifndef ASTRA_DISCORD_INTERACTIONS_H
#define ASTRA_DISCORD_INTERACTIONS_H

#include <jansson.h>

#include "discord/customid.h"

enum ix_type { IX_PING = 1, IX_COMMAND = 2, IX_COMPONENT = 3, IX_AUTOCOMPLETE = 4, IX_MODAL = 5 };

/* When to defer on the handler's behalf: Discord invalidates the token at 3 s. */
#define IX_DEFER_AFTER_MS 2000

struct ix;
struct rest_client;
typedef void (*ix_handler)(struct ix *ix);

struct ix_route {
  enum ix_type type;  /* IX_COMMAND, IX_COMPONENT or IX_MODAL */
  const char *name;   /* command name, or custom_id action */
  ix_handler handler;
  int ephemeral;      /* replies (and deferrals) only the clicking user sees */
};

/* Takes an INTERACTION_CREATE payload (borrowed; copied), finds the route and runs it.
 * Unknown routes get an ephemeral "not available" reply; malformed payloads are dropped.
 * ctx is the caller's (the runtime's instance), returned by ix_ctx(). Returns 1 when an
 * interaction was created (release(ctx) runs once it is freed), 0 otherwise. */
int ix_dispatch(const struct ix_route *routes, size_t nroutes, struct rest_client *rest,
                const json_t *interaction, void *ctx, void (*release)(void *ctx));

/* What the handler reads. Strings are borrowed from the interaction. */
void *ix_ctx(const struct ix *ix);
enum ix_type ix_kind(const struct ix *ix);
const struct cid *ix_cid(const struct ix *ix); /* components and modals */
const char *ix_user_id(const struct ix *ix);   /* member.user.id or user.id */
const char *ix_user_name(const struct ix *ix);
const char *ix_guild_id(const struct ix *ix);  /* NULL in DMs */
const char *ix_channel_id(const struct ix *ix);
const char *ix_app_id(const struct ix *ix);
const char *ix_locale(const struct ix *ix);    /* "pt-BR" or "en" (Discord's "en-US"...) */
/* 1 when the member has all these permission bits (ADMINISTRATOR implies every bit). */
int ix_member_has(const struct ix *ix, unsigned long long bits);
/* A slash command's string option, or NULL. */
const char *ix_option(const struct ix *ix, const char *name);
/* A select's values (array), or NULL. */
const json_t *ix_values(const struct ix *ix);
/* A modal's text input value by its custom_id, or NULL. */
const char *ix_field(const struct ix *ix, const char *custom_id);
const json_t *ix_raw(const struct ix *ix);

/* Answers. Each takes msg (stolen): a message object {content, embeds, components, flags}.
 * ix_reply: a new message (type 4) or, once deferred, the edit of the original response.
 * ix_update: components only: replaces the clicked message (type 7, or edit after type 6).
 * ix_modal: opens a modal (type 9); only as the first answer.
 * ix_followup: another message after the first answer.
 * ix_defer: acknowledge now (type 5, or 6 for components) because the handler will wait.
 * ix_done: the handler has finished with ix (it stays alive while answers are in flight).
 * Each returns 0, or -1 when the answer cannot be sent (interaction expired). */
int ix_reply(struct ix *ix, json_t *msg);
int ix_update(struct ix *ix, json_t *msg);
int ix_modal(struct ix *ix, json_t *modal);
int ix_followup(struct ix *ix, json_t *msg);
int ix_defer(struct ix *ix);
void ix_done(struct ix *ix);

/* A plain ephemeral text answer, the common case. */
int ix_reply_text(struct ix *ix, const char *text);

/* Interactions in flight (answered or not, not yet done). */
unsigned ix_inflight(void);

/* How long the daemon takes from an INTERACTION_CREATE reaching ix_dispatch to its first
 * answer (callback or deferral) being handed to the REST client: the daemon's own share of
 * Discord's 3 s, for /api/status and the benchmark. Percentiles come from a histogram with
 * 50 us bins up to 50 ms (later answers count in the last bin). */
struct ix_latency {
  unsigned long long count;
  unsigned p50_us, p90_us, p99_us, max_us;
};
void ix_latency_stats(struct ix_latency *out);

#endif
