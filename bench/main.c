/* backstage-bench: the classic actor workloads through Backstage, each next
 * to a direct-call baseline doing the same work.
 *
 *   backstage-bench WORKLOAD N [reps] [shards]
 *                                       one workload, N of its unit; the
 *                                       multi-core ones (x*) on `shards`
 *                                       shards (default 2)
 *   backstage-bench all [reps]          every workload at its default N
 *                                       (the multi-core ones on 1, then 2
 *                                       shards)
 *   backstage-bench --quick             the same, small N, 1 rep
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
  bool sharded;    /* multi-core: takes a shard count */
} workload;

static const workload workloads[] = {
    {"pingpong", bench_bs_pingpong, bench_direct_pingpong, 1000000, 20000,
     "round trips (ns per message, 2 per trip)", false},
    {"count", bench_bs_count, bench_direct_count, 1000000, 20000, "messages", false},
    {"spawn", bench_bs_spawn, bench_direct_spawn, 1000000, 20000,
     "actors (created, one message, answer, stop)", false},
    {"ring", bench_bs_ring, bench_direct_ring, 1000000, 20000, "hops, 1000 nodes", false},
    {"fanout", bench_bs_fanout, bench_direct_fanout, 1000000, 20000,
     "deliveries (N/100 events x 100 subscribers)", false},
    {"reply", bench_bs_reply, bench_direct_reply, 1000000, 20000,
     "round trips, actor to actor, continuation", false},
    {"await", bench_bs_await, bench_direct_await, 1000000, 20000,
     "round trips, main awaiting each reply", false},
    {"large", bench_bs_large, bench_direct_large, 20000, 500,
     "64 KiB structs sent by value", false},
    {"large-blob", bench_bs_large_blob, bench_direct_large_blob, 20000, 500,
     "the 64 KiB payload as one blob every message shares", false},
    {"idle", bench_bs_idle, NULL, 1000000, 20000,
     "actors created and activated, left idle (bytes per actor)", false},
    {"work", bench_work_unit, NULL, 1000000, 20000,
     "calls of the *-work compute unit (ns per unit)", false},
    {"xpingpong", bench_bs_xpingpong, NULL, 100000, 2000,
     "round trips between 2 shards (ns per message; + RTT p50/p99)", true},
    {"xcount", bench_bs_xcount, NULL, 1000000, 20000,
     "messages, 2 senders on shard 0 -> counter on shard 1", true},
    {"xring", bench_bs_xring, NULL, 1000000, 20000,
     "hops, 1000 nodes alternating shards, 10 tokens", true},
    {"xring-work", bench_bs_xring_work, NULL, 200000, 4000,
     "hops as xring, ~1 us of compute each", true},
    {"xfanout", bench_bs_xfanout, NULL, 1000000, 20000,
     "deliveries, publisher actor, 100 subscribers half per shard", true},
    {"xfanout-work", bench_bs_xfanout_work, NULL, 200000, 4000,
     "deliveries as xfanout, ~1 us of compute each", true},
    {"xspawn", bench_bs_xspawn, NULL, 1000000, 20000,
     "actors, 2 spawners (one per shard)", true},
};

#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static const workload *find(const char *name) {
  for (size_t i = 0; i < NWORKLOADS; i++)
    if (strcmp(workloads[i].name, name) == 0) return &workloads[i];
  return NULL;
}

static int run_one(const workload *w, uint64_t n, int reps, uint32_t shards) {
  bench_cfg cfg = {n, reps, shards};
  int rc = w->backstage(&cfg);
  if (rc == 0 && w->direct) rc = w->direct(&cfg);
  if (rc != 0) fprintf(stderr, "%s: FAILED\n", w->name);
  return rc;
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s WORKLOAD N [reps] [shards] | all [reps] | --quick | list\n"
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
      printf("%-12s N=%-8llu quick=%-6llu %s\n", workloads[i].name,
             (unsigned long long)workloads[i].n, (unsigned long long)workloads[i].quick,
             workloads[i].unit);
    return 0;
  }
  if (strcmp(argv[1], "--quick") == 0 || strcmp(argv[1], "all") == 0) {
    bool quick = argv[1][0] == '-';
    if (argc > 2 && (quick || parse_u64(argv[2], &reps) < 0)) return usage(argv[0]);
    int failed = 0;
    for (size_t i = 0; i < NWORKLOADS; i++) {
      const workload *w = &workloads[i];
      for (uint32_t shards = 1; shards <= (w->sharded ? 2u : 1u); shards++)
        failed |= run_one(w, quick ? w->quick : w->n, (int)reps, shards) != 0;
    }
    return failed;
  }
  uint64_t shards = 2;
  const workload *w = find(argv[1]);
  if (!w || argc < 3 || argc > 5 || parse_u64(argv[2], &n) < 0 ||
      (argc >= 4 && (parse_u64(argv[3], &reps) < 0 || reps > 1000)) ||
      (argc == 5 && (!w->sharded || parse_u64(argv[4], &shards) < 0 || shards > 1024)))
    return usage(argv[0]);
  return run_one(w, n, (int)reps, (uint32_t)shards) != 0;
}
