/* The workloads through the engine: generated proxies, CBOR, the libuv
 * loop, default engine options - the way a user writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Under callgrind (bench/profile.sh runs it with --collect-atstart=no), only
 * the timed parts are collected; elsewhere these are a few no-op
 * instructions outside the timed span. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_PROFILED 1
#endif
#endif
#ifndef BENCH_PROFILED
#define CALLGRIND_TOGGLE_COLLECT
#endif
#include "collector.bs.h"
#include "counter.bs.h"
#include "echo.bs.h"
#include "idle.bs.h"
#include "pingpong.bs.h"
#include "ring.bs.h"
#include "sink.bs.h"
#include "subscriber.bs.h"
#include "worker.bs.h"
#include "xcount.bs.h"
#include "xfanout.bs.h"
#include "xpingpong.bs.h"
#include "xring.bs.h"
#include "xspawn.bs.h"

/* ---- Measuring ----------------------------------------------------------- */

/* A measured span: time, plus the engine's message and allocator counters,
 * read outside the timed part. */
typedef struct mark {
  uint64_t t0, ns;
  bs_engine_stats s0, s1;
} mark;

static void mark_begin(bs_engine *e, mark *m) {
  bs_engine_stats_get(e, &m->s0);
  CALLGRIND_TOGGLE_COLLECT;
  m->t0 = bench_now_ns();
}

static void mark_stop(bs_engine *e, mark *m) {
  m->ns = bench_now_ns() - m->t0;
  CALLGRIND_TOGGLE_COLLECT;
  bs_engine_stats_get(e, &m->s1);
}

/* One line; `shards` (0: left out) and `extra` (" key=value...") for the
 * multi-core workloads. */
static void mark_print(const mark *m, const char *workload, uint32_t shards,
                       uint64_t ops, const char *extra, int rep) {
  uint64_t msgs = m->s1.sent - m->s0.sent;
  uint64_t allocs = m->s1.alloc_calls - m->s0.alloc_calls;
  char sh[32] = "";
  if (shards) snprintf(sh, sizeof sh, " shards=%u", shards);
  printf("%s impl=backstage%s ns_per_op=%.3f ops=%llu msgs=%llu allocs=%llu "
         "allocs_per_msg=%.4f%s rep=%d\n",
         workload, sh, ops ? (double)m->ns / (double)ops : 0.0, (unsigned long long)ops,
         (unsigned long long)msgs, (unsigned long long)allocs,
         msgs ? (double)allocs / (double)msgs : 0.0, extra ? extra : "", rep);
  fflush(stdout);
}

static void mark_end(bs_engine *e, mark *m, const char *workload, uint64_t ops,
                     int rep) {
  mark_stop(e, m);
  mark_print(m, workload, 0, ops, NULL, rep);
}

static int check(int rc, const char *workload, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s: %s\n", workload, what, bs_strerror(rc));
  return rc < 0 ? rc : 0;
}

/* Inspector cost (bench/run.sh --inspector): with BENCH_INSPECTOR=on, a
 * build with the inspector compiled in starts it on every engine, counters
 * and rates only (no HTTP server). It never keeps BS_RUN_UNTIL_DONE
 * running, so runs are the same either way. */
static int inspector_on(void) {
  static int on = -1;
  if (on < 0) {
    const char *v = getenv("BENCH_INSPECTOR");
    on = v && strcmp(v, "on") == 0;
  }
  return on;
}

static int run(bs_engine *e) {
  int rc = bs_engine_run(e, BS_RUN_UNTIL_DONE);
  return rc < 0 ? rc : 0;
}

/* Every message delivered, no method failed: the run did what it claims. */
static int finish(bs_engine *e, const char *workload, int rc) {
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  if (rc == 0 && st.dead_letters)
    rc = bench_fail(workload, "dead letters", (long long)st.dead_letters, 0);
  if (rc == 0 && st.method_errors)
    rc = bench_fail(workload, "method errors", (long long)st.method_errors, 0);
  bs_engine_free(e);
  return rc;
}

/* shards 0: default options (the single-threaded workloads); otherwise
 * the defaults with that many shards. */
static int engine_new_sharded(bs_engine **e, const char *workload, uint32_t shards) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  /* Diagnostics only (bench/run.sh never sets it): BENCH_SPIN_US overrides
   * opts.shard_spin_us, to see how the figures depend on it. */
  const char *spin = getenv("BENCH_SPIN_US");
  if (spin && *spin) o.shard_spin_us = (uint32_t)strtoul(spin, NULL, 10);
  int rc = check(bs_engine_new(e, shards ? &o : NULL), workload, "bs_engine_new");
  if (rc < 0 || !inspector_on()) return rc;
