/* Persistent actor state (docs/persistence.md): loading before init,
 * writing after the turn, durable replies, flushes on stop, idle
 * collection and engine free, optimistic concurrency, failing and corrupt
 * stores, the embedded store's own API. The actor is the hand-written
 * Ledger of support/bst_actors.c; generated persistent actors are tested
 * in test/gen/test_gen_persist.c, the crash in test_persist_crash.c, many
 * shards in test_persist_mt.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <backstage/testkit.h>

#include "bst.h"

/* ---- Helpers ------------------------------------------------------------------ */

static bs_engine *engine_on(const char *path, bs_store *store, bst_alloc *a) {
  bs_engine_options o = bst_options(a);
  o.store_path = path;
  o.store = store;
  bs_engine *e = NULL;
  int rc = bs_engine_new(&e, &o);
  cr_assert_eq(rc, 0, "bs_engine_new: %s", bs_errname(rc));
  return e;
}

static bs_ref ledger(bs_engine *e, const char *id) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_ledger_type, id, &r), 0);
  return r;
}

/* deposit(n), awaited: 0 with the balance, or the request's error. */
static int deposit(bs_ref r, int64_t n, int64_t *balance) {
  bs_writer w;
  bs_send_begin(&r, &bst_ledger_methods[BST_LEDGER_DEPOSIT], &w);
  bs_write_int(&w, n);
  return bs_request_await(&w, bst_reply_i64, balance, 5000);
}

static int get(bs_ref r, int64_t *balance) {
  return bst_await0_i64(r, &bst_ledger_methods[BST_LEDGER_GET], balance, 5000);
}

/* The stored record of a Ledger, decoded by hand: balance, ops. */
static int stored(bs_store *s, const char *id, int64_t *balance, uint64_t *version) {
  bs_store_record rec;
  int rc = bs_store_load(s, "Ledger", id, &rec);
  if (rc < 0) return rc;
  bs_reader r;
  bs_reader_init(&r, rec.data, rec.len, NULL);
  uint64_t n = 0, key = 0;
  bs_read_map(&r, &n);
  for (uint64_t i = 0; i < n; i++) {
    bs_read_uint(&r, &key);
    if (key == 1) bs_read_i64(&r, balance);
    else bs_read_skip(&r);
  }
  if (version) *version = rec.version;
  return r.err;
}

static bs_store *open_store(const char *path) {
  bs_store *s = NULL;
  cr_assert_eq(bs_store_open(&s, path, NULL), 0);
  return s;
}

/* Store errors seen by the hook. */
static bs_store_error errs[16];
static char err_ids[16][BS_ID_MAX + 1];
static int nerrs;

static void on_err(void *ud, const bs_store_error *e) {
  (void)ud;
  if (nerrs < 16) {
    errs[nerrs] = *e;
    snprintf(err_ids[nerrs], sizeof err_ids[nerrs], "%s", e->actor_id);
    errs[nerrs].actor_id = err_ids[nerrs];
  }
  nerrs++;
}

/* ---- Surviving restarts ------------------------------------------------------- */

Test(persist, state_survives_an_engine_restart) {
  bst_reset();
  const char *path = bst_store_path();
  bst_alloc a;
  bst_alloc_init(&a);
  bs_engine *e = engine_on(path, NULL, &a);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "acct-1"), 5, &b), 0);
  cr_assert_eq(deposit(ledger(e, "acct-1"), 7, &b), 0);
  cr_assert_eq(b, 12);
  cr_assert_eq(bst_g.ledger_loaded, 0, "nothing stored yet");
  bs_engine_stats st = bst_stats(e);
  cr_assert_eq(st.store_loads, 1);
  cr_assert_eq(st.store_writes, 2);
  cr_assert_gt(st.store_bytes, 0);
  cr_assert_geq(st.store_commits, 1);
  cr_assert_eq(st.store_pending, 0);
  bst_engine_free_checked(e, &a);

  bs_engine *e2 = engine_on(path, NULL, NULL);
  cr_assert_eq(get(ledger(e2, "acct-1"), &b), 0);
  cr_assert_eq(b, 12, "reloaded balance %lld", (long long)b);
  cr_assert_eq(bst_g.ledger_loaded, 1, "init saw a stored state");
  cr_assert_eq(bst_g.ledger_init_balance, 12, "loaded before init ran");
  int64_t v = 0;
  cr_assert_eq(bst_await0_i64(ledger(e2, "acct-1"), &bst_ledger_methods[BST_LEDGER_VERSION],
                              &v, 5000), 0);
  cr_assert_eq(v, 2);
  /* Another id is another record. */
  cr_assert_eq(get(ledger(e2, "acct-2"), &b), 0);
  cr_assert_eq(b, 0);
  bs_engine_free(e2);
}

