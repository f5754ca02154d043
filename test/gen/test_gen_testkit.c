/* The test kit (backstage/testkit.h) with generated proxies.
 *
 * The first part is the code of docs/testing.md, verbatim (the
 * gen_testing_doc_matches_the_tests test checks it): the bank of
 * fixtures/bank.h (bank_impl.c), a probe decoding what a teller sent with
 * the generated AccountProxy_deposit__args, ticks on the virtual clock,
 * and a seed exploration that finds an order bug and replays it.
 *
 * The rest goes further: stepping and mailboxes through proxies, every
 * parameter kind through TProxy_name__args (fixtures/kitchen.h), probes as
 * stream subscribers, and streams driven by timers on the virtual clock
 * (fixtures/news.h). */
#include <stdio.h>
#include <criterion/criterion.h>
#include <backstage/testkit.h>
#include "bank.bs.h"

static bs_engine *test_engine(uint64_t seed) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.virtual_time = true;
  o.schedule_seed = seed;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

Test(bank, teller_sends_a_deposit_to_the_account) {
  bs_engine *e = test_engine(0);
  bs_probe *acct;                                  /* stands in for "acct-1" */
  cr_assert_eq(bs_probe_new(e, &Account_actor_type, "acct-1", &acct), 0);

  TellerProxy teller;
  bs_get_actor(e, Teller, "teller", &teller);
  TellerProxy_move(teller, "acct-1", 100);
  bs_test_run(e, 0);                               /* until nothing is left */

  bs_probed m;
  int64_t amount = 0;
  cr_assert_eq(bs_probe_next(acct, &m), 1);
  cr_assert_str_eq(m.method, "deposit");           /* "teller sent acct-1 deposit(100)" */
  cr_assert_eq(AccountProxy_deposit__args(&m.args, &amount), 0);
  cr_assert_eq(amount, 100);
  bs_engine_free(e);
}

Test(bank, ticks_happen_on_the_virtual_clock) {
  bs_engine *e = test_engine(0);
  TellerProxy teller;
  bs_get_actor(e, Teller, "teller", &teller);
  TellerProxy_tickEvery(teller, 250);
  bs_test_advance(e, 1000);                        /* instant: 4 ticks at 250, 500, 750, 1000 */
  for (uint32_t n = 1; n <= 5; n++) {
    uint64_t at = 1;
    cr_assert_eq(TellerProxy_tickedAt_await(teller, n, &at), 0);
    cr_assert_eq(at, n <= 4 ? 250 * n : 0);        /* bs_engine_now() in tick n; no tick 5 */
  }
  bs_engine_free(e);
}

typedef struct trace { char lines[32][48]; int n; } trace;  /* "actor.what", in order */

static void record(void *ud, const char *actor_id, const char *what) {
  trace *t = ud;
  if (t->n < 32) snprintf(t->lines[t->n++], sizeof t->lines[0], "%s.%s", actor_id, what);
}

static int two_tellers(uint64_t seed, void *ud) {  /* ud: a trace to fill, or NULL */
  bs_engine *e = test_engine(seed);
  if (ud) bs_test_set_trace(e, record, ud);
  TellerProxy alice, bob;
  bs_get_actor(e, Teller, "alice", &alice);
  bs_get_actor(e, Teller, "bob", &bob);
  TellerProxy_move(alice, "acct", 100);
  TellerProxy_move(bob, "acct", -50);              /* assumes alice's deposit lands first */
  bs_test_run(e, 0);
  AccountProxy acct;
  bs_get_actor(e, Account, "acct", &acct);
  int64_t balance = 0;
  AccountProxy_balance_await(acct, &balance);
  bs_engine_free(e);
  return balance == 50 ? 0 : 1;                    /* non-zero: this seed broke it */
}

Test(bank, exploring_seeds_finds_the_overdraft_and_replays_it) {
  cr_assert_eq(two_tellers(0, NULL), 0, "FIFO hides the bug");
  uint64_t seed;
  cr_assert_eq(bs_test_explore(two_tellers, NULL, 1, 500, &seed), 1, "no seed overdraws");
  static trace first, again;
  cr_assert_neq(two_tellers(seed, &first), 0);     /* the seed replays: the same failure */
  cr_assert_neq(two_tellers(seed, &again), 0);
  cr_assert_eq(first.n, again.n);                  /* after the same deliveries */
  for (int i = 0; i < first.n; i++) cr_assert_str_eq(first.lines[i], again.lines[i]);
}

