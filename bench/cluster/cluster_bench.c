/* The cluster benchmark: two nodes on loopback through one nats-server,
 * next to raw libnats between the same two processes' worth of work.
 * bench/cluster.sh runs the pieces and prints the table.
 *
 *   cluster-bench node  --url U --node NAME [--shards S]
 *   cluster-bench drive --url U --node NAME --peer NAME --n M --size B --rtt K
 *   cluster-bench raw-sub --url U
 *   cluster-bench raw-pub --url U --n M --size B --rtt K
 *
 * One-way: M messages of B bytes of payload to 8 actors the peer owns, in
 * windows of 100,000 closed by a request (so NATS never holds more than a
 * window), the time from the first send to the last window's answer.
 * Round trip: K sequential requests, p50/p99. The raw runs do the same
 * with libnats: publish -> subscribe on one subject (a message with a reply
 * subject closes a window), ping-pong on two subjects (SendAsap), and
 * natsConnection_Request. */
#define _POSIX_C_SOURCE 200809L
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bench_sink.bs.h"
#include "bench_sink.h"

void bench_sink_node(const char *name);

#define WINDOW 100000

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void rtt_report(const char *what, double *lat, int k) {
  qsort(lat, (size_t)k, sizeof *lat, cmp);
  printf("%s rtt_p50_us %.1f rtt_p99_us %.1f\n", what, lat[k / 2] * 1e6, lat[k * 99 / 100] * 1e6);
}

typedef struct args {
  const char *url, *node, *peer;
  long n, size, rtt, shards;
} args;

/* ---- Backstage --------------------------------------------------------------- */

static bs_engine *engine;

static void on_sigterm(uv_signal_t *s, int signum) {
  (void)signum;
  uv_signal_stop(s);
  bs_engine_stop(engine);
}

static int join(const args *a) {
  static const bs_actor_type *const types[] = {&BSink_actor_type};
  bench_sink_node(a->node);
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = a->url;
  co.name = "bench";
  co.node = a->node;
  co.types = types;
  co.ntypes = 1;
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = (uint32_t)a->shards;
  o.cluster = &co;
  int rc = bs_engine_new(&engine, &o);
  if (rc < 0) fprintf(stderr, "join: %s\n", bs_strerror(rc));
  return rc;
}

static int node_main(const args *a) {
  if (join(a) < 0) return 1;
  uv_signal_t sig;
  uv_signal_init(bs_engine_loop(engine), &sig);
  uv_signal_start(&sig, on_sigterm, SIGTERM);
  printf("READY\n");
  fflush(stdout);
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  uv_close((uv_handle_t *)&sig, NULL);
  bs_engine_run(engine, BS_RUN_NOWAIT);
  bs_engine_free(engine);
  return 0;
}

static void stop_cb(uv_timer_t *t) { bs_engine_stop(t->data); }

static void run_ms(uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(bs_engine_loop(engine), &t);
  t.data = engine;
  uv_timer_start(&t, stop_cb, ms, 0);
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  uv_close((uv_handle_t *)&t, NULL);
  bs_engine_run(engine, BS_RUN_NOWAIT);
}

static bool balanced(const char *peer) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(engine, nodes, 8), ok = 0;
  for (int i = 0; i < n && i < 8; i++)
    if (nodes[i].alive && nodes[i].partitions >= 500) ok++;
  (void)peer;
  return ok == 2;
}

