/* hello_world_struct: send a custom struct to an actor and get one back. */
#include <inttypes.h>
#include <stdio.h>

#include "greeter.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  GreeterProxy greeter;
  int rc = check(bs_get_actor(engine, Greeter, "greeter", &greeter), "get");

  /* The call encodes the struct at once, so one variable can be reused
   * for the next message straight away. */
  Person p = {.name = "Ada", .age = 36, .home = {.city = "London", .postcode = 1815}};
  if (rc == 0) rc = check(GreeterProxy_greet(greeter, p), "greet");
  p.name = "Grace";
  p.age = 85;
  p.home = (Address){.city = "New York", .postcode = 10001};
  if (rc == 0) rc = check(GreeterProxy_greet(greeter, p), "greet");
  p.name = "Linus";
  p.age = 28;
  p.home = (Address){.city = "Helsinki", .postcode = 100};
  if (rc == 0) rc = check(GreeterProxy_greet(greeter, p), "greet");

  /* The result holds a string: it is copied into `arena`, and stays valid
   * until the arena is reset or freed. */
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){0});
  Person oldest = {0};
  if (rc == 0) rc = check(GreeterProxy_oldest_await(greeter, &arena, &oldest), "oldest");
  if (rc == 0)
    printf("main: the oldest so far is %s, %u, from %s\n", oldest.name,
           (unsigned)oldest.age, oldest.home.city);

  bs_arena_free(&arena);
  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