#ifdef BACKSTAGE_INSPECTOR_H
  rc = check(bs_inspector_start(*e, NULL), workload, "bs_inspector_start");
#else
  rc = check(BS_ENOTFOUND, workload, "BENCH_INSPECTOR=on: no inspector in this tree");
#endif
  if (rc < 0) bs_engine_free(*e);
  return rc;
}

static int engine_new(bs_engine **e, const char *workload) {
  return engine_new_sharded(e, workload, 0);
}

/* ---- pingpong: ns per message (2 per round trip) ------------------------- */

int bench_bs_pingpong(const bench_cfg *cfg) {
  const char *w = "pingpong";
  bs_engine *e;
  PingProxy ping;
  mark m;
  int64_t trips = 0, want = (int64_t)(bench_warm(cfg->n) + cfg->n * (uint64_t)cfg->reps);
  if (engine_new(&e, w) < 0) return -1;
  int rc = check(bs_get_actor(e, Ping, "ping", &ping), w, "get");
  if (rc == 0) rc = check(PingProxy_start(ping, (int64_t)bench_warm(cfg->n)), w, "start");
  if (rc == 0) rc = check(run(e), w, "run");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(PingProxy_start(ping, (int64_t)cfg->n), w, "start");
    if (rc == 0) rc = check(run(e), w, "run");
    mark_end(e, &m, w, 2 * cfg->n, rep);
  }
  if (rc == 0) rc = check(PingProxy_trips_await(ping, &trips), w, "trips");
  if (rc == 0 && trips != want) rc = bench_fail(w, "round trips", trips, want);
  return finish(e, w, rc);
}

/* ---- count: ns per message; main sends, then asks for the total ---------- */

static int count_run(bs_engine *e, CounterProxy c, uint64_t n, int64_t *total) {
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < n;) {
    uint64_t end = i + BENCH_BURST < n ? i + BENCH_BURST : n;
    for (; rc == 0 && i < end; i++) rc = CounterProxy_add(c, 1);
    if (rc == 0) rc = run(e);
  }
  if (rc == 0) rc = CounterProxy_total_await(c, total);
  return rc;
}

int bench_bs_count(const bench_cfg *cfg) {
  const char *w = "count";
  bs_engine *e;
  CounterProxy c;
  mark m;
  int64_t total = 0, want = (int64_t)bench_warm(cfg->n);
  if (engine_new(&e, w) < 0) return -1;
  int rc = check(bs_get_actor(e, Counter, "counter", &c), w, "get");
  if (rc == 0) rc = check(count_run(e, c, bench_warm(cfg->n), &total), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(count_run(e, c, cfg->n, &total), w, "run");
    mark_end(e, &m, w, cfg->n, rep);
    want += (int64_t)cfg->n;
    if (rc == 0 && total != want) rc = bench_fail(w, "total", total, want);
  }
  return finish(e, w, rc);
}

/* ---- spawn: ns per actor. Each worker is created, activated by one
 * message, answers the collector and stops. A fresh engine per repetition,
 * so every repetition starts from the same registry size. */

static int spawn_run(bs_engine *e, uint64_t first, uint64_t n) {
  char id[32];
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < n;) {
    uint64_t end = i + BENCH_BURST < n ? i + BENCH_BURST : n;
    for (; rc == 0 && i < end; i++) {
      WorkerProxy wk;
      bench_id(id, "worker-", first + i);
      rc = bs_get_actor(e, Worker, id, &wk);
      if (rc == 0) rc = WorkerProxy_hello(wk, 1);
    }
    if (rc == 0) rc = run(e);
  }
  return rc;
}

int bench_bs_spawn(const bench_cfg *cfg) {
  const char *w = "spawn";
  int rc = 0;
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    bs_engine *e;
    CollectorProxy coll;
    mark m;
    int64_t count = 0, want = (int64_t)(bench_warm(cfg->n) + cfg->n);
    if (engine_new(&e, w) < 0) return -1;
    rc = check(bs_get_actor(e, Collector, "collector", &coll), w, "get");
    if (rc == 0) rc = check(spawn_run(e, 0, bench_warm(cfg->n)), w, "warm-up");
    if (rc == 0) {
      mark_begin(e, &m);
      rc = check(spawn_run(e, bench_warm(cfg->n), cfg->n), w, "run");
      if (rc == 0) rc = check(CollectorProxy_count_await(coll, &count), w, "count");
      mark_end(e, &m, w, cfg->n, rep);
    }
    if (rc == 0 && count != want) rc = bench_fail(w, "answers", count, want);
    rc = finish(e, w, rc);
  }
  return rc;
}

