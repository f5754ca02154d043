/* The hot-path cost of the inspector's counters: N messages through one
 * actor, timed per message (send + dispatch, and dispatch alone). Built
 * twice: against the library with the inspector compiled in (then run with
 * it stopped, started, and started with the actor traced) and against one
 * with it compiled out. Prints machine-readable lines
 *
 *   insp_bench build=<in|out> mode=<...> ns_per_msg=<x> dispatch_ns=<y>
 *
 * bench_counters.sh runs both and prints the ratios. Never asserts
 * timings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <backstage.h>

#include "insp_actors.h"

#define BATCH 10000

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void drain(bs_engine *e, bs_ref r) {
  while (bs_ref_pending(&r) > 0) bs_engine_run(e, BS_RUN_NOWAIT);
}

/* Best of `reps` runs of n messages: total and dispatch-only ns/msg. */
static void measure(bs_engine *e, bs_ref r, long n, int reps, double *total, double *disp) {
  *total = *disp = 1e30;
  for (int k = 0; k < reps; k++) {
    double t_all = 0, t_disp = 0;
    for (long done = 0; done < n; done += BATCH) {
      double t0 = now_ns();
      for (int i = 0; i < BATCH; i++) insp_work(r, i);
      double t1 = now_ns();
      drain(e, r);
      double t2 = now_ns();
      t_all += t2 - t0;
      t_disp += t2 - t1;
    }
    if (t_all / (double)n < *total) *total = t_all / (double)n;
    if (t_disp / (double)n < *disp) *disp = t_disp / (double)n;
  }
}

static void run(const char *build, const char *mode, long n, int reps) {
  bs_engine *e;
  if (bs_engine_new(&e, NULL) < 0) exit(1);
  bs_ref r;
  bs_actor_get(e, &insp_worker_type, "w", &r);
  if (strcmp(mode, "off")) {
    bs_inspector_options o;
    bs_inspector_options_init(&o);
    o.addr = "127.0.0.1:0";
    if (bs_inspector_start(e, &o) < 0) exit(1);
  }
  if (!strcmp(mode, "traced")) bs_inspector_trace(e, "w", true);
  double total, disp;
  measure(e, r, n / 10, 1, &total, &disp); /* warm up: pools, caches */
  measure(e, r, n, reps, &total, &disp);
  printf("insp_bench build=%s mode=%s ns_per_msg=%.2f dispatch_ns=%.2f\n", build, mode, total,
         disp);
  fflush(stdout);
  bs_engine_free(e);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (!bs_inspector_available()) {
    run("out", "off", n, reps);
    return 0;
  }
  run("in", "off", n, reps);
  run("in", "on", n, reps);
  run("in", "traced", n, reps);
  return 0;
}
