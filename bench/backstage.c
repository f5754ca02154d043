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

/* ---- Measuring ----------------------------------------------------------- */

/* A measured span: time, plus the engine's message and allocator counters,
 * read outside the timed part. */
typedef struct mark {
  uint64_t t0;
  bs_engine_stats s0;
} mark;

static void mark_begin(bs_engine *e, mark *m) {
  bs_engine_stats_get(e, &m->s0);
  CALLGRIND_TOGGLE_COLLECT;
  m->t0 = bench_now_ns();
}

static void mark_end(bs_engine *e, const mark *m, const char *workload,
                     uint64_t ops, int rep) {
  uint64_t ns = bench_now_ns() - m->t0;
  CALLGRIND_TOGGLE_COLLECT;
  bs_engine_stats s1;
  bs_engine_stats_get(e, &s1);
  uint64_t msgs = s1.sent - m->s0.sent;
  uint64_t allocs = s1.alloc_calls - m->s0.alloc_calls;
  printf("%s impl=backstage ns_per_op=%.3f ops=%llu msgs=%llu allocs=%llu "
         "allocs_per_msg=%.4f rep=%d\n",
         workload, ops ? (double)ns / (double)ops : 0.0, (unsigned long long)ops,
         (unsigned long long)msgs, (unsigned long long)allocs,
         msgs ? (double)allocs / (double)msgs : 0.0, rep);
  fflush(stdout);
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

static int engine_new(bs_engine **e, const char *workload) {
  int rc = check(bs_engine_new(e, NULL), workload, "bs_engine_new");
  if (rc < 0 || !inspector_on()) return rc;
#ifdef BACKSTAGE_INSPECTOR_H
  rc = check(bs_inspector_start(*e, NULL), workload, "bs_inspector_start");
#else
  rc = check(BS_ENOTFOUND, workload, "BENCH_INSPECTOR=on: no inspector in this tree");
#endif
  if (rc < 0) bs_engine_free(*e);
  return rc;
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
