/* Logging: levels; JSON lines in <LOG_DIR>/astra.log and readable lines on stderr.
 * Secrets never reach a log: every value registered with log_add_secret() is replaced by
 * "***" in every line, and so are the credentials after "Bot ", "Bearer " and "Basic ". */
#ifndef ASTRA_CORE_LOG_H
#define ASTRA_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level l);

/* 1 when a line at level l would be written: lets a hot path skip building it. */
int log_enabled(enum log_level l);
/* Opens <dir>/astra.log for appending (creating dir). dir NULL: stderr only. 0 or -1. */
int log_open(const char *dir, enum log_level min);
/* Reopens the log file (SIGHUP, after logrotate moved it). */
void log_reopen(void);
void log_close(void);
void log_set_level(enum log_level min);
/* stderr off for tests that only read the file; on by default. */
void log_set_stderr(int on);
/* A value that must never be written: replaced by *** wherever it appears. Strings shorter
 * than 6 bytes are ignored (too likely to mask ordinary words). The string is copied. */
void log_add_secret(const char *value);
/* Undoes one log_add_secret() of the same value (e.g. an instance's bot token when the
 * instance is deleted). Registrations are counted, so a value added twice stays masked
 * until it is removed twice. */
void log_remove_secret(const char *value);

/* One log line. module: short name ("http", "store"...); reqid: request id or NULL.
 * Extra structured fields may be passed as a NULL-terminated list of key/value string
 * pairs with log_fields(); plain log_msg() has none. */
void log_msg(enum log_level l, const char *module, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_vmsg(enum log_level l, const char *module, const char *reqid, const char *fmt,
              va_list ap);
/* A line with structured fields: kv is {"key","value",...,NULL}. Values are strings; the
 * JSON line carries them as fields, the stderr line as key=value. */
void log_fields(enum log_level l, const char *module, const char *reqid, const char *const *kv,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, NULL, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, NULL, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, NULL, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERROR, mod, NULL, __VA_ARGS__)

/* Redacts secrets from s into out (always NUL-terminated); used by log and exposed for
 * tests and for anything that echoes text to an operator. */
void log_redact(const char *s, char *out, size_t outlen);

#endif
