/* Unit tests for Discord's body limits (src/discord/limits.c). One table: each row is a body
 * (JSON text), the check it goes through, and either NULL (it must pass) or a piece of the
 * reason it must fail with, which names the field. Long strings and arrays are written as
 * @<n>*<unit>@ (unit repeated n times) and @<n>,<unit>@ (n units joined by commas). Counts
 * that need distinct names (101 commands) are built in code below the table. */
#include "discord/limits.h"
#include "harness.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { MSG, CB, CMDS, ROUTE };

struct row {
  const char *name;
  enum kind kind;
  int origin;       /* CB: the interaction's origin */
  const char *method, *path; /* ROUTE */
  const char *json; /* NULL: no body */
  const char *want; /* NULL: passes; else a part of the reason */
};

/* Expands the @n*unit@ / @n,unit@ shorthands. */
static char *expand(const char *s) {
  size_t cap = strlen(s) + 1, len = 0;
  char *out = malloc(cap);
  while (*s) {
    const char *end;
    char *num_end;
    long n = s[0] == '@' ? strtol(s + 1, &num_end, 10) : -1;
    if (n >= 0 && (*num_end == '*' || *num_end == ',') && (end = strchr(num_end + 1, '@'))) {
      const char *unit = num_end + 1;
      size_t ulen = (size_t)(end - unit);
      for (long i = 0; i < n; i++) {
        size_t need = len + ulen + 2;
        if (need > cap) {
          cap = need * 2;
          out = realloc(out, cap);
        }
        if (i && *num_end == ',')
          out[len++] = ',';
        memcpy(out + len, unit, ulen);
        len += ulen;
      }
      s = end + 1;
      continue;
    }
    if (len + 2 > cap) {
      cap *= 2;
      out = realloc(out, cap);
    }
    out[len++] = *s++;
  }
  out[len] = '\0';
  return out;
}

#define BTN(id) "{\"type\":2,\"style\":1,\"label\":\"ok\",\"custom_id\":\"" id "\"}"
/* (Several components: ROW(A "," B).) */
#define ROW(comps) "{\"type\":1,\"components\":[" comps "]}"
#define SELECT_OPT "{\"label\":\"a\",\"value\":\"a\"}"
#define TI(extra) "{\"type\":4,\"custom_id\":\"ti\",\"style\":1" extra "}"
#define LABEL(comp) "{\"type\":18,\"label\":\"Coupon\",\"component\":" comp "}"
#define MODAL(comps)                                                                        \
  "{\"type\":9,\"data\":{\"custom_id\":\"m\",\"title\":\"Coupon\",\"components\":[" comps "]}}"

