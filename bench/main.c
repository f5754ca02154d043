/* backstage-bench: the classic actor workloads through Backstage, each next
 * to a direct-call baseline doing the same work.
 *
 *   backstage-bench WORKLOAD N [reps]   one workload, N of its unit
 *   backstage-bench all [reps]          every workload at its default N
 *   backstage-bench --quick             every workload, small N, 1 rep
 *   backstage-bench list                workloads, units, default N
 *
 * Lines are described in bench.h; bench/run.sh turns them into the table. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct workload {
  const char *name;
  bench_fn backstage;
  bench_fn direct; /* NULL: no baseline (idle) */
  uint64_t n;      /* default size */
  uint64_t quick;  /* --quick size */
  const char *unit;
} workload;

static const workload workloads[] = {
    {"pingpong", bench_bs_pingpong, bench_direct_pingpong, 1000000, 20000,
     "round trips (ns per message, 2 per trip)"},
    {"count", bench_bs_count, bench_direct_count, 1000000, 20000, "messages"},
    {"spawn", bench_bs_spawn, bench_direct_spawn, 1000000, 20000,
     "actors (created, one message, answer, stop)"},
    {"ring", bench_bs_ring, bench_direct_ring, 1000000, 20000, "hops, 1000 nodes"},
    {"fanout", bench_bs_fanout, bench_direct_fanout, 1000000, 20000,
     "deliveries (N/100 events x 100 subscribers)"},
    {"reply", bench_bs_reply, bench_direct_reply, 1000000, 20000,
     "round trips, actor to actor, continuation"},
    {"await", bench_bs_await, bench_direct_await, 1000000, 20000,
     "round trips, main awaiting each reply"},
    {"large", bench_bs_large, bench_direct_large, 20000, 500,
     "64 KiB structs sent by value"},
    {"large-blob", bench_bs_large_blob, bench_direct_large_blob, 20000, 500,
     "the 64 KiB payload as one blob every message shares"},
    {"idle", bench_bs_idle, NULL, 1000000, 20000,
     "actors created and activated, left idle (bytes per actor)"},
};

#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static const workload *find(const char *name) {
  for (size_t i = 0; i < NWORKLOADS; i++)
    if (strcmp(workloads[i].name, name) == 0) return &workloads[i];
  return NULL;
}

static int run_one(const workload *w, uint64_t n, int reps) {
  bench_cfg cfg = {n, reps};
  int rc = w->backstage(&cfg);
  if (rc == 0 && w->direct) rc = w->direct(&cfg);
  if (rc != 0) fprintf(stderr, "%s: FAILED\n", w->name);
  return rc;
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s WORKLOAD N [reps] | all [reps] | --quick | list\n"
          "workloads:",
          argv0);
  for (size_t i = 0; i < NWORKLOADS; i++) fprintf(stderr, " %s", workloads[i].name);
  fprintf(stderr, "\n");
  return 2;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v == 0) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  uint64_t n = 0, reps = 1;
  if (argc < 2) return usage(argv[0]);
  if (strcmp(argv[1], "list") == 0) {
    for (size_t i = 0; i < NWORKLOADS; i++)
      printf("%-11s N=%-8llu quick=%-6llu %s\n", workloads[i].name,
             (unsigned long long)workloads[i].n, (unsigned long long)workloads[i].quick,
             workloads[i].unit);
    return 0;
  }
  if (strcmp(argv[1], "--quick") == 0 || strcmp(argv[1], "all") == 0) {
    bool quick = argv[1][0] == '-';
    if (argc > 2 && (quick || parse_u64(argv[2], &reps) < 0)) return usage(argv[0]);
    int failed = 0;
    for (size_t i = 0; i < NWORKLOADS; i++)
      failed |= run_one(&workloads[i], quick ? workloads[i].quick : workloads[i].n,
                        (int)reps) != 0;
    return failed;
  }
  const workload *w = find(argv[1]);
  if (!w || argc < 3 || argc > 4 || parse_u64(argv[2], &n) < 0 ||
      (argc == 4 && (parse_u64(argv[3], &reps) < 0 || reps > 1000)))
    return usage(argv[0]);
  return run_one(w, n, (int)reps) != 0;
}