/* The same exploration with the bank spread over four shards (one thread,
 * the test's): the seed interleaves the shards' inboxes too. */
static bs_engine *sharded_engine(uint64_t seed) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = 4;                     /* four shards, one thread: the test's */
  o.virtual_time = true;
  o.schedule_seed = seed;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

static int two_tellers_on_shards(uint64_t seed, void *ud) {
  bs_engine *e = sharded_engine(seed);
  if (ud) bs_test_set_trace(e, record, ud);
  TellerProxy alice, bob;
  bs_get_actor(e, Teller, "alice", &alice);
  bs_get_actor(e, Teller, "bob", &bob);
  AccountProxy acct;
  bs_get_actor(e, Account, "acct", &acct);
  cr_assert(bs_ref_shard(&alice.ref) != bs_ref_shard(&acct.ref) ||
            bs_ref_shard(&bob.ref) != bs_ref_shard(&acct.ref), "the bank crosses shards");
  TellerProxy_move(alice, "acct", 100);
  TellerProxy_move(bob, "acct", -50);
  bs_test_run(e, 0);
  int64_t balance = 0;
  AccountProxy_balance_await(acct, &balance);
  bs_engine_free(e);
  return balance == 50 ? 0 : 1;
}

Test(bank, exploring_seeds_over_four_shards_finds_and_replays_the_overdraft) {
  uint64_t seed;
  cr_assert_eq(bs_test_explore(two_tellers_on_shards, NULL, 1, 500, &seed), 1);
  static trace first, again;
  cr_assert_neq(two_tellers_on_shards(seed, &first), 0);
  cr_assert_neq(two_tellers_on_shards(seed, &again), 0);
  cr_assert_eq(first.n, again.n);
  for (int i = 0; i < first.n; i++) cr_assert_str_eq(first.lines[i], again.lines[i]);
}

/* ---- Beyond the page ------------------------------------------------------------ */

/* One timeout for every test of both suites: with some tests timed and
 * some not, Criterion 2.4 leaks an allocation of its own under --jobs
 * (LeakSanitizer reports it in ASan builds). */
TestSuite(bank, .timeout = 30);
TestSuite(testkit_gen, .timeout = 30);

#include <string.h>

#include "kitchen.bs.h"
#include "news.bs.h"
#include "streams_impl.h"

static int index_of(const trace *t, const char *line) {
  for (int i = 0; i < t->n && i < 32; i++)
    if (strcmp(t->lines[i], line) == 0) return i;
  return -1;
}

Test(bank, the_failing_seed_runs_bobs_withdrawal_first) {
  uint64_t seed = 0;
  cr_assert_eq(bs_test_explore(two_tellers, NULL, 1, 500, &seed), 1);
  static trace bad, fifo;
  cr_assert_neq(two_tellers(seed, &bad), 0);
  cr_assert_eq(two_tellers(0, &fifo), 0);
  int w = index_of(&bad, "acct.withdraw"), d = index_of(&bad, "acct.deposit");
  cr_assert(w >= 0 && d > w, "seed %llu: withdraw at %d, deposit at %d",
            (unsigned long long)seed, w, d);
  w = index_of(&fifo, "acct.withdraw");
  d = index_of(&fifo, "acct.deposit");
  cr_assert(d >= 0 && w > d, "FIFO: the deposit first");
  cr_assert_str_eq(fifo.lines[0], "alice.move");
  cr_assert_str_eq(fifo.lines[1], "bob.move");
}

Test(bank, a_scenario_is_a_function_of_its_seed_alone) {
  int differing = 0;
  for (uint64_t seed = 1; seed <= 16; seed++) {
    static trace a, b, fifo;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&fifo, 0, sizeof fifo);
    int ra = two_tellers(seed, &a), rb = two_tellers(seed, &b);
    cr_assert_eq(ra, rb, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(a.n, b.n);
    for (int i = 0; i < a.n && i < 32; i++) cr_assert_str_eq(a.lines[i], b.lines[i]);
    two_tellers(0, &fifo);
    if (a.n != fifo.n || memcmp(a.lines, fifo.lines, sizeof a.lines) != 0) differing++;
  }
  cr_assert_geq(differing, 4, "only %d of 16 seeds left FIFO order", differing);
}

