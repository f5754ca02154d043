/* The direct-call baselines' "actors": the same state and work as
 * bench/actors/, as plain structs and functions. They live in their own
 * translation unit (direct_work.c) so that, without LTO, every message of
 * a workload stays one real function call. */
#ifndef BENCH_DIRECT_H
#define BENCH_DIRECT_H

#include <stdint.h>

#include "sink.h" /* Chunk */

typedef struct DPing {
  int64_t left;
  int64_t trips;
} DPing;

typedef struct DPong {
  int64_t seen;
} DPong;

/* Returns 1 while the run goes on. */
int d_ping_pong(DPing *self, int32_t x);
int32_t d_pong_ping(DPong *self, int32_t x);

typedef struct DCounter {
  int64_t total;
} DCounter;

int d_counter_add(DCounter *self, int32_t x);
int64_t d_counter_total(const DCounter *self);

typedef struct DCollector {
  int64_t count;
  int64_t sum;
} DCollector;

int d_collector_done(DCollector *self, int64_t value);

typedef struct DWorker {
  DCollector *collector;
} DWorker;

int d_worker_init(DWorker *self, DCollector *collector);
int d_worker_hello(DWorker *self, int32_t x);
void d_worker_deinit(DWorker *self);

typedef struct DRingNode DRingNode;
struct DRingNode {
  DRingNode *next;
  DCollector *done;
};

/* The node to call next, or NULL once `hops` reached 0 (reported). */
DRingNode *d_ring_hop(DRingNode *self, int64_t hops);

typedef struct DSubscriber {
  int64_t total;
} DSubscriber;

int d_subscriber_on_event(void *self, int64_t v);

typedef struct DServer {
  int64_t served;
} DServer;

int64_t d_server_echo(DServer *self, int64_t x);

typedef struct DAsker {
  int64_t left;
  int64_t trips;
} DAsker;

/* The continuation: returns 1 while more requests are to be made. */
int d_asker_on_echo(DAsker *self, int64_t value);

typedef struct DSink {
  uint64_t received;
  uint64_t check;
} DSink;

int d_sink_put(DSink *self, Chunk c);
/* large-blob: the payload by pointer, as a shared buffer. */
int d_sink_put_shared(DSink *self, uint64_t seq, const uint8_t *payload, size_t n);

#endif
