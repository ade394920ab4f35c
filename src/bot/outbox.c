/* The outbox worker, reveal, resend and /pedido: not built yet (selling issue, work in progress). */
#include "bot/bot.h"

void bot_btn_reveal(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_btn_resend(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_cmd_pedido(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_outbox_start(void) {}
void bot_outbox_stop(void) {}
void bot_outbox_kick(void) {}