/* Without bs_context_persist nothing is written: the change is lost. */
Test(persist, only_persisted_turns_are_written) {
  bst_reset();
  const char *path = bst_store_path();
  bs_engine *e = engine_on(path, NULL, NULL);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "x"), 3, &b), 0);
  cr_assert_eq(bst_send_i64(ledger(e, "x"), &bst_ledger_methods[BST_LEDGER_SET_VOLATILE], 99), 0);
  cr_assert_eq(get(ledger(e, "x"), &b), 0);
  cr_assert_eq(b, 99);
  bs_engine_free(e);
  bs_store *s = open_store(path);
  cr_assert_eq(stored(s, "x", &b, NULL), 0);
  cr_assert_eq(b, 3, "deinit's change and the unpersisted one are not stored");
  bs_store_free(s);
}

/* One-way messages persist too, and a stop right behind them writes the
 * state before deinit (in the same turn). */
Test(persist, stop_writes_the_dirty_state_first) {
  bst_reset();
  const char *path = bst_store_path();
  bs_engine *e = engine_on(path, NULL, NULL);
  bs_ref r = ledger(e, "s");
  for (int i = 1; i <= 10; i++) cr_assert_eq(bst_send_i64(r, &bst_ledger_methods[BST_LEDGER_ADD], i), 0);
  cr_assert_eq(bs_stop(&r), 0);
  bst_run(e);
  cr_assert_eq(bst_g.ledger_deinits, 1);
  bs_engine_stats st = bst_stats(e);
  cr_assert_eq(st.collected, 1, "collected once its write committed");
  cr_assert_eq(st.actors, 0);
  int64_t b = 0;
  cr_assert_eq(get(r, &b), 0);
  cr_assert_eq(b, 55, "reloaded after the stop");
  bs_engine_free(e);
}

Test(persist, forget_removes_the_record) {
  bst_reset();
  const char *path = bst_store_path();
  bs_engine *e = engine_on(path, NULL, NULL);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "f"), 8, &b), 0);
  cr_assert_eq(bst_send0(ledger(e, "f"), &bst_ledger_methods[BST_LEDGER_FORGET]), 0);
  bst_run(e);
  bs_engine_free(e);
  bs_store *s = open_store(path);
  cr_assert_eq(stored(s, "f", &b, NULL), BS_ENOTFOUND);
  bs_store_free(s);
}

/* init may persist: written after init, before the first message's reply. */
Test(persist, init_may_persist) {
  bst_reset();
  bst_g.ledger_persist_in_init = true;
  const char *path = bst_store_path();
  bs_engine *e = engine_on(path, NULL, NULL);
  int64_t b = 0;
  cr_assert_eq(get(ledger(e, "i"), &b), 0);
  cr_assert_eq(b, 1000);
  bs_engine_free(e);
  bs_store *s = open_store(path);
  uint64_t v = 0;
  cr_assert_eq(stored(s, "i", &b, &v), 0);
  cr_assert_eq(b, 1000);
  cr_assert_eq(v, 1);
  bs_store_free(s);
}

/* ---- Idle collection ------------------------------------------------------------ */

