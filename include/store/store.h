/* The store: every record in memory, transactions over collections keyed by id, a callback
 * once a transaction is durable, iteration and secondary indexes.
 *
 * The embedded backend keeps the Node system's data/<name>.json layout: each file is a checkpoint
 * ({"version":1,"seq":N,"<collection>":{id:record,...}}), and every transaction is first
 * appended to data/journal.jsonl, fsynced with others (group commit) on a writer thread.
 * File names, paths and fsync stay behind this interface so that a PostgreSQL backend can
 * implement it later (a table per collection, JSONB rows).
 *
 * Rules for callers:
 *  - records handed out by store_get/store_foreach are shared and immutable: never modify
 *    them; to change one, json_deep_copy() it and store_put() the copy.
 *  - nothing is acknowledged to anyone before the commit callback says the transaction is
 *    durable. A reader that acts on state it did not write itself and then acknowledges
 *    (say, a replayed webhook that finds the order already paid) waits on store_flush().
 *  - all calls are on the loop thread. */
#ifndef ASTRA_STORE_STORE_H
#define ASTRA_STORE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The collections. The schema table in src/store/schema.c maps each to its file and key:
 * portal.json: users, instances, sessions, wallet (key "walletTransactions"), withdrawals;
 * orders.json: orders; carts.json: carts; deliveries.json: deliveries, outbox;
 * customers.json: customers; instances/<scope>/{products,stock,coupons}.json (scoped by
 * instance id). */
enum store_coll {
  STORE_USERS,
  STORE_INSTANCES,
  STORE_SESSIONS,
  STORE_WALLET,
  STORE_WITHDRAWALS,
  STORE_ORDERS,
  STORE_CARTS,
  STORE_DELIVERIES,
  STORE_OUTBOX,
  STORE_CUSTOMERS,
  STORE_PRODUCTS, /* scoped */
  STORE_STOCK,    /* scoped */
  STORE_COUPONS,  /* scoped */
  STORE_COLL_COUNT
};

const char *store_coll_name(enum store_coll c);
/* 1 when the collection lives per instance (scope = instance id), else 0. */
int store_coll_scoped(enum store_coll c);

enum store_state { STORE_LOADING, STORE_OK, STORE_FAILED, STORE_CLOSED };
const char *store_state_name(enum store_state s);

struct store;
struct store_txn;

struct store_options {
  const char *dir;         /* the data directory */
  uv_loop_t *loop;
  size_t checkpoint_bytes; /* journal size that triggers a checkpoint; 0: 64 MiB */
  unsigned checkpoint_ms;  /* at most this long between checkpoints of dirty files; 0: 60 s */
};

/* Loads every file, replays the journal, and returns an open store. On a corrupt file it
 * fails with err naming the file and the byte offset ("data/orders.json: byte 1234: ...");
 * it never resets data. A torn last journal line (a crash mid-append) is dropped, as it was
 * never acknowledged. Blocking: called once at start, before the loop runs.
 * (Errors that are not JSON syntax, such as a record that is not an object, name the file
 * and the record instead of an offset. One store at a time may open a directory: it holds
 * an flock on the directory until closed.) */
int store_open(struct store **out, const struct store_options *opt, char *err, size_t errlen);

/* Makes everything durable (journal flushed, dirty files checkpointed, journal trimmed),
 * then calls done on the loop. Further commits fail. */
void store_close(struct store *s, void (*done)(int status, void *arg), void *arg);
/* Frees memory; after store_close's callback (or on a store that was never used).
 * On an open store it abandons it as a crash would (tests use this): commits not yet
 * durable are neither written nor called back; work already in the thread pool finishes
 * first, so the memory goes once the loop has run. */
void store_free(struct store *s);

/* Reading. Records are borrowed and immutable. scope is the instance id for scoped
 * collections and NULL otherwise. (For a scoped collection, store_count and store_foreach
 * with scope NULL cover every scope; store_get needs the scope.) */
const json_t *store_get(struct store *s, enum store_coll c, const char *scope, const char *id);
size_t store_count(struct store *s, enum store_coll c, const char *scope);
/* Calls fn for each record (in no particular order) until fn returns non-zero. fn may
 * commit: it sees the records as they were when store_foreach was called. */
typedef int (*store_iter_fn)(const char *id, const json_t *rec, void *arg);
void store_foreach(struct store *s, enum store_coll c, const char *scope, store_iter_fn fn,
                   void *arg);
