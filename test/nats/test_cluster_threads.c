/* The cluster's threads under ThreadSanitizer (the TSan build has no
 * generator, so hand-written actors, and two engines in one process, each
 * on a thread of its own, through a real nats-server): remote sends and
 * requests from a shard and from the home thread, answers, a graceful
 * leave with its hand-over, the control threads, libnats' callbacks
 * pushing into shard inboxes. */
#define _GNU_SOURCE
#define BST_SUITE cluster_threads
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "bst.h"
#include "bst_mt.h"
#include "bst_natsd.h"

static bst_natsd natsd;

/* A counter written by hand (bst_counter_type keeps process-wide totals,
 * which two engines' threads would race on): add(int64), get() -> int64. */
typedef struct acc {
  int64_t value;
} acc;

static int acc_add(void *self, bs_call *call) {
  int64_t n = 0;
  int rc = bs_read_i64(&call->args, &n);
  if (rc < 0) return rc;
  ((acc *)self)->value += n;
  return 0;
}

static int acc_get(void *self, bs_call *call) {
  return call->reply ? bs_write_int(call->reply, ((acc *)self)->value) : 0;
}

static const bs_method acc_methods[] = {{"add", 1, 1, acc_add}, {"get", 2, 0, acc_get}};
static const bs_actor_type acc_type = {"Acc", sizeof(acc), 0, NULL, NULL, acc_methods, 2, NULL, NULL, NULL};

static int join(bs_engine **e, const char *node, uint32_t shards) {
  static const bs_actor_type *const types[] = {&acc_type};
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = natsd.url;
  co.name = "tsan";
  co.node = node;
  co.types = types;
  co.ntypes = 1;
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.cluster = &co;
  return bs_engine_new(e, &o);
}

/* The other node: an engine on its own thread, run until told to leave. */
typedef struct peer {
  uv_thread_t thread;
  bs_engine *e;
  uv_sem_t ready;
  bs_post stop;
  int rc;
} peer;

static void stop_peer(bs_engine *e, bs_post *p) {
  (void)p;
  if (e) bs_engine_stop(e);
}

static void peer_main(void *arg) {
  peer *p = arg;
  p->rc = join(&p->e, "a", 2);
  uv_sem_post(&p->ready);
  if (p->rc < 0) return;
  bs_engine_run(p->e, BS_RUN_UNTIL_DONE);
  bs_engine_free(p->e); /* a graceful leave */
}

static void stop_cb(uv_timer_t *t) { bs_engine_stop(t->data); }

static void run_ms(bs_engine *e, uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(bs_engine_loop(e), &t);
  t.data = e;
  uv_timer_start(&t, stop_cb, ms, 0);
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  uv_close((uv_handle_t *)&t, NULL);
  bs_engine_run(e, BS_RUN_NOWAIT);
}

/* Balanced and settled: an actor handed over loses its state (it lives
 * in memory), so the counting starts once nothing moves any more. */
static bool both_own(bs_engine *e) {
  bs_cluster_node nodes[4];
  int n = bs_cluster_nodes(e, nodes, 4), ok = 0;
  for (int i = 0; i < n && i < 4; i++)
    if (nodes[i].alive && nodes[i].partitions == 512) ok++;
  return ok == 2;
}

enum { N = 64 };

static void counters_across_two_engines(void) {
  CHECK(bst_natsd_start(&natsd) == 0);
  static peer p;
  uv_sem_init(&p.ready, 0);
  CHECK(uv_thread_create(&p.thread, peer_main, &p) == 0);
  uv_sem_wait(&p.ready);
  CHECKM(p.rc == 0, "peer join: %s", bs_errname(p.rc));
  bs_engine *e;
  CHECK(join(&e, "t", 2) == 0);
  for (int i = 0; i < 600 && !both_own(e); i++) run_ms(e, 50);
  CHECK(both_own(e));
  bs_ref refs[N];
  for (int i = 0; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "c-%d", i);
    CHECK(bs_actor_get(e, &acc_type, id, &refs[i]) == 0);
  }
  for (int round = 0; round < 10; round++)
    for (int i = 0; i < N; i++) CHECK(bst_send_i64(refs[i], &acc_methods[0], i + 1) == 0);
  for (int i = 0; i < N; i++) {
    int64_t v = -1;
    int rc = bst_await0_i64(refs[i], &acc_methods[1], &v, 10000);
    CHECKM(rc == 0 && v == 10 * (i + 1), "c-%d: %s, %lld", i, bs_errname(rc), (long long)v);
  }
  bs_cluster_stats st;
  CHECK(bs_cluster_stats_get(e, &st) == 0);
  CHECKM(st.msgs_out > 0 && st.msgs_in > 0, "remote traffic: %llu out, %llu in",
         (unsigned long long)st.msgs_out, (unsigned long long)st.msgs_in);
  /* The peer leaves: its actors come here (its state is gone, by design);
   * they answer again. */
  CHECK(bs_engine_post(p.e, &p.stop, stop_peer) == 0);
  uv_thread_join(&p.thread);
  /* Until this node hears of the departure, mail for the peer's actors
   * goes to it and is lost, and a request fails BS_EUNREACHABLE: asked
   * again, it is served here. */
  for (int i = 0; i < N; i++) {
    int64_t v = -1;
    int rc = BS_EUNREACHABLE;
    for (int tries = 0; tries < 20 && rc == BS_EUNREACHABLE; tries++)
      rc = bst_await0_i64(refs[i], &acc_methods[1], &v, 20000);
    CHECKM(rc == 0 && v >= 0, "after the leave, c-%d: %s", i, bs_errname(rc));
  }
  CHECK(bs_cluster_stats_get(e, &st) == 0);
  CHECKM(st.owned == st.partitions, "owns %u of %u", st.owned, st.partitions);
  bs_engine_free(e);
  bst_natsd_stop(&natsd);
}

#define SCENARIOS(X) X(counters_across_two_engines, 120)
BST_MAIN(SCENARIOS)
