/* Streams across nodes: an element published on one node reaches the
 * subscribers on every node, encoded once; a subscriber whose actor is
 * placed on another node gets it there. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cl_actors.bs.h"
#include "cl_harness.h"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_streams, .init = up, .fini = down, .timeout = 120);

typedef struct warm {
  bs_stream_i64 s;
  const char *nodes[3];
} warm;

/* Publishes 0 until every node's sink has had one (their subscriptions
 * reach NATS shortly after they join). */
static bool everyone_hears(bs_engine *e, void *ud) {
  (void)e;
  warm *w = ud;
  bool all = true;
  for (int i = 0; i < 3 && w->nodes[i]; i++)
    if (!cl_count("ELEM", w->nodes[i], NULL)) all = false;
  if (!all) bs_stream_next(w->s, 0);
  return all;
}

typedef struct want {
  unsigned long n;
} want;

static bool all_arrived(bs_engine *e, void *ud) {
  (void)e;
  unsigned long n = ((want *)ud)->n;
  return cl_count("ELEM", "a", NULL) >= n && cl_count("ELEM", "b", NULL) >= n &&
         cl_count("ELEM", "t", NULL) >= n;
}

Test(cluster_streams, a_publish_reaches_subscribers_on_every_node_encoded_once) {
  cl_proc a, b;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, "--sink", "ticks", NULL), 0, "%s", why);
  cr_assert_eq(cl_spawn(&b, natsd.url, "b", why, sizeof why, "--sink", "ticks", NULL), 0, "%s", why);
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 2, NULL), 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_stream_i64_get(e, "ticks", &s), 0);
  cr_assert_eq(bs_stream_subscribe(s, bs_subscriber("sink-t", SinkProxy_tick)), 0);
  warm w = {s, {"a", "b", "t"}};
  cr_assert(cl_run_until(e, 20000, everyone_hears, &w), "subscriptions never took effect");
  unsigned long before_a = cl_count("ELEM", "a", NULL), before_b = cl_count("ELEM", "b", NULL);
  unsigned long before_t = cl_count("ELEM", "t", NULL);
  bs_stream_stats st0;
  bs_stream_stats_get(s.s, &st0);
  bs_cluster_stats c0;
  bs_cluster_stats_get(e, &c0);
  enum { N = 2000 };
  for (int i = 1; i <= N; i++) cr_assert_geq(bs_stream_next(s, i), 0);
  unsigned long most = before_a > before_b ? before_a : before_b;
  want wn = {(most > before_t ? most : before_t) + N};
  cr_assert(cl_run_until(e, 20000, all_arrived, &wn), "a: %lu, b: %lu, t: %lu of %lu",
            cl_count("ELEM", "a", NULL), cl_count("ELEM", "b", NULL), cl_count("ELEM", "t", NULL),
            wn.n);
  cr_assert_eq(cl_count("ELEM", "a", NULL) - before_a, N);
  cr_assert_eq(cl_count("ELEM", "b", NULL) - before_b, N);
  cr_assert_eq(cl_count("ELEM", "t", NULL) - before_t, N);
  bs_stream_stats st;
  bs_stream_stats_get(s.s, &st);
  cr_assert_eq(st.encodes - st0.encodes, N, "encoded once per publish");
  bs_cluster_stats c;
  bs_cluster_stats_get(e, &c);
  cr_assert_eq(c.stream_out - c0.stream_out, N);
  /* Batched: far fewer NATS messages than elements (one per subject and
   * drain). */
  cr_assert_lt(c.batches_out - c0.batches_out, N / 4);
  bs_engine_free(e);
  cl_stop(&a);
  cl_stop(&b);
}

typedef struct pc {
  CounterProxy c;
  bs_stream_i64 s;
  int64_t want;
} pc;

static bool counted(bs_engine *e, void *ud) {
  (void)e;
  pc *p = ud;
  int64_t total = 0;
  if (CounterProxy_total_await_timeout(p->c, &total, 1000) == 0 && total == p->want) return true;
  return false;
}

/* Both nodes alive with half the partitions each: balanced, so nothing
 * moves under the test. */
static bool balanced(bs_engine *e, void *ud) {
  (void)ud;
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8), half = 0;
  for (int i = 0; i < n && i < 8; i++)
    if (nodes[i].alive && nodes[i].partitions == 1024 / 2) half++;
  return half == 2;
}

static void quick_rounds(bs_cluster_options *co, bs_engine_options *o) {
  (void)o;
  co->heartbeat_ms = 200; /* a balancing round every 200 ms */
}

/* An id of `prefix` that node `node` owns. */
static void id_on(bs_engine *e, const char *prefix, const char *node, char *id, size_t cap) {
  char where[64];
  for (int i = 0; i < 100000; i++) {
    snprintf(id, cap, "%s-%d", prefix, i);
    cr_assert_eq(cl_where(e, id, where, sizeof where), 0);
    if (!strcmp(where, node)) return;
  }
  cr_assert_fail("no %s lands on %s", prefix, node);
}

Test(cluster_streams, a_placed_subscriber_gets_elements_on_its_owner) {
  cl_proc a;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, "--heartbeat", "200", NULL), 0, "%s",
               why);
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, quick_rounds), 0);
  cr_assert(cl_run_until(e, 20000, balanced, NULL), "never balanced");
  char id[32], local[32], where[64];
  id_on(e, "sub", "a", id, sizeof id);
  /* Mail to an actor of this node leaves the shard's free blocks holding
   * its key's hash: an element queued to the subscriber's cell here, sent
   * on to its owner with the hash of its block instead of its own, went
   * to that actor's partition - this node - and ran a second instance. */
  id_on(e, "local", "t", local, sizeof local);
  pc l;
  cr_assert_eq(CounterProxy_get(e, local, &l.c), 0);
  for (int i = 1; i <= 100; i++) cr_assert_eq(CounterProxy_add(l.c, i), 0);
  l.want = 5050;
  cr_assert(cl_run_until(e, 10000, counted, &l));
  pc p;
  cr_assert_eq(CounterProxy_get(e, id, &p.c), 0);
  cr_assert_eq(bs_stream_i64_get(e, "feed", &p.s), 0);
  cr_assert_eq(bs_stream_subscribe(p.s, bs_subscriber(id, CounterProxy_add)), 0);
  for (int i = 1; i <= 100; i++) cr_assert_geq(bs_stream_next(p.s, i), 0);
  p.want = 5050;
  cr_assert(cl_run_until(e, 10000, counted, &p), "%s on a did not get the 100 elements", id);
  cr_assert_eq(cl_where(e, id, where, sizeof where), 0);
  cr_assert_str_eq(where, "a", "it stayed on its owner");
  cr_assert_eq(cl_count("ACT", "t", id), 0, "never activated here");
  bs_engine_free(e);
  cl_stop(&a);
}