static const struct row rows[] = {
    /* ---- messages ---- */
    {"plain message", MSG, 0, 0, 0, "{\"content\":\"hi\"}", NULL},
    {"rich message", MSG, 0, 0, 0,
     "{\"content\":\"Produto\",\"embeds\":[{\"title\":\"Key\",\"description\":\"d\","
     "\"fields\":[{\"name\":\"Preço\",\"value\":\"R$ 10\"}],\"footer\":{\"text\":\"f\"},"
     "\"author\":{\"name\":\"a\"}}],\"components\":[" ROW(BTN("buy") "," BTN("info")) "," ROW(
         "{\"type\":3,\"custom_id\":\"var\",\"placeholder\":\"p\",\"min_values\":1,"
         "\"max_values\":2,\"options\":[" SELECT_OPT "," SELECT_OPT "]}") "," ROW(
         "{\"type\":2,\"style\":5,\"label\":\"site\",\"url\":\"https://x.y\"}") "]}",
     NULL},
    {"content at 2000", MSG, 0, 0, 0, "{\"content\":\"@2000*a@\"}", NULL},
    {"content over 2000", MSG, 0, 0, 0, "{\"content\":\"@2001*a@\"}", "content: 2001 > 2000"},
    {"content counts code points", MSG, 0, 0, 0, "{\"content\":\"@2000*é@\"}", NULL},
    {"content of 2001 code points", MSG, 0, 0, 0, "{\"content\":\"@2001*é@\"}",
     "content: 2001 > 2000"},
    {"content not a string", MSG, 0, 0, 0, "{\"content\":5}", "content: not a string"},
    {"body not an object", MSG, 0, 0, 0, "[]", "not an object"},
    {"10 embeds", MSG, 0, 0, 0, "{\"embeds\":[@10,{}@]}", NULL},
    {"11 embeds", MSG, 0, 0, 0, "{\"embeds\":[@11,{}@]}", "embeds: 11 embeds > 10"},
    {"embed title 257", MSG, 0, 0, 0, "{\"embeds\":[{\"title\":\"@257*a@\"}]}",
     "embeds[0].title: 257 > 256"},
    {"embed title trimmed", MSG, 0, 0, 0, "{\"embeds\":[{\"title\":\"  @256*a@ \\n\"}]}", NULL},
    {"embed description 4097", MSG, 0, 0, 0, "{\"embeds\":[{},{\"description\":\"@4097*a@\"}]}",
     "embeds[1].description: 4097 > 4096"},
    {"embed 25 fields", MSG, 0, 0, 0,
     "{\"embeds\":[{\"fields\":[@25,{\"name\":\"n\",\"value\":\"v\"}@]}]}", NULL},
    {"embed 26 fields", MSG, 0, 0, 0,
     "{\"embeds\":[{\"fields\":[@26,{\"name\":\"n\",\"value\":\"v\"}@]}]}",
     "embeds[0].fields: 26 fields > 25"},
    {"field name 257", MSG, 0, 0, 0,
     "{\"embeds\":[{\"fields\":[{\"name\":\"@257*a@\",\"value\":\"v\"}]}]}",
     "embeds[0].fields[0].name: 257 > 256"},
    {"field value 1025", MSG, 0, 0, 0,
     "{\"embeds\":[{\"fields\":[{\"name\":\"n\",\"value\":\"v\"},{\"name\":\"n\",\"value\":"
     "\"@1025*a@\"}]}]}",
     "embeds[0].fields[1].value: 1025 > 1024"},
    {"field without value", MSG, 0, 0, 0, "{\"embeds\":[{\"fields\":[{\"name\":\"n\"}]}]}",
     "embeds[0].fields[0].value: missing"},
    {"field with blank name", MSG, 0, 0, 0,
     "{\"embeds\":[{\"fields\":[{\"name\":\"  \",\"value\":\"v\"}]}]}",
     "embeds[0].fields[0].name: empty"},
    {"footer text 2049", MSG, 0, 0, 0, "{\"embeds\":[{\"footer\":{\"text\":\"@2049*a@\"}}]}",
     "embeds[0].footer.text: 2049 > 2048"},
    {"author name 257", MSG, 0, 0, 0, "{\"embeds\":[{\"author\":{\"name\":\"@257*a@\"}}]}",
     "embeds[0].author.name: 257 > 256"},
    {"embeds total 6000", MSG, 0, 0, 0,
     "{\"embeds\":[{\"description\":\"@4000*a@\"},{\"description\":\"@1744*a@\","
     "\"title\":\"@256*a@\"}]}",
     NULL},
    {"embeds total 6001", MSG, 0, 0, 0,
     "{\"embeds\":[{\"description\":\"@4000*a@\"},{\"description\":\"@1745*a@\","
     "\"title\":\"@256*a@\"}]}",
     "embeds: 6001 characters in all embeds > 6000"},
    {"embeds total counts trimmed text", MSG, 0, 0, 0,
     "{\"embeds\":[{\"description\":\"@4000*a@@50* @\"},{\"description\":\"@2000*a@\"}]}",
     NULL},
    {"nonce of 25", MSG, 0, 0, 0, "{\"content\":\"x\",\"nonce\":\"@25*n@\"}", NULL},
    {"nonce of 26", MSG, 0, 0, 0, "{\"content\":\"x\",\"nonce\":\"@26*n@\"}",
     "nonce: 26 > 25"},
    {"integer nonce", MSG, 0, 0, 0, "{\"content\":\"x\",\"nonce\":123456789}", NULL},
    {"nonce of another type", MSG, 0, 0, 0, "{\"content\":\"x\",\"nonce\":[1]}",
     "nonce: not a string or an integer"},
    {"enforce_nonce with nonce", MSG, 0, 0, 0,
     "{\"content\":\"x\",\"nonce\":\"order-1\",\"enforce_nonce\":true}", NULL},
    {"enforce_nonce without nonce", MSG, 0, 0, 0, "{\"content\":\"x\",\"enforce_nonce\":true}",
     "enforce_nonce: enforce_nonce without a nonce"},
    {"allowed flags", MSG, 0, 0, 0, "{\"content\":\"x\",\"flags\":4100}", NULL},
    {"flag not for messages", MSG, 0, 0, 0, "{\"content\":\"x\",\"flags\":2}",
     "flags: flag 2 not allowed"},
    {"flags not an integer", MSG, 0, 0, 0, "{\"content\":\"x\",\"flags\":\"64\"}",
     "flags: not an integer"},
    {"V2 message", MSG, 0, 0, 0,
     "{\"flags\":32768,\"components\":[{\"type\":17,\"components\":[{\"type\":10,"
     "\"content\":\"# Loja\"},{\"type\":9,\"components\":[{\"type\":10,\"content\":\"Key\"}],"
     "\"accessory\":" BTN("buy") "}," ROW(BTN("a") "," BTN("b")) "]},{\"type\":14}]}",
     NULL},
    {"V2 with content", MSG, 0, 0, 0,
     "{\"flags\":32768,\"content\":\"x\",\"components\":[{\"type\":10,\"content\":\"t\"}]}",
     "content: not allowed with IS_COMPONENTS_V2"},
    {"V2 edit clearing content", MSG, 0, 0, 0,
     "{\"flags\":32768,\"content\":null,\"embeds\":[],\"components\":[{\"type\":10,"
     "\"content\":\"t\"}]}",
     NULL},
    {"V2 with embeds", MSG, 0, 0, 0,
     "{\"flags\":32768,\"embeds\":[{}],\"components\":[{\"type\":10,\"content\":\"t\"}]}",
     "embeds: not allowed with IS_COMPONENTS_V2"},
    {"V2 with 40 components", MSG, 0, 0, 0,
     "{\"flags\":32768,\"components\":[@40,{\"type\":10,\"content\":\"t\"}@]}", NULL},
    {"V2 with 41 components", MSG, 0, 0, 0,
     "{\"flags\":32768,\"components\":[@41,{\"type\":10,\"content\":\"t\"}@]}",
     "components: 41 components in all > 40"},
    {"V2 nested components count", MSG, 0, 0, 0,
     "{\"flags\":32768,\"components\":[{\"type\":17,\"components\":[@39,{\"type\":10,"
     "\"content\":\"t\"}@]},{\"type\":14}]}",
     "components: 41 components in all > 40"},
    {"V2 text input", MSG, 0, 0, 0, "{\"flags\":32768,\"components\":[" TI("") "]}",
     "components[0]: type 4 cannot be in a message"},
    {"V2 section accessory", MSG, 0, 0, 0,
     "{\"flags\":32768,\"components\":[{\"type\":9,\"components\":[{\"type\":10,\"content\":"
     "\"t\"}],\"accessory\":{\"type\":10,\"content\":\"t\"}}]}",
     "components[0].accessory: type 10"},
    {"5 rows sharing a custom_id", MSG, 0, 0, 0, "{\"components\":[@5," ROW(BTN("x")) "@]}",
     "custom_id: \"x\" is used twice"},
    {"6 action rows", MSG, 0, 0, 0, "{\"components\":[@6," ROW(BTN("x")) "@]}",
     "components: 6 action rows > 5"},
    {"5 action rows", MSG, 0, 0, 0,
     "{\"components\":[" ROW(BTN("1")) "," ROW(BTN("2")) "," ROW(BTN("3")) "," ROW(
         BTN("4")) "," ROW(BTN("5")) "]}",
     NULL},
    {"5 buttons in a row", MSG, 0, 0, 0,
     "{\"components\":[" ROW(BTN("a") "," BTN("b") "," BTN("c") "," BTN("d") "," BTN(
         "e")) "]}",
     NULL},
    {"6 buttons in a row", MSG, 0, 0, 0,
     "{\"components\":[" ROW(BTN("a") "," BTN("b") "," BTN("c") "," BTN("d") "," BTN(
         "e") "," BTN("f")) "]}",
     "components[0]: 6 buttons > 5"},
    {"select with a button", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":5,\"custom_id\":\"u\"}" "," BTN("b")) "]}",
     "an action row with a select holds only that select"},
    {"two selects in a row", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":5,\"custom_id\":\"u\"},"
                             "{\"type\":6,\"custom_id\":\"r\"}") "]}",
     "an action row with a select holds only that select"},
    {"empty action row", MSG, 0, 0, 0, "{\"components\":[{\"type\":1,\"components\":[]}]}",
     "components[0].components: an action row needs at least one component"},
    {"button outside a row", MSG, 0, 0, 0, "{\"components\":[" BTN("a") "]}",
     "components[0]: type 2 at the top level needs IS_COMPONENTS_V2"},
    {"text input in a message", MSG, 0, 0, 0, "{\"components\":[" ROW(TI("")) "]}",
     "components[0].components[0]: text inputs belong in modals"},
    {"button without custom_id", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":3,\"label\":\"x\"}") "]}",
     "components[0].components[0].custom_id: missing"},
    {"button custom_id empty", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":1,\"custom_id\":\"\"}") "]}",
     "components[0].components[0].custom_id: empty"},
    {"button custom_id 100", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":1,\"custom_id\":\"@100*c@\"}") "]}", NULL},
    {"button custom_id 101", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":1,\"custom_id\":\"@101*c@\"}") "]}",
     "components[0].components[0].custom_id: 101 > 100"},
    {"custom_id used twice", MSG, 0, 0, 0,
     "{\"components\":[" ROW(BTN("a")) "," ROW("{\"type\":3,\"custom_id\":\"a\","
                                               "\"options\":[" SELECT_OPT "]}") "]}",
     "components[1].components[0].custom_id: \"a\" is used twice"},
    {"button with url and custom_id", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":1,\"custom_id\":\"a\",\"url\":\"https://"
                             "x\"}") "]}",
     "components[0].components[0].url: not allowed"},
    {"link button with custom_id", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":5,\"custom_id\":\"a\",\"url\":\"https://"
                             "x\"}") "]}",
     "components[0].components[0].custom_id: not allowed on a link button"},
    {"link button without url", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":5,\"label\":\"x\"}") "]}",
     "components[0].components[0].url: missing"},
    {"link button url 513", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":5,\"url\":\"https://@505*u@\"}") "]}",
     "components[0].components[0].url: 513 > 512"},
    {"button label 81", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":1,\"custom_id\":\"a\",\"label\":"
                             "\"@81*l@\"}") "]}",
     "components[0].components[0].label: 81 > 80"},
    {"button style 7", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":7,\"custom_id\":\"a\"}") "]}",
     "components[0].components[0].style: 7 outside 1-6"},
    {"button without style", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"custom_id\":\"a\"}") "]}",
     "components[0].components[0].style: missing"},
    {"premium button", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":2,\"style\":6,\"sku_id\":\"123\"}") "]}", NULL},
    {"select without options", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[]}") "]}",
     "components[0].components[0].options: 0 options (1-25)"},
    {"select with 25 options", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[@25," SELECT_OPT
                             "@]}") "]}",
     NULL},
    {"select with 26 options", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[@26," SELECT_OPT
                             "@]}") "]}",
     "components[0].components[0].options: 26 options (1-25)"},
    {"option label 101", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[{\"label\":"
                             "\"@101*a@\",\"value\":\"v\"}]}") "]}",
     "components[0].components[0].options[0].label: 101 > 100"},
    {"option value 101", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[" SELECT_OPT
                             ",{\"label\":\"l\",\"value\":\"@101*v@\"}]}") "]}",
     "components[0].components[0].options[1].value: 101 > 100"},
    {"option description 101", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[{\"label\":\"l\","
                             "\"value\":\"v\",\"description\":\"@101*d@\"}]}") "]}",
     "components[0].components[0].options[0].description: 101 > 100"},
    {"option without value", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":3,\"custom_id\":\"s\",\"options\":[{\"label\":\"l\"}"
                             "]}") "]}",
     "components[0].components[0].options[0].value: missing"},
    {"select placeholder 151", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":5,\"custom_id\":\"s\",\"placeholder\":\"@151*p@\"}") "]}",
     "components[0].components[0].placeholder: 151 > 150"},
    {"select min_values 26", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":8,\"custom_id\":\"s\",\"min_values\":26}") "]}",
     "components[0].components[0].min_values: 26 outside 0-25"},
    {"select max_values 0", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":7,\"custom_id\":\"s\",\"max_values\":0}") "]}",
     "components[0].components[0].max_values: 0 outside 1-25"},
    {"select max below min", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":6,\"custom_id\":\"s\",\"min_values\":3,"
                             "\"max_values\":2}") "]}",
     "components[0].components[0]: max_values 2 < min_values 3"},
    {"select min_values 0 in a message", MSG, 0, 0, 0,
     "{\"components\":[" ROW("{\"type\":6,\"custom_id\":\"s\",\"min_values\":0,"
                             "\"max_values\":25}") "]}",
     NULL},
    {"component without type", MSG, 0, 0, 0, "{\"components\":[{\"components\":[]}]}",
     "components[0].type: missing"},

    /* ---- interaction callbacks ---- */
    {"PONG", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":1}", NULL},
    {"type 4 message", CB, LIMITS_FROM_COMMAND, 0, 0,
     "{\"type\":4,\"data\":{\"content\":\"ok\",\"flags\":64,\"components\":[" ROW(BTN("a")) "]}}",
     NULL},
    {"type 4 without data", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":4}", "data: missing"},
    {"type 4 content 2001", CB, LIMITS_FROM_COMMAND, 0, 0,
     "{\"type\":4,\"data\":{\"content\":\"@2001*a@\"}}", "data.content: 2001 > 2000"},
    {"type 4 bad flag", CB, LIMITS_FROM_COMMAND, 0, 0,
     "{\"type\":4,\"data\":{\"content\":\"a\",\"flags\":1}}", "data.flags: flag 1"},
    {"type 4 bad embed", CB, LIMITS_FROM_COMMAND, 0, 0,
     "{\"type\":4,\"data\":{\"embeds\":[{\"title\":\"@257*a@\"}]}}",
     "data.embeds[0].title: 257 > 256"},
    {"type 4 V2 with content", CB, LIMITS_FROM_COMPONENT, 0, 0,
     "{\"type\":4,\"data\":{\"flags\":32832,\"content\":\"a\"}}",
     "data.content: not allowed with IS_COMPONENTS_V2"},
    {"type 5 ephemeral", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":5,\"data\":{\"flags\":64}}",
     NULL},
    {"type 5 without data", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":5}", NULL},
    {"type 5 V2 flag", CB, LIMITS_FROM_COMMAND, 0, 0,
     "{\"type\":5,\"data\":{\"flags\":32832}}", "data.flags: only EPHEMERAL (64)"},
    {"type 5 suppress embeds", CB, LIMITS_FROM_COMPONENT, 0, 0,
     "{\"type\":5,\"data\":{\"flags\":4}}", "data.flags: only EPHEMERAL (64)"},
    {"type 6 for a component", CB, LIMITS_FROM_COMPONENT, 0, 0, "{\"type\":6}", NULL},
    {"type 6 for a command", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":6}",
     "type: 6 (DEFERRED_UPDATE_MESSAGE)"},
    {"type 6 for a modal submit", CB, LIMITS_FROM_MODAL, 0, 0, "{\"type\":6}",
     "type: 6 (DEFERRED_UPDATE_MESSAGE)"},
    {"type 6 for a message's modal", CB, LIMITS_FROM_MODAL_ON_MESSAGE, 0, 0, "{\"type\":6}",
     NULL},
    {"type 7 for a component", CB, LIMITS_FROM_COMPONENT, 0, 0,
     "{\"type\":7,\"data\":{\"content\":\"updated\",\"components\":[]}}", NULL},
    {"type 7 for a command", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":7,\"data\":{}}",
     "type: 7 (UPDATE_MESSAGE)"},
    {"type 7 follows message rules", CB, LIMITS_FROM_COMPONENT, 0, 0,
     "{\"type\":7,\"data\":{\"components\":[@6," ROW("{\"type\":5,\"custom_id\":\"u\"}") "@]}}",
     "data.components: 6 action rows > 5"},
    {"modal", CB, LIMITS_FROM_COMPONENT, 0, 0,
     MODAL(LABEL(TI(",\"min_length\":1,\"max_length\":30,\"placeholder\":\"CUPOM10\"")) ","
           "{\"type\":10,\"content\":\"Digite\"}," LABEL("{\"type\":3,\"custom_id\":\"s\","
                                                         "\"options\":[" SELECT_OPT "]}")),
     NULL},
    {"modal for a command", CB, LIMITS_FROM_COMMAND, 0, 0, MODAL(LABEL(TI(""))), NULL},
    {"modal for a modal submit", CB, LIMITS_FROM_MODAL, 0, 0, MODAL(LABEL(TI(""))),
     "type: 9 (MODAL) cannot answer a modal submit"},
    {"modal for a message's modal submit", CB, LIMITS_FROM_MODAL_ON_MESSAGE, 0, 0,
     MODAL(LABEL(TI(""))), "type: 9 (MODAL) cannot answer a modal submit"},
    {"modal without data", CB, LIMITS_FROM_COMMAND, 0, 0, "{\"type\":9}", "data: missing"},
    {"modal title 45", CB, 0, 0, 0,
     "{\"type\":9,\"data\":{\"custom_id\":\"m\",\"title\":\"@45*t@\",\"components\":[" LABEL(
         TI("")) "]}}",
     NULL},
    {"modal title 46", CB, 0, 0, 0,
     "{\"type\":9,\"data\":{\"custom_id\":\"m\",\"title\":\"@46*t@\",\"components\":[" LABEL(
         TI("")) "]}}",
     "data.title: 46 > 45"},
    {"modal without title", CB, 0, 0, 0,
     "{\"type\":9,\"data\":{\"custom_id\":\"m\",\"components\":[" LABEL(TI("")) "]}}",
     "data.title: missing"},
    {"modal custom_id 101", CB, 0, 0, 0,
     "{\"type\":9,\"data\":{\"custom_id\":\"@101*m@\",\"title\":\"t\",\"components\":[" LABEL(
         TI("")) "]}}",
     "data.custom_id: 101 > 100"},
    {"modal without components", CB, 0, 0, 0, MODAL(""), "data.components: 0 components (1-5)"},
    {"modal with 6 components", CB, 0, 0, 0,
     MODAL("@6,{\"type\":10,\"content\":\"t\"}@"), "data.components: 6 components (1-5)"},
    {"label 46", CB, 0, 0, 0,
     MODAL("{\"type\":18,\"label\":\"@46*l@\",\"component\":" TI("") "}"),
     "data.components[0].label: 46 > 45"},
    {"label without label", CB, 0, 0, 0, MODAL("{\"type\":18,\"component\":" TI("") "}"),
     "data.components[0].label: missing"},
    {"label description 101", CB, 0, 0, 0,
     MODAL("{\"type\":18,\"label\":\"l\",\"description\":\"@101*d@\",\"component\":" TI("") "}"),
     "data.components[0].description: 101 > 100"},
    {"label without component", CB, 0, 0, 0, MODAL("{\"type\":18,\"label\":\"l\"}"),
     "data.components[0].component: missing"},
    {"text input min_length 4001", CB, 0, 0, 0, MODAL(LABEL(TI(",\"min_length\":4001"))),
     "data.components[0].component.min_length: 4001 outside 0-4000"},
    {"text input max_length 0", CB, 0, 0, 0, MODAL(LABEL(TI(",\"max_length\":0"))),
     "data.components[0].component.max_length: 0 outside 1-4000"},
    {"text input max below min", CB, 0, 0, 0,
     MODAL(LABEL(TI(",\"min_length\":10,\"max_length\":5"))),
     "data.components[0].component: max_length 5 < min_length 10"},
    {"text input style 3", CB, 0, 0, 0,
     MODAL(LABEL("{\"type\":4,\"custom_id\":\"ti\",\"style\":3}")),
     "data.components[0].component.style: 3 outside 1-2"},
    {"text input value 4001", CB, 0, 0, 0, MODAL(LABEL(TI(",\"value\":\"@4001*v@\""))),
     "data.components[0].component.value: 4001 > 4000"},
    {"text input placeholder 101", CB, 0, 0, 0,
     MODAL(LABEL(TI(",\"placeholder\":\"@101*p@\""))),
     "data.components[0].component.placeholder: 101 > 100"},
    {"text input without custom_id", CB, 0, 0, 0,
     MODAL(LABEL("{\"type\":4,\"style\":1}")), "data.components[0].component.custom_id: missing"},
    {"legacy modal row", CB, 0, 0, 0, MODAL(ROW(TI(",\"label\":\"Cupom\""))), NULL},
    {"legacy modal row without label", CB, 0, 0, 0, MODAL(ROW(TI(""))),
     "data.components[0].components[0].label: missing"},
    {"legacy modal row label 46", CB, 0, 0, 0, MODAL(ROW(TI(",\"label\":\"@46*l@\""))),
     "data.components[0].components[0].label: 46 > 45"},
    {"button in a modal", CB, 0, 0, 0, MODAL(ROW(BTN("b"))),
     "data.components[0].components[0]: type 2 cannot be in a modal action row"},
    {"disabled select in a modal", CB, 0, 0, 0,
     MODAL(LABEL("{\"type\":3,\"custom_id\":\"s\",\"disabled\":true,\"options\":[" SELECT_OPT
                 "]}")),
     "data.components[0].component.disabled: not allowed in a modal"},
    {"required select with min 0 in a modal", CB, 0, 0, 0,
     MODAL(LABEL("{\"type\":3,\"custom_id\":\"s\",\"min_values\":0,\"options\":[" SELECT_OPT
                 "]}")),
     "data.components[0].component.min_values: 0 on a required select"},
    {"optional select with min 0 in a modal", CB, 0, 0, 0,
     MODAL(LABEL("{\"type\":3,\"custom_id\":\"s\",\"min_values\":0,\"required\":false,"
                 "\"options\":[" SELECT_OPT "]}")),
     NULL},
    {"custom_id twice in a modal", CB, 0, 0, 0, MODAL(LABEL(TI("")) "," LABEL(TI(""))),
     "data.components[1].component.custom_id: \"ti\" is used twice"},
    {"callback type 8", CB, 0, 0, 0, "{\"type\":8,\"data\":{\"choices\":[]}}",
     "type: 8 is not a callback type we send"},
    {"callback type 2", CB, 0, 0, 0, "{\"type\":2}", "type: 2 is not a callback type"},
    {"callback without type", CB, 0, 0, 0, "{\"data\":{}}", "type: missing"},
    {"callback not an object", CB, 0, 0, 0, "[1]", "body: not an object"},
    {"unknown origin", CB, 4, 0, 0, "{\"type\":1}", "component: 4 is not an interaction origin"},

    /* ---- application commands ---- */
    {"commands", CMDS, 0, 0, 0,
     "[{\"name\":\"loja\",\"description\":\"Abre a loja\",\"options\":[{\"type\":3,\"name\":"
     "\"produto\",\"description\":\"Qual\",\"required\":true,\"choices\":[{\"name\":\"A\","
     "\"value\":\"a\"}]},{\"type\":4,\"name\":\"qtd\",\"description\":\"Quantos\"}]},"
     "{\"name\":\"vincular\",\"description\":\"Liga\",\"options\":[{\"type\":1,\"name\":"
     "\"chave\",\"description\":\"Chave\",\"options\":[{\"type\":3,\"name\":\"valor\","
     "\"description\":\"v\",\"required\":true}]}]},{\"type\":2,\"name\":\"Ver Pedidos\"},"
     "{\"type\":3,\"name\":\"loja\",\"description\":\"\"}]",
     NULL},
    {"commands not an array", CMDS, 0, 0, 0, "{}", "body: not an array of commands"},
    {"command name 32", CMDS, 0, 0, 0, "[{\"name\":\"@32*a@\",\"description\":\"d\"}]", NULL},
    {"command name 33", CMDS, 0, 0, 0, "[{\"name\":\"@33*a@\",\"description\":\"d\"}]",
     "[0].name: 33 > 32"},
    {"command name empty", CMDS, 0, 0, 0, "[{\"name\":\"\",\"description\":\"d\"}]",
     "[0].name: empty"},
    {"command name upper case", CMDS, 0, 0, 0, "[{\"name\":\"Loja\",\"description\":\"d\"}]",
     "[0].name: \"Loja\" must be lower case"},
    {"command name accented upper case", CMDS, 0, 0, 0,
     "[{\"name\":\"preÇo\",\"description\":\"d\"}]", "[0].name: \"preÇo\" must be lower case"},
    {"command name accented", CMDS, 0, 0, 0,
     "[{\"name\":\"preço_ação-2\",\"description\":\"d\"}]", NULL},
    {"command name apostrophe and script", CMDS, 0, 0, 0,
     "[{\"name\":\"it's\",\"description\":\"d\"},{\"name\":\"日本\",\"description\":\"d\"}]",
     NULL},
    {"command name with space", CMDS, 0, 0, 0, "[{\"name\":\"a b\",\"description\":\"d\"}]",
     "[0].name: \"a b\" may only hold"},
    {"command name with symbol", CMDS, 0, 0, 0, "[{\"name\":\"loja!\",\"description\":\"d\"}]",
     "[0].name: \"loja!\" may only hold"},
    {"command name with emoji", CMDS, 0, 0, 0,
     "[{\"name\":\"loja\xf0\x9f\x9b\x92\",\"description\":\"d\"}]", "may only hold"},
    {"command description 101", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"@101*d@\"}]", "[0].description: 101 > 100"},
    {"command without description", CMDS, 0, 0, 0, "[{\"name\":\"a\"}]",
     "[0].description: missing"},
    {"user command with description", CMDS, 0, 0, 0,
     "[{\"type\":2,\"name\":\"Ver\",\"description\":\"x\"}]", "[0].description: 1 > 0"},
    {"user command with options", CMDS, 0, 0, 0,
     "[{\"type\":2,\"name\":\"Ver\",\"options\":[]}]",
     "[0].options: only CHAT_INPUT commands have options"},
    {"command type 5", CMDS, 0, 0, 0, "[{\"type\":5,\"name\":\"a\",\"description\":\"d\"}]",
     "[0].type: 5 outside 1-4"},
    {"command name twice", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\"},{\"name\":\"a\",\"description\":\"e\"}]",
     "[1].name: \"a\" is used twice"},
    {"26 options", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[@26,{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\"}@]}]",
     "[0].options: 26 options > 25"},
    {"option name upper case", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"Qtd\","
     "\"description\":\"d\"}]}]",
     "[0].options[0].name: \"Qtd\" must be lower case"},
    {"option name 33", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"@33*o@\","
     "\"description\":\"d\"}]}]",
     "[0].options[0].name: 33 > 32"},
    {"option description 101", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"@101*d@\"}]}]",
     "[0].options[0].description: 101 > 100"},
    {"option without description", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\"}]}]",
     "[0].options[0].description: missing"},
    {"option type 12", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":12,\"name\":\"o\","
     "\"description\":\"d\"}]}]",
     "[0].options[0].type: 12 outside 1-11"},
    {"option names twice", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\"},{\"type\":4,\"name\":\"o\",\"description\":\"d\"}]}]",
     "[0].options[1].name: \"o\" is used twice"},
    {"required after optional", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\"},{\"type\":4,\"name\":\"p\",\"description\":\"d\",\"required\":"
     "true}]}]",
     "[0].options[1]: a required option after an optional one"},
    {"25 choices", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\",\"choices\":[@25,{\"name\":\"c\",\"value\":\"v\"}@]}]}]",
     NULL},
    {"26 choices", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\",\"choices\":[@26,{\"name\":\"c\",\"value\":\"v\"}@]}]}]",
     "[0].options[0].choices: 26 choices > 25"},
    {"choice name 101", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\",\"choices\":[{\"name\":\"@101*c@\",\"value\":\"v\"}]}]}]",
     "[0].options[0].choices[0].name: 101 > 100"},
    {"choice value 101", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\",\"choices\":[{\"name\":\"c\",\"value\":\"@101*v@\"}]}]}]",
     "[0].options[0].choices[0].value: 101 > 100"},
    {"integer choice", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":4,\"name\":\"o\","
     "\"description\":\"d\",\"choices\":[{\"name\":\"c\",\"value\":7}]}]}]",
     NULL},
    {"autocomplete with choices", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"o\","
     "\"description\":\"d\",\"autocomplete\":true,\"choices\":[{\"name\":\"c\",\"value\":"
     "\"v\"}]}]}]",
     "[0].options[0].autocomplete: autocomplete cannot be set with choices"},
    {"subcommand option name", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":1,\"name\":\"s\","
     "\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"X\",\"description\":\"d\"}]}]}]",
     "[0].options[0].options[0].name: \"X\" must be lower case"},
    {"options on a string option", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"s\","
     "\"description\":\"d\",\"options\":[]}]}]",
     "[0].options[0].options: only subcommands and groups have options"},
    {"string option max_length 6001", CMDS, 0, 0, 0,
     "[{\"name\":\"a\",\"description\":\"d\",\"options\":[{\"type\":3,\"name\":\"s\","
     "\"description\":\"d\",\"max_length\":6001}]}]",
     "[0].options[0].max_length: 6001 outside 1-6000"},

    /* ---- limits_check_route ---- */
    {"route: channel message", ROUTE, 0, "POST", "/channels/1/messages",
     "{\"content\":\"@2001*a@\"}", "content: 2001 > 2000"},
    {"route: channel message flags", ROUTE, 0, "POST", "/channels/1/messages",
     "{\"content\":\"a\",\"flags\":12292}", NULL},
    {"route: no ephemeral in a channel", ROUTE, 0, "POST", "/channels/1/messages",
     "{\"content\":\"a\",\"flags\":64}", "flags: flag 64 not allowed"},
    {"route: edit flags", ROUTE, 0, "PATCH", "/channels/1/messages/2",
     "{\"content\":\"a\",\"flags\":4096}", "flags: flag 4096 not allowed"},
    {"route: edit", ROUTE, 0, "PATCH", "/channels/1/messages/2?x=1",
     "{\"embeds\":[{\"title\":\"@257*a@\"}]}", "embeds[0].title: 257 > 256"},
    {"route: follow-up ephemeral", ROUTE, 0, "POST", "/webhooks/1/tok-en?wait=true",
     "{\"content\":\"a\",\"flags\":64}", NULL},
    {"route: follow-up content", ROUTE, 0, "POST", "/webhooks/1/tok-en",
     "{\"content\":\"@2001*a@\"}", "content: 2001 > 2000"},
    {"route: edit original", ROUTE, 0, "PATCH", "/webhooks/1/tok/messages/@original",
     "{\"components\":[@6," ROW("{\"type\":5,\"custom_id\":\"u\"}") "@]}",
     "components: 6 action rows > 5"},
    {"route: callback type 7 (origin unknown)", ROUTE, 0, "POST",
     "/interactions/1/tok/callback", "{\"type\":7}", NULL},
    {"route: callback type 9 (origin unknown)", ROUTE, 0, "POST",
     "/interactions/1/tok/callback?with_response=true", MODAL(LABEL(TI(""))), NULL},
    {"route: callback type 8", ROUTE, 0, "POST", "/interactions/1/tok/callback", "{\"type\":8}",
     "type: 8"},
    {"route: callback data", ROUTE, 0, "POST", "/interactions/1/tok/callback",
     "{\"type\":4,\"data\":{\"content\":\"@2001*a@\"}}", "data.content: 2001 > 2000"},
    {"route: callback type 5 flags", ROUTE, 0, "POST", "/interactions/1/tok/callback",
     "{\"type\":5,\"data\":{\"flags\":32768}}", "data.flags: only EPHEMERAL"},
    {"route: callback without body", ROUTE, 0, "POST", "/interactions/1/tok/callback", NULL,
     "body: missing"},
    {"route: global commands", ROUTE, 0, "PUT", "/applications/1/commands",
     "[{\"name\":\"Loja\",\"description\":\"d\"}]", "[0].name: \"Loja\" must be lower case"},
    {"route: guild commands", ROUTE, 0, "PUT", "/applications/1/guilds/2/commands",
     "[{\"name\":\"loja\",\"description\":\"d\"}]", NULL},
    {"route: guild commands refused", ROUTE, 0, "PUT", "/applications/1/guilds/2/commands",
     "[{\"name\":\"loja\"}]", "[0].description: missing"},
    {"route: no rules for GET", ROUTE, 0, "GET", "/channels/1/messages",
     "{\"content\":\"@2001*a@\"}", NULL},
    {"route: no rules for threads", ROUTE, 0, "POST", "/channels/1/threads",
     "{\"content\":\"@2001*a@\"}", NULL},
    {"route: no rules for reactions", ROUTE, 0, "PUT",
     "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me", NULL, NULL},
};

static int run_row(const struct row *r, char *why, size_t whylen) {
  char *text = r->json ? expand(r->json) : NULL;
  json_error_t err;
  json_t *body = text ? json_loads(text, JSON_DECODE_ANY, &err) : NULL;
  free(text);
  if (r->json && !body) {
    snprintf(why, whylen, "bad test JSON: %s (col %d)", err.text, err.column);
    return -2;
  }
  int rc;
  switch (r->kind) {
  case MSG:
    rc = limits_check_message(body, why, whylen);
    break;
  case CB:
    rc = limits_check_callback(body, r->origin, why, whylen);
    break;
  case CMDS:
    rc = limits_check_commands(body, why, whylen);
    break;
  default:
    rc = limits_check_route(r->method, r->path, body, why, whylen);
    break;
  }
  json_decref(body);
  return rc;
}

TEST(table_of_limits) {
  int bad = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const struct row *r = &rows[i];
    char why[512] = "(unset)";
    int rc = run_row(r, why, sizeof why);
    if (rc == -2 || (r->want ? rc != -1 || !strstr(why, r->want) : rc != 0)) {
      printf("#   row \"%s\": rc %d, why \"%s\", expected %s%s%s\n", r->name, rc, why,
             r->want ? "a failure naming \"" : "a pass", r->want ? r->want : "",
             r->want ? "\"" : "");
      bad++;
    }
  }
  CHECK_INT(bad, 0);
}