/* ---- Stepping and mailboxes through proxies ---------------------------------------- */

static int64_t got_balance = -1;
static int got_status = 1;

static void on_balance(void *ud, int status, int64_t value) {
  (void)ud;
  got_status = status;
  got_balance = value;
}

Test(testkit_gen, step_and_next_method_follow_generated_proxies) {
  bs_engine *e = test_engine(0);
  TellerProxy teller;
  AccountProxy acct;
  cr_assert_eq(bs_get_actor(e, Teller, "teller", &teller), 0);
  cr_assert_eq(bs_get_actor(e, Account, "acct", &acct), 0);
  cr_assert_eq(TellerProxy_move(teller, "acct", 70), 0);
  cr_assert_eq(TellerProxy_move(teller, "acct", -20), 0);
  cr_assert_eq(bs_ref_pending(&teller.ref), 2);
  cr_assert_str_eq(bs_test_next_method(&teller.ref), "move");
  cr_assert_null(bs_test_next_method(&acct.ref));

  cr_assert_eq(bs_test_step(e), 1);                /* teller: move(acct, 70) */
  cr_assert_eq(bs_ref_pending(&teller.ref), 1);
  cr_assert_eq(bs_ref_pending(&acct.ref), 1);
  cr_assert_str_eq(bs_test_next_method(&acct.ref), "deposit");
  cr_assert_eq(bs_test_step(e), 1);                /* FIFO turns: the teller went to the back */
  cr_assert_eq(bs_ref_pending(&acct.ref), 0);
  cr_assert_eq(bs_ref_pending(&teller.ref), 1);
  cr_assert_eq(bs_test_step(e), 1);                /* teller: move(acct, -20) */
  cr_assert_str_eq(bs_test_next_method(&acct.ref), "withdraw");
  cr_assert_eq(bs_test_run(e, 0), 1);
  cr_assert_eq(bs_test_step(e), 0, "quiescent");

  cr_assert_eq(AccountProxy_balance(acct, on_balance, NULL), 0);
  cr_assert_str_eq(bs_test_next_method(&acct.ref), "balance");
  cr_assert_eq(bs_test_step(e), 1);                /* balance() */
  cr_assert_eq(got_status, 1, "the reply is mail too");
  cr_assert_eq(bs_test_step(e), 1);                /* the reply: on_balance runs */
  cr_assert_eq(got_status, 0);
  cr_assert_eq(got_balance, 50);

  cr_assert_eq(TellerProxy_stop(teller), 0);
  cr_assert_str_eq(bs_test_next_method(&teller.ref), "(stop)");
  bs_test_run(e, 0);
  cr_assert_not(bs_ref_active(&teller.ref));
  bs_engine_free(e);
}

Test(testkit_gen, a_stopped_tellers_timer_stops_with_it) {
  bs_engine *e = test_engine(0);
  TellerProxy teller;
  bs_get_actor(e, Teller, "teller", &teller);
  TellerProxy_tickEvery(teller, 100);
  cr_assert_eq(bs_test_advance(e, 250), 0);
  uint64_t at = 0;
  cr_assert_eq(TellerProxy_tickedAt_await(teller, 2, &at), 0);
  cr_assert_eq(at, 200);
  TellerProxy_stop(teller);                        /* deinit stops the timer */
  bs_test_run(e, 0);
  cr_assert_eq(bs_test_advance(e, 1000), 0);       /* nothing fires into freed state */
  cr_assert_not(bs_ref_active(&teller.ref), "no tick re-activated it");
  cr_assert_eq(TellerProxy_tickedAt_await(teller, 1, &at), 0);
  cr_assert_eq(at, 0, "a fresh instance");
  cr_assert_eq(bs_engine_now(e), 1250);
  bs_engine_free(e);
}

/* ---- TProxy_name__args: every parameter kind ---------------------------------------- */