/* ---- ring: ns per hop, 1000 nodes --------------------------------------- */

#define RING_NODES 1000

int bench_bs_ring(const bench_cfg *cfg) {
  const char *w = "ring";
  bs_engine *e;
  RingNodeProxy first;
  CollectorProxy done;
  mark m;
  char id[32], next[32];
  int64_t ends = 0;
  if (engine_new(&e, w) < 0) return -1;
  int rc = check(bs_get_actor(e, Collector, "ring-done", &done), w, "get");
  for (uint64_t i = 0; rc == 0 && i < RING_NODES; i++) {
    RingNodeProxy node;
    bench_id(id, "ring-", i);
    bench_id(next, "ring-", (i + 1) % RING_NODES);
    rc = check(bs_get_actor(e, RingNode, id, &node), w, "get");
    if (rc == 0) rc = check(RingNodeProxy_link(node, next), w, "link");
    if (i == 0) first = node;
  }
  if (rc == 0) rc = check(run(e), w, "run");
  if (rc == 0) rc = check(RingNodeProxy_hop(first, (int64_t)bench_warm(cfg->n)), w, "hop");
  if (rc == 0) rc = check(run(e), w, "run");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(RingNodeProxy_hop(first, (int64_t)cfg->n), w, "hop");
    if (rc == 0) rc = check(run(e), w, "run");
    mark_end(e, &m, w, cfg->n, rep);
  }
  if (rc == 0) rc = check(CollectorProxy_count_await(done, &ends), w, "count");
  if (rc == 0 && ends != 1 + cfg->reps) rc = bench_fail(w, "runs ended", ends, 1 + cfg->reps);
  return finish(e, w, rc);
}

/* ---- fanout: ns per delivery; 100 subscribers of one i64 stream, n/100
 * events published from main, then each subscriber asked for its total. */

#define FANOUT_SUBS 100

static int fanout_run(bs_engine *e, bs_stream_i64 events, SubscriberProxy *subs,
                      uint64_t nevents, int64_t want) {
  const uint64_t burst = BENCH_BURST / FANOUT_SUBS;
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < nevents;) {
    uint64_t end = i + burst < nevents ? i + burst : nevents;
    for (; rc == 0 && i < end; i++) {
      rc = bs_stream_next(events, 1);
      if (rc >= 0) rc = rc == FANOUT_SUBS ? 0 : bench_fail("fanout", "queued", rc, FANOUT_SUBS);
    }
    if (rc == 0) rc = run(e);
  }
  for (int s = 0; rc == 0 && s < FANOUT_SUBS; s++) {
    int64_t total = 0;
    rc = SubscriberProxy_total_await(subs[s], &total);
    if (rc == 0 && total != want) rc = bench_fail("fanout", "subscriber total", total, want);
  }
  return rc;
}

int bench_bs_fanout(const bench_cfg *cfg) {
  const char *w = "fanout";
  bs_engine *e;
  bs_stream_i64 events;
  SubscriberProxy subs[FANOUT_SUBS];
  mark m;
  char id[32];
  uint64_t nevents = cfg->n / FANOUT_SUBS ? cfg->n / FANOUT_SUBS : 1;
  int64_t want = (int64_t)bench_warm(nevents);
  if (engine_new(&e, w) < 0) return -1;
  int rc = check(bs_get_stream(e, i64, "events", &events), w, "stream");
  for (int s = 0; rc == 0 && s < FANOUT_SUBS; s++) {
    bench_id(id, "sub-", (uint64_t)s);
    rc = check(bs_get_actor(e, Subscriber, id, &subs[s]), w, "get");
    if (rc == 0)
      rc = check(bs_stream_subscribe(events, bs_subscriber(id, SubscriberProxy_onEvent)),
                 w, "subscribe");
  }
  if (rc == 0) rc = check(fanout_run(e, events, subs, bench_warm(nevents), want), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    want += (int64_t)nevents;
    mark_begin(e, &m);
    rc = check(fanout_run(e, events, subs, nevents, want), w, "run");
    mark_end(e, &m, w, nevents * FANOUT_SUBS, rep);
  }
  return finish(e, w, rc);
}

/* ---- reply: ns per round trip; an actor asks another, one request at a
 * time, each from the previous reply's continuation. */

