/* Joining: options checked before anything is touched, misuse of the
 * registration API, figures of a standalone engine, the environment
 * variable, unregistered types staying local, and allocation failure at
 * every allocation of a join. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bst.h"
#include "cl_actors.bs.h"
#include "cl_harness.h"

static bs_engine_options with(bs_cluster_options *co) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.cluster = co;
  return o;
}

static bs_cluster_options defaults(const char *url) {
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = url;
  co.node = "n";
  return co;
}

Test(cluster_options, defaults) {
  bs_cluster_options co;
  memset(&co, 0xff, sizeof co);
  bs_cluster_options_init(&co);
  cr_assert_null(co.servers);
  cr_assert_eq(co.partitions, 1024);
  cr_assert_eq(co.heartbeat_ms, 1000);
  cr_assert_eq(co.lease_ms, 5000);
  cr_assert_eq(co.park_ms, 10000);
  cr_assert_eq(co.request_timeout_ms, 30000);
  bs_cluster_options_init(NULL);
}

Test(cluster_options, bad_options_are_refused_before_connecting) {
  /* Nothing listens on port 1: a check that came after connecting would
   * say EUNREACHABLE instead of EINVAL. */
  const char *url = "nats://127.0.0.1:1";
  bs_engine *e = (bs_engine *)1;
  bs_cluster_options co = defaults(NULL);
  bs_engine_options o = with(&co);
  cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "no servers");
  cr_assert_null(e);
  const char *bad_names[] = {"", "a.b", "a b", "a*", "x>", "0123456789012345678901234567890123"};
  for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
    co = defaults(url);
    co.name = bad_names[i];
    o = with(&co);
    cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "cluster name '%s'", bad_names[i]);
    co = defaults(url);
    co.node = bad_names[i];
    o = with(&co);
    if (strlen(bad_names[i]) <= 32 || i < 5)
      cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "node name '%s'", bad_names[i]);
  }
  co = defaults(url);
  co.lease_ms = 1500;
  co.heartbeat_ms = 1000;
  o = with(&co);
  cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "a lease of less than two heartbeats");
  co = defaults(url);
  co.partitions = 70000;
  o = with(&co);
  cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "too many partitions");
  co = defaults(url);
  co.tls_cert_file = "cert.pem";
  o = with(&co);
  cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "a certificate without its key");
  co = defaults(url);
  o = with(&co);
  o.virtual_time = true;
  cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "test mode");
  static const bs_actor_type bad = {0};
  static const bs_actor_type *const types[] = {&bad};
  co = defaults(url);
  co.types = types;
  co.ntypes = 1;
  o = with(&co);
  cr_assert_eq(bs_engine_new(&e, &o), BS_EINVAL, "a bad descriptor");
}

Test(cluster_options, an_unreachable_server_fails_the_join) {
  bs_cluster_options co = defaults("nats://127.0.0.1:1");
  bs_engine_options o = with(&co);
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), BS_EUNREACHABLE);
  cr_assert_null(e);
}

/* Two names whose FNV-1a hashes collide ("costarring", "liquid"). */
static int noop_init(void *self, bs_context *ctx) {
  (void)self;
  (void)ctx;
  return 0;
}
static const bs_actor_type costarring = {"costarring", 8, 0, noop_init, NULL, NULL, 0, NULL, NULL, NULL};
static const bs_actor_type liquid = {"liquid", 8, 0, noop_init, NULL, NULL, 0, NULL, NULL, NULL};

Test(cluster_options, registering_types) {
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  cr_assert_eq(bs_engine_register_type(NULL, &costarring), BS_EINVAL);
  cr_assert_eq(bs_engine_register_type(e, NULL), BS_EINVAL);
  static const bs_actor_type bad = {0};
  cr_assert_eq(bs_engine_register_type(e, &bad), BS_EINVAL);
  cr_assert_eq(bs_engine_register_type(e, &costarring), 0);
  cr_assert_eq(bs_engine_register_type(e, &costarring), 0, "twice is harmless");
  cr_assert_eq(bs_engine_register_type(e, &liquid), BS_ETYPE, "same wire id");
  cr_assert_eq(bs_register_actor(e, Counter), 0);
  /* Standalone: nothing to report. */
  bs_cluster_stats st;
  cr_assert_eq(bs_cluster_stats_get(e, &st), BS_ENOTFOUND);
  cr_assert_eq(bs_cluster_stats_get(NULL, &st), BS_EINVAL);
  cr_assert_eq(bs_cluster_stats_get(e, NULL), BS_EINVAL);
  bs_cluster_node nodes[2];
  cr_assert_eq(bs_cluster_nodes(e, nodes, 2), BS_ENOTFOUND);
  cr_assert_eq(bs_cluster_nodes(e, NULL, 2), BS_EINVAL);
  cr_assert(!bs_cluster_joined(e));
  cr_assert(!bs_cluster_joined(NULL));
  /* Registered types in a standalone engine work as any other. */
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, "solo", &c), 0);
  cr_assert_eq(CounterProxy_add(c, 3), 0);
  int64_t total = 0;
  cr_assert_eq(CounterProxy_total_await(c, &total), 0);
  cr_assert_eq(total, 3);
  bs_engine_free(e);
}

