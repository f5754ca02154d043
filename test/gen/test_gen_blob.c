/* Blobs through generated proxies (fixtures/media.h): sent by reference on
 * one shard and across shards, kept, returned, in structs, arrays and
 * streams; every way a message can end releases its references, and the
 * last release frees the blob. Blobs here come from a counting allocator,
 * so "freed" is observed, not assumed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <backstage/testkit.h>

#include "media.bs.h"
#include "media_impl.h"

/* ---- A counting allocator, safe on any thread (blobs are released on the
 * shard that drops the last reference), that can fail the N-th attempt. */
typedef struct tally {
  uint64_t attempts, allocs, frees, failures;
  uint64_t fail_at; /* 1-based; 0: never */
  bool fail_from;   /* and every attempt after it */
  int64_t live;     /* bytes */
} tally;

static void *tally_fn(void *ud, void *p, size_t old, size_t n) {
  tally *t = ud;
  if (n == 0) {
    if (p) {
      __atomic_add_fetch(&t->frees, 1, __ATOMIC_RELAXED);
      __atomic_sub_fetch(&t->live, (int64_t)old, __ATOMIC_RELAXED);
    }
    free(p);
    return NULL;
  }
  uint64_t k = __atomic_add_fetch(&t->attempts, 1, __ATOMIC_RELAXED);
  if (t->fail_at && (k == t->fail_at || (t->fail_from && k > t->fail_at))) {
    __atomic_add_fetch(&t->failures, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  void *q = realloc(p, n);
  if (q) {
    if (!p) __atomic_add_fetch(&t->allocs, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&t->live, (int64_t)n - (int64_t)old, __ATOMIC_RELAXED);
  }
  return q;
}

static tally T;      /* the blobs' allocator */
static tally E;      /* the engine's, in the allocation failure test */

static uint64_t blob_frees(void) { return __atomic_load_n(&T.frees, __ATOMIC_ACQUIRE); }

/* A blob of `n` bytes from T, filled with a pattern of `seed`. */
static const bs_blob *make_blob(size_t n, unsigned seed) {
  void *p;
  const bs_blob *b = bs_blob_alloc((bs_allocator){tally_fn, &T}, n, &p);
  cr_assert_not_null(b);
  for (size_t i = 0; i < n; i++) ((unsigned char *)p)[i] = (unsigned char)(i * 31u + seed);
  return b;
}

static bs_engine *engine_with(uint32_t shards, const bs_engine_options *base) {
  bs_engine_options o;
  if (base) o = *base; else bs_engine_options_init(&o);
  o.shards = shards;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

/* A Locker whose id lives on shard `shard`. */
static LockerProxy locker_on(bs_engine *e, uint32_t shard) {
  char id[32];
  for (int i = 0;; i++) {
    LockerProxy v;
    snprintf(id, sizeof id, "locker-%d", i);
    cr_assert_eq(LockerProxy_get(e, id, &v), 0);
    if (bs_ref_shard(&v.ref) == shard) return v;
  }
}

static const bs_method *method_named(const char *name) {
  for (size_t i = 0; i < Locker_actor_type.method_count; i++)
    if (strcmp(Locker_actor_type.methods[i].name, name) == 0) return &Locker_actor_type.methods[i];
  cr_assert_fail("no method %s", name);
  return NULL;
}

static void run(bs_engine *e) { cr_assert_geq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0); }

static void setup(void) {
  media_reset();
  memset(&T, 0, sizeof T);
  memset(&E, 0, sizeof E);
}

TestSuite(gen_blob, .init = setup, .timeout = 60);

/* ---- Sharing, not copying -------------------------------------------------- */

static void reaches_the_method_by_reference(uint32_t shards) {
  bs_engine *e = engine_with(shards, NULL);
  LockerProxy v = locker_on(e, shards - 1);
  const bs_blob *b = make_blob(65536, 1);
  cr_assert_eq(LockerProxy_look(v, b, 7), 0);
  run(e);
  cr_assert_eq(media_g.looks, 1);
  cr_assert_eq(media_g.last_tag, 7);
  cr_assert_eq(media_g.last_data, bs_blob_data(b), "the method saw a copy");
  uint32_t sum = 0;
  cr_assert_eq(LockerProxy_checksum_await(v, &sum), 0);
  cr_assert_eq(sum, media_sum(b));
  cr_assert_eq(blob_frees(), 0, "ours is still held");
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1, "the message let its reference go");
  bs_engine_free(e);
}

Test(gen_blob, a_blob_reaches_the_method_by_reference_on_one_shard) {
  reaches_the_method_by_reference(1);
}

Test(gen_blob, a_blob_reaches_a_method_on_another_shard_by_reference) {
  reaches_the_method_by_reference(2);
}

Test(gen_blob, a_kept_blob_lives_until_its_last_holder_releases_it) {
  bs_engine *e = engine_with(2, NULL);
  LockerProxy v = locker_on(e, 1);
  const bs_blob *b = make_blob(1000, 2);
  cr_assert_eq(LockerProxy_keep(v, b), 0);
  run(e);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 0, "the locker keeps it");
  const bs_blob *got = NULL;
  cr_assert_eq(LockerProxy_fetch_await(v, &got), 0);
  cr_assert_eq(got, b, "the same blob comes back");
  cr_assert_eq(LockerProxy_drop(v), 0);
  run(e);
  cr_assert_eq(blob_frees(), 0, "the await's reference is the caller's");
  cr_assert_eq(memcmp(bs_blob_data(got), bs_blob_data(b), 1000), 0);
  bs_blob_release(got);
  cr_assert_eq(blob_frees(), 1);
  const bs_blob *none = b;
  cr_assert_eq(LockerProxy_fetch_await(v, &none), 0);
  cr_assert_null(none, "NULL travels as null");
  bs_engine_free(e);
}

