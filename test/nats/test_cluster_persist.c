/* Cluster + persistence: a persistent placed type (cluster/cl_tally.h, a
 * counter that persists after every add) on nodes that share one NATS KV
 * store (backstage/store_nats.h) on the test's nats-server. Node processes
 * run cluster/cl_tally_node.c; the test process is a member too.
 *
 * A load of adds (requests: each answer is an acknowledgement, sent only
 * once the write committed) and reads runs against counters spread over
 * the nodes while nodes join, leave gracefully or are killed. Checked per
 * counter, from the answers alone:
 *   - an answer never shows less than what had been acknowledged before
 *     its request was sent (a new owner must not run on an older state),
 *     nor more than was ever sent;
 *   - the final total holds every acknowledged add, plus at most those
 *     whose outcome is unknown (the request failed other than by a
 *     conflict: its node died with it);
 *   - a graceful move (hand-off, leave) refuses no write as stale
 *     (BS_ECONFLICT would mean the new owner loaded before the old one's
 *     last write committed). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <backstage/store_nats.h>

#include "cl_harness.h"
#include "cl_tally.bs.h"
#include "cl_tally.h"

#define PARTS 64
#define BUCKET "bst_tally"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_persist, .init = up, .fini = down, .timeout = 150);

/* ---- Nodes ---------------------------------------------------------------------------- */

/* Starts cl_tally_node as `name` and waits for its READY line. `slow`:
 * milliseconds before each batch of its writes (NULL: none). */
static void spawn(cl_proc *p, const char *name, const char *shards, const char *slow) {
  char parts[16], why[160];
  snprintf(parts, sizeof parts, "%d", PARTS);
  const char *argv[] = {CL_TALLY_NODE_BIN, "--url", natsd.url, "--node", name, "--shards",
                        shards, "--partitions", parts, slow ? "--slow" : NULL, slow, NULL};
  cr_assert_eq(cl_spawn_argv(p, name, argv, why, sizeof why), 0, "node %s did not join: %s",
               name, why);
}

static bool exited(bs_engine *e, void *ud) {
  (void)e;
  cl_proc *p = ud;
  int st;
  if (!p->pid) return true;
  if (waitpid(p->pid, &st, WNOHANG) != p->pid) return false;
  p->pid = 0;
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s did not leave cleanly", p->name);
  return true;
}

/* The test process's engine: a member with the same type and store. */
static bs_store *t_store;
static unsigned long t_store_errors;

static void on_store_error(void *ud, const bs_store_error *err) {
  (void)ud;
  t_store_errors++;
  fprintf(stderr, "t: store error: %s %s: %s\n", err->type_name, err->actor_id,
          bs_errname(err->code));
}

/* No node's load or write failed or was refused (each node reports them
 * on stderr, kept in <dir>/<node>.out). */
static void no_store_errors(void) {
  cr_assert_eq(t_store_errors, 0);
  const char *names[] = {"a", "b"};
  for (int k = 0; k < 2; k++) {
    char path[300], line[256];
    snprintf(path, sizeof path, "%s/%s.out", cl_dir(), names[k]);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
      cr_assert(strncmp(line, "store error", 11) != 0, "%s: %s", names[k], line);
    if (f) fclose(f);
  }
}

static void tweak(bs_cluster_options *co, bs_engine_options *o) {
  static const bs_actor_type *const types[] = {&Tally_actor_type};
  co->types = types;
  co->ntypes = 1;
  co->partitions = PARTS;
  /* Requests whose node died end when it is confirmed gone; the rest
   * within this (and the test's waits with them). */
  o->request_timeout_ms = 10000;
  o->store = t_store;
  o->on_store_error = on_store_error;
}

static bs_engine *member(void) {
  bs_store_nats_options no;
  bs_store_nats_options_init(&no);
  no.url = natsd.url;
  no.bucket = BUCKET;
  cr_assert_eq(bs_store_nats_open(&t_store, &no), 0);
  t_store_errors = 0;
  cl_tally_node_name("t");
  bs_engine *e = NULL;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 2, tweak), 0);
  return e;
}

