/* A cluster node for test_cluster_persist: joins with the persistent Tally
 * type placed and the NATS KV store on the same server (bucket
 * "bst_tally"), says READY on --ready-fd, and serves until SIGTERM (a
 * graceful leave) or until killed. Store errors and, at exit, the store's
 * figures go to stderr (the test keeps it in <dir>/<node>.out).
 *
 *   cl_tally_node --url nats://127.0.0.1:P --node n1 [--shards N]
 *                 [--partitions P] [--slow MS] [--ready-fd FD]
 *
 * --slow MS puts MS milliseconds before every batch of writes (a store far
 * away or busy: writes of a node lag behind its turns, as they may). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <backstage/store_nats.h>

#include "cl_tally.bs.h"
#include "cl_tally.h"

static bs_engine *engine;

/* --slow: the NATS store behind a provider whose batches start late. */
static uint32_t slow_ms;

static int slow_load(void *impl, const bs_store_key *k, bs_store_record *rec) {
  return bs_store_load(impl, k->type, k->id, rec);
}

static int slow_save(void *impl, const bs_store_key *k, const void *data, size_t len,
                     uint64_t expected, uint64_t *version) {
  return bs_store_save(impl, k->type, k->id, data, len, expected, version);
}

static int slow_remove(void *impl, const bs_store_key *k, uint64_t expected) {
  return bs_store_remove(impl, k->type, k->id, expected);
}

static int slow_begin(void *impl) {
  (void)impl;
  struct timespec ts = {slow_ms / 1000, (long)(slow_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return 0;
}

static int slow_commit(void *impl) {
  (void)impl;
  return 0;
}

static void slow_close(void *impl) { bs_store_free(impl); }

static const bs_store_ops slow_ops = {slow_load, slow_save,   slow_remove,
                                      slow_begin, slow_commit, slow_close};

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  uv_signal_stop(s);
  bs_engine_stop(engine);
}

static void on_store_error(void *ud, const bs_store_error *err) {
  (void)ud;
  fprintf(stderr, "store error: %s %s op %d: %s (version %llu)\n", err->type_name, err->actor_id,
          (int)err->op, bs_errname(err->code), (unsigned long long)err->version);
}

int main(int argc, char **argv) {
  const char *url = NULL, *node = NULL;
  uint32_t shards = 1, parts = 0;
  int ready_fd = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--url")) url = v;
    else if (!strcmp(k, "--node")) node = v;
    else if (!strcmp(k, "--shards")) shards = (uint32_t)atoi(v);
    else if (!strcmp(k, "--partitions")) parts = (uint32_t)atoi(v);
    else if (!strcmp(k, "--slow")) slow_ms = (uint32_t)atoi(v);
    else if (!strcmp(k, "--ready-fd")) ready_fd = atoi(v);
    else {
      fprintf(stderr, "cl_tally_node: unknown option %s\n", k);
      return 64;
    }
  }
  if (!url || !node) {
    fprintf(stderr, "cl_tally_node: --url and --node are required\n");
    return 64;
  }
  signal(SIGPIPE, SIG_IGN);
  cl_tally_node_name(node);
  bs_store_nats_options no;
  bs_store_nats_options_init(&no);
  no.url = url;
  no.bucket = "bst_tally";
  bs_store *store = NULL;
  int rc = bs_store_nats_open(&store, &no);
  if (rc == 0 && slow_ms) {
    bs_store *nats_store = store;
    if ((rc = bs_store_new(&store, &slow_ops, nats_store)) < 0) {
      bs_store_free(nats_store);
      store = NULL;
    }
  }
  static const bs_actor_type *const types[] = {&Tally_actor_type};
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = url;
  co.name = "bst";
  co.node = node;
  co.types = types;
  co.ntypes = 1;
  if (parts) co.partitions = parts;
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.cluster = &co;
  o.store = store;
  o.on_store_error = on_store_error;
  if (rc == 0) rc = bs_engine_new(&engine, &o);
  if (rc < 0) {
    char msg[64];
    int n = snprintf(msg, sizeof msg, "JOIN %s\n", bs_errname(rc));
    if (ready_fd >= 0 && write(ready_fd, msg, (size_t)n) < 0) return 3;
    bs_store_free(store);
    return 2;
  }
  uv_signal_t sig;
  uv_signal_init(bs_engine_loop(engine), &sig);
  uv_signal_start(&sig, on_signal, SIGTERM);
  uv_unref((uv_handle_t *)&sig);
  if (ready_fd >= 0) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "READY %s -\n", node);
    if (write(ready_fd, msg, (size_t)n) < 0) return 3;
    close(ready_fd);
  }
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  uv_close((uv_handle_t *)&sig, NULL);
  bs_engine_run(engine, BS_RUN_NOWAIT);
  bs_engine_stats st;
  bs_cluster_stats cs;
  bs_engine_stats_get(engine, &st);
  bs_cluster_stats_get(engine, &cs);
  fprintf(stderr, "store: loads %llu writes %llu errors %llu conflicts %llu; handoffs %llu\n",
          (unsigned long long)st.store_loads, (unsigned long long)st.store_writes,
          (unsigned long long)st.store_errors, (unsigned long long)st.store_conflicts,
          (unsigned long long)cs.handoffs);
  bs_engine_free(engine);
  bs_store_free(store);
  return 0;
}