typedef struct fetched {
  int status;
  const void *data;
  size_t size;
} fetched;

static void on_fetch(void *ud, int status, const bs_blob *value) {
  fetched *f = ud;
  f->status = status;
  f->data = bs_blob_data(value);
  f->size = bs_blob_size(value);
}

Test(gen_blob, a_continuation_borrows_the_returned_blob) {
  bs_engine *e = engine_with(1, NULL);
  LockerProxy v = locker_on(e, 0);
  const bs_blob *b = make_blob(300, 3);
  cr_assert_eq(LockerProxy_keep(v, b), 0);
  fetched f = {-1, NULL, 0};
  cr_assert_eq(LockerProxy_fetch(v, on_fetch, &f), 0);
  run(e);
  cr_assert_eq(f.status, 0);
  cr_assert_eq(f.data, bs_blob_data(b));
  cr_assert_eq(f.size, 300);
  bs_engine_free(e); /* deinit releases the kept one */
  cr_assert_eq(blob_frees(), 0);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1);
}

Test(gen_blob, structs_and_arrays_carry_references) {
  bs_engine *e = engine_with(2, NULL);
  LockerProxy v = locker_on(e, 1);
  const bs_blob *a = make_blob(10, 4), *b = make_blob(20, 5);
  Frame f = {42, a};
  cr_assert_eq(LockerProxy_frame(v, f), 0);
  run(e);
  cr_assert_eq(media_g.last_data, bs_blob_data(a));
  Frame g = {43, NULL};
  cr_assert_eq(LockerProxy_frameRef(v, &g), 0);
  run(e);
  cr_assert(media_g.null_seen);
  const bs_blob *items[4] = {a, b, NULL, a};
  cr_assert_eq(LockerProxy_many(v, items, 4), 0);
  run(e);
  cr_assert_eq(media_g.last_many, 4);
  cr_assert_eq(media_g.last_data, bs_blob_data(a));
  uint64_t seen = 0;
  cr_assert_eq(LockerProxy_seen_await(v, &seen), 0);
  cr_assert_eq(seen, 10 + 10 + 20 + 10);
  bs_blob_release(a);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 2);
  bs_engine_free(e);
}

