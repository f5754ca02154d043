/* A persistent placed actor for the cluster + persistence test
 * (test_cluster_persist.c): a counter that persists after every add, run
 * by the test process and by node processes (cl_tally_node.c) that all
 * share one NATS KV bucket (backstage/store_nats.h). */
#ifndef CL_TALLY_H
#define CL_TALLY_H

#include <backstage.h>

/* The name `Tally_where` answers with (the node's). */
void cl_tally_node_name(const char *node);

// @generate-proxy persistent
typedef struct Tally {
  bs_context *ctx;
  int64_t total;
} Tally;

int Tally_init(Tally *self, bs_context *ctx);
void Tally_deinit(Tally *self);
/* Adds v and persists: the new total, answered once it is stored. */
int64_t Tally_add(Tally *self, int64_t v);
/* The total, without writing. */
int64_t Tally_total(Tally *self);
/* The node it runs on. */
const char *Tally_where(Tally *self);

#endif
