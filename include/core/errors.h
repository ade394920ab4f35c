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
  X(ERR_BAD_REQUEST, 1019, 400, "Requisição inválida.", "Bad request.")

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
