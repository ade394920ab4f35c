/* Interactions: dispatch and the 3-second answer rule (see include/discord/interactions.h).
 *
 * Life of an interaction: ix_dispatch copies the payload, parses what handlers need, starts a
 * deadline timer and runs the handler. The first answer goes to
 * POST /interactions/{id}/{token}/callback; if the handler has not answered by
 * IX_DEFER_AFTER_MS, a deferral (type 5, or 6 for components) is sent for it. Answers after a
 * deferral edit @original through the webhook routes, valid for 15 minutes. The ix is freed
 * once the handler called ix_done and no answer is in flight. */
#include "discord/interactions.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/app.h"
#include "core/log.h"
#include "discord/limits.h"
#include "discord/rest.h"

enum ix_state {
  IX_NEW,       /* nothing sent yet */
  IX_DEFERRING, /* deferral in flight */
  IX_DEFERRED,  /* acknowledged without content: answers edit @original */
  IX_ANSWERED,  /* first answer sent: more content goes to follow-ups */
  IX_EXPIRED,   /* Discord says the token is gone (10062): nothing more can be sent */
};

/* Callback types (reference/discord.md §2.3). */
enum { CB_MESSAGE = 4, CB_DEFER = 5, CB_DEFER_UPDATE = 6, CB_UPDATE = 7, CB_MODAL = 9 };
#define FLAG_EPHEMERAL 64

struct ix {
  json_t *raw;
  struct rest_client *rest;
  const struct ix_route *route;
  void *ctx;
  enum ix_type type;
  enum ix_state state;
  struct cid cid;
  int has_cid;
  const char *id, *token, *app_id, *name;
  uv_timer_t deadline;
  int timer_open;
  int handler_done;
  unsigned pending; /* REST calls in flight */
  int defer_type; /* CB_DEFER or CB_DEFER_UPDATE once deferred */
  /* An answer that arrived while the deferral was in flight waits here. */
  json_t *queued_msg;
  int queued_update;
  void (*release)(void *ctx);
  uint64_t start_ns; /* when ix_dispatch got it */
  int timed;         /* its first answer has been counted */
};

static unsigned inflight;

unsigned ix_inflight(void) { return inflight; }

/* ---- the latency histogram ---- */

#define LAT_BIN_US 50
#define LAT_BINS 1000 /* 50 ms */
static unsigned long long lat_bins[LAT_BINS + 1];
static unsigned long long lat_count;
static unsigned lat_max_us;

static void lat_record(uint64_t start_ns) {
  uint64_t us = (uv_hrtime() - start_ns) / 1000u;
  size_t bin = us / LAT_BIN_US;
  lat_bins[bin < LAT_BINS ? bin : LAT_BINS]++;
  lat_count++;
  if (us > lat_max_us)
    lat_max_us = (unsigned)(us > UINT32_MAX ? UINT32_MAX : us);
}

static unsigned lat_quantile(double q) {
  unsigned long long want = (unsigned long long)(q * (double)lat_count), seen = 0;
  for (size_t b = 0; b <= LAT_BINS; b++) {
    seen += lat_bins[b];
    if (seen > want)
      return (unsigned)((b + 1) * LAT_BIN_US); /* the bin's upper edge: never flattering */
  }
  return lat_max_us;
}

void ix_latency_stats(struct ix_latency *out) {
  out->count = lat_count;
  out->p50_us = lat_count ? lat_quantile(0.50) : 0;
  out->p90_us = lat_count ? lat_quantile(0.90) : 0;
  out->p99_us = lat_count ? lat_quantile(0.99) : 0;
  out->max_us = lat_max_us;
}

/* ---- accessors ---- */

void *ix_ctx(const struct ix *ix) { return ix->ctx; }
enum ix_type ix_kind(const struct ix *ix) { return ix->type; }
const struct cid *ix_cid(const struct ix *ix) { return ix->has_cid ? &ix->cid : NULL; }
const json_t *ix_raw(const struct ix *ix) { return ix->raw; }
const char *ix_app_id(const struct ix *ix) { return ix->app_id; }

static const json_t *user_obj(const struct ix *ix) {
  const json_t *m = json_object_get(ix->raw, "member");
  const json_t *u = m ? json_object_get(m, "user") : NULL;
  return u ? u : json_object_get(ix->raw, "user");
}

const char *ix_user_id(const struct ix *ix) {
  return json_string_value(json_object_get(user_obj(ix), "id"));
}

const char *ix_user_name(const struct ix *ix) {
  const json_t *u = user_obj(ix);
  const char *g = json_string_value(json_object_get(u, "global_name"));
  return g ? g : json_string_value(json_object_get(u, "username"));
}