TEST(passing_check_clears_why) {
  char why[64] = "stale text";
  json_t *m = json_pack("{s:s}", "content", "hi");
  int rc = limits_check_message(m, why, sizeof why);
  json_decref(m);
  CHECK_INT(rc, 0);
  CHECK_STR(why, "");
}

TEST(short_or_missing_why_buffer_is_safe) {
  char why[8];
  json_t *m = json_pack("{s:i}", "content", 5);
  int rc1 = limits_check_message(m, why, sizeof why);
  int rc2 = limits_check_message(m, NULL, 0);
  json_decref(m);
  CHECK_INT(rc1, -1);
  CHECK_INT(rc2, -1);
  CHECK_INT(strlen(why), 7);
  CHECK(strncmp(why, "content", 7) == 0);
}

/* n commands of one type with distinct names. */
static json_t *commands(int type, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, type == 1 ? "cmd%d" : "Cmd %d", i);
    json_array_append_new(a, json_pack("{s:i,s:s,s:s}", "type", type, "name", name,
                                       "description", type == 1 ? "d" : ""));
  }
  return a;
}

TEST(command_counts_per_type) {
  char why[256];
  json_t *c100 = commands(1, 100), *c101 = commands(1, 101);
  json_t *u15 = commands(2, 15), *u16 = commands(2, 16), *m16 = commands(3, 16);
  json_array_extend(c100, u15); /* 100 slash + 15 user commands together are fine */
  int ok = limits_check_commands(c100, why, sizeof why);
  int too_many = limits_check_commands(c101, why, sizeof why);
  char why_many[256];
  snprintf(why_many, sizeof why_many, "%s", why);
  int users = limits_check_commands(u16, why, sizeof why);
  char why_users[256];
  snprintf(why_users, sizeof why_users, "%s", why);
  int messages = limits_check_commands(m16, why, sizeof why);
  json_decref(c100);
  json_decref(c101);
  json_decref(u15);
  json_decref(u16);
  json_decref(m16);
  CHECK_INT(ok, 0);
  CHECK_INT(too_many, -1);
  CHECK_STR(why_many, "body: more than 100 CHAT_INPUT commands");
  CHECK_INT(users, -1);
  CHECK_STR(why_users, "body: more than 15 USER commands");
  CHECK_INT(messages, -1);
  CHECK_STR(why, "body: more than 15 MESSAGE commands");
}

