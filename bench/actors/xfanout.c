#include "xfanout.h"

#include "bench.h"
#include "collector.bs.h"
#include "xfanout.bs.h"

int XSub_init(XSub *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XSub_deinit(XSub *self) { (void)self; }

int XSub_setWork(XSub *self, int32_t work) {
  self->work = work > 0 ? (uint32_t)work : 0;
  return 0;
}

int XSub_onEvent(XSub *self, int64_t v) {
  self->total++;
  if (self->work) self->acc = bench_work(self->work, self->acc + (uint32_t)v);
  if (v != 1) return 0;
  CollectorProxy done;
  int rc = bs_get_actor(self->ctx, Collector, "xfanout-done", &done);
  return rc < 0 ? rc : CollectorProxy_done(done, 0);
}

int64_t XSub_sync(XSub *self) { return self->total; }
int64_t XSub_total(const XSub *self) { return self->total; }

int XPub_init(XPub *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XPub_deinit(XPub *self) { (void)self; }

static void on_sync(void *ud, int status, int64_t total);

static int publish_window(XPub *self) {
  bs_stream_i64 s;
  int rc = bs_get_stream(self->ctx, i64, "xevents", &s);
  int64_t end = self->left > XFANOUT_WINDOW ? self->left - XFANOUT_WINDOW : 0;
  for (; rc >= 0 && self->left > end; self->left--) {
    rc = bs_stream_next(s, self->left);
    self->published++;
  }
  if (rc >= 0) rc = XSubProxy_sync((XSubProxy){self->last}, on_sync, self);
  if (rc >= 0) self->inflight++;
  return rc < 0 ? rc : 0;
}

static void on_sync(void *ud, int status, int64_t total) {
  XPub *self = ud;
  (void)total;
  self->inflight--;
  if (status < 0 || (self->left > 0 && publish_window(self) < 0)) self->failed++;
}

int XPub_run(XPub *self, const char *last_id, int64_t events) {
  XSubProxy last;
  int rc = bs_get_actor(self->ctx, XSub, last_id, &last);
  if (rc < 0) return rc;
  self->last = last.ref;
  self->left = events;
  for (int w = 0; rc == 0 && w < XFANOUT_WINDOWS && self->left > 0; w++)
    rc = publish_window(self);
  return rc;
}

int64_t XPub_published(const XPub *self) { return self->published; }
