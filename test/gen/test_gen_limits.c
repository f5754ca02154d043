/* Decoding limits (fixtures/hoard.h): a body of N empty CBOR maps, one
 * byte each, sent to a method taking `const Big *items, size_t count` with
 * sizeof(Big) = 4 KiB, must not make the engine allocate N * 4 KiB. The
 * engine takes every byte through a counting allocator here, which also
 * refuses anything past 256 MiB, so that a regression fails the test
 * instead of the machine. */
#include <criterion/criterion.h>
#include <string.h>

#include "hoard.bs.h"

_Static_assert(sizeof(Big) == 4096, "Big is 4 KiB");

typedef struct counting {
  size_t live, peak, cap;
} counting;

static void *count_alloc(void *ud, void *p, size_t old, size_t n) {
  counting *c = ud;
  if (n == 0) {
    c->live -= p ? old : 0;
    return bs_default_alloc(NULL, p, old, 0);
  }
  size_t was = p ? old : 0;
  if (c->live - was + n > c->cap) return NULL;
  void *q = bs_default_alloc(NULL, p, old, n);
  if (q == NULL) return NULL;
  c->live = c->live - was + n;
  if (c->live > c->peak) c->peak = c->live;
  return q;
}

static counting mem;
static bs_engine *engine;
static bs_dead_letter last_dl;
static int dead_letters;

static void on_dead_letter(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  last_dl = *dl;
  dead_letters++;
}

static void start(size_t max_decode_bytes) {
  memset(&mem, 0, sizeof mem);
  mem.cap = (size_t)256 << 20;
  dead_letters = 0;
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.allocator = (bs_allocator){count_alloc, &mem};
  o.on_dead_letter = on_dead_letter;
  if (max_decode_bytes) o.max_decode_bytes = max_decode_bytes;
  cr_assert_eq(bs_engine_new(&engine, &o), 0);
}

static void teardown(void) {
  bs_engine_free(engine);
  engine = NULL;
}

TestSuite(gen_limits, .fini = teardown, .timeout = 60);

static const bs_method *method(const char *name) {
  for (size_t i = 0; i < Hoard_actor_type.method_count; i++)
    if (strcmp(Hoard_actor_type.methods[i].name, name) == 0)
      return &Hoard_actor_type.methods[i];
  cr_assert_fail("no method %s", name);
  return NULL;
}

/* Starts a call of `name` whose one argument is an array of n empty maps. */
static void hostile_body(HoardProxy h, const char *name, size_t n,
                         bs_writer *w) {
  cr_assert_eq(bs_send_begin(&h.ref, method(name), w), 0);
  bs_write_array(w, n);
  for (size_t i = 0; i < n; i++) bs_write_map(w, 0);
  cr_assert_eq(w->err, 0);
}

static void send_empty_maps(HoardProxy h, const char *name, size_t n) {
  bs_writer w;
  hostile_body(h, name, n, &w);
  cr_assert_eq(bs_send_end(&w), 0);
}

static uint64_t calls(HoardProxy h) {
  uint64_t n = 0;
  cr_assert_eq(HoardProxy_calls_await(h, &n), 0);
  return n;
}

/* The actor active and the arena warmed up by one small message. */
static HoardProxy warm_hoard(void) {
  HoardProxy h;
  cr_assert_eq(HoardProxy_get(engine, "h", &h), 0);
  send_empty_maps(h, "keep", 1);
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(calls(h), 1);
  return h;
}

static size_t live_bytes(void) {
  bs_engine_stats st;
  bs_engine_stats_get(engine, &st);
  return st.bytes_live;
}

Test(gen_limits, empty_maps_cannot_make_the_engine_allocate_n_structs) {
  start(0); /* the default limit, 64 MiB */
  HoardProxy h = warm_hoard();
  size_t before = mem.live;
  mem.peak = mem.live;
  send_empty_maps(h, "keep", 100000); /* 100 KB: 400 MB of Big */
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(dead_letters, 1);
  cr_assert_eq(last_dl.reason, BS_DL_UNDECODABLE, "reason %s",
               bs_dead_letter_reason_name(last_dl.reason));
  cr_assert_eq(last_dl.code, BS_ETOOBIG, "code %s", bs_errname(last_dl.code));
  cr_assert_str_eq(last_dl.method_name, "keep");
  cr_assert_eq(calls(h), 1, "the method did not run");
  /* the body and nothing of the 400 MB: the limit refuses before asking */
  cr_assert_lt(mem.peak - before, (size_t)1 << 20, "peak grew by %zu bytes",
               mem.peak - before);
  cr_assert_leq(mem.live, before + (512u << 10), "live %zu, before %zu",
                mem.live, before);
}