Test(persist, collected_when_idle_and_reloaded) {
  bst_reset();
  const char *path = bst_store_path();
  bs_engine_options o = bst_options(NULL);
  o.virtual_time = true;
  o.idle_timeout_ms = 100;
  o.store_path = path;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  enum { N = 50 };
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "idle-%d", i);
    cr_assert_eq(bst_send_i64(ledger(e, id), &bst_ledger_methods[BST_LEDGER_ADD], i + 1), 0);
  }
  cr_assert_geq(bs_test_run(e, 0), N);
  cr_assert_eq(bs_test_advance(e, 1000), 0);
  bs_engine_stats st = bst_stats(e);
  cr_assert_eq(st.idle_deactivations, N);
  cr_assert_eq(st.actors, 0, "every cell collected");
  cr_assert_eq(st.store_writes, N);
  /* Back on the next message, with what was stored. */
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "idle-%d", i);
    cr_assert_eq(bst_send_i64(ledger(e, id), &bst_ledger_methods[BST_LEDGER_ADD], 1000), 0);
  }
  bs_test_run(e, 0);
  cr_assert_eq(bst_g.ledger_loaded, N);
  bs_engine_free(e);
  bs_store *s = open_store(path);
  for (int i = 0; i < N; i++) {
    char id[16];
    int64_t b = 0;
    snprintf(id, sizeof id, "idle-%d", i);
    cr_assert_eq(stored(s, id, &b, NULL), 0);
    cr_assert_eq(b, i + 1 + 1000);
  }
  bs_store_free(s);
}

/* ---- A store that fails ------------------------------------------------------------ */

/* A provider over the embedded one that fails what the test asks for. */
typedef struct flaky {
  bs_store *inner;
  int fail_load;    /* returned by load, if not 0 */
  int fail_commit;  /* returned by commit, if not 0 */
  int commits;
} flaky;

static flaky F;

static int f_load(void *impl, const bs_store_key *k, bs_store_record *rec) {
  flaky *f = impl;
  if (f->fail_load) return f->fail_load;
  return bs_store_load(f->inner, k->type, k->id, rec);
}
static int f_save(void *impl, const bs_store_key *k, const void *d, size_t n, uint64_t x,
                  uint64_t *v) {
  flaky *f = impl;
  if (f->fail_commit) { /* the commit will fail: nothing is kept */
    *v = x + 1;
    return 0;
  }
  return bs_store_save(f->inner, k->type, k->id, d, n, x, v);
}
static int f_remove(void *impl, const bs_store_key *k, uint64_t x) {
  flaky *f = impl;
  return bs_store_remove(f->inner, k->type, k->id, x);
}
static int f_begin(void *impl) {
  flaky *f = impl;
  return f->fail_commit ? 0 : bs_store_begin(f->inner);
}
static int f_commit(void *impl) {
  flaky *f = impl;
  f->commits++;
  return f->fail_commit ? f->fail_commit : bs_store_commit(f->inner);
}
static const bs_store_ops flaky_ops = {f_load, f_save, f_remove, f_begin, f_commit, NULL};

Test(persist, provider_checks) {
  bs_store *s = NULL;
  bs_store_ops none = {0};
  cr_assert_eq(bs_store_new(&s, &none, NULL), BS_EINVAL);
  cr_assert_null(s);
  bs_store_ops half = flaky_ops;
  half.commit = NULL;
  cr_assert_eq(bs_store_new(&s, &half, NULL), BS_EINVAL);
  cr_assert_eq(bs_store_new(NULL, &flaky_ops, NULL), BS_EINVAL);
  cr_assert_eq(bs_store_open(&s, NULL, NULL), BS_EINVAL);
  cr_assert_eq(bs_store_open(&s, "/nonexistent-dir/x/state.db", NULL), BS_ESTORE);
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.store_path = "/nonexistent-dir/x/state.db";
  bs_engine *e = (bs_engine *)1;
  cr_assert_eq(bs_engine_new(&e, &o), BS_ESTORE);
  cr_assert_null(e);
}

