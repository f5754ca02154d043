// Backstage from C++17 (docs/generator.md, "C++"): the public headers and
// every fixture's generated header compile as C++ with -Wall -Wextra
// -Wpedantic -Werror (g++ and clang++: gen_cxx_* tests), and the documented
// API works: bs_get_actor and bs_get_stream from an engine and from a
// context (bs_engine_of's overloads), proxies, awaits with an arena,
// streams with bs_subscriber, bs_stream_next and bs_array. The actors stay
// C (gen_fixtures_c11); this is a plain program, exit status 0 on success.
#include <backstage.h>
#include <backstage/testkit.h>

#include <cstdio>
#include <cstring>

#include "bank.bs.h"
#include "board.bs.h"
#include "greeter.bs.h"
#include "hoard.bs.h"
#include "kitchen.bs.h"
#include "news.bs.h"
#include "shapes.bs.h"
#include "types.bs.h"

// The fixtures' own helpers are C, without extern "C" guards of their own.
extern "C" {
#include "streams_impl.h"
}

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,    \
                   #cond);                                                     \
      return 1;                                                                \
    }                                                                          \
  } while (0)

// From inside an actor, code gets at the engine through its context: the
// same macros take a bs_context * (const or not). A NULL context has no
// engine, so these fail with BS_EINVAL and zero their outputs.
static int from_context(bs_context *ctx, const bs_context *cctx) {
  GreeterProxy g;
  std::memset(&g, 0xff, sizeof g);
  CHECK(bs_get_actor(ctx, Greeter, "greeter", &g) == BS_EINVAL);
  CHECK(g.ref.type == nullptr && g.ref.len == 0);
  bs_stream_cstr news;
  CHECK(bs_get_stream(cctx, cstr, "news", &news) == BS_EINVAL);
  CHECK(news.s == nullptr);
  CHECK(bs_engine_of(ctx) == nullptr && bs_engine_of(cctx) == nullptr);
  return 0;
}

static int proxies(bs_engine *engine) {
  CHECK(bs_engine_of(engine) == engine);
  GreeterProxy g;
  CHECK(bs_get_actor(engine, Greeter, "greeter", &g) == 0);
  CHECK(GreeterProxy_sayHello(g, "C++") == 0);
  CHECK(GreeterProxy_sayHello(g, "again") == 0);
  uint32_t n = 0;
  CHECK(GreeterProxy_getCount_await(g, &n) == 0);
  CHECK(n == 2);
  bs_arena arena;
  bs_arena_init(&arena, bs_allocator{nullptr, nullptr});
  const char *last = nullptr;
  CHECK(GreeterProxy_lastName_await(g, &arena, &last) == 0);
  CHECK(last != nullptr && std::strcmp(last, "again") == 0);
  bs_arena_free(&arena);

  KitchenProxy k;
  CHECK(bs_get_actor(engine, Kitchen, "kitchen", &k) == 0);
  const int32_t values[4] = {1, 2, 3, 4};
  const int64_t wide[2] = {40, 2};
  int64_t sum = 0;
  CHECK(KitchenProxy_sum_await(k, wide, 2, &sum) == 0);
  CHECK(sum == 42);
  const double m[2][3] = {{1, 2, 3}, {4, 5, 6}};
  const uint8_t digest[4] = {1, 2, 3, 4};
  CHECK(KitchenProxy_matrix(k, values, m, "label", digest) == 0);
  CHECK(KitchenProxy_stop(k) == 0);
  CHECK(bs_engine_run(engine, BS_RUN_UNTIL_DONE) == 0);
  return 0;
}

static int streams(bs_engine *engine) {
  news_reset();
  bs_stream_cstr news;
  CHECK(bs_get_stream(engine, cstr, "news", &news) == 0);
  CHECK(bs_stream_subscribe(news,
                            bs_subscriber("reader-1", ReaderProxy_handleNews)) == 0);
  CHECK(bs_stream_next(news, "from C++") == 1);

  bs_stream_i64_array batches;
  CHECK(bs_get_stream(engine, i64_array, "batches", &batches) == 0);
  CHECK(bs_stream_subscribe(batches,
                            bs_subscriber("reader-1", ReaderProxy_onBatch)) == 0);
  int64_t v[3] = {1, 2, 3};
  size_t count = 3; // a variable, not a constant: no narrowing in C++
  CHECK(bs_stream_next(batches, bs_array(i64, v, count)) == 1);

  bs_stream_Headline headlines;
  CHECK(bs_get_stream(engine, Headline, "headlines", &headlines) == 0);
  CHECK(bs_stream_subscribe(headlines,
                            bs_subscriber("reader-1", ReaderProxy_onHeadline)) == 0);
  Headline h;
  std::memset(&h, 0, sizeof h);
  h.seq = 7;
  h.title = "typed";
  CHECK(bs_stream_next(headlines, &h) == 1);
  CHECK(bs_engine_run(engine, BS_RUN_UNTIL_DONE) == 0);
  CHECK(news_log_for("reader-1")->n == 3);
  return 0;
}

int main() {
  bs_engine *engine = nullptr;
  CHECK(bs_engine_new(&engine, nullptr) == 0);
  int rc = proxies(engine);
  if (rc == 0) rc = streams(engine);
  if (rc == 0) rc = from_context(nullptr, nullptr);
  bs_engine_free(engine);
  if (rc == 0) std::puts("C++ consumer: ok");
  return rc;
}
