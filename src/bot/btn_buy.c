/* Comprar (astra:buy:<productId>) and the product post's variation select
 * (astra:pick:<productId>): the buyer's one open cart in this instance, reused or created,
 * with this product in it; then its Discord home (a private thread in the channel of the click,
 * or a private channel under settings.cartCategoryId, per settings.cartMode), the cart
 * message in it, and an ephemeral link for the buyer.
 *
 * Order of work: the cart record is durable before anything is created in Discord; the
 * channel and message ids are recorded once Discord made them. A cart whose Discord home is
 * still being made (a double click) gets "wait" instead of a second thread; a cart left
 * without a home by a crash gets one on the next click. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/bot.h"
#include "bot/cart.h"
#include "bot/product_post.h"
#include "core/app.h"
#include "core/log.h"
#include "discord/rest.h"
#include "shop/cart.h"
#include "store/store.h"

/* Permission bits for a cart channel's overwrites. */
#define P_VIEW (1ull << 10)
#define P_SEND (1ull << 11)
#define P_EMBED (1ull << 14)
#define P_ATTACH (1ull << 15)
#define P_HISTORY (1ull << 16)

struct buy {
  struct ix *ix;
  char instance_id[40];
  char cart_id[40];
  char guild_id[32];
  char parent_id[32]; /* channel of the click (thread mode) */
  char user_id[32];
  char user_name[128];
  char bot_id[32];    /* channel mode: the bot's user id, for its overwrite */
  char channel_id[32];
  const char *locale;
  int channel_mode;
  struct buy *next;
};

/* Carts whose Discord home is being made right now (memory only: a hint against double
 * clicks; after a restart a cart without a channel simply gets one). */
static struct buy *making;

static int is_making(const char *cart_id) {
  for (struct buy *b = making; b; b = b->next)
    if (!strcmp(b->cart_id, cart_id))
      return 1;
  return 0;
}

static void finish(struct buy *b, const char *text) {
  for (struct buy **p = &making; *p; p = &(*p)->next)
    if (*p == b) {
      *p = b->next;
      break;
    }
  if (text)
    ix_reply_text(b->ix, text);
  ix_done(b->ix);
  free(b);
}

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static void link_reply(struct buy *b, const char *channel_id, int pending) {
  char text[256];
  if (pending)
    snprintf(text, sizeof text, "%s <#%s>",
             bot_tr(b->locale, "Você tem um pagamento em andamento no seu carrinho:",
                    "You have a payment under way in your cart:"),
             channel_id);
  else
    snprintf(text, sizeof text, "%s <#%s>",
             bot_tr(b->locale, "Seu carrinho:", "Your cart:"), channel_id);
  finish(b, text);
}

static const char *failed_text(struct buy *b) {
  return bot_tr(b->locale, "Não consegui abrir seu carrinho. Tente novamente em instantes.",
                "I could not open your cart. Try again in a moment.");
}

static void on_recorded(int status, void *arg) {
  struct buy *b = arg;
  if (status != 0) {
    finish(b, failed_text(b));
    return;
  }
  link_reply(b, b->channel_id, 0);
}

static void on_message(const struct rest_result *r, void *arg) {
  struct buy *b = arg;
  const char *mid = str(r->body, "id");
  if (r->error != REST_OK || r->status >= 300 || !mid) {
    log_warn("bot", "cart %s: posting the cart message failed: HTTP %ld code %d", b->cart_id,
             r->status, r->code);
    finish(b, failed_text(b));
    return;
  }
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, b->cart_id);
  struct store_txn *t = store_begin(astra.store);
  if (!cart || shop_cart_set_channel(t, cart, b->channel_id, mid, bot_now_ms()) != 0) {
    store_abort(t);
    finish(b, failed_text(b));
    return;
  }
  if (store_commit(t, on_recorded, b) != 0)
    finish(b, failed_text(b));
}

static void post_message(struct buy *b) {
  struct bot_ctx *ctx = ix_ctx(b->ix);
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, b->cart_id);
  json_t *msg = cart ? bot_cart_render(cart, b->locale, bot_now_ms()) : NULL;
  if (!msg) {
    finish(b, failed_text(b));
    return;
  }
  /* the buyer's mention brings them in (a channel) and notifies them */
  char content[64];
  snprintf(content, sizeof content, "<@%s>", b->user_id);
  json_object_set_new(msg, "content", json_string(content));
  json_object_set_new(msg, "allowed_mentions", json_pack("{s:[s]}", "users", b->user_id));
  char path[96];
  snprintf(path, sizeof path, "/channels/%s/messages", b->channel_id);
  if (!rest_request(ctx->rest, "POST", path, msg, 0, on_message, b))
    finish(b, failed_text(b));
}

