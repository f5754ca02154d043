/* Generated persistent actors (`// @generate-proxy persistent`,
 * docs/persistence.md): the state codec of fixtures/vault.h (every stored
 * field kind, the context pointer and @transient fields left out), a
 * restart through the engine, and schema evolution both ways between
 * versions/v1/purse_v1.h and versions/v2/purse_v2.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "vault.bs.h"
#include "versions_impl.h"

static char dir[64];
static char path[96];

static void temp_store(void) {
  snprintf(dir, sizeof dir, "/tmp/bsgen-persist-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/state.db", dir);
}

static void remove_store(void) {
  const char *suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[128];
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    remove(p);
  }
  remove(dir);
}

static bs_engine *engine(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.store_path = path;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

/* ---- The codec ---------------------------------------------------------------- */

static void filled(Vault *v) {
  memset(v, 0, sizeof *v);
  v->balance = -123456789012LL;
  v->deposits = 7;
  v->audited = true;
  v->rate = 0.25;
  v->mode = VAULT_FROZEN;
  strcpy(v->owner, "alice");
  for (int i = 0; i < 8; i++) v->key[i] = (uint8_t)(0xf0 + i);
  v->history[0] = -1;
  v->history[2] = 3;
  v->limits.daily = 99;
  v->limits.per_hour[1] = 65535;
}

Test(gen_persist, stored_fields_round_trip_and_transient_ones_stay_out) {
  Vault a;
  filled(&a);
  a.ctx = (bs_context *)&a; /* must not be read */
  a.cache = (VaultCache *)&a;
  a.label = "not stored";
  a.inits = 42;
  uint8_t buf[512];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Vault__save_state(&a, &w), 0);
  Vault b;
  memset(&b, 0, sizeof b);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  cr_assert_eq(Vault__load_state(&b, &r), 0);
  cr_assert(bs_reader_at_end(&r));
  cr_assert_eq(b.balance, a.balance);
  cr_assert_eq(b.deposits, 7);
  cr_assert(b.audited);
  cr_assert_eq(b.rate, 0.25);
  cr_assert_eq(b.mode, VAULT_FROZEN);
  cr_assert_str_eq(b.owner, "alice");
  cr_assert_eq(memcmp(b.key, a.key, 8), 0);
  cr_assert_eq(memcmp(b.history, a.history, sizeof a.history), 0);
  cr_assert_eq(b.limits.daily, 99);
  cr_assert_eq(b.limits.per_hour[1], 65535);
  cr_assert_null(b.ctx);
  cr_assert_null(b.cache);
  cr_assert_null(b.label);
  cr_assert_eq(b.inits, 0);
  /* The record holds 9 fields, none of them a pointer. */
  bs_reader_init(&r, buf, w.len, NULL);
  uint64_t n = 0;
  cr_assert_eq(bs_read_map(&r, &n), 0);
  cr_assert_eq(n, 9);
}

Test(gen_persist, hostile_records_fail_cleanly) {
  Vault a;
  filled(&a);
  uint8_t buf[512];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Vault__save_state(&a, &w), 0);
  /* Every truncation fails or leaves bytes unread; none crashes. */
  for (size_t len = 0; len < w.len; len++) {
    Vault b;
    memset(&b, 0, sizeof b);
    bs_reader r;
    bs_reader_init(&r, buf, len, NULL);
    int rc = Vault__load_state(&b, &r);
    cr_assert(rc < 0 || !bs_reader_at_end(&r) || len == w.len, "length %zu", len);
  }
  /* A field of the wrong type. */
  static const uint8_t wrong[] = {0xa1, 0x1a, 0x98, 0x9a, 0x92, 0xeb, 0x61, 'x'};
  Vault b;
  memset(&b, 0, sizeof b);
  bs_reader r;
  bs_reader_init(&r, wrong, sizeof wrong, NULL);
  cr_assert_eq(Vault__load_state(&b, &r), BS_EDECODE);
  /* Unknown keys, of any type, are skipped. */
  static const uint8_t unknown[] = {0xa2, 0x01, 0x02, 0x61, 'k', 0x80};
  bs_reader_init(&r, unknown, sizeof unknown, NULL);
  cr_assert_eq(Vault__load_state(&b, &r), 0);
  cr_assert(bs_reader_at_end(&r));
}

Test(gen_persist, the_descriptor_is_persistent) {
  cr_assert_not_null(Vault_actor_type.save_state);
  cr_assert_not_null(Vault_actor_type.load_state);
  cr_assert_eq(bs_actor_type_check(&Vault_actor_type), 0);
}

/* ---- Through the engine --------------------------------------------------------- */