Test(persist, one_engine_per_store) {
  bs_store *s = open_store(bst_store_path());
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.store = s;
  bs_engine *a = NULL, *b = NULL;
  cr_assert_eq(bs_engine_new(&a, &o), 0);
  cr_assert_eq(bs_engine_new(&b, &o), BS_EBUSY);
  cr_assert_eq(bs_store_save(s, "T", "x", "", 0, 0, NULL), BS_EINVAL, "in use");
  bs_engine_free(a);
  cr_assert_eq(bs_engine_new(&b, &o), 0, "free again");
  bs_engine_free(b);
  bs_store_free(s);
}

/* A commit that fails: the request whose turn persisted gets the error,
 * never a reply; the instance is dropped, and the next message loads what
 * the store holds. */
Test(persist, a_failed_commit_fails_the_request) {
  bst_reset();
  memset(&F, 0, sizeof F);
  F.inner = open_store(bst_store_path());
  bs_store *s = NULL;
  cr_assert_eq(bs_store_new(&s, &flaky_ops, &F), 0);
  bs_engine_options o = bst_options(NULL);
  o.store = s;
  o.on_store_error = on_err;
  nerrs = 0;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "a"), 10, &b), 0);
  F.fail_commit = BS_ESTORE;
  b = -1;
  cr_assert_eq(deposit(ledger(e, "a"), 5, &b), BS_ESTORE, "not acknowledged");
  cr_assert_eq(nerrs, 1);
  cr_assert_str_eq(errs[0].actor_id, "a");
  cr_assert_str_eq(errs[0].type_name, "Ledger");
  cr_assert_eq(errs[0].op, BS_STORE_SAVE);
  cr_assert_eq(errs[0].code, BS_ESTORE);
  cr_assert_eq(errs[0].version, 1);
  cr_assert_eq(bst_g.ledger_deinits, 1, "the instance is dropped");
  F.fail_commit = 0;
  cr_assert_eq(get(ledger(e, "a"), &b), 0);
  cr_assert_eq(b, 10, "what the store holds, not the lost 15");
  bs_engine_stats st = bst_stats(e);
  cr_assert_eq(st.store_errors, 1);
  bs_engine_free(e);
  bs_store_free(s);
  bs_store_free(F.inner);
}

/* An unreachable store: the activation fails cleanly, mail is
 * dead-lettered with reason STORE, the request gets the store's error. */
Test(persist, an_unreachable_store_fails_the_activation) {
  bst_reset();
  memset(&F, 0, sizeof F);
  F.inner = open_store(bst_store_path());
  F.fail_load = BS_ESTORE;
  bs_store *s = NULL;
  cr_assert_eq(bs_store_new(&s, &flaky_ops, &F), 0);
  bs_engine_options o = bst_options(NULL);
  o.store = s;
  o.on_store_error = on_err;
  nerrs = 0;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref r = ledger(e, "u");
  cr_assert_eq(bst_send_i64(r, &bst_ledger_methods[BST_LEDGER_ADD], 1), 0);
  int64_t b = 0;
  cr_assert_eq(deposit(r, 5, &b), BS_ESTORE);
  cr_assert_eq(bst_g.ledger_inits, 0, "init never ran");
  cr_assert_eq(bst_dl_by_reason[BS_DL_STORE], 2);
  const bst_dl_rec *dl = bst_dl_find(BS_DL_STORE);
  cr_assert_not_null(dl);
  cr_assert_str_eq(dl->target, "u");
  cr_assert_eq(dl->code, BS_ESTORE);
  cr_assert_eq(nerrs, 1);
  cr_assert_eq(errs[0].op, BS_STORE_LOAD);
  bst_assert_invariant(e);
  /* Reachable again: the next message activates it. */
  F.fail_load = 0;
  cr_assert_eq(deposit(r, 5, &b), 0);
  cr_assert_eq(b, 5);
  bs_engine_free(e);
  bs_store_free(s);
  bs_store_free(F.inner);
}

Test(persist, without_a_store_activation_fails) {
  bst_reset();
  bs_engine *e = engine_on(NULL, NULL, NULL);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "n"), 1, &b), BS_ESTORE);
  cr_assert_eq(bst_dl_by_reason[BS_DL_STORE], 1);
  bs_engine_free(e);
}