static void on_member(const struct rest_result *r, void *arg) {
  struct buy *b = arg;
  if (r->error != REST_OK || r->status >= 300) {
    log_warn("bot", "cart %s: adding the buyer to the thread failed: HTTP %ld code %d",
             b->cart_id, r->status, r->code);
    finish(b, failed_text(b));
    return;
  }
  post_message(b);
}

static void on_channel(const struct rest_result *r, void *arg) {
  struct buy *b = arg;
  struct bot_ctx *ctx = ix_ctx(b->ix);
  const char *id = str(r->body, "id");
  if (r->error != REST_OK || r->status >= 300 || !id || strlen(id) >= sizeof b->channel_id) {
    log_warn("bot", "cart %s: creating its %s failed: HTTP %ld code %d %s", b->cart_id,
             b->channel_mode ? "channel" : "thread", r->status, r->code,
             r->error_msg ? r->error_msg : "");
    finish(b, r->code == 50013 || r->code == 50001
                  ? bot_tr(b->locale,
                           "O bot não tem permissão para criar carrinhos aqui. Avise a loja.",
                           "The bot may not create carts here. Please tell the store.")
                  : failed_text(b));
    return;
  }
  snprintf(b->channel_id, sizeof b->channel_id, "%s", id);
  if (b->channel_mode) {
    post_message(b);
    return;
  }
  char path[128];
  snprintf(path, sizeof path, "/channels/%s/thread-members/%s", id, b->user_id);
  if (!rest_request(ctx->rest, "PUT", path, NULL, 0, on_member, b))
    finish(b, failed_text(b));
}

/* "carrinho-<name>": Discord keeps 1-100 characters. */
static json_t *home_name(struct buy *b) {
  char name[160];
  snprintf(name, sizeof name, "%s-%s", bot_tr(b->locale, "carrinho", "cart"),
           b->user_name[0] ? b->user_name : b->user_id);
  return bot_clip_text(name, 90);
}

static void create_channel(struct buy *b) {
  struct bot_ctx *ctx = ix_ctx(b->ix);
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, b->instance_id);
  const json_t *settings = json_object_get(inst, "settings");
  const char *category = str(settings, "cartCategoryId"), *staff = str(settings, "staffRoleId");
  char buyer_allow[24], bot_allow[24], deny[24];
  snprintf(buyer_allow, sizeof buyer_allow, "%llu", P_VIEW | P_SEND | P_HISTORY);
  snprintf(bot_allow, sizeof bot_allow, "%llu", P_VIEW | P_SEND | P_EMBED | P_ATTACH | P_HISTORY);
  snprintf(deny, sizeof deny, "%llu", P_VIEW);
  json_t *ows = json_pack("[{s:s, s:i, s:s, s:s}, {s:s, s:i, s:s, s:s}, {s:s, s:i, s:s, s:s}]",
                          "id", b->guild_id, "type", 0, "allow", "0", "deny", deny, "id",
                          b->user_id, "type", 1, "allow", buyer_allow, "deny", "0", "id",
                          b->bot_id, "type", 1, "allow", bot_allow, "deny", "0");
  if (staff && *staff)
    json_array_append_new(ows, json_pack("{s:s, s:i, s:s, s:s}", "id", staff, "type", 0,
                                         "allow", buyer_allow, "deny", "0"));
  json_t *body = json_pack("{s:o, s:i, s:o}", "name", home_name(b), "type", 0,
                           "permission_overwrites", ows);
  if (body && category && *category)
    json_object_set_new(body, "parent_id", json_string(category));
  char path[96];
  snprintf(path, sizeof path, "/guilds/%s/channels", b->guild_id);
  if (!body || !rest_request(ctx->rest, "POST", path, body, 0, on_channel, b))
    finish(b, failed_text(b));
}

static void on_me(const struct rest_result *r, void *arg) {
  struct buy *b = arg;
  const char *id = str(r->body, "id");
  if (r->error != REST_OK || r->status >= 300 || !id || strlen(id) >= sizeof b->bot_id) {
    finish(b, failed_text(b));
    return;
  }
  snprintf(b->bot_id, sizeof b->bot_id, "%s", id);
  create_channel(b);
}

