#include "direct.h"

int d_ping_pong(DPing *self, int32_t x) {
  (void)x;
  self->trips++;
  return --self->left > 0;
}

int32_t d_pong_ping(DPong *self, int32_t x) {
  self->seen++;
  return x;
}

int d_counter_add(DCounter *self, int32_t x) {
  self->total += x;
  return 0;
}

int64_t d_counter_total(const DCounter *self) { return self->total; }

int d_collector_done(DCollector *self, int64_t value) {
  self->count++;
  self->sum += value;
  return 0;
}

int d_worker_init(DWorker *self, DCollector *collector) {
  self->collector = collector;
  return 0;
}

int d_worker_hello(DWorker *self, int32_t x) { return d_collector_done(self->collector, x); }

void d_worker_deinit(DWorker *self) { self->collector = 0; }

DRingNode *d_ring_hop(DRingNode *self, int64_t hops) {
  if (hops > 0) return self->next;
  d_collector_done(self->done, 0);
  return 0;
}

int d_subscriber_on_event(void *self, int64_t v) {
  ((DSubscriber *)self)->total += v;
  return 0;
}

int64_t d_server_echo(DServer *self, int64_t x) {
  self->served++;
  return x + 1;
}

int d_asker_on_echo(DAsker *self, int64_t value) {
  (void)value;
  self->trips++;
  return --self->left > 0;
}

int d_sink_put_shared(DSink *self, uint64_t seq, const uint8_t *payload, size_t n) {
  self->received++;
  self->check += seq + payload[0] + payload[n - 1];
  return 0;
}

int d_sink_put(DSink *self, Chunk c) {
  self->received++;
  self->check += c.seq + c.payload[0] + c.payload[sizeof c.payload - 1];
  return 0;
}
