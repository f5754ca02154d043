/* large: 64 KiB structs sent by value to a sink; large-blob: the same
 * payload as one blob that every message references. */
#ifndef BENCH_SINK_H
#define BENCH_SINK_H

#include <backstage.h>

#define CHUNK_BYTES 65536

/* Exactly 64 KiB. The payload travels as one CBOR byte string. */
typedef struct Chunk {
  uint64_t seq;
  uint8_t payload[CHUNK_BYTES - sizeof(uint64_t)];
} Chunk;

// @generate-proxy
typedef struct Sink {
  bs_context *ctx;
  uint64_t received;
  uint64_t check; /* touches both ends of every payload */
} Sink;

int Sink_init(Sink *self, bs_context *ctx);
void Sink_deinit(Sink *self);

int Sink_put(Sink *self, Chunk c);
/* large-blob: the same payload as a blob, shared by every message. */
int Sink_putBlob(Sink *self, uint64_t seq, const bs_blob *payload);
uint64_t Sink_received(const Sink *self);

#endif
