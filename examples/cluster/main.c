/* cluster: players of a game spread over several nodes.
 *
 * Standalone (no cluster configured): one node plays a fixed game and
 * prints the scores - the test's expected output.
 *
 * In a cluster (BACKSTAGE_CLUSTER=nats://..., BACKSTAGE_NODE=n1, or
 * --url/--node): the node registers Player (placed across the cluster),
 * sends moves to random players from a timer - most of them live on other
 * nodes - asks a few for their score every second, and prints a status
 * line: the partitions this node owns, the players running here, envelopes
 * per second to and from other nodes, requests answered or failed. Kill a
 * node (kill -9) and watch the others take its partitions over: the next
 * move to one of its players activates that player on a survivor. Runs
 * until SIGINT/SIGTERM (a graceful leave) or --seconds.
 *
 *   ./dev.sh demo --cluster     a nats-server, three nodes, a failover
 *   examples/cluster/demo.sh    the same, by hand */
#define _POSIX_C_SOURCE 200809L /* <uv.h> under strict C11 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "player.bs.h"
#include "player.h"

static void check(int rc, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
    exit(1);
  }
}

/* ---- Standalone: a fixed game ----------------------------------------------- */

static int standalone(void) {
  bs_engine *e;
  check(bs_engine_new(&e, NULL), "bs_engine_new");
  /* Registering changes nothing without a cluster: the same program runs
   * on one node or many. */
  check(bs_register_actor(e, Player), "register");
  for (int round = 0; round < 100; round++)
    for (int p = 0; p < 10; p++) {
      char id[16];
      snprintf(id, sizeof id, "player-%d", p);
      PlayerProxy pl;
      check(PlayerProxy_get(e, id, &pl), "get");
      check(PlayerProxy_move(pl, (round + p) % 7), "move");
    }
  int64_t total = 0;
  for (int p = 0; p < 10; p++) {
    char id[16];
    snprintf(id, sizeof id, "player-%d", p);
    PlayerProxy pl;
    check(PlayerProxy_get(e, id, &pl), "get");
    int64_t score = 0;
    check(PlayerProxy_score_await(pl, &score), "score");
    printf("%s: %lld\n", id, (long long)score);
    total += score;
  }
  printf("total: %lld\n", (long long)total);
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  bs_engine_free(e);
  return 0;
}

/* ---- A cluster node ----------------------------------------------------------- */

typedef struct node {
  bs_engine *e;
  const char *name;
  uint32_t players;
  uint64_t rng;
  uint64_t ok, failed, timed_out;
  uint64_t out_prev, in_prev;
  uint64_t seconds, ticks;
  uv_timer_t play, report;
  uv_signal_t sigint, sigterm;
  bs_arena arena;
} node;

static uint32_t next_rand(node *n) {
  n->rng ^= n->rng << 13;
  n->rng ^= n->rng >> 7;
  n->rng ^= n->rng << 17;
  return (uint32_t)n->rng;
}

static PlayerProxy some_player(node *n) {
  char id[24];
  snprintf(id, sizeof id, "player-%u", next_rand(n) % n->players);
  PlayerProxy pl;
  PlayerProxy_get(n->e, id, &pl);
  return pl;
}

/* Every 10 ms: a handful of moves to random players, wherever they live. */
static void on_play(uv_timer_t *t) {
  node *n = t->data;
  for (int i = 0; i < 20; i++) PlayerProxy_move(some_player(n), 1 + next_rand(n) % 6);
}

static void on_score(void *ud, int status, int64_t score) {
  node *n = ud;
  (void)score;
  if (status == 0) n->ok++;
  else if (status == BS_ETIMEDOUT) n->timed_out++;
  else n->failed++;
}

