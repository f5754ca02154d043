/* reply: request/reply round trips. Asker asks Server with a continuation,
 * one request at a time; main also awaits Server directly. */
#ifndef BENCH_ECHO_H
#define BENCH_ECHO_H

#include <backstage.h>

// @generate-proxy
typedef struct Server {
  bs_context *ctx;
  int64_t served;
} Server;

int Server_init(Server *self, bs_context *ctx);
void Server_deinit(Server *self);

/* A request: the reply is x + 1. */
int64_t Server_echo(Server *self, int64_t x);

// @generate-proxy
typedef struct Asker {
  bs_context *ctx;
  bs_ref server; /* ServerProxy's reference, resolved once in init */
  int64_t left;  /* requests still to make in the current run */
  int64_t trips; /* replies received, all runs */
  int64_t failed;
} Asker;

int Asker_init(Asker *self, bs_context *ctx);
void Asker_deinit(Asker *self);

/* Makes `rounds` requests to "server", each sent from the previous reply's
 * continuation. */
int Asker_run(Asker *self, int64_t rounds);
int64_t Asker_trips(const Asker *self);

#endif
