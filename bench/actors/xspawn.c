#include "xspawn.h"

#include <string.h>

#include "bench.h"
#include "xspawn.bs.h"

int XSpawner_init(XSpawner *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XSpawner_deinit(XSpawner *self) { (void)self; }

static int spawn_window(XSpawner *self) {
  const char *me = bs_context_id(self->ctx);
  char prefix[BS_ID_MAX + 1], id[BS_ID_MAX + 32];
  size_t len = strlen(me);
  if (len + 2 > sizeof prefix) return BS_EIDLEN;
  memcpy(prefix, me, len);
  prefix[len] = '-';
  prefix[len + 1] = '\0';
  int64_t end = self->left > XSPAWN_WINDOW ? self->left - XSPAWN_WINDOW : 0;
  int rc = 0;
  for (; rc == 0 && self->left > end; self->left--) {
    XWorkerProxy w;
    bench_id(id, prefix, (uint64_t)self->seq++);
    rc = bs_get_actor(self->ctx, XWorker, id, &w);
    if (rc == 0) rc = XWorkerProxy_hello(w, me);
  }
  return rc;
}

int XSpawner_run(XSpawner *self, int64_t n) {
  int rc = 0;
  self->left = n;
  for (int w = 0; rc == 0 && w < XSPAWN_WINDOWS && self->left > 0; w++) rc = spawn_window(self);
  return rc;
}

int XSpawner_answer(XSpawner *self, int32_t x) {
  self->answers += x;
  /* Workers created and not yet answered: when the oldest window is
   * answered, the next one goes out. */
  int64_t open = self->seq - self->answers;
  if (self->left > 0 && open <= (XSPAWN_WINDOWS - 1) * XSPAWN_WINDOW &&
      spawn_window(self) < 0)
    self->failed++;
  return 0;
}

int64_t XSpawner_answers(const XSpawner *self) {
  return self->failed ? -1 : self->answers;
}

int XWorker_init(XWorker *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XWorker_deinit(XWorker *self) { (void)self; }

int XWorker_hello(XWorker *self, const char *spawner_id) {
  XSpawnerProxy spawner;
  int rc = bs_get_actor(self->ctx, XSpawner, spawner_id, &spawner);
  if (rc == 0) rc = XSpawnerProxy_answer(spawner, 1);
  int stop = XWorkerProxy_stop((XWorkerProxy){bs_context_self(self->ctx)});
  return rc < 0 ? rc : stop;
}