static void on_report(uv_timer_t *t) {
  node *n = t->data;
  /* A few requests per second; their answers come back on the loop. */
  for (int i = 0; i < 5; i++) PlayerProxy_score(some_player(n), on_score, n);
  bs_cluster_stats st;
  if (bs_cluster_stats_get(n->e, &st) < 0) return;
  printf("[%s] %3llus  nodes %u  partitions %4u%s  players here %4lld  "
         "out %6llu/s  in %6llu/s  requests ok %llu failed %llu timed out %llu%s\n",
         n->name, (unsigned long long)++n->ticks, st.nodes, st.owned, st.leader ? " (leader)" : "",
         (long long)player_active(), (unsigned long long)(st.msgs_out - n->out_prev),
         (unsigned long long)(st.msgs_in - n->in_prev), (unsigned long long)n->ok,
         (unsigned long long)n->failed, (unsigned long long)n->timed_out,
         st.serving ? "" : "  FENCED");
  fflush(stdout);
  n->out_prev = st.msgs_out;
  n->in_prev = st.msgs_in;
  if (n->seconds && n->ticks >= n->seconds) bs_engine_stop(n->e);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  bs_engine_stop(((node *)s->data)->e);
}

static void closed(uv_handle_t *h) { (void)h; }

static int clustered(const char *url, const char *name, uint32_t players, uint64_t seconds) {
  node n;
  memset(&n, 0, sizeof n);
  n.players = players;
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.request_timeout_ms = 2000;
  if (url) { /* otherwise $BACKSTAGE_CLUSTER and $BACKSTAGE_NODE decide */
    co.servers = url;
    co.node = name;
    co.name = "demo";
    o.cluster = &co;
  }
  check(bs_engine_new(&n.e, &o), "joining the cluster");
  check(bs_register_actor(n.e, Player), "register");
  bs_cluster_stats st;
  check(bs_cluster_stats_get(n.e, &st), "cluster");
  n.name = st.node;
  player_set_node(st.node);
  for (const char *p = n.name; *p; p++) n.rng = (n.rng ^ (uint8_t)*p) * 0x100000001b3ull;
  n.rng |= 1;
  n.seconds = seconds;
  char url_buf[96];
  if (bs_inspector_url(n.e, url_buf, sizeof url_buf) > 0)
    printf("[%s] joined; inspector at %s\n", n.name, url_buf);
  else
    printf("[%s] joined\n", n.name);
  fflush(stdout);
  uv_loop_t *loop = bs_engine_loop(n.e);
  uv_timer_init(loop, &n.play);
  uv_timer_init(loop, &n.report);
  n.play.data = n.report.data = &n;
  uv_timer_start(&n.play, on_play, 10, 10);
  uv_timer_start(&n.report, on_report, 1000, 1000);
  uv_signal_init(loop, &n.sigint);
  uv_signal_init(loop, &n.sigterm);
  n.sigint.data = n.sigterm.data = &n;
  uv_signal_start(&n.sigint, on_signal, SIGINT);
  uv_signal_start(&n.sigterm, on_signal, SIGTERM);
  bs_engine_run(n.e, BS_RUN_UNTIL_DONE); /* a cluster member runs until stopped */
  uv_close((uv_handle_t *)&n.play, closed);
  uv_close((uv_handle_t *)&n.report, closed);
  uv_close((uv_handle_t *)&n.sigint, closed);
  uv_close((uv_handle_t *)&n.sigterm, closed);
  bs_engine_run(n.e, BS_RUN_NOWAIT);
  printf("[%s] leaving\n", n.name);
  bs_engine_free(n.e); /* leaves: its partitions go to the others at once */
  return 0;
}

int main(int argc, char **argv) {
  const char *url = NULL, *name = NULL;
  uint32_t players = 2000;
  uint64_t seconds = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--url") && i + 1 < argc) url = argv[++i];
    else if (!strcmp(argv[i], "--node") && i + 1 < argc) name = argv[++i];
    else if (!strcmp(argv[i], "--players") && i + 1 < argc) players = (uint32_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = (uint64_t)atoll(argv[++i]);
    else {
      fprintf(stderr, "usage: cluster [--url nats://... --node NAME] [--players N] [--seconds S]\n");
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *env = getenv("BACKSTAGE_CLUSTER");
  if (!url && !(env && *env)) return standalone();
  if (players == 0) players = 1;
  return clustered(url, name, players, seconds);
}