static int drive_main(const args *a) {
  if (join(a) < 0) return 1;
  double until = now_s() + 60;
  while (!balanced(a->peer)) {
    if (now_s() > until) {
      fprintf(stderr, "drive: the partitions never balanced\n");
      return 1;
    }
    run_ms(50);
  }
  /* Eight actors on the peer. */
  enum { K = 8 };
  BSinkProxy sinks[K];
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});
  int found = 0;
  for (int i = 0; found < K && i < 100000; i++) {
    char id[32];
    snprintf(id, sizeof id, "sink-%d", i);
    BSinkProxy p;
    BSinkProxy_get(engine, id, &p);
    const char *where = NULL;
    if (BSinkProxy_where_await_timeout(p, &arena, &where, 5000) == 0 && where &&
        !strcmp(where, a->peer))
      sinks[found++] = p;
    bs_arena_reset(&arena);
  }
  bs_arena_free(&arena);
  if (found < K) return 1;
  uint8_t *payload = calloc(1, (size_t)a->size);
  bs_bytes b = {payload, (size_t)a->size};
  /* Warm-up. */
  for (int i = 0; i < 10000; i++) BSinkProxy_put(sinks[i % K], b);
  uint64_t cnt;
  BSinkProxy_count_await(sinks[0], &cnt);
  double t0 = now_s();
  long sent = 0;
  while (sent < a->n) {
    long w = a->n - sent < WINDOW ? a->n - sent : WINDOW;
    for (long i = 0; i < w; i++) BSinkProxy_put(sinks[(sent + i) % K], b);
    sent += w;
    /* Closes the window: in order behind the puts to that actor. */
    for (int k = 0; k < K; k++) BSinkProxy_count_await(sinks[k], &cnt);
  }
  double dt = now_s() - t0;
  printf("backstage oneway size %ld msgs %ld secs %.3f msgs_per_s %.0f ns_per_msg %.1f\n", a->size,
         a->n, dt, (double)a->n / dt, dt / (double)a->n * 1e9);
  double *lat = calloc((size_t)a->rtt, sizeof *lat);
  for (long i = 0; i < a->rtt; i++) {
    uint64_t v = 0;
    double t = now_s();
    BSinkProxy_echo_await(sinks[i % K], (uint64_t)i, &v);
    lat[i] = now_s() - t;
  }
  rtt_report("backstage", lat, (int)a->rtt);
  bs_cluster_stats st;
  bs_cluster_stats_get(engine, &st);
  printf("backstage batches_out %llu msgs_out %llu (%.0f envelopes per NATS message)\n",
         (unsigned long long)st.batches_out, (unsigned long long)st.msgs_out,
         st.batches_out ? (double)st.msgs_out / (double)st.batches_out : 0.0);
  free(lat);
  free(payload);
  bs_engine_free(engine);
  return 0;
}

/* ---- Raw libnats ------------------------------------------------------------------ */

static natsConnection *connect_raw(const char *url, bool asap) {
  natsOptions *o;
  natsOptions_Create(&o);
  natsOptions_SetURL(o, url);
  natsOptions_SetSendAsap(o, asap);
  natsConnection *nc = NULL;
  if (natsConnection_Connect(&nc, o) != NATS_OK) {
    fprintf(stderr, "raw: cannot connect to %s\n", url);
    exit(1);
  }
  natsOptions_Destroy(o);
  return nc;
}

static uint64_t raw_count;
static natsConnection *raw_reply_nc;

static void on_sink(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *c) {
  (void)sub;
  (void)c;
  (void)nc;
  const char *reply = natsMsg_GetReply(m);
  if (reply) { /* closes a window: everything before it arrived */
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)raw_count);
    natsConnection_Publish(raw_reply_nc, reply, buf, n);
  } else {
    raw_count++;
  }
  natsMsg_Destroy(m);
}

static void on_ping(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *c) {
  (void)nc;
  (void)sub;
  (void)c;
  const char *reply = natsMsg_GetReply(m);
  natsConnection_Publish(raw_reply_nc, reply ? reply : "bench.pong", natsMsg_GetData(m),
                         natsMsg_GetDataLength(m));
  natsMsg_Destroy(m);
}