static void member_free(bs_engine *e) {
  bs_engine_free(e);
  bs_store_free(t_store);
  t_store = NULL;
}

static bool owns_some(bs_engine *e, void *ud) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (!strcmp(nodes[i].name, ud) && nodes[i].alive && nodes[i].partitions >= PARTS / 4)
      return true;
  return false;
}

/* ---- The load ------------------------------------------------------------------------- */

#define NIDS 48
/* Requests in flight per counter: answers are held while a write is out,
 * so a client that waited for them would never reach a new owner before
 * the old one's writes committed. */
#define ADDS_OUT 16
#define GETS_OUT 4

typedef struct tally_load {
  bs_engine *e;
  uv_timer_t timer;
  char ids[NIDS][16];
  TallyProxy c[NIDS];
  int64_t sent[NIDS];   /* adds sent (each adds 1) */
  int64_t acked[NIDS];  /* answered: committed */
  int64_t unknown[NIDS]; /* failed, not by a conflict: may have committed */
  int64_t floor[NIDS];  /* the highest total an answer showed */
  int adds_out[NIDS], gets_out[NIDS];
  unsigned long conflicts, failures, gets;
  char bad[256];        /* the first violation */
  char first_failure[64]; /* the first unknown: which and why */
} tally_load;

static tally_load L;

typedef struct pending {
  int i;
  int64_t floor; /* acknowledged when it was sent */
} pending;

/* An answer showing `v` to a request sent when `floor` was acknowledged. */
static void seen(int i, int64_t floor, int64_t v, const char *what) {
  if (!L.bad[0] && v < floor)
    snprintf(L.bad, sizeof L.bad, "%s: %s showed %lld after %lld had been acknowledged", L.ids[i],
             what, (long long)v, (long long)floor);
  if (!L.bad[0] && v > L.sent[i])
    snprintf(L.bad, sizeof L.bad, "%s: %s showed %lld, more than the %lld sent", L.ids[i], what,
             (long long)v, (long long)L.sent[i]);
  if (v > L.floor[i]) L.floor[i] = v;
}

static void on_add(void *ud, int status, int64_t v) {
  pending *p = ud;
  int i = p->i;
  L.adds_out[i]--;
  if (status == 0) {
    L.acked[i]++;
    seen(i, p->floor + 1, v, "add");
  } else if (status == BS_ECONFLICT) {
    L.conflicts++; /* refused: not applied */
  } else {
    L.failures++;
    L.unknown[i]++;
    if (!L.first_failure[0])
      snprintf(L.first_failure, sizeof L.first_failure, "%s: %s", L.ids[i], bs_errname(status));
  }
  free(p);
}

static void on_get(void *ud, int status, int64_t v) {
  pending *p = ud;
  L.gets_out[p->i]--;
  if (status == 0) {
    L.gets++;
    seen(p->i, p->floor, v, "total");
  }
  free(p);
}

static pending *pend(int i) {
  pending *p = malloc(sizeof *p);
  cr_assert_not_null(p);
  p->i = i;
  p->floor = L.floor[i];
  return p;
}

static void tick(uv_timer_t *t) {
  (void)t;
  for (int i = 0; i < NIDS; i++) {
    if (L.adds_out[i] < ADDS_OUT) {
      pending *p = pend(i);
      if (TallyProxy_add(L.c[i], 1, on_add, p) < 0) {
        free(p);
      } else {
        L.sent[i]++;
        L.adds_out[i]++;
      }
    }
    if (L.gets_out[i] < GETS_OUT) {
      pending *p = pend(i);
      if (TallyProxy_total(L.c[i], on_get, p) < 0) free(p);
      else L.gets_out[i]++;
    }
  }
}

static void load_init(bs_engine *e, const char *prefix) {
  memset(&L, 0, sizeof L);
  L.e = e;
  for (int i = 0; i < NIDS; i++) {
    snprintf(L.ids[i], sizeof L.ids[i], "%s-%d", prefix, i);
    cr_assert_eq(TallyProxy_get(e, L.ids[i], &L.c[i]), 0);
  }
  uv_timer_init(bs_engine_loop(e), &L.timer);
}

