/* The catalog's rules: the DM template language (which braces are placeholders, which are
 * text, which are refused), the default template in both locales, rendering, the low-stock
 * rule, the product as a seller sees it, prices and image URLs. */
#include <stdlib.h>

#include "harness.h"
#include "shop/catalog.h"

static const struct shop_template_vars vars = {"Conta Premium", "30 dias", "ABCD-1234",
                                               "PEDIDO01",      "@ana",    "Loja X"};

/* Renders tpl with vars and compares with want. */
static int renders(const char *tpl, const struct shop_template_vars *v, const char *want) {
  char *got = shop_template_render(tpl, v, "pt-BR");
  int ok = got && !strcmp(got, want);
  if (!ok)
    harness_fail(__FILE__, __LINE__, "render(%s) == \"%s\", expected \"%s\"", tpl,
                 got ? got : "(null)", want);
  free(got);
  return ok;
}

TEST(every_placeholder_is_accepted) {
  CHECK_INT(shop_template_check("{produto}{variacao}{chave}{pedido}{comprador}{loja}", NULL,
                                NULL),
            0);
  CHECK_INT(shop_template_check("", NULL, NULL), 0);
  CHECK_INT(shop_template_check("sem marcadores", NULL, NULL), 0);
}

TEST(unknown_placeholder_is_refused_with_its_position) {
  size_t off = 99, len = 99;
  CHECK_INT(shop_template_check("Oi {comprador}, sua {chav}", &off, &len), -1);
  CHECK_INT(off, 20);
  CHECK_INT(len, 6);
  /* case matters: a seller typing {Chave} would otherwise send the text "{Chave}" */
  CHECK_INT(shop_template_check("{Chave}", NULL, NULL), -1);
  CHECK_INT(shop_template_check("{codigo_1}", NULL, NULL), -1);
  CHECK_INT(shop_template_check("{pedido-id}", NULL, NULL), -1);
  /* the first unknown one is named, after valid ones */
  CHECK_INT(shop_template_check("{loja}{x}{y}", &off, &len), -1);
  CHECK_INT(off, 6);
  CHECK_INT(len, 3);
}

TEST(accented_word_is_refused_not_sent_as_text) {
  size_t off = 0, len = 0;
  CHECK_INT(shop_template_check("Variação: {variação}", &off, &len), -1);
  CHECK_INT(off, strlen("Variação: "));
  CHECK_INT(len, strlen("{variação}"));
}

TEST(braces_that_are_not_placeholders_are_text) {
  CHECK_INT(shop_template_check("{}", NULL, NULL), 0);
  CHECK_INT(shop_template_check("{", NULL, NULL), 0);
  CHECK_INT(shop_template_check("}", NULL, NULL), 0);
  CHECK_INT(shop_template_check("{{", NULL, NULL), 0);
  CHECK_INT(shop_template_check("}}{{", NULL, NULL), 0);
  CHECK_INT(shop_template_check("{chave", NULL, NULL), 0);
  CHECK_INT(shop_template_check("chave}", NULL, NULL), 0);
  CHECK_INT(shop_template_check("{ chave }", NULL, NULL), 0);
  CHECK_INT(shop_template_check("{a b}", NULL, NULL), 0);
  CHECK_INT(shop_template_check(":-{ e :-}", NULL, NULL), 0);
  /* "{{x}}" holds the word {x}: still refused */
  CHECK_INT(shop_template_check("{{x}}", NULL, NULL), -1);
  if (!renders("{}", &vars, "{}") || !renders("{{chave}}", &vars, "{ABCD-1234}") ||
      !renders("fim {chave", &vars, "fim {chave") || !renders("{", &vars, "{") ||
      !renders("a}b{", &vars, "a}b{"))
    return;
}

TEST(uses_finds_placeholders_not_text) {
  CHECK(shop_template_uses("Sua chave: {chave}", "chave"));
  CHECK(shop_template_uses("{{chave}}", "chave"));
  CHECK(!shop_template_uses("Sua chave: {chave", "chave"));
  CHECK(!shop_template_uses("chave", "chave"));
  CHECK(!shop_template_uses("{chaves}", "chave"));
  CHECK(shop_template_uses(shop_template_default("pt-BR"), "chave"));
  CHECK(shop_template_uses(shop_template_default("en"), "chave"));
}

TEST(utf8_around_placeholders_is_kept) {
  CHECK_INT(shop_template_check("çã{chave}é — {loja}🎉", NULL, NULL), 0);
  if (!renders("çã{chave}é — {loja}🎉", &vars, "çãABCD-1234é — Loja X🎉"))
    return;
  struct shop_template_vars v = vars;
  v.produto = "Açaí ✨";
  if (!renders("«{produto}»", &v, "«Açaí ✨»"))
    return;
}

