/* The cluster's transport: remote sends and requests between a node
 * process and the test process, through a real nats-server; joining
 * errors; requests to a node that dies or never answers. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cl_actors.bs.h"
#include "cl_harness.h"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_transport, .init = up, .fini = down, .timeout = 120);

/* An id that the node `node` owns now (asked of the cluster). */
static void id_on(bs_engine *e, const char *node, char *out, size_t cap) {
  char where[64];
  for (int i = 0; i < 100000; i++) {
    snprintf(out, cap, "c-%d", i);
    cr_assert_eq(cl_where(e, out, where, sizeof where), 0, "where is %s", out);
    if (!strcmp(where, node)) return;
  }
  cr_assert_fail("no actor lands on %s", node);
}

static bool owns_some(bs_engine *e, void *ud) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (!strcmp(nodes[i].name, ud) && nodes[i].alive && nodes[i].partitions > 100) return true;
  return false;
}

Test(cluster_transport, sends_and_requests_reach_the_owner_on_another_node) {
  cl_proc a;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, NULL), 0);
  /* The join balances partitions over both: wait for "a" to own some. */
  cr_assert(cl_run_until(e, 20000, owns_some, "a"));
  cr_assert(cl_run_until(e, 20000, owns_some, "t"));
  char id[32];
  id_on(e, "a", id, sizeof id);
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, id, &c), 0);
  for (int i = 1; i <= 100; i++) cr_assert_eq(CounterProxy_add(c, i), 0);
  int64_t total = 0;
  cr_assert_eq(CounterProxy_total_await_timeout(c, &total, 5000), 0);
  cr_assert_eq(total, 5050);
  char where[64];
  cr_assert_eq(cl_where(e, id, where, sizeof where), 0);
  cr_assert_str_eq(where, "a");
  bs_cluster_stats st;
  cr_assert_eq(bs_cluster_stats_get(e, &st), 0);
  cr_assert_geq(st.msgs_out, 102);
  cr_assert_geq(st.msgs_in, 2);
  cr_assert_eq(st.nodes, 2);
  /* And locally owned actors stay local. */
  id_on(e, "t", id, sizeof id);
  cr_assert_eq(cl_where(e, id, where, sizeof where), 0);
  cr_assert_str_eq(where, "t");
  bs_engine_free(e);
  cr_assert_eq(cl_stop(&a), 0);
  char bad[256];
  cr_assert_eq(cl_check_log(bad, sizeof bad, NULL, true), 0, "%s", bad);
}

/* Both own partitions: a has joined and the balance has started. */
static void two_nodes(cl_proc *a, bs_engine **e, const char *aname, cl_tweak_fn tweak) {
  char why[128];
  cr_assert_eq(cl_spawn(a, natsd.url, aname, why, sizeof why, NULL), 0, "%s", why);
  cr_assert_eq(cl_engine(e, natsd.url, "t", 1, tweak), 0);
  cr_assert(cl_run_until(*e, 20000, owns_some, (void *)aname));
  cr_assert(cl_run_until(*e, 20000, owns_some, "t"));
}

typedef struct answer {
  bool done;
  int status;
  int64_t value;
} answer;

static void on_total(void *ud, int status, int64_t value) {
  answer *a = ud;
  a->done = true;
  a->status = status;
  a->value = value;
}

static bool answered(bs_engine *e, void *ud) {
  (void)e;
  return ((answer *)ud)->done;
}

Test(cluster_transport, a_request_to_a_node_that_dies_fails_unreachable) {
  cl_proc a;
  bs_engine *e;
  two_nodes(&a, &e, "a", NULL);
  char id[32];
  id_on(e, "a", id, sizeof id);
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, id, &c), 0);
  cl_signal(&a, SIGKILL);
  /* Sent to a dead node, which nobody knows yet; no deadline of our own
   * (the cluster's default is 30 s): the departure ends it. */
  answer ans = {0};
  cr_assert_eq(CounterProxy_slow(c, 0, (CounterProxy_slow_cont)on_total, &ans), 0);
  cr_assert(cl_run_until(e, 25000, answered, &ans), "the request never ended");
  cr_assert_eq(ans.status, BS_EUNREACHABLE, "%s", bs_errname(ans.status));
  bs_engine_free(e);
  cl_stop(&a);
}