const char *ix_guild_id(const struct ix *ix) {
  return json_string_value(json_object_get(ix->raw, "guild_id"));
}

const char *ix_channel_id(const struct ix *ix) {
  const char *c = json_string_value(json_object_get(ix->raw, "channel_id"));
  if (!c)
    c = json_string_value(json_object_get(json_object_get(ix->raw, "channel"), "id"));
  return c;
}

const char *ix_locale(const struct ix *ix) {
  const char *l = json_string_value(json_object_get(ix->raw, "locale"));
  return l && !strncmp(l, "en", 2) ? "en" : "pt-BR";
}

int ix_member_has(const struct ix *ix, unsigned long long bits) {
  const json_t *m = json_object_get(ix->raw, "member");
  const char *p = json_string_value(json_object_get(m, "permissions"));
  if (!p)
    return 0;
  char *end;
  unsigned long long have = strtoull(p, &end, 10);
  if (*end)
    return 0;
  if (have & 0x8ull) /* ADMINISTRATOR */
    return 1;
  return (have & bits) == bits;
}

const char *ix_option(const struct ix *ix, const char *name) {
  const json_t *opts = json_object_get(json_object_get(ix->raw, "data"), "options");
  size_t i;
  const json_t *o;
  json_array_foreach(opts, i, o) {
    const char *n = json_string_value(json_object_get(o, "name"));
    if (n && !strcmp(n, name))
      return json_string_value(json_object_get(o, "value"));
  }
  return NULL;
}

const json_t *ix_values(const struct ix *ix) {
  const json_t *v = json_object_get(json_object_get(ix->raw, "data"), "values");
  return json_is_array(v) ? v : NULL;
}

/* Modal components arrive as action rows or labels holding the inputs; search both. */
static const char *find_field(const json_t *components, const char *custom_id, int depth) {
  size_t i;
  const json_t *c;
  if (depth > 3)
    return NULL;
  json_array_foreach(components, i, c) {
    const char *cid = json_string_value(json_object_get(c, "custom_id"));
    if (cid && !strcmp(cid, custom_id)) {
      const char *v = json_string_value(json_object_get(c, "value"));
      if (v)
        return v;
    }
    const json_t *inner = json_object_get(c, "component");
    if (inner) {
      const char *icid = json_string_value(json_object_get(inner, "custom_id"));
      if (icid && !strcmp(icid, custom_id))
        return json_string_value(json_object_get(inner, "value"));
    }
    const char *v = find_field(json_object_get(c, "components"), custom_id, depth + 1);
    if (v)
      return v;
  }
  return NULL;
}

const char *ix_field(const struct ix *ix, const char *custom_id) {
  return find_field(json_object_get(json_object_get(ix->raw, "data"), "components"), custom_id,
                    0);
}

/* ---- lifetime ---- */

static void on_timer_closed(uv_handle_t *h) {
  struct ix *ix = h->data;
  if (ix->release)
    ix->release(ix->ctx);
  json_decref(ix->raw);
  json_decref(ix->queued_msg);
  free(ix);
}

static void maybe_free(struct ix *ix) {
  if (!ix->handler_done || ix->pending > 0 || ix->state == IX_DEFERRING)
    return;
  if (!ix->timer_open)
    return;
  ix->timer_open = 0;
  inflight--;
  uv_timer_stop(&ix->deadline);
  uv_close((uv_handle_t *)&ix->deadline, on_timer_closed);
}

void ix_done(struct ix *ix) {
  if (ix->handler_done)
    return;
  ix->handler_done = 1;
  maybe_free(ix);
}

/* ---- sending ---- */

struct ix_call {
  struct ix *ix;
  int kind; /* CB_* for callbacks, 0 for webhook edits and follow-ups */
  json_t *resend; /* a type 4/7 callback's message, sent again as an edit after 40060 */
};

static void send_queued(struct ix *ix);
static int answer(struct ix *ix, json_t *msg, int update);

static void on_sent(const struct rest_result *r, void *arg) {
  struct ix_call *call = arg;
  struct ix *ix = call->ix;
  ix->pending--;
  if (r->error == REST_OK && r->status < 300) {
    if (call->kind == CB_DEFER || call->kind == CB_DEFER_UPDATE) {
      ix->state = IX_DEFERRED;
      send_queued(ix);
    }
  } else if (r->code == 10062) {
    /* the 3 s window had passed: nothing can be sent for this interaction any more */
    log_warn("discord", "interaction %s expired before it was answered (10062)", ix->id);
    ix->state = IX_EXPIRED;
    json_decref(ix->queued_msg);
    ix->queued_msg = NULL;
  } else if (r->code == 40060) {
    /* someone (a previous run, a retry) already acknowledged it: edit from now on, starting
     * with the answer this callback carried */
    ix->state = IX_DEFERRED;
    if (!ix->defer_type)
      ix->defer_type = ix->type == IX_COMPONENT ? CB_DEFER_UPDATE : CB_DEFER;
    if (call->resend) {
      json_t *msg = call->resend;
      call->resend = NULL;
      answer(ix, msg, call->kind == CB_UPDATE);
    }
    send_queued(ix);
  } else {
    log_warn("discord", "interaction %s answer failed: HTTP %ld code %d %s", ix->id,
             r->status, r->code, r->error_msg ? r->error_msg : "");
    if (ix->state == IX_DEFERRING)
      ix->state = IX_NEW;
  }
  json_decref(call->resend);
  free(call);
  maybe_free(ix);
}

