/* hello_world_string: call an actor's string method twice from main, then
 * ask it how many messages it has handled. */
#include <inttypes.h>
#include <stdio.h>

#include "greeter.bs.h" /* generated from greeter.h at build time */

/* Prints a failed call; returns rc so calls can be chained with `if`. */
static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  /* A virtual actor: the id names it, the engine creates it on demand. */
  GreeterProxy greeter;
  int rc = check(bs_get_actor(engine, Greeter, "greeter", &greeter), "get");

  /* Each call encodes its arguments into a message and returns at once. */
  if (rc == 0) rc = check(GreeterProxy_sayHello(greeter, "World"), "sayHello");
  if (rc == 0) rc = check(GreeterProxy_sayHello(greeter, "Backstage"), "sayHello");
  if (rc == 0) printf("main: two greetings queued, none handled yet\n");

  /* _await runs the engine's loop until the reply arrives: the two
   * greetings are handled first, since they were queued first. */
  uint32_t count = 0;
  if (rc == 0) rc = check(GreeterProxy_getCount_await(greeter, &count), "getCount");
  if (rc == 0) printf("main: the greeter has handled %" PRIu32 " messages\n", count);

  bs_engine_free(engine); /* deinit runs, every byte is released */
  return rc == 0 ? 0 : 1;
}
