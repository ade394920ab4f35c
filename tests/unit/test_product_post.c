/* The product post's rendering (src/bot/product_post.c): prices and stock in both locales,
 * variations and their select, sold out, and every Discord limit with hostile lengths, each
 * body also checked by the REST client's own limits (discord/limits.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bot/product_post.h"
#include "discord/limits.h"
#include "harness.h"

#define PID "6f0c2a1e-0000-4000-8000-000000000001"

static struct shop_stock_tally_row rows[32];
static struct shop_stock_tally tally;

static void stock_reset(void) {
  memset(rows, 0, sizeof rows);
  tally.rows = rows;
  tally.nrows = 0;
  tally.cap = 32;
}

static void stock_add(const char *vid, size_t avail) {
  struct shop_stock_tally_row *r = &rows[tally.nrows++];
  strcpy(r->product_id, PID);
  strcpy(r->variation_id, vid);
  r->n.available = avail;
  r->n.sold = 3;
}

static json_t *product(const char *name, long long cents) {
  return json_pack("{s:s, s:s, s:I, s:s, s:b, s:s}", "name", name, "description",
                   "Entrega automática.", "priceCents", (json_int_t)cents, "currency", "BRL",
                   "active", 1, "imageUrl", "https://cdn.example.com/capa.png");
}

static void add_var(json_t *p, const char *id, const char *name, long long cents, int active) {
  json_t *vars = json_object_get(p, "variations");
  if (!vars) {
    vars = json_array();
    json_object_set_new(p, "variations", vars);
  }
  json_array_append_new(vars, json_pack("{s:s, s:s, s:I, s:b}", "id", id, "name", name,
                                        "priceCents", (json_int_t)cents, "active", active));
}

static const char *sget(const json_t *j, const char *path) {
  /* "embeds.0.fields.1.value": a tiny path walker for the checks below */
  char buf[128];
  strcpy(buf, path);
  const json_t *cur = j;
  for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
    if (json_is_array(cur))
      cur = json_array_get(cur, (size_t)atoi(tok));
    else
      cur = json_object_get(cur, tok);
  }
  return json_string_value(cur);
}

static int limits_ok(const json_t *msg) {
  char why[200];
  return limits_check_message(msg, why, sizeof why) == 0;
}

static size_t cps(const char *s) {
  size_t n = 0;
  for (; s && *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

TEST(post_simple_pt_br) {
  stock_reset();
  stock_add("", 12);
  json_t *p = product("Conta Premium", 1990);
  json_t *m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK(m);
  CHECK(limits_ok(m));
  CHECK_STR(sget(m, "embeds.0.title"), "Conta Premium");
  CHECK_STR(sget(m, "embeds.0.description"), "Entrega automática.");
  CHECK_STR(sget(m, "embeds.0.fields.0.name"), "Preço");
  CHECK_STR(sget(m, "embeds.0.fields.0.value"), "R$ 19,90");
  CHECK_STR(sget(m, "embeds.0.fields.1.name"), "Estoque");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "12 disponíveis");
  CHECK_STR(sget(m, "embeds.0.image.url"), "https://cdn.example.com/capa.png");
  CHECK_INT(json_array_size(json_object_get(m, "components")), 1);
  CHECK_STR(sget(m, "components.0.components.0.custom_id"), "astra:buy:" PID);
  CHECK_STR(sget(m, "components.0.components.0.label"), "Comprar");
  CHECK_INT(json_integer_value(json_object_get(
                json_array_get(json_object_get(json_array_get(json_object_get(m, "components"), 0),
                                               "components"),
                               0),
                "style")),
            3);
  json_decref(m);
  json_decref(p);
}

TEST(post_sold_out_and_english) {
  stock_reset();
  json_t *p = product("Premium", 123456);
  json_t *m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "Esgotado");
  CHECK_STR(sget(m, "embeds.0.fields.0.value"), "R$ 1.234,56");
  json_decref(m);
  m = bot_product_post_render(PID, p, NULL, "en");
  CHECK(limits_ok(m));
  CHECK_STR(sget(m, "embeds.0.fields.0.name"), "Price");
  CHECK_STR(sget(m, "embeds.0.fields.0.value"), "R$1,234.56");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "Sold out");
  CHECK_STR(sget(m, "components.0.components.0.label"), "Buy");
  json_decref(m);
  stock_reset();
  stock_add("", 1);
  m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "1 disponível");
  json_decref(m);
  m = bot_product_post_render(PID, p, &tally, "en");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "1 available");
  json_decref(m);
  json_decref(p);
}

