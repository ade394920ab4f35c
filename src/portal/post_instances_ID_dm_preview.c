/* POST /api/instances/:id/dm-preview {template?, productId?, variationId?}: the DM a buyer
 * would receive, with sample values, so the seller sees it while typing. The template is the
 * one given, else the product's, else the default in the instance's locale (the language the
 * buyers get). Nothing is stored. */
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/jspec.h"
#include "portal/instances.h"
#include "portal/portal.h"
#include "portal/products.h"
#include "shop/catalog.h"
#include "store/store.h"

static const struct jspec_field fields[] = {
    {"template", JSPEC_STRING, JSPEC_OPTIONAL | JSPEC_NULLABLE, 1, SHOP_TEMPLATE_MAX, NULL},
    {"productId", JSPEC_STRING, JSPEC_OPTIONAL, 1, 64, NULL},
    {"variationId", JSPEC_STRING, JSPEC_OPTIONAL, 1, 64, NULL},
};

enum http_result portal_post_instances_ID_dm_preview(struct http_request *req,
                                                     struct http_reply *rep) {
  const json_t *inst = portal_own_instance(req, rep);
  if (!inst)
    return HTTP_DONE;
  struct jspec_error e;
  if (jspec_check(req->json, fields, sizeof fields / sizeof fields[0], 0, &e) != 0) {
    http_reply_error(req, rep, e.id, e.field, NULL);
    return HTTP_DONE;
  }
  const char *pid = json_string_value(json_object_get(req->json, "productId"));
  const char *vid = json_string_value(json_object_get(req->json, "variationId"));
  if (vid && !pid) { /* a variation means nothing without its product */
    http_reply_error(req, rep, ERR_MISSING_FIELD, "productId", NULL);
    return HTTP_DONE;
  }
  const json_t *prod = pid ? store_get(astra.store, STORE_PRODUCTS, req->params[0], pid) : NULL;
  if (pid && (!prod || json_object_get(prod, "deletedAt"))) {
    http_reply_error(req, rep, ERR_NOT_FOUND, "productId", NULL);
    return HTTP_DONE;
  }
  const json_t *var = vid ? shop_product_variation(prod, vid) : NULL;
  if (vid && !var) {
    http_reply_error(req, rep, ERR_NOT_FOUND, "variationId", NULL);
    return HTTP_DONE;
  }
  const json_t *given = json_object_get(req->json, "template");
  const char *tpl = given ? json_string_value(given) /* null: the default */
                          : json_string_value(json_object_get(prod, "dmTemplate"));
  if (given && tpl && portal_template_check(req, rep, tpl, "template") != 0)
    return HTTP_DONE;
  const char *locale = json_string_value(json_object_get(json_object_get(inst, "settings"),
                                                         "locale"));
  int en = locale && !strcmp(locale, "en");
  struct shop_template_vars v = {
      .produto = prod ? json_string_value(json_object_get(prod, "name"))
                      : (en ? "Sample product" : "Produto de exemplo"),
      .variacao = var ? json_string_value(json_object_get(var, "name")) : "",
      .chave = "ABCD-EFGH-IJKL-MNOP",
      .pedido = "PEDIDO01",
      .comprador = "@comprador",
      .loja = json_string_value(json_object_get(inst, "name")),
  };
  char *content = shop_template_render(tpl, &v, en ? "en" : "pt-BR");
  if (!content) {
    http_reply_error(req, rep, ERR_INTERNAL, NULL, NULL);
    return HTTP_DONE;
  }
  size_t len = jspec_utf8_len(content);
  http_reply_json(rep, 200, json_pack("{s:s, s:I, s:b}", "content", content, "length",
                                      (json_int_t)len, "tooLong", len > SHOP_DM_MAX));
  free(content);
  return HTTP_DONE;
}
