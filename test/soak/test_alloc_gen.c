/* Allocation failure everywhere, through generated code: the proxies,
 * dispatch thunks, reply thunks and stream element types that backstage-gen
 * writes for the generator's test fixtures (test/gen/fixtures: Kitchen,
 * Newsroom, Reader; test/gen/actors_impl.c and streams_impl.c).
 *
 * Same method as test/test_alloc_everywhere.c: each scenario runs with the
 * N-th allocation failing, and with every allocation from the N-th on
 * failing, for N = 1, 2, ... until a run without failure; each run checks
 * clean error codes, a working engine once the allocator heals, the
 * sent == delivered + dead_letters invariant, and that every byte comes
 * back (the engine's and the await arenas', which use the same allocator). */
#define _POSIX_C_SOURCE 200809L
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "actors_impl.h"
#include "bst.h"
#include "kitchen.bs.h"
#include "news.bs.h"
#include "shapes.bs.h"
#include "streams_impl.h"
#include "types.bs.h"

static bst_alloc A;
static uint64_t N;
static bool FROM;
static const char *SCEN;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      cr_log_error("[%s, fail %s allocation %llu]", SCEN,                      \
                   FROM ? "from" : "only", (unsigned long long)N);             \
      cr_assert(cond, __VA_ARGS__);                                            \
    }                                                                          \
  } while (0)

static bool ok(int rc, const char *what) {
  CHECK(rc == 0 || rc == BS_ENOMEM, "%s returned %d (%s)", what, rc,
        bs_errname(rc));
  return rc == 0;
}

/* An await of a generated proxy: 0, BS_ENOMEM, or a reply decode that ran
 * out of arena (BS_ENOMEM too). */
static bool await_ok(int rc, const char *what) {
  CHECK(rc == 0 || rc == BS_ENOMEM, "%s returned %d (%s)", what, rc,
        bs_errname(rc));
  return rc == 0;
}

/* Distinct allocation paths (see test/test_alloc_everywhere.c). */
#define MAX_PATHS 4096
static bool recording;
static uint64_t paths[MAX_PATHS];
static size_t npaths;

static void *recording_alloc(void *ud, void *ptr, size_t old, size_t n) {
  if (recording && n > 0) {
    void *frames[10];
    int k = backtrace(frames, 10);
    uint64_t h = 1469598103934665603ull;
    for (int i = 1; i < k; i++) {
      h ^= (uint64_t)(uintptr_t)frames[i];
      h *= 1099511628211ull;
    }
    size_t j = 0;
    while (j < npaths && paths[j] != h) j++;
    if (j == npaths && npaths < MAX_PATHS) paths[npaths++] = h;
  }
  return bst_alloc_fn(ud, ptr, old, n);
}

static bs_engine *start(void) {
  bs_engine_options o = bst_options(&A);
  o.allocator = (bs_allocator){recording_alloc, &A};
  bs_engine *e = NULL;
  int rc = bs_engine_new(&e, &o);
  ok(rc, "bs_engine_new");
  if (rc != 0) bst_assert_no_leak(&A);
  return rc == 0 ? e : NULL;
}

static bool finish(bs_engine *e, bs_arena *arena) {
  bool clean = A.failures == 0;
  recording = false;
  A.fail_at = 0;
  A.fail_from = false;
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0, "run");
  /* The engine still works, through a generated proxy too. */
  KitchenProxy k;
  CHECK(KitchenProxy_get(e, "after-the-failure", &k) == 0, "get after healing");
  CHECK(KitchenProxy_text(k, "after", NULL) == 0, "send after healing");
  int64_t sum = 0;
  const int64_t vals[2] = {40, 2};
  int rc = KitchenProxy_sum_await(k, vals, 2, &sum);
  CHECK(rc == 0 && sum == 42, "await after healing: %d, %lld", rc, (long long)sum);
  CHECK(strcmp(gen_seen, "after|NULL") == 0, "the send after healing: %s", gen_seen);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0, "run");
  bs_engine_stats s = bst_stats(e);
  CHECK(bst_invariant(&s), "sent %llu != delivered %llu + dead %llu",
        (unsigned long long)s.sent, (unsigned long long)s.delivered,
        (unsigned long long)s.dead_letters);
  CHECK(s.requests_pending == 0, "requests pending");
  CHECK(s.alloc_failures + 0 <= A.failures, "failure counts");
  bs_engine_free(e);
  if (arena) bs_arena_free(arena);
  bst_assert_no_leak(&A);
  return clean;
}

typedef bool (*scenario_fn)(void);

static uint64_t sweep(const char *name, scenario_fn fn, bool from) {
  SCEN = name;
  FROM = from;
  for (N = 1; N < 100000; N++) {
    bst_reset();
    news_reset();
    gen_seen[0] = 0;
    bst_alloc_init(&A);
    A.fail_at = N;
    A.fail_from = from;
    if (fn()) break;
  }
  CHECK(N < 100000, "never reached a run without failures");
  return N - 1;
}

