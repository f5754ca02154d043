/* ring: nodes pass a hop counter to the next node; the node that sees 0
 * tells the collector "ring-done". */
#ifndef BENCH_RING_H
#define BENCH_RING_H

#include <backstage.h>

// @generate-proxy
typedef struct RingNode {
  bs_context *ctx;
  bs_ref next; /* the next node's RingNodeProxy reference */
} RingNode;

int RingNode_init(RingNode *self, bs_context *ctx);
void RingNode_deinit(RingNode *self);

/* Sets the next node of the ring. */
int RingNode_link(RingNode *self, const char *next_id);
/* Passes `hops - 1` on, or reports the end of the run at 0. */
int RingNode_hop(RingNode *self, int64_t hops);

#endif
