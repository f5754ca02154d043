/* persistent_counter [STORE]: counters whose state survives the engine.
 *
 * The first engine counts visits; it is freed (as a process that stops);
 * a second engine on the same store finds the counts again, and an idle
 * counter is collected and comes back with its state. Without STORE the
 * store is a file in a temporary directory, removed at the end; give a
 * path and run the program twice to see the counts survive the process. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "counter.bs.h"

static bs_engine *start(const char *store, uint64_t idle_ms) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.store_path = store;        /* the embedded store (SQLite) */
  o.idle_timeout_ms = idle_ms; /* collect actors idle this long; 0: never */
  bs_engine *e = NULL;
  int rc = bs_engine_new(&e, &o);
  if (rc < 0) fprintf(stderr, "bs_engine_new: %s\n", bs_strerror(rc));
  return e;
}

static void visit(bs_engine *e, const char *counter, const char *who) {
  CounterProxy c;
  uint64_t n = 0;
  bool restored = false;
  bs_get_actor(e, Counter, counter, &c);
  int rc = CounterProxy_visit_await(c, who, &n);
  if (rc == 0) rc = CounterProxy_restored_await(c, &restored);
  if (rc < 0) {
    printf("%s: %s\n", counter, bs_strerror(rc));
    return;
  }
  printf("%s: visit %llu by %s (state %s)\n", counter, (unsigned long long)n, who,
         restored ? "loaded from the store" : "new");
}

static void wait_cb(bs_timer *t) { (void)t; }

int main(int argc, char **argv) {
  char dir[] = "/tmp/persistent_counter-XXXXXX", path[64];
  const char *store = argc > 1 ? argv[1] : NULL;
  if (!store) {
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/counters.db", dir);
    store = path;
  }

  printf("-- first engine\n");
  bs_engine *e = start(store, 0);
  if (!e) return 1;
  visit(e, "home", "alice");
  visit(e, "home", "bob");
  visit(e, "shop", "alice");
  bs_engine_free(e);

  printf("-- second engine, same store\n");
  e = start(store, 50);
  if (!e) return 1;
  visit(e, "home", "carol");
  visit(e, "shop", "dave");
  /* Idle for 200 ms: both counters are collected after 50 ms. */
  bs_timer t;
  bs_timer_init(e, &t);
  bs_timer_start(&t, wait_cb, 200, 0);
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  printf("collected while idle: %llu\n", (unsigned long long)st.idle_deactivations);
  visit(e, "home", "erin");
  bs_engine_stats_get(e, &st);
  printf("states loaded: %llu, writes committed: %llu, store errors: %llu\n",
         (unsigned long long)st.store_loads, (unsigned long long)st.store_writes,
         (unsigned long long)st.store_errors);
  bs_engine_free(e);

  if (store == path) { /* our temporary directory */
    const char *ext[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
      char p[80];
      snprintf(p, sizeof p, "%s%s", path, ext[i]);
      unlink(p);
    }
    rmdir(dir);
  }
  return 0;
}