static void short_requests(bs_cluster_options *co, bs_engine_options *o) {
  (void)co;
  o->request_timeout_ms = 300;
}

Test(cluster_transport, a_request_that_is_never_answered_in_time_fails_timed_out) {
  cl_proc a;
  bs_engine *e;
  two_nodes(&a, &e, "a", short_requests);
  char id[32];
  id_on(e, "a", id, sizeof id);
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, id, &c), 0);
  answer ans = {0};
  cr_assert_eq(CounterProxy_slow(c, 1500, (CounterProxy_slow_cont)on_total, &ans), 0);
  cr_assert(cl_run_until(e, 10000, answered, &ans));
  cr_assert_eq(ans.status, BS_ETIMEDOUT, "%s", bs_errname(ans.status));
  /* The late answer is an orphan, counted; the node still answers. */
  int64_t total = -1;
  cl_run_ms(e, 1500);
  cr_assert_eq(CounterProxy_total_await_timeout(c, &total, 5000), 0);
  bs_engine_free(e);
  cl_stop(&a);
}

static void other_partitions(bs_cluster_options *co, bs_engine_options *o) {
  (void)o;
  co->partitions = 512;
}

Test(cluster_transport, settings_that_differ_are_refused_at_join) {
  cl_proc a;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  bs_engine *e = NULL;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, other_partitions), BS_EVERSION);
  cr_assert_null(e);
  cl_proc b;
  cr_assert_eq(cl_spawn(&b, natsd.url, "b", why, sizeof why, "--partitions", "256", NULL), -1);
  cr_assert_str_eq(why, "JOIN EVERSION\n");
  cl_stop(&a);
}

static void quick_join(bs_cluster_options *co, bs_engine_options *o) {
  (void)o;
  co->join_timeout_ms = 500;
}

Test(cluster_transport, a_node_name_in_use_is_refused) {
  cl_proc a;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  bs_engine *e = NULL;
  cr_assert_eq(cl_engine(&e, natsd.url, "a", 1, quick_join), BS_EBUSY);
  cl_stop(&a);
}

/* Messages too large for one NATS message (its max_payload, 1 MiB here):
 * refused with BS_ETOOBIG, a request and an answer alike, never lost in
 * silence. */
Test(cluster_transport, what_does_not_fit_a_nats_message_is_refused_clearly) {
  cl_proc a;
  bs_engine *e;
  two_nodes(&a, &e, "a", NULL);
  char id[32];
  id_on(e, "a", id, sizeof id);
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, id, &c), 0);
  size_t big = (size_t)2 << 20;
  uint8_t *p = calloc(1, big);
  uint64_t n = 0;
  cr_assert_eq(CounterProxy_measure_await_timeout(c, (bs_bytes){p, big}, &n, 5000), BS_ETOOBIG);
  cr_assert_eq(CounterProxy_measure_await_timeout(c, (bs_bytes){p, 1000}, &n, 5000), 0);
  cr_assert_eq(n, 1000);
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});
  bs_bytes out;
  cr_assert_eq(CounterProxy_blob_await_timeout(c, (uint32_t)big, &arena, &out, 5000), BS_ETOOBIG);
  cr_assert_eq(CounterProxy_blob_await_timeout(c, 100000, &arena, &out, 5000), 0);
  cr_assert_eq(out.len, 100000);
  bs_arena_free(&arena);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  cr_assert_geq(st.dead_by_reason[BS_DL_UNREACHABLE], 1);
  free(p);
  bs_engine_free(e);
  cl_stop(&a);
}
