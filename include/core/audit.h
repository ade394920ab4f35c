/* The append-only audit trail (DESIGN: "append-only audit trail, JSON lines"): one JSON
 * object per line in <DATA_DIR>/audit.jsonl, for acts a seller or operator may have to answer
 * for (revealing a key, adding or removing stock). Each line is fsynced; the caller's
 * callback runs on the loop once its line is durable, so that, say, a key is shown only after
 * its reveal is on record.
 *
 * All calls are on the loop thread, which never blocks: the file is opened (O_APPEND, 0600)
 * lazily and written with libuv's async fs calls. Writes are serialized, and lines queued
 * meanwhile go out together in the next write + fsync, so lines never interleave. Never put
 * a secret (a key, a token) into an event. */
#ifndef ASTRA_CORE_AUDIT_H
#define ASTRA_CORE_AUDIT_H

#include <jansson.h>

/* A new event {"at": <ms since the epoch>, "actor": {"type", "id"}, "action", "ip",
 * "requestId"} for the caller to add to (instanceId, stockId, count...). ip and request_id
 * may be NULL. */
json_t *audit_event(const char *action, const char *actor_type, const char *actor_id,
                    const char *ip, const char *request_id);

/* Status 0: the line is durable; -1: it could not be written (nothing may be assumed). */
typedef void (*audit_cb)(int status, void *arg);

/* Appends event (stolen) as one line. 0: queued, cb (may be NULL) runs later on the loop;
 * -1: refused at once (out of memory, or the trail is closed): cb is not called. */
int audit_append(json_t *event, audit_cb cb, void *arg);

/* At shutdown, once nothing else will append: closes the file after the lines in flight
 * (asynchronously; the loop runs until it is closed). Later appends are refused. */
void audit_close(void);

#endif
