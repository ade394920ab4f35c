/* The "Status da loja" button (custom_id astra:status:<instance id>), sent with the /vincular
 * confirmation: shows the store's bot status to whoever clicks it, privately. Everything it
 * needs is in its custom_id, so it keeps working after the daemon restarts. */
#include <stdio.h>
#include <string.h>

#include "bot/bot.h"
#include "core/app.h"
#include "runtime/runtime.h"
#include "store/store.h"

void bot_btn_status(struct ix *ix) {
  struct bot_ctx *ctx = ix_ctx(ix);
  const struct cid *cid = ix_cid(ix);
  int en = !strcmp(ix_locale(ix), "en");
  /* a bot only gets its own interactions, but a forged id must not read another store */
  if (!cid || cid->nargs != 1 || strcmp(cid->args[0], ctx->instance_id) != 0) {
    ix_reply_text(ix, en ? "This button does not belong to this store."
                         : "Este botão não é desta loja.");
    ix_done(ix);
    return;
  }
  const json_t *rec = store_get(astra.store, STORE_INSTANCES, NULL, ctx->instance_id);
  struct rt_info info;
  runtime_info(ctx->instance_id, &info);
  const char *name = json_string_value(json_object_get(rec, "name"));
  const char *guild = json_string_value(json_object_get(rec, "guildId"));
  const char *here = ix_guild_id(ix);
  char text[400], latency[32] = "";
  if (info.latency_ms >= 0)
    snprintf(latency, sizeof latency, en ? ", latency %d ms" : ", latência %d ms",
             info.latency_ms);
  snprintf(text, sizeof text, en ? "**%s**: %s%s. %s" : "**%s**: %s%s. %s", name ? name : "Astra",
           rt_status_name(info.status), latency,
           guild && here && !strcmp(guild, here)
               ? (en ? "Linked to this server." : "Vinculada a este servidor.")
               : (en ? "Not linked to this server." : "Não vinculada a este servidor."));
  ix_reply_text(ix, text);
  ix_done(ix);
}