static void sweep_both(const char *name, scenario_fn fn, uint64_t min_sites) {
  uint64_t once = sweep(name, fn, false);
  uint64_t from = sweep(name, fn, true);
  bst_reset();
  news_reset();
  bst_alloc_init(&A);
  npaths = 0;
  recording = true;
  cr_assert(fn(), "%s: the recording run failed an allocation", name);
  cr_log_info("alloc_gen: %-12s %4llu allocations on %zu distinct call paths",
              name, (unsigned long long)once, npaths);
  printf("alloc_gen: %-12s %4llu allocation sites failed (on %zu distinct call "
         "paths), once and from there on\n", name, (unsigned long long)once,
         npaths);
  fflush(stdout);
  cr_assert_eq(once, from);
  cr_assert_geq(once, min_sites, "%s: only %llu sites", name,
                (unsigned long long)once);
}

/* ---- Proxy calls: strings, arrays, nested structs ------------------------ */

static const Point pts[3] = {{1, 2}, {3, 4}, {5, 6}};

static Polygon polygon(const char *name) {
  Polygon p;
  memset(&p, 0, sizeof p);
  p.name = name;
  p.color = COLOR_GREEN;
  memcpy(p.corners, pts, sizeof p.corners);
  p.extra = pts;
  p.extra_count = 3;
  p.weights[1][0] = 0.25;
  return p;
}

static bool sc_calls(void) {
  bs_engine *e = start();
  if (!e) return false;
  KitchenProxy k;
  int sent = 0;
  if (ok(KitchenProxy_get(e, "kitchen", &k), "KitchenProxy_get")) {
    static char long_text[3000];
    memset(long_text, 'x', sizeof long_text - 1);
    sent += ok(KitchenProxy_text(k, long_text, "short"), "text");
    const int32_t values[4] = {1, -2, 3, -4};
    const char *const names[3] = {"ann", "bob", "a name long enough to matter"};
    sent += ok(KitchenProxy_arrays(k, values, 4, pts, 3, names, 3), "arrays");
    Polygon polys[2] = {polygon("p0"), polygon("p1")};
    static const uint8_t thumb[2000];
    const char *const tags[2] = {"t1", "t2"};
    struct Scene scene = {.polygons = polys, .polygon_count = 2,
                          .highlight = &polys[1], .origin = &pts[0],
                          .thumbnail = {thumb, sizeof thumb},
                          .tags = tags, .tag_count = 2};
    Polygon poly = polygon("triangle");
    sent += ok(KitchenProxy_structs(k, pts[2], &poly, scene), "structs");
    const int32_t v4[4] = {9, 8, 7, 6};
    const double m[2][3] = {{1, 2, 3}, {4, 5, 6}};
    const uint8_t digest[4] = {1, 2, 3, 4};
    const char label[8] = "label";
    sent += ok(KitchenProxy_matrix(k, v4, m, label, digest), "matrix");
    bs_bytes blob = {"blob", 4};
    sent += ok(KitchenProxy_bytes(k, blob, "data", 4, digest, 4), "bytes");
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0, "run");
  if (A.failures == 0) {
    CHECK(sent == 5, "sent %d", sent);
    CHECK(strcmp(gen_seen, "4:blob 4:data 4:4") == 0, "last call: %s", gen_seen);
  }
  return finish(e, NULL);
}

Test(alloc_gen, proxy_calls_strings_structs_arrays, .timeout = 300) {
  sweep_both("calls", sc_calls, 8);
}

/* ---- Replies with pointers: awaits into an arena, continuations ----------- */

typedef struct poly_rec {
  int runs;
  int status;
  char name[32];
  size_t extra;
} poly_rec;

static void on_polygon(void *ud, int status, Polygon p) {
  poly_rec *r = ud;
  r->runs++;
  r->status = status;
  if (status == 0) {
    snprintf(r->name, sizeof r->name, "%s", p.name ? p.name : "(null)");
    r->extra = p.extra_count;
  }
}