/* ---- Corrupt records -------------------------------------------------------------- */

static bs_engine *engine_with_policy(const char *path, bs_corrupt_policy p) {
  bs_engine_options o = bst_options(NULL);
  o.store_path = path;
  o.on_corrupt_state = p;
  o.on_store_error = on_err;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

static void write_raw(const char *path, const char *id, const void *data, size_t len) {
  bs_store *s = open_store(path);
  cr_assert_eq(bs_store_save(s, "Ledger", id, data, len, 0, NULL), 0);
  bs_store_free(s);
}

Test(persist, a_corrupt_record_is_refused_and_kept) {
  bst_reset();
  nerrs = 0;
  const char *path = bst_store_path();
  write_raw(path, "bad", "\xa1\x01\x7f", 3); /* truncated */
  bs_engine *e = engine_with_policy(path, BS_CORRUPT_REFUSE);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "bad"), 1, &b), BS_ECORRUPT);
  cr_assert_eq(bst_g.ledger_inits, 0);
  cr_assert_eq(nerrs, 1);
  cr_assert_str_eq(errs[0].actor_id, "bad");
  cr_assert_eq(errs[0].code, BS_ECORRUPT);
  cr_assert_eq(bst_dl_find(BS_DL_STORE)->code, BS_ECORRUPT);
  cr_assert_eq(bst_stats(e).store_corrupt, 1);
  /* Every activation tries again, and fails again. */
  cr_assert_eq(get(ledger(e, "bad"), &b), BS_ECORRUPT);
  bs_engine_free(e);
  bs_store *s = open_store(path);
  bs_store_record rec;
  cr_assert_eq(bs_store_load(s, "Ledger", "bad", &rec), 0);
  cr_assert_eq(rec.len, 3, "left as it was");
  bs_store_free(s);
}

Test(persist, a_corrupt_record_is_replaced_under_reset) {
  bst_reset();
  nerrs = 0;
  const char *path = bst_store_path();
  /* Well-formed CBOR, but its check does not match: also corrupt. */
  write_raw(path, "bad", "\xa1\x01\x05", 3);
  bs_engine *e = engine_with_policy(path, BS_CORRUPT_RESET);
  int64_t b = 0;
  cr_assert_eq(deposit(ledger(e, "bad"), 4, &b), 0);
  cr_assert_eq(b, 4, "started from a zeroed state");
  cr_assert_eq(bst_g.ledger_loaded, 0);
  cr_assert_eq(nerrs, 1);
  bs_engine_free(e);
  bs_store *s = open_store(path);
  uint64_t v = 0;
  cr_assert_eq(stored(s, "bad", &b, &v), 0);
  cr_assert_eq(b, 4);
  cr_assert_eq(v, 2, "replaced the corrupt version 1");
  bs_store_free(s);
}

/* ---- Optimistic concurrency ------------------------------------------------------ */

/* Two engines on one store file, the same actor active in both (a zombie
 * after a failover): the stale one's write is refused, never overwrites. */
Test(persist, a_stale_instance_cannot_overwrite) {
  bst_reset();
  nerrs = 0;
  const char *path = bst_store_path();
  bs_engine_options o = bst_options(NULL);
  o.store_path = path;
  o.on_store_error = on_err;
  bs_engine *a = NULL, *b = NULL;
  cr_assert_eq(bs_engine_new(&a, &o), 0);
  cr_assert_eq(bs_engine_new(&b, &o), 0);
  int64_t v = 0;
  cr_assert_eq(deposit(ledger(a, "z"), 1, &v), 0);   /* a: version 1 */
  cr_assert_eq(deposit(ledger(b, "z"), 10, &v), 0);  /* b loads 1, writes 2 */
  cr_assert_eq(v, 11);
  cr_assert_eq(deposit(ledger(a, "z"), 100, &v), BS_ECONFLICT, "a is stale");
  cr_assert_eq(nerrs, 1);
  cr_assert_eq(errs[0].code, BS_ECONFLICT);
  cr_assert_eq(errs[0].version, 1);
  cr_assert_eq(bst_stats(a).store_conflicts, 1);
  /* a's instance was dropped: its next message loads version 2. */
  cr_assert_eq(deposit(ledger(a, "z"), 100, &v), 0);
  cr_assert_eq(v, 111);
  bs_engine_free(a);
  bs_engine_free(b);
  bs_store *s = open_store(path);
  uint64_t ver = 0;
  cr_assert_eq(stored(s, "z", &v, &ver), 0);
  cr_assert_eq(v, 111);
  cr_assert_eq(ver, 3);
  bs_store_free(s);
}