static void load_start(void) {
  uv_timer_start(&L.timer, tick, 2, 2);
}

static bool quiet(bs_engine *e, void *ud) {
  (void)e;
  (void)ud;
  for (int i = 0; i < NIDS; i++)
    if (L.adds_out[i] || L.gets_out[i]) return false;
  return true;
}

/* Stops sending and waits for every answer. */
static void load_stop(void) {
  uv_timer_stop(&L.timer);
  cr_assert(cl_run_until(L.e, 30000, quiet, NULL), "requests never ended");
}

static void load_free(void) {
  uv_close((uv_handle_t *)&L.timer, NULL);
  bs_engine_run(L.e, BS_RUN_NOWAIT);
}

/* Where counter `i` runs now (a request: up to 3 s), or the error. */
static int where(int i, char *out, size_t cap) {
  const char *w = NULL;
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});
  int rc = TallyProxy_where_await_timeout(L.c[i], &arena, &w, 3000);
  if (rc == 0) snprintf(out, cap, "%s", w ? w : "?");
  bs_arena_free(&arena);
  return rc;
}

/* Every counter answers, from a node other than `ud`. */
static bool all_elsewhere(bs_engine *e, void *ud) {
  (void)e;
  char w[64];
  for (int i = 0; i < NIDS; i++)
    if (where(i, w, sizeof w) != 0 || (ud && !strcmp(w, ud))) return false;
  return true;
}

/* How many counters live on `node` now. */
static int count_on(const char *node) {
  char w[64];
  int n = 0;
  for (int i = 0; i < NIDS; i++) {
    cr_assert_eq(where(i, w, sizeof w), 0, "%s does not answer", L.ids[i]);
    n += !strcmp(w, node);
  }
  return n;
}

/* The final totals, read once the load has stopped: every acknowledged
 * add, plus at most the unknown ones. */
static void check_totals(bool exact) {
  cr_assert_eq(L.bad[0], '\0', "%s", L.bad);
  int64_t acked = 0, applied = 0;
  for (int i = 0; i < NIDS; i++) {
    int64_t v = -1;
    int rc = TallyProxy_total_await_timeout(L.c[i], &v, 5000);
    cr_assert_eq(rc, 0, "%s: %s", L.ids[i], bs_errname(rc));
    cr_assert_geq(v, L.acked[i], "%s: %lld stored, %lld acknowledged", L.ids[i], (long long)v,
                  (long long)L.acked[i]);
    cr_assert_leq(v, L.acked[i] + L.unknown[i], "%s: %lld stored, %lld acknowledged + %lld unknown",
                  L.ids[i], (long long)v, (long long)L.acked[i], (long long)L.unknown[i]);
    if (exact) cr_assert_eq(v, L.acked[i]);
    acked += L.acked[i];
    applied += v - L.acked[i];
  }
  cr_assert_gt(acked, NIDS, "the load ran");
  cr_assert_gt(L.gets, NIDS, "and read");
  fprintf(stderr,
          "  %lld adds acknowledged, %lu reads, %lu unknown (%lld of them applied; first: %s), "
          "%lu conflicts\n",
          (long long)acked, L.gets, L.failures, (long long)applied,
          L.first_failure[0] ? L.first_failure : "-", L.conflicts);
}

/* a (its writes `slow`), b and t, each with partitions. */
static void three(cl_proc *a, cl_proc *b, bs_engine **e, const char *slow) {
  spawn(a, "a", "1", slow);
  spawn(b, "b", "2", NULL);
  *e = member();
  cr_assert(cl_run_until(*e, 30000, owns_some, "a"));
  cr_assert(cl_run_until(*e, 30000, owns_some, "b"));
  cr_assert(cl_run_until(*e, 30000, owns_some, "t"));
}

/* ---- Tests ---------------------------------------------------------------------------- */

/* (a) Counters spread over three nodes keep every acknowledged add;
 * (b) after a graceful leave, the leaver's counters answer from the
 * survivors with their stored totals, and no write was refused. a's
 * writes start a second late, so it leaves with writes out: the leader
 * reassigns within a heartbeat of its name being given back. */
