/* Failover. Node processes a and b and the test process t run under a
 * steady load of numbered messages to actors; then a node is killed,
 * stalled or restarted, or NATS itself is. The actors of the lost node
 * must come back on the survivors, and the shared event log must show no
 * actor with two instances processing at once and no message delivered
 * twice (cl_check_log). How fast failover is goes to bench/ (timings are
 * not asserted here beyond "eventually"). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "cl_actors.bs.h"
#include "cl_harness.h"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_failover, .init = up, .fini = down, .timeout = 240);

#define NIDS 24

typedef struct load {
  bs_engine *e;
  uv_timer_t timer;
  char ids[NIDS][32];
  CounterProxy c[NIDS];
  uint64_t seq[NIDS];
  int n;
} load;

static void tick(uv_timer_t *t) {
  load *l = t->data;
  for (int i = 0; i < l->n; i++) CounterProxy_seq(l->c[i], "t", ++l->seq[i]);
}

static void load_start(load *l, bs_engine *e) {
  l->e = e;
  for (int i = 0; i < l->n; i++) cr_assert_eq(CounterProxy_get(e, l->ids[i], &l->c[i]), 0);
  uv_timer_init(bs_engine_loop(e), &l->timer);
  l->timer.data = l;
  uv_timer_start(&l->timer, tick, 5, 5);
}

static void load_stop(load *l) {
  uv_timer_stop(&l->timer);
  uv_close((uv_handle_t *)&l->timer, NULL);
  bs_engine_run(l->e, BS_RUN_NOWAIT);
}

static bool owns_some(bs_engine *e, void *ud) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (!strcmp(nodes[i].name, ud) && nodes[i].alive && nodes[i].partitions > 150) return true;
  return false;
}

/* `n` ids whose actors `node` owns now (NULL: a node process, a or b). */
static void ids_on(bs_engine *e, const char *node, load *l, int n) {
  char id[32], where[64];
  l->n = 0;
  for (int i = 0; l->n < n; i++) {
    cr_assert_lt(i, 100000);
    snprintf(id, sizeof id, "f-%d", i);
    if (cl_where(e, id, where, sizeof where) != 0) continue;
    if (node ? !strcmp(where, node) : strcmp(where, "t") != 0)
      snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", id);
  }
}

typedef struct gone_from {
  load *l;
  const char *node;
} gone_from;