static bs_engine *other_engine;

static void register_from_elsewhere(void *arg) {
  (void)arg;
  *(int *)arg = bs_engine_register_type(other_engine, &costarring);
}

#ifdef BST_API_ABORTS
Test(cluster_options, registering_from_another_thread_aborts, .signal = SIGABRT) {
#else
Test(cluster_options, registering_from_another_thread_is_refused) {
#endif
  cr_assert_eq(bs_engine_new(&other_engine, NULL), 0);
  uv_thread_t t;
  int rc = 0;
  uv_thread_create(&t, register_from_elsewhere, &rc);
  uv_thread_join(&t);
  cr_assert_eq(rc, BS_EWRONGTHREAD);
  bs_engine_free(other_engine);
}

/* ---- With a server ---------------------------------------------------------------- */

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

Test(cluster_served, the_environment_variable_joins, .init = up, .fini = down, .timeout = 60) {
  setenv("BACKSTAGE_CLUSTER", natsd.url, 1);
  setenv("BACKSTAGE_NODE", "from-env", 1);
  setenv("BACKSTAGE_CLUSTER_NAME", "envc", 1);
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  unsetenv("BACKSTAGE_CLUSTER");
  cr_assert(bs_cluster_joined(e));
  bs_cluster_stats st;
  cr_assert_eq(bs_cluster_stats_get(e, &st), 0);
  cr_assert_str_eq(st.node, "from-env");
  cr_assert_eq(st.partitions, 1024);
  /* Registered after joining: placed from now on. */
  cr_assert_eq(bs_register_actor(e, Counter), 0);
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, "x", &c), 0);
  cr_assert_eq(CounterProxy_add(c, 2), 0);
  int64_t total = 0;
  cr_assert_eq(CounterProxy_total_await_timeout(c, &total, 10000), 0);
  cr_assert_eq(total, 2);
  bs_engine_free(e);
}

static bool owns_some(bs_engine *e, void *ud) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (!strcmp(nodes[i].name, ud) && nodes[i].alive && nodes[i].partitions > 100) return true;
  return false;
}

Test(cluster_served, unregistered_types_stay_local, .init = up, .fini = down, .timeout = 60) {
  cl_proc a;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, NULL), 0);
  cr_assert(cl_run_until(e, 20000, owns_some, "a"));
  /* Sink is not registered: every id is activated here, never sent. */
  bs_cluster_stats before, after;
  bs_cluster_stats_get(e, &before);
  for (int i = 0; i < 50; i++) {
    char id[16];
    snprintf(id, sizeof id, "s-%d", i);
    SinkProxy s;
    cr_assert_eq(SinkProxy_get(e, id, &s), 0);
    cr_assert_eq(SinkProxy_tick(s, 1), 0);
    uint64_t n = 0;
    cr_assert_eq(SinkProxy_count_await_timeout(s, &n, 5000), 0);
    cr_assert_eq(n, 1);
  }
  bs_cluster_stats_get(e, &after);
  cr_assert_eq(after.msgs_out, before.msgs_out);
  cr_assert_eq(cl_count("ELEM", "t", NULL), 50);
  bs_engine_free(e);
  cl_stop(&a);
}

/* ---- Allocation failure ------------------------------------------------------------- */

/* The counting allocator, behind a lock: the cluster's threads allocate
 * from the engine's heap too. */
static uv_mutex_t lock;
static void *locked(void *ud, void *p, size_t old, size_t n) {
  uv_mutex_lock(&lock);
  void *r = bst_alloc_fn(ud, p, old, n);
  uv_mutex_unlock(&lock);
  return r;
}

static void quick(bs_cluster_options *co, bs_engine_options *o) {
  (void)o;
  co->join_timeout_ms = 200;
}

