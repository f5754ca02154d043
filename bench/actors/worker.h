/* spawn: a short-lived actor. Activated by its first message, it answers
 * the collector once and stops itself. */
#ifndef BENCH_WORKER_H
#define BENCH_WORKER_H

#include <backstage.h>

// @generate-proxy
typedef struct Worker {
  bs_context *ctx;
} Worker;

int Worker_init(Worker *self, bs_context *ctx);
void Worker_deinit(Worker *self);

/* Answers the actor "collector" with `x`, then stops. */
int Worker_hello(Worker *self, int32_t x);

#endif