int bench_bs_reply(const bench_cfg *cfg) {
  const char *w = "reply";
  bs_engine *e;
  AskerProxy asker;
  mark m;
  int64_t trips = 0, want = (int64_t)(bench_warm(cfg->n) + cfg->n * (uint64_t)cfg->reps);
  if (engine_new(&e, w) < 0) return -1;
  int rc = check(bs_get_actor(e, Asker, "asker", &asker), w, "get");
  if (rc == 0) rc = check(AskerProxy_run(asker, (int64_t)bench_warm(cfg->n)), w, "run");
  if (rc == 0) rc = check(run(e), w, "run");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(AskerProxy_run(asker, (int64_t)cfg->n), w, "run");
    if (rc == 0) rc = check(run(e), w, "run");
    mark_end(e, &m, w, cfg->n, rep);
  }
  if (rc == 0) rc = check(AskerProxy_trips_await(asker, &trips), w, "trips");
  if (rc == 0 && trips != want) rc = bench_fail(w, "round trips", trips, want);
  return finish(e, w, rc);
}

/* ---- await: ns per round trip; main awaits each reply in turn ----------- */

static int await_run(ServerProxy server, uint64_t n) {
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < n; i++) {
    int64_t out = 0;
    rc = ServerProxy_echo_await(server, (int64_t)i, &out);
    if (rc == 0 && out != (int64_t)i + 1) rc = bench_fail("await", "echo", out, (long long)i + 1);
  }
  return rc;
}

int bench_bs_await(const bench_cfg *cfg) {
  const char *w = "await";
  bs_engine *e;
  ServerProxy server;
  mark m;
  if (engine_new(&e, w) < 0) return -1;
  int rc = check(bs_get_actor(e, Server, "server", &server), w, "get");
  if (rc == 0) rc = check(await_run(server, bench_warm(cfg->n)), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(await_run(server, cfg->n), w, "run");
    mark_end(e, &m, w, cfg->n, rep);
  }
  return finish(e, w, rc);
}

/* ---- large: ns per 64 KiB struct sent by value, one way; main sends
 * bursts of LARGE_BURST (4 MiB), then asks for the count received. */

#define LARGE_BURST 64

static int large_run(bs_engine *e, SinkProxy sink, Chunk *c, uint64_t n,
                     uint64_t *received) {
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < n;) {
    uint64_t end = i + LARGE_BURST < n ? i + LARGE_BURST : n;
    for (; rc == 0 && i < end; i++) {
      c->seq = i;
      rc = SinkProxy_put(sink, *c);
    }
    if (rc == 0) rc = run(e);
  }
  if (rc == 0) rc = SinkProxy_received_await(sink, received);
  return rc;
}

int bench_bs_large(const bench_cfg *cfg) {
  const char *w = "large";
  bs_engine *e;
  SinkProxy sink;
  mark m;
  uint64_t received = 0, want = bench_warm(cfg->n);
  Chunk *c = malloc(sizeof *c);
  if (!c) return bench_fail(w, "malloc", 0, (long long)sizeof *c);
  for (size_t i = 0; i < sizeof c->payload; i++) c->payload[i] = (uint8_t)(i * 131u);
  if (engine_new(&e, w) < 0) {
    free(c);
    return -1;
  }
  int rc = check(bs_get_actor(e, Sink, "sink", &sink), w, "get");
  if (rc == 0) rc = check(large_run(e, sink, c, bench_warm(cfg->n), &received), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(large_run(e, sink, c, cfg->n, &received), w, "run");
    mark_end(e, &m, w, cfg->n, rep);
    want += cfg->n;
    if (rc == 0 && received != want) rc = bench_fail(w, "received", (long long)received, (long long)want);
  }
  free(c);
  return finish(e, w, rc);
}

/* ---- large-blob: the same 64 KiB payload, made once as a blob; every
 * message holds a reference to it instead of a copy. */

static int large_blob_run(bs_engine *e, SinkProxy sink, const bs_blob *payload, uint64_t n,
                          uint64_t *received) {
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < n;) {
    uint64_t end = i + LARGE_BURST < n ? i + LARGE_BURST : n;
    for (; rc == 0 && i < end; i++) rc = SinkProxy_putBlob(sink, i, payload);
    if (rc == 0) rc = run(e);
  }
  if (rc == 0) rc = SinkProxy_received_await(sink, received);
  return rc;
}

