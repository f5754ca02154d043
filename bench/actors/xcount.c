#include "xcount.h"

#include "collector.bs.h"
#include "xcount.bs.h"

int XCounter_init(XCounter *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XCounter_deinit(XCounter *self) { (void)self; }

int XCounter_add(XCounter *self, int32_t x) {
  self->total += x;
  return 0;
}

int64_t XCounter_sync(XCounter *self) { return self->total; }
int64_t XCounter_total(const XCounter *self) { return self->total; }

int XSender_init(XSender *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XSender_deinit(XSender *self) { (void)self; }

static void on_sync(void *ud, int status, int64_t total);

static int send_window(XSender *self) {
  XCounterProxy c = {self->counter};
  int64_t k = self->left < XCOUNT_WINDOW ? self->left : XCOUNT_WINDOW;
  int rc = 0;
  self->left -= k;
  for (int64_t i = 0; rc == 0 && i < k; i++) rc = XCounterProxy_add(c, 1);
  if (rc == 0) rc = XCounterProxy_sync(c, on_sync, self);
  if (rc == 0) self->inflight++;
  return rc;
}

static void on_sync(void *ud, int status, int64_t total) {
  XSender *self = ud;
  (void)total;
  self->inflight--;
  if (status < 0 || (self->left > 0 && send_window(self) < 0)) {
    self->failed++;
    return;
  }
  if (self->left == 0 && self->inflight == 0) {
    CollectorProxy done;
    if (bs_get_actor(self->ctx, Collector, "xcount-done", &done) < 0 ||
        CollectorProxy_done(done, self->failed) < 0)
      self->failed++;
  }
}

int XSender_run(XSender *self, const char *counter_id, int64_t n) {
  XCounterProxy c;
  int rc = bs_get_actor(self->ctx, XCounter, counter_id, &c);
  if (rc < 0) return rc;
  self->counter = c.ref;
  self->left = n;
  for (int w = 0; rc == 0 && w < XCOUNT_WINDOWS && self->left > 0; w++) rc = send_window(self);
  return rc;
}
