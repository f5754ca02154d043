/* Persistent state over several shards, also under ThreadSanitizer
 * (bst_mt.h; ./dev.sh test runs it in its TSan set): loads, group commits
 * and held replies crossing from the storage thread to four shard threads,
 * with idle collection and stops reloading actors in the middle, and the
 * engine freed with writes out. Afterwards every stored state is what was
 * sent. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define BST_SUITE persist_mt
#include "bst_mt.h"
#include "bst.h"

/* ---- Tally: a persistent actor whose counters are atomics ----------------------
 * add(int64) [1] persists; add_get(int64) -> int64 [2] persists and answers
 * the sum; get() -> int64 [3]. Stored: {1: sum, 2: n}. */
typedef struct Tally {
  bs_context *ctx;
  int64_t sum;
  uint64_t n;
} Tally;

static uint64_t g_inits, g_loaded, g_replies, g_reply_errors;
static uint64_t g_applied[1024]; /* adds run, per tally index */

static void bump(uint64_t *c) { __atomic_add_fetch(c, 1, __ATOMIC_RELAXED); }
static uint64_t get(uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

static int tally_save(const void *self, bs_writer *w) {
  const Tally *t = self;
  bs_write_map(w, 2);
  bs_write_uint(w, 1);
  bs_write_int(w, t->sum);
  bs_write_uint(w, 2);
  return bs_write_uint(w, t->n);
}

static int tally_load(void *self, bs_reader *r) {
  Tally *t = self;
  uint64_t n = 0, key = 0;
  bs_read_map(r, &n);
  for (uint64_t i = 0; i < n && !r->err; i++) {
    bs_read_uint(r, &key);
    if (key == 1) bs_read_i64(r, &t->sum);
    else if (key == 2) bs_read_u64(r, &t->n);
    else bs_read_skip(r);
  }
  return r->err;
}

static int tally_init(void *self, bs_context *ctx) {
  Tally *t = self;
  t->ctx = ctx;
  bump(&g_inits);
  if (bs_context_loaded(ctx)) bump(&g_loaded);
  return 0;
}

static void tally_deinit(void *self) { (void)self; }

static int tally_add(void *self, bs_call *call) {
  Tally *t = self;
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  t->sum += v;
  t->n++;
  bump(&g_applied[atoi(bs_context_id(t->ctx) + 1) % 1024]);
  call->result = bs_context_persist(t->ctx);
  return call->reply ? bs_write_int(call->reply, t->sum) : 0;
}

static int tally_get(void *self, bs_call *call) {
  Tally *t = self;
  call->result = 0;
  return call->reply ? bs_write_int(call->reply, t->sum) : 0;
}

static const bs_method tally_methods[] = {
    {"add", 1, 1, tally_add},
    {"add_get", 2, 1, tally_add},
    {"get", 3, 0, tally_get},
};

static const bs_actor_type tally_type = {
    .name = "Tally",
    .state_size = sizeof(Tally),
    .state_align = _Alignof(Tally),
    .init = tally_init,
    .deinit = tally_deinit,
    .methods = tally_methods,
    .method_count = 3,
    .save_state = tally_save,
    .load_state = tally_load,
};

static void on_reply(void *ud, int status, int64_t v) {
  (void)ud;
  (void)v;
  bump(status == 0 ? &g_replies : &g_reply_errors);
}

static bs_engine *engine(const char *path, uint32_t shards, uint64_t idle_ms) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.store_path = path;
  o.idle_timeout_ms = idle_ms;
  bs_engine *e = NULL;
  CHECK(bs_engine_new(&e, &o) == 0);
  return e;
}

static bs_ref tally(bs_engine *e, int i) {
  char id[16];
  snprintf(id, sizeof id, "t%d", i);
  bs_ref r;
  CHECK(bs_actor_get(e, &tally_type, id, &r) == 0);
  return r;
}

