#include "xring.h"

#include "bench.h"
#include "collector.bs.h"
#include "xring.bs.h"

int XNode_init(XNode *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XNode_deinit(XNode *self) { (void)self; }

int XNode_link(XNode *self, const char *next_id, int32_t work) {
  XNodeProxy next;
  int rc = bs_get_actor(self->ctx, XNode, next_id, &next);
  if (rc == 0) self->next = next.ref;
  self->work = work > 0 ? (uint32_t)work : 0;
  return rc;
}

int XNode_hop(XNode *self, int64_t hops) {
  if (self->work) self->acc = bench_work(self->work, self->acc + (uint32_t)hops);
  if (hops > 0) return XNodeProxy_hop((XNodeProxy){self->next}, hops - 1);
  CollectorProxy done;
  int rc = bs_get_actor(self->ctx, Collector, "xring-done", &done);
  return rc < 0 ? rc : CollectorProxy_done(done, 0);
}

uint32_t XNode_acc(const XNode *self) { return self->acc; }
