#include <inttypes.h>
#include <stdio.h>

#include "counter.bs.h"

int main(void) {
  bs_engine *engine;
  if (bs_engine_new(&engine, NULL) < 0) return 1;

  CounterProxy c;
  bs_get_actor(engine, Counter, "counter", &c);
  CounterProxy_greet(c, "World");
  CounterProxy_greet(c, "CMake");
  const int32_t values[3] = {10, 20, 30};
  Sample s = {"s", values, 3};
  CounterProxy_add(c, s);

  uint32_t count = 0;
  int64_t total = 0;
  const char *last = NULL;
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){0});
  int rc = CounterProxy_count_await(c, &count);
  if (rc == 0) rc = CounterProxy_total_await(c, &total);
  if (rc == 0) rc = CounterProxy_last_await(c, &arena, &last);
  printf("\ncount=%" PRIu32 " total=%" PRId64 " last=%s\n", count, total,
         rc == 0 ? last : bs_strerror(rc));

  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  bs_arena_free(&arena);
  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