/* ---- The embedded store's API ----------------------------------------------------- */

Test(persist, embedded_store_versions) {
  bs_store *s = open_store(bst_store_path());
  uint64_t v = 0;
  bs_store_record rec;
  cr_assert_eq(bs_store_load(s, "T", "k", &rec), BS_ENOTFOUND);
  cr_assert_eq(bs_store_save(s, "T", "k", "one", 3, 0, &v), 0);
  cr_assert_eq(v, 1);
  cr_assert_eq(bs_store_save(s, "T", "k", "two", 3, 0, &v), BS_ECONFLICT, "exists");
  cr_assert_eq(v, 0);
  cr_assert_eq(bs_store_save(s, "T", "k", "two", 3, 2, &v), BS_ECONFLICT, "not version 2");
  cr_assert_eq(bs_store_save(s, "T", "k", "two", 3, 1, &v), 0);
  cr_assert_eq(v, 2);
  cr_assert_eq(bs_store_load(s, "T", "k", &rec), 0);
  cr_assert_eq(rec.version, 2);
  cr_assert_eq(rec.len, 3);
  cr_assert_eq(memcmp(rec.data, "two", 3), 0);
  cr_assert_eq(bs_store_load(s, "U", "k", &rec), BS_ENOTFOUND, "types apart");
  cr_assert_eq(bs_store_remove(s, "T", "k", 1), BS_ECONFLICT);
  cr_assert_eq(bs_store_remove(s, "T", "k", 0), BS_ECONFLICT, "it exists");
  cr_assert_eq(bs_store_remove(s, "T", "k", 2), 0);
  cr_assert_eq(bs_store_remove(s, "T", "k", 0), 0, "nothing to remove");
  cr_assert_eq(bs_store_load(s, "T", "k", &rec), BS_ENOTFOUND);
  /* A transaction by hand. */
  cr_assert_eq(bs_store_begin(s), 0);
  for (int i = 0; i < 100; i++) {
    char id[8];
    snprintf(id, sizeof id, "%d", i);
    cr_assert_eq(bs_store_save(s, "T", id, id, strlen(id), 0, &v), 0);
  }
  cr_assert_eq(bs_store_commit(s), 0);
  cr_assert_eq(bs_store_load(s, "T", "42", &rec), 0);
  cr_assert_eq(bs_store_load(NULL, "T", "k", &rec), BS_EINVAL);
  cr_assert_eq(bs_store_load(s, "", "k", &rec), BS_EINVAL);
  cr_assert_eq(bs_store_save(s, "T", "k", NULL, 1, 0, &v), BS_EINVAL);
  bs_store_free(s);
  bs_store_free(NULL);
}

/* ---- Misuse ---------------------------------------------------------------------- */

Test(persist, context_calls_on_a_type_that_does_not_persist) {
  cr_assert_eq(bs_context_persist(NULL), BS_EINVAL);
  cr_assert_eq(bs_context_forget(NULL), BS_EINVAL);
  cr_assert_eq(bs_context_loaded(NULL), false);
  cr_assert_eq(bs_context_version(NULL), 0);
  bs_actor_type half = bst_ledger_type;
  half.load_state = NULL;
  cr_assert_eq(bs_actor_type_check(&half), BS_EINVAL);
}

/* ---- Schedules ----------------------------------------------------------------------- */