static int raw_sub_main(const args *a) {
  natsConnection *nc = connect_raw(a->url, false);
  raw_reply_nc = connect_raw(a->url, true);
  natsSubscription *s1, *s2, *s3;
  natsConnection_Subscribe(&s1, nc, "bench.sink", on_sink, NULL);
  natsSubscription_SetPendingLimits(s1, -1, -1);
  natsConnection_Subscribe(&s2, nc, "bench.ping", on_ping, NULL);
  natsConnection_Subscribe(&s3, nc, "bench.req", on_ping, NULL);
  natsConnection_Flush(nc);
  printf("READY\n");
  fflush(stdout);
  pause();
  return 0;
}

static volatile int pong;
static uv_sem_t pong_sem;

static void on_pong(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *c) {
  (void)nc;
  (void)sub;
  (void)c;
  natsMsg_Destroy(m);
  uv_sem_post(&pong_sem);
}

static int raw_pub_main(const args *a) {
  natsConnection *nc = connect_raw(a->url, false);
  uint8_t *payload = calloc(1, (size_t)a->size);
  natsMsg *r = NULL;
  for (int i = 0; i < 10000; i++) natsConnection_Publish(nc, "bench.sink", payload, (int)a->size);
  natsConnection_Request(&r, nc, "bench.sink", "", 0, 10000);
  if (r) natsMsg_Destroy(r);
  double t0 = now_s();
  long sent = 0;
  while (sent < a->n) {
    long w = a->n - sent < WINDOW ? a->n - sent : WINDOW;
    for (long i = 0; i < w; i++) natsConnection_Publish(nc, "bench.sink", payload, (int)a->size);
    sent += w;
    r = NULL;
    if (natsConnection_Request(&r, nc, "bench.sink", "", 0, 10000) != NATS_OK) {
      fprintf(stderr, "raw: window answer missing\n");
      return 1;
    }
    natsMsg_Destroy(r);
  }
  double dt = now_s() - t0;
  printf("nats oneway size %ld msgs %ld secs %.3f msgs_per_s %.0f ns_per_msg %.1f\n", a->size, a->n,
         dt, (double)a->n / dt, dt / (double)a->n * 1e9);
  double *lat = calloc((size_t)a->rtt, sizeof *lat);
  /* Ping-pong on two subjects with SendAsap: what the cluster does. */
  natsConnection *pc = connect_raw(a->url, true);
  uv_sem_init(&pong_sem, 0);
  natsSubscription *ps;
  natsConnection_Subscribe(&ps, pc, "bench.pong", on_pong, NULL);
  natsConnection_Flush(pc);
  for (long i = 0; i < a->rtt; i++) {
    double t = now_s();
    natsConnection_Publish(pc, "bench.ping", payload, 8);
    uv_sem_wait(&pong_sem);
    lat[i] = now_s() - t;
  }
  rtt_report("nats-pingpong", lat, (int)a->rtt);
  for (long i = 0; i < a->rtt; i++) {
    double t = now_s();
    r = NULL;
    natsConnection_Request(&r, pc, "bench.req", payload, 8, 5000);
    if (r) natsMsg_Destroy(r);
    lat[i] = now_s() - t;
  }
  rtt_report("nats-request", lat, (int)a->rtt);
  free(lat);
  free(payload);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: cluster-bench node|drive|raw-sub|raw-pub [options]\n");
    return 64;
  }
  args a = {NULL, "n", "peer", 1000000, 32, 2000, 1};
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--url")) a.url = v;
    else if (!strcmp(k, "--node")) a.node = v;
    else if (!strcmp(k, "--peer")) a.peer = v;
    else if (!strcmp(k, "--n")) a.n = atol(v);
    else if (!strcmp(k, "--size")) a.size = atol(v);
    else if (!strcmp(k, "--rtt")) a.rtt = atol(v);
    else if (!strcmp(k, "--shards")) a.shards = atol(v);
  }
  if (!a.url) return 64;
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(argv[1], "node")) return node_main(&a);
  if (!strcmp(argv[1], "drive")) return drive_main(&a);
  if (!strcmp(argv[1], "raw-sub")) return raw_sub_main(&a);
  if (!strcmp(argv[1], "raw-pub")) return raw_pub_main(&a);
  return 64;
}