TEST(repeated_placeholders_each_replaced) {
  if (!renders("{chave} {chave}\n{chave}", &vars, "ABCD-1234 ABCD-1234\nABCD-1234"))
    return;
  /* a value that looks like a placeholder is not expanded again */
  struct shop_template_vars v = vars;
  v.produto = "{chave}";
  if (!renders("{produto}", &v, "{chave}"))
    return;
}

TEST(empty_values_leave_no_trailing_blanks) {
  struct shop_template_vars v = vars;
  v.variacao = "";
  if (!renders("{produto} {variacao}\nfim", &v, "Conta Premium\nfim"))
    return;
  v.variacao = NULL;
  v.loja = NULL;
  if (!renders("[{variacao}] {loja}", &v, "[]"))
    return;
  struct shop_template_vars none = {0};
  if (!renders("{produto}{variacao}{chave}{pedido}{comprador}{loja}", &none, ""))
    return;
  if (!renders("", &vars, ""))
    return;
}

TEST(multiline_key_is_inserted_as_is) {
  struct shop_template_vars v = vars;
  v.chave = "K1\nK2\nK3";
  if (!renders("Chaves:\n{chave}\nFim", &v, "Chaves:\nK1\nK2\nK3\nFim"))
    return;
}

TEST(default_template_pt_br) {
  char *s = shop_template_render(NULL, &vars, "pt-BR");
  CHECK_STR(s, "Obrigado pela compra, @ana!\nPedido PEDIDO01: Conta Premium 30 dias\n"
               "Sua chave:\nABCD-1234\nLoja X");
  free(s);
  /* an unknown locale is pt-BR; without a variation the line has no trailing space */
  struct shop_template_vars v = vars;
  v.variacao = "";
  s = shop_template_render(NULL, &v, "fr");
  CHECK_STR(s, "Obrigado pela compra, @ana!\nPedido PEDIDO01: Conta Premium\n"
               "Sua chave:\nABCD-1234\nLoja X");
  free(s);
  CHECK_INT(shop_template_check(shop_template_default("pt-BR"), NULL, NULL), 0);
}

TEST(default_template_en) {
  char *s = shop_template_render(NULL, &vars, "en");
  CHECK_STR(s, "Thank you for your purchase, @ana!\nOrder PEDIDO01: Conta Premium 30 dias\n"
               "Your key:\nABCD-1234\nLoja X");
  free(s);
  CHECK_INT(shop_template_check(shop_template_default("en"), NULL, NULL), 0);
}

TEST(low_stock_rule) {
  CHECK_INT(shop_low_stock(0, 0), 0); /* 0: never warns */
  CHECK_INT(shop_low_stock(5, 6), 0);
  CHECK_INT(shop_low_stock(5, 5), 1); /* at the threshold */
  CHECK_INT(shop_low_stock(5, 0), 1);
  CHECK_INT(shop_low_stock(-1, 0), 0);
}

static json_t *product(const char *text) { return json_loads(text, 0, NULL); }

static void row(struct shop_stock_tally *t, const char *pid, const char *vid, size_t a,
                size_t r, size_t s) {
  t->rows = realloc(t->rows, (t->nrows + 1) * sizeof *t->rows);
  struct shop_stock_tally_row *x = &t->rows[t->nrows++];
  memset(x, 0, sizeof *x);
  strcpy(x->product_id, pid);
  strcpy(x->variation_id, vid);
  x->n = (struct shop_stock_counts){a, r, s};
  t->cap = t->nrows;
}

TEST(product_json_counts_and_low_stock_without_variations) {
  json_t *rec = product("{\"id\":\"p1\",\"instanceId\":\"i1\",\"name\":\"A\",\"priceCents\":100,"
                        "\"active\":true,\"lowStockThreshold\":3,\"variations\":[]}");
  struct shop_stock_tally t = {0};
  row(&t, "p1", "", 3, 1, 7);
  row(&t, "p2", "", 50, 0, 0); /* another product's keys never count */
  json_t *j = shop_product_json(rec, &t);
  CHECK(j != NULL);
  CHECK(!json_object_get(j, "instanceId"));
  CHECK(json_is_null(json_object_get(j, "imageUrl")));
  CHECK(json_is_null(json_object_get(j, "dmTemplate")));
  CHECK(json_is_null(json_object_get(j, "post")));
  json_t *st = json_object_get(j, "stock");
  CHECK_INT(json_integer_value(json_object_get(st, "available")), 3);
  CHECK_INT(json_integer_value(json_object_get(st, "reserved")), 1);
  CHECK_INT(json_integer_value(json_object_get(st, "sold")), 7);
  CHECK(json_is_true(json_object_get(j, "lowStock")));
  json_decref(j);
  t.rows[0].n.available = 4;
  j = shop_product_json(rec, &t);
  CHECK(json_is_false(json_object_get(j, "lowStock")));
  json_decref(j);
  /* the record handed in is never changed */
  CHECK(json_object_get(rec, "instanceId") && !json_object_get(rec, "stock"));
  shop_stock_tally_free(&t);
  json_decref(rec);
}

