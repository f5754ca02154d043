/* pingpong: two actors bounce one integer back and forth. Ping starts a
 * run of `rounds` round trips; each round trip is two messages. */
#ifndef BENCH_PINGPONG_H
#define BENCH_PINGPONG_H

#include <backstage.h>

// @generate-proxy
typedef struct Ping {
  bs_context *ctx;
  bs_ref pong;   /* the PongProxy's reference, resolved once in init */
  int64_t left;  /* round trips still to go in the current run */
  int64_t trips; /* round trips completed, all runs */
} Ping;

int Ping_init(Ping *self, bs_context *ctx);
void Ping_deinit(Ping *self);

/* Starts `rounds` round trips with the actor "pong". */
int Ping_start(Ping *self, int64_t rounds);
/* Pong's answer: sends the next ping, or ends the run. */
int Ping_pong(Ping *self, int32_t x);
/* Round trips completed so far. */
int64_t Ping_trips(const Ping *self);

// @generate-proxy
typedef struct Pong {
  bs_context *ctx;
  bs_ref ping; /* the PingProxy's reference, resolved once in init */
} Pong;

int Pong_init(Pong *self, bs_context *ctx);
void Pong_deinit(Pong *self);

/* Answers "ping" with the same value. */
int Pong_ping(Pong *self, int32_t x);

#endif