Test(gen_blob, a_blob_stream_shares_one_blob_with_every_subscriber) {
  bs_engine *e = engine_with(2, NULL);
  bs_stream_blob frames;
  cr_assert_eq(bs_get_stream(e, blob, "frames", &frames), 0);
  char id[16];
  for (int i = 0; i < 6; i++) {
    snprintf(id, sizeof id, "viewer-%d", i);
    cr_assert_eq(bs_stream_subscribe(frames, bs_subscriber(id, ViewerProxy_onBlob)), 0);
  }
  const bs_blob *b = make_blob(4096, 6);
  cr_assert_eq(bs_stream_next(frames, b), 6);
  run(e);
  cr_assert_eq(media_g.viewer_blobs, 6);
  cr_assert_eq(media_g.last_data, bs_blob_data(b));
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1);
  /* Frames (a struct holding a blob) as elements too. */
  bs_stream_Frame fs;
  cr_assert_eq(bs_get_stream(e, Frame, "framed", &fs), 0);
  cr_assert_eq(bs_stream_subscribe(fs, bs_subscriber("viewer-0", ViewerProxy_onFrame)), 0);
  const bs_blob *c = make_blob(64, 7);
  Frame f = {1, c};
  cr_assert_eq(bs_stream_next(fs, &f), 1);
  bs_blob_release(c);
  run(e);
  cr_assert_eq(media_g.viewer_frames, 1);
  cr_assert_eq(blob_frees(), 2);
  bs_engine_free(e);
}

/* ---- Every end of a message releases its references -------------------------- */

Test(gen_blob, dead_letters_and_rejected_sends_release_their_references) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.mailbox_capacity = 2;
  bs_engine *e = engine_with(1, &o);
  LockerProxy v = locker_on(e, 0);
  const bs_blob *b = make_blob(100, 8);
  /* Rejected: the mailbox holds two. */
  cr_assert_eq(LockerProxy_look(v, b, 1), 0);
  cr_assert_eq(LockerProxy_look(v, b, 2), 0);
  cr_assert_eq(LockerProxy_look(v, b, 3), BS_EFULL);
  run(e);
  /* Queued behind a stop. */
  cr_assert_eq(LockerProxy_stop(v), 0);
  cr_assert_eq(LockerProxy_look(v, b, 4), 0);
  run(e);
  bs_engine_stats s;
  bs_engine_stats_get(e, &s);
  cr_assert_eq(s.dead_by_reason[BS_DL_STOPPED], 1);
  cr_assert_eq(s.rejected, 1);
  cr_assert_eq(media_g.looks, 2);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1, "a reference was left behind");
  bs_engine_free(e);
}

Test(gen_blob, undecodable_messages_release_their_references) {
  bs_engine *e = engine_with(1, NULL);
  LockerProxy v = locker_on(e, 0);
  const bs_blob *b = make_blob(100, 9);
  /* look(blob, tag) with a string where the tag goes. */
  bs_writer w;
  cr_assert_eq(bs_send_begin(&v.ref, method_named("look"), &w), 0);
  bs_write_blob(&w, b);
  bs_write_cstr(&w, "not a number");
  cr_assert_eq(bs_send_end(&w), 0);
  run(e);
  bs_engine_stats s;
  bs_engine_stats_get(e, &s);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNDECODABLE], 1);
  cr_assert_eq(media_g.looks, 0);
  /* A writer that failed after the blob was written releases it too. */
  cr_assert_eq(bs_send_begin(&v.ref, method_named("look"), &w), 0);
  bs_write_blob(&w, b);
  w.err = BS_EENCODE; /* as an encoder of the next argument would */
  cr_assert_eq(bs_send_end(&w), BS_EENCODE);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1);
  bs_engine_free(e);
}

Test(gen_blob, an_engine_freed_with_mail_pending_releases_references) {
  bs_engine *e = engine_with(2, NULL);
  LockerProxy v0 = locker_on(e, 0), v1 = locker_on(e, 1);
  const bs_blob *b = make_blob(100, 10);
  cr_assert_eq(LockerProxy_look(v0, b, 1), 0);
  cr_assert_eq(LockerProxy_look(v1, b, 2), 0);
  cr_assert_eq(LockerProxy_keep(v1, b), 0);
  bs_engine_free(e);
  cr_assert_eq(blob_frees(), 0);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1);
}