Test(gen_persist, a_generated_actor_survives_a_restart) {
  temp_store();
  bs_engine *e = engine();
  VaultProxy v;
  cr_assert_eq(VaultProxy_get(e, "v1", &v), 0);
  int64_t bal = 0;
  cr_assert_eq(VaultProxy_deposit_await(v, 40, &bal), 0);
  cr_assert_eq(VaultProxy_deposit_await(v, 2, &bal), 0);
  cr_assert_eq(bal, 42);
  cr_assert_eq(VaultProxy_setOwner(v, "bob"), 0);
  bool loaded = true;
  cr_assert_eq(VaultProxy_loaded_await(v, &loaded), 0);
  cr_assert(!loaded);
  bs_engine_free(e);

  e = engine();
  cr_assert_eq(VaultProxy_get(e, "v1", &v), 0);
  cr_assert_eq(VaultProxy_balance_await(v, &bal), 0);
  cr_assert_eq(bal, 42);
  cr_assert_eq(VaultProxy_loaded_await(v, &loaded), 0);
  cr_assert(loaded);
  uint32_t inits = 0;
  cr_assert_eq(VaultProxy_inits_await(v, &inits), 0);
  cr_assert_eq(inits, 1, "transient: counted from zero in each activation");
  bs_engine_free(e);

  bs_store *s = NULL;
  cr_assert_eq(bs_store_open(&s, path, NULL), 0);
  bs_store_record rec;
  cr_assert_eq(bs_store_load(s, "Vault", "v1", &rec), 0);
  cr_assert_eq(rec.version, 3);
  Vault b;
  memset(&b, 0, sizeof b);
  bs_reader r;
  bs_reader_init(&r, rec.data, rec.len, NULL);
  cr_assert_eq(Vault__load_state(&b, &r), 0);
  cr_assert_str_eq(b.owner, "bob");
  cr_assert_eq(b.mode, VAULT_FROZEN);
  cr_assert_eq(b.history[0], 40);
  cr_assert_eq(b.history[1], 2);
  cr_assert_eq(b.limits.per_hour[3], 7);
  bs_store_free(s);
  remove_store();
}

/* ---- Schema evolution ------------------------------------------------------------- */

Test(gen_persist, old_records_load_into_the_new_version) {
  temp_store();
  purse_types_init();
  bs_engine *e = engine();
  Purse1Proxy p1;
  cr_assert_eq(bs_actor_get(e, &purse_v1_type, "p", &p1.ref), 0);
  cr_assert_eq(Purse1Proxy_fill(p1, 500, "carol"), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  bs_engine_free(e);

  e = engine();
  Purse2Proxy p2;
  cr_assert_eq(bs_actor_get(e, &purse_v2_type, "p", &p2.ref), 0);
  int64_t bal = 0;
  cr_assert_eq(Purse2Proxy_balance_await(p2, &bal), 0);
  cr_assert_eq(bal, 500);
  bs_engine_free(e);

  /* The v1 record, decoded by v2: kept, added (zero), grown (zero). */
  bs_store *s = NULL;
  cr_assert_eq(bs_store_open(&s, path, NULL), 0);
  bs_store_record rec;
  cr_assert_eq(bs_store_load(s, "Purse", "p", &rec), 0);
  Purse2 v2;
  memset(&v2, 0, sizeof v2);
  bs_reader r;
  bs_reader_init(&r, rec.data, rec.len, NULL);
  cr_assert_eq(Purse2__load_state(&v2, &r), 0);
  cr_assert(bs_reader_at_end(&r));
  cr_assert_eq(v2.balance, 500);
  cr_assert_eq(v2.deposits, 1);
  cr_assert_str_eq(v2.owner, "carol");
  cr_assert_eq(v2.limits.daily, 1000);
  cr_assert_eq(v2.limits.monthly, 0);
  cr_assert_eq(v2.frozen_at, 0);
  cr_assert_eq(v2.marks[0], 1);
  cr_assert_eq(v2.marks[1], 2);
  cr_assert_eq(v2.marks[2], 0);
  bs_store_free(s);
  remove_store();
}

Test(gen_persist, new_records_load_into_the_old_version) {
  temp_store();
  purse_types_init();
  bs_engine *e = engine();
  Purse2Proxy p2;
  cr_assert_eq(bs_actor_get(e, &purse_v2_type, "p", &p2.ref), 0);
  cr_assert_eq(Purse2Proxy_fill(p2, 77, "dave"), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  bs_engine_free(e);

  /* Written by v2 (with fields v1 does not know), read by v1. */
  e = engine();
  Purse1Proxy p1;
  cr_assert_eq(bs_actor_get(e, &purse_v1_type, "p", &p1.ref), 0);
  int64_t bal = 0;
  cr_assert_eq(Purse1Proxy_balance_await(p1, &bal), 0);
  cr_assert_eq(bal, 77);
  /* ... and v1 writes on: version 2, v2's extra fields dropped. */
  cr_assert_eq(Purse1Proxy_fill(p1, 78, "dave"), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  bs_engine_free(e);

  bs_store *s = NULL;
  cr_assert_eq(bs_store_open(&s, path, NULL), 0);
  bs_store_record rec;
  cr_assert_eq(bs_store_load(s, "Purse", "p", &rec), 0);
  cr_assert_eq(rec.version, 2);
  Purse1 v1;
  memset(&v1, 0, sizeof v1);
  bs_reader r;
  bs_reader_init(&r, rec.data, rec.len, NULL);
  cr_assert_eq(Purse1__load_state(&v1, &r), 0);
  cr_assert_eq(v1.balance, 78);
  cr_assert_eq(v1.deposits, 2);
  cr_assert_str_eq(v1.owner, "dave");
  cr_assert_eq(v1.legacy, 0);
  cr_assert_eq(v1.marks[1], 2);
  bs_store_free(s);
  remove_store();
}
