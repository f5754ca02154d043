/* The soak's actors (test/soak/soak.c): a graph of Nodes that pass hops
 * along, ask each other for values (requests with continuations), publish
 * on and subscribe to a stream, stop themselves, and carry payloads of
 * varying size; and Sinks with small bounded mailboxes. */
#ifndef SOAK_ACTORS_H
#define SOAK_ACTORS_H

#include <backstage.h>

typedef struct Spot {
  int32_t x, y;
} Spot;

/* A payload of varying size: a string, an array, a nested struct. */
typedef struct Cargo {
  uint64_t token;
  const char *label;
  BS_ARRAY(uint32_t, items); /* const uint32_t *items; size_t items_count */
  Spot at;
} Cargo;

// @generate-proxy
typedef struct Node {
  bs_context *ctx;
  uint32_t index;
  uint64_t received;
  uint64_t digest;
} Node;

int Node_init(Node *self, bs_context *ctx);
void Node_deinit(Node *self);
/* Forwards to a random neighbour while ttl > 0 (sometimes to a Sink). */
int Node_hop(Node *self, uint32_t ttl, uint64_t token);
/* Asks Node `target` for value(token), with a continuation. */
int Node_ask(Node *self, uint32_t target, uint64_t token);
/* Request/reply. */
int64_t Node_value(Node *self, uint64_t token);
/* Stream subscriber (i64 stream "ticks"). */
int Node_onTick(Node *self, int64_t v);
/* Publishes on "ticks" from inside an actor. */
int Node_publish(Node *self, int64_t v);
/* bs_stop on itself: mail behind the pill is dead-lettered. */
int Node_stopSelf(Node *self);
/* A payload; forwarded once to a neighbour when hops > 0. */
int Node_carry(Node *self, const Cargo *cargo, uint32_t hops);

// @generate-proxy
typedef struct Sink {
  bs_context *ctx;
  uint64_t received;
} Sink;

int Sink_init(Sink *self, bs_context *ctx);
void Sink_deinit(Sink *self);
int Sink_put(Sink *self, uint64_t token);

#endif