Test(gen_blob, restarts_and_stops_release_kept_blobs_through_deinit) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.on_method_error = BS_ON_ERROR_RESTART;
  bs_engine *e = engine_with(1, &o);
  LockerProxy v = locker_on(e, 0);
  const bs_blob *b = make_blob(100, 11);
  cr_assert_eq(LockerProxy_keep(v, b), 0);
  media_g.look_fails = BS_EINVAL;
  cr_assert_eq(LockerProxy_look(v, b, 1), 0);
  run(e);
  cr_assert_eq(media_g.locker_deinits, 1, "restarted");
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 1, "deinit released the kept one");
  bs_engine_free(e);
}

/* ---- Allocation failure ---------------------------------------------------------- */

/* Sending and delivering blobs with the engine's N-th allocation failing
 * (or every one from the N-th on), for every N up to a run with no failure:
 * each send returns 0 or BS_ENOMEM, and once the engine is freed and ours
 * released, every blob is freed and the engine has every byte back. */
static void sweep_allocation_failures(bool from);

Test(gen_blob, allocation_failure_anywhere_leaks_no_reference) {
  sweep_allocation_failures(false);
}

Test(gen_blob, allocation_failure_from_anywhere_on_leaks_no_reference) {
  sweep_allocation_failures(true);
}

static void sweep_allocation_failures(bool from) {
  for (uint64_t n = 1;; n++) {
    memset(&E, 0, sizeof E);
    bs_engine_options o;
    bs_engine_options_init(&o);
    o.allocator = (bs_allocator){tally_fn, &E};
    o.shards = 2;
    o.virtual_time = true; /* both shards on this thread: reproducible */
    bs_engine *e = NULL;
    cr_assert_eq(bs_engine_new(&e, &o), 0);
    LockerProxy v0 = locker_on(e, 0), v1 = locker_on(e, 1);
    bs_stream_blob frames;
    cr_assert_eq(bs_get_stream(e, blob, "frames", &frames), 0);
    cr_assert_eq(bs_stream_subscribe(frames, bs_subscriber("viewer", ViewerProxy_onBlob)), 0);
    const bs_blob *a = make_blob(50, 12), *b = make_blob(5000, 13);
    const bs_blob *items[3] = {a, b, a};
    E.fail_at = E.attempts + n;
    E.fail_from = from;
    int rc[6];
    rc[0] = LockerProxy_look(v0, a, 1);
    rc[1] = LockerProxy_keep(v1, b);
    rc[2] = LockerProxy_many(v1, items, 3);
    rc[3] = bs_stream_next(frames, a);
    Frame f = {1, b};
    rc[4] = LockerProxy_frame(v0, f);
    rc[5] = bs_test_run(e, 0);
    bool failed = E.failures > 0;
    E.fail_at = 0;
    E.fail_from = false;
    for (int i = 0; i < 6; i++)
      cr_assert(rc[i] >= 0 || rc[i] == BS_ENOMEM, "n=%llu call %d returned %d",
                (unsigned long long)n, i, rc[i]);
    cr_assert_geq(bs_test_run(e, 0), 0);
    bs_engine_free(e);
    bs_blob_release(a);
    bs_blob_release(b);
    cr_assert_eq(E.live, 0, "n=%llu: the engine leaked %lld bytes", (unsigned long long)n,
                 (long long)E.live);
    cr_assert_eq(blob_frees(), 2 * n, "n=%llu: a blob reference was left behind",
                 (unsigned long long)n);
    if (!failed) break;
  }
}

/* ---- Outside messages ---------------------------------------------------------------- */

Test(gen_blob, a_plain_writer_writes_bytes_that_decode_into_a_blob_of_their_own) {
  const bs_blob *b = make_blob(1000, 14);
  uint8_t buf[2048];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(bs_write_blob(&w, b), 0);
  cr_assert_eq(bs_write_blob(&w, NULL), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  const void *p = NULL;
  size_t n = 0;
  cr_assert_eq(bs_read_bytes(&r, &p, &n), 0, "a plain byte string");
  cr_assert_eq(n, 1000);
  /* Decoded into a new blob, which the arena's reset releases. */
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){tally_fn, &T});
  bs_reader_init(&r, buf, w.len, &arena);
  const bs_blob *got = NULL, *null = b;
  cr_assert_eq(bs_read_blob(&r, &got), 0);
  cr_assert_eq(bs_read_blob(&r, &null), 0);
  cr_assert_null(null);
  cr_assert_neq(got, b);
  cr_assert_eq(bs_blob_size(got), 1000);
  cr_assert_eq(memcmp(bs_blob_data(got), bs_blob_data(b), 1000), 0);
  const bs_blob *kept = bs_blob_retain(got);
  uint64_t frees = blob_frees();
  bs_arena_reset(&arena);
  cr_assert_eq(blob_frees(), frees, "retained: still alive");
  bs_blob_release(kept);
  cr_assert_eq(blob_frees(), frees + 1);
  /* Without an arena there is nowhere to keep it; past its limit, too big. */
  bs_reader_init(&r, buf, w.len, NULL);
  cr_assert_eq(bs_read_blob(&r, &got), BS_ENOMEM);
  arena.limit = 999;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(bs_read_blob(&r, &got), BS_ETOOBIG);
  bs_arena_free(&arena);
  bs_blob_release(b);
  cr_assert_eq(T.live, 0);
}

