/* The cluster compiled out (-DBACKSTAGE_CLUSTER=OFF, or no libnats at
 * build time): asking for one is BS_ENOTSUP, never a silent standalone
 * engine. Registering types still works (it is harmless without a
 * cluster, runtime/types.c). */
#include <stdlib.h>

#include "internal.h"

void bs_cluster_options_init(bs_cluster_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->partitions = 1024;
  o->heartbeat_ms = 1000;
  o->lease_ms = 5000;
  o->rebalance_step = 128;
  o->join_timeout_ms = 15000;
  o->park_ms = 10000;
  o->request_timeout_ms = 30000;
}

int bs__cluster_prepare(bs_engine *e) {
  const char *env = getenv("BACKSTAGE_CLUSTER");
  if (e->opts.cluster || (env && *env)) return BS_ENOTSUP;
  return 0;
}

int bs__cluster_join(bs_engine *e) {
  (void)e;
  return 0;
}

void bs__cluster_stop(bs_engine *e) { (void)e; }
void bs__cluster_free(bs_engine *e) { (void)e; }

bool bs_cluster_joined(const bs_engine *e) {
  (void)e;
  return false;
}

int bs_cluster_stats_get(const bs_engine *e, bs_cluster_stats *out) {
  if (!e || !out) return BS_EINVAL;
  memset(out, 0, sizeof *out);
  return BS_ENOTSUP;
}

int bs_cluster_nodes(const bs_engine *e, bs_cluster_node *out, size_t cap) {
  if (!e || (!out && cap)) return BS_EINVAL;
  return BS_ENOTSUP;
}