int bench_bs_large_blob(const bench_cfg *cfg) {
  const char *w = "large-blob";
  bs_engine *e;
  SinkProxy sink;
  mark m;
  uint64_t received = 0, want = bench_warm(cfg->n);
  void *data;
  size_t size = sizeof(((Chunk *)0)->payload);
  const bs_blob *payload = bs_blob_new(size, &data);
  if (!payload) return bench_fail(w, "bs_blob_new", 0, (long long)size);
  for (size_t i = 0; i < size; i++) ((uint8_t *)data)[i] = (uint8_t)(i * 131u);
  if (engine_new(&e, w) < 0) {
    bs_blob_release(payload);
    return -1;
  }
  int rc = check(bs_get_actor(e, Sink, "sink", &sink), w, "get");
  if (rc == 0) rc = check(large_blob_run(e, sink, payload, bench_warm(cfg->n), &received), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(large_blob_run(e, sink, payload, cfg->n, &received), w, "run");
    mark_end(e, &m, w, cfg->n, rep);
    want += cfg->n;
    if (rc == 0 && received != want) rc = bench_fail(w, "received", (long long)received, (long long)want);
  }
  rc = finish(e, w, rc);
  bs_blob_release(payload);
  return rc;
}

/* ---- idle: memory per actor, created and activated (one message each)
 * and then left waiting. RSS grown over the n actors, divided by n; also
 * what the engine's allocator accounts for. */

int bench_bs_idle(const bench_cfg *cfg) {
  const char *w = "idle";
  bs_engine *e;
  bs_engine_stats s0, s1;
  char id[32];
  if (engine_new(&e, w) < 0) return -1;
  /* Warm the pool and the loop first: the baseline is an engine in use. */
  IdleProxy warm;
  int rc = check(bs_get_actor(e, Idle, "warm", &warm), w, "get");
  for (int i = 0; rc == 0 && i < BENCH_BURST; i++) rc = check(IdleProxy_touch(warm), w, "touch");
  if (rc == 0) rc = check(run(e), w, "run");
  size_t rss0 = bench_rss_bytes();
  bs_engine_stats_get(e, &s0);
  for (uint64_t i = 0; rc == 0 && i < cfg->n;) {
    uint64_t end = i + BENCH_BURST < cfg->n ? i + BENCH_BURST : cfg->n;
    for (; rc == 0 && i < end; i++) {
      IdleProxy a;
      bench_id(id, "idle-", i);
      rc = check(bs_get_actor(e, Idle, id, &a), w, "get");
      if (rc == 0) rc = check(IdleProxy_touch(a), w, "touch");
    }
    if (rc == 0) rc = check(run(e), w, "run");
  }
  size_t rss1 = bench_rss_bytes();
  bs_engine_stats_get(e, &s1);
  if (rc == 0 && s1.active - s0.active != cfg->n)
    rc = bench_fail(w, "active actors", (long long)(s1.active - s0.active), (long long)cfg->n);
  if (rc == 0) {
    printf("idle impl=backstage bytes_per_actor=%.1f heap_bytes_per_actor=%.1f "
           "state_bytes=%zu id_bytes=%zu actors=%llu\n",
           (double)(rss1 - rss0) / (double)cfg->n,
           (double)(s1.bytes_live - s0.bytes_live) / (double)cfg->n, sizeof(Idle),
           strlen("idle-999999") + 1, (unsigned long long)cfg->n);
    fflush(stdout);
  }
  return finish(e, w, rc);
}

/* ==== Multi-core workloads ================================================
 * The same engine with cfg->shards shards (1 or 2), default options
 * otherwise. Actors drive the work (main starts them and runs the loop once
 * per repetition), and ids are picked so that each actor lands on the shard
 * the workload puts it on. */

/* prefix + the first i >= *next whose id lives on shard `shard` (modulo the
 * engine's shards); *next moves past it. Placement depends on the id alone. */
static void pick_id(bs_engine *e, char *id, const char *prefix, uint64_t *next,
                    uint32_t shard) {
  uint32_t want = shard % bs_engine_shards(e);
  for (;;) {
    bs_ref r;
    bench_id(id, prefix, (*next)++);
    if (bs_actor_get(e, &Collector_actor_type, id, &r) == 0 && bs_ref_shard(&r) == want)
      return;
  }
}

/* The collector `id`'s count, checked against `want`. */
static int collected(bs_engine *e, const char *w, const char *id, int64_t want) {
  CollectorProxy c;
  int64_t got = -1;
  int rc = check(bs_get_actor(e, Collector, id, &c), w, "get");
  if (rc == 0) rc = check(CollectorProxy_count_await(c, &got), w, "count");
  if (rc == 0 && got != want) rc = bench_fail(w, "completions", got, want);
  return rc;
}

/* ---- xpingpong: ping on shard 0, pong on shard 1. Each repetition is a
 * timed run of n round trips (ns per message), then a second run of n
 * round trips with a stamp per round trip (p50 and p99 of the round-trip
 * time; the stamps cost one clock read per round trip, outside the first
 * figure). */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p% of them at or below. */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned p) {
  if (!n) return 0;
  size_t k = (n * p + 99) / 100;
  return v[k ? k - 1 : 0];
}

