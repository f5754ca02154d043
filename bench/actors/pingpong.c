#include "pingpong.h"

#include "pingpong.bs.h"

/* A state cannot hold a generated proxy type (it is generated from this
 * header), so it keeps the proxy's bs_ref and wraps it back on use. */

int Ping_init(Ping *self, bs_context *ctx) {
  PongProxy pong;
  int rc = bs_get_actor(ctx, Pong, "pong", &pong);
  self->ctx = ctx;
  self->pong = pong.ref;
  return rc;
}

void Ping_deinit(Ping *self) { (void)self; }

int Ping_start(Ping *self, int64_t rounds) {
  if (rounds <= 0) return 0;
  self->left = rounds;
  return PongProxy_ping((PongProxy){self->pong}, 1);
}

int Ping_pong(Ping *self, int32_t x) {
  self->trips++;
  if (--self->left <= 0) return 0;
  return PongProxy_ping((PongProxy){self->pong}, x);
}

int64_t Ping_trips(const Ping *self) { return self->trips; }

int Pong_init(Pong *self, bs_context *ctx) {
  PingProxy ping;
  int rc = bs_get_actor(ctx, Ping, "ping", &ping);
  self->ctx = ctx;
  self->ping = ping.ref;
  return rc;
}

void Pong_deinit(Pong *self) { (void)self; }

int Pong_ping(Pong *self, int32_t x) { return PingProxy_pong((PingProxy){self->ping}, x); }