/* Whatever order the steps take - loads, writes and their completions
 * interleaved with turns, stops and re-activations on two shards - every
 * acknowledged deposit is stored and a stopped actor's next instance loads
 * what the last one wrote (waiting for that write when it is still out). */
static const char *explore_path;
static int explore_waited; /* runs where the next activation waited for a write */

static bool store_busy(bs_engine *e) { return bst_stats(e).store_pending > 0; }

static int scenario(uint64_t seed, void *ud) {
  (void)ud;
  bst_reset();
  bs_store *s = open_store(explore_path);
  bs_engine_options o = bst_options(NULL);
  o.store = s;
  o.shards = 2;
  o.virtual_time = true;
  o.schedule_seed = seed;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  char id[32];
  snprintf(id, sizeof id, "x-%llu", (unsigned long long)seed);
  bs_ref r = ledger(e, id);
  bs_ref other = ledger(e, "neighbour");
  bst_send_i64(r, &bst_ledger_methods[BST_LEDGER_ADD], 1);
  bst_send_i64(other, &bst_ledger_methods[BST_LEDGER_ADD], 1);
  bs_stop(&r);
  /* Step until the stop has run: its final write may still be out. */
  while (bst_g.ledger_deinits == 0 && bs_test_step(e) >= 0) {
  }
  bool writing = store_busy(e);
  bst_send_i64(r, &bst_ledger_methods[BST_LEDGER_ADD], 2);
  int rc = bst_request0_i64(r, &bst_ledger_methods[BST_LEDGER_GET], bst_main_cont, NULL);
  bs_test_run(e, 0);
  bool ok = rc == 0 && bst_reply_count == 1 && bst_replies[0].status == 0;
  int64_t got = ok ? bst_replies[0].value : -1;
  bs_engine_stats st = bst_stats(e);
  bs_engine_free(e);
  int64_t stored_v = -1;
  int src = stored(s, id, &stored_v, NULL);
  bs_store_free(s);
  if (writing) explore_waited++;
  return ok && got == 3 && src == 0 && stored_v == 3 && st.store_errors == 0 &&
                 st.dead_letters == 0
             ? 0
             : 1;
}

Test(persist, every_schedule_keeps_what_was_written) {
  bst_reset();
  explore_path = bst_store_path();
  uint64_t failing = 0;
  int rc = bs_test_explore(scenario, NULL, 1, 300, &failing);
  cr_assert_eq(rc, 0, "seed %llu fails", (unsigned long long)failing);
  cr_assert_gt(explore_waited, 0, "some schedules had the write out at the re-activation");
}

/* A message that reaches a stopped actor while its final write is still
 * out (here: resent by the dead letter hook during the stop, so the new
 * activation comes in the same loop iteration as that write): the new
 * instance loads only after the write has committed, never the state from
 * before it. */
static bs_ref retry_to;
static int retries;

static void retry_hook(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  if (dl->reason == BS_DL_STOPPED && retries++ == 0)
    bst_send_i64(retry_to, &bst_ledger_methods[BST_LEDGER_ADD], 2);
}

Test(persist, an_activation_waits_for_the_last_instances_write) {
  bst_reset();
  const char *path = bst_store_path();
  bs_engine_options o = bst_options(NULL);
  o.store_path = path;
  o.on_dead_letter = retry_hook;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  retry_to = ledger(e, "w");
  cr_assert_eq(bst_send_i64(retry_to, &bst_ledger_methods[BST_LEDGER_ADD], 1), 0);
  cr_assert_eq(bs_stop(&retry_to), 0);
  cr_assert_eq(bst_send_i64(retry_to, &bst_ledger_methods[BST_LEDGER_ADD], 100), 0);
  bst_run(e);
  cr_assert_eq(retries, 1);
  int64_t b = 0;
  cr_assert_eq(get(retry_to, &b), 0);
  cr_assert_eq(b, 3, "the retried add ran on what the stop wrote");
  cr_assert_eq(bst_stats(e).store_errors, 0);
  bs_engine_free(e);
}
