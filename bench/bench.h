/* backstage-bench: shared declarations of the benchmark driver.
 *
 * Every workload runs twice in one process: through the engine, with
 * generated proxies and CBOR as a user writes it (backstage.c), and as the
 * same work done by plain C calls (direct.c). Each prints one
 * machine-readable line per repetition:
 *
 *   WORKLOAD impl=backstage ns_per_op=X ops=N msgs=M allocs_per_msg=A rep=R
 *   WORKLOAD impl=direct ns_per_op=X ops=N rep=R
 *
 * Only the measured part is timed (CLOCK_MONOTONIC), after a warm-up run. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Messages a producer outside the engine queues before letting the loop run
 * (count, spawn, fanout, idle): the sender and the receivers interleave,
 * as they would on a scheduler that preempts the sender, and the mailbox
 * stays within the message pool's cache. */
#define BENCH_BURST 1000

typedef struct bench_cfg {
  uint64_t n;      /* workload size (see each workload for its unit) */
  int reps;        /* measured repetitions, each after the same warm-up */
  uint32_t shards; /* multi-core workloads (x*): the engine's shards */
} bench_cfg;

/* The multi-core workloads' unit of compute (xring-work, xfanout-work):
 * bench_work(BENCH_WORK_ITERS, x), BENCH_WORK_ITERS steps of a 32-bit
 * linear congruential generator, each depending on the previous one, about
 * 1 us on the development machine (`backstage-bench work` measures it).
 * The CAF and Erlang peers run the same loop with the same count
 * (bench/peers). */
#define BENCH_WORK_ITERS 840

/* xpingpong's round-trip stamps: XPing writes them (on its shard's thread)
 * while the home thread waits in bs_engine_run, which returns only after
 * that shard has gone idle. */
typedef struct bench_lat_buf {
  uint64_t *rtt; /* ns per round trip */
  size_t n, cap;
  uint64_t last;
} bench_lat_buf;

extern bench_lat_buf bench_lat;

typedef int (*bench_fn)(const bench_cfg *cfg);

/* backstage.c: through the engine. */
int bench_bs_pingpong(const bench_cfg *cfg);
int bench_bs_count(const bench_cfg *cfg);
int bench_bs_spawn(const bench_cfg *cfg);
int bench_bs_ring(const bench_cfg *cfg);
int bench_bs_fanout(const bench_cfg *cfg);
int bench_bs_reply(const bench_cfg *cfg);
int bench_bs_await(const bench_cfg *cfg);
int bench_bs_large(const bench_cfg *cfg);
int bench_bs_large_blob(const bench_cfg *cfg);
int bench_bs_idle(const bench_cfg *cfg);

/* backstage.c: the multi-core workloads, on cfg->shards shards. */
int bench_bs_xpingpong(const bench_cfg *cfg);
int bench_bs_xcount(const bench_cfg *cfg);
int bench_bs_xring(const bench_cfg *cfg);
int bench_bs_xring_work(const bench_cfg *cfg);
int bench_bs_xfanout(const bench_cfg *cfg);
int bench_bs_xfanout_work(const bench_cfg *cfg);
int bench_bs_xspawn(const bench_cfg *cfg);
/* The work unit alone, called directly (ns per bench_work call). */
int bench_work_unit(const bench_cfg *cfg);

/* direct.c: the same work as plain C calls. */
int bench_direct_pingpong(const bench_cfg *cfg);
int bench_direct_count(const bench_cfg *cfg);
int bench_direct_spawn(const bench_cfg *cfg);
int bench_direct_ring(const bench_cfg *cfg);
int bench_direct_fanout(const bench_cfg *cfg);
int bench_direct_reply(const bench_cfg *cfg);
int bench_direct_await(const bench_cfg *cfg);
int bench_direct_large(const bench_cfg *cfg);
int bench_direct_large_blob(const bench_cfg *cfg);

/* util.c */
uint64_t bench_now_ns(void);
/* BENCH_WORK_ITERS-style compute: `iters` dependent LCG steps from x. Out of
 * line, so callers cannot fold it. */
uint32_t bench_work(uint32_t iters, uint32_t x);
/* Resident set size of this process, bytes (/proc/self/statm). */
size_t bench_rss_bytes(void);
/* Writes prefix + decimal i into buf (at least strlen(prefix) + 21 bytes). */
void bench_id(char *buf, const char *prefix, uint64_t i);
/* The warm-up size for a workload of size n: a tenth, at least 1. */
uint64_t bench_warm(uint64_t n);
void bench_line_direct(const char *workload, uint64_t ns, uint64_t ops, int rep);
int bench_fail(const char *workload, const char *what, long long got,
               long long want);

#endif