Test(cluster_served, a_join_fails_cleanly_at_every_allocation, .init = up, .fini = down,
     .timeout = 240) {
  uv_mutex_init(&lock);
  static const bs_actor_type *const types[] = {&Counter_actor_type};
  int failures = 0;
  for (uint64_t at = 1;; at++) {
    cr_assert_lt(at, 2000, "the join never succeeded");
    bst_alloc a;
    bst_alloc_init(&a);
    a.fail_at = at;
    if (getenv("CL_TRACE")) fprintf(stderr, "at %llu\n", (unsigned long long)at);
    bs_cluster_options co = defaults(natsd.url);
    co.types = types;
    co.ntypes = 1;
    quick(&co, NULL);
    bs_engine_options o = with(&co);
    o.allocator = (bs_allocator){locked, &a};
    bs_engine *e = NULL;
    int rc = bs_engine_new(&e, &o);
    if (rc == 0) {
      /* It works, with the failure somewhere after the join (a thread's
       * allocation, retried or counted): leave, and check the memory. */
      bs_engine_free(e);
      uv_mutex_lock(&lock);
      cr_assert_eq(a.bytes_live, 0, "leak after a join with allocation %llu failing",
                   (unsigned long long)at);
      uv_mutex_unlock(&lock);
      if (a.failures == 0) break; /* past every allocation of the join */
      continue;
    }
    failures++;
    cr_assert_null(e);
    cr_assert(rc == BS_ENOMEM || rc == BS_EBUSY, "allocation %llu: %s", (unsigned long long)at,
              bs_errname(rc));
    cr_assert_eq(a.bytes_live, 0, "leak after failing allocation %llu", (unsigned long long)at);
    cr_assert_eq(a.size_mismatches, 0);
    cr_assert_eq(a.bad_frees, 0);
  }
  cr_assert_gt(failures, 10);
}

/* ---- Hand-overs whose deinit sends ------------------------------------------------------ */

#include "cluster/cluster.h"

/* Quiet: node-local, one method. Noisy: placed; its deinit sends to 40
 * Quiet actors, which makes cells - and grows the registry - while a
 * hand-over is deinitialising Noisy actors. */
static int quiet_note(void *self, bs_call *call) {
  (void)self;
  (void)call;
  return 0;
}
static const bs_method quiet_methods[] = {{"note", 1, 0, quiet_note}};
static const bs_actor_type quiet_type = {"Quiet", 8, 0, NULL, NULL, quiet_methods, 1, NULL, NULL, NULL};

typedef struct noisy {
  bs_context *ctx;
} noisy;
static int noisy_init(void *self, bs_context *ctx) {
  ((noisy *)self)->ctx = ctx;
  return 0;
}
static int deinits;
static void noisy_deinit(void *self) {
  bs_engine *e = bs_context_engine(((noisy *)self)->ctx);
  for (int i = 0; i < 40; i++) {
    char id[32];
    snprintf(id, sizeof id, "q-%d-%d", deinits, i);
    bs_ref q;
    bs_actor_get(e, &quiet_type, id, &q);
    bs_writer w;
    bs_send_begin(&q, &quiet_methods[0], &w);
    bs_send_end(&w);
  }
  deinits++;
}
static const bs_method noisy_methods[] = {{"note", 1, 0, quiet_note}};
static const bs_actor_type noisy_type = {"Noisy", sizeof(noisy), 0, noisy_init, noisy_deinit,
                                         noisy_methods, 1, NULL, NULL, NULL};

Test(cluster_options, a_hand_over_deinitialises_every_actor_even_when_deinit_sends) {
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  static const bs_actor_type *const types[] = {&noisy_type};
  bs_cluster_options co = defaults("nats://offline");
  co.types = types;
  co.ntypes = 1;
  cr_assert_eq(bs__cluster_offline(e, &co), 0);
  enum { N = 300 };
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "n-%d", i);
    bs_ref r;
    cr_assert_eq(bs_actor_get(e, &noisy_type, id, &r), 0);
    bs_writer w;
    bs_send_begin(&r, &noisy_methods[0], &w);
    cr_assert_eq(bs_send_end(&w), 0);
  }
  bs_engine_run(e, BS_RUN_NOWAIT);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  cr_assert_eq(st.active, N);
  /* Every partition handed to nobody (as a leader's "give" would): the
   * release must reach all 300 while their deinits add 12000 cells. */
  bs__cluster *cl = e->cluster;
  size_t len = (cl->nparts + 7) / 8;
  uint8_t *all = malloc(len);
  memset(all, 0xff, len);
  for (uint32_t p = 0; p < cl->nparts; p++)
    cl->parts[p] = bs__part_pack(2, (uint16_t)cl->self, BS__PART_GIVE);
  bs__cl_release(e->shards[0], all);
  free(all);
  cr_assert_eq(deinits, N);
  bs_engine_stats_get(e, &st);
  cr_assert_eq(st.active, 0, "%llu placed actors still active", (unsigned long long)st.active);
  bs_engine_free(e);
}