/* Scopes (instance ids) that have records in a scoped collection. */
void store_foreach_scope(struct store *s, enum store_coll c,
                         int (*fn)(const char *scope, void *arg), void *arg);

/* Secondary indexes over a top-level string field of a collection's records (records whose
 * field is missing or not a string are not indexed). A unique index makes store_commit fail
 * with STORE_ECONFLICT when two records would share a key. Define indexes right after
 * store_open. */
enum { STORE_INDEX_MULTI = 0, STORE_INDEX_UNIQUE = 1 };
int store_index_define(struct store *s, enum store_coll c, const char *field, int unique);
/* First id with that key (the only one for a unique index), or NULL. For scoped collections
 * the index spans every scope; *scope_out (when not NULL) receives the record's scope.
 * (For a multi index, which one comes "first" is unspecified. The strings stay valid until
 * the next commit.) store_index_define returns STORE_ECONFLICT when the records already
 * break a unique index (it is then not defined). */
const char *store_index_get(struct store *s, enum store_coll c, const char *field,
                            const char *key, const char **scope_out);
void store_index_foreach(struct store *s, enum store_coll c, const char *field, const char *key,
                         int (*fn)(const char *scope, const char *id, const json_t *rec,
                                   void *arg),
                         void *arg);

/* Transactions. */
enum { STORE_OK_ = 0, STORE_ERR = -1, STORE_ECONFLICT = -2, STORE_EFAILED = -3 };
struct store_txn *store_begin(struct store *s);
/* Puts a whole record (steals the reference to rec, even on error). STORE_ERR when rec is
 * not an object, or id (or scope) is not 1-64 characters of [A-Za-z0-9_-], or a scope is
 * given for an unscoped collection or missing for a scoped one; the txn stays usable. */
int store_put(struct store_txn *t, enum store_coll c, const char *scope, const char *id,
              json_t *rec);
int store_del(struct store_txn *t, enum store_coll c, const char *scope, const char *id);
/* Status 0: the transaction is durable. Otherwise it failed (the store is in STORE_FAILED:
 * the journal could not be written; nothing after that point is durable). */
typedef void (*store_commit_cb)(int status, void *arg);
/* Applies the transaction in memory at once and queues it for the journal; cb runs on the
 * loop once it is durable. Returns 0, or STORE_ECONFLICT (a unique index would be broken;
 * nothing applied, cb not called) or STORE_EFAILED (the store has failed; nothing applied).
 * The txn is consumed in every case. cb may be NULL. */
int store_commit(struct store_txn *t, store_commit_cb cb, void *arg);
void store_abort(struct store_txn *t);
/* cb once every transaction committed so far is durable. */
void store_flush(struct store *s, store_commit_cb cb, void *arg);

/* Archives: moves records of a collection (unscoped) for which pick() returns a month
 * "YYYY-MM" (written into month[8]; return 0 to keep the record live) into
 * data/archive/<file>-YYYY-MM.json, written atomically on the writer thread (merged with
 * an existing archive of that month), then deletes them from the live collection in one
 * transaction. done(status, count) on the loop. Re-running after a crash is harmless.
 * (A record changed between pick and the delete stays live; its archived copy is replaced
 * by a later run. An archive file that exists but does not parse is never overwritten:
 * done gets -1.) */
void store_archive(struct store *s, enum store_coll c,
                   int (*pick)(const char *id, const json_t *rec, char month[8], void *arg),
                   void *pick_arg, void (*done)(int status, size_t archived, void *arg),
                   void *arg);

/* Starts a checkpoint of the dirty files now (normally the store decides). */
void store_checkpoint(struct store *s);

struct store_stats {
  enum store_state state;
  uint64_t seq;             /* last committed transaction */
  uint64_t durable_seq;     /* last durable transaction */
  uint64_t commits;         /* transactions committed since open */
  uint64_t fsyncs;          /* journal fsyncs since open */
  uint64_t journal_bytes;   /* size of the journal not yet trimmed */
  uint64_t checkpoints;     /* checkpoints completed since open */
  unsigned dirty_files;
  unsigned files;
  size_t records;
  int checkpoint_running;
  const char *last_error; /* NULL or the last I/O error */
};
void store_stats(struct store *s, struct store_stats *out);

/* Fault injection for tests: the n-th (1-based, counted from this call) call of the given
 * kind fails with EIO; n = 0 disarms. Kinds: "write", "fsync", "rename". */
void store_fault_inject(const char *kind, unsigned n);

#endif
