#include "sink.h"

int Sink_init(Sink *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Sink_deinit(Sink *self) { (void)self; }

int Sink_put(Sink *self, Chunk c) {
  self->received++;
  self->check += c.seq + c.payload[0] + c.payload[sizeof c.payload - 1];
  return 0;
}

int Sink_putBlob(Sink *self, uint64_t seq, const bs_blob *payload) {
  const uint8_t *p = bs_blob_data(payload);
  size_t n = bs_blob_size(payload);
  self->received++;
  self->check += seq + (n ? p[0] + p[n - 1] : 0);
  return 0;
}

uint64_t Sink_received(const Sink *self) { return self->received; }
