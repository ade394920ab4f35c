/* The store's schema: which collection lives in which file under which key, and the
 * validation of ids and scopes (which become path components and journal text). */
#include "store_int.h"

#include <string.h>

static const struct {
  const char *name; /* journal name, store_coll_name() */
  const char *key;  /* key inside the file */
  enum store_fkind file;
} colls[STORE_COLL_COUNT] = {
    [STORE_USERS] = {"users", "users", F_PORTAL},
    [STORE_INSTANCES] = {"instances", "instances", F_PORTAL},
    [STORE_SESSIONS] = {"sessions", "sessions", F_PORTAL},
    [STORE_WALLET] = {"wallet", "walletTransactions", F_PORTAL},
    [STORE_WITHDRAWALS] = {"withdrawals", "withdrawals", F_PORTAL},
    [STORE_ORDERS] = {"orders", "orders", F_ORDERS},
    [STORE_CARTS] = {"carts", "carts", F_CARTS},
    [STORE_DELIVERIES] = {"deliveries", "deliveries", F_DELIVERIES},
    [STORE_OUTBOX] = {"outbox", "outbox", F_DELIVERIES},
    [STORE_CUSTOMERS] = {"customers", "customers", F_CUSTOMERS},
    [STORE_PRODUCTS] = {"products", "products", F_PRODUCTS},
    [STORE_STOCK] = {"stock", "stock", F_STOCK},
    [STORE_COUPONS] = {"coupons", "coupons", F_COUPONS},
};

static const struct {
  const char *name;
  const char *base;
} files[F_COUNT] = {
    [F_PORTAL] = {"portal.json", "portal"},
    [F_ORDERS] = {"orders.json", "orders"},
    [F_CARTS] = {"carts.json", "carts"},
    [F_DELIVERIES] = {"deliveries.json", "deliveries"},
    [F_CUSTOMERS] = {"customers.json", "customers"},
    [F_PRODUCTS] = {"products.json", "products"},
    [F_STOCK] = {"stock.json", "stock"},
    [F_COUPONS] = {"coupons.json", "coupons"},
};

const char *store_coll_name(enum store_coll c) {
  return (unsigned)c < STORE_COLL_COUNT ? colls[c].name : "?";
}

int store_coll_scoped(enum store_coll c) {
  return (unsigned)c < STORE_COLL_COUNT && store_fkind_scoped(colls[c].file);
}

const char *store_state_name(enum store_state st) {
  switch (st) {
  case STORE_LOADING:
    return "loading";
  case STORE_OK:
    return "ok";
  case STORE_FAILED:
    return "failed";
  case STORE_CLOSED:
    return "closed";
  }
  return "?";
}

const char *store_fkind_name(enum store_fkind f) { return files[f].name; }
const char *store_fkind_base(enum store_fkind f) { return files[f].base; }
int store_fkind_scoped(enum store_fkind f) { return f >= F_PRODUCTS; }
enum store_fkind store_coll_file(enum store_coll c) { return colls[c].file; }
const char *store_coll_key(enum store_coll c) { return colls[c].key; }

int store_coll_by_name(const char *name) {
  for (int c = 0; c < STORE_COLL_COUNT; c++)
    if (!strcmp(colls[c].name, name))
      return c;
  return -1;
}

int store_coll_by_key(enum store_fkind f, const char *key) {
  for (int c = 0; c < STORE_COLL_COUNT; c++)
    if (colls[c].file == f && !strcmp(colls[c].key, key))
      return c;
  return -1;
}

int store_valid_id(const char *id) {
  if (!id)
    return 0;
  size_t n = 0;
  for (const char *p = id; *p; p++, n++) {
    char ch = *p;
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '-';
    if (!ok || n >= STORE_ID_MAX)
      return 0;
  }
  return n > 0;
}

int store_valid_month(const char *m) {
  for (int i = 0; i < 7; i++) {
    if (i == 4) {
      if (m[i] != '-')
        return 0;
    } else if (m[i] < '0' || m[i] > '9') {
      return 0;
    }
  }
  int month = (m[5] - '0') * 10 + (m[6] - '0');
  return m[7] == '\0' && month >= 1 && month <= 12;
}
