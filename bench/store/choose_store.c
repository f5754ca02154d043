/* The measurement behind the embedded store's choice (docs/persistence.md,
 * "The embedded store"): the same versioned writes - read the version,
 * write the record if it matches, 30-byte records over 10 000 keys, in
 * transactions of 1600 (the engine's average group commit in
 * backstage-bench-store) - made with SQLite (WAL) and with LMDB, each
 * durable (fsync per commit) and not. Not built by default; with
 * libsqlite3-dev and liblmdb-dev installed:
 *
 *   cc -O2 -o choose_store bench/store/choose_store.c -lsqlite3 -llmdb
 *   ./choose_store [writes]
 */
#define _POSIX_C_SOURCE 200809L
#include <lmdb.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

enum { KEYS = 10000, BATCH = 1600, LEN = 30 };

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Key i, record: [version (8 bytes)][data]. */
static uint32_t rnd = 1;
static int next_key(void) {
  rnd = rnd * 1103515245u + 12345u;
  return (int)((rnd >> 4) % KEYS);
}

static double run_sqlite(const char *path, long n, int durable) {
  sqlite3 *db;
  sqlite3_open(path, &db);
  char sql[256];
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; CREATE TABLE t (type TEXT, id BLOB, "
           "version INTEGER, data BLOB, PRIMARY KEY (type, id)) WITHOUT ROWID;",
           durable ? "FULL" : "NORMAL");
  sqlite3_exec(db, sql, 0, 0, 0);
  sqlite3_stmt *ins, *upd;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES ('W', ?1, 1, ?2) ON CONFLICT DO NOTHING", -1, &ins, 0);
  sqlite3_prepare_v2(db, "UPDATE t SET version = version + 1, data = ?2 WHERE type = 'W' AND id = ?1 AND version = ?3", -1, &upd, 0);
  static uint64_t ver[KEYS];
  memset(ver, 0, sizeof ver);
  char data[LEN];
  memset(data, 7, LEN);
  double t0 = now_s();
  for (long i = 0; i < n;) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
    for (int k = 0; k < BATCH && i < n; k++, i++) {
      int key = next_key();
      char id[16];
      int idlen = snprintf(id, sizeof id, "w-%d", key);
      sqlite3_stmt *st = ver[key] ? upd : ins;
      sqlite3_bind_blob(st, 1, id, idlen, SQLITE_STATIC);
      sqlite3_bind_blob(st, 2, data, LEN, SQLITE_STATIC);
      if (ver[key]) sqlite3_bind_int64(st, 3, (sqlite3_int64)ver[key]);
      if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) abort();
      sqlite3_reset(st);
      ver[key]++;
    }
    if (sqlite3_exec(db, "COMMIT", 0, 0, 0) != SQLITE_OK) abort();
  }
  double dt = now_s() - t0;
  sqlite3_finalize(ins);
  sqlite3_finalize(upd);
  sqlite3_close(db);
  return dt;
}

static double run_lmdb(const char *dir, long n, int durable) {
  MDB_env *env;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, (size_t)1 << 30);
  if (mdb_env_open(env, dir, durable ? 0 : MDB_NOSYNC, 0600)) abort();
  MDB_dbi dbi;
  MDB_txn *txn;
  mdb_txn_begin(env, NULL, 0, &txn);
  mdb_dbi_open(txn, NULL, 0, &dbi);
  mdb_txn_commit(txn);
  char rec[8 + LEN];
  memset(rec, 7, sizeof rec);
  double t0 = now_s();
  for (long i = 0; i < n;) {
    mdb_txn_begin(env, NULL, 0, &txn);
    for (int k = 0; k < BATCH && i < n; k++, i++) {
      int key = next_key();
      char id[16];
      MDB_val kv = {(size_t)snprintf(id, sizeof id, "W.w-%d", key), id}, old;
      uint64_t v = 0;
      if (mdb_get(txn, dbi, &kv, &old) == 0) memcpy(&v, old.mv_data, 8); /* the version check */
      v++;
      memcpy(rec, &v, 8);
      MDB_val dv = {sizeof rec, rec};
      if (mdb_put(txn, dbi, &kv, &dv, 0)) abort();
    }
    if (mdb_txn_commit(txn)) abort();
  }
  double dt = now_s() - t0;
  mdb_env_close(env);
  return dt;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 400000;
  char dir[] = "/tmp/choose-store-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  for (int durable = 1; durable >= 0; durable--) {
    char p[64], q[64];
    snprintf(p, sizeof p, "%s/s%d.db", dir, durable);
    snprintf(q, sizeof q, "%s/l%d", dir, durable);
    mkdir(q, 0700);
    rnd = 1;
    double s = run_sqlite(p, n, durable);
    rnd = 1;
    double l = run_lmdb(q, n, durable);
    printf("%s: sqlite %.0f writes/s (%.0f ns), lmdb %.0f writes/s (%.0f ns)\n",
           durable ? "durable" : "not durable", n / s, s * 1e9 / n, n / l, l * 1e9 / n);
  }
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