/* Every id of the load answers from a node other than `node`. */
static bool all_moved(bs_engine *e, void *ud) {
  gone_from *g = ud;
  char where[64];
  for (int i = 0; i < g->l->n; i++)
    if (cl_where(e, g->l->ids[i], where, sizeof where) != 0 || !strcmp(where, g->node))
      return false;
  return true;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void three(cl_proc *a, cl_proc *b, bs_engine **e) {
  char why[128];
  cr_assert_eq(cl_spawn(a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  cr_assert_eq(cl_spawn(b, natsd.url, "b", why, sizeof why, "--shards", "2", NULL), 0, "%s", why);
  cr_assert_eq(cl_engine(e, natsd.url, "t", 2, NULL), 0);
  cr_assert(cl_run_until(*e, 30000, owns_some, "a"));
  cr_assert(cl_run_until(*e, 30000, owns_some, "b"));
  cr_assert(cl_run_until(*e, 30000, owns_some, "t"));
}

static void check(void) {
  char why[512];
  cl_log_stats st;
  cr_assert_eq(cl_check_log(why, sizeof why, &st, false), 0, "%s", why);
  cr_assert_gt(st.messages, 0);
}

Test(cluster_failover, kill_9_of_the_owner) {
  cl_proc a, b;
  bs_engine *e;
  three(&a, &b, &e);
  static load l;
  ids_on(e, "b", &l, NIDS);
  load_start(&l, e);
  cl_run_ms(e, 1000);
  cl_signal(&b, SIGKILL);
  double t0 = now_s();
  gone_from g = {&l, "b"};
  cr_assert(cl_run_until(e, 30000, all_moved, &g), "b's actors never came back");
  fprintf(stderr, "failover after kill -9: %.1f s\n", now_s() - t0);
  cl_run_ms(e, 1000);
  load_stop(&l);
  /* What was sent to b and never acknowledged is counted lost, in the
   * cluster's figures and the engine's dead letters alike. */
  bs_cluster_stats cs;
  bs_engine_stats es;
  bs_cluster_stats_get(e, &cs);
  bs_engine_stats_get(e, &es);
  cr_assert_gt(cs.lost, 0);
  cr_assert_eq(es.dead_by_reason[BS_DL_LOST], cs.lost);
  bs_engine_free(e);
  cl_stop(&a);
  check();
}

static bool rejoined(bs_engine *e, void *ud) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (!strcmp(nodes[i].name, ud) && nodes[i].alive && nodes[i].generation >= 2) return true;
  return false;
}

typedef struct answer_sink {
  int status;
} answer_sink;

static void on_slow(void *ud, int status, int64_t value) {
  (void)value;
  ((answer_sink *)ud)->status = status;
}

Test(cluster_failover, sigstop_and_sigcont_of_the_owner) {
  cl_proc a, b;
  bs_engine *e;
  three(&a, &b, &e);
  static load l;
  ids_on(e, "b", &l, NIDS);
  load_start(&l, e);
  cl_run_ms(e, 1000);
  /* A message already started when a process freezes finishes when it
   * resumes (docs/cluster.md, "Fencing"); what this test checks is that it
   * never starts another. So b is frozen inside a slow method (which logs
   * nothing) of one of its actors, with numbered mail queued behind it: on
   * SIGCONT, that mail must not run there. */
  uv_timer_stop(&l.timer);
  cl_run_ms(e, 300);
  answer_sink ans = {0};
  cr_assert_eq(CounterProxy_slow(l.c[0], 400, on_slow, &ans), 0);
  for (int i = 0; i < 20; i++) CounterProxy_seq(l.c[0], "t", ++l.seq[0]);
  cl_run_ms(e, 150);
  cl_signal(&b, SIGSTOP);
  cl_wait_stopped(&b);
  uv_timer_start(&l.timer, tick, 5, 5);
  double t0 = now_s();
  gone_from g = {&l, "b"};
  cr_assert(cl_run_until(e, 30000, all_moved, &g), "b's actors never came back");
  fprintf(stderr, "failover after SIGSTOP: %.1f s\n", now_s() - t0);
  cl_run_ms(e, 1000);
  /* b wakes up with mail queued and a lease long gone: it must not run
   * one more message of its old actors. */
  cl_signal(&b, SIGCONT);
  cr_assert(cl_run_until(e, 30000, rejoined, "b"), "b never came back as a new generation");
  cl_run_ms(e, 2000);
  load_stop(&l);
  bs_engine_free(e);
  cl_stop(&a);
  cl_stop(&b);
  check();
}

Test(cluster_failover, restart_of_a_node_under_load) {
  cl_proc a, b;
  bs_engine *e;
  three(&a, &b, &e);
  static load l;
  ids_on(e, "b", &l, NIDS);
  load_start(&l, e);
  cl_run_ms(e, 500);
  cl_signal(&b, SIGKILL);
  cl_stop(&b);
  /* Same name again: it waits for the old one's key to expire. */
  char why[128];
  cr_assert_eq(cl_spawn(&b, natsd.url, "b", why, sizeof why, "--shards", "2", NULL), 0, "%s", why);
  cr_assert(cl_run_until(e, 30000, owns_some, "b"), "the new b never got partitions");
  cl_run_ms(e, 1000);
  load_stop(&l);
  bs_engine_free(e);
  cl_stop(&a);
  cl_stop(&b);
  check();
}

typedef struct reach {
  load *l;
} reach;

/* Every actor of the load answers. */
static bool all_answer(bs_engine *e, void *ud) {
  load *l = ud;
  char where[64];
  for (int i = 0; i < l->n; i++) {
    int rc = cl_where(e, l->ids[i], where, sizeof where);
    if (rc != 0) {
      fprintf(stderr, "%s does not answer: %s\n", l->ids[i], bs_errname(rc));
      return false;
    }
  }
  return true;
}

Test(cluster_failover, nats_server_restart) {
  cl_proc a, b;
  bs_engine *e;
  three(&a, &b, &e);
  static load l;
  ids_on(e, NULL, &l, NIDS);
  load_start(&l, e);
  cl_run_ms(e, 1000);
  cr_assert_eq(bst_natsd_restart(&natsd), 0);
  cr_assert(cl_run_until(e, 60000, all_answer, &l), "the cluster never recovered");
  cl_run_ms(e, 1000);
  load_stop(&l);
  bs_engine_free(e);
  cl_stop(&a);
  cl_stop(&b);
  check();
}

static bool balanced(bs_engine *e, void *ud) {
  (void)ud;
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8), alive = 0;
  for (int i = 0; i < n && i < 8; i++) {
    if (!nodes[i].alive) continue;
    alive++;
    if (nodes[i].partitions < 1024 / 3 - 2 || nodes[i].partitions > 1024 / 3 + 2) return false;
  }
  return alive == 3;
}

Test(cluster_failover, partitions_rebalance_when_nodes_join_under_load) {
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, NULL), 0);
  static load l;
  l.n = NIDS;
  for (int i = 0; i < NIDS; i++) snprintf(l.ids[i], sizeof l.ids[0], "r-%d", i);
  load_start(&l, e);
  cl_run_ms(e, 1500);
  cl_proc a, b;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  cr_assert_eq(cl_spawn(&b, natsd.url, "b", why, sizeof why, NULL), 0, "%s", why);
  cr_assert(cl_run_until(e, 60000, balanced, NULL), "never balanced");
  bs_cluster_stats st;
  bs_cluster_stats_get(e, &st);
  cr_assert_gt(st.handoffs, 0, "t handed partitions over");
  cr_assert(all_answer(e, &l));
  cl_run_ms(e, 500);
  load_stop(&l);
  bs_engine_free(e);
  cl_stop(&a);
  cl_stop(&b);
  check();
}