static bool sc_replies(void) {
  bs_engine *e = start();
  if (!e) return false;
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){recording_alloc, &A}); /* failures here too */
  KitchenProxy k;
  Polygon poly;
  struct Scene scene;
  bs_bytes blob = {NULL, 0};
  const Point *maybe = NULL;
  AllTypes all, back;
  memset(&all, 0, sizeof all);
  memset(&back, 0, sizeof back);
  int rp = -100, rs = -100, rb = -100, rm = -100, re = -100, rc_cont = -100;
  poly_rec pr = {0};
  if (ok(KitchenProxy_get(e, "kitchen", &k), "get")) {
    rc_cont = KitchenProxy_polygon(k, 3, on_polygon, &pr);
    ok(rc_cont, "polygon with a continuation");
    rp = KitchenProxy_polygon_await(k, 2, &arena, &poly);
    await_ok(rp, "polygon_await");
    rs = KitchenProxy_scene_await(k, &arena, &scene);
    await_ok(rs, "scene_await");
    rb = KitchenProxy_blob_await(k, 200000, &arena, &blob); /* a large reply */
    await_ok(rb, "blob_await");
    rm = KitchenProxy_maybePoint_await(k, true, &arena, &maybe);
    await_ok(rm, "maybePoint_await");
    const uint64_t nums[3] = {1, 2, 3};
    Polygon more[2] = {polygon("m0"), polygon("m1")};
    all.text = "all types";
    strcpy(all.fixed_text, "fixed");
    all.blob.data = "b";
    all.blob.len = 1;
    all.more = more;
    all.more_count = 2;
    all.numbers = nums;
    all.numbers_count = 3;
    all.optional = &pts[1];
    all.shapes[0] = polygon("s0");
    re = KitchenProxy_echo_await(k, all, &arena, &back);
    await_ok(re, "echo_await");
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0, "run");
  CHECK(pr.runs == (rc_cont == 0 ? 1 : 0), "continuation ran %d times", pr.runs);
  if (pr.runs) CHECK(pr.status == 0 || pr.status == BS_ENOMEM, "status %d", pr.status);
  if (rp == 0) CHECK(strcmp(poly.name, "triangle") == 0 && poly.extra_count == 2 &&
                         poly.extra[1].y == 400,
                     "polygon reply");
  if (rs == 0) CHECK(scene.tag_count == 2 && strcmp(scene.tags[1], "bb") == 0 &&
                         scene.thumbnail.len == 3 && scene.id[15] == 0xee,
                     "scene reply");
  if (rb == 0) CHECK(blob.len == 200000 && ((const uint8_t *)blob.data)[199999] ==
                                               (uint8_t)(199999u * 31u),
                     "blob reply");
  if (rm == 0) CHECK(maybe && maybe->x == 7 && maybe->y == -7, "maybe reply");
  if (re == 0) CHECK(strcmp(back.text, "all types") == 0 && back.more_count == 2 &&
                         strcmp(back.more[1].name, "m1") == 0 &&
                         back.numbers[2] == 3 && back.optional->y == 4,
                     "echo reply");
  if (A.failures == 0)
    CHECK(rp == 0 && rs == 0 && rb == 0 && rm == 0 && re == 0 && pr.status == 0 &&
              strcmp(pr.name, "triangle") == 0 && pr.extra == 2,
          "clean run: %d %d %d %d %d %d", rp, rs, rb, rm, re, pr.status);
  return finish(e, &arena);
}

Test(alloc_gen, replies_with_pointers, .timeout = 300) {
  sweep_both("replies", sc_replies, 10);
}

/* ---- Streams of generated struct types ------------------------------------ */

static bool sc_streams(void) {
  bs_engine *e = start();
  if (!e) return false;
  bs_stream_Headline hs;
  int subs = 0, queued = 0;
  Point path[2] = {{1, 1}, {2, 2}};
  Headline h = {.seq = 7, .title = "a headline", .by = {"Ada", "desk"},
                .path = path, .path_count = 2, .where = &path[1], .priority = 3};
  if (ok(bs_get_stream(e, Headline, "headlines", &hs), "bs_get_stream(Headline)")) {
    subs += ok(bs_stream_subscribe(hs, bs_subscriber("r1", ReaderProxy_onHeadline)),
               "subscribe by pointer");
    subs += ok(bs_stream_subscribe(hs, bs_subscriber("r2", ReaderProxy_onHeadlineCopy)),
               "subscribe by value");
    for (int i = 0; i < 2; i++) {
      int rc = bs_stream_next(hs, &h);
      CHECK(rc == subs || rc == BS_ENOMEM, "publish %d (%d subscribers)", rc, subs);
      if (rc > 0) queued += rc;
    }
  }
  /* Publishing from inside an actor, through its context. */
  NewsroomProxy room;
  int room_ok = 0;
  if (ok(NewsroomProxy_get(e, "room", &room), "NewsroomProxy_get")) {
    room_ok += ok(NewsroomProxy_subscribe(room, "r3"), "room subscribe");
    room_ok += ok(NewsroomProxy_publish(room, "from inside"), "room publish");
    room_ok += ok(NewsroomProxy_publishHeadline(room, &h), "room publishHeadline");
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0, "run");
  if (A.failures == 0) {
    CHECK(subs == 2 && queued == 4 && room_ok == 3, "subs %d queued %d room %d",
          subs, queued, room_ok);
    CHECK(news_log_for("r1")->n == 3 && news_log_for("r2")->n == 3 &&
              news_log_for("r3")->n == 1,
          "received %d %d %d", news_log_for("r1")->n, news_log_for("r2")->n,
          news_log_for("r3")->n);
  }
  return finish(e, NULL);
}

Test(alloc_gen, stream_elements_of_generated_structs, .timeout = 300) {
  sweep_both("streams", sc_streams, 10);
}
