/* The error registry: one X-macro table of every error the APIs can answer. Every error body
 * is {"code":N,"error":"NAME","message":"...","field"?:"..."}. Codes are never reused: when
 * an error is retired, its row stays commented out so that its number is not taken again. */
#ifndef ASTRA_CORE_ERRORS_H
#define ASTRA_CORE_ERRORS_H

/*  X(id, code, HTTP status, pt-BR message, English message) */
#define ERR_TABLE(X)                                                                        \
  X(ERR_INTERNAL, 1000, 500, "Erro interno. Tente novamente.", "Internal error. Try again.") \
  X(ERR_NOT_FOUND, 1001, 404, "Recurso não encontrado.", "Not found.")                     \
  X(ERR_METHOD_NOT_ALLOWED, 1002, 405, "Método não permitido para este recurso.",           \
    "Method not allowed for this resource.")                                                \
  X(ERR_BODY_TOO_LARGE, 1003, 413, "O corpo da requisição é grande demais.",                \
    "Request body too large.")                                                              \
  X(ERR_URI_TOO_LONG, 1004, 414, "O endereço da requisição é longo demais.",                \
    "Request URI too long.")                                                                \
  X(ERR_UNSUPPORTED_MEDIA_TYPE, 1005, 415, "Envie o corpo como application/json.",          \
    "Send the body as application/json.")                                                   \
  X(ERR_BAD_JSON, 1006, 400, "O corpo não é um JSON válido.", "The body is not valid JSON.") \
  X(ERR_BAD_FIELD, 1007, 400, "Campo inválido.", "Invalid field.")                          \
  X(ERR_MISSING_FIELD, 1008, 400, "Campo obrigatório ausente.", "Missing required field.")  \
  X(ERR_UNKNOWN_FIELD, 1009, 400, "Campo desconhecido.", "Unknown field.")                  \
  X(ERR_BAD_PATH, 1010, 400, "Endereço inválido.", "Invalid path.")                         \
  X(ERR_UNAUTHORIZED, 1011, 401, "Autenticação necessária.", "Authentication required.")   \
  X(ERR_FORBIDDEN, 1012, 403, "Acesso negado.", "Forbidden.")                               \
  X(ERR_RATE_LIMITED, 1013, 429, "Muitas tentativas. Aguarde e tente novamente.",           \
    "Too many requests. Wait and try again.")                                               \
  X(ERR_UNAVAILABLE, 1014, 503, "Serviço indisponível no momento.",                         \
    "Service unavailable right now.")                                                       \
  X(ERR_SHUTTING_DOWN, 1015, 503, "O servidor está reiniciando. Tente de novo em instantes.", \
    "The server is restarting. Try again shortly.")                                         \
  X(ERR_STORE_FAILED, 1016, 503,                                                            \
    "Não foi possível gravar os dados. Nada foi alterado; avise o operador.",              \
    "Data could not be written. Nothing was changed; tell the operator.")                   \
  X(ERR_CONFLICT, 1017, 409, "Conflito com o estado atual.", "Conflict with current state.") \
  X(ERR_BAD_QUERY, 1018, 400, "Parâmetro de consulta inválido.", "Invalid query parameter.") \
  X(ERR_BAD_REQUEST, 1019, 400, "Requisição inválida.", "Bad request.")                     \
  /* portal accounts (src/portal/auth.c and the auth endpoints) */                          \
  X(ERR_EMAIL_TAKEN, 1100, 409,                                                             \
    "Já existe uma conta com este e-mail. Entre ou use outro e-mail.",                     \
    "An account with this email already exists. Log in or use another email.")             \
  X(ERR_BAD_CREDENTIALS, 1101, 401, "E-mail ou senha incorretos.",                          \
    "Wrong email or password.")                                                             \
  X(ERR_SESSION_EXPIRED, 1102, 401, "Sua sessão expirou ou foi encerrada. Entre novamente.", \
    "Your session expired or was ended. Log in again.")                                     \
  X(ERR_CSRF, 1103, 403, "Token de segurança (CSRF) ausente ou inválido. Recarregue a página.", \
    "Missing or invalid security (CSRF) token. Reload the page.")                           \
  X(ERR_BAD_EMAIL, 1104, 400, "Informe um e-mail válido.", "Enter a valid email address.")  \
  X(ERR_BAD_PASSWORD, 1105, 400, "A senha deve ter de 8 a 128 caracteres.",                 \
    "The password must have 8 to 128 characters.")                                          \
  X(ERR_WRONG_PASSWORD, 1106, 400, "A senha atual está incorreta.",                         \
    "The current password is wrong.")                                                      \
  X(ERR_DISCORD_NOT_CONFIGURED, 1107, 503,                                                  \
    "O login com Discord não está configurado neste servidor.",                            \
    "Discord login is not configured on this server.")                                      \
  X(ERR_OAUTH_STATE, 1108, 400,                                                             \
    "O login com Discord expirou ou não foi iniciado aqui. Tente novamente.",              \
    "The Discord login expired or was not started here. Try again.")                        \
  X(ERR_OAUTH_DENIED, 1109, 400, "A autorização no Discord foi cancelada.",                 \
    "The authorization on Discord was cancelled.")                                          \
  X(ERR_DISCORD_FAILED, 1110, 502,                                                          \
    "Não foi possível confirmar sua conta com o Discord. Tente novamente.",                \
    "Your account could not be confirmed with Discord. Try again.")                         \
  X(ERR_DISCORD_ALREADY_LINKED, 1111, 409,                                                  \
    "Esta conta do Discord já está vinculada a outro usuário do Astra.",                   \
    "This Discord account is already linked to another Astra user.")                       \
  X(ERR_DISCORD_EMAIL_TAKEN, 1112, 409,                                                     \
    "Já existe uma conta com o e-mail deste Discord. Entre com e-mail e senha e vincule o "  \
    "Discord na sua conta.",                                                                \
    "An account with this Discord's email already exists. Log in with email and password "  \
    "and link Discord from your account.")                                                  \
  /* catalog and product posts: 1200-1219 */                                                \
  X(ERR_PRODUCT_HAS_STOCK, 1200, 409,                                                       \
    "O produto ainda tem chaves disponíveis ou reservadas. Remova-as antes.",               \
    "The product still has available or reserved keys. Remove them first.")               \
  X(ERR_VARIATION_HAS_STOCK, 1201, 409,                                                     \
    "A variação ainda tem chaves disponíveis ou reservadas. Remova-as antes.",              \
    "The variation still has available or reserved keys. Remove them first.")             \
  X(ERR_BAD_TEMPLATE, 1202, 400,                                                            \
    "O modelo usa um marcador desconhecido. Use {produto}, {variacao}, {chave}, {pedido}, "  \
    "{comprador} ou {loja}.",                                                               \
    "The template uses an unknown placeholder. Use {produto}, {variacao}, {chave}, "        \
    "{pedido}, {comprador} or {loja}.")                                                     \
  X(ERR_VARIATION_REQUIRED, 1203, 400, "Este produto tem variações: escolha uma.",          \
    "This product has variations: pick one.")                                               \
  X(ERR_BOT_NOT_READY, 1204, 409,                                                           \
    "Defina um token de bot válido nesta instância antes de publicar.",                     \
    "Set a valid bot token on this instance before posting.")                               \
  X(ERR_NO_CHANNEL, 1205, 400,                                                              \
    "Escolha um canal ou defina o canal da loja nas configurações.",                        \
    "Pick a channel or set the store channel in the settings.")                             \
  X(ERR_DISCORD_REJECTED, 1206, 502,                                                        \
    "O Discord recusou a mensagem: confira se o bot está no servidor e pode escrever nesse " \
    "canal.",                                                                               \
    "Discord refused the message: check that the bot is in the server and may write in "   \
    "that channel.")                                                                        \
  X(ERR_PRODUCT_INACTIVE, 1207, 409, "Ative o produto antes de publicá-lo.",                \
    "Activate the product before posting it.")                                              \
  X(ERR_TEMPLATE_NO_KEY, 1208, 400,                                                         \
    "O modelo precisa conter {chave}: é por ele que o comprador recebe a chave.",           \
    "The template must contain {chave}: that is how the buyer receives the key.")           \
  /* stock: 1220-1239 */                                                                    \
  X(ERR_STOCK_NOT_REMOVABLE, 1220, 409,                                                     \
    "Só chaves disponíveis podem ser removidas; esta está reservada ou vendida.",           \
    "Only available keys can be removed; this one is reserved or sold.")                   \
  X(ERR_STOCK_TOO_MANY, 1221, 400, "Envie no máximo 5000 chaves por vez.",                   \
    "Send at most 5000 keys at a time.")                                                    \
  /* coupons: 1240-1259 */                                                                  \
  X(ERR_COUPON_CODE_TAKEN, 1240, 409, "Já existe um cupom com este código nesta loja.",     \
    "A coupon with this code already exists in this store.")                               \
  X(ERR_COUPON_WINDOW, 1241, 400, "O fim da validade deve ser depois do início.",           \
    "The end of the validity window must be after its start.")

enum err_id {
#define ERR_ENUM_(id, code, status, pt, en) id,
  ERR_TABLE(ERR_ENUM_)
#undef ERR_ENUM_
      ERR_COUNT
};

struct err_info {
  enum err_id id;
  int code;
  const char *name; /* the enum name without ERR_, lower case: "not_found" */
  unsigned status;
  const char *msg_pt;
  const char *msg_en;
};

const struct err_info *err_info(enum err_id id);
/* The message in the given locale ("en" or anything else = pt-BR). */
const char *err_message(enum err_id id, const char *locale);
/* For tests: the number of rows. */
int err_count(void);

#endif