static void make_home(struct buy *b) {
  struct bot_ctx *ctx = ix_ctx(b->ix);
  b->next = making;
  making = b;
  if (b->channel_mode) {
    /* the bot's own overwrite needs its user id (not the application id) */
    if (!rest_request(ctx->rest, "GET", "/users/@me", NULL, 0, on_me, b))
      finish(b, failed_text(b));
    return;
  }
  json_t *body = json_pack("{s:o, s:i, s:b, s:i}", "name", home_name(b), "type", 12,
                           "invitable", 0, "auto_archive_duration", 1440);
  char path[96];
  snprintf(path, sizeof path, "/channels/%s/threads", b->parent_id);
  if (!body || !rest_request(ctx->rest, "POST", path, body, 0, on_channel, b))
    finish(b, failed_text(b));
}

static void on_cart_durable(int status, void *arg) {
  struct buy *b = arg;
  if (status != 0) {
    finish(b, failed_text(b));
    return;
  }
  const json_t *cart = store_get(astra.store, STORE_CARTS, NULL, b->cart_id);
  const char *ch = str(cart, "channelId");
  if (ch) {
    bot_cart_refresh(b->instance_id, b->cart_id);
    link_reply(b, ch, 0);
  } else if (is_making(b->cart_id)) {
    finish(b, bot_tr(b->locale, "Seu carrinho está sendo criado, aguarde um instante.",
                     "Your cart is being created, wait a moment."));
  } else {
    make_home(b);
  }
}

static void start(struct ix *ix, const char *product_id, const char *variation_id) {
  struct bot_ctx *ctx = ix_ctx(ix);
  const char *locale = bot_cart_locale(ctx->instance_id);
  const char *guild = ix_guild_id(ix), *chan = ix_channel_id(ix), *user = ix_user_id(ix);
  const char *name = ix_user_name(ix);
  const json_t *inst = store_get(astra.store, STORE_INSTANCES, NULL, ctx->instance_id);
  const char *mode = str(json_object_get(inst, "settings"), "cartMode");
  if (!guild || !chan || !user || strlen(guild) >= 32 || strlen(chan) >= 32 ||
      strlen(user) >= 32 || !product_id) {
    ix_reply_text(ix, bot_tr(locale, "Compras só dentro do servidor da loja.",
                             "Purchases only inside the store's server."));
    ix_done(ix);
    return;
  }
  struct buy *b = calloc(1, sizeof *b);
  if (!b) {
    ix_done(ix);
    return;
  }
  b->ix = ix;
  b->locale = locale;
  b->channel_mode = mode && !strcmp(mode, "channel");
  snprintf(b->instance_id, sizeof b->instance_id, "%s", ctx->instance_id);
  snprintf(b->guild_id, sizeof b->guild_id, "%s", guild);
  snprintf(b->parent_id, sizeof b->parent_id, "%s", chan);
  snprintf(b->user_id, sizeof b->user_id, "%s", user);
  snprintf(b->user_name, sizeof b->user_name, "%s", name ? name : "");
  struct shop_cart_open in = {ctx->instance_id, user, name, b->channel_mode ? "channel" : "thread",
                              guild, product_id, variation_id, bot_now_ms()};
  int created;
  char id[37];
  struct store_txn *t = store_begin(astra.store);
  enum shop_cart_error e = shop_cart_open(t, &in, id, &created);
  snprintf(b->cart_id, sizeof b->cart_id, "%s", id);
  if (e == SHOP_CART_LOCKED) {
    store_abort(t);
    const char *ch = str(store_get(astra.store, STORE_CARTS, NULL, id), "channelId");
    if (ch)
      link_reply(b, ch, 1);
    else
      finish(b, shop_cart_error_message(e, locale));
    return;
  }
  if (e != SHOP_CART_OK) {
    store_abort(t);
    finish(b, shop_cart_error_message(e, locale));
    return;
  }
  if (store_commit(t, on_cart_durable, b) != 0)
    finish(b, failed_text(b));
}

void bot_btn_buy(struct ix *ix) {
  const struct cid *cid = ix_cid(ix);
  start(ix, cid && cid->nargs == 1 ? cid->args[0] : NULL, NULL);
}

void bot_sel_pick(struct ix *ix) {
  const struct cid *cid = ix_cid(ix);
  const json_t *vals = ix_values(ix);
  const char *vid = json_string_value(json_array_get(vals, 0));
  if (!vid || json_array_size(vals) != 1) {
    ix_reply_text(ix, bot_tr(bot_cart_locale(((struct bot_ctx *)ix_ctx(ix))->instance_id),
                             "Escolha uma opção.", "Choose an option."));
    ix_done(ix);
    return;
  }
  start(ix, cid && cid->nargs == 1 ? cid->args[0] : NULL, vid);
}
