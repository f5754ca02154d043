// The consumer's main.c in C++17: the generated header and the documented
// API (bs_get_actor, _await, arenas) from a C++ program. Built by the
// pkg-config consumer (consumer_test.cmake) with -Wall -Wextra -Wpedantic
// -Werror; the actors and the generated .bs.c stay C.
#include <cinttypes>
#include <cstdio>

#include "counter.bs.h"

int main() {
  bs_engine *engine = nullptr;
  if (bs_engine_new(&engine, nullptr) < 0) return 1;

  CounterProxy c;
  bs_get_actor(engine, Counter, "counter", &c);
  CounterProxy_greet(c, "World");
  CounterProxy_greet(c, "C++");
  const int32_t values[3] = {10, 20, 30};
  Sample s = {"s", values, 3};
  CounterProxy_add(c, s);

  uint32_t count = 0;
  int64_t total = 0;
  const char *last = nullptr;
  bs_arena arena;
  bs_arena_init(&arena, bs_allocator{nullptr, nullptr});
  int rc = CounterProxy_count_await(c, &count);
  if (rc == 0) rc = CounterProxy_total_await(c, &total);
  if (rc == 0) rc = CounterProxy_last_await(c, &arena, &last);
  std::printf("\ncount=%" PRIu32 " total=%" PRId64 " last=%s\n", count, total,
              rc == 0 ? last : bs_strerror(rc));

  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  bs_arena_free(&arena);
  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