/* A deactivated or deleted product's post says so, without the select, the button disabled */
TEST(post_unavailable) {
  stock_reset();
  stock_add("v1", 4);
  json_t *p = product("Conta", 1990);
  add_var(p, "v1", "Mensal", 1990, 1);
  json_object_set_new(p, "active", json_false());
  json_t *m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK(limits_ok(m));
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "Indisponível");
  CHECK_INT(json_array_size(json_object_get(json_array_get(json_object_get(m, "embeds"), 0),
                                            "fields")),
            2);
  CHECK_INT(json_array_size(json_object_get(m, "components")), 1);
  CHECK_STR(sget(m, "components.0.components.0.label"), "Comprar");
  const json_t *btn = json_array_get(
      json_object_get(json_array_get(json_object_get(m, "components"), 0), "components"), 0);
  CHECK(json_is_true(json_object_get(btn, "disabled")));
  json_decref(m);
  json_object_set_new(p, "active", json_true());
  json_object_set_new(p, "deletedAt", json_integer(1));
  m = bot_product_post_render(PID, p, &tally, "en");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "Unavailable");
  json_decref(m);
  json_object_del(p, "deletedAt");
  m = bot_product_post_render(PID, p, &tally, "pt-BR"); /* on sale again: as before */
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "4 disponíveis");
  btn = json_array_get(
      json_object_get(json_array_get(json_object_get(m, "components"), 1), "components"), 0);
  CHECK(!json_object_get(btn, "disabled"));
  json_decref(m);
  json_decref(p);
}

TEST(post_variations) {
  stock_reset();
  stock_add("v30", 12);
  stock_add("v90", 0);
  stock_add("vold", 7); /* an inactive variation's keys are not for sale */
  json_t *p = product("Conta", 990);
  add_var(p, "v30", "30 dias", 1990, 1);
  add_var(p, "v90", "90 dias", 4990, 1);
  add_var(p, "vold", "Antiga", 500, 0);
  json_t *m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK(m);
  CHECK(limits_ok(m));
  CHECK_STR(sget(m, "embeds.0.fields.0.value"), "a partir de R$ 19,90");
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "12 disponíveis");
  CHECK_STR(sget(m, "embeds.0.fields.2.name"), "Variações");
  CHECK_STR(sget(m, "embeds.0.fields.2.value"),
            "• 30 dias — R$ 19,90 (12 disponíveis)\n• 90 dias — R$ 49,90 (Esgotado)");
  CHECK_INT(json_array_size(json_object_get(m, "components")), 2);
  CHECK_STR(sget(m, "components.0.components.0.custom_id"), "astra:pick:" PID);
  CHECK_STR(sget(m, "components.0.components.0.options.0.value"), "v30");
  CHECK_STR(sget(m, "components.0.components.0.options.0.label"), "30 dias");
  CHECK_STR(sget(m, "components.0.components.0.options.0.description"),
            "R$ 19,90 · 12 disponíveis");
  CHECK_STR(sget(m, "components.0.components.0.options.1.description"), "R$ 49,90 · Esgotado");
  CHECK(!sget(m, "components.0.components.0.options.2.value"));
  CHECK_STR(sget(m, "components.1.components.0.custom_id"), "astra:buy:" PID);
  json_decref(m);
  /* same prices: no "a partir de"; English */
  json_array_remove(json_object_get(p, "variations"), 1);
  m = bot_product_post_render(PID, p, &tally, "en");
  CHECK_STR(sget(m, "embeds.0.fields.0.value"), "R$19.90");
  CHECK_STR(sget(m, "embeds.0.fields.2.name"), "Options");
  CHECK_STR(sget(m, "components.0.components.0.options.0.description"),
            "R$19.90 · 12 available");
  json_decref(m);
  /* only inactive variations: no select, sold out */
  json_array_remove(json_object_get(p, "variations"), 0);
  m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK(limits_ok(m));
  CHECK_STR(sget(m, "embeds.0.fields.1.value"), "Esgotado");
  CHECK_INT(json_array_size(json_object_get(m, "components")), 1);
  json_decref(m);
  json_decref(p);
}