int bench_bs_xpingpong(const bench_cfg *cfg) {
  const char *w = "xpingpong";
  bs_engine *e;
  XPingProxy ping;
  XPongProxy pong;
  mark m;
  char ping_id[32], pong_id[32];
  uint64_t next = 0;
  int64_t trips = 0, want = (int64_t)(bench_warm(cfg->n) + 2 * cfg->n * (uint64_t)cfg->reps);
  bench_lat.rtt = malloc(cfg->n * sizeof *bench_lat.rtt);
  bench_lat.cap = cfg->n;
  if (!bench_lat.rtt) return bench_fail(w, "malloc", 0, (long long)cfg->n);
  if (engine_new_sharded(&e, w, cfg->shards) < 0) {
    free(bench_lat.rtt);
    return -1;
  }
  pick_id(e, ping_id, "xping-", &next, 0);
  pick_id(e, pong_id, "xpong-", &next, 1);
  int rc = check(bs_get_actor(e, XPing, ping_id, &ping), w, "get");
  if (rc == 0) rc = check(bs_get_actor(e, XPong, pong_id, &pong), w, "get");
  if (rc == 0) rc = check(XPingProxy_link(ping, pong_id), w, "link");
  if (rc == 0) rc = check(XPongProxy_link(pong, ping_id), w, "link");
  if (rc == 0) rc = check(XPingProxy_start(ping, (int64_t)bench_warm(cfg->n), 0), w, "start");
  if (rc == 0) rc = check(run(e), w, "run");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(XPingProxy_start(ping, (int64_t)cfg->n, 0), w, "start");
    if (rc == 0) rc = check(run(e), w, "run");
    mark_stop(e, &m);
    if (rc == 0) rc = check(XPingProxy_start(ping, (int64_t)cfg->n, 1), w, "start");
    if (rc == 0) rc = check(run(e), w, "run");
    if (rc == 0 && bench_lat.n != cfg->n)
      rc = bench_fail(w, "round-trip stamps", (long long)bench_lat.n, (long long)cfg->n);
    if (rc == 0) {
      char extra[96];
      qsort(bench_lat.rtt, bench_lat.n, sizeof *bench_lat.rtt, cmp_u64);
      snprintf(extra, sizeof extra, " p50_ns=%llu p99_ns=%llu",
               (unsigned long long)percentile(bench_lat.rtt, bench_lat.n, 50),
               (unsigned long long)percentile(bench_lat.rtt, bench_lat.n, 99));
      mark_print(&m, w, cfg->shards, 2 * cfg->n, extra, rep);
    }
  }
  if (rc == 0) rc = check(XPingProxy_trips_await(ping, &trips), w, "trips");
  if (rc == 0 && trips != want) rc = bench_fail(w, "round trips", trips, want);
  free(bench_lat.rtt);
  bench_lat.rtt = NULL;
  bench_lat.cap = 0;
  return finish(e, w, rc);
}

/* ---- xcount: two senders on shard 0, the counter on shard 1; each sender
 * sends half of n in acknowledged windows (xcount.h). ns per increment. */

static int xcount_run(bs_engine *e, XSenderProxy *senders, const char *counter_id,
                      uint64_t n) {
  int rc = XSenderProxy_run(senders[0], counter_id, (int64_t)(n / 2));
  if (rc == 0) rc = XSenderProxy_run(senders[1], counter_id, (int64_t)(n - n / 2));
  if (rc == 0) rc = run(e);
  return rc;
}

int bench_bs_xcount(const bench_cfg *cfg) {
  const char *w = "xcount";
  bs_engine *e;
  XCounterProxy counter;
  XSenderProxy senders[2];
  mark m;
  char id[32], counter_id[32];
  uint64_t next = 0;
  int64_t total = 0, want = (int64_t)bench_warm(cfg->n);
  if (engine_new_sharded(&e, w, cfg->shards) < 0) return -1;
  pick_id(e, counter_id, "xcounter-", &next, 1);
  int rc = check(bs_get_actor(e, XCounter, counter_id, &counter), w, "get");
  for (int i = 0; rc == 0 && i < 2; i++) {
    pick_id(e, id, "xsender-", &next, 0);
    rc = check(bs_get_actor(e, XSender, id, &senders[i]), w, "get");
  }
  if (rc == 0) rc = check(xcount_run(e, senders, counter_id, bench_warm(cfg->n)), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(xcount_run(e, senders, counter_id, cfg->n), w, "run");
    if (rc == 0) rc = check(XCounterProxy_total_await(counter, &total), w, "total");
    mark_stop(e, &m);
    want += (int64_t)cfg->n;
    if (rc == 0 && total != want) rc = bench_fail(w, "total", total, want);
    if (rc == 0) mark_print(&m, w, cfg->shards, cfg->n, NULL, rep);
  }
  if (rc == 0) rc = collected(e, w, "xcount-done", 2 * (1 + cfg->reps));
  return finish(e, w, rc);
}