static bs_probe *kitchen_probe(bs_engine *e, KitchenProxy *k) {
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &Kitchen_actor_type, "kitchen", &p), 0);
  cr_assert_eq(bs_get_actor(e, Kitchen, "kitchen", k), 0);
  return p;
}

static bs_probed take(bs_probe *p, const char *method) {
  bs_probed m;
  cr_assert_eq(bs_probe_next(p, &m), 1, "no %s captured", method);
  cr_assert_str_eq(m.method, method);
  return m;
}

Test(testkit_gen, args_decoders_decode_integers_scalars_and_text) {
  bs_engine *e = test_engine(0);
  KitchenProxy k;
  bs_probe *p = kitchen_probe(e, &k);
  KitchenProxy_integers(k, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, UINT8_MAX,
                        UINT16_MAX, UINT32_MAX, UINT64_MAX);
  KitchenProxy_cTypes(k, 'q', -1, 200, -300, 60000, -7, 4000000000u, -5L, 6UL, -8LL,
                      9ULL, (size_t)123456789);
  KitchenProxy_scalars(k, true, 0.5f, -2.25, MODE_ON, COLOR_BLUE);
  KitchenProxy_text(k, "hello", NULL);
  KitchenProxy_clash(k, 1, 2, 3);
  cr_assert_eq(bs_probe_pending(p), 5);

  bs_probed m = take(p, "integers");
  int8_t a; int16_t b; int32_t c; int64_t d;
  uint8_t ue; uint16_t f; uint32_t g; uint64_t h;
  cr_assert_eq(KitchenProxy_integers__args(&m.args, &a, &b, &c, &d, &ue, &f, &g, &h), 0);
  cr_assert(a == INT8_MIN && b == INT16_MIN && c == INT32_MIN && d == INT64_MIN);
  cr_assert(ue == UINT8_MAX && f == UINT16_MAX && g == UINT32_MAX && h == UINT64_MAX);

  m = take(p, "cTypes");
  char ch; signed char sc; unsigned char uc; short s; unsigned short us; int i;
  unsigned u; long l; unsigned long ul; long long ll; unsigned long long ull; size_t z;
  cr_assert_eq(KitchenProxy_cTypes__args(&m.args, &ch, &sc, &uc, &s, &us, &i, &u, &l,
                                         &ul, &ll, &ull, &z), 0);
  cr_assert(ch == 'q' && sc == -1 && uc == 200 && s == -300 && us == 60000 && i == -7);
  cr_assert(u == 4000000000u && l == -5L && ul == 6UL && ll == -8LL && ull == 9ULL &&
            z == 123456789);

  m = take(p, "scalars");
  bool flag = false; float fl = 0; double db = 0; Mode mode = MODE_OFF; Color color = COLOR_RED;
  cr_assert_eq(KitchenProxy_scalars__args(&m.args, &flag, &fl, &db, &mode, &color), 0);
  cr_assert(flag && fl == 0.5f && db == -2.25 && mode == MODE_ON && color == COLOR_BLUE);

  m = take(p, "text");
  const char *text = NULL, *maybe = "not null";
  cr_assert_eq(KitchenProxy_text__args(&m.args, &text, &maybe), 0);
  cr_assert_str_eq(text, "hello");
  cr_assert_null(maybe);

  m = take(p, "clash");                            /* renamed parameters: w_, rc_, proxy_ */
  int w = 0, rc = 0, proxy = 0;
  cr_assert_eq(KitchenProxy_clash__args(&m.args, &w, &rc, &proxy), 0);
  cr_assert(w == 1 && rc == 2 && proxy == 3);
  bs_engine_free(e);
}

