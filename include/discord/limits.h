/* Discord's limits on what a bot sends (reference/discord.md §2.4-2.5 and §4): the checks
 * the REST client runs on every body before sending it. Each returns 0, or -1 with a short
 * English reason in why ("embeds[0].title: 257 > 256 characters"). */
#ifndef ASTRA_DISCORD_LIMITS_H
#define ASTRA_DISCORD_LIMITS_H

#include <jansson.h>
#include <stddef.h>

/* A message create/edit body (also follow-ups and @original edits). */
int limits_check_message(const json_t *msg, char *why, size_t whylen);
/* Where the interaction being answered came from: limits_check_callback's `component`. */
enum limits_origin {
  LIMITS_FROM_COMMAND = 0,   /* an application command (or anything else): no 6/7 */
  LIMITS_FROM_COMPONENT = 1, /* a button or select on a message: 6/7 allowed */
  LIMITS_FROM_MODAL = 2,     /* a modal submit: no 6/7, and no 9 (a modal cannot open one) */
  /* A modal submit from a modal that a message component opened: Discord lets it update that
   * message (6/7), but it still cannot open another modal (9). */
  LIMITS_FROM_MODAL_ON_MESSAGE = 3,
};
/* An interaction callback body {type, data}. component: an enum limits_origin value; types 6
 * and 7 only answer a component (1, 3), type 9 never answers a modal submit (2, 3); data of
 * types 4 and 7 follows the message rules, type 5 allows only the EPHEMERAL flag. */
int limits_check_callback(const json_t *cb, int component, char *why, size_t whylen);
/* A bulk overwrite of application commands (an array). */
int limits_check_commands(const json_t *cmds, char *why, size_t whylen);
/* Dispatches on method + path to the right check above; 0 for routes without rules.
 * POST/PATCH channels/{id}/messages[/{id}], POST webhooks/{id}/{token}, PATCH
 * webhooks/{id}/{token}/messages/{id}: the message rules with that endpoint's flags; POST
 * interactions/{id}/{token}/callback: the callback rules that do not depend on the origin
 * (the path cannot tell it; the interactions module calls limits_check_callback first);
 * PUT applications/{id}[/guilds/{id}]/commands: the command rules. */
int limits_check_route(const char *method, const char *path, const json_t *body, char *why,
                       size_t whylen);

#endif