TEST(product_json_low_stock_per_active_variation) {
  json_t *rec = product(
      "{\"id\":\"p1\",\"name\":\"A\",\"priceCents\":100,\"active\":true,\"lowStockThreshold\":2,"
      "\"variations\":[{\"id\":\"v1\",\"name\":\"30\",\"priceCents\":100,\"active\":true},"
      "{\"id\":\"v2\",\"name\":\"60\",\"priceCents\":200,\"active\":false}]}");
  struct shop_stock_tally t = {0};
  row(&t, "p1", "v1", 10, 0, 1);
  row(&t, "p1", "v2", 0, 0, 0);
  json_t *j = shop_product_json(rec, &t);
  json_t *v = json_object_get(j, "variations");
  /* the inactive, empty variation does not make the product low */
  CHECK(json_is_false(json_object_get(j, "lowStock")));
  CHECK(json_is_false(json_object_get(json_array_get(v, 1), "lowStock")));
  CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "stock"), "available")), 10);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "stock"), "sold")), 1);
  json_decref(j);
  /* an active variation at its threshold makes the product low, though the total is not */
  t.rows[0].n.available = 2;
  row(&t, "p1", "v9", 5, 0, 0); /* keys of a variation that no longer exists */
  j = shop_product_json(rec, &t);
  v = json_object_get(j, "variations");
  CHECK(json_is_true(json_object_get(json_array_get(v, 0), "lowStock")));
  CHECK(json_is_true(json_object_get(j, "lowStock")));
  CHECK_INT(json_integer_value(json_object_get(
                json_object_get(json_array_get(v, 0), "stock"), "available")),
            2);
  CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "stock"), "available")), 7);
  json_decref(j);
  /* threshold 0: never low, even with nothing in stock */
  json_object_set_new(rec, "lowStockThreshold", json_integer(0));
  j = shop_product_json(rec, NULL);
  CHECK(json_is_false(json_object_get(j, "lowStock")));
  CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "stock"), "available")), 0);
  json_decref(j);
  shop_stock_tally_free(&t);
  json_decref(rec);
}

TEST(price_of_product_or_variation) {
  json_t *rec = product("{\"id\":\"p1\",\"priceCents\":990,\"variations\":"
                        "[{\"id\":\"v1\",\"priceCents\":1990},{\"id\":\"v2\"}]}");
  CHECK_INT(shop_price_cents(rec, NULL), 990);
  CHECK_INT(shop_price_cents(rec, "v1"), 1990);
  CHECK_INT(shop_price_cents(rec, "v2"), -1);
  CHECK_INT(shop_price_cents(rec, "nope"), -1);
  CHECK(shop_product_variation(rec, "v1") != NULL);
  CHECK(shop_product_variation(rec, NULL) == NULL);
  json_decref(rec);
}

TEST(image_urls) {
  CHECK(shop_image_url_ok("https://cdn.loja.com/capa.png"));
  CHECK(shop_image_url_ok("https://cdn.loja.com"));
  CHECK(shop_image_url_ok("https://cdn.loja.com:8443/a.png?x=1#y"));
  CHECK(!shop_image_url_ok("http://cdn.loja.com/capa.png"));
  CHECK(!shop_image_url_ok("https://"));
  CHECK(!shop_image_url_ok("https:///capa.png"));
  CHECK(!shop_image_url_ok("https://./x"));
  CHECK(!shop_image_url_ok("https://user@cdn.loja.com/x"));
  CHECK(!shop_image_url_ok("https://cdn.loja.com/a b.png"));
  CHECK(!shop_image_url_ok("https://cdn.loja.com/a\tb.png"));
  CHECK(!shop_image_url_ok("https://cdn.loja.com:/x"));
  CHECK(!shop_image_url_ok("javascript:alert(1)"));
  CHECK(!shop_image_url_ok("HTTPS://cdn.loja.com/x"));
}