Test(testkit_gen, args_decoders_decode_bytes_arrays_and_structs) {
  bs_engine *e = test_engine(0);
  KitchenProxy k;
  bs_probe *p = kitchen_probe(e, &k);
  const uint8_t raw[3] = {1, 2, 250};
  KitchenProxy_bytes(k, (bs_bytes){"blob", 4}, "data", 4, raw, 3);
  const int32_t values[5] = {1, -2, 3, -4, 5};
  const Point points[2] = {{1, 2}, {3, 4}};
  const char *const names[3] = {"a", "bb", "ccc"};
  KitchenProxy_arrays(k, values, 5, points, 2, names, 3);
  const Point extra[1] = {{5, 6}};
  Polygon poly = {.name = "tri", .color = COLOR_GREEN, .corners = {{1, 1}, {2, 2}, {3, 3}},
                  .extra = extra, .extra_count = 1, .weights = {{0.5, 1}, {2, 4}}};
  struct Scene scene;
  memset(&scene, 0, sizeof scene);
  scene.polygons = &poly;
  scene.polygon_count = 1;
  scene.thumbnail = (bs_bytes){"abc", 3};
  scene.id[15] = 9;
  KitchenProxy_structs(k, (Point){7, -7}, &poly, scene);
  const int32_t v[4] = {1, 2, 3, 4};
  const double mx[2][3] = {{0.5, 0, 0}, {0, 0, 9.5}};
  const char label[8] = "label";
  const uint8_t digest[4] = {0, 0, 0, 77};
  KitchenProxy_matrix(k, v, mx, label, digest);
  const int32_t t[2] = {7, 8};
  KitchenProxy_shadow(k, "x", 5, t, 2);

  bs_probed m = take(p, "bytes");
  bs_bytes blob = {0};
  const void *data = NULL;
  const uint8_t *rawp = NULL;
  size_t len = 0, raw_len = 0;
  cr_assert_eq(KitchenProxy_bytes__args(&m.args, &blob, &data, &len, &rawp, &raw_len), 0);
  cr_assert(blob.len == 4 && memcmp(blob.data, "blob", 4) == 0);
  cr_assert(len == 4 && memcmp(data, "data", 4) == 0);
  cr_assert(raw_len == 3 && rawp[2] == 250);

  m = take(p, "arrays");
  const int32_t *vals = NULL;
  const Point *pts = NULL;
  const char *const *nms = NULL;
  size_t count = 0, point_count = 0, name_count = 0;
  cr_assert_eq(KitchenProxy_arrays__args(&m.args, &vals, &count, &pts, &point_count, &nms,
                                         &name_count), 0);
  cr_assert(count == 5 && vals[1] == -2 && vals[4] == 5);
  cr_assert(point_count == 2 && pts[1].x == 3 && pts[1].y == 4);
  cr_assert_eq(name_count, 3);
  cr_assert_str_eq(nms[2], "ccc");

  m = take(p, "structs");
  Point pt = {0};
  const Polygon *pp = NULL;
  struct Scene sc;
  cr_assert_eq(KitchenProxy_structs__args(&m.args, &pt, &pp, &sc), 0);
  cr_assert(pt.x == 7 && pt.y == -7);
  cr_assert_not_null(pp);
  cr_assert_str_eq(pp->name, "tri");
  cr_assert(pp->color == COLOR_GREEN && pp->corners[2].y == 3 && pp->extra_count == 1 &&
            pp->extra[0].y == 6 && pp->weights[1][1] == 4);
  cr_assert(sc.polygon_count == 1 && sc.polygons[0].corners[1].x == 2);
  cr_assert(sc.highlight == NULL && sc.origin == NULL && sc.thumbnail.len == 3 &&
            sc.id[15] == 9);

  m = take(p, "matrix");                           /* fixed arrays: pointers to arrays */
  int32_t v2[4];
  double m2[2][3];
  char label2[8];
  uint8_t digest2[4];
  cr_assert_eq(KitchenProxy_matrix__args(&m.args, &v2, &m2, &label2, &digest2), 0);
  cr_assert(v2[3] == 4 && m2[0][0] == 0.5 && m2[1][2] == 9.5 && digest2[3] == 77);
  cr_assert_str_eq(label2, "label");

  m = take(p, "shadow");                           /* args_, a0_, t0_, a0_n_ */
  const char *s = NULL;
  int32_t a0 = 0;
  const int32_t *t0 = NULL;
  size_t n = 0;
  cr_assert_eq(KitchenProxy_shadow__args(&m.args, &s, &a0, &t0, &n), 0);
  cr_assert_str_eq(s, "x");
  cr_assert(a0 == 5 && n == 2 && t0[0] == 7 && t0[1] == 8);
  bs_engine_free(e);
}