/* ---- xring: XRING_NODES nodes, node i on shard i % 2 (so every hop goes
 * to the other shard), XRING_TOKENS tokens spaced evenly and starting on
 * alternate shards, n hops in all per run. ns per hop. */

#define XRING_NODES 1000
#define XRING_TOKENS 10

/* Token t starts at node t * 100 + t % 2: evenly spaced, and on alternate
 * shards (node i lives on shard i % 2), so both shards start with work. */
static uint32_t xring_start(int t) {
  return (uint32_t)t * (XRING_NODES / XRING_TOKENS) + (uint32_t)t % 2;
}

static int xring_run(bs_engine *e, XNodeProxy *nodes, uint64_t n) {
  int rc = 0;
  for (int t = 0; rc == 0 && t < XRING_TOKENS; t++) {
    uint64_t hops = n / XRING_TOKENS + ((uint64_t)t < n % XRING_TOKENS);
    rc = XNodeProxy_hop(nodes[xring_start(t)], (int64_t)hops);
  }
  if (rc == 0) rc = run(e);
  return rc;
}

static int xring(const bench_cfg *cfg, const char *w, int32_t work) {
  bs_engine *e;
  XNodeProxy *nodes = malloc(XRING_NODES * sizeof *nodes);
  char (*ids)[32] = malloc(XRING_NODES * sizeof *ids);
  mark m;
  uint64_t next = 0;
  int rc = nodes && ids ? 0 : bench_fail(w, "malloc", 0, 0);
  if (rc == 0 && engine_new_sharded(&e, w, cfg->shards) < 0) rc = -1;
  if (rc < 0) {
    free(nodes);
    free(ids);
    return rc;
  }
  for (uint32_t i = 0; rc == 0 && i < XRING_NODES; i++) {
    pick_id(e, ids[i], "xnode-", &next, i % 2);
    rc = check(bs_get_actor(e, XNode, ids[i], &nodes[i]), w, "get");
  }
  for (uint32_t i = 0; rc == 0 && i < XRING_NODES; i++)
    rc = check(XNodeProxy_link(nodes[i], ids[(i + 1) % XRING_NODES], work), w, "link");
  if (rc == 0) rc = check(run(e), w, "run");
  if (rc == 0) rc = check(xring_run(e, nodes, bench_warm(cfg->n)), w, "warm-up");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(xring_run(e, nodes, cfg->n), w, "run");
    mark_stop(e, &m);
    if (rc == 0) mark_print(&m, w, cfg->shards, cfg->n, NULL, rep);
  }
  if (rc == 0) rc = collected(e, w, "xring-done", XRING_TOKENS * (1 + cfg->reps));
  free(nodes);
  free(ids);
  return finish(e, w, rc);
}

int bench_bs_xring(const bench_cfg *cfg) { return xring(cfg, "xring", 0); }
int bench_bs_xring_work(const bench_cfg *cfg) {
  return xring(cfg, "xring-work", BENCH_WORK_ITERS);
}

/* ---- xfanout: XFANOUT_SUBS subscribers, alternately on shard 0 and 1; the
 * publisher (an actor on shard 0) publishes n / XFANOUT_SUBS events per run,
 * acknowledged by the last subscriber (xfanout.h). ns per delivery. */

#define XFANOUT_SUBS 100

