#include "ring.h"

#include "collector.bs.h"
#include "ring.bs.h"

int RingNode_init(RingNode *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void RingNode_deinit(RingNode *self) { (void)self; }

int RingNode_link(RingNode *self, const char *next_id) {
  RingNodeProxy next;
  int rc = bs_get_actor(self->ctx, RingNode, next_id, &next);
  if (rc == 0) self->next = next.ref;
  return rc;
}

int RingNode_hop(RingNode *self, int64_t hops) {
  if (hops > 0) return RingNodeProxy_hop((RingNodeProxy){self->next}, hops - 1);
  CollectorProxy done;
  int rc = bs_get_actor(self->ctx, Collector, "ring-done", &done);
  return rc < 0 ? rc : CollectorProxy_done(done, 0);
}