Test(gen_limits, the_limit_is_an_engine_option) {
  start((size_t)1 << 20);
  HoardProxy h = warm_hoard();
  send_empty_maps(h, "keep", 200); /* 800 KiB decoded: fits */
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(dead_letters, 0);
  cr_assert_eq(calls(h), 2);
  send_empty_maps(h, "keep", 300); /* 1.2 MiB decoded: over */
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(dead_letters, 1);
  cr_assert_eq(last_dl.reason, BS_DL_UNDECODABLE);
  cr_assert_eq(last_dl.code, BS_ETOOBIG);
  cr_assert_eq(calls(h), 2);
  /* the limit is per message: the next small one is fine */
  send_empty_maps(h, "keep", 200);
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(calls(h), 3);
  /* legitimate values count the same: 300 real Bigs are over it too */
  static Big bigs[300];
  cr_assert_eq(HoardProxy_keep(h, bigs, 300), 0);
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(dead_letters, 2);
  cr_assert_eq(calls(h), 3);
}

static int status_of(int status, bs_reader *value, bs_fnptr fn, void *ud) {
  (void)value;
  (void)fn;
  (void)ud;
  return status;
}

Test(gen_limits, a_request_over_the_limit_completes_with_an_error) {
  start((size_t)1 << 20);
  HoardProxy h = warm_hoard();
  bs_writer w;
  hostile_body(h, "count", 1000, &w);
  cr_assert_eq(bs_request_await(&w, status_of, NULL, 0), BS_ETOOBIG);
  cr_assert_eq(dead_letters, 1);
  cr_assert_eq(last_dl.reason, BS_DL_UNDECODABLE);
  cr_assert_eq(last_dl.code, BS_ETOOBIG);
  cr_assert_eq(calls(h), 1);
  uint64_t n = 0;
  static Big bigs[3];
  cr_assert_eq(HoardProxy_count_await(h, bigs, 3, &n), 0);
  cr_assert_eq(n, 3);
}

Test(gen_limits, the_arena_gives_back_what_a_large_message_needed) {
  start(0);
  HoardProxy h = warm_hoard();
  size_t before = live_bytes();
  mem.peak = mem.live;
  size_t peak_before = mem.peak;
  send_empty_maps(h, "keep", 2000); /* 8 MB decoded, within the limit */
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(dead_letters, 0);
  cr_assert_eq(calls(h), 2);
  cr_assert_geq(mem.peak, peak_before + 2000 * sizeof(Big));
  /* at most the 1 MiB chunk an arena keeps, not the 8 MB */
  cr_assert_leq(live_bytes(), before + ((size_t)1 << 20) + (64u << 10),
                "live %zu, before %zu", live_bytes(), before);
}

static void on_pile(void *ud, int status, Pile value) {
  (void)value;
  *(int *)ud = status;
}

/* Replies are decoded by the same engine arena (continuations) or into the
 * caller's (awaits, which then set its limit themselves). */
Test(gen_limits, a_reply_over_the_limit_reaches_its_continuation_as_an_error) {
  start((size_t)1 << 20);
  HoardProxy h = warm_hoard();
  int status = 1;
  cr_assert_eq(HoardProxy_pile(h, 300, on_pile, &status), 0); /* 1.2 MB */
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(status, BS_ETOOBIG);
  status = 1;
  cr_assert_eq(HoardProxy_pile(h, 200, on_pile, &status), 0);
  cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(status, 0);

  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){0});
  Pile p = {NULL, 0};
  cr_assert_eq(HoardProxy_pile_await(h, 300, &arena, &p), 0, "no limit of its own");
  cr_assert_eq(p.items_count, 300);
  bs_arena_reset(&arena);
  arena.limit = (size_t)1 << 20;
  cr_assert_eq(HoardProxy_pile_await(h, 300, &arena, &p), BS_ETOOBIG);
  /* the reply's copy counts too: 100 Bigs take 800 KB of the arena */
  cr_assert_eq(HoardProxy_pile_await(h, 100, &arena, &p), 0);
  cr_assert_eq(p.items_count, 100);
  bs_arena_free(&arena);
}