Test(testkit_gen, args_of_a_captured_request) {
  bs_engine *e = test_engine(0);
  KitchenProxy k;
  bs_probe *p = kitchen_probe(e, &k);
  const int64_t values[3] = {1, 2, 3};
  cr_assert_eq(KitchenProxy_sum(k, values, 3, NULL, NULL), 0);
  bs_probed m = take(p, "sum");
  cr_assert(m.request);
  const int64_t *got = NULL;
  size_t count = 0;
  cr_assert_eq(KitchenProxy_sum__args(&m.args, &got, &count), 0);
  cr_assert(count == 3 && got[2] == 3);
  bs_engine_free(e);
}

Test(testkit_gen, args_decoders_skip_NULL_outputs_and_keep_outputs_on_errors) {
  bs_engine *e = test_engine(0);
  KitchenProxy k;
  bs_probe *p = kitchen_probe(e, &k);
  KitchenProxy_text(k, "hello", "world");
  KitchenProxy_text(k, "hello", "world");
  KitchenProxy_integers(k, 1, 2, 3, 4, 5, 6, 7, 8);

  bs_probed m = take(p, "text");
  const char *maybe = NULL;
  bs_reader no_arena = m.args;
  no_arena.arena = NULL;                           /* strings need one */
  cr_assert_eq(KitchenProxy_text__args(&no_arena, NULL, &maybe), BS_ENOMEM);
  cr_assert_null(maybe);
  cr_assert_eq(KitchenProxy_text__args(&m.args, NULL, &maybe), 0, "NULL skips s");
  cr_assert_str_eq(maybe, "world");

  m = take(p, "text");                             /* the wrong decoder: text is not int8 */
  int8_t a = 42;
  int64_t d = 42;
  cr_assert_eq(KitchenProxy_integers__args(&m.args, &a, NULL, NULL, &d, NULL, NULL, NULL,
                                           NULL), BS_EDECODE);
  cr_assert(a == 42 && d == 42, "outputs untouched");

  m = take(p, "integers");
  cr_assert_eq(KitchenProxy_integers__args(NULL, &a, NULL, NULL, NULL, NULL, NULL, NULL,
                                           NULL), BS_EINVAL);
  bs_reader truncated = m.args;
  truncated.end = truncated.p + 3;                 /* three of eight arguments */
  cr_assert_eq(KitchenProxy_integers__args(&truncated, &a, NULL, NULL, &d, NULL, NULL, NULL,
                                           NULL), BS_EDECODE);
  cr_assert(a == 42 && d == 42);
  cr_assert_eq(KitchenProxy_integers__args(&m.args, &a, NULL, NULL, &d, NULL, NULL, NULL,
                                           NULL), 0);
  cr_assert(a == 1 && d == 4);
  bs_engine_free(e);
}

/* ---- Streams under the test kit ------------------------------------------------------ */

static bs_stream_cstr news_stream;
static int published;

static void publish_tick(bs_timer *t) {
  char text[32];
  snprintf(text, sizeof text, "at %llu", (unsigned long long)bs_engine_now(t->engine));
  cr_assert_geq(bs_stream_next(news_stream, text), 0);
  published++;
}

Test(testkit_gen, elements_published_by_a_timer_reach_subscribers_on_advance) {
  news_reset();
  published = 0;
  bs_engine *e = test_engine(0);
  cr_assert_eq(bs_get_stream(e, cstr, "news", &news_stream), 0);
  cr_assert_eq(bs_stream_subscribe(news_stream, bs_subscriber("r1", ReaderProxy_handleNews)), 0);
  cr_assert_eq(bs_stream_subscribe(news_stream, bs_subscriber("r2", ReaderProxy_handleNews)), 0);
  bs_timer timer;
  bs_timer_init(e, &timer);
  cr_assert_eq(bs_timer_start(&timer, publish_tick, 100, 100), 0);
  cr_assert_eq(bs_test_run(e, 0), 0);
  cr_assert_eq(news_log_for("r1")->n, 0, "nothing before the clock moves");
  cr_assert_eq(bs_test_advance(e, 99), 0);
  cr_assert_eq(news_log_for("r1")->n, 0);
  cr_assert_eq(bs_test_advance(e, 201), 0);        /* t = 300: ticks at 100, 200, 300 */
  cr_assert_eq(published, 3);
  static const char *const want[] = {"at 100", "at 200", "at 300"};
  for (int r = 0; r < 2; r++) {
    news_log *l = news_log_for(r == 0 ? "r1" : "r2");
    cr_assert_eq(l->n, 3);
    for (int i = 0; i < 3; i++) cr_assert_str_eq(l->lines[i], want[i]);
  }
  bs_timer_stop(&timer);
  bs_engine_free(e);
}