/* Names, descriptions and values of a command, its options and choices: 8000 at most. */
TEST(command_total_characters) {
  char why[256];
  char long_text[101];
  memset(long_text, 'x', 100);
  long_text[100] = '\0';
  json_t *opts = json_array();
  for (int i = 0; i < 2; i++) {
    json_t *choices = json_array();
    for (int j = 0; j < 20; j++)
      json_array_append_new(choices, json_pack("{s:s,s:s}", "name", long_text, "value",
                                               long_text));
    char name[8];
    snprintf(name, sizeof name, "o%d", i);
    json_array_append_new(opts, json_pack("{s:i,s:s,s:s,s:o}", "type", 3, "name", name,
                                          "description", "d", "choices", choices));
  }
  /* 2 * 20 * 200 = 8000 in choices alone, plus "a", "d" and each option's "oN" and "d":
   * 8008, over. */
  json_t *cmd = json_pack("[{s:s,s:s,s:o}]", "name", "a", "description", "d", "options", opts);
  int rc = limits_check_commands(cmd, why, sizeof why);
  /* One choice fewer: 7800 + names, under. */
  json_array_remove(json_object_get(json_array_get(json_object_get(json_array_get(cmd, 0),
                                                                   "options"),
                                                   0),
                                    "choices"),
                    0);
  char why2[256];
  int rc2 = limits_check_commands(cmd, why2, sizeof why2);
  json_decref(cmd);
  CHECK_INT(rc, -1);
  CHECK(strstr(why, "[0]: 8008 characters of names, descriptions and values > 8000") != NULL);
  CHECK_INT(rc2, 0);
}
