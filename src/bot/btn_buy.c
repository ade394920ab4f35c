/* Comprar, the variation select and the cart: not built yet (selling issue, work in progress). */
#include "bot/bot.h"

void bot_btn_buy(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_sel_pick(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_cart_action(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_modal_coupon(struct ix *ix) { ix_reply_text(ix, "Em breve."); }
void bot_cart_sweeper_start(void) {}
void bot_cart_sweeper_stop(void) {}

