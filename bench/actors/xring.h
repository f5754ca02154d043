/* xring: a ring of nodes with several tokens going round at once, so that
 * every shard has work (bench/backstage.c places the nodes). With `work`,
 * each hop first runs bench_work (bench.h): ~1 us of compute. The node that
 * sees 0 hops left tells the collector "xring-done". */
#ifndef BENCH_XRING_H
#define BENCH_XRING_H

#include <backstage.h>

// @generate-proxy
typedef struct XNode {
  bs_context *ctx;
  bs_ref next;  /* the next node's XNodeProxy reference, set by link */
  uint32_t work; /* bench_work iterations per hop, 0: none */
  uint32_t acc;  /* bench_work's results, so the work is not optimised away */
} XNode;

int XNode_init(XNode *self, bs_context *ctx);
void XNode_deinit(XNode *self);

/* Sets the next node and the work per hop. */
int XNode_link(XNode *self, const char *next_id, int32_t work);
/* Works, then passes `hops - 1` on, or reports the end of the token at 0. */
int XNode_hop(XNode *self, int64_t hops);
uint32_t XNode_acc(const XNode *self);

#endif