/* body and resend are stolen. */
static int post(struct ix *ix, const char *method, const char *path, json_t *body, int kind,
                json_t *resend) {
  struct ix_call *call = calloc(1, sizeof *call);
  if (!call) {
    json_decref(body);
    json_decref(resend);
    return -1;
  }
  call->ix = ix;
  call->kind = kind;
  call->resend = resend;
  ix->pending++;
  if (!rest_request(ix->rest, method, path, body, 0, on_sent, call)) {
    ix->pending--;
    json_decref(call->resend);
    free(call);
    return -1;
  }
  return 0;
}

/* A callback (the first answer). Its limits depend on the interaction's type, which the
 * route alone cannot tell, so they are checked here before rest sees the body. */
static int callback(struct ix *ix, int type, json_t *data) {
  /* a message answer is kept until Discord accepts it: after 40060 it becomes an edit */
  json_t *resend =
      (type == CB_MESSAGE || type == CB_UPDATE) && data ? json_deep_copy(data) : NULL;
  json_t *body = json_pack("{s:i, s:o?}", "type", type, "data", data);
  char why[160];
  int component = ix->type == IX_COMPONENT ? 1 : ix->type == IX_MODAL ? 2 : 0;
  if (limits_check_callback(body, component, why, sizeof why) != 0) {
    log_error("discord", "interaction answer refused (our bug): %s", why);
    json_decref(body);
    json_decref(resend);
    return -1;
  }
  char path[256];
  snprintf(path, sizeof path, "/interactions/%s/%s/callback", ix->id, ix->token);
  int rc = post(ix, "POST", path, body, type, resend);
  if (rc == 0 && !ix->timed) {
    ix->timed = 1;
    lat_record(ix->start_ns);
  }
  return rc;
}

static int edit_original(struct ix *ix, json_t *msg) {
  char path[256];
  snprintf(path, sizeof path, "/webhooks/%s/%s/messages/@original", ix->app_id, ix->token);
  return post(ix, "PATCH", path, msg, 0, NULL);
}

static void set_ephemeral(struct ix *ix, json_t *msg) {
  if (ix->route && ix->route->ephemeral && json_is_object(msg)) {
    json_int_t f = json_integer_value(json_object_get(msg, "flags"));
    json_object_set_new(msg, "flags", json_integer(f | FLAG_EPHEMERAL));
  }
}

static void send_queued(struct ix *ix) {
  if (!ix->queued_msg)
    return;
  json_t *msg = ix->queued_msg;
  ix->queued_msg = NULL;
  answer(ix, msg, ix->queued_update);
}

int ix_defer(struct ix *ix) {
  if (ix->state != IX_NEW)
    return ix->state == IX_EXPIRED ? -1 : 0;
  json_t *data = NULL;
  int type = ix->type == IX_COMPONENT ? CB_DEFER_UPDATE : CB_DEFER;
  if (type == CB_DEFER && ix->route && ix->route->ephemeral)
    data = json_pack("{s:i}", "flags", FLAG_EPHEMERAL);
  if (callback(ix, type, data) != 0)
    return -1;
  ix->state = IX_DEFERRING;
  ix->defer_type = type;
  return 0;
}

static int answer(struct ix *ix, json_t *msg, int update) {
  if (!msg)
    return -1;
  switch (ix->state) {
  case IX_NEW:
    if (!update)
      set_ephemeral(ix, msg);
    if (callback(ix, update && ix->type == IX_COMPONENT ? CB_UPDATE : CB_MESSAGE, msg) != 0)
      return -1;
    ix->state = IX_ANSWERED;
    return 0;
  case IX_DEFERRING:
    json_decref(ix->queued_msg);
    ix->queued_msg = msg;
    ix->queued_update = update;
    return 0;
  case IX_DEFERRED:
    /* After a type 6 deferral @original is the clicked message itself: only an update may
     * edit it; a reply becomes a new message. */
    if (ix->defer_type == CB_DEFER_UPDATE && !update) {
      ix->state = IX_ANSWERED;
      return ix_followup(ix, msg);
    }
    json_object_del(msg, "flags"); /* an edit cannot change ephemerality */
    if (edit_original(ix, msg) != 0)
      return -1;
    ix->state = IX_ANSWERED;
    return 0;
  case IX_ANSWERED:
    if (update) /* a second update of the same component message */
      return edit_original(ix, msg);
    return ix_followup(ix, msg);
  case IX_EXPIRED:
    json_decref(msg);
    return -1;
  }
  json_decref(msg);
  return -1;
}