/* Multi-byte text everywhere, longer than every limit. */
static char *long_text(const char *unit, size_t times) {
  size_t ul = strlen(unit);
  char *s = malloc(ul * times + 1);
  for (size_t i = 0; i < times; i++)
    memcpy(s + i * ul, unit, ul);
  s[ul * times] = '\0';
  return s;
}

TEST(post_limits_and_truncation) {
  stock_reset();
  char *name = long_text("ã", 400);
  char *desc = long_text("é🎮", 3000);
  char *vname = long_text("ç", 120);
  json_t *p = product(name, 1990);
  json_object_set_new(p, "description", json_string(desc));
  for (int i = 0; i < 30; i++) {
    char id[16];
    snprintf(id, sizeof id, "var-%02d", i);
    add_var(p, id, vname, 1000 + i, 1);
    stock_add(id, (size_t)i * 1000);
  }
  json_t *m = bot_product_post_render(PID, p, &tally, "pt-BR");
  CHECK(m);
  CHECK(limits_ok(m));
  const char *title = sget(m, "embeds.0.title");
  CHECK_INT(cps(title), 256);
  CHECK(!strcmp(title + strlen(title) - 3, "…"));
  const char *value = sget(m, "embeds.0.fields.2.value");
  CHECK(cps(value) <= 1024);
  CHECK(strstr(value, "… e mais"));
  const char *d = sget(m, "embeds.0.description");
  CHECK(d);
  size_t total = cps(title) + cps(d) + cps(value) + cps(sget(m, "embeds.0.fields.0.value")) +
                 cps(sget(m, "embeds.0.fields.1.value")) + cps("Preço") + cps("Estoque") +
                 cps("Variações");
  CHECK(total <= 6000);
  CHECK(cps(d) <= 4096);
  json_t *opts = json_object_get(
      json_array_get(json_object_get(json_array_get(json_object_get(m, "components"), 0),
                                     "components"),
                     0),
      "options");
  CHECK_INT(json_array_size(opts), 25);
  CHECK_INT(cps(sget(m, "components.0.components.0.options.0.label")), 100);
  json_decref(m);
  free(name);
  free(desc);
  free(vname);
  json_decref(p);
}

TEST(post_bad_ids) {
  json_t *p = product("x", 100);
  CHECK(!bot_product_post_render("bad:id", p, NULL, "pt-BR"));
  CHECK(!bot_product_post_render(NULL, p, NULL, "pt-BR"));
  json_decref(p);
}

TEST(clip_text_utf8) {
  json_t *j = bot_clip_text("açúcar", 4);
  CHECK_STR(json_string_value(j), "açú…");
  json_decref(j);
  j = bot_clip_text("açúcar", 6);
  CHECK_STR(json_string_value(j), "açúcar");
  json_decref(j);
  j = bot_clip_text("🎮🎮🎮", 2);
  CHECK_STR(json_string_value(j), "🎮…");
  json_decref(j);
  j = bot_clip_text(NULL, 2);
  CHECK_STR(json_string_value(j), "");
  json_decref(j);
}