Test(gen_blob, a_reference_outside_its_message_does_not_decode) {
  /* tag 0xb10b, index 0: what a body holding one blob says, read here
   * without the message. */
  const uint8_t body[] = {0xd9, 0xb1, 0x0b, 0x00};
  bs_reader r;
  const bs_blob *got = NULL;
  bs_reader_init(&r, body, sizeof body, NULL);
  cr_assert_eq(bs_read_blob(&r, &got), BS_EDECODE);
  cr_assert_null(got);
  const uint8_t text[] = {0x61, 'x'};
  bs_reader_init(&r, text, sizeof text, NULL);
  cr_assert_eq(bs_read_blob(&r, &got), BS_EDECODE);
}

Test(gen_blob, blobs_made_and_copied_hold_what_they_were_given) {
  const char msg[] = "immutable";
  const bs_blob *b = bs_blob_from(msg, sizeof msg);
  cr_assert_not_null(b);
  cr_assert_eq(bs_blob_size(b), sizeof msg);
  cr_assert_str_eq(bs_blob_data(b), msg);
  cr_assert_eq((uintptr_t)bs_blob_data(b) % 16, 0);
  cr_assert_eq(bs_blob_retain(b), b);
  bs_blob_release(b);
  bs_blob_release(b);
  const bs_blob *z = bs_blob_new(0, NULL);
  cr_assert_not_null(z);
  cr_assert_eq(bs_blob_size(z), 0);
  bs_blob_release(z);
  cr_assert_null(bs_blob_from(NULL, 1));
  cr_assert_null(bs_blob_new(SIZE_MAX, NULL), "too large");
  cr_assert_null(bs_blob_data(NULL));
  cr_assert_eq(bs_blob_size(NULL), 0);
  bs_blob_release(NULL);
  cr_assert_null(bs_blob_retain(NULL));
  /* Out of memory: NULL, nothing held. */
  T.fail_at = 1;
  cr_assert_null(bs_blob_alloc((bs_allocator){tally_fn, &T}, 10, NULL));
  cr_assert_eq(T.live, 0);
}

/* ---- The test kit ------------------------------------------------------------------ */

Test(gen_blob, a_probe_decodes_blob_arguments_with_the_generated_decoder) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.virtual_time = true;
  bs_engine *e = engine_with(1, &o);
  bs_probe *p = NULL;
  cr_assert_eq(bs_probe_new(e, &Locker_actor_type, "probed", &p), 0);
  LockerProxy v;
  cr_assert_eq(LockerProxy_get(e, "probed", &v), 0);
  const bs_blob *b = make_blob(77, 15);
  cr_assert_eq(LockerProxy_look(v, b, 9), 0);
  bs_blob_release(b);
  cr_assert_eq(blob_frees(), 0, "the captured message holds it");
  bs_probed got;
  cr_assert_eq(bs_probe_next(p, &got), 1);
  cr_assert_str_eq(got.method, "look");
  const bs_blob *arg = NULL;
  uint32_t tag = 0;
  cr_assert_eq(LockerProxy_look__args(&got.args, &arg, &tag), 0);
  cr_assert_eq(tag, 9);
  cr_assert_eq(arg, b);
  cr_assert_eq(bs_blob_size(arg), 77);
  bs_probe_free(p);
  cr_assert_eq(blob_frees(), 1);
  bs_engine_free(e);
}
