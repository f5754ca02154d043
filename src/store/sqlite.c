/* The embedded store: one SQLite database file in WAL mode, one table.
 *
 *   CREATE TABLE backstage_state (type TEXT, id BLOB, version INTEGER,
 *                                 data BLOB, PRIMARY KEY (type, id))
 *
 * A save is an UPDATE guarded by the expected version (or an INSERT that
 * does nothing when the row exists, for version 0), so a stale writer
 * changes no row and gets BS_ECONFLICT. The engine's storage thread wraps
 * the writes of a batch in BEGIN IMMEDIATE ... COMMIT: one WAL append and
 * (with `durable`) one fsync for all of them. Why SQLite and not LMDB:
 * docs/persistence.md, "The embedded store". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

enum { Q_GET, Q_INSERT, Q_UPDATE, Q_DELETE, Q_EXISTS, Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_N };

static const char *const SQL[Q_N] = {
    "SELECT version, data FROM backstage_state WHERE type = ?1 AND id = ?2",
    "INSERT INTO backstage_state (type, id, version, data) VALUES (?1, ?2, 1, ?3) "
    "ON CONFLICT DO NOTHING",
    "UPDATE backstage_state SET version = version + 1, data = ?3 "
    "WHERE type = ?1 AND id = ?2 AND version = ?4",
    "DELETE FROM backstage_state WHERE type = ?1 AND id = ?2 AND version = ?3",
    "SELECT 1 FROM backstage_state WHERE type = ?1 AND id = ?2",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

typedef struct sq {
  sqlite3 *db;
  sqlite3_stmt *q[Q_N];
  sqlite3_stmt *held; /* the statement whose row a loaded record points into */
  bool batch;         /* between begin and commit */
} sq;

/* SQLite rolls a transaction back by itself on some errors (I/O, disk
 * full, no memory). A later write of the batch must then not run on its
 * own, committed at once, while the batch is reported failed. */
static bool batch_lost(sq *d) { return d->batch && sqlite3_get_autocommit(d->db); }

/* A statement for key `k`, reset and bound. */
static sqlite3_stmt *with_key(sq *d, int which, const bs_store_key *k) {
  if (d->held) {
    sqlite3_reset(d->held);
    d->held = NULL;
  }
  sqlite3_stmt *st = d->q[which];
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (sqlite3_bind_text(st, 1, k->type, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_blob(st, 2, k->id, (int)k->id_len, SQLITE_STATIC) != SQLITE_OK)
    return NULL;
  return st;
}

static int sq_load(void *impl, const bs_store_key *k, bs_store_record *rec) {
  sq *d = impl;
  sqlite3_stmt *st = with_key(d, Q_GET, k);
  if (!st) return BS_ESTORE;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) return BS_ENOTFOUND;
  if (rc != SQLITE_ROW) return BS_ESTORE;
  sqlite3_int64 v = sqlite3_column_int64(st, 0);
  const void *data = sqlite3_column_blob(st, 1);
  int len = sqlite3_column_bytes(st, 1);
  if (v <= 0 || len < 0) return BS_ECORRUPT;
  rec->data = data;
  rec->len = (size_t)len;
  rec->version = (uint64_t)v;
  d->held = st; /* valid until our next call */
  return 0;
}

static int changed(sq *d, sqlite3_stmt *st) {
  if (batch_lost(d)) return BS_ESTORE;
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return BS_ESTORE;
  return sqlite3_changes(d->db) == 1 ? 0 : BS_ECONFLICT;
}

static int sq_save(void *impl, const bs_store_key *k, const void *data, size_t len,
                   uint64_t expected, uint64_t *version) {
  sq *d = impl;
  if (len > INT32_MAX || expected >= INT64_MAX) return BS_ETOOBIG;
  sqlite3_stmt *st = with_key(d, expected ? Q_UPDATE : Q_INSERT, k);
  if (!st || sqlite3_bind_blob(st, 3, data ? data : "", (int)len, SQLITE_STATIC) != SQLITE_OK ||
      (expected && sqlite3_bind_int64(st, 4, (sqlite3_int64)expected) != SQLITE_OK))
    return BS_ESTORE;
  int rc = changed(d, st);
  if (rc == 0) *version = expected + 1;
  return rc;
}