Test(cluster_persist, state_is_shared_and_follows_a_graceful_leave) {
  cl_proc a, b;
  bs_engine *e;
  three(&a, &b, &e, "1000");
  load_init(e, "g");
  load_start();
  cl_run_ms(e, 1500);
  load_stop();
  int on_a = count_on("a"), on_b = count_on("b"), on_t = count_on("t");
  cr_assert(on_a && on_b && on_t, "spread: a %d, b %d, t %d", on_a, on_b, on_t);
  fprintf(stderr, "spread: a %d, b %d, t %d\n", on_a, on_b, on_t);
  check_totals(true);
  cr_assert_eq(L.failures + L.conflicts, 0);

  load_start();
  cl_run_ms(e, 500);
  cl_signal(&a, SIGTERM);
  cr_assert(cl_run_until(e, 30000, exited, &a), "a never left");
  cr_assert(cl_run_until(e, 30000, all_elsewhere, "a"), "a's counters never came back");
  cl_run_ms(e, 1000);
  load_stop();
  check_totals(false);
  cr_assert_eq(L.conflicts, 0, "a write was refused as stale after the leave");
  load_free();
  member_free(e);
  cl_stop(&b);
  no_store_errors();
}

/* A node that joins under load takes partitions over by hand-off (the old
 * owner deinitialises, then gives): it must load what the old owner wrote
 * last, acknowledged or not. a's writes start 300 ms late, so its actors
 * have writes out when it gives partitions to b. */
Test(cluster_persist, a_joining_node_takes_over_with_the_state) {
  cl_proc a, b;
  spawn(&a, "a", "2", "300");
  bs_engine *e = member();
  cr_assert(cl_run_until(e, 30000, owns_some, "a"));
  cr_assert(cl_run_until(e, 30000, owns_some, "t"));
  load_init(e, "j");
  char before[NIDS][16];
  for (int i = 0; i < NIDS; i++) cr_assert_eq(where(i, before[i], sizeof before[i]), 0);
  load_start();
  cl_run_ms(e, 1000);
  spawn(&b, "b", "2", NULL);
  cr_assert(cl_run_until(e, 30000, owns_some, "b"), "b never got partitions");
  cl_run_ms(e, 1500);
  load_stop();
  bs_cluster_stats cs;
  bs_cluster_stats_get(e, &cs);
  cr_assert_gt(cs.handoffs, 0, "t handed partitions over");
  cr_assert_gt(count_on("b"), 0, "b took counters over");
  int from_a = 0;
  for (int i = 0; i < NIDS; i++) {
    char w[16];
    cr_assert_eq(where(i, w, sizeof w), 0);
    from_a += !strcmp(before[i], "a") && !strcmp(w, "b");
  }
  cr_assert_gt(from_a, 0, "no counter moved from a (the slow writer) to b");
  check_totals(true);
  cr_assert_eq(L.conflicts, 0, "a write was refused as stale after a hand-off");
  cr_assert_eq(L.failures, 0);
  load_free();
  member_free(e);
  cl_stop(&a);
  cl_stop(&b);
  no_store_errors();
}

/* (c) kill -9 of an owner under load: once its counters answer from the
 * survivors, they hold every add that had been acknowledged (an answer
 * waits for its write), and none holds more than was sent. */
Test(cluster_persist, kill_9_loses_no_acknowledged_add) {
  cl_proc a, b;
  bs_engine *e;
  three(&a, &b, &e, NULL);
  load_init(e, "k");
  int on_b = count_on("b");
  cr_assert_gt(on_b, 0);
  load_start();
  cl_run_ms(e, 1500);
  cl_signal(&b, SIGKILL);
  cr_assert(cl_run_until(e, 40000, all_elsewhere, "b"), "b's counters never came back");
  cl_run_ms(e, 1000);
  load_stop();
  check_totals(false);
  load_free();
  member_free(e);
  cl_stop(&a);
  cl_stop(&b);
  no_store_errors();
}
