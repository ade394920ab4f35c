/* custom_id codec: every button, select and modal carries all the state its handler needs in
 * its custom_id ("astra:<action>:<arg>:<arg>..."), never in memory, so that a component keeps
 * working after the daemon restarts. Discord allows 1-100 characters. Actions and arguments
 * are [A-Za-z0-9_-] (ids are UUIDs or snowflakes), so no escaping is needed and a forged
 * custom_id cannot smuggle a separator. */
#ifndef ASTRA_DISCORD_CUSTOMID_H
#define ASTRA_DISCORD_CUSTOMID_H

#include <stddef.h>

#define CID_MAX 100
#define CID_MAX_ARGS 4

struct cid {
  char action[24];
  unsigned nargs;
  char args[CID_MAX_ARGS][40];
};

/* Builds "astra:<action>[:<arg>...]" into out (>= CID_MAX + 1 bytes). -1 when an action or an
 * argument is empty, too long or has a character outside [A-Za-z0-9_-], or the whole is
 * over 100 characters. args may be NULL when nargs is 0. */
int cid_encode(char *out, size_t outlen, const char *action, const char *const *args,
               unsigned nargs);
/* Parses a custom_id from an interaction (hostile input). -1 unless it is ours and well
 * formed. */
int cid_parse(const char *s, struct cid *out);

#endif