/* Every tally i must hold `want(i)`. */
static void check_stored(const char *path, int n, int64_t (*want)(int)) {
  bs_engine *e = engine(path, 2, 0);
  for (int i = 0; i < n; i++) {
    int64_t v = -1;
    int rc = bst_await0_i64(tally(e, i), &tally_methods[2], &v, 10000);
    CHECKM(rc == 0 && v == want(i), "t%d: rc %d, %lld, want %lld", i, rc, (long long)v,
           (long long)want(i));
  }
  bs_engine_free(e);
}

/* ---- Scenarios ------------------------------------------------------------------ */

enum { N = 256, ROUNDS = 40 };

static int64_t want_rounds(int i) { return (int64_t)ROUNDS * (i + 1); }

/* Adds and requests from main to 256 tallies on four shards, collected
 * when idle for 2 ms, so loads, writes and reloads interleave. */
static void storm_with_collection(void) {
  const char *path = bst_store_path();
  bs_engine *e = engine(path, 4, 2);
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < N; i++) {
      bs_ref t = tally(e, i);
      if ((i + r) % 4 == 0) {
        bs_writer w;
        bs_send_begin(&t, &tally_methods[1], &w);
        bs_write_int(&w, i + 1);
        CHECK(bs_request_end(&w, bst_reply_i64, (bs_fnptr)on_reply, NULL) == 0);
      } else {
        CHECK(bst_send_i64(t, &tally_methods[0], i + 1) == 0);
      }
    }
    if (r % 8 == 7) {
      CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
      uv_sleep(5); /* long enough to be collected */
    }
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  CHECKM(get(&g_replies) == (uint64_t)N * ROUNDS / 4 && get(&g_reply_errors) == 0,
         "replies %llu, errors %llu", (unsigned long long)get(&g_replies),
         (unsigned long long)get(&g_reply_errors));
  CHECK(st.store_errors == 0 && st.store_pending == 0);
  CHECK(st.store_writes > 0 && st.store_writes <= (uint64_t)N * ROUNDS);
  bs_engine_free(e);
  check_stored(path, N, want_rounds);
}

/* Stops queued behind persisted mail, and the engine freed at once, with
 * mail still queued and writes out: whatever ran is stored, because every
 * instance writes its dirty state before deinit and free waits for it. */
static void stops_and_free_with_writes_out(void) {
  const char *path = bst_store_path();
  bs_engine *e = engine(path, 4, 0);
  for (int k = 0; k < 10; k++) {
    for (int i = 0; i < N; i++) {
      bs_ref t = tally(e, i);
      CHECK(bst_send_i64(t, &tally_methods[0], i + 1) == 0);
      if (k % 3 == 1) CHECK(bs_stop(&t) == 0);
    }
  }
  bs_engine_free(e); /* no run: the other shards got some of it done */
  bs_store *s = NULL;
  CHECK(bs_store_open(&s, path, NULL) == 0);
  uint64_t total = 0;
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "t%d", i);
    Tally t;
    memset(&t, 0, sizeof t);
    bs_store_record rec;
    int rc = bs_store_load(s, "Tally", id, &rec);
    if (rc == 0) {
      bs_reader r;
      bs_reader_init(&r, rec.data, rec.len, NULL);
      CHECK(tally_load(&t, &r) == 0);
    }
    CHECKM(rc == 0 || rc == BS_ENOTFOUND, "t%d: %d", i, rc);
    CHECKM(t.n == get(&g_applied[i]) && t.sum == (int64_t)t.n * (i + 1),
           "t%d: stored %llu adds (sum %lld), %llu ran", i, (unsigned long long)t.n,
           (long long)t.sum, (unsigned long long)get(&g_applied[i]));
    total += t.n;
  }
  bs_store_free(s);
  (void)total;
}

#define SCENARIOS(X)                                                           \
  X(storm_with_collection, 120)                                                \
  X(stops_and_free_with_writes_out, 120)
BST_MAIN(SCENARIOS)
