#include "xpingpong.h"

#include "bench.h"
#include "xpingpong.bs.h"

int XPing_init(XPing *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XPing_deinit(XPing *self) { (void)self; }

int XPing_link(XPing *self, const char *pong_id) {
  XPongProxy pong;
  int rc = bs_get_actor(self->ctx, XPong, pong_id, &pong);
  if (rc == 0) self->pong = pong.ref;
  return rc;
}

int XPing_start(XPing *self, int64_t rounds, int32_t record) {
  if (rounds <= 0) return 0;
  self->left = rounds;
  self->record = record;
  if (record) {
    bench_lat.n = 0;
    bench_lat.last = bench_now_ns();
  }
  return XPongProxy_ping((XPongProxy){self->pong}, 1);
}

int XPing_pong(XPing *self, int32_t x) {
  if (self->record) {
    uint64_t t = bench_now_ns();
    if (bench_lat.n < bench_lat.cap) bench_lat.rtt[bench_lat.n++] = t - bench_lat.last;
    bench_lat.last = t;
  }
  self->trips++;
  if (--self->left <= 0) return 0;
  return XPongProxy_ping((XPongProxy){self->pong}, x);
}

int64_t XPing_trips(const XPing *self) { return self->trips; }

int XPong_init(XPong *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void XPong_deinit(XPong *self) { (void)self; }

int XPong_link(XPong *self, const char *ping_id) {
  XPingProxy ping;
  int rc = bs_get_actor(self->ctx, XPing, ping_id, &ping);
  if (rc == 0) self->ping = ping.ref;
  return rc;
}

int XPong_ping(XPong *self, int32_t x) { return XPingProxy_pong((XPingProxy){self->ping}, x); }