static int sq_remove(void *impl, const bs_store_key *k, uint64_t expected) {
  sq *d = impl;
  if (expected >= INT64_MAX) return BS_ECONFLICT;
  sqlite3_stmt *st = with_key(d, expected ? Q_DELETE : Q_EXISTS, k);
  if (!st) return BS_ESTORE;
  if (!expected) { /* nothing to delete unless someone created it */
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? BS_ECONFLICT : BS_ESTORE;
  }
  if (sqlite3_bind_int64(st, 3, (sqlite3_int64)expected) != SQLITE_OK) return BS_ESTORE;
  return changed(d, st);
}

static int run(sq *d, int which) {
  if (d->held) {
    sqlite3_reset(d->held);
    d->held = NULL;
  }
  sqlite3_stmt *st = d->q[which];
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : BS_ESTORE;
}

static int sq_begin(void *impl) {
  sq *d = impl;
  int rc = run(d, Q_BEGIN);
  d->batch = rc == 0;
  return rc;
}

static int sq_commit(void *impl) {
  sq *d = impl;
  bool lost = batch_lost(d);
  d->batch = false;
  if (lost) return BS_ESTORE;
  int rc = run(d, Q_COMMIT);
  if (rc < 0 && !sqlite3_get_autocommit(d->db)) (void)run(d, Q_ROLLBACK);
  return rc;
}

static void sq_close(void *impl) {
  sq *d = impl;
  if (!d) return;
  for (int i = 0; i < Q_N; i++) sqlite3_finalize(d->q[i]);
  sqlite3_close(d->db);
  free(d);
}

static const bs_store_ops sqlite_ops = {
    .load = sq_load,
    .save = sq_save,
    .remove = sq_remove,
    .begin = sq_begin,
    .commit = sq_commit,
    .close = sq_close,
};

void bs_store_sqlite_options_init(bs_store_sqlite_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->durable = true;
  o->busy_timeout_ms = 5000;
}

static int setup(sq *d, const char *path, const bs_store_sqlite_options *o) {
  char sql[256];
  if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                         SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    return BS_ESTORE;
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
           "CREATE TABLE IF NOT EXISTS backstage_state (type TEXT NOT NULL, "
           "id BLOB NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL, "
           "PRIMARY KEY (type, id)) WITHOUT ROWID;",
           o->durable ? "FULL" : "NORMAL");
  sqlite3_busy_timeout(d->db, (int)(o->busy_timeout_ms > INT32_MAX ? INT32_MAX : o->busy_timeout_ms));
  if (sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK) return BS_ESTORE;
  for (int i = 0; i < Q_N; i++)
    if (sqlite3_prepare_v3(d->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &d->q[i], NULL) !=
        SQLITE_OK)
      return BS_ESTORE;
  return 0;
}

int bs_store_open(bs_store **out, const char *path, const bs_store_sqlite_options *opts) {
  if (!out) return BS_EINVAL;
  *out = NULL;
  if (!path || !path[0]) return BS_EINVAL;
  bs_store_sqlite_options o;
  if (opts) o = *opts; else bs_store_sqlite_options_init(&o);
  sq *d = calloc(1, sizeof *d);
  if (!d) return BS_ENOMEM;
  int rc = setup(d, path, &o);
  if (rc < 0) {
    fprintf(stderr, "backstage: store '%s': %s\n", path,
            d->db ? sqlite3_errmsg(d->db) : "cannot open");
    sq_close(d);
    return rc;
  }
  rc = bs_store_new(out, &sqlite_ops, d);
  if (rc < 0) sq_close(d);
  return rc;
}