static int xfanout(const bench_cfg *cfg, const char *w, int32_t work) {
  bs_engine *e;
  bs_stream_i64 events;
  XSubProxy subs[XFANOUT_SUBS];
  XPubProxy pub;
  mark m;
  char id[32], last[32];
  uint64_t next = 0;
  uint64_t nevents = cfg->n / XFANOUT_SUBS ? cfg->n / XFANOUT_SUBS : 1;
  int64_t want = (int64_t)(bench_warm(nevents) + nevents * (uint64_t)cfg->reps);
  if (engine_new_sharded(&e, w, cfg->shards) < 0) return -1;
  int rc = check(bs_get_stream(e, i64, "xevents", &events), w, "stream");
  for (uint32_t s = 0; rc == 0 && s < XFANOUT_SUBS; s++) {
    pick_id(e, id, "xsub-", &next, s % 2);
    rc = check(bs_get_actor(e, XSub, id, &subs[s]), w, "get");
    if (rc == 0) rc = check(XSubProxy_setWork(subs[s], work), w, "setWork");
    if (rc == 0)
      rc = check(bs_stream_subscribe(events, bs_subscriber(id, XSubProxy_onEvent)), w,
                 "subscribe");
    memcpy(last, id, sizeof last);
  }
  pick_id(e, id, "xpub-", &next, 0);
  if (rc == 0) rc = check(bs_get_actor(e, XPub, id, &pub), w, "get");
  if (rc == 0) rc = check(run(e), w, "run");
  if (rc == 0) rc = check(XPubProxy_run(pub, last, (int64_t)bench_warm(nevents)), w, "warm-up");
  if (rc == 0) rc = check(run(e), w, "run");
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    mark_begin(e, &m);
    rc = check(XPubProxy_run(pub, last, (int64_t)nevents), w, "run");
    if (rc == 0) rc = check(run(e), w, "run");
    mark_stop(e, &m);
    if (rc == 0) mark_print(&m, w, cfg->shards, nevents * XFANOUT_SUBS, NULL, rep);
  }
  for (int s = 0; rc == 0 && s < XFANOUT_SUBS; s++) {
    int64_t total = 0;
    rc = check(XSubProxy_total_await(subs[s], &total), w, "total");
    if (rc == 0 && total != want) rc = bench_fail(w, "subscriber total", total, want);
  }
  if (rc == 0) rc = collected(e, w, "xfanout-done", XFANOUT_SUBS * (1 + cfg->reps));
  return finish(e, w, rc);
}

int bench_bs_xfanout(const bench_cfg *cfg) { return xfanout(cfg, "xfanout", 0); }
int bench_bs_xfanout_work(const bench_cfg *cfg) {
  return xfanout(cfg, "xfanout-work", BENCH_WORK_ITERS);
}

/* ---- xspawn: two spawners, one on each shard, create n workers per run
 * between them (xspawn.h); each worker lives where its id hashes (about
 * half on each shard). ns per worker. A fresh engine per repetition, as in
 * spawn. */

static int xspawn_run(bs_engine *e, XSpawnerProxy *sp, uint64_t n, int64_t *answers) {
  int rc = XSpawnerProxy_run(sp[0], (int64_t)(n / 2));
  if (rc == 0) rc = XSpawnerProxy_run(sp[1], (int64_t)(n - n / 2));
  if (rc == 0) rc = run(e);
  *answers = 0;
  for (int i = 0; rc == 0 && i < 2; i++) {
    int64_t a = 0;
    rc = XSpawnerProxy_answers_await(sp[i], &a);
    *answers += a;
  }
  return rc;
}

int bench_bs_xspawn(const bench_cfg *cfg) {
  const char *w = "xspawn";
  int rc = 0;
  for (int rep = 1; rc == 0 && rep <= cfg->reps; rep++) {
    bs_engine *e;
    XSpawnerProxy sp[2];
    mark m;
    char id[32];
    uint64_t next = 0;
    int64_t answers = 0;
    if (engine_new_sharded(&e, w, cfg->shards) < 0) return -1;
    for (uint32_t i = 0; rc == 0 && i < 2; i++) {
      pick_id(e, id, "xs", &next, i);
      rc = check(bs_get_actor(e, XSpawner, id, &sp[i]), w, "get");
    }
    if (rc == 0) rc = check(xspawn_run(e, sp, bench_warm(cfg->n), &answers), w, "warm-up");
    if (rc == 0) {
      mark_begin(e, &m);
      rc = check(xspawn_run(e, sp, cfg->n, &answers), w, "run");
      mark_stop(e, &m);
    }
    int64_t want = (int64_t)(bench_warm(cfg->n) + cfg->n);
    if (rc == 0 && answers != want) rc = bench_fail(w, "answers", answers, want);
    if (rc == 0) mark_print(&m, w, cfg->shards, cfg->n, NULL, rep);
    rc = finish(e, w, rc);
  }
  return rc;
}

/* ---- work: the compute unit of the *-work workloads, called directly. */

int bench_work_unit(const bench_cfg *cfg) {
  uint32_t acc = 0;
  acc = bench_work(BENCH_WORK_ITERS, acc);
  for (int rep = 1; rep <= cfg->reps; rep++) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < cfg->n; i++) acc = bench_work(BENCH_WORK_ITERS, acc + (uint32_t)i);
    uint64_t ns = bench_now_ns() - t0;
    printf("work impl=backstage ns_per_op=%.3f ops=%llu iters=%d check=%u rep=%d\n",
           (double)ns / (double)cfg->n, (unsigned long long)cfg->n, BENCH_WORK_ITERS,
           acc, rep);
    fflush(stdout);
  }
  return 0;
}