Test(testkit_gen, seeded_schedules_keep_each_subscribers_elements_in_order) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    news_reset();
    published = 0;
    bs_engine *e = test_engine(seed);
    bs_get_stream(e, cstr, "news", &news_stream);
    const char *ids[3] = {"r1", "r2", "r3"};
    for (int r = 0; r < 3; r++)
      bs_stream_subscribe(news_stream, bs_subscriber(ids[r], ReaderProxy_handleNews));
    bs_timer timer;
    bs_timer_init(e, &timer);
    bs_timer_start(&timer, publish_tick, 10, 10);
    NewsroomProxy room;                            /* other traffic for the schedule to mix in */
    bs_get_actor(e, Newsroom, "room", &room);
    for (int i = 0; i < 5; i++) NewsroomProxy_publish(room, "from the room");
    cr_assert_eq(bs_test_advance(e, 40), 0);
    bs_timer_stop(&timer);
    for (int r = 0; r < 3; r++) {
      news_log *l = news_log_for(ids[r]);
      cr_assert_eq(l->n, 9, "seed %llu: %s got %d", (unsigned long long)seed, ids[r], l->n);
      int next = 1;                                /* the timer's elements, in order */
      for (int i = 0; i < l->n; i++) {
        if (strncmp(l->lines[i], "at ", 3) != 0) continue;
        char want[32];
        snprintf(want, sizeof want, "at %d", 10 * next++);
        cr_assert_str_eq(l->lines[i], want, "seed %llu", (unsigned long long)seed);
      }
      cr_assert_eq(next, 5);
    }
    bs_engine_free(e);
  }
}

Test(testkit_gen, a_probe_subscribed_to_a_stream_decodes_elements_with_args) {
  bs_engine *e = test_engine(0);
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &Reader_actor_type, "reader", &p), 0);
  bs_stream_cstr news;
  bs_stream_Headline headlines;
  cr_assert_eq(bs_get_stream(e, cstr, "news", &news), 0);
  cr_assert_eq(bs_get_stream(e, Headline, "headlines", &headlines), 0);
  cr_assert_eq(bs_stream_subscribe(news, bs_subscriber("reader", ReaderProxy_handleNews)), 0);
  cr_assert_eq(bs_stream_subscribe(headlines, bs_subscriber("reader", ReaderProxy_onHeadline)),
               0);
  cr_assert_eq(bs_stream_next(news, "extra"), 1);
  const Point path[2] = {{1, 2}, {3, 4}};
  Headline hl = {.seq = 9, .title = "C", .by = {"Ada", "systems"}, .path = path,
                 .path_count = 2, .priority = -1};
  cr_assert_eq(bs_stream_next(headlines, &hl), 1);
  bs_test_run(e, 0);

  bs_probed m = take(p, "handleNews");
  const char *text = NULL;
  cr_assert_eq(ReaderProxy_handleNews__args(&m.args, &text), 0);
  cr_assert_str_eq(text, "extra");
  m = take(p, "onHeadline");
  const Headline *h = NULL;
  cr_assert_eq(ReaderProxy_onHeadline__args(&m.args, &h), 0);
  cr_assert_not_null(h);
  cr_assert(h->seq == 9 && h->priority == -1 && h->path_count == 2 && h->path[1].y == 4 &&
            h->where == NULL);
  cr_assert_str_eq(h->title, "C");
  cr_assert_str_eq(h->by.author, "Ada");
  cr_assert_str_eq(h->by.desk, "systems");
  bs_engine_free(e);
}