int ix_reply(struct ix *ix, json_t *msg) { return answer(ix, msg, 0); }
int ix_update(struct ix *ix, json_t *msg) { return answer(ix, msg, 1); }

int ix_modal(struct ix *ix, json_t *modal) {
  if (ix->state != IX_NEW || ix->type == IX_MODAL) {
    json_decref(modal);
    return -1;
  }
  if (callback(ix, CB_MODAL, modal) != 0)
    return -1;
  ix->state = IX_ANSWERED;
  return 0;
}

int ix_followup(struct ix *ix, json_t *msg) {
  if (ix->state == IX_EXPIRED || ix->state == IX_NEW) {
    json_decref(msg);
    return -1;
  }
  set_ephemeral(ix, msg);
  char path[256];
  snprintf(path, sizeof path, "/webhooks/%s/%s", ix->app_id, ix->token);
  return post(ix, "POST", path, msg, 0, NULL);
}

int ix_reply_text(struct ix *ix, const char *text) {
  return ix_reply(ix, json_pack("{s:s, s:i}", "content", text, "flags", FLAG_EPHEMERAL));
}

/* ---- dispatch ---- */

static void on_deadline(uv_timer_t *t) {
  struct ix *ix = t->data;
  if (ix->state == IX_NEW) {
    log_info("discord", "interaction %s: handler still working at %d ms, deferring", ix->id,
             IX_DEFER_AFTER_MS);
    ix_defer(ix);
  }
}

static const struct ix_route *find_route(const struct ix_route *routes, size_t n,
                                         enum ix_type type, const char *name) {
  if (!name)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (routes[i].type == type && !strcmp(routes[i].name, name))
      return &routes[i];
  return NULL;
}

int ix_dispatch(const struct ix_route *routes, size_t nroutes, struct rest_client *rest,
                const json_t *interaction, void *ctx, void (*release)(void *ctx)) {
  const char *id = json_string_value(json_object_get(interaction, "id"));
  const char *token = json_string_value(json_object_get(interaction, "token"));
  const char *app = json_string_value(json_object_get(interaction, "application_id"));
  json_int_t type = json_integer_value(json_object_get(interaction, "type"));
  if (!id || !token || !app || strlen(id) > 32 || strlen(app) > 32 || strlen(token) > 512 ||
      strchr(token, '/') || strchr(token, '?') || strchr(id, '/')) {
    log_warn("discord", "malformed interaction ignored");
    return 0;
  }
  struct ix *ix = calloc(1, sizeof *ix);
  if (!ix)
    return 0;
  ix->start_ns = uv_hrtime();
  ix->release = release;
  ix->raw = json_deep_copy(interaction);
  ix->rest = rest;
  ix->ctx = ctx;
  ix->type = (enum ix_type)type;
  ix->id = json_string_value(json_object_get(ix->raw, "id"));
  ix->token = json_string_value(json_object_get(ix->raw, "token"));
  ix->app_id = json_string_value(json_object_get(ix->raw, "application_id"));
  uv_timer_init(astra.loop, &ix->deadline);
  ix->deadline.data = ix;
  ix->timer_open = 1;
  inflight++;

  const json_t *data = json_object_get(ix->raw, "data");
  const char *name = NULL;
  if (ix->type == IX_COMMAND) {
    name = json_string_value(json_object_get(data, "name"));
  } else if (ix->type == IX_COMPONENT || ix->type == IX_MODAL) {
    const char *custom_id = json_string_value(json_object_get(data, "custom_id"));
    if (custom_id && cid_parse(custom_id, &ix->cid) == 0) {
      ix->has_cid = 1;
      name = ix->cid.action;
    }
  }
  ix->route = find_route(routes, nroutes, ix->type, name);
  if (!ix->route) {
    /* a button from an old version, or something forged: tell the user, change nothing */
    ix_reply_text(ix, !strcmp(ix_locale(ix), "en")
                          ? "This action is no longer available."
                          : "Esta ação não está mais disponível.");
    ix_done(ix);
    return 1;
  }
  uv_timer_start(&ix->deadline, on_deadline, IX_DEFER_AFTER_MS, 0);
  ix->route->handler(ix);
  return 1;
}
