#include "worker.h"

#include "collector.bs.h"
#include "worker.bs.h"

int Worker_init(Worker *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Worker_deinit(Worker *self) { (void)self; }

int Worker_hello(Worker *self, int32_t x) {
  CollectorProxy collector;
  int rc = bs_get_actor(self->ctx, Collector, "collector", &collector);
  if (rc == 0) rc = CollectorProxy_done(collector, x);
  int stop = WorkerProxy_stop((WorkerProxy){bs_context_self(self->ctx)});
  return rc < 0 ? rc : stop;
}
