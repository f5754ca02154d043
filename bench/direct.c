/* The direct-call baselines: each workload's work as plain C calls, with
 * the same counts as the engine runs (one call per message). */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "direct.h"

/* Keeps results observable so the loops are not optimised away. */
static volatile int64_t sink_value;

int bench_direct_pingpong(const bench_cfg *cfg) {
  for (int rep = 1; rep <= cfg->reps; rep++) {
    DPing ping = {0};
    DPong pong = {0};
    uint64_t t0 = bench_now_ns();
    ping.left = (int64_t)cfg->n;
    int32_t x = 1;
    do x = d_pong_ping(&pong, x);
    while (d_ping_pong(&ping, x));
    bench_line_direct("pingpong", bench_now_ns() - t0, 2 * cfg->n, rep);
    if (ping.trips != (int64_t)cfg->n) return bench_fail("pingpong", "direct trips", ping.trips, (long long)cfg->n);
  }
  return 0;
}

int bench_direct_count(const bench_cfg *cfg) {
  for (int rep = 1; rep <= cfg->reps; rep++) {
    DCounter c = {0};
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < cfg->n; i++) d_counter_add(&c, 1);
    int64_t total = d_counter_total(&c);
    bench_line_direct("count", bench_now_ns() - t0, cfg->n, rep);
    if (total != (int64_t)cfg->n) return bench_fail("count", "direct total", total, (long long)cfg->n);
  }
  return 0;
}

/* An object created on the heap, called once, destroyed. */
int bench_direct_spawn(const bench_cfg *cfg) {
  for (int rep = 1; rep <= cfg->reps; rep++) {
    DCollector coll = {0};
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < cfg->n; i++) {
      DWorker *w = malloc(sizeof *w);
      if (!w) return bench_fail("spawn", "malloc", 0, 1);
      d_worker_init(w, &coll);
      d_worker_hello(w, 1);
      d_worker_deinit(w);
      free(w);
    }
    bench_line_direct("spawn", bench_now_ns() - t0, cfg->n, rep);
    if (coll.count != (int64_t)cfg->n) return bench_fail("spawn", "direct answers", coll.count, (long long)cfg->n);
  }
  return 0;
}

#define RING_NODES 1000

int bench_direct_ring(const bench_cfg *cfg) {
  static DRingNode nodes[RING_NODES];
  DCollector done = {0};
  for (int i = 0; i < RING_NODES; i++) {
    nodes[i].next = &nodes[(i + 1) % RING_NODES];
    nodes[i].done = &done;
  }
  for (int rep = 1; rep <= cfg->reps; rep++) {
    uint64_t t0 = bench_now_ns();
    int64_t hops = (int64_t)cfg->n;
    DRingNode *at = &nodes[0];
    while ((at = d_ring_hop(at, hops)) != NULL) hops--;
    bench_line_direct("ring", bench_now_ns() - t0, cfg->n, rep);
  }
  if (done.count != cfg->reps) return bench_fail("ring", "direct ends", done.count, cfg->reps);
  return 0;
}

/* Publishing to subscribers: a list of (function, object) pairs. */
#define FANOUT_SUBS 100

typedef struct dsub {
  int (*fn)(void *self, int64_t v);
  void *self;
} dsub;

int bench_direct_fanout(const bench_cfg *cfg) {
  DSubscriber subs[FANOUT_SUBS];
  dsub list[FANOUT_SUBS];
  uint64_t nevents = cfg->n / FANOUT_SUBS ? cfg->n / FANOUT_SUBS : 1;
  memset(subs, 0, sizeof subs);
  for (int s = 0; s < FANOUT_SUBS; s++) list[s] = (dsub){d_subscriber_on_event, &subs[s]};
  for (int rep = 1; rep <= cfg->reps; rep++) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < nevents; i++)
      for (int s = 0; s < FANOUT_SUBS; s++) list[s].fn(list[s].self, 1);
    bench_line_direct("fanout", bench_now_ns() - t0, nevents * FANOUT_SUBS, rep);
  }
  if (subs[FANOUT_SUBS - 1].total != (int64_t)(nevents * (uint64_t)cfg->reps))
    return bench_fail("fanout", "direct total", subs[FANOUT_SUBS - 1].total,
                      (long long)(nevents * (uint64_t)cfg->reps));
  return 0;
}

/* A request is a call returning a value; the continuation another call. */
int bench_direct_reply(const bench_cfg *cfg) {
  for (int rep = 1; rep <= cfg->reps; rep++) {
    DServer server = {0};
    DAsker asker = {(int64_t)cfg->n, 0};
    uint64_t t0 = bench_now_ns();
    int64_t v = 0;
    do v = d_server_echo(&server, v);
    while (d_asker_on_echo(&asker, v));
    bench_line_direct("reply", bench_now_ns() - t0, cfg->n, rep);
    if (asker.trips != (int64_t)cfg->n) return bench_fail("reply", "direct trips", asker.trips, (long long)cfg->n);
  }
  return 0;
}

int bench_direct_await(const bench_cfg *cfg) {
  for (int rep = 1; rep <= cfg->reps; rep++) {
    DServer server = {0};
    int64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < cfg->n; i++) sum += d_server_echo(&server, (int64_t)i);
    bench_line_direct("await", bench_now_ns() - t0, cfg->n, rep);
    sink_value = sum;
  }
  return 0;
}

/* A 64 KiB struct passed by value: the caller copies it for the callee. */
int bench_direct_large(const bench_cfg *cfg) {
  Chunk *c = malloc(sizeof *c);
  DSink sink = {0};
  if (!c) return bench_fail("large", "malloc", 0, 1);
  for (size_t i = 0; i < sizeof c->payload; i++) c->payload[i] = (uint8_t)(i * 131u);
  for (int rep = 1; rep <= cfg->reps; rep++) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < cfg->n; i++) {
      c->seq = i;
      d_sink_put(&sink, *c);
    }
    bench_line_direct("large", bench_now_ns() - t0, cfg->n, rep);
  }
  free(c);
  sink_value = (int64_t)sink.check;
  return sink.received == cfg->n * (uint64_t)cfg->reps ? 0 : -1;
}

/* The same payload shared: a pointer to it per call. */
int bench_direct_large_blob(const bench_cfg *cfg) {
  size_t n = sizeof(((Chunk *)0)->payload);
  uint8_t *p = malloc(n);
  DSink sink = {0};
  if (!p) return bench_fail("large-blob", "malloc", 0, 1);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 131u);
  for (int rep = 1; rep <= cfg->reps; rep++) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < cfg->n; i++) d_sink_put_shared(&sink, i, p, n);
    bench_line_direct("large-blob", bench_now_ns() - t0, cfg->n, rep);
  }
  free(p);
  sink_value = (int64_t)sink.check;
  return sink.received == cfg->n * (uint64_t)cfg->reps ? 0 : -1;
}
